//! RDS in one region: DB subnet groups, clusters and instances (the RDS
//! API also answers for Neptune and DocumentDB; their instances land here
//! too, told apart by `engine`).
//!
//! Snapshots are the account's own (the describe calls' default: manual
//! and automated, not those shared with or made public to it).
//!
//! Instances, clusters and snapshots carry their tags (`TagList`) in the describe
//! answers; subnet groups do not, so their tags cost one
//! `ListTagsForResource` call each.

use std::sync::Arc;

use cloudtab_schema::{EdgeType, ResourceRef, Value};
use serde_json::json;

use futures::StreamExt;

use super::clients::{api_failure, error_code};
use super::convert::{boolean, gib_bytes, int, role_name, tags, text, time};
use super::{Failure, Writer, GLOBAL};
use crate::details::in_order;

/// Most records a page of the RDS describe calls may hold.
const PAGE: i32 = 100;

/// Security group memberships as JSON, and their ids.
fn security_groups(
    groups: &[aws_sdk_rds::types::VpcSecurityGroupMembership],
) -> (Value, Vec<String>) {
    let json: Vec<_> = groups
        .iter()
        .map(|g| json!({"VpcSecurityGroupId": g.vpc_security_group_id(), "Status": g.status()}))
        .collect();
    let ids = groups
        .iter()
        .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
        .collect();
    (Value::json(json!(json)), ids)
}

pub(crate) async fn extract(c: &aws_sdk_rds::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    subnet_groups(c, w).await?;
    clusters(c, w).await?;
    instances(c, w).await?;
    snapshots(c, w).await?;
    cluster_snapshots(c, w).await
}

async fn subnet_groups(c: &aws_sdk_rds::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let rr = w.region_ref(&region);
    pages!(
        "rds:DescribeDBSubnetGroups",
        c.describe_db_subnet_groups()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        |page| {
            // Tags: one call per group (the describe answer has none).
            let mut groups = in_order(page.db_subnet_groups(), w.concurrency, |g| async move {
                let Some(arn) = g.db_subnet_group_arn() else {
                    return Ok(Some((g, Default::default())));
                };
                match c.list_tags_for_resource().resource_name(arn).send().await {
                    Ok(o) => Ok(Some((
                        g,
                        tags(o.tag_list().iter().map(|t| (t.key(), t.value()))).0,
                    ))),
                    // Deleted between the two calls.
                    Err(e) if error_code(&e) == Some("DBSubnetGroupNotFoundFault") => Ok(None),
                    Err(e) => Err(api_failure("rds:ListTagsForResource", &e)),
                }
            });
            while let Some(answer) = groups.next().await {
                let Some((g, group_tags)) = answer? else {
                    continue;
                };
                let Some(name) = g.db_subnet_group_name() else {
                    continue;
                };
                let mut row = w.new_resource("aws_rds_subnet_group", None, name);
                row.name = Some(name.to_string());
                row.arn = g.db_subnet_group_arn().map(str::to_string);
                row.tags = group_tags;
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
                let gr = w.put(row).await?;
                w.edge(&rr, &gr, EdgeType::Default).await?;
                if let Some(vpc) = g.vpc_id() {
                    let vr = w.reference("aws_ec2_vpc", &region, vpc);
                    w.edge(&vr, &gr, EdgeType::Default).await?;
                }
                for s in g.subnets().iter().filter_map(|s| s.subnet_identifier()) {
                    let sr = w.reference("aws_ec2_subnet", &region, s);
                    w.edge(&sr, &gr, EdgeType::Default).await?;
                }
            }
        }
    );
    Ok(())
}

/// Edges every DB instance and cluster has: region, subnet group (which
/// must outlive it), security groups and IAM roles.
async fn placement_edges(
    w: &mut Writer<'_>,
    me: &ResourceRef,
    subnet_group: Option<&str>,
    security_groups: &[String],
    role_arns: impl Iterator<Item = &str>,
) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let global: Arc<str> = Arc::from(GLOBAL);
    let rr = w.region_ref(&region);
    w.edge(&rr, me, EdgeType::Default).await?;
    if let Some(g) = subnet_group {
        let gr = w.reference("aws_rds_subnet_group", &region, g);
        w.contains(&gr, me).await?;
    }
    for g in security_groups {
        let gr = w.reference("aws_ec2_security_group", &region, g.as_str());
        w.edge(&gr, me, EdgeType::Default).await?;
    }
    for name in role_arns.filter_map(role_name) {
        let ro = w.reference("aws_iam_role", &global, name);
        w.edge(me, &ro, EdgeType::Default).await?;
    }
    Ok(())
}

