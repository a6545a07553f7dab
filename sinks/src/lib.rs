//! Where snapshots land.
//!
//! A [`Sink`] is a destination (a Parquet directory or bucket, a PostgreSQL
//! schema, a Snowflake schema). A run talks to it in one shape only:
//!
//! ```text
//!   healthcheck()            fail fast, before any data moves
//!   begin(run) ──▶ txn       nothing visible yet
//!   txn.write(table, batch)  any number of times, any table order
//!   txn.carry_forward(failed) rows of failed scopes from the previous snapshot
//!   txn.commit(outcome)      the new snapshot becomes visible at once
//!     or txn.abort()         the destination stays as it was
//! ```
//!
//! Readers of a destination see the previous snapshot until `commit`
//! returns and never a half-written run, also when the process is killed:
//! each implementation documents how it keeps that promise (for Parquet, a
//! manifest written last with a create-only put). Sinks see Arrow batches
//! whose schemas come from `cloudtab-schema`; they never see cloud SDKs.

#![warn(missing_docs)]

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod ddl;
pub mod parquet;
#[cfg(feature = "postgres")]
pub mod postgres;
mod sink;
#[cfg(feature = "snowflake")]
pub mod snowflake;
pub mod snowflake_ddl;

pub use sink::{
    validate_run_id, Carried, CommitInfo, LoadMode, Migrate, RunInfo, ScopeKey, Sink, SinkError,
    SinkTransaction,
};
