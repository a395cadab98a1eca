//! The drop folder through `mugai serve`, a process of its own: files written into the inbox
//! by several writers at once (some slowly, some under a temporary name then renamed) end
//! exactly once in the clean folder or in quarantine, each with its report, while the service
//! is killed and started again; receipts required by a receiving folder.

use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Service {
    dir: PathBuf,
    child: Option<Child>,
}

impl Service {
    /// `mugai serve` with one drop folder under `dir` (inbox, clean, report, q) and `extra`
    /// lines for its `[[dropfolder]]` table.
    fn start(dir: &Path, extra: &str) -> Service {
        let config = format!(
            "[smtp]\nenabled = false\n[engine]\nthreads = 2\n[quarantine]\ndir = \"q\"\n\
             [[dropfolder]]\ninbox = \"inbox\"\nclean = \"clean\"\nreport = \"report\"\nsettle_secs = 1\nrescan_secs = 2\n{extra}"
        );
        fs::write(dir.join("config.toml"), config).unwrap();
        let mut s = Service { dir: dir.to_path_buf(), child: None };
        s.restart();
        s
    }

    fn restart(&mut self) {
        let log = fs::OpenOptions::new().create(true).append(true).open(self.dir.join("serve.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mugai"))
            .args(["serve", "--config", "config.toml"])
            .current_dir(&self.dir)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every file under `dir`, relative, `/`-separated.
fn files(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    let mut v: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"))
        .collect();
    v.sort();
    v
}

/// The drop folder paths of the quarantine's records (one per held original).
fn held_sources(q: &Path) -> Vec<String> {
    let store = mugai::quarantine::Quarantine::open(q).unwrap();
    store
        .list(&mugai::quarantine::Filter::default())
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.source {
            mugai::quarantine::Source::Dropfolder { path, .. } => Some(path),
            _ => None,
        })
        .collect()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool, service: &Service) {
    let until = Instant::now() + Duration::from_secs(180);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}; log:\n{}", service.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the engine makes of one kind: verdict, output name, output.
type Expected = (Verdict, Option<String>, Option<Vec<u8>>);

/// The inputs of the big run: (name, bytes) by kind, and what the engine makes of each.
fn kinds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("txt", b"maintenance notes\r\n".to_vec()),
        ("docm", samples::packed::docm()),
        ("exe", samples::media::pe_header()),
        ("png", samples::media::sample_png()),
    ]
}

