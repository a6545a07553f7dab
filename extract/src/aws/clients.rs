//! SDK configuration per account, clients per scope, and what a failed
//! call means for the scope.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::region::Region;
use aws_types::SdkConfig;

use super::config::{AwsAccount, AwsConfig, Regions};
use super::Failure;
use crate::scope::{ScopeStats, ScopeStatus};

/// A region of an account, as `DescribeRegions` lists it.
#[derive(Debug, Clone)]
pub(crate) struct RegionInfo {
    pub name: Arc<str>,
    pub endpoint: Option<String>,
    pub opt_in_status: Option<String>,
}

/// One account, connected.
pub(crate) struct AccountCtx {
    pub id: Arc<str>,
    pub name: Option<Arc<str>>,
    pub partition: String,
    pub caller_arn: Option<String>,
    pub regions: Vec<RegionInfo>,
    pub sdk: SdkConfig,
}

fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

impl AccountCtx {
    /// Resolves credentials, the account id (STS), its alias (IAM) and its
    /// regions. An error here names what to fix.
    pub(crate) async fn connect(config: &AwsConfig, a: &AwsAccount) -> Result<AccountCtx, String> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .retry_config(RetryConfig::adaptive().with_max_attempts(config.max_attempts))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(
                        config
                            .request_timeout()
                            .min(std::time::Duration::from_secs(10)),
                    )
                    .read_timeout(config.request_timeout())
                    .operation_attempt_timeout(config.request_timeout())
                    .build(),
            );
        if let Some(p) = &a.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &config.home_region {
            loader = loader.region(Region::new(r.clone()));
        }
        let mut sdk = loader.load().await;
        if sdk.region().is_none() {
            sdk = sdk.into_builder().region(Region::new("us-east-1")).build();
        }
        if let Some(role) = &a.role_arn {
            // The role is assumed through STS at its configured endpoint.
            let sts_conf = match config.endpoint("sts") {
                Some(e) => sdk.clone().into_builder().endpoint_url(e).build(),
                None => sdk.clone(),
            };
            let mut b = aws_config::sts::AssumeRoleProvider::builder(role.clone())
                .session_name("cloudtab")
                .configure(&sts_conf);
            if let Some(x) = &a.external_id {
                b = b.external_id(x.clone());
            }
            let provider = b.build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                )
                .build();
        }
        let sts = {
            let mut b = aws_sdk_sts::config::Builder::from(&sdk);
            if let Some(e) = config.endpoint("sts") {
                b = b.endpoint_url(e);
            }
            aws_sdk_sts::Client::from_conf(b.build())
        };
        let who = sts.get_caller_identity().send().await.map_err(|e| {
            format!(
                "cannot identify the account (sts:GetCallerIdentity): {}; check the credentials, profile or role",
                chain(&e)
            )
        })?;
        let id = who
            .account()
            .ok_or("sts:GetCallerIdentity returned no account id")?
            .to_string();
        let caller_arn = who.arn().map(str::to_string);
        let partition = caller_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(1))
            .unwrap_or("aws")
            .to_string();
        let iam = {
            let mut b = aws_sdk_iam::config::Builder::from(&sdk);
            if let Some(e) = config.endpoint("iam") {
                b = b.endpoint_url(e);
            }
            aws_sdk_iam::Client::from_conf(b.build())
        };
        let name = match iam.list_account_aliases().send().await {
            Ok(o) => o.account_aliases().first().map(|s| Arc::from(s.as_str())),
            Err(e) => {
                tracing::warn!(account = %id, error = %chain(&e), "no account alias (iam:ListAccountAliases failed); account_name stays empty");
                None
            }
        };
        let ec2 = {
            let mut b = aws_sdk_ec2::config::Builder::from(&sdk);
            if let Some(e) = config.endpoint("ec2") {
                b = b.endpoint_url(e);
            }
            aws_sdk_ec2::Client::from_conf(b.build())
        };
        let listed = ec2.describe_regions().send().await;
        let mut known: Vec<RegionInfo> = match &listed {
            Ok(o) => o
                .regions()
                .iter()
                .filter_map(|r| {
                    Some(RegionInfo {
                        name: Arc::from(r.region_name()?),
                        endpoint: r.endpoint().map(str::to_string),
                        opt_in_status: r.opt_in_status().map(str::to_string),
                    })
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        known.sort_by(|a, b| a.name.cmp(&b.name));
        let regions = match &config.regions {
            Regions::All => {
                if let Err(e) = listed {
                    return Err(format!(
                        "cannot list the account's regions (ec2:DescribeRegions): {}; grant it or list `regions:` explicitly",
                        chain(&e)
                    ));
                }
                known
            }
            Regions::List(list) => list
                .iter()
                .map(|r| {
                    known
                        .iter()
                        .find(|k| &*k.name == r.as_str())
                        .cloned()
                        .unwrap_or(RegionInfo {
                            name: Arc::from(r.as_str()),
                            endpoint: None,
                            opt_in_status: None,
                        })
                })
                .collect(),
        };
        Ok(AccountCtx {
            id: Arc::from(id),
            name,
            partition,
            caller_arn,
            regions,
            sdk,
        })
    }
}

/// API usage of one scope.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    calls: AtomicU64,
    retries: AtomicU64,
    throttles: AtomicU64,
}

