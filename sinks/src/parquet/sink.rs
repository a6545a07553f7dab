use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{new_null_array, Array, BooleanArray, StringArray, TimestampMicrosecondArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use cloudtab_schema::{Distribution, TableDef, TableKind, EDGES_TABLE};
use futures::TryStreamExt;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
#[allow(deprecated)]
use parquet::arrow::async_reader::{
    ParquetObjectReader, ParquetRecordBatchStream, ParquetRecordBatchStreamBuilder,
};
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use super::config::{Location, ParquetSinkConfig};
use super::lease::Lease;
use super::lock::{remove_leftovers, RootLock};
use super::manifest::{
    checked_manifest, committed_runs, latest_manifest, manifest_path, readable_manifest, FileEntry,
    Manifest, TableEntry, FORMAT_VERSION, MANIFEST_DIR,
};
use crate::sink::{Carried, CommitInfo, RunInfo, ScopeKey, Sink, SinkError, SinkTransaction};

/// How a column is encoded, beyond the file-wide Snappy compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnEncoding {
    /// Values (nearly) unique per row, and JSON documents: plain, without
    /// min/max statistics (no reader prunes on the range of hashes, ARNs or
    /// JSON text).
    Plain,
    /// Timestamps of events (creation, change, access, expiry): nearly
    /// unique per row, where a dictionary only adds a copy of every value,
    /// so plain; with min/max statistics, which time filters skip row
    /// groups with.
    PlainWithStatistics,
    /// Repeated text: a dictionary, without min/max statistics. Keeping
    /// them compares every value twice (7.5% of the instructions of
    /// flattening and writing a run, docs/BENCHMARKS.md) for ranges no
    /// query prunes on: `_run_id` and the partition directory already say
    /// which run a file is from, and kinds, states or types are spread over
    /// every row group.
    DictionaryNoStatistics,
    /// Numbers, booleans, and what rows arrive grouped by (`account_id`,
    /// `region`: rows come scope by scope, so a row group covers few
    /// accounts and regions and readers skip the others on these ranges;
    /// `_synced_at`, one value per run): a dictionary and min/max
    /// statistics per column chunk.
    DictionaryAndStatistics,
}

/// The encoding of a column, from its type and what the model says of its
/// values (the field metadata `arrow_schema` writes).
fn column_encoding(f: &arrow::datatypes::Field) -> ColumnEncoding {
    let meta = |key: &str, value: &str| f.metadata().get(key).is_some_and(|v| v == value);
    let json = meta("cloudtab.type", "json");
    let key = Distribution::FIELD_METADATA_KEY;
    let unique = meta(key, Distribution::Unique.as_str());
    let grouped = meta(key, Distribution::Grouped.as_str());
    if json || unique {
        ColumnEncoding::Plain
    } else if grouped {
        ColumnEncoding::DictionaryAndStatistics
    } else if matches!(f.data_type(), arrow::datatypes::DataType::Timestamp(..)) {
        ColumnEncoding::PlainWithStatistics
    } else if *f.data_type() == arrow::datatypes::DataType::Utf8 {
        ColumnEncoding::DictionaryNoStatistics
    } else {
        ColumnEncoding::DictionaryAndStatistics
    }
}

