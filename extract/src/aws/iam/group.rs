//! `aws_iam_group`, from `GetAccountAuthorizationDetails`: to its own
//! managed policies.

use aws_sdk_iam::types::GroupDetail;

use super::details::{attached, own_policies};
use crate::aws::convert::{text, time};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, g: &GroupDetail) -> Option<Row> {
    let name = g.group_name()?;
    let mut row = w.row("aws_iam_group", name);
    row.name = Some(name.to_string());
    row.arn = g.arn().map(str::to_string);
    row.ctime = time(g.create_date());
    row.values = vec![("group_id", text(g.group_id())), ("path", text(g.path()))];
    let policies = attached(g.attached_managed_policies());
    row.to(own_policies(w, &policies).collect::<Vec<_>>());
    Some(row)
}
