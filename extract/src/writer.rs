//! How every extractor turns what it read into rows: the AWS extractor, the
//! demo cloud and the coming GCP and Kubernetes extractors fill the base
//! columns, build `_id`s and references, and send resources, edges and
//! issues the same way, through this module.
//!
//! [`Origin`] is who a scope's rows belong to (cloud, account, region) and
//! builds rows and references from it; a [`Row`] is one resource as a
//! kind's mapping describes it (its columns and what it hangs off), and
//! [`ScopeWriter`] sends rows with their edges through the scope's
//! [`Emitter`] and counts them (a scope that fails after sending rows is
//! `partial`).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use cloudtab_schema::{Edge, EdgeType, Issue, Item, Resource, ResourceRef, Tags, Value};

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
    /// The run's clock: when the run started, the one "now" of all its
    /// scopes (what relative times an API gives are resolved against).
    pub now: DateTime<Utc>,
}

impl Origin {
    /// The origin of `scope`'s rows, read by a run that started `now`.
    pub fn of(
        scope: &Scope,
        account_table: &'static str,
        region_table: &'static str,
        now: DateTime<Utc>,
    ) -> Self {
        Origin {
            now,
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

    /// A row of `table` with native id `id` in `region` (the scope's region
    /// when `None`): [`Self::resource`] with its home edge.
    pub fn row(
        &self,
        table: &'static str,
        region: Option<&Arc<str>>,
        id: impl Into<String>,
    ) -> Row {
        Row::new(self.resource(table, region, id))
    }

    /// What a row of `table` in `region` hangs off when nothing else says:
    /// a region off its account, a global resource off the account, any
    /// other off its region; the account off nothing.
    fn home(&self, table: &str, region: &str) -> Option<Home> {
        if table == self.account_table {
            None
        } else if table == self.region_table || region == GLOBAL {
            Some(Home::Account)
        } else {
            Some(Home::Region)
        }
    }
}

enum Home {
    Account,
    Region,
}

/// The references rows hang off, made once per scope and region (a
/// reference hashes its id).
#[derive(Debug, Default)]
struct Homes {
    account: Option<ResourceRef>,
    regions: Vec<(Arc<str>, ResourceRef)>,
}

impl Homes {
    /// The home of a row of `table` in `region` (see [`Origin::home`]).
    fn of(&mut self, origin: &Origin, table: &str, region: &Arc<str>) -> Option<ResourceRef> {
        match origin.home(table, region)? {
            Home::Account => Some(*self.account.get_or_insert_with(|| origin.account_ref())),
            Home::Region => {
                if let Some((_, r)) = self.regions.iter().find(|(n, _)| n == region) {
                    return Some(*r);
                }
                let r = origin.region_ref(region);
                self.regions.push((region.clone(), r));
                Some(r)
            }
        }
    }
}

/// One resource as a kind's mapping describes it: its columns (a
/// [`Resource`], reached through `Deref`) and how it hangs off other
/// resources. Sent by [`ScopeWriter::send`] (or the demo cloud's
/// generator) as the resource, then its home edge (from its region, or
/// from the account for global resources and regions), then its links in
/// the order they were added, each once.
#[derive(Debug)]
pub struct Row {
    resource: Resource,
    home: bool,
    links: Vec<(ResourceRef, Link)>,
}

/// How a [`Row`] is linked to another resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Within,
    From,
    To,
    UsedBy,
    Uses,
}

impl Row {
    /// A row of `resource`, hanging off its home.
    pub fn new(resource: Resource) -> Self {
        Row {
            resource,
            home: true,
            links: Vec::new(),
        }
    }

    fn link(&mut self, others: impl IntoIterator<Item = ResourceRef>, link: Link) -> &mut Self {
        for other in others {
            if !self.links.contains(&(other, link)) {
                self.links.push((other, link));
            }
        }
        self
    }

    /// The resource lives in each of `parents` and must go before them
    /// (a subnet in its VPC): `default` and `delete` edges from the parent.
    pub fn within(&mut self, parents: impl IntoIterator<Item = ResourceRef>) -> &mut Self {
        self.link(parents, Link::Within)
    }

    /// [`Self::within`] a parent it exists only inside (a listener of its
    /// load balancer): no edge from its region or account.
    pub fn part_of(&mut self, parent: ResourceRef) -> &mut Self {
        self.home = false;
        self.within([parent])
    }

    /// `default` edges from each of `others` (a group to its members).
    pub fn from(&mut self, others: impl IntoIterator<Item = ResourceRef>) -> &mut Self {
        self.link(others, Link::From)
    }

