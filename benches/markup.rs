//! HTML disarm throughput in bytes/s, through the engine as `mugai sanitize` runs it: a mail-like
//! page of about 100 KB (paragraphs, tables with inline styles, links, Japanese text;
//! `samples::markup::large_mail_html`) and the page with every script vector of the samples.
//!
//! `cargo bench --bench markup`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples::markup;
use std::sync::Arc;
use std::time::Duration;

fn item(doc: &[u8]) -> Item {
    Item::new(doc.to_vec(), Some("bench.html".into()), "bench.html")
}

fn disarm(c: &mut Criterion) {
    let engine = Engine::new(Arc::new(Config::default())).expect("worker pool");
    let docs = [("mail_100KB", markup::large_mail_html(100 << 10)), ("vectors", markup::every_script_vector())];
    for (name, doc) in &docs {
        let o = engine.process(item(doc));
        assert_eq!(o.verdict, Verdict::Disarmed, "{name}: {:?} {:?}", o.reason, o.detail);
    }
    let mut g = c.benchmark_group("html_disarm_bytes");
    g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5)).sample_size(30);
    for (name, doc) in &docs {
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_with_input(BenchmarkId::new("page", name), doc, |b, doc| {
            b.iter_batched(|| item(doc), |it| engine.process(it), BatchSize::LargeInput)
        });
    }
    g.finish();
}

criterion_group!(benches, disarm);
criterion_main!(benches);
