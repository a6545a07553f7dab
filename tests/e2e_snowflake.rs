//! The Snowflake sink end to end, against the Snowflake emulator (fakesnow
//! in server mode, `scripts/venv-snowflake.sh`): `cloudtab sync` into it,
//! read back through cloudtab's own Snowflake client.

mod common;
#[path = "support/fakesnow.rs"]
mod fakesnow;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/http.rs"]
mod http;
#[path = "support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cloudtab_schema::Registry;
use cloudtab_sinks::conformance::{self, SnapshotReader};
use cloudtab_sinks::snowflake::{SnowflakeSink, SnowflakeSinkConfig};

use cloudtab_sinks::snowflake::auth::Secret;
use cloudtab_sinks::snowflake::client::{http_client, LoginInfo, Session};
use common::*;
use fakesnow::Fakesnow;
use tempfile::TempDir;

/// A server with database `INVENTORY`, and a password file to log in with.
struct Peer {
    server: Fakesnow,
    dir: TempDir,
}

impl Peer {
    async fn start() -> Peer {
        let server = Fakesnow::start();
        let dir = TempDir::new().unwrap();
        std::fs::write(dir.path().join("password"), "not-checked-by-the-emulator\n").unwrap();
        let p = Peer { server, dir };
        p.sql("CREATE DATABASE IF NOT EXISTS INVENTORY").await;
        p
    }

    fn password_file(&self) -> PathBuf {
        self.dir.path().join("password")
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// `--sink` for schema `schema`.
    fn url(&self, schema: &str) -> String {
        format!(
            "snowflake://cloudtab@fakesnow/INVENTORY/{schema}?warehouse=LOAD_WH&host={}",
            self.base_url()
        )
    }

    /// A config file with the sink (and `extra` keys under it).
    fn config(&self, schema: &str, source: &str, extra: &str) -> PathBuf {
        let yaml = format!(
            "sources:\n{source}sinks:\n  - type: snowflake\n    url: \"{}\"\n    password_file: {}\n{extra}",
            self.url(schema),
            self.password_file().display()
        );
        let path = self
            .dir
            .path()
            .join(format!("cloudtab-{}.yaml", rand_suffix()));
        std::fs::write(&path, yaml).unwrap();
        path
    }

    async fn session(&self) -> Arc<Session> {
        Session::login(
            http_client().unwrap(),
            LoginInfo {
                base_url: self.base_url(),
                account: "fakesnow".into(),
                user: "reader".into(),
                role: None,
                secret: Secret::PasswordFile(self.password_file()),
                lock_timeout_secs: 60,
            },
        )
        .await
        .unwrap()
    }

    /// Runs `sql` in a new session (in database INVENTORY once it exists)
    /// and returns its rows as text.
    async fn sql(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let s = self.session().await;
        if !sql.starts_with("CREATE DATABASE") {
            s.query("USE DATABASE INVENTORY", &[]).await.unwrap();
        }
        let rows = s
            .query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        s.close().await;
        rows.text()
    }

    async fn count(&self, sql: &str) -> u64 {
        let v = self.sql(sql).await[0][0].clone().unwrap_or_default();
        v.parse::<f64>()
            .unwrap_or_else(|_| panic!("{sql} gave {v}")) as u64
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn sync_with(config: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut c = cloudtab();
    c.arg("sync").arg("--config").arg(config).args(extra);
    outcome(&c.output().unwrap())
}

/// Rows per resource table (every resource table of the registry) of the
/// current snapshot in `schema`, `suffix` appended to each table name
/// (`_LATEST` for history views).
async fn table_counts(peer: &Peer, schema: &str, suffix: &str) -> BTreeMap<String, u64> {
    let union: Vec<String> = Registry::builtin()
        .resource_tables()
        .map(|t| {
            format!(
                "SELECT '{}' AS k, COUNT(*) AS n FROM {schema}.\"{}{suffix}\"",
                t.name,
                t.name.to_uppercase()
            )
        })
        .collect();
    pairs(peer.sql(&union.join(" UNION ALL ")).await)
}

async fn edge_counts(peer: &Peer, table: &str) -> BTreeMap<String, u64> {
    pairs(
        peer.sql(&format!(
            "SELECT edge_type, COUNT(*) FROM {table} GROUP BY edge_type"
        ))
        .await,
    )
}

fn pairs(rows: Vec<Vec<Option<String>>>) -> BTreeMap<String, u64> {
    rows.into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap_or_default(),
                r[1].as_deref().unwrap_or("0").parse::<f64>().unwrap() as u64,
            )
        })
        .collect()
}

