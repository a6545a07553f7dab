//! `aws_elbv2_listener`: part of its load balancer, to the target groups
//! its default actions forward to.

use aws_sdk_elasticloadbalancingv2::types::Listener;
use cloudtab_schema::Value;
use serde_json::json;

use crate::aws::convert::{int, text, variant};
use crate::aws::Writer;
use crate::writer::Row;

/// `lb`: the load balancer's ARN.
pub(super) fn row(w: &Writer<'_>, lb: &str, l: &Listener) -> Option<Row> {
    let arn = l.listener_arn()?;
    let mut row = w.row("aws_elbv2_listener", arn);
    row.arn = Some(arn.to_string());
    let actions: Vec<_> = l
        .default_actions()
        .iter()
        .map(|a| json!({"Type": a.r#type().map(|t| t.as_str()), "TargetGroupArn": a.target_group_arn()}))
        .collect();
    row.values = vec![
        ("load_balancer_arn", text(l.load_balancer_arn())),
        ("protocol", variant(l.protocol())),
        ("port", int(l.port())),
        ("default_actions", Value::json(json!(actions))),
    ];
    row.part_of(w.here("aws_elbv2_load_balancer", lb));
    for a in l.default_actions() {
        let forwards = a
            .forward_config()
            .map(|f| f.target_groups())
            .unwrap_or_default();
        let groups = a
            .target_group_arn()
            .into_iter()
            .chain(forwards.iter().filter_map(|t| t.target_group_arn()));
        row.to(groups.map(|g| w.here("aws_elbv2_target_group", g)));
    }
    Some(row)
}
