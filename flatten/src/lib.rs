//! Turns the stream of [`Item`]s that extractors produce into typed Arrow
//! record batches, one builder per table.
//!
//! This is the one place where values get their types. It promises three
//! things to every sink downstream:
//!
//! * every batch has exactly the Arrow schema that [`arrow_schema`] derives
//!   from the table's definition in `cloudtab-schema`;
//! * every timestamp leaves as `Timestamp(Microsecond, "UTC")`, whatever
//!   shape the API used (see [`time`]);
//! * a value that cannot be converted becomes `NULL` and one row in
//!   `_issues`; it never aborts the run and never panics.
//!
//! [`stage::flatten_all`] runs several flatteners side by side over one
//! item channel, one per core.
//!
//! Memory is bounded by the open builders: a table's rows are handed out as
//! a batch once it holds `batch_rows` rows (4096 by default), so the
//! size of the inventory never matters.
//!
//! [`Item`]: cloudtab_schema::Item

#![warn(missing_docs)]

mod builder;
mod coerce;
mod flattener;
pub mod stage;
pub mod time;

pub use builder::arrow_schema;
pub use flattener::{Flattener, RunContext, TableCounts, DEFAULT_BATCH_ROWS};
