//! The account scope: the account row, its regions, and account → region
//! edges, from what was learnt when the account was connected (STS, the
//! account alias, `ec2:DescribeRegions`): no call of its own.

use std::sync::Arc;

use cloudtab_schema::{EdgeType, Value};

use super::clients::ScopeCtx;
use super::{Failure, Writer, GLOBAL};

pub(crate) async fn extract(_: &ScopeCtx, w: &mut Writer<'_>) -> Result<(), Failure> {
    let global: Arc<str> = Arc::from(GLOBAL);
    let account = w.account.clone();
    let mut a = w.new_resource("aws_account", Some(&global), account.id.to_string());
    a.name = account.name.as_deref().map(str::to_string);
    a.arn = account.caller_arn.clone();
    a.values = vec![("partition", Value::Text(account.partition.clone()))];
    let ar = w.put(a).await?;
    for r in &account.regions {
        let mut row = w.new_resource("aws_region", Some(&r.name), r.name.to_string());
        row.name = Some(r.name.to_string());
        row.values = vec![
            ("opt_in_status", Value::text_opt(r.opt_in_status.clone())),
            ("endpoint", Value::text_opt(r.endpoint.clone())),
        ];
        let rr = w.put(row).await?;
        w.edge(&ar, &rr, EdgeType::Default).await?;
    }
    Ok(())
}
