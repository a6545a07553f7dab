//! The conformance suite every sink must pass.
//!
//! Each check drives a sink through the transaction protocol and reads the
//! destination back through a [`SnapshotReader`], the only part a new sink
//! implements for its tests. A sink's tests call [`run_all`] (every check,
//! each on a fresh destination), or single `check_*` functions to look at
//! the destination between them (see `parquet/tests.rs`). Sinks in other
//! crates get this module with the crate's `testing` feature.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use cloudtab_schema::{ColumnDef, ColumnType, Registry, TableDef};

use crate::{RunInfo, Sink};

/// Reads the current snapshot of a destination.
#[async_trait]
pub trait SnapshotReader: Send + Sync {
    /// Values of one text column of `table` in the current snapshot
    /// (`None` for SQL NULL); `None` when the table does not exist. Every
    /// column of a table comes in the same row order (the checks pair
    /// columns row by row): a reader over an engine whose scan order varies
    /// sorts the rows by their whole content.
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
/// characters, a megabyte. `nul` is what the destination stores for the
/// NUL character (itself where it can; PostgreSQL text cannot).
pub async fn check_odd_values(sink: &dyn Sink, reader: &dyn SnapshotReader, nul: &str) {
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
    let mut want: Vec<Option<String>> = odd.iter().map(|s| Some(s.replace('\0', nul))).collect();
    want.sort();
    assert_eq!(reasons(reader).await, Some(want));
}

/// Batches of `aws_sqs_queue` (one row per `(account, region, name)`) and
/// `_edges` (region → queue), as the flattener makes them.
pub fn queue_batches(
    run_id: &str,
    queues: &[(&str, &str, &str)],
) -> Vec<(&'static TableDef, RecordBatch)> {
    queue_batches_at(run_id, 0, queues)
}

/// [`queue_batches`] of a run that started at `synced_at_micros`.
pub fn queue_batches_at(
    run_id: &str,
    synced_at_micros: i64,
    queues: &[(&str, &str, &str)],
) -> Vec<(&'static TableDef, RecordBatch)> {
    use cloudtab_schema::{Edge, EdgeType, Item, Resource, Value};
    let ctx = cloudtab_flatten::RunContext {
        run_id: run_id.into(),
        synced_at_micros,
    };
    let mut f = cloudtab_flatten::Flattener::new(Registry::builtin(), ctx, 1000);
    for (account, region, name) in queues {
        let r = Resource {
            table: "aws_sqs_queue",
            cloud: "aws",
            account_id: Arc::from(*account),
            account_name: None,
            region: Arc::from(*region),
            zone: None,
            id: name.to_string(),
            name: Some(name.to_string()),
            arn: None,
            ctime: Value::EpochSeconds(1_700_000_000),
            mtime: Value::Null,
            atime: Value::Null,
            tags: Default::default(),
            values: vec![("delay_seconds", Value::Int(0))],
        };
        let region_ref =
            cloudtab_schema::ResourceRef::new("aws_region", "aws", account, region, *region);
        f.push(Item::Edge(Edge {
            from: region_ref,
            to: r.reference(),
            edge_type: EdgeType::Default,
        }))
        .unwrap();
        f.push(Item::resource(r).0).unwrap();
    }
    f.finish().unwrap()
}

/// An `oldest` that keeps every row (the suite's rows are read at 0).
fn any_age() -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(0, 0).unwrap()
}

fn carried(rows: u64, dropped: u64) -> crate::Carried {
    crate::Carried { rows, dropped }
}

/// The SQS scope of `account` in `region`.
fn sqs_scope(account: &str, region: &str) -> crate::ScopeKey {
    crate::ScopeKey {
        cloud: "aws".into(),
        account_id: account.into(),
        region: region.into(),
        service: "sqs".into(),
    }
}

fn with_queues(mut run: RunInfo) -> RunInfo {
    let t = Registry::builtin().get("aws_sqs_queue").unwrap();
    run.tables.push((t, cloudtab_flatten::arrow_schema(t)));
    run
}

