use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::sink::SinkError;
pub use crate::sink::{LoadMode, Migrate};

/// Configuration of the `postgres` sink.
///
/// The password is looked up in this order: the URL, `password_file`, the
/// environment variable `password_env` (default `PGPASSWORD`). It is never
/// logged, never part of an error and never written to a table.
#[derive(Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresSinkConfig {
    /// `postgres://user[:password]@host[:port]/database[?sslmode=…&sslrootcert=…]`
    /// (`postgresql://` works too).
    pub url: String,
    /// Schema the tables live in; created when missing (default `cloudtab`).
    #[serde(default = "default_schema")]
    pub schema: String,
    /// TLS: `disable`, `prefer`, `require` (encrypted, server not
    /// verified) or `verify-full` (encrypted, certificate checked against
    /// `sslrootcert` and the host name). Overrides `sslmode` in the URL;
    /// default `prefer`.
    #[serde(default)]
    pub sslmode: Option<SslMode>,
    /// PEM file with the CA certificates `verify-full` trusts. Overrides
    /// `sslrootcert` in the URL.
    #[serde(default)]
    pub sslrootcert: Option<PathBuf>,
    /// File whose content (trailing newline removed) is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Environment variable holding the password (default `PGPASSWORD`).
    #[serde(default = "default_password_env")]
    pub password_env: String,
    /// `snapshot` (default): the tables hold the latest snapshot.
    /// `history`: every run is kept, and a `<table>_latest` view shows the
    /// latest snapshot.
    #[serde(default)]
    pub mode: LoadMode,
    /// What to do when a table in the database no longer matches the
    /// registry (a column removed or retyped): `safe` (default) fails the
    /// run with exit code 2; `force` drops and recreates the table.
    #[serde(default)]
    pub migrate: Migrate,
    /// Seconds to wait for another run writing the same schema before
    /// giving up (default 300; 0 fails at once).
    #[serde(default = "default_lock_wait")]
    pub lock_wait_secs: u64,
    /// Seconds the swap at commit may wait, in all, for readers that hold a
    /// table (a long query, a session idle in a transaction). Each try
    /// waits a few seconds (`lock_timeout`), then lets readers go on and
    /// tries again; past this the run fails naming the blocking session,
    /// nothing is committed and the previous snapshot stays (default 60).
    #[serde(default = "default_swap_wait")]
    pub swap_wait_secs: u64,
    /// SCRAM channel binding, which ties the password exchange to the TLS
    /// connection so that a server in the middle cannot replay it:
    /// `disable`, `prefer` (default: when the server offers it) or
    /// `require`. Overrides `channel_binding` in the URL.
    #[serde(default)]
    pub channel_binding: Option<ChannelBinding>,
}

/// SCRAM channel binding (libpq's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelBinding {
    /// Never.
    Disable,
    /// When the server supports it over TLS.
    #[default]
    Prefer,
    /// Always: fails without TLS or without a SCRAM password.
    Require,
}

impl ChannelBinding {
    fn parse(s: &str) -> Result<ChannelBinding, SinkError> {
        match s {
            "disable" => Ok(ChannelBinding::Disable),
            "prefer" => Ok(ChannelBinding::Prefer),
            "require" => Ok(ChannelBinding::Require),
            other => Err(SinkError::Config(format!(
                "channel_binding: unknown mode `{other}`; expected disable, prefer or require"
            ))),
        }
    }
}

/// TLS mode of the connection (libpq's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it (server not verified), else plain.
    #[default]
    Prefer,
    /// TLS, without checking the server's certificate.
    Require,
    /// TLS, the certificate checked against `sslrootcert` and the host.
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<SslMode, SinkError> {
        match s {
            "disable" => Ok(SslMode::Disable),
            "prefer" | "allow" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-full" => Ok(SslMode::VerifyFull),
            other => Err(SinkError::Config(format!(
                "sslmode: unknown mode `{other}`; expected disable, prefer, require or verify-full"
            ))),
        }
    }
}

fn default_schema() -> String {
    "cloudtab".into()
}
fn default_password_env() -> String {
    "PGPASSWORD".into()
}
fn default_lock_wait() -> u64 {
    300
}
fn default_swap_wait() -> u64 {
    60
}

impl std::fmt::Debug for PostgresSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSinkConfig")
            .field("url", &redact_url(&self.url))
            .field("schema", &self.schema)
            .field("sslmode", &self.sslmode)
            .field("mode", &self.mode)
            .field("migrate", &self.migrate)
            .finish_non_exhaustive()
    }
}

/// The parts of a config the sink connects with.
pub(crate) struct Resolved {
    pub pg: tokio_postgres::Config,
    pub sslmode: SslMode,
    pub sslrootcert: Option<PathBuf>,
}

