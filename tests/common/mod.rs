//! Helpers shared by the end-to-end tests: run the binary, query a
//! snapshot, find the test venv's Python.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `cloudtab` binary under test.
pub fn cloudtab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cloudtab"));
    c.env("CLOUDTAB_LOG", "warn");
    c
}

/// Runs `cloudtab args…`; returns the output.
pub fn run(args: &[&str]) -> Output {
    cloudtab().args(args).output().expect("cloudtab runs")
}

/// Exit code, stdout and stderr as text.
pub fn outcome(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs a sync into `dir` and asserts it exits with `code`.
pub fn sync(dir: &Path, extra: &[&str], code: i32) -> String {
    let mut args = vec![
        "sync",
        "--progress",
        "never",
        "--sink",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (got, out, err) = outcome(&run(&args));
    assert_eq!(got, code, "sync {extra:?}\nstdout:\n{out}\nstderr:\n{err}");
    out
}

/// Runs SQL against the snapshot in `dir`; rows as JSON objects.
pub fn query(dir: &Path, sql: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let o = run(&[
        "query",
        "--data",
        dir.to_str().unwrap(),
        "--format",
        "json",
        sql,
    ]);
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "query {sql}\nstderr:\n{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("bad JSON from query {sql}: {e}\n{out}"));
    rows.into_iter()
        .map(|r| r.as_object().cloned().unwrap_or_default())
        .collect()
}

/// A single integer from a query like `SELECT count(*) AS n …`.
pub fn count(dir: &Path, sql: &str) -> u64 {
    let rows = query(dir, sql);
    assert_eq!(rows.len(), 1, "{sql}");
    rows[0]
        .values()
        .next()
        .and_then(|v| v.as_u64())
        .unwrap_or_else(|| panic!("no integer from {sql}: {rows:?}"))
}

/// Python of the project's test venv (set up by `scripts/test.sh`).
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("CLOUDTAB_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.exists(),
        "no test venv at {}: run ./scripts/test.sh, which creates it",
        p.display()
    );
    p
}

/// Counts from a query whose columns are `k` (text) and `n` (integer).
pub fn grouped(dir: &Path, sql: &str) -> std::collections::BTreeMap<String, u64> {
    query(dir, sql)
        .into_iter()
        .map(|r| {
            (
                r["k"].as_str().unwrap_or_default().to_string(),
                r["n"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// What the demo cloud of `scale` and `seed` holds: rows per table, edges
/// per type, scopes.
pub fn demo_counts(
    scale: u64,
    seed: u64,
) -> (
    std::collections::BTreeMap<String, u64>,
    std::collections::BTreeMap<String, u64>,
    u64,
) {
    let c = cloudtab_extract::demo::counts(&cloudtab_extract::demo::DemoConfig {
        scale,
        seed,
        fail_scopes: vec![],
    });
    (
        c.tables.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        c.edges.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        c.scopes,
    )
}

/// Writes `yaml` to `c.yaml` in `dir`; returns its path.
pub fn config_file(dir: &Path, yaml: &str) -> PathBuf {
    let path = dir.join("c.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}
