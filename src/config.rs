//! The `sync` configuration: a YAML file, then flags on top.

// Built without the optional sources and sinks, the enums below have one
// variant each, and some matches become irrefutable.
#![cfg_attr(
    not(all(feature = "aws", feature = "postgres", feature = "snowflake")),
    allow(irrefutable_let_patterns, unreachable_patterns)
)]

use std::path::Path;

#[cfg(feature = "aws")]
use cloudtab_extract::aws::AwsConfig;
use cloudtab_extract::demo::DemoConfig;
use cloudtab_sinks::parquet::ParquetSinkConfig;
#[cfg(feature = "postgres")]
use cloudtab_sinks::postgres::PostgresSinkConfig;
#[cfg(feature = "snowflake")]
use cloudtab_sinks::snowflake::SnowflakeSinkConfig;
use cloudtab_sinks::Migrate;
use serde::Deserialize;

use crate::cli::{MigrateArg, SyncArgs};
use crate::error::CliError;

/// The whole `sync` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where resources come from; every source's scopes run in one snapshot.
    pub sources: Vec<SourceConfig>,
    /// Where the snapshot goes; each sink gets the same snapshot.
    pub sinks: Vec<SinkConfig>,
    /// Scopes extracted at the same time (default 8).
    pub max_concurrency: usize,
    /// Rows per table the flatten stage holds before handing batches to the
    /// sinks (default 4096). They are shared among the flatteners (one per
    /// core, at most 4): each hands out batches of `batch_rows / flatteners`
    /// rows. Peak memory grows with this number.
    pub batch_rows: usize,
    /// How long a failed scope's rows are carried forward, counted from
    /// when they were read (default 7 days).
    pub carry_max_age: Age,
}

/// A duration written `<number><unit>`: `90s`, `30m`, `12h`, `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age(pub std::time::Duration);

impl Default for Age {
    fn default() -> Self {
        Age(std::time::Duration::from_secs(7 * 86_400))
    }
}

impl std::str::FromStr for Age {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (n, unit) = s.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("`{s}` is not a duration like 90s, 30m, 12h or 7d"))?;
        let secs = match unit.trim() {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("`{s}` is not a duration like 90s, 30m, 12h or 7d")),
        };
        match n.checked_mul(secs) {
            Some(total) if total > 0 && total <= 3650 * 86_400 => {
                Ok(Age(std::time::Duration::from_secs(total)))
            }
            _ => Err(format!("`{s}` must be between 1s and 3650d")),
        }
    }
}

impl std::fmt::Display for Age {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.as_secs();
        match secs {
            s if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s % 3600 == 0 => write!(f, "{}h", s / 3600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl<'de> Deserialize<'de> for Age {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Age {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Age {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Age".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "duration: a number and `s`, `m`, `h` or `d`",
            "type": "string"
        })
    }
}

fn default_concurrency() -> usize {
    8
}
fn default_batch_rows() -> usize {
    cloudtab_flatten::DEFAULT_BATCH_ROWS
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sources: Vec::new(),
            sinks: Vec::new(),
            max_concurrency: default_concurrency(),
            batch_rows: default_batch_rows(),
            carry_max_age: Age::default(),
        }
    }
}

// Sources and sinks stay untyped here and are parsed one by one once their
// `type` is known, so that their errors carry full paths.
/// The keys at the top of the file.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    /// Where resources come from: a list of sources, each with a `type`
    /// (`demo` or `aws`, see below); every source's scopes land in one
    /// snapshot. Left out: one `demo` source with its defaults.
    #[serde(default)]
    #[schemars(with = "Option<Vec<serde_json::Map<String, serde_json::Value>>>")]
    sources: Option<Vec<serde_yaml::Value>>,
    /// Where the snapshot goes: a list of sinks, each with a `type`
    /// (`parquet` or `postgres`, see below); each gets the same snapshot.
    /// Left out: one `parquet` sink writing to `./cloudtab-data`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<serde_json::Map<String, serde_json::Value>>>")]
    sinks: Option<Vec<serde_yaml::Value>>,
    /// Scopes (account × region × service) extracted at the same time, 1
    /// to 1024.
    #[serde(default = "default_concurrency")]
    max_concurrency: usize,
    /// Rows per table the flatten stage holds before handing a batch to
    /// the sinks, 1 to 1048576; shared by the flatteners (one per core, at
    /// most 4). Peak memory grows with it.
    #[serde(default = "default_batch_rows")]
    batch_rows: usize,
    /// How long the rows of a scope that keeps failing are carried forward,
    /// counted from when they were read (their `_synced_at`): `90s`,
    /// `30m`, `12h`, `7d`. Older rows, and the edges that touch them, are
    /// dropped; `_scopes.carried_dropped` counts them.
    #[serde(default)]
    carry_max_age: Age,
}

