//! What the format test files share: engines and running items through them, the failure that
//! lists every problem at once, the seeded generator and the byte-level damage of the mutation
//! tests, and the checks that a format's committed samples are what its builders make now.

use mugai::config::Config;
use mugai::engine::{Engine, Outcome};
use mugai::model::{ActionKind, Item, Reason, Verdict};
use mugai::samples::{self, Sample};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The engine under the default configuration, made once for the whole test binary.
/// Runs the `mugai` binary in `dir` with `args` (no `RUST_LOG` from the caller).
pub fn mugai(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mugai"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("run mugai")
}

pub fn default_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Arc::new(Config::default())).expect("engine"))
}

/// An engine under the default configuration changed by `change`.
pub fn engine_with(change: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::default();
    change(&mut config);
    Engine::new(Arc::new(config)).expect("engine")
}

pub fn process_with(engine: &Engine, name: &str, bytes: &[u8]) -> Outcome {
    engine.process(Item::new(bytes.to_vec(), Some(name.to_string()), name))
}

/// `bytes` named `name` through the default engine.
pub fn process(name: &str, bytes: &[u8]) -> Outcome {
    process_with(default_engine(), name, bytes)
}

pub fn kinds(o: &Outcome) -> Vec<ActionKind> {
    o.actions.iter().map(|a| a.action).collect()
}

pub fn detail(o: &Outcome) -> &str {
    o.detail.as_deref().unwrap_or("")
}

pub fn blocked_reason(o: &Outcome) -> Option<Reason> {
    (o.verdict == Verdict::Blocked).then_some(o.reason).flatten()
}

/// Fails with every problem listed, or passes when there are none.
pub fn fail_with(problems: Vec<String>) {
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

/// A seeded xorshift generator: the same damage on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Damages `data` one way, chosen at random: a few bytes changed, the end cut off, a chunk of
/// the data copied elsewhere, or one of the format's `tokens` inserted (with no tokens, a
/// chunk copied over the bytes at another place, which keeps the length).
pub fn damage(data: &mut Vec<u8>, rng: &mut Rng, tokens: &[&[u8]]) {
    if data.is_empty() {
        return;
    }
    match rng.below(4) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(data.len());
                data[i] = rng.next() as u8;
            }
        }
        1 => data.truncate(rng.below(data.len())),
        2 => {
            let from = rng.below(data.len());
            let len = rng.below(64).min(data.len() - from);
            let chunk = data[from..from + len].to_vec();
            let at = rng.below(data.len());
            data.splice(at..at, chunk);
        }
        _ if tokens.is_empty() => {
            let from = rng.below(data.len());
            let len = rng.below(64).min(data.len() - from);
            let chunk = data[from..from + len].to_vec();
            let at = rng.below(data.len());
            data[at..].iter_mut().zip(chunk).for_each(|(d, c)| *d = c);
        }
        _ => {
            let t = tokens[rng.below(tokens.len())];
            let at = rng.below(data.len());
            data.splice(at..at, t.iter().copied());
        }
    }
}

/// A rebuilt mail message without its `X-Mugai-Result` fields (one at the top of the message
/// and of every message inside it), and those fields' text. The field states the verdict of
/// the pass that wrote it, so a second pass over a disarmed message says `clean` where the
/// first said `disarmed` or `blocked-parts`: everything else must be the same bytes.
pub fn split_result_fields(eml: &[u8]) -> (Vec<u8>, Vec<String>) {
    let mut rest = Vec::with_capacity(eml.len());
    let mut fields: Vec<String> = Vec::new();
    let mut in_field = false;
    for line in eml.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"X-Mugai-Result:") {
            fields.push(String::from_utf8_lossy(line).into_owned());
            in_field = true;
        } else if in_field && matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some(f) = fields.last_mut() {
                f.push_str(&String::from_utf8_lossy(line));
            }
        } else {
            in_field = false;
            rest.extend_from_slice(line);
        }
    }
    (rest, fields)
}

/// Whether `second` (an output processed again) is `first` byte for byte; for mail messages,
/// but for result fields that now say `clean` (see [`split_result_fields`]).
pub fn same_output_again(first: &[u8], second: &[u8], is_mail: bool) -> bool {
    if !is_mail {
        return first == second;
    }
    let ((a, before), (b, after)) = (split_result_fields(first), split_result_fields(second));
    a == b && before.len() == after.len() && after.iter().all(|f| f.starts_with("X-Mugai-Result: clean"))
}

/// Samples larger than this are built on the fly and not committed (as `gen_samples` does).
const MAX_COMMITTED_BYTES: usize = 1024 * 1024;

/// What is wrong with `samples/<folder>/` against the builders' `all`: a file that differs or is
/// missing, a stale file no sample makes, an `EXPECTED.tsv` that is not what the samples say.
pub fn committed_sample_problems(folder: &str, all: &[Sample]) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples").join(folder);
    let mut problems = Vec::new();
    let mut expected_files = vec!["EXPECTED.tsv".to_string()];
    for s in all.iter().filter(|s| s.bytes.len() <= MAX_COMMITTED_BYTES) {
        expected_files.push(s.file_name.to_string());
        match std::fs::read(dir.join(s.file_name)) {
            Ok(b) if b == s.bytes => {}
            Ok(_) => problems.push(format!("{folder}/{} differs from the builder's output", s.file_name)),
            Err(e) => problems.push(format!("{folder}/{}: {e}", s.file_name)),
        }
    }
    match std::fs::read_to_string(dir.join("EXPECTED.tsv")) {
        Ok(t) if t == samples::expected_tsv(all) => {}
        Ok(_) => problems.push(format!("{folder}/EXPECTED.tsv differs from samples::expected_tsv")),
        Err(e) => problems.push(format!("{folder}/EXPECTED.tsv: {e}")),
    }
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let n = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().is_ok_and(|t| t.is_file()) && !expected_files.contains(&n) {
                problems.push(format!("{folder}/{n}: no sample makes this file"));
            }
        }
    }
    if !problems.is_empty() {
        problems.push("run `cargo run --example gen_samples -- samples/` and commit the result".into());
    }
    problems
}

