//! Writes a synthetic benchmark document of about the given size (text and incompressible
//! pictures, the shape of a real report with photos): `bench_doc <PATH> <BYTES> [docx|docm|pdf]`
//! (docx by default; a PDF gets one page per 20 KB asked for). Used by
//! `scripts/bench-end-to-end.sh` and `scripts/bench-dropfolder.sh`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: bench_doc <PATH> <BYTES> [docx|docm|pdf]");
        std::process::exit(2);
    }
    let size: usize = match args[2].parse() {
        Ok(n) => n,
        Err(_) => {
            eprintln!("bench_doc: BYTES must be a number");
            std::process::exit(2);
        }
    };
    let data = match args.get(3).map(String::as_str).unwrap_or("docx") {
        "docx" => mugai::samples::large_docx(size),
        "docm" => mugai::samples::large_docm(size),
        "pdf" => mugai::samples::large_pdf((size / 20_000).max(1)),
        other => {
            eprintln!("bench_doc: unknown kind {other}");
            std::process::exit(2);
        }
    };
    if let Err(e) = std::fs::write(&args[1], data) {
        eprintln!("bench_doc: {}: {e}", args[1]);
        std::process::exit(1);
    }
}