/// The demo's rows per resource table (zero for the tables it leaves
/// empty) and edges per type.
fn demo(scale: u64, seed: u64) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let (mut tables, edges, _) = demo_counts(scale, seed);
    for t in Registry::builtin().resource_tables() {
        tables.entry(t.name.to_string()).or_insert(0);
    }
    (tables, edges)
}

const DEMO: &str = "  - type: demo\n    scale: 1\n";

fn demo_source(scale: u64, seed: u64, fail: &str) -> String {
    format!("  - type: demo\n    scale: {scale}\n    seed: {seed}\n    fail_scopes: [{fail}]\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_sync_lands_exactly_and_matches_the_parquet_snapshot() {
    let peer = Peer::start().await;
    let data = peer.dir.path().join("data");
    // One run, two sinks: the same snapshot into Parquet and Snowflake.
    let config = peer.config(
        "CLOUDTAB",
        &demo_source(3, 9, ""),
        &format!("  - type: parquet\n    url: '{}'\n", data.display()),
    );
    let (code, out, err) = sync_with(&config, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (tables, edges) = demo(3, 9);
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, tables);
    assert_eq!(edge_counts(&peer, "CLOUDTAB._EDGES").await, edges);
    // Tags are VARIANT: `tags:owner::string` answers as in Parquet.
    let owners = peer
        .sql(
            "SELECT tags:owner::string AS k, COUNT(*) AS n FROM CLOUDTAB.AWS_EC2_INSTANCE \
             WHERE tags:owner::string IS NOT NULL GROUP BY 1",
        )
        .await;
    let want = grouped(
        &data,
        "SELECT tag(tags, 'owner') AS k, count(*) AS n FROM aws_ec2_instance \
         WHERE tag(tags, 'owner') IS NOT NULL GROUP BY 1",
    );
    assert!(!want.is_empty());
    assert_eq!(pairs(owners), want);
    // Every timestamp keeps its microseconds: the instants agree exactly.
    let sf: BTreeMap<String, u64> = pairs(
        peer.sql(
            "SELECT _id, DATE_PART(epoch_microsecond, ctime) FROM CLOUDTAB.AWS_EC2_INSTANCE \
             WHERE ctime IS NOT NULL",
        )
        .await,
    );
    let pq = grouped(
        &data,
        "SELECT _id AS k, CAST(ctime AS BIGINT) AS n FROM aws_ec2_instance \
         WHERE ctime IS NOT NULL",
    );
    assert_eq!(sf.len(), tables["aws_ec2_instance"] as usize);
    assert_eq!(sf, pq);
    // Numbers, booleans, floats: the same sums as in Parquet.
    let sums = |rows: Vec<Vec<Option<String>>>| rows[0].clone();
    let got = sums(
        peer.sql(
            "SELECT CAST(SUM(core_count) AS VARCHAR), CAST(COUNT_IF(ebs_optimized) AS VARCHAR) \
             FROM CLOUDTAB.AWS_EC2_INSTANCE",
        )
        .await,
    );
    let want = query(
        &data,
        "SELECT CAST(sum(core_count) AS VARCHAR) AS s, CAST(sum(CASE WHEN ebs_optimized THEN 1 ELSE 0 END) AS VARCHAR) AS b FROM aws_ec2_instance",
    );
    let num = |v: Option<&str>| v.unwrap().parse::<f64>().unwrap();
    assert_eq!(num(got[0].as_deref()), num(want[0]["s"].as_str()));
    assert_eq!(num(got[1].as_deref()), num(want[0]["b"].as_str()));
    // `_runs.options` says where the run went, never with the secret.
    let options = peer
        .sql("SELECT CAST(options AS VARCHAR) FROM CLOUDTAB._RUNS")
        .await;
    let options = options[0][0].clone().unwrap();
    assert!(
        options.contains("snowflake") && options.contains("INVENTORY"),
        "{options}"
    );
    assert!(
        !options.contains("not-checked-by-the-emulator"),
        "{options}"
    );
    // Nothing of the run is left behind: no staging table, the lock free.
    assert_eq!(
        peer.count(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'CLOUDTAB' \
             AND STARTSWITH(table_name, '_CLOUDTAB_STAGING_')"
        )
        .await,
        0
    );
    assert_eq!(
        peer.count("SELECT COUNT(*) FROM CLOUDTAB._CLOUDTAB_LOCK WHERE holder IS NOT NULL")
            .await,
        0
    );
}

/// Reads one text column of a table in `schema` through cloudtab's client.
struct SfReader {
    session: Arc<Session>,
    schema: String,
}

#[async_trait::async_trait]
impl SnapshotReader for SfReader {
    async fn text_column(&self, table: &str, column: &str) -> Option<Vec<Option<String>>> {
        // Every column as text: the emulator's Arrow for a NULL
        // TIMESTAMP_TZ is not valid Arrow (README, "Snowflake"), so rows
        // are not read with their native types.
        let rest: Vec<String> = Registry::builtin()
            .get(table)
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| format!("CAST(\"{}\" AS VARCHAR)", c.name.to_uppercase()))
                    .collect()
            })
            .unwrap_or_default();
        let sql = format!(
            "SELECT CAST(\"{}\" AS VARCHAR) AS \"__V\", {} FROM \"{}\".\"{}\"",
            column.to_uppercase(),
            rest.join(", "),
            self.schema,
            table.to_uppercase()
        );
        let rows = match self.session.query(&sql, &[]).await {
            Ok(r) => r.text(),
            Err(e) if e.to_string().contains("does not exist") => return None,
            Err(e) => panic!("{sql}: {e}"),
        };
        // Sorted by the whole row, so that every column of a table comes
        // in the same order.
        let mut rows: Vec<(Vec<Option<String>>, Option<String>)> = rows
            .into_iter()
            .map(|mut r| {
                let v = r.remove(0);
                (r, v)
            })
            .collect();
        rows.sort();
        Some(rows.into_iter().map(|(_, v)| v).collect())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snowflake_sink_passes_the_conformance_suite() {
    let peer = Arc::new(Peer::start().await);
    let mut n = 0;
    conformance::run_all(
        || {
            n += 1;
            let peer = peer.clone();
            let schema = format!("SUITE_{n}");
            async move {
                let mut c = SnowflakeSinkConfig::for_url(peer.url(&schema));
                c.password_file = Some(peer.password_file());
                c.file_rows = 2;
                let sink = SnowflakeSink::build(c).unwrap();
                let session = peer.session().await;
                session.query("USE DATABASE INVENTORY", &[]).await.unwrap();
                (sink, SfReader { session, schema }, ())
            }
        },
        "\0",
    )
    .await;
}

