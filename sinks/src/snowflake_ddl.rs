//! Snowflake DDL for the registry's tables (`cloudtab schema --format
//! snowflake`): the Snowflake sink creates exactly these tables.
//!
//! Types, and why:
//!
//! | model | Snowflake | |
//! |---|---|---|
//! | text | `VARCHAR` | |
//! | int64, int32 | `NUMBER(38,0)` | Snowflake's integer |
//! | float64 | `FLOAT` | |
//! | boolean | `BOOLEAN` | |
//! | timestamp | `TIMESTAMP_TZ(6)` | an instant, loaded with offset `+00:00` |
//! | json | `VARIANT` | `tags:owner::string` works |
//!
//! `TIMESTAMP_TZ`, not `TIMESTAMP_NTZ`: the columns hold instants. An NTZ
//! value compared with `CURRENT_TIMESTAMP()` (a `TIMESTAMP_LTZ`) is read in
//! the session's time zone, so `ctime > DATEADD(day, -30,
//! CURRENT_TIMESTAMP())` would shift by the session's offset wherever that
//! is not UTC; a `TIMESTAMP_TZ` compares as the instant it is, in every
//! session.
//!
//! Names are upper case and quoted (`"AWS_EC2_INSTANCE"."TAGS"`): quoted,
//! as every identifier cloudtab writes; upper case, because Snowflake folds
//! unquoted names to upper case, so users write `tags:owner::string` and
//! `cloudtab.aws_ec2_instance` without quotes. Parquet's lower-case columns
//! load into them with `MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE`.
//! Primary keys are declared (Snowflake does not enforce them; tools read
//! them).

use cloudtab_schema::{ColumnType, Registry, TableDef};

use crate::ddl::quote_ident;

/// The Snowflake type of a column type.
pub fn sf_type(ty: ColumnType) -> &'static str {
    ty.snowflake_name()
}

/// A name as the Snowflake sink writes it: upper case, quoted.
pub fn sf_ident(name: &str) -> String {
    quote_ident(&name.to_uppercase())
}

/// A string literal for DDL text that cannot take parameters (comments);
/// only ever used on the registry's own text. Snowflake reads backslash
/// escapes in literals, so backslashes are doubled as well as quotes; `$`
/// is written `\x24` (Snowflake's hex escape), which Snowflake reads back
/// as `$`, while the emulator the tests run would take `$LATEST` (Lambda's
/// version name in a description) for a session variable.
fn sf_literal(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('\'', "''")
        .replace('$', "\\x24");
    format!("'{escaped}'")
}

/// `CREATE TABLE IF NOT EXISTS` for `t` in `schema`, with comments.
pub fn sf_create_table(t: &TableDef, schema: &str) -> String {
    sf_create_table_in(t, schema, false)
}

/// The column history mode adds: the run whose snapshot a row belongs to.
pub const SF_SNAPSHOT_RUN_COLUMN: &str = "_SNAPSHOT_RUN_ID";

/// [`sf_create_table`], or with `history` the history-mode table: an
/// extra `_SNAPSHOT_RUN_ID` column that leads the primary key.
pub fn sf_create_table_in(t: &TableDef, schema: &str, history: bool) -> String {
    let mut cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            format!(
                "    {} {}{} COMMENT {}",
                sf_ident(c.name),
                sf_type(c.ty),
                if c.nullable { "" } else { " NOT NULL" },
                sf_literal(c.description)
            )
        })
        .collect();
    let mut pk: Vec<String> = t.primary_key.iter().map(|c| sf_ident(c)).collect();
    if history {
        cols.push(format!(
            "    {} VARCHAR NOT NULL COMMENT {}",
            sf_ident(SF_SNAPSHOT_RUN_COLUMN),
            sf_literal("The run whose snapshot this row belongs to (history mode).")
        ));
        if !pk.is_empty() {
            pk.insert(0, sf_ident(SF_SNAPSHOT_RUN_COLUMN));
        }
    }
    if !pk.is_empty() {
        cols.push(format!("    PRIMARY KEY ({})", pk.join(", ")));
    }
    format!(
        "CREATE TABLE IF NOT EXISTS {}.{} (\n{}\n) COMMENT = {}",
        sf_ident(schema),
        sf_ident(t.name),
        cols.join(",\n"),
        sf_literal(t.description)
    )
}

/// The DDL of every table in the registry, as the Snowflake sink will
/// create it.
pub fn snowflake_ddl(registry: &Registry, schema: &str) -> String {
    let mut out = format!("CREATE SCHEMA IF NOT EXISTS {};\n", sf_ident(schema));
    for t in registry.tables() {
        out.push('\n');
        out.push_str(&sf_create_table(t, schema));
        out.push_str(";\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_names_and_literals() {
        assert_eq!(sf_type(ColumnType::Timestamp), "TIMESTAMP_TZ(6)");
        assert_eq!(sf_type(ColumnType::Json), "VARIANT");
        assert_eq!(sf_type(ColumnType::Int32), "NUMBER(38,0)");
        assert_eq!(sf_ident("tags"), "\"TAGS\"");
        assert_eq!(sf_ident("a\"b"), "\"A\"\"B\"");
        assert_eq!(sf_literal(r"it's a \ b"), r"'it''s a \\ b'");
        assert_eq!(sf_literal("`$LATEST`"), r"'`\x24LATEST`'");
    }

    #[test]
    fn every_table_every_column() {
        let r = Registry::builtin();
        let ddl = snowflake_ddl(r, "cloudtab");
        for t in r.tables() {
            let create = sf_create_table(t, "cloudtab");
            assert!(ddl.contains(&create));
            for c in &t.columns {
                assert!(
                    create.contains(&format!("{} {}", sf_ident(c.name), sf_type(c.ty))),
                    "{}.{}",
                    t.name,
                    c.name
                );
            }
        }
        let instance = sf_create_table(r.get("aws_ec2_instance").unwrap(), "cloudtab");
        assert!(
            instance.starts_with("CREATE TABLE IF NOT EXISTS \"CLOUDTAB\".\"AWS_EC2_INSTANCE\" (")
        );
        assert!(instance.contains("\"TAGS\" VARIANT"));
        assert!(instance.contains("\"_ID\" VARCHAR NOT NULL COMMENT"));
        assert!(instance.contains("PRIMARY KEY (\"_ID\")"));
    }

    #[test]
    fn table_descriptions_have_no_quotes() {
        // The Snowflake emulator the tests run fails on an escaped quote
        // in a table's `COMMENT =` (HTTP 500); Snowflake itself takes it.
        // Column comments are not affected.
        for t in Registry::builtin().tables() {
            assert!(!t.description.contains('\''), "{}", t.name);
        }
    }
}
