//! Coercion of an extractor's [`Value`] into a column's type. Anything that
//! does not fit appends `NULL` and returns the reason, which the flattener
//! records in `_issues`.

use std::fmt::Write;

use cloudtab_schema::{JsonText, Value};

use crate::builder::ColumnBuilder;
use crate::time::{self, TimeError};

/// Appends `v` to `b`. `Err(reason)` means `NULL` was appended instead.
pub(crate) fn append(b: &mut ColumnBuilder, v: &Value) -> Result<(), String> {
    if matches!(v, Value::Null) {
        b.append_null();
        return Ok(());
    }
    let r = match b {
        ColumnBuilder::Text(t) => {
            match v {
                Value::Text(s) => t.append_value(s),
                // A JSON string is its text, any other document its JSON
                // (only a string is read back).
                Value::Json(j) => match j.as_str().starts_with('"').then(|| j.to_value()) {
                    Some(serde_json::Value::String(s)) => t.append_value(s),
                    _ => t.append_value(j.as_str()),
                },
                other => t.append_value(text_of(other).as_ref()),
            }
            Ok(())
        }
        ColumnBuilder::Int64(i) => to_i64(v).map(|n| i.append_value(n)),
        ColumnBuilder::Int32(i) => to_i64(v).and_then(|n| {
            i32::try_from(n)
                .map(|n| i.append_value(n))
                .map_err(|_| "integer does not fit in 32 bits".to_string())
        }),
        ColumnBuilder::Float64(f) => to_f64(v).map(|n| f.append_value(n)),
        ColumnBuilder::Bool(bb) => to_bool(v).map(|x| bb.append_value(x)),
        ColumnBuilder::Time(t) => to_micros(v)
            .map(|m| t.append_value(m))
            .map_err(|e| e.to_string()),
        // Only the flattener's own run-wide columns are repeated, and it
        // never fills them from values.
        ColumnBuilder::Repeated(_) => Ok(()),
    };
    if r.is_err() {
        b.append_null();
    }
    r
}

/// Appends `v` to a JSON column: JSON documents as they are, text as a JSON
/// string.
pub(crate) fn append_json(
    b: &mut ColumnBuilder,
    v: &Value,
    scratch: &mut Vec<u8>,
) -> Result<(), String> {
    let ColumnBuilder::Text(t) = b else {
        return append(b, v);
    };
    match v {
        Value::Null => t.append_null(),
        Value::Json(j) => t.append_value(j.as_str()),
        Value::Text(s) => t.append_value(JsonText::string(s).as_str()),
        Value::Bool(x) => t.append_value(if *x { "true" } else { "false" }),
        Value::Int(n) | Value::EpochSeconds(n) | Value::EpochMillis(n) => {
            return append_serialised(t, n, scratch)
        }
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => return append_serialised(t, &n, scratch),
            None => {
                t.append_null();
                return Err("not a finite number, JSON cannot hold it".into());
            }
        },
        other => t.append_value(JsonText::string(&text_of(other)).as_str()),
    }
    Ok(())
}

/// Appends the JSON serialisation of `x`, made in `scratch`.
fn append_serialised<T: serde::Serialize + ?Sized>(
    t: &mut arrow::array::StringBuilder,
    x: &T,
    scratch: &mut Vec<u8>,
) -> Result<(), String> {
    scratch.clear();
    let written = serde_json::to_writer(&mut *scratch, x)
        .map_err(|e| format!("cannot serialise as JSON: {e}"))
        .and_then(|()| std::str::from_utf8(scratch).map_err(|_| "JSON is not UTF-8".to_string()));
    match written {
        Ok(s) => {
            t.append_value(s);
            Ok(())
        }
        Err(reason) => {
            t.append_null();
            Err(reason)
        }
    }
}

/// The raw text of a value, for text columns and for `_issues.raw_value`.
pub(crate) fn text_of(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::Text(s) => s.as_str().into(),
        Value::Null => "".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Int(n) | Value::EpochSeconds(n) | Value::EpochMillis(n) => n.to_string().into(),
        Value::Float(f) => f.to_string().into(),
        Value::Json(j) => j.as_str().into(),
        Value::Timestamp { secs, nanos } => {
            let mut s = String::new();
            let _ = write!(s, "{secs}.{nanos:09}");
            s.into()
        }
        _ => format!("{v:?}").into(),
    }
}

fn to_i64(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(n) | Value::EpochSeconds(n) | Value::EpochMillis(n) => Ok(*n),
        Value::Float(f) if f.fract() == 0.0 && *f >= -9.2e18 && *f <= 9.2e18 => Ok(*f as i64),
        Value::Float(_) => Err("not a whole number that fits in 64 bits".into()),
        Value::Bool(_) => Err("a boolean is not an integer".into()),
        Value::Text(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| "text is not an integer".into()),
        Value::Json(j) => match j.to_value() {
            serde_json::Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| "JSON number is not a 64-bit integer".into()),
            _ => Err("JSON value is not an integer".into()),
        },
        _ => Err("value is not an integer".into()),
    }
}

fn to_f64(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(n) => Ok(*n as f64),
        Value::Text(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| "text is not a number".into()),
        Value::Json(j) => match j.to_value() {
            serde_json::Value::Number(n) => {
                n.as_f64().ok_or_else(|| "JSON number out of range".into())
            }
            _ => Err("JSON value is not a number".into()),
        },
        _ => Err("value is not a number".into()),
    }
}

fn to_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Int(0) => Ok(false),
        Value::Int(1) => Ok(true),
        Value::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("text is not `true` or `false`".into()),
        },
        Value::Json(j) => match j.to_value() {
            serde_json::Value::Bool(b) => Ok(b),
            _ => Err("JSON value is not a boolean".into()),
        },
        _ => Err("value is not a boolean".into()),
    }
}

/// UTC microseconds of a value in a timestamp column.
pub(crate) fn to_micros(v: &Value) -> Result<i64, TimeError> {
    match v {
        Value::Timestamp { secs, nanos } => time::from_secs_nanos(*secs, *nanos),
        Value::EpochSeconds(s) => time::from_epoch_seconds(*s),
        Value::EpochMillis(ms) => time::from_epoch_millis(*ms),
        Value::Int(n) => time::from_epoch_guess(*n),
        Value::Float(f) => time::from_epoch_float(*f),
        Value::Text(s) => time::parse_text(s),
        Value::Json(j) => match j.to_value() {
            serde_json::Value::String(s) => time::parse_text(&s),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => time::from_epoch_guess(i),
                None => time::from_epoch_float(n.as_f64().unwrap_or(f64::NAN)),
            },
            _ => Err(TimeError::Malformed("value is not a time")),
        },
        _ => Err(TimeError::Malformed("value is not a time")),
    }
}