fn run_id(peer_rows: Vec<Vec<Option<String>>>) -> String {
    peer_rows[0][0].clone().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_replaces_the_first_and_failed_scopes_are_carried() {
    let peer = Peer::start().await;
    let (code, out, err) = sync_with(&peer.config("CLOUDTAB", &demo_source(2, 1, ""), ""), &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    // A user's view on a table keeps working across runs: the tables are
    // never replaced, only their rows.
    peer.sql(
        "CREATE VIEW CLOUDTAB.MY_INSTANCES AS SELECT id, state FROM CLOUDTAB.AWS_EC2_INSTANCE",
    )
    .await;
    let (code, out, err) = sync_with(&peer.config("CLOUDTAB", &demo_source(4, 7, ""), ""), &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (tables, edges) = demo(4, 7);
    assert_eq!(
        peer.count("SELECT COUNT(*) FROM CLOUDTAB.MY_INSTANCES")
            .await,
        tables["aws_ec2_instance"]
    );
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, tables);
    assert_eq!(edge_counts(&peer, "CLOUDTAB._EDGES").await, edges);
    let first = run_id(peer.sql("SELECT id FROM CLOUDTAB._RUNS").await);
    assert_eq!(peer.count("SELECT COUNT(*) FROM CLOUDTAB._RUNS").await, 1);

    // SQS fails everywhere, IAM in one account: their rows stay, with
    // the run that read them; everything else is the new run's.
    let accounts = cloudtab_extract::demo::account_ids(&cloudtab_extract::demo::DemoConfig {
        scale: 4,
        seed: 7,
        fail_scopes: vec![],
    });
    let fail = format!("'*/*/sqs', '{}/global/iam'", accounts[0]);
    let (code, out, err) = sync_with(&peer.config("CLOUDTAB", &demo_source(4, 7, &fail), ""), &[]);
    assert_eq!(code, 3, "{out}\n{err}");
    let second = run_id(peer.sql("SELECT id FROM CLOUDTAB._RUNS").await);
    assert_ne!(first, second);
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, tables);
    assert_eq!(edge_counts(&peer, "CLOUDTAB._EDGES").await, edges);
    assert_eq!(
        peer.count(&format!(
            "SELECT COUNT(*) FROM CLOUDTAB.AWS_SQS_QUEUE WHERE _run_id <> '{first}'"
        ))
        .await,
        0
    );
    assert_eq!(
        peer.count(&format!(
            "SELECT COUNT(*) FROM CLOUDTAB.AWS_IAM_USER WHERE account_id = '{}' AND _run_id <> '{first}'",
            accounts[0]
        ))
        .await,
        0
    );
    assert_eq!(
        peer.count(&format!(
            "SELECT COUNT(*) FROM CLOUDTAB.AWS_EC2_INSTANCE WHERE _run_id <> '{second}'"
        ))
        .await,
        0
    );
    assert_eq!(
        peer.count(
            "SELECT SUM(carried_rows) FROM CLOUDTAB._SCOPES WHERE service = 'sqs' AND status = 'denied'"
        )
        .await,
        tables["aws_sqs_queue"]
    );
    // Carried tags are still VARIANT objects.
    assert_eq!(
        peer.count(
            "SELECT COUNT(*) FROM CLOUDTAB.AWS_SQS_QUEUE WHERE tags:owner::string IS NOT NULL"
        )
        .await,
        peer.count(
            "SELECT COUNT(*) FROM CLOUDTAB.AWS_SQS_QUEUE WHERE CAST(tags AS VARCHAR) LIKE '%\"owner\"%'"
        )
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_mode_appends_runs_and_latest_views_show_the_snapshot() {
    let peer = Peer::start().await;
    let history = "    mode: history\n";
    let (code, out, err) = sync_with(&peer.config("HIST", &demo_source(2, 42, ""), history), &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = sync_with(
        &peer.config("HIST", &demo_source(2, 42, "'*/*/sqs'"), history),
        &[],
    );
    assert_eq!(code, 3, "{out}\n{err}");
    let (tables, edges) = demo(2, 42);
    assert_eq!(table_counts(&peer, "HIST", "_LATEST").await, tables);
    assert_eq!(edge_counts(&peer, "HIST._EDGES_LATEST").await, edges);
    let doubled: BTreeMap<String, u64> = tables.iter().map(|(k, v)| (k.clone(), v * 2)).collect();
    assert_eq!(table_counts(&peer, "HIST", "").await, doubled);
    assert_eq!(peer.count("SELECT COUNT(*) FROM HIST._RUNS").await, 2);
    assert_eq!(
        peer.count("SELECT COUNT(*) FROM HIST._RUNS_LATEST").await,
        1
    );
    assert_eq!(
        peer.count("SELECT COUNT(*) FROM HIST._CLOUDTAB_SNAPSHOTS")
            .await,
        2
    );
    // The carried queues belong to the second snapshot but keep the run
    // that read them.
    assert_eq!(
        peer.count(
            "SELECT COUNT(*) FROM HIST.AWS_SQS_QUEUE_LATEST q WHERE q._run_id <> q._snapshot_run_id"
        )
        .await,
        tables["aws_sqs_queue"]
    );
    // A snapshot-mode run into the history schema is refused (exit 2).
    let (code, _, err) = sync_with(&peer.config("HIST", &demo_source(2, 42, ""), ""), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("history mode"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_tables_fail_with_exit_2_unless_forced_and_new_columns_are_added() {
    let peer = Peer::start().await;
    let config = peer.config("CLOUDTAB", &demo_source(1, 42, ""), "");
    assert_eq!(sync_with(&config, &[]).0, 0);
    peer.sql("ALTER TABLE CLOUDTAB.AWS_SQS_QUEUE ADD COLUMN LEGACY NUMBER(38,0)")
        .await;
    let (code, _, err) = sync_with(&config, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("AWS_SQS_QUEUE") && err.contains("LEGACY") && err.contains("--migrate=force"),
        "{err}"
    );
    // A column cloudtab knows but the table lacks comes back by itself.
    peer.sql("ALTER TABLE CLOUDTAB.AWS_SQS_QUEUE DROP COLUMN LEGACY")
        .await;
    peer.sql("ALTER TABLE CLOUDTAB.AWS_SQS_QUEUE DROP COLUMN DELAY_SECONDS")
        .await;
    let (code, out, err) = sync_with(&config, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (tables, _) = demo(1, 42);
    assert_eq!(
        peer.count("SELECT COUNT(DELAY_SECONDS) FROM CLOUDTAB.AWS_SQS_QUEUE")
            .await,
        tables["aws_sqs_queue"]
    );
    // A retyped column: exit 2, then --migrate force recreates the table.
    peer.sql("ALTER TABLE CLOUDTAB.AWS_SQS_QUEUE DROP COLUMN DELAY_SECONDS")
        .await;
    peer.sql("ALTER TABLE CLOUDTAB.AWS_SQS_QUEUE ADD COLUMN DELAY_SECONDS VARCHAR")
        .await;
    assert_eq!(sync_with(&config, &[]).0, 2);
    let (code, out, err) = sync_with(&config, &["--migrate", "force"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        run_id(
            peer.sql(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = 'CLOUDTAB' \
                 AND table_name = 'AWS_SQS_QUEUE' AND column_name = 'DELAY_SECONDS'"
            )
            .await
        ),
        "NUMBER"
    );
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, tables);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_holding_the_schema_keeps_others_out_and_a_killed_runs_hold_lapses() {
    let peer = Peer::start().await;
    let config = peer.config(
        "CLOUDTAB",
        &demo_source(1, 42, ""),
        "    lock_wait_secs: 0\n    lease_secs: 6\n",
    );
    assert_eq!(sync_with(&config, &[]).0, 0);
    let before = table_counts(&peer, "CLOUDTAB", "").await;
    // Another run holds the lock for an hour.
    peer.sql(
        "UPDATE CLOUDTAB._CLOUDTAB_LOCK SET holder = 'other', run_id = 'run-elsewhere', host = 'build-7', pid = 4242, \
         expires_at = DATEADD(hour, 1, CURRENT_TIMESTAMP())",
    )
    .await;
    let (code, _, err) = sync_with(&config, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("another cloudtab run")
            && err.contains("run-elsewhere")
            && err.contains("build-7"),
        "{err}"
    );
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, before);
    // It lapses: the next run takes the lock over.
    peer.sql(
        "UPDATE CLOUDTAB._CLOUDTAB_LOCK SET expires_at = DATEADD(second, -1, CURRENT_TIMESTAMP())",
    )
    .await;
    assert_eq!(sync_with(&config, &[]).0, 0);

    // A run killed mid-load (SIGKILL, many small files): the previous
    // snapshot stays whole; the next run waits for the hold to lapse,
    // drops the killed run's staging tables and commits.
    // Small batches and files: the load is hundreds of COPYs, so the kill
    // lands in it, not in the short publishing transaction (an emulator
    // session never ends, so a transaction left open there would hold
    // the tables for ever; see the README on a killed run's transaction).
    let big = peer.config(
        "CLOUDTAB",
        &demo_source(30, 3, ""),
        "    lock_wait_secs: 60\n    lease_secs: 6\n    file_rows: 50\nbatch_rows: 50\n",
    );
    let mut child = cloudtab()
        .arg("sync")
        .arg("--config")
        .arg(&big)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until its staging tables hold rows, then kill it.
    let start = std::time::Instant::now();
    loop {
        let staged = peer
            .sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'CLOUDTAB' \
                 AND STARTSWITH(table_name, '_CLOUDTAB_STAGING_')",
            )
            .await;
        if staged.len() > 5 {
            let mut rows = 0;
            for t in &staged {
                rows += peer
                    .count(&format!(
                        "SELECT COUNT(*) FROM CLOUDTAB.\"{}\"",
                        t[0].as_deref().unwrap()
                    ))
                    .await;
            }
            if rows > 0 {
                break;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        assert!(
            start.elapsed().as_secs() < 120,
            "the run never loaded a file"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, before);
    let (code, out, err) = sync_with(&big, &[]);
    assert_eq!(code, 0, "{out}\n{err}\n{}", peer.server.log());
    assert!(
        err.contains("waiting for it") || out.contains("waiting for it"),
        "{err}"
    );
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, demo(30, 3).0);
    assert_eq!(
        peer.count(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'CLOUDTAB' \
             AND STARTSWITH(table_name, '_CLOUDTAB_STAGING_')"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_sees_the_old_snapshot_or_the_new_one_never_a_mix() {
    let peer = Arc::new(Peer::start().await);
    assert_eq!(
        sync_with(&peer.config("CLOUDTAB", &demo_source(2, 1, ""), ""), &[]).0,
        0
    );
    let pair = "SELECT (SELECT COUNT(*) FROM CLOUDTAB.AWS_EC2_INSTANCE), (SELECT COUNT(*) FROM CLOUDTAB._EDGES), \
                (SELECT COUNT(*) FROM CLOUDTAB.AWS_SQS_QUEUE), (SELECT MIN(id) FROM CLOUDTAB._RUNS)";
    let old = peer.sql(pair).await[0].clone();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (peer, stop) = (peer.clone(), stop.clone());
        tokio::spawn(async move {
            let s = peer.session().await;
            s.query("USE DATABASE INVENTORY", &[]).await.unwrap();
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                seen.push(s.query(pair, &[]).await.unwrap().text()[0].clone());
            }
            seen
        })
    };
    let config = peer.config("CLOUDTAB", &demo_source(6, 2, ""), "    file_rows: 200\n");
    assert_eq!(sync_with(&config, &[]).0, 0);
    stop.store(true, Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let new = peer.sql(pair).await[0].clone();
    assert_ne!(old, new);
    assert!(seen.len() > 5, "the reader read {} times", seen.len());
    for s in &seen {
        assert!(
            *s == old || *s == new,
            "a reader saw {s:?}, neither {old:?} nor {new:?}"
        );
    }
    assert!(seen.contains(&old));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_says_what_is_wrong_before_extraction() {
    let peer = Peer::start().await;
    // A database that does not exist: nothing extracted, the message says
    // what to grant.
    let yaml = format!(
        "sources:\n{DEMO}sinks:\n  - type: snowflake\n    url: \"snowflake://cloudtab@fakesnow/NOPE/CLOUDTAB?host={}\"\n    password_file: {}\n",
        peer.base_url(),
        peer.password_file().display()
    );
    let config = peer.dir.path().join("nope.yaml");
    std::fs::write(&config, yaml).unwrap();
    let (code, _, err) = sync_with(&config, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("GRANT USAGE ON DATABASE \"NOPE\""), "{err}");
    assert!(!err.contains("not-checked-by-the-emulator"), "{err}");
    // No secret configured: exit 2, naming what to set.
    let (code, _, err) = outcome(
        &cloudtab()
            .args(["sync", "--sink", &peer.url("CLOUDTAB")])
            .env_remove("SNOWFLAKE_PASSWORD")
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("SNOWFLAKE_PASSWORD") && err.contains("private_key_file"),
        "{err}"
    );
    // A password on the command line is refused without echoing it.
    let (code, _, err) = outcome(
        &cloudtab()
            .args(["sync", "--sink", "snowflake://u:hunter2@acct/db/s"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// The Snowflake connector's own code (`tests/support/snowflake_crypto_check.py`).
fn crypto_check(args: &[&str]) -> String {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/snowflake_crypto_check.py");
    let o = std::process::Command::new(fakesnow::snowflake_python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "{err}");
    out.trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_put_to_an_s3_stage_decrypt_with_the_python_connectors_own_code() {
    use base64::Engine;
    let moto = moto::Moto::start(&python());
    let conf = moto::sdk_config(&moto.url(), "us-east-1").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket("sfc-stage").send().await.unwrap();
    let dir = TempDir::new().unwrap();
    // A Parquet-sized file whose length is not a multiple of the AES
    // block, and one that is (PKCS#7 then adds a whole block).
    let data: Vec<u8> = (0..300_001u32).map(|i| (i * 7 % 251) as u8).collect();
    for (key_len, body) in [(16usize, &data[..]), (32, &data[..4096])] {
        let master: Vec<u8> = (0..key_len as u8).map(|i| i.wrapping_mul(37)).collect();
        let material = serde_json::json!({
            "queryStageMasterKey": base64::engine::general_purpose::STANDARD.encode(&master),
            "queryId": "01b8f3a2-0000-4e2c-0000-000123456789",
            "smkId": 8215,
        });
        // What Snowflake answers a PUT with when the account's stages are
        // on S3: the stage's bucket and path, short-lived credentials, and
        // the encryption material.
        let put = serde_json::json!({
            "command": "UPLOAD",
            "stageInfo": {
                "locationType": "S3",
                "location": "sfc-stage/stages/4f1e/run/aws_ec2_instance/00001/",
                "region": "us-east-1",
                "endPoint": moto.url(),
                "creds": {"AWS_KEY_ID": "testing", "AWS_SECRET_KEY": "testing", "AWS_TOKEN": "session-token"},
            },
            "encryptionMaterial": material,
        });
        cloudtab_sinks::snowflake::stage::upload(
            &http_client().unwrap(),
            &put,
            "part-00001.parquet",
            bytes::Bytes::copy_from_slice(body),
        )
        .await
        .unwrap();
        let got = s3
            .get_object()
            .bucket("sfc-stage")
            .key("stages/4f1e/run/aws_ec2_instance/00001/part-00001.parquet")
            .send()
            .await
            .unwrap();
        let meta = got.metadata().cloned().unwrap_or_default();
        let cipher = got.body.collect().await.unwrap().into_bytes();
        assert_ne!(&cipher[..], body, "the stage got plaintext");
        assert_eq!(cipher.len() % 16, 0);
        assert_eq!(
            meta["sfc-digest"],
            cloudtab_sinks::snowflake::crypt::digest(body)
        );
        let matdesc: serde_json::Value = serde_json::from_str(&meta["x-amz-matdesc"]).unwrap();
        assert_eq!(matdesc["smkId"], "8215");
        assert_eq!(matdesc["keySize"], (key_len * 8).to_string());
        let metadata = serde_json::json!({
            "key": meta["x-amz-key"],
            "iv": meta["x-amz-iv"],
            "matdesc": meta["x-amz-matdesc"],
        });
        let (src, dst) = (dir.path().join("cipher"), dir.path().join("plain"));
        std::fs::write(&src, &cipher).unwrap();
        crypto_check(&[
            "decrypt",
            &material.to_string(),
            &metadata.to_string(),
            src.to_str().unwrap(),
            dst.to_str().unwrap(),
        ]);
        assert_eq!(std::fs::read(&dst).unwrap(), body, "key of {key_len} bytes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_pair_login_signs_a_jwt_snowflake_verifies() {
    use cloudtab_sinks::snowflake::auth;
    let dir = TempDir::new().unwrap();
    let d = dir.path().to_str().unwrap();
    let fingerprint = crypto_check(&["keys", d, "correct horse"]);
    let pem = std::fs::read_to_string(dir.path().join("key.p8")).unwrap();
    let encrypted = std::fs::read_to_string(dir.path().join("key-encrypted.p8")).unwrap();
    let key = auth::load_key(&pem, None).unwrap();
    assert_eq!(auth::public_key_fingerprint(&key), fingerprint);
    // The encrypted key: the passphrase opens it; none or a wrong one
    // says so.
    let same = auth::load_key(&encrypted, Some("correct horse")).unwrap();
    assert_eq!(auth::public_key_fingerprint(&same), fingerprint);
    assert!(auth::load_key(&encrypted, None)
        .unwrap_err()
        .contains("passphrase"));
    assert!(auth::load_key(&encrypted, Some("wrong"))
        .unwrap_err()
        .contains("wrong passphrase"));

    let now = chrono::Utc::now().timestamp();
    let token = auth::jwt(&key, &fingerprint, "myorg-acct1.eu-west-1", "loader", now).unwrap();
    let claims: serde_json::Value =
        serde_json::from_str(&crypto_check(&["jwt", d, &token, "myorg-acct1", "loader"])).unwrap();
    assert_eq!(claims["sub"], "MYORG-ACCT1.LOADER");
    assert_eq!(claims["iss"], format!("MYORG-ACCT1.LOADER.{fingerprint}"));
    assert_eq!(claims["iat"], now);
    assert!(claims["exp"].as_i64().unwrap() > now);

    // A sync that logs in with the encrypted key (the emulator accepts any
    // login; the JWT itself is checked above).
    let peer = Peer::start().await;
    let yaml = format!(
        "sources:\n{DEMO}sinks:\n  - type: snowflake\n    url: \"{}\"\n    private_key_file: {}\n    private_key_passphrase_env: KEY_PASS\n",
        peer.url("KEYS"),
        dir.path().join("key-encrypted.p8").display()
    );
    let config = dir.path().join("c.yaml");
    std::fs::write(&config, yaml).unwrap();
    let sync_with_passphrase = |passphrase: &str| {
        outcome(
            &cloudtab()
                .args(["sync", "--config", config.to_str().unwrap()])
                .env("KEY_PASS", passphrase)
                .output()
                .unwrap(),
        )
    };
    let (code, out, err) = sync_with_passphrase("correct horse");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("correct horse") && !out.contains("correct horse"));
    let (code, _, err) = sync_with_passphrase("wrong");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("private_key_file") && err.contains("wrong passphrase"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_throttling_and_an_expired_session_are_ridden_out() {
    use fault_proxy::{FaultProxy, Faults};
    let peer = Peer::start().await;
    let renewals = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let queries = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (r, q) = (renewals.clone(), queries.clone());
    // Every 7th statement: HTTP 503, HTTP 429, or Snowflake's "session
    // expired" (390112), in turn. Renewals are answered here (the
    // emulator's tokens never expire), keeping the session token.
    let answer: fault_proxy::Answer = Arc::new(move |_, head: &str, body: &[u8]| {
        let line = head.lines().next().unwrap_or("");
        if line.contains("/session/token-request") {
            r.fetch_add(1, Ordering::SeqCst);
            let old: serde_json::Value = serde_json::from_slice(body).unwrap();
            return Some((
                "200 OK".into(),
                serde_json::json!({"success": true, "data": {"sessionToken": old["oldSessionToken"], "masterToken": "renewed-master"}}).to_string(),
            ));
        }
        if !line.contains("/queries/v1/query-request") || line.contains("retryCount") {
            return None;
        }
        let n = q.fetch_add(1, Ordering::SeqCst) + 1;
        if n % 7 != 0 {
            return None;
        }
        Some(match (n / 7) % 3 {
            0 => ("503 Service Unavailable".into(), "{}".into()),
            1 => ("429 Too Many Requests".into(), "{}".into()),
            _ => (
                "200 OK".into(),
                r#"{"success": false, "code": "390112", "message": "Your session has expired. Please login again.", "data": null}"#.into(),
            ),
        })
    });
    let proxy = FaultProxy::start(
        peer.server.port,
        Faults {
            answer: Some(answer),
            ..Faults::default()
        },
    );
    let yaml = format!(
        "sources:\n{}sinks:\n  - type: snowflake\n    url: \"snowflake://cloudtab@fakesnow/INVENTORY/CLOUDTAB?host={}\"\n    password_file: {}\n",
        demo_source(2, 5, ""),
        proxy.url(),
        peer.password_file().display()
    );
    let config = peer.dir.path().join("faults.yaml");
    std::fs::write(&config, yaml).unwrap();
    let (code, out, err) = sync_with(&config, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(queries.load(Ordering::SeqCst) > 40);
    assert!(renewals.load(Ordering::SeqCst) >= 1);
    let (tables, edges) = demo(2, 5);
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, tables);
    assert_eq!(edge_counts(&peer, "CLOUDTAB._EDGES").await, edges);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_stage_gets_the_files_in_its_bucket_and_they_are_removed() {
    // The emulator cannot read s3:// (README, "Snowflake"), so its COPY
    // from the stage fails: this checks what cloudtab does up to the COPY
    // (files written under `stage_url` with the AWS credential chain, the
    // COPY naming them through the stage) and that a failed run leaves the
    // bucket and the tables as they were.
    let peer = Peer::start().await;
    let moto = moto::Moto::start(&python());
    let conf = moto::sdk_config(&moto.url(), "us-east-1").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("acme-loading")
        .send()
        .await
        .unwrap();
    let config = peer.config("CLOUDTAB", DEMO, "");
    assert_eq!(sync_with(&config, &[]).0, 0);
    let before = table_counts(&peer, "CLOUDTAB", "").await;
    peer.sql("CREATE SCHEMA IF NOT EXISTS LOADING").await;
    peer.sql("CREATE STAGE LOADING.CLOUDTAB_STAGE URL = 's3://acme-loading/cloudtab'")
        .await;
    let external = peer.config(
        "CLOUDTAB",
        DEMO,
        &format!(
            "    stage: '@INVENTORY.LOADING.CLOUDTAB_STAGE'\n    stage_url: s3://acme-loading/cloudtab\n    stage_region: us-east-1\n    stage_endpoint_url: {}\n",
            moto.url()
        ),
    );
    let none = peer.dir.path().join("none");
    std::fs::write(&none, "").unwrap();
    let (code, out, err) = outcome(
        &cloudtab()
            .args(["sync", "--config", external.to_str().unwrap()])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", &none)
            .env("AWS_SHARED_CREDENTIALS_FILE", &none)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap(),
    );
    assert_eq!(code, 1, "{out}\n{err}");
    let log = peer.server.log();
    let copy = log
        .lines()
        .find(|l| {
            l.contains("COPY INTO") && l.contains("@INVENTORY.LOADING.CLOUDTAB_STAGE/cloudtab-")
        })
        .unwrap_or_else(|| panic!("no COPY from the stage in the emulator's log:\n{log}"));
    assert!(
        copy.contains("/part-") || copy.contains("/00001/"),
        "{copy}"
    );
    assert!(err.contains("load a file into the staging table"), "{err}");
    assert_eq!(table_counts(&peer, "CLOUDTAB", "").await, before);
    let left = s3
        .list_objects_v2()
        .bucket("acme-loading")
        .send()
        .await
        .unwrap();
    assert_eq!(left.key_count(), Some(0), "{:?}", left.contents());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_two_scopes_sent_is_stored_once_and_named_in_issues() {
    let peer = Peer::start().await;
    let mut c = SnowflakeSinkConfig::for_url(peer.url("DUP"));
    c.password_file = Some(peer.password_file());
    let sink = SnowflakeSink::build(c).unwrap();
    let session = peer.session().await;
    session.query("USE DATABASE INVENTORY", &[]).await.unwrap();
    let reader = SfReader {
        session,
        schema: "DUP".into(),
    };
    conformance::check_repeated_edges_are_stored_once(&sink, &reader).await;
}
