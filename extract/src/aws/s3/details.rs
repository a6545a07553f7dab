//! What S3 tells about one bucket, asked in the bucket's own region: its
//! region (when the list did not say), tags, versioning, encryption and
//! public access block.

use cloudtab_schema::Value;
use serde_json::json;

use aws_types::region::Region;

use crate::aws::clients::{api_failure, error_code, ScopeCtx};
use crate::aws::Failure;

/// What a bucket's own calls say about it.
pub(super) struct Bucket<'a> {
    pub(super) name: &'a str,
    pub(super) created: Option<&'a aws_smithy_types::DateTime>,
    pub(super) region: String,
    pub(super) tags: Vec<(String, String)>,
    pub(super) versioning: (Option<String>, Option<String>),
    pub(super) encryption: Value,
    pub(super) public_access: Value,
}

/// A bucket's region (when the list did not say), tags, versioning,
/// encryption and public access block, asked in its own region; `None`
/// when it has no name or was deleted since it was listed.
pub(super) async fn bucket<'a>(
    c: &ScopeCtx,
    global: &aws_sdk_s3::Client,
    b: &'a aws_sdk_s3::types::Bucket,
) -> Result<Option<Bucket<'a>>, Failure> {
    let Some(name) = b.name() else {
        return Ok(None);
    };
    let region = match b.bucket_region() {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => match global.get_bucket_location().bucket(name).send().await {
            Ok(o) => match o.location_constraint().map(|l| l.as_str()) {
                None | Some("") => "us-east-1".to_string(),
                Some("EU") => "eu-west-1".to_string(),
                Some(r) => r.to_string(),
            },
            Err(e) if gone(error_code(&e)) => return Ok(None),
            Err(e) => return Err(api_failure("s3:GetBucketLocation", &e)),
        },
    };
    let s3 = client(c, Some(&region));
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
        Attr::Gone => return Ok(None),
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
        Attr::Gone => return Ok(None),
    };
    let encryption = match attr(
        "s3:GetEncryptionConfiguration",
        name,
        s3.get_bucket_encryption().bucket(name).send().await,
        &["ServerSideEncryptionConfigurationNotFoundError"],
    )? {
        Attr::Value(o) => o
            .server_side_encryption_configuration()
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
            }),
        Attr::Absent => Value::Null,
        Attr::Gone => return Ok(None),
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
        Attr::Gone => return Ok(None),
    };
    Ok(Some(Bucket {
        name,
        created: b.creation_date(),
        region,
        tags: tag_pairs,
        versioning,
        encryption,
        public_access,
    }))
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
        tracing::warn!(bucket, operation, error = %crate::aws::clients::chain(&e), "attribute left NULL");
        return Ok(Attr::Absent);
    }
    Err(api_failure(operation, &e))
}

/// An S3 client for `region` (a bucket answers in its own region; `None`:
/// the home region), path-style when an endpoint is configured (emulators
/// and S3-compatible stores rarely resolve bucket subdomains).
pub(super) fn client(c: &ScopeCtx, region: Option<&str>) -> aws_sdk_s3::Client {
    let mut b = aws_sdk_s3::config::Builder::from(c.sdk())
        .interceptor(c.counter())
        .force_path_style(c.endpoint().is_some());
    if let Some(r) = region {
        b = b.region(Region::new(r.to_string()));
    }
    if let Some(e) = c.endpoint() {
        b = b.endpoint_url(e);
    }
    aws_sdk_s3::Client::from_conf(b.build())
}
