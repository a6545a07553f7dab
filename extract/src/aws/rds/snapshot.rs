//! `aws_rds_snapshot`, from `DescribeDBSnapshots`: from its DB instance.

use aws_sdk_rds::types::DbSnapshot;

use super::common::rds_tags;
use crate::aws::convert::{boolean, gib_bytes, text, time};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, d: &DbSnapshot) -> Option<Row> {
    let id = d.db_snapshot_identifier()?;
    let mut row = w.row("aws_rds_snapshot", id);
    row.name = Some(id.to_string());
    row.arn = d.db_snapshot_arn().map(str::to_string);
    row.zone = d.availability_zone().map(str::to_string);
    row.ctime = time(d.snapshot_create_time());
    row.tags = rds_tags(d.tag_list());
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
    row.from(
        d.db_instance_identifier()
            .map(|i| w.here("aws_rds_instance", i)),
    );
    Some(row)
}