/// The writer settings of every Parquet file cloudtab writes (the
/// Parquet sink's and the files the Snowflake sink stages): Snappy, row
/// groups of at most `row_group_rows` rows and `row_group_bytes` bytes,
/// and each column's encoding from [`column_encoding`].
pub(crate) fn writer_properties(
    tables: &[(&'static TableDef, SchemaRef)],
    row_group_rows: usize,
    row_group_bytes: usize,
) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_max_row_group_bytes(Some(row_group_bytes))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_created_by(format!("cloudtab {}", env!("CARGO_PKG_VERSION")));
    for (_, schema) in tables {
        for f in schema.fields() {
            let col = ColumnPath::from(f.name().as_str());
            match column_encoding(f) {
                ColumnEncoding::Plain => {
                    props = props
                        .set_column_dictionary_enabled(col.clone(), false)
                        .set_column_statistics_enabled(col, EnabledStatistics::None);
                }
                ColumnEncoding::PlainWithStatistics => {
                    props = props.set_column_dictionary_enabled(col, false);
                }
                ColumnEncoding::DictionaryNoStatistics => {
                    props = props.set_column_statistics_enabled(col, EnabledStatistics::None);
                }
                ColumnEncoding::DictionaryAndStatistics => {}
            }
        }
    }
    props.build()
}

/// Bytes a file buffers before its upload goes multipart, and the size of
/// each part, on a local root.
const LOCAL_PART_BYTES: usize = 1 << 20;

/// The same on S3, whose parts must be at least 5 MiB (all but the last).
/// One part of each file uploads while the next fills: a file holds at
/// most two parts (10 MiB), which keeps a 1M-resource run within its
/// memory budget (docs/BENCHMARKS.md, "Parquet on S3").
const S3_PART_BYTES: usize = 5 << 20;

/// Parts of one file uploading at once, on a local root and on S3.
const LOCAL_PARTS_IN_FLIGHT: usize = 2;
const S3_PARTS_IN_FLIGHT: usize = 1;

/// The Parquet sink. See the module docs.
pub struct ParquetSink {
    store: Arc<dyn ObjectStore>,
    display: String,
    config: ParquetSinkConfig,
    /// The directory, for a local destination: leftovers of killed runs
    /// include staging files that object stores do not list, so local
    /// clean-up works on the directory itself.
    local_root: Option<PathBuf>,
    /// Upload part size and parts in flight per file (see
    /// [`LOCAL_PART_BYTES`]).
    part_bytes: usize,
    parts_in_flight: usize,
}

impl ParquetSink {
    /// Opens the destination: a local directory (created if missing) or
    /// an S3 bucket and prefix (with the AWS credential chain).
    pub async fn open(config: ParquetSinkConfig) -> Result<Self, SinkError> {
        config.validate()?;
        match config.location()? {
            Location::Local(_) => Self::build(config),
            #[cfg(feature = "s3")]
            Location::S3 { bucket, prefix } => {
                let store = super::s3::s3_store(&config, &bucket).await?;
                let store = super::s3::rooted(store, &prefix);
                let display = format!("parquet {}", config.url.trim().trim_end_matches('/'));
                Ok(Self::with_store(store, display, config))
            }
            #[cfg(not(feature = "s3"))]
            Location::S3 { .. } => unreachable!("validate refuses s3:// without the s3 feature"),
        }
    }

    /// Opens a local directory (creating it if missing); see [`Self::open`]
    /// for any destination.
    pub fn build(config: ParquetSinkConfig) -> Result<Self, SinkError> {
        config.validate()?;
        let dir = config.local_path()?;
        std::fs::create_dir_all(&dir).map_err(|e| {
            SinkError::Config(format!(
                "url: cannot create directory `{}`: {e}",
                dir.display()
            ))
        })?;
        let store = LocalFileSystem::new_with_prefix(&dir).map_err(|source| SinkError::Store {
            what: format!("cannot open directory `{}`", dir.display()),
            source,
        })?;
        Ok(ParquetSink {
            store: Arc::new(store),
            display: format!("parquet {}", dir.display()),
            config,
            local_root: Some(dir),
            part_bytes: LOCAL_PART_BYTES,
            parts_in_flight: LOCAL_PARTS_IN_FLIGHT,
        })
    }

    /// A sink over any object store; one run at a time holds the root's
    /// lease (see the `lease` module).
    pub fn with_store(
        store: Arc<dyn ObjectStore>,
        display: String,
        config: ParquetSinkConfig,
    ) -> Self {
        ParquetSink {
            store,
            display,
            config,
            local_root: None,
            part_bytes: S3_PART_BYTES,
            parts_in_flight: S3_PARTS_IN_FLIGHT,
        }
    }

    /// The object store the sink writes to.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// With the root held: removes what killed runs left (every run
    /// directory no committed manifest names), then reads the snapshot the
    /// new run replaces (failed scopes are carried from it).
    async fn clean_up_and_read_previous(&self) -> Result<Option<Manifest>, SinkError> {
        let store = self.store.as_ref();
        let committed: BTreeSet<String> = committed_runs(store).await?.into_iter().collect();
        match &self.local_root {
            Some(root) => {
                remove_leftovers(root, &committed);
            }
            None => remove_store_leftovers(store, &committed).await?,
        }
        latest_manifest(store).await
    }
}

#[async_trait]
impl Sink for ParquetSink {
    fn describe(&self) -> String {
        self.display.clone()
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        // Write, read and delete a probe object; then make sure existing
        // manifests are readable, so a broken destination fails now.
        let probe = Path::from(format!("{MANIFEST_DIR}/.probe-{}", std::process::id()));
        self.store
            .put(&probe, PutPayload::from_static(b"ok"))
            .await
            .map_err(|source| SinkError::Store {
                what: format!("{} is not writable", self.display),
                source,
            })?;
        let _ = self.store.delete(&probe).await;
        committed_runs(self.store.as_ref()).await?;
        Ok(())
    }

    async fn begin(&self, run: &RunInfo) -> Result<Box<dyn SinkTransaction>, SinkError> {
        crate::sink::validate_run_id(&run.run_id)?;
        let props = writer_properties(
            &run.tables,
            self.config.row_group_rows,
            self.config.row_group_bytes,
        );
        // One writer per root: with the lock (or lease) held no other run
        // is live, so every run directory no manifest names is a killed
        // run's leftover.
        let (lock, lease) = match &self.local_root {
            Some(root) => (
                Some(RootLock::acquire(root, &run.run_id, self.config.lock_wait()).await?),
                None,
            ),
            None => {
                let ttl = std::time::Duration::from_secs(self.config.lease_secs);
                let wait = self.config.lock_wait();
                let lease =
                    Lease::acquire(self.store.clone(), &self.display, &run.run_id, ttl, wait)
                        .await?;
                (None, Some(lease))
            }
        };
        let previous = match self.clean_up_and_read_previous().await {
            Ok(m) => m,
            Err(e) => {
                if let Some(lease) = lease {
                    lease.release().await;
                }
                return Err(e);
            }
        };
        Ok(Box::new(ParquetTxn {
            previous,
            store: self.store.clone(),
            run: run.clone(),
            run_date: run.started_at.format("%Y-%m-%d").to_string(),
            props,
            config: self.config.clone(),
            local_root: self.local_root.clone(),
            open: HashMap::new(),
            done: BTreeMap::new(),
            in_flight: Arc::new(Semaphore::new(batches_in_flight())),
            _lock: lock,
            lease,
            part_bytes: self.part_bytes,
            parts_in_flight: self.parts_in_flight,
            uncertain: false,
        }))
    }
}

/// A file being written. Its encoder runs as a task of its own, so the
/// files of different tables are encoded on different cores while the
/// caller goes on; each file's batches stay in order.
struct OpenFile {
    tx: mpsc::Sender<Encode>,
    task: JoinHandle<Result<(), SinkError>>,
    path: Path,
    rows: u64,
}

impl OpenFile {
    /// Tells the encoder that no more batches come: it writes the last row
    /// group and the footer and finishes the upload on its own task.
    fn close(self) -> ClosingFile {
        drop(self.tx);
        ClosingFile {
            task: self.task,
            path: self.path,
            rows: self.rows,
        }
    }
}

/// A file whose encoder is finishing it.
struct ClosingFile {
    task: JoinHandle<Result<(), SinkError>>,
    path: Path,
    rows: u64,
}

/// What an encoder task is told.
enum Encode {
    /// Append a batch; the permit is one of the run's batches in flight.
    Batch(RecordBatch, OwnedSemaphorePermit),
    /// Stop and abort the upload (the run is failing).
    Abort,
}

/// Batches waiting for one file's encoder.
const ENCODE_QUEUE: usize = 1;

/// Batches queued or being encoded, over all files of a run: one per core
/// keeps every core busy, and memory does not grow with the number of
/// tables.
fn batches_in_flight() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Encodes every batch it receives into `writer`; closes the file when the
/// sender is dropped, aborts the upload on [`Encode::Abort`] or an error.
async fn encode_file(
    mut writer: AsyncArrowWriter<BufWriter>,
    mut rx: mpsc::Receiver<Encode>,
    table: &'static str,
    path: Path,
) -> Result<(), SinkError> {
    let error = |source| SinkError::Parquet {
        table: table.to_string(),
        path: path.to_string(),
        source,
    };
    while let Some(msg) = rx.recv().await {
        let written = match msg {
            Encode::Batch(b, _permit) => writer.write(&b).await,
            Encode::Abort => {
                let _ = writer.into_inner().abort().await;
                return Ok(());
            }
        };
        if let Err(e) = written {
            let _ = writer.into_inner().abort().await;
            return Err(error(e));
        }
    }
    writer.close().await.map(|_| ()).map_err(error)
}

/// The outcome of an encoder task that has ended.
async fn encoder_result(
    task: JoinHandle<Result<(), SinkError>>,
    table: &str,
    path: &Path,
) -> Result<(), SinkError> {
    match task.await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(SinkError::Other(format!(
            "the encoder of file `{path}` of table `{table}` was cancelled"
        ))),
    }
}

