//! `aws_iam_access_key`: part of its user; metadata and last use, never a
//! secret (the list call does not return one).

use aws_sdk_iam::types::{AccessKeyLastUsed, AccessKeyMetadata};
use cloudtab_schema::{ResourceRef, Value};

use crate::aws::convert::{text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

/// A key of `user` (whose reference is `ur`), last used as `last` says.
pub(super) fn row(
    w: &Writer<'_>,
    user: &str,
    ur: ResourceRef,
    (k, last): &(AccessKeyMetadata, Option<AccessKeyLastUsed>),
) -> Option<Row> {
    let id = k.access_key_id()?;
    let last = last.as_ref();
    let mut row = w.row("aws_iam_access_key", id);
    row.ctime = time(k.create_date());
    row.atime = time(last.and_then(|l| l.last_used_date()));
    row.values = vec![
        ("user_name", Value::Text(user.to_string())),
        ("status", variant(k.status())),
        ("last_used_service", text(last.map(|l| l.service_name()))),
        ("last_used_region", text(last.map(|l| l.region()))),
    ];
    row.part_of(ur);
    Some(row)
}
