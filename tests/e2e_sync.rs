//! End-to-end tests of `cloudtab sync` and `cloudtab query` on the demo
//! cloud, with the real binary and real files.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cloudtab_extract::demo::DemoConfig;
use cloudtab_schema::{ColumnType, Registry};
use common::*;
use tempfile::TempDir;

fn table_counts(dir: &std::path::Path) -> BTreeMap<String, u64> {
    grouped(
        dir,
        "SELECT kind AS k, count(*) AS n FROM _resources GROUP BY kind",
    )
}

fn expected(scale: u64, seed: u64) -> (BTreeMap<String, u64>, BTreeMap<String, u64>, u64) {
    demo_counts(scale, seed)
}

#[test]
fn sync_then_query_sees_exactly_the_demo_inventory() {
    let dir = TempDir::new().unwrap();
    sync(dir.path(), &["--scale", "3", "--seed", "11"], 0);
    let (tables, edges, scopes) = expected(3, 11);
    assert_eq!(table_counts(dir.path()), tables);
    for t in tables.keys() {
        assert_eq!(
            count(dir.path(), &format!("SELECT count(*) AS n FROM {t}")),
            tables[t],
            "{t}"
        );
        assert_eq!(
            count(
                dir.path(),
                &format!("SELECT count(DISTINCT _id) AS n FROM {t}")
            ),
            tables[t],
            "{t}: _id unique"
        );
    }
    let got_edges = grouped(
        dir.path(),
        "SELECT edge_type AS k, count(*) AS n FROM _edges GROUP BY edge_type",
    );
    assert_eq!(got_edges, edges);
    // Every edge end is a resource of the snapshot, and of the kind it says.
    assert_eq!(
        count(dir.path(), "SELECT count(*) AS n FROM _edges e LEFT JOIN _resources r ON r._id = e.to_id AND r.kind = e.to_kind WHERE r._id IS NULL"),
        0
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) AS n FROM _scopes WHERE status = 'ok'"
        ),
        scopes
    );
    let runs = query(
        dir.path(),
        "SELECT id, status, resources, scopes_failed FROM _runs",
    );
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "ok");
    assert_eq!(
        runs[0]["resources"].as_u64().unwrap(),
        tables.values().sum::<u64>()
    );
    // One run id and one sync time on every row.
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(DISTINCT _run_id) + count(DISTINCT _synced_at) AS n FROM _resources"
        ),
        2
    );
    assert_eq!(count(dir.path(), "SELECT count(*) AS n FROM _resources r JOIN _runs u ON r._run_id = u.id AND r._synced_at = u.started_at"), tables.values().sum::<u64>());
    // JSON null is SQL NULL, never the string 'null', in any JSON column.
    for t in Registry::builtin()
        .resource_tables()
        .filter(|t| tables.contains_key(t.name))
    {
        for c in t.columns.iter().filter(|c| c.ty == ColumnType::Json) {
            let n = count(
                dir.path(),
                &format!(
                    "SELECT count(*) AS n FROM {} WHERE {} = 'null'",
                    t.name, c.name
                ),
            );
            assert_eq!(n, 0, "{}.{} holds 'null' strings", t.name, c.name);
        }
    }
    // Unreadable timestamps became NULL plus an _issues row each.
    let issues = count(dir.path(), "SELECT count(*) AS n FROM _issues");
    let nulls = count(dir.path(), "SELECT count(*) AS n FROM _issues i JOIN aws_ec2_snapshot s ON s._id = i.resource_id WHERE i.column_name = 'ctime' AND s.ctime IS NULL");
    assert_eq!(issues, nulls);
}

#[test]
fn timestamps_arrive_in_utc_to_the_microsecond() {
    let dir = TempDir::new().unwrap();
    sync(dir.path(), &["--scale", "1", "--seed", "5"], 0);
    // SQS epoch seconds: ctime is whole seconds; snapshots keep microseconds.
    assert_eq!(count(dir.path(), "SELECT count(*) AS n FROM aws_sqs_queue WHERE ctime IS NULL OR date_part('microsecond', ctime) % 1000000 <> 0"), 0);
    assert!(count(dir.path(), "SELECT count(*) AS n FROM aws_ec2_snapshot WHERE date_part('microsecond', ctime) % 1000 <> 0") > 0);
    // Offsets were converted: no instance launched in the future.
    assert_eq!(count(dir.path(), "SELECT count(*) AS n FROM aws_ec2_instance WHERE ctime > TIMESTAMP '2026-11-01T00:00:00Z'"), 0);
    let rows = query(
        dir.path(),
        "SELECT arrow_typeof(ctime) AS t FROM aws_ec2_instance LIMIT 1",
    );
    assert_eq!(rows[0]["t"], "Timestamp(µs, \"UTC\")");
}

