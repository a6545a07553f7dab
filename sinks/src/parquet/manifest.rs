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
    let path = manifest_path(run_id);
    let bytes = store
        .get(&path)
        .await
        .map_err(|source| SinkError::Store {
            what: format!("failed to read manifest `{path}`"),
            source,
        })?
        .bytes()
        .await
        .map_err(|source| SinkError::Store {
            what: format!("failed to read manifest `{path}`"),
            source,
        })?;
    let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        SinkError::Other(format!(
            "manifest `{path}` is not valid: {e}; delete it to fall back to the previous run"
        ))
    })?;
    if m.format_version != FORMAT_VERSION {
        return Err(SinkError::Other(format!(
            "manifest `{path}` has format version {}, this cloudtab reads version {FORMAT_VERSION}; upgrade cloudtab",
            m.format_version
        )));
    }
    Ok(m)
}

/// The manifest of the newest committed run, if any.
pub async fn latest_manifest(store: &dyn ObjectStore) -> Result<Option<Manifest>, SinkError> {
    match committed_runs(store).await?.last() {
        Some(id) => read_manifest(store, id).await.map(Some),
        None => Ok(None),
    }
}
