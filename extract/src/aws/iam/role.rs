//! `aws_iam_role`, from `ListRoles` and the authorization details: to its
//! own managed policies.

use aws_sdk_iam::types::Role;
use cloudtab_schema::Value;

use super::details::{iam_tags, own_policies, Details};
use crate::aws::convert::{json_text, text, time};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, r: &Role, d: Details) -> Row {
    let name = r.role_name();
    let mut row = w.row("aws_iam_role", name);
    row.name = Some(name.to_string());
    row.arn = Some(r.arn().to_string());
    row.ctime = time(Some(r.create_date()));
    let listed = r.role_last_used();
    row.atime = time(
        d.last_used
            .as_ref()
            .or_else(|| listed.and_then(|l| l.last_used_date())),
    );
    row.tags = if d.tags.is_empty() {
        iam_tags(r.tags())
    } else {
        d.tags
    };
    let region = d
        .last_used_region
        .or_else(|| listed.and_then(|l| l.region()).map(str::to_string));
    row.values = vec![
        ("role_id", Value::Text(r.role_id().to_string())),
        ("path", Value::Text(r.path().to_string())),
        ("description", text(r.description())),
        (
            "max_session_duration_seconds",
            r.max_session_duration()
                .map_or(Value::Null, |v| Value::Int(v as i64)),
        ),
        (
            "assume_role_policy_document",
            json_text(r.assume_role_policy_document()),
        ),
        ("role_last_used_region", Value::text_opt(region)),
    ];
    row.to(own_policies(w, &d.policies).collect::<Vec<_>>());
    row
}
