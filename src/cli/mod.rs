//! Command-line wiring: one file per command. Commands only connect arguments to library calls.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub mod check_config;
pub mod sanitize;

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
    Scan(sanitize::ScanArgs),
    /// Validate a configuration and print the resolved result.
    CheckConfig(check_config::CheckConfigArgs),
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
        Command::Scan(a) => sanitize::run_scan(&cli, a),
        Command::CheckConfig(a) => check_config::run(&cli, a),
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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
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
