//! The `cloudtab` binary: command-line parsing and wiring only. The work is
//! done by the crates in `schemas/`, `extract/`, `flatten/` and `sinks/`.

mod cli;
mod config;
mod error;
mod pipeline;
mod progress;
mod query;
mod summary;

use std::io::IsTerminal;
use std::sync::Arc;

use clap::Parser;
use cloudtab_extract::runner::Progress;
use cloudtab_schema::{markdown, postgres_ddl, Registry};

use crate::cli::{Cli, Command, LogFormat, ProgressMode, SchemaFormat, SyncArgs};
use crate::config::Config;
use crate::error::{exit, CliError};

// jemalloc: items are allocated on extractor threads and freed on the
// flattener's, a pattern glibc's allocator handles slowly (a fifth of the
// CPU went to consolidating free lists). Measured in docs/BENCHMARKS.md.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at start-up: two arenas and quick return of
/// freed pages keep peak RSS flat (the `_RJEM_MALLOC_CONF` environment
/// variable still overrides them).
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8; 46] = b"dirty_decay_ms:500,muzzy_decay_ms:0,narenas:2\0";

fn main() {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(exit::FAILURE);
        }
    };
    let log_format = cli.log_format;
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if log_format == LogFormat::Json {
                tracing::error!(error = %e, exit_code = e.code, "failed");
            }
            e.code
        }
    };
    // Dropping the runtime waits for blocking tasks; after an abort there
    // may be generator threads still waiting on a closed channel.
    runtime.shutdown_background();
    std::process::exit(code);
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CLOUDTAB_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .compact()
            .init(),
    }
}

/// One IAM policy statement allowing every action the AWS tables list.
fn iam_policy(registry: &Registry) -> serde_json::Value {
    let mut actions: Vec<&str> = registry
        .tables()
        .iter()
        .filter(|t| {
            matches!(
                t.kind,
                cloudtab_schema::TableKind::Resource { cloud: "aws", .. }
            )
        })
        .flat_map(|t| t.permissions.iter().copied())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "CloudtabReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*"}]
    })
}

async fn run(cli: Cli) -> Result<i32, CliError> {
    match cli.command {
        Command::Schema(a) => {
            let registry = Registry::builtin();
            let text = match a.format {
                SchemaFormat::Md => markdown(registry),
                SchemaFormat::Postgres => postgres_ddl(registry, &a.pg_schema),
                SchemaFormat::Json => {
                    serde_json::to_string_pretty(registry.tables()).map_err(CliError::failure)?
                        + "\n"
                }
                SchemaFormat::IamPolicy => {
                    serde_json::to_string_pretty(&iam_policy(registry))
                        .map_err(CliError::failure)?
                        + "\n"
                }
            };
            print!("{text}");
            Ok(exit::OK)
        }
        Command::Query(a) => {
            query::run(&a.data, &a.sql, a.format).await?;
            Ok(exit::OK)
        }
        Command::Sync(a) => sync(a, cli.log_format).await,
    }
}

async fn sync(args: SyncArgs, log_format: LogFormat) -> Result<i32, CliError> {
    let file = match &args.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    let config = file.apply_flags(&args)?;
    let bars = (args.progress == ProgressMode::Auto
        && log_format == LogFormat::Text
        && std::io::stderr().is_terminal())
    .then(progress::Bars::new);
    let progress: Arc<dyn Progress> = match &bars {
        Some(b) => b.clone(),
        None => progress::Lines::new(),
    };
    let result = tokio::select! {
        r = pipeline::sync(&config, progress) => r,
        _ = tokio::signal::ctrl_c() => {
            // Dropping the pipeline drops every open transaction: nothing
            // was committed, and leftovers are invisible to readers.
            Err(CliError { code: exit::INTERRUPTED, error: anyhow::anyhow!("interrupted; nothing was committed") })
        }
    };
    if let Some(b) = &bars {
        b.finish();
    }
    let outcome = result?;
    summary::print(&outcome, log_format);
    Ok(if outcome.failed_scopes().next().is_some() {
        exit::PARTIAL
    } else {
        exit::OK
    })
}
