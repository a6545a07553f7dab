//! The `sync` configuration: a YAML file, then flags on top.

use std::path::Path;

use cloudtab_extract::demo::DemoConfig;
use cloudtab_sinks::parquet::ParquetSinkConfig;
use serde::Deserialize;

use crate::cli::SyncArgs;
use crate::error::CliError;

/// The whole `sync` configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where resources come from; every source's scopes run in one snapshot.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Where the snapshot goes; each sink gets the same snapshot.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// Scopes extracted at the same time (default 8).
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Rows per table the flattener collects before handing a batch to the
    /// sinks (default 8192).
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
}

fn default_concurrency() -> usize {
    8
}
fn default_batch_rows() -> usize {
    cloudtab_flatten::DEFAULT_BATCH_ROWS
}

impl Default for Config {
    fn default() -> Self {
        Config { sources: Vec::new(), sinks: Vec::new(), max_concurrency: default_concurrency(), batch_rows: default_batch_rows() }
    }
}

/// A source, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SourceConfig {
    /// The generated demo cloud.
    Demo(DemoConfig),
}

/// A sink, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SinkConfig {
    /// Parquet files in a directory.
    Parquet(ParquetSinkConfig),
}

impl Config {
    /// Reads a YAML file; errors name the key path and line.
    pub fn from_file(path: &Path) -> Result<Config, CliError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read config file `{}`: {e}", path.display())))?;
        Config::from_yaml(&text).map_err(|e| CliError::usage(format!("config file `{}`: {e}", path.display())))
    }

    /// Parses YAML text.
    pub fn from_yaml(text: &str) -> Result<Config, String> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        serde_yaml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies command-line flags on top of the file, then defaults.
    pub fn apply_flags(mut self, a: &SyncArgs) -> Result<Config, CliError> {
        if let Some(src) = &a.source {
            let picked = match src.as_str() {
                "demo" => self
                    .sources
                    .iter()
                    .find(|s| matches!(s, SourceConfig::Demo(_)))
                    .cloned()
                    .unwrap_or(SourceConfig::Demo(DemoConfig::default())),
                other => {
                    return Err(CliError::usage(format!(
                        "--source: unknown source `{other}`; available: demo"
                    )))
                }
            };
            self.sources = vec![picked];
        }
        if self.sources.is_empty() {
            self.sources.push(SourceConfig::Demo(DemoConfig::default()));
        }
        if a.scale.is_some() || a.seed.is_some() {
            let mut applied = false;
            for s in &mut self.sources {
                let SourceConfig::Demo(d) = s;
                if let Some(v) = a.scale {
                    d.scale = v;
                }
                if let Some(v) = a.seed {
                    d.seed = v;
                }
                applied = true;
            }
            if !applied {
                return Err(CliError::usage("--scale and --seed apply to the demo source only"));
            }
        }
        if let Some(dest) = &a.sink {
            let base = self
                .sinks
                .iter()
                .map(|s| match s {
                    SinkConfig::Parquet(p) => p.clone(),
                })
                .next()
                .unwrap_or_default();
            if dest.contains("://") && !dest.starts_with("file://") {
                let scheme = dest.split("://").next().unwrap_or("");
                return Err(CliError::usage(format!(
                    "--sink: `{scheme}://` destinations are not supported yet; use a directory or a file:// URL"
                )));
            }
            self.sinks = vec![SinkConfig::Parquet(ParquetSinkConfig { url: dest.clone(), ..base })];
        }
        if self.sinks.is_empty() {
            self.sinks.push(SinkConfig::Parquet(ParquetSinkConfig::default()));
        }
        if let Some(k) = a.keep_runs {
            for s in &mut self.sinks {
                let SinkConfig::Parquet(p) = s;
                p.keep_runs = Some(k);
            }
        }
        if let Some(n) = a.max_concurrency {
            self.max_concurrency = n;
        }
        self.validate()?;
        Ok(self)
    }

    /// Checks every value without I/O.
    pub fn validate(&self) -> Result<(), CliError> {
        if self.max_concurrency == 0 || self.max_concurrency > 1024 {
            return Err(CliError::usage(format!("max_concurrency: must be between 1 and 1024, got {}", self.max_concurrency)));
        }
        if self.batch_rows == 0 || self.batch_rows > 1 << 20 {
            return Err(CliError::usage(format!("batch_rows: must be between 1 and 1048576, got {}", self.batch_rows)));
        }
        for (i, s) in self.sources.iter().enumerate() {
            let SourceConfig::Demo(d) = s;
            d.validate().map_err(|e| CliError::usage(format!("sources[{i}].{e}")))?;
        }
        for (i, s) in self.sinks.iter().enumerate() {
            let SinkConfig::Parquet(p) = s;
            p.validate().map_err(|e| CliError::usage(format!("sinks[{i}].{e}")))?;
        }
        Ok(())
    }

    /// Sources, sinks and options as JSON for `_runs.options` (no secrets:
    /// no sink or source here holds one yet; new ones must redact).
    pub fn options_json(&self) -> serde_json::Value {
        let sources: Vec<_> = self
            .sources
            .iter()
            .map(|s| match s {
                SourceConfig::Demo(d) => serde_json::json!({"type": "demo", "scale": d.scale, "seed": d.seed, "fail_scopes": d.fail_scopes}),
            })
            .collect();
        let sinks: Vec<_> = self
            .sinks
            .iter()
            .map(|s| match s {
                SinkConfig::Parquet(p) => serde_json::json!({"type": "parquet", "url": p.url, "keep_runs": p.keep_runs}),
            })
            .collect();
        serde_json::json!({"sources": sources, "sinks": sinks, "max_concurrency": self.max_concurrency, "batch_rows": self.batch_rows})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_wrong_types_name_path_and_line() {
        let e = Config::from_yaml("sources:\n  - type: demo\n    scal: 3\n").unwrap_err();
        assert!(e.contains("scal") && e.contains("line 3"), "{e}");
        let e = Config::from_yaml("sources:\n  - type: demo\n    scale: lots\n").unwrap_err();
        assert!(e.contains("scale") && e.contains("line 3"), "{e}");
        let e = Config::from_yaml("sinks:\n  - type: nosuch\n").unwrap_err();
        assert!(e.contains("nosuch"), "{e}");
        let e = Config::from_yaml("max_concurency: 3\n").unwrap_err();
        assert!(e.contains("max_concurency"), "{e}");
    }

    #[test]
    fn full_file_parses() {
        let c = Config::from_yaml(
            "sources:\n  - type: demo\n    scale: 3\n    seed: 7\nsinks:\n  - type: parquet\n    url: out\n    keep_runs: 2\nmax_concurrency: 4\n",
        )
        .unwrap();
        assert_eq!(c.sources, vec![SourceConfig::Demo(DemoConfig { scale: 3, seed: 7, fail_scopes: vec![] })]);
        assert_eq!(c.max_concurrency, 4);
        c.validate().unwrap();
    }
}
