//! Elastic Load Balancing v2: load balancers, listeners and target groups.

use crate::column::{ColumnDef as C, ColumnType::*};
use crate::table::TableDef;

pub(crate) fn tables() -> Vec<TableDef> {
    vec![
        TableDef::resource(
            "aws_elbv2_load_balancer",
            "elbv2",
            "An Application, Network or Gateway Load Balancer. `id` is its ARN; `ctime` the creation time.",
            &["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags"],
            &[
                C::new("dns_name", Text, "DNS name."),
                C::new("scheme", Text, "`internet-facing` or `internal`."),
                C::new("type", Text, "`application`, `network` or `gateway`."),
                C::new("state", Text, "`active`, `provisioning`, `failed`, ..."),
                C::new("vpc_id", Text, "Id of the VPC."),
                C::new("ip_address_type", Text, "`ipv4` or `dualstack`."),
                C::new("availability_zones", Json, "Zones and subnets."),
                C::new("security_groups", Json, "Security group ids."),
            ],
        ),
        TableDef::resource(
            "aws_elbv2_listener",
            "elbv2",
            "A listener of a load balancer. `id` is its ARN.",
            &["elasticloadbalancing:DescribeListeners"],
            &[
                C::new("load_balancer_arn", Text, "Load balancer it belongs to."),
                C::new("protocol", Text, "`HTTP`, `HTTPS`, `TCP`, ..."),
                C::new("port", Int64, "Port."),
                C::new("default_actions", Json, "Default actions (forward to target groups, redirects, ...)."),
            ],
        ),
        TableDef::resource(
            "aws_elbv2_target_group",
            "elbv2",
            "A target group. `id` is its ARN.",
            &["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"],
            &[
                C::new("protocol", Text, "`HTTP`, `HTTPS`, `TCP`, ..."),
                C::new("port", Int64, "Port."),
                C::new("target_type", Text, "`instance`, `ip`, `lambda` or `alb`."),
                C::new("vpc_id", Text, "Id of the VPC."),
                C::new("health_check", Json, "Health check settings."),
                C::new("load_balancer_arns", Json, "Load balancers that route to it."),
                C::new("targets", Json, "Registered targets with their health."),
            ],
        ),
    ]
}
