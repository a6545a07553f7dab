//! What every EC2 kind's rows share: tags (with the `Name` tag as the
//! name) and ARNs.

use aws_sdk_ec2::types::Tag;
use cloudtab_schema::Tags;

use crate::aws::convert::tags;
use crate::aws::Writer;

/// Tags as a JSON object, and the `Name` tag.
pub(super) fn ec2_tags(t: &[Tag]) -> (Tags, Option<String>) {
    tags(t.iter().map(|t| (t.key(), t.value())))
}

/// The ARN of an EC2 resource of the scope's account: `kind` as in ARNs
/// (`vpc`, `instance`).
pub(super) fn arn(w: &Writer<'_>, region: &str, kind: &str, id: &str) -> String {
    format!(
        "arn:{}:ec2:{region}:{}:{kind}/{id}",
        w.account.partition,
        w.account_id()
    )
}
