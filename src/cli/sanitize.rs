//! `mugai sanitize`: clean copies out, blocked originals to quarantine, a JSON Lines report.

use super::{collect_inputs, load, process_one, progress, Cli, Input, EXIT_CLEAN, EXIT_FOUND};
use anyhow::{Context as _, Result};
use mugai::config::Config;
use mugai::engine::{Engine, Outcome};
use mugai::model::{Reason, Verdict};
use mugai::names::safe_file_name;
use mugai::quarantine::{Held, Quarantine, Source};
use mugai::report::ReportLine;
use rayon::prelude::*;
use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, clap::Args)]
pub struct SanitizeArgs {
    /// Files or folders (folders are walked recursively; relative paths are kept under --out).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Folder for the clean copies (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Write a JSON Lines report here: one object per input file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Sign a receipt for every clean copy with this private key (`mugai receipt keygen`),
    /// written beside it as <name>.mugai.json.
    #[arg(long, value_name = "KEY")]
    pub receipt_key: Option<PathBuf>,
    /// With --receipt-key: put each clean copy and its receipt together in <name>.mugai.zip
    /// instead, ready to send as one file.
    #[arg(long, requires = "receipt_key")]
    pub bundle: bool,
}

/// What signs receipts in this run.
struct Signer {
    signer: mugai::receipt::Signer,
    bundle: bool,
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.mugai-tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    // Written under a temporary name and renamed, so a reader never sees half a file. No fsync:
    // the input stays where it was, so a crash loses nothing that cannot be made again (the
    // quarantine, which holds the only copy of what it keeps, does sync).
    fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

pub fn run_sanitize(cli: &Cli, a: &SanitizeArgs) -> Result<u8> {
    let Some((config, engine)) = load(cli)? else { return Ok(super::EXIT_USAGE) };
    let quarantine = Quarantine::from_config(&config.quarantine)?;
    // Read before any work, so that a missing or exposed key fails at once.
    let signer = match &a.receipt_key {
        Some(k) => Some(Signer { signer: mugai::receipt::Signer::load(k, &config)?, bundle: a.bundle }),
        None => None,
    };
    fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    // Opened before any work, so that a bad report path fails at once.
    let mut report: Option<Box<dyn Write>> = match &a.report {
        Some(p) => Some(Box::new(std::io::BufWriter::new(
            fs::File::create(p).with_context(|| format!("creating report {}", p.display()))?,
        ))),
        None => None,
    };
    let mut skip: Vec<&Path> = vec![&a.out, &config.quarantine.dir];
    if let Some(r) = &a.report {
        skip.push(r);
    }
    let inputs = collect_inputs(&a.inputs, &skip)?;
    let claims = Claims::default();
    let pb = progress(inputs.len());
    let lines: Vec<Result<ReportLine>> = engine.install(|| {
        inputs
            .par_iter()
            .map(|input| {
                let r = sanitize_one(&engine, &config, &quarantine, signer.as_ref(), &claims, &a.out, input);
                pb.inc(1);
                r
            })
            .collect()
    });
    pb.finish_and_clear();
    let (mut kept, mut disarmed, mut blocked, mut held, mut failed) = (0, 0, 0, 0, 0);
    for (input, line) in inputs.iter().zip(lines) {
        match line {
            Ok(line) => {
                match line.verdict {
                    Verdict::Kept => kept += 1,
                    Verdict::Disarmed => disarmed += 1,
                    Verdict::Blocked => blocked += 1,
                }
                if line.verdict != Verdict::Blocked && line.quarantine_id.is_some() {
                    held += 1;
                }
                if let Some(w) = report.as_mut() {
                    serde_json::to_writer(&mut *w, &line)?;
                    w.write_all(b"\n")?;
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("mugai: {}: {e:#}", input.path.display());
            }
        }
    }
    if let Some(mut w) = report {
        w.flush()?;
    }
    eprintln!(
        "{} files: {disarmed} disarmed, {kept} kept, {blocked} blocked{}{}",
        inputs.len(),
        if held > 0 { format!(" ({held} rebuilt without blocked contents, originals held)") } else { String::new() },
        if failed > 0 { format!(", {failed} could not be read or written") } else { String::new() }
    );
    Ok(if blocked > 0 || held > 0 || failed > 0 { EXIT_FOUND } else { EXIT_CLEAN })
}

/// Output paths already taken in this run: two inputs that become the same clean name (say
/// `a.docm` and `a.docx`) must not overwrite each other.
#[derive(Default)]
struct Claims(Mutex<HashSet<PathBuf>>);

impl Claims {
    fn claim(&self, wanted: PathBuf) -> PathBuf {
        let mut taken = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut path = wanted.clone();
        let stem = wanted.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let ext = wanted.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let mut n = 2;
        while taken.contains(&path) {
            path = wanted.with_file_name(format!("{stem} ({n}){ext}"));
            n += 1;
        }
        taken.insert(path.clone());
        path
    }
}

/// What the store records about an input it holds.
fn held<'a>(outcome: &'a Outcome, shown: &str, reason: Reason, detail: Option<&'a str>) -> Held<'a> {
    Held {
        file_name: outcome.name.as_deref(),
        detail,
        actions: &outcome.actions,
        findings: &outcome.findings,
        ..Held::new(Source::Cli { path: shown.to_string() }, outcome.kind, reason)
    }
}

fn sanitize_one(
    engine: &Engine,
    config: &Config,
    q: &Quarantine,
    signer: Option<&Signer>,
    claims: &Claims,
    out_dir: &Path,
    input: &Input,
) -> Result<ReportLine> {
    let outcome = process_one(engine, config, input)?;
    let shown = input.path.to_string_lossy().into_owned();
    if outcome.verdict == Verdict::Blocked {
        let reason = outcome.reason.unwrap_or(Reason::InternalError);
        // The original is copied from the input file as it is, streamed, whatever its size.
        let mut f = fs::File::open(&input.path).with_context(|| format!("{}", input.path.display()))?;
        let record = q.hold_reader(&mut f, &held(&outcome, &shown, reason, outcome.detail.as_deref()))?;
        tracing::info!(input = %shown, kind = %outcome.kind, reason = %reason, quarantine = %record.id, "blocked");
        let mut line = ReportLine::from_outcome(shown, None, &outcome);
        if line.sha256_in.is_empty() {
            line.sha256_in = record.sha256.clone();
        }
        line.quarantine_id = Some(record.id);
        return Ok(line);
    }
    let out_name = outcome
        .output_name
        .clone()
        .or_else(|| input.rel.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "file".into());
    let rel_dir = input.rel.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut dest = out_dir.to_path_buf();
    for c in rel_dir.components() {
        if let std::path::Component::Normal(s) = c {
            dest.push(safe_file_name(&s.to_string_lossy()));
        }
    }
    dest.push(safe_file_name(&out_name));
    let data = outcome.output.as_deref().unwrap_or_default();
    let dest = match signer {
        Some(s) => {
            let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let input_name = input.rel.to_string_lossy();
            let receipt = s.signer.issue(&input_name, &outcome, &name).context("signing the receipt")?;
            if s.bundle {
                let dest = claims.claim(dest.with_file_name(format!("{name}.mugai.zip")));
                write_atomic(&dest, &mugai::receipt::bundle(&name, data, &receipt))?;
                dest
            } else {
                let dest = claims.claim(dest);
                write_atomic(&dest, data)?;
                let mut r = dest.clone().into_os_string();
                r.push(mugai::receipt::SUFFIX);
                write_atomic(Path::new(&r), &receipt.to_json())?;
                dest
            }
        }
        None => {
            let dest = claims.claim(dest);
            write_atomic(&dest, data)?;
            dest
        }
    };
    tracing::debug!(input = %shown, output = %dest.display(), verdict = outcome.verdict.as_str(), actions = outcome.actions.len(), "done");
    let mut line = ReportLine::from_outcome(shown.clone(), Some(dest.to_string_lossy().into_owned()), &outcome);
    // Something inside was blocked and left out (an archive entry): the clean copy goes on, and
    // the original is held so that nothing blocked is lost.
    if let Some((reason, detail)) = outcome.hold_reason() {
        let mut f = fs::File::open(&input.path).with_context(|| format!("{}", input.path.display()))?;
        let record = q.hold_reader(&mut f, &held(&outcome, &shown, reason, Some(&detail)))?;
        tracing::info!(input = %shown, detail = %detail, reason = %reason, quarantine = %record.id, "held back");
        line.quarantine_id = Some(record.id);
    }
    Ok(line)
}
