//! The PostgreSQL sink against a real server (see `tests/support/postgres.rs`).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use cloudtab_schema::{ColumnDef, ColumnType, Registry, TableDef};

#[path = "../../../tests/support/postgres.rs"]
mod pg_server;

use super::*;
use crate::conformance::{self, SnapshotReader};
use crate::{RunInfo, Sink, SinkError};
use pg_server::{PgOptions, PgServer};

struct Reader {
    url: String,
    schema: String,
    /// `_latest` to read history mode's views.
    suffix: &'static str,
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    c
}

#[async_trait]
impl SnapshotReader for Reader {
    async fn text_column(&self, table: &str, column: &str) -> Option<Vec<Option<String>>> {
        let c = client(&self.url).await;
        let name = crate::ddl::qualified(&self.schema, &format!("{table}{}", self.suffix));
        let exists: Option<String> = c
            .query_one("SELECT to_regclass($1)::text", &[&name])
            .await
            .unwrap()
            .get(0);
        exists?;
        let rows = c
            .query(
                &format!(
                    "SELECT {}::text FROM {name}",
                    crate::ddl::quote_ident(column)
                ),
                &[],
            )
            .await
            .unwrap();
        Some(rows.iter().map(|r| r.get(0)).collect())
    }
}

fn sink_for(url: &str, schema: &str, mode: LoadMode) -> PostgresSink {
    let mut c = PostgresSinkConfig::for_url(url);
    c.schema = schema.into();
    c.mode = mode;
    PostgresSink::build(c).unwrap()
}

fn setup(mode: LoadMode) -> (PgServer, PostgresSink, Reader) {
    let server = PgServer::start();
    let sink = sink_for(&server.url(), "cloudtab", mode);
    let reader = Reader {
        url: server.url(),
        schema: "cloudtab".into(),
        suffix: if mode == LoadMode::History {
            "_latest"
        } else {
            ""
        },
    };
    (server, sink, reader)
}

#[tokio::test]
async fn conformance_snapshot_mode() {
    let (server, sink, reader) = setup(LoadMode::Snapshot);
    conformance::check_commit_makes_rows_visible(&sink, &reader).await;
    conformance::check_abort_and_rerun(&sink, &reader).await;
    conformance::check_odd_values(&sink, &reader, "\u{FFFD}").await;
    conformance::check_bad_run_ids_are_refused(&sink, &reader).await;
    // Each table has exactly one partition: the current snapshot.
    let parts = server.psql(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent \
         WHERE c.relname = '_issues'",
    );
    assert_eq!(parts, "1");
    // Keys and indexes are there.
    let idx = server.psql(
        "SELECT string_agg(indexdef, E'\\n' ORDER BY indexdef) FROM pg_indexes \
         WHERE schemaname = 'cloudtab' AND tablename = '_edges'",
    );
    assert!(idx.contains("(from_id, to_id, edge_type)"), "{idx}");
    // from_id lookups use the primary key; the other end has its own index.
    for (col, want) in [("from_id", "_edges"), ("to_id", "to_id_idx")] {
        let plan = server.psql(&format!(
            "SET enable_seqscan = off; EXPLAIN SELECT * FROM cloudtab._edges WHERE {col} = 'x'"
        ));
        assert!(
            plan.contains("Index") && plan.contains(want),
            "{col}: {plan}"
        );
    }
    assert!(
        idx.contains("(to_id)") && idx.contains("(_run_id)"),
        "{idx}"
    );
}

#[tokio::test]
async fn conformance_all_checks_in_both_modes() {
    let server = PgServer::start();
    for (mode, prefix, suffix) in [
        (LoadMode::Snapshot, "snap", ""),
        (LoadMode::History, "hist", "_latest"),
    ] {
        // A fresh schema per check (history mode refuses a run id twice).
        let mut n = 0;
        conformance::run_all(
            || {
                n += 1;
                let schema = format!("{prefix}{n}");
                let url = server.url();
                async move {
                    let sink = sink_for(&url, &schema, mode);
                    (
                        sink,
                        Reader {
                            url,
                            schema,
                            suffix,
                        },
                        (),
                    )
                }
            },
            "\u{FFFD}",
        )
        .await;
    }
}

