//! RTF disarm throughput in bytes/s, through the engine as `mugai sanitize` runs it: the small
//! benign letter of the samples (Japanese text, two pictures, fields) and a benign document of
//! about 5 MB with pictures in hex (`samples::rtf::large_rtf`).
//!
//! `cargo bench --bench rtf`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples::rtf;
use std::sync::Arc;
use std::time::Duration;

fn item(doc: &[u8]) -> Item {
    Item::new(doc.to_vec(), Some("bench.rtf".into()), "bench.rtf")
}

fn disarm(c: &mut Criterion) {
    let engine = Engine::new(Arc::new(Config::default())).expect("worker pool");
    let docs = [("letter", rtf::benign_letter()), ("5MB", rtf::large_rtf(5 << 20))];
    for (name, doc) in &docs {
        let o = engine.process(item(doc));
        assert_eq!(o.verdict, Verdict::Disarmed, "{name}: {:?} {:?}", o.reason, o.detail);
    }
    let mut g = c.benchmark_group("rtf_disarm_bytes");
    g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5)).sample_size(30);
    for (name, doc) in &docs {
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::new("size", name), doc, |b, doc| {
            b.iter_batched(|| item(doc), |it| engine.process(it), BatchSize::LargeInput)
        });
    }
    g.finish();
}

criterion_group!(benches, disarm);
criterion_main!(benches);
