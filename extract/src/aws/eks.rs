//! EKS in one region: clusters and their managed node groups.
//!
//! EKS has no batch describe: `ListClusters` then `DescribeCluster` per
//! cluster, `ListNodegroups` per cluster then `DescribeNodegroup` per node
//! group. Tags come with the describe answers.

use std::sync::Arc;

use cloudtab_schema::{EdgeType, Value};
use serde_json::json;

use aws_sdk_eks::types::{Cluster, Nodegroup};
use futures::StreamExt;

use super::clients::{api_failure, error_code};
use super::convert::{gib_bytes, int, map_tags, role_name, text, time};
use super::{Failure, Writer, GLOBAL};
use crate::details::in_order;

/// Most names a page of `ListClusters` / `ListNodegroups` may hold.
const PAGE: i32 = 100;

pub(crate) async fn extract(c: &aws_sdk_eks::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let mut names = Vec::new();
    pages!(
        "eks:ListClusters",
        c.list_clusters().max_results(PAGE).into_paginator().send(),
        |page| {
            names.extend(page.clusters().iter().cloned());
        }
    );
    let mut clusters = in_order(&names, w.concurrency, |name| async move {
        match c.describe_cluster().name(name).send().await {
            Ok(o) => Ok(o.cluster.map(|k| (name, k))),
            // Deleted since it was listed.
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(api_failure("eks:DescribeCluster", &e)),
        }
    });
    while let Some(answer) = clusters.next().await {
        let Some((name, k)) = answer? else { continue };
        cluster(c, w, name, &k).await?;
    }
    Ok(())
}

/// Writes a cluster, then reads and writes its node groups.
async fn cluster(
    c: &aws_sdk_eks::Client,
    w: &mut Writer<'_>,
    name: &str,
    k: &Cluster,
) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let global: Arc<str> = Arc::from(GLOBAL);
    let rr = w.region_ref(&region);
    let vpc = k.resources_vpc_config();
    let mut row = w.new_resource("aws_eks_cluster", None, name);
    row.name = Some(name.to_string());
    row.arn = k.arn().map(str::to_string);
    row.ctime = time(k.created_at());
    row.tags = map_tags(k.tags());
    let logging: Vec<_> = k
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let types: Vec<&str> = s.types().iter().map(|t| t.as_str()).collect();
            json!({"types": types, "enabled": s.enabled()})
        })
        .collect();
    let encryption: Vec<_> = k
        .encryption_config()
        .iter()
        .map(|e| json!({"keyArn": e.provider().and_then(|p| p.key_arn())}))
        .collect();
    row.values = vec![
        ("version", text(k.version())),
        ("platform_version", text(k.platform_version())),
        ("status", text(k.status().map(|s| s.as_str()))),
        ("endpoint", text(k.endpoint())),
        ("role_arn", text(k.role_arn())),
        ("vpc_id", text(vpc.and_then(|v| v.vpc_id()))),
        (
            "subnet_ids",
            Value::json(json!(vpc.map(|v| v.subnet_ids()).unwrap_or_default())),
        ),
        (
            "security_group_ids",
            Value::json(json!(vpc
                .map(|v| v.security_group_ids())
                .unwrap_or_default())),
        ),
        (
            "cluster_security_group_id",
            text(vpc.and_then(|v| v.cluster_security_group_id())),
        ),
        (
            "endpoint_public_access",
            vpc.map_or(Value::Null, |v| Value::Bool(v.endpoint_public_access())),
        ),
        (
            "endpoint_private_access",
            vpc.map_or(Value::Null, |v| Value::Bool(v.endpoint_private_access())),
        ),
        (
            "public_access_cidrs",
            Value::json(json!(vpc
                .map(|v| v.public_access_cidrs())
                .unwrap_or_default())),
        ),
        (
            "oidc_issuer",
            text(k.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer())),
        ),
        ("logging", Value::json(json!(logging))),
        ("encryption_config", Value::json(json!(encryption))),
    ];
    let me = w.put(row).await?;
    w.edge(&rr, &me, EdgeType::Default).await?;
    if let Some(role) = k.role_arn().and_then(role_name) {
        let ro = w.reference("aws_iam_role", &global, role);
        w.edge(&me, &ro, EdgeType::Default).await?;
    }
    if let Some(v) = vpc {
        // The control plane's network interfaces sit in the VPC's subnets:
        // the cluster goes before them.
        if let Some(id) = v.vpc_id() {
            let vr = w.reference("aws_ec2_vpc", &region, id);
            w.contains(&vr, &me).await?;
        }
        for s in v.subnet_ids() {
            let sr = w.reference("aws_ec2_subnet", &region, s.as_str());
            w.contains(&sr, &me).await?;
        }
        let groups = v
            .security_group_ids()
            .iter()
            .map(String::as_str)
            .chain(v.cluster_security_group_id());
        for g in groups {
            let gr = w.reference("aws_ec2_security_group", &region, g);
            w.edge(&gr, &me, EdgeType::Default).await?;
        }
    }
    let mut groups = Vec::new();
    pages!(
        "eks:ListNodegroups",
        c.list_nodegroups()
            .cluster_name(name)
            .max_results(PAGE)
            .into_paginator()
            .send(),
        |page| {
            groups.extend(page.nodegroups().iter().cloned());
        }
    );
    let mut described = in_order(&groups, w.concurrency, |g| async move {
        match c
            .describe_nodegroup()
            .cluster_name(name)
            .nodegroup_name(g)
            .send()
            .await
        {
            Ok(o) => Ok(o.nodegroup.map(|n| (g, n))),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(api_failure("eks:DescribeNodegroup", &e)),
        }
    });
    while let Some(answer) = described.next().await {
        let Some((g, n)) = answer? else { continue };
        nodegroup(w, name, g, &n).await?;
    }
    Ok(())
}

