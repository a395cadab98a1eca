//! `mugai check-config`: validates the configuration (with `--config` and `--set`) and prints
//! the resolved result, or every problem found.

use super::{Cli, EXIT_CLEAN, EXIT_USAGE};
use mugai::config::load_for_cli;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {}

/// Prints `# config: <source>` and the resolved configuration as TOML to stdout (exit 0), or
/// each error on its own line to stderr (exit 2).
pub fn run(cli: &Cli, _a: &CheckConfigArgs) -> anyhow::Result<u8> {
    match load_for_cli(cli.config.as_deref(), &cli.set) {
        Ok((config, source)) => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "# config: {source}")?;
            out.write_all(config.to_toml().as_bytes())?;
            out.flush()?;
            Ok(EXIT_CLEAN)
        }
        Err(errors) => {
            for line in errors.to_string().lines() {
                eprintln!("mugai: {line}");
            }
            Ok(EXIT_USAGE)
        }
    }
}
