//! `mugai scan`: the same analysis as `sanitize`, writing nothing: what would be removed or
//! blocked, as a table or as JSON lines.

use super::{collect_inputs, load, process_one, progress, Cli, EXIT_CLEAN, EXIT_FOUND};
use anyhow::Result;
use mugai::engine::Outcome;
use mugai::model::Verdict;
use mugai::report::ReportLine;
use rayon::prelude::*;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or folders (folders are walked recursively).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Print one JSON object per input file instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &ScanArgs) -> Result<u8> {
    let Some((config, engine)) = load(cli)? else { return Ok(super::EXIT_USAGE) };
    let inputs = collect_inputs(&a.inputs, &[&config.quarantine.dir])?;
    let pb = progress(inputs.len());
    let results: Vec<Result<Outcome>> = engine.install(|| {
        inputs
            .par_iter()
            .map(|input| {
                let r = process_one(&engine, &config, input);
                pb.inc(1);
                r
            })
            .collect()
    });
    pb.finish_and_clear();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut found = false;
    for (input, r) in inputs.iter().zip(results) {
        let shown = input.path.to_string_lossy().into_owned();
        let o = match r {
            Ok(o) => o,
            Err(e) => {
                eprintln!("mugai: {shown}: {e:#}");
                found = true;
                continue;
            }
        };
        found |= o.found_active_content();
        if a.json {
            serde_json::to_writer(&mut out, &ReportLine::from_outcome(shown, None, &o))?;
            writeln!(out)?;
            continue;
        }
        let what = match o.verdict {
            Verdict::Blocked => format!(
                "would block: {}{}",
                o.reason.map(|r| r.as_str()).unwrap_or("?"),
                o.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            Verdict::Kept => "clean, kept as is".to_string(),
            Verdict::Disarmed if o.actions.is_empty() => "clean, would be rebuilt".to_string(),
            Verdict::Disarmed => format!("would remove {} item(s)", o.actions.len()),
        };
        writeln!(out, "{:<8} {:<10} {}  {}", o.verdict.as_str(), o.kind.as_str(), shown, what)?;
        for act in &o.actions {
            let action = serde_json::to_value(act.action)?.as_str().unwrap_or_default().to_string();
            let why = match (act.reason, act.detail.as_deref()) {
                (Some(r), Some(d)) => format!(" ({r}: {d})"),
                (Some(r), None) => format!(" ({r})"),
                (None, Some(d)) => format!(" ({d})"),
                (None, None) => String::new(),
            };
            writeln!(out, "           - {action} {}{why}", act.part)?;
        }
    }
    Ok(if found { EXIT_FOUND } else { EXIT_CLEAN })
}
