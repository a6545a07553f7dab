//! `aws_iam_policy`: the account's own managed policies, from
//! `GetAccountAuthorizationDetails`, with the default version's document.

use aws_sdk_iam::types::ManagedPolicyDetail;
use cloudtab_schema::Value;

use crate::aws::convert::{json_text, text, time};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, p: &ManagedPolicyDetail) -> Option<Row> {
    // Some implementations leave out the name; the ARN ends with it.
    let name = p
        .policy_name()
        .or_else(|| p.arn().and_then(|a| a.rsplit('/').next()))?;
    let mut row = w.row("aws_iam_policy", name);
    row.name = Some(name.to_string());
    row.arn = p.arn().map(str::to_string);
    row.ctime = time(p.create_date());
    row.mtime = time(p.update_date());
    let mut versions = p.policy_version_list().iter();
    let document = versions
        .find(|v| v.is_default_version())
        .and_then(|v| v.document());
    row.values = vec![
        ("policy_id", text(p.policy_id())),
        ("path", text(p.path())),
        ("default_version_id", text(p.default_version_id())),
        (
            "attachment_count",
            p.attachment_count()
                .map_or(Value::Null, |n| Value::Int(n as i64)),
        ),
        ("is_attachable", Value::Bool(p.is_attachable())),
        ("description", text(p.description())),
        ("document", json_text(document)),
    ];
    Some(row)
}
