//! `aws_elbv2_load_balancer`: in its VPC, from its security groups.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
use cloudtab_schema::{Tags, Value};
use serde_json::json;

use crate::aws::convert::{text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

/// `tags`: by ARN, from `DescribeTags`.
pub(super) fn row(
    w: &Writer<'_>,
    lb: &LoadBalancer,
    tags: &mut HashMap<String, Tags>,
) -> Option<Row> {
    let arn = lb.load_balancer_arn()?;
    let mut row = w.row("aws_elbv2_load_balancer", arn);
    row.tags = tags.remove(arn).unwrap_or_default();
    row.name = lb.load_balancer_name().map(str::to_string);
    row.arn = Some(arn.to_string());
    row.ctime = time(lb.created_time());
    let zones: Vec<_> = lb
        .availability_zones()
        .iter()
        .map(|z| json!({"ZoneName": z.zone_name(), "SubnetId": z.subnet_id()}))
        .collect();
    row.values = vec![
        ("dns_name", text(lb.dns_name())),
        ("scheme", variant(lb.scheme())),
        ("type", variant(lb.r#type())),
        ("state", variant(lb.state().and_then(|s| s.code()))),
        ("vpc_id", text(lb.vpc_id())),
        ("ip_address_type", variant(lb.ip_address_type())),
        ("availability_zones", Value::json(json!(zones))),
        ("security_groups", Value::json(json!(lb.security_groups()))),
    ];
    row.within(lb.vpc_id().map(|v| w.here("aws_ec2_vpc", v)));
    let groups = lb.security_groups().iter();
    row.from(groups.map(|g| w.here("aws_ec2_security_group", g)));
    Some(row)
}
