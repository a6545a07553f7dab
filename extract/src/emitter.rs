use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cloudtab_schema::{Edge, EdgeType, Issue, Item, Resource, ResourceRef, EDGES_TABLE};
use tokio::sync::mpsc;

/// Items travel in chunks: one channel message per few hundred items keeps
/// the channel's cost per item small.
pub type ItemChunk = Vec<Item>;

const CHUNK: usize = 256;

/// The receiving side is gone: the run is failing or was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the pipeline stopped receiving items (the run is being aborted)")]
pub struct PipelineClosed;

/// Per-scope counters, shared by every clone of an [`Emitter`] and read by
/// progress displays while the scope runs.
#[derive(Debug, Default)]
pub struct Counters {
    /// Resources sent.
    pub resources: AtomicU64,
    /// Edges sent.
    pub edges: AtomicU64,
}

/// A hasher for keys that are well mixed already ([`Edge::key`]).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// How an extractor hands items to the pipeline: buffers a chunk, then
/// waits for room in the bounded channel (back-pressure).
///
/// Edges are unique per `(from_id, to_id, edge_type)`: an edge this emitter
/// (one scope) has sent already is not sent again; an `_issues` row names
/// it instead, so a sink never meets a duplicate key. The keys of the
/// scope's edges are held until the scope ends (8 bytes each).
#[derive(Debug)]
pub struct Emitter {
    tx: mpsc::Sender<ItemChunk>,
    buf: Vec<Item>,
    counters: Arc<Counters>,
    edges: HashSet<u64, BuildHasherDefault<KeyHasher>>,
    clock: DateTime<Utc>,
}

impl Emitter {
    /// An emitter that sends into `tx`, its run's clock set to now.
    pub fn new(tx: mpsc::Sender<ItemChunk>) -> Self {
        Emitter {
            tx,
            buf: Vec::with_capacity(CHUNK),
            counters: Arc::default(),
            edges: HashSet::default(),
            clock: Utc::now(),
        }
    }

    /// The same emitter for a run that started at `started`.
    pub fn with_clock(mut self, started: DateTime<Utc>) -> Self {
        self.clock = started;
        self
    }

    /// When the run started: the one "now" of every scope of the run
    /// (what an API's relative times are resolved against).
    pub fn clock(&self) -> DateTime<Utc> {
        self.clock
    }

    /// Counters of this emitter and its clones.
    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// Another emitter into the same channel with the same counters and an
    /// empty buffer (for work moved to another thread).
    pub fn clone_empty(&self) -> Self {
        Emitter {
            tx: self.tx.clone(),
            buf: Vec::with_capacity(CHUNK),
            counters: self.counters.clone(),
            edges: HashSet::default(),
            clock: self.clock,
        }
    }

    /// Buffers `item`, or for an edge sent before, an issue naming it.
    /// True when the buffer is full.
    fn buffer(&mut self, item: Item) -> bool {
        let item = match item {
            Item::Resource(ref _r) => {
                // An extractor's misspelt column or wrong type fails the
                // tests where it was written; release builds leave it to
                // the flattener (`NULL` and an `_issues` row).
                #[cfg(debug_assertions)]
                if let Err(e) = cloudtab_schema::Registry::builtin().check_resource(_r) {
                    panic!("extractor bug: {e}");
                }
                self.counters.resources.fetch_add(1, Ordering::Relaxed);
                item
            }
            Item::Edge(e) if self.edges.insert(e.key()) => {
                self.counters.edges.fetch_add(1, Ordering::Relaxed);
                Item::Edge(e)
            }
            Item::Edge(e) => Item::Issue(Box::new(duplicate(&e))),
            Item::Issue(_) => item,
        };
        self.buf.push(item);
        self.buf.len() >= CHUNK
    }

    /// Sends an item (buffered).
    pub async fn emit(&mut self, item: Item) -> Result<(), PipelineClosed> {
        if self.buffer(item) {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends a resource; returns the reference edges use to point at it.
    pub async fn resource(&mut self, r: Resource) -> Result<ResourceRef, PipelineClosed> {
        let (item, reference) = Item::resource(r);
        self.emit(item).await?;
        Ok(reference)
    }

    /// Sends an edge.
    pub async fn edge(
        &mut self,
        from: &ResourceRef,
        to: &ResourceRef,
        edge_type: EdgeType,
    ) -> Result<(), PipelineClosed> {
        self.emit(Item::Edge(Edge {
            from: *from,
            to: *to,
            edge_type,
        }))
        .await
    }

    /// Sends what is buffered.
    pub async fn flush(&mut self) -> Result<(), PipelineClosed> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.send(chunk).await.map_err(|_| PipelineClosed)
    }

    /// [`Self::emit`] for code on a blocking thread (never inside async code).
    pub fn blocking_emit(&mut self, item: Item) -> Result<(), PipelineClosed> {
        if self.buffer(item) {
            self.blocking_flush()?;
        }
        Ok(())
    }

    /// [`Self::flush`] for code on a blocking thread.
    pub fn blocking_flush(&mut self) -> Result<(), PipelineClosed> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(chunk).map_err(|_| PipelineClosed)
    }
}

/// The `_issues` row of an edge sent twice.
fn duplicate(e: &Edge) -> Issue {
    Issue {
        table: EDGES_TABLE,
        column: "edge_type",
        resource_id: Some(e.from.uid().to_string()),
        raw_value: format!(
            "{} {} -> {} {} ({})",
            e.from.table(),
            e.from.uid(),
            e.to.table(),
            e.to.uid(),
            e.edge_type.as_str()
        ),
        reason: "duplicate edge: the scope read it more than once; it is stored once".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_edge_sent_twice_is_sent_once_and_named_in_an_issue() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut out = Emitter::new(tx);
        let a = ResourceRef::new("aws_elbv2_target_group", "aws", "1", "r", "tg");
        let b = ResourceRef::new("aws_ec2_instance", "aws", "1", "r", "i-1");
        let c = ResourceRef::new("aws_ec2_instance", "aws", "1", "r", "i-2");
        for (from, to, ty) in [
            (&a, &b, EdgeType::Default),
            (&a, &b, EdgeType::Default),
            (&a, &b, EdgeType::Delete),
            (&a, &c, EdgeType::Default),
            (&b, &a, EdgeType::Default),
            (&a, &b, EdgeType::Default),
        ] {
            out.edge(from, to, ty).await.unwrap();
        }
        out.flush().await.unwrap();
        drop(out);
        let items: Vec<Item> = rx.recv().await.unwrap();
        let edges: Vec<&Edge> = items
            .iter()
            .filter_map(|i| match i {
                Item::Edge(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(edges.len(), 4, "one per (from, to, type)");
        let issues: Vec<&Issue> = items
            .iter()
            .filter_map(|i| match i {
                Item::Issue(i) => Some(&**i),
                _ => None,
            })
            .collect();
        assert_eq!(issues.len(), 2);
        assert!(issues.iter().all(|i| i.table == "_edges"
            && i.raw_value.contains(b.uid())
            && i.reason.starts_with("duplicate edge")));
    }
}
