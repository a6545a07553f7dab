//! A signed generic client for AWS's JSON protocols (`awsJson1_0`,
//! `awsJson1_1`): SigV4 over one shared HTTPS client, with the SDK's
//! retry semantics, and no generated code per service.
//!
//! Why it exists: every AWS SDK crate is a large build (the EC2 crate alone
//! is minutes of a clean build, docs/BENCHMARKS.md "Build cost"), and the
//! AWS breadth work adds about twenty-five services, most of which cloudtab
//! reads with one list and one describe call. This client is the measured
//! alternative for those (issue #18, docs/BENCHMARKS.md "SDK or signed
//! client"): an operation is its name and a JSON document in, a JSON
//! document out. No service is extracted through it yet.
//!
//! What the SDK does that this keeps: credentials from the same provider
//! chain (the account's `SdkConfig`), SigV4 signing, a timeout per attempt,
//! retries of throttling, transient errors, 5xx and broken connections with
//! exponential backoff and full jitter (the SDK's standard mode: 1 s
//! initial, 20 s cap), and the error code of a failed call. What it leaves
//! to the caller: endpoints outside the `aws` partition's default pattern
//! (pass `endpoint`), the typed shapes (the caller reads JSON), and the
//! Query/XML protocols (EC2, IAM, ELB, RDS stay on their SDK crates).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_types::SdkConfig;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A JSON-protocol service: how its operations are named and signed.
#[derive(Debug, Clone, Copy)]
pub struct JsonService {
    /// The SigV4 signing name and endpoint prefix (`dynamodb`).
    pub signing_name: &'static str,
    /// The prefix of `X-Amz-Target` (`DynamoDB_20120810`).
    pub target_prefix: &'static str,
    /// `1.0` or `1.1` (`Content-Type: application/x-amz-json-1.0`).
    pub json_version: &'static str,
}

/// DynamoDB (`awsJson1_0`).
pub const DYNAMODB: JsonService = JsonService {
    signing_name: "dynamodb",
    target_prefix: "DynamoDB_20120810",
    json_version: "1.0",
};

/// Why a call failed, after its retries.
#[derive(Debug, thiserror::Error)]
pub enum SignedError {
    /// The service answered with an error.
    #[error("{operation}: {code} (HTTP {status}): {message}")]
    Api {
        /// `dynamodb:ListTables`.
        operation: String,
        /// The error code (`ResourceNotFoundException`).
        code: String,
        /// The service's message.
        message: String,
        /// The HTTP status.
        status: u16,
    },
    /// No answer: connection, TLS, timeout or an unreadable body.
    #[error("{operation}: {reason}")]
    Transport {
        /// `dynamodb:ListTables`.
        operation: String,
        /// What went wrong.
        reason: String,
    },
    /// No credentials, or they could not be used to sign.
    #[error("{operation}: cannot sign the request: {reason}")]
    Credentials {
        /// `dynamodb:ListTables`.
        operation: String,
        /// What went wrong (never the credentials themselves).
        reason: String,
    },
}

