//! What RDS kinds share: tags from `TagList`, security group memberships,
//! and where a DB instance or cluster is placed.

use aws_sdk_rds::types::{Tag, VpcSecurityGroupMembership};
use cloudtab_schema::{Tags, Value};
use serde_json::json;

use crate::aws::convert::{role_name, tags};
use crate::aws::Writer;
use crate::writer::Row;

/// Tags as the describe answers carry them.
pub(super) fn rds_tags(t: &[Tag]) -> Tags {
    tags(t.iter().map(|t| (t.key(), t.value()))).0
}

/// Security group memberships as JSON.
pub(super) fn security_groups(groups: &[VpcSecurityGroupMembership]) -> Value {
    let json: Vec<_> = groups
        .iter()
        .map(|g| json!({"VpcSecurityGroupId": g.vpc_security_group_id(), "Status": g.status()}))
        .collect();
    Value::json(json!(json))
}

/// The links every DB instance and cluster has: in its subnet group
/// (which must outlive it), from its security groups, to its IAM roles.
pub(super) fn placement<'a>(
    w: &Writer<'_>,
    row: &mut Row,
    subnet_group: Option<&str>,
    groups: &[VpcSecurityGroupMembership],
    role_arns: impl Iterator<Item = &'a str>,
) {
    row.within(subnet_group.map(|g| w.here("aws_rds_subnet_group", g)));
    let groups = groups.iter().filter_map(|g| g.vpc_security_group_id());
    row.from(groups.map(|g| w.here("aws_ec2_security_group", g)));
    let roles = role_arns.filter_map(role_name);
    row.to(roles.map(|r| w.global("aws_iam_role", r)));
}

/// Associated roles as JSON.
pub(super) fn roles_json<'a>(
    roles: impl Iterator<Item = (Option<&'a str>, Option<&'a str>, Option<&'a str>)>,
) -> Value {
    let roles: Vec<_> = roles
        .map(|(arn, feature, status)| json!({"RoleArn": arn, "FeatureName": feature, "Status": status}))
        .collect();
    Value::json(json!(roles))
}
