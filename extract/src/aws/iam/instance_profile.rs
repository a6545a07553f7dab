//! `aws_iam_instance_profile`, from `ListInstanceProfiles`: from its roles.

use aws_sdk_iam::types::InstanceProfile;
use cloudtab_schema::Value;
use serde_json::json;

use super::details::iam_tags;
use crate::aws::convert::time;
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, p: &InstanceProfile) -> Option<Row> {
    let name = p.instance_profile_name();
    let mut row = w.row("aws_iam_instance_profile", name);
    row.name = Some(name.to_string());
    row.arn = Some(p.arn().to_string());
    row.ctime = time(Some(p.create_date()));
    row.tags = iam_tags(p.tags());
    let roles: Vec<&str> = p.roles().iter().map(|r| r.role_name()).collect();
    row.values = vec![
        (
            "instance_profile_id",
            Value::Text(p.instance_profile_id().to_string()),
        ),
        ("path", Value::Text(p.path().to_string())),
        ("roles", Value::json(json!(roles))),
    ];
    row.from(roles.iter().map(|r| w.global("aws_iam_role", r)));
    Some(row)
}
