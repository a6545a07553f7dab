//! The AWS [`Extractor`]: plans an account's scopes from the service table
//! and runs one scope with its service's function, under the scope's
//! deadline.

use std::sync::{Arc, RwLock};

use std::ops::{Deref, DerefMut};

use async_trait::async_trait;

use super::clients::{AccountCtx, ScopeCtx};
use super::config::{AwsAccount, AwsConfig};
use super::services::{self, tables};
use crate::emitter::{Emitter, PipelineClosed};
use crate::extractor::{ExtractError, Extractor};
use crate::scope::{Scope, ScopeError, ScopeStats, ScopeStatus};
use crate::writer::{Origin, ScopeWriter, GLOBAL};

/// Reads AWS accounts.
pub struct AwsExtractor {
    config: AwsConfig,
    accounts: RwLock<Vec<Arc<AccountCtx>>>,
}

impl AwsExtractor {
    /// An extractor for `config` (checked with [`AwsConfig::validate`]).
    pub fn new(config: AwsConfig) -> Self {
        AwsExtractor {
            config,
            accounts: RwLock::new(Vec::new()),
        }
    }

    fn account(&self, id: &str) -> Option<Arc<AccountCtx>> {
        self.accounts
            .read()
            .ok()?
            .iter()
            .find(|a| &*a.id == id)
            .cloned()
    }
}

#[async_trait]
impl Extractor for AwsExtractor {
    fn name(&self) -> &'static str {
        "aws"
    }

    fn tables(&self) -> Vec<&'static str> {
        tables()
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ExtractError> {
        let wanted: Vec<AwsAccount> = if self.config.accounts.is_empty() {
            vec![AwsAccount::default()]
        } else {
            self.config.accounts.clone()
        };
        let mut accounts = Vec::new();
        for (i, a) in wanted.iter().enumerate() {
            let ctx = AccountCtx::connect(&self.config, a)
                .await
                .map_err(|message| ExtractError::Config {
                    source_name: "aws",
                    message: format!("accounts[{i}]: {message}"),
                })?;
            if accounts.iter().any(|x: &Arc<AccountCtx>| x.id == ctx.id) {
                tracing::warn!(account = %ctx.id, "account listed twice; read once");
                continue;
            }
            accounts.push(Arc::new(ctx));
        }
        let mut out = Vec::new();
        let global: Arc<str> = Arc::from(GLOBAL);
        for a in &accounts {
            let scope = |region: &Arc<str>, service: &'static str| Scope {
                cloud: "aws",
                account_id: a.id.clone(),
                account_name: a.name.clone(),
                region: region.clone(),
                service,
            };
            let reads = |s: &services::Service| s.always || self.config.reads(s.name);
            for s in services::SERVICES.iter().filter(|s| s.global && reads(s)) {
                out.push(scope(&global, s.name));
            }
            for r in &a.regions {
                for s in services::SERVICES.iter().filter(|s| !s.global && reads(s)) {
                    out.push(scope(&r.name, s.name));
                }
            }
        }
        if let Ok(mut w) = self.accounts.write() {
            *w = accounts;
        }
        Ok(out)
    }

    async fn extract(&self, scope: &Scope, out: &mut Emitter) -> Result<ScopeStats, ScopeError> {
        let Some(account) = self.account(&scope.account_id) else {
            return Err(ScopeError::failed(format!(
                "account {} was not planned",
                scope.account_id
            )));
        };
        let Some(service) = services::find(scope.service) else {
            return Err(ScopeError {
                status: ScopeStatus::Unsupported,
                message: format!("service `{}` is not implemented", scope.service),
                stats: ScopeStats::default(),
            });
        };
        let ctx = ScopeCtx::new(&account, &self.config, &scope.region, service.name);
        let mut w = Writer {
            w: ScopeWriter::new(
                Origin::of(scope, "aws_account", "aws_region", out.clock()),
                out,
            ),
            account: account.clone(),
            concurrency: self.config.detail_concurrency,
        };
        let deadline = self.config.scope_timeout();
        let work = (service.extract)(&ctx, &mut w);
        // Whatever the API does (a peer that accepts and never answers, a
        // retry storm), a scope ends by its deadline.
        let result = match tokio::time::timeout(deadline, work).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Other(
                ScopeStatus::Failed,
                format!(
                    "the scope did not finish within its deadline of {} s (scope_timeout_secs); the API is too slow or does not answer",
                    deadline.as_secs()
                ),
            )),
        };
        let stats = ctx.stats();
        match result {
            Ok(()) => Ok(stats),
            Err(Failure::Closed) => Err(ScopeError {
                status: ScopeStatus::Failed,
                message: "the pipeline stopped receiving items".into(),
                stats,
            }),
            Err(Failure::Other(status, message)) => {
                // Rows already sent stay; carry-forward fills in the rest
                // from the previous snapshot.
                let status = if w.emitted() > 0 && status != ScopeStatus::Unsupported {
                    ScopeStatus::Partial
                } else {
                    status
                };
                Err(ScopeError {
                    status,
                    message,
                    stats,
                })
            }
        }
    }
}

/// Why a service's extraction stopped.
pub(crate) enum Failure {
    /// The pipeline is gone.
    Closed,
    /// An API call failed: the status the scope gets, and the message.
    Other(ScopeStatus, String),
}

impl From<PipelineClosed> for Failure {
    fn from(_: PipelineClosed) -> Self {
        Failure::Closed
    }
}

/// The AWS scope writer: the shared [`ScopeWriter`] and the account's
/// details (its partition, for ARNs).
pub(crate) struct Writer<'a> {
    pub(super) w: ScopeWriter<'a>,
    pub(crate) account: Arc<AccountCtx>,
    /// Detail calls in flight at once (`detail_concurrency`).
    pub(crate) concurrency: usize,
}

impl<'a> Deref for Writer<'a> {
    type Target = ScopeWriter<'a>;
    fn deref(&self) -> &ScopeWriter<'a> {
        &self.w
    }
}

impl DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.w
    }
}
