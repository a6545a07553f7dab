//! The AWS extractor: the AWS SDK for Rust does HTTP, signing, pagination
//! and retries; this module maps API objects onto the registry's tables.
//!
//! Scopes: per account `global/account` (the account and its regions),
//! `global/iam`, `global/s3` (buckets, each in its own region), and per
//! region `ec2`, `sqs`, `lambda`, `dynamodb`, `elbv2`, `rds` and `eks`.
//! Each scope gets its own SDK clients with an interceptor that counts
//! requests, retries and throttles into `_scopes`.

/// Runs `$body` for every page of a paginator stream; an error fails the
/// scope with the operation's name.
macro_rules! pages {
    ($op:literal, $stream:expr, |$page:ident| $body:block) => {{
        let mut stream = $stream;
        while let Some(page) = stream.next().await {
            let $page = page.map_err(|e| api_failure($op, &e))?;
            $body
        }
    }};
}

mod clients;
mod config;
mod convert;
mod ec2;
mod ec2_more;
mod ec2_net;
mod eks;
mod elbv2;
mod iam;
mod lambda_dynamodb;
mod rds;
mod s3;
pub mod signed;
mod sqs;

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use cloudtab_schema::{EdgeType, Resource, ResourceRef, Tags, Value};

pub use config::{AwsAccount, AwsConfig, Regions, SERVICES};

use crate::emitter::{Emitter, PipelineClosed};
use crate::extractor::{ExtractError, Extractor};
use crate::scope::{Scope, ScopeError, ScopeStats, ScopeStatus};
use clients::{AccountCtx, ScopeClients};

/// Region name of global scopes.
pub(crate) const GLOBAL: &str = "global";

/// Services read once per region, in scope order.
const REGIONAL: [&str; 7] = ["ec2", "sqs", "lambda", "dynamodb", "elbv2", "rds", "eks"];

