use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cloudtab_schema::{Edge, EdgeType, Item, Resource, ResourceRef};
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

/// How an extractor hands items to the pipeline: buffers a chunk, then
/// waits for room in the bounded channel (back-pressure).
#[derive(Debug)]
pub struct Emitter {
    tx: mpsc::Sender<ItemChunk>,
    buf: Vec<Item>,
    counters: Arc<Counters>,
}

impl Emitter {
    /// An emitter that sends into `tx`.
    pub fn new(tx: mpsc::Sender<ItemChunk>) -> Self {
        Emitter {
            tx,
            buf: Vec::with_capacity(CHUNK),
            counters: Arc::default(),
        }
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
        }
    }

    fn count(&self, item: &Item) {
        let c = match item {
            Item::Resource(_) => &self.counters.resources,
            Item::Edge(_) => &self.counters.edges,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends an item (buffered).
    pub async fn emit(&mut self, item: Item) -> Result<(), PipelineClosed> {
        self.count(&item);
        self.buf.push(item);
        if self.buf.len() >= CHUNK {
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
        self.count(&item);
        self.buf.push(item);
        if self.buf.len() >= CHUNK {
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
