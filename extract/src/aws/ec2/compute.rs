//! EC2 compute and its network skeleton: VPCs, subnets, security groups,
//! instances, volumes and the account's own snapshots, each with one
//! paginated describe call at the largest page size, and their edges.

use std::collections::HashMap;
use std::sync::Arc;

use cloudtab_schema::{EdgeType, ResourceRef, Value};
use serde_json::json;

use super::common::{arn, ec2_tags};
use crate::aws::clients::api_failure;
use crate::aws::convert::{boolean, gib_bytes, int, json_time, text, time};
use crate::aws::{Failure, Writer};

/// VPCs, subnets, security groups, instances, volumes, the account's own
/// snapshots, and the instance types in use.
pub(super) async fn read(
    c: &aws_sdk_ec2::Client,
    w: &mut Writer<'_>,
    region: &Arc<str>,
    rr: &ResourceRef,
) -> Result<(), Failure> {
    let r = |w: &Writer<'_>, table, id: &str| w.reference(table, region, id);

    pages!(
        "ec2:DescribeVpcs",
        c.describe_vpcs().into_paginator().page_size(1000).send(),
        |page| {
            for v in page.vpcs() {
                let Some(id) = v.vpc_id() else { continue };
                let mut row = w.new_resource("aws_ec2_vpc", None, id);
                (row.tags, row.name) = ec2_tags(v.tags());
                row.arn = Some(arn(w, &region, "vpc", id));
                let cidrs: Vec<_> = v
                .cidr_block_association_set()
                .iter()
                .map(|a| json!({"AssociationId": a.association_id(), "CidrBlock": a.cidr_block(), "State": a.cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str())}))
                .collect();
                row.values = vec![
                    ("cidr_block", text(v.cidr_block())),
                    ("is_default", boolean(v.is_default())),
                    ("state", text(v.state().map(|s| s.as_str()))),
                    (
                        "instance_tenancy",
                        text(v.instance_tenancy().map(|s| s.as_str())),
                    ),
                    ("dhcp_options_id", text(v.dhcp_options_id())),
                    ("owner_id", text(v.owner_id())),
                    ("cidr_block_association_set", Value::json(json!(cidrs))),
                ];
                let vr = w.put(row).await?;
                w.edge(&rr, &vr, EdgeType::Default).await?;
            }
        }
    );

    pages!(
        "ec2:DescribeSubnets",
        c.describe_subnets().into_paginator().page_size(1000).send(),
        |page| {
            for s in page.subnets() {
                let Some(id) = s.subnet_id() else { continue };
                let mut row = w.new_resource("aws_ec2_subnet", None, id);
                (row.tags, row.name) = ec2_tags(s.tags());
                row.arn = s.subnet_arn().map(str::to_string);
                row.zone = s.availability_zone().map(str::to_string);
                row.values = vec![
                    ("vpc_id", text(s.vpc_id())),
                    ("cidr_block", text(s.cidr_block())),
                    ("availability_zone_id", text(s.availability_zone_id())),
                    (
                        "available_ip_address_count",
                        int(s.available_ip_address_count()),
                    ),
                    ("default_for_az", boolean(s.default_for_az())),
                    (
                        "map_public_ip_on_launch",
                        boolean(s.map_public_ip_on_launch()),
                    ),
                    ("state", text(s.state().map(|s| s.as_str()))),
                ];
                let sr = w.put(row).await?;
                w.edge(&rr, &sr, EdgeType::Default).await?;
                if let Some(vpc) = s.vpc_id() {
                    let vr = r(w, "aws_ec2_vpc", vpc);
                    w.contains(&vr, &sr).await?;
                }
            }
        }
    );

    pages!(
        "ec2:DescribeSecurityGroups",
        c.describe_security_groups()
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for g in page.security_groups() {
                let Some(id) = g.group_id() else { continue };
                let mut row = w.new_resource("aws_ec2_security_group", None, id);
                (row.tags, row.name) = ec2_tags(g.tags());
                row.name = row.name.or_else(|| g.group_name().map(str::to_string));
                row.arn = g.security_group_arn().map(str::to_string);
                row.values = vec![
                    ("vpc_id", text(g.vpc_id())),
                    ("description", text(g.description())),
                    ("owner_id", text(g.owner_id())),
                    (
                        "ip_permissions",
                        Value::json(permissions(g.ip_permissions())),
                    ),
                    (
                        "ip_permissions_egress",
                        Value::json(permissions(g.ip_permissions_egress())),
                    ),
                ];
                let gr = w.put(row).await?;
                w.edge(&rr, &gr, EdgeType::Default).await?;
                if let Some(vpc) = g.vpc_id() {
                    let vr = r(w, "aws_ec2_vpc", vpc);
                    w.contains(&vr, &gr).await?;
                }
            }
        }
    );

    // Instance types in use, described afterwards in batches.
    let mut types: Vec<String> = Vec::new();
    // Volume → instance attachments, for the edges below.
    let mut attached: HashMap<String, Vec<ResourceRef>> = HashMap::new();
    pages!(
        "ec2:DescribeInstances",
        c.describe_instances()
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for reservation in page.reservations() {
                for i in reservation.instances() {
                    let Some(id) = i.instance_id() else { continue };
                    let mut row = w.new_resource("aws_ec2_instance", None, id);
                    (row.tags, row.name) = ec2_tags(i.tags());
                    row.arn = Some(arn(w, &region, "instance", id));
                    row.zone = i
                        .placement()
                        .and_then(|p| p.availability_zone())
                        .map(str::to_string);
                    row.ctime = time(i.launch_time());
                    let sgs: Vec<_> = i
                        .security_groups()
                        .iter()
                        .map(|g| json!({"GroupId": g.group_id(), "GroupName": g.group_name()}))
                        .collect();
                    let bdm: Vec<_> = i
                        .block_device_mappings()
                        .iter()
                        .map(|m| {
                            let ebs = m.ebs();
                            json!({
                                "DeviceName": m.device_name(),
                                "VolumeId": ebs.and_then(|e| e.volume_id()),
                                "Status": ebs.and_then(|e| e.status()).map(|s| s.as_str()),
                                "AttachTime": json_time(ebs.and_then(|e| e.attach_time())),
                                "DeleteOnTermination": ebs.and_then(|e| e.delete_on_termination()),
                            })
                        })
                        .collect();
                    row.values = vec![
                        ("instance_type", text(i.instance_type().map(|t| t.as_str()))),
                        (
                            "state",
                            text(i.state().and_then(|s| s.name()).map(|s| s.as_str())),
                        ),
                        ("vpc_id", text(i.vpc_id())),
                        ("subnet_id", text(i.subnet_id())),
                        ("image_id", text(i.image_id())),
                        ("private_ip_address", text(i.private_ip_address())),
                        ("public_ip_address", text(i.public_ip_address())),
                        ("key_name", text(i.key_name())),
                        ("platform_details", text(i.platform_details())),
                        ("architecture", text(i.architecture().map(|a| a.as_str()))),
                        (
                            "core_count",
                            int(i.cpu_options().and_then(|c| c.core_count())),
                        ),
                        (
                            "threads_per_core",
                            int(i.cpu_options().and_then(|c| c.threads_per_core())),
                        ),
                        ("ebs_optimized", boolean(i.ebs_optimized())),
                        (
                            "monitoring_state",
                            text(i.monitoring().and_then(|m| m.state()).map(|s| s.as_str())),
                        ),
                        (
                            "iam_instance_profile_arn",
                            text(i.iam_instance_profile().and_then(|p| p.arn())),
                        ),
                        ("security_groups", Value::json(json!(sgs))),
                        ("block_device_mappings", Value::json(json!(bdm))),
                    ];
                    let ir = w.put(row).await?;
                    w.edge(&rr, &ir, EdgeType::Default).await?;
                    if let Some(subnet) = i.subnet_id() {
                        let sr = r(w, "aws_ec2_subnet", subnet);
                        w.contains(&sr, &ir).await?;
                    }
                    for g in i.security_groups() {
                        if let Some(gid) = g.group_id() {
                            let gr = r(w, "aws_ec2_security_group", gid);
                            w.contains(&gr, &ir).await?;
                        }
                    }
                    for m in i.block_device_mappings() {
                        if let Some(vid) = m.ebs().and_then(|e| e.volume_id()) {
                            attached.entry(vid.to_string()).or_default().push(ir);
                        }
                    }
                    if let Some(t) = i.instance_type() {
                        let tr = r(w, "aws_ec2_instance_type", t.as_str());
                        w.edge(&tr, &ir, EdgeType::Default).await?;
                        if !types.iter().any(|x| x == t.as_str()) {
                            types.push(t.as_str().to_string());
                        }
                    }
                    // Role → instance profile → instance: the profile is a
                    // global IAM resource, named by the last part of its ARN.
                    if let Some(profile) = i
                        .iam_instance_profile()
                        .and_then(|p| p.arn())
                        .and_then(|a| a.rsplit('/').next())
                    {
                        let global: Arc<str> = Arc::from(crate::writer::GLOBAL);
                        let pr = w.reference("aws_iam_instance_profile", &global, profile);
                        w.edge(&pr, &ir, EdgeType::Default).await?;
                    }
                }
            }
        }
    );

    pages!(
        "ec2:DescribeVolumes",
        c.describe_volumes().into_paginator().page_size(1000).send(),
        |page| {
            for v in page.volumes() {
                let Some(id) = v.volume_id() else { continue };
                let mut row = w.new_resource("aws_ec2_volume", None, id);
                (row.tags, row.name) = ec2_tags(v.tags());
                row.arn = Some(arn(w, &region, "volume", id));
                row.zone = v.availability_zone().map(str::to_string);
                row.ctime = time(v.create_time());
                let atts: Vec<_> = v
                    .attachments()
                    .iter()
                    .map(|a| {
                        json!({
                            "InstanceId": a.instance_id(),
                            "Device": a.device(),
                            "State": a.state().map(|s| s.as_str()),
                            "AttachTime": json_time(a.attach_time()),
                            "DeleteOnTermination": a.delete_on_termination(),
                        })
                    })
                    .collect();
                row.values = vec![
                    ("volume_type", text(v.volume_type().map(|t| t.as_str()))),
                    ("size_bytes", gib_bytes(v.size())),
                    ("iops", int(v.iops())),
                    ("throughput_mibps", int(v.throughput())),
                    ("state", text(v.state().map(|s| s.as_str()))),
                    ("encrypted", boolean(v.encrypted())),
                    ("kms_key_id", text(v.kms_key_id())),
                    ("snapshot_id", text(v.snapshot_id())),
                    ("multi_attach_enabled", boolean(v.multi_attach_enabled())),
                    ("attachments", Value::json(json!(atts))),
                ];
                let vr = w.put(row).await?;
                w.edge(&rr, &vr, EdgeType::Default).await?;
                let mut instances: Vec<ResourceRef> = attached.remove(id).unwrap_or_default();
                for a in v.attachments() {
                    if let Some(iid) = a.instance_id() {
                        let ir = r(w, "aws_ec2_instance", iid);
                        if !instances.contains(&ir) {
                            instances.push(ir);
                        }
                    }
                }
                for ir in &instances {
                    // The instance uses the volume; the instance must go (or
                    // detach it) before the volume can be deleted.
                    w.edge(ir, &vr, EdgeType::Default).await?;
                    w.edge(&vr, ir, EdgeType::Delete).await?;
                }
            }
        }
    );

    // Snapshots this account owns. Some implementations ignore
    // `OwnerIds=self` and return public snapshots too: the owner is
    // checked as well.
    let account = w.account_id().to_string();
    pages!(
        "ec2:DescribeSnapshots",
        c.describe_snapshots()
            .owner_ids("self")
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for s in page.snapshots() {
                let Some(id) = s.snapshot_id() else { continue };
                if s.owner_id().is_some_and(|o| o != account) {
                    continue;
                }
                let mut row = w.new_resource("aws_ec2_snapshot", None, id);
                (row.tags, row.name) = ec2_tags(s.tags());
                row.arn = Some(arn(w, &region, "snapshot", id));
                row.ctime = time(s.start_time());
                row.values = vec![
                    ("volume_id", text(s.volume_id())),
                    ("volume_size_bytes", gib_bytes(s.volume_size())),
                    ("state", text(s.state().map(|s| s.as_str()))),
                    ("progress", text(s.progress())),
                    ("encrypted", boolean(s.encrypted())),
                    ("owner_id", text(s.owner_id())),
                    ("description", text(s.description())),
                    ("storage_tier", text(s.storage_tier().map(|t| t.as_str()))),
                ];
                let sr = w.put(row).await?;
                w.edge(&rr, &sr, EdgeType::Default).await?;
                if let Some(vid) = s.volume_id() {
                    let vr = r(w, "aws_ec2_volume", vid);
                    w.edge(&vr, &sr, EdgeType::Default).await?;
                }
            }
        }
    );
    super::instance_types::read(c, w, rr, &types).await
}

fn permissions(p: &[aws_sdk_ec2::types::IpPermission]) -> serde_json::Value {
    json!(p
        .iter()
        .map(|p| json!({
            "IpProtocol": p.ip_protocol(),
            "FromPort": p.from_port(),
            "ToPort": p.to_port(),
            "IpRanges": p.ip_ranges().iter().map(|r| json!({"CidrIp": r.cidr_ip(), "Description": r.description()})).collect::<Vec<_>>(),
            "Ipv6Ranges": p.ipv6_ranges().iter().map(|r| json!({"CidrIpv6": r.cidr_ipv6(), "Description": r.description()})).collect::<Vec<_>>(),
            "UserIdGroupPairs": p.user_id_group_pairs().iter().map(|g| json!({"GroupId": g.group_id(), "UserId": g.user_id()})).collect::<Vec<_>>(),
            "PrefixListIds": p.prefix_list_ids().iter().map(|l| l.prefix_list_id()).collect::<Vec<_>>(),
        }))
        .collect::<Vec<_>>())
}
