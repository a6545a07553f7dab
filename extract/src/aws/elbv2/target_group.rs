//! `aws_elbv2_target_group`: to the instances registered in it (one edge
//! per instance, however many ports: ECS dynamic port mapping registers
//! one instance several times; every port is in `targets`).

use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
use aws_sdk_elasticloadbalancingv2::types::{TargetGroup, TargetTypeEnum};
use cloudtab_schema::Value;
use serde_json::json;

use crate::aws::convert::{int, text, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(
    w: &Writer<'_>,
    g: &TargetGroup,
    health: &DescribeTargetHealthOutput,
) -> Option<Row> {
    let arn = g.target_group_arn()?;
    let targets = health.target_health_descriptions();
    let mut row = w.row("aws_elbv2_target_group", arn);
    row.name = g.target_group_name().map(str::to_string);
    row.arn = Some(arn.to_string());
    let registered: Vec<_> = targets
        .iter()
        .map(|t| {
            json!({
                "Id": t.target().and_then(|x| x.id()),
                "Port": t.target().and_then(|x| x.port()),
                "State": t.target_health().and_then(|h| h.state()).map(|s| s.as_str()),
            })
        })
        .collect();
    let check = json!({
        "Protocol": g.health_check_protocol().map(|p| p.as_str()),
        "Path": g.health_check_path(),
        "Port": g.health_check_port(),
        "IntervalSeconds": g.health_check_interval_seconds(),
    });
    row.values = vec![
        ("protocol", variant(g.protocol())),
        ("port", int(g.port())),
        ("target_type", variant(g.target_type())),
        ("vpc_id", text(g.vpc_id())),
        ("health_check", Value::json(check)),
        (
            "load_balancer_arns",
            Value::json(json!(g.load_balancer_arns())),
        ),
        ("targets", Value::json(json!(registered))),
    ];
    if g.target_type() == Some(&TargetTypeEnum::Instance) {
        let ids = targets
            .iter()
            .filter_map(|t| t.target().and_then(|x| x.id()));
        row.to(ids.map(|i| w.here("aws_ec2_instance", i)));
    }
    Some(row)
}
