//! The Snowflake DDL `cloudtab schema --format snowflake` prints (the sink
//! creates the same tables), applied to the Snowflake emulator (fakesnow in
//! server mode, from `scripts/venv-snowflake.sh`) through Snowflake's own
//! Python connector: every table is created with the planned types, and a
//! row's VARIANT tags answer `tags:owner::string`.

mod common;
#[path = "support/fakesnow.rs"]
mod fakesnow;

use std::path::Path;
use std::process::Command;

use common::*;
use fakesnow::{snowflake_python, Fakesnow};
use tempfile::TempDir;

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
