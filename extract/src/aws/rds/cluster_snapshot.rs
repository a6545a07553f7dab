//! `aws_rds_cluster_snapshot`, from `DescribeDBClusterSnapshots`: from its
//! cluster.

use aws_sdk_rds::types::DbClusterSnapshot;

use super::common::rds_tags;
use crate::aws::convert::{boolean, gib_bytes, text, time};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, d: &DbClusterSnapshot) -> Option<Row> {
    let id = d.db_cluster_snapshot_identifier()?;
    let mut row = w.row("aws_rds_cluster_snapshot", id);
    row.name = Some(id.to_string());
    row.arn = d.db_cluster_snapshot_arn().map(str::to_string);
    row.ctime = time(d.snapshot_create_time());
    row.tags = rds_tags(d.tag_list());
    row.values = vec![
        ("db_cluster_identifier", text(d.db_cluster_identifier())),
        ("snapshot_type", text(d.snapshot_type())),
        ("status", text(d.status())),
        ("engine", text(d.engine())),
        ("engine_version", text(d.engine_version())),
        ("allocated_storage_bytes", gib_bytes(d.allocated_storage())),
        ("storage_encrypted", boolean(d.storage_encrypted())),
        ("kms_key_id", text(d.kms_key_id())),
        ("vpc_id", text(d.vpc_id())),
        ("cluster_create_time", time(d.cluster_create_time())),
    ];
    row.from(
        d.db_cluster_identifier()
            .map(|c| w.here("aws_rds_cluster", c)),
    );
    Some(row)
}
