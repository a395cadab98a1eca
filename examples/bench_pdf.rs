//! Writes a synthetic benchmark PDF of the given number of pages (text in two fonts, links,
//! pictures, an outline; nothing active): `bench_pdf <PATH> <PAGES>`.
//! Used by `scripts/bench-pdf.sh`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: bench_pdf <PATH> <PAGES>");
        std::process::exit(2);
    }
    let pages: usize = match args[2].parse() {
        Ok(n) if n > 0 => n,
        _ => {
            eprintln!("bench_pdf: PAGES must be a positive number");
            std::process::exit(2);
        }
    };
    if let Err(e) = std::fs::write(&args[1], mugai::samples::large_pdf(pages)) {
        eprintln!("bench_pdf: {}: {e}", args[1]);
        std::process::exit(1);
    }
}
