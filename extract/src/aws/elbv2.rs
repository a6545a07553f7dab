//! ELBv2 in one region: load balancers, their listeners, target groups
//! and the targets registered in them. Ids are ARNs, as the API's are.

use std::sync::Arc;

use cloudtab_schema::{EdgeType, Tags, Value};
use serde_json::json;

use futures::StreamExt;

use super::clients::api_failure;
use super::convert::{int, text, time};
use super::{Failure, Writer};
use crate::details::in_order;

pub(crate) async fn extract(
    c: &aws_sdk_elasticloadbalancingv2::Client,
    w: &mut Writer<'_>,
) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let rr = w.region_ref(&region);
    let r = |w: &Writer<'_>, table, id: &str| w.reference(table, &region, id);
    let mut all = Vec::new();
    pages!(
        "elasticloadbalancing:DescribeLoadBalancers",
        c.describe_load_balancers()
            .page_size(400)
            .into_paginator()
            .send(),
        |page| {
            all.extend(page.load_balancers().iter().cloned());
        }
    );
    let arns: Vec<String> = all
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_string))
        .collect();
    let mut tags = tags_of(c, &arns).await?;
    let mut lbs: Vec<String> = Vec::new();
    {
        for lb in &all {
            let Some(arn) = lb.load_balancer_arn() else {
                continue;
            };
            let mut row = w.new_resource("aws_elbv2_load_balancer", None, arn);
            row.tags = tags.remove(arn).unwrap_or_default();
            row.name = lb.load_balancer_name().map(str::to_string);
            row.arn = Some(arn.to_string());
            row.ctime = time(lb.created_time());
            let zones: Vec<_> = lb
                .availability_zones()
                .iter()
                .map(|z| json!({"ZoneName": z.zone_name(), "SubnetId": z.subnet_id()}))
                .collect();
            row.values = vec![
                ("dns_name", text(lb.dns_name())),
                ("scheme", text(lb.scheme().map(|s| s.as_str()))),
                ("type", text(lb.r#type().map(|s| s.as_str()))),
                (
                    "state",
                    text(lb.state().and_then(|s| s.code()).map(|s| s.as_str())),
                ),
                ("vpc_id", text(lb.vpc_id())),
                (
                    "ip_address_type",
                    text(lb.ip_address_type().map(|s| s.as_str())),
                ),
                ("availability_zones", Value::json(json!(zones))),
                ("security_groups", Value::json(json!(lb.security_groups()))),
            ];
            let lr = w.put(row).await?;
            w.edge(&rr, &lr, EdgeType::Default).await?;
            if let Some(vpc) = lb.vpc_id() {
                let vr = r(w, "aws_ec2_vpc", vpc);
                w.contains(&vr, &lr).await?;
            }
            for g in lb.security_groups() {
                let gr = r(w, "aws_ec2_security_group", g);
                w.edge(&gr, &lr, EdgeType::Default).await?;
            }
            lbs.push(arn.to_string());
        }
    }
    for lb in &lbs {
        let lr = r(w, "aws_elbv2_load_balancer", lb);
        pages!(
            "elasticloadbalancing:DescribeListeners",
            c.describe_listeners()
                .load_balancer_arn(lb)
                .page_size(400)
                .into_paginator()
                .send(),
            |page| {
                for l in page.listeners() {
                    let Some(arn) = l.listener_arn() else {
                        continue;
                    };
                    let mut row = w.new_resource("aws_elbv2_listener", None, arn);
                    row.arn = Some(arn.to_string());
                    let actions: Vec<_> = l
                    .default_actions()
                    .iter()
                    .map(|a| json!({"Type": a.r#type().map(|t| t.as_str()), "TargetGroupArn": a.target_group_arn()}))
                    .collect();
                    row.values = vec![
                        ("load_balancer_arn", text(l.load_balancer_arn())),
                        ("protocol", text(l.protocol().map(|p| p.as_str()))),
                        ("port", int(l.port())),
                        ("default_actions", Value::json(json!(actions))),
                    ];
                    let li = w.put(row).await?;
                    w.contains(&lr, &li).await?;
                    for a in l.default_actions() {
                        let groups = a
                            .target_group_arn()
                            .into_iter()
                            .map(str::to_string)
                            .chain(
                                a.forward_config()
                                    .map(|f| f.target_groups())
                                    .unwrap_or_default()
                                    .iter()
                                    .filter_map(|t| t.target_group_arn().map(str::to_string)),
                            )
                            .collect::<std::collections::BTreeSet<_>>();
                        for tg in groups {
                            let tr = r(w, "aws_elbv2_target_group", &tg);
                            w.edge(&li, &tr, EdgeType::Default).await?;
                        }
                    }
                }
            }
        );
    }
    pages!(
        "elasticloadbalancing:DescribeTargetGroups",
        c.describe_target_groups()
            .page_size(400)
            .into_paginator()
            .send(),
        |page| {
            // Registered targets: one call per group (no batch API).
            let mut groups = in_order(page.target_groups(), w.concurrency, |g| async move {
                let Some(arn) = g.target_group_arn() else {
                    return Ok(None);
                };
                let health = c
                    .describe_target_health()
                    .target_group_arn(arn)
                    .send()
                    .await
                    .map_err(|e| api_failure("elasticloadbalancing:DescribeTargetHealth", &e))?;
                Ok::<_, Failure>(Some((g, arn, health)))
            });
            while let Some(answer) = groups.next().await {
                let Some((g, arn, health)) = answer? else {
                    continue;
                };
                let targets: Vec<_> = health
                    .target_health_descriptions()
                    .iter()
                    .map(|t| {
                        json!({
                            "Id": t.target().and_then(|x| x.id()),
                            "Port": t.target().and_then(|x| x.port()),
                            "State": t.target_health().and_then(|h| h.state()).map(|s| s.as_str()),
                        })
                    })
                    .collect();
                let mut row = w.new_resource("aws_elbv2_target_group", None, arn);
                row.name = g.target_group_name().map(str::to_string);
                row.arn = Some(arn.to_string());
                row.values = vec![
                    ("protocol", text(g.protocol().map(|p| p.as_str()))),
                    ("port", int(g.port())),
                    ("target_type", text(g.target_type().map(|t| t.as_str()))),
                    ("vpc_id", text(g.vpc_id())),
                    (
                        "health_check",
                        Value::json(json!({
                            "Protocol": g.health_check_protocol().map(|p| p.as_str()),
                            "Path": g.health_check_path(),
                            "Port": g.health_check_port(),
                            "IntervalSeconds": g.health_check_interval_seconds(),
                        })),
                    ),
                    (
                        "load_balancer_arns",
                        Value::json(json!(g.load_balancer_arns())),
                    ),
                    ("targets", Value::json(json!(targets))),
                ];
                let tr = w.put(row).await?;
                w.edge(&rr, &tr, EdgeType::Default).await?;
                let instances = g.target_type().map(|t| t.as_str()) == Some("instance");
                // One instance can be registered on several ports (ECS
                // dynamic port mapping): one edge per instance, however
                // many ports (they are all in `targets`).
                let mut linked = std::collections::BTreeSet::new();
                for t in health.target_health_descriptions() {
                    if let (true, Some(id)) = (instances, t.target().and_then(|x| x.id())) {
                        if linked.insert(id) {
                            let ir = r(w, "aws_ec2_instance", id);
                            w.edge(&tr, &ir, EdgeType::Default).await?;
                        }
                    }
                }
            }
        }
    );
    Ok(())
}

/// Tags of `arns`, 20 per `DescribeTags` call (the API's most).
async fn tags_of(
    c: &aws_sdk_elasticloadbalancingv2::Client,
    arns: &[String],
) -> Result<std::collections::HashMap<String, Tags>, Failure> {
    let mut out = std::collections::HashMap::new();
    for chunk in arns.chunks(20) {
        let o = c
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| api_failure("elasticloadbalancing:DescribeTags", &e))?;
        for d in o.tag_descriptions() {
            let Some(arn) = d.resource_arn() else {
                continue;
            };
            let (t, _) = super::convert::tags(d.tags().iter().map(|t| (t.key(), t.value())));
            out.insert(arn.to_string(), t);
        }
    }
    Ok(out)
}