async fn nodegroup(
    w: &mut Writer<'_>,
    cluster: &str,
    name: &str,
    n: &Nodegroup,
) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let global: Arc<str> = Arc::from(GLOBAL);
    let mut row = w.new_resource("aws_eks_nodegroup", None, format!("{cluster}/{name}"));
    row.name = Some(name.to_string());
    row.arn = n.nodegroup_arn().map(str::to_string);
    row.ctime = time(n.created_at());
    row.mtime = time(n.modified_at());
    row.tags = map_tags(n.tags());
    let scaling = n.scaling_config();
    let taints: Vec<_> = n
        .taints()
        .iter()
        .map(|t| json!({"key": t.key(), "value": t.value(), "effect": t.effect().map(|e| e.as_str())}))
        .collect();
    let asgs: Vec<_> = n
        .resources()
        .map(|r| r.auto_scaling_groups())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    let issues: Vec<_> = n
        .health()
        .map(|h| h.issues())
        .unwrap_or_default()
        .iter()
        .map(|i| {
            json!({
                "code": i.code().map(|c| c.as_str()),
                "message": i.message(),
                "resourceIds": i.resource_ids(),
            })
        })
        .collect();
    let labels: serde_json::Map<String, serde_json::Value> = n
        .labels()
        .map(|m| {
            let mut l: Vec<_> = m.iter().collect();
            l.sort();
            l.into_iter().map(|(k, v)| (k.clone(), json!(v))).collect()
        })
        .unwrap_or_default();
    row.values = vec![
        ("cluster_name", Value::Text(cluster.to_string())),
        ("status", text(n.status().map(|s| s.as_str()))),
        ("version", text(n.version())),
        ("release_version", text(n.release_version())),
        ("capacity_type", text(n.capacity_type().map(|s| s.as_str()))),
        ("instance_types", Value::json(json!(n.instance_types()))),
        ("ami_type", text(n.ami_type().map(|s| s.as_str()))),
        ("disk_size_bytes", gib_bytes(n.disk_size())),
        ("min_size", int(scaling.and_then(|s| s.min_size()))),
        ("max_size", int(scaling.and_then(|s| s.max_size()))),
        ("desired_size", int(scaling.and_then(|s| s.desired_size()))),
        ("node_role", text(n.node_role())),
        ("subnets", Value::json(json!(n.subnets()))),
        ("labels", Value::json(serde_json::Value::Object(labels))),
        ("taints", Value::json(json!(taints))),
        ("auto_scaling_groups", Value::json(json!(asgs))),
        ("health_issues", Value::json(json!(issues))),
    ];
    let me = w.put(row).await?;
    let rr = w.region_ref(&region);
    w.edge(&rr, &me, EdgeType::Default).await?;
    // A cluster cannot be deleted while it has node groups.
    let cr = w.reference("aws_eks_cluster", &region, cluster);
    w.contains(&cr, &me).await?;
    if let Some(role) = n.node_role().and_then(role_name) {
        let ro = w.reference("aws_iam_role", &global, role);
        w.edge(&me, &ro, EdgeType::Default).await?;
    }
    for s in n.subnets() {
        let sr = w.reference("aws_ec2_subnet", &region, s.as_str());
        w.contains(&sr, &me).await?;
    }
    Ok(())
}
