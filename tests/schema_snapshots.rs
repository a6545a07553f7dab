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