/// `max_concurrency` out of range: the message, without the key.
fn concurrency_error(n: usize) -> Option<String> {
    (n == 0 || n > MAX_CONCURRENCY)
        .then(|| format!("must be between 1 and {MAX_CONCURRENCY}, got {n}"))
}

/// `batch_rows` out of range: the message, without the key.
fn batch_rows_error(n: usize) -> Option<String> {
    (n == 0 || n > MAX_BATCH_ROWS)
        .then(|| format!("must be between 1 and {MAX_BATCH_ROWS}, got {n}"))
}

/// Largest `max_concurrency`.
const MAX_CONCURRENCY: usize = 1024;
/// Largest `batch_rows`.
const MAX_BATCH_ROWS: usize = 1 << 20;

/// The message for a source or sink type this build left out.
#[cfg(not(all(feature = "aws", feature = "postgres", feature = "snowflake")))]
fn compiled_out(kind: &str, what: &str) -> String {
    format!(
        "the `{kind}` {what} is not in this build of cloudtab (built without its feature); build with `--features {kind}`, or with the default features, which include it"
    )
}

/// A validation message `key: message` (as the config types' `validate`
/// return them) placed at `path` in `text`: `path.key: message (line N)`.
fn located(text: &str, path: &[Seg], error: &str) -> String {
    match error.split_once(": ") {
        Some((key, message)) if !key.contains(' ') => at(text, path, key, message),
        _ => at(text, path, "", error),
    }
}

/// A validation message `key: message` about a value that a flag set:
/// `--flag: message`.
fn flag_error(flag: &str, error: &str) -> CliError {
    let message = match error.split_once(": ") {
        Some((key, message)) if !key.contains(' ') => message,
        _ => error,
    };
    CliError::usage(format!("{flag}: {message}"))
}

/// A step of a key path.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_text(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Deserializes `value` (found at `path` in `text`) into `T`, turning an
/// error into `path.key: message (line N)`.
fn typed<T: serde::de::DeserializeOwned>(
    text: &str,
    value: serde_yaml::Value,
    path: &[Seg],
) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.inner().to_string();
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        at(text, path, &key, &inner)
    })
}

/// `path.key: message (line N)`, with the line where `text` has the key.
fn at(text: &str, path: &[Seg], key: &str, message: &str) -> String {
    let mut full: Vec<Seg> = path.to_vec();
    let parts: Vec<String> = key
        .split('.')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    for p in &parts {
        match p.split_once('[') {
            Some((k, rest)) => {
                full.push(Seg::Key(k));
                if let Ok(i) = rest.trim_end_matches(']').parse() {
                    full.push(Seg::Index(i));
                }
            }
            None => full.push(Seg::Key(p)),
        }
    }
    let line = locate(text, &full)
        .map(|n| format!(" (line {n})"))
        .unwrap_or_default();
    let name = path_text(&full);
    if name.is_empty() {
        format!("{message}{line}")
    } else {
        format!("{name}: {message}{line}")
    }
}

/// One `sources:` or `sinks:` entry: typed as `T`, wrapped by `wrap`, then
/// checked by `validate`, so that a range error names its key and line
/// just like a type error.
fn entry<T, C>(
    text: &str,
    rest: serde_yaml::Value,
    path: &[Seg],
    wrap: impl Fn(T) -> C,
    validate: impl Fn(&C) -> Result<(), String>,
) -> Result<C, String>
where
    T: serde::de::DeserializeOwned,
{
    let config = wrap(typed(text, rest, path)?);
    validate(&config).map_err(|e| located(text, path, &e))?;
    Ok(config)
}

/// Parses the entries of a `sources:` or `sinks:` list: `parse` gets each
/// entry's `type` and the rest, and answers `None` for an unknown type.
fn typed_entries<T>(
    text: &str,
    key: &'static str,
    entries: Vec<serde_yaml::Value>,
    known: &str,
    parse: impl Fn(&str, serde_yaml::Value, &[Seg]) -> Option<Result<T, String>>,
) -> Result<Vec<T>, String> {
    let noun = key.trim_end_matches('s');
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let path = [Seg::Key(key), Seg::Index(i)];
            let (kind, rest) = split_type(text, entry, &path)?;
            parse(&kind, rest, &path).unwrap_or_else(|| {
                Err(at(
                    text,
                    &path,
                    "type",
                    &format!("unknown {noun} type `{kind}`, expected {known}"),
                ))
            })
        })
        .collect()
}