/// A failed scope keeps its rows and edges from the previous snapshot,
/// with their old `_run_id`; other scopes are replaced.
pub async fn check_carry_forward(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    let mut t = sink.begin(&with_queues(run("r1"))).await.unwrap();
    for (def, b) in queue_batches(
        "r1",
        &[
            ("111", "eu-west-1", "a"),
            ("111", "us-east-1", "b"),
            ("222", "eu-west-1", "c"),
        ],
    ) {
        t.write(def, b).await.unwrap();
    }
    t.commit().await.unwrap();

    // Run 2: scope 111/eu-west-1/sqs fails; 222 now has a new queue.
    let mut t = sink.begin(&with_queues(run("r2"))).await.unwrap();
    for (def, b) in queue_batches(
        "r2",
        &[("111", "us-east-1", "b"), ("222", "eu-west-1", "d")],
    ) {
        t.write(def, b).await.unwrap();
    }
    let failed = sqs_scope("111", "eu-west-1");
    let other = crate::ScopeKey {
        service: "ec2".into(),
        ..failed.clone()
    };
    assert_eq!(
        t.carry_forward(&[failed, other], any_age()).await.unwrap(),
        vec![carried(1, 0), carried(0, 0)]
    );
    t.commit().await.unwrap();

    let mut ids = reader.text_column("aws_sqs_queue", "id").await.unwrap();
    ids.sort();
    assert_eq!(
        ids,
        vec![Some("a".into()), Some("b".into()), Some("d".into())]
    );
    let mut runs = reader
        .text_column("aws_sqs_queue", "_run_id")
        .await
        .unwrap();
    runs.sort();
    assert_eq!(
        runs,
        vec![Some("r1".into()), Some("r2".into()), Some("r2".into())]
    );
    let mut edge_runs = reader.text_column("_edges", "_run_id").await.unwrap();
    edge_runs.sort();
    assert_eq!(
        edge_runs,
        vec![Some("r1".into()), Some("r2".into()), Some("r2".into())],
        "the carried queue keeps its edge"
    );
}

/// A scope that failed after reading part of its rows (status `partial`):
/// the rows it read are this run's, the rest comes from the previous
/// snapshot, and nothing is there twice.
pub async fn check_partial_scope_is_not_doubled(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    let scope = [("111", "eu-west-1", "a"), ("111", "eu-west-1", "x")];
    let mut t = sink.begin(&with_queues(run("p1"))).await.unwrap();
    for (def, b) in queue_batches("p1", &scope) {
        t.write(def, b).await.unwrap();
    }
    t.commit().await.unwrap();

    let mut t = sink.begin(&with_queues(run("p2"))).await.unwrap();
    for (def, b) in queue_batches("p2", &scope[..1]) {
        t.write(def, b).await.unwrap();
    }
    let failed = sqs_scope("111", "eu-west-1");
    assert_eq!(
        t.carry_forward(&[failed], any_age()).await.unwrap(),
        vec![carried(1, 0)],
        "only the row this run did not read is carried"
    );
    t.commit().await.unwrap();
    let ids = reader.text_column("aws_sqs_queue", "id").await.unwrap();
    let runs = reader
        .text_column("aws_sqs_queue", "_run_id")
        .await
        .unwrap();
    let mut rows: Vec<(Option<String>, Option<String>)> = ids.into_iter().zip(runs).collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            (Some("a".into()), Some("p2".into())),
            (Some("x".into()), Some("p1".into()))
        ]
    );
    let mut edge_runs = reader.text_column("_edges", "_run_id").await.unwrap();
    edge_runs.sort();
    assert_eq!(edge_runs, vec![Some("p1".into()), Some("p2".into())]);
}

/// A run id that could reach outside the destination (`..`, a slash) is
/// refused by `begin` as a configuration error, and nothing is written.
pub async fn check_bad_run_ids_are_refused(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    let before = reasons(reader).await;
    for bad in ["../escape", "a/b", "..", "", "x\0y", "r 1"] {
        let e = match sink.begin(&run(bad)).await {
            Ok(_) => panic!("run id {bad:?} was accepted"),
            Err(e) => e,
        };
        assert!(e.is_config(), "{bad:?}: {e}");
        assert!(e.to_string().contains("run id"), "{e}");
    }
    assert_eq!(reasons(reader).await, before, "nothing was written");
}

/// A scope that keeps failing is carried only while its rows are younger
/// than `oldest` (the run's `carry_max_age`); older rows, and the edges
/// that touch them, are dropped and counted.
pub async fn check_carry_max_age(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    let day = |d: u32| Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap();
    let at = |id: &str, d: u32| RunInfo {
        started_at: day(d),
        ..with_queues(run(id))
    };
    let mut t = sink.begin(&at("m1", 1)).await.unwrap();
    for (def, b) in queue_batches_at(
        "m1",
        day(1).timestamp_micros(),
        &[("111", "eu-west-1", "old"), ("222", "eu-west-1", "kept")],
    ) {
        t.write(def, b).await.unwrap();
    }
    t.commit().await.unwrap();

    // Day 5: the scope fails; its rows are four days old, within the limit.
    let failed = sqs_scope("111", "eu-west-1");
    let mut t = sink.begin(&at("m2", 5)).await.unwrap();
    for (def, b) in queue_batches_at(
        "m2",
        day(5).timestamp_micros(),
        &[("222", "eu-west-1", "kept")],
    ) {
        t.write(def, b).await.unwrap();
    }
    assert_eq!(
        t.carry_forward(std::slice::from_ref(&failed), day(1))
            .await
            .unwrap(),
        vec![carried(1, 0)]
    );
    t.commit().await.unwrap();

    // Day 9: it fails again; its rows were read on day 1, before `oldest`.
    let mut t = sink.begin(&at("m3", 9)).await.unwrap();
    for (def, b) in queue_batches_at(
        "m3",
        day(9).timestamp_micros(),
        &[("222", "eu-west-1", "kept")],
    ) {
        t.write(def, b).await.unwrap();
    }
    assert_eq!(
        t.carry_forward(std::slice::from_ref(&failed), day(2))
            .await
            .unwrap(),
        vec![carried(0, 1)]
    );
    t.commit().await.unwrap();
    let ids = reader.text_column("aws_sqs_queue", "id").await.unwrap();
    assert_eq!(ids, vec![Some("kept".into())], "the old row is gone");
    let edges = reader.text_column("_edges", "_run_id").await.unwrap();
    assert_eq!(edges, vec![Some("m3".into())], "and its edge with it");
}