    /// `default` edges to each of `others` (a listener to its target
    /// groups).
    pub fn to(&mut self, others: impl IntoIterator<Item = ResourceRef>) -> &mut Self {
        self.link(others, Link::To)
    }

    /// Each of `others` uses the resource (an instance its volume): a
    /// `default` edge from it, and it must go before the resource (a
    /// `delete` edge to it).
    pub fn used_by(&mut self, others: impl IntoIterator<Item = ResourceRef>) -> &mut Self {
        self.link(others, Link::UsedBy)
    }

    /// The resource uses each of `others` (an image its snapshots): the
    /// reverse of [`Self::used_by`].
    pub fn uses(&mut self, others: impl IntoIterator<Item = ResourceRef>) -> &mut Self {
        self.link(others, Link::Uses)
    }

    /// The resource, and its links.
    fn split(self) -> (Resource, Links) {
        let Row {
            resource,
            home,
            links,
        } = self;
        (resource, Links { home, links })
    }
}

/// A row's links, before it is sent.
struct Links {
    home: bool,
    links: Vec<(ResourceRef, Link)>,
}

impl Links {
    /// The edges of the row sent as `me`, whose home is `home`.
    fn edges(self, home: Option<ResourceRef>, me: ResourceRef) -> Edges {
        Edges {
            me,
            pending: home
                .filter(|_| self.home)
                .map(|h| edge(h, me, EdgeType::Default)),
            links: self.links.into_iter(),
        }
    }
}

/// A sent row's edges, in order (see [`Row`]).
pub struct Edges {
    me: ResourceRef,
    pending: Option<Edge>,
    links: std::vec::IntoIter<(ResourceRef, Link)>,
}

impl Iterator for Edges {
    type Item = Edge;
    fn next(&mut self) -> Option<Edge> {
        use EdgeType::{Default, Delete};
        if let Some(e) = self.pending.take() {
            return Some(e);
        }
        let me = self.me;
        let (other, link) = self.links.next()?;
        let (first, second) = match link {
            Link::Within => (edge(other, me, Default), Some(edge(other, me, Delete))),
            Link::From => (edge(other, me, Default), None),
            Link::To => (edge(me, other, Default), None),
            Link::UsedBy => (edge(other, me, Default), Some(edge(me, other, Delete))),
            Link::Uses => (edge(me, other, Default), Some(edge(other, me, Delete))),
        };
        self.pending = second;
        Some(first)
    }
}

fn edge(from: ResourceRef, to: ResourceRef, edge_type: EdgeType) -> Edge {
    Edge {
        from,
        to,
        edge_type,
    }
}

impl Deref for Row {
    type Target = Resource;
    fn deref(&self) -> &Resource {
        &self.resource
    }
}

impl DerefMut for Row {
    fn deref_mut(&mut self) -> &mut Resource {
        &mut self.resource
    }
}

/// Turns rows into items for code that sends items itself (the demo
/// cloud's generator runs on a blocking thread): the same items, in the
/// same order, as [`ScopeWriter::send`].
#[derive(Debug)]
pub struct RowItems {
    origin: Origin,
    homes: Homes,
}

impl RowItems {
    /// Rows of `origin`.
    pub fn new(origin: Origin) -> Self {
        RowItems {
            origin,
            homes: Homes::default(),
        }
    }

    /// Who the rows belong to.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The row's resource item and its reference, and its edges.
    pub fn items(&mut self, row: Row) -> (Item, ResourceRef, Edges) {
        let (resource, links) = row.split();
        let home = self
            .homes
            .of(&self.origin, resource.table, &resource.region);
        let (item, me) = Item::resource(resource);
        (item, me, links.edges(home, me))
    }
}

/// Sends one scope's rows: an [`Origin`] and the scope's [`Emitter`].
#[derive(Debug)]
pub struct ScopeWriter<'a> {
    rows: RowItems,
    out: &'a mut Emitter,
    emitted: u64,
}

impl<'a> ScopeWriter<'a> {
    /// A writer of `origin`'s rows into `out`.
    pub fn new(origin: Origin, out: &'a mut Emitter) -> Self {
        ScopeWriter {
            rows: RowItems::new(origin),
            out,
            emitted: 0,
        }
    }

    /// Who the rows belong to.
    pub fn origin(&self) -> &Origin {
        &self.rows.origin
    }

    /// The scope's region.
    pub fn region(&self) -> &Arc<str> {
        &self.rows.origin.region
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.rows.origin.account_id
    }

    /// See [`Origin::reference`].
    pub fn reference(&self, table: &'static str, region: &str, id: impl AsRef<str>) -> ResourceRef {
        self.rows.origin.reference(table, region, id)
    }