#[tokio::test]
async fn conformance_history_mode() {
    let server = PgServer::start();
    // The checks reuse run ids, which history mode refuses: one schema each.
    for (i, schema) in ["h1", "h2", "h3"].into_iter().enumerate() {
        let sink = sink_for(&server.url(), schema, LoadMode::History);
        let reader = Reader {
            url: server.url(),
            schema: schema.into(),
            suffix: "_latest",
        };
        match i {
            0 => conformance::check_commit_makes_rows_visible(&sink, &reader).await,
            1 => conformance::check_abort_and_rerun(&sink, &reader).await,
            _ => conformance::check_odd_values(&sink, &reader, "\u{FFFD}").await,
        }
    }
    // The table keeps every committed run; `_latest` shows the last.
    assert_eq!(
        server.psql(
            "SELECT string_agg(_snapshot_run_id || ':' || reason, ',' ORDER BY _snapshot_run_id, reason) FROM h2._issues"
        ),
        "r1:old,r3:newer,r3:newest"
    );
    // A run id that was committed already is refused.
    let sink = sink_for(&server.url(), "h2", LoadMode::History);
    let e = match sink.begin(&typed_run("r3")).await {
        Ok(_) => panic!("a repeated run id must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("r3") && e.contains("already"), "{e}");
}

#[tokio::test]
async fn conformance_carry_forward_history_mode() {
    let (server, sink, reader) = setup(LoadMode::History);
    conformance::check_carry_forward(&sink, &reader).await;
    // One schema per check: history mode refuses a run id twice.
    let history = |schema: &str| {
        let sink = sink_for(&server.url(), schema, LoadMode::History);
        let reader = Reader {
            url: server.url(),
            schema: schema.into(),
            suffix: "_latest",
        };
        (sink, reader)
    };
    let (other, other_reader) = history("partial");
    conformance::check_partial_scope_is_not_doubled(&other, &other_reader).await;
    let (other, other_reader) = history("aged");
    conformance::check_carry_max_age(&other, &other_reader).await;
    // Run r2's snapshot holds the carried queue with its old `_run_id`.
    assert_eq!(
        server.psql(
            "SELECT string_agg(_snapshot_run_id || ':' || id || ':' || _run_id, ',' ORDER BY _snapshot_run_id, id) FROM cloudtab.aws_sqs_queue"
        ),
        "r1:a:r1,r1:b:r1,r1:c:r1,r2:a:r1,r2:b:r2,r2:d:r2"
    );
}

/// A table with one column of every type.
fn typed_table() -> &'static TableDef {
    use ColumnType::*;
    Box::leak(Box::new(TableDef::system(
        "_types",
        "every column type",
        &["id"],
        &[
            ColumnDef::required("id", Text, "id"),
            ColumnDef::new("t", Text, "text"),
            ColumnDef::new("i64", Int64, "bigint"),
            ColumnDef::new("i32", Int32, "integer"),
            ColumnDef::new("f", Float64, "double"),
            ColumnDef::new("b", Boolean, "boolean"),
            ColumnDef::new("ts", Timestamp, "timestamptz"),
            ColumnDef::new("j", Json, "jsonb"),
        ],
    )))
}

fn typed_run(id: &str) -> RunInfo {
    let t = typed_table();
    RunInfo {
        run_id: id.into(),
        started_at: Utc::now(),
        tables: vec![(t, cloudtab_flatten::arrow_schema(t))],
    }
}

#[tokio::test]
async fn every_column_type_round_trips() {
    let (server, sink, _) = setup(LoadMode::Snapshot);
    let t = typed_table();
    let ts = [
        1_700_000_000_123_456i64,
        -1_000_000_000_000_001,  // 1938, before 1970
        253_402_300_799_999_999, // 9999-12-31T23:59:59.999999Z
        951_782_400_000_001,     // 2000-02-29 (leap day) + 1 µs
    ];
    // Tags as the flattener writes them, one value of a megabyte with
    // quotes, SQL and unicode in it.
    let huge = format!("'; DROP TABLE x; -- \"ü\" {}", "v".repeat(1 << 20));
    let big_tags = serde_json::json!({"owner": "o'brien", "note": huge}).to_string();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["a", "b", "c", "d"])),
        Arc::new(StringArray::from(vec![
            Some("it's"),
            None,
            Some("ü 🚀"),
            Some(""),
        ])),
        Arc::new(Int64Array::from(vec![
            Some(1i64 << 40),
            Some(i64::MIN),
            Some(i64::MAX),
            None,
        ])),
        Arc::new(Int32Array::from(vec![
            Some(i32::MAX),
            Some(i32::MIN),
            None,
            Some(0),
        ])),
        Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(-0.25),
            None,
            Some(1e300),
        ])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
        ])),
        Arc::new(
            TimestampMicrosecondArray::from(ts.iter().map(|v| Some(*v)).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from(vec![
            Some(r#"{"a":[1,null,"x"],"n":12345678901234}"#),
            Some("null"),
            None,
            Some(big_tags.as_str()),
        ])),
    ];
    let batch = RecordBatch::try_new(cloudtab_flatten::arrow_schema(t), cols).unwrap();
    let mut txn = sink.begin(&typed_run("r1")).await.unwrap();
    txn.write(t, batch).await.unwrap();
    txn.commit().await.unwrap();

    let c = client(&server.url()).await;
    let rows = c
        .query(
            "SELECT id, t, i64, i32, f, b, ts, j FROM cloudtab._types ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    let got_ts: Vec<i64> = rows
        .iter()
        .map(|r| r.get::<_, DateTime<Utc>>(6).timestamp_micros())
        .collect();
    assert_eq!(got_ts, ts, "timestamps keep every microsecond");
    assert_eq!(rows[0].get::<_, Option<String>>(1).as_deref(), Some("it's"));
    assert_eq!(rows[1].get::<_, Option<String>>(1), None);
    assert_eq!(rows[0].get::<_, Option<i64>>(2), Some(1 << 40));
    assert_eq!(rows[1].get::<_, Option<i64>>(2), Some(i64::MIN));
    assert_eq!(rows[2].get::<_, Option<i64>>(2), Some(i64::MAX));
    assert_eq!(rows[1].get::<_, Option<i32>>(3), Some(i32::MIN));
    assert_eq!(rows[3].get::<_, Option<f64>>(4), Some(1e300));
    assert_eq!(rows[1].get::<_, Option<bool>>(5), Some(false));
    let j: Vec<Option<serde_json::Value>> = rows.iter().map(|r| r.get(7)).collect();
    assert_eq!(
        j[0],
        Some(serde_json::json!({"a": [1, null, "x"], "n": 12345678901234i64}))
    );
    assert_eq!(j[1], None, "JSON null is SQL NULL");
    assert_eq!(j[2], None);
    assert_eq!(j[3].as_ref().unwrap()["note"].as_str(), Some(huge.as_str()));
    assert_eq!(j[3].as_ref().unwrap()["owner"], "o'brien");
    // Timestamps are UTC instants whatever the session's time zone.
    assert_eq!(
        server.psql("SET TIME ZONE 'Asia/Kolkata'; SELECT ts FROM cloudtab._types WHERE id = 'a'"),
        "2023-11-15 03:43:20.123456+05:30"
    );
    let types = server.psql(
        "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) \
         FROM information_schema.columns WHERE table_schema = 'cloudtab' AND table_name = '_types'",
    );
    assert_eq!(
        types,
        "id text, t text, i64 bigint, i32 integer, f double precision, b boolean, \
         ts timestamp with time zone, j jsonb"
    );
}

#[tokio::test]
async fn hostile_schema_name() {
    let server = PgServer::start();
    let schema = "we\"ird; DROP TABLE x; -- ü SELECT";
    let sink = sink_for(&server.url(), schema, LoadMode::Snapshot);
    let reader = Reader {
        url: server.url(),
        schema: schema.into(),
        suffix: "",
    };
    conformance::check_commit_makes_rows_visible(&sink, &reader).await;
    conformance::check_odd_values(&sink, &reader, "\u{FFFD}").await;
    assert!(!sink.describe().is_empty());
}

#[tokio::test]
async fn views_on_the_tables_survive_every_swap() {
    let (server, sink, _) = setup(LoadMode::Snapshot);
    let write = |reasons: &'static [&'static str], run: &'static str| {
        let sink = &sink;
        async move {
            let t = Registry::builtin().get("_issues").unwrap();
            let mut txn = sink
                .begin(&RunInfo {
                    run_id: run.into(),
                    started_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                    tables: vec![(t, cloudtab_flatten::arrow_schema(t))],
                })
                .await
                .unwrap();
            txn.write(t, conformance::issues_batch(run, reasons))
                .await
                .unwrap();
            txn.commit().await.unwrap();
        }
    };
    write(&["a"], "r1").await;
    // A user's view, and a dbt-style chain of views on top of it.
    server.psql(
        "CREATE VIEW public.my_issues AS SELECT reason FROM cloudtab._issues; \
         CREATE VIEW public.stg_issues AS SELECT upper(reason) AS r FROM public.my_issues; \
         CREATE VIEW public.mart_issues AS SELECT count(*) AS n, string_agg(r, ',' ORDER BY r) AS rs FROM public.stg_issues;",
    );
    write(&["b", "c"], "r2").await;
    assert_eq!(server.psql("SELECT n, rs FROM public.mart_issues"), "2|B,C");
    write(&["d"], "r3").await;
    assert_eq!(server.psql("SELECT n, rs FROM public.mart_issues"), "1|D");
    assert_eq!(server.psql("SELECT reason FROM public.my_issues"), "d");
}