/// Takes `type` out of a source or sink entry.
fn split_type(
    text: &str,
    entry: serde_yaml::Value,
    path: &[Seg],
) -> Result<(String, serde_yaml::Value), String> {
    let serde_yaml::Value::Mapping(mut map) = entry else {
        return Err(at(text, path, "", "expected a mapping with a `type` key"));
    };
    match map.remove("type") {
        Some(serde_yaml::Value::String(kind)) => Ok((kind, serde_yaml::Value::Mapping(map))),
        Some(_) => Err(at(text, path, "type", "must be a string")),
        None => Err(at(text, path, "", "missing key `type`")),
    }
}

/// The 1-based line of the key at `path` in block-style YAML `text`, found
/// by indentation; `None` when it cannot be told (flow style, anchors).
fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let (mut start, mut end, mut indent) = (0usize, lines.len(), 0usize);
    let mut found = None;
    let content = |l: &str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let col = |l: &str| l.len() - l.trim_start().len();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                let want = format!("{k}:");
                let i = (start..end).find(|&i| {
                    let l = lines[i];
                    let t = l.trim_start().trim_start_matches("- ").trim_start();
                    content(l) && col(l) >= indent && t.starts_with(&want)
                })?;
                let l = lines[i];
                let key_col = l.len() - l.trim_start().trim_start_matches("- ").trim_start().len();
                found = Some(i + 1);
                let next = (i + 1..end)
                    .find(|&j| {
                        content(lines[j])
                            && col(lines[j]) <= key_col
                            && !lines[j].trim_start().starts_with("- ")
                            || (content(lines[j]) && col(lines[j]) < key_col)
                    })
                    .unwrap_or(end);
                start = i + 1;
                end = next;
                indent = key_col;
            }
            Seg::Index(n) => {
                let items: Vec<usize> = (start..end)
                    .filter(|&i| content(lines[i]) && lines[i].trim_start().starts_with("- "))
                    .collect();
                let dash = items.iter().map(|&i| col(lines[i])).min()?;
                let items: Vec<usize> = items
                    .into_iter()
                    .filter(|&i| col(lines[i]) == dash)
                    .collect();
                let i = *items.get(*n)?;
                found = Some(i + 1);
                start = i;
                end = items.get(n + 1).copied().unwrap_or(end);
                indent = dash;
            }
        }
    }
    found
}

/// A source, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceConfig {
    /// The generated demo cloud.
    Demo(DemoConfig),
    /// AWS accounts, through the AWS SDK.
    #[cfg(feature = "aws")]
    Aws(AwsConfig),
}

/// A sink, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkConfig {
    /// Parquet files in a directory.
    Parquet(ParquetSinkConfig),
    /// Tables in a PostgreSQL schema.
    #[cfg(feature = "postgres")]
    Postgres(PostgresSinkConfig),
    /// Tables in a Snowflake schema (boxed: the largest config by far).
    #[cfg(feature = "snowflake")]
    Snowflake(Box<SnowflakeSinkConfig>),
}

impl SourceConfig {
    /// Checks the values without I/O: `key: message` on error.
    fn validate(&self) -> Result<(), String> {
        match self {
            SourceConfig::Demo(d) => d.validate(),
            #[cfg(feature = "aws")]
            SourceConfig::Aws(a) => a.validate(),
        }
    }
}

impl SinkConfig {
    /// Checks the values without I/O: `key: message` on error.
    fn validate(&self) -> Result<(), String> {
        match self {
            SinkConfig::Parquet(p) => p.validate(),
            #[cfg(feature = "postgres")]
            SinkConfig::Postgres(p) => p.validate(),
            #[cfg(feature = "snowflake")]
            SinkConfig::Snowflake(p) => p.validate(),
        }
        .map_err(|e| e.to_string())
    }

