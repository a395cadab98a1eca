//! Legacy Office disarm throughput in bytes/s, through the engine as `mugai sanitize` runs it:
//! a small Word document with a VBA project and an embedded object, a small workbook with an
//! Excel 4.0 macro sheet, a PowerPoint record stream with a VBA project, an embedded object and
//! a program action (all rewritten), and a benign workbook of about 10 MB (read, checked record
//! by record and written anew).
//!
//! `cargo bench --bench ole2`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples::ole2;
use std::sync::Arc;
use std::time::Duration;

fn item(name: &str, doc: &[u8]) -> Item {
    Item::new(doc.to_vec(), Some(name.into()), name)
}

fn disarm(c: &mut Criterion) {
    let engine = Engine::new(Arc::new(Config::default())).expect("worker pool");
    let docs: Vec<(&str, Vec<u8>)> = vec![
        ("small.doc", ole2::doc_vba_and_object()),
        ("small.xls", ole2::xls_xlm()),
        ("small.ppt", ole2::ppt_vba_and_object_records()),
        ("large.xls", ole2::large_xls(10 * 1024 * 1024)),
    ];
    for (name, doc) in &docs {
        let o = engine.process(item(name, doc));
        assert_eq!(o.verdict, Verdict::Disarmed, "{name}: {:?} {:?}", o.reason, o.detail);
    }
    let mut g = c.benchmark_group("ole2_disarm_bytes");
    g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5));
    for (name, doc) in &docs {
        g.throughput(Throughput::Bytes(doc.len() as u64));
        if doc.len() > 1024 * 1024 {
            g.sampling_mode(SamplingMode::Flat).sample_size(10);
        } else {
            g.sampling_mode(SamplingMode::Auto).sample_size(50);
        }
        g.bench_with_input(BenchmarkId::new("file", format!("{name} ({} bytes)", doc.len())), doc, |b, doc| {
            b.iter_batched(|| item(name, doc), |it| engine.process(it), BatchSize::LargeInput)
        });
    }
    g.finish();
}

criterion_group!(benches, disarm);
criterion_main!(benches);
