//! `aws_ec2_volume`, from `DescribeVolumes`: used by the instances it is
//! attached to (from its attachments and from the instances' block device
//! mappings, which some implementations fill and others not).

use std::collections::HashMap;

use aws_sdk_ec2::types::Volume;
use cloudtab_schema::{ResourceRef, Value};
use serde_json::json;

use super::common::ec2_row;
use crate::aws::convert::{boolean, gib_bytes, int, json_time, text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

/// `attached`: volume id → instances, from the instances read before.
pub(super) fn row(
    w: &Writer<'_>,
    v: &Volume,
    attached: &mut HashMap<String, Vec<ResourceRef>>,
) -> Option<Row> {
    let id = v.volume_id()?;
    let mut row = ec2_row(w, "aws_ec2_volume", "volume", id, v.tags());
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
        ("volume_type", variant(v.volume_type())),
        ("size_bytes", gib_bytes(v.size())),
        ("iops", int(v.iops())),
        ("throughput_mibps", int(v.throughput())),
        ("state", variant(v.state())),
        ("encrypted", boolean(v.encrypted())),
        ("kms_key_id", text(v.kms_key_id())),
        ("snapshot_id", text(v.snapshot_id())),
        ("multi_attach_enabled", boolean(v.multi_attach_enabled())),
        ("attachments", Value::json(json!(atts))),
    ];
    // The instance must go (or detach the volume) before the volume.
    row.used_by(attached.remove(id).unwrap_or_default());
    row.used_by(
        v.attachments()
            .iter()
            .filter_map(|a| a.instance_id())
            .map(|i| w.here("aws_ec2_instance", i)),
    );
    Some(row)
}
