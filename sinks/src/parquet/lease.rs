//! One writer per object-store root (S3): a lease object.
//!
//! Object stores have no lock that dies with its process, so a run holds
//! `<root>/_lease.json`, created with a create-only put and renewed (a put
//! conditional on the lease's ETag) every third of `lease_secs` while the
//! run lives. Another run waits up to `lock_wait_secs`, then fails naming
//! the holder. A lease past its expiry belongs to a run that was killed (or
//! lost the store for longer than the lease): the next run takes it over,
//! with a put conditional on the ETag it read, so of two runs taking over
//! at once only one wins.
//!
//! ```text
//!  create-only put ──ok──▶ held ──every lease/3: put If-Match(etag)──▶ held
//!        │ exists                         │ precondition failed: taken over ─▶ lost
//!        ▼                                ▼
//!  read it: expired? ──yes─▶ put If-Match(its etag) ──ok──▶ held
//!        │ no
//!        ▼
//!  wait (up to lock_wait_secs) ──▶ exit 1 naming the holder
//! ```
//!
//! A run checks that it still holds the lease right before it commits
//! (renewing it), so a run that lost its lease never publishes a manifest.
//!
//! The expiry is written by the holder's clock and read by the taker's. A
//! live holder's lease always has two thirds of `lease_secs` left, so clocks
//! may differ by that much; a taker further ahead could take a live lease,
//! and the holder would then fail at its check before commit (a wasted run,
//! nothing lost).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::sink::SinkError;

/// Name of the lease object under the root.
pub const LEASE_FILE: &str = "_lease.json";

/// How often a waiting run looks at the lease again.
const RETRY: Duration = Duration::from_millis(500);

/// A held lease; renewed until released or dropped.
pub(crate) struct Lease {
    inner: Arc<Inner>,
    renewer: JoinHandle<()>,
}

struct Inner {
    store: Arc<dyn ObjectStore>,
    root: String,
    run_id: String,
    ttl: Duration,
    /// What this run last wrote.
    held: Mutex<Held>,
    /// Another run took the lease over.
    lost: AtomicBool,
}

/// The lease object as this run last wrote it.
struct Held {
    /// Its version (the condition of the next renewal).
    version: UpdateVersion,
    /// Until when that write holds (measured from before the put).
    until: Instant,
}

fn path() -> Path {
    Path::from(LEASE_FILE)
}

