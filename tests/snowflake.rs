//! The Snowflake sink's first piece (issue #16): the DDL `cloudtab schema
//! --format snowflake` prints, applied to the Snowflake emulator (fakesnow
//! in server mode, from `scripts/venv-snowflake.sh`) through Snowflake's own
//! Python connector: every table is created with the planned types, and a
//! row's VARIANT tags answer `tags:owner::string`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tempfile::TempDir;

fn snowflake_python() -> PathBuf {
    if let Ok(p) = std::env::var("CLOUDTAB_SNOWFLAKE_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-snowflake/bin/python");
    assert!(
        p.exists(),
        "no Snowflake emulator venv at {}: run ./scripts/test.sh, which makes it",
        p.display()
    );
    p
}

/// fakesnow's server on a free 127.0.0.1 port; killed on drop.
struct Fakesnow {
    child: Child,
    port: u16,
}

impl Fakesnow {
    fn start() -> Fakesnow {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(snowflake_python().with_file_name("fakesnow"))
            .args(["-s", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fakesnow (run ./scripts/test.sh, which installs it)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("fakesnow exited with {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "fakesnow did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Fakesnow { child, port }
    }
}

impl Drop for Fakesnow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_snowflake_ddl_creates_typed_tables_whose_tags_are_queryable() {
    let (code, ddl, err) = outcome(&run(&["schema", "--format", "snowflake"]));
    assert_eq!(code, 0, "{err}");
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("ddl.sql");
    std::fs::write(&file, &ddl).unwrap();
    let server = Fakesnow::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/snowflake_ddl_check.py");
    let o = Command::new(snowflake_python())
        .arg(script)
        .arg(server.port.to_string())
        .arg(&file)
        .output()
        .unwrap();
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "the emulator refused the DDL or the row:\n{err}");
    let got: serde_json::Value = serde_json::from_str(&out).unwrap();

    let registry = cloudtab_schema::Registry::builtin();
    assert_eq!(got["tables"], registry.tables().len());
    let instance = registry.get("aws_ec2_instance").unwrap();
    for c in &instance.columns {
        let want = match c.ty.snowflake_name() {
            "VARCHAR" => "TEXT",
            "NUMBER(38,0)" => "NUMBER",
            "TIMESTAMP_TZ(6)" => "TIMESTAMP_TZ",
            other => other,
        };
        assert_eq!(got["types"][c.name.to_uppercase()], want, "{}", c.name);
    }
    assert_eq!(got["owner"], "dan.o'neil@example.com");
    assert_eq!(got["ctime"], "2026-01-02T03:04:05.123456+00:00");
    assert_eq!(got["core_count"], 4);
    assert_eq!(got["ebs_optimized"], true);
}
