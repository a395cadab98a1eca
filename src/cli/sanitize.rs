//! `mugai sanitize` and `mugai scan` (WIP).
use super::Cli;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SanitizeArgs {
    /// Files or folders (folders are walked recursively, relative paths kept).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Folder for the clean copies.
    #[arg(long)]
    pub out: PathBuf,
    /// Write a JSON Lines report here (one object per input file).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Print one JSON object per input file instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run_sanitize(_cli: &Cli, _a: &SanitizeArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not yet")
}

pub fn run_scan(_cli: &Cli, _a: &ScanArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not yet")
}