struct ParquetTxn {
    previous: Option<Manifest>,
    store: Arc<dyn ObjectStore>,
    run: RunInfo,
    run_date: String,
    props: WriterProperties,
    config: ParquetSinkConfig,
    local_root: Option<PathBuf>,
    open: HashMap<&'static str, OpenFile>,
    done: BTreeMap<&'static str, Vec<FileEntry>>,
    /// Permits for batches in flight to the encoders.
    in_flight: Arc<Semaphore>,
    /// The root's lock (local roots), held until the run ends.
    _lock: Option<RootLock>,
    /// The root's lease (object stores), held until the run ends.
    lease: Option<Lease>,
    /// Upload part size and parts in flight per file.
    part_bytes: usize,
    parts_in_flight: usize,
    /// The manifest put failed in a way that may have stored it: the
    /// run's files stay (the next run, holding the root, decides).
    uncertain: bool,
}

impl ParquetTxn {
    fn run_prefix(&self, table: &str) -> String {
        format!(
            "{table}/run_date={}/run_id={}",
            self.run_date, self.run.run_id
        )
    }

    fn open_file(
        &self,
        table: &'static TableDef,
        schema: arrow::datatypes::SchemaRef,
    ) -> Result<OpenFile, SinkError> {
        let part = self.done.get(table.name).map_or(0, Vec::len);
        let path = Path::from(format!(
            "{}/part-{part:05}.parquet",
            self.run_prefix(table.name)
        ));
        let out = BufWriter::with_capacity(self.store.clone(), path.clone(), self.part_bytes)
            .with_max_concurrency(self.parts_in_flight);
        let writer =
            AsyncArrowWriter::try_new(out, schema, Some(self.props.clone())).map_err(|source| {
                SinkError::Parquet {
                    table: table.name.to_string(),
                    path: path.to_string(),
                    source,
                }
            })?;
        let (tx, rx) = mpsc::channel(ENCODE_QUEUE);
        let task = tokio::spawn(encode_file(writer, rx, table.name, path.clone()));
        Ok(OpenFile {
            tx,
            task,
            path,
            rows: 0,
        })
    }

