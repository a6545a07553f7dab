//! The flatten stage of a run: several [`Flattener`]s take chunks of items
//! from one bounded channel and send their full batches to one bounded
//! channel, so flattening uses every core the machine has while memory
//! stays bounded (each flattener holds at most `batch_rows` open rows per
//! table).
//!
//! Which flattener gets which chunk is first come, first served, so rows of
//! one table may arrive in batches from several flatteners, in no
//! particular order. Nothing downstream depends on row order: a snapshot is
//! a set of rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use cloudtab_schema::{Item, TableDef};
use tokio::sync::{mpsc, Mutex};

use crate::flattener::{FlattenError, Flattener, TableCounts};

/// A full batch of one table, on its way to the sinks.
pub type Batch = (&'static TableDef, RecordBatch);

/// How the flatten stage ended.
pub struct StageEnd {
    /// The flatteners, holding no open rows when `error` is `None` and the
    /// writer was there to the end. The run tables go into the first.
    pub flatteners: Vec<Flattener>,
    /// Time the flatteners were busy, summed over all of them.
    pub busy: Duration,
    /// The first flattener error; the stage stopped taking items then.
    pub error: Option<FlattenError>,
    /// The receiver of the batches went away before the stage finished.
    pub writer_gone: bool,
}

impl StageEnd {
    /// Counts of every flattener added up.
    pub fn counts(&self) -> TableCounts {
        TableCounts::total(&self.flatteners)
    }
}

/// Flattens every chunk `items` delivers with the flatteners in `flatteners`
/// (one task each), sending full batches and, when `items` ends, every
/// flattener's last batches into `batches`.
///
/// On a flattener error the item channel is closed, so extractors stop,
/// and no last batches are sent: the run is failing. Must run inside a
/// tokio runtime.
pub async fn flatten_all(
    flatteners: Vec<Flattener>,
    items: mpsc::Receiver<Vec<Item>>,
    batches: mpsc::Sender<Batch>,
) -> StageEnd {
    let items = Arc::new(Mutex::new(items));
    let tasks: Vec<_> = flatteners
        .into_iter()
        .map(|f| tokio::spawn(one_flattener(f, items.clone(), batches.clone())))
        .collect();
    drop(batches);
    let mut end = StageEnd {
        flatteners: Vec::with_capacity(tasks.len()),
        busy: Duration::ZERO,
        error: None,
        writer_gone: false,
    };
    for t in tasks {
        match t.await {
            Ok(one) => {
                end.busy += one.busy;
                end.writer_gone |= one.writer_gone;
                if end.error.is_none() {
                    end.error = one.error;
                }
                end.flatteners.push(one.flattener);
            }
            // A flattener never panics on data; a panic here is a bug and
            // stays one.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => end.writer_gone = true,
        }
    }
    end
}

struct OneEnd {
    flattener: Flattener,
    busy: Duration,
    error: Option<FlattenError>,
    writer_gone: bool,
}

async fn one_flattener(
    mut f: Flattener,
    items: Arc<Mutex<mpsc::Receiver<Vec<Item>>>>,
    batches: mpsc::Sender<Batch>,
) -> OneEnd {
    let mut busy = Duration::ZERO;
    let mut error = None;
    let mut writer_gone = false;
    loop {
        let chunk = items.lock().await.recv().await;
        let Some(chunk) = chunk else { break };
        let t = Instant::now();
        for item in chunk {
            if let Err(e) = f.push(item) {
                error = Some(e);
                break;
            }
        }
        busy += t.elapsed();
        if error.is_none() {
            writer_gone = !send(f.take_ready().collect(), &batches).await;
        }
        if error.is_some() || writer_gone {
            // Stop the extractors; the other flatteners drain what is queued.
            items.lock().await.close();
            break;
        }
    }
    if error.is_none() && !writer_gone {
        let t = Instant::now();
        let last = f.finish();
        busy += t.elapsed();
        match last {
            Ok(last) => writer_gone = !send(last, &batches).await,
            Err(e) => error = Some(e),
        }
    }
    OneEnd {
        flattener: f,
        busy,
        error,
        writer_gone,
    }
}

/// Sends batches; false when the receiver is gone.
async fn send(ready: Vec<Batch>, batches: &mpsc::Sender<Batch>) -> bool {
    for b in ready {
        if batches.send(b).await.is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flattener::RunContext;
    use cloudtab_schema::{Edge, EdgeType, Registry, Resource, ResourceRef, Value};

    fn flattener(batch_rows: usize) -> Flattener {
        Flattener::new(
            Registry::builtin(),
            RunContext {
                run_id: "r".into(),
                synced_at_micros: 0,
            },
            batch_rows,
        )
    }

    fn volume(i: usize) -> Item {
        Item::resource(volume_resource(i)).0
    }

    fn volume_resource(i: usize) -> Resource {
        Resource {
            table: "aws_ec2_volume",
            cloud: "aws",
            account_id: "1".into(),
            account_name: None,
            region: "r".into(),
            zone: None,
            id: format!("vol-{i}"),
            name: None,
            arn: None,
            ctime: Value::Text("not a time".into()),
            mtime: Value::Null,
            atime: Value::Null,
            tags: Default::default(),
            values: vec![],
        }
    }

    fn edge(i: usize) -> Item {
        let r = |t, id: String| ResourceRef::new(t, "aws", "1", "r", id);
        Item::Edge(Edge {
            from: r("aws_ec2_instance", format!("i-{i}")),
            to: r("aws_ec2_volume", format!("vol-{i}")),
            edge_type: EdgeType::Default,
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_item_reaches_exactly_one_batch_whatever_the_flattener() {
        let (item_tx, item_rx) = mpsc::channel(2);
        let (batch_tx, mut batch_rx) = mpsc::channel(2);
        let feeder = tokio::spawn(async move {
            for c in 0..50 {
                let chunk = (0..100)
                    .map(|i| {
                        let n = c * 100 + i;
                        if n % 3 == 0 {
                            volume(n)
                        } else {
                            edge(n)
                        }
                    })
                    .collect();
                item_tx.send(chunk).await.unwrap();
            }
        });
        let stage = tokio::spawn(flatten_all(
            vec![flattener(64), flattener(64), flattener(64)],
            item_rx,
            batch_tx,
        ));
        let mut rows = std::collections::BTreeMap::new();
        while let Some((def, batch)) = batch_rx.recv().await {
            *rows.entry(def.name).or_insert(0) += batch.num_rows();
        }
        feeder.await.unwrap();
        let end = stage.await.unwrap();
        assert!(end.error.is_none() && !end.writer_gone);
        assert_eq!(end.flatteners.len(), 3);
        let volumes = (0..5000).filter(|n| n % 3 == 0).count();
        assert_eq!(rows["aws_ec2_volume"], volumes);
        assert_eq!(rows["_edges"], 5000 - volumes);
        // Every volume's unreadable ctime is one issue row.
        assert_eq!(rows["_issues"], volumes);
        let counts = end.counts();
        assert_eq!(counts.resources, volumes as u64);
        assert_eq!(counts.edges["default"], (5000 - volumes) as u64);
        assert_eq!(counts.issues, volumes as u64);
        assert_eq!(counts.rows["aws_ec2_volume"], volumes as u64);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unknown_table_stops_the_stage_and_closes_the_item_channel() {
        let (item_tx, item_rx) = mpsc::channel(1);
        let (batch_tx, mut batch_rx) = mpsc::channel(64);
        let stage = tokio::spawn(flatten_all(
            vec![flattener(8), flattener(8)],
            item_rx,
            batch_tx,
        ));
        let bad = Item::resource(Resource {
            table: "aws_no_such_table",
            ..volume_resource(0)
        })
        .0;
        item_tx.send(vec![bad]).await.unwrap();
        // The stage closes the channel: senders fail from then on.
        let mut closed = false;
        for _ in 0..100 {
            if item_tx.send(vec![volume(1)]).await.is_err() {
                closed = true;
                break;
            }
        }
        assert!(
            closed,
            "the item channel stays open after a flattener error"
        );
        let end = stage.await.unwrap();
        let err = end.error.expect("the error is reported").to_string();
        assert!(err.contains("aws_no_such_table"), "{err}");
        while batch_rx.try_recv().is_ok() {}
    }

    #[tokio::test]
    async fn a_gone_writer_stops_the_stage() {
        let (item_tx, item_rx) = mpsc::channel(4);
        let (batch_tx, batch_rx) = mpsc::channel(1);
        drop(batch_rx);
        let stage = tokio::spawn(flatten_all(vec![flattener(1)], item_rx, batch_tx));
        let _ = item_tx.send(vec![volume(0)]).await;
        drop(item_tx);
        let end = stage.await.unwrap();
        assert!(end.writer_gone);
        assert!(end.error.is_none());
    }
}
