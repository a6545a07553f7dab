//! Small conversions from SDK values to cloudtab values.

use aws_smithy_types::DateTime;
use cloudtab_schema::{Tags, Value};

/// An SDK date-time as an exact instant; `NULL` when absent.
pub(crate) fn time(t: Option<&DateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::Timestamp {
        secs: t.secs(),
        nanos: t.subsec_nanos(),
    })
}

/// Epoch seconds sent as text: `1700000000` (what AWS documents) or with
/// a decimal fraction (`1700000000.123456`, what some implementations
/// send), read exactly; anything else stays text for the flattener, which
/// records it as an issue if it cannot read it either.
pub(crate) fn epoch_seconds_text(v: &str) -> Value {
    let v = v.trim();
    if let Ok(s) = v.parse::<i64>() {
        return Value::EpochSeconds(s);
    }
    if let Some((whole, frac)) = v.split_once('.') {
        if let Ok(secs) = whole.parse::<i64>() {
            if !frac.is_empty() && frac.len() <= 9 && frac.bytes().all(|b| b.is_ascii_digit()) {
                let nanos: u32 = format!("{frac:0<9}").parse().unwrap_or(0);
                if secs >= 0 {
                    return Value::Timestamp { secs, nanos };
                }
            }
        }
    }
    Value::Text(v.to_string())
}

/// Text, or `NULL`.
pub(crate) fn text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::Text(s.to_string()))
}

/// An SDK enum's value as the API spells it, or `NULL`.
pub(crate) fn variant<E: AsRef<str>>(v: Option<&E>) -> Value {
    v.map_or(Value::Null, |v| Value::Text(v.as_ref().to_string()))
}

/// An integer, or `NULL`.
pub(crate) fn int(v: Option<i32>) -> Value {
    v.map_or(Value::Null, |v| Value::Int(v as i64))
}

/// A size the API gives in GiB, in bytes; `NULL` when absent.
pub(crate) fn gib_bytes(v: Option<i32>) -> Value {
    v.map_or(Value::Null, |g| Value::Int(g as i64 * (1 << 30)))
}

/// A size the API gives in MiB, in bytes; `NULL` when absent.
pub(crate) fn mib_bytes(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |m| Value::Int(m * (1 << 20)))
}

/// A boolean, or `NULL`.
pub(crate) fn boolean(v: Option<bool>) -> Value {
    v.map_or(Value::Null, Value::Bool)
}

/// A JSON document the API returned as text (policies): parsed when it is
/// JSON (URL-decoded first where IAM encodes it), else kept as a string.
pub(crate) fn json_text(s: Option<&str>) -> Value {
    let Some(s) = s else { return Value::Null };
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
        return Value::json(v);
    }
    let decoded = percent_decode(s);
    match serde_json::from_str::<serde_json::Value>(&decoded) {
        Ok(v) => Value::json(v),
        Err(_) => Value::Text(s.to_string()),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""), 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Key/value pairs (absent keys dropped, absent values empty) and the
/// `Name` tag.
pub(crate) fn tags<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> (Tags, Option<String>) {
    let pairs: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?, v.unwrap_or(""))))
        .collect();
    let name = pairs
        .iter()
        .rev()
        .find(|(k, _)| *k == "Name")
        .map(|(_, v)| v.to_string());
    (Tags::new(&pairs), name)
}

/// Tags an API returns as a map, sorted by key (a map has no order of
/// its own).
pub(crate) fn map_tags(m: Option<&std::collections::HashMap<String, String>>) -> Tags {
    let mut t: Vec<(&String, &String)> = m.map(|m| m.iter().collect()).unwrap_or_default();
    t.sort();
    Tags::new(&t)
}

/// The role name an IAM role ARN ends with (`arn:aws:iam::1:role/path/name`
/// → `name`): the id of `aws_iam_role` rows.
pub(crate) fn role_name(arn: &str) -> Option<&str> {
    arn.split_once(":role/")
        .and_then(|(_, rest)| rest.rsplit('/').next())
        .filter(|n| !n.is_empty())
}

/// JSON of an SDK date-time, RFC 3339 in UTC with its fraction.
pub(crate) fn json_time(t: Option<&DateTime>) -> serde_json::Value {
    match t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()) {
        Some(s) => serde_json::Value::String(s),
        None => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_plain_or_url_encoded() {
        let plain = r#"{"Version":"2012-10-17"}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%7D";
        for s in [plain, encoded] {
            assert_eq!(
                json_text(Some(s)),
                Value::json(serde_json::json!({"Version": "2012-10-17"}))
            );
        }
        assert_eq!(json_text(Some("not json")), Value::Text("not json".into()));
        assert_eq!(json_text(None), Value::Null);
    }

    #[test]
    fn sizes_in_bytes() {
        assert_eq!(gib_bytes(Some(20)), Value::Int(20 * 1024 * 1024 * 1024));
        assert_eq!(mib_bytes(Some(128)), Value::Int(128 * 1024 * 1024));
        assert_eq!(gib_bytes(None), Value::Null);
    }

    #[test]
    fn role_names_from_arns() {
        assert_eq!(role_name("arn:aws:iam::1:role/a"), Some("a"));
        assert_eq!(role_name("arn:aws:iam::1:role/path/to/b"), Some("b"));
        assert_eq!(role_name("arn:aws:iam::1:user/a"), None);
        assert_eq!(role_name("arn:aws:iam::1:role/"), None);
    }

    #[test]
    fn epoch_seconds_as_text() {
        assert_eq!(
            epoch_seconds_text("1700000000"),
            Value::EpochSeconds(1_700_000_000)
        );
        assert_eq!(
            epoch_seconds_text("1700000000.190037"),
            Value::Timestamp {
                secs: 1_700_000_000,
                nanos: 190_037_000
            }
        );
        assert_eq!(epoch_seconds_text("soon"), Value::Text("soon".into()));
    }

    #[test]
    fn sdk_times_are_exact() {
        let t = DateTime::from_secs_and_nanos(1_700_000_000, 123_456_789);
        assert_eq!(
            time(Some(&t)),
            Value::Timestamp {
                secs: 1_700_000_000,
                nanos: 123_456_789
            }
        );
    }
}
