//! `aws_ec2_instance`, from `DescribeInstances`: in its subnet and security
//! groups, from its instance type and instance profile; it notes the
//! volumes and instance types it uses for the kinds read after it.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_ec2::types::Instance;
use cloudtab_schema::{ResourceRef, Value};
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::{boolean, int, json_time, text, variant};
use crate::aws::{Writer, GLOBAL};
use crate::writer::Row;

/// What the region's instances use.
#[derive(Default)]
pub(super) struct InUse {
    /// Instance types, described afterwards in batches.
    pub types: Vec<String>,
    /// Volume id → the instances it is attached to (the volume's rows get
    /// the edges).
    pub volumes: HashMap<String, Vec<ResourceRef>>,
}

pub(super) fn row(w: &Writer<'_>, i: &Instance, used: &mut InUse) -> Option<Row> {
    let id = i.instance_id()?;
    let mut row = ec2_row(w, "aws_ec2_instance", "instance", id, i.tags());
    row.zone = i
        .placement()
        .and_then(|p| p.availability_zone())
        .map(str::to_string);
    row.ctime = crate::aws::convert::time(i.launch_time());
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
    let cpu = i.cpu_options();
    row.values = vec![
        ("instance_type", variant(i.instance_type())),
        ("state", variant(i.state().and_then(|s| s.name()))),
        ("vpc_id", text(i.vpc_id())),
        ("subnet_id", text(i.subnet_id())),
        ("image_id", text(i.image_id())),
        ("private_ip_address", text(i.private_ip_address())),
        ("public_ip_address", text(i.public_ip_address())),
        ("key_name", text(i.key_name())),
        ("platform_details", text(i.platform_details())),
        ("architecture", variant(i.architecture())),
        ("core_count", int(cpu.and_then(|c| c.core_count()))),
        (
            "threads_per_core",
            int(cpu.and_then(|c| c.threads_per_core())),
        ),
        ("ebs_optimized", boolean(i.ebs_optimized())),
        (
            "monitoring_state",
            variant(i.monitoring().and_then(|m| m.state())),
        ),
        (
            "iam_instance_profile_arn",
            text(i.iam_instance_profile().and_then(|p| p.arn())),
        ),
        ("security_groups", Value::json(json!(sgs))),
        ("block_device_mappings", Value::json(json!(bdm))),
    ];
    let here = |table, id: &str| w.here(table, id);
    row.within(i.subnet_id().map(|s| here("aws_ec2_subnet", s)));
    row.within(
        i.security_groups()
            .iter()
            .filter_map(|g| g.group_id())
            .map(|g| here("aws_ec2_security_group", g)),
    );
    if let Some(t) = i.instance_type() {
        row.from([here("aws_ec2_instance_type", t.as_str())]);
        if !used.types.iter().any(|x| x == t.as_str()) {
            used.types.push(t.as_str().to_string());
        }
    }
    // Role → instance profile → instance: the profile is a global IAM
    // resource, named by the last part of its ARN.
    let profile = i.iam_instance_profile().and_then(|p| p.arn());
    if let Some(profile) = profile.and_then(|a| a.rsplit('/').next()) {
        let global: Arc<str> = Arc::from(GLOBAL);
        row.from([w.reference("aws_iam_instance_profile", &global, profile)]);
    }
    let me = row.reference();
    for m in i.block_device_mappings() {
        if let Some(v) = m.ebs().and_then(|e| e.volume_id()) {
            used.volumes.entry(v.to_string()).or_default().push(me);
        }
    }
    Some(row)
}
