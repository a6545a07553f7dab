//! `dbt_example/` (issue #15) built with the real dbt (the pinned venv of
//! `scripts/venv-dbt.sh`) on both adapters: DuckDB over a Parquet snapshot
//! and PostgreSQL over the sink's schema. The models' numbers must equal
//! the same questions asked directly with `cloudtab query`, and the
//! PostgreSQL models must survive the next sync's swap.

mod common;
#[path = "support/postgres.rs"]
mod pg;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use pg::PgServer;
use tempfile::TempDir;

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dbt_example")
}

fn dbt_bin() -> PathBuf {
    if let Ok(p) = std::env::var("CLOUDTAB_DBT") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-dbt/bin/dbt");
    assert!(
        p.exists(),
        "no dbt at {}: run ./scripts/test.sh, which installs it",
        p.display()
    );
    p
}

/// `dbt build` of the example on `target`; its own target and log
/// directories under `work`, so runs do not share state.
fn dbt_build(target: &str, work: &Path, vars: &str, env: &[(&str, String)]) {
    let mut c = Command::new(dbt_bin());
    c.arg("build")
        .arg("--project-dir")
        .arg(project())
        .arg("--profiles-dir")
        .arg(project())
        .arg("--target")
        .arg(target)
        .arg("--target-path")
        .arg(work.join(format!("target-{target}")))
        .arg("--log-path")
        .arg(work.join(format!("logs-{target}")))
        .arg("--vars")
        .arg(vars)
        .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        .env("DO_NOT_TRACK", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let (code, out, err) = outcome(&c.output().unwrap());
    assert_eq!(
        code, 0,
        "dbt build --target {target} failed\nstdout:\n{out}\nstderr:\n{err}"
    );
    assert!(out.contains("Completed successfully"), "{out}");
}

/// The model questions, as each adapter's SQL (`{s}`: the models' schema).
const QUESTIONS: &[(&str, &str)] = &[
    ("resources", "select kind as k, count(*) as n from {s}.resources group by kind"),
    ("unowned", "select kind as k, count(*) as n from {s}.resource_owners where unowned group by kind"),
    ("owners", "select owner as k, count(*) as n from {s}.resource_owners where owner is not null group by owner"),
    ("expired", "select kind as k, count(*) as n from {s}.expired_resources group by kind"),
    ("unreadable", "select expires_raw as k, count(*) as n from {s}.unreadable_expiry group by expires_raw"),
    ("age", "select age_bucket as k, sum(resources) as n from {s}.resource_age group by age_bucket"),
    ("unattached", "select region as k, count(*) as n from {s}.unattached_volumes group by region"),
    ("stopped", "select instance_id as k, count(*) as n from {s}.stopped_instances_with_volumes group by instance_id"),
    ("public", "select region as k, count(*) as n from {s}.public_buckets group by region"),
    ("unencrypted", "select region as k, count(*) as n from {s}.unencrypted_volumes group by region"),
    ("radius_depth1", "select root_kind as k, count(*) as n from {s}.blast_radius where depth = 1 group by root_kind"),
    ("radius", "select member_kind as k, count(*) as n from {s}.blast_radius group by member_kind"),
    ("scopes", "select service || ':' || status as k, count(*) as n from {s}.scope_health group by service, status"),
];

/// The same questions asked directly of the snapshot with `cloudtab
/// query` (DataFusion), written from the question, not from the models.
fn direct(data: &Path) -> BTreeMap<&'static str, BTreeMap<String, u64>> {
    let is_date = "(tag(tags, 'expires') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND try_cast(tag(tags, 'expires') AS DATE) IS NOT NULL)";
    let age = "CASE WHEN ctime IS NULL THEN 'unknown' \
        WHEN ctime > now() - INTERVAL '30 days' THEN '0-30 days' \
        WHEN ctime > now() - INTERVAL '90 days' THEN '30-90 days' \
        WHEN ctime > now() - INTERVAL '365 days' THEN '90-365 days' ELSE 'over 1 year' END";
    let owner = "nullif(lower(trim(tag(tags, 'owner'))), '')";
    let off =
        |k: &str| format!("coalesce(json_get(public_access_block, '{k}'), 'false') <> 'true'");
    let queries: Vec<(&str, String)> = vec![
        ("resources", "SELECT kind AS k, count(*) AS n FROM _resources GROUP BY kind".into()),
        ("unowned", format!("SELECT kind AS k, count(*) AS n FROM _resources WHERE {owner} IS NULL GROUP BY kind")),
        ("owners", format!("SELECT {owner} AS k, count(*) AS n FROM _resources WHERE {owner} IS NOT NULL GROUP BY 1")),
        ("expired", format!("SELECT kind AS k, count(*) AS n FROM _resources WHERE {is_date} AND try_cast(tag(tags, 'expires') AS DATE) < current_date() GROUP BY kind")),
        ("unreadable", format!("SELECT tag(tags, 'expires') AS k, count(*) AS n FROM _resources WHERE tag(tags, 'expires') IS NOT NULL AND NOT {is_date} GROUP BY 1")),
        ("age", format!("SELECT {age} AS k, count(*) AS n FROM _resources GROUP BY 1")),
        ("unattached", "SELECT region AS k, count(*) AS n FROM aws_ec2_volume WHERE state = 'available' GROUP BY region".into()),
        ("stopped", "SELECT i.id AS k, count(*) AS n FROM aws_ec2_instance i \
            JOIN (SELECT from_id AS a, to_id AS b FROM _edges UNION SELECT to_id, from_id FROM _edges) e ON e.a = i._id \
            JOIN aws_ec2_volume v ON v._id = e.b WHERE i.state = 'stopped' GROUP BY i.id".into()),
        ("public", format!("SELECT region AS k, count(*) AS n FROM aws_s3_bucket WHERE public_access_block IS NULL OR {} OR {} OR {} OR {} GROUP BY region",
            off("BlockPublicAcls"), off("IgnorePublicAcls"), off("BlockPublicPolicy"), off("RestrictPublicBuckets"))),
        ("unencrypted", "SELECT region AS k, count(*) AS n FROM aws_ec2_volume WHERE NOT coalesce(encrypted, false) GROUP BY region".into()),
        ("radius_depth1", "SELECT from_kind AS k, count(*) AS n FROM \
            (SELECT DISTINCT from_id, from_kind, to_id FROM _edges WHERE edge_type = 'delete' AND from_id <> to_id) GROUP BY from_kind".into()),
        ("scopes", "SELECT service || ':' || status AS k, count(*) AS n FROM _scopes WHERE status <> 'ok' GROUP BY service, status".into()),
    ];
    queries
        .into_iter()
        .map(|(name, sql)| (name, grouped(data, &sql)))
        .collect()
}