#[tokio::test]
async fn a_second_run_waits_for_the_lock_or_fails_clearly() {
    let (server, sink, reader) = setup(LoadMode::Snapshot);
    let first = sink.begin(&typed_run("r1")).await.unwrap();
    let mut c = PostgresSinkConfig::for_url(server.url());
    c.lock_wait_secs = 0;
    let impatient = PostgresSink::build(c.clone()).unwrap();
    let e = impatient.begin(&typed_run("r2")).await.err().unwrap();
    let msg = e.to_string();
    assert!(
        msg.contains("another cloudtab run is writing to schema \"cloudtab\"")
            && msg.contains("backend pid")
            && msg.contains("lock_wait_secs"),
        "{msg}"
    );
    // A patient run waits until the first commits, then goes ahead.
    c.lock_wait_secs = 30;
    let patient = PostgresSink::build(c).unwrap();
    let waiting = tokio::spawn(async move {
        let t = patient.begin(&typed_run("r3")).await.unwrap();
        t.commit().await.unwrap();
    });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(!waiting.is_finished(), "the second run waits for the first");
    first.commit().await.unwrap();
    waiting.await.unwrap();
    assert_eq!(reader.text_column("_types", "id").await, Some(vec![]));
}

#[tokio::test]
async fn schema_growth_adds_columns_and_refuses_silent_changes() {
    let (server, sink, reader) = setup(LoadMode::Snapshot);
    conformance::check_commit_makes_rows_visible(&sink, &reader).await;
    // A column the registry has and the table lacks is added.
    server.psql("ALTER TABLE cloudtab._issues DROP COLUMN raw_value");
    server.psql("CREATE VIEW public.v AS SELECT _run_id FROM cloudtab._issues");
    conformance::check_abort_and_rerun(&sink, &reader).await;
    assert_eq!(
        reader
            .text_column("_issues", "raw_value")
            .await
            .unwrap()
            .len(),
        2
    );
    // A retyped column and a column the registry no longer has fail the
    // run before anything moves, with what to do.
    server.psql("ALTER TABLE cloudtab._issues ALTER COLUMN reason TYPE varchar(100)");
    server.psql("ALTER TABLE cloudtab._issues ADD COLUMN legacy integer");
    let from_health = sink.healthcheck().await.err().unwrap();
    let issues = Registry::builtin().get("_issues").unwrap();
    let issues_run = RunInfo {
        run_id: "r9".into(),
        started_at: Utc::now(),
        tables: vec![(issues, cloudtab_flatten::arrow_schema(issues))],
    };
    let from_begin = match sink.begin(&issues_run).await {
        Ok(_) => panic!("begin must refuse a changed table"),
        Err(e) => e,
    };
    for e in [from_health, from_begin] {
        assert!(e.is_config(), "{e}");
        let m = e.to_string();
        assert!(
            m.contains("column `reason` is character varying(100) in the database but text")
                && m.contains("column `legacy` (integer) is no longer")
                && m.contains("--migrate=force"),
            "{m}"
        );
    }
    // Forced: the table is recreated (the view on it must go first).
    let mut c = PostgresSinkConfig::for_url(server.url());
    c.migrate = Migrate::Force;
    let forced = PostgresSink::build(c).unwrap();
    let t = Registry::builtin().get("_issues").unwrap();
    let run = RunInfo {
        run_id: "f1".into(),
        started_at: Utc::now(),
        tables: vec![(t, cloudtab_flatten::arrow_schema(t))],
    };
    let txn = forced.begin(&run).await.unwrap();
    let e = txn.commit().await.err().unwrap().to_string();
    assert!(
        e.contains("depend"),
        "PostgreSQL names the dependent view: {e}"
    );
    server.psql("DROP VIEW public.v");
    let mut txn = forced.begin(&run).await.unwrap();
    txn.write(t, conformance::issues_batch("f1", &["fresh"]))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(
        reader.text_column("_issues", "reason").await,
        Some(vec![Some("fresh".into())])
    );
    sink.healthcheck().await.unwrap();
}

