//! What every EC2 kind's rows share: tags (with the `Name` tag as the
//! name) and ARNs.

use aws_sdk_ec2::types::Tag;
use cloudtab_schema::Tags;

use crate::aws::convert::tags;
use crate::aws::Writer;
use crate::writer::Row;

/// Tags as a JSON object, and the `Name` tag.
pub(super) fn ec2_tags(t: &[Tag]) -> (Tags, Option<String>) {
    tags(t.iter().map(|t| (t.key(), t.value())))
}

/// A row of an EC2 kind with its tags, the `Name` tag as its name, and its
/// ARN (`arn_kind` as in ARNs: `vpc`, `instance`).
pub(super) fn ec2_row(
    w: &Writer<'_>,
    table: &'static str,
    arn_kind: &str,
    id: &str,
    t: &[Tag],
) -> Row {
    let mut row = w.row(table, id);
    (row.tags, row.name) = ec2_tags(t);
    row.arn = Some(w.arn("ec2", &format!("{arn_kind}/{id}")));
    row
}