/// The models' answers on DuckDB (the dbt venv's own duckdb module).
fn duckdb_answers(db: &Path) -> BTreeMap<&'static str, BTreeMap<String, u64>> {
    let python = dbt_bin().with_file_name("python");
    let script = "import duckdb, json, sys\n\
        con = duckdb.connect(sys.argv[1], read_only=True)\n\
        out = {}\n\
        for name, sql in json.loads(sys.argv[2]):\n\
        \x20   out[name] = {str(k): int(n) for k, n in con.execute(sql).fetchall()}\n\
        print(json.dumps(out))\n";
    let questions: Vec<(&str, String)> = QUESTIONS
        .iter()
        .map(|(n, q)| (*n, q.replace("{s}", "main")))
        .collect();
    let o = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(db)
        .arg(serde_json::to_string(&questions).unwrap())
        .output()
        .unwrap();
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "{err}");
    let parsed: BTreeMap<String, BTreeMap<String, u64>> = serde_json::from_str(&out).unwrap();
    QUESTIONS
        .iter()
        .map(|(n, _)| (*n, parsed[*n].clone()))
        .collect()
}

/// The models' answers on PostgreSQL.
fn postgres_answers(server: &PgServer) -> BTreeMap<&'static str, BTreeMap<String, u64>> {
    QUESTIONS
        .iter()
        .map(|(n, q)| {
            (
                *n,
                pg::pairs(&server.psql(&q.replace("{s}", "cloudtab_models"))),
            )
        })
        .collect()
}

/// Checks the models' answers against the direct ones; `radius` (the
/// transitive closure) is compared between adapters by the caller.
fn assert_same(
    what: &str,
    models: &BTreeMap<&'static str, BTreeMap<String, u64>>,
    direct: &BTreeMap<&'static str, BTreeMap<String, u64>>,
) {
    for (name, expected) in direct {
        assert_eq!(&models[name], expected, "{what}: `{name}`");
    }
}

