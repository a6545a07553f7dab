//! Progress of a sync: bars on a terminal, log lines otherwise.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudtab_extract::runner::Progress;
use cloudtab_extract::{Counters, Scope, ScopeReport};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A running scope's bar, its counters and its start.
type Running = (ProgressBar, Arc<Counters>, Instant);

/// Bars: one for the run (scopes done of all) and one per running scope
/// with its resource count and rate.
pub struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    running: Mutex<HashMap<String, Running>>,
    finished_resources: AtomicU64,
    start: Instant,
}

impl Bars {
    /// Bars drawn on standard error.
    pub fn new() -> Arc<Self> {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} scopes {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let bars = Arc::new(Bars {
            multi,
            total,
            running: Mutex::new(HashMap::new()),
            finished_resources: AtomicU64::new(0),
            start: Instant::now(),
        });
        // Scope bars read their counters a few times a second.
        let ticker = Arc::downgrade(&bars);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            let Some(b) = ticker.upgrade() else { return };
            let mut all = b.finished_resources.load(Ordering::Relaxed);
            if let Ok(running) = b.running.lock() {
                for (bar, c, started) in running.values() {
                    let n = c.resources.load(Ordering::Relaxed);
                    all += n;
                    bar.set_message(rate(n, *started));
                    bar.set_position(n);
                }
            };
            b.total
                .set_message(format!("{all} resources, {}", rate(all, b.start)));
        });
        bars
    }

    /// Removes the bars from the screen.
    pub fn finish(&self) {
        self.total.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl Progress for Bars {
    fn planned(&self, scopes: usize) {
        self.total.set_length(scopes as u64);
    }

    fn started(&self, scope: &Scope, counters: Arc<Counters>) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {prefix:40} {pos:>9} resources {msg:>12}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(scope.to_string());
        if let Ok(mut r) = self.running.lock() {
            r.insert(scope.to_string(), (bar, counters, Instant::now()));
        }
    }

    fn finished(&self, report: &ScopeReport) {
        if let Ok(mut r) = self.running.lock() {
            if let Some((bar, _, _)) = r.remove(&report.scope.to_string()) {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
        if report.status.is_failure() {
            let _ = self.multi.println(format!(
                "scope {} {}: {}",
                report.scope,
                report.status.as_str(),
                report.error.as_deref().unwrap_or("")
            ));
        }
        self.finished_resources
            .fetch_add(report.resources, Ordering::Relaxed);
        self.total.inc(1);
    }
}

/// `n` items since `since`, as a whole number per second.
fn rate(n: u64, since: Instant) -> String {
    format!(
        "{:.0}/s",
        n as f64 / since.elapsed().as_secs_f64().max(1e-3)
    )
}

/// Plain log lines: failures at once, a progress line every few seconds.
pub struct Lines {
    total: AtomicU64,
    done: AtomicU64,
    resources: AtomicU64,
    start: Instant,
    last: Mutex<Instant>,
}

impl Lines {
    /// Progress lines.
    pub fn new() -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Lines {
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            resources: AtomicU64::new(0),
            start: now,
            last: Mutex::new(now),
        })
    }
}

impl Progress for Lines {
    fn planned(&self, scopes: usize) {
        self.total.store(scopes as u64, Ordering::Relaxed);
    }

    fn started(&self, scope: &Scope, _: Arc<Counters>) {
        tracing::debug!(scope = %scope, "scope started");
    }

    fn finished(&self, r: &ScopeReport) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let resources = self.resources.fetch_add(r.resources, Ordering::Relaxed) + r.resources;
        if r.status.is_failure() {
            tracing::warn!(scope = %r.scope, status = r.status.as_str(), error = r.error.as_deref().unwrap_or(""), "scope failed");
        } else {
            tracing::debug!(scope = %r.scope, resources = r.resources, edges = r.edges, ms = r.duration.as_millis() as u64, "scope done");
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if done == self.total.load(Ordering::Relaxed) || last.elapsed() >= Duration::from_secs(5) {
            *last = Instant::now();
            let secs = self.start.elapsed().as_secs_f64().max(1e-3);
            tracing::info!(
                scopes_done = done,
                scopes = self.total.load(Ordering::Relaxed),
                resources,
                resources_per_sec = (resources as f64 / secs) as u64,
                "progress"
            );
        }
    }
}