#[tokio::test]
async fn health_check_failures_say_what_to_do() {
    let server = PgServer::start();
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = PostgresSink::build(PostgresSinkConfig::for_url(format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    )))
    .unwrap();
    let e = s.healthcheck().await.unwrap_err().to_string();
    assert!(
        e.contains("cannot connect") && e.contains(&port.to_string()),
        "{e}"
    );
    // A user that may not create the schema.
    server.psql("CREATE ROLE reader LOGIN; REVOKE CREATE ON DATABASE postgres FROM PUBLIC;");
    let s = PostgresSink::build(PostgresSinkConfig::for_url(format!(
        "postgres://reader@127.0.0.1:{}/postgres?sslmode=disable",
        server.port()
    )))
    .unwrap();
    let e = s.healthcheck().await.unwrap_err().to_string();
    assert!(
        e.contains("may not create it")
            && e.contains("CREATE SCHEMA \"cloudtab\" AUTHORIZATION \"reader\""),
        "{e}"
    );
    server.psql("CREATE SCHEMA cloudtab");
    let e = s.healthcheck().await.unwrap_err().to_string();
    assert!(
        e.contains("GRANT USAGE, CREATE ON SCHEMA \"cloudtab\" TO \"reader\""),
        "{e}"
    );
    server.psql("GRANT USAGE, CREATE ON SCHEMA cloudtab TO reader");
    s.healthcheck().await.unwrap();
}

