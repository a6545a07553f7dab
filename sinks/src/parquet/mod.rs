//! The Parquet sink: one directory (local or S3) of Parquet files per
//! run, made visible by a manifest.
//!
//! ```text
//! <root>/
//!   aws_ec2_instance/run_date=2026-11-26/run_id=<id>/part-00000.parquet
//!   _edges/run_date=2026-11-26/run_id=<id>/part-00000.parquet
//!   ...
//!   _manifests/<id>.json        ◀── written last, create-only: the commit
//!
//!   begin ─▶ write parts (invisible) ─▶ close parts ─▶ put manifest (create-only)
//!                                                        │
//!                     readers follow the newest manifest ◀┘
//! ```
//!
//! A run killed at any point before the manifest put leaves only files no
//! manifest lists; readers (`cloudtab query`, the dbt DuckDB profile)
//! never look at them. An aborted run removes its files itself; the next
//! run removes a killed run's files once it holds the root (the `lock`
//! module for local roots, the `lease` module for S3): with the root held
//! no other run is live, so no manifest means abandoned. Timestamps are
//! `TIMESTAMP(isAdjustedToUTC=true, MICROS)`; tags and nested values are
//! UTF-8 JSON text. Every table of a run has at least one file, empty
//! tables included, so globbing readers always find the table.
//!
//! Failed scopes are carried forward by reading the previous manifest's
//! files of the scope's tables, keeping the scope's rows (and the edges
//! that touch them and that the run did not write itself) and writing them
//! into the new run's files unchanged.

mod config;
mod lease;
mod lock;
mod manifest;
#[cfg(feature = "s3")]
mod s3;
mod sink;

pub use config::{Location, ParquetSinkConfig};
pub use lease::LEASE_FILE;
#[cfg(feature = "snowflake")]
pub(crate) use lock::hostname;
pub use lock::LOCK_FILE;
pub use manifest::{
    committed_runs, latest_manifest, read_manifest, readable_manifest, FileEntry, Manifest,
    TableEntry, MANIFEST_DIR,
};
#[cfg(feature = "s3")]
pub use s3::{rooted, s3_store};
#[cfg(feature = "snowflake")]
pub(crate) use sink::writer_properties;
pub use sink::ParquetSink;

#[cfg(test)]
mod tests;