impl SignedError {
    /// The service's error code, when it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SignedError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Error codes the SDK retries as throttling (its standard retry mode).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes the SDK retries as transient.
const TRANSIENT: &[&str] = &["RequestTimeout", "RequestTimeoutException"];

/// One service in one region of one account.
#[derive(Clone)]
pub struct SignedClient {
    service: JsonService,
    region: Arc<str>,
    endpoint: Arc<str>,
    credentials: SharedCredentialsProvider,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    max_attempts: u32,
    timeout: Duration,
    initial_backoff: Duration,
}

impl SignedClient {
    /// A client for `service` in `region`, with the credentials of `sdk`.
    /// `endpoint` overrides `https://<signing name>.<region>.amazonaws.com`
    /// (emulators, VPC endpoints, other partitions).
    pub fn new(
        sdk: &SdkConfig,
        service: JsonService,
        region: &str,
        endpoint: Option<&str>,
        max_attempts: u32,
        timeout: Duration,
    ) -> Result<SignedClient, SignedError> {
        let credentials = sdk
            .credentials_provider()
            .ok_or_else(|| SignedError::Credentials {
                operation: service.signing_name.to_string(),
                reason: "no credentials provider configured".into(),
            })?;
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| transport(service.signing_name, e))?;
        let tls = hyper_rustls::ConfigBuilderExt::with_native_roots(tls)
            .map_err(|e| transport(service.signing_name, e))?
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let endpoint = match endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None => format!("https://{}.{region}.amazonaws.com", service.signing_name),
        };
        Ok(SignedClient {
            service,
            region: Arc::from(region),
            endpoint: Arc::from(endpoint),
            credentials,
            http: Client::builder(TokioExecutor::new()).build(https),
            max_attempts: max_attempts.max(1),
            timeout,
            initial_backoff: Duration::from_secs(1),
        })
    }

    /// Calls `operation` (`ListTables`) with `input`, retrying what the SDK
    /// retries, and returns the answer's JSON document.
    pub async fn call(
        &self,
        operation: &str,
        input: &serde_json::Value,
    ) -> Result<serde_json::Value, SignedError> {
        let name = format!("{}:{operation}", self.service.signing_name);
        let body = Bytes::from(serde_json::to_vec(input).map_err(|e| transport(&name, e))?);
        let mut attempt = 1;
        loop {
            let result =
                match tokio::time::timeout(self.timeout, self.attempt(&name, operation, &body))
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(SignedError::Transport {
                        operation: name.clone(),
                        reason: format!("no answer within {} s", self.timeout.as_secs()),
                    }),
                };
            match result {
                Err(e) if attempt < self.max_attempts && retryable(&e) => {
                    let cap = self
                        .initial_backoff
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(Duration::from_secs(20));
                    let wait = cap.mul_f64(fastrand::f64());
                    tracing::debug!(operation = %name, attempt, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn attempt(
        &self,
        name: &str,
        operation: &str,
        body: &Bytes,
    ) -> Result<serde_json::Value, SignedError> {
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| signing(name, e))?;
        let identity = Identity::from(credentials);
        let uri = format!("{}/", self.endpoint);
        let target = format!("{}.{operation}", self.service.target_prefix);
        let content_type = format!("application/x-amz-json-{}", self.service.json_version);
        // Signed, then sent: the same headers both times.
        let headers = [
            ("content-type", content_type.as_str()),
            ("x-amz-target", target.as_str()),
        ];
        let mut request = headers
            .iter()
            .fold(
                http::Request::builder().method("POST").uri(&uri),
                |b, (k, v)| b.header(*k, *v),
            )
            .body(Full::new(body.clone()))
            .map_err(|e| transport(name, e))?;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service.signing_name)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing(name, e))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            uri.as_str(),
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| signing(name, e))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| signing(name, e))?
            .into_parts();
        instructions.apply_to_request_http1x(&mut request);

        let answer = self
            .http
            .request(request)
            .await
            .map_err(|e| transport(name, e))?;
        let status = answer.status().as_u16();
        let header_code = answer
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).to_string());
        let bytes = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(name, e))?
            .to_bytes();
        let doc: serde_json::Value = if bytes.is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(d) => d,
                Err(e) if status < 300 => return Err(transport(name, e)),
                Err(_) => serde_json::Value::Null,
            }
        };
        if status < 300 {
            return Ok(doc);
        }
        // `__type` is `com.amazonaws.dynamodb.v20120810#ThrottlingException`
        // or the bare code; the header wins when both are there.
        let body_code = doc
            .get("__type")
            .or_else(|| doc.get("code"))
            .and_then(|t| t.as_str())
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
        let message = ["message", "Message"]
            .iter()
            .find_map(|k| doc.get(*k).and_then(|m| m.as_str()))
            .unwrap_or("")
            .to_string();
        Err(SignedError::Api {
            operation: name.to_string(),
            code: header_code
                .or(body_code)
                .unwrap_or_else(|| format!("HTTP{status}")),
            message,
            status,
        })
    }
}

fn signing(operation: &str, e: impl std::fmt::Display) -> SignedError {
    SignedError::Credentials {
        operation: operation.to_string(),
        reason: e.to_string(),
    }
}

fn transport(operation: &str, e: impl std::fmt::Display) -> SignedError {
    SignedError::Transport {
        operation: operation.to_string(),
        reason: e.to_string(),
    }
}

/// What the SDK's standard retry mode retries.
fn retryable(e: &SignedError) -> bool {
    match e {
        SignedError::Api { code, status, .. } => {
            THROTTLING.contains(&code.as_str())
                || TRANSIENT.contains(&code.as_str())
                || matches!(status, 500 | 502 | 503 | 504)
        }
        SignedError::Transport { .. } => true,
        SignedError::Credentials { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str, status: u16) -> SignedError {
        SignedError::Api {
            operation: "dynamodb:ListTables".into(),
            code: code.into(),
            message: String::new(),
            status,
        }
    }

    #[test]
    fn retries_what_the_sdk_retries_and_nothing_else() {
        assert!(retryable(&api("ThrottlingException", 400)));
        assert!(retryable(&api(
            "ProvisionedThroughputExceededException",
            400
        )));
        assert!(retryable(&api("InternalServerError", 500)));
        assert!(retryable(&api("HTTP503", 503)));
        assert!(!retryable(&api("AccessDeniedException", 400)));
        assert!(!retryable(&api("ResourceNotFoundException", 400)));
        assert!(!retryable(&SignedError::Credentials {
            operation: "x".into(),
            reason: "y".into()
        }));
    }
}
