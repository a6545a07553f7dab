//! `cloudtab sync`: extract → flatten → sinks, one snapshot.
//!
//! ```text
//!  scope tasks ──chunks of items──▶ flatteners ──batches──▶ writer ──▶ every sink's transaction
//!  (bounded by max_concurrency)   (bounded channel)      (bounded channel)
//!                                 one per core, first
//!                                 come first served
//! ```
//!
//! Both channels are bounded, so a slow sink slows the extractors down and
//! memory stays flat whatever the inventory's size. When everything is
//! written, the run tables (`_scopes`, `_runs`) are added and every sink
//! commits; any error before that aborts every sink's transaction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
#[cfg(feature = "aws")]
use cloudtab_extract::aws::AwsExtractor;
use cloudtab_extract::demo::DemoExtractor;
use cloudtab_extract::runner::{run_scopes, Progress};
use cloudtab_extract::{Extractor, ScopeReport};
use cloudtab_flatten::stage::{flatten_all, Batch};
use cloudtab_flatten::{arrow_schema, Flattener, RunContext, TableCounts};
use cloudtab_schema::{Registry, TableDef, Value, RUNS_TABLE, SCOPES_TABLE};
use cloudtab_sinks::parquet::ParquetSink;
#[cfg(feature = "postgres")]
use cloudtab_sinks::postgres::PostgresSink;
#[cfg(feature = "snowflake")]
use cloudtab_sinks::snowflake::SnowflakeSink;
use cloudtab_sinks::{Carried, CommitInfo, RunInfo, ScopeKey, Sink, SinkTransaction};
use tokio::sync::mpsc;

use crate::config::{Config, SinkConfig, SourceConfig};
use crate::error::CliError;
use crate::signals::{Signal, Stop};

/// Chunks of items waiting for the flattener.
const ITEM_CHANNEL: usize = 8;
/// Batches waiting for the writer.
const BATCH_CHANNEL: usize = 2;
/// Most flatteners a run uses, whatever the number of cores: each holds
/// its own open rows, so more would cost memory for little gain.
const MAX_FLATTENERS: usize = 4;

/// One flattener per core, at most [`MAX_FLATTENERS`].
fn flattener_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, MAX_FLATTENERS))
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// Run id.
    pub run_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Wall time.
    pub duration: Duration,
    /// Rows per table, edges, issues.
    pub counts: TableCounts,
    /// One per scope.
    pub scopes: Vec<ScopeReport>,
    /// One per sink: its description and what it committed.
    pub commits: Vec<(String, CommitInfo)>,
    /// Time spent flattening items into batches, summed over the
    /// flatteners (which run side by side, one per core).
    pub flatten_time: Duration,
    /// Time the writer spent handing batches to the sinks (commit not
    /// included; a sink may go on encoding or loading on tasks of its own).
    pub write_time: Duration,
}

/// How a run that did not commit everywhere ended: the error with its exit
/// code, and what is known of the run when it got as far as starting.
#[derive(Debug)]
pub struct Failure {
    /// The error and its exit code.
    pub error: CliError,
    /// Run id, when the run started.
    pub run_id: Option<String>,
    /// Scopes read before the run stopped (empty when extraction did not
    /// finish).
    pub scopes: Vec<ScopeReport>,
    /// One per sink that committed before another sink failed.
    pub commits: Vec<(String, CommitInfo)>,
    /// Sinks whose commit failed, with the error.
    pub failed_sinks: Vec<(String, String)>,
}

impl From<CliError> for Failure {
    fn from(error: CliError) -> Self {
        Failure {
            error,
            run_id: None,
            scopes: Vec::new(),
            commits: Vec::new(),
            failed_sinks: Vec::new(),
        }
    }
}

impl Failure {
    fn of_run(error: CliError, run_id: &str) -> Self {
        Failure {
            run_id: Some(run_id.to_string()),
            ..Failure::from(error)
        }
    }
}

/// The error of a run a signal stopped before commit.
fn stopped(signal: Signal) -> CliError {
    CliError {
        code: signal.exit_code(),
        error: anyhow::anyhow!(
            "{} received: the run was aborted; nothing was committed, every destination is as it was before",
            signal.name()
        ),
    }
}