#[test]
fn a_second_run_makes_a_new_snapshot_and_query_sees_only_it() {
    let dir = TempDir::new().unwrap();
    sync(dir.path(), &["--scale", "2", "--seed", "1"], 0);
    let first = query(dir.path(), "SELECT id FROM _runs")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    sync(
        dir.path(),
        &["--scale", "1", "--seed", "2", "--keep-runs", "1"],
        0,
    );
    let second = query(dir.path(), "SELECT id FROM _runs")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second);
    assert_eq!(table_counts(dir.path()), expected(1, 2).0);
    let ids = query(
        dir.path(),
        "SELECT DISTINCT _run_id FROM _resources UNION SELECT DISTINCT _run_id FROM _edges",
    );
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0]["_run_id"], second.as_str());
    // --keep-runs 1 removed the first run's files and manifest.
    let manifests: Vec<_> = std::fs::read_dir(dir.path().join("_manifests"))
        .unwrap()
        .collect();
    assert_eq!(manifests.len(), 1);
    let first_files = walk(dir.path())
        .into_iter()
        .filter(|p| p.contains(&first))
        .count();
    assert_eq!(first_files, 0);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn a_killed_run_is_ignored_and_the_next_run_succeeds() {
    let dir = TempDir::new().unwrap();
    sync(dir.path(), &["--scale", "1", "--seed", "3"], 0);
    let before = table_counts(dir.path());
    let first = query(dir.path(), "SELECT id FROM _runs")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A large run, killed with SIGKILL once it has started writing files.
    let mut child = cloudtab()
        .args([
            "sync",
            "--progress",
            "never",
            "--scale",
            "3000",
            "--sink",
            dir.path().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed = loop {
        let foreign = walk(dir.path())
            .into_iter()
            .any(|p| p.contains("run_id=") && !p.contains(&first));
        if foreign {
            child.kill().unwrap();
            break true;
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    child.wait().unwrap();
    assert!(
        killed,
        "the run finished before it could be killed; raise its scale"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("_manifests"))
            .unwrap()
            .count(),
        1,
        "no manifest for the killed run"
    );

    // Readers still see the previous snapshot, whole.
    assert_eq!(table_counts(dir.path()), before);
    assert_eq!(
        query(dir.path(), "SELECT id FROM _runs")[0]["id"],
        first.as_str()
    );

    // The next run succeeds and cleans the leftovers up.
    sync(
        dir.path(),
        &["--scale", "1", "--seed", "4", "--keep-runs", "1"],
        0,
    );
    assert_eq!(table_counts(dir.path()), expected(1, 4).0);
    let runs: std::collections::BTreeSet<String> = walk(dir.path())
        .iter()
        .filter_map(|p| {
            p.split("run_id=")
                .nth(1)
                .map(|r| r.split('/').next().unwrap_or("").to_string())
        })
        .collect();
    assert_eq!(runs.len(), 1, "leftovers remain: {runs:?}");
}

#[test]
fn failed_scopes_give_exit_code_3_and_are_recorded() {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("cloudtab.yaml");
    std::fs::write(
        &config,
        "sources:\n  - type: demo\n    scale: 2\n    fail_scopes: ['*/*/sqs']\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = sync(&data, &["--config", config.to_str().unwrap()], 3);
    assert!(
        out.contains("partial") && out.contains("/sqs denied"),
        "{out}"
    );
    assert!(count(&data, "SELECT count(*) AS n FROM _scopes WHERE service = 'sqs' AND status = 'denied' AND error LIKE '%AccessDenied%'") > 0);
    assert_eq!(
        count(
            &data,
            "SELECT count(*) AS n FROM _scopes WHERE service <> 'sqs' AND status <> 'ok'"
        ),
        0
    );
    assert_eq!(
        query(&data, "SELECT status FROM _runs")[0]["status"],
        "partial"
    );
    assert_eq!(count(&data, "SELECT count(*) AS n FROM aws_sqs_queue"), 0);
    assert!(count(&data, "SELECT count(*) AS n FROM aws_ec2_instance") > 0);
}

#[test]
fn bad_flags_and_config_exit_2_naming_the_problem() {
    let dir = TempDir::new().unwrap();
    let bad = |args: &[&str], needle: &str| {
        let (code, _, err) = outcome(&run(args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in\n{err}"
        );
    };
    bad(&["sync", "--no-such-flag"], "--no-such-flag");
    bad(&["sync", "--scale", "lots"], "--scale");
    bad(
        &[
            "sync",
            "--scale",
            "0",
            "--sink",
            dir.path().to_str().unwrap(),
        ],
        "scale",
    );
    bad(&["sync", "--source", "gcp"], "[possible values: demo, aws]");
    bad(&["sync", "--sink", "gs://bucket/x"], "gs://");
    bad(&["sync", "--sink", "s3://Not_A_Bucket/x"], "bucket name");
    bad(
        &["sync", "--config", "/no/such/file.yaml"],
        "/no/such/file.yaml",
    );
    bad(&["query"], "SQL");
    bad(&["schema", "--format", "xml"], "xml");
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "sources:\n  - type: demo\n    scale: 2\n    colour: blue\n",
    )
    .unwrap();
    bad(&["sync", "--config", cfg.to_str().unwrap()], "colour");
    bad(&["sync", "--config", cfg.to_str().unwrap()], "line 4");
    std::fs::write(&cfg, "sinks:\n  - type: parquet\n    keep_runs: many\n").unwrap();
    bad(&["sync", "--config", cfg.to_str().unwrap()], "keep_runs");
    std::fs::write(&cfg, "max_concurrency: 0\n").unwrap();
    bad(
        &["sync", "--config", cfg.to_str().unwrap()],
        "max_concurrency",
    );
    assert!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .all(|e| e.unwrap().file_name() == "c.yaml"),
        "nothing was written"
    );
}

#[test]
fn query_without_a_snapshot_fails_clearly() {
    let dir = TempDir::new().unwrap();
    let (code, _, err) = outcome(&run(&[
        "query",
        "--data",
        dir.path().to_str().unwrap(),
        "SELECT 1",
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("no committed snapshot") && err.contains("cloudtab sync"),
        "{err}"
    );
    sync(dir.path(), &["--scale", "1"], 0);
    let (code, _, err) = outcome(&run(&[
        "query",
        "--data",
        dir.path().to_str().unwrap(),
        "SELECT nope FROM aws_ec2_instance",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn query_formats_and_json_summary() {
    let dir = TempDir::new().unwrap();
    let (code, out, _) = outcome(&run(&[
        "--log-format",
        "json",
        "sync",
        "--scale",
        "1",
        "--sink",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(summary["status"], "ok");
    assert_eq!(
        summary["resources"].as_u64().unwrap(),
        expected(1, 42).0.values().sum::<u64>()
    );
    let d = dir.path().to_str().unwrap();
    let sql = "SELECT region, count(*) AS n FROM aws_ec2_instance GROUP BY region ORDER BY region";
    let (_, csv, _) = outcome(&run(&["query", "--data", d, "--format", "csv", sql]));
    assert!(csv.starts_with("region,n\n"), "{csv}");
    let (_, table, _) = outcome(&run(&["query", "--data", d, sql]));
    assert!(
        table.contains("| region") && table.contains("+-"),
        "{table}"
    );
    let (_, json, _) = outcome(&run(&[
        "query",
        "--data",
        d,
        "--format",
        "json",
        "SELECT 1 AS x WHERE false",
    ]));
    assert_eq!(json.trim(), "[]");
    // tag() and json_get() read JSON text.
    let rows = query(dir.path(), "SELECT tag('{\"owner\":\"a\",\"n\":null}', 'owner') AS o, tag('{\"n\":null}', 'n') AS n, json_get('[1]', 'x') AS x");
    assert_eq!(rows[0]["o"], "a");
    assert!(rows[0].get("n").is_none_or(|v| v.is_null()));
}

#[test]
fn duckdb_reads_the_parquet_output_with_utc_timestamps() {
    let dir = TempDir::new().unwrap();
    sync(dir.path(), &["--scale", "2", "--seed", "9"], 0);
    let (tables, _, _) = expected(2, 9);
    let script = r#"
import duckdb, glob, json, sys
root = sys.argv[1]
manifest = json.load(open(sorted(glob.glob(root + "/_manifests/*.json"))[-1]))
out = {}
con = duckdb.connect()
for name, t in manifest["tables"].items():
    files = [root + "/" + f["path"] for f in t["files"]]
    rel = con.sql("SELECT * FROM read_parquet(" + repr(files) + ")")
    types = dict(zip(rel.columns, [str(x) for x in rel.types]))
    n = con.sql("SELECT count(*) FROM read_parquet(" + repr(files) + ")").fetchone()[0]
    out[name] = {"rows": n, "types": types}
print(json.dumps(out))
"#;
    let o = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for (t, n) in &tables {
        assert_eq!(got[t]["rows"].as_u64(), Some(*n), "{t}");
        for col in ["_synced_at", "ctime", "mtime", "atime"] {
            assert_eq!(
                got[t]["types"][col], "TIMESTAMP WITH TIME ZONE",
                "{t}.{col}"
            );
        }
    }
    assert_eq!(
        got["_runs"]["types"]["started_at"],
        "TIMESTAMP WITH TIME ZONE"
    );
    assert_eq!(got["aws_ec2_volume"]["types"]["size_bytes"], "BIGINT");
}

fn edge_counts(dir: &std::path::Path) -> BTreeMap<String, u64> {
    grouped(
        dir,
        "SELECT to_kind || '/' || edge_type AS k, count(*) AS n FROM _edges GROUP BY 1",
    )
}

#[test]
fn failed_scopes_keep_their_rows_and_edges_from_the_previous_snapshot() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    sync(&data, &["--scale", "30", "--seed", "5"], 0);
    let first = query(&data, "SELECT id FROM _runs")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tables = table_counts(&data);
    let edges = edge_counts(&data);
    let accounts = cloudtab_extract::demo::account_ids(&DemoConfig {
        scale: 30,
        seed: 5,
        fail_scopes: vec![],
    });
    assert!(accounts.len() >= 2);

    // The same inventory again, but SQS fails everywhere and IAM (a global
    // service) fails in one account.
    let config = dir.path().join("c.yaml");
    std::fs::write(
        &config,
        format!("sources:\n  - type: demo\n    scale: 30\n    seed: 5\n    fail_scopes: ['*/*/sqs', '{}/global/iam']\n", accounts[0]),
    )
    .unwrap();
    sync(&data, &["--config", config.to_str().unwrap()], 3);
    let second = query(&data, "SELECT id FROM _runs")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second);

    // Nothing was lost and nothing doubled: the snapshot equals the first.
    assert_eq!(table_counts(&data), tables);
    assert_eq!(edge_counts(&data), edges);
    assert_eq!(
        count(
            &data,
            "SELECT count(*) AS n FROM (SELECT DISTINCT from_id, to_id, edge_type FROM _edges)"
        ),
        edges.values().sum::<u64>()
    );
    // Carried rows keep the run that read them; the rest is new.
    assert_eq!(
        count(
            &data,
            &format!("SELECT count(*) AS n FROM aws_sqs_queue WHERE _run_id <> '{first}'")
        ),
        0
    );
    let iam_old = count(
        &data,
        &format!("SELECT count(*) AS n FROM aws_iam_user WHERE _run_id = '{first}'"),
    );
    assert_eq!(
        iam_old,
        count(
            &data,
            &format!(
                "SELECT count(*) AS n FROM aws_iam_user WHERE account_id = '{}'",
                accounts[0]
            )
        )
    );
    assert!(
        count(
            &data,
            &format!("SELECT count(*) AS n FROM aws_iam_user WHERE _run_id = '{second}'")
        ) > 0
    );
    assert_eq!(
        count(
            &data,
            &format!("SELECT count(*) AS n FROM aws_ec2_instance WHERE _run_id <> '{second}'")
        ),
        0
    );
    // _scopes says so.
    assert_eq!(
        count(&data, "SELECT sum(carried_rows) AS n FROM _scopes WHERE service = 'sqs' AND status = 'denied'"),
        tables["aws_sqs_queue"]
    );
    assert_eq!(
        count(
            &data,
            "SELECT count(*) AS n FROM _scopes WHERE status = 'ok' AND carried_rows <> 0"
        ),
        0
    );

    // A third run that succeeds replaces everything.
    sync(&data, &["--scale", "30", "--seed", "5"], 0);
    let third = query(&data, "SELECT id FROM _runs")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        count(
            &data,
            &format!("SELECT count(*) AS n FROM _resources WHERE _run_id <> '{third}'")
        ),
        0
    );
    assert_eq!(table_counts(&data), tables);
}

#[test]
fn paths_with_spaces_and_unicode_work() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("my data ü");
    sync(&data, &["--scale", "1"], 0);
    assert_eq!(count(&data, "SELECT count(*) AS n FROM _runs"), 1);
    let url = format!("file://{}", data.display());
    let o = run(&[
        "query",
        "--data",
        &url,
        "--format",
        "csv",
        "SELECT count(*) AS n FROM aws_account",
    ]);
    assert_eq!(outcome(&o).1, "n\n1\n");
}
