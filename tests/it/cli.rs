//! The `mugai` binary end to end: real files in, clean files, report and quarantine out.

use mugai::samples;
use serde_json::Value;
use std::fs;
use std::path::Path;

use super::common::mugai;

fn report(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn docm() -> Vec<u8> {
    samples::all().into_iter().find(|s| s.file_name.ends_with(".docm")).expect("a docm sample").bytes
}

#[test]
fn sanitize_writes_clean_copies_reports_and_quarantines() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    fs::create_dir_all(inbox.join("sub")).unwrap();
    fs::write(inbox.join("sub/invoice.docm"), docm()).unwrap();
    fs::write(inbox.join("notes.txt"), "plain text\n").unwrap();
    fs::write(inbox.join("setup.pdf"), samples::media::pe_header()).unwrap();
    let out =
        mugai(dir.path(), &["sanitize", "inbox", "--out", "clean", "--report", "r.jsonl", "--set", "quarantine.dir=q"]);
    assert_eq!(out.status.code(), Some(1), "something was blocked: {}", String::from_utf8_lossy(&out.stderr));
    let lines = report(&dir.path().join("r.jsonl"));
    assert_eq!(lines.len(), 3);
    let by_input = |suffix: &str| lines.iter().find(|l| l["input"].as_str().unwrap().ends_with(suffix)).unwrap();

    let doc = by_input("invoice.docm");
    assert_eq!(doc["verdict"], "disarmed");
    assert_eq!(doc["kind"], "docm");
    assert!(
        doc["output"].as_str().unwrap().ends_with("clean/sub/invoice.docx"),
        "relative path kept, extension follows"
    );
    assert!(doc["actions"].as_array().unwrap().iter().any(|a| a["action"] == "removed_vba_project"));
    for key in ["sha256_in", "sha256_out", "ms", "reason"] {
        assert!(doc.get(key).is_some(), "report has {key}");
    }
    assert!(dir.path().join("clean/sub/invoice.docx").is_file());

    let txt = by_input("notes.txt");
    assert_eq!(txt["verdict"], "kept");
    assert_eq!(fs::read(dir.path().join("clean/notes.txt")).unwrap(), b"plain text\n");

    let exe = by_input("setup.pdf");
    assert_eq!(exe["verdict"], "blocked");
    assert_eq!(exe["reason"], "executable");
    assert!(exe["output"].is_null());
    assert!(!dir.path().join("clean/setup.pdf").exists());
    let id = exe["quarantine_id"].as_str().unwrap();
    let q = mugai::quarantine::Quarantine::open(&dir.path().join("q")).unwrap();
    let record = q.find(id).unwrap();
    assert_eq!(q.read_original(&record).unwrap(), samples::media::pe_header());
    assert_eq!(record.reason, mugai::model::Reason::Executable);
    assert_eq!(record.sha256, exe["sha256_in"].as_str().unwrap());
}

#[test]
fn a_folder_sanitized_into_itself_does_not_take_its_outputs_as_inputs() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.docm"), docm()).unwrap();
    for _ in 0..2 {
        let out = mugai(dir.path(), &["sanitize", ".", "--out", "clean", "--report", "r.jsonl"]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let lines = report(&dir.path().join("r.jsonl"));
    let inputs: Vec<&str> = lines.iter().map(|l| l["input"].as_str().unwrap()).collect();
    assert!(inputs.iter().all(|i| !i.contains("clean") && !i.contains("quarantine")), "{inputs:?}");
    assert!(!dir.path().join("clean/clean").exists());
}

#[test]
fn sanitize_exits_zero_when_nothing_is_blocked() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.docm"), docm()).unwrap();
    let out = mugai(dir.path(), &["sanitize", "a.docm", "--out", "clean", "--set", "quarantine.dir=q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("clean/a.docx").is_file());
}

#[test]
fn scan_writes_nothing_and_reports_what_it_would_remove() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.docm"), docm()).unwrap();
    fs::write(dir.path().join("b.txt"), "x\n").unwrap();
    let out = mugai(dir.path(), &["scan", "a.docm", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let line: Value = serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert!(line["actions"].as_array().unwrap().iter().any(|a| a["action"] == "removed_vba_project"));
    assert!(line["output"].is_null());
    let clean = mugai(dir.path(), &["scan", "b.txt"]);
    assert_eq!(clean.status.code(), Some(0));
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "scan wrote nothing: {names:?}");
}

#[test]
fn usage_and_config_errors_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(mugai(dir.path(), &["sanitize"]).status.code(), Some(2));
    fs::write(dir.path().join("a.txt"), "x\n").unwrap();
    let bad =
        mugai(dir.path(), &["sanitize", "a.txt", "--out", "o", "--set", "limits.max_depth=deep", "--set", "nope.x=1"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("limits.max_depth") && err.contains("nope"), "every error listed: {err}");
    fs::write(dir.path().join("bad.toml"), "[limits]\nmax_depth = 0\nunknown = 1\n").unwrap();
    let bad = mugai(dir.path(), &["check-config", "--config", "bad.toml"]);
    assert_eq!(bad.status.code(), Some(2));
    let ok = mugai(dir.path(), &["check-config", "--set", "engine.threads=2"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("threads = 2"));
}

#[test]
fn shipped_config_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = mugai(root, &["check-config", "--config", "config.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}
