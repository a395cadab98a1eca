//! Writes every sample of `mugai::samples` to `<dir>/ooxml/`, and the samples of
//! `mugai::samples::{pdf, ole2, odf, rtf, archive, packed, markup, mail, hostile}` to
//! `<dir>/pdf/`, `<dir>/ole2/`, `<dir>/odf/`, `<dir>/rtf/`, `<dir>/archive/`, `<dir>/packed/`,
//! `<dir>/markup/`, `<dir>/mail/` and `<dir>/hostile/` (the hostile-input suite), each folder
//! with its `EXPECTED.tsv`.
//!
//!     cargo run --example gen_samples -- samples/
//!
//! Files larger than 1 MiB are not written (they are for benchmarks and limit tests, built on the
//! fly). Files in those folders that no sample produces any more are removed, so each folder
//! always mirrors the builders.

use mugai::samples::{self, Sample};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const MAX_COMMITTED_BYTES: usize = 1024 * 1024;

/// Each folder and the builder of its samples.
type Builder = fn() -> Vec<Sample>;
const SETS: [(&str, Builder); 10] = [
    ("ooxml", samples::all),
    ("pdf", samples::pdf::all),
    ("ole2", samples::ole2::all),
    ("odf", samples::odf::all),
    ("rtf", samples::rtf::all),
    ("archive", samples::archive::all),
    ("packed", samples::packed::all),
    ("markup", samples::markup::all),
    ("mail", samples::mail::all),
    ("hostile", samples::hostile::all),
];

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: gen_samples <samples dir>");
        return ExitCode::from(2);
    };
    for (folder, make) in SETS {
        if let Err(e) = run(&dir.join(folder), &make()) {
            eprintln!("gen_samples: {folder}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn run(out: &Path, all: &[Sample]) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut written = BTreeSet::new();
    for s in all {
        if s.bytes.len() > MAX_COMMITTED_BYTES {
            println!("skip  {} ({} bytes)", s.file_name, s.bytes.len());
            continue;
        }
        std::fs::write(out.join(s.file_name), &s.bytes)?;
        written.insert(s.file_name.to_string());
        println!("wrote {} ({} bytes)", s.file_name, s.bytes.len());
    }
    std::fs::write(out.join("EXPECTED.tsv"), samples::expected_tsv(all))?;
    written.insert("EXPECTED.tsv".to_string());
    for entry in std::fs::read_dir(out)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && !written.contains(&name) {
            std::fs::remove_file(entry.path())?;
            println!("removed stale {name}");
        }
    }
    Ok(())
}
