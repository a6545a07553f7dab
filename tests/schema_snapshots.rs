//! Snapshot tests of `cloudtab schema`: a changed table or column shows up
//! in review as a changed snapshot file.

mod common;

use common::*;

fn schema(format: &str) -> String {
    let (code, out, err) = outcome(&run(&["schema", "--format", format]));
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn schema_markdown() {
    insta::assert_snapshot!("schema_md", schema("md"));
}

#[test]
fn schema_json() {
    let out = schema("json");
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(parsed.as_array().unwrap().len() >= 16);
    insta::assert_snapshot!("schema_json", out);
}

#[test]
fn schema_postgres() {
    insta::assert_snapshot!("schema_postgres", schema("postgres"));
}

#[test]
fn schema_snowflake() {
    insta::assert_snapshot!("schema_snowflake", schema("snowflake"));
}

#[test]
fn schema_iam_policy() {
    let out = schema("iam-policy");
    let policy: serde_json::Value = serde_json::from_str(&out).unwrap();
    let actions = policy["Statement"][0]["Action"].as_array().unwrap();
    for a in [
        "ec2:DescribeInstances",
        "sqs:GetQueueAttributes",
        "iam:GetAccountAuthorizationDetails",
        "s3:GetBucketTagging",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing");
    }
    insta::assert_snapshot!("schema_iam_policy", out);
}

#[test]
fn config_reference_matches_the_config_types() {
    // docs/CONFIG.md is generated from the config types' doc comments and
    // defaults; a changed key or default must be regenerated with
    // `cloudtab schema --format config > docs/CONFIG.md`.
    let out = schema("config");
    let file = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/CONFIG.md"),
    )
    .unwrap_or_default();
    assert!(
        out == file,
        "docs/CONFIG.md is out of date: run `cloudtab schema --format config > docs/CONFIG.md`"
    );
    for key in [
        "max_attempts",
        "row_group_rows",
        "row_group_bytes",
        "file_rows",
        "lock_wait_secs",
        "keep_runs",
        "password_file",
        "fail_scopes",
        "batch_rows",
    ] {
        assert!(out.contains(&format!("`{key}`")), "{key} is documented");
    }
}
