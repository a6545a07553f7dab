//! The `cloudtab` binary: command-line parsing and wiring only. The work is
//! done by the crates in `schemas/`, `extract/`, `flatten/` and `sinks/`.

mod cli;
mod config;
mod config_doc;
mod error;
mod pipeline;
mod progress;
mod query;
mod signals;
mod summary;

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use clap::Parser;
use cloudtab_extract::runner::Progress;
use cloudtab_schema::{markdown, Registry};
use cloudtab_sinks::ddl::postgres_ddl;

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
    let json_logs = json_logs_requested(std::env::args_os().skip(1));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors come before logging starts; with `--log-format json`
        // they are a JSON line too, so that stderr holds nothing else.
        Err(e) if e.use_stderr() && json_logs => {
            let line = serde_json::json!({
                "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "level": "ERROR",
                "message": "invalid command line",
                "error": e.to_string().trim_end(),
                "exit_code": exit::USAGE,
                "target": "cloudtab",
            });
            eprintln!("{line}");
            std::process::exit(exit::USAGE);
        }
        Err(e) => e.exit(),
    };
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            report(
                cli.log_format,
                &CliError::failure(anyhow::anyhow!("cannot start the async runtime: {e}")),
            );
            std::process::exit(exit::FAILURE);
        }
    };
    let log_format = cli.log_format;
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            report(log_format, &e);
            e.code
        }
    };
    // Dropping the runtime waits for blocking tasks; after an abort there
    // may be generator threads still waiting on a closed channel.
    runtime.shutdown_background();
    std::process::exit(code);
}

/// True when the command line asks for JSON logs (read before clap has
/// parsed it, for errors clap itself reports).
fn json_logs_requested(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--log-format=json"
            || (a == "--log-format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

/// Prints an error that ends the process: one JSON log line with
/// `--log-format json` (stderr carries nothing else), else `error: …`.
fn report(format: LogFormat, e: &CliError) {
    match format {
        LogFormat::Json => tracing::error!(error = %e, exit_code = e.code, "failed"),
        LogFormat::Text => eprintln!("error: {e}"),
    }
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
                SchemaFormat::Snowflake => {
                    cloudtab_sinks::snowflake_ddl::snowflake_ddl(registry, &a.sf_schema)
                }
                SchemaFormat::Config => config_doc::markdown(),
                SchemaFormat::Dbt => cloudtab_schema::dbt_sources(registry),
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
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                // The reader went away (`| head`): not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::failure(
                    anyhow::anyhow!("cannot write the schema: {e}"),
                )),
                _ => Ok(exit::OK),
            }
        }
        Command::Query(a) => {
            query::run(&a).await?;
            Ok(exit::OK)
        }
        Command::Sync(a) => sync(a, cli.log_format).await,
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "cloudtab", &mut std::io::stdout());
            Ok(exit::OK)
        }
    }
}

async fn sync(args: SyncArgs, log_format: LogFormat) -> Result<i32, CliError> {
    let file = match &args.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    let config = file.apply_flags(&args)?;
    let stop = signals::listen();
    let bars = (args.progress == ProgressMode::Auto
        && log_format == LogFormat::Text
        && std::io::stderr().is_terminal())
    .then(progress::Bars::new);
    let progress: Arc<dyn Progress> = match &bars {
        Some(b) => b.clone(),
        None => progress::Lines::new(),
    };
    let result = pipeline::sync(&config, progress, &stop).await;
    if let Some(b) = &bars {
        b.finish();
    }
    match result {
        Ok(outcome) => {
            let code = if outcome.failed_scopes().next().is_some() {
                exit::PARTIAL
            } else {
                exit::OK
            };
            summary::print(&outcome, code, log_format);
            Ok(code)
        }
        Err(failure) => {
            if failure.run_id.is_some() {
                summary::print_failure(&failure, log_format);
            }
            Err(failure.error)
        }
    }
}
