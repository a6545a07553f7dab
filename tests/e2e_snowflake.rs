//! The Snowflake sink end to end, against the Snowflake emulator (fakesnow
//! in server mode, `scripts/venv-snowflake.sh`): `cloudtab sync` into it,
//! read back through cloudtab's own Snowflake client.

mod common;
#[path = "support/fakesnow.rs"]
mod fakesnow;

use std::path::{Path, PathBuf};
use std::sync::Arc;

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

const DEMO: &str = "  - type: demo\n    scale: 2\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_sync_lands_with_the_demos_counts() {
    let peer = Peer::start().await;
    let config = peer.config("CLOUDTAB", DEMO, "");
    let (code, out, err) = sync_with(&config, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let n = peer
        .count("SELECT COUNT(*) FROM CLOUDTAB.AWS_EC2_INSTANCE")
        .await;
    assert!(n > 0);
}