    /// See [`Origin::row`].
    pub fn row(&self, table: &'static str, id: impl Into<String>) -> Row {
        self.rows.origin.row(table, None, id)
    }

    /// A reference to a resource of this account in the scope's region.
    pub fn here(&self, table: &'static str, id: impl AsRef<str>) -> ResourceRef {
        let o = &self.rows.origin;
        o.reference(table, &o.region, id)
    }

    /// See [`Origin::row`]: a row in another region than the scope's.
    pub fn row_in(&self, table: &'static str, region: &Arc<str>, id: impl Into<String>) -> Row {
        self.rows.origin.row(table, Some(region), id)
    }

    /// A reference to a global resource of this account (an IAM role).
    pub fn global(&self, table: &'static str, id: impl AsRef<str>) -> ResourceRef {
        self.rows.origin.reference(table, GLOBAL, id)
    }

    /// Sends a row and its edges (see [`Row`]); returns its reference.
    pub async fn send(&mut self, row: Row) -> Result<ResourceRef, PipelineClosed> {
        let (item, me, edges) = self.rows.items(row);
        self.out.emit(item).await?;
        self.emitted += 1;
        for e in edges {
            self.out.emit(Item::Edge(e)).await?;
        }
        Ok(me)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(region: &str) -> Origin {
        let scope = Scope {
            cloud: "aws",
            account_id: Arc::from("123456789012"),
            account_name: None,
            region: Arc::from(region),
            service: "ec2",
        };
        Origin::of(&scope, "aws_account", "aws_region", DateTime::UNIX_EPOCH)
    }

    fn edges(
        items: &mut RowItems,
        row: Row,
    ) -> (ResourceRef, Vec<(ResourceRef, ResourceRef, EdgeType)>) {
        let (_, me, edges) = items.items(row);
        (me, edges.map(|e| (e.from, e.to, e.edge_type)).collect())
    }

    #[test]
    fn a_row_hangs_off_its_home_then_its_links_in_order_each_once() {
        use EdgeType::{Default, Delete};
        let o = origin("eu-west-1");
        let region = o.region_ref("eu-west-1");
        let vpc = o.reference("aws_ec2_vpc", "eu-west-1", "vpc-1");
        let group = o.reference("aws_ec2_security_group", "eu-west-1", "sg-1");
        let role = o.reference("aws_iam_role", GLOBAL, "r");
        let volume = o.reference("aws_ec2_volume", "eu-west-1", "vol-1");
        let snapshot = o.reference("aws_ec2_snapshot", "eu-west-1", "snap-1");
        let mut items = RowItems::new(o.clone());
        let mut row = o.row("aws_ec2_instance", None, "i-1");
        row.within([vpc, vpc])
            .from([group])
            .to([role])
            .used_by([volume]);
        row.uses([snapshot]).within(Some(vpc));
        let (me, got) = edges(&mut items, row);
        assert_eq!(
            got,
            vec![
                (region, me, Default),
                (vpc, me, Default),
                (vpc, me, Delete),
                (group, me, Default),
                (me, role, Default),
                (volume, me, Default),
                (me, volume, Delete),
                (me, snapshot, Default),
                (snapshot, me, Delete),
            ]
        );

        // Part of a parent: no home edge.
        let mut row = o.row("aws_elbv2_listener", None, "l-1");
        row.part_of(vpc);
        let (me, got) = edges(&mut items, row);
        assert_eq!(got, vec![(vpc, me, Default), (vpc, me, Delete)]);
    }

    #[test]
    fn homes_are_the_region_the_account_or_nothing() {
        let o = origin(GLOBAL);
        let account = o.account_ref();
        let mut items = RowItems::new(o.clone());
        let (_, got) = edges(&mut items, o.row("aws_account", None, "123456789012"));
        assert_eq!(got, vec![]);
        let region: Arc<str> = Arc::from("us-east-1");
        let (me, got) = edges(&mut items, o.row("aws_region", Some(&region), "us-east-1"));
        assert_eq!(got, vec![(account, me, EdgeType::Default)]);
        let (me, got) = edges(&mut items, o.row("aws_iam_role", None, "r"));
        assert_eq!(got, vec![(account, me, EdgeType::Default)]);
        // A bucket read by a global scope lives in its own region.
        let (me, got) = edges(&mut items, o.row("aws_s3_bucket", Some(&region), "b"));
        assert_eq!(
            got,
            vec![(o.region_ref("us-east-1"), me, EdgeType::Default)]
        );
    }
}
