//! The skeleton every AWS kind shares, so that a kind's own code is only
//! its mapping: [`pages!`] walks a paginator (an error fails the scope with
//! the operation's name), [`kind!`] sends a row for every object of every
//! page, [`Writer::rows`] skips objects without an id (their mapping
//! returns `None`) and sends the rest with their edges, and
//! [`Writer::detailed`] does the same for objects that need calls of their
//! own first (tags, attributes), `detail_concurrency` at once. The rows
//! themselves (base columns, home edge, links) are the cloud-agnostic
//! [`Row`]s of `crate::writer`.

use std::future::Future;

use cloudtab_schema::ResourceRef;
use futures::StreamExt;

use crate::details::in_order;
use crate::writer::Row;

use super::{Failure, Writer};

/// Runs `$body` for every page of a paginator stream; an error fails the
/// scope with the operation's name.
macro_rules! pages {
    ($op:literal, $stream:expr, |$page:ident| $body:block) => {{
        let mut stream = $stream;
        while let Some(page) = stream.next().await {
            let $page = page.map_err(|e| $crate::aws::clients::api_failure($op, &e))?;
            $body
        }
    }};
}

/// Sends the row `$map` makes of every object of every page:
/// `kind!(w, "ec2:DescribeVpcs", <paginator stream>, vpcs, vpc::row)`,
/// where `vpcs` is the page's accessor of the objects.
macro_rules! kind {
    ($w:ident, $op:literal, $stream:expr, $items:ident, $map:expr) => {
        pages!($op, $stream, |page| {
            $w.rows(page.$items(), $map).await?;
        })
    };
}

impl Writer<'_> {
    /// [`crate::writer::ScopeWriter::send`], callable as `w.send(row(w, …))`.
    pub(crate) async fn send(&mut self, row: Row) -> Result<ResourceRef, Failure> {
        Ok(self.w.send(row).await?)
    }

    /// Sends the row `map` makes of each of `items`, with its edges;
    /// objects it makes none of (`None`: no id) are skipped.
    pub(crate) async fn rows<T: Sync>(
        &mut self,
        items: &[T],
        mut map: impl FnMut(&Self, &T) -> Option<Row> + Send,
    ) -> Result<(), Failure> {
        for item in items {
            if let Some(row) = map(self, item) {
                self.send(row).await?;
            }
        }
        Ok(())
    }

    /// [`Self::rows`] for objects that need detail calls: `fetch` asks about
    /// one object (`None`: it was deleted since it was listed), at most
    /// `detail_concurrency` at once; `map` makes the row of each answer, in
    /// the order of `items`, whatever order the answers come in.
    pub(crate) async fn detailed<'i, T, D, Fut>(
        &mut self,
        items: &'i [T],
        fetch: impl FnMut(&'i T) -> Fut + Send + 'i,
        mut map: impl FnMut(&Self, D) -> Option<Row> + Send,
    ) -> Result<(), Failure>
    where
        T: Sync,
        D: Send + 'i,
        Fut: Future<Output = Result<Option<D>, Failure>> + Send + 'i,
    {
        let mut answers = in_order(items, self.concurrency, fetch);
        while let Some(answer) = answers.next().await {
            if let Some(row) = answer?.and_then(|d| map(self, d)) {
                self.send(row).await?;
            }
        }
        Ok(())
    }

    /// The ARN of a resource of the scope's account and region:
    /// `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub(crate) fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.account.partition,
            self.region(),
            self.account_id()
        )
    }
}
