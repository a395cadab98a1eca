//! The quarantine store: `list` over 10 000 records (the query alone, the query and the table
//! as `mugai quarantine list` prints it, and the whole command as an admin runs it, process
//! start included), and hold throughput (blob written and synced, record committed) without
//! and with encryption at rest, for a 4 KB and a 1 MB original.
//!
//! `cargo bench --bench quarantine`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mugai::model::{Kind, Reason};
use mugai::quarantine::{table, Filter, Held, Key, Quarantine, Source};
use std::time::Duration;

const RECORDS: usize = 10_000;

fn held(n: usize) -> Held<'static> {
    let source = if n.is_multiple_of(3) {
        Source::Cli { path: format!("inbox/vendor/report-{n}.docm") }
    } else {
        Source::Smtp {
            client: "127.0.0.1:40000".into(),
            sender: format!("sender{}@example.com", n % 50),
            recipients: vec!["ward3@hospital.example".into()],
            message_id: Some(format!("<{n}@example.com>")),
            queue_id: Some(format!("Q{n}")),
            upstream_id: None,
        }
    };
    let reason = if n.is_multiple_of(2) { Reason::Executable } else { Reason::Encrypted };
    Held {
        file_name: Some("請求書.zip"),
        detail: Some("invoice.pdf.exe: pe content"),
        ..Held::new(source, Kind::Zip, reason)
    }
}

fn list(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let qdir = dir.path().join("q");
    let q = Quarantine::open(&qdir).expect("store");
    for n in 0..RECORDS {
        q.hold(format!("original {n}").as_bytes(), &held(n)).expect("hold");
    }
    let mut g = c.benchmark_group("quarantine_list_10k");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("query", |b| b.iter(|| q.list(&Filter::default()).expect("list").len()));
    g.bench_function("query_and_table", |b| {
        b.iter(|| {
            let records = q.list(&Filter::default()).expect("list");
            let mut out = Vec::with_capacity(2 << 20);
            table::render_table(&records, &mut out).expect("render");
            out.len()
        })
    });
    g.bench_function("query_reason_filter", |b| {
        let f = Filter { reason: Some(Reason::Encrypted), source: Some("smtp".into()), ..Default::default() };
        b.iter(|| q.list(&f).expect("list").len())
    });
    g.bench_function("mugai_quarantine_list_command", |b| {
        b.iter(|| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_mugai"))
                .args(["quarantine", "list", "--set"])
                .arg(format!("quarantine.dir={}", qdir.display()))
                .output()
                .expect("run");
            assert!(out.status.success());
            out.stdout.len()
        })
    });
    g.finish();
}

fn hold(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("q.key");
    Key::generate(&key_file).expect("key");
    let plain = Quarantine::open(&dir.path().join("plain")).expect("store");
    let sealed =
        Quarantine::open_with(&dir.path().join("sealed"), Some(Key::load(&key_file).expect("key"))).expect("store");
    let mut g = c.benchmark_group("quarantine_hold");
    g.sample_size(30).measurement_time(Duration::from_secs(10));
    let mut n = 0u64;
    for size in [4 * 1024, 1024 * 1024] {
        g.throughput(Throughput::Bytes(size as u64));
        for (name, q) in [("plain", &plain), ("encrypted", &sealed)] {
            g.bench_with_input(BenchmarkId::new(name, size), &size, |b, &size| {
                b.iter_batched(
                    || {
                        // Distinct content each time: every hold writes a new blob.
                        n += 1;
                        let mut d = vec![0u8; size];
                        d[..8].copy_from_slice(&n.to_le_bytes());
                        d
                    },
                    |d| q.hold(&d, &held(1)).expect("hold"),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    g.finish();
}

criterion_group!(benches, list, hold);
criterion_main!(benches);