#[tokio::test]
async fn passwords_from_url_file_and_environment_never_leak() {
    let secret = "S3cr3t-pa55'word";
    let server = PgServer::start_with(PgOptions {
        password_user: Some(("loader".into(), secret.replace('\'', "''"))),
        ..Default::default()
    });
    let base = format!(
        "postgres://loader@127.0.0.1:{}/postgres?sslmode=disable",
        server.port()
    );
    // In the URL (percent-encoded).
    let in_url = format!(
        "postgres://loader:{}@127.0.0.1:{}/postgres?sslmode=disable",
        "S3cr3t-pa55%27word",
        server.port()
    );
    let s = PostgresSink::build(PostgresSinkConfig::for_url(&in_url)).unwrap();
    assert!(!s.describe().contains("S3cr3t"), "{}", s.describe());
    s.healthcheck().await.unwrap();
    // From a file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), format!("{secret}\n")).unwrap();
    let mut c = PostgresSinkConfig::for_url(&base);
    c.password_file = Some(dir.path().join("pw"));
    PostgresSink::build(c).unwrap().healthcheck().await.unwrap();
    // From the environment.
    let mut c = PostgresSinkConfig::for_url(&base);
    c.password_env = "CLOUDTAB_TEST_LOADER_PW".into();
    std::env::set_var("CLOUDTAB_TEST_LOADER_PW", secret);
    PostgresSink::build(c).unwrap().healthcheck().await.unwrap();
    // A wrong password: the error says so, without either password.
    let wrong = in_url.replace("S3cr3t-pa55%27word", "Wr0ngPassw0rd");
    let s = PostgresSink::build(PostgresSinkConfig::for_url(&wrong)).unwrap();
    let e = s.healthcheck().await.unwrap_err().to_string();
    assert!(e.contains("password authentication failed"), "{e}");
    assert!(!e.contains("Wr0ng") && !e.contains("S3cr3t"), "{e}");
}

