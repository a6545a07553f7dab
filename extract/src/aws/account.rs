//! The account scope: the account row and its regions (each hanging off
//! the account), from what was learnt when the account was connected
//! (STS, the account alias, `ec2:DescribeRegions`): no call of its own.

use cloudtab_schema::Value;

use super::clients::ScopeCtx;
use super::{Failure, Writer};

pub(crate) async fn extract(_: &ScopeCtx, w: &mut Writer<'_>) -> Result<(), Failure> {
    let account = w.account.clone();
    let mut a = w.row("aws_account", account.id.to_string());
    a.name = account.name.as_deref().map(str::to_string);
    a.arn = account.caller_arn.clone();
    a.values = vec![("partition", Value::Text(account.partition.clone()))];
    w.send(a).await?;
    for r in &account.regions {
        let mut row = w.row_in("aws_region", &r.name, r.name.to_string());
        row.name = Some(r.name.to_string());
        row.values = vec![
            ("opt_in_status", Value::text_opt(r.opt_in_status.clone())),
            ("endpoint", Value::text_opt(r.endpoint.clone())),
        ];
        w.send(row).await?;
    }
    Ok(())
}
