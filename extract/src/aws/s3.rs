//! S3 buckets (a global scope: one list for the account, each bucket then
//! asked in its own region).

use std::sync::Arc;

use cloudtab_schema::{EdgeType, Value};
use serde_json::json;

use super::clients::{api_failure, error_code, ScopeClients};
use super::convert::{tags, time};
use super::{Failure, Writer};

pub(crate) async fn extract(c: &ScopeClients, w: &mut Writer<'_>) -> Result<(), Failure> {
    let global = c.s3(None);
    let mut pages = global
        .list_buckets()
        .max_buckets(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("s3:ListBuckets", &e))?;
        for b in page.buckets() {
            let Some(name) = b.name() else { continue };
            let region = match b.bucket_region() {
                Some(r) if !r.is_empty() => r.to_string(),
                _ => match global.get_bucket_location().bucket(name).send().await {
                    Ok(o) => match o.location_constraint().map(|l| l.as_str()) {
                        None | Some("") => "us-east-1".to_string(),
                        Some("EU") => "eu-west-1".to_string(),
                        Some(r) => r.to_string(),
                    },
                    Err(e) if gone(error_code(&e)) => continue,
                    Err(e) => return Err(api_failure("s3:GetBucketLocation", &e)),
                },
            };
            let s3 = c.s3(Some(&region));
            let tag_pairs: Vec<(String, String)> = match attr(
                "s3:GetBucketTagging",
                name,
                s3.get_bucket_tagging().bucket(name).send().await,
                &["NoSuchTagSet"],
            )? {
                Attr::Value(o) => o
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
                Attr::Absent => Vec::new(),
                Attr::Gone => continue,
            };
            let versioning = match attr(
                "s3:GetBucketVersioning",
                name,
                s3.get_bucket_versioning().bucket(name).send().await,
                &[],
            )? {
                Attr::Value(o) => (
                    o.status().map(|s| s.as_str().to_string()),
                    o.mfa_delete().map(|s| s.as_str().to_string()),
                ),
                Attr::Absent => (None, None),
                Attr::Gone => continue,
            };
            let encryption = match attr(
                "s3:GetEncryptionConfiguration",
                name,
                s3.get_bucket_encryption().bucket(name).send().await,
                &["ServerSideEncryptionConfigurationNotFoundError"],
            )? {
                Attr::Value(o) => {
                    o.server_side_encryption_configuration()
                        .map_or(Value::Null, |c| {
                            Value::json(json!(c
                                .rules()
                                .iter()
                                .map(|r| {
                                    let d = r.apply_server_side_encryption_by_default();
                                    json!({
                                        "SSEAlgorithm": d.map(|d| d.sse_algorithm().as_str()),
                                        "KMSMasterKeyID": d.and_then(|d| d.kms_master_key_id()),
                                        "BucketKeyEnabled": r.bucket_key_enabled(),
                                    })
                                })
                                .collect::<Vec<_>>()))
                        })
                }
                Attr::Absent => Value::Null,
                Attr::Gone => continue,
            };
            let public_access = match attr(
                "s3:GetBucketPublicAccessBlock",
                name,
                s3.get_public_access_block().bucket(name).send().await,
                &["NoSuchPublicAccessBlockConfiguration"],
            )? {
                Attr::Value(o) => o
                    .public_access_block_configuration()
                    .map_or(Value::Null, |p| {
                        Value::json(json!({
                            "BlockPublicAcls": p.block_public_acls(),
                            "IgnorePublicAcls": p.ignore_public_acls(),
                            "BlockPublicPolicy": p.block_public_policy(),
                            "RestrictPublicBuckets": p.restrict_public_buckets(),
                        }))
                    }),
                Attr::Absent => Value::Null,
                Attr::Gone => continue,
            };
            let region: Arc<str> = Arc::from(region.as_str());
            let mut row = w.new_resource("aws_s3_bucket", Some(&region), name);
            row.name = Some(name.to_string());
            row.arn = Some(format!("arn:{}:s3:::{name}", w.account.partition));
            row.ctime = time(b.creation_date());
            (row.tags, _) = tags(
                tag_pairs
                    .iter()
                    .map(|(k, v): &(String, String)| (Some(k.as_str()), Some(v.as_str()))),
            );
            row.values = vec![
                ("versioning_status", Value::text_opt(versioning.0)),
                ("mfa_delete", Value::text_opt(versioning.1)),
                ("encryption", encryption),
                ("public_access_block", public_access),
            ];
            let br = w.put(row).await?;
            let rr = w.region_ref(&region);
            w.edge(&rr, &br, EdgeType::Default).await?;
        }
    }
    Ok(())
}

/// The bucket was deleted since it was listed.
fn gone(code: Option<&str>) -> bool {
    code == Some("NoSuchBucket")
}

/// What an optional attribute call gave.
enum Attr<T> {
    /// The attribute.
    Value(T),
    /// Not set, or not readable for this bucket: the column is NULL.
    Absent,
    /// The bucket is gone.
    Gone,
}

/// Sorts an attribute call's error: `absent` codes mean "not set"; access
/// denied for one bucket (bucket policies do that) or an answer that
/// cannot be parsed leaves that attribute NULL with a warning instead of
/// dropping the bucket; anything else (throttled to death, server errors)
/// fails the scope, so that the previous snapshot is carried forward.
fn attr<T, E>(
    operation: &str,
    bucket: &str,
    result: Result<
        T,
        aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
    >,
    absent: &[&str],
) -> Result<Attr<T>, Failure>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    let e = match result {
        Ok(v) => return Ok(Attr::Value(v)),
        Err(e) => e,
    };
    let code = error_code(&e);
    if gone(code) {
        return Ok(Attr::Gone);
    }
    if code.is_some_and(|c| absent.contains(&c)) {
        return Ok(Attr::Absent);
    }
    let ok_status = e.raw_response().is_some_and(|r| r.status().as_u16() == 200);
    if ok_status || matches!(code, Some("AccessDenied" | "AllAccessDisabled")) {
        tracing::warn!(bucket, operation, error = %super::clients::chain(&e), "attribute left NULL");
        return Ok(Attr::Absent);
    }
    Err(api_failure(operation, &e))
}