/// Runs `work` unless a signal asks the run to stop first.
async fn unless_stopped<T>(
    stop: &Stop,
    work: impl std::future::Future<Output = T>,
) -> Result<T, Signal> {
    tokio::select! {
        biased;
        s = stop.wait() => Err(s),
        r = work => Ok(r),
    }
}

impl Outcome {
    /// Scopes that did not succeed.
    pub fn failed_scopes(&self) -> impl Iterator<Item = &ScopeReport> {
        self.scopes.iter().filter(|s| s.status.is_failure())
    }
}

/// A new run id: UTC start time to the millisecond, then random hex, so
/// ids sort in start order.
pub fn new_run_id(started_at: DateTime<Utc>) -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS: enough to keep two runs that start
    // in the same millisecond apart.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as u32;
    format!("{}-{random:08x}", started_at.format("%Y%m%dT%H%M%S%.3fZ"))
}

fn build_extractors(config: &Config) -> Vec<Arc<dyn Extractor>> {
    config
        .sources
        .iter()
        .map(|s| match s {
            SourceConfig::Demo(d) => Arc::new(DemoExtractor::new(d.clone())) as Arc<dyn Extractor>,
            #[cfg(feature = "aws")]
            SourceConfig::Aws(a) => Arc::new(AwsExtractor::new(a.clone())) as Arc<dyn Extractor>,
        })
        .collect()
}

async fn build_sinks(config: &Config) -> Result<Vec<Box<dyn Sink>>, CliError> {
    let mut sinks = Vec::new();
    for (i, s) in config.sinks.iter().enumerate() {
        let sink = match s {
            SinkConfig::Parquet(p) => ParquetSink::open(p.clone())
                .await
                .map(|s| Box::new(s) as Box<dyn Sink>),
            #[cfg(feature = "postgres")]
            SinkConfig::Postgres(p) => {
                PostgresSink::build(p.clone()).map(|s| Box::new(s) as Box<dyn Sink>)
            }
            #[cfg(feature = "snowflake")]
            SinkConfig::Snowflake(p) => {
                SnowflakeSink::build((**p).clone()).map(|s| Box::new(s) as Box<dyn Sink>)
            }
        }
        .map_err(|e| {
            if e.is_config() {
                CliError::usage(format!("sinks[{i}].{e}"))
            } else {
                CliError::failure(e)
            }
        })?;
        sinks.push(sink);
    }
    Ok(sinks)
}