#[test]
fn two_thousand_files_from_several_writers_end_exactly_once_through_two_kills() {
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 500;
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    fs::create_dir_all(dir.join("inbox")).unwrap();
    let mut service = Service::start(dir, "");

    // What each kind must become, from the same engine and configuration.
    let mut config = Config::default();
    config.engine.threads = 1;
    let engine = Engine::new(Arc::new(config)).unwrap();
    let expected: BTreeMap<&str, Expected> = kinds()
        .into_iter()
        .map(|(ext, bytes)| {
            let o = engine.process(Item::new(bytes, Some(format!("f.{ext}")), "f"));
            (ext, (o.verdict, o.output_name.clone(), o.output))
        })
        .collect();

    let kinds = Arc::new(kinds());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let inbox = dir.join("inbox").join(format!("w{w}"));
            let kinds = kinds.clone();
            std::thread::spawn(move || {
                fs::create_dir_all(&inbox).unwrap();
                for i in 0..PER_WRITER {
                    let (ext, bytes) = &kinds[i % kinds.len()];
                    let name = format!("f{i:04}.{ext}");
                    match i % 5 {
                        // Under a temporary name, then renamed in.
                        0 => {
                            let tmp = inbox.join(format!("{name}.part"));
                            fs::write(&tmp, bytes).unwrap();
                            fs::rename(&tmp, inbox.join(&name)).unwrap();
                        }
                        // Slowly: half, a pause well inside the settle time, the rest.
                        1 if i % 25 == 1 => {
                            let mut f = fs::File::create(inbox.join(&name)).unwrap();
                            f.write_all(&bytes[..bytes.len() / 2]).unwrap();
                            f.flush().unwrap();
                            std::thread::sleep(Duration::from_millis(300));
                            f.write_all(&bytes[bytes.len() / 2..]).unwrap();
                        }
                        _ => fs::write(inbox.join(&name), bytes).unwrap(),
                    }
                    if i % 50 == 49 {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            })
        })
        .collect();

    // Two kills while files arrive and are processed.
    let reports = |dir: &Path| files(&dir.join("report")).len();
    for target in [WRITERS * PER_WRITER / 3, 2 * WRITERS * PER_WRITER / 3] {
        wait_for("reports", || reports(dir) >= target, &service);
        service.kill();
        std::thread::sleep(Duration::from_millis(300));
        service.restart();
    }
    for w in writers {
        w.join().unwrap();
    }
    let total = WRITERS * PER_WRITER;
    wait_for("every report", || reports(dir) >= total, &service);
    // Every claim committed and removed (a commit syncs the disk, which another busy process
    // can make slow), then a moment for anything still in flight to show up as an extra.
    let processing = dir.join("inbox.processing");
    let until = Instant::now() + Duration::from_secs(180);
    while !files(&processing).is_empty() {
        assert!(Instant::now() < until, "left in processing: {:?}; log:\n{}", files(&processing), service.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    service.kill();

    let log = service.log();
    assert_eq!(files(&dir.join("inbox")), Vec::<String>::new(), "left in the inbox");
    assert_eq!(files(&dir.join("inbox.processing")), Vec::<String>::new(), "left in processing");
    let report_files = files(&dir.join("report"));
    let clean_files = files(&dir.join("clean"));
    let held = held_sources(&dir.join("q"));
    let mut problems = Vec::new();
    for w in 0..WRITERS {
        for i in 0..PER_WRITER {
            let (ext, _) = &kinds[i % kinds.len()];
            let name = format!("f{i:04}.{ext}");
            let (verdict, out_name, out) = &expected[ext];
            let stem = name.rsplit_once('.').unwrap().0;
            let reports: Vec<&String> = report_files
                .iter()
                .filter(|r| r.starts_with(&format!("w{w}/{stem}.")) || r.starts_with(&format!("w{w}/{stem} (")))
                .collect();
            if reports.len() != 1 {
                problems.push(format!("w{w}/{name}: {} reports {reports:?}", reports.len()));
                continue;
            }
            let report: Value =
                serde_json::from_slice(&fs::read(dir.join("report").join(reports[0])).unwrap()).unwrap();
            let cleans: Vec<&String> = clean_files.iter().filter(|c| c.starts_with(&format!("w{w}/{stem}"))).collect();
            let holds = held.iter().filter(|s| s.ends_with(&format!("/w{w}/{name}"))).count();
            if *verdict == Verdict::Blocked {
                if !cleans.is_empty() || holds != 1 || report["quarantine_id"].as_str().is_none() {
                    problems.push(format!(
                        "w{w}/{name}: blocked, but clean {cleans:?}, held {holds} times, report {report}"
                    ));
                }
            } else {
                let want =
                    format!("w{w}/{}", out_name.clone().unwrap_or(name.clone()).replace("f.", &format!("{stem}.")));
                if cleans != [&want] || holds != 0 {
                    problems.push(format!("w{w}/{name}: clean {cleans:?} (want {want}), held {holds} times"));
                    continue;
                }
                let got = fs::read(dir.join("clean").join(&want)).unwrap();
                if Some(&got) != out.as_ref() {
                    problems
                        .push(format!("w{w}/{name}: the clean copy is not the engine's output ({} bytes)", got.len()));
                }
                if report["output"].as_str().is_none_or(|o| !o.ends_with(&want)) {
                    problems.push(format!("w{w}/{name}: report names {}", report["output"]));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems, first: {:#?}\nlog tail:\n{}",
        problems.len(),
        &problems[..problems.len().min(10)],
        &log[log.len().saturating_sub(3000)..]
    );
    // Nothing else was written: no temporary files, no extra copies.
    let expected_clean = (0..WRITERS * PER_WRITER)
        .filter(|i| expected[kinds[i % PER_WRITER % kinds.len()].0].0 != Verdict::Blocked)
        .count();
    assert_eq!(clean_files.len(), expected_clean, "{:?}", &clean_files[..clean_files.len().min(20)]);
    assert_eq!(report_files.len(), total);
}

#[test]
fn temporary_and_unsettled_files_wait_and_receipts_are_required_where_asked() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    // A sender's key, and a receiving folder that requires its receipts.
    let keys = dir.join("vendor");
    mugai::receipt::keygen(&keys).unwrap();
    fs::create_dir_all(dir.join("inbox")).unwrap();
    let service = Service::start(dir, "require_receipt = true\ntrusted_keys = [\"vendor/mugai.pub\"]\n");

    // The vendor's side, with the library: a clean copy and its receipt.
    let key = mugai::receipt::load_signing_key(&keys.join("mugai.key")).unwrap();
    let engine = Engine::new(Arc::new(Config::default())).unwrap();
    let o = engine.process(Item::new(samples::packed::docm(), Some("m.docm".into()), "m.docm"));
    let clean = o.output.clone().unwrap();
    let r = mugai::receipt::issue(&key, "m.docm", &o, "m.docx", "p", std::time::SystemTime::now()).unwrap();

    // The receipt first, then the file: verified, and disarmed again all the same.
    fs::write(dir.join("inbox/m.docx.mugai.json"), r.to_json()).unwrap();
    fs::write(dir.join("inbox/m.docx"), &clean).unwrap();
    // No receipt: held as unverified.
    fs::write(dir.join("inbox/bare.docx"), &clean).unwrap();
    // A receipt for other bytes: held as unverified.
    fs::write(dir.join("inbox/other.docx.mugai.json"), r.to_json()).unwrap();
    fs::write(dir.join("inbox/other.docx"), b"PK not the same").unwrap();
    // A bundle of the file and its receipt: verified, written out as the file.
    fs::write(dir.join("inbox/pack.mugai.zip"), mugai::receipt::bundle("inner.docx", &clean, &r)).unwrap();
    // A temporary name is never taken.
    fs::write(dir.join("inbox/upload.docx.part"), &clean).unwrap();

    wait_for("four reports", || files(&dir.join("report")).len() >= 4, &service);
    std::thread::sleep(Duration::from_millis(1500));
    let report = |n: &str| -> Value { serde_json::from_slice(&fs::read(dir.join("report").join(n)).unwrap()).unwrap() };
    let m = report("m.docx.json");
    assert_eq!(m["sender_receipt"]["verified"], true, "{m}");
    assert_ne!(m["verdict"], "blocked", "{m}");
    assert!(dir.join("clean/m.docx").exists());
    let pack = report("pack.mugai.zip.json");
    assert_eq!(pack["sender_receipt"]["verified"], true, "{pack}");
    assert!(dir.join("clean/inner.docx").exists(), "{pack}");
    for n in ["bare.docx.json", "other.docx.json"] {
        let r = report(n);
        assert_eq!(r["reason"], "unverified", "{r}");
        assert_eq!(r["sender_receipt"]["verified"], false, "{r}");
        assert!(r["quarantine_id"].is_string(), "{r}");
    }
    assert!(!dir.join("clean/bare.docx").exists() && !dir.join("clean/other.docx").exists());
    assert!(dir.join("inbox/upload.docx.part").exists(), "a temporary name is left alone");
    assert_eq!(files(&dir.join("report")).len(), 4, "{:?}", files(&dir.join("report")));
}

#[test]
fn a_file_over_the_input_limit_is_held_unread_with_its_hash_in_the_report() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    fs::create_dir_all(dir.join("inbox")).unwrap();
    // A limit this small must also bound the messages the (disabled) SMTP filter takes.
    let config = "[smtp]\nenabled = false\nmax_message_size = 1000\n[limits]\nmax_input_bytes = 1000\n\
                  [quarantine]\ndir = \"q\"\n[[dropfolder]]\ninbox = \"inbox\"\nclean = \"clean\"\n\
                  report = \"report\"\nsettle_secs = 1\nrescan_secs = 2\n";
    fs::write(dir.join("config.toml"), config).unwrap();
    let mut service = Service { dir: dir.to_path_buf(), child: None };
    service.restart();
    let big = vec![b'a'; 5000];
    fs::write(dir.join("inbox/big.txt"), &big).unwrap();
    let path = dir.join("report/big.txt.json");
    wait_for("the report", || path.exists(), &service);
    let r: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(r["verdict"], "blocked", "{r}");
    assert_eq!(r["reason"], "limit_input_size", "{r}");
    // The engine never read it; the hash is the one the hold took while copying it.
    assert_eq!(r["sha256_in"], mugai::model::sha256_hex(&big), "{r}");
    assert!(r["quarantine_id"].is_string(), "{r}");
}