    async fn close_file(&mut self, table: &'static TableDef) -> Result<(), SinkError> {
        let Some(f) = self.open.remove(table.name) else {
            return Ok(());
        };
        self.closed(table, f.close()).await
    }

    /// Waits for the encoder of a closing file of `table` and records the
    /// file it wrote.
    async fn closed(&mut self, table: &'static TableDef, f: ClosingFile) -> Result<(), SinkError> {
        encoder_result(f.task, table.name, &f.path).await?;
        let meta = self
            .store
            .head(&f.path)
            .await
            .map_err(|source| SinkError::Store {
                what: format!(
                    "failed to check file `{}` of table `{}`",
                    f.path, table.name
                ),
                source,
            })?;
        self.done.entry(table.name).or_default().push(FileEntry {
            path: f.path.to_string(),
            rows: f.rows,
            bytes: meta.size,
        });
        Ok(())
    }

    /// Deletes everything this run wrote (best effort).
    async fn remove_written(&mut self) {
        for (_, f) in self.open.drain() {
            // An encoder that already failed has aborted its upload itself.
            let _ = f.tx.send(Encode::Abort).await;
            drop(f.tx);
            let _ = f.task.await;
        }
        for (t, _) in &self.run.tables {
            let prefix = self.run_prefix(t.name);
            match &self.local_root {
                Some(root) => remove_local_dir(&root.join(&prefix)),
                None => {
                    let _ = delete_prefix(self.store.as_ref(), &Path::from(prefix)).await;
                }
            }
        }
    }

