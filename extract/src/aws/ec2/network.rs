//! EC2 networking in one region (network interfaces, Elastic IPs, key
//! pairs, internet and NAT gateways, route tables, network ACLs) and the
//! account's own AMIs.

use std::sync::Arc;

use cloudtab_schema::{EdgeType, ResourceRef, Value};
use serde_json::json;

use super::common::{arn, ec2_tags};
use crate::aws::clients::api_failure;
use crate::aws::convert::{boolean, text, time};
use crate::aws::{Failure, Writer};

pub(super) async fn read(
    c: &aws_sdk_ec2::Client,
    w: &mut Writer<'_>,
    region: &Arc<str>,
    rr: &ResourceRef,
) -> Result<(), Failure> {
    let r = |w: &Writer<'_>, table, id: &str| w.reference(table, region, id);
    pages!(
        "ec2:DescribeNetworkInterfaces",
        c.describe_network_interfaces()
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for n in page.network_interfaces() {
                let Some(id) = n.network_interface_id() else {
                    continue;
                };
                let mut row = w.new_resource("aws_ec2_network_interface", None, id);
                (row.tags, row.name) = ec2_tags(n.tag_set());
                row.arn = Some(arn(w, region, "network-interface", id));
                row.zone = n.availability_zone().map(str::to_string);
                let groups: Vec<_> = n
                    .groups()
                    .iter()
                    .map(|g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()}))
                    .collect();
                let instance = n.attachment().and_then(|a| a.instance_id());
                row.values = vec![
                    (
                        "interface_type",
                        text(n.interface_type().map(|t| t.as_str())),
                    ),
                    ("status", text(n.status().map(|t| t.as_str()))),
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
                let nr = w.put(row).await?;
                w.edge(rr, &nr, EdgeType::Default).await?;
                if let Some(subnet) = n.subnet_id() {
                    let sr = r(w, "aws_ec2_subnet", subnet);
                    w.contains(&sr, &nr).await?;
                }
                if let Some(iid) = instance {
                    let ir = r(w, "aws_ec2_instance", iid);
                    w.edge(&ir, &nr, EdgeType::Default).await?;
                }
            }
        }
    );

    // DescribeAddresses is not paginated.
    let addresses = c
        .describe_addresses()
        .send()
        .await
        .map_err(|e| api_failure("ec2:DescribeAddresses", &e))?;
    for a in addresses.addresses() {
        let Some(id) = a.allocation_id().or(a.public_ip()) else {
            continue;
        };
        let mut row = w.new_resource("aws_ec2_elastic_ip", None, id);
        (row.tags, row.name) = ec2_tags(a.tags());
        row.arn = Some(arn(w, region, "elastic-ip", id));
        row.values = vec![
            ("public_ip", text(a.public_ip())),
            ("domain", text(a.domain().map(|d| d.as_str()))),
            ("instance_id", text(a.instance_id())),
            ("network_interface_id", text(a.network_interface_id())),
            ("association_id", text(a.association_id())),
            ("private_ip_address", text(a.private_ip_address())),
        ];
        let er = w.put(row).await?;
        w.edge(rr, &er, EdgeType::Default).await?;
        if let Some(nid) = a.network_interface_id() {
            let nr = r(w, "aws_ec2_network_interface", nid);
            w.edge(&nr, &er, EdgeType::Default).await?;
        } else if let Some(iid) = a.instance_id() {
            let ir = r(w, "aws_ec2_instance", iid);
            w.edge(&ir, &er, EdgeType::Default).await?;
        }
    }

    // DescribeKeyPairs is not paginated.
    let keys = c
        .describe_key_pairs()
        .send()
        .await
        .map_err(|e| api_failure("ec2:DescribeKeyPairs", &e))?;
    for k in keys.key_pairs() {
        let Some(id) = k.key_pair_id().or(k.key_name()) else {
            continue;
        };
        let mut row = w.new_resource("aws_ec2_key_pair", None, id);
        (row.tags, _) = ec2_tags(k.tags());
        row.name = k.key_name().map(str::to_string);
        row.arn = Some(arn(w, region, "key-pair", k.key_name().unwrap_or(id)));
        row.ctime = time(k.create_time());
        row.values = vec![
            ("key_fingerprint", text(k.key_fingerprint())),
            ("key_type", text(k.key_type().map(|t| t.as_str()))),
        ];
        let kr = w.put(row).await?;
        w.edge(rr, &kr, EdgeType::Default).await?;
    }

    pages!(
        "ec2:DescribeInternetGateways",
        c.describe_internet_gateways()
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for g in page.internet_gateways() {
                let Some(id) = g.internet_gateway_id() else {
                    continue;
                };
                let mut row = w.new_resource("aws_ec2_internet_gateway", None, id);
                (row.tags, row.name) = ec2_tags(g.tags());
                row.arn = Some(arn(w, region, "internet-gateway", id));
                let atts: Vec<_> = g
                    .attachments()
                    .iter()
                    .map(|a| json!({"VpcId": a.vpc_id(), "State": a.state().map(|s| s.as_str())}))
                    .collect();
                row.values = vec![
                    ("owner_id", text(g.owner_id())),
                    ("attachments", Value::json(json!(atts))),
                ];
                let gr = w.put(row).await?;
                w.edge(rr, &gr, EdgeType::Default).await?;
                for a in g.attachments() {
                    if let Some(vpc) = a.vpc_id() {
                        let vr = r(w, "aws_ec2_vpc", vpc);
                        w.contains(&vr, &gr).await?;
                    }
                }
            }
        }
    );

    pages!(
        "ec2:DescribeNatGateways",
        c.describe_nat_gateways()
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for g in page.nat_gateways() {
                let Some(id) = g.nat_gateway_id() else {
                    continue;
                };
                let mut row = w.new_resource("aws_ec2_nat_gateway", None, id);
                (row.tags, row.name) = ec2_tags(g.tags());
                row.arn = Some(arn(w, region, "natgateway", id));
                row.ctime = time(g.create_time());
                let addrs: Vec<_> = g
                .nat_gateway_addresses()
                .iter()
                .map(|a| json!({"AllocationId": a.allocation_id(), "NetworkInterfaceId": a.network_interface_id(), "PublicIp": a.public_ip(), "PrivateIp": a.private_ip()}))
                .collect();
                row.values = vec![
                    ("state", text(g.state().map(|s| s.as_str()))),
                    ("vpc_id", text(g.vpc_id())),
                    ("subnet_id", text(g.subnet_id())),
                    (
                        "connectivity_type",
                        text(g.connectivity_type().map(|s| s.as_str())),
                    ),
                    ("addresses", Value::json(json!(addrs))),
                ];
                let gr = w.put(row).await?;
                w.edge(rr, &gr, EdgeType::Default).await?;
                if let Some(subnet) = g.subnet_id() {
                    let sr = r(w, "aws_ec2_subnet", subnet);
                    w.contains(&sr, &gr).await?;
                }
            }
        }
    );

    pages!(
        "ec2:DescribeRouteTables",
        c.describe_route_tables()
            .into_paginator()
            .page_size(100)
            .send(),
        |page| {
            for t in page.route_tables() {
                let Some(id) = t.route_table_id() else {
                    continue;
                };
                let mut row = w.new_resource("aws_ec2_route_table", None, id);
                (row.tags, row.name) = ec2_tags(t.tags());
                row.arn = Some(arn(w, region, "route-table", id));
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
                let tr = w.put(row).await?;
                w.edge(rr, &tr, EdgeType::Default).await?;
                if let Some(vpc) = t.vpc_id() {
                    let vr = r(w, "aws_ec2_vpc", vpc);
                    w.contains(&vr, &tr).await?;
                }
            }
        }
    );

    pages!(
        "ec2:DescribeNetworkAcls",
        c.describe_network_acls()
            .into_paginator()
            .page_size(100)
            .send(),
        |page| {
            for a in page.network_acls() {
                let Some(id) = a.network_acl_id() else {
                    continue;
                };
                let mut row = w.new_resource("aws_ec2_network_acl", None, id);
                (row.tags, row.name) = ec2_tags(a.tags());
                row.arn = Some(arn(w, region, "network-acl", id));
                let entries: Vec<_> = a
                    .entries()
                    .iter()
                    .map(|e| {
                        json!({
                            "RuleNumber": e.rule_number(),
                            "Protocol": e.protocol(),
                            "RuleAction": e.rule_action().map(|r| r.as_str()),
                            "Egress": e.egress(),
                            "CidrBlock": e.cidr_block(),
                        })
                    })
                    .collect();
                let assocs: Vec<_> = a
                .associations()
                .iter()
                .map(|x| json!({"SubnetId": x.subnet_id(), "NetworkAclAssociationId": x.network_acl_association_id()}))
                .collect();
                row.values = vec![
                    ("vpc_id", text(a.vpc_id())),
                    ("is_default", boolean(a.is_default())),
                    ("owner_id", text(a.owner_id())),
                    ("entries", Value::json(json!(entries))),
                    ("associations", Value::json(json!(assocs))),
                ];
                let ar = w.put(row).await?;
                w.edge(rr, &ar, EdgeType::Default).await?;
                if let Some(vpc) = a.vpc_id() {
                    let vr = r(w, "aws_ec2_vpc", vpc);
                    w.contains(&vr, &ar).await?;
                }
            }
        }
    );

    // AMIs the account owns (`Owners=self`; the owner is checked as well).
    let account = w.account_id().to_string();
    pages!(
        "ec2:DescribeImages",
        c.describe_images()
            .owners("self")
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for i in page.images() {
                let Some(id) = i.image_id() else { continue };
                if i.owner_id().is_some_and(|o| o != account) {
                    continue;
                }
                let mut row = w.new_resource("aws_ec2_image", None, id);
                (row.tags, _) = ec2_tags(i.tags());
                row.name = i.name().map(str::to_string);
                row.arn = Some(format!(
                    "arn:{}:ec2:{region}::image/{id}",
                    w.account.partition
                ));
                // The API sends ISO 8601 text; the flattener reads it.
                row.ctime = i
                    .creation_date()
                    .map_or(Value::Null, |d| Value::Text(d.to_string()));
                let bdm: Vec<_> = i
                .block_device_mappings()
                .iter()
                .map(|m| json!({"DeviceName": m.device_name(), "SnapshotId": m.ebs().and_then(|e| e.snapshot_id()), "VolumeSize": m.ebs().and_then(|e| e.volume_size())}))
                .collect();
                row.values = vec![
                    ("image_location", text(i.image_location())),
                    ("state", text(i.state().map(|s| s.as_str()))),
                    ("owner_id", text(i.owner_id())),
                    ("public", boolean(i.public())),
                    ("architecture", text(i.architecture().map(|a| a.as_str()))),
                    ("image_type", text(i.image_type().map(|a| a.as_str()))),
                    ("platform_details", text(i.platform_details())),
                    (
                        "root_device_type",
                        text(i.root_device_type().map(|a| a.as_str())),
                    ),
                    ("description", text(i.description())),
                    ("block_device_mappings", Value::json(json!(bdm))),
                ];
                let ir = w.put(row).await?;
                w.edge(rr, &ir, EdgeType::Default).await?;
                for m in i.block_device_mappings() {
                    if let Some(sid) = m.ebs().and_then(|e| e.snapshot_id()) {
                        // The image uses the snapshot: deregister it first.
                        let sr = w.reference("aws_ec2_snapshot", region, sid);
                        w.edge(&ir, &sr, EdgeType::Default).await?;
                        w.edge(&sr, &ir, EdgeType::Delete).await?;
                    }
                }
            }
        }
    );
    Ok(())
}
