//! Errors of the binary and their exit codes.

use std::fmt;

/// Exit codes, documented in the README.
pub mod exit {
    /// Success: every scope was read and every sink committed.
    pub const OK: i32 = 0;
    /// Failure: nothing was committed (or a query failed).
    pub const FAILURE: i32 = 1;
    /// Bad usage or configuration: nothing was done.
    pub const USAGE: i32 = 2;
    /// Partial: committed, but some scopes failed (see `_scopes`).
    pub const PARTIAL: i32 = 3;
    /// Interrupted (Ctrl-C, SIGINT) before commit: the run was aborted,
    /// nothing was committed.
    pub const INTERRUPTED: i32 = 130;
    /// Terminated (SIGTERM, as systemd and Kubernetes stop a job) before
    /// commit: the run was aborted, nothing was committed.
    pub const TERMINATED: i32 = 143;
}

/// An error with the exit code it ends the process with.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: i32,
    /// The error with its causes.
    pub error: anyhow::Error,
}

impl CliError {
    /// Bad usage or configuration (exit 2).
    pub fn usage(msg: impl fmt::Display) -> Self {
        CliError {
            code: exit::USAGE,
            error: anyhow::anyhow!("{msg}"),
        }
    }

    /// A failed run (exit 1).
    pub fn failure(error: impl Into<anyhow::Error>) -> Self {
        CliError {
            code: exit::FAILURE,
            error: error.into(),
        }
    }
}

impl fmt::Display for CliError {
    /// The error and its causes, `: `-separated; a cause whose text the
    /// message already holds (many errors print their source in their own
    /// message) is not repeated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        for cause in self.error.chain() {
            let part = cause.to_string();
            if text.contains(&part) {
                continue;
            }
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner detail")]
    struct Inner;

    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        let e = CliError::failure(anyhow::Error::new(Outer(Inner)).context("while syncing"));
        assert_eq!(e.to_string(), "while syncing: outer: inner detail");
        let e = CliError::failure(anyhow::Error::new(Inner).context("while syncing"));
        assert_eq!(e.to_string(), "while syncing: inner detail");
    }
}