/// Counts every attempt, retry and throttling answer of a client.
#[derive(Debug, Clone)]
struct Count(Arc<Counters>);

impl Intercept for Count {
    fn name(&self) -> &'static str {
        "cloudtab-scope-counters"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|a| a.attempts() > 1)
        {
            self.0.retries.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    // After deserialization the body of an error answer is in memory.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let status = response.status().as_u16();
        let throttled = status == 429
            || (status >= 400
                && response.body().bytes().is_some_and(|b| {
                    let text = String::from_utf8_lossy(&b[..b.len().min(4096)]);
                    [
                        "Throttl",
                        "RequestLimitExceeded",
                        "SlowDown",
                        "TooManyRequests",
                    ]
                    .iter()
                    .any(|w| text.contains(w))
                }));
        if throttled {
            self.0.throttles.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// What a scope's service needs to build its SDK client: the account's
/// SDK configuration in the scope's region, the service's endpoint, and
/// the scope's counters. Each service builds only its own client, when its
/// scope runs ([`sdk_client!`]).
pub(crate) struct ScopeCtx {
    counters: Arc<Counters>,
    sdk: SdkConfig,
    endpoint: Option<String>,
}

/// The SDK client of crate `$krate` (`aws_sdk_sqs`) for a scope
/// ([`ScopeCtx`]): its region and endpoint, its counters, the account's
/// credentials, retry and timeouts.
macro_rules! sdk_client {
    ($ctx:expr, $krate:ident) => {{
        let ctx: &$crate::aws::clients::ScopeCtx = $ctx;
        let mut b = $krate::config::Builder::from(ctx.sdk()).interceptor(ctx.counter());
        if let Some(e) = ctx.endpoint() {
            b = b.endpoint_url(e);
        }
        $krate::Client::from_conf(b.build())
    }};
}
pub(crate) use sdk_client;

impl ScopeCtx {
    /// The context of `service` in `region` (`global`: the account's home
    /// region).
    pub(crate) fn new(
        account: &AccountCtx,
        config: &AwsConfig,
        region: &str,
        service: &str,
    ) -> Self {
        let sdk = if region == super::GLOBAL {
            account.sdk.clone()
        } else {
            account
                .sdk
                .clone()
                .into_builder()
                .region(Region::new(region.to_string()))
                .build()
        };
        ScopeCtx {
            counters: Arc::default(),
            sdk,
            endpoint: config.endpoint(service).map(str::to_string),
        }
    }

    /// The account's SDK configuration in the scope's region.
    pub(crate) fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The endpoint configured for the scope's service, if any.
    pub(crate) fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The interceptor that counts the scope's requests.
    pub(crate) fn counter(&self) -> impl Intercept + 'static {
        Count(self.counters.clone())
    }

    /// Requests, retries and throttles so far.
    pub(crate) fn stats(&self) -> ScopeStats {
        ScopeStats {
            api_calls: self.counters.calls.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
            throttles: self.counters.throttles.load(Ordering::Relaxed),
        }
    }
}

/// What a failed call means for its scope: access problems are `denied`,
/// operations or endpoints that do not exist there `unsupported`, the rest
/// `failed`. The message names the operation and the API's error.
pub(crate) fn api_failure<E, R>(operation: &str, e: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let code = e.code().unwrap_or("");
    let text = chain(e);
    let status = match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "OptInRequired"
        | "AuthFailure"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "ExpiredToken"
        | "SignatureDoesNotMatch"
        | "AllAccessDisabled" => ScopeStatus::Denied,
        "InvalidAction"
        | "UnknownOperationException"
        | "NotImplemented"
        | "UnsupportedOperation" => ScopeStatus::Unsupported,
        _ if text.contains("not yet implemented")
            || text.contains("NotImplemented")
            || text.contains("dns error")
            || text.contains("failed to lookup address") =>
        {
            ScopeStatus::Unsupported
        }
        _ => ScopeStatus::Failed,
    };
    let what = if code.is_empty() {
        String::new()
    } else {
        format!("{code}: ")
    };
    let mut message = format!("{operation} failed: {what}{}", e.message().unwrap_or(&text));
    if message.len() > 1000 {
        let mut cut = 1000;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    Failure::Other(status, message)
}

/// An error and its causes, each once, joined with `: ` (the SDK's
/// `DisplayErrorContext` adds a debug dump that is unreadable in a
/// summary line).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// The error code of a service error, if the call got that far.
pub(crate) fn error_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}
