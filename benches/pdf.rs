//! PDF disarm throughput on benign documents of 1, 100 and 1000 pages (`samples::large_pdf`:
//! text in two fonts, links, pictures, an outline), through the engine as `mugai sanitize` runs
//! it. The same runs are reported twice: in bytes/s (`pdf_disarm_bytes`) and in pages/s
//! (`pdf_disarm_pages`).
//!
//! `cargo bench --bench pdf`; the comparison with qpdf and a pikepdf-based disarm of the same
//! files is `scripts/bench-pdf.sh`.

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use mugai::config::Config;
use mugai::engine::{Engine, Outcome};
use mugai::model::{Item, Reason, Verdict};
use mugai::samples;
use std::sync::Arc;
use std::time::Duration;

const PAGES: [usize; 3] = [1, 100, 1000];

fn item(doc: &[u8]) -> Item {
    Item::new(doc.to_vec(), Some("bench.pdf".into()), "bench.pdf")
}

/// A benign sample must come out disarmed. A build without PDF disarm refuses it as unsupported:
/// the figures then measure only detection and refusal, which is said once per size.
fn check(pages: usize, outcome: &Outcome) {
    match (outcome.verdict, outcome.reason) {
        (Verdict::Disarmed, _) => {}
        (Verdict::Blocked, Some(Reason::Unsupported)) => {
            eprintln!("pdf bench: {pages}-page sample refused as unsupported: figures measure the refusal only")
        }
        (verdict, reason) => panic!("{pages}-page benign PDF: {verdict:?} {reason:?} {:?}", outcome.detail),
    }
}

/// How a group counts its throughput.
#[derive(Clone, Copy)]
enum Per {
    Byte,
    Page,
}

fn run(g: &mut BenchmarkGroup<'_, WallTime>, engine: &Engine, docs: &[(usize, Vec<u8>)], per: Per) {
    for (pages, doc) in docs {
        g.throughput(match per {
            Per::Byte => Throughput::Bytes(doc.len() as u64),
            Per::Page => Throughput::Elements(*pages as u64),
        });
        if *pages >= 1000 {
            // Whole seconds per sample would make the default 100 samples take minutes.
            g.sampling_mode(SamplingMode::Flat).sample_size(10);
        } else {
            g.sampling_mode(SamplingMode::Auto).sample_size(30);
        }
        g.bench_with_input(BenchmarkId::new("pages", pages), doc, |b, doc| {
            b.iter_batched(|| item(doc), |it| engine.process(it), BatchSize::LargeInput)
        });
    }
}

fn disarm(c: &mut Criterion) {
    let engine = Engine::new(Arc::new(Config::default())).expect("worker pool");
    let docs: Vec<(usize, Vec<u8>)> = PAGES.iter().map(|&n| (n, samples::large_pdf(n))).collect();
    for (pages, doc) in &docs {
        check(*pages, &engine.process(item(doc)));
    }
    for (name, per) in [("pdf_disarm_bytes", Per::Byte), ("pdf_disarm_pages", Per::Page)] {
        let mut g = c.benchmark_group(name);
        g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5));
        run(&mut g, &engine, &docs, per);
        g.finish();
    }
}

criterion_group!(benches, disarm);
criterion_main!(benches);
