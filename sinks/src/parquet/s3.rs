//! Parquet roots in S3 (`s3://bucket/prefix`): object_store's S3 client,
//! signed with the same AWS credential chain the AWS source uses, so one
//! profile, SSO session, assumed role or instance role serves the source
//! and the sink alike.
//!
//! ```text
//!  aws-config chain (env, profile, SSO, process, container, IMDS) ──▶ [role_arn: STS AssumeRole]
//!        │ provide_credentials (cached until 5 min before expiry)
//!        ▼
//!  ChainCredentials ──▶ object_store AmazonS3 (path-style with an endpoint_url;
//!                        retries 5xx/429/timeouts; If-None-Match: * on create)
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_types::region::Region;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::{ClientOptions, CredentialProvider, ObjectStore, RetryConfig};
use tokio::sync::Mutex;

use super::config::ParquetSinkConfig;
use crate::sink::SinkError;

/// Credentials are fetched again this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// The bucket's store (keys are full keys, prefix included), for
/// `config`'s credentials, region and endpoint.
pub async fn s3_store(
    config: &ParquetSinkConfig,
    bucket: &str,
) -> Result<Arc<dyn ObjectStore>, SinkError> {
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(p) = &config.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &config.region {
        loader = loader.region(Region::new(r.clone()));
    }
    let sdk = loader.load().await;
    let region = sdk
        .region()
        .map_or_else(|| "us-east-1".to_string(), |r| r.to_string());
    let mut provider = sdk.credentials_provider().ok_or_else(|| {
        SinkError::Config(format!(
            "url: no AWS credential chain for `{}`; set AWS credentials or a profile",
            config.url
        ))
    })?;
    if let Some(role) = &config.role_arn {
        let assumed = aws_config::sts::AssumeRoleProvider::builder(role.clone())
            .session_name("cloudtab-sink")
            .configure(&sdk)
            .build()
            .await;
        provider = SharedCredentialsProvider::new(assumed);
    }
    let endpoint = config
        .endpoint_url
        .clone()
        .or_else(|| sdk.endpoint_url().map(str::to_string));
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region)
        .with_credentials(Arc::new(ChainCredentials {
            provider,
            cached: Mutex::new(None),
        }))
        .with_retry(RetryConfig {
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
            ..Default::default()
        })
        .with_client_options(
            ClientOptions::new()
                .with_connect_timeout(Duration::from_secs(10))
                .with_timeout(Duration::from_secs(120)),
        );
    if let Some(e) = endpoint {
        builder = builder
            .with_allow_http(e.starts_with("http://"))
            .with_endpoint(e)
            .with_virtual_hosted_style_request(false);
    }
    let store = builder.build().map_err(|e| {
        SinkError::Config(format!(
            "url: cannot open `{}`: {e}; check region and endpoint_url",
            config.url
        ))
    })?;
    Ok(Arc::new(store))
}

/// The store of a root under `prefix` of `bucket_store` (keys relative to
/// the root, as manifests name them); `bucket_store` itself when the prefix
/// is empty.
pub fn rooted(bucket_store: Arc<dyn ObjectStore>, prefix: &str) -> Arc<dyn ObjectStore> {
    if prefix.is_empty() {
        bucket_store
    } else {
        Arc::new(object_store::prefix::PrefixStore::new(bucket_store, prefix))
    }
}

/// aws-config's credential chain as object_store's credential provider.
/// The chain itself does not cache (the SDK's clients do), so this does:
/// one credential until shortly before it expires.
struct ChainCredentials {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

impl std::fmt::Debug for ChainCredentials {
    // Never the credential itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainCredentials")
    }
}

#[async_trait]
impl CredentialProvider for ChainCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        if let Some((credential, expiry)) = cached.as_ref() {
            let fresh = expiry.is_none_or(|e| e > SystemTime::now() + REFRESH_BEFORE);
            if fresh {
                return Ok(credential.clone());
            }
        }
        let c = self.provider.provide_credentials().await.map_err(|e| {
            object_store::Error::Generic {
                store: "S3",
                source: format!(
                    "no AWS credentials: {}; set them in the environment, a profile (`profile`), SSO or instance metadata",
                    chain(&e)
                )
                .into(),
            }
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: c.access_key_id().to_string(),
            secret_key: c.secret_access_key().to_string(),
            token: c.session_token().map(str::to_string),
        });
        *cached = Some((credential.clone(), c.expiry()));
        Ok(credential)
    }
}

/// An error with its sources, `: `-separated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
