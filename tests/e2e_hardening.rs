//! Hardening (issue #12) with the real binary: `query` only reads, and
//! follows manifests only inside their root, past a damaged one.

mod common;

use common::*;
use tempfile::TempDir;

#[test]
fn query_refuses_ddl_dml_and_copy_to() {
    let dir = TempDir::new().unwrap();
    sync(dir.path(), &["--scale", "1"], 0);
    let d = dir.path().to_str().unwrap();
    let out = dir.path().join("stolen.csv");
    let copy = format!("COPY (SELECT * FROM _runs) TO '{}'", out.display());
    for sql in [
        "CREATE TABLE t AS SELECT 1",
        "DROP TABLE _runs",
        "CREATE VIEW v AS SELECT 1",
        "INSERT INTO _runs SELECT * FROM _runs",
        copy.as_str(),
        "SET datafusion.execution.batch_size = 1",
    ] {
        let (code, _, err) = outcome(&run(&["query", "--data", d, sql]));
        assert_eq!(code, 2, "{sql}: {err}");
        assert!(err.contains("only reads the snapshot"), "{sql}: {err}");
    }
    assert!(!out.exists(), "COPY TO wrote a file");
    // Reading still works, EXPLAIN and WITH included.
    assert_eq!(
        count(
            dir.path(),
            "WITH r AS (SELECT * FROM _runs) SELECT count(*) AS n FROM r"
        ),
        1
    );
    let (code, _, err) = outcome(&run(&["query", "--data", d, "EXPLAIN SELECT * FROM _runs"]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_manifest_pointing_outside_its_root_is_refused() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    sync(&data, &["--scale", "1"], 0);
    let manifest_dir = data.join("_manifests");
    let manifest = std::fs::read_dir(&manifest_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap();
    // A secret file beside the root, which a tampered manifest names.
    std::fs::write(dir.path().join("secret.parquet"), b"not for you").unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&text).unwrap();
    for bad in [
        "../secret.parquet".to_string(),
        dir.path().join("secret.parquet").display().to_string(),
        "_runs/../../secret.parquet".to_string(),
    ] {
        m["tables"]["_runs"]["files"][0]["path"] = serde_json::json!(bad);
        std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
        let (code, _, err) = outcome(&run(&[
            "query",
            "--data",
            data.to_str().unwrap(),
            "SELECT count(*) FROM _runs",
        ]));
        assert_eq!(code, 1, "{bad}: {err}");
        assert!(
            err.contains("refusing to follow it") && err.contains("_runs"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_damaged_newest_manifest_falls_back_to_the_run_before_it() {
    let dir = TempDir::new().unwrap();
    let runs = || {
        let mut ids: Vec<String> = std::fs::read_dir(dir.path().join("_manifests"))
            .unwrap()
            .filter_map(|e| {
                e.unwrap()
                    .file_name()
                    .to_str()?
                    .strip_suffix(".json")
                    .map(str::to_string)
            })
            .collect();
        ids.sort();
        ids
    };
    sync(dir.path(), &["--scale", "1"], 0);
    sync(dir.path(), &["--scale", "1"], 0);
    let ids = runs();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let newest = dir.path().join(format!("_manifests/{}.json", ids[1]));
    std::fs::write(&newest, b"{ truncated").unwrap();
    let d = dir.path().to_str().unwrap();
    let sql = "SELECT DISTINCT _run_id AS r FROM aws_account";
    let (code, out, err) = outcome(&run(&["query", "--data", d, "--format", "csv", sql]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("r\n{}", ids[0]), "{err}");
    assert!(
        err.contains("is not valid") && err.contains(&ids[1]),
        "{err}"
    );
    // The next sync carries from, and keeps, what it can read.
    sync(dir.path(), &["--scale", "1"], 0);
    assert_eq!(runs().len(), 3);
}

#[test]
fn rows_of_a_scope_that_keeps_failing_age_out_after_carry_max_age() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    sync(&data, &["--scale", "1"], 0);
    let queues = count(&data, "SELECT count(*) AS n FROM aws_sqs_queue");
    assert!(queues > 0);
    let cfg = dir.path().join("c.yaml");
    let write = |age: &str| {
        std::fs::write(
            &cfg,
            format!(
                "sources:\n  - type: demo\n    fail_scopes: ['*/*/sqs']\ncarry_max_age: {age}\n"
            ),
        )
        .unwrap();
    };
    // Within the limit: carried, nothing dropped.
    write("7d");
    sync(&data, &["--config", cfg.to_str().unwrap()], 3);
    assert_eq!(
        count(&data, "SELECT count(*) AS n FROM aws_sqs_queue"),
        queues
    );
    assert_eq!(
        count(&data, "SELECT sum(carried_dropped) AS n FROM _scopes"),
        0
    );
    // Past it: the queues (read by the first run) are dropped and counted.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    write("2s");
    sync(&data, &["--config", cfg.to_str().unwrap()], 3);
    assert_eq!(count(&data, "SELECT count(*) AS n FROM aws_sqs_queue"), 0);
    assert_eq!(
        count(
            &data,
            "SELECT sum(carried_dropped) AS n FROM _scopes WHERE service = 'sqs'"
        ),
        queues
    );
    let errors = query(
        &data,
        "SELECT error FROM _scopes WHERE service = 'sqs' AND carried_dropped > 0",
    );
    assert!(
        errors
            .iter()
            .all(|r| r["error"].as_str().unwrap().contains("carry_max_age 2s")),
        "{errors:?}"
    );
    // No edge points at a dropped queue.
    assert_eq!(
        count(&data, "SELECT count(*) AS n FROM _edges WHERE to_kind = 'aws_sqs_queue' OR from_kind = 'aws_sqs_queue'"),
        0
    );
    let (code, _, err) = outcome(&run(&[
        "sync",
        "--config",
        cfg.to_str().unwrap(),
        "--sink",
        data.to_str().unwrap(),
    ]));
    assert_eq!(code, 3, "{err}");
    write("soon");
    let (code, _, err) = outcome(&run(&[
        "sync",
        "--config",
        cfg.to_str().unwrap(),
        "--sink",
        data.to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("carry_max_age") && err.contains("line 4"),
        "{err}"
    );
}

#[test]
fn the_same_account_configured_twice_is_refused_before_extraction() {
    let dir = TempDir::new().unwrap();
    let cfg = config_file(
        dir.path(),
        "sources:\n  - type: demo\n    seed: 5\n  - type: demo\n    seed: 5\n",
    );
    let data = dir.path().join("data");
    let (code, out, err) = outcome(&run(&[
        "sync",
        "--config",
        cfg.to_str().unwrap(),
        "--sink",
        data.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("configured twice") && err.contains("account"),
        "{err}"
    );
    assert!(
        !data.join("_manifests").exists()
            || std::fs::read_dir(data.join("_manifests"))
                .unwrap()
                .next()
                .is_none()
    );
}
