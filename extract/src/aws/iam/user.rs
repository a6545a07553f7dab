//! `aws_iam_user`, from `ListUsers` and the authorization details: from
//! its groups, to its own managed policies.

use aws_sdk_iam::types::User;
use cloudtab_schema::Value;
use serde_json::json;

use super::details::{iam_tags, own_policies, Details};
use crate::aws::convert::time;
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, u: &User, d: Details) -> Row {
    let name = u.user_name();
    let mut row = w.row("aws_iam_user", name);
    row.name = Some(name.to_string());
    row.arn = Some(u.arn().to_string());
    row.ctime = time(Some(u.create_date()));
    row.atime = time(u.password_last_used());
    row.tags = if d.tags.is_empty() {
        iam_tags(u.tags())
    } else {
        d.tags
    };
    let boundary = u.permissions_boundary().map_or(Value::Null, |b| {
        Value::json(json!({
            "PermissionsBoundaryType": b.permissions_boundary_type().map(|t| t.as_str()),
            "PermissionsBoundaryArn": b.permissions_boundary_arn(),
        }))
    });
    row.values = vec![
        ("user_id", Value::Text(u.user_id().to_string())),
        ("path", Value::Text(u.path().to_string())),
        ("permissions_boundary", boundary),
    ];
    row.from(d.groups.iter().map(|g| w.global("aws_iam_group", g)));
    row.to(own_policies(w, &d.policies).collect::<Vec<_>>());
    row
}
