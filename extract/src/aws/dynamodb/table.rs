//! `aws_dynamodb_table`: `ListTables`, then `DescribeTable` and
//! `ListTagsOfResource` per table (DynamoDB has no batch describe).

use aws_sdk_dynamodb::types::TableDescription;
use cloudtab_schema::{Tags, Value};
use serde_json::json;

use crate::aws::clients::{api_failure, error_code};
use crate::aws::convert::{boolean, text, time, variant};
use crate::aws::{Failure, Writer};
use crate::writer::Row;

pub(crate) async fn extract(
    c: &aws_sdk_dynamodb::Client,
    w: &mut Writer<'_>,
) -> Result<(), Failure> {
    pages!(
        "dynamodb:ListTables",
        c.list_tables().limit(100).into_paginator().send(),
        |page| {
            w.detailed(
                page.table_names(),
                |name| details(c, name),
                |w, (name, t, tags)| Some(row(w, name, &t, tags)),
            )
            .await?;
        }
    );
    Ok(())
}

fn row(w: &Writer<'_>, name: &str, t: &TableDescription, tags: Tags) -> Row {
    let mut row = w.row("aws_dynamodb_table", name);
    row.name = Some(name.to_string());
    row.arn = t.table_arn().map(str::to_string);
    row.ctime = time(t.creation_date_time());
    row.tags = tags;
    let keys: Vec<_> = t
        .key_schema()
        .iter()
        .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
        .collect();
    let int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    let throughput = t.provisioned_throughput();
    row.values = vec![
        ("table_id", text(t.table_id())),
        ("table_status", variant(t.table_status())),
        ("item_count", int(t.item_count())),
        ("table_size_bytes", int(t.table_size_bytes())),
        (
            "billing_mode",
            variant(t.billing_mode_summary().and_then(|b| b.billing_mode())),
        ),
        ("key_schema", Value::json(json!(keys))),
        (
            "read_capacity_units",
            int(throughput.and_then(|p| p.read_capacity_units())),
        ),
        (
            "write_capacity_units",
            int(throughput.and_then(|p| p.write_capacity_units())),
        ),
        (
            "deletion_protection_enabled",
            boolean(t.deletion_protection_enabled()),
        ),
    ];
    row
}

/// A table's description and tags; `None` when it was deleted since it was
/// listed.
async fn details<'a>(
    c: &aws_sdk_dynamodb::Client,
    name: &'a str,
) -> Result<Option<(&'a str, TableDescription, Tags)>, Failure> {
    let gone = |code: Option<&str>| code == Some("ResourceNotFoundException");
    let d = match c.describe_table().table_name(name).send().await {
        Ok(o) => o,
        Err(e) if gone(error_code(&e)) => return Ok(None),
        Err(e) => return Err(api_failure("dynamodb:DescribeTable", &e)),
    };
    let Some(t) = d.table else { return Ok(None) };
    let mut tags = Tags::default();
    if let Some(arn) = t.table_arn() {
        match c.list_tags_of_resource().resource_arn(arn).send().await {
            Ok(o) => tags = o.tags().iter().map(|t| (t.key(), t.value())).collect(),
            Err(e) if gone(error_code(&e)) => return Ok(None),
            Err(e) => return Err(api_failure("dynamodb:ListTagsOfResource", &e)),
        }
    }
    Ok(Some((name, t, tags)))
}