/// Duplicate sample names, and samples a second build of `again` makes differently.
pub fn unique_and_deterministic(all: &[Sample], again: &[Sample]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut names: Vec<_> = all.iter().map(|s| s.file_name).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        problems.push(format!("two samples are named {}", w[0]));
    }
    if all.len() != again.len() {
        problems.push(format!("{} samples, then {}", all.len(), again.len()));
    }
    for (a, b) in all.iter().zip(again) {
        if a.file_name != b.file_name || a.bytes != b.bytes {
            problems.push(format!("{} is not built the same twice", a.file_name));
        }
    }
    problems
}

/// The zip package with one entry damaged (chosen among those whose name `pick` accepts) and
/// every entry written again with valid CRCs, so that the format's own readers, not just the
/// zip checks, see the damage. A `mimetype` entry stays stored, as OpenDocument requires.
pub fn damage_one_entry(package: &[u8], rng: &mut Rng, tokens: &[&[u8]], pick: fn(&str) -> bool) -> Option<Vec<u8>> {
    use std::io::{Cursor, Read, Write};
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;
    let mut zip = zip::ZipArchive::new(Cursor::new(package)).ok()?;
    let candidates: Vec<usize> = (0..zip.len())
        .filter(|&i| zip.by_index(i).ok().and_then(|f| f.name().ok().map(|n| pick(&n))).unwrap_or(false))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let target = candidates[rng.below(candidates.len())];
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).ok()?;
        let name = f.name().ok()?.into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).ok()?;
        if i == target {
            damage(&mut data, rng, tokens);
        }
        let method = if name == "mimetype" { CompressionMethod::Stored } else { CompressionMethod::Deflated };
        w.start_file(name, SimpleFileOptions::default().compression_method(method)).ok()?;
        w.write_all(&data).ok()?;
    }
    Some(w.finish().ok()?.into_inner())
}

/// How the engine's outcome for sample `s` differs from what the sample expects: verdict and
/// reason, the actions (every one of `actions`, one of `any_of`, none at all for a clean
/// sample), and the output (none when blocked, else named with the expected extension).
pub fn outcome_problems(s: &Sample, o: &Outcome) -> Vec<String> {
    let (e, name) = (&s.expected, s.file_name);
    if o.verdict != e.verdict || o.reason != e.reason {
        let got = format!("{:?}/{:?} ({}) {:?}", o.verdict, o.reason, detail(o), o.actions);
        return vec![format!("{name}: expected {:?}/{:?}, got {got}", e.verdict, e.reason)];
    }
    let mut problems = Vec::new();
    let got = kinds(o);
    for a in &e.actions {
        if !got.contains(a) {
            problems.push(format!("{name}: action {a:?} missing; got {got:?}"));
        }
    }
    if !e.any_of.is_empty() && !e.any_of.iter().any(|a| got.contains(a)) {
        problems.push(format!("{name}: none of {:?} in {got:?}", e.any_of));
    }
    if e.expects_no_actions() && !got.is_empty() {
        problems.push(format!("{name}: a clean sample got actions {:?}", o.actions));
    }
    match (e.verdict, &o.output) {
        (Verdict::Blocked, None) => {}
        (Verdict::Blocked, Some(_)) => problems.push(format!("{name}: blocked but has an output")),
        (_, None) => problems.push(format!("{name}: no output")),
        (_, Some(_)) => {
            let ext = o.output_name.as_deref().and_then(mugai::detect::extension);
            if ext.as_deref() != e.output_ext {
                problems
                    .push(format!("{name}: output named {:?}, expected extension {:?}", o.output_name, e.output_ext));
            }
        }
    }
    problems
}

/// The sample named `name` among `all`.
pub fn find_sample<'a>(all: &'a [Sample], name: &str) -> &'a Sample {
    all.iter().find(|s| s.file_name == name).unwrap_or_else(|| panic!("no sample {name}"))
}

/// Defines, in the test file that invokes it, the samples of one builder and their outcomes
/// under the default engine, each made once for the whole test binary: `all()`, `outcomes()`
/// (in the same order), `sample(name)` and `outcome(name)`.
macro_rules! sample_set {
    ($builder:path) => {
        fn all() -> &'static [mugai::samples::Sample] {
            static ALL: std::sync::OnceLock<Vec<mugai::samples::Sample>> = std::sync::OnceLock::new();
            ALL.get_or_init($builder)
        }

        #[allow(dead_code)]
        fn sample(name: &str) -> &'static mugai::samples::Sample {
            crate::common::find_sample(all(), name)
        }

        fn outcomes() -> &'static [mugai::engine::Outcome] {
            static OUT: std::sync::OnceLock<Vec<mugai::engine::Outcome>> = std::sync::OnceLock::new();
            OUT.get_or_init(|| all().iter().map(|s| crate::common::process(s.file_name, &s.bytes)).collect())
        }

        #[allow(dead_code)]
        fn outcome(name: &str) -> &'static mugai::engine::Outcome {
            let i = all().iter().position(|s| s.file_name == name).unwrap_or_else(|| panic!("no sample {name}"));
            &outcomes()[i]
        }
    };
}
pub(crate) use sample_set;
