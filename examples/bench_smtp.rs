//! Writes the messages `scripts/bench-smtp.sh` sends: `plain_10k.eml` (a 10 KB text message)
//! and `docm_1m.eml` (a text body and a 1 MB macro-enabled Word document), both made by the
//! project's own builders.
//!
//!     cargo run --release --example bench_smtp -- <folder>

use mugai::samples::large_docm;
use mugai::samples::mail::{attachment, headers, message, text, Part};

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let dir = std::path::Path::new(&dir);
    let line = "The ward rounds start at nine; the schedule for the week is below.\n";
    let body = line.repeat(10 * 1024 / line.len());
    // smtp-source sends each line of the file with CRLF of its own: the files have LF line ends.
    let lf = |m: Vec<u8>| String::from_utf8_lossy(&m).replace("\r\n", "\n");
    std::fs::write(dir.join("plain_10k.eml"), lf(message(&headers("Schedule", "plain"), &text(&body))))?;
    let docm = large_docm(1024 * 1024);
    let mime = "application/vnd.ms-word.document.macroEnabled.12";
    let with_docm =
        Part::Multi("mixed", vec![text("The report is attached.\n"), attachment(mime, "report.docm", docm)]);
    std::fs::write(dir.join("docm_1m.eml"), lf(message(&headers("Report", "docm"), &with_docm)))?;
    Ok(())
}
