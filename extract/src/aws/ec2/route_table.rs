//! `aws_ec2_route_table`, from `DescribeRouteTables`: in its VPC, with its
//! routes and associations as JSON.

use aws_sdk_ec2::types::RouteTable;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::text;
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, t: &RouteTable) -> Option<Row> {
    let id = t.route_table_id()?;
    let mut row = ec2_row(w, "aws_ec2_route_table", "route-table", id, t.tags());
    let routes: Vec<_> = t
        .routes()
        .iter()
        .map(|r| {
            json!({
                "DestinationCidrBlock": r.destination_cidr_block(),
                "GatewayId": r.gateway_id(),
                "NatGatewayId": r.nat_gateway_id(),
                "InstanceId": r.instance_id(),
                "State": r.state().map(|s| s.as_str()),
            })
        })
        .collect();
    let assocs: Vec<_> = t
        .associations()
        .iter()
        .map(|a| json!({"SubnetId": a.subnet_id(), "GatewayId": a.gateway_id(), "Main": a.main()}))
        .collect();
    row.values = vec![
        ("vpc_id", text(t.vpc_id())),
        ("owner_id", text(t.owner_id())),
        ("routes", Value::json(json!(routes))),
        ("associations", Value::json(json!(assocs))),
    ];
    row.within(t.vpc_id().map(|v| w.here("aws_ec2_vpc", v)));
    Some(row)
}