/// `url` with a password that was not percent-encoded encoded, so that
/// `/`, `?`, `#` and `@` in it do not end the user part early: the user
/// part is everything between `://` and the last `@`.
fn encode_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let enc = |s: &str| -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            // Keep what is already percent-encoded as it is.
            if b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    match password {
        Some(p) => format!("{scheme}://{}:{}@{host}", enc(user), enc(p)),
        None => format!("{scheme}://{}@{host}", enc(user)),
    }
}

impl PostgresSinkConfig {
    /// A config for `url` with defaults otherwise.
    pub fn for_url(url: impl Into<String>) -> Self {
        PostgresSinkConfig {
            url: url.into(),
            schema: default_schema(),
            sslmode: None,
            sslrootcert: None,
            password_file: None,
            password_env: default_password_env(),
            mode: LoadMode::default(),
            migrate: Migrate::default(),
            lock_wait_secs: default_lock_wait(),
            swap_wait_secs: default_swap_wait(),
            channel_binding: None,
        }
    }

    /// The URL without its password, for logs and `_runs`.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    /// How long to wait for another run's lock.
    pub fn lock_wait(&self) -> Duration {
        Duration::from_secs(self.lock_wait_secs)
    }

    /// How long the swap may wait for readers, in all.
    pub fn swap_wait(&self) -> Duration {
        Duration::from_secs(self.swap_wait_secs)
    }

    /// Checks the values without connecting; the message names the key.
    pub fn validate(&self) -> Result<(), SinkError> {
        if self.schema.is_empty() || self.schema.len() > 63 {
            return Err(SinkError::Config(format!(
                "schema: must be 1 to 63 bytes long, got {} bytes",
                self.schema.len()
            )));
        }
        self.resolve_without_password().map(|_| ())
    }

