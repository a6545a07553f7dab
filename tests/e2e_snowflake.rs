//! The Snowflake sink end to end, against the Snowflake emulator (fakesnow
//! in server mode, `scripts/venv-snowflake.sh`): `cloudtab sync` into it,
//! read back through cloudtab's own Snowflake client.

mod common;
#[path = "support/fakesnow.rs"]
mod fakesnow;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
        self.sql(sql).await[0][0]
            .as_deref()
            .unwrap()
            .parse()
            .unwrap()
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
                r[1].as_deref().unwrap_or("0").parse().unwrap(),
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
