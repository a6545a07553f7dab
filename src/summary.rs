//! The summary printed at the end of a sync.

use std::fmt::Write;

use crate::cli::LogFormat;
use crate::pipeline::Outcome;

/// Prints the summary on stdout: a table, or one JSON object with
/// `--log-format json`.
pub fn print(o: &Outcome, format: LogFormat) {
    match format {
        LogFormat::Json => println!("{}", json(o)),
        LogFormat::Text => print!("{}", text(o)),
    }
}

fn failed(o: &Outcome) -> Vec<serde_json::Value> {
    o.failed_scopes()
        .map(|s| serde_json::json!({"scope": s.scope.to_string(), "status": s.status.as_str(), "error": s.error}))
        .collect()
}

/// The summary as JSON.
pub fn json(o: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "run_id": o.run_id,
        "started_at": o.started_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "status": if o.failed_scopes().next().is_some() { "partial" } else { "ok" },
        "duration_ms": o.duration.as_millis() as u64,
        "flatten_ms": o.flatten_time.as_millis() as u64,
        "write_ms": o.write_time.as_millis() as u64,
        "tables": o.counts.rows,
        "resources": o.counts.resources,
        "edges": o.counts.edges,
        "issues": o.counts.issues,
        "scopes": o.scopes.len(),
        "failed_scopes": failed(o),
        "commits": o.commits.iter().map(|(sink, c)| serde_json::json!({"sink": sink, "location": c.location, "files": c.objects, "bytes": c.bytes})).collect::<Vec<_>>(),
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
