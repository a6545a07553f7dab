//! A deterministic demo cloud: a realistic AWS-shaped inventory from a seed.
//!
//! It fills the same tables the AWS extractor fills, so everything
//! downstream (flattener, sinks, queries, dbt) runs without a cloud account.
//! It is the quick start's default source and the benchmarks' load.
//!
//! Scale `N` makes about `100 × N` resources: `ceil(N / 25)` accounts, each
//! with two or three regions, holding VPCs, subnets, security groups,
//! instances with attached and unattached volumes, snapshots, queues,
//! buckets, users and roles, with `default` and `delete` edges. Tags
//! `owner` and `expires` are sometimes missing, malformed or in the past;
//! timestamps come in the shapes real APIs use (ISO 8601 with `Z`, with
//! offsets, without a zone, epoch seconds as text, epoch milliseconds, SDK
//! date-times), and about one snapshot in 500 has an unreadable start time,
//! so `_issues` is exercised too. Every scope's content depends only on the
//! seed and the scope, never on timing or concurrency.

mod gen;
mod rng;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use cloudtab_schema::Item;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::emitter::Emitter;
use crate::extractor::{ExtractError, Extractor};
use crate::scope::{Scope, ScopeError, ScopeStats};

/// Configuration of the `demo` source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    /// Size of the inventory: about 100 resources per unit (1 to 100000).
    #[serde(default = "default_scale")]
    pub scale: u64,
    /// Seed of the generator: the same seed and scale give the same
    /// inventory.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Scopes that fail with an access-denied error, as
    /// `account/region/service` patterns where `*` matches anything
    /// (`*/eu-west-1/sqs`); for trying out failure handling.
    #[serde(default)]
    pub fail_scopes: Vec<String>,
}

fn default_scale() -> u64 {
    1
}
fn default_seed() -> u64 {
    42
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            scale: default_scale(),
            seed: default_seed(),
            fail_scopes: Vec::new(),
        }
    }
}

/// Largest scale accepted (about ten million resources).
pub const MAX_SCALE: u64 = 100_000;

impl DemoConfig {
    /// Checks the values; the message names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        if self.scale == 0 || self.scale > MAX_SCALE {
            return Err(format!(
                "scale: must be between 1 and {MAX_SCALE}, got {}",
                self.scale
            ));
        }
        for p in &self.fail_scopes {
            if p.split('/').count() != 3 {
                return Err(format!("fail_scopes: `{p}` must have the form account/region/service (use * as a wildcard)"));
            }
        }
        Ok(())
    }
}

/// The `demo` extractor.
pub struct DemoExtractor {
    config: DemoConfig,
    layout: gen::Layout,
}

impl DemoExtractor {
    /// A demo cloud for `config` (validate it first).
    pub fn new(config: DemoConfig) -> Self {
        let layout = gen::Layout::new(config.scale, config.seed);
        DemoExtractor { config, layout }
    }

    fn fails(&self, scope: &Scope) -> bool {
        let parts = [&*scope.account_id, &*scope.region, scope.service];
        self.config.fail_scopes.iter().any(|p| {
            p.split('/')
                .zip(parts)
                .all(|(pat, val)| pat == "*" || pat == val)
        })
    }
}

#[async_trait]
impl Extractor for DemoExtractor {
    fn name(&self) -> &'static str {
        "demo"
    }

    /// Every AWS table of the model, not only the kinds the demo fills:
    /// a demo snapshot then has the same tables as a full AWS sync (empty
    /// where the demo has no such resources), so queries, dbt models and
    /// dashboards built on it run on real data unchanged.
    fn tables(&self) -> Vec<&'static str> {
        cloudtab_schema::Registry::builtin()
            .resource_tables()
            .filter(|t| {
                matches!(
                    t.kind,
                    cloudtab_schema::TableKind::Resource { cloud: "aws", .. }
                )
            })
            .map(|t| t.name)
            .collect()
    }

    async fn scopes(&self) -> Result<Vec<Scope>, ExtractError> {
        Ok(self.layout.scopes())
    }

    async fn extract(&self, scope: &Scope, out: &mut Emitter) -> Result<ScopeStats, ScopeError> {
        if self.fails(scope) {
            return Err(ScopeError::denied(format!(
                "AccessDenied: the demo source was told to fail scope {scope} (fail_scopes)"
            )));
        }
        let layout = self.layout.clone();
        let scope = scope.clone();
        let mut out = out.clone_empty();
        // Generation is CPU work: it runs on a blocking thread and waits for
        // room in the channel there.
        let joined = tokio::task::spawn_blocking(move || {
            let mut closed = false;
            let calls = layout.generate(&scope, &mut |item| {
                if !closed && out.blocking_emit(item).is_err() {
                    closed = true;
                }
            });
            if closed || out.blocking_flush().is_err() {
                return Err(ScopeError::failed("the pipeline stopped receiving items"));
            }
            Ok(calls)
        })
        .await;
        match joined {
            Ok(Ok(api_calls)) => Ok(ScopeStats {
                api_calls,
                retries: 0,
                throttles: 0,
            }),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(ScopeError::failed(format!(
                "demo generator task failed: {e}"
            ))),
        }
    }
}

/// What a demo inventory holds: rows per table and edges per type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoCounts {
    /// Resources per table.
    pub tables: BTreeMap<&'static str, u64>,
    /// Edges per type (`default`, `delete`).
    pub edges: BTreeMap<&'static str, u64>,
    /// Scopes.
    pub scopes: u64,
}

/// Counts what the demo cloud for `config` holds, by generating it without
/// a pipeline (scopes in `fail_scopes` included). Tests compare these with
/// what reached a sink.
pub fn counts(config: &DemoConfig) -> DemoCounts {
    let layout = gen::Layout::new(config.scale, config.seed);
    let mut c = DemoCounts::default();
    for scope in layout.scopes() {
        c.scopes += 1;
        layout.generate(&scope, &mut |item| match item {
            Item::Resource(r) => *c.tables.entry(r.table).or_default() += 1,
            Item::Edge(e) => *c.edges.entry(e.edge_type.as_str()).or_default() += 1,
            // The generator never sends issues itself.
            Item::Issue(_) => {}
        });
    }
    c
}

/// Account ids of the demo cloud for `config`, in scope order.
pub fn account_ids(config: &DemoConfig) -> Vec<Arc<str>> {
    gen::Layout::new(config.scale, config.seed)
        .accounts
        .iter()
        .map(|a| a.id.clone())
        .collect()
}

#[cfg(test)]
mod tests;
