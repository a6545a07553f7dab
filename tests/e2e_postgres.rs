//! End-to-end tests of `cloudtab sync` into a real PostgreSQL server,
//! started from `initdb` for each test (see `tests/support/postgres.rs`).

mod common;
#[path = "support/postgres.rs"]
mod pg;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cloudtab_extract::demo::DemoConfig;
use common::*;
use pg::{pairs, PgOptions, PgServer};
use tempfile::TempDir;

fn pg_sync(server: &PgServer, extra: &[&str], code: i32) -> (String, String) {
    let url = server.url();
    let mut args = vec!["sync", "--progress", "never", "--sink", &url];
    args.extend_from_slice(extra);
    let (got, out, err) = outcome(&run(&args));
    assert_eq!(got, code, "sync {extra:?}\nstdout:\n{out}\nstderr:\n{err}");
    (out, err)
}

/// Rows per table and edges per type of the demo; every AWS table is
/// there (the demo declares them all), empty where it makes no such kind.
fn demo(scale: u64, seed: u64) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let (mut tables, edges, _) = demo_counts(scale, seed);
    for t in cloudtab_schema::Registry::builtin().resource_tables() {
        tables.entry(t.name.to_string()).or_insert(0);
    }
    (tables, edges)
}

fn table_counts(server: &PgServer, schema: &str, suffix: &str) -> BTreeMap<String, u64> {
    let tables = server.psql(&format!(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = '{schema}' AND c.relname LIKE 'aws\\_%' AND c.relkind IN ('p', 'r') \
           AND NOT c.relispartition AND c.relname NOT LIKE '%\\_\\_%'"
    ));
    let union: Vec<String> = tables
        .lines()
        .map(|t| format!("SELECT '{t}', count(*) FROM {schema}.\"{t}{suffix}\""))
        .collect();
    pairs(&server.psql(&union.join(" UNION ALL ")))
}

fn edge_counts(server: &PgServer, table: &str) -> BTreeMap<String, u64> {
    pairs(&server.psql(&format!(
        "SELECT edge_type, count(*) FROM {table} GROUP BY 1"
    )))
}

