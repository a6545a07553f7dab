//! Putting a file to an internal stage. Snowflake's `PUT` runs on the
//! client: the statement answers with where the stage's files live (an
//! S3 bucket and short-lived credentials, a GCS URL, or the emulator's own
//! URL) and, for a real account, the stage's encryption material; the
//! client encrypts the file (`crypt.rs`) and uploads it there with the
//! metadata Snowflake reads back at `COPY`.

use std::sync::Arc;

use bytes::Bytes;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};
use serde_json::Value;

use super::crypt::{self, EncryptionMaterial};
use crate::SinkError;

/// Uploads `data` as `file_name` to where the `PUT` answer `put` says.
pub async fn upload(
    http: &reqwest::Client,
    put: &Value,
    file_name: &str,
    data: Bytes,
) -> Result<(), SinkError> {
    let info = &put["stageInfo"];
    let material: Option<EncryptionMaterial> = match &put["encryptionMaterial"] {
        Value::Null => None,
        Value::Array(a) => a
            .first()
            .map(|m| serde_json::from_value(m.clone()))
            .transpose()
            .map_err(material_error)?,
        m => Some(serde_json::from_value(m.clone()).map_err(material_error)?),
    };
    let digest = crypt::digest(&data);
    let (body, enc) = match &material {
        Some(m) => {
            let (b, meta) = crypt::encrypt(m, &data)?;
            (Bytes::from(b), Some(meta))
        }
        None => (data, None),
    };
    let kind = info["locationType"].as_str().unwrap_or("");
    match kind {
        "S3" => upload_s3(info, file_name, body, &digest, enc.as_ref()).await,
        "GCS" => upload_gcs(http, info, file_name, body, &digest, enc.as_ref()).await,
        "AZURE" => Err(SinkError::Other(
            "this Snowflake account keeps its internal stages on Azure, which cloudtab cannot upload to yet; load through an external stage instead (`stage: '@my_stage'` with `stage_url`)".into(),
        )),
        other => Err(SinkError::Other(format!(
            "Snowflake answered PUT with a stage of type `{other}`, which cloudtab cannot upload to"
        ))),
    }
}

fn material_error(e: serde_json::Error) -> SinkError {
    SinkError::Other(format!(
        "Snowflake's PUT answer has encryption material cloudtab cannot read: {e}"
    ))
}

/// The stage's `location`, `bucket/path/`, split.
fn bucket_and_prefix(info: &Value) -> (&str, &str) {
    let location = info["location"].as_str().unwrap_or("");
    location.split_once('/').unwrap_or((location, ""))
}

/// An S3 stage: `location` is `bucket/path/`, the credentials are the
/// stage's own, valid for the statement.
async fn upload_s3(
    info: &Value,
    file_name: &str,
    body: Bytes,
    digest: &str,
    enc: Option<&crypt::EncryptionMetadata>,
) -> Result<(), SinkError> {
    let (bucket, prefix) = bucket_and_prefix(info);
    let creds = &info["creds"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    let mut b = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(info["region"].as_str().unwrap_or("us-east-1"))
        .with_access_key_id(s(&creds["AWS_KEY_ID"]).unwrap_or_default())
        .with_secret_access_key(s(&creds["AWS_SECRET_KEY"]).unwrap_or_default());
    if let Some(t) = s(&creds["AWS_TOKEN"]) {
        b = b.with_token(t);
    }
    // The emulator in the stage tests, and private endpoints of a real
    // account, come as `endPoint`.
    if let Some(ep) = s(&info["endPoint"]).filter(|e| !e.is_empty()) {
        let ep = if ep.contains("://") {
            ep
        } else {
            format!("https://{ep}")
        };
        b = b
            .with_endpoint(ep)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(true);
    }
    let store = b.build().map_err(|e| SinkError::Store {
        what: format!("cannot use the S3 stage in bucket `{bucket}`"),
        source: e,
    })?;
    let path = object_store::path::Path::from(format!("{prefix}{file_name}"));
    let mut attributes = Attributes::new();
    let mut meta = |k: &'static str, v: &str| {
        attributes.insert(Attribute::Metadata(k.into()), v.to_string().into());
    };
    meta("sfc-digest", digest);
    if let Some(e) = enc {
        meta("x-amz-key", &e.key);
        meta("x-amz-iv", &e.iv);
        meta("x-amz-matdesc", &e.matdesc);
    }
    let opts = PutOptions {
        attributes,
        ..Default::default()
    };
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    store
        .put_opts(&path, PutPayload::from(body), opts)
        .await
        .map_err(|e| SinkError::Store {
            what: format!("upload of `{file_name}` to the Snowflake stage in bucket `{bucket}`"),
            source: e,
        })?;
    Ok(())
}

/// A GCS stage: a presigned URL, or a bucket and an access token.
async fn upload_gcs(
    http: &reqwest::Client,
    info: &Value,
    file_name: &str,
    body: Bytes,
    digest: &str,
    enc: Option<&crypt::EncryptionMetadata>,
) -> Result<(), SinkError> {
    let url = match info["presignedUrl"].as_str().filter(|u| !u.is_empty()) {
        Some(u) => u.to_string(),
        None => {
            let (bucket, prefix) = bucket_and_prefix(info);
            format!("https://storage.googleapis.com/{bucket}/{prefix}{file_name}")
        }
    };
    let mut req = http
        .put(&url)
        .header("x-goog-meta-sfc-digest", digest)
        .body(body);
    if let Some(token) = info["creds"]["GCS_ACCESS_TOKEN"].as_str() {
        req = req.bearer_auth(token);
    }
    if let Some(e) = enc {
        let data = serde_json::json!({
            "EncryptionMode": "FullBlob",
            "WrappedContentKey": {"KeyId": "symmKey1", "EncryptedKey": e.key, "Algorithm": "AES_CBC_256"},
            "EncryptionAgent": {"Protocol": "1.0", "EncryptionAlgorithm": "AES_CBC_256"},
            "ContentEncryptionIV": e.iv,
            "KeyWrappingMetadata": {"EncryptionLibrary": "Java 5.3.0"},
        });
        req = req
            .header("x-goog-meta-encryptiondata", data.to_string())
            .header("x-goog-meta-matdesc", &e.matdesc);
    }
    let mut wait = std::time::Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 0..5 {
        if attempt > 0 {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        let Some(r) = req.try_clone() else { break };
        match r.send().await {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) if resp.status().is_server_error() || resp.status().as_u16() == 429 => {
                last = format!("HTTP {}", resp.status())
            }
            Ok(resp) => {
                last = format!("HTTP {}", resp.status());
                break;
            }
            Err(e) => last = e.without_url().to_string(),
        }
    }
    Err(SinkError::Other(format!(
        "upload of `{file_name}` to the Snowflake stage failed: {last}"
    )))
}
