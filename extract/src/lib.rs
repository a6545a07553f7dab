//! Where cloud data enters cloudtab.
//!
//! An [`Extractor`] knows one cloud (or, for `demo`, pretends to): which
//! tables it fills, which scopes (account × region × service) a run has,
//! and how to read one scope into a stream of [`Item`]s. The [`runner`]
//! runs scopes concurrently under a limit and sends items through a bounded
//! channel, so a slow sink slows extraction down instead of filling memory.
//! A scope that fails is reported in its [`ScopeReport`] and never stops the
//! other scopes.
//!
//! Extractors never see Arrow or sinks: they hand over values as the API
//! returned them ([`Value`]) and the flattener types them.
//!
//! [`Item`]: cloudtab_schema::Item
//! [`Value`]: cloudtab_schema::Value

#![warn(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
pub mod demo;
pub mod details;
mod emitter;
mod extractor;
pub mod runner;
mod scope;
pub mod writer;

pub use emitter::{Counters, Emitter, ItemChunk, PipelineClosed};
pub use extractor::{ExtractError, Extractor};
pub use scope::{Scope, ScopeError, ScopeReport, ScopeStats, ScopeStatus};
pub use writer::{Origin, Row, RowItems, ScopeWriter};
