//! The typed model of cloudtab, and the bottom of its dependency graph.
//!
//! Every table cloudtab writes is declared here once, as data: its name, what
//! it holds, its columns (name, type, nullability, one line of docs), its
//! primary key and, for resource tables, the cloud API permissions needed to
//! fill it. Everything else reads these definitions: the flattener builds
//! Arrow schemas from them, sinks create SQL tables from them, and `cloudtab
//! schema` prints them as docs, JSON or DDL. Changing a column here changes
//! it everywhere, and the schema snapshot tests make the change visible in
//! review.
//!
//! The crate also holds the values that flow between stages ([`Item`],
//! [`Resource`], [`Edge`], [`Value`]), because extractors produce them and
//! the flattener consumes them, and neither may depend on the other. Nested
//! documents and tags travel as JSON text ([`JsonText`], [`Tags`]), made by
//! the extractor that read them, and edges name their ends by kind and `_id`
//! only ([`ResourceRef`]), so what crosses the item channel by the million
//! is cheap to move and to drop. The crate does not depend on Arrow:
//! extractors stay free of it.

#![warn(missing_docs)]

mod aws;
mod column;
mod dbt;
mod docs;
mod id;
mod item;
mod json;
mod registry;
mod system;
mod table;

pub use column::{ColumnDef, ColumnType, Distribution};
pub use dbt::dbt_sources;
pub use docs::markdown;
pub use id::{resource_uid, Uid};
pub use item::{Edge, EdgeType, Issue, Item, Resource, ResourceRef, SentResource, Value};
pub use json::{JsonText, Tags};
pub use registry::Registry;
pub use system::{EDGES_TABLE, ISSUES_TABLE, RUNS_TABLE, SCOPES_TABLE};
pub use table::{TableDef, TableKind, BASE_COLUMNS};
