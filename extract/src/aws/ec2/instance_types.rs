//! The instance types the region's instances use, with vCPUs, memory and
//! architectures: what an instance costs and what it can run.

use cloudtab_schema::{EdgeType, ResourceRef, Value};
use serde_json::json;

use crate::aws::clients::api_failure;
use crate::aws::convert::{boolean, int, mib_bytes, text};
use crate::aws::{Failure, Writer};

/// The instance types in use, 100 per `DescribeInstanceTypes` call.
pub(super) async fn read(
    c: &aws_sdk_ec2::Client,
    w: &mut Writer<'_>,
    rr: &ResourceRef,
    types: &[String],
) -> Result<(), Failure> {
    for batch in types.chunks(100) {
        let mut req = c.describe_instance_types();
        for t in batch {
            req = req.instance_types(aws_sdk_ec2::types::InstanceType::from(t.as_str()));
        }
        pages!(
            "ec2:DescribeInstanceTypes",
            req.into_paginator().send(),
            |page| {
                for t in page.instance_types() {
                    let Some(name) = t.instance_type() else {
                        continue;
                    };
                    let mut row = w.new_resource("aws_ec2_instance_type", None, name.as_str());
                    row.name = Some(name.as_str().to_string());
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
                        ("hypervisor", text(t.hypervisor().map(|h| h.as_str()))),
                        (
                            "network_performance",
                            text(t.network_info().and_then(|n| n.network_performance())),
                        ),
                    ];
                    let tr = w.put(row).await?;
                    w.edge(rr, &tr, EdgeType::Default).await?;
                }
            }
        );
    }
    Ok(())
}
