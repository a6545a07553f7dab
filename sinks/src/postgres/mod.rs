//! The PostgreSQL sink.
//!
//! ## How a run lands
//!
//! A run uses one connection and one transaction. It first takes the
//! schema's advisory lock (a second run waits up to `lock_wait_secs`, then
//! fails with a message naming the holder), then, in `snapshot` mode:
//!
//! ```text
//!  user views, dbt views ──▶ cloudtab.aws_ec2_instance          (partitioned table: the name
//!                                 │                                 users query, never replaced)
//!                                 │ DEFAULT partition
//!               before the swap   ▼
//!                            aws_ec2_instance__<previous run>   (the current snapshot)
//!
//!  1. CREATE TABLE aws_ec2_instance__<this run>     (inside the run's transaction:
//!  2. COPY … FROM STDIN (FORMAT binary), batch by    invisible to everyone else,
//!     batch; carry-forward INSERT … SELECT           no lock on the public tables)
//!  3. ADD PRIMARY KEY, CREATE INDEX on the new partition
//!  4. the swap, per table (milliseconds):
//!       ALTER TABLE aws_ec2_instance DETACH PARTITION aws_ec2_instance__<previous run>
//!       DROP TABLE aws_ec2_instance__<previous run>
//!       ALTER TABLE aws_ec2_instance ATTACH PARTITION aws_ec2_instance__<this run> DEFAULT
//!  5. COMMIT                                        (everything at once, or nothing)
//! ```
//!
//! Why partitions: views (yours, dbt's) bind to a table's identity, not
//! its name. Renaming a freshly loaded table into place would leave every
//! view pointing at the old one (or force dropping them), and `TRUNCATE` +
//! `INSERT` would copy every row twice while holding the table's lock.
//! The partitioned table keeps its identity forever, so views keep working;
//! the swap only exchanges its one partition, and the rows are written
//! once. Readers (read committed) see the old snapshot until `COMMIT`,
//! wait a few milliseconds during the swap, then see the new one; never an
//! empty or half-loaded table. A run that dies at any point (killed,
//! connection lost, `pg_terminate_backend`) is rolled back by the server:
//! the previous snapshot stays, nothing is left behind, and the lock is
//! released with the connection.
//!
//! In `history` mode the tables are plain tables with an extra
//! `_snapshot_run_id` column; each run is appended with `COPY` in its
//! transaction, and `<table>_latest` views show the rows of the latest
//! committed run (the newest row of `_cloudtab_snapshots`, which each
//! commit appends to).
//!
//! Failed scopes: their rows of the previous snapshot are copied into the
//! new one with `INSERT … SELECT` (they keep their `_run_id`), with the
//! edges that touch them.
//!
//! Text cannot hold the NUL character in PostgreSQL: a NUL in a value is
//! stored as U+FFFD (in text and in JSON). JSON `null` is SQL `NULL`.

mod config;
mod copy;
mod sink;
mod tls;

#[cfg(test)]
mod tests;

pub use config::{redact_url, ChannelBinding, LoadMode, Migrate, PostgresSinkConfig, SslMode};
pub use sink::PostgresSink;
