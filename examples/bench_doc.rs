//! Writes a synthetic benchmark document of about the given size (text and incompressible
//! pictures, the shape of a real report with photos): `bench_doc <PATH> <BYTES>`.
//! Used by `scripts/bench-end-to-end.sh`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: bench_doc <PATH> <BYTES>");
        std::process::exit(2);
    }
    let size: usize = match args[2].parse() {
        Ok(n) => n,
        Err(_) => {
            eprintln!("bench_doc: BYTES must be a number");
            std::process::exit(2);
        }
    };
    if let Err(e) = std::fs::write(&args[1], mugai::samples::large_docx(size)) {
        eprintln!("bench_doc: {}: {e}", args[1]);
        std::process::exit(1);
    }
}
