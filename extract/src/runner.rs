//! Runs scopes concurrently under a limit.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::emitter::{Counters, Emitter, ItemChunk};
use crate::extractor::Extractor;
use crate::scope::{Scope, ScopeReport, ScopeStatus};

/// Told about scopes as they start and end (progress bars, logs).
pub trait Progress: Send + Sync {
    /// The run will have `scopes` scopes.
    fn planned(&self, _scopes: usize) {}
    /// A scope started; `counters` grow while it runs.
    fn started(&self, scope: &Scope, counters: Arc<Counters>);
    /// A scope ended.
    fn finished(&self, report: &ScopeReport);
}

/// A [`Progress`] that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn started(&self, _: &Scope, _: Arc<Counters>) {}
    fn finished(&self, _: &ScopeReport) {}
}

/// Runs every `(extractor, scope)` pair, at most `max_concurrency` at once,
/// sending items into `tx`; `run_started` is every scope's clock
/// ([`Emitter::clock`]). Returns one report per scope, in input order.
/// Failed scopes are reports, not errors; the runner never stops early
/// unless the receiving side goes away.
pub async fn run_scopes(
    work: Vec<(Arc<dyn Extractor>, Scope)>,
    max_concurrency: usize,
    tx: mpsc::Sender<ItemChunk>,
    progress: Arc<dyn Progress>,
    run_started: DateTime<Utc>,
) -> Vec<ScopeReport> {
    let limit = Arc::new(Semaphore::new(max_concurrency.max(1)));
    let mut set = JoinSet::new();
    let n = work.len();
    progress.planned(n);
    let scopes: Vec<Scope> = work.iter().map(|(_, s)| s.clone()).collect();
    for (i, (extractor, scope)) in work.into_iter().enumerate() {
        let limit = limit.clone();
        let tx = tx.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let started_at = Utc::now();
            let clock = Instant::now();
            let mut out = Emitter::new(tx).with_clock(run_started);
            let counters = out.counters();
            progress.started(&scope, counters.clone());
            let result = extractor.extract(&scope, &mut out).await;
            let flushed = out.flush().await;
            let (status, stats, error) = match (result, flushed) {
                (Ok(stats), Ok(())) => (ScopeStatus::Ok, stats, None),
                (Ok(stats), Err(e)) => (ScopeStatus::Failed, stats, Some(e.to_string())),
                (Err(e), _) => {
                    let status = if e.status == ScopeStatus::Ok {
                        ScopeStatus::Failed
                    } else {
                        e.status
                    };
                    (status, e.stats, Some(e.message))
                }
            };
            let report = ScopeReport {
                scope,
                status,
                resources: counters.resources.load(Ordering::Relaxed),
                edges: counters.edges.load(Ordering::Relaxed),
                stats,
                started_at,
                duration: clock.elapsed(),
                error,
            };
            progress.finished(&report);
            (i, report)
        });
    }
    drop(tx);
    let mut reports: Vec<Option<ScopeReport>> = vec![None; n];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, report)) => reports[i] = Some(report),
            Err(e) => {
                tracing::error!(error = %e, "a scope task panicked; its scope is reported as failed")
            }
        }
    }
    reports
        .into_iter()
        .zip(scopes)
        .map(|(r, scope)| {
            r.unwrap_or_else(|| ScopeReport {
                scope,
                status: ScopeStatus::Failed,
                resources: 0,
                edges: 0,
                stats: Default::default(),
                started_at: Utc::now(),
                duration: Default::default(),
                error: Some(
                    "the scope's task panicked: this is a bug in cloudtab, please report it".into(),
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::extractor::ExtractError;
    use crate::scope::{ScopeError, ScopeStats};

    /// Notes the clock each of its scopes was given.
    #[derive(Default)]
    struct Clocks(Mutex<Vec<DateTime<Utc>>>);

    #[async_trait]
    impl Extractor for Clocks {
        fn name(&self) -> &'static str {
            "clocks"
        }
        fn tables(&self) -> Vec<&'static str> {
            Vec::new()
        }
        async fn scopes(&self) -> Result<Vec<Scope>, ExtractError> {
            Ok(Vec::new())
        }
        async fn extract(&self, _: &Scope, out: &mut Emitter) -> Result<ScopeStats, ScopeError> {
            self.0.lock().unwrap().push(out.clock());
            Ok(ScopeStats::default())
        }
    }

    #[tokio::test]
    async fn every_scope_of_a_run_gets_the_run_s_clock() {
        let started = DateTime::<Utc>::from_timestamp(1_800_000_000, 123_000).unwrap();
        let clocks = Arc::new(Clocks::default());
        let scope = |region: &str| Scope {
            cloud: "aws",
            account_id: Arc::from("1"),
            account_name: None,
            region: Arc::from(region),
            service: "ec2",
        };
        let work: Vec<(Arc<dyn Extractor>, Scope)> = ["a", "b", "c"]
            .into_iter()
            .map(|r| (clocks.clone() as Arc<dyn Extractor>, scope(r)))
            .collect();
        let (tx, mut rx) = mpsc::channel(4);
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let reports = run_scopes(work, 2, tx, Arc::new(NoProgress), started).await;
        drain.await.unwrap();
        assert_eq!(reports.len(), 3);
        assert_eq!(*clocks.0.lock().unwrap(), vec![started; 3]);
    }
}