    /// Keeps the newest `keep` readable runs (and any damaged manifest
    /// newer than the oldest of them); deletes the runs before them and
    /// leftovers of killed runs older than the oldest kept run.
    async fn prune(&mut self, keep: usize) -> Result<(), SinkError> {
        let store = self.store.as_ref();
        let runs = committed_runs(store).await?;
        let (mut readable, mut cut) = (0, runs.len());
        for (i, id) in runs.iter().enumerate().rev() {
            if readable == keep {
                break;
            }
            cut = i;
            if readable_manifest(store, id).await?.is_some() {
                readable += 1;
            }
        }
        if readable < keep {
            return Ok(());
        }
        let (old, kept) = runs.split_at(cut);
        let oldest_kept = kept.first().cloned().unwrap_or_default();
        for id in old {
            let files = match checked_manifest(store, id, false).await? {
                Ok(m) => m.tables.into_values().flat_map(|t| t.files).collect(),
                Err(damage) => {
                    // Its run directory goes with the leftovers below.
                    tracing::warn!(run_id = %id, "{damage}: deleted with its run");
                    Vec::new()
                }
            };
            // Manifest first: from here on no reader follows the run.
            store
                .delete(&manifest_path(id))
                .await
                .map_err(|source| SinkError::Store {
                    what: format!("failed to delete manifest of run `{id}`"),
                    source,
                })?;
            for f in files {
                let _ = store.delete(&Path::from(f.path.as_str())).await;
            }
        }
        let kept: BTreeSet<&String> = kept.iter().collect();
        let is_leftover = |id: &str| !kept.contains(&id.to_string()) && *id < *oldest_kept;
        // Every run directory that no kept manifest lists and that is older
        // than the oldest kept run is a leftover.
        for (t, _) in &self.run.tables {
            if let Some(root) = &self.local_root {
                for (dir, id) in local_run_dirs(&root.join(t.name)) {
                    if is_leftover(&id) {
                        remove_local_dir(&dir);
                    }
                }
                continue;
            }
            let dates = list_dirs(self.store.as_ref(), &Path::from(t.name)).await?;
            for date in dates {
                for run_dir in list_dirs(self.store.as_ref(), &date).await? {
                    let Some(id) = run_dir.filename().and_then(|f| f.strip_prefix("run_id="))
                    else {
                        continue;
                    };
                    if is_leftover(id) {
                        delete_prefix(self.store.as_ref(), &run_dir).await?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// `<table dir>/run_date=*/run_id=*` directories with their run ids.
pub(super) fn local_run_dirs(table_dir: &std::path::Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(dates) = std::fs::read_dir(table_dir) else {
        return out;
    };
    for date in dates.flatten() {
        let Ok(runs) = std::fs::read_dir(date.path()) else {
            continue;
        };
        for run in runs.flatten() {
            if let Some(id) = run
                .file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("run_id="))
            {
                out.push((run.path(), id.to_string()));
            }
        }
    }
    out
}

/// Removes a run directory and, when it was the last, its date directory.
pub(super) fn remove_local_dir(dir: &std::path::Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), error = %e, "failed to delete a run directory");
        }
    }
    if let Some(parent) = dir.parent() {
        // Fails (and is left alone) while other runs of that day remain.
        let _ = std::fs::remove_dir(parent);
    }
}

async fn list_dirs(store: &dyn ObjectStore, prefix: &Path) -> Result<Vec<Path>, SinkError> {
    store
        .list_with_delimiter(Some(prefix))
        .await
        .map(|l| l.common_prefixes)
        .map_err(|source| SinkError::Store {
            what: format!("failed to list `{prefix}`"),
            source,
        })
}

async fn delete_prefix(store: &dyn ObjectStore, prefix: &Path) -> Result<(), SinkError> {
    let objects: Vec<_> = store
        .list(Some(prefix))
        .try_collect()
        .await
        .map_err(|source| SinkError::Store {
            what: format!("failed to list `{prefix}`"),
            source,
        })?;
    for o in objects {
        store
            .delete(&o.location)
            .await
            .map_err(|source| SinkError::Store {
                what: format!("failed to delete `{}`", o.location),
                source,
            })?;
    }
    Ok(())
}

#[async_trait]
impl SinkTransaction for ParquetTxn {
    async fn write(
        &mut self,
        table: &'static TableDef,
        batch: RecordBatch,
    ) -> Result<(), SinkError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if !self.open.contains_key(table.name) {
            let f = self.open_file(table, batch.schema())?;
            self.open.insert(table.name, f);
        }
        let rows = batch.num_rows() as u64;
        let permit = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SinkError::Other("the Parquet encoders were shut down".to_string()))?;
        let Some(f) = self.open.get_mut(table.name) else {
            return Ok(());
        };
        if f.tx.send(Encode::Batch(batch, permit)).await.is_ok() {
            f.rows += rows;
            if f.rows >= self.config.file_rows {
                self.close_file(table).await?;
            }
            return Ok(());
        }
        // The encoder stopped on an error: that error is the answer.
        let Some(f) = self.open.remove(table.name) else {
            return Ok(());
        };
        encoder_result(f.task, table.name, &f.path).await?;
        Err(SinkError::Other(format!(
            "the encoder of file `{}` of table `{}` stopped",
            f.path, table.name
        )))
    }

    async fn carry_forward(
        &mut self,
        failed: &[ScopeKey],
        oldest: chrono::DateTime<Utc>,
    ) -> Result<Vec<Carried>, SinkError> {
        let mut carried = vec![Carried::default(); failed.len()];
        let Some(previous) = self.previous.clone() else {
            return Ok(carried);
        };
        if failed.is_empty() {
            return Ok(carried);
        }
        let oldest = oldest.timestamp_micros();
        let tables = self.run.tables.clone();
        let mut ids: HashSet<String> = HashSet::new();
        let mut dropped: HashSet<String> = HashSet::new();
        for (def, schema) in &tables {
            let TableKind::Resource { service, .. } = def.kind else {
                continue;
            };
            if !failed.iter().any(|k| k.service == service) {
                continue;
            }
            let Some(entry) = previous.tables.get(def.name) else {
                continue;
            };
            // Rows a partly failed scope did read in this run are this
            // run's; only the others are carried.
            let own = self.own_ids(def, service, failed).await?;
            for file in &entry.files {
                let mut batches = read_file(self.store.clone(), def.name, &file.path).await?;
                while let Some(batch) = batches
                    .try_next()
                    .await
                    .map_err(|source| read_error(def.name, &file.path, source))?
                {
                    let (accounts, regions, uids) = (
                        text_col(&batch, "account_id"),
                        text_col(&batch, "region"),
                        text_col(&batch, "_id"),
                    );
                    let synced = batch
                        .column_by_name("_synced_at")
                        .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>());
                    let (Some(accounts), Some(regions), Some(uids), Some(synced)) =
                        (accounts, regions, uids, synced)
                    else {
                        return Err(SinkError::Other(format!(
                            "cannot carry rows forward: file `{}` of table `{}` lacks the base columns",
                            file.path, def.name
                        )));
                    };
                    let mut keep = Vec::with_capacity(batch.num_rows());
                    for row in 0..batch.num_rows() {
                        let hit = failed
                            .iter()
                            .position(|k| {
                                k.covers(service, accounts.value(row), regions.value(row))
                            })
                            .filter(|_| !own.contains(uids.value(row)));
                        let fresh = synced.is_valid(row) && synced.value(row) >= oldest;
                        match hit {
                            Some(i) if fresh => {
                                carried[i].rows += 1;
                                ids.insert(uids.value(row).to_string());
                            }
                            Some(i) => {
                                carried[i].dropped += 1;
                                dropped.insert(uids.value(row).to_string());
                            }
                            None => {}
                        }
                        keep.push(hit.is_some() && fresh);
                    }
                    let kept = filter_record_batch(&batch, &BooleanArray::from(keep))
                        .map_err(|e| arrow_error(def.name, e))?;
                    if kept.num_rows() > 0 {
                        let adapted = adapt(&kept, schema).map_err(|e| arrow_error(def.name, e))?;
                        self.write(def, adapted).await?;
                    }
                }
            }
        }
        if !ids.is_empty() {
            self.carry_edges(&previous, &ids, &dropped).await?;
        }
        Ok(carried)
    }

    async fn commit(mut self: Box<Self>) -> Result<CommitInfo, SinkError> {
        let result = self.finish_and_publish().await;
        if result.is_err() && !self.uncertain {
            self.remove_written().await;
        }
        if result.is_ok() {
            if let Some(keep) = self.config.keep_runs {
                // The run is committed; a failed clean-up is only a warning.
                if let Err(e) = self.prune(keep).await {
                    tracing::warn!(error = %e, "committed, but failed to delete old runs; they are deleted by the next run");
                }
            }
        }
        if let Some(lease) = self.lease.take() {
            lease.release().await;
        }
        result
    }

    async fn abort(mut self: Box<Self>) -> Result<(), SinkError> {
        self.remove_written().await;
        if let Some(lease) = self.lease.take() {
            lease.release().await;
        }
        Ok(())
    }
}

