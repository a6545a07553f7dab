//! `aws_eks_nodegroup`, id `<cluster>/<name>`: in its cluster (a cluster
//! cannot be deleted while it has node groups) and its subnets; to its
//! node role.

use aws_sdk_eks::types::Nodegroup;
use cloudtab_schema::Value;
use serde_json::json;

use crate::aws::convert::{gib_bytes, int, map_tags, role_name, text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, cluster: &str, name: &str, n: &Nodegroup) -> Row {
    let mut row = w.row("aws_eks_nodegroup", format!("{cluster}/{name}"));
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
    // Sorted by key: a map has no order of its own.
    let mut labels: Vec<_> = n.labels().map(|m| m.iter().collect()).unwrap_or_default();
    labels.sort();
    let labels: serde_json::Map<_, _> = labels
        .into_iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    row.values = vec![
        ("cluster_name", Value::Text(cluster.to_string())),
        ("status", variant(n.status())),
        ("version", text(n.version())),
        ("release_version", text(n.release_version())),
        ("capacity_type", variant(n.capacity_type())),
        ("instance_types", Value::json(json!(n.instance_types()))),
        ("ami_type", variant(n.ami_type())),
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
    row.within([w.here("aws_eks_cluster", cluster)]);
    row.to(n
        .node_role()
        .and_then(role_name)
        .map(|r| w.global("aws_iam_role", r)));
    row.within(n.subnets().iter().map(|s| w.here("aws_ec2_subnet", s)));
    row
}
