//! Parquet on S3 (issue #14) with the real binary against the S3 API of
//! the AWS emulator (moto on 127.0.0.1; buckets created with aws-sdk-s3):
//! round trip, replacement, `keep_runs`, other readers (pyarrow's own S3
//! filesystem), one writer per root (lease, takeover, concurrent syncs),
//! SIGKILL mid-upload, injected throttling and 5xx, and an ambiguous
//! manifest write.

mod common;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/http.rs"]
mod http;
#[path = "support/moto.rs"]
mod moto;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fault_proxy::{FaultProxy, Faults};
use moto::Moto;
use tempfile::TempDir;

const BUCKET: &str = "inventory";

/// The secret key the binary signs with (the emulator checks none); no
/// message may show it.
const SECRET: &str = "never-shown-secret-key";

/// An emulator with the bucket, and a directory for configs.
struct S3 {
    moto: Moto,
    dir: TempDir,
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn client(endpoint: &str) -> aws_sdk_s3::Client {
    let conf = rt().block_on(moto::sdk_config(endpoint, "us-east-1"));
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    )
}

impl S3 {
    fn start() -> S3 {
        let moto = Moto::start(&python());
        let s3 = client(&moto.url());
        rt().block_on(async {
            s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        });
        let dir = TempDir::new().unwrap();
        // Empty AWS config files: nothing of the machine's setup is read.
        std::fs::write(dir.path().join("none"), "").unwrap();
        S3 { moto, dir }
    }

    fn url(&self) -> String {
        self.moto.url()
    }

