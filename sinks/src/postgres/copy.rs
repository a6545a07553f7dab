//! Arrow batches → PostgreSQL binary `COPY` rows.
//!
//! The binary format is a header, then per row a 16-bit field count and
//! per field a 32-bit length (`-1` for NULL) and the value in the type's
//! binary send format, then a trailer. Values are written straight from
//! the Arrow arrays: no per-value allocation, no text escaping.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow::record_batch::RecordBatch;
use bytes::{BufMut, Bytes, BytesMut};
use cloudtab_schema::{ColumnType, TableDef};

use crate::sink::SinkError;

/// `PGCOPY\n\377\r\n\0`, flags, header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// PostgreSQL text cannot hold NUL: it becomes U+FFFD (documented).
const NUL_REPLACEMENT: &str = "\u{FFFD}";

/// Encodes `batch` (whose columns follow `table`'s definition) as one
/// complete binary COPY stream. `extra` values are appended to every row
/// as further text columns (the history mode's `_snapshot_run_id`).
pub(crate) fn encode(
    table: &TableDef,
    batch: &RecordBatch,
    extra: &[&str],
) -> Result<Bytes, SinkError> {
    if batch.num_columns() != table.columns.len() {
        return Err(SinkError::Other(format!(
            "table `{}`: batch has {} columns, the table {}",
            table.name,
            batch.num_columns(),
            table.columns.len()
        )));
    }
    let fields = table.columns.len() + extra.len();
    let fields = i16::try_from(fields).map_err(|_| {
        SinkError::Other(format!("table `{}`: too many columns for COPY", table.name))
    })?;
    let rows = batch.num_rows();
    let mut cols: Vec<Col> = Vec::with_capacity(table.columns.len());
    for (def, array) in table.columns.iter().zip(batch.columns()) {
        let wrong = || {
            SinkError::Other(format!(
                "table `{}`, column `{}`: expected Arrow {}, got {}",
                table.name,
                def.name,
                def.ty.arrow_name(),
                array.data_type()
            ))
        };
        cols.push(match def.ty {
            ColumnType::Text => Col::Text(array.as_string_opt::<i32>().ok_or_else(wrong)?),
            ColumnType::Json => Col::Json(array.as_string_opt::<i32>().ok_or_else(wrong)?),
            ColumnType::Int64 => Col::I64(array.as_primitive_opt::<Int64Type>().ok_or_else(wrong)?),
            ColumnType::Int32 => Col::I32(array.as_primitive_opt::<Int32Type>().ok_or_else(wrong)?),
            ColumnType::Float64 => {
                Col::F64(array.as_primitive_opt::<Float64Type>().ok_or_else(wrong)?)
            }
            ColumnType::Boolean => Col::Bool(array.as_boolean_opt().ok_or_else(wrong)?),
            ColumnType::Timestamp => Col::Ts(
                array
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .ok_or_else(wrong)?,
            ),
            other => {
                return Err(SinkError::Other(format!(
                    "table `{}`, column `{}`: type {other:?} has no PostgreSQL encoding",
                    table.name, def.name
                )))
            }
        });
    }
    let approx: usize = batch.get_array_memory_size() + rows * (fields as usize) * 4 + 64;
    let mut out = BytesMut::with_capacity(approx);
    out.put_slice(HEADER);
    for row in 0..rows {
        out.put_i16(fields);
        for col in &cols {
            col.put(row, &mut out);
        }
        for v in extra {
            put_text(v, &mut out);
        }
    }
    out.put_i16(-1);
    Ok(out.freeze())
}

enum Col<'a> {
    Text(&'a arrow::array::StringArray),
    Json(&'a arrow::array::StringArray),
    I64(&'a arrow::array::Int64Array),
    I32(&'a arrow::array::Int32Array),
    F64(&'a arrow::array::Float64Array),
    Bool(&'a arrow::array::BooleanArray),
    Ts(&'a arrow::array::TimestampMicrosecondArray),
}

impl Col<'_> {
    fn put(&self, row: usize, out: &mut BytesMut) {
        let valid = match self {
            Col::Text(a) | Col::Json(a) => a.is_valid(row),
            Col::I64(a) => a.is_valid(row),
            Col::I32(a) => a.is_valid(row),
            Col::F64(a) => a.is_valid(row),
            Col::Bool(a) => a.is_valid(row),
            Col::Ts(a) => a.is_valid(row),
        };
        if !valid {
            out.put_i32(-1);
            return;
        }
        match self {
            Col::Text(a) => put_text(a.value(row), out),
            Col::Json(a) => put_jsonb(a.value(row), out),
            Col::I64(a) => {
                out.put_i32(8);
                out.put_i64(a.value(row));
            }
            Col::I32(a) => {
                out.put_i32(4);
                out.put_i32(a.value(row));
            }
            Col::F64(a) => {
                out.put_i32(8);
                out.put_f64(a.value(row));
            }
            Col::Bool(a) => {
                out.put_i32(1);
                out.put_u8(a.value(row) as u8);
            }
            Col::Ts(a) => {
                out.put_i32(8);
                out.put_i64(a.value(row).saturating_sub(PG_EPOCH_MICROS));
            }
        }
    }
}

fn put_len(len: usize, out: &mut BytesMut) {
    // Arrow strings with i32 offsets are below 2 GiB, so this cannot cut.
    out.put_i32(i32::try_from(len).unwrap_or(i32::MAX));
}

fn put_text(s: &str, out: &mut BytesMut) {
    if s.as_bytes().contains(&0) {
        let clean = s.replace('\0', NUL_REPLACEMENT);
        put_len(clean.len(), out);
        out.put_slice(clean.as_bytes());
    } else {
        put_len(s.len(), out);
        out.put_slice(s.as_bytes());
    }
}

/// jsonb's binary format is a version byte (1) and the JSON text. JSON
/// `null` is SQL NULL; `\u0000`, which jsonb rejects, becomes U+FFFD.
fn put_jsonb(s: &str, out: &mut BytesMut) {
    if s == "null" {
        out.put_i32(-1);
        return;
    }
    if s.contains("\\u0000") {
        if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(s) {
            scrub_nul(&mut v);
            let clean = v.to_string();
            put_len(clean.len() + 1, out);
            out.put_u8(1);
            out.put_slice(clean.as_bytes());
            return;
        }
    }
    put_len(s.len() + 1, out);
    out.put_u8(1);
    out.put_slice(s.as_bytes());
}

fn scrub_nul(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', NUL_REPLACEMENT),
        Value::Array(a) => a.iter_mut().for_each(scrub_nul),
        Value::Object(o) => {
            let entries: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
            for (k, mut val) in entries {
                scrub_nul(&mut val);
                o.insert(k.replace('\0', NUL_REPLACEMENT), val);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonb_nul_and_null() {
        let mut out = BytesMut::new();
        put_jsonb("null", &mut out);
        assert_eq!(&out[..], &(-1i32).to_be_bytes());
        let mut out = BytesMut::new();
        put_jsonb(r#"{"a\u0000":"x\u0000y","b":"\\u0000"}"#, &mut out);
        let text = std::str::from_utf8(&out[5..]).unwrap();
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["a\u{FFFD}"], "x\u{FFFD}y");
        assert_eq!(v["b"], "\\u0000", "an escaped backslash is not a NUL");
    }
}
