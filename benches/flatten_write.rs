//! Flatten + write throughput, without the generator: demo items are made
//! first and held in memory in the chunks extractors send, then timed
//! through the same stages as a sync (`flatten_all` with one flattener per
//! core, a writer task, the Parquet sink encoding each file on its own
//! task) on a 2-thread runtime. Run with
//! `cargo bench --bench flatten_write -- [scale] [flatteners] [batch rows]`
//! (default 1000, about 100k resources, one flattener per core, and the
//! default batch size); results are in
//! docs/BENCHMARKS.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudtab_extract::demo::{DemoConfig, DemoExtractor};
use cloudtab_extract::{Emitter, Extractor};
use cloudtab_flatten::stage::flatten_all;
use cloudtab_flatten::{arrow_schema, Flattener, RunContext, DEFAULT_BATCH_ROWS};
use cloudtab_schema::{Item, Registry};
use cloudtab_sinks::parquet::{ParquetSink, ParquetSinkConfig};
use cloudtab_sinks::{RunInfo, Sink};

// The same allocator and options as the binary (src/main.rs).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8; 46] = b"dirty_decay_ms:500,muzzy_decay_ms:0,narenas:2\0";

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<u64>().ok());
    let scale = args.next().unwrap_or(1000);
    let flatteners = args.next().map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n.max(1) as usize,
    );
    let batch_rows = args
        .next()
        .map_or(DEFAULT_BATCH_ROWS, |n| n.max(1) as usize);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(scale, flatteners, batch_rows));
}

async fn generate(scale: u64) -> Vec<Vec<Item>> {
    let demo: Arc<dyn Extractor> = Arc::new(DemoExtractor::new(DemoConfig {
        scale,
        seed: 1,
        fail_scopes: vec![],
    }));
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let scopes = demo.scopes().await.unwrap();
    let producer = tokio::spawn(async move {
        for s in scopes {
            let mut e = Emitter::new(tx.clone());
            demo.extract(&s, &mut e).await.unwrap();
            e.flush().await.unwrap();
        }
    });
    let mut chunks = Vec::new();
    while let Some(chunk) = rx.recv().await {
        chunks.push(chunk);
    }
    producer.await.unwrap();
    chunks
}

async fn run(scale: u64, flatteners: usize, batch_rows: usize) {
    let chunks = generate(scale).await;
    let resources = chunks
        .iter()
        .flatten()
        .filter(|i| matches!(i, Item::Resource(_)))
        .count();
    let registry = Registry::builtin();
    let dir = tempfile::TempDir::new().unwrap();
    let sink =
        ParquetSink::build(ParquetSinkConfig::for_url(dir.path().to_str().unwrap())).unwrap();
    let started_at = chrono::Utc::now();
    // A run id of the length a sync makes (`new_run_id` in src/pipeline.rs):
    // it is written into every row.
    let run_id = format!("{}-1a2b3c4d", started_at.format("%Y%m%dT%H%M%S%.3fZ"));
    let tables = registry
        .tables()
        .iter()
        .map(|t| (t, arrow_schema(t)))
        .collect();
    let run = RunInfo {
        run_id: run_id.clone(),
        started_at,
        tables,
    };
    let mut txn = sink.begin(&run).await.unwrap();
    let ctx = RunContext {
        run_id,
        synced_at_micros: started_at.timestamp_micros(),
    };
    let all = Instant::now();
    let cpu_before = cpu_seconds();
    // The same channel sizes as a sync (src/pipeline.rs).
    let (item_tx, item_rx) = tokio::sync::mpsc::channel(8);
    let (batch_tx, mut batch_rx) = tokio::sync::mpsc::channel(2);
    let feeder = tokio::spawn(async move {
        for c in chunks {
            item_tx.send(c).await.unwrap();
        }
    });
    let writer = tokio::spawn(async move {
        let mut busy = Duration::ZERO;
        while let Some((def, batch)) = batch_rx.recv().await {
            let t = Instant::now();
            txn.write(def, batch).await.unwrap();
            busy += t.elapsed();
        }
        let t = Instant::now();
        let info = txn.commit().await.unwrap();
        (busy, t.elapsed(), info.bytes)
    });
    let fs = (0..flatteners)
        .map(|_| Flattener::new(registry, ctx.clone(), (batch_rows / flatteners).max(1)))
        .collect();
    let end = flatten_all(fs, item_rx, batch_tx).await;
    assert!(end.error.is_none() && !end.writer_gone);
    feeder.await.unwrap();
    let (write, commit, bytes) = writer.await.unwrap();
    let total = all.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let counts = end.counts();
    println!(
        "scale {scale}: {resources} resources, {} edges, {flatteners} flattener(s) sharing {batch_rows} rows; {total:.2} s wall \
         (CPU {cpu:.2} s = {:.2} cores; flatteners busy {:.2} s, writer busy {:.2} s, commit {:.2} s); \
         {:.0} resources/s flatten + write; {:.1} MB of Parquet",
        counts.edges.values().sum::<u64>(),
        cpu / total,
        end.busy.as_secs_f64(),
        write.as_secs_f64(),
        commit.as_secs_f64(),
        resources as f64 / total,
        bytes as f64 / 1e6
    );
}

/// User + system CPU time of this process so far, from `/proc/self/stat`
/// (in clock ticks of 10 ms); 0 where that file does not exist.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and
    // stime are the 12th and 13th of them.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}
