//! `aws_ec2_security_group`, from `DescribeSecurityGroups`: in its VPC,
//! with its rules as JSON.

use aws_sdk_ec2::types::{IpPermission, SecurityGroup};
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_tags;
use crate::aws::convert::text;
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, g: &SecurityGroup) -> Option<Row> {
    let id = g.group_id()?;
    let mut row = w.row("aws_ec2_security_group", id);
    (row.tags, row.name) = ec2_tags(g.tags());
    row.name = row
        .name
        .take()
        .or_else(|| g.group_name().map(str::to_string));
    row.arn = g.security_group_arn().map(str::to_string);
    row.values = vec![
        ("vpc_id", text(g.vpc_id())),
        ("description", text(g.description())),
        ("owner_id", text(g.owner_id())),
        ("ip_permissions", permissions(g.ip_permissions())),
        (
            "ip_permissions_egress",
            permissions(g.ip_permissions_egress()),
        ),
    ];
    row.within(g.vpc_id().map(|v| w.here("aws_ec2_vpc", v)));
    Some(row)
}

fn permissions(p: &[IpPermission]) -> Value {
    let rules: Vec<_> = p
        .iter()
        .map(|p| {
            let v4: Vec<_> = p
                .ip_ranges()
                .iter()
                .map(|r| json!({"CidrIp": r.cidr_ip(), "Description": r.description()}))
                .collect();
            let v6: Vec<_> = p
                .ipv6_ranges()
                .iter()
                .map(|r| json!({"CidrIpv6": r.cidr_ipv6(), "Description": r.description()}))
                .collect();
            let groups: Vec<_> = p
                .user_id_group_pairs()
                .iter()
                .map(|g| json!({"GroupId": g.group_id(), "UserId": g.user_id()}))
                .collect();
            let lists: Vec<_> = p
                .prefix_list_ids()
                .iter()
                .map(|l| l.prefix_list_id())
                .collect();
            json!({
                "IpProtocol": p.ip_protocol(),
                "FromPort": p.from_port(),
                "ToPort": p.to_port(),
                "IpRanges": v4,
                "Ipv6Ranges": v6,
                "UserIdGroupPairs": groups,
                "PrefixListIds": lists,
            })
        })
        .collect();
    Value::json(json!(rules))
}
