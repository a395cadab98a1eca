//! `mugai check-config` (WIP).
use super::Cli;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {}

pub fn run(_cli: &Cli, _a: &CheckConfigArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not yet")
}