/// The demo with some scopes failing in its second run, so that the newest
/// snapshot carries rows forward (and scope_health has something to show).
fn configs(dir: &Path) -> (PathBuf, PathBuf) {
    let ok = dir.join("ok.yaml");
    std::fs::write(&ok, "sources:\n  - type: demo\n    scale: 2\n    seed: 7\n").unwrap();
    let failing = dir.join("failing.yaml");
    std::fs::write(
        &failing,
        "sources:\n  - type: demo\n    scale: 2\n    seed: 7\n    fail_scopes: ['*/eu-west-1/sqs', '*/us-east-1/ec2']\n",
    )
    .unwrap();
    (ok, failing)
}

#[test]
fn the_models_answer_like_direct_queries_on_duckdb_and_postgres() {
    let dir = TempDir::new().unwrap();
    let (ok, failing) = configs(dir.path());
    let data = dir.path().join("data");
    let sink = data.to_str().unwrap();
    // Two runs: the newest snapshot carries failed scopes' rows forward, and
    // the older run's files are still under the root.
    sync(&data, &["--config", ok.to_str().unwrap()], 0);
    sync(&data, &["--config", failing.to_str().unwrap()], 3);
    let expected = direct(&data);
    assert!(expected["unowned"].values().sum::<u64>() > 0);
    assert!(expected["expired"].values().sum::<u64>() > 0);
    assert!(expected["unreadable"].values().sum::<u64>() > 0);
    assert!(expected["stopped"].values().sum::<u64>() > 0);
    assert!(expected["scopes"].values().sum::<u64>() > 0);

    // DuckDB over the Parquet snapshot.
    let db = dir.path().join("models.duckdb");
    let vars = format!("{{cloudtab_data: '{sink}'}}");
    dbt_build(
        "duckdb",
        dir.path(),
        &vars,
        &[("CLOUDTAB_DUCKDB", db.display().to_string())],
    );
    let duck = duckdb_answers(&db);
    assert_same("duckdb", &duck, &expected);

    // PostgreSQL: the same two runs into the sink's schema.
    let server = PgServer::start();
    let url = server.url();
    let pg_env = [
        ("PGHOST", "127.0.0.1".to_string()),
        ("PGPORT", server.port().to_string()),
        ("PGUSER", "postgres".to_string()),
        ("PGDATABASE", "postgres".to_string()),
    ];
    let pg_sync = |config: &Path, code: i32| {
        let (got, out, err) = outcome(&run(&[
            "sync",
            "--progress",
            "never",
            "--config",
            config.to_str().unwrap(),
            "--sink",
            &url,
        ]));
        assert_eq!(got, code, "stdout:\n{out}\nstderr:\n{err}");
    };
    pg_sync(&ok, 0);
    dbt_build("postgres", dir.path(), "{}", &pg_env);
    pg_sync(&failing, 3);
    // The views survived the swap and read the new snapshot, unrebuilt.
    let pg = postgres_answers(&server);
    assert_same("postgres after the second sync", &pg, &expected);
    assert_eq!(
        pg["radius"], duck["radius"],
        "blast radius differs between adapters"
    );
    // And the project still builds (models and tests) on the new snapshot.
    dbt_build("postgres", dir.path(), "{}", &pg_env);
    assert_same("postgres rebuilt", &postgres_answers(&server), &expected);
}

#[test]
fn the_resource_table_list_matches_the_model() {
    let macros = std::fs::read_to_string(project().join("macros/cloudtab.sql")).unwrap();
    let start = macros.find("macro resource_tables()").unwrap();
    let listed: Vec<&str> = macros[start..]
        .lines()
        .filter_map(|l| l.trim().strip_prefix('\'')?.strip_suffix("',"))
        .collect();
    let registry = cloudtab_schema::Registry::builtin();
    let model: Vec<&str> = registry.resource_tables().map(|t| t.name).collect();
    assert_eq!(
        listed, model,
        "update resource_tables() in dbt_example/macros/cloudtab.sql"
    );
}

#[test]
fn sources_yml_is_the_schema_commands_output() {
    let (code, out, err) = outcome(&run(&["schema", "--format", "dbt"]));
    assert_eq!(code, 0, "{err}");
    let file = std::fs::read_to_string(project().join("models/sources.yml")).unwrap();
    assert!(
        file == out,
        "dbt_example/models/sources.yml is out of date: run `cloudtab schema --format dbt > dbt_example/models/sources.yml`"
    );
}