async fn clusters(c: &aws_sdk_rds::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    pages!(
        "rds:DescribeDBClusters",
        c.describe_db_clusters()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        |page| {
            for d in page.db_clusters() {
                let Some(id) = d.db_cluster_identifier() else {
                    continue;
                };
                let mut row = w.new_resource("aws_rds_cluster", None, id);
                row.name = Some(id.to_string());
                row.arn = d.db_cluster_arn().map(str::to_string);
                row.ctime = time(d.cluster_create_time());
                row.tags = tags(d.tag_list().iter().map(|t| (t.key(), t.value()))).0;
                let (sg_json, sg_ids) = security_groups(d.vpc_security_groups());
                let members: Vec<_> = d
                    .db_cluster_members()
                    .iter()
                    .map(|m| {
                        json!({
                            "DBInstanceIdentifier": m.db_instance_identifier(),
                            "IsClusterWriter": m.is_cluster_writer(),
                        })
                    })
                    .collect();
                let roles: Vec<_> = d
                    .associated_roles()
                    .iter()
                    .map(|r| json!({"RoleArn": r.role_arn(), "FeatureName": r.feature_name(), "Status": r.status()}))
                    .collect();
                row.values = vec![
                    ("resource_id", text(d.db_cluster_resource_id())),
                    ("engine", text(d.engine())),
                    ("engine_version", text(d.engine_version())),
                    ("engine_mode", text(d.engine_mode())),
                    ("status", text(d.status())),
                    ("allocated_storage_bytes", gib_bytes(d.allocated_storage())),
                    ("storage_type", text(d.storage_type())),
                    ("storage_encrypted", boolean(d.storage_encrypted())),
                    ("kms_key_id", text(d.kms_key_id())),
                    ("multi_az", boolean(d.multi_az())),
                    ("endpoint", text(d.endpoint())),
                    ("reader_endpoint", text(d.reader_endpoint())),
                    ("port", int(d.port())),
                    ("db_subnet_group_name", text(d.db_subnet_group())),
                    ("vpc_security_groups", sg_json),
                    ("members", Value::json(json!(members))),
                    (
                        "availability_zones",
                        Value::json(json!(d.availability_zones())),
                    ),
                    (
                        "backup_retention_period_days",
                        int(d.backup_retention_period()),
                    ),
                    ("deletion_protection", boolean(d.deletion_protection())),
                    ("associated_roles", Value::json(json!(roles))),
                    ("master_username", text(d.master_username())),
                ];
                let me = w.put(row).await?;
                placement_edges(
                    w,
                    &me,
                    d.db_subnet_group(),
                    &sg_ids,
                    d.associated_roles().iter().filter_map(|r| r.role_arn()),
                )
                .await?;
            }
        }
    );
    Ok(())
}

async fn instances(c: &aws_sdk_rds::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    pages!(
        "rds:DescribeDBInstances",
        c.describe_db_instances()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        |page| {
            for d in page.db_instances() {
                let Some(id) = d.db_instance_identifier() else {
                    continue;
                };
                let mut row = w.new_resource("aws_rds_instance", None, id);
                row.name = Some(id.to_string());
                row.arn = d.db_instance_arn().map(str::to_string);
                row.zone = d.availability_zone().map(str::to_string);
                row.ctime = time(d.instance_create_time());
                row.tags = tags(d.tag_list().iter().map(|t| (t.key(), t.value()))).0;
                let group = d.db_subnet_group();
                let vpc = group.and_then(|g| g.vpc_id());
                let (sg_json, sg_ids) = security_groups(d.vpc_security_groups());
                let roles: Vec<_> = d
                    .associated_roles()
                    .iter()
                    .map(|r| json!({"RoleArn": r.role_arn(), "FeatureName": r.feature_name(), "Status": r.status()}))
                    .collect();
                let endpoint = d.endpoint();
                row.values = vec![
                    ("resource_id", text(d.dbi_resource_id())),
                    ("engine", text(d.engine())),
                    ("engine_version", text(d.engine_version())),
                    ("instance_class", text(d.db_instance_class())),
                    ("status", text(d.db_instance_status())),
                    ("allocated_storage_bytes", gib_bytes(d.allocated_storage())),
                    ("storage_type", text(d.storage_type())),
                    ("storage_encrypted", boolean(d.storage_encrypted())),
                    ("kms_key_id", text(d.kms_key_id())),
                    ("multi_az", boolean(d.multi_az())),
                    ("publicly_accessible", boolean(d.publicly_accessible())),
                    ("availability_zone", text(d.availability_zone())),
                    ("endpoint_address", text(endpoint.and_then(|e| e.address()))),
                    ("endpoint_port", int(endpoint.and_then(|e| e.port()))),
                    ("db_cluster_identifier", text(d.db_cluster_identifier())),
                    (
                        "db_subnet_group_name",
                        text(group.and_then(|g| g.db_subnet_group_name())),
                    ),
                    ("vpc_id", text(vpc)),
                    ("vpc_security_groups", sg_json),
                    (
                        "backup_retention_period_days",
                        int(d.backup_retention_period()),
                    ),
                    ("deletion_protection", boolean(d.deletion_protection())),
                    (
                        "iam_database_authentication_enabled",
                        boolean(d.iam_database_authentication_enabled()),
                    ),
                    (
                        "read_replica_source",
                        text(d.read_replica_source_db_instance_identifier()),
                    ),
                    ("associated_roles", Value::json(json!(roles))),
                    ("master_username", text(d.master_username())),
                ];
                let me = w.put(row).await?;
                placement_edges(
                    w,
                    &me,
                    group.and_then(|g| g.db_subnet_group_name()),
                    &sg_ids,
                    d.associated_roles().iter().filter_map(|r| r.role_arn()),
                )
                .await?;
                // A VPC cannot be deleted while a DB instance sits in it.
                if let Some(vpc) = vpc {
                    let vr = w.reference("aws_ec2_vpc", &region, vpc);
                    w.contains(&vr, &me).await?;
                }
                if let Some(cluster) = d.db_cluster_identifier() {
                    let cr = w.reference("aws_rds_cluster", &region, cluster);
                    w.contains(&cr, &me).await?;
                }
                if let Some(source) = d.read_replica_source_db_instance_identifier() {
                    // Cross-region sources are ARNs; same-region ones ids.
                    if !source.starts_with("arn:") {
                        let sr = w.reference("aws_rds_instance", &region, source);
                        w.edge(&sr, &me, EdgeType::Default).await?;
                    }
                }
            }
        }
    );
    Ok(())
}

