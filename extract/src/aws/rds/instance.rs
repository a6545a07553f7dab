//! `aws_rds_instance`, from `DescribeDBInstances`: placed as every DB is
//! (`common::placement`), in its VPC (which cannot be deleted while a DB
//! instance sits in it) and its cluster, from its replica source.

use aws_sdk_rds::types::DbInstance;

use super::common::{placement, rds_tags, roles_json, security_groups};
use crate::aws::convert::{boolean, gib_bytes, int, text, time};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, d: &DbInstance) -> Option<Row> {
    let id = d.db_instance_identifier()?;
    let mut row = w.row("aws_rds_instance", id);
    row.name = Some(id.to_string());
    row.arn = d.db_instance_arn().map(str::to_string);
    row.zone = d.availability_zone().map(str::to_string);
    row.ctime = time(d.instance_create_time());
    row.tags = rds_tags(d.tag_list());
    let group = d.db_subnet_group();
    let group_name = group.and_then(|g| g.db_subnet_group_name());
    let vpc = group.and_then(|g| g.vpc_id());
    let endpoint = d.endpoint();
    let source = d.read_replica_source_db_instance_identifier();
    let roles = d.associated_roles().iter();
    let roles = roles_json(roles.map(|r| (r.role_arn(), r.feature_name(), r.status())));
    row.values = vec![
        ("resource_id", text(d.dbi_resource_id())),
        ("engine", text(d.engine())),
        ("engine_version", text(d.engine_version())),
        ("instance_class", text(d.db_instance_class())),
        ("status", text(d.db_instance_status())),
        ("allocated_storage_bytes", gib_bytes(d.allocated_storage())),
        ("storage_type", text(d.storage_type())),
        ("storage_encrypted", boolean(d.storage_encrypted())),
        ("kms_key_id", text(d.kms_key_id())),
        ("multi_az", boolean(d.multi_az())),
        ("publicly_accessible", boolean(d.publicly_accessible())),
        ("availability_zone", text(d.availability_zone())),
        ("endpoint_address", text(endpoint.and_then(|e| e.address()))),
        ("endpoint_port", int(endpoint.and_then(|e| e.port()))),
        ("db_cluster_identifier", text(d.db_cluster_identifier())),
        ("db_subnet_group_name", text(group_name)),
        ("vpc_id", text(vpc)),
        (
            "vpc_security_groups",
            security_groups(d.vpc_security_groups()),
        ),
        (
            "backup_retention_period_days",
            int(d.backup_retention_period()),
        ),
        ("deletion_protection", boolean(d.deletion_protection())),
        (
            "iam_database_authentication_enabled",
            boolean(d.iam_database_authentication_enabled()),
        ),
        ("read_replica_source", text(source)),
        ("associated_roles", roles),
        ("master_username", text(d.master_username())),
    ];
    let role_arns = d.associated_roles().iter().filter_map(|r| r.role_arn());
    placement(w, &mut row, group_name, d.vpc_security_groups(), role_arns);
    row.within(vpc.map(|v| w.here("aws_ec2_vpc", v)));
    row.within(
        d.db_cluster_identifier()
            .map(|c| w.here("aws_rds_cluster", c)),
    );
    // Cross-region sources are ARNs; same-region ones ids.
    let source = source.filter(|s| !s.starts_with("arn:"));
    row.from(source.map(|s| w.here("aws_rds_instance", s)));
    Some(row)
}
