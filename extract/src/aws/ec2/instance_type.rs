//! `aws_ec2_instance_type`: the instance types the region's instances use,
//! with vCPUs, memory and architectures (what an instance costs and what
//! it can run), 100 per `DescribeInstanceTypes` call.

use aws_sdk_ec2::types::{InstanceType, InstanceTypeInfo};
use cloudtab_schema::Value;
use serde_json::json;

use crate::aws::convert::{boolean, int, mib_bytes, text, variant};
use crate::aws::{Failure, Writer};
use crate::writer::Row;

/// Describes `types` (the instance types in use).
pub(super) async fn read(
    c: &aws_sdk_ec2::Client,
    w: &mut Writer<'_>,
    types: &[String],
) -> Result<(), Failure> {
    for batch in types.chunks(100) {
        let wanted = batch.iter().map(|t| InstanceType::from(t.as_str()));
        let req = c
            .describe_instance_types()
            .set_instance_types(Some(wanted.collect()));
        kind!(
            w,
            "ec2:DescribeInstanceTypes",
            req.into_paginator().send(),
            instance_types,
            row
        );
    }
    Ok(())
}

fn row(w: &Writer<'_>, t: &InstanceTypeInfo) -> Option<Row> {
    let name = t.instance_type()?.as_str();
    let mut row = w.row("aws_ec2_instance_type", name);
    row.name = Some(name.to_string());
    let archs: Vec<&str> = t
        .processor_info()
        .map(|p| {
            p.supported_architectures()
                .iter()
                .map(|a| a.as_str())
                .collect()
        })
        .unwrap_or_default();
    row.values = vec![
        (
            "vcpus",
            int(t.v_cpu_info().and_then(|v| v.default_v_cpus())),
        ),
        (
            "memory_bytes",
            mib_bytes(t.memory_info().and_then(|m| m.size_in_mib())),
        ),
        ("current_generation", boolean(t.current_generation())),
        ("architectures", Value::json(json!(archs))),
        ("hypervisor", variant(t.hypervisor())),
        (
            "network_performance",
            text(t.network_info().and_then(|n| n.network_performance())),
        ),
    ];
    Some(row)
}
