use serde::Serialize;

/// The logical type of a column. Each maps to exactly one Arrow type (see
/// [`ColumnType::arrow_name`]) and one SQL type per sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ColumnType {
    /// UTF-8 text (Arrow `Utf8`).
    Text,
    /// 64-bit signed integer (Arrow `Int64`); the default for any number.
    Int64,
    /// 32-bit signed integer (Arrow `Int32`), only where the API guarantees it.
    Int32,
    /// 64-bit float (Arrow `Float64`).
    Float64,
    /// Boolean (Arrow `Boolean`).
    Boolean,
    /// An instant in UTC with microsecond precision
    /// (Arrow `Timestamp(Microsecond, "UTC")`).
    Timestamp,
    /// A JSON document stored as text (Arrow `Utf8`); JSON `null` is stored
    /// as SQL `NULL`, never as the string `'null'`.
    Json,
}

impl ColumnType {
    /// The Arrow type this column has in record batches and Parquet files.
    pub fn arrow_name(self) -> &'static str {
        match self {
            ColumnType::Text => "Utf8",
            ColumnType::Int64 => "Int64",
            ColumnType::Int32 => "Int32",
            ColumnType::Float64 => "Float64",
            ColumnType::Boolean => "Boolean",
            ColumnType::Timestamp => "Timestamp(Microsecond, \"UTC\")",
            ColumnType::Json => "Utf8 (JSON text)",
        }
    }

    /// The PostgreSQL type this column is created with.
    pub fn postgres_name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Int64 => "bigint",
            ColumnType::Int32 => "integer",
            ColumnType::Float64 => "double precision",
            ColumnType::Boolean => "boolean",
            ColumnType::Timestamp => "timestamptz",
            ColumnType::Json => "jsonb",
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnDef {
    /// Column name, matching `^[a-z_][a-z0-9_]*$`.
    pub name: &'static str,
    /// Logical type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether the column may hold `NULL`.
    pub nullable: bool,
    /// One line saying what the column holds.
    pub description: &'static str,
}

impl ColumnDef {
    /// A nullable column.
    pub const fn new(name: &'static str, ty: ColumnType, description: &'static str) -> Self {
        ColumnDef {
            name,
            ty,
            nullable: true,
            description,
        }
    }

    /// A column that never holds `NULL`.
    pub const fn required(name: &'static str, ty: ColumnType, description: &'static str) -> Self {
        ColumnDef {
            name,
            ty,
            nullable: false,
            description,
        }
    }
}

/// True when `name` is a valid column or table name: `^[a-z_][a-z0-9_]*$`.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}
