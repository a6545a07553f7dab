use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use super::auth::Secret;
use super::client::LoginInfo;
use crate::sink::{LoadMode, Migrate, SinkError};

/// Configuration of the `snowflake` sink.
///
/// Where: `account` (or `host`), `database`, `schema`, `warehouse`,
/// `role`, or all of them at once in `url`. Who: `user`, with exactly one
/// of a key pair (`private_key_file`), a password (`password_file`, or
/// the environment variable `password_env`) or an OAuth token
/// (`oauth_token_file`). Secrets are read at login; they are never
/// logged, never part of an error and never written to a table.
///
/// Names (database, schema, warehouse, role) are used in upper case, as
/// Snowflake folds unquoted names.
#[derive(Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnowflakeSinkConfig {
    /// `snowflake://user@account/database/schema?warehouse=…&role=…&host=…`:
    /// sets the keys it names (a key set in the file as well must agree).
    /// No password in it: use `password_env` or `password_file`.
    #[serde(default)]
    pub url: Option<String>,
    /// Account identifier (`myorg-myaccount`, or a locator with region
    /// such as `xy12345.eu-west-1`); the host is
    /// `<account>.snowflakecomputing.com`.
    #[serde(default)]
    pub account: Option<String>,
    /// Host instead of the account's own: a private-link name, or
    /// `http://127.0.0.1:PORT` for a local emulator (plain http is taken
    /// for loopback addresses only).
    #[serde(default)]
    pub host: Option<String>,
    /// Login name.
    #[serde(default)]
    pub user: Option<String>,
    /// Database the schema is in (must exist).
    #[serde(default)]
    pub database: Option<String>,
    /// Schema the tables live in; created when missing (default
    /// `CLOUDTAB`).
    #[serde(default = "default_schema")]
    pub schema: String,
    /// Warehouse that runs the loads.
    #[serde(default)]
    pub warehouse: Option<String>,
    /// Role to use (default: the user's default role).
    #[serde(default)]
    pub role: Option<String>,
    /// Key-pair login: a PEM PKCS#8 RSA private key (`BEGIN PRIVATE KEY`,
    /// or `BEGIN ENCRYPTED PRIVATE KEY` with a passphrase), whose public
    /// key is set on the user (`ALTER USER … SET RSA_PUBLIC_KEY`).
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// Environment variable holding an encrypted key's passphrase
    /// (default `SNOWFLAKE_PRIVATE_KEY_PASSPHRASE`).
    #[serde(default = "default_passphrase_env")]
    pub private_key_passphrase_env: String,
    /// File whose content (trailing newline removed) is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Environment variable holding the password, used when no other
    /// secret is configured (default `SNOWFLAKE_PASSWORD`).
    #[serde(default = "default_password_env")]
    pub password_env: String,
    /// File whose content is an OAuth access token.
    #[serde(default)]
    pub oauth_token_file: Option<PathBuf>,
    /// An external stage (`'@my_s3_stage'`) to load from, instead of a
    /// temporary internal stage: cloudtab writes the files to
    /// `stage_url` with the AWS credential chain, and `COPY` reads them
    /// through the stage's storage integration.
    #[serde(default)]
    pub stage: Option<String>,
    /// `s3://bucket/prefix` the external `stage` points at.
    #[serde(default)]
    pub stage_url: Option<String>,
    /// AWS region of `stage_url`'s bucket.
    #[serde(default)]
    pub stage_region: Option<String>,
    /// S3 endpoint of `stage_url` (an S3-compatible store).
    #[serde(default)]
    pub stage_endpoint_url: Option<String>,
    /// `snapshot` (default): the tables hold the latest snapshot.
    /// `history`: every run is kept (column `_SNAPSHOT_RUN_ID`), and a
    /// `<TABLE>_LATEST` view shows the latest snapshot.
    #[serde(default)]
    pub mode: LoadMode,
    /// A table whose columns no longer match (removed or retyped): `safe`
    /// (default) fails the run with exit code 2; `force` drops and
    /// recreates it at commit.
    #[serde(default)]
    pub migrate: Migrate,
    /// Seconds to wait for another run writing the same schema before
    /// giving up (default 300; 0 fails at once).
    #[serde(default = "default_lock_wait")]
    pub lock_wait_secs: u64,
    /// Seconds a run's hold on the schema lasts without renewal (default
    /// 120). A run renews it every third of this; a killed run's hold
    /// lapses after it.
    #[serde(default = "default_lease")]
    pub lease_secs: u64,
    /// Rows per staged Parquet file (default 250000): each file is put
    /// to the stage as soon as it is full, which bounds memory.
    #[serde(default = "default_file_rows")]
    pub file_rows: usize,
}

