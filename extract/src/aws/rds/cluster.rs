//! `aws_rds_cluster`, from `DescribeDBClusters`: placed as every DB is
//! (`common::placement`).

use aws_sdk_rds::types::DbCluster;
use cloudtab_schema::Value;
use serde_json::json;

use super::common::{placement, rds_tags, roles_json, security_groups};
use crate::aws::convert::{boolean, gib_bytes, int, text, time};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, d: &DbCluster) -> Option<Row> {
    let id = d.db_cluster_identifier()?;
    let mut row = w.row("aws_rds_cluster", id);
    row.name = Some(id.to_string());
    row.arn = d.db_cluster_arn().map(str::to_string);
    row.ctime = time(d.cluster_create_time());
    row.tags = rds_tags(d.tag_list());
    let members: Vec<_> = d
        .db_cluster_members()
        .iter()
        .map(|m| {
            json!({
                "DBInstanceIdentifier": m.db_instance_identifier(),
                "IsClusterWriter": m.is_cluster_writer(),
            })
        })
        .collect();
    let roles = d.associated_roles().iter();
    let roles = roles_json(roles.map(|r| (r.role_arn(), r.feature_name(), r.status())));
    row.values = vec![
        ("resource_id", text(d.db_cluster_resource_id())),
        ("engine", text(d.engine())),
        ("engine_version", text(d.engine_version())),
        ("engine_mode", text(d.engine_mode())),
        ("status", text(d.status())),
        ("allocated_storage_bytes", gib_bytes(d.allocated_storage())),
        ("storage_type", text(d.storage_type())),
        ("storage_encrypted", boolean(d.storage_encrypted())),
        ("kms_key_id", text(d.kms_key_id())),
        ("multi_az", boolean(d.multi_az())),
        ("endpoint", text(d.endpoint())),
        ("reader_endpoint", text(d.reader_endpoint())),
        ("port", int(d.port())),
        ("db_subnet_group_name", text(d.db_subnet_group())),
        (
            "vpc_security_groups",
            security_groups(d.vpc_security_groups()),
        ),
        ("members", Value::json(json!(members))),
        (
            "availability_zones",
            Value::json(json!(d.availability_zones())),
        ),
        (
            "backup_retention_period_days",
            int(d.backup_retention_period()),
        ),
        ("deletion_protection", boolean(d.deletion_protection())),
        ("associated_roles", roles),
        ("master_username", text(d.master_username())),
    ];
    let role_arns = d.associated_roles().iter().filter_map(|r| r.role_arn());
    placement(
        w,
        &mut row,
        d.db_subnet_group(),
        d.vpc_security_groups(),
        role_arns,
    );
    Some(row)
}