/// Runs one sync. `progress` hears about scopes as they run; `stop` says
/// when a signal asks the run to stop (before commit every sink aborts; see
/// [`crate::signals`]).
pub async fn sync(
    config: &Config,
    progress: Arc<dyn Progress>,
    stop: &Stop,
) -> Result<Outcome, Failure> {
    let clock = Instant::now();
    let registry = Registry::builtin();
    let extractors = build_extractors(config);
    let sinks = build_sinks(config).await?;
    for s in &sinks {
        unless_stopped(stop, s.healthcheck())
            .await
            .map_err(stopped)?
            .map_err(|e| {
                sink_error(e, format!("health check of sink `{}` failed", s.describe()))
            })?;
    }

    // Whole microseconds, the resolution of every timestamp column: the
    // rows' `_synced_at` and `_runs.started_at` are then the same value.
    let started_at = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let run_id = new_run_id(started_at);
    let fail = |e: CliError| Failure::of_run(e, &run_id);
    let mut work = Vec::new();
    let mut table_names: Vec<&'static str> = Vec::new();
    for e in &extractors {
        // Before "run started": a failure here has no run to report.
        let scopes = unless_stopped(stop, e.scopes())
            .await
            .map_err(stopped)?
            .map_err(CliError::failure)?;
        work.extend(scopes.into_iter().map(|s| (e.clone(), s)));
        table_names.extend(e.tables());
    }
    // Two sources (or two entries of one) that read the same account would
    // send every resource twice: refused before anything is read.
    let mut seen = std::collections::HashSet::new();
    for (e, scope) in &work {
        let key = (
            scope.cloud,
            scope.account_id.clone(),
            scope.region.clone(),
            scope.service,
        );
        if !seen.insert(key) {
            return Err(CliError::usage(format!(
                "account {} ({}) is configured twice (source `{}`): every resource would be read twice; remove one of the sources or accounts that reach it",
                scope.account_id,
                scope.cloud,
                e.name()
            ))
            .into());
        }
    }
    // Every table a source fills, plus the system tables, is in the snapshot.
    let tables: Vec<(&'static TableDef, _)> = registry
        .tables()
        .iter()
        .filter(|t| !t.is_resource() || table_names.contains(&t.name))
        .map(|t| (t, arrow_schema(t)))
        .collect();
    let run = RunInfo {
        run_id: run_id.clone(),
        started_at,
        tables,
    };
    tracing::info!(run_id = %run_id, scopes = work.len(), sinks = sinks.len(), "run started");

    let mut txns: Vec<Box<dyn SinkTransaction>> = Vec::new();
    for s in &sinks {
        let begun = match unless_stopped(stop, s.begin(&run)).await {
            Ok(b) => b,
            Err(signal) => {
                abort_all(txns).await;
                return Err(fail(stopped(signal)));
            }
        };
        match begun {
            Ok(t) => txns.push(t),
            Err(e) => {
                abort_all(txns).await;
                return Err(fail(sink_error(
                    e,
                    format!("failed to start writing to `{}`", s.describe()),
                )));
            }
        }
    }

    let ctx = RunContext {
        run_id: run_id.clone(),
        synced_at_micros: started_at.timestamp_micros(),
    };
    // The open rows of all flatteners together stay at `batch_rows` per table.
    let n = flattener_count();
    let flatteners = (0..n)
        .map(|_| Flattener::new(registry, ctx.clone(), (config.batch_rows / n).max(1)))
        .collect();
    let (item_tx, item_rx) = mpsc::channel(ITEM_CHANNEL);
    let (batch_tx, batch_rx) = mpsc::channel::<Batch>(BATCH_CHANNEL);
    let extract = tokio::spawn(run_scopes(
        work,
        config.max_concurrency,
        item_tx,
        progress,
        started_at,
    ));
    let extract_abort = extract.abort_handle();
    let writer = tokio::spawn(write_batches(txns, batch_rx, stop.clone()));

    // Flatten on one task per core; they hand full batches to the writer.
    // When the stage ends early (an error, or the writer failed), the item
    // channel is closed and the extractors stop. A signal stops the writer
    // and the extractors, and so the flatteners.
    let stage = flatten_all(flatteners, item_rx, batch_tx);
    tokio::pin!(stage);
    let stage = tokio::select! {
        s = &mut stage => s,
        _ = stop.wait() => {
            extract_abort.abort();
            stage.await
        }
    };
    let scopes = match extract.await {
        Ok(scopes) => scopes,
        Err(_) if stop.requested().is_some() => Vec::new(),
        Err(e) => {
            return Err(fail(CliError::failure(anyhow::anyhow!(
                "extraction task failed: {e}"
            ))))
        }
    };
    let flatten_time = stage.busy;
    let failure: Option<anyhow::Error> = stage.error.map(anyhow::Error::new);
    let mut flatteners = stage.flatteners;
    let (mut txns, write_result, write_time) = writer.await.map_err(|e| {
        fail(CliError::failure(anyhow::anyhow!(
            "writer task failed: {e}"
        )))
    })?;
    if let Some(signal) = stop.requested() {
        abort_all(txns).await;
        return Err(fail(stopped(signal)));
    }
    if let Some(e) = failure.or(write_result.err()) {
        abort_all(txns).await;
        return Err(Failure {
            scopes,
            ..fail(CliError::failure(e.context(
                "the run was aborted; every destination is as it was before",
            )))
        });
    }
    // Every extracted row is written. Failed scopes keep their rows from
    // the previous snapshot; then the run tables close the snapshot.
    let done = unless_stopped(stop, async {
        let oldest = started_at
            - chrono::Duration::from_std(config.carry_max_age.0).unwrap_or(chrono::Duration::MAX);
        let carried = carry_forward(&mut txns, &scopes, oldest).await?;
        let counts = TableCounts::total(&flatteners);
        let run_tables = &mut flatteners[0];
        add_run_tables(run_tables, config, &run, &scopes, &carried, &counts)?;
        for (table, batch) in run_tables.finish()? {
            for t in txns.iter_mut() {
                t.write(table, batch.clone()).await?;
            }
        }
        anyhow::Ok(())
    })
    .await;
    let done = match done {
        Ok(d) => d.map_err(|e| {
            CliError::failure(
                e.context("the run was aborted; every destination is as it was before"),
            )
        }),
        Err(signal) => Err(stopped(signal)),
    };
    // From here on a signal is only logged: the commit finishes.
    let done = done.and_then(|()| stop.begin_commit().map_err(stopped));
    if let Err(e) = done {
        abort_all(txns).await;
        return Err(Failure { scopes, ..fail(e) });
    }
    // Every sink commits, even after another failed to: each destination
    // is consistent on its own, and none is left with an open transaction.
    let mut commits = Vec::new();
    let mut failed_sinks = Vec::new();
    for (sink, txn) in sinks.iter().zip(txns) {
        match txn.commit().await {
            Ok(info) => {
                tracing::info!(sink = %sink.describe(), location = %info.location, files = info.objects, bytes = info.bytes, "committed");
                commits.push((sink.describe(), info));
            }
            Err(e) => {
                let e = anyhow::Error::new(e);
                tracing::error!(sink = %sink.describe(), error = %format!("{e:#}"), "commit failed; this destination is as it was before");
                failed_sinks.push((sink.describe(), format!("{e:#}")));
            }
        }
    }
    if !failed_sinks.is_empty() {
        let names: Vec<&str> = failed_sinks.iter().map(|(s, _)| s.as_str()).collect();
        let committed: Vec<&str> = commits.iter().map(|(s, _)| s.as_str()).collect();
        let error = CliError::failure(anyhow::anyhow!(
            "failed to commit to {}: {}{}",
            names.join(", "),
            failed_sinks[0].1,
            if committed.is_empty() {
                String::new()
            } else {
                format!(" (committed to {})", committed.join(", "))
            }
        ));
        return Err(Failure {
            scopes,
            commits,
            failed_sinks,
            ..fail(error)
        });
    }
    Ok(Outcome {
        run_id,
        started_at,
        duration: clock.elapsed(),
        counts: TableCounts::total(&flatteners),
        scopes,
        commits,
        flatten_time,
        write_time,
    })
}

/// A sink's error before any data moved: exit 2 when the configuration
/// (or the destination's schema) needs a change, else 1.
fn sink_error(e: cloudtab_sinks::SinkError, context: String) -> CliError {
    let code = if e.is_config() {
        crate::error::exit::USAGE
    } else {
        crate::error::exit::FAILURE
    };
    CliError {
        code,
        error: anyhow::Error::new(e).context(context),
    }
}

/// Writes every batch to every transaction; stops at the first error or
/// signal and hands the transactions back so they can be committed or
/// aborted, with the time spent writing.
async fn write_batches(
    mut txns: Vec<Box<dyn SinkTransaction>>,
    mut rx: mpsc::Receiver<Batch>,
    stop: Stop,
) -> (Vec<Box<dyn SinkTransaction>>, anyhow::Result<()>, Duration) {
    let mut busy = Duration::ZERO;
    while let Ok(Some((table, batch))) = unless_stopped(&stop, rx.recv()).await {
        let t = Instant::now();
        for txn in txns.iter_mut() {
            if let Err(e) = txn.write(table, batch.clone()).await {
                let e = anyhow::Error::new(e);
                return (txns, Err(e), busy + t.elapsed());
            }
        }
        busy += t.elapsed();
    }
    (txns, Ok(()), busy)
}

async fn abort_all(txns: Vec<Box<dyn SinkTransaction>>) {
    for t in txns {
        if let Err(e) = t.abort().await {
            tracing::warn!(error = %e, "a sink could not clean up after the aborted run; readers never see its leftovers");
        }
    }
}

/// Asks every sink to carry the failed scopes forward (rows read before
/// `oldest` are dropped); returns what the first sink carried per scope
/// (the numbers recorded in `_scopes`).
async fn carry_forward(
    txns: &mut [Box<dyn SinkTransaction>],
    scopes: &[ScopeReport],
    oldest: DateTime<Utc>,
) -> anyhow::Result<Vec<Carried>> {
    let failed: Vec<(usize, ScopeKey)> = scopes
        .iter()
        .enumerate()
        .filter(|(_, s)| s.status.is_failure())
        .map(|(i, s)| {
            let key = ScopeKey {
                cloud: s.scope.cloud.to_string(),
                account_id: s.scope.account_id.to_string(),
                region: s.scope.region.to_string(),
                service: s.scope.service.to_string(),
            };
            (i, key)
        })
        .collect();
    let mut carried = vec![Carried::default(); scopes.len()];
    if failed.is_empty() {
        return Ok(carried);
    }
    let keys: Vec<ScopeKey> = failed.iter().map(|(_, k)| k.clone()).collect();
    for (n, t) in txns.iter_mut().enumerate() {
        let rows = t
            .carry_forward(&keys, oldest)
            .await
            .context("failed to carry failed scopes forward")?;
        if n == 0 {
            for ((i, _), r) in failed.iter().zip(rows) {
                carried[*i] = r;
                tracing::warn!(scope = %scopes[*i].scope, rows = r.rows, "scope failed; its rows from the previous snapshot were carried forward");
                if r.dropped > 0 {
                    tracing::warn!(scope = %scopes[*i].scope, rows = r.dropped, "rows of the failed scope were older than carry_max_age and were dropped");
                }
            }
        }
    }
    Ok(carried)
}

fn add_run_tables(
    f: &mut Flattener,
    config: &Config,
    run: &RunInfo,
    scopes: &[ScopeReport],
    carried: &[Carried],
    counts: &TableCounts,
) -> anyhow::Result<()> {
    for (s, carried) in scopes.iter().zip(carried) {
        let error = match (&s.error, carried.dropped) {
            (Some(e), 0) => Some(e.clone()),
            (Some(e), n) => Some(format!(
                "{e} ({n} rows read longer ago than carry_max_age {} were dropped)",
                config.carry_max_age
            )),
            (None, _) => None,
        };
        f.push_row(
            SCOPES_TABLE,
            &[
                Value::Text(run.run_id.clone()),
                Value::Text(s.scope.cloud.to_string()),
                Value::Text(s.scope.account_id.to_string()),
                Value::text_opt(s.scope.account_name.as_deref()),
                Value::Text(s.scope.region.to_string()),
                Value::Text(s.scope.service.to_string()),
                Value::Text(s.status.as_str().to_string()),
                Value::Int(s.resources as i64),
                Value::Int(s.edges as i64),
                Value::Int(carried.rows as i64),
                Value::Int(s.stats.api_calls as i64),
                Value::Int(s.stats.retries as i64),
                Value::Int(s.stats.throttles as i64),
                micros(s.started_at),
                Value::Int(s.duration.as_millis() as i64),
                Value::text_opt(error),
                Value::Int(carried.dropped as i64),
            ],
        )
        .with_context(|| format!("failed to record scope {}", s.scope))?;
    }
    let failed = scopes.iter().filter(|s| s.status.is_failure()).count();
    f.push_row(
        RUNS_TABLE,
        &[
            Value::Text(run.run_id.clone()),
            micros(run.started_at),
            micros(Utc::now()),
            Value::from(if failed == 0 { "ok" } else { "partial" }),
            Value::from(env!("CARGO_PKG_VERSION")),
            Value::json(config.options_json()),
            Value::Int(counts.resources as i64),
            Value::Int(counts.edges.values().sum::<u64>() as i64),
            Value::Int(counts.issues as i64),
            Value::Int(scopes.len() as i64),
            Value::Int(failed as i64),
        ],
    )
    .context("failed to record the run")?;
    Ok(())
}

fn micros(t: DateTime<Utc>) -> Value {
    Value::Timestamp {
        secs: t.timestamp(),
        nanos: t.timestamp_subsec_nanos(),
    }
}
