//! One writer per local Parquet root, and clean-up of killed runs.
//!
//! A run holds an exclusive lock on `<root>/_lock` (an OS file lock, so the
//! kernel releases it when the process dies, SIGKILL and power loss
//! included) from `begin` until it commits or aborts. The file names the
//! holder (run id, host, pid, start) for the message a second run gets.
//!
//! ```text
//!  begin ──▶ lock `_lock` (wait up to lock_wait_secs, else fail naming the holder)
//!        ──▶ every run directory no committed manifest names is a leftover of a
//!            killed run (no other run can be live: we hold the lock) ──▶ removed
//!        ──▶ write, commit or abort ──▶ lock released
//! ```

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};

use super::manifest::MANIFEST_DIR;
use crate::sink::SinkError;

/// Name of the lock file under the root.
pub const LOCK_FILE: &str = "_lock";

/// How often a waiting run tries the lock again.
const RETRY: Duration = Duration::from_millis(200);

/// The held lock of a local root; released when dropped.
#[derive(Debug)]
pub(crate) struct RootLock {
    _file: File,
}

impl RootLock {
    /// Takes the lock of `root` for `run_id`, waiting up to `wait` for a
    /// run that holds it; the error names that run.
    pub(crate) async fn acquire(
        root: &Path,
        run_id: &str,
        wait: Duration,
    ) -> Result<RootLock, SinkError> {
        let path = root.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                SinkError::Other(format!("cannot open lock file `{}`: {e}", path.display()))
            })?;
        let deadline = Instant::now() + wait;
        let mut logged = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let holder = holder(&mut file);
                    if Instant::now() >= deadline {
                        return Err(SinkError::Other(format!(
                            "another run is writing to `{}` ({holder}); waited {} s. Wait for it to end, or raise lock_wait_secs",
                            root.display(),
                            wait.as_secs()
                        )));
                    }
                    if !logged {
                        tracing::info!(root = %root.display(), holder = %holder, "another run is writing here; waiting for it");
                        logged = true;
                    }
                    tokio::time::sleep(RETRY).await;
                }
                Err(TryLockError::Error(e)) => {
                    return Err(SinkError::Other(format!(
                        "cannot lock `{}`: {e}",
                        path.display()
                    )))
                }
            }
        }
        let me = serde_json::json!({
            "run_id": run_id,
            "host": hostname(),
            "pid": std::process::id(),
            "since": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        });
        // The holder's description is for messages only; the lock is the
        // kernel's, so a failed write here changes nothing.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{me}"));
        Ok(RootLock { _file: file })
    }
}

/// The holder as its lock file describes it.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut text));
    match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(v) => format!(
            "run {} on host {} (pid {}) since {}",
            v["run_id"].as_str().unwrap_or("?"),
            v["host"].as_str().unwrap_or("?"),
            v["pid"],
            v["since"].as_str().unwrap_or("?")
        ),
        Err(_) => "a run that has not described itself yet".to_string(),
    }
}

/// This machine's name, for the record of who holds a root or schema.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Removes what killed runs left under `root`: every
/// `<table>/run_date=…/run_id=…` directory whose run id is not in
/// `committed`, and staging or probe files in `_manifests/`. Call only with
/// the root's lock held, so that no live run's files can be among them.
/// Returns the directories removed.
pub(crate) fn remove_leftovers(root: &Path, committed: &BTreeSet<String>) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return removed;
    };
    for table in entries.flatten() {
        let name = table.file_name();
        let name = name.to_string_lossy();
        if name == MANIFEST_DIR || !table.path().is_dir() {
            continue;
        }
        for (dir, id) in super::sink::local_run_dirs(&table.path()) {
            if !committed.contains(&id) {
                super::sink::remove_local_dir(&dir);
                removed.push(dir);
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(root.join(MANIFEST_DIR)) {
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.contains('#') || name.starts_with(".probe-") {
                let _ = std::fs::remove_file(e.path());
                removed.push(e.path());
            }
        }
    }
    if !removed.is_empty() {
        tracing::info!(root = %root.display(), removed = removed.len(), "removed what killed runs left behind");
    }
    removed
}
