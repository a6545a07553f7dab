//! `aws_ec2_internet_gateway`, from `DescribeInternetGateways`: in the
//! VPCs it is attached to.

use aws_sdk_ec2::types::InternetGateway;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::text;
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, g: &InternetGateway) -> Option<Row> {
    let id = g.internet_gateway_id()?;
    let mut row = ec2_row(
        w,
        "aws_ec2_internet_gateway",
        "internet-gateway",
        id,
        g.tags(),
    );
    let atts: Vec<_> = g
        .attachments()
        .iter()
        .map(|a| json!({"VpcId": a.vpc_id(), "State": a.state().map(|s| s.as_str())}))
        .collect();
    row.values = vec![
        ("owner_id", text(g.owner_id())),
        ("attachments", Value::json(json!(atts))),
    ];
    let vpcs = g.attachments().iter().filter_map(|a| a.vpc_id());
    row.within(vpcs.map(|v| w.here("aws_ec2_vpc", v)));
    Some(row)
}
