//! The sinks' conformance suite from outside the sinks crate (its `testing`
//! feature), as a sink in another crate runs it: here over the Parquet
//! sink, read back through `cloudtab query`, so the suite also checks that
//! what the sink commits is what a user's query sees.

use std::process::Command;

use async_trait::async_trait;
use cloudtab_sinks::conformance::{self, SnapshotReader};
use cloudtab_sinks::parquet::{ParquetSink, ParquetSinkConfig};
use tempfile::TempDir;

/// Reads one text column of the newest committed snapshot with the
/// binary's `query` command.
struct QueryReader(std::path::PathBuf);

#[async_trait]
impl SnapshotReader for QueryReader {
    async fn text_column(&self, table: &str, column: &str) -> Option<Vec<Option<String>>> {
        let out = Command::new(env!("CARGO_BIN_EXE_cloudtab"))
            .arg("query")
            .arg("--data")
            .arg(&self.0)
            .args(["--format", "json"])
            // Every column too: rows come back in scan order, which differs
            // between queries when a snapshot has several files, and the
            // suite pairs the columns it reads row by row; sorting by the
            // whole row gives every call the same order.
            .arg(format!(
                "SELECT CAST(\"{column}\" AS VARCHAR) AS \"__v\", * FROM \"{table}\""
            ))
            .output()
            .unwrap();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            // No snapshot yet, or no such table in it.
            assert!(
                err.contains("not found")
                    || err.contains("no committed")
                    || err.contains("No table"),
                "query failed: {err}"
            );
            return None;
        }
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut rows: Vec<serde_json::Value> = rows.as_array().cloned().unwrap_or_default();
        for r in rows.iter_mut() {
            if let Some(o) = r.as_object_mut() {
                o.sort_keys();
            }
        }
        rows.sort_by_cached_key(|r| {
            let mut key = r.clone();
            if let Some(o) = key.as_object_mut() {
                o.remove("__v");
            }
            key.to_string()
        });
        Some(
            rows.iter()
                .map(|r| r.get("__v").and_then(|v| v.as_str()).map(str::to_string))
                .collect(),
        )
    }
}

#[tokio::test]
async fn the_parquet_sink_passes_the_suite_from_another_crate() {
    conformance::run_all(
        || async {
            let dir = TempDir::new().unwrap();
            let sink = ParquetSink::build(ParquetSinkConfig::for_url(dir.path().to_str().unwrap()))
                .unwrap();
            (sink, QueryReader(dir.path().into()), dir)
        },
        "\0",
    )
    .await;
}