async fn snapshots(c: &aws_sdk_rds::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let rr = w.region_ref(&region);
    pages!(
        "rds:DescribeDBSnapshots",
        c.describe_db_snapshots()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        |page| {
            for d in page.db_snapshots() {
                let Some(id) = d.db_snapshot_identifier() else {
                    continue;
                };
                let mut row = w.new_resource("aws_rds_snapshot", None, id);
                row.name = Some(id.to_string());
                row.arn = d.db_snapshot_arn().map(str::to_string);
                row.zone = d.availability_zone().map(str::to_string);
                row.ctime = time(d.snapshot_create_time());
                row.tags = tags(d.tag_list().iter().map(|t| (t.key(), t.value()))).0;
                row.values = vec![
                    ("db_instance_identifier", text(d.db_instance_identifier())),
                    ("snapshot_type", text(d.snapshot_type())),
                    ("status", text(d.status())),
                    ("engine", text(d.engine())),
                    ("engine_version", text(d.engine_version())),
                    ("allocated_storage_bytes", gib_bytes(d.allocated_storage())),
                    ("encrypted", boolean(d.encrypted())),
                    ("kms_key_id", text(d.kms_key_id())),
                    ("vpc_id", text(d.vpc_id())),
                    ("instance_create_time", time(d.instance_create_time())),
                ];
                let me = w.put(row).await?;
                w.edge(&rr, &me, EdgeType::Default).await?;
                if let Some(db) = d.db_instance_identifier() {
                    let dr = w.reference("aws_rds_instance", &region, db);
                    w.edge(&dr, &me, EdgeType::Default).await?;
                }
            }
        }
    );
    Ok(())
}

async fn cluster_snapshots(c: &aws_sdk_rds::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let rr = w.region_ref(&region);
    pages!(
        "rds:DescribeDBClusterSnapshots",
        c.describe_db_cluster_snapshots()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        |page| {
            for d in page.db_cluster_snapshots() {
                let Some(id) = d.db_cluster_snapshot_identifier() else {
                    continue;
                };
                let mut row = w.new_resource("aws_rds_cluster_snapshot", None, id);
                row.name = Some(id.to_string());
                row.arn = d.db_cluster_snapshot_arn().map(str::to_string);
                row.ctime = time(d.snapshot_create_time());
                row.tags = tags(d.tag_list().iter().map(|t| (t.key(), t.value()))).0;
                row.values = vec![
                    ("db_cluster_identifier", text(d.db_cluster_identifier())),
                    ("snapshot_type", text(d.snapshot_type())),
                    ("status", text(d.status())),
                    ("engine", text(d.engine())),
                    ("engine_version", text(d.engine_version())),
                    ("allocated_storage_bytes", gib_bytes(d.allocated_storage())),
                    ("storage_encrypted", boolean(d.storage_encrypted())),
                    ("kms_key_id", text(d.kms_key_id())),
                    ("vpc_id", text(d.vpc_id())),
                    ("cluster_create_time", time(d.cluster_create_time())),
                ];
                let me = w.put(row).await?;
                w.edge(&rr, &me, EdgeType::Default).await?;
                if let Some(db) = d.db_cluster_identifier() {
                    let cr = w.reference("aws_rds_cluster", &region, db);
                    w.edge(&cr, &me, EdgeType::Default).await?;
                }
            }
        }
    );
    Ok(())
}
