//! `aws_s3_bucket` (a global scope): one `ListBuckets` for the account,
//! then each bucket asked about itself in its own region, where its row
//! belongs.

use std::sync::Arc;

use cloudtab_schema::Value;

use super::details::{bucket, client, Bucket};
use crate::aws::clients::ScopeCtx;
use crate::aws::convert::{tags, time};
use crate::aws::{Failure, Writer};
use crate::writer::Row;

pub(crate) async fn extract(c: &ScopeCtx, w: &mut Writer<'_>) -> Result<(), Failure> {
    let global = client(c, None);
    pages!(
        "s3:ListBuckets",
        global
            .list_buckets()
            .max_buckets(1000)
            .into_paginator()
            .send(),
        |page| {
            w.detailed(
                page.buckets(),
                |b| bucket(c, &global, b),
                |w, d| Some(row(w, d)),
            )
            .await?;
        }
    );
    Ok(())
}

fn row(w: &Writer<'_>, d: Bucket<'_>) -> Row {
    let region: Arc<str> = Arc::from(d.region.as_str());
    let mut row = w.row_in("aws_s3_bucket", &region, d.name);
    row.name = Some(d.name.to_string());
    row.arn = Some(format!("arn:{}:s3:::{}", w.account.partition, d.name));
    row.ctime = time(d.created);
    (row.tags, _) = tags(
        d.tags
            .iter()
            .map(|(k, v)| (Some(k.as_str()), Some(v.as_str()))),
    );
    row.values = vec![
        ("versioning_status", Value::text_opt(d.versioning.0)),
        ("mfa_delete", Value::text_opt(d.versioning.1)),
        ("encryption", d.encryption),
        ("public_access_block", d.public_access),
    ];
    row
}
