use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cloudtab_schema::TableDef;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How runs land in a SQL sink's tables (PostgreSQL, Snowflake).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LoadMode {
    /// The tables hold the latest snapshot only.
    #[default]
    Snapshot,
    /// Every run is appended (column `_snapshot_run_id` tells the runs
    /// apart) and `<table>_latest` views show the latest snapshot.
    History,
}

/// What a changed table definition does to an existing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Migrate {
    /// New columns are added; a removed or retyped column fails the run.
    #[default]
    Safe,
    /// A table whose columns were removed or retyped is dropped and
    /// created again (its data and, if any, dependent views must go first).
    Force,
}

/// What a sink needs to know about a run before it starts.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Run id; sorts in start order.
    pub run_id: String,
    /// When the run started (the rows' `_synced_at`).
    pub started_at: DateTime<Utc>,
    /// Every table the run fills, with its Arrow schema, written or not: a
    /// table with no rows is still part of the snapshot (and becomes empty).
    pub tables: Vec<(&'static TableDef, SchemaRef)>,
}

/// A scope (account × region × service) whose rows a failed run must not
/// erase. `region` is `global` for global services; then every row of the
/// account in the service's tables belongs to it, whatever its region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScopeKey {
    /// Cloud.
    pub cloud: String,
    /// Account id.
    pub account_id: String,
    /// Region or `global`.
    pub region: String,
    /// Service; its tables are the resource tables whose
    /// [`cloudtab_schema::TableKind::Resource`] names it.
    pub service: String,
}

impl ScopeKey {
    /// True when a row of a `service` table with this account and region
    /// belongs to the scope.
    pub fn covers(&self, service: &str, account_id: &str, region: &str) -> bool {
        self.service == service
            && self.account_id == account_id
            && (self.region == "global" || self.region == region)
    }
}

/// Checks a run id before a sink builds a path or a name from it: 1 to 128
/// characters of `[A-Za-z0-9._-]`, not `.` or `..` and without `..`, so
/// that no run id can reach outside the sink's root.
pub fn validate_run_id(run_id: &str) -> Result<(), SinkError> {
    let ok = !run_id.is_empty()
        && run_id.len() <= 128
        && run_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !run_id.contains("..")
        && run_id != ".";
    if ok {
        Ok(())
    } else {
        Err(SinkError::Config(format!(
            "run id `{}` is not valid: use 1 to 128 characters of A-Z, a-z, 0-9, `.`, `_` and `-`, without `..`",
            run_id.escape_debug()
        )))
    }
}

/// The error of a SQL sink whose tables no longer match the model (exit
/// code 2): `problems` has a line per table; `destination` names where
/// the tables are (`the database`, `Snowflake`); `goes` is what a forced
/// migration loses.
#[cfg(any(feature = "postgres", feature = "snowflake"))]
pub(crate) fn schema_mismatch(destination: &str, problems: &[String], goes: &str) -> SinkError {
    SinkError::Config(format!(
        "the tables in {destination} no longer match cloudtab's schema, and cloudtab never drops or converts a column by itself:\n  {}\nMigrate them by hand (ALTER TABLE), or run with --migrate=force to drop and recreate these tables ({goes}).",
        problems.join("\n  ")
    ))
}

/// What carrying one failed scope forward did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carried {
    /// Rows copied from the previous snapshot.
    pub rows: u64,
    /// Rows of the scope in the previous snapshot left out because they
    /// were read before the oldest time carried rows may have.
    pub dropped: u64,
}

/// What a commit made visible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitInfo {
    /// Where the snapshot can be found (a manifest path, a schema name).
    pub location: String,
    /// Files or tables written.
    pub objects: u64,
    /// Bytes written, where the sink knows.
    pub bytes: u64,
}