impl ParquetTxn {
    /// `_id`s of this run's rows of `def` that belong to `failed` scopes
    /// (rows a scope read before it failed).
    async fn own_ids(
        &mut self,
        def: &'static TableDef,
        service: &str,
        failed: &[ScopeKey],
    ) -> Result<HashSet<String>, SinkError> {
        let mut own = HashSet::new();
        self.each_written_batch(def, |b| {
            let (Some(accounts), Some(regions), Some(uids)) = (
                text_col(b, "account_id"),
                text_col(b, "region"),
                text_col(b, "_id"),
            ) else {
                return;
            };
            for row in 0..b.num_rows() {
                if failed
                    .iter()
                    .any(|k| k.covers(service, accounts.value(row), regions.value(row)))
                {
                    own.insert(uids.value(row).to_string());
                }
            }
        })
        .await?;
        Ok(own)
    }

    /// Closes this run's open file of `def` and calls `f` with every batch
    /// the run has written to the table so far.
    async fn each_written_batch(
        &mut self,
        def: &'static TableDef,
        mut f: impl FnMut(&RecordBatch),
    ) -> Result<(), SinkError> {
        self.close_file(def).await?;
        let written: Vec<String> = self
            .done
            .get(def.name)
            .map(|f| f.iter().map(|f| f.path.clone()).collect())
            .unwrap_or_default();
        for path in &written {
            let mut batches = read_file(self.store.clone(), def.name, path).await?;
            while let Some(b) = batches
                .try_next()
                .await
                .map_err(|source| read_error(def.name, path, source))?
            {
                f(&b);
            }
        }
        Ok(())
    }