    fn resolve_without_password(&self) -> Result<Resolved, SinkError> {
        let url = url::Url::parse(&encode_userinfo(self.url.trim())).map_err(|e| {
            SinkError::Config(format!(
                "url: `{}` is not a URL ({e}); expected postgres://user@host:port/database",
                redact_url(&self.url)
            ))
        })?;
        if url.scheme() != "postgres" && url.scheme() != "postgresql" {
            return Err(SinkError::Config(format!(
                "url: scheme `{}` is not postgres:// or postgresql://",
                url.scheme()
            )));
        }
        let host = url.host_str().unwrap_or("").to_string();
        if host.is_empty() {
            return Err(SinkError::Config("url: has no host".into()));
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let mut pg = tokio_postgres::Config::new();
        pg.host(&host);
        pg.port(url.port().unwrap_or(5432));
        let user = percent_decode(url.username());
        pg.user(if user.is_empty() { "postgres" } else { &user });
        let db = percent_decode(url.path().trim_start_matches('/'));
        if !db.is_empty() {
            pg.dbname(&db);
        }
        if let Some(p) = url.password() {
            pg.password(percent_decode(p));
        }
        pg.application_name("cloudtab");
        pg.connect_timeout(Duration::from_secs(10));
        let mut sslmode = None;
        let mut sslrootcert = None;
        let mut channel_binding = None;
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "sslmode" => sslmode = Some(SslMode::parse(&v)?),
                "channel_binding" => channel_binding = Some(ChannelBinding::parse(&v)?),
                "sslrootcert" => sslrootcert = Some(PathBuf::from(v.as_ref())),
                "connect_timeout" => {
                    let secs: u64 = v.parse().map_err(|_| {
                        SinkError::Config(format!("url: connect_timeout `{v}` is not a number"))
                    })?;
                    pg.connect_timeout(Duration::from_secs(secs));
                }
                "application_name" => {
                    pg.application_name(v.as_ref());
                }
                other => {
                    return Err(SinkError::Config(format!(
                        "url: unknown parameter `{other}`; known: sslmode, sslrootcert, channel_binding, connect_timeout, application_name"
                    )))
                }
            }
        }
        let sslmode = self.sslmode.or(sslmode).unwrap_or_default();
        let channel_binding = self.channel_binding.or(channel_binding).unwrap_or_default();
        if channel_binding == ChannelBinding::Require && sslmode == SslMode::Disable {
            return Err(SinkError::Config(
                "channel_binding: `require` needs TLS; use sslmode `require` or `verify-full`"
                    .into(),
            ));
        }
        pg.channel_binding(match channel_binding {
            ChannelBinding::Disable => tokio_postgres::config::ChannelBinding::Disable,
            ChannelBinding::Prefer => tokio_postgres::config::ChannelBinding::Prefer,
            ChannelBinding::Require => tokio_postgres::config::ChannelBinding::Require,
        });
        let sslrootcert = self.sslrootcert.clone().or(sslrootcert);
        if sslmode == SslMode::VerifyFull && sslrootcert.is_none() {
            return Err(SinkError::Config(
                "sslrootcert: `verify-full` needs the CA file that signed the server's certificate"
                    .into(),
            ));
        }
        Ok(Resolved {
            pg,
            sslmode,
            sslrootcert,
        })
    }

    /// Everything needed to connect, with the password looked up.
    pub(crate) fn resolve(&self) -> Result<Resolved, SinkError> {
        let mut r = self.resolve_without_password()?;
        if r.pg.get_password().is_none() {
            if let Some(file) = &self.password_file {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    SinkError::Config(format!(
                        "password_file: cannot read `{}`: {e}",
                        file.display()
                    ))
                })?;
                r.pg.password(text.trim_end_matches(['\n', '\r']));
            } else if let Ok(p) = std::env::var(&self.password_env) {
                r.pg.password(p);
            }
        }
        Ok(r)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url` with any password replaced by `***`, found by text rather than by
/// parsing, so that a password that was not percent-encoded (with `/`,
/// `?`, `#` or `@` in it) cannot leak: everything between `://` and the
/// last `@` is the user part, and all of it after the first `:` goes.
pub fn redact_url(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL: keep only what follows the last `@`.
        return match url.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => url.to_string(),
        };
    };
    match rest.rfind('@') {
        Some(at) => {
            let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_passwords_are_redacted() {
        let c = PostgresSinkConfig::for_url(
            "postgres://me:s%40cret@127.0.0.1:6543/inv?sslmode=require",
        );
        let r = c.resolve().unwrap();
        assert_eq!(r.pg.get_password(), Some(&b"s@cret"[..]));
        assert_eq!(r.pg.get_ports(), &[6543]);
        assert_eq!(r.pg.get_dbname(), Some("inv"));
        assert_eq!(r.sslmode, SslMode::Require);
        assert!(!c.redacted_url().contains("cret"), "{}", c.redacted_url());
        assert!(!format!("{c:?}").contains("cret"));
        assert!(!redact_url("not a url :pw@host").contains("pw"));
        // Issue #12: a password that was not URL-encoded.
        for raw in ["p/ss", "p?ss", "p#ss", "p@ss", "a/b?c#d@e"] {
            let url = format!("postgres://me:{raw}@127.0.0.1:5432/db?sslmode=require");
            let red = redact_url(&url);
            assert_eq!(
                red, "postgres://me:***@127.0.0.1:5432/db?sslmode=require",
                "{raw}"
            );
            let c = PostgresSinkConfig::for_url(&url);
            let r = c.resolve().unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(r.pg.get_password(), Some(raw.as_bytes()), "{raw}");
            assert_eq!(r.pg.get_ports(), &[5432]);
            assert_eq!(r.pg.get_dbname(), Some("db"));
            assert!(!format!("{c:?}").contains(raw));
            let bad = PostgresSinkConfig::for_url(format!(
                "postgres://me:{raw}@127.0.0.1:5432/db?colour=red"
            ));
            let e = bad.validate().unwrap_err().to_string();
            assert!(!e.contains(raw), "{e}");
        }
        let c =
            PostgresSinkConfig::for_url("postgres://h/db?channel_binding=require&sslmode=require");
        assert_eq!(
            c.resolve().unwrap().pg.get_channel_binding(),
            tokio_postgres::config::ChannelBinding::Require
        );
        let bad =
            PostgresSinkConfig::for_url("postgres://h/db?channel_binding=require&sslmode=disable");
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("needs TLS"));
        let bad = PostgresSinkConfig::for_url("postgres://h/db?channel_binding=maybe");
        assert!(bad.validate().unwrap_err().to_string().contains("maybe"));

        let bad = PostgresSinkConfig::for_url("postgres://h/db?sslmode=verify-full");
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("sslrootcert"));
        let bad = PostgresSinkConfig::for_url("postgres://h/db?sslmode=nope");
        assert!(bad.validate().unwrap_err().to_string().contains("nope"));
        let bad = PostgresSinkConfig::for_url("mysql://h/db");
        assert!(bad.validate().unwrap_err().to_string().contains("mysql"));
        let bad = PostgresSinkConfig::for_url("postgres://h/db?colour=red");
        assert!(bad.validate().unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn password_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "from-file\n").unwrap();
        let mut c = PostgresSinkConfig::for_url("postgres://me@h/db");
        c.password_file = Some(f);
        assert_eq!(
            c.resolve().unwrap().pg.get_password(),
            Some(&b"from-file"[..])
        );
        c.password_file = None;
        c.password_env = "CLOUDTAB_TEST_PW_ENV".into();
        std::env::set_var("CLOUDTAB_TEST_PW_ENV", "from-env");
        assert_eq!(
            c.resolve().unwrap().pg.get_password(),
            Some(&b"from-env"[..])
        );
    }
}
