//! Zip archive throughput through the engine, as `mugai sanitize` runs it: a bundle of 40
//! benign documents and pictures (each entry disarmed in parallel, then the archive rebuilt),
//! the 10 000 tiny entries of the samples (per-entry overhead), and a docm two zips deep; on 1
//! and on 2 worker threads.
//!
//! `cargo bench --bench archive`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples::archive;
use std::sync::Arc;
use std::time::Duration;

fn item(doc: &[u8]) -> Item {
    Item::new(doc.to_vec(), Some("bench.zip".into()), "bench.zip")
}

fn disarm(c: &mut Criterion) {
    let inputs = [
        ("bundle_40", archive::bundle_40()),
        ("tiny_10000", archive::ten_thousand_entries()),
        ("docm_two_deep", archive::docm_two_deep()),
    ];
    for threads in [1, 2] {
        let mut config = Config::default();
        config.engine.threads = threads;
        let engine = Engine::new(Arc::new(config)).expect("worker pool");
        for (name, doc) in &inputs {
            let o = engine.process(item(doc));
            assert_eq!(o.verdict, Verdict::Disarmed, "{name}: {:?} {:?}", o.reason, o.detail);
        }
        let mut g = c.benchmark_group(format!("zip_disarm_{threads}_threads"));
        g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5)).sample_size(20);
        for (name, doc) in &inputs {
            g.throughput(Throughput::Bytes(doc.len() as u64));
            g.bench_with_input(BenchmarkId::new("archive", name), doc, |b, doc| {
                b.iter_batched(|| item(doc), |it| engine.process(it), BatchSize::LargeInput)
            });
        }
        g.finish();
    }
}

criterion_group!(benches, disarm);
criterion_main!(benches);
