use serde::Serialize;

use crate::item::Value;

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

    /// Whether the flattener can convert a value of `v`'s shape into this
    /// type (its content may still fail, such as text that is not a
    /// number, which becomes `NULL` and an `_issues` row). `Null` fits
    /// every type. What does not fit is an extractor's mistake: a boolean
    /// or an instant in a number column, an instant in a text column.
    pub fn accepts(self, v: &Value) -> bool {
        use Value as V;
        match self {
            ColumnType::Text => !matches!(
                v,
                V::Timestamp { .. } | V::EpochSeconds(_) | V::EpochMillis(_)
            ),
            ColumnType::Int64 | ColumnType::Int32 => !matches!(v, V::Bool(_) | V::Timestamp { .. }),
            ColumnType::Float64 => !matches!(
                v,
                V::Bool(_) | V::Timestamp { .. } | V::EpochSeconds(_) | V::EpochMillis(_)
            ),
            ColumnType::Boolean => matches!(
                v,
                V::Null | V::Bool(_) | V::Int(_) | V::Text(_) | V::Json(_)
            ),
            ColumnType::Timestamp => !matches!(v, V::Bool(_) | V::Json(_)),
            ColumnType::Json => true,
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

    /// The Snowflake type (see the sinks' `snowflake_ddl` for why each).
    pub fn snowflake_name(self) -> &'static str {
        match self {
            ColumnType::Text => "VARCHAR",
            ColumnType::Int64 | ColumnType::Int32 => "NUMBER(38,0)",
            ColumnType::Float64 => "FLOAT",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Timestamp => "TIMESTAMP_TZ(6)",
            ColumnType::Json => "VARIANT",
        }
    }
}

/// How a column's values are spread over the rows of a table: a fact about
/// the data, by which columnar sinks choose their encoding (Parquet: a
/// dictionary or not, min/max statistics or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Values repeat across rows: kinds, states, types, numbers, and event
    /// times (which are nearly unique, but ranges of them are what queries
    /// filter on; sinks treat timestamps by their type).
    #[default]
    Repeated,
    /// (Nearly) unique per row: ids, names, ARNs, URLs.
    Unique,
    /// Rows arrive grouped by it (scope by scope: one account and region at
    /// a time; one run at a time), so a stretch of rows holds few values
    /// and readers can skip stretches by their range.
    Grouped,
}

impl Distribution {
    /// The Arrow field metadata key the flattener writes it under (for
    /// [`Distribution::Unique`] and [`Distribution::Grouped`] only).
    pub const FIELD_METADATA_KEY: &'static str = "cloudtab.distribution";

    /// True for the default, [`Distribution::Repeated`].
    pub fn is_repeated(&self) -> bool {
        *self == Distribution::Repeated
    }

    /// The name used in schema JSON and Arrow field metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::Repeated => "repeated",
            Distribution::Unique => "unique",
            Distribution::Grouped => "grouped",
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
    /// How its values are spread over rows (see [`Distribution`]).
    #[serde(skip_serializing_if = "Distribution::is_repeated")]
    pub distribution: Distribution,
}

impl ColumnDef {
    /// A nullable column.
    pub const fn new(name: &'static str, ty: ColumnType, description: &'static str) -> Self {
        ColumnDef {
            name,
            ty,
            nullable: true,
            description,
            distribution: Distribution::Repeated,
        }
    }

    /// A column that never holds `NULL`.
    pub const fn required(name: &'static str, ty: ColumnType, description: &'static str) -> Self {
        ColumnDef {
            name,
            ty,
            nullable: false,
            description,
            distribution: Distribution::Repeated,
        }
    }

    /// The same column, its values (nearly) unique per row.
    pub const fn unique(mut self) -> Self {
        self.distribution = Distribution::Unique;
        self
    }

    /// The same column, its rows arriving grouped by its value.
    pub const fn grouped(mut self) -> Self {
        self.distribution = Distribution::Grouped;
        self
    }
}

/// True when `name` is a valid column or table name: `^[a-z_][a-z0-9_]*$`.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}
