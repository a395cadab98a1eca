//! OpenDocument disarm throughput in bytes/s, through the engine as `mugai sanitize` runs it:
//! a small benign text document (`samples::odf::benign_text`: Japanese text, a table, a
//! picture, links) and a benign text document of about 10 MB (`samples::odf::large_odt`:
//! paragraphs and incompressible pictures, so most bytes are copied without recompression).
//!
//! `cargo bench --bench odf`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples::odf;
use std::sync::Arc;
use std::time::Duration;

fn item(doc: &[u8]) -> Item {
    Item::new(doc.to_vec(), Some("bench.odt".into()), "bench.odt")
}

fn disarm(c: &mut Criterion) {
    let engine = Engine::new(Arc::new(Config::default())).expect("worker pool");
    let docs = [("small", odf::benign_text()), ("10MB", odf::large_odt(10 * 1024 * 1024))];
    for (name, doc) in &docs {
        let o = engine.process(item(doc));
        assert_eq!(o.verdict, Verdict::Disarmed, "{name} benign ODF: {:?} {:?}", o.reason, o.detail);
    }
    let mut g = c.benchmark_group("odf_disarm_bytes");
    g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5)).sample_size(20);
    for (name, doc) in &docs {
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::new("odt", name), doc, |b, doc| {
            b.iter_batched(|| item(doc), |it| engine.process(it), BatchSize::LargeInput)
        });
    }
    g.finish();
}

criterion_group!(benches, disarm);
criterion_main!(benches);
