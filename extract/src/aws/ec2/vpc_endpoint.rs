//! `aws_ec2_vpc_endpoint`, from `DescribeVpcEndpoints`: in its VPC and
//! subnets (it goes before them), from its route tables and security
//! groups, to its network interfaces.

use aws_sdk_ec2::types::VpcEndpoint;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::{boolean, json_text, text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, e: &VpcEndpoint) -> Option<Row> {
    let id = e.vpc_endpoint_id()?;
    let mut row = ec2_row(w, "aws_ec2_vpc_endpoint", "vpc-endpoint", id, e.tags());
    row.ctime = time(e.creation_timestamp());
    let groups: Vec<_> = e.groups().iter().filter_map(|g| g.group_id()).collect();
    let interfaces = e.network_interface_ids();
    row.values = vec![
        ("vpc_endpoint_type", variant(e.vpc_endpoint_type())),
        ("vpc_id", text(e.vpc_id())),
        ("service_name", text(e.service_name())),
        ("state", variant(e.state())),
        ("policy_document", json_text(e.policy_document())),
        ("route_table_ids", Value::json(json!(e.route_table_ids()))),
        ("subnet_ids", Value::json(json!(e.subnet_ids()))),
        ("security_group_ids", Value::json(json!(groups))),
        ("network_interface_ids", Value::json(json!(interfaces))),
        ("private_dns_enabled", boolean(e.private_dns_enabled())),
        ("requester_managed", boolean(e.requester_managed())),
        ("owner_id", text(e.owner_id())),
    ];
    let all = |table, ids: &[String]| {
        ids.iter()
            .map(move |i| w.here(table, i))
            .collect::<Vec<_>>()
    };
    row.within(e.vpc_id().map(|v| w.here("aws_ec2_vpc", v)));
    row.within(all("aws_ec2_subnet", e.subnet_ids()));
    row.from(all("aws_ec2_route_table", e.route_table_ids()));
    row.from(groups.iter().map(|g| w.here("aws_ec2_security_group", g)));
    row.to(all("aws_ec2_network_interface", interfaces));
    Some(row)
}
