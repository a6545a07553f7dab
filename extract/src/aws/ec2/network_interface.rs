//! `aws_ec2_network_interface`, from `DescribeNetworkInterfaces`: in its
//! subnet, from the instance it is attached to.

use aws_sdk_ec2::types::NetworkInterface;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::{boolean, text, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, n: &NetworkInterface) -> Option<Row> {
    let id = n.network_interface_id()?;
    let mut row = ec2_row(
        w,
        "aws_ec2_network_interface",
        "network-interface",
        id,
        n.tag_set(),
    );
    row.zone = n.availability_zone().map(str::to_string);
    let groups: Vec<_> = n
        .groups()
        .iter()
        .map(|g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()}))
        .collect();
    let instance = n.attachment().and_then(|a| a.instance_id());
    row.values = vec![
        ("interface_type", variant(n.interface_type())),
        ("status", variant(n.status())),
        ("vpc_id", text(n.vpc_id())),
        ("subnet_id", text(n.subnet_id())),
        ("private_ip_address", text(n.private_ip_address())),
        ("mac_address", text(n.mac_address())),
        ("description", text(n.description())),
        ("requester_managed", boolean(n.requester_managed())),
        ("source_dest_check", boolean(n.source_dest_check())),
        ("attachment_instance_id", text(instance)),
        (
            "public_ip",
            text(n.association().and_then(|a| a.public_ip())),
        ),
        ("groups", Value::json(json!(groups))),
    ];
    row.within(n.subnet_id().map(|s| w.here("aws_ec2_subnet", s)));
    row.from(instance.map(|i| w.here("aws_ec2_instance", i)));
    Some(row)
}
