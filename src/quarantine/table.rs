//! What the admin commands print: the table of `mugai quarantine list`, one line per record, columns sized to their content
//! (by terminal width, so Japanese file names line up), long file names and sources cut with `…`,
//! control and bidirectional characters in names shown as `<U+202E>` so that a hostile name
//! cannot move the cursor or turn `invoice<U+202E>fdp.exe` into `invoiceexe.pdf` on screen; and
//! the CSV of `export`, where no cell a sender chose can become a spreadsheet formula.

use super::{when, Record, Source};
use std::io::Write;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Bytes as people read them: 812 B, 14.2 KB, 3.1 MB.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// `s` with control and bidirectional-control characters written as `<U+XXXX>`.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || crate::names::is_bidi_control(c) {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Cuts `s` to `max` terminal columns, marking the cut with `…`.
fn fit(s: &str, max: usize) -> String {
    if s.width() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// The aligned table of `list` (columns sized to their content, long ones cut).
pub fn render_table(records: &[Record], out: &mut dyn Write) -> std::io::Result<()> {
    let header = ["ID", "HELD (UTC)", "STATUS", "REASON", "KIND", "SIZE", "FILE", "SOURCE"];
    let rows: Vec<[String; 8]> = records
        .iter()
        .map(|r| {
            [
                r.short_id().to_string(),
                when::format_short(r.held_at),
                r.status.as_str().to_string(),
                r.reason.as_str().to_string(),
                r.kind.as_str().to_string(),
                human_size(r.size),
                fit(&r.file_name.as_deref().map(printable).unwrap_or_else(|| "-".into()), 40),
                fit(&format!("{}: {}", r.source.type_name(), printable(&r.source.summary())), 60),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.width());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let mut w = std::io::BufWriter::new(out);
    let mut line = String::new();
    let mut write_row = |cells: &[&str], w: &mut dyn Write| -> std::io::Result<()> {
        line.clear();
        for (i, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < cells.len() {
                // Sizes are right-aligned, everything else left-aligned.
                let pad = widths[i].saturating_sub(cell.width());
                if i == 5 {
                    line.truncate(line.len() - cell.len());
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else {
                    line.push_str(&" ".repeat(pad));
                }
                line.push_str("  ");
            }
        }
        writeln!(w, "{}", line.trim_end())
    };
    write_row(&header, &mut w)?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        write_row(&cells, &mut w)?;
    }
    writeln!(w, "{} item{}", records.len(), if records.len() == 1 { "" } else { "s" })?;
    w.flush()?;
    Ok(())
}

/// Every record as CSV (`export --csv`), one row per record, a header row first. Cells that a
/// spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return: a sender can choose a file name like `=HYPERLINK(...)`) get a leading `'`.
pub fn write_csv(records: &[Record], out: impl Write) -> Result<usize, csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    let cell = |s: String| if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s };
    w.write_record([
        "id",
        "held_at",
        "source",
        "client",
        "sender",
        "recipients",
        "message_id",
        "path",
        "file_name",
        "kind",
        "reason",
        "detail",
        "size",
        "sha256",
        "status",
        "status_at",
        "status_by",
    ])?;
    for r in records {
        let (client, sender, recipients, mid, path) = match &r.source {
            Source::Smtp { client, sender, recipients, message_id, .. } => (
                client.clone(),
                sender.clone(),
                recipients.join(" "),
                message_id.clone().unwrap_or_default(),
                String::new(),
            ),
            Source::Cli { path } | Source::Dropfolder { path, .. } => {
                (String::new(), String::new(), String::new(), String::new(), path.clone())
            }
        };
        w.write_record(
            [
                r.id.clone(),
                when::format_time(r.held_at),
                r.source.type_name().to_string(),
                client,
                sender,
                recipients,
                mid,
                path,
                r.file_name.clone().unwrap_or_default(),
                r.kind.as_str().to_string(),
                r.reason.as_str().to_string(),
                r.detail.clone().unwrap_or_default(),
                r.size.to_string(),
                r.sha256.clone(),
                r.status.as_str().to_string(),
                r.status_at.map(when::format_time).unwrap_or_default(),
                r.status_by.clone().unwrap_or_default(),
            ]
            .map(cell),
        )?;
    }
    w.flush()?;
    Ok(records.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Reason};
    use crate::quarantine::Status;

    fn record(name: &str) -> Record {
        Record {
            id: "0123456789abcdef0123456789abcdef".into(),
            held_at: 1_764_028_800,
            source: Source::Cli { path: format!("in/{name}") },
            file_name: Some(name.into()),
            kind: Kind::Pe,
            reason: Reason::Executable,
            detail: None,
            actions: Vec::new(),
            findings: Vec::new(),
            size: 2048,
            sha256: "ab".repeat(32),
            blob: "ab".repeat(32),
            status: Status::Held,
            status_at: None,
            status_by: None,
        }
    }

    #[test]
    fn names_cannot_steer_the_terminal_or_the_spreadsheet() {
        let r = record("invoice\u{202E}fdp.exe");
        let mut out = Vec::new();
        render_table(std::slice::from_ref(&r), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("invoice<U+202E>fdp.exe") && !text.contains('\u{202E}'), "{text}");
        assert!(text.contains("0123456789ab  2025-11-25 00:00") && text.contains("2.0 KB"), "{text}");
        let mut csv = Vec::new();
        write_csv(&[record("=HYPERLINK(\"http://x\")"), record("-2+3")], &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.contains(",\"'=HYPERLINK(\"\"http://x\"\")\",") && csv.contains(",'-2+3,"), "{csv}");
    }
}