#[tokio::test]
async fn tls_modes() {
    let server = PgServer::start_with(PgOptions {
        tls: true,
        ..Default::default()
    });
    let url = |mode: &str| {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode={mode}",
            server.port()
        )
    };
    let encrypted = |s: PostgresSink| async move {
        let c = s.connect().await?;
        let on: bool = c
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        Ok::<bool, SinkError>(on)
    };
    let build = |mode: &str, ca: Option<std::path::PathBuf>| {
        let mut c = PostgresSinkConfig::for_url(url(mode));
        c.sslrootcert = ca;
        PostgresSink::build(c).unwrap()
    };
    assert!(!encrypted(build("disable", None)).await.unwrap());
    assert!(encrypted(build("prefer", None)).await.unwrap());
    assert!(encrypted(build("require", None)).await.unwrap());
    assert!(encrypted(build("verify-full", Some(server.ca_file())))
        .await
        .unwrap());
    let e = encrypted(build("verify-full", Some(server.other_ca_file())))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot connect") && e.to_lowercase().contains("certificate"),
        "{e}"
    );
    // A whole run over verify-full.
    let s = build("verify-full", Some(server.ca_file()));
    let reader = Reader {
        url: url("disable"),
        schema: "cloudtab".into(),
        suffix: "",
    };
    conformance::check_commit_makes_rows_visible(&s, &reader).await;
    // prefer falls back to plain text on a server without TLS.
    let plain = PgServer::start();
    let mut c =
        PostgresSinkConfig::for_url(plain.url().replace("sslmode=disable", "sslmode=prefer"));
    c.sslmode = None;
    assert!(!encrypted(PostgresSink::build(c).unwrap()).await.unwrap());
}

// Issue #12: PostgreSQL edges.

/// A run that fills `_issues` only.
fn issues_run(id: &str) -> RunInfo {
    let t = cloudtab_schema::Registry::builtin().get("_issues").unwrap();
    RunInfo {
        run_id: id.into(),
        started_at: Utc::now(),
        tables: vec![(t, cloudtab_flatten::arrow_schema(t))],
    }
}

#[tokio::test]
async fn waiting_for_another_roles_lock_never_panics_on_hidden_session_fields() {
    let server = PgServer::start();
    server.psql(
        "CREATE ROLE loader LOGIN; GRANT CREATE ON DATABASE postgres TO loader; \
         CREATE SCHEMA cloudtab AUTHORIZATION loader",
    );
    // The superuser's session holds the run lock, as another run would.
    let holder = client(&server.url()).await;
    holder
        .execute(
            "SELECT pg_advisory_lock($1, hashtext('cloudtab'))",
            &[&super::sink::LOCK_CLASS_FOR_TESTS],
        )
        .await
        .unwrap();
    // The loader cannot see the holder's application or start time.
    let mut c = PostgresSinkConfig::for_url(server.url().replace("postgres@", "loader@"));
    c.lock_wait_secs = 0;
    let sink = PostgresSink::build(c).unwrap();
    let e = sink
        .begin(&typed_run("r1"))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("another cloudtab run is writing") && e.contains("backend pid"),
        "{e}"
    );
    drop(holder);
}

