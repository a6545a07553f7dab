use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::sink::SinkError;

/// Configuration of the `parquet` sink.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParquetSinkConfig {
    /// Where to write: a directory path or a `file://` URL (created if
    /// missing), or `s3://bucket/prefix` (the bucket must exist).
    #[serde(default = "default_url")]
    pub url: String,
    /// S3 only: the bucket's region. Default: the AWS profile's region,
    /// else `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// S3 only: endpoint of an S3-compatible store or emulator
    /// (`http://127.0.0.1:9000`); requests use path-style addressing.
    /// Default: AWS's endpoint for the region (or `AWS_ENDPOINT_URL`).
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// S3 only: the AWS profile whose credentials sign requests. Default:
    /// the standard chain (environment, shared files, SSO, container and
    /// instance metadata), as for the AWS source.
    #[serde(default)]
    pub profile: Option<String>,
    /// S3 only: a role to assume (through STS) for writing.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// S3 only: seconds the root's lease lasts without renewal. A run
    /// renews it every third of this; a run killed without releasing it
    /// blocks the root this long, then the next run takes it over.
    #[serde(default = "default_lease")]
    pub lease_secs: u64,
    /// Committed runs to keep; older runs are deleted after each
    /// successful commit. Left out: every run is kept.
    #[serde(default)]
    pub keep_runs: Option<usize>,
    /// Most rows in one Parquet row group.
    #[serde(default = "default_row_group_rows")]
    pub row_group_rows: usize,
    /// Largest encoded row group in bytes: bounds the memory each open
    /// table holds.
    #[serde(default = "default_row_group_bytes")]
    pub row_group_bytes: usize,
    /// Rows per file before a table's output rolls over to the next part.
    #[serde(default = "default_file_rows")]
    pub file_rows: u64,
    /// Seconds to wait for another run writing to the same root
    /// before giving up (exit 1, naming that run). 0 fails at once.
    #[serde(default = "default_lock_wait")]
    pub lock_wait_secs: u64,
}

/// Default destination of `cloudtab sync`.
pub const DEFAULT_URL: &str = "./cloudtab-data";

fn default_url() -> String {
    DEFAULT_URL.to_string()
}
fn default_row_group_rows() -> usize {
    128 * 1024
}
fn default_row_group_bytes() -> usize {
    1 << 20
}
fn default_file_rows() -> u64 {
    1_000_000
}
fn default_lock_wait() -> u64 {
    300
}
fn default_lease() -> u64 {
    60
}

/// Where a Parquet root is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local directory.
    Local(PathBuf),
    /// A bucket and a key prefix (without slashes at either end; may be
    /// empty).
    S3 {
        /// The bucket.
        bucket: String,
        /// The prefix every key starts with.
        prefix: String,
    },
}

impl Default for ParquetSinkConfig {
    fn default() -> Self {
        ParquetSinkConfig {
            url: default_url(),
            keep_runs: None,
            row_group_rows: default_row_group_rows(),
            row_group_bytes: default_row_group_bytes(),
            file_rows: default_file_rows(),
            lock_wait_secs: default_lock_wait(),
            region: None,
            endpoint_url: None,
            profile: None,
            role_arn: None,
            lease_secs: default_lease(),
        }
    }
}

impl ParquetSinkConfig {
    /// A config writing to `url` with defaults otherwise.
    pub fn for_url(url: impl Into<String>) -> Self {
        ParquetSinkConfig {
            url: url.into(),
            ..Default::default()
        }
    }

