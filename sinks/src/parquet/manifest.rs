use std::collections::BTreeMap;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};

use crate::sink::SinkError;

/// Folder of the manifests under the sink's root.
pub const MANIFEST_DIR: &str = "_manifests";

/// Version of the manifest format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The commit record of one run: every file of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version.
    pub format_version: u32,
    /// Run id.
    pub run_id: String,
    /// Run start, RFC 3339 UTC.
    pub started_at: String,
    /// Commit time, RFC 3339 UTC.
    pub committed_at: String,
    /// cloudtab version that wrote the run.
    pub cloudtab_version: String,
    /// Every table of the snapshot.
    pub tables: BTreeMap<String, TableEntry>,
}

/// One table of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    /// Rows in all files.
    pub rows: u64,
    /// Files, relative to the sink's root.
    pub files: Vec<FileEntry>,
}

/// One Parquet file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the sink's root.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
}

pub(crate) fn manifest_path(run_id: &str) -> Path {
    Path::from(format!("{MANIFEST_DIR}/{run_id}.json"))
}

/// Ids of the committed runs, oldest first.
pub async fn committed_runs(store: &dyn ObjectStore) -> Result<Vec<String>, SinkError> {
    let prefix = Path::from(MANIFEST_DIR);
    let metas: Vec<_> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|source| SinkError::Store {
            what: format!("failed to list manifests under `{MANIFEST_DIR}/`"),
            source,
        })?;
    let mut ids: Vec<String> = metas
        .iter()
        .filter_map(|m| {
            m.location
                .filename()?
                .strip_suffix(".json")
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    Ok(ids)
}

/// The manifest of a committed run.
pub async fn read_manifest(store: &dyn ObjectStore, run_id: &str) -> Result<Manifest, SinkError> {
    match checked_manifest(store, run_id, false).await? {
        Ok(m) => Ok(m),
        Err(damage) => Err(SinkError::Other(format!(
            "{damage}; delete it to fall back to the previous run"
        ))),
    }
}

/// The manifest of a committed run, or why it cannot be used: it vanished,
/// is not a manifest, or (with `files`) lists a file that is missing.
/// Errors of the store itself (network, permissions) and manifests of a
/// newer cloudtab are errors, not damage: skipping those would quietly
/// serve an older snapshot.
pub(crate) async fn checked_manifest(
    store: &dyn ObjectStore,
    run_id: &str,
    files: bool,
) -> Result<Result<Manifest, String>, SinkError> {
    let path = manifest_path(run_id);
    let read_error = |source| SinkError::Store {
        what: format!("failed to read manifest `{path}`"),
        source,
    };
    let bytes = match store.get(&path).await {
        Ok(got) => got.bytes().await.map_err(read_error)?,
        Err(object_store::Error::NotFound { .. }) => {
            return Ok(Err(format!("manifest `{path}` is gone")))
        }
        Err(e) => return Err(read_error(e)),
    };
    let m: Manifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => return Ok(Err(format!("manifest `{path}` is not valid: {e}"))),
    };
    let m = check_version(&path, m)?;
    for (name, table) in &m.tables {
        for f in &table.files {
            check_manifest_path(&f.path).map_err(|why| {
                SinkError::Other(format!(
                    "manifest `{path}` lists file `{}` of table `{name}`, which {why}; refusing to follow it (a manifest only names files under its root)",
                    f.path
                ))
            })?;
        }
    }
    if files {
        for f in m.tables.values().flat_map(|t| &t.files) {
            match store.head(&Path::from(f.path.as_str())).await {
                Ok(_) => {}
                Err(object_store::Error::NotFound { .. }) => {
                    return Ok(Err(format!(
                        "manifest `{path}` lists `{}`, which is missing",
                        f.path
                    )))
                }
                Err(source) => {
                    return Err(SinkError::Store {
                        what: format!("failed to look up `{}`", f.path),
                        source,
                    })
                }
            }
        }
    }
    Ok(Ok(m))
}

/// A manifest names files relative to its root: no absolute path, no `..`,
/// nothing that could reach outside the root.
pub(crate) fn check_manifest_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
        return Err("is absolute");
    }
    if path
        .split(['/', '\\'])
        .any(|c| c == ".." || c == "." || c.is_empty())
    {
        return Err("leaves the root (`..`, `.` or an empty component)");
    }
    Ok(())
}

fn check_version(path: &Path, m: Manifest) -> Result<Manifest, SinkError> {
    if m.format_version != FORMAT_VERSION {
        return Err(SinkError::Other(format!(
            "manifest `{path}` has format version {}, this cloudtab reads version {FORMAT_VERSION}; upgrade cloudtab",
            m.format_version
        )));
    }
    Ok(m)
}

/// The manifest of the newest committed run that can be read and whose
/// files are all there, if any. A damaged one (not a manifest, or listing
/// a missing file) is skipped with a warning: `query`, carry-forward and
/// pruning use the newest readable run instead of failing on it.
pub async fn latest_manifest(store: &dyn ObjectStore) -> Result<Option<Manifest>, SinkError> {
    for id in committed_runs(store).await?.iter().rev() {
        if let Some(m) = readable_manifest(store, id).await? {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

/// The manifest of run `id` when it is readable and complete; `None`,
/// with a warning, when it is damaged.
pub async fn readable_manifest(
    store: &dyn ObjectStore,
    id: &str,
) -> Result<Option<Manifest>, SinkError> {
    match checked_manifest(store, id, true).await? {
        Ok(m) => Ok(Some(m)),
        Err(damage) => {
            tracing::warn!(run_id = id, "{damage}: skipped, the previous run is used");
            Ok(None)
        }
    }
}
