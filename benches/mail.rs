//! Mail message throughput through the engine, as `mugai sanitize` (and the mail filter) runs
//! it: a 10 KB text message (the per-message overhead: parsing, the result field, the rebuild),
//! the four-attachment message of the samples (a docm, a zip with a program, a PDF with a
//! script, an HTML body with a script) and a message carrying a ~1 MB docm; on 1 and 2 worker
//! threads.
//!
//! `cargo bench --bench mail`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples::package::ct;
use mugai::samples::{mail, media, word};
use std::sync::Arc;
use std::time::Duration;

fn item(msg: &[u8]) -> Item {
    Item::new(msg.to_vec(), Some("bench.eml".into()), "bench.eml")
}

/// A docm of about 1 MB: a VBA project and four incompressible pictures.
fn docm_1mb() -> Vec<u8> {
    let mut rng = media::Prng::new(1);
    let mut w = word::Word::new(ct::DOCM_MAIN, "Benchmark");
    word::add_vba(&mut w);
    for n in 1..=4u32 {
        let img = w.image(&format!("image{n}.png"), media::noise_png(300, 300, &mut rng));
        w.push(&format!("<w:p>{}</w:p>", word::picture_run("r:embed", &img, n, 2_857_500, 2_857_500)));
        w.para("Ward rounds summary.");
    }
    w.finish()
}

fn disarm(c: &mut Criterion) {
    let inputs = [
        ("plain_10k", mail::plain_of_size(10 * 1024)),
        ("four_attachments", mail::four_attachments()),
        (
            "docm_1mb",
            mail::with_attachment("application/vnd.ms-word.document.macroEnabled.12", "report.docm", docm_1mb()),
        ),
    ];
    for threads in [1, 2] {
        let mut config = Config::default();
        config.engine.threads = threads;
        let engine = Engine::new(Arc::new(config)).expect("worker pool");
        for (name, msg) in &inputs {
            let o = engine.process(item(msg));
            assert_eq!(o.verdict, Verdict::Disarmed, "{name}: {:?} {:?}", o.reason, o.detail);
        }
        let mut g = c.benchmark_group(format!("mail_disarm_{threads}_threads"));
        g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(5)).sample_size(20);
        for (name, msg) in &inputs {
            g.throughput(Throughput::Bytes(msg.len() as u64));
            g.bench_with_input(BenchmarkId::new("eml", name), msg, |b, msg| {
                b.iter_batched(|| item(msg), |it| engine.process(it), BatchSize::LargeInput)
            });
        }
        g.finish();
    }
}

criterion_group!(benches, disarm);
criterion_main!(benches);
