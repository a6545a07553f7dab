//! PostgreSQL DDL for the registry's tables, shared by `cloudtab schema
//! --format postgres` and the PostgreSQL sink, so that what the docs print
//! is what the sink creates. It lives with the sinks, not in the schema
//! crate: the registry describes tables, each sink decides its SQL. Not
//! behind the `postgres` feature, so that `schema --format postgres` works
//! in every build.
//!
//! In `snapshot` layout a table is a partitioned table whose one (default)
//! partition holds the current snapshot; the sink swaps a freshly loaded
//! partition in. In `history` layout it is a plain table with an extra
//! `_snapshot_run_id` column, appended to by every run.

use std::fmt::Write;

use cloudtab_schema::{ColumnType, Registry, TableDef};

/// Quotes an SQL identifier: `"name"` with inner quotes doubled.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// How the PostgreSQL sink lays tables out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgLayout {
    /// The latest snapshot only, swapped in as a partition.
    Snapshot,
    /// Every run appended, told apart by `_snapshot_run_id`.
    History,
}

/// The column the history layout adds: the run whose snapshot a row is
/// part of (for rows carried forward from a failed scope it differs from
/// `_run_id`, the run that read the row).
pub const SNAPSHOT_RUN_COLUMN: &str = "_snapshot_run_id";

/// The name PostgreSQL's `format_type` gives a column type; what the sink
/// compares an existing table against.
pub fn pg_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Timestamp => "timestamp with time zone",
        other => other.postgres_name(),
    }
}

/// `schema.table`, both quoted.
pub fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(table))
}

/// Columns with their types and nullability, as in `CREATE TABLE`.
fn column_list(t: &TableDef, layout: PgLayout) -> Vec<String> {
    let mut cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let null = if c.nullable { "" } else { " NOT NULL" };
            format!("{} {}{null}", quote_ident(c.name), c.ty.postgres_name())
        })
        .collect();
    if layout == PgLayout::History {
        cols.push(format!(
            "{} text NOT NULL",
            quote_ident(SNAPSHOT_RUN_COLUMN)
        ));
    }
    cols
}

/// The primary key columns in `layout`.
pub fn pg_primary_key(t: &TableDef, layout: PgLayout) -> Vec<&'static str> {
    if t.primary_key.is_empty() {
        return Vec::new();
    }
    let mut pk = Vec::new();
    if layout == PgLayout::History {
        pk.push(SNAPSHOT_RUN_COLUMN);
    }
    pk.extend(t.primary_key.iter().copied());
    pk
}

/// Columns with a (non-unique) index of their own: `_run_id`, and
/// `_edges.to_id`. Lookups by `_edges.from_id` use the primary key
/// (`from_id, to_id, edge_type`), whose leading column it is: an index of
/// its own would duplicate it and cost a quarter of a large load.
pub fn pg_indexed_columns(t: &TableDef) -> Vec<&'static str> {
    let mut cols: Vec<&'static str> = t
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|n| *n == "_run_id" && t.primary_key.first() != Some(n))
        .collect();
    if t.name == cloudtab_schema::EDGES_TABLE {
        cols.push("to_id");
    }
    cols
}

/// The column a snapshot-layout table is partitioned by: the first
/// primary key column (PostgreSQL requires it to be part of the key), or
/// the first column of a table without a key.
pub fn pg_partition_column(t: &TableDef) -> &'static str {
    t.primary_key
        .first()
        .copied()
        .unwrap_or_else(|| t.columns.first().map(|c| c.name).unwrap_or("_run_id"))
}

/// `CREATE TABLE` (and its indexes and comments) of the table users query.
pub fn pg_create_table(t: &TableDef, schema: &str, layout: PgLayout) -> Vec<String> {
    let qt = qualified(schema, t.name);
    let mut body = column_list(t, layout);
    let pk = pg_primary_key(t, layout);
    if !pk.is_empty() {
        let pk: Vec<_> = pk.iter().map(|k| quote_ident(k)).collect();
        body.push(format!("PRIMARY KEY ({})", pk.join(", ")));
    }
    let mut create = format!("CREATE TABLE {qt} (\n    {}\n)", body.join(",\n    "));
    if layout == PgLayout::Snapshot {
        let _ = write!(
            create,
            " PARTITION BY LIST ({})",
            quote_ident(pg_partition_column(t))
        );
    }
    let mut out = vec![create];
    out.extend(index_statements(t, &qt));
    out.push(format!(
        "COMMENT ON TABLE {qt} IS {}",
        quote_literal(t.description)
    ));
    for c in &t.columns {
        out.push(format!(
            "COMMENT ON COLUMN {qt}.{} IS {}",
            quote_ident(c.name),
            quote_literal(c.description)
        ));
    }
    out
}

fn index_statements(t: &TableDef, qualified_table: &str) -> Vec<String> {
    pg_indexed_columns(t)
        .into_iter()
        .map(|c| format!("CREATE INDEX ON {qualified_table} ({})", quote_ident(c)))
        .collect()
}

/// `CREATE TABLE` of a partition being loaded (no keys yet: they are
/// built after the load, which is faster than maintaining them).
pub fn pg_create_partition(t: &TableDef, schema: &str, partition: &str) -> String {
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        qualified(schema, partition),
        column_list(t, PgLayout::Snapshot).join(",\n    ")
    )
}

/// The key and indexes of a loaded partition, matching the parent's so
/// that attaching it reuses them instead of building new ones.
pub fn pg_partition_indexes(t: &TableDef, schema: &str, partition: &str) -> Vec<String> {
    let qp = qualified(schema, partition);
    let mut out = Vec::new();
    let pk = pg_primary_key(t, PgLayout::Snapshot);
    if !pk.is_empty() {
        let pk: Vec<_> = pk.iter().map(|k| quote_ident(k)).collect();
        out.push(format!(
            "ALTER TABLE {qp} ADD PRIMARY KEY ({})",
            pk.join(", ")
        ));
    }
    out.extend(index_statements(t, &qp));
    out
}

/// The DDL of every table in the registry, as the PostgreSQL sink creates
/// it in `snapshot` mode.
pub fn postgres_ddl(registry: &Registry, schema: &str) -> String {
    let mut out = format!("CREATE SCHEMA IF NOT EXISTS {};\n", quote_ident(schema));
    for t in registry.tables() {
        out.push('\n');
        for stmt in pg_create_table(t, schema, PgLayout::Snapshot) {
            out.push_str(&stmt);
            out.push_str(";\n");
        }
    }
    out
}

/// Quotes a string literal for DDL text that cannot take parameters
/// (comments); only ever used on the registry's own text.
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("a\"b;--"), "\"a\"\"b;--\"");
        assert_eq!(quote_ident("ünï"), "\"ünï\"");
    }

    #[test]
    fn layouts() {
        let r = Registry::builtin();
        let edges = r.get("_edges").unwrap();
        let snap = pg_create_table(edges, "s", PgLayout::Snapshot).join(";\n");
        assert!(snap.contains("PARTITION BY LIST (\"from_id\")"), "{snap}");
        assert!(snap.contains("CREATE INDEX ON \"s\".\"_edges\" (\"to_id\")"));
        assert!(snap.contains("CREATE INDEX ON \"s\".\"_edges\" (\"_run_id\")"));
        let hist = pg_create_table(edges, "s", PgLayout::History).join(";\n");
        assert!(!hist.contains("PARTITION"));
        assert!(
            hist.contains("PRIMARY KEY (\"_snapshot_run_id\", \"from_id\""),
            "{hist}"
        );
    }
}
