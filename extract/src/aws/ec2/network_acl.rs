//! `aws_ec2_network_acl`, from `DescribeNetworkAcls`: in its VPC, with its
//! entries and associations as JSON.

use aws_sdk_ec2::types::NetworkAcl;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::{boolean, text};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, a: &NetworkAcl) -> Option<Row> {
    let id = a.network_acl_id()?;
    let mut row = ec2_row(w, "aws_ec2_network_acl", "network-acl", id, a.tags());
    let entries: Vec<_> = a
        .entries()
        .iter()
        .map(|e| {
            json!({
                "RuleNumber": e.rule_number(),
                "Protocol": e.protocol(),
                "RuleAction": e.rule_action().map(|r| r.as_str()),
                "Egress": e.egress(),
                "CidrBlock": e.cidr_block(),
            })
        })
        .collect();
    let assocs: Vec<_> = a
        .associations()
        .iter()
        .map(|x| {
            json!({
                "SubnetId": x.subnet_id(),
                "NetworkAclAssociationId": x.network_acl_association_id(),
            })
        })
        .collect();
    row.values = vec![
        ("vpc_id", text(a.vpc_id())),
        ("is_default", boolean(a.is_default())),
        ("owner_id", text(a.owner_id())),
        ("entries", Value::json(json!(entries))),
        ("associations", Value::json(json!(assocs))),
    ];
    row.within(a.vpc_id().map(|v| w.here("aws_ec2_vpc", v)));
    Some(row)
}