fn default_schema() -> String {
    "CLOUDTAB".into()
}
fn default_passphrase_env() -> String {
    "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE".into()
}
fn default_password_env() -> String {
    "SNOWFLAKE_PASSWORD".into()
}
fn default_lock_wait() -> u64 {
    300
}
fn default_lease() -> u64 {
    120
}
fn default_file_rows() -> usize {
    250_000
}

impl std::fmt::Debug for SnowflakeSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnowflakeSinkConfig")
            .field("account", &self.account)
            .field("host", &self.host)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("schema", &self.schema)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// The settings after `url` is merged in and every name is checked.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// How to log in.
    pub login: LoginInfo,
    /// Database, upper case.
    pub database: String,
    /// Schema, upper case.
    pub schema: String,
    /// Warehouse, upper case.
    pub warehouse: Option<String>,
}

impl Default for SnowflakeSinkConfig {
    /// Every key at its default, as a config naming only `type` gets.
    fn default() -> Self {
        SnowflakeSinkConfig {
            url: None,
            account: None,
            host: None,
            user: None,
            database: None,
            schema: default_schema(),
            warehouse: None,
            role: None,
            private_key_file: None,
            private_key_passphrase_env: default_passphrase_env(),
            password_file: None,
            password_env: default_password_env(),
            oauth_token_file: None,
            stage: None,
            stage_url: None,
            stage_region: None,
            stage_endpoint_url: None,
            mode: LoadMode::default(),
            migrate: Migrate::default(),
            lock_wait_secs: default_lock_wait(),
            lease_secs: default_lease(),
            file_rows: default_file_rows(),
        }
    }
}

impl SnowflakeSinkConfig {
    /// A config for `url` with defaults otherwise.
    pub fn for_url(url: impl Into<String>) -> Self {
        SnowflakeSinkConfig {
            url: Some(url.into()),
            ..Default::default()
        }
    }

    /// How long to wait for another run.
    pub fn lock_wait(&self) -> Duration {
        Duration::from_secs(self.lock_wait_secs)
    }

    /// Checks the values without connecting; the message names the key.
    pub fn validate(&self) -> Result<(), SinkError> {
        self.resolve().map(|_| ())
    }

    /// Where the sink writes, for logs and `_runs` (no secret).
    pub fn describe(&self) -> String {
        match self.resolve() {
            Ok(r) => format!(
                "snowflake {} {}.{}",
                r.login.base_url,
                crate::snowflake_ddl::sf_ident(&r.database),
                crate::snowflake_ddl::sf_ident(&r.schema)
            ),
            Err(_) => "snowflake (invalid configuration)".into(),
        }
    }

