use std::sync::Arc;

use crate::id::Uid;
use crate::json::{JsonText, Tags};

/// A value as an extractor read it, before the flattener types it.
///
/// Extractors hand over what the API returned without converting it; the
/// flattener coerces each value to its column's [`crate::ColumnType`] and
/// records an `_issues` row for anything it cannot convert.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// No value; becomes SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer. In a timestamp column it is read as epoch seconds,
    /// milliseconds, microseconds or nanoseconds by its magnitude (see the
    /// flattener's `time` module).
    Int(i64),
    /// A float. In a timestamp column it is read as epoch seconds.
    Float(f64),
    /// Text. In a timestamp column it is parsed as ISO 8601 / RFC 3339 or
    /// as an epoch number; in a JSON column it becomes a JSON string.
    Text(String),
    /// A JSON document, already serialised (see [`Value::json`]).
    Json(JsonText),
    /// Epoch seconds, where the API documents them as such (SQS).
    EpochSeconds(i64),
    /// Epoch milliseconds, where the API documents them as such (Lambda,
    /// DynamoDB).
    EpochMillis(i64),
    /// An exact instant from an SDK date-time: seconds since the epoch and
    /// nanoseconds within the second.
    Timestamp {
        /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
        secs: i64,
        /// Nanoseconds within the second, `0..1_000_000_000`.
        nanos: u32,
    },
}

impl Value {
    /// `Text` for `Some`, `Null` for `None`.
    pub fn text_opt(v: Option<impl Into<String>>) -> Value {
        v.map_or(Value::Null, |s| Value::Text(s.into()))
    }

    /// `Int` for `Some`, `Null` for `None`.
    pub fn int_opt(v: Option<i64>) -> Value {
        v.map_or(Value::Null, Value::Int)
    }

    /// A JSON document, serialised now; JSON `null` becomes `Null` (SQL
    /// `NULL`).
    pub fn json(v: serde_json::Value) -> Value {
        JsonText::new(&v).map_or(Value::Null, Value::Json)
    }

    /// `Bool` for `Some`, `Null` for `None`.
    pub fn bool_opt(v: Option<bool>) -> Value {
        v.map_or(Value::Null, Value::Bool)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

/// The kind of an edge between two resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeType {
    /// "Depends on / contains": vpc → subnet → instance → volume.
    Default,
    /// "Must be deleted before": an edge `a → b` says `b` must be deleted
    /// before `a` can be; everything reachable from `a` over `delete` edges
    /// is the blast radius of deleting `a`.
    Delete,
}

impl EdgeType {
    /// The value stored in `_edges.edge_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeType::Default => "default",
            EdgeType::Delete => "delete",
        }
    }
}

/// A resource as the end of an edge: its kind and its `_id`. The `_id` is
/// computed once when the reference is made (on the extractor's task),
/// however many edges then name it. A reference holds no heap memory, so
/// the edges that carry them by the million are moved and dropped for free;
/// an extractor that needs the native id again keeps it itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceRef {
    table: &'static str,
    cloud: &'static str,
    uid: Uid,
}

impl ResourceRef {
    /// A reference to the resource of kind `table` with native id `id`.
    pub fn new(
        table: &'static str,
        cloud: &'static str,
        account_id: &str,
        region: &str,
        id: impl AsRef<str>,
    ) -> Self {
        let uid = Uid::new(cloud, account_id, region, table, id.as_ref());
        ResourceRef { table, cloud, uid }
    }

    /// Table (kind) of the resource, e.g. `aws_ec2_volume`.
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// Cloud, e.g. `aws`.
    pub fn cloud(&self) -> &'static str {
        self.cloud
    }

    /// The resource's `_id` (see [`crate::resource_uid`]).
    pub fn uid(&self) -> &str {
        self.uid.as_str()
    }
}

/// A resource as it travels to the flattener: boxed, with its `_id`
/// computed once from its final fields when it was sent (see
/// [`Item::resource`]). It can only be read from then on, so the `_id`
/// cannot go stale; it dereferences to the [`Resource`].
#[derive(Debug, Clone, PartialEq)]
pub struct SentResource {
    resource: Box<Resource>,
    uid: Uid,
}

