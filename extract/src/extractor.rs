use async_trait::async_trait;

use crate::emitter::Emitter;
use crate::scope::{Scope, ScopeError, ScopeStats};

/// An extractor could not even list its scopes (bad credentials, no
/// network): the run cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The source's configuration is unusable.
    #[error("source `{source_name}`: {message}")]
    Config {
        /// Source type.
        source_name: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
}

/// A source of resources and edges. See the crate docs.
#[async_trait]
pub trait Extractor: Send + Sync {
    /// Source type as written in the config (`demo`, `aws`).
    fn name(&self) -> &'static str;

    /// Tables this extractor fills.
    fn tables(&self) -> Vec<&'static str>;

    /// The scopes of a run, in the order they should start.
    async fn scopes(&self) -> Result<Vec<Scope>, ExtractError>;

    /// Reads one scope into `out`. Returns API usage, or why the scope
    /// failed; never panics on what an API returned.
    async fn extract(&self, scope: &Scope, out: &mut Emitter) -> Result<ScopeStats, ScopeError>;
}
