//! Command-line interface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// cloudtab: cloud inventory as SQL tables, one consistent snapshot per run.
#[derive(Debug, Parser)]
#[command(name = "cloudtab", version, about, long_about = None)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (progress bars on a terminal).
    Text,
    /// One JSON object per line; the sync summary is JSON on stdout too.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read resources from a source and write one snapshot into the sinks.
    Sync(SyncArgs),
    /// Run SQL over the latest committed Parquet snapshot.
    Query(QueryArgs),
    /// Print the table model, the IAM policy or the config reference.
    Schema(SchemaArgs),
    /// Print a shell completion script (`cloudtab completions bash >
    /// /etc/bash_completion.d/cloudtab`).
    Completions(CompletionsArgs),
}

/// Source types `--source` accepts.
pub const SOURCES: &[&str] = &["demo", "aws"];

/// `cloudtab completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `cloudtab sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// YAML file with `sources:` and `sinks:`; flags override it.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Source type: `demo` (a generated AWS-shaped cloud, no account
    /// needed; the default) or `aws` (the standard AWS credential chain:
    /// environment, profiles, SSO, instance and container metadata).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(SOURCES))]
    pub source: Option<String>,
    /// Demo source: size of the inventory (about 100 resources per unit).
    #[arg(long)]
    pub scale: Option<u64>,
    /// Demo source: generator seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Destination (default ./cloudtab-data). Parquet: a directory, a
    /// file:///absolute/path URL, or s3://bucket/prefix (region, endpoint
    /// and credentials options from the config's parquet sink, else the
    /// AWS credential chain). PostgreSQL: postgres://user@host:port/db
    /// or postgresql://… (password from the URL, PGPASSWORD, or
    /// `password_file` in the config). Snowflake:
    /// snowflake://user@account/database/schema?warehouse=…&role=… (the
    /// secret from the config's snowflake sink, else SNOWFLAKE_PASSWORD).
    #[arg(
        long,
        value_name = "DIR|file://PATH|s3://BUCKET/PREFIX|postgres://URL|snowflake://URL"
    )]
    pub sink: Option<String>,
    /// PostgreSQL and Snowflake sinks: `force` drops and recreates tables whose columns
    /// were removed or retyped (default `safe`: such a run fails, exit 2).
    #[arg(long, value_enum)]
    pub migrate: Option<MigrateArg>,
    /// Parquet sink: committed runs to keep (older ones are deleted).
    #[arg(long)]
    pub keep_runs: Option<usize>,
    /// Scopes extracted at the same time.
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// Progress display.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

/// `--migrate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateArg {
    /// Add new columns; fail on removed or retyped ones.
    Safe,
    /// Drop and recreate tables whose columns were removed or retyped.
    Force,
}

/// When to draw progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// Bars on a terminal, log lines otherwise.
    Auto,
    /// Always log lines.
    Never,
}

/// `cloudtab query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// SQL to run. Tables: every table of the snapshot, `_edges`, `_runs`,
    /// `_scopes`, `_issues`, and the view `_resources` (base columns of all
    /// resource tables plus `kind`). Functions: `tag(tags, key)` and
    /// `json_get(json, key)`.
    pub sql: String,
    /// Parquet snapshot to read (the directory, file:// URL or
    /// s3://bucket/prefix a `sync` wrote to). `query` reads Parquet
    /// snapshots only, not PostgreSQL.
    #[arg(long, default_value = "./cloudtab-data")]
    pub data: String,
    /// S3 only: the bucket's region (default: the profile's, else
    /// us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// S3 only: endpoint of an S3-compatible store or emulator.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// S3 only: AWS profile to sign with (default: the standard chain).
    #[arg(long)]
    pub profile: Option<String>,
    /// S3 only: role to assume for reading.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
}

/// Query output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// Aligned text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// `cloudtab schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Md)]
    pub format: SchemaFormat,
    /// PostgreSQL schema the DDL of `--format postgres` names.
    #[arg(long, default_value = "cloudtab")]
    pub pg_schema: String,
    /// Snowflake schema the DDL of `--format snowflake` names (written in
    /// upper case).
    #[arg(long, default_value = "cloudtab")]
    pub sf_schema: String,
}

/// Schema output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    /// Markdown reference.
    Md,
    /// JSON.
    Json,
    /// PostgreSQL DDL.
    Postgres,
    /// Snowflake DDL (the tables the Snowflake sink will create).
    Snowflake,
    /// The read-only AWS IAM policy that every AWS table needs.
    IamPolicy,
    /// dbt `sources:` YAML for every table, with descriptions and data
    /// tests (`dbt_example/models/sources.yml`).
    Dbt,
    /// The configuration file reference (docs/CONFIG.md), from the config
    /// types' doc comments.
    Config,
}