    /// Every key under `prefix/`.
    fn keys(&self, prefix: &str) -> BTreeSet<String> {
        let s3 = client(&self.url());
        rt().block_on(async {
            let mut keys = BTreeSet::new();
            let mut pages = s3
                .list_objects_v2()
                .bucket(BUCKET)
                .prefix(format!("{prefix}/"))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for o in page.unwrap().contents() {
                    keys.insert(o.key().unwrap().to_string());
                }
            }
            keys
        })
    }

    fn put(&self, key: &str, body: &str) {
        let s3 = client(&self.url());
        rt().block_on(async {
            s3.put_object()
                .bucket(BUCKET)
                .key(key)
                .body(body.as_bytes().to_vec().into())
                .send()
                .await
                .unwrap();
        });
    }

    /// A config writing to `s3://inventory/<prefix>` through `endpoint`,
    /// with `extra` YAML lines under the sink.
    fn config(&self, name: &str, prefix: &str, endpoint: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.yaml"));
        let mut yaml = format!(
            "sinks:\n  - type: parquet\n    url: s3://{BUCKET}/{prefix}\n    endpoint_url: {endpoint}\n    region: us-east-1\n"
        );
        for line in extra.lines() {
            yaml.push_str(&format!("    {line}\n"));
        }
        std::fs::write(&path, yaml).unwrap();
        path
    }

    /// `cloudtab` with the emulator's credentials and nothing else of the
    /// machine's AWS setup.
    fn cloudtab(&self) -> Command {
        let mut c = cloudtab();
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.dir.path().join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("none"))
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_SESSION_TOKEN");
        c
    }

    fn sync_cmd(&self, config: &Path, args: &[&str]) -> Command {
        let mut c = self.cloudtab();
        c.args(["sync", "--progress", "never", "--config"])
            .arg(config)
            .args(args);
        c
    }

    fn sync(&self, config: &Path, args: &[&str]) -> (i32, String, String) {
        outcome(&self.sync_cmd(config, args).output().unwrap())
    }

    fn query(&self, prefix: &str, sql: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let o = self.query_output(prefix, sql);
        let (code, out, err) = outcome(&o);
        assert_eq!(code, 0, "query {sql}\nstderr:\n{err}");
        let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
        rows.into_iter()
            .map(|r| r.as_object().cloned().unwrap_or_default())
            .collect()
    }

    fn query_output(&self, prefix: &str, sql: &str) -> Output {
        self.cloudtab()
            .args(["query", "--format", "json", "--endpoint-url"])
            .arg(self.url())
            .arg("--data")
            .arg(format!("s3://{BUCKET}/{prefix}"))
            .arg(sql)
            .output()
            .unwrap()
    }

    fn grouped(&self, prefix: &str, sql: &str) -> BTreeMap<String, u64> {
        self.query(prefix, sql)
            .into_iter()
            .map(|r| {
                (
                    r["k"].as_str().unwrap_or_default().to_string(),
                    r["n"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Resources per kind and edges per type of the newest snapshot.
    fn inventory(&self, prefix: &str) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        (
            self.grouped(
                prefix,
                "SELECT kind AS k, count(*) AS n FROM _resources GROUP BY kind",
            ),
            self.grouped(
                prefix,
                "SELECT edge_type AS k, count(*) AS n FROM _edges GROUP BY edge_type",
            ),
        )
    }

    fn newest_run(&self, prefix: &str) -> String {
        let rows = self.query(
            prefix,
            "SELECT id AS run_id FROM _runs ORDER BY started_at DESC LIMIT 1",
        );
        rows[0]["run_id"].as_str().unwrap().to_string()
    }

    /// Run ids of the committed manifests under `prefix`.
    fn manifests(&self, prefix: &str) -> BTreeSet<String> {
        self.keys(&format!("{prefix}/_manifests"))
            .iter()
            .filter_map(|k| k.rsplit('/').next()?.strip_suffix(".json"))
            .map(str::to_string)
            .collect()
    }

    /// Run ids that have files under `prefix`.
    fn runs_with_files(&self, prefix: &str) -> BTreeSet<String> {
        self.keys(prefix)
            .iter()
            .filter_map(|k| {
                k.split('/')
                    .find_map(|p| p.strip_prefix("run_id="))
                    .map(str::to_string)
            })
            .collect()
    }
}

/// What the demo of `scale`, `seed` holds: resources per kind, edges per
/// type.
fn demo(scale: u64, seed: u64) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let (tables, edges, _) = demo_counts(scale, seed);
    let registry = cloudtab_schema::Registry::builtin();
    let resources = tables
        .into_iter()
        .filter(|(t, n)| *n > 0 && registry.get(t).is_some_and(|d| d.is_resource()))
        .collect();
    (resources, edges)
}

#[test]
fn sync_query_and_replace_on_s3_and_pyarrow_reads_it() {
    let s3 = S3::start();
    let config = s3.config("c", "inv/prod", &s3.url(), "");
    let (code, out, err) = s3.sync(&config, &["--scale", "2", "--seed", "5"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(s3.inventory("inv/prod"), demo(2, 5));
    // The local layout, under the prefix; no lease left behind.
    let keys = s3.keys("inv/prod");
    let first = s3.newest_run("inv/prod");
    assert!(keys.contains(&format!("inv/prod/_manifests/{first}.json")));
    assert!(keys
        .iter()
        .any(|k| k.starts_with("inv/prod/aws_ec2_instance/run_date=")
            && k.contains(&format!("/run_id={first}/part-00000.parquet"))));
    assert!(!keys.contains("inv/prod/_lease.json"), "{keys:?}");

    // A second run replaces the first for readers.
    let (code, _, err) = s3.sync(&config, &["--scale", "3", "--seed", "6"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s3.inventory("inv/prod"), demo(3, 6));
    let second = s3.newest_run("inv/prod");
    assert_ne!(first, second);

    // pyarrow's own S3 filesystem reads what the newest manifest lists,
    // and a hive-partitioned scan filtered to the newest run id agrees.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/read_s3_snapshot.py");
    let o = Command::new(python())
        .arg(script)
        .arg(s3.url())
        .arg(BUCKET)
        .arg("inv/prod")
        .output()
        .unwrap();
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "pyarrow failed:\n{err}");
    let read: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(read["run_id"], second.as_str());
    let (resources, edges) = demo(3, 6);
    for (kind, n) in &resources {
        assert_eq!(read["tables"][kind]["rows"], *n, "{kind}");
    }
    let edge_rows: u64 = edges.values().sum();
    assert_eq!(read["tables"]["_edges"]["rows"], edge_rows);
    assert_eq!(read["partition_rows"], edge_rows);
    // Every timestamp of every table is microseconds in UTC.
    let mut timestamps = 0;
    for (table, t) in read["tables"].as_object().unwrap() {
        for (col, ty) in t["types"].as_object().unwrap() {
            let ty = ty.as_str().unwrap();
            if ty.starts_with("timestamp") {
                assert_eq!(ty, "timestamp[us, tz=UTC]", "{table}.{col}");
                timestamps += 1;
            }
        }
    }
    let instance = &read["tables"]["aws_ec2_instance"]["types"];
    assert_eq!(instance["ctime"], "timestamp[us, tz=UTC]", "{instance}");
    assert_eq!(
        instance["_synced_at"], "timestamp[us, tz=UTC]",
        "{instance}"
    );
    assert!(timestamps > 50, "{timestamps} timestamp columns");
}

#[test]
fn keep_runs_on_s3_deletes_older_runs_only() {
    let s3 = S3::start();
    let config = s3.config("c", "keep", &s3.url(), "keep_runs: 2");
    let mut runs = Vec::new();
    for seed in 1..=3 {
        let (code, _, err) = s3.sync(&config, &["--scale", "1", "--seed", &seed.to_string()]);
        assert_eq!(code, 0, "{err}");
        runs.push(s3.newest_run("keep"));
    }
    let kept: BTreeSet<String> = runs[1..].iter().cloned().collect();
    assert_eq!(s3.manifests("keep"), kept);
    assert_eq!(s3.runs_with_files("keep"), kept);
    assert_eq!(s3.inventory("keep"), demo(1, 3));
}

#[test]
fn a_held_lease_blocks_an_expired_one_is_taken_over() {
    let s3 = S3::start();
    let holder = |expires: chrono::DateTime<chrono::Utc>| {
        serde_json::json!({"run_id": "20260101T000000Z-other", "host": "elsewhere", "pid": 42,
            "expires": expires.to_rfc3339()})
        .to_string()
    };
    s3.put(
        "held/_lease.json",
        &holder(chrono::Utc::now() + chrono::Duration::hours(1)),
    );
    let config = s3.config("c", "held", &s3.url(), "lock_wait_secs: 1");
    let (code, _, err) = s3.sync(&config, &["--scale", "1"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("another run is writing")
            && err.contains("20260101T000000Z-other")
            && err.contains("elsewhere"),
        "{err}"
    );
    assert!(s3.manifests("held").is_empty());
    assert!(
        s3.runs_with_files("held").is_empty(),
        "a refused run wrote files"
    );

    // The holder was killed: its lease expired; the next run takes it over.
    s3.put(
        "held/_lease.json",
        &holder(chrono::Utc::now() - chrono::Duration::seconds(5)),
    );
    let (code, _, err) = s3.sync(&config, &["--scale", "1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s3.inventory("held"), demo(1, 42));
    assert!(!s3.keys("held").contains("held/_lease.json"));
}

#[test]
fn of_two_concurrent_syncs_one_fails_clearly() {
    let s3 = S3::start();
    // Small files keep each run busy (and holding the lease) for a while.
    let config = s3.config("c", "both", &s3.url(), "lock_wait_secs: 0\nfile_rows: 2000");
    let spawn = || {
        s3.sync_cmd(&config, &["--scale", "40"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let results = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let codes: Vec<i32> = results.iter().map(|o| outcome(o).0).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 1], "{results:?}");
    let failed = results.iter().find(|o| outcome(o).0 == 1).unwrap();
    let err = outcome(failed).2;
    assert!(
        err.contains("another run is writing to") && err.contains("lock_wait_secs"),
        "{err}"
    );
    assert_eq!(s3.manifests("both").len(), 1);
    assert_eq!(s3.inventory("both"), demo(40, 42));
}

#[test]
fn a_run_killed_mid_upload_leaves_the_previous_snapshot_and_the_next_run_cleans_up() {
    let s3 = S3::start();
    // Small files: uploads go on through the whole run, so the kill lands
    // mid-upload however fast the machine is.
    let config = s3.config("c", "kill", &s3.url(), "lease_secs: 3\nfile_rows: 2000");
    let (code, _, err) = s3.sync(&config, &["--scale", "1", "--seed", "1"]);
    assert_eq!(code, 0, "{err}");
    let before = s3.newest_run("kill");

    let mut child = s3
        .sync_cmd(&config, &["--scale", "150", "--seed", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once its first files are in the bucket.
    let start = Instant::now();
    loop {
        if s3.runs_with_files("kill").len() > 1 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no files appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let leftovers: BTreeSet<String> = s3
        .runs_with_files("kill")
        .into_iter()
        .filter(|r| *r != before)
        .collect();
    assert_eq!(leftovers.len(), 1);
    assert!(
        s3.keys("kill").contains("kill/_lease.json"),
        "the killed run held no lease"
    );

    // Readers still see the previous snapshot.
    assert_eq!(s3.newest_run("kill"), before);
    assert_eq!(s3.inventory("kill"), demo(1, 1));

    // The next run waits out the killed run's lease, takes it over,
    // removes the killed run's files and commits.
    let (code, _, err) = s3.sync(&config, &["--scale", "1", "--seed", "3"]);
    assert_eq!(code, 0, "{err}");
    let after = s3.newest_run("kill");
    assert_eq!(s3.inventory("kill"), demo(1, 3));
    assert_eq!(
        s3.runs_with_files("kill"),
        BTreeSet::from([before, after]),
        "the killed run's files are still there"
    );
}

#[test]
fn throttling_and_server_errors_lose_nothing() {
    let s3 = S3::start();
    let proxy = FaultProxy::start(
        s3.moto.port(),
        Faults {
            every: 4,
            ..Faults::default()
        },
    );
    let config = s3.config("c", "faults", &proxy.url(), "");
    let (code, _, err) = s3.sync(&config, &["--scale", "3", "--seed", "4"]);
    assert_eq!(code, 0, "{err}");
    assert!(proxy.injected.load(std::sync::atomic::Ordering::Relaxed) > 10);
    assert_eq!(s3.inventory("faults"), demo(3, 4));
}

#[test]
fn an_ambiguous_manifest_write_is_reported_committed_and_nothing_is_deleted() {
    let s3 = S3::start();
    let proxy = FaultProxy::start(
        s3.moto.port(),
        Faults {
            // Run ids start with the year; the health check's probe does not.
            drop_answer: Some(format!("PUT /{BUCKET}/amb/_manifests/2")),
            ..Faults::default()
        },
    );
    let config = s3.config("c", "amb", &proxy.url(), "");
    let (code, _, err) = s3.sync(&config, &["--scale", "2", "--seed", "8"]);
    assert_eq!(code, 0, "the committed run was reported failed:\n{err}");
    assert_eq!(proxy.dropped.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert!(
        err.contains("the store holds this run's manifest: committed"),
        "{err}"
    );
    let run = s3.newest_run("amb");
    assert_eq!(s3.manifests("amb"), BTreeSet::from([run.clone()]));
    // Every file the manifest lists is there.
    assert_eq!(s3.inventory("amb"), demo(2, 8));
    assert_eq!(s3.runs_with_files("amb"), BTreeSet::from([run]));
}

#[test]
fn bad_s3_urls_and_a_missing_bucket_are_clear() {
    let s3 = S3::start();
    let (code, _, err) = outcome(
        &s3.cloudtab()
            .args(["sync", "--progress", "never", "--sink", "s3://Bad_Bucket/x"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bucket name"), "{err}");
    let config = s3.dir.path().join("missing.yaml");
    std::fs::write(
        &config,
        format!(
            "sinks:\n  - type: parquet\n    url: s3://no-such-bucket/x\n    endpoint_url: {}\n",
            s3.url()
        ),
    )
    .unwrap();
    let (code, _, err) = s3.sync(&config, &["--scale", "1"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("s3://no-such-bucket/x") && err.contains("not writable"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "the secret key in a message: {err}");
    let o = s3.query_output("nothing-here", "SELECT 1");
    let (code, _, err) = outcome(&o);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no committed snapshot"), "{err}");
}

#[test]
fn the_sink_signs_with_the_profile_or_the_assumed_role_of_the_aws_credential_chain() {
    let s3 = S3::start();
    let proxy = FaultProxy::start(s3.moto.port(), Faults::default());
    std::fs::write(
        s3.dir.path().join("credentials"),
        "[inventory]\naws_access_key_id = AKIAPROFILEKEY000001\naws_secret_access_key = profile-secret\n",
    )
    .unwrap();
    std::fs::write(
        s3.dir.path().join("config"),
        "[profile inventory]\nregion = us-east-1\n",
    )
    .unwrap();
    let chain = |c: &mut Command| {
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_CONFIG_FILE", s3.dir.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                s3.dir.path().join("credentials"),
            );
    };
    // A profile: its key signs every request.
    let config = s3.config("p", "by-profile", &proxy.url(), "profile: inventory");
    let mut c = s3.sync_cmd(&config, &["--scale", "1"]);
    chain(&mut c);
    let (code, _, err) = outcome(&c.output().unwrap());
    assert_eq!(code, 0, "{err}");
    let signers = proxy.signers.lock().unwrap().clone();
    assert_eq!(
        signers,
        BTreeSet::from([("s3".to_string(), "AKIAPROFILEKEY000001".to_string())])
    );
    assert!(!err.contains("profile-secret"), "{err}");

    // A role assumed through STS with the profile's key: S3 requests are
    // signed with the role's temporary key.
    proxy.signers.lock().unwrap().clear();
    let config = s3.config(
        "r",
        "by-role",
        &proxy.url(),
        "profile: inventory\nrole_arn: arn:aws:iam::123456789012:role/cloudtab-writer",
    );
    let mut c = s3.sync_cmd(&config, &["--scale", "1"]);
    chain(&mut c);
    // STS is reached at the same endpoint (the environment's).
    c.env("AWS_ENDPOINT_URL", proxy.url());
    let (code, _, err) = outcome(&c.output().unwrap());
    assert_eq!(code, 0, "{err}");
    let signers = proxy.signers.lock().unwrap().clone();
    assert!(
        signers.contains(&("sts".to_string(), "AKIAPROFILEKEY000001".to_string())),
        "{signers:?}"
    );
    let s3_keys: Vec<&String> = signers
        .iter()
        .filter(|(svc, _)| svc == "s3")
        .map(|(_, k)| k)
        .collect();
    assert!(
        !s3_keys.is_empty() && s3_keys.iter().all(|k| k.starts_with("ASIA")),
        "S3 was not signed with the role's key: {signers:?}"
    );
    assert_eq!(s3.inventory("by-role"), demo(1, 42));
}
