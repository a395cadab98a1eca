//! Command-line wiring: one file per command. Commands only connect arguments to library calls.

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use mugai::config::Config;
use mugai::engine::{Engine, Outcome};
use mugai::model::{Item, Reason};
use std::fs;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

pub mod check_config;
pub mod quarantine;
pub mod receipt;
pub mod sanitize;
pub mod scan;
pub mod serve;

/// mugai (無害): content disarm and reconstruction for mail and file transfer.
#[derive(Debug, Parser)]
#[command(name = "mugai", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file. Relative paths inside it are relative to its folder. When this option
    /// is not given and ./config.toml does not exist, the built-in defaults are used.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Override one configuration key, e.g. `--set limits.max_depth=4` (repeatable).
    #[arg(long = "set", global = true, value_name = "SECTION.KEY=VALUE")]
    pub set: Vec<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Disarm files and folders: clean copies into --out, blocked originals into quarantine.
    Sanitize(sanitize::SanitizeArgs),
    /// Analyse files and folders without writing anything: what would be removed or blocked.
    Scan(scan::ScanArgs),
    /// Validate a configuration and print the resolved result.
    CheckConfig(check_config::CheckConfigArgs),
    /// Review the quarantine: list, show, release, delete, purge, export, audit log, check.
    Quarantine(quarantine::QuarantineArgs),
    /// Run the services enabled in the configuration (the SMTP content filter) until stopped.
    Serve(serve::ServeArgs),
    /// Signed sanitization receipts: make a key pair, or verify a file against its receipt.
    Receipt(receipt::ReceiptArgs),
}

pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FOUND: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_CLEAN };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    install_panic_hook();
    let result = match &cli.command {
        Command::Sanitize(a) => sanitize::run_sanitize(&cli, a),
        Command::Scan(a) => scan::run(&cli, a),
        Command::CheckConfig(a) => check_config::run(&cli, a),
        Command::Serve(a) => serve::run(&cli, a),
        Command::Receipt(a) => receipt::run(&cli, a),
        Command::Quarantine(a) => quarantine::run(&cli, a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mugai: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Logs go to stderr (stdout carries command output): text or JSON lines, at the configured
/// level unless `RUST_LOG` says otherwise.
pub fn init_logging(config: &mugai::config::Config) {
    use tracing_subscriber::EnvFilter;
    // The PDF parser logs what it finds wrong in a file as warnings and errors of its own; for
    // mugai those are properties of hostile input (the outcome carries the reason), so they
    // are debug detail, shown only at `debug` and `trace`.
    let parser = if matches!(config.log.level.as_str(), "debug" | "trace") { "debug" } else { "off" };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{},lopdf={parser},notify=warn", config.log.level)));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log.format {
        mugai::config::LogFormat::Json => builder.json().try_init(),
        mugai::config::LogFormat::Text => builder.try_init(),
    };
}

/// Panics inside format modules are caught by the engine and block the item; this hook sends
/// their message to the log instead of the default stderr dump.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let loc = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!(location = %loc, "internal error: {info}");
    }));
}

/// One input file and where its clean copy goes, relative to --out.
pub struct Input {
    pub path: PathBuf,
    pub rel: PathBuf,
}

/// Files named on the command line, and every regular file under folders named there. Symbolic
/// links are not followed: a link inside a folder could point anywhere on the machine.
///
/// Paths in `skip` (the output and quarantine folders, the report file) are left out when walking
/// a folder, so that a folder sanitized into itself does not take its own outputs as inputs.
pub fn collect_inputs(paths: &[PathBuf], skip: &[&std::path::Path]) -> Result<Vec<Input>> {
    let skip: Vec<PathBuf> = skip.iter().filter_map(|p| fs::canonicalize(p).ok()).collect();
    // Only entries named like something skipped are resolved (one lookup each), not every file.
    let skip_names: Vec<&std::ffi::OsStr> = skip.iter().filter_map(|p| p.file_name()).collect();
    let skipped = |e: &walkdir::DirEntry| {
        e.depth() > 0
            && skip_names.contains(&e.file_name())
            && fs::canonicalize(e.path()).map(|c| skip.contains(&c)).unwrap_or(false)
    };
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).with_context(|| format!("{}", p.display()))?;
        if !meta.is_dir() {
            let name = p.file_name().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("input"));
            out.push(Input { path: p.clone(), rel: name });
            continue;
        }
        let walk = walkdir::WalkDir::new(p).follow_links(false).sort_by_file_name().into_iter();
        for entry in walk.filter_entry(|e| !skipped(e)) {
            let entry = entry.with_context(|| format!("reading {}", p.display()))?;
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(p).unwrap_or(entry.path()).to_path_buf();
                out.push(Input { path: entry.path().to_path_buf(), rel });
            } else if entry.file_type().is_symlink() {
                tracing::warn!(path = %entry.path().display(), "symbolic link skipped");
            }
        }
    }
    Ok(out)
}

pub fn load(cli: &Cli) -> Result<Option<(Arc<Config>, Engine)>> {
    let (config, source) = match mugai::config::load_for_cli(cli.config.as_deref(), &cli.set) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mugai: configuration errors:\n{e}");
            return Ok(None);
        }
    };
    init_logging(&config);
    tracing::debug!(config = %source, "configuration loaded");
    let config = Arc::new(config);
    let engine = Engine::new(config.clone())?;
    Ok(Some((config, engine)))
}

pub fn progress(n: usize) -> ProgressBar {
    if n > 3 && std::io::stderr().is_terminal() {
        let pb = ProgressBar::new(n as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed} {msg}") {
            pb.set_style(style);
        }
        pb
    } else {
        ProgressBar::hidden()
    }
}

/// Reads and processes one input, or decides without reading it when it is over the input size
/// limit.
pub fn process_one(engine: &Engine, config: &Config, input: &Input) -> Result<Outcome> {
    let name = input.path.file_name().map(|n| n.to_string_lossy().into_owned());
    let len = fs::metadata(&input.path).with_context(|| format!("{}", input.path.display()))?.len();
    if len > config.limits.max_input_bytes {
        let mut outcome = Outcome::new(input.rel.to_string_lossy().into_owned(), name, len, String::new());
        outcome.reason = Some(Reason::LimitInputSize);
        outcome.detail = Some(format!("{len} bytes, limit {}", config.limits.max_input_bytes));
        return Ok(outcome);
    }
    let data = fs::read(&input.path).with_context(|| format!("{}", input.path.display()))?;
    let item = Item { data, name, declared_type: None, path: input.rel.to_string_lossy().into_owned() };
    Ok(engine.process(item))
}
