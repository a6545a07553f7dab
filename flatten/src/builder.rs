use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use cloudtab_schema::{ColumnType, Distribution, TableDef};

/// The Arrow type of a column type.
pub(crate) fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Text | ColumnType::Json => DataType::Utf8,
        ColumnType::Int64 => DataType::Int64,
        ColumnType::Int32 => DataType::Int32,
        ColumnType::Float64 => DataType::Float64,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => DataType::Utf8,
    }
}

/// The Arrow schema of a table: its columns in order, with their
/// nullability, and as field metadata their descriptions (`description`),
/// JSON columns (`cloudtab.type`: `json`) and how values are spread over
/// rows where that is not the default (`cloudtab.distribution`: `unique` or
/// `grouped`), which columnar sinks choose encodings by.
pub fn arrow_schema(table: &TableDef) -> SchemaRef {
    let fields: Vec<Field> = table
        .columns
        .iter()
        .map(|c| {
            let mut meta = std::collections::HashMap::new();
            meta.insert("description".to_string(), c.description.to_string());
            if c.ty == ColumnType::Json {
                meta.insert("cloudtab.type".to_string(), "json".to_string());
            }
            if !c.distribution.is_repeated() {
                meta.insert(
                    Distribution::FIELD_METADATA_KEY.to_string(),
                    c.distribution.as_str().to_string(),
                );
            }
            Field::new(c.name, arrow_type(c.ty), c.nullable).with_metadata(meta)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// One column's builder.
pub(crate) enum ColumnBuilder {
    Text(StringBuilder),
    Int64(Int64Builder),
    Int32(Int32Builder),
    Float64(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
    /// A column every row of which holds the same run-wide value
    /// (`_run_id`, `_synced_at`): a full batch of it, made once per
    /// flattener and sliced to the batch's rows, so rows cost nothing.
    Repeated(ArrayRef),
}

impl ColumnBuilder {
    /// A builder for `capacity` rows; text columns reserve `bytes` bytes.
    fn new(ty: ColumnType, capacity: usize, bytes: usize) -> Self {
        match ty {
            ColumnType::Int64 => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            ColumnType::Int32 => ColumnBuilder::Int32(Int32Builder::with_capacity(capacity)),
            ColumnType::Float64 => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            ColumnType::Boolean => ColumnBuilder::Bool(BooleanBuilder::with_capacity(capacity)),
            ColumnType::Timestamp => ColumnBuilder::Time(
                TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            ),
            _ => ColumnBuilder::Text(StringBuilder::with_capacity(capacity, bytes)),
        }
    }

    fn finish(&mut self, rows: usize) -> ArrayRef {
        match self {
            ColumnBuilder::Repeated(a) => a.slice(0, rows.min(a.len())),
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Time(b) => Arc::new(b.finish()),
        }
    }

    pub(crate) fn append_null(&mut self) {
        match self {
            ColumnBuilder::Text(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::Int32(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::Time(b) => b.append_null(),
            // Rows are counted by the table; the value is always there.
            ColumnBuilder::Repeated(_) => {}
        }
    }
}

/// The open builders of one table.
pub(crate) struct TableBuilder {
    pub(crate) def: &'static TableDef,
    pub(crate) schema: SchemaRef,
    pub(crate) columns: Vec<ColumnBuilder>,
    pub(crate) rows: usize,
    capacity: usize,
    /// Bytes each column's values took in the last batch: the next batch
    /// reserves that much, so builders do not grow (and copy) row by row.
    bytes: Vec<usize>,
    /// Per column: a full batch of its run-wide value, for the columns that
    /// hold one (see [`ColumnBuilder::Repeated`]).
    repeated: Vec<Option<ArrayRef>>,
}

/// Most bytes a text column reserves for the next batch.
const MAX_RESERVED_BYTES: usize = 16 << 20;

impl TableBuilder {
    /// A table's builders; `repeated` gives the columns that hold the same
    /// value in every row, with an array of at least `capacity` rows of it.
    pub(crate) fn new(
        def: &'static TableDef,
        capacity: usize,
        repeated: Vec<(usize, ArrayRef)>,
    ) -> Self {
        debug_assert!(repeated.iter().all(|(_, a)| a.len() >= capacity));
        let mut per_column = vec![None; def.columns.len()];
        for (i, a) in repeated {
            per_column[i] = Some(a);
        }
        TableBuilder {
            def,
            schema: arrow_schema(def),
            columns: def
                .columns
                .iter()
                .map(|c| ColumnBuilder::new(c.ty, 0, 0))
                .collect(),
            rows: 0,
            capacity,
            bytes: vec![capacity * 16; def.columns.len()],
            repeated: per_column,
        }
    }

    /// Reserves room for a full batch once the table receives its first row,
    /// so tables that stay empty cost nothing.
    pub(crate) fn start_row(&mut self) {
        if self.rows == 0 {
            self.columns = self
                .def
                .columns
                .iter()
                .zip(&self.bytes)
                .zip(&self.repeated)
                .map(|((c, bytes), repeated)| match repeated {
                    Some(a) => ColumnBuilder::Repeated(a.clone()),
                    // A batch of huge values (cut by bytes) does not make
                    // every later batch reserve as much.
                    None => ColumnBuilder::new(
                        c.ty,
                        self.capacity,
                        (bytes + bytes / 8).min(MAX_RESERVED_BYTES),
                    ),
                })
                .collect();
        }
    }

    /// The most bytes any text column of the open rows holds.
    pub(crate) fn text_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|b| match b {
                ColumnBuilder::Text(t) => t.values_slice().len(),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// Finishes the open rows into a batch; builders restart empty.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        for (b, bytes) in self.columns.iter().zip(self.bytes.iter_mut()) {
            if let ColumnBuilder::Text(t) = b {
                *bytes = t.values_slice().len();
            }
        }
        let rows = self.rows;
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(|b| b.finish(rows)).collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}
