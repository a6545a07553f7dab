//! Ctrl-C (SIGINT) and SIGTERM, the signals a terminal, systemd and
//! Kubernetes send to stop a run, handled the same way:
//!
//! ```text
//!  signal before commit ──▶ every sink aborts ──▶ exit 130 (SIGINT) / 143 (SIGTERM),
//!                                                  nothing committed, nothing left behind
//!  signal during commit ──▶ logged; the commit finishes ──▶ the run's own exit code
//!  second signal before commit, while aborting ──▶ exit at once (leftovers are
//!                                                  removed by the next run)
//! ```

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::error::exit;

/// A stop signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// SIGTERM (systemd, Kubernetes, `kill`).
    Terminate,
}

impl Signal {
    /// The exit code of a run this signal stopped: 128 + its number.
    pub fn exit_code(self) -> i32 {
        match self {
            Signal::Interrupt => exit::INTERRUPTED,
            Signal::Terminate => exit::TERMINATED,
        }
    }

    /// The signal's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// What the run hears of signals: whether one asked it to stop, and from
/// when on it is committing (and so must not stop).
#[derive(Clone)]
pub struct Stop {
    rx: watch::Receiver<Option<Signal>>,
    /// True once the commit started. Checked and set under the lock, so a
    /// signal is either obeyed (before) or only logged (after), never both.
    committing: Arc<Mutex<bool>>,
}

impl Stop {
    /// The signal that asked the run to stop, if one did.
    pub fn requested(&self) -> Option<Signal> {
        *self.rx.borrow()
    }

    /// Waits until a signal asks the run to stop.
    pub async fn wait(&self) -> Signal {
        let mut rx = self.rx.clone();
        loop {
            if let Some(s) = *rx.borrow_and_update() {
                return s;
            }
            if rx.changed().await.is_err() {
                // No listener any more: no signal can come.
                std::future::pending::<()>().await;
            }
        }
    }

    /// From now on the run commits: a signal is logged, not obeyed. Fails
    /// with the signal when one came first.
    pub fn begin_commit(&self) -> Result<(), Signal> {
        let mut committing = self.committing.lock().unwrap_or_else(|e| e.into_inner());
        match self.requested() {
            Some(s) => Err(s),
            None => {
                *committing = true;
                Ok(())
            }
        }
    }
}

/// Starts listening for SIGINT and SIGTERM. Must run inside the runtime.
pub fn listen() -> Stop {
    let (tx, rx) = watch::channel(None);
    let committing = Arc::new(Mutex::new(false));
    let stop = Stop {
        rx,
        committing: committing.clone(),
    };
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let signal = tokio::select! {
                r = tokio::signal::ctrl_c() => { if r.is_err() { return; } Signal::Interrupt }
                Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => Signal::Terminate,
            };
            #[cfg(not(unix))]
            let signal = match tokio::signal::ctrl_c().await {
                Ok(()) => Signal::Interrupt,
                Err(_) => return,
            };
            let committing = committing.lock().unwrap_or_else(|e| e.into_inner());
            if *committing {
                tracing::warn!(
                    signal = signal.name(),
                    "signal received while committing; the commit finishes first"
                );
                continue;
            }
            if tx.borrow().is_some() {
                tracing::error!(
                    signal = signal.name(),
                    "second signal: exiting at once; the next run removes what this one left"
                );
                std::process::exit(signal.exit_code());
            }
            tracing::warn!(
                signal = signal.name(),
                "signal received; aborting the run, nothing will be committed"
            );
            let _ = tx.send(Some(signal));
        }
    });
    stop
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop() -> (watch::Sender<Option<Signal>>, Stop) {
        let (tx, rx) = watch::channel(None);
        let stop = Stop {
            rx,
            committing: Arc::new(Mutex::new(false)),
        };
        (tx, stop)
    }

    #[tokio::test]
    async fn a_signal_before_commit_stops_the_run_and_one_after_does_not() {
        let (tx, s) = stop();
        assert_eq!(s.requested(), None);
        tx.send(Some(Signal::Terminate)).unwrap();
        assert_eq!(s.wait().await, Signal::Terminate);
        assert_eq!(
            s.begin_commit(),
            Err(Signal::Terminate),
            "too late to commit"
        );

        let (tx, s) = stop();
        assert_eq!(s.begin_commit(), Ok(()));
        // What the listener does once the commit has begun: it sees the
        // flag under the lock and only logs.
        assert!(*s.committing.lock().unwrap());
        drop(tx);
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
    }
}