/// A table that gains a column (a newer cloudtab added one) goes on working:
/// the run that brings the column writes it and readers see its values.
pub async fn check_schema_growth(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    let mut t = sink.begin(&run("g1")).await.unwrap();
    t.write(issues_def(), issues_batch("g1", &["before"]))
        .await
        .unwrap();
    t.commit().await.unwrap();

    let grown: &'static TableDef = Box::leak(Box::new({
        let mut def = issues_def().clone();
        def.columns.push(ColumnDef::new(
            "note",
            ColumnType::Text,
            "A column a newer version added.",
        ));
        def
    }));
    let schema = cloudtab_flatten::arrow_schema(grown);
    let mut info = run("g2");
    info.tables[0] = (grown, schema.clone());
    let old = issues_batch("g2", &["after"]);
    let mut cols = old.columns().to_vec();
    cols.push(Arc::new(StringArray::from(vec![Some("noted")])) as ArrayRef);
    let batch = RecordBatch::try_new(schema, cols).unwrap();
    let mut t = sink.begin(&info).await.unwrap();
    t.write(grown, batch).await.unwrap();
    t.commit().await.unwrap();
    assert_eq!(reasons(reader).await, Some(vec![Some("after".into())]));
    assert_eq!(
        reader.text_column("_issues", "note").await,
        Some(vec![Some("noted".into())]),
        "the new column holds what the run wrote"
    );
}

/// For the SQL sinks, whose `_edges` declares a key: an edge two scopes
/// sent is stored once, and each repeat is named in `_issues` (not part of
/// [`run_all`]: Parquet files have no key to keep).
pub async fn check_repeated_edges_are_stored_once(sink: &dyn Sink, reader: &dyn SnapshotReader) {
    let mut t = sink.begin(&run("dup")).await.unwrap();
    let edges: Vec<_> = queue_batches(
        "dup",
        &[("111", "eu-west-1", "a"), ("111", "eu-west-1", "b")],
    )
    .into_iter()
    .filter(|(d, _)| d.name == "_edges")
    .collect();
    for (def, b) in edges.iter().chain(edges.iter().take(1)) {
        t.write(def, b.clone()).await.unwrap();
    }
    t.commit().await.unwrap();
    let runs = reader.text_column("_edges", "_run_id").await.unwrap();
    assert_eq!(runs.len(), 2, "each edge once");
    let reasons = reader.text_column("_issues", "reason").await.unwrap();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().all(|r| r
        .as_deref()
        .is_some_and(|r| r.starts_with("duplicate edge"))));
}

/// Every check, each on a fresh destination that `fresh` makes (a new
/// directory, schema or database; `G` is whatever must live as long as
/// the destination, a test server say). `nul` is what the destination
/// stores for the NUL character ([`check_odd_values`]).
pub async fn run_all<S, R, G, F, Fut>(mut fresh: F, nul: &str)
where
    S: Sink,
    R: SnapshotReader,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (S, R, G)>,
{
    let (s, r, _g) = fresh().await;
    check_commit_makes_rows_visible(&s, &r).await;
    let (s, r, _g) = fresh().await;
    check_abort_and_rerun(&s, &r).await;
    let (s, r, _g) = fresh().await;
    check_odd_values(&s, &r, nul).await;
    let (s, r, _g) = fresh().await;
    check_bad_run_ids_are_refused(&s, &r).await;
    let (s, r, _g) = fresh().await;
    check_carry_forward(&s, &r).await;
    let (s, r, _g) = fresh().await;
    check_partial_scope_is_not_doubled(&s, &r).await;
    let (s, r, _g) = fresh().await;
    check_carry_max_age(&s, &r).await;
    let (s, r, _g) = fresh().await;
    check_schema_growth(&s, &r).await;
}