impl Lease {
    /// Takes the lease of the store's root for `run_id`; `root` names the
    /// root in messages.
    pub(crate) async fn acquire(
        store: Arc<dyn ObjectStore>,
        root: &str,
        run_id: &str,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Lease, SinkError> {
        let deadline = Instant::now() + wait;
        let mut logged = false;
        let version = loop {
            let started = Instant::now();
            match put(store.as_ref(), run_id, ttl, PutMode::Create).await {
                Ok(v) => break (v, started),
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(source) => return Err(store_error(root, "create the lease", source)),
            }
            let held = match store.get(&path()).await {
                Ok(r) => r,
                // Released between our put and this read: try again.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(source) => return Err(store_error(root, "read the lease", source)),
            };
            let current = UpdateVersion {
                e_tag: held.meta.e_tag.clone(),
                version: held.meta.version.clone(),
            };
            let modified = held.meta.last_modified;
            let body = held
                .bytes()
                .await
                .map_err(|source| store_error(root, "read the lease", source))?;
            let holder = Holder::parse(&body, modified, ttl);
            if holder.expires < Utc::now() {
                tracing::warn!(root, holder = %holder, "the lease expired (its run was killed or cut off); taking it over");
                let started = Instant::now();
                match put(store.as_ref(), run_id, ttl, PutMode::Update(current)).await {
                    Ok(v) => break (v, started),
                    // Another run took it over first, or its holder renewed.
                    Err(object_store::Error::Precondition { .. })
                    | Err(object_store::Error::NotFound { .. }) => continue,
                    Err(source) => return Err(store_error(root, "take over the lease", source)),
                }
            }
            if Instant::now() >= deadline {
                return Err(SinkError::Other(format!(
                    "another run is writing to `{root}` ({holder}); waited {} s. Wait for it to end, or raise lock_wait_secs",
                    wait.as_secs()
                )));
            }
            if !logged {
                tracing::info!(root, holder = %holder, "another run is writing here; waiting for it");
                logged = true;
            }
            tokio::time::sleep(RETRY).await;
        };
        let inner = Arc::new(Inner {
            store,
            root: root.to_string(),
            run_id: run_id.to_string(),
            ttl,
            held: Mutex::new(Held {
                version: version.0,
                until: version.1 + ttl,
            }),
            lost: AtomicBool::new(false),
        });
        let renewer = tokio::spawn(renew_forever(inner.clone()));
        Ok(Lease { inner, renewer })
    }

    /// Renews the lease now; an error when another run holds it, so the
    /// caller must not commit.
    pub(crate) async fn confirm(&self) -> Result<(), SinkError> {
        self.inner.renew().await?;
        Ok(())
    }

    /// Stops renewing and deletes the lease if it is still this run's.
    pub(crate) async fn release(self) {
        self.renewer.abort();
        let inner = &self.inner;
        if inner.lost.load(Ordering::Relaxed) {
            return;
        }
        let mine = inner.held.lock().await.version.e_tag.clone();
        match inner.store.head(&path()).await {
            Ok(meta) if meta.e_tag == mine => {
                if let Err(e) = inner.store.delete(&path()).await {
                    tracing::warn!(root = %inner.root, error = %e, "failed to release the lease; the next run takes it over once it expires");
                }
            }
            _ => {}
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

impl Inner {
    /// One renewal; an error when the lease is lost (taken over).
    async fn renew(&self) -> Result<(), SinkError> {
        if self.lost.load(Ordering::Relaxed) {
            return Err(self.lost_error());
        }
        let mut held = self.held.lock().await;
        let started = Instant::now();
        match put(
            self.store.as_ref(),
            &self.run_id,
            self.ttl,
            PutMode::Update(held.version.clone()),
        )
        .await
        {
            Ok(v) => {
                *held = Held {
                    version: v,
                    until: started + self.ttl,
                };
                Ok(())
            }
            Err(object_store::Error::Precondition { .. })
            | Err(object_store::Error::NotFound { .. }) => {
                self.lost.store(true, Ordering::Relaxed);
                Err(self.lost_error())
            }
            Err(source) => {
                // Still ours while the last renewal holds.
                if Instant::now() < held.until {
                    tracing::warn!(root = %self.root, error = %source, "failed to renew the lease; trying again");
                    Ok(())
                } else {
                    self.lost.store(true, Ordering::Relaxed);
                    Err(store_error(&self.root, "renew the lease", source))
                }
            }
        }
    }

    fn lost_error(&self) -> SinkError {
        SinkError::Other(format!(
            "run `{}` lost its lease on `{}` (another run took it over after it expired); nothing was committed. Raise lease_secs if the store is slow",
            self.run_id, self.root
        ))
    }
}

async fn renew_forever(inner: Arc<Inner>) {
    loop {
        tokio::time::sleep(inner.ttl / 3).await;
        if inner.renew().await.is_err() {
            tracing::warn!(root = %inner.root, run_id = %inner.run_id, "lost the lease; the run fails before it commits");
            return;
        }
    }
}

/// Writes the lease for `run_id` with `mode`; the version written.
async fn put(
    store: &dyn ObjectStore,
    run_id: &str,
    ttl: Duration,
    mode: PutMode,
) -> Result<UpdateVersion, object_store::Error> {
    let now = Utc::now();
    let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    let body = serde_json::json!({
        "run_id": run_id,
        "host": super::lock::hostname(),
        "pid": std::process::id(),
        "renewed": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "expires": expires.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let opts = PutOptions {
        mode,
        ..Default::default()
    };
    let r = store
        .put_opts(&path(), PutPayload::from(body.to_string()), opts)
        .await?;
    Ok(UpdateVersion {
        e_tag: r.e_tag,
        version: r.version,
    })
}

/// The run a lease names, for messages and the expiry check.
struct Holder {
    text: String,
    expires: DateTime<Utc>,
}

impl Holder {
    /// A lease that cannot be read expires `ttl` after it was written.
    fn parse(body: &[u8], modified: DateTime<Utc>, ttl: Duration) -> Holder {
        let fallback = modified + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => Holder {
                text: format!(
                    "run {} on host {} (pid {}), lease until {}",
                    v["run_id"].as_str().unwrap_or("?"),
                    v["host"].as_str().unwrap_or("?"),
                    v["pid"],
                    v["expires"].as_str().unwrap_or("?")
                ),
                expires: v["expires"]
                    .as_str()
                    .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
                    .map_or(fallback, |e| e.with_timezone(&Utc)),
            },
            Err(_) => Holder {
                text: "a run whose lease cannot be read".into(),
                expires: fallback,
            },
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn store_error(root: &str, what: &str, source: object_store::Error) -> SinkError {
    SinkError::Store {
        what: format!("failed to {what} of `{root}` (`{LEASE_FILE}`)"),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    const WAIT0: Duration = Duration::ZERO;

    fn holder_of(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap()
    }

    async fn lease_body(store: &dyn ObjectStore) -> serde_json::Value {
        let b = store.get(&path()).await.unwrap().bytes().await.unwrap();
        holder_of(std::str::from_utf8(&b).unwrap())
    }

    #[tokio::test]
    async fn one_holder_at_a_time_and_release_frees_the_root() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let ttl = Duration::from_secs(60);
        let a = Lease::acquire(store.clone(), "root", "run-a", ttl, WAIT0)
            .await
            .unwrap();
        assert_eq!(lease_body(store.as_ref()).await["run_id"], "run-a");
        let e = Lease::acquire(store.clone(), "root", "run-b", ttl, Duration::from_secs(1))
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("another run is writing to `root`") && e.contains("run run-a"),
            "{e}"
        );
        a.confirm().await.unwrap();
        a.release().await;
        assert!(
            store.head(&path()).await.is_err(),
            "released lease still there"
        );
        let b = Lease::acquire(store.clone(), "root", "run-b", ttl, WAIT0)
            .await
            .unwrap();
        b.release().await;
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_and_its_holder_cannot_commit() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let a = Lease::acquire(
            store.clone(),
            "root",
            "run-a",
            Duration::from_secs(3),
            WAIT0,
        )
        .await
        .unwrap();
        // run-a stops renewing (as a process stopped for longer than its
        // lease would).
        a.renewer.abort();
        // While it holds, a second run waits and then gives up.
        assert!(Lease::acquire(
            store.clone(),
            "root",
            "run-b",
            Duration::from_secs(3),
            WAIT0
        )
        .await
        .is_err());
        tokio::time::sleep(Duration::from_millis(3200)).await;
        let b = Lease::acquire(
            store.clone(),
            "root",
            "run-b",
            Duration::from_secs(3),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        assert_eq!(lease_body(store.as_ref()).await["run_id"], "run-b");
        let e = a.confirm().await.unwrap_err().to_string();
        assert!(
            e.contains("lost its lease") && e.contains("nothing was committed"),
            "{e}"
        );
        // The old holder's release leaves the new holder's lease alone.
        a.release().await;
        assert_eq!(lease_body(store.as_ref()).await["run_id"], "run-b");
        b.confirm().await.unwrap();
        b.release().await;
    }

    #[tokio::test]
    async fn a_live_holder_renews_so_it_is_never_taken_over() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let a = Lease::acquire(
            store.clone(),
            "root",
            "run-a",
            Duration::from_secs(3),
            WAIT0,
        )
        .await
        .unwrap();
        // Past the first lease's expiry; renewals kept it.
        let e = Lease::acquire(
            store.clone(),
            "root",
            "run-b",
            Duration::from_secs(3),
            Duration::from_secs(4),
        )
        .await
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("run run-a"), "{e}");
        a.confirm().await.unwrap();
        a.release().await;
    }

    #[test]
    fn an_unreadable_lease_expires_a_lease_after_it_was_written() {
        let written = Utc::now() - chrono::Duration::seconds(10);
        let h = Holder::parse(b"garbage", written, Duration::from_secs(5));
        assert!(h.expires < Utc::now());
        assert!(h.to_string().contains("cannot be read"));
        let h = Holder::parse(b"garbage", Utc::now(), Duration::from_secs(60));
        assert!(h.expires > Utc::now());
    }
}
