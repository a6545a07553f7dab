//! The ELBv2 scope of one region: load balancers (with their tags, 20 per
//! `DescribeTags`), each one's listeners, and target groups with their
//! registered targets (one `DescribeTargetHealth` per group: no batch
//! form). The per-balancer and per-group calls run `detail_concurrency` at
//! once, answered in list order.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::Listener;
use aws_sdk_elasticloadbalancingv2::Client;
use cloudtab_schema::Tags;
use futures::StreamExt;

use super::{listener, load_balancer, target_group};
use crate::aws::clients::api_failure;
use crate::aws::{Failure, Writer};
use crate::details::in_order;

/// Most records a page of the describe calls may hold.
const PAGE: i32 = 400;

pub(crate) async fn extract(c: &Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let mut all = Vec::new();
    pages!(
        "elasticloadbalancing:DescribeLoadBalancers",
        c.describe_load_balancers()
            .page_size(PAGE)
            .into_paginator()
            .send(),
        |page| {
            all.extend(page.load_balancers().iter().cloned());
        }
    );
    let arns: Vec<&str> = all.iter().filter_map(|l| l.load_balancer_arn()).collect();
    let mut tags = tags_of(c, &arns).await?;
    w.rows(&all, |w, lb| load_balancer::row(w, lb, &mut tags))
        .await?;
    let mut listeners = in_order(&arns, w.concurrency, |lb| listeners_of(c, lb));
    while let Some(answer) = listeners.next().await {
        let (lb, found) = answer?;
        w.rows(&found, |w, l| listener::row(w, lb, l)).await?;
    }
    pages!(
        "elasticloadbalancing:DescribeTargetGroups",
        c.describe_target_groups()
            .page_size(PAGE)
            .into_paginator()
            .send(),
        |page| {
            let map = |w: &Writer<'_>, (g, h)| target_group::row(w, g, &h);
            w.detailed(
                page.target_groups(),
                |g| async move {
                    let Some(arn) = g.target_group_arn() else {
                        return Ok(None);
                    };
                    match c
                        .describe_target_health()
                        .target_group_arn(arn)
                        .send()
                        .await
                    {
                        Ok(health) => Ok(Some((g, health))),
                        Err(e) => Err(api_failure("elasticloadbalancing:DescribeTargetHealth", &e)),
                    }
                },
                map,
            )
            .await?;
        }
    );
    Ok(())
}

/// A load balancer's listeners, all pages.
async fn listeners_of<'a>(c: &Client, lb: &'a str) -> Result<(&'a str, Vec<Listener>), Failure> {
    let mut out = Vec::new();
    pages!(
        "elasticloadbalancing:DescribeListeners",
        c.describe_listeners()
            .load_balancer_arn(lb)
            .page_size(PAGE)
            .into_paginator()
            .send(),
        |page| {
            out.extend(page.listeners().iter().cloned());
        }
    );
    Ok((lb, out))
}

/// Tags of `arns`, 20 per `DescribeTags` call (the API's most).
async fn tags_of(c: &Client, arns: &[&str]) -> Result<HashMap<String, Tags>, Failure> {
    let mut out = HashMap::new();
    for chunk in arns.chunks(20) {
        let chunk = chunk.iter().map(|a| a.to_string()).collect();
        let o = c
            .describe_tags()
            .set_resource_arns(Some(chunk))
            .send()
            .await;
        let o = o.map_err(|e| api_failure("elasticloadbalancing:DescribeTags", &e))?;
        for d in o.tag_descriptions() {
            let Some(arn) = d.resource_arn() else {
                continue;
            };
            let (t, _) = crate::aws::convert::tags(d.tags().iter().map(|t| (t.key(), t.value())));
            out.insert(arn.to_string(), t);
        }
    }
    Ok(out)
}
