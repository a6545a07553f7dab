//! `aws_lambda_function`: `ListFunctions` (50 a page, the API's most) and
//! each function's tags (`ListTags`, one call each: the list does not
//! carry them); a function points at its execution role.

use aws_sdk_lambda::types::FunctionConfiguration;
use cloudtab_schema::{Tags, Value};
use serde_json::json;

use crate::aws::clients::{api_failure, error_code};
use crate::aws::convert::{map_tags, mib_bytes, role_name, text, variant};
use crate::aws::{Failure, Writer};
use crate::writer::Row;

pub(crate) async fn extract(c: &aws_sdk_lambda::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    pages!(
        "lambda:ListFunctions",
        c.list_functions().max_items(50).into_paginator().send(),
        |page| {
            w.detailed(
                page.functions(),
                |f| async move {
                    let Some(arn) = f.function_arn() else {
                        return Ok(Some((f, Tags::default())));
                    };
                    match c.list_tags().resource(arn).send().await {
                        Ok(o) => Ok(Some((f, map_tags(o.tags())))),
                        // Deleted since it was listed.
                        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
                        Err(e) => Err(api_failure("lambda:ListTags", &e)),
                    }
                },
                |w, (f, tags)| row(w, f, tags),
            )
            .await?;
        }
    );
    Ok(())
}

fn row(w: &Writer<'_>, f: &FunctionConfiguration, tags: Tags) -> Option<Row> {
    let name = f.function_name()?;
    let mut row = w.row("aws_lambda_function", name);
    row.name = Some(name.to_string());
    row.arn = f.function_arn().map(str::to_string);
    row.tags = tags;
    // ISO 8601 text (`2024-01-01T00:00:00.000+0000`): the flattener reads
    // it.
    row.mtime = text(f.last_modified());
    let archs: Vec<&str> = f.architectures().iter().map(|a| a.as_str()).collect();
    row.values = vec![
        ("runtime", variant(f.runtime())),
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
        ("package_type", variant(f.package_type())),
        ("architectures", Value::json(json!(archs))),
        ("version", text(f.version())),
    ];
    row.to(f
        .role()
        .and_then(role_name)
        .map(|r| w.global("aws_iam_role", r)));
    Some(row)
}