#[test]
fn demo_sync_lands_exactly_and_matches_the_parquet_snapshot() {
    let server = PgServer::start();
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    // One run, two sinks: the same snapshot into Parquet and PostgreSQL.
    let config = dir.path().join("c.yaml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  - type: demo\n    scale: 4\n    seed: 9\nsinks:\n  - type: parquet\n    url: '{}'\n  - type: postgres\n    url: '{}'\n",
            data.display(),
            server.url()
        ),
    )
    .unwrap();
    let (code, out, err) = outcome(&run(&[
        "sync",
        "--progress",
        "never",
        "--config",
        config.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    let (tables, edges) = demo(4, 9);
    assert_eq!(table_counts(&server, "cloudtab", ""), tables);
    assert_eq!(edge_counts(&server, "cloudtab._edges"), edges);
    // Every timestamp is the same instant, to the microsecond, as in Parquet.
    for (table, col) in [
        ("aws_ec2_instance", "ctime"),
        ("aws_ec2_snapshot", "ctime"),
        ("aws_sqs_queue", "mtime"),
        ("aws_iam_user", "atime"),
    ] {
        let pg_sum = server.psql(&format!(
            "SELECT coalesce(sum(extract(epoch FROM {col}) * 1000000), 0)::numeric(40,0) FROM cloudtab.{table}"
        ));
        let pq = query(
            &data,
            &format!("SELECT CAST(coalesce(sum(CAST(CAST({col} AS BIGINT) AS DECIMAL(38,0))), 0) AS VARCHAR) AS s FROM {table}"),
        );
        assert_eq!(pq[0]["s"].as_str().unwrap(), pg_sum, "{table}.{col}");
    }
    // The tables users query are partitioned tables with their keys.
    assert_eq!(
        server
            .psql("SELECT relkind FROM pg_class WHERE oid = 'cloudtab.aws_ec2_instance'::regclass"),
        "p"
    );
    let pk = server.psql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = 'cloudtab.aws_ec2_instance'::regclass AND contype = 'p'",
    );
    assert_eq!(pk, "PRIMARY KEY (_id)");
    // Column types as documented.
    assert_eq!(
        server.psql(
            "SELECT string_agg(DISTINCT data_type, ',' ORDER BY data_type) FROM information_schema.columns \
             WHERE table_schema = 'cloudtab' AND table_name = 'aws_ec2_volume'"
        ),
        "bigint,boolean,jsonb,text,timestamp with time zone"
    );
    // JSON null is SQL NULL, never a JSON null value.
    assert_eq!(
        server.psql(
            "SELECT count(*) FROM cloudtab.aws_ec2_instance WHERE jsonb_typeof(tags) = 'null'"
        ),
        "0"
    );
    // One run, in `_runs` and in every row.
    assert_eq!(server.psql("SELECT count(*) FROM cloudtab._runs"), "1");
    assert_eq!(
        server.psql("SELECT count(DISTINCT _run_id) FROM cloudtab.aws_ec2_instance"),
        "1"
    );
    // `_edges` ends resolve.
    assert_eq!(
        server.psql(
            "SELECT count(*) FROM cloudtab._edges e WHERE e.to_kind = 'aws_ec2_volume' \
             AND NOT EXISTS (SELECT 1 FROM cloudtab.aws_ec2_volume v WHERE v._id = e.to_id)"
        ),
        "0"
    );
}

#[test]
fn views_keep_working_and_a_concurrent_reader_never_sees_an_empty_table() {
    let server = PgServer::start();
    pg_sync(&server, &["--scale", "2"], 0);
    let (small, _) = demo(2, 42);
    let (large, _) = demo(3, 42);
    assert_ne!(small["aws_ec2_instance"], large["aws_ec2_instance"]);
    // A user's view and a dbt-style chain of views.
    server.psql(
        "CREATE VIEW public.my_instances AS SELECT _id, name, tags FROM cloudtab.aws_ec2_instance; \
         CREATE VIEW public.stg_instances AS SELECT _id, tags->>'owner' AS owner FROM public.my_instances; \
         CREATE VIEW public.mart_owners AS SELECT count(*) AS n FROM public.stg_instances;",
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let psql = server.psql_bin();
        let port = server.port().to_string();
        std::thread::spawn(move || {
            // One session reading in a loop, as a dashboard would.
            let mut child = std::process::Command::new(psql)
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "-X",
                    "-q",
                    "-A",
                    "-t",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            use std::io::{BufRead, Write};
            let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                writeln!(
                    stdin,
                    "SELECT (SELECT count(*) FROM cloudtab.aws_ec2_instance) || ',' || (SELECT n FROM public.mart_owners);"
                )
                .unwrap();
                let line = lines.next().unwrap().unwrap();
                seen.push(line);
            }
            drop(stdin);
            let _ = child.wait();
            seen
        })
    };
    for scale in ["3", "2", "3"] {
        pg_sync(&server, &["--scale", scale], 0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = reader.join().unwrap();
    let ok = [
        format!("{0},{0}", small["aws_ec2_instance"]),
        format!("{0},{0}", large["aws_ec2_instance"]),
    ];
    assert!(
        seen.len() > 20,
        "the reader ran during the syncs: {}",
        seen.len()
    );
    for s in &seen {
        assert!(ok.contains(s), "reader saw {s}; only {ok:?} are snapshots");
    }
    assert!(seen.contains(&ok[0]) && seen.contains(&ok[1]));
    assert_eq!(
        server.psql("SELECT n FROM public.mart_owners"),
        large["aws_ec2_instance"].to_string()
    );
}

/// Starts a demo sync of `scale` into `server` in the background.
fn spawn_sync(server: &PgServer, scale: &str) -> std::process::Child {
    cloudtab()
        .args([
            "sync",
            "--progress",
            "never",
            "--scale",
            scale,
            "--sink",
            &server.url(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Backend pid of the sink's connection once it runs a COPY.
fn copying_backend(server: &PgServer, within: Duration) -> Option<String> {
    let start = Instant::now();
    while start.elapsed() < within {
        let pid = server.psql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'cloudtab' AND query LIKE 'COPY%' LIMIT 1",
        );
        if !pid.is_empty() {
            return Some(pid);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn objects_in_schema(server: &PgServer) -> String {
    server.psql(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'cloudtab'",
    )
}

#[test]
fn a_backend_terminated_mid_copy_leaves_the_previous_snapshot() {
    let server = PgServer::start();
    pg_sync(&server, &["--scale", "2"], 0);
    let before = table_counts(&server, "cloudtab", "");
    let objects = objects_in_schema(&server);
    let child = spawn_sync(&server, "60");
    let pid = copying_backend(&server, Duration::from_secs(60)).expect("the sync starts a COPY");
    assert_eq!(
        server.psql(&format!("SELECT pg_terminate_backend({pid})")),
        "t"
    );
    let out = child.wait_with_output().unwrap();
    let (code, stdout, stderr) = outcome(&out);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        (stderr.contains("closed the connection") || stderr.contains("terminating connection"))
            && stderr.contains("previous snapshot stays")
            && stderr.contains("every destination is as it was before"),
        "{stderr}"
    );
    // The previous snapshot is whole, and nothing was left behind.
    assert_eq!(table_counts(&server, "cloudtab", ""), before);
    assert_eq!(objects_in_schema(&server), objects);
    // The next run succeeds.
    pg_sync(&server, &["--scale", "3"], 0);
    assert_eq!(table_counts(&server, "cloudtab", ""), demo(3, 42).0);
    assert_eq!(objects_in_schema(&server), objects);
}

#[test]
fn failed_scopes_keep_their_rows_and_say_so() {
    let server = PgServer::start();
    let dir = TempDir::new().unwrap();
    pg_sync(&server, &["--scale", "30", "--seed", "5"], 0);
    let first = server.psql("SELECT id FROM cloudtab._runs");
    let tables = table_counts(&server, "cloudtab", "");
    let edges = edge_counts(&server, "cloudtab._edges");
    let accounts = cloudtab_extract::demo::account_ids(&DemoConfig {
        scale: 30,
        seed: 5,
        fail_scopes: vec![],
    });
    let config = dir.path().join("c.yaml");
    std::fs::write(
        &config,
        format!("sources:\n  - type: demo\n    scale: 30\n    seed: 5\n    fail_scopes: ['*/*/sqs', '{}/global/iam']\n", accounts[0]),
    )
    .unwrap();
    pg_sync(&server, &["--config", config.to_str().unwrap()], 3);
    let second = server.psql("SELECT id FROM cloudtab._runs");
    assert_ne!(first, second);
    assert_eq!(table_counts(&server, "cloudtab", ""), tables);
    assert_eq!(edge_counts(&server, "cloudtab._edges"), edges);
    assert_eq!(
        server.psql(&format!(
            "SELECT count(*) FROM cloudtab.aws_sqs_queue WHERE _run_id <> '{first}'"
        )),
        "0"
    );
    assert_eq!(
        server.psql(&format!(
            "SELECT count(*) = (SELECT count(*) FROM cloudtab.aws_iam_user WHERE account_id = '{}') \
             FROM cloudtab.aws_iam_user WHERE _run_id = '{first}'",
            accounts[0]
        )),
        "t"
    );
    assert_eq!(
        server.psql(
            "SELECT sum(carried_rows) FROM cloudtab._scopes WHERE service = 'sqs' AND status = 'denied'"
        ),
        tables["aws_sqs_queue"].to_string()
    );
    // A scope that succeeds with nothing empties: the next full run
    // replaces everything.
    pg_sync(&server, &["--scale", "30", "--seed", "5"], 0);
    let third = server.psql("SELECT id FROM cloudtab._runs");
    assert_eq!(
        server.psql(&format!(
            "SELECT count(*) FROM cloudtab.aws_sqs_queue WHERE _run_id <> '{third}'"
        )),
        "0"
    );
}

#[test]
fn history_mode_appends_runs_and_latest_views_show_the_snapshot() {
    let server = PgServer::start();
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("c.yaml");
    let write = |fail: &str| {
        std::fs::write(
            &config,
            format!(
                "sources:\n  - type: demo\n    scale: 2\n    fail_scopes: [{fail}]\nsinks:\n  - type: postgres\n    url: '{}'\n    schema: inventory\n    mode: history\n",
                server.url()
            ),
        )
        .unwrap();
    };
    let sync_config = |code: i32| {
        let (got, out, err) = outcome(&run(&[
            "sync",
            "--progress",
            "never",
            "--config",
            config.to_str().unwrap(),
        ]));
        assert_eq!(got, code, "{out}\n{err}");
    };
    write("");
    sync_config(0);
    write("'*/*/sqs'");
    sync_config(3);
    let (tables, edges) = demo(2, 42);
    assert_eq!(table_counts(&server, "inventory", "_latest"), tables);
    assert_eq!(edge_counts(&server, "inventory._edges_latest"), edges);
    let doubled: BTreeMap<String, u64> = tables.iter().map(|(k, v)| (k.clone(), v * 2)).collect();
    assert_eq!(table_counts(&server, "inventory", ""), doubled);
    assert_eq!(server.psql("SELECT count(*) FROM inventory._runs"), "2");
    assert_eq!(
        server.psql("SELECT count(*) FROM inventory._runs_latest"),
        "1"
    );
    // The carried queues belong to the second snapshot but keep the run
    // that read them.
    assert_eq!(
        server.psql(
            "SELECT count(*) FROM inventory.aws_sqs_queue_latest q \
             WHERE q._run_id <> q._snapshot_run_id"
        ),
        tables["aws_sqs_queue"].to_string()
    );
}

#[test]
fn changed_tables_fail_with_exit_2_unless_forced() {
    let server = PgServer::start();
    pg_sync(&server, &["--scale", "1"], 0);
    server.psql("ALTER TABLE cloudtab.aws_sqs_queue ADD COLUMN legacy integer");
    let (_, err) = pg_sync(&server, &["--scale", "1"], 2);
    assert!(
        err.contains("aws_sqs_queue") && err.contains("legacy") && err.contains("--migrate=force"),
        "{err}"
    );
    // A column cloudtab knows but the table lacks comes back by itself.
    server.psql("ALTER TABLE cloudtab.aws_sqs_queue DROP COLUMN legacy");
    server.psql("ALTER TABLE cloudtab.aws_sqs_queue DROP COLUMN delay_seconds");
    pg_sync(&server, &["--scale", "1"], 0);
    assert_eq!(
        server.psql(
            "SELECT count(*) > 0 AND count(*) = count(delay_seconds) FROM cloudtab.aws_sqs_queue"
        ),
        "t"
    );
    server.psql("ALTER TABLE cloudtab.aws_sqs_queue ALTER COLUMN delay_seconds TYPE text");
    pg_sync(&server, &["--scale", "1"], 2);
    pg_sync(&server, &["--scale", "1", "--migrate", "force"], 0);
    assert_eq!(
        server.psql(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = 'cloudtab' \
             AND table_name = 'aws_sqs_queue' AND column_name = 'delay_seconds'"
        ),
        "bigint"
    );
}

#[test]
fn a_second_concurrent_run_fails_clearly_and_never_interleaves() {
    let server = PgServer::start();
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("c.yaml");
    std::fs::write(
        &config,
        format!(
            "sinks:\n  - type: postgres\n    url: '{}'\n    lock_wait_secs: 0\n",
            server.url()
        ),
    )
    .unwrap();
    let first = spawn_sync(&server, "40");
    copying_backend(&server, Duration::from_secs(60)).expect("the first run is loading");
    let (code, out, err) = outcome(&run(&[
        "sync",
        "--progress",
        "never",
        "--scale",
        "1",
        "--config",
        config.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("another cloudtab run is writing to schema"),
        "{err}"
    );
    let (code, out, err) = outcome(&first.wait_with_output().unwrap());
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(table_counts(&server, "cloudtab", ""), demo(40, 42).0);
}

#[test]
fn passwords_never_reach_output_or_tables() {
    let secret = "Pa55-w0rd-S3cret";
    let server = PgServer::start_with(PgOptions {
        password_user: Some(("loader".into(), secret.into())),
        ..Default::default()
    });
    let url = format!(
        "postgres://loader:{secret}@127.0.0.1:{}/postgres?sslmode=disable",
        server.port()
    );
    let (code, out, err) = outcome(&run(&[
        "--log-format",
        "json",
        "sync",
        "--progress",
        "never",
        "--scale",
        "1",
        "--sink",
        &url,
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !out.contains(secret) && !err.contains(secret),
        "{out}\n{err}"
    );
    assert_eq!(
        server.psql(&format!(
            "SELECT count(*) FROM cloudtab._runs WHERE options::text LIKE '%{secret}%'"
        )),
        "0"
    );
    assert!(server
        .psql("SELECT options FROM cloudtab._runs")
        .contains("loader:***@"));
    // From the environment, and a wrong one.
    let env_url = format!(
        "postgres://loader@127.0.0.1:{}/postgres?sslmode=disable",
        server.port()
    );
    let o = cloudtab()
        .args([
            "sync",
            "--progress",
            "never",
            "--scale",
            "1",
            "--sink",
            &env_url,
        ])
        .env("PGPASSWORD", secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{:?}", outcome(&o));
    let o = cloudtab()
        .args([
            "sync",
            "--progress",
            "never",
            "--scale",
            "1",
            "--sink",
            &env_url,
        ])
        .env("PGPASSWORD", "WrongWrong")
        .output()
        .unwrap();
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 1);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(
        !err.contains("WrongWrong") && !out.contains("WrongWrong"),
        "{err}"
    );
}

#[test]
fn the_printed_ddl_is_what_the_sink_uses() {
    let server = PgServer::start();
    let (code, ddl, err) = outcome(&run(&[
        "schema",
        "--format",
        "postgres",
        "--pg-schema",
        "printed",
    ]));
    assert_eq!(code, 0, "{err}");
    server.psql(&ddl);
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("c.yaml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  - type: demo\n    scale: 1\nsinks:\n  - type: postgres\n    url: '{}'\n    schema: printed\n",
            server.url()
        ),
    )
    .unwrap();
    let (code, out, err) = outcome(&run(&[
        "sync",
        "--progress",
        "never",
        "--config",
        config.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    // Tables the DDL created that the demo does not fill stay empty.
    assert_eq!(table_counts(&server, "printed", ""), demo(1, 42).0);
}

#[test]
fn bad_postgres_settings_exit_2_before_anything_happens() {
    let dir = TempDir::new().unwrap();
    for (yaml, want) in [
        (
            "sinks:\n  - type: postgres\n    url: 'postgres://h/db'\n    sslmode: bogus\n",
            "sinks[0].sslmode",
        ),
        (
            "sinks:\n  - type: postgres\n    url: 'postgres://h/db?sslmode=verify-full'\n",
            "sslrootcert",
        ),
        (
            "sinks:\n  - type: postgres\n    url: 'postgres://h/db'\n    mode: sometimes\n",
            "sinks[0].mode",
        ),
        (
            "sinks:\n  - type: postgres\n    schema: x\n",
            "missing field `url`",
        ),
    ] {
        let config = dir.path().join("c.yaml");
        std::fs::write(&config, yaml).unwrap();
        let (code, _, err) = outcome(&run(&["sync", "--config", config.to_str().unwrap()]));
        assert_eq!(code, 2, "{yaml}: {err}");
        assert!(err.contains(want), "{yaml}: {err}");
    }
    let (code, _, err) = outcome(&run(&[
        "sync",
        "--sink",
        "postgres://h/db",
        "--keep-runs",
        "2",
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("--keep-runs applies to parquet sinks only"),
        "{err}"
    );
    let (code, _, err) = outcome(&run(&["sync", "--migrate", "force"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("--migrate applies to postgres and snowflake sinks only"),
        "{err}"
    );
}

#[test]
fn a_sink_whose_commit_fails_does_not_strand_the_others() {
    // Issue #12: with several sinks, one failing commit does not drop the
    // other transactions; the summary says which sinks committed.
    use std::io::Write;
    let server = PgServer::start();
    pg_sync(&server, &["--scale", "1"], 0);
    let before = server.psql("SELECT id FROM cloudtab._runs");
    // A reader idle in a transaction on a table: the swap cannot take it.
    let mut blocker = std::process::Command::new(server.psql_bin())
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-U", "postgres", "-d", "postgres", "-X", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = blocker.stdin.take().unwrap();
    stdin
        .write_all(
            b"SET application_name = 'blocker'; BEGIN; SELECT count(*) FROM cloudtab._runs;\n",
        )
        .unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'blocker' AND state = 'idle in transaction'") != "1" {
        assert!(Instant::now() < deadline, "the blocker never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        format!(
            "sinks:\n  - type: postgres\n    url: '{}'\n    swap_wait_secs: 1\n  - type: parquet\n    url: '{}'\n",
            server.url(),
            data.display()
        ),
    )
    .unwrap();
    let (code, out, err) = outcome(&run(&[
        "--log-format",
        "json",
        "sync",
        "--progress",
        "never",
        "--config",
        cfg.to_str().unwrap(),
    ]));
    drop(stdin);
    let _ = blocker.kill();
    let _ = blocker.wait();
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(summary["status"], "failed");
    let failed = summary["failed_sinks"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{summary}");
    assert!(
        failed[0]["sink"].as_str().unwrap().starts_with("postgres"),
        "{summary}"
    );
    assert!(
        failed[0]["error"].as_str().unwrap().contains("blocker"),
        "{summary}"
    );
    let commits = summary["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 1, "{summary}");
    assert!(
        commits[0]["sink"].as_str().unwrap().starts_with("parquet"),
        "{summary}"
    );
    // The Parquet sink committed a whole snapshot, PostgreSQL kept its own.
    assert_eq!(count(&data, "SELECT count(*) AS n FROM _runs"), 1);
    assert_eq!(server.psql("SELECT id FROM cloudtab._runs"), before);
}
