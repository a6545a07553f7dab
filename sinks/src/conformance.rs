//! The conformance suite every sink must pass.
//!
//! Each check drives a sink through the transaction protocol and reads the
//! destination back through a [`SnapshotReader`], the only part a new sink
//! implements for its tests. A sink's test module calls every `check_*`
//! function (see `parquet/tests.rs`).

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray, TimestampMicrosecondArray};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use cloudtab_schema::{Registry, TableDef};

use crate::{RunInfo, Sink};

/// Reads the current snapshot of a destination.
#[async_trait]
pub trait SnapshotReader: Send + Sync {
    /// Values of one text column of `table` in the current snapshot
    /// (`None` for SQL NULL); `None` when the table does not exist.
    async fn text_column(&self, table: &str, column: &str) -> Option<Vec<Option<String>>>;
}

/// The two tables the suite writes: `_issues` (all text) and `_edges`.
fn tables() -> Vec<(&'static TableDef, arrow::datatypes::SchemaRef)> {
    let r = Registry::builtin();
    ["_issues", "_edges"]
        .iter()
        .filter_map(|t| r.get(t))
        .map(|t| (t, cloudtab_flatten::arrow_schema(t)))
        .collect()
}

fn run(id: &str) -> RunInfo {
    RunInfo {
        run_id: id.to_string(),
        started_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        tables: tables(),
    }
}

/// A batch of `_issues` whose `reason` column holds `reasons`.
pub fn issues_batch(run_id: &str, reasons: &[&str]) -> RecordBatch {
    let (def, schema) = tables()[0].clone();
    let n = reasons.len();
    let text = |v: Option<&str>| Arc::new(StringArray::from(vec![v; n])) as ArrayRef;
    let cols: Vec<ArrayRef> = def
        .columns
        .iter()
        .map(|c| match c.name {
            "_run_id" => text(Some(run_id)),
            "reason" => Arc::new(StringArray::from(reasons.to_vec())) as ArrayRef,
            "resource_id" => text(None),
            _ => text(Some("x")),
        })
        .collect();
    let _ = TimestampMicrosecondArray::from(Vec::<i64>::new());
    RecordBatch::try_new(schema, cols).unwrap()
}

fn issues_def() -> &'static TableDef {
    tables()[0].0
}

async fn reasons(reader: &dyn SnapshotReader) -> Option<Vec<Option<String>>> {
    let mut v = reader.text_column("_issues", "reason").await?;
    v.sort();
    Some(v)
}

/// Rows written in a committed run are visible; an empty table exists.
pub async fn check_commit_makes_rows_visible(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    sink.healthcheck().await.unwrap();
    let mut t = sink.begin(&run("r1")).await.unwrap();
    t.write(issues_def(), issues_batch("r1", &["a", "b"]))
        .await
        .unwrap();
    t.write(issues_def(), issues_batch("r1", &["c"]))
        .await
        .unwrap();
    t.commit().await.unwrap();
    assert_eq!(
        reasons(reader).await,
        Some(vec![Some("a".into()), Some("b".into()), Some("c".into())])
    );
    assert_eq!(
        reader.text_column("_edges", "from_id").await,
        Some(vec![]),
        "an empty table is part of the snapshot"
    );
}

/// An aborted run, and a run not yet committed, leave the previous
/// snapshot as it was; the next run replaces it entirely.
pub async fn check_abort_and_rerun(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    let mut t = sink.begin(&run("r1")).await.unwrap();
    t.write(issues_def(), issues_batch("r1", &["old"]))
        .await
        .unwrap();
    t.commit().await.unwrap();

    let mut t = sink.begin(&run("r2")).await.unwrap();
    t.write(issues_def(), issues_batch("r2", &["new"]))
        .await
        .unwrap();
    assert_eq!(
        reasons(reader).await,
        Some(vec![Some("old".into())]),
        "uncommitted rows are invisible"
    );
    t.abort().await.unwrap();
    assert_eq!(
        reasons(reader).await,
        Some(vec![Some("old".into())]),
        "abort keeps the previous snapshot"
    );

    let mut t = sink.begin(&run("r3")).await.unwrap();
    t.write(issues_def(), issues_batch("r3", &["newer", "newest"]))
        .await
        .unwrap();
    assert_eq!(reasons(reader).await, Some(vec![Some("old".into())]));
    t.commit().await.unwrap();
    assert_eq!(
        reasons(reader).await,
        Some(vec![Some("newer".into()), Some("newest".into())])
    );
}

/// Hostile text survives unchanged: quotes, SQL, unicode, control
/// characters, a megabyte.
pub async fn check_odd_values(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    let big = "x".repeat(1 << 20);
    let odd = [
        "it's \"quoted\"",
        "'; DROP TABLE _issues; --",
        "ünïcødé 🚀 中文",
        "tab\tnew\nline\r\0nul",
        "",
        big.as_str(),
    ];
    let mut t = sink.begin(&run("odd")).await.unwrap();
    t.write(issues_def(), issues_batch("odd", &odd))
        .await
        .unwrap();
    t.commit().await.unwrap();
    let mut want: Vec<Option<String>> = odd.iter().map(|s| Some(s.to_string())).collect();
    want.sort();
    assert_eq!(reasons(reader).await, Some(want));
}
