//! `aws_ec2_nat_gateway`, from `DescribeNatGateways`: in its subnet.

use aws_sdk_ec2::types::NatGateway;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::{text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, g: &NatGateway) -> Option<Row> {
    let id = g.nat_gateway_id()?;
    let mut row = ec2_row(w, "aws_ec2_nat_gateway", "natgateway", id, g.tags());
    row.ctime = time(g.create_time());
    let addrs: Vec<_> = g
        .nat_gateway_addresses()
        .iter()
        .map(|a| {
            json!({
                "AllocationId": a.allocation_id(),
                "NetworkInterfaceId": a.network_interface_id(),
                "PublicIp": a.public_ip(),
                "PrivateIp": a.private_ip(),
            })
        })
        .collect();
    row.values = vec![
        ("state", variant(g.state())),
        ("vpc_id", text(g.vpc_id())),
        ("subnet_id", text(g.subnet_id())),
        ("connectivity_type", variant(g.connectivity_type())),
        ("addresses", Value::json(json!(addrs))),
    ];
    row.within(g.subnet_id().map(|s| w.here("aws_ec2_subnet", s)));
    Some(row)
}