/// Why a sink failed. Messages say what failed, on which table or file,
/// and what to do; they never contain a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The sink's configuration is unusable (exit code 2).
    #[error("{0}")]
    Config(String),
    /// The destination cannot be reached or refused access.
    #[error("{what}: {source}")]
    Store {
        /// What failed, on which path.
        what: String,
        /// The store's error.
        #[source]
        source: object_store::Error,
    },
    /// A Parquet file could not be written.
    #[error("failed to write table `{table}` to `{path}`: {source}")]
    Parquet {
        /// Table.
        table: String,
        /// File.
        path: String,
        /// The writer's error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Another run committed the same run id.
    #[error("{0}")]
    Conflict(String),
    /// A statement of a SQL destination failed.
    #[error("{message}")]
    Sql {
        /// What failed, on which table, and the server's message.
        message: String,
        /// The driver's own error (for PostgreSQL a `tokio_postgres::Error`,
        /// whose code is the SQLSTATE: [`SinkError::sqlstate`]).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// Anything else, with its explanation.
    #[error("{0}")]
    Other(String),
}

impl SinkError {
    /// True when the error comes from the configuration, not the run.
    pub fn is_config(&self) -> bool {
        matches!(self, SinkError::Config(_))
    }

    /// The SQLSTATE of a SQL destination's error (`55P03`: lock not
    /// available), read from the driver's error.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            #[cfg(feature = "postgres")]
            SinkError::Sql { source, .. } => source
                .downcast_ref::<tokio_postgres::Error>()?
                .code()
                .map(|c| c.code()),
            _ => None,
        }
    }

    /// True when trying the same thing again later may succeed: the
    /// destination could not be reached or dropped the connection, a lock
    /// or a serialisation conflict stood in the way, the server is starting
    /// or shutting down, or a store's request failed in transport. False
    /// for configuration, permissions, conflicts between runs, and data
    /// the destination refused.
    pub fn is_retryable(&self) -> bool {
        match self {
            SinkError::Store { source, .. } => store_error_is_transient(source),
            SinkError::Sql { .. } => match self.sqlstate() {
                // Connection exceptions, insufficient resources, operator
                // intervention (shutdown, crash), system errors.
                Some(code) => {
                    ["08", "53", "57P", "58"]
                        .iter()
                        .any(|p| code.starts_with(p))
                        || matches!(code, "40001" | "40P01" | "55P03")
                }
                // No SQLSTATE: the connection broke before the server
                // answered.
                None => self.sql_connection_closed(),
            },
            SinkError::Config(_)
            | SinkError::Parquet { .. }
            | SinkError::Conflict(_)
            | SinkError::Other(_) => false,
        }
    }

    fn sql_connection_closed(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            SinkError::Sql { source, .. } => source
                .downcast_ref::<tokio_postgres::Error>()
                .is_some_and(|e| {
                    e.is_closed()
                        || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
                }),
            _ => false,
        }
    }
}

/// An object store error that says nothing about the request itself:
/// transport failures after the store's own retries. Not found, already
/// exists, precondition failures and refused credentials are not.
fn store_error_is_transient(e: &object_store::Error) -> bool {
    matches!(
        e,
        object_store::Error::Generic { .. } | object_store::Error::JoinError { .. }
    )
}

/// A destination. See the crate docs for the protocol.
#[async_trait]
pub trait Sink: Send + Sync {
    /// A description for logs and the summary (no secrets).
    fn describe(&self) -> String;

    /// Checks that the destination is reachable and writable, before any
    /// extraction starts.
    async fn healthcheck(&self) -> Result<(), SinkError>;

    /// Starts writing a run. Nothing is visible to readers until commit.
    async fn begin(&self, run: &RunInfo) -> Result<Box<dyn SinkTransaction>, SinkError>;
}

/// One run being written into a sink.
#[async_trait]
pub trait SinkTransaction: Send {
    /// Adds rows of `table`. The batch's schema is the table's Arrow schema.
    async fn write(
        &mut self,
        table: &'static TableDef,
        batch: RecordBatch,
    ) -> Result<(), SinkError>;

    /// Copies the rows of `failed` scopes from the previous snapshot into
    /// this run, unchanged (their `_run_id` stays the run that read them),
    /// together with the edges that touch them and that this run does not
    /// have. Rows whose `_synced_at` is before `oldest` are not carried
    /// (a scope that keeps failing does not keep its rows for ever), nor are
    /// edges that touch them. Called once, after the last `write` of
    /// extracted data and before the run tables are written. Returns what
    /// was carried and dropped per scope, in the order of `failed`.
    async fn carry_forward(
        &mut self,
        failed: &[ScopeKey],
        oldest: DateTime<Utc>,
    ) -> Result<Vec<Carried>, SinkError>;

    /// Makes the run the current snapshot, atomically. Called at most once.
    async fn commit(self: Box<Self>) -> Result<CommitInfo, SinkError>;

    /// Gives the run up; the destination stays as it was. Best effort:
    /// leftovers of an aborted run are invisible to readers either way.
    async fn abort(self: Box<Self>) -> Result<(), SinkError>;
}
