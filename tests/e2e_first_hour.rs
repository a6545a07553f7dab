//! What a new user meets in the first hour (issue #17), and signal
//! handling (issue #12, item 2): the real binary against real directories.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tempfile::TempDir;

/// Every file under `dir`, as paths relative to it.
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// A large demo sync into `dir`, in the background.
fn big_sync(dir: &Path, extra: &[&str]) -> Child {
    let mut args = vec![
        "sync",
        "--progress",
        "never",
        "--scale",
        "3000",
        "--sink",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cloudtab()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `child` has written a file of a run other than `first`
/// into `dir`; false if it finished (or took two minutes) first.
fn wait_for_foreign_files(child: &mut Child, dir: &Path, first: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if files(dir)
            .iter()
            .any(|p| p.contains("run_id=") && !p.contains(first))
        {
            return true;
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn first_run(dir: &Path) -> String {
    query(dir, "SELECT id FROM _runs")[0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn sigint_and_sigterm_before_commit_abort_and_leave_the_root_as_it_was() {
    for (name, code, status) in [("INT", 130, "interrupted"), ("TERM", 143, "terminated")] {
        let dir = TempDir::new().unwrap();
        sync(dir.path(), &["--scale", "1", "--seed", "3"], 0);
        let first = first_run(dir.path());
        let before = files(dir.path());

        let mut child = big_sync(dir.path(), &["--log-format", "json"]);
        assert!(
            wait_for_foreign_files(&mut child, dir.path(), &first),
            "the run finished before the signal; raise its scale"
        );
        signal(&child, name);
        let out = child.wait_with_output().unwrap();
        let (got, stdout, stderr) = outcome(&out);
        assert_eq!(got, code, "SIG{name}\nstderr:\n{stderr}");

        // Nothing of the aborted run is left: no part files, no staging
        // (`part-00000.parquet#1`) files, no manifest.
        assert_eq!(files(dir.path()), before, "SIG{name}: the root changed");
        assert_eq!(first_run(dir.path()), first);

        // The JSON summary says what happened; stderr is JSON lines only.
        let summary: serde_json::Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}"));
        assert_eq!(summary["status"], status, "{summary}");
        assert_eq!(summary["exit_code"], code);
        assert!(summary["run_id"].as_str().is_some_and(|r| r != first));
        assert!(
            summary["error"]
                .as_str()
                .unwrap()
                .contains("nothing was committed"),
            "{summary}"
        );
        for line in stderr.lines() {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_ok(),
                "not JSON on stderr: {line}"
            );
        }
        assert!(stderr.contains(&format!("SIG{name}")), "{stderr}");
    }
}

#[test]
fn a_killed_runs_leftovers_are_removed_by_the_next_run() {
    let dir = TempDir::new().unwrap();
    sync(dir.path(), &["--scale", "1", "--seed", "3"], 0);
    let first = first_run(dir.path());

    let mut child = big_sync(dir.path(), &[]);
    assert!(wait_for_foreign_files(&mut child, dir.path(), &first));
    child.kill().unwrap();
    child.wait().unwrap();
    let killed: BTreeSet<String> = files(dir.path())
        .into_iter()
        .filter(|p| p.contains("run_id=") && !p.contains(&first))
        .collect();
    assert!(!killed.is_empty());

    // No keep_runs: the next run removes the leftovers because it holds the
    // root's lock (so the killed run is provably not live) and no manifest
    // names them; both committed runs stay whole.
    sync(dir.path(), &["--scale", "1", "--seed", "4"], 0);
    let after = files(dir.path());
    assert!(
        after
            .iter()
            .all(|p| !killed.contains(p) && !p.contains('#')),
        "leftovers remain: {:?}",
        after.intersection(&killed).collect::<Vec<_>>()
    );
    let manifests: Vec<&String> = after
        .iter()
        .filter(|p| p.starts_with("_manifests/"))
        .collect();
    assert_eq!(manifests.len(), 2, "{manifests:?}");
    assert!(
        after.iter().any(|p| p.contains(&first)),
        "the first run is kept"
    );
    assert_eq!(
        count(dir.path(), "SELECT count(*) AS n FROM _resources"),
        demo_counts(1, 4).0.values().sum::<u64>()
    );
}

#[test]
fn a_second_run_on_the_same_root_waits_then_fails_naming_the_holder() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Another process's run holds the root (as a live `cloudtab sync` does).
    let mut lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data.join("_lock"))
        .unwrap();
    lock.lock().unwrap();
    use std::io::Write;
    writeln!(
        lock,
        r#"{{"run_id":"20261201T000000.000Z-0000abcd","host":"elsewhere","pid":4242,"since":"2026-12-01T00:00:00Z"}}"#
    )
    .unwrap();
    let config = dir.path().join("c.yaml");
    std::fs::write(
        &config,
        format!(
            "sinks:\n  - type: parquet\n    url: {}\n    lock_wait_secs: 1\n",
            data.display()
        ),
    )
    .unwrap();
    let t = Instant::now();
    let (code, _, err) = outcome(&run(&[
        "sync",
        "--progress",
        "never",
        "--config",
        config.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("another run is writing")
            && err.contains("20261201T000000.000Z-0000abcd")
            && err.contains("elsewhere")
            && err.contains("lock_wait_secs"),
        "{err}"
    );
    assert!(t.elapsed() >= Duration::from_secs(1), "it waited");
    assert!(!data.join("_manifests").exists() || files(&data.join("_manifests")).is_empty());

    // Once the holder is gone, the same command succeeds.
    drop(lock);
    let (code, _, err) = outcome(&run(&[
        "sync",
        "--progress",
        "never",
        "--config",
        config.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn json_logs_keep_stderr_pure_json_even_for_errors_before_the_run() {
    let dir = TempDir::new().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "sinks: []\n").unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--log-format", "json", "sync", "--no-such-flag"],
        vec!["--log-format=json", "sync", "--scale", "lots"],
        vec!["sync", "--log-format", "json", "--scale", "0"],
        vec![
            "--log-format",
            "json",
            "sync",
            "--config",
            "/no/such/file.yaml",
        ],
        vec![
            "--log-format",
            "json",
            "sync",
            "--config",
            cfg.to_str().unwrap(),
        ],
        vec![
            "--log-format",
            "json",
            "query",
            "--data",
            "/no/such/dir",
            "SELECT 1",
        ],
    ];
    for args in cases {
        let (code, out, err) = outcome(&run(&args));
        assert_ne!(code, 0, "{args:?}");
        assert!(!err.trim().is_empty(), "{args:?}: an error is reported");
        for line in err.lines() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{args:?}: not JSON on stderr ({e}): {line}"));
            assert_eq!(v["level"], "ERROR", "{line}");
            assert_eq!(v["exit_code"], code, "{line}");
        }
        // These never started a run: no summary.
        assert!(out.trim().is_empty(), "{args:?}: {out}");
    }
}

#[test]
fn json_summary_of_a_partial_run_carries_its_exit_code() {
    let dir = TempDir::new().unwrap();
    let cfg = config_file(
        dir.path(),
        "sources:\n  - type: demo\n    fail_scopes: ['*/*/sqs']\n",
    );
    let data = dir.path().join("data");
    let (code, out, err) = outcome(&run(&[
        "--log-format",
        "json",
        "sync",
        "--config",
        cfg.to_str().unwrap(),
        "--sink",
        data.to_str().unwrap(),
    ]));
    assert_eq!(code, 3, "{err}");
    let s: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(s["status"], "partial");
    assert_eq!(s["exit_code"], 3);
    assert!(!s["failed_scopes"].as_array().unwrap().is_empty());
    for line in err.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON on stderr ({e}): {line}"));
    }
}

#[test]
fn query_prints_a_csv_header_for_zero_rows_and_json_nulls() {
    let dir = TempDir::new().unwrap();
    sync(dir.path(), &["--scale", "1"], 0);
    let d = dir.path().to_str().unwrap();
    let (code, csv, err) = outcome(&run(&[
        "query",
        "--data",
        d,
        "--format",
        "csv",
        "SELECT region, count(*) AS n FROM aws_ec2_instance WHERE false GROUP BY region",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(csv, "region,n\n");
    let (_, csv, _) = outcome(&run(&[
        "query",
        "--data",
        d,
        "--format",
        "csv",
        "SELECT 1 AS a UNION ALL SELECT 2",
    ]));
    assert_eq!(
        csv.lines().filter(|l| *l == "a").count(),
        1,
        "one header: {csv}"
    );

    let (code, json, err) = outcome(&run(&[
        "query",
        "--data",
        d,
        "--format",
        "json",
        "SELECT 1 AS a, CAST(NULL AS VARCHAR) AS b",
    ]));
    assert_eq!(code, 0, "{err}");
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows, serde_json::json!([{"a": 1, "b": null}]));
}

#[test]
fn help_lists_every_source_and_sink_and_completions_work() {
    let (code, help, _) = outcome(&run(&["sync", "--help"]));
    assert_eq!(code, 0);
    for needle in ["demo", "aws", "postgres://", "file://", "--config"] {
        assert!(help.contains(needle), "sync --help lacks {needle}:\n{help}");
    }
    let (code, _, err) = outcome(&run(&["sync", "--source", "gcp"]));
    assert_eq!(code, 2);
    assert!(err.contains("demo") && err.contains("aws"), "{err}");
    for shell in ["bash", "zsh", "fish"] {
        let (code, script, err) = outcome(&run(&["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(
            script.contains("cloudtab") && script.contains("sync") && script.contains("sink"),
            "{shell}"
        );
    }
}