    /// Merges `url` in and checks every value.
    pub fn resolve(&self) -> Result<Resolved, SinkError> {
        let bad = |m: String| SinkError::Config(m);
        let mut c = self.clone();
        if let Some(u) = &self.url {
            let rest = u.strip_prefix("snowflake://").ok_or_else(|| {
                bad("url: must start with snowflake:// (snowflake://user@account/database/schema?warehouse=…)".into())
            })?;
            let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (userinfo, path) = main.split_once('@').ok_or_else(|| {
                bad("url: no user; expected snowflake://user@account/database/schema".into())
            })?;
            if userinfo.contains(':') {
                return Err(bad("url: has a password; put it in `password_env` or `password_file`, never on a command line".into()));
            }
            let mut parts = path.split('/');
            let set = |key: &str, field: &mut Option<String>, v: Option<&str>| {
                let Some(v) = v.filter(|v| !v.is_empty()) else {
                    return Ok(());
                };
                let v = decode(v);
                match field {
                    Some(old) if !old.eq_ignore_ascii_case(&v) => {
                        Err(bad(format!("url: says {key} `{v}` but `{key}` is `{old}`")))
                    }
                    _ => {
                        *field = Some(v);
                        Ok(())
                    }
                }
            };
            set("user", &mut c.user, Some(userinfo))?;
            set("account", &mut c.account, parts.next())?;
            set("database", &mut c.database, parts.next())?;
            if let Some(s) = parts.next().filter(|s| !s.is_empty()) {
                c.schema = decode(s);
            }
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                match k {
                    "warehouse" => set("warehouse", &mut c.warehouse, Some(v))?,
                    "role" => set("role", &mut c.role, Some(v))?,
                    "host" => set("host", &mut c.host, Some(v))?,
                    "database" => set("database", &mut c.database, Some(v))?,
                    other => {
                        return Err(bad(format!(
                        "url: unknown parameter `{other}`; known: warehouse, role, host, database"
                    )))
                    }
                }
            }
        }
        let user = c
            .user
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| bad("user: missing; name the Snowflake login".into()))?;
        let database = c
            .database
            .clone()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| bad("database: missing; name the database the schema is in".into()))?;
        for (key, v) in [
            ("database", Some(&database)),
            ("schema", Some(&c.schema)),
            ("warehouse", c.warehouse.as_ref()),
            ("role", c.role.as_ref()),
        ] {
            if let Some(v) = v {
                if v.is_empty() || v.len() > 255 || v.chars().any(|ch| ch.is_control()) {
                    return Err(bad(format!(
                        "{key}: `{}` is not a usable name (1 to 255 characters, no control characters)",
                        v.escape_debug()
                    )));
                }
            }
        }
        let base_url = match (&c.host, &c.account) {
            (Some(h), _) => host_url(h)?,
            (None, Some(a)) if !a.is_empty() => {
                if !a
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
                {
                    return Err(bad(format!(
                        "account: `{}` is not an account identifier (letters, digits, `-`, `_`, `.`)",
                        a.escape_debug()
                    )));
                }
                format!(
                    "https://{}.snowflakecomputing.com",
                    a.to_lowercase().replace('_', "-")
                )
            }
            _ => {
                return Err(bad(
                    "account: missing; name the account (`myorg-myaccount`), or set `host`".into(),
                ))
            }
        };
        let account = c
            .account
            .clone()
            .filter(|a| !a.is_empty())
            .or_else(|| {
                // With only a host, the account is its first label.
                let h = base_url.split("://").nth(1).unwrap_or("");
                h.split(['.', ':']).next().map(str::to_string)
            })
            .unwrap_or_default();
        let secrets = [
            c.private_key_file.is_some(),
            c.password_file.is_some(),
            c.oauth_token_file.is_some(),
        ];
        if secrets.iter().filter(|s| **s).count() > 1 {
            return Err(bad(
                "private_key_file, password_file, oauth_token_file: set one of them, not several"
                    .into(),
            ));
        }
        let secret = if let Some(p) = &c.private_key_file {
            Secret::KeyFile(p.clone(), c.private_key_passphrase_env.clone())
        } else if let Some(p) = &c.password_file {
            Secret::PasswordFile(p.clone())
        } else if let Some(p) = &c.oauth_token_file {
            Secret::OAuthFile(p.clone())
        } else {
            Secret::PasswordEnv(c.password_env.clone())
        };
        match (&c.stage, &c.stage_url) {
            (Some(s), Some(u)) => {
                if !s.starts_with('@') || s.len() < 2 {
                    return Err(bad(format!(
                        "stage: `{s}` must name a stage with `@` (`'@my_s3_stage'`; quote it in YAML)"
                    )));
                }
                if !u.starts_with("s3://") {
                    return Err(bad(format!(
                        "stage_url: `{u}` must be the s3://bucket/prefix the stage points at"
                    )));
                }
            }
            (Some(_), None) => {
                return Err(bad(
                    "stage_url: missing; an external `stage` needs the s3://bucket/prefix it points at, where cloudtab writes the files".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(bad("stage: missing; `stage_url` is for an external stage".into()))
            }
            (None, None) => {}
        }
        if c.file_rows == 0 {
            return Err(bad("file_rows: must be at least 1".into()));
        }
        if c.lease_secs < 3 {
            return Err(bad("lease_secs: must be at least 3".into()));
        }
        Ok(Resolved {
            login: LoginInfo {
                base_url,
                account,
                user,
                role: c.role.as_ref().map(|r| r.to_uppercase()),
                secret,
                lock_timeout_secs: c.lock_wait_secs.max(60),
            },
            database: database.to_uppercase(),
            schema: c.schema.to_uppercase(),
            warehouse: c.warehouse.as_ref().map(|w| w.to_uppercase()),
        })
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `host` as a base URL: https unless it is a loopback address, where
/// `http://` may be given (an emulator).
fn host_url(h: &str) -> Result<String, SinkError> {
    let h = h.trim_end_matches('/');
    if let Some(rest) = h.strip_prefix("http://") {
        let name = rest.rsplit_once(':').map_or(rest, |(n, _)| n);
        let loopback = matches!(name, "127.0.0.1" | "localhost" | "[::1]" | "::1");
        if !loopback {
            return Err(SinkError::Config(format!(
                "host: `{h}` is plain http to a host that is not loopback; secrets would cross the network unencrypted, use https://"
            )));
        }
        return Ok(h.to_string());
    }
    if h.starts_with("https://") {
        return Ok(h.to_string());
    }
    if h.contains("://") {
        return Err(SinkError::Config(format!(
            "host: `{h}` must be a host name or an https:// URL"
        )));
    }
    Ok(format!("https://{h}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_what_an_empty_entry_reads_as() {
        let empty: SnowflakeSinkConfig = serde_json::from_str("{}").unwrap();
        assert!(empty == SnowflakeSinkConfig::default());
    }

    #[test]
    fn url_and_keys() {
        let c = SnowflakeSinkConfig::for_url(
            "snowflake://loader@myorg-acct/inventory/cloud?warehouse=load_wh&role=loader",
        );
        let r = c.resolve().unwrap();
        assert_eq!(
            r.login.base_url,
            "https://myorg-acct.snowflakecomputing.com"
        );
        assert_eq!(r.login.user, "loader");
        assert_eq!(r.database, "INVENTORY");
        assert_eq!(r.schema, "CLOUD");
        assert_eq!(r.warehouse.as_deref(), Some("LOAD_WH"));
        assert_eq!(r.login.role.as_deref(), Some("LOADER"));
        let e = SnowflakeSinkConfig::for_url("snowflake://u:pw@a/db")
            .validate()
            .unwrap_err();
        assert!(
            e.to_string().contains("password_env") && !e.to_string().contains("pw@"),
            "{e}"
        );
        let mut c = SnowflakeSinkConfig::for_url("snowflake://u@a/db");
        c.host = Some("http://10.0.0.1:8080".into());
        assert!(c.validate().unwrap_err().to_string().contains("host:"));
        c.host = Some("http://127.0.0.1:8080".into());
        assert_eq!(c.resolve().unwrap().login.base_url, "http://127.0.0.1:8080");
        let mut c = SnowflakeSinkConfig::for_url("snowflake://u@a/db");
        c.stage = Some("@ext".into());
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("stage_url:"));
        c.stage_url = Some("s3://b/p".into());
        c.validate().unwrap();
        let c = SnowflakeSinkConfig::for_url("snowflake://u@a");
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("database:"));
        assert_eq!(decode("a%20b"), "a b");
    }
}
