//! Flatten + write throughput, without the generator: demo items are made
//! first and held in memory, then timed through the flattener into the
//! Parquet sink, on one thread. Run with
//! `cargo bench --bench flatten_write -- [scale]` (default 1000, about
//! 100k resources); results are in docs/BENCHMARKS.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudtab_extract::demo::{DemoConfig, DemoExtractor};
use cloudtab_extract::{Emitter, Extractor};
use cloudtab_flatten::{arrow_schema, Flattener, RunContext};
use cloudtab_schema::{Item, Registry};
use cloudtab_sinks::parquet::{ParquetSink, ParquetSinkConfig};
use cloudtab_sinks::{RunInfo, Sink};

// The same allocator and options as the binary (src/main.rs).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8; 46] = b"dirty_decay_ms:500,muzzy_decay_ms:0,narenas:2\0";

fn main() {
    let scale: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(scale));
}

async fn generate(scale: u64) -> Vec<Item> {
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
    let mut items = Vec::new();
    while let Some(chunk) = rx.recv().await {
        items.extend(chunk);
    }
    producer.await.unwrap();
    items
}

async fn run(scale: u64) {
    let items = generate(scale).await;
    let resources = items
        .iter()
        .filter(|i| matches!(i, Item::Resource(_)))
        .count();
    let registry = Registry::builtin();
    let dir = tempfile::TempDir::new().unwrap();
    let sink =
        ParquetSink::build(ParquetSinkConfig::for_url(dir.path().to_str().unwrap())).unwrap();
    let started_at = chrono::Utc::now();
    let tables = registry
        .tables()
        .iter()
        .map(|t| (t, arrow_schema(t)))
        .collect();
    let run = RunInfo {
        run_id: "bench".into(),
        started_at,
        tables,
    };
    let mut txn = sink.begin(&run).await.unwrap();
    let mut f = Flattener::new(
        registry,
        RunContext {
            run_id: "bench".into(),
            synced_at_micros: 0,
        },
        8192,
    );

    let (mut flatten, mut write) = (Duration::ZERO, Duration::ZERO);
    let all = Instant::now();
    for item in items {
        let t = Instant::now();
        f.push(item).unwrap();
        flatten += t.elapsed();
        let ready: Vec<_> = f.take_ready().collect();
        let t = Instant::now();
        for (def, batch) in ready {
            txn.write(def, batch).await.unwrap();
        }
        write += t.elapsed();
    }
    let t = Instant::now();
    for (def, batch) in f.finish().unwrap() {
        txn.write(def, batch).await.unwrap();
    }
    txn.commit().await.unwrap();
    write += t.elapsed();
    let total = all.elapsed().as_secs_f64();
    println!(
        "scale {scale}: {resources} resources, {} edges; flatten {:.2} s, write+commit {:.2} s; {:.0} resources/s flatten + write",
        f.counts().edges.values().sum::<u64>(),
        flatten.as_secs_f64(),
        write.as_secs_f64(),
        resources as f64 / total
    );
}