    /// `sink` parsed from a `--sink` value: a postgres:// or snowflake://
    /// URL or a Parquet directory / file:// URL; `file` supplies the other
    /// options when it has a sink of the same type.
    fn from_flag(dest: &str, file: &[SinkConfig]) -> Result<SinkConfig, CliError> {
        if dest.starts_with("snowflake://") {
            #[cfg(not(feature = "snowflake"))]
            return Err(CliError::usage(format!(
                "--sink: {}",
                compiled_out("snowflake", "sink")
            )));
            #[cfg(feature = "snowflake")]
            {
                let base = file.iter().find_map(|s| match s {
                    SinkConfig::Snowflake(p) => Some((**p).clone()),
                    _ => None,
                });
                let mut p = base.unwrap_or_default();
                // The URL replaces the file's location keys.
                p.url = Some(dest.to_string());
                p.account = None;
                p.user = None;
                p.database = None;
                return Ok(SinkConfig::Snowflake(Box::new(p)));
            }
        }
        if dest.starts_with("postgres://") || dest.starts_with("postgresql://") {
            #[cfg(not(feature = "postgres"))]
            return Err(CliError::usage(format!(
                "--sink: {}",
                compiled_out("postgres", "sink")
            )));
            #[cfg(feature = "postgres")]
            {
                let base = file.iter().find_map(|s| match s {
                    SinkConfig::Postgres(p) => Some(p.clone()),
                    _ => None,
                });
                let mut p = base.unwrap_or_else(|| PostgresSinkConfig::for_url(dest));
                p.url = dest.to_string();
                return Ok(SinkConfig::Postgres(p));
            }
        }
        if dest.contains("://") && !dest.starts_with("file://") && !dest.starts_with("s3://") {
            let scheme = dest.split("://").next().unwrap_or("");
            return Err(CliError::usage(format!(
                "--sink: `{scheme}://` destinations are not supported; use a directory, a file:// URL, s3://bucket/prefix, a postgres:// URL or a snowflake:// URL"
            )));
        }
        let base = file
            .iter()
            .find_map(|s| match s {
                SinkConfig::Parquet(p) => Some(p.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let mut p = ParquetSinkConfig {
            url: dest.to_string(),
            ..base
        };
        if !dest.starts_with("s3://") {
            // The file's S3 options do not apply to a local directory.
            (p.region, p.endpoint_url, p.profile, p.role_arn) = (None, None, None, None);
        }
        Ok(SinkConfig::Parquet(p))
    }
}

impl Config {
    /// Reads a YAML file; errors name the key path and line.
    pub fn from_file(path: &Path) -> Result<Config, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::usage(format!("cannot read config file `{}`: {e}", path.display()))
        })?;
        Config::from_yaml(&text)
            .map_err(|e| CliError::usage(format!("config file `{}`: {e}", path.display())))
    }

    /// Parses YAML text. Errors name the key path (`sources[0].scale`) and,
    /// where it can be found in the text, the line.
    pub fn from_yaml(text: &str) -> Result<Config, String> {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        if doc.is_null() {
            return Ok(Config::default());
        }
        // Sources and sinks are parsed one by one after their `type` is
        // known, so that errors carry the full path of the offending key.
        let raw: RawConfig = typed(text, doc, &[])?;
        if let Some(e) = concurrency_error(raw.max_concurrency) {
            return Err(at(text, &[], "max_concurrency", &e));
        }
        if let Some(e) = batch_rows_error(raw.batch_rows) {
            return Err(at(text, &[], "batch_rows", &e));
        }
        let mut config = Config {
            sources: Vec::new(),
            sinks: Vec::new(),
            max_concurrency: raw.max_concurrency,
            batch_rows: raw.batch_rows,
            carry_max_age: raw.carry_max_age,
        };
        if raw.sources.as_ref().is_some_and(Vec::is_empty) {
            return Err(at(
                text,
                &[],
                "sources",
                "an empty list reads nothing; leave `sources` out for the demo cloud, or name a source (`type: demo` or `type: aws`)",
            ));
        }
        if raw.sinks.as_ref().is_some_and(Vec::is_empty) {
            return Err(at(
                text,
                &[],
                "sinks",
                "an empty list writes nowhere; leave `sinks` out for Parquet in ./cloudtab-data, or name a sink (`type: parquet` or `type: postgres`)",
            ));
        }
        config.sources = typed_entries(
            text,
            "sources",
            raw.sources.unwrap_or_default(),
            "`demo` or `aws`",
            |kind, rest, path| match kind {
                "demo" => Some(entry(
                    text,
                    rest,
                    path,
                    SourceConfig::Demo,
                    SourceConfig::validate,
                )),
                #[cfg(feature = "aws")]
                "aws" => Some(entry(
                    text,
                    rest,
                    path,
                    SourceConfig::Aws,
                    SourceConfig::validate,
                )),
                #[cfg(not(feature = "aws"))]
                "aws" => Some(Err(at(text, path, "type", &compiled_out("aws", "source")))),
                _ => None,
            },
        )?;
        config.sinks = typed_entries(
            text,
            "sinks",
            raw.sinks.unwrap_or_default(),
            "`parquet`, `postgres` or `snowflake`",
            |kind, rest, path| match kind {
                "parquet" => Some(entry(
                    text,
                    rest,
                    path,
                    SinkConfig::Parquet,
                    SinkConfig::validate,
                )),
                #[cfg(feature = "postgres")]
                "postgres" => Some(entry(
                    text,
                    rest,
                    path,
                    SinkConfig::Postgres,
                    SinkConfig::validate,
                )),
                #[cfg(not(feature = "postgres"))]
                "postgres" => Some(Err(at(
                    text,
                    path,
                    "type",
                    &compiled_out("postgres", "sink"),
                ))),
                #[cfg(feature = "snowflake")]
                "snowflake" => Some(entry(
                    text,
                    rest,
                    path,
                    |c| SinkConfig::Snowflake(Box::new(c)),
                    SinkConfig::validate,
                )),
                #[cfg(not(feature = "snowflake"))]
                "snowflake" => Some(Err(at(
                    text,
                    path,
                    "type",
                    &compiled_out("snowflake", "sink"),
                ))),
                _ => None,
            },
        )?;
        Ok(config)
    }

