//! The table `mugai quarantine list` prints: one line per record, columns sized to their content
//! (by terminal width, so Japanese file names line up), long file names and sources cut with `…`,
//! control and bidirectional characters in names shown as `<U+202E>` so that a hostile name
//! cannot move the cursor or turn `invoice<U+202E>fdp.exe` into `invoiceexe.pdf` on screen.

use super::{when, Record};
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
