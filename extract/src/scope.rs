use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// One unit of extraction: a service in a region of an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// Cloud (`aws`).
    pub cloud: &'static str,
    /// Account id.
    pub account_id: Arc<str>,
    /// Account name (alias), where there is one.
    pub account_name: Option<Arc<str>>,
    /// Region, or `global` for global services.
    pub region: Arc<str>,
    /// Service (`ec2`, `sqs`, `iam`, ...).
    pub service: &'static str,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.cloud, self.account_id, self.region, self.service
        )
    }
}

/// How a scope ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScopeStatus {
    /// Everything was read.
    Ok,
    /// Some resources were read, then the scope failed.
    Partial,
    /// The credentials may not read this scope (AccessDenied,
    /// UnauthorizedOperation, OptInRequired).
    Denied,
    /// The service or operation does not exist there (unknown endpoint,
    /// unimplemented operation).
    Unsupported,
    /// Anything else: network errors, throttled to death, server errors.
    Failed,
}

impl ScopeStatus {
    /// The value stored in `_scopes.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeStatus::Ok => "ok",
            ScopeStatus::Partial => "partial",
            ScopeStatus::Denied => "denied",
            ScopeStatus::Unsupported => "unsupported",
            ScopeStatus::Failed => "failed",
        }
    }

    /// True unless the scope read everything.
    pub fn is_failure(self) -> bool {
        self != ScopeStatus::Ok
    }
}

/// API usage of one scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeStats {
    /// Requests made, retries included.
    pub api_calls: u64,
    /// Requests that were retried.
    pub retries: u64,
    /// Requests that were throttled.
    pub throttles: u64,
}

/// Why a scope did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScopeError {
    /// Status the scope gets (never `Ok`).
    pub status: ScopeStatus,
    /// What failed and what to do, for `_scopes.error` and the summary.
    pub message: String,
    /// API usage up to the failure.
    pub stats: ScopeStats,
}

impl ScopeError {
    /// A scope the credentials may not read.
    pub fn denied(message: impl Into<String>) -> Self {
        ScopeError {
            status: ScopeStatus::Denied,
            message: message.into(),
            stats: ScopeStats::default(),
        }
    }

    /// A scope that failed for any other reason.
    pub fn failed(message: impl Into<String>) -> Self {
        ScopeError {
            status: ScopeStatus::Failed,
            message: message.into(),
            stats: ScopeStats::default(),
        }
    }
}

/// What happened in one scope: one row of `_scopes`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeReport {
    /// The scope.
    pub scope: Scope,
    /// How it ended.
    pub status: ScopeStatus,
    /// Resources read.
    pub resources: u64,
    /// Edges read.
    pub edges: u64,
    /// API usage.
    pub stats: ScopeStats,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration: Duration,
    /// Why it did not succeed.
    pub error: Option<String>,
}
