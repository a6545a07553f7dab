//! How every extractor turns what it read into rows: the AWS extractor, the
//! demo cloud and the coming GCP and Kubernetes extractors fill the base
//! columns, build `_id`s and references, and send resources, edges and
//! issues the same way, through this module.
//!
//! [`Origin`] is who a scope's rows belong to (cloud, account, region) and
//! builds rows and references from it; [`ScopeWriter`] adds the scope's
//! [`Emitter`] and counts what was sent (a scope that fails after sending
//! rows is `partial`).

use std::sync::Arc;

use cloudtab_schema::{EdgeType, Issue, Item, Resource, ResourceRef, Tags, Value};

use crate::emitter::{Emitter, PipelineClosed};
use crate::scope::Scope;

/// Region of global resources and scopes.
pub const GLOBAL: &str = "global";

/// Who a scope's rows belong to, and the tables its cloud keeps accounts
/// and regions in (`aws_account`, `aws_region`): every regional resource
/// hangs off its region, every region off its account.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Cloud (`aws`).
    pub cloud: &'static str,
    /// Account id (AWS account, GCP project, Kubernetes cluster).
    pub account_id: Arc<str>,
    /// Account name, where there is one.
    pub account_name: Option<Arc<str>>,
    /// The scope's region ([`GLOBAL`] for global scopes).
    pub region: Arc<str>,
    /// Table of the cloud's accounts.
    pub account_table: &'static str,
    /// Table of the cloud's regions.
    pub region_table: &'static str,
}

impl Origin {
    /// The origin of `scope`'s rows.
    pub fn of(scope: &Scope, account_table: &'static str, region_table: &'static str) -> Self {
        Origin {
            cloud: scope.cloud,
            account_id: scope.account_id.clone(),
            account_name: scope.account_name.clone(),
            region: scope.region.clone(),
            account_table,
            region_table,
        }
    }

    /// A resource of `table` with native id `id` in `region` (the scope's
    /// region when `None`), its base columns filled, everything else empty.
    pub fn resource(
        &self,
        table: &'static str,
        region: Option<&Arc<str>>,
        id: impl Into<String>,
    ) -> Resource {
        Resource {
            table,
            cloud: self.cloud,
            account_id: self.account_id.clone(),
            account_name: self.account_name.clone(),
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

    /// A reference to a resource of this account (read by this scope or
    /// another).
    pub fn reference(&self, table: &'static str, region: &str, id: impl AsRef<str>) -> ResourceRef {
        ResourceRef::new(table, self.cloud, &self.account_id, region, id)
    }

    /// The region's reference.
    pub fn region_ref(&self, region: &str) -> ResourceRef {
        self.reference(self.region_table, region, region)
    }

    /// The account's reference.
    pub fn account_ref(&self) -> ResourceRef {
        self.reference(self.account_table, GLOBAL, &self.account_id)
    }
}

/// Sends one scope's rows: an [`Origin`] and the scope's [`Emitter`].
#[derive(Debug)]
pub struct ScopeWriter<'a> {
    origin: Origin,
    out: &'a mut Emitter,
    emitted: u64,
}

impl<'a> ScopeWriter<'a> {
    /// A writer of `origin`'s rows into `out`.
    pub fn new(origin: Origin, out: &'a mut Emitter) -> Self {
        ScopeWriter {
            origin,
            out,
            emitted: 0,
        }
    }

    /// Who the rows belong to.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The scope's region.
    pub fn region(&self) -> &Arc<str> {
        &self.origin.region
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.origin.account_id
    }

    /// See [`Origin::resource`].
    pub fn new_resource(
        &self,
        table: &'static str,
        region: Option<&Arc<str>>,
        id: impl Into<String>,
    ) -> Resource {
        self.origin.resource(table, region, id)
    }

    /// See [`Origin::reference`].
    pub fn reference(&self, table: &'static str, region: &str, id: impl AsRef<str>) -> ResourceRef {
        self.origin.reference(table, region, id)
    }

    /// See [`Origin::region_ref`].
    pub fn region_ref(&self, region: &str) -> ResourceRef {
        self.origin.region_ref(region)
    }

    /// See [`Origin::account_ref`].
    pub fn account_ref(&self) -> ResourceRef {
        self.origin.account_ref()
    }

    /// Sends a resource; returns its reference.
    pub async fn put(&mut self, r: Resource) -> Result<ResourceRef, PipelineClosed> {
        let reference = self.out.resource(r).await?;
        self.emitted += 1;
        Ok(reference)
    }

    /// Sends an edge.
    pub async fn edge(
        &mut self,
        from: &ResourceRef,
        to: &ResourceRef,
        t: EdgeType,
    ) -> Result<(), PipelineClosed> {
        self.out.edge(from, to, t).await
    }

    /// `default` and `delete` edges: `to` lives in `from` and must go
    /// before it.
    pub async fn contains(
        &mut self,
        from: &ResourceRef,
        to: &ResourceRef,
    ) -> Result<(), PipelineClosed> {
        self.edge(from, to, EdgeType::Default).await?;
        self.edge(from, to, EdgeType::Delete).await
    }

    /// Sends an `_issues` row: something read that could not be stored as
    /// it came.
    pub async fn issue(&mut self, issue: Issue) -> Result<(), PipelineClosed> {
        self.out.emit(Item::Issue(Box::new(issue))).await
    }

    /// Resources sent so far.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }
}
