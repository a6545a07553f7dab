//! `aws_eks_cluster`: to its IAM role; in its VPC and subnets (the control
//! plane's network interfaces sit there, so the cluster goes before them);
//! from its security groups.

use aws_sdk_eks::types::Cluster;
use cloudtab_schema::Value;
use serde_json::json;

use crate::aws::convert::{map_tags, role_name, text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, name: &str, k: &Cluster) -> Row {
    let vpc = k.resources_vpc_config();
    let mut row = w.row("aws_eks_cluster", name);
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
    let list = |f: fn(&aws_sdk_eks::types::VpcConfigResponse) -> &[String]| {
        Value::json(json!(vpc.map(f).unwrap_or_default()))
    };
    let flag = |f: fn(&aws_sdk_eks::types::VpcConfigResponse) -> bool| {
        vpc.map_or(Value::Null, |v| Value::Bool(f(v)))
    };
    row.values = vec![
        ("version", text(k.version())),
        ("platform_version", text(k.platform_version())),
        ("status", variant(k.status())),
        ("endpoint", text(k.endpoint())),
        ("role_arn", text(k.role_arn())),
        ("vpc_id", text(vpc.and_then(|v| v.vpc_id()))),
        ("subnet_ids", list(|v| v.subnet_ids())),
        ("security_group_ids", list(|v| v.security_group_ids())),
        (
            "cluster_security_group_id",
            text(vpc.and_then(|v| v.cluster_security_group_id())),
        ),
        (
            "endpoint_public_access",
            flag(|v| v.endpoint_public_access()),
        ),
        (
            "endpoint_private_access",
            flag(|v| v.endpoint_private_access()),
        ),
        ("public_access_cidrs", list(|v| v.public_access_cidrs())),
        (
            "oidc_issuer",
            text(k.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer())),
        ),
        ("logging", Value::json(json!(logging))),
        ("encryption_config", Value::json(json!(encryption))),
    ];
    row.to(k
        .role_arn()
        .and_then(role_name)
        .map(|r| w.global("aws_iam_role", r)));
    if let Some(v) = vpc {
        row.within(v.vpc_id().map(|id| w.here("aws_ec2_vpc", id)));
        row.within(v.subnet_ids().iter().map(|s| w.here("aws_ec2_subnet", s)));
        let groups = v.security_group_ids().iter().map(String::as_str);
        let groups = groups.chain(v.cluster_security_group_id());
        row.from(groups.map(|g| w.here("aws_ec2_security_group", g)));
    }
    row
}
