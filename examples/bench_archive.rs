//! Writes one of the benchmark archives of `mugai::samples::archive` to a file, for
//! `scripts/bench-archive.sh`.
//!
//!     cargo run --release --example bench_archive -- bundle_40|tiny_10000 OUT.zip

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let data = match args.get(1).map(String::as_str) {
        Some("bundle_40") => mugai::samples::archive::bundle_40(),
        Some("tiny_10000") => mugai::samples::archive::ten_thousand_entries(),
        _ => {
            eprintln!("usage: bench_archive bundle_40|tiny_10000 OUT.zip");
            return ExitCode::from(2);
        }
    };
    match args.get(2).map(|p| std::fs::write(p, data)) {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(e)) => {
            eprintln!("bench_archive: {e}");
            ExitCode::FAILURE
        }
        None => ExitCode::from(2),
    }
}
