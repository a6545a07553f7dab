//! The RDS scope of one region. Snapshots are the account's own (the
//! describe calls' default: manual and automated, not those shared with or
//! made public to it). Instances, clusters and snapshots carry their tags
//! in the describe answers; subnet groups do not, so their tags cost one
//! `ListTagsForResource` call each.

use super::*;
use crate::aws::clients::{api_failure, error_code};
use crate::aws::convert::tags;
use crate::aws::{Failure, Writer};

/// Most records a page of the RDS describe calls may hold.
const PAGE: i32 = 100;

pub(crate) async fn extract(c: &aws_sdk_rds::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    pages!(
        "rds:DescribeDBSubnetGroups",
        c.describe_db_subnet_groups()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        |page| {
            let map = |w: &Writer<'_>, (g, t)| subnet_group::row(w, g, t);
            w.detailed(
                page.db_subnet_groups(),
                |g| async move {
                    let Some(arn) = g.db_subnet_group_arn() else {
                        return Ok(Some((g, Default::default())));
                    };
                    match c.list_tags_for_resource().resource_name(arn).send().await {
                        Ok(o) => Ok(Some((
                            g,
                            tags(o.tag_list().iter().map(|t| (t.key(), t.value()))).0,
                        ))),
                        // Deleted between the two calls.
                        Err(e) if error_code(&e) == Some("DBSubnetGroupNotFoundFault") => Ok(None),
                        Err(e) => Err(api_failure("rds:ListTagsForResource", &e)),
                    }
                },
                map,
            )
            .await?;
        }
    );
    kind!(
        w,
        "rds:DescribeDBClusters",
        c.describe_db_clusters()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        db_clusters,
        cluster::row
    );
    kind!(
        w,
        "rds:DescribeDBInstances",
        c.describe_db_instances()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        db_instances,
        instance::row
    );
    kind!(
        w,
        "rds:DescribeDBSnapshots",
        c.describe_db_snapshots()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        db_snapshots,
        snapshot::row
    );
    kind!(
        w,
        "rds:DescribeDBClusterSnapshots",
        c.describe_db_cluster_snapshots()
            .max_records(PAGE)
            .into_paginator()
            .send(),
        db_cluster_snapshots,
        cluster_snapshot::row
    );
    Ok(())
}
