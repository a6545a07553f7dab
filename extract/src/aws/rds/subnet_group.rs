//! `aws_rds_subnet_group`: from its VPC and subnets.

use aws_sdk_rds::types::DbSubnetGroup;
use cloudtab_schema::{Tags, Value};
use serde_json::json;

use crate::aws::convert::text;
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, g: &DbSubnetGroup, tags: Tags) -> Option<Row> {
    let name = g.db_subnet_group_name()?;
    let mut row = w.row("aws_rds_subnet_group", name);
    row.name = Some(name.to_string());
    row.arn = g.db_subnet_group_arn().map(str::to_string);
    row.tags = tags;
    let subnets: Vec<_> = g
        .subnets()
        .iter()
        .map(|s| {
            json!({
                "SubnetIdentifier": s.subnet_identifier(),
                "AvailabilityZone": s.subnet_availability_zone().and_then(|z| z.name()),
                "SubnetStatus": s.subnet_status(),
            })
        })
        .collect();
    row.values = vec![
        ("description", text(g.db_subnet_group_description())),
        ("vpc_id", text(g.vpc_id())),
        ("status", text(g.subnet_group_status())),
        ("subnets", Value::json(json!(subnets))),
    ];
    row.from(g.vpc_id().map(|v| w.here("aws_ec2_vpc", v)));
    let subnets = g.subnets().iter().filter_map(|s| s.subnet_identifier());
    row.from(subnets.map(|s| w.here("aws_ec2_subnet", s)));
    Some(row)
}
