//! The rest of EC2 in one region: launch templates, VPC endpoints and VPC
//! peering connections. Every call is a list call carrying tags.

use std::sync::Arc;

use cloudtab_schema::{EdgeType, ResourceRef, Value};
use serde_json::json;

use super::common::{arn, ec2_tags};
use crate::aws::clients::api_failure;
use crate::aws::convert::{boolean, json_text, text, time};
use crate::aws::{Failure, Writer};

pub(super) async fn read(
    c: &aws_sdk_ec2::Client,
    w: &mut Writer<'_>,
    region: &Arc<str>,
    rr: &ResourceRef,
) -> Result<(), Failure> {
    let r = |w: &Writer<'_>, table, id: &str| w.reference(table, region, id);
    pages!(
        "ec2:DescribeLaunchTemplates",
        c.describe_launch_templates()
            .into_paginator()
            .page_size(200)
            .send(),
        |page| {
            for t in page.launch_templates() {
                let Some(id) = t.launch_template_id() else {
                    continue;
                };
                let mut row = w.new_resource("aws_ec2_launch_template", None, id);
                row.tags = ec2_tags(t.tags()).0;
                row.name = t.launch_template_name().map(str::to_string);
                row.arn = Some(arn(w, region, "launch-template", id));
                row.ctime = time(t.create_time());
                row.values = vec![
                    ("created_by", text(t.created_by())),
                    (
                        "default_version_number",
                        t.default_version_number().map_or(Value::Null, Value::Int),
                    ),
                    (
                        "latest_version_number",
                        t.latest_version_number().map_or(Value::Null, Value::Int),
                    ),
                ];
                let tr = w.put(row).await?;
                w.edge(rr, &tr, EdgeType::Default).await?;
            }
        }
    );

    pages!(
        "ec2:DescribeVpcEndpoints",
        c.describe_vpc_endpoints()
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for e in page.vpc_endpoints() {
                let Some(id) = e.vpc_endpoint_id() else {
                    continue;
                };
                let mut row = w.new_resource("aws_ec2_vpc_endpoint", None, id);
                (row.tags, row.name) = ec2_tags(e.tags());
                row.arn = Some(arn(w, region, "vpc-endpoint", id));
                row.ctime = time(e.creation_timestamp());
                let groups: Vec<_> = e.groups().iter().filter_map(|g| g.group_id()).collect();
                row.values = vec![
                    (
                        "vpc_endpoint_type",
                        text(e.vpc_endpoint_type().map(|t| t.as_str())),
                    ),
                    ("vpc_id", text(e.vpc_id())),
                    ("service_name", text(e.service_name())),
                    ("state", text(e.state().map(|s| s.as_str()))),
                    ("policy_document", json_text(e.policy_document())),
                    ("route_table_ids", Value::json(json!(e.route_table_ids()))),
                    ("subnet_ids", Value::json(json!(e.subnet_ids()))),
                    ("security_group_ids", Value::json(json!(groups))),
                    (
                        "network_interface_ids",
                        Value::json(json!(e.network_interface_ids())),
                    ),
                    ("private_dns_enabled", boolean(e.private_dns_enabled())),
                    ("requester_managed", boolean(e.requester_managed())),
                    ("owner_id", text(e.owner_id())),
                ];
                let er = w.put(row).await?;
                w.edge(rr, &er, EdgeType::Default).await?;
                // The endpoint goes before its VPC and subnets.
                if let Some(vpc) = e.vpc_id() {
                    let vr = r(w, "aws_ec2_vpc", vpc);
                    w.contains(&vr, &er).await?;
                }
                for s in e.subnet_ids() {
                    let sr = r(w, "aws_ec2_subnet", s);
                    w.contains(&sr, &er).await?;
                }
                for t in e.route_table_ids() {
                    let tr = r(w, "aws_ec2_route_table", t);
                    w.edge(&tr, &er, EdgeType::Default).await?;
                }
                for g in groups {
                    let gr = r(w, "aws_ec2_security_group", g);
                    w.edge(&gr, &er, EdgeType::Default).await?;
                }
                for n in e.network_interface_ids() {
                    let nr = r(w, "aws_ec2_network_interface", n);
                    w.edge(&er, &nr, EdgeType::Default).await?;
                }
            }
        }
    );

    pages!(
        "ec2:DescribeVpcPeeringConnections",
        c.describe_vpc_peering_connections()
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for p in page.vpc_peering_connections() {
                let Some(id) = p.vpc_peering_connection_id() else {
                    continue;
                };
                let mut row = w.new_resource("aws_ec2_vpc_peering_connection", None, id);
                (row.tags, row.name) = ec2_tags(p.tags());
                row.arn = Some(arn(w, region, "vpc-peering-connection", id));
                let req = p.requester_vpc_info();
                let acc = p.accepter_vpc_info();
                row.values = vec![
                    (
                        "status",
                        text(p.status().and_then(|s| s.code()).map(|c| c.as_str())),
                    ),
                    ("status_message", text(p.status().and_then(|s| s.message()))),
                    ("requester_vpc_id", text(req.and_then(|v| v.vpc_id()))),
                    ("requester_owner_id", text(req.and_then(|v| v.owner_id()))),
                    ("requester_region", text(req.and_then(|v| v.region()))),
                    (
                        "requester_cidr_block",
                        text(req.and_then(|v| v.cidr_block())),
                    ),
                    ("accepter_vpc_id", text(acc.and_then(|v| v.vpc_id()))),
                    ("accepter_owner_id", text(acc.and_then(|v| v.owner_id()))),
                    ("accepter_region", text(acc.and_then(|v| v.region()))),
                    (
                        "accepter_cidr_block",
                        text(acc.and_then(|v| v.cidr_block())),
                    ),
                    ("expiration_time", time(p.expiration_time())),
                ];
                let pr = w.put(row).await?;
                w.edge(rr, &pr, EdgeType::Default).await?;
                // Each side's VPC that this account owns, in its own region:
                // the connection goes before the VPC.
                for side in [req, acc].into_iter().flatten() {
                    let (Some(vpc), Some(owner)) = (side.vpc_id(), side.owner_id()) else {
                        continue;
                    };
                    if owner != w.account_id() {
                        continue;
                    }
                    let vpc_region: Arc<str> = side.region().map_or(region.clone(), Arc::from);
                    let vr = w.reference("aws_ec2_vpc", &vpc_region, vpc);
                    w.contains(&vr, &pr).await?;
                }
            }
        }
    );
    Ok(())
}
