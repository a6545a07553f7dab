use std::fs::File;

use arrow::array::{Array, AsArray};
use async_trait::async_trait;
use object_store::local::LocalFileSystem;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tempfile::TempDir;

use super::*;
use crate::conformance::{self, SnapshotReader};
use crate::Sink;

struct Reader(std::path::PathBuf);

#[async_trait]
impl SnapshotReader for Reader {
    async fn text_column(&self, table: &str, column: &str) -> Option<Vec<Option<String>>> {
        let store = LocalFileSystem::new_with_prefix(&self.0).unwrap();
        let m = latest_manifest(&store).await.unwrap()?;
        let entry = m.tables.get(table)?;
        let mut out = Vec::new();
        for f in &entry.files {
            let file = File::open(self.0.join(&f.path)).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .unwrap()
                .build()
                .unwrap();
            let mut rows = 0;
            for b in reader {
                let b = b.unwrap();
                rows += b.num_rows() as u64;
                let c = b
                    .column(b.schema().index_of(column).unwrap())
                    .as_string::<i32>()
                    .clone();
                out.extend((0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i).to_string())));
            }
            assert_eq!(rows, f.rows, "manifest row count of {}", f.path);
        }
        Some(out)
    }
}

/// The Parquet metadata of the first file of `table` in the newest snapshot.
async fn first_file_metadata(
    dir: &TempDir,
    table: &str,
) -> std::sync::Arc<parquet::file::metadata::ParquetMetaData> {
    let m = latest_manifest(&LocalFileSystem::new_with_prefix(dir.path()).unwrap())
        .await
        .unwrap()
        .unwrap();
    let f = File::open(dir.path().join(&m.tables[table].files[0].path)).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .metadata()
        .clone()
}

fn sink(dir: &TempDir) -> ParquetSink {
    ParquetSink::build(ParquetSinkConfig::for_url(dir.path().to_str().unwrap())).unwrap()
}

#[tokio::test]
async fn conformance_all_checks() {
    conformance::run_all(
        || async {
            let dir = TempDir::new().unwrap();
            (sink(&dir), Reader(dir.path().into()), dir)
        },
        "\0",
    )
    .await;
}