    /// Applies command-line flags on top of the file, then defaults. A
    /// source or sink built from flags alone gets exactly the defaults a
    /// config file naming only its `type` gets; an error about a value a
    /// flag set names the flag.
    pub fn apply_flags(mut self, a: &SyncArgs) -> Result<Config, CliError> {
        if let Some(src) = &a.source {
            let picked = match src.as_str() {
                "demo" => self
                    .sources
                    .iter()
                    .find(|s| matches!(s, SourceConfig::Demo(_)))
                    .cloned()
                    .unwrap_or(SourceConfig::Demo(DemoConfig::default())),
                #[cfg(feature = "aws")]
                "aws" => self
                    .sources
                    .iter()
                    .find(|s| matches!(s, SourceConfig::Aws(_)))
                    .cloned()
                    .unwrap_or(SourceConfig::Aws(AwsConfig::default())),
                #[cfg(not(feature = "aws"))]
                "aws" => {
                    return Err(CliError::usage(format!(
                        "--source: {}",
                        compiled_out("aws", "source")
                    )))
                }
                other => {
                    return Err(CliError::usage(format!(
                        "--source: unknown source `{other}`; available: {}",
                        crate::cli::SOURCES.join(", ")
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
                let SourceConfig::Demo(d) = s else { continue };
                if let Some(v) = a.scale {
                    d.scale = v;
                }
                if let Some(v) = a.seed {
                    d.seed = v;
                }
                d.validate().map_err(|e| flag_error("--scale", &e))?;
                applied = true;
            }
            if !applied {
                return Err(CliError::usage(
                    "--scale and --seed apply to the demo source only",
                ));
            }
        }
        if let Some(dest) = &a.sink {
            let sink = SinkConfig::from_flag(dest, &self.sinks)?;
            sink.validate().map_err(|e| flag_error("--sink", &e))?;
            self.sinks = vec![sink];
        }
        if self.sinks.is_empty() {
            self.sinks
                .push(SinkConfig::Parquet(ParquetSinkConfig::default()));
        }
        if let Some(k) = a.keep_runs {
            let mut applied = false;
            for s in &mut self.sinks {
                if let SinkConfig::Parquet(p) = s {
                    p.keep_runs = Some(k);
                    p.validate()
                        .map_err(|e| flag_error("--keep-runs", &e.to_string()))?;
                    applied = true;
                }
            }
            if !applied {
                return Err(CliError::usage("--keep-runs applies to parquet sinks only"));
            }
        }
        if let Some(m) = a.migrate {
            let m = match m {
                MigrateArg::Safe => Migrate::Safe,
                MigrateArg::Force => Migrate::Force,
            };
            #[cfg_attr(
                not(any(feature = "postgres", feature = "snowflake")),
                allow(unused_mut)
            )]
            let mut applied = false;
            for s in &mut self.sinks {
                match s {
                    #[cfg(feature = "postgres")]
                    SinkConfig::Postgres(p) => {
                        p.migrate = m;
                        applied = true;
                    }
                    #[cfg(feature = "snowflake")]
                    SinkConfig::Snowflake(p) => {
                        p.migrate = m;
                        applied = true;
                    }
                    _ => {}
                }
            }
            if !applied {
                let _ = m;
                return Err(CliError::usage(
                    "--migrate applies to postgres and snowflake sinks only",
                ));
            }
        }
        if let Some(n) = a.max_concurrency {
            if let Some(e) = concurrency_error(n) {
                return Err(CliError::usage(format!("--max-concurrency: {e}")));
            }
            self.max_concurrency = n;
        }
        self.validate()?;
        Ok(self)
    }

    /// Checks every value without I/O.
    pub fn validate(&self) -> Result<(), CliError> {
        if let Some(e) = concurrency_error(self.max_concurrency) {
            return Err(CliError::usage(format!("max_concurrency: {e}")));
        }
        if let Some(e) = batch_rows_error(self.batch_rows) {
            return Err(CliError::usage(format!("batch_rows: {e}")));
        }
        for (i, s) in self.sources.iter().enumerate() {
            s.validate()
                .map_err(|e| CliError::usage(format!("sources[{i}].{e}")))?;
        }
        for (i, s) in self.sinks.iter().enumerate() {
            s.validate()
                .map_err(|e| CliError::usage(format!("sinks[{i}].{e}")))?;
        }
        Ok(())
    }

    /// Sources, sinks and options as JSON for `_runs.options`, without
    /// secrets (URLs are redacted, password files and variables left out).
    pub fn options_json(&self) -> serde_json::Value {
        let sources: Vec<_> = self
            .sources
            .iter()
            .map(|s| match s {
                SourceConfig::Demo(d) => serde_json::json!({"type": "demo", "scale": d.scale, "seed": d.seed, "fail_scopes": d.fail_scopes}),
                #[cfg(feature = "aws")]
                SourceConfig::Aws(a) => serde_json::json!({
                    "type": "aws",
                    "accounts": a.accounts.iter().map(|x| serde_json::json!({"profile": x.profile, "role_arn": x.role_arn})).collect::<Vec<_>>(),
                    "regions": match &a.regions { cloudtab_extract::aws::Regions::All => serde_json::json!("all"), cloudtab_extract::aws::Regions::List(l) => serde_json::json!(l) },
                    "endpoint_url": a.endpoint_url,
                    "services": a.services,
                }),
            })
            .collect();
        let sinks: Vec<_> = self
            .sinks
            .iter()
            .map(|s| match s {
                SinkConfig::Parquet(p) => {
                    serde_json::json!({"type": "parquet", "url": p.url, "keep_runs": p.keep_runs, "region": p.region, "endpoint_url": p.endpoint_url, "profile": p.profile, "role_arn": p.role_arn})
                }
                #[cfg(feature = "postgres")]
                SinkConfig::Postgres(p) => serde_json::json!({
                    "type": "postgres",
                    "url": p.redacted_url(),
                    "schema": p.schema,
                    "mode": format!("{:?}", p.mode).to_lowercase(),
                }),
                #[cfg(feature = "snowflake")]
                SinkConfig::Snowflake(p) => serde_json::json!({
                    "type": "snowflake",
                    "destination": p.describe(),
                    "warehouse": p.resolve().ok().and_then(|r| r.warehouse),
                    "stage": p.stage,
                    "mode": format!("{:?}", p.mode).to_lowercase(),
                }),
            })
            .collect();
        serde_json::json!({"sources": sources, "sinks": sinks, "max_concurrency": self.max_concurrency, "batch_rows": self.batch_rows, "carry_max_age": self.carry_max_age.to_string()})
    }
}

// The full set of sources and sinks (the default features).
#[cfg(all(test, feature = "aws", feature = "postgres"))]
mod tests {
    use super::*;
    use clap::Parser;

    /// The config `cloudtab sync ARGS` builds without a file.
    fn from_flags(args: &[&str]) -> Result<Config, CliError> {
        let cli = crate::cli::Cli::try_parse_from(["cloudtab", "sync"].iter().chain(args).copied())
            .unwrap();
        let crate::cli::Command::Sync(a) = cli.command else {
            unreachable!()
        };
        Config::default().apply_flags(&a)
    }

    /// The config a file with `text` gives (no flags).
    fn from_file(text: &str) -> Config {
        let cli = crate::cli::Cli::try_parse_from(["cloudtab", "sync"]).unwrap();
        let crate::cli::Command::Sync(a) = cli.command else {
            unreachable!()
        };
        Config::from_yaml(text).unwrap().apply_flags(&a).unwrap()
    }

    #[test]
    fn flags_alone_give_exactly_the_defaults_of_a_minimal_file() {
        // Issue #17: `--source aws` failed with max_attempts 0.
        for (flags, file) in [
            (vec!["--source", "demo"], "sources:\n  - type: demo\n"),
            (vec!["--source", "aws"], "sources:\n  - type: aws\n"),
            (
                vec!["--sink", "out"],
                "sinks:\n  - type: parquet\n    url: out\n",
            ),
            (
                vec!["--sink", "file:///tmp/out"],
                "sinks:\n  - type: parquet\n    url: file:///tmp/out\n",
            ),
            (
                vec!["--sink", "postgres://me@127.0.0.1:5432/inv"],
                "sinks:\n  - type: postgres\n    url: postgres://me@127.0.0.1:5432/inv\n",
            ),
            (
                vec!["--sink", "s3://bucket/prefix"],
                "sinks:\n  - type: parquet\n    url: s3://bucket/prefix\n",
            ),
            (vec![], ""),
        ] {
            let built = from_flags(&flags).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
            assert_eq!(built, from_file(file), "{flags:?}");
        }
        let SourceConfig::Aws(aws) = &from_flags(&["--source", "aws"]).unwrap().sources[0] else {
            panic!("not aws")
        };
        assert_eq!(aws.max_attempts, 10);
    }

    #[test]
    fn a_sink_flag_keeps_the_files_s3_options_for_s3_only() {
        let file = "sinks:\n  - type: parquet\n    url: s3://inv-a/x\n    region: eu-west-1\n    endpoint_url: http://127.0.0.1:9000\n    keep_runs: 3\n";
        let sink = |dest: &str| {
            let cfg = Config::from_yaml(file).unwrap();
            match SinkConfig::from_flag(dest, &cfg.sinks).unwrap() {
                SinkConfig::Parquet(p) => p,
                #[allow(unreachable_patterns)]
                _ => panic!("not parquet"),
            }
        };
        let s3 = sink("s3://inv-b/y");
        assert_eq!(s3.url, "s3://inv-b/y");
        assert_eq!(s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s3.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.keep_runs, Some(3));
        // A local directory keeps the other options, not the S3 ones.
        let local = sink("./out");
        assert_eq!((&local.region, &local.endpoint_url), (&None, &None));
        assert_eq!(local.keep_runs, Some(3));
        assert!(local.validate().is_ok());
    }

    #[test]
    fn empty_lists_are_errors_not_defaults() {
        let e = Config::from_yaml("sources:\n  - type: demo\nsinks: []\n").unwrap_err();
        assert!(
            e.starts_with("sinks: an empty list writes nowhere") && e.ends_with("(line 3)"),
            "{e}"
        );
        let e = Config::from_yaml("sources: []\n").unwrap_err();
        assert!(e.starts_with("sources: an empty list reads nothing"), "{e}");
    }

    #[test]
    fn range_errors_name_the_line_or_the_flag() {
        let e = Config::from_yaml("sources:\n  - type: demo\n    scale: 0\n").unwrap_err();
        assert_eq!(
            e,
            "sources[0].scale: must be between 1 and 100000, got 0 (line 3)"
        );
        let e = Config::from_yaml("# c\nmax_concurrency: 0\n").unwrap_err();
        assert_eq!(
            e,
            "max_concurrency: must be between 1 and 1024, got 0 (line 2)"
        );
        let e = Config::from_yaml("batch_rows: 0\n").unwrap_err();
        assert!(
            e.starts_with("batch_rows: must be") && e.ends_with("(line 1)"),
            "{e}"
        );
        let e = Config::from_yaml("sinks:\n  - type: parquet\n    url: x\n    keep_runs: 0\n")
            .unwrap_err();
        assert!(
            e.starts_with("sinks[0].keep_runs: must be at least 1") && e.ends_with("(line 4)"),
            "{e}"
        );
        let e = Config::from_yaml("sources:\n  - type: aws\n    max_attempts: 0\n").unwrap_err();
        assert!(
            e.starts_with("sources[0].max_attempts:") && e.ends_with("(line 3)"),
            "{e}"
        );
        let e = Config::from_yaml(
            "sinks:\n  - type: postgres\n    url: postgres://h/db\n    schema: ''\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with("sinks[0].schema:") && e.ends_with("(line 4)"),
            "{e}"
        );

        let flag = |args: &[&str]| from_flags(args).unwrap_err().to_string();
        assert_eq!(
            flag(&["--scale", "0"]),
            "--scale: must be between 1 and 100000, got 0"
        );
        assert_eq!(
            flag(&["--max-concurrency", "0"]),
            "--max-concurrency: must be between 1 and 1024, got 0"
        );
        assert!(flag(&["--keep-runs", "0"]).starts_with("--keep-runs: must be at least 1"));
        assert!(flag(&["--sink", "file://relative"])
            .starts_with("--sink: `file://relative` must be an absolute"));
    }

    #[test]
    fn the_deploy_examples_are_valid_configs() {
        let c = Config::from_yaml(include_str!("../deploy/cloudtab.yaml")).unwrap();
        assert!(matches!(c.sources[..], [SourceConfig::Aws(_)]));
        assert!(matches!(c.sinks[..], [SinkConfig::Postgres(_)]));
        // The Kubernetes ConfigMap carries a config of its own.
        let docs: Vec<serde_yaml::Value> =
            serde_yaml::Deserializer::from_str(include_str!("../deploy/kubernetes/cronjob.yaml"))
                .map(|d| serde_yaml::Value::deserialize(d).unwrap())
                .collect();
        let map = docs
            .iter()
            .find(|d| d["kind"] == "ConfigMap")
            .expect("a ConfigMap");
        let text = map["data"]["cloudtab.yaml"].as_str().unwrap();
        let c = Config::from_yaml(text).unwrap();
        assert!(matches!(c.sinks[..], [SinkConfig::Postgres(_)]));
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_path_and_line() {
        let e = Config::from_yaml("sources:\n  - type: demo\n    scal: 3\n").unwrap_err();
        assert!(e.contains("sources[0].scal") && e.contains("line 3"), "{e}");
        let e = Config::from_yaml("sources:\n  - type: demo\n    scale: lots\n").unwrap_err();
        assert!(
            e.contains("sources[0].scale") && e.contains("line 3"),
            "{e}"
        );
        let e = Config::from_yaml("sinks:\n  - type: nosuch\n").unwrap_err();
        assert!(e.contains("nosuch"), "{e}");
        let e = Config::from_yaml("sources: []\nmax_concurency: 3\n").unwrap_err();
        assert!(e.contains("max_concurency") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn errors_carry_full_paths_and_lines() {
        let text = "# comment\nmax_concurrency: 4\nsources:\n  - type: demo\n    scale: 1\n  - type: demo\n    seed: 2\n    scale: lots\nsinks:\n  - type: parquet\n    url: x\n    colour: red\n";
        let e = Config::from_yaml(text).unwrap_err();
        assert!(
            e.starts_with("sources[1].scale: invalid type") && e.ends_with("(line 8)"),
            "{e}"
        );
        let e = Config::from_yaml(&text.replace("lots", "3")).unwrap_err();
        assert!(
            e.starts_with("sinks[0].colour: unknown field `colour`") && e.ends_with("(line 12)"),
            "{e}"
        );
        let e = Config::from_yaml("sources:\n  - type: gcp\n").unwrap_err();
        assert_eq!(
            e,
            "sources[0].type: unknown source type `gcp`, expected `demo` or `aws` (line 2)"
        );
        let e = Config::from_yaml("sources:\n  - type: aws\n    regions: some\n").unwrap_err();
        assert!(
            e.starts_with("sources[0].regions: expected a list of regions or `all`"),
            "{e}"
        );
        let e = Config::from_yaml(
            "sources:\n  - type: aws\n    regions: [us-east-1]\n    services: [ec2, redshift]\n",
        )
        .unwrap_err();
        assert!(
            e.contains("sources[0].services: unknown service `redshift`")
                && e.ends_with("(line 4)"),
            "{e}"
        );
        let e = Config::from_yaml("sources:\n  - scale: 3\n").unwrap_err();
        assert!(e.contains("sources[0]: missing key `type` (line 2)"), "{e}");
        let e = Config::from_yaml("sources: [1, 2\n").unwrap_err();
        assert!(e.contains("line"), "syntax errors have lines: {e}");
    }

    #[test]
    fn full_file_parses() {
        let c = Config::from_yaml(
            "sources:\n  - type: demo\n    scale: 3\n    seed: 7\nsinks:\n  - type: parquet\n    url: out\n    keep_runs: 2\nmax_concurrency: 4\n",
        )
        .unwrap();
        assert_eq!(
            c.sources,
            vec![SourceConfig::Demo(DemoConfig {
                scale: 3,
                seed: 7,
                fail_scopes: vec![]
            })]
        );
        assert_eq!(c.max_concurrency, 4);
        c.validate().unwrap();
    }
}
