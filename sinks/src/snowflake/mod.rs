//! The Snowflake sink: typed tables in a Snowflake schema, replaced all at
//! once by each run.
//!
//! ```text
//!   begin    log in twice (the run lock's session, the load's session);
//!            take the lock row of `_CLOUDTAB_LOCK`; check the tables
//!            (exit 2 when a column was removed or retyped); drop staging
//!            tables a killed run left; create a TRANSIENT staging table
//!            per table (`_CLOUDTAB_STAGING_<nonce>_<n>`) and a TEMPORARY
//!            stage
//!   write    batches → Parquet (the Parquet sink's encoder), one file per
//!            `file_rows` rows → PUT (encrypted, `crypt.rs`) → COPY INTO
//!            the staging table, MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
//!   carry    rows of failed scopes, from the current tables into staging
//!   commit   DDL first (it commits by itself): new tables, new columns,
//!            history views; then one transaction:
//!              BEGIN; lock still ours?; DELETE + INSERT … SELECT per table
//!              (PARSE_JSON for VARIANT columns); COMMIT
//!   end      drop the staging tables, release the lock, log out (the
//!            temporary stage goes with the session)
//! ```
//!
//! Readers see the previous snapshot until `COMMIT` and then all of the
//! new one: Snowflake's DML in one explicit transaction becomes visible at
//! once (`ALTER TABLE … SWAP WITH` would be DDL, which commits each swap on
//! its own, so a reader could see some tables swapped and not others). A
//! run that fails or is killed at any point before `COMMIT` changes no row
//! of the targets; it drops its staging tables, or the next run does (the
//! emulator the tests use cannot `COPY` into temporary tables, and a
//! transient table costs no fail-safe storage). The DDL before the transaction only adds: tables that did
//! not exist (empty until the commit), columns (NULL in the previous
//! snapshot's rows). `--migrate=force` is the exception: the forced
//! tables are dropped and created right before the transaction.
//!
//! JSON columns load as text into the staging tables and are parsed into
//! `VARIANT` at publish, so `tags:owner::string` works whatever the file
//! format makes of a string column.
//!
//! In `history` mode the tables carry `_SNAPSHOT_RUN_ID`; each commit
//! appends its rows and a row of `_CLOUDTAB_SNAPSHOTS`, and the
//! `<TABLE>_LATEST` views show the latest committed run.
//!
//! One run per schema: the lock is one row of `_CLOUDTAB_LOCK`, taken by
//! an `UPDATE … WHERE "EXPIRES_AT" < CURRENT_TIMESTAMP()` (the server's
//! clock, so hosts' clocks do not matter), renewed every third of
//! `lease_secs`, and checked inside the publishing transaction, where the
//! lock row's update also keeps any other run out until the commit.

pub mod auth;
pub mod client;
mod config;
pub mod crypt;
mod sink;
pub mod stage;

pub use config::{Resolved, SnowflakeSinkConfig};
pub use sink::{SnowflakeSink, LOCK_TABLE, SNAPSHOTS_TABLE};