    /// Carries the previous snapshot's edges that touch a carried resource,
    /// that this run did not write itself and whose other end was not
    /// dropped for its age.
    async fn carry_edges(
        &mut self,
        previous: &Manifest,
        ids: &HashSet<String>,
        dropped: &HashSet<String>,
    ) -> Result<(), SinkError> {
        let Some((def, schema)) = self
            .run
            .tables
            .iter()
            .find(|(t, _)| t.name == EDGES_TABLE)
            .cloned()
        else {
            return Ok(());
        };
        // This run's own edges that touch carried resources: few, as they
        // are bounded by the failed scopes' size.
        let mut own: HashSet<(String, String, String)> = HashSet::new();
        self.each_written_batch(def, |b| {
            for_each_edge(b, |from, to, ty| {
                if ids.contains(from) || ids.contains(to) {
                    own.insert((from.to_string(), to.to_string(), ty.to_string()));
                }
                false
            });
        })
        .await?;
        let Some(entry) = previous.tables.get(def.name) else {
            return Ok(());
        };
        for file in &entry.files {
            let mut batches = read_file(self.store.clone(), def.name, &file.path).await?;
            while let Some(b) = batches
                .try_next()
                .await
                .map_err(|source| read_error(def.name, &file.path, source))?
            {
                let keep = for_each_edge(&b, |from, to, ty| {
                    (ids.contains(from) || ids.contains(to))
                        && !dropped.contains(from)
                        && !dropped.contains(to)
                        && !own.contains(&(from.to_string(), to.to_string(), ty.to_string()))
                });
                let kept = filter_record_batch(&b, &BooleanArray::from(keep))
                    .map_err(|e| arrow_error(def.name, e))?;
                if kept.num_rows() > 0 {
                    let adapted = adapt(&kept, &schema).map_err(|e| arrow_error(def.name, e))?;
                    self.write(def, adapted).await?;
                }
            }
        }
        Ok(())
    }

    async fn finish_and_publish(&mut self) -> Result<CommitInfo, SinkError> {
        let tables = self.run.tables.clone();
        for (t, schema) in &tables {
            if !self.open.contains_key(t.name) && !self.done.contains_key(t.name) {
                // An empty table still gets a (schema-only) file.
                let f = self.open_file(t, schema.clone())?;
                self.open.insert(t.name, f);
            }
        }
        // Every encoder is told at once, so the last row groups of all
        // tables are encoded side by side, not one file after the other.
        // Each is waited for even after an error, so none writes on behind
        // the clean-up.
        let closing: Vec<_> = tables
            .iter()
            .filter_map(|(t, _)| self.open.remove(t.name).map(|f| (*t, f.close())))
            .collect();
        let mut first_error = None;
        for (t, f) in closing {
            if let Err(e) = self.closed(t, f).await {
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let mut manifest = Manifest {
            format_version: FORMAT_VERSION,
            run_id: self.run.run_id.clone(),
            started_at: self
                .run
                .started_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            committed_at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
            cloudtab_version: env!("CARGO_PKG_VERSION").to_string(),
            tables: BTreeMap::new(),
        };
        let (mut objects, mut bytes) = (0, 0);
        for (name, files) in &self.done {
            objects += files.len() as u64;
            bytes += files.iter().map(|f| f.bytes).sum::<u64>();
            let rows = files.iter().map(|f| f.rows).sum();
            manifest.tables.insert(
                name.to_string(),
                TableEntry {
                    rows,
                    files: files.clone(),
                },
            );
        }
        let body = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| SinkError::Other(format!("failed to encode the manifest: {e}")))?;
        let path = manifest_path(&self.run.run_id);
        // A run that lost the root to another run must not publish.
        if let Some(lease) = &self.lease {
            lease.confirm().await?;
        }
        self.put_manifest(&path, body).await?;
        Ok(CommitInfo {
            location: path.to_string(),
            objects,
            bytes,
        })
    }
}

impl ParquetTxn {
    /// Puts the manifest, create-only. A put that fails after the store
    /// may have stored it (a timeout, a dropped answer, a 5xx; or a retry
    /// of it finding the object there) is settled by reading the manifest
    /// back: ours means committed. Any other failure keeps the run's files
    /// ([`ParquetTxn::uncertain`]): a request can land after its client
    /// gave up, and the next run, holding the root, removes them only if
    /// no manifest names them.
    async fn put_manifest(&mut self, path: &Path, body: Vec<u8>) -> Result<(), SinkError> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        let failure = match self
            .store
            .put_opts(path, PutPayload::from(body.clone()), opts)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let run = &self.run.run_id;
        let stored = match self.store.get(path).await {
            Ok(found) => found.bytes().await.map(Some),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        };
        if matches!(&stored, Ok(Some(b)) if b.as_ref() == body.as_slice()) {
            tracing::warn!(manifest = %path, error = %failure, "the manifest put reported an error, but the store holds this run's manifest: committed");
            return Ok(());
        }
        self.uncertain = true;
        Err(match stored {
            Ok(Some(_)) => SinkError::Conflict(format!(
                "run `{run}` was already committed at `{path}` by another run; nothing was changed"
            )),
            Ok(None) => SinkError::Store {
                what: format!("failed to commit manifest `{path}` (it was not stored; the run's files are left for the next run to remove)"),
                source: failure,
            },
            Err(check) => SinkError::Other(format!(
                "cannot tell whether run `{run}` was committed: the manifest put failed ({failure}) and reading `{path}` back failed ({check}); its files are kept, and the next run keeps or removes them"
            )),
        })
    }
}

