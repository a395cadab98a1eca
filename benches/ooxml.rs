//! OOXML disarm throughput (bytes/s) on a small (~20 KB), a medium (~1 MB, images) and a large
//! (~20 MB) document, and a folder of documents on one and on two worker threads.
//!
//! `cargo bench --bench ooxml`; the comparison with a Python `zipfile` rewrite of the same file
//! is `scripts/bench-end-to-end.sh`.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples;
use std::sync::Arc;
use std::time::Duration;

fn engine(threads: usize) -> Engine {
    let mut config = Config::default();
    config.engine.threads = threads;
    Engine::new(Arc::new(config)).expect("worker pool")
}

fn item(doc: &[u8]) -> Item {
    Item::new(doc.to_vec(), Some("bench.docx".into()), "bench.docx")
}

fn disarm_sizes(c: &mut Criterion) {
    let engine = engine(0);
    let mut g = c.benchmark_group("ooxml_disarm");
    g.measurement_time(Duration::from_secs(8));
    for (label, size) in [("small_20KB", 20_000usize), ("medium_1MB", 1_000_000), ("large_20MB", 20_000_000)] {
        let doc = samples::large_docx(size);
        assert_eq!(engine.process(item(&doc)).verdict, Verdict::Disarmed);
        g.throughput(Throughput::Bytes(doc.len() as u64));
        if size >= 10_000_000 {
            g.sample_size(10);
        }
        g.bench_with_input(BenchmarkId::from_parameter(label), &doc, |b, doc| {
            b.iter_batched(|| item(doc), |it| engine.process(it), BatchSize::LargeInput)
        });
    }
    g.finish();
}

fn folder_threads(c: &mut Criterion) {
    let docs: Vec<Vec<u8>> = (0..16).map(|i| samples::large_docx(400_000 + i * 10_000)).collect();
    let total: u64 = docs.iter().map(|d| d.len() as u64).sum();
    let mut g = c.benchmark_group("ooxml_folder");
    g.throughput(Throughput::Bytes(total));
    g.sample_size(10);
    for threads in [1usize, 2] {
        let engine = engine(threads);
        g.bench_with_input(BenchmarkId::new("threads", threads), &docs, |b, docs| {
            b.iter_batched(
                || docs.iter().map(|d| item(d)).collect::<Vec<_>>(),
                |items| engine.process_all(items),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, disarm_sizes, folder_threads);
criterion_main!(benches);
