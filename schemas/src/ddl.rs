use std::fmt::Write;

use crate::registry::Registry;

/// Quotes an SQL identifier: wraps it in double quotes and doubles any
/// double quote inside, so that any string is a safe identifier.
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

/// PostgreSQL `CREATE TABLE` statements for every table of `registry` in
/// `schema`, with column comments.
pub fn postgres_ddl(registry: &Registry, schema: &str) -> String {
    let s = quote_ident(schema);
    let mut out = format!("CREATE SCHEMA IF NOT EXISTS {s};\n");
    for t in registry.tables() {
        let qt = format!("{s}.{}", quote_ident(t.name));
        let _ = writeln!(out, "\nCREATE TABLE IF NOT EXISTS {qt} (");
        for (i, c) in t.columns.iter().enumerate() {
            let null = if c.nullable { "" } else { " NOT NULL" };
            let comma = if i + 1 < t.columns.len() || !t.primary_key.is_empty() {
                ","
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {} {}{null}{comma}",
                quote_ident(c.name),
                c.ty.postgres_name()
            );
        }
        if !t.primary_key.is_empty() {
            let pk: Vec<_> = t.primary_key.iter().map(|k| quote_ident(k)).collect();
            let _ = writeln!(out, "    PRIMARY KEY ({})", pk.join(", "));
        }
        out.push_str(");\n");
        let _ = writeln!(
            out,
            "COMMENT ON TABLE {qt} IS {};",
            quote_literal(t.description)
        );
        for c in &t.columns {
            let _ = writeln!(
                out,
                "COMMENT ON COLUMN {qt}.{} IS {};",
                quote_ident(c.name),
                quote_literal(c.description)
            );
        }
    }
    out
}

/// Quotes a string literal for DDL text that is printed, never executed
/// with data: values that come from outside always go through parameters.
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
}
