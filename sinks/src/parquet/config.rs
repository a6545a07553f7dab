use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::sink::SinkError;

/// Configuration of the `parquet` sink.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParquetSinkConfig {
    /// Where to write: a directory path or a `file://` URL. Created if
    /// missing.
    #[serde(default = "default_url")]
    pub url: String,
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
    /// Seconds to wait for another run writing to the same directory
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

impl Default for ParquetSinkConfig {
    fn default() -> Self {
        ParquetSinkConfig {
            url: default_url(),
            keep_runs: None,
            row_group_rows: default_row_group_rows(),
            row_group_bytes: default_row_group_bytes(),
            file_rows: default_file_rows(),
            lock_wait_secs: default_lock_wait(),
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
        self.local_path()?;
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

    /// The local directory of the URL.
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
                "url: `{scheme}://` is not supported by the parquet sink yet; use a directory or a file:// URL"
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
        assert!(ParquetSinkConfig {
            keep_runs: Some(0),
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