    /// How long to wait for another run's lock.
    pub fn lock_wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.lock_wait_secs)
    }

    /// Checks the values without touching the destination; the message
    /// names the offending key.
    pub fn validate(&self) -> Result<(), SinkError> {
        match self.location()? {
            Location::Local(_) => {
                let s3_only = [
                    ("region", self.region.is_some()),
                    ("endpoint_url", self.endpoint_url.is_some()),
                    ("profile", self.profile.is_some()),
                    ("role_arn", self.role_arn.is_some()),
                ];
                if let Some((key, _)) = s3_only.iter().find(|(_, set)| *set) {
                    return Err(SinkError::Config(format!(
                        "{key}: applies to s3:// urls only; `{}` is a local directory",
                        self.url
                    )));
                }
            }
            Location::S3 { .. } => {
                if !cfg!(feature = "s3") {
                    return Err(SinkError::Config(
                        "url: this cloudtab was built without S3 support; build it with the `s3` feature (on by default)".into(),
                    ));
                }
                if self.lease_secs < 3 {
                    return Err(SinkError::Config(
                        "lease_secs: must be at least 3 (a run renews its lease every third of it)"
                            .into(),
                    ));
                }
            }
        }
        if self.keep_runs == Some(0) {
            return Err(SinkError::Config(
                "keep_runs: must be at least 1 (leave it out to keep every run)".into(),
            ));
        }
        if self.row_group_rows == 0 || self.row_group_bytes == 0 || self.file_rows == 0 {
            return Err(SinkError::Config(
                "row_group_rows, row_group_bytes and file_rows must be greater than 0".into(),
            ));
        }
        Ok(())
    }

    /// Where the URL points.
    pub fn location(&self) -> Result<Location, SinkError> {
        let url = self.url.trim();
        let Some(rest) = url.strip_prefix("s3://") else {
            return self.local_path().map(Location::Local);
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !valid_bucket {
            return Err(SinkError::Config(format!(
                "url: `{url}` does not start with a bucket name (3-63 lower-case letters, digits, `-` or `.`): use s3://bucket/prefix"
            )));
        }
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
            && !prefix.is_empty()
        {
            return Err(SinkError::Config(format!(
                "url: `{url}` has an empty, `.` or `..` segment in its prefix"
            )));
        }
        Ok(Location::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The local directory of the URL (an error for an s3:// URL).
    pub fn local_path(&self) -> Result<PathBuf, SinkError> {
        let url = self.url.trim();
        if url.is_empty() {
            return Err(SinkError::Config(
                "url: must name a directory or a file:// URL".into(),
            ));
        }
        if let Some(rest) = url.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return Err(SinkError::Config(format!(
                    "url: `{url}` must be an absolute file:// URL (file:///path/to/dir)"
                )));
            }
            return Ok(PathBuf::from(rest));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(SinkError::Config(format!(
                "url: `{scheme}://` is not supported by the parquet sink; use a directory, a file:// URL or s3://bucket/prefix"
            )));
        }
        Ok(PathBuf::from(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            ParquetSinkConfig::for_url("file:///tmp/x")
                .local_path()
                .unwrap(),
            PathBuf::from("/tmp/x")
        );
        assert_eq!(
            ParquetSinkConfig::for_url("out").local_path().unwrap(),
            PathBuf::from("out")
        );
        assert!(ParquetSinkConfig::for_url("file://rel").validate().is_err());
        assert!(ParquetSinkConfig::for_url("gs://b")
            .validate()
            .unwrap_err()
            .to_string()
            .contains("gs://"));
        assert_eq!(
            ParquetSinkConfig::for_url("s3://my-bucket/a/b/")
                .location()
                .unwrap(),
            Location::S3 {
                bucket: "my-bucket".into(),
                prefix: "a/b".into()
            }
        );
        assert_eq!(
            ParquetSinkConfig::for_url("s3://my-bucket")
                .location()
                .unwrap(),
            Location::S3 {
                bucket: "my-bucket".into(),
                prefix: String::new()
            }
        );
        for bad in [
            "s3://",
            "s3://B/x",
            "s3://b/x",
            "s3://bucket/a//b",
            "s3://bucket/../x",
        ] {
            assert!(ParquetSinkConfig::for_url(bad).validate().is_err(), "{bad}");
        }
        let e = ParquetSinkConfig {
            region: Some("eu-west-1".into()),
            ..ParquetSinkConfig::for_url("out")
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("region: applies to s3:// urls only"), "{e}");
        assert!(ParquetSinkConfig {
            keep_runs: Some(0),
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
