//! `aws_ec2_vpc`, from `DescribeVpcs`.

use aws_sdk_ec2::types::Vpc;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::{boolean, text, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, v: &Vpc) -> Option<Row> {
    let id = v.vpc_id()?;
    let mut row = ec2_row(w, "aws_ec2_vpc", "vpc", id, v.tags());
    let cidrs: Vec<_> = v
        .cidr_block_association_set()
        .iter()
        .map(|a| {
            json!({
                "AssociationId": a.association_id(),
                "CidrBlock": a.cidr_block(),
                "State": a.cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str()),
            })
        })
        .collect();
    row.values = vec![
        ("cidr_block", text(v.cidr_block())),
        ("is_default", boolean(v.is_default())),
        ("state", variant(v.state())),
        ("instance_tenancy", variant(v.instance_tenancy())),
        ("dhcp_options_id", text(v.dhcp_options_id())),
        ("owner_id", text(v.owner_id())),
        ("cidr_block_association_set", Value::json(json!(cidrs))),
    ];
    Some(row)
}