/// Tables the AWS extractor fills.
pub const TABLES: &[&str] = &[
    "aws_account",
    "aws_region",
    "aws_iam_user",
    "aws_iam_role",
    "aws_s3_bucket",
    "aws_ec2_vpc",
    "aws_ec2_subnet",
    "aws_ec2_security_group",
    "aws_ec2_instance",
    "aws_ec2_volume",
    "aws_ec2_snapshot",
    "aws_sqs_queue",
    "aws_ec2_network_interface",
    "aws_ec2_elastic_ip",
    "aws_ec2_key_pair",
    "aws_ec2_internet_gateway",
    "aws_ec2_nat_gateway",
    "aws_ec2_route_table",
    "aws_ec2_network_acl",
    "aws_ec2_image",
    "aws_iam_group",
    "aws_iam_policy",
    "aws_iam_access_key",
    "aws_iam_instance_profile",
    "aws_ec2_instance_type",
    "aws_lambda_function",
    "aws_dynamodb_table",
    "aws_elbv2_load_balancer",
    "aws_elbv2_listener",
    "aws_elbv2_target_group",
    "aws_rds_subnet_group",
    "aws_rds_cluster",
    "aws_rds_instance",
    "aws_eks_cluster",
    "aws_eks_nodegroup",
    "aws_ec2_launch_template",
    "aws_ec2_vpc_endpoint",
    "aws_ec2_vpc_peering_connection",
    "aws_rds_snapshot",
    "aws_rds_cluster_snapshot",
];

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
        TABLES.to_vec()
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
            out.push(scope(&global, "account"));
            for s in ["iam", "s3"] {
                if self.config.reads(s) {
                    out.push(scope(&global, s));
                }
            }
            for r in &a.regions {
                for s in REGIONAL {
                    if self.config.reads(s) {
                        out.push(scope(&r.name, s));
                    }
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
        let clients = ScopeClients::new(&account, &self.config, &scope.region);
        let mut w = Writer {
            out,
            account: account.clone(),
            region: scope.region.clone(),
            emitted: 0,
        };
        let deadline = self.config.scope_timeout();
        let work = async {
            match scope.service {
                "account" => account_scope(&mut w).await,
                "iam" => iam::extract(&clients, &mut w).await,
                "s3" => s3::extract(&clients, &mut w).await,
                "ec2" => ec2::extract(&clients, &mut w).await,
                "sqs" => sqs::extract(&clients, &mut w).await,
                "lambda" => lambda_dynamodb::lambda(&clients, &mut w).await,
                "dynamodb" => lambda_dynamodb::dynamodb(&clients, &mut w).await,
                "elbv2" => elbv2::extract(&clients, &mut w).await,
                "rds" => rds::extract(&clients, &mut w).await,
                "eks" => eks::extract(&clients, &mut w).await,
                other => Err(Failure::Other(
                    ScopeStatus::Unsupported,
                    format!("service `{other}` is not implemented"),
                )),
            }
        };
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
        let stats = clients.stats();
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
                let status = if w.emitted > 0 && status != ScopeStatus::Unsupported {
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

/// Emits a scope's resources and edges, with the account's fields filled.
pub(crate) struct Writer<'a> {
    out: &'a mut Emitter,
    account: Arc<AccountCtx>,
    region: Arc<str>,
    emitted: u64,
}

impl Writer<'_> {
    /// A resource of `table` with `id` in `region` (the scope's region when
    /// `None`), everything else empty.
    pub(crate) fn new_resource(
        &self,
        table: &'static str,
        region: Option<&Arc<str>>,
        id: impl Into<String>,
    ) -> Resource {
        Resource {
            table,
            cloud: "aws",
            account_id: self.account.id.clone(),
            account_name: self.account.name.clone(),
            region: region.unwrap_or(&self.region).clone(),
            zone: None,
            id: id.into(),
            name: None,
            arn: None,
            ctime: Value::Null,
            mtime: Value::Null,
            atime: Value::Null,
            tags: Tags::default(),
            values: Vec::new(),
        }
    }

    /// A reference to a resource of this account.
    pub(crate) fn reference(
        &self,
        table: &'static str,
        region: &Arc<str>,
        id: impl AsRef<str>,
    ) -> ResourceRef {
        ResourceRef::new(table, "aws", &self.account.id, region, id)
    }

    /// The region's reference (regional resources hang off it).
    pub(crate) fn region_ref(&self, region: &Arc<str>) -> ResourceRef {
        self.reference("aws_region", region, region)
    }

    /// The account's reference.
    pub(crate) fn account_ref(&self) -> ResourceRef {
        self.reference("aws_account", &Arc::from(GLOBAL), &self.account.id)
    }

    /// Sends a resource; returns its reference.
    pub(crate) async fn put(&mut self, r: Resource) -> Result<ResourceRef, Failure> {
        let reference = self.out.resource(r).await?;
        self.emitted += 1;
        Ok(reference)
    }

    /// Sends an edge.
    pub(crate) async fn edge(
        &mut self,
        from: &ResourceRef,
        to: &ResourceRef,
        t: EdgeType,
    ) -> Result<(), Failure> {
        Ok(self.out.edge(from, to, t).await?)
    }

    /// `default` and `delete` edges: `to` lives in `from` and must go
    /// before it.
    pub(crate) async fn contains(
        &mut self,
        from: &ResourceRef,
        to: &ResourceRef,
    ) -> Result<(), Failure> {
        self.edge(from, to, EdgeType::Default).await?;
        self.edge(from, to, EdgeType::Delete).await
    }

    /// The account id.
    pub(crate) fn account_id(&self) -> &str {
        &self.account.id
    }
}

/// The account row, its regions, and account → region edges.
async fn account_scope(w: &mut Writer<'_>) -> Result<(), Failure> {
    let global: Arc<str> = Arc::from(GLOBAL);
    let account = w.account.clone();
    let mut a = w.new_resource("aws_account", Some(&global), account.id.to_string());
    a.name = account.name.as_deref().map(str::to_string);
    a.arn = account.caller_arn.clone();
    a.values = vec![("partition", Value::Text(account.partition.clone()))];
    let ar = w.put(a).await?;
    for r in &account.regions {
        let mut row = w.new_resource("aws_region", Some(&r.name), r.name.to_string());
        row.name = Some(r.name.to_string());
        row.values = vec![
            ("opt_in_status", Value::text_opt(r.opt_in_status.clone())),
            ("endpoint", Value::text_opt(r.endpoint.clone())),
        ];
        let rr = w.put(row).await?;
        w.edge(&ar, &rr, EdgeType::Default).await?;
    }
    Ok(())
}