#[tokio::test]
async fn conformance_abort_and_rerun() {
    let dir = TempDir::new().unwrap();
    conformance::check_abort_and_rerun(&sink(&dir), &Reader(dir.path().into())).await;
    // Abort removed what run r2 wrote.
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.contains("run_id=r2"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn conformance_bad_run_ids() {
    let dir = TempDir::new().unwrap();
    conformance::check_bad_run_ids_are_refused(&sink(&dir), &Reader(dir.path().into())).await;
    assert!(
        walk(dir.path()).iter().all(|p| !p.contains("run_id=")),
        "no run directory"
    );
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn layout_timestamps_and_rolling_parts() {
    let dir = TempDir::new().unwrap();
    let cfg = ParquetSinkConfig {
        file_rows: 2,
        ..ParquetSinkConfig::for_url(dir.path().to_str().unwrap())
    };
    let s = ParquetSink::build(cfg).unwrap();
    let run = crate::RunInfo {
        run_id: "20260102T030405.000Z-00000001".into(),
        started_at: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 2, 3, 4, 5).unwrap(),
        tables: vec![(
            cloudtab_schema::Registry::builtin().get("_issues").unwrap(),
            cloudtab_flatten::arrow_schema(
                cloudtab_schema::Registry::builtin().get("_issues").unwrap(),
            ),
        )],
    };
    let mut t = s.begin(&run).await.unwrap();
    let def = cloudtab_schema::Registry::builtin().get("_issues").unwrap();
    for _ in 0..3 {
        t.write(def, conformance::issues_batch(&run.run_id, &["a", "b"]))
            .await
            .unwrap();
    }
    let info = t.commit().await.unwrap();
    assert_eq!(info.objects, 3);
    let m = read_manifest(
        &LocalFileSystem::new_with_prefix(dir.path()).unwrap(),
        &run.run_id,
    )
    .await
    .unwrap();
    let files: Vec<_> = m.tables["_issues"]
        .files
        .iter()
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(
        files,
        (0..3)
            .map(|i| format!(
                "_issues/run_date=2026-01-02/run_id={}/part-{i:05}.parquet",
                run.run_id
            ))
            .collect::<Vec<_>>()
    );
    assert_eq!(m.tables["_issues"].rows, 6);
    // A committed run id cannot be committed twice.
    let mut t = s.begin(&run).await.unwrap();
    t.write(def, conformance::issues_batch(&run.run_id, &["c"]))
        .await
        .unwrap();
    assert!(matches!(
        t.commit().await,
        Err(crate::SinkError::Conflict(_))
    ));
}

#[tokio::test]
async fn timestamps_are_utc_micros_in_parquet() {
    let dir = TempDir::new().unwrap();
    let s = sink(&dir);
    let def = cloudtab_schema::Registry::builtin().get("_runs").unwrap();
    let run = crate::RunInfo {
        run_id: "r".into(),
        started_at: chrono::Utc::now(),
        tables: vec![(def, cloudtab_flatten::arrow_schema(def))],
    };
    let t = s.begin(&run).await.unwrap();
    t.commit().await.unwrap();
    let meta = first_file_metadata(&dir, "_runs").await;
    let col = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .find(|c| c.name() == "started_at")
        .unwrap()
        .clone();
    let lt = format!("{:?}", col.logical_type_ref());
    assert!(
        lt.contains("Timestamp")
            && lt.contains("is_adjusted_to_u_t_c: true")
            && lt.contains("MICROS"),
        "{lt}"
    );
}

#[tokio::test]
async fn keep_runs_deletes_old_runs_and_leftovers() {
    let dir = TempDir::new().unwrap();
    let cfg = ParquetSinkConfig {
        keep_runs: Some(2),
        ..ParquetSinkConfig::for_url(dir.path().to_str().unwrap())
    };
    let s = ParquetSink::build(cfg).unwrap();
    let def = cloudtab_schema::Registry::builtin().get("_issues").unwrap();
    let info = |id: &str| crate::RunInfo {
        run_id: id.into(),
        started_at: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 2, 3, 4, 5).unwrap(),
        tables: vec![(def, cloudtab_flatten::arrow_schema(def))],
    };
    // A leftover of a killed run: files, no manifest.
    let leftover = dir
        .path()
        .join("_issues/run_date=2026-01-02/run_id=r0/part-00000.parquet");
    std::fs::create_dir_all(leftover.parent().unwrap()).unwrap();
    std::fs::write(&leftover, b"partial").unwrap();
    for id in ["r1", "r2", "r3"] {
        let mut t = s.begin(&info(id)).await.unwrap();
        t.write(def, conformance::issues_batch(id, &["x"]))
            .await
            .unwrap();
        t.commit().await.unwrap();
    }
    let store = LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    assert_eq!(committed_runs(&store).await.unwrap(), vec!["r2", "r3"]);
    let files = walk(dir.path());
    assert!(
        !files
            .iter()
            .any(|f| f.contains("run_id=r1") || f.contains("run_id=r0")),
        "{files:?}"
    );
    assert!(files.iter().any(|f| f.contains("run_id=r2")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoder_error_fails_the_run_naming_the_table_and_commits_nothing() {
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    let dir = TempDir::new().unwrap();
    let s = sink(&dir);
    let def = cloudtab_schema::Registry::builtin().get("_issues").unwrap();
    let run = crate::RunInfo {
        run_id: "20260102T030405.000Z-00000009".into(),
        started_at: chrono::Utc::now(),
        tables: vec![(def, cloudtab_flatten::arrow_schema(def))],
    };
    let mut t = s.begin(&run).await.unwrap();
    t.write(def, conformance::issues_batch(&run.run_id, &["a"]))
        .await
        .unwrap();
    // A batch whose schema is not the file's: its encoder fails.
    let wrong = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)])),
        vec![Arc::new(Int64Array::from(vec![1, 2]))],
    )
    .unwrap();
    let mut err = None;
    for _ in 0..3 {
        if let Err(e) = t.write(def, wrong.clone()).await {
            err = Some(e);
            break;
        }
    }
    let err = match err {
        Some(e) => {
            t.abort().await.unwrap();
            e
        }
        None => t.commit().await.expect_err("the run must fail"),
    };
    let msg = err.to_string();
    assert!(msg.contains("_issues"), "{msg}");
    // Nothing committed, nothing left behind.
    let store = LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    assert!(latest_manifest(&store).await.unwrap().is_none());
    let parquet: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.ends_with(".parquet"))
        .collect();
    assert!(parquet.is_empty(), "{parquet:?}");
}

