//! JSON as extractors hand it over: already text.
//!
//! Nested API structures and tags reach the tables as JSON text. Extractors
//! serialise them where they read them (on their own tasks, one per scope)
//! instead of handing the flattener trees of small allocations that it would
//! serialise and then free on the one or two threads every row goes
//! through. Both types here can only be made by serialising, so their text
//! is always valid JSON, which the PostgreSQL `jsonb` columns rely on.

use std::fmt;

/// A JSON document as compact text; never the document `null` (that is
/// SQL `NULL`, [`crate::Value::Null`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonText(String);

impl JsonText {
    /// The compact serialisation of `v`; `None` for JSON `null`.
    pub fn new(v: &serde_json::Value) -> Option<JsonText> {
        if v.is_null() {
            return None;
        }
        // Serialising a `serde_json::Value` cannot fail: its map keys are
        // strings and its numbers finite.
        serde_json::to_string(v).ok().map(JsonText)
    }

    /// `s` as a JSON string.
    pub fn string(s: &str) -> JsonText {
        let mut out = Vec::with_capacity(s.len() + 2);
        json_string(s, &mut out);
        JsonText(utf8(out))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The document as a tree again, for the rare value that goes into a
    /// column that is not JSON (a number into an integer column, a string
    /// into a text or timestamp column).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonText({})", self.0)
    }
}

/// A resource's tags as its `tags` column holds them: a JSON object of
/// string → string in the order the API gave them, where a key given twice
/// keeps its last value (at its last place).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Tags(String);

impl Default for Tags {
    fn default() -> Self {
        Tags("{}".to_string())
    }
}

impl Tags {
    /// Tags from key/value pairs in API order.
    pub fn new<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Tags {
        let bytes: usize = pairs
            .iter()
            .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 6)
            .sum();
        let mut out = Vec::with_capacity(bytes + 2);
        out.push(b'{');
        let mut first = true;
        for (i, (k, v)) in pairs.iter().enumerate() {
            let k = k.as_ref();
            if pairs[i + 1..].iter().any(|(k2, _)| k2.as_ref() == k) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            json_string(k, &mut out);
            out.push(b':');
            json_string(v.as_ref(), &mut out);
        }
        out.push(b'}');
        Tags(utf8(out))
    }

    /// The JSON object.
    pub fn as_json(&self) -> &str {
        &self.0
    }

    /// No tags.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 2
    }

    /// The tags as pairs, read back from the JSON (in key order); for tests
    /// and inspection, not for hot paths.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.0).unwrap_or_default();
        map.into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect()
    }

    /// The value of tag `key`, read back from the JSON.
    pub fn get(&self, key: &str) -> Option<String> {
        self.pairs()
            .into_iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Tags {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let pairs: Vec<(K, V)> = iter.into_iter().collect();
        Tags::new(&pairs)
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tags({})", self.0)
    }
}

/// Bytes made only from `&str`s and ASCII are UTF-8; the fallback never
/// runs.
fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Appends `s` as a JSON string. Runs of bytes that need no escape are
/// copied in one go; bytes of multi-byte UTF-8 characters never need one.
fn json_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_null_is_no_document() {
        assert_eq!(JsonText::new(&serde_json::Value::Null), None);
        let j = JsonText::new(&serde_json::json!({"b": [1, "x"], "a": null})).unwrap();
        assert_eq!(j.to_value(), serde_json::json!({"b": [1, "x"], "a": null}));
        assert_eq!(JsonText::string("a\"b").as_str(), r#""a\"b""#);
    }

    #[test]
    fn tags_keep_api_order_and_the_last_value_of_a_key() {
        let t = Tags::new(&[("b", "1"), ("a", "x"), ("b", "2")]);
        assert_eq!(t.as_json(), r#"{"a":"x","b":"2"}"#);
        assert_eq!(t.get("b").as_deref(), Some("2"));
        assert!(Tags::default().is_empty());
        assert!(!t.is_empty());
        assert_eq!(Tags::new::<&str, &str>(&[]).as_json(), "{}");
    }

    proptest::proptest! {
        /// Tags read back as the same object for any text (quotes,
        /// backslashes, control characters, any Unicode), with the last
        /// value of a repeated key; any string reads back as itself.
        #[test]
        fn tags_and_strings_read_back_for_any_text(
            tags in proptest::collection::vec(("\\PC{0,6}|[\"\\\\\\x00-\\x1f\\x7f]{0,3}", "\\PC{0,12}|[\\x00-\\x1f\"\\\\ü€𝄞]{0,6}"), 0..6)
        ) {
            let t = Tags::new(&tags);
            let back: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(t.as_json()).expect("valid JSON");
            let mut want = serde_json::Map::new();
            for (k, v) in &tags {
                want.insert(k.clone(), serde_json::Value::String(v.clone()));
                let s: String = serde_json::from_str(JsonText::string(v).as_str()).expect("valid JSON");
                proptest::prop_assert_eq!(&s, v);
            }
            proptest::prop_assert_eq!(back, want);
        }
    }
}
