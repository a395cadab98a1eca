//! Archive disarm throughput in bytes/s, through the engine as `mugai sanitize` runs it: ten
//! benign Word documents of about 500 KB and a docm, packed as a .tar.gz, a 7z (LZMA2, solid) and
//! an LHA archive (stored), each disarmed entry by entry and rebuilt.
//!
//! `cargo bench --bench packed`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples::large_docx;
use mugai::samples::packed::{self, LhaItem, TarItem};
use std::sync::Arc;
use std::time::Duration;

fn documents() -> Vec<(String, Vec<u8>)> {
    let mut docs: Vec<(String, Vec<u8>)> =
        (0..10).map(|i| (format!("report{i:02}.docx"), large_docx((500 + i) * 1024))).collect();
    docs.push(("macro.docm".into(), packed::docm()));
    docs
}

fn seven_zip(docs: &[(String, Vec<u8>)]) -> Vec<u8> {
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter, SourceReader};
    let mut w = ArchiveWriter::new(std::io::Cursor::new(Vec::new())).expect("7z");
    let entries = docs.iter().map(|(n, _)| ArchiveEntry::new_file(n)).collect();
    let readers = docs.iter().map(|(_, d)| SourceReader::new(&d[..])).collect();
    w.push_archive_entries(entries, readers).expect("7z");
    w.finish().expect("7z").into_inner()
}

fn disarm(c: &mut Criterion) {
    let engine = Engine::new(Arc::new(Config::default())).expect("worker pool");
    let docs = documents();
    let tar_items: Vec<TarItem<'_>> = docs.iter().map(|(n, d)| TarItem::File(n, d)).collect();
    let lha_items: Vec<LhaItem<'_>> =
        docs.iter().map(|(n, d)| LhaItem { method: b"-lh0-", dir: &[], name: n, data: d }).collect();
    let archives = [
        ("tar.gz", "bench.tar.gz", packed::gzip(None, &packed::tar(&tar_items))),
        ("7z", "bench.7z", seven_zip(&docs)),
        ("lzh", "bench.lzh", packed::lzh_level2(&lha_items)),
    ];
    let item = |name: &str, bytes: &[u8]| Item::new(bytes.to_vec(), Some(name.into()), name);
    for (what, name, bytes) in &archives {
        let o = engine.process(item(name, bytes));
        assert_eq!(o.verdict, Verdict::Disarmed, "{what}: {:?} {:?}", o.reason, o.detail);
    }
    let mut g = c.benchmark_group("packed_disarm_bytes");
    g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(8)).sample_size(20);
    for (what, name, bytes) in &archives {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("format", what), bytes, |b, bytes| {
            b.iter_batched(|| item(name, bytes), |it| engine.process(it), BatchSize::LargeInput)
        });
    }
    g.finish();
}

criterion_group!(benches, disarm);
criterion_main!(benches);
