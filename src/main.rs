//! The `mugai` command: parses arguments, sets up logging, runs a command, maps errors to exit
//! codes (0 clean, 1 something blocked or found, 2 usage or configuration error).

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::main()
}
