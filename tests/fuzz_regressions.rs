//! Replays every input the fuzz targets once failed on (`fuzz/regressions/<target>/`) through
//! the same code as its target (`fuzz/src/targets.rs`, included here), so that a fixed crash stays
//! fixed without cargo-fuzz or a nightly compiler.

#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    names.sort();
    names
}

#[test]
fn every_regression_input_passes_its_target() {
    let root = fuzz_dir().join("regressions");
    let mut failed = Vec::new();
    let mut replayed = 0;
    for target in names_in(&root) {
        let Some((_, run)) = targets::TARGETS.iter().find(|(name, _)| *name == target) else {
            panic!("fuzz/regressions/{target}: no fuzz target of that name");
        };
        for file in names_in(&root.join(&target)) {
            let data = std::fs::read(root.join(&target).join(&file)).unwrap();
            replayed += 1;
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failed.push(format!("{target}/{file}"));
            }
        }
    }
    assert!(failed.is_empty(), "{} of {replayed} regression inputs fail: {failed:?}", failed.len());
}

#[test]
fn every_fuzz_binary_has_its_target_function() {
    let binaries: Vec<String> = names_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|f| f.strip_suffix(".rs").map(String::from))
        .collect();
    let mut listed: Vec<String> = targets::TARGETS.iter().map(|(name, _)| name.to_string()).collect();
    listed.sort();
    assert_eq!(binaries, listed);
}

/// The targets' own checks can fail: an RTF tokenizer target given text it must refuse still
/// returns, and the SMTP target sees a greeting and well-formed replies for a plain session.
#[test]
fn the_targets_run_on_plain_inputs() {
    targets::rtf_token(b"{\\rtf1 hello\\'8a\\bin2 {}}\r\n");
    targets::rtf_token(b"{\\rtf1 \\");
    targets::smtp(b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: s\r\n\r\nhi\r\n.\r\nQUIT\r\n");
    targets::engine(b"plain text\n");
    targets::mime(b"From: a@x\r\nSubject: s\r\n\r\nhi\r\n");
}
