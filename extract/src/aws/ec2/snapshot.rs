//! `aws_ec2_snapshot`, from `DescribeSnapshots` with `OwnerIds=self`: from
//! the volume it copies.

use aws_sdk_ec2::types::Snapshot;

use super::common::ec2_row;
use crate::aws::convert::{boolean, gib_bytes, text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, s: &Snapshot) -> Option<Row> {
    let id = s.snapshot_id()?;
    // Some implementations ignore `OwnerIds=self` and return public
    // snapshots too.
    if s.owner_id().is_some_and(|o| o != w.account_id()) {
        return None;
    }
    let mut row = ec2_row(w, "aws_ec2_snapshot", "snapshot", id, s.tags());
    row.ctime = time(s.start_time());
    row.values = vec![
        ("volume_id", text(s.volume_id())),
        ("volume_size_bytes", gib_bytes(s.volume_size())),
        ("state", variant(s.state())),
        ("progress", text(s.progress())),
        ("encrypted", boolean(s.encrypted())),
        ("owner_id", text(s.owner_id())),
        ("description", text(s.description())),
        ("storage_tier", variant(s.storage_tier())),
    ];
    row.from(s.volume_id().map(|v| w.here("aws_ec2_volume", v)));
    Some(row)
}
