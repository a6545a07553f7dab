//! `cloudtab sync --source aws` with each source of the standard credential
//! chain that needs no cloud: the container credential endpoint (served by
//! the emulator), instance metadata (IMDSv2) and SSO (a cached portal token
//! and the portal's `GetRoleCredentials`), both served by small peers in
//! `support/credential_peers.rs` because the emulator's IMDS lacks the
//! token TTL header and it has no SSO portal, `credential_process`, and a
//! profile's `role_arn` with `source_profile` (assumed through the
//! emulator's STS). Every other
//! source is switched off, so a sync succeeds only through the one tested.

mod common;
#[path = "support/credential_peers.rs"]
mod credential_peers;
#[path = "support/http.rs"]
mod http;
#[path = "support/moto.rs"]
mod moto;

use std::path::Path;
use std::process::Command;

use common::*;
use moto::Moto;
use tempfile::TempDir;

/// Runs a sync of SQS in us-east-1 with `accounts` (YAML list, may be
/// empty) and `env` on top of an environment without credentials.
/// Returns the exit code, stdout, stderr and the account ids read.
fn sync_with(
    dir: &Path,
    moto: &Moto,
    accounts: &str,
    env: &[(&str, String)],
) -> (i32, String, String, Vec<String>) {
    let data = dir.join(format!("data-{}", rand_suffix()));
    let config = dir.join("aws.yaml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  - type: aws\n{accounts}    regions: [us-east-1]\n    services: [sqs]\n    endpoint_url: '{}'\n    max_attempts: 2\nsinks:\n  - type: parquet\n    url: '{}'\n",
            moto.url(),
            data.display()
        ),
    )
    .unwrap();
    let mut cmd: Command = cloudtab();
    cmd.args([
        "sync",
        "--progress",
        "never",
        "--config",
        config.to_str().unwrap(),
    ]);
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CLOUDTAB_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (code, out, err) = outcome(&cmd.output().unwrap());
    // Everything any run printed, for the secrets check.
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("printed.log"))
        .unwrap();
    std::io::Write::write_all(&mut log, format!("{out}\n{err}\n").as_bytes()).unwrap();
    let accounts = if code == 0 {
        grouped(
            &data,
            "SELECT account_id AS k, count(*) AS n FROM aws_account GROUP BY 1",
        )
        .into_keys()
        .collect()
    } else {
        Vec::new()
    };
    (code, out, err, accounts)
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

#[test]
fn every_credential_source_of_the_standard_chain() {
    let moto = Moto::start(&python());
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let default_account = vec!["123456789012".to_string()];

    // Nothing configured: the run stops before writing, naming the call.
    let (code, _, err, _) = sync_with(d, &moto, "", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("sts:GetCallerIdentity"), "{err}");

    // Instance metadata (IMDSv2: token, role name, credentials).
    let imds = credential_peers::instance_metadata("app-instance-role");
    let (code, out, err, accounts) = sync_with(
        d,
        &moto,
        "",
        &[
            ("AWS_EC2_METADATA_DISABLED", "false".into()),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()),
        ],
    );
    assert_eq!(code, 0, "instance metadata\n{out}\n{err}");
    assert_eq!(accounts, default_account);
    assert!(imds.grants() >= 1);

    // The container credential endpoint (ECS, EKS pod identity).
    let (code, out, err, accounts) = sync_with(
        d,
        &moto,
        "",
        &[(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!(
                "{}/latest/meta-data/iam/security-credentials/default-role",
                moto.url()
            ),
        )],
    );
    assert_eq!(code, 0, "container endpoint\n{out}\n{err}");
    assert_eq!(accounts, default_account);

    // credential_process, SSO and role_arn + source_profile profiles.
    let process = d.join("creds.sh");
    std::fs::write(
        &process,
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESS\", \"SecretAccessKey\": \"process-secret-value\"}'\n",
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&process)
        .status()
        .unwrap();
    let start_url = "https://cloudtab-test.awsapps.com/start";
    std::fs::write(
        d.join("config"),
        format!(
            "[profile proc]\ncredential_process = {}\n\n\
             [profile sso]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Reader\n\n\
             [profile base]\nregion = us-east-1\n\n\
             [profile chained]\nrole_arn = arn:aws:iam::222222222222:role/reader\nsource_profile = base\n",
            process.display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("credentials"),
        "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret-value\n",
    )
    .unwrap();
    // The SSO token cache: `~/.aws/sso/cache/<sha1 of the start URL>.json`.
    let sha1 = Command::new(python())
        .args([
            "-c",
            &format!("import hashlib; print(hashlib.sha1(b'{start_url}').hexdigest())"),
        ])
        .output()
        .unwrap();
    let sha1 = String::from_utf8(sha1.stdout).unwrap().trim().to_string();
    let cache = d.join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(
        cache.join(format!("{sha1}.json")),
        format!(
            r#"{{"startUrl": "{start_url}", "region": "us-east-1", "accessToken": "portal-token-value", "expiresAt": "2099-01-01T00:00:00Z"}}"#
        ),
    )
    .unwrap();
    let portal = credential_peers::sso_portal("portal-token-value", "123456789012", "Reader");
    let sso_env = [("AWS_ENDPOINT_URL_SSO", portal.url())];

    let (code, out, err, accounts) =
        sync_with(d, &moto, "    accounts:\n      - profile: proc\n", &[]);
    assert_eq!(code, 0, "credential_process\n{out}\n{err}");
    assert_eq!(accounts, default_account);

    let (code, out, err, accounts) =
        sync_with(d, &moto, "    accounts:\n      - profile: sso\n", &sso_env);
    assert_eq!(code, 0, "sso\n{out}\n{err}");
    assert_eq!(accounts, default_account);
    assert!(portal.grants() >= 1);

    let (code, out, err, accounts) = sync_with(
        d,
        &moto,
        "    accounts:\n      - profile: chained\n",
        &[("AWS_ENDPOINT_URL_STS", moto.url())],
    );
    assert_eq!(code, 0, "role_arn profile\n{out}\n{err}");
    assert_eq!(accounts, vec!["222222222222".to_string()]);

    // A portal that refuses the token: the account cannot be identified,
    // and the error says which account entry failed.
    let refusing = credential_peers::sso_portal("another-token", "123456789012", "Reader");
    let (code, out, err, _) = sync_with(
        d,
        &moto,
        "    accounts:\n      - profile: sso\n",
        &[("AWS_ENDPOINT_URL_SSO", refusing.url())],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("accounts[0]"), "{err}");

    // No secret of any source is printed by any of the runs.
    let printed = std::fs::read_to_string(d.join("printed.log")).unwrap();
    assert!(printed.contains("sts:GetCallerIdentity"));
    for s in [
        "process-secret-value",
        "sso-secret-value",
        "base-secret-value",
        "portal-token-value",
        "imds-secret-value",
    ] {
        assert!(!printed.contains(s), "{s} printed");
    }
}