/// Which columns get a dictionary and min/max statistics: the ones readers
/// prune on keep statistics, unique values, event times and JSON are plain,
/// other text has a dictionary but no statistics.
#[tokio::test]
async fn dictionaries_and_statistics_per_column() {
    use cloudtab_flatten::{Flattener, RunContext};
    use cloudtab_schema::{Item, Resource, Tags, Value};
    use parquet::basic::Encoding;

    let registry = cloudtab_schema::Registry::builtin();
    let def = registry.get("aws_ec2_volume").unwrap();
    let run = crate::RunInfo {
        run_id: "20260102T030405.000Z-00000001".into(),
        started_at: chrono::Utc::now(),
        tables: vec![(def, cloudtab_flatten::arrow_schema(def))],
    };
    let mut f = Flattener::new(
        registry,
        RunContext {
            run_id: run.run_id.clone(),
            synced_at_micros: 0,
        },
        100,
    );
    for i in 0..10 {
        let r = Resource {
            table: "aws_ec2_volume",
            cloud: "aws",
            account_id: "123456789012".into(),
            account_name: None,
            region: ["eu-west-1", "us-east-1"][i % 2].into(),
            zone: None,
            id: format!("vol-{i}"),
            name: None,
            arn: None,
            ctime: Value::Text(format!("2026-01-0{}T00:00:00Z", 1 + i % 9)),
            mtime: Value::Null,
            atime: Value::Null,
            tags: Tags::new(&[("owner", "team-a")]),
            values: vec![
                ("state", Value::Text("available".into())),
                ("size_bytes", Value::Int(1 << 30)),
            ],
        };
        f.push(Item::resource(r).0).unwrap();
    }
    let dir = TempDir::new().unwrap();
    let s = sink(&dir);
    let mut t = s.begin(&run).await.unwrap();
    for (d, batch) in f.finish().unwrap() {
        t.write(d, batch).await.unwrap();
    }
    t.commit().await.unwrap();
    let meta = first_file_metadata(&dir, "aws_ec2_volume").await;
    let rg = meta.row_group(0);
    let column = |name: &str| {
        (0..rg.num_columns())
            .map(|i| rg.column(i))
            .find(|c| c.column_path().string() == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let dictionary = |name: &str| {
        column(name)
            .encodings()
            .any(|e| e == Encoding::RLE_DICTIONARY)
    };
    let statistics = |name: &str| column(name).statistics().is_some();
    // Unique values and JSON: plain, no statistics.
    for name in ["_id", "id", "tags", "attachments"] {
        assert!(!dictionary(name) && !statistics(name), "{name}");
    }
    // Repeated text: a dictionary, no statistics.
    for name in ["_run_id", "cloud", "state"] {
        assert!(dictionary(name) && !statistics(name), "{name}");
    }
    // What readers prune on: min/max; event times without a dictionary.
    for name in ["account_id", "region", "_synced_at", "size_bytes"] {
        assert!(dictionary(name) && statistics(name), "{name}");
    }
    assert!(!dictionary("ctime") && statistics("ctime"));
    let region = column("region").statistics().unwrap();
    assert_eq!(
        region.min_bytes_opt().zip(region.max_bytes_opt()),
        Some((&b"eu-west-1"[..], &b"us-east-1"[..]))
    );
}

#[tokio::test]
async fn a_damaged_manifest_is_skipped_by_readers_carry_forward_and_pruning() {
    let dir = TempDir::new().unwrap();
    let cfg = ParquetSinkConfig {
        keep_runs: Some(2),
        ..ParquetSinkConfig::for_url(dir.path().to_str().unwrap())
    };
    let s = ParquetSink::build(cfg).unwrap();
    let store = LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    let def = cloudtab_schema::Registry::builtin().get("_issues").unwrap();
    let commit = |id: &'static str| {
        let s = &s;
        async move {
            let info = crate::RunInfo {
                run_id: id.into(),
                started_at: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 2, 3, 4, 5)
                    .unwrap(),
                tables: vec![(def, cloudtab_flatten::arrow_schema(def))],
            };
            let mut t = s.begin(&info).await.unwrap();
            t.write(def, conformance::issues_batch(id, &["x"]))
                .await
                .unwrap();
            t.commit().await.unwrap();
        }
    };
    let latest = || async { latest_manifest(&store).await.unwrap().unwrap().run_id };
    commit("r1").await;
    commit("r2").await;
    // Not a manifest: the run before it is the snapshot.
    std::fs::write(dir.path().join("_manifests/r2.json"), b"{\"format_ver").unwrap();
    assert_eq!(latest().await, "r1");
    commit("r3").await;
    assert_eq!(latest().await, "r3");
    // A manifest listing a file that is gone: skipped too.
    let m = read_manifest(&store, "r3").await.unwrap();
    std::fs::remove_file(dir.path().join(&m.tables["_issues"].files[0].path)).unwrap();
    assert_eq!(latest().await, "r1");
    // Pruning keeps two readable runs (r1 and r4, the damaged ones
    // between them stay), then two newer ones and deletes the rest.
    commit("r4").await;
    assert_eq!(
        committed_runs(&store).await.unwrap(),
        vec!["r1", "r2", "r3", "r4"]
    );
    commit("r5").await;
    assert_eq!(committed_runs(&store).await.unwrap(), vec!["r4", "r5"]);
    // Every file a kept manifest lists is still there.
    for id in ["r4", "r5"] {
        assert!(
            readable_manifest(&store, id).await.unwrap().is_some(),
            "{id}"
        );
    }
    let files = walk(dir.path());
    for gone in ["run_id=r1", "run_id=r2", "run_id=r3"] {
        assert!(!files.iter().any(|f| f.contains(gone)), "{gone}: {files:?}");
    }
    assert_eq!(latest().await, "r5");
}
