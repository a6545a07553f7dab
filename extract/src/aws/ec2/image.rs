//! `aws_ec2_image`: the AMIs the account owns (`DescribeImages` with
//! `Owners=self`); an image uses its snapshots.

use aws_sdk_ec2::types::Image;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::ec2_tags;
use crate::aws::convert::{boolean, text, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, i: &Image) -> Option<Row> {
    let id = i.image_id()?;
    // The owner is checked as well as asked for.
    if i.owner_id().is_some_and(|o| o != w.account_id()) {
        return None;
    }
    let mut row = w.row("aws_ec2_image", id);
    (row.tags, _) = ec2_tags(i.tags());
    row.name = i.name().map(str::to_string);
    // Images are not owned by an account in their ARN.
    row.arn = Some(format!(
        "arn:{}:ec2:{}::image/{id}",
        w.account.partition,
        w.region()
    ));
    // The API sends ISO 8601 text; the flattener reads it.
    row.ctime = text(i.creation_date());
    let bdm: Vec<_> = i
        .block_device_mappings()
        .iter()
        .map(|m| {
            let ebs = m.ebs();
            json!({
                "DeviceName": m.device_name(),
                "SnapshotId": ebs.and_then(|e| e.snapshot_id()),
                "VolumeSize": ebs.and_then(|e| e.volume_size()),
            })
        })
        .collect();
    row.values = vec![
        ("image_location", text(i.image_location())),
        ("state", variant(i.state())),
        ("owner_id", text(i.owner_id())),
        ("public", boolean(i.public())),
        ("architecture", variant(i.architecture())),
        ("image_type", variant(i.image_type())),
        ("platform_details", text(i.platform_details())),
        ("root_device_type", variant(i.root_device_type())),
        ("description", text(i.description())),
        ("block_device_mappings", Value::json(json!(bdm))),
    ];
    // The image uses the snapshot: deregister it first.
    let snapshots = i.block_device_mappings().iter();
    let snapshots = snapshots.filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()));
    row.uses(snapshots.map(|s| w.here("aws_ec2_snapshot", s)));
    Some(row)
}