impl SentResource {
    /// The resource's `_id`.
    pub fn uid(&self) -> &str {
        self.uid.as_str()
    }

    /// The reference edges use to point at this resource.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef {
            table: self.resource.table,
            cloud: self.resource.cloud,
            uid: self.uid,
        }
    }
}

impl std::ops::Deref for SentResource {
    type Target = Resource;

    fn deref(&self) -> &Resource {
        &self.resource
    }
}

/// One resource read from a cloud API.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Table (kind) the resource belongs to.
    pub table: &'static str,
    /// Cloud, e.g. `aws`.
    pub cloud: &'static str,
    /// Account id.
    pub account_id: Arc<str>,
    /// Account name (alias), where there is one.
    pub account_name: Option<Arc<str>>,
    /// Region, or `global`.
    pub region: Arc<str>,
    /// Availability zone, for zonal resources.
    pub zone: Option<String>,
    /// Native id.
    pub id: String,
    /// Name, where there is one.
    pub name: Option<String>,
    /// ARN, where there is one.
    pub arn: Option<String>,
    /// Creation time, in whatever shape the API returned it.
    pub ctime: Value,
    /// Modification time.
    pub mtime: Value,
    /// Last use / access time.
    pub atime: Value,
    /// Tags, in API order.
    pub tags: Tags,
    /// The kind's own columns by name; columns left out are `NULL`.
    pub values: Vec<(&'static str, Value)>,
}

impl Resource {
    /// The reference other resources use to point at this one. (Sending
    /// the resource with [`Item::resource`] returns it too, without
    /// hashing the `_id` again.)
    pub fn reference(&self) -> ResourceRef {
        ResourceRef::new(
            self.table,
            self.cloud,
            &self.account_id,
            &self.region,
            &self.id,
        )
    }
}

/// A directed relationship between two resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// Start of the edge.
    pub from: ResourceRef,
    /// End of the edge.
    pub to: ResourceRef,
    /// Kind of relationship.
    pub edge_type: EdgeType,
}

/// What extractors send to the flattener.
#[derive(Debug, Clone, PartialEq)]
// Edges outnumber resources about three to one and travel unboxed, saving
// an allocation each; resources are boxed.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    /// A resource (made by [`Item::resource`]).
    Resource(SentResource),
    /// An edge.
    Edge(Edge),
    /// Something an extractor noticed in what it read and did not send as
    /// it came (a duplicate edge), for `_issues`.
    Issue(Box<Issue>),
}

/// A row of `_issues` an extractor makes itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Table concerned.
    pub table: &'static str,
    /// Column concerned.
    pub column: &'static str,
    /// `_id` of the row concerned, where there is one.
    pub resource_id: Option<String>,
    /// What the API sent.
    pub raw_value: String,
    /// What was done about it.
    pub reason: String,
}

impl Edge {
    /// A 64-bit key of `(from_id, to_id, edge_type)`, for telling repeated
    /// edges apart cheaply. The `_id`s are hashes already, so their first
    /// 16 hex digits are mixed rather than hashed again; a clash of two
    /// different edges is about as likely as two random 64-bit numbers
    /// being equal.
    pub fn key(&self) -> u64 {
        fn half(uid: &str, at: usize) -> u64 {
            let b = uid.as_bytes();
            let mut w = [0u8; 8];
            if let Some(s) = b.get(at..at + 8) {
                w.copy_from_slice(s);
            }
            u64::from_le_bytes(w)
        }
        let (f, t) = (self.from.uid(), self.to.uid());
        let mut k = 0x9e37_79b9_7f4a_7c15u64 ^ self.edge_type as u64;
        for v in [half(f, 0), half(f, 8), half(t, 0), half(t, 8)] {
            k = (k ^ v).wrapping_mul(0xbf58_476d_1ce4_e5b9).rotate_left(29);
        }
        k ^ (k >> 31)
    }
}

impl Item {
    /// A resource ready to send, and the reference edges use to point at
    /// it: its `_id` is hashed once, here, for both (the flattener writes
    /// it as it is).
    pub fn resource(r: Resource) -> (Item, ResourceRef) {
        let reference = r.reference();
        let sent = SentResource {
            resource: Box::new(r),
            uid: reference.uid,
        };
        (Item::Resource(sent), reference)
    }
}
