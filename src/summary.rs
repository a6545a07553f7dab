//! The summary printed at the end of a sync.

use std::fmt::Write;

use cloudtab_extract::ScopeReport;
use cloudtab_sinks::CommitInfo;

use crate::cli::LogFormat;
use crate::error::exit;
use crate::pipeline::{Failure, Outcome};

/// Prints the summary of a committed run on stdout: a table, or one JSON
/// object with `--log-format json`.
pub fn print(o: &Outcome, code: i32, format: LogFormat) {
    match format {
        LogFormat::Json => println!("{}", json(o, code)),
        LogFormat::Text => print!("{}", text(o)),
    }
}

/// Prints the summary of a run that started and then failed or was
/// stopped: one JSON object on stdout with `--log-format json` (the error
/// is on stderr either way); with text logs, the sinks that committed and
/// the scopes that failed, when there are any.
pub fn print_failure(f: &Failure, format: LogFormat) {
    match format {
        LogFormat::Json => println!("{}", failure_json(f)),
        LogFormat::Text => {
            let mut s = String::new();
            for (sink, c) in &f.commits {
                let _ = writeln!(s, "committed to {sink}: {}", c.location);
            }
            for (sink, e) in &f.failed_sinks {
                let _ = writeln!(s, "not committed to {sink}: {e}");
            }
            print!("{s}");
        }
    }
}

/// `status` of a run that ended with `code`.
fn status(code: i32) -> &'static str {
    match code {
        exit::OK => "ok",
        exit::PARTIAL => "partial",
        exit::INTERRUPTED => "interrupted",
        exit::TERMINATED => "terminated",
        _ => "failed",
    }
}

fn failed<'a>(scopes: impl Iterator<Item = &'a ScopeReport>) -> Vec<serde_json::Value> {
    scopes
        .filter(|s| s.status.is_failure())
        .map(|s| serde_json::json!({"scope": s.scope.to_string(), "status": s.status.as_str(), "error": s.error}))
        .collect()
}

fn commits_json(commits: &[(String, CommitInfo)]) -> Vec<serde_json::Value> {
    commits
        .iter()
        .map(|(sink, c)| serde_json::json!({"sink": sink, "location": c.location, "files": c.objects, "bytes": c.bytes}))
        .collect()
}

/// The summary of a failed or stopped run as JSON.
pub fn failure_json(f: &Failure) -> serde_json::Value {
    serde_json::json!({
        "run_id": f.run_id,
        "status": status(f.error.code),
        "exit_code": f.error.code,
        "error": f.error.to_string(),
        "scopes": f.scopes.len(),
        "failed_scopes": failed(f.scopes.iter()),
        "commits": commits_json(&f.commits),
        "failed_sinks": f.failed_sinks.iter().map(|(sink, e)| serde_json::json!({"sink": sink, "error": e})).collect::<Vec<_>>(),
    })
}

/// The summary of a committed run as JSON.
pub fn json(o: &Outcome, code: i32) -> serde_json::Value {
    serde_json::json!({
        "run_id": o.run_id,
        "started_at": o.started_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "status": status(code),
        "exit_code": code,
        "duration_ms": o.duration.as_millis() as u64,
        "flatten_ms": o.flatten_time.as_millis() as u64,
        "write_ms": o.write_time.as_millis() as u64,
        "tables": o.counts.rows,
        "resources": o.counts.resources,
        "edges": o.counts.edges,
        "issues": o.counts.issues,
        "scopes": o.scopes.len(),
        "failed_scopes": failed(o.scopes.iter()),
        "commits": commits_json(&o.commits),
    })
}

/// The summary as an aligned table.
pub fn text(o: &Outcome) -> String {
    let mut s = String::new();
    let secs = o.duration.as_secs_f64();
    let failed = o.failed_scopes().count();
    let _ = writeln!(
        s,
        "run {}: {} in {secs:.1} s",
        o.run_id,
        if failed == 0 { "ok" } else { "partial" }
    );
    let width = o
        .counts
        .rows
        .keys()
        .map(|k| k.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(s, "  {:<width$}  {:>12}", "table", "rows");
    for (t, n) in &o.counts.rows {
        let _ = writeln!(s, "  {t:<width$}  {n:>12}");
    }
    let edges: Vec<String> = o
        .counts
        .edges
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        s,
        "  resources {} ({:.0}/s), edges {} ({}), issues {}",
        o.counts.resources,
        o.counts.resources as f64 / secs.max(1e-3),
        o.counts.edges.values().sum::<u64>(),
        if edges.is_empty() {
            "none".to_string()
        } else {
            edges.join(", ")
        },
        o.counts.issues
    );
    let _ = writeln!(s, "  scopes {} ({} failed)", o.scopes.len(), failed);
    for f in o.failed_scopes() {
        let _ = writeln!(
            s,
            "    {} {}: {}",
            f.scope,
            f.status.as_str(),
            f.error.as_deref().unwrap_or("")
        );
    }
    for (sink, c) in &o.commits {
        if c.bytes > 0 {
            let _ = writeln!(
                s,
                "  committed to {sink}: {} ({} files, {} bytes)",
                c.location, c.objects, c.bytes
            );
        } else {
            let _ = writeln!(s, "  committed to {sink}: {}", c.location);
        }
    }
    s
}