/// Removes what killed runs left in an object store: every
/// `<table>/run_date=…/run_id=…` prefix whose run id is not in
/// `committed`. Call only with the root's lease held.
async fn remove_store_leftovers(
    store: &dyn ObjectStore,
    committed: &BTreeSet<String>,
) -> Result<(), SinkError> {
    let tables = store
        .list_with_delimiter(None)
        .await
        .map_err(|source| SinkError::Store {
            what: "failed to list the root".into(),
            source,
        })?
        .common_prefixes;
    let mut removed = 0;
    for table in tables {
        if table.as_ref() == MANIFEST_DIR {
            continue;
        }
        for date in list_dirs(store, &table).await? {
            for run_dir in list_dirs(store, &date).await? {
                let Some(id) = run_dir.filename().and_then(|f| f.strip_prefix("run_id=")) else {
                    continue;
                };
                if !committed.contains(id) {
                    delete_prefix(store, &run_dir).await?;
                    removed += 1;
                }
            }
        }
    }
    if removed > 0 {
        tracing::info!(
            removed,
            "removed the files of runs that were killed before they committed"
        );
    }
    Ok(())
}

/// A stream of the batches of one Parquet file of the store.
// ParquetObjectReader is deprecated in parquet 59 in favour of a
// hand-written AsyncFileReader; it still does exactly what is needed here.
#[allow(deprecated)]
async fn read_file(
    store: Arc<dyn ObjectStore>,
    table: &str,
    path: &str,
) -> Result<ParquetRecordBatchStream<ParquetObjectReader>, SinkError> {
    let reader = ParquetObjectReader::new(store, Path::from(path));
    ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .and_then(|b| b.build())
        .map_err(|source| read_error(table, path, source))
}

fn read_error(table: &str, path: &str, source: parquet::errors::ParquetError) -> SinkError {
    SinkError::Parquet {
        table: table.to_string(),
        path: path.to_string(),
        source,
    }
}

fn arrow_error(table: &str, e: arrow::error::ArrowError) -> SinkError {
    SinkError::Other(format!("cannot carry rows of table `{table}` forward: {e}"))
}

fn text_col<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a StringArray> {
    batch
        .column_by_name(name)?
        .as_any()
        .downcast_ref::<StringArray>()
}

/// Calls `f(from_id, to_id, edge_type)` for every edge of `batch`; returns
/// what it answered, row by row.
fn for_each_edge(batch: &RecordBatch, mut f: impl FnMut(&str, &str, &str) -> bool) -> Vec<bool> {
    let (Some(from), Some(to), Some(ty)) = (
        text_col(batch, "from_id"),
        text_col(batch, "to_id"),
        text_col(batch, "edge_type"),
    ) else {
        return vec![false; batch.num_rows()];
    };
    (0..batch.num_rows())
        .map(|i| f(from.value(i), to.value(i), ty.value(i)))
        .collect()
}

/// `batch` in the shape of `schema`: columns by name, columns that an older
/// cloudtab did not write as NULL.
fn adapt(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, arrow::error::ArrowError> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
            Some(c) => arrow::compute::cast(c, f.data_type()),
            None => Ok(new_null_array(f.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}
