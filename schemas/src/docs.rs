use std::fmt::Write;

use crate::registry::Registry;
use crate::table::{TableKind, BASE_COLUMNS};

/// Markdown reference of every table of `registry`: the base columns once,
/// then each table with its own columns, primary key and permissions.
pub fn markdown(registry: &Registry) -> String {
    let mut out = String::from("# cloudtab tables\n\n");
    out.push_str("Timestamps are UTC with microsecond precision (Arrow `Timestamp(Microsecond, \"UTC\")`, Parquet `TIMESTAMP(isAdjustedToUTC=true, MICROS)`, PostgreSQL `timestamptz`). JSON columns hold JSON text (Parquet `BYTE_ARRAY` UTF-8 strings, PostgreSQL `jsonb`); JSON `null` is stored as SQL `NULL`.\n\n");
    out.push_str("## Base columns of every resource table\n\n");
    column_table(&mut out, BASE_COLUMNS.iter());
    out.push_str("\n## System tables\n");
    for t in registry.tables().iter().filter(|t| !t.is_resource()) {
        let _ = write!(out, "\n### `{}`\n\n{}\n\n", t.name, t.description);
        if !t.primary_key.is_empty() {
            let _ = writeln!(out, "Primary key: `{}`.\n", t.primary_key.join("`, `"));
        }
        column_table(&mut out, t.columns.iter());
    }
    out.push_str("\n## Resource tables\n");
    for t in registry.resource_tables() {
        let service = match t.kind {
            TableKind::Resource { service, .. } => service,
            _ => "",
        };
        let _ = write!(out, "\n### `{}`\n\n{}\n\nService: `{service}`. Primary key: `_id`. Permissions: {}.\n\nBase columns, then:\n\n",
            t.name,
            t.description,
            t.permissions.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
        );
        column_table(&mut out, t.own_columns().iter());
    }
    out
}

fn column_table<'a>(out: &mut String, cols: impl Iterator<Item = &'a crate::ColumnDef>) {
    out.push_str("| column | type | null | description |\n|---|---|---|---|\n");
    for c in cols {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            c.name,
            c.ty.arrow_name(),
            if c.nullable { "yes" } else { "no" },
            c.description.replace('|', "\\|")
        );
    }
}