#[tokio::test]
async fn the_swap_gives_up_on_a_reader_that_never_ends_and_names_it() {
    let (server, sink, reader) = setup(LoadMode::Snapshot);
    conformance::check_commit_makes_rows_visible(&sink, &reader).await;
    let before = reader.text_column("_issues", "reason").await;
    // A session idle in a transaction that has read a table.
    let blocker = client(&server.url()).await;
    blocker
        .batch_execute(
            "SET application_name = 'long-report'; BEGIN; SELECT count(*) FROM cloudtab._issues",
        )
        .await
        .unwrap();
    let mut c = PostgresSinkConfig::for_url(server.url());
    c.swap_wait_secs = 2;
    let impatient = PostgresSink::build(c).unwrap();
    let mut t = impatient.begin(&issues_run("r9")).await.unwrap();
    let def = cloudtab_schema::Registry::builtin().get("_issues").unwrap();
    t.write(def, conformance::issues_batch("r9", &["new"]))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let e = t.commit().await.err().unwrap().to_string();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(
        e.contains("could not swap") && e.contains("long-report") && e.contains("swap_wait_secs"),
        "{e}"
    );
    blocker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        reader.text_column("_issues", "reason").await,
        before,
        "previous snapshot intact"
    );
    // Without the reader, the next run goes through.
    conformance::check_commit_makes_rows_visible(&sink, &reader).await;
}

#[tokio::test]
async fn a_server_idle_in_transaction_timeout_does_not_kill_a_slow_run() {
    let (server, sink, reader) = setup(LoadMode::Snapshot);
    server.psql("ALTER DATABASE postgres SET idle_in_transaction_session_timeout = '1s'");
    let def = cloudtab_schema::Registry::builtin().get("_issues").unwrap();
    let mut t = sink.begin(&issues_run("slow")).await.unwrap();
    t.write(def, conformance::issues_batch("slow", &["a"]))
        .await
        .unwrap();
    // A slow API between batches: longer than the server's timeout.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    t.write(def, conformance::issues_batch("slow", &["b"]))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    t.commit().await.unwrap();
    let mut got = reader.text_column("_issues", "reason").await.unwrap();
    got.sort();
    assert_eq!(got, vec![Some("a".into()), Some("b".into())]);
}

#[tokio::test]
async fn channel_binding_and_passwords_that_were_not_url_encoded() {
    let secret = "p/ss?w#rd@1";
    let server = PgServer::start_with(PgOptions {
        tls: true,
        password_user: Some(("loader".into(), secret.into())),
    });
    server.psql("GRANT CREATE ON DATABASE postgres TO loader");
    let url = |params: &str| {
        format!(
            "postgres://loader:{secret}@127.0.0.1:{}/postgres?{params}",
            server.port()
        )
    };
    // The raw password works, and no message or description shows it.
    for params in [
        "sslmode=require&channel_binding=require",
        "sslmode=require&channel_binding=prefer",
        "sslmode=require&channel_binding=disable",
    ] {
        let s = PostgresSink::build(PostgresSinkConfig::for_url(url(params))).unwrap();
        assert!(!s.describe().contains("p/ss"), "{}", s.describe());
        s.healthcheck()
            .await
            .unwrap_or_else(|e| panic!("{params}: {e}"));
    }
    // Channel binding is really used when required: the server says so.
    let s = PostgresSink::build(PostgresSinkConfig::for_url(url(
        "sslmode=require&channel_binding=require",
    )))
    .unwrap();
    let c = s.connect().await.unwrap();
    let ssl: bool = c
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(ssl);
    // A wrong database: the error names the URL without the password.
    let wrong = url("sslmode=require").replace("/postgres?", "/nosuchdb?");
    let e = PostgresSink::build(PostgresSinkConfig::for_url(&wrong))
        .unwrap()
        .healthcheck()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("nosuchdb") && !e.contains("p/ss") && !e.contains("w#rd"),
        "{e}"
    );
    // `require` over a server without TLS support fails, saying why.
    let plain = PgServer::start_with(PgOptions {
        password_user: Some(("loader".into(), secret.into())),
        ..Default::default()
    });
    let no_tls = format!(
        "postgres://loader:{secret}@127.0.0.1:{}/postgres?sslmode=prefer&channel_binding=require",
        plain.port()
    );
    let e = PostgresSink::build(PostgresSinkConfig::for_url(no_tls))
        .unwrap()
        .healthcheck()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot connect") && !e.contains("p/ss"), "{e}");
}

#[tokio::test]
async fn an_edge_two_scopes_sent_is_stored_once_and_named_in_issues() {
    // Issue #12: the key on `_edges` must not fail the commit after the
    // whole load.
    let (_server, sink, reader) = setup(LoadMode::Snapshot);
    conformance::check_repeated_edges_are_stored_once(&sink, &reader).await;
}
