//! Lambda functions and DynamoDB tables of one region.

use std::sync::Arc;

use cloudtab_schema::{EdgeType, Tags, Value};
use serde_json::json;

use aws_sdk_dynamodb::types::TableDescription;
use futures::StreamExt;

use super::clients::{api_failure, error_code};
use super::convert::{boolean, map_tags, mib_bytes, role_name, text, time};
use super::{Failure, Writer, GLOBAL};
use crate::details::in_order;

/// Functions (`ListFunctions`, 50 a page, the API's most) with their tags
/// (`ListTags`, one call each: the list does not carry them) and
/// function → execution role edges.
pub(crate) async fn lambda(c: &aws_sdk_lambda::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let rr = w.region_ref(&region);
    let global: Arc<str> = Arc::from(GLOBAL);
    let mut pages = c.list_functions().max_items(50).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("lambda:ListFunctions", &e))?;
        let mut functions = in_order(page.functions(), w.concurrency, |f| async move {
            let tags = match f.function_arn() {
                Some(arn) => match c.list_tags().resource(arn).send().await {
                    Ok(o) => map_tags(o.tags()),
                    Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                        return Ok(None)
                    }
                    Err(e) => return Err(api_failure("lambda:ListTags", &e)),
                },
                None => Tags::default(),
            };
            Ok::<_, Failure>(Some((f, tags)))
        });
        while let Some(answer) = functions.next().await {
            let Some((f, tags)) = answer? else { continue };
            let Some(name) = f.function_name() else {
                continue;
            };
            let mut row = w.new_resource("aws_lambda_function", None, name);
            row.name = Some(name.to_string());
            row.arn = f.function_arn().map(str::to_string);
            row.tags = tags;
            // ISO 8601 text (`2024-01-01T00:00:00.000+0000`): the flattener
            // reads it.
            row.mtime = f
                .last_modified()
                .map_or(Value::Null, |m| Value::Text(m.to_string()));
            let archs: Vec<&str> = f.architectures().iter().map(|a| a.as_str()).collect();
            row.values = vec![
                ("runtime", text(f.runtime().map(|r| r.as_str()))),
                ("handler", text(f.handler())),
                ("role", text(f.role())),
                ("code_size_bytes", Value::Int(f.code_size())),
                (
                    "memory_size_bytes",
                    mib_bytes(f.memory_size().map(i64::from)),
                ),
                (
                    "timeout_seconds",
                    f.timeout().map_or(Value::Null, |t| Value::Int(t as i64)),
                ),
                ("description", text(f.description())),
                ("package_type", text(f.package_type().map(|p| p.as_str()))),
                ("architectures", Value::json(json!(archs))),
                ("version", text(f.version())),
            ];
            let fr = w.put(row).await?;
            w.edge(&rr, &fr, EdgeType::Default).await?;
            if let Some(role) = f.role().and_then(role_name) {
                let ro = w.reference("aws_iam_role", &global, role);
                w.edge(&fr, &ro, EdgeType::Default).await?;
            }
        }
    }
    Ok(())
}

/// Tables (`ListTables`, then `DescribeTable` and `ListTagsOfResource`
/// per table: DynamoDB has no batch describe).
pub(crate) async fn dynamodb(
    c: &aws_sdk_dynamodb::Client,
    w: &mut Writer<'_>,
) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let rr = w.region_ref(&region);
    let mut pages = c.list_tables().limit(100).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("dynamodb:ListTables", &e))?;
        let mut tables = in_order(page.table_names(), w.concurrency, |name| table(c, name));
        while let Some(answer) = tables.next().await {
            let Some((name, t, tags)) = answer? else {
                continue;
            };
            let mut row = w.new_resource("aws_dynamodb_table", None, name);
            row.name = Some(name.to_string());
            row.arn = t.table_arn().map(str::to_string);
            row.ctime = time(t.creation_date_time());
            row.tags = tags;
            let keys: Vec<_> = t
                .key_schema()
                .iter()
                .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
                .collect();
            let throughput = t.provisioned_throughput();
            row.values = vec![
                ("table_id", text(t.table_id())),
                ("table_status", text(t.table_status().map(|s| s.as_str()))),
                ("item_count", t.item_count().map_or(Value::Null, Value::Int)),
                (
                    "table_size_bytes",
                    t.table_size_bytes().map_or(Value::Null, Value::Int),
                ),
                (
                    "billing_mode",
                    text(
                        t.billing_mode_summary()
                            .and_then(|b| b.billing_mode())
                            .map(|b| b.as_str()),
                    ),
                ),
                ("key_schema", Value::json(json!(keys))),
                (
                    "read_capacity_units",
                    throughput
                        .and_then(|p| p.read_capacity_units())
                        .map_or(Value::Null, Value::Int),
                ),
                (
                    "write_capacity_units",
                    throughput
                        .and_then(|p| p.write_capacity_units())
                        .map_or(Value::Null, Value::Int),
                ),
                (
                    "deletion_protection_enabled",
                    boolean(t.deletion_protection_enabled()),
                ),
            ];
            let tr = w.put(row).await?;
            w.edge(&rr, &tr, EdgeType::Default).await?;
        }
    }
    Ok(())
}

/// A table's description and tags; `None` when it was deleted since it was
/// listed.
async fn table<'a>(
    c: &aws_sdk_dynamodb::Client,
    name: &'a str,
) -> Result<Option<(&'a str, TableDescription, Tags)>, Failure> {
    let d = match c.describe_table().table_name(name).send().await {
        Ok(o) => o,
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(api_failure("dynamodb:DescribeTable", &e)),
    };
    let Some(t) = d.table else { return Ok(None) };
    let mut tags = Tags::default();
    if let Some(arn) = t.table_arn() {
        match c.list_tags_of_resource().resource_arn(arn).send().await {
            Ok(o) => tags = o.tags().iter().map(|t| (t.key(), t.value())).collect(),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(api_failure("dynamodb:ListTagsOfResource", &e)),
        }
    }
    Ok(Some((name, t, tags)))
}
