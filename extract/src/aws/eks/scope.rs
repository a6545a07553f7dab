//! The EKS scope of one region. EKS has no batch describe: `ListClusters`
//! then `DescribeCluster` per cluster, `ListNodegroups` per cluster then
//! `DescribeNodegroup` per node group, `detail_concurrency` at once. Tags
//! come with the describe answers.

use std::future::Future;

use aws_sdk_eks::error::SdkError;
use futures::StreamExt;

use super::{cluster, nodegroup};
use crate::aws::clients::{api_failure, error_code};
use crate::aws::{Failure, Writer};
use crate::details::in_order;

/// Most names a page of `ListClusters` / `ListNodegroups` may hold.
const PAGE: i32 = 100;

pub(crate) async fn extract(c: &aws_sdk_eks::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let mut names = Vec::new();
    pages!(
        "eks:ListClusters",
        c.list_clusters().max_results(PAGE).into_paginator().send(),
        |page| {
            names.extend(page.clusters().iter().cloned());
        }
    );
    let mut clusters = in_order(&names, w.concurrency, |name| {
        let call = c.describe_cluster().name(name).send();
        described("eks:DescribeCluster", call, move |o| {
            o.cluster.map(|k| (name, k))
        })
    });
    while let Some(answer) = clusters.next().await {
        let Some((name, k)) = answer? else { continue };
        w.send(cluster::row(w, name, &k)).await?;
        let mut groups = Vec::new();
        pages!(
            "eks:ListNodegroups",
            c.list_nodegroups()
                .cluster_name(name)
                .max_results(PAGE)
                .into_paginator()
                .send(),
            |page| {
                groups.extend(page.nodegroups().iter().cloned());
            }
        );
        let mut nodegroups = in_order(&groups, w.concurrency, |g| {
            let call = c
                .describe_nodegroup()
                .cluster_name(name)
                .nodegroup_name(g)
                .send();
            described("eks:DescribeNodegroup", call, move |o| {
                o.nodegroup.map(|n| (g, n))
            })
        });
        while let Some(answer) = nodegroups.next().await {
            if let Some((g, n)) = answer? {
                w.send(nodegroup::row(w, name, g, &n)).await?;
            }
        }
    }
    Ok(())
}

/// What a describe call's answer holds (`None`: deleted since it was
/// listed).
async fn described<O, E, T>(
    op: &'static str,
    call: impl Future<Output = Result<O, SdkError<E, aws_smithy_runtime_api::http::Response>>>,
    take: impl FnOnce(O) -> Option<T>,
) -> Result<Option<T>, Failure>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    match call.await {
        Ok(o) => Ok(take(o)),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(api_failure(op, &e)),
    }
}
