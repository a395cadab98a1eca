//! Text that a spreadsheet program opens: formula cells in delimited text (CSV, TSV) and SYLK.
//!
//! Plain text is kept as it is, except for the cells a spreadsheet would run: a cell of a
//! comma-, semicolon- or tab-separated line that starts with `=`, `+`, `-` or `@` and calls DDE
//! (`=cmd|' /c calc'!A0`) or a function that fetches, calls out or links
//! (`=HYPERLINK(...)`, `=WEBSERVICE(...)`, `=CALL(...)`, `=EXEC(...)`, ...). Such a cell gets a
//! leading apostrophe, the spreadsheet convention for "this is text", and everything else keeps
//! its bytes. The check works on bytes: the delimiters, quotes and formula signs are ASCII bytes
//! that never occur inside a Shift_JIS, EUC-JP or UTF-8 character at the start of a cell.
//!
//! SYLK (`ID;P...`), Excel's old symbolic link format, can hold Excel 4.0 macros: a macro-sheet
//! option, `Auto_Open` names, `EXEC` formulas. It is rebuilt from its cell values and formats
//! only: every formula, name, external reference and option record is dropped (the cell keeps
//! its value when the file has one).

use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind};

/// Functions that fetch, call out, link or run when a spreadsheet evaluates them.
const DANGEROUS_FUNCTIONS: [&[u8]; 14] = [
    b"hyperlink(",
    b"webservice(",
    b"filterxml(",
    b"importxml(",
    b"importdata(",
    b"importhtml(",
    b"importfeed(",
    b"importrange(",
    b"image(",
    b"call(",
    b"register(",
    b"register.id(",
    b"exec(",
    b"rtd(",
];

/// The characters of UTF-16 text with a byte order mark, when it decodes.
pub fn utf16_text(data: &[u8]) -> Option<String> {
    let (encoding, body) = match data {
        [0xFF, 0xFE, rest @ ..] => (encoding_rs::UTF_16LE, rest),
        [0xFE, 0xFF, rest @ ..] => (encoding_rs::UTF_16BE, rest),
        _ => return None,
    };
    encoding.decode_without_bom_handling_and_without_replacement(body).map(|s| s.into_owned())
}

/// True when `data` holds a cell a spreadsheet would evaluate into something active (see the
/// module documentation), or is a SYLK file with anything but values and formats.
pub fn has_formula_hazard(kind: Kind, data: &[u8]) -> bool {
    match kind {
        Kind::Sylk => sylk_lines(data).any(|l| !matches!(sylk_line(l), SylkLine::Keep)),
        Kind::Text => cells(data).iter().any(|c| cell_hazard_at(data, c).is_some()),
        _ => false,
    }
}

/// Disarms a text (formula cells) or SYLK file.
pub fn disarm(kind: Kind, data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    match kind {
        Kind::Sylk => disarm_sylk(data, ctx),
        _ => match utf16_text(data) {
            // Disarmed as UTF-8 and written back in the byte order it came in, with its mark.
            Some(text) => {
                let mut d = disarm_delimited(text.as_bytes(), ctx)?;
                let text = String::from_utf8(d.data).map_err(|_| FormatError::malformed("UTF-16 text"))?;
                let big_endian = data.starts_with(&[0xFE, 0xFF]);
                let mut out = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
                for unit in text.encode_utf16() {
                    out.extend_from_slice(&if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
                }
                d.data = out;
                Ok(d)
            }
            None => disarm_delimited(data, ctx),
        },
    }
}

/// The cells of delimited text: byte ranges split at `,`, `;`, tab and line ends, with quoted
/// cells (`"a,b"`) taken whole. Empty cells are left out.
fn cells(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, &b) in data.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b',' | b';' | b'\t' | b'\n' | b'\r' if !quoted => {
                if i > start {
                    out.push(start..i);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if data.len() > start {
        out.push(start..data.len());
    }
    out
}

/// Where in the cell the formula starts and which action removing it is, when the cell is one
/// a spreadsheet would run.
fn cell_hazard_at(data: &[u8], r: &std::ops::Range<usize>) -> Option<(usize, ActionKind)> {
    let cell = &data[r.clone()];
    let lead = cell.iter().position(|&b| !matches!(b, b' ' | b'"')).unwrap_or(cell.len());
    let body = &cell[lead..];
    let sign = *body.first()?;
    if !matches!(sign, b'=' | b'+' | b'-' | b'@') {
        return None;
    }
    let lower: Vec<u8> = body.iter().map(|b| b.to_ascii_lowercase()).collect();
    let has = |n: &[u8]| lower.windows(n.len()).any(|w| w == n);
    if has(b"|") && has(b"!") {
        return Some((r.start + lead, ActionKind::RemovedDdeFormula));
    }
    if DANGEROUS_FUNCTIONS.iter().any(|f| has(f)) || has(b"dde(") || has(b"ddeauto") {
        return Some((r.start + lead, ActionKind::RemovedExternalFormula));
    }
    None
}

fn disarm_delimited(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut actions = Vec::new();
    let mut copied = 0;
    let mut line = 1usize;
    let mut line_start = 0usize;
    for (n, r) in cells(data).into_iter().enumerate() {
        if n % 65_536 == 0 {
            ctx.budget.check_time()?;
        }
        line += data[line_start..r.start].iter().filter(|&&b| b == b'\n').count();
        line_start = r.start;
        if let Some((at, action)) = cell_hazard_at(data, &r) {
            out.extend_from_slice(&data[copied..at]);
            out.push(b'\'');
            copied = at;
            let shown = String::from_utf8_lossy(&data[at..r.end.min(at + 80)]).into_owned();
            actions.push(Action::with_detail(action, format!("line {line}"), shown));
        }
    }
    out.extend_from_slice(&data[copied..]);
    Ok(Disarmed { name: None, data: out, kind: Kind::Text, actions })
}

/// SYLK records, one per line (CR LF or LF).
fn sylk_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

enum SylkLine {
    Keep,
    /// A cell record rebuilt from its position and value only.
    Cell(Vec<u8>),
    Drop(ActionKind),
}

/// What becomes of one SYLK record. Fields are separated by `;` (`;;` is a literal `;`).
fn sylk_line(line: &[u8]) -> SylkLine {
    let record = line.split(|&b| b == b';').next().unwrap_or(b"");
    match record {
        b"" | b"ID" | b"B" | b"F" | b"P" | b"E" | b"W" => SylkLine::Keep,
        b"C" => {
            let fields = sylk_fields(line);
            if fields.iter().all(|f| matches!(f.first(), Some(b'X' | b'Y' | b'K'))) {
                return SylkLine::Keep;
            }
            let mut rebuilt = b"C".to_vec();
            for f in fields.iter().filter(|f| matches!(f.first(), Some(b'X' | b'Y' | b'K'))) {
                rebuilt.push(b';');
                rebuilt.extend_from_slice(f);
            }
            SylkLine::Cell(rebuilt)
        }
        b"NN" => SylkLine::Drop(ActionKind::RemovedAutoMacroName),
        b"NE" | b"NU" => SylkLine::Drop(ActionKind::RemovedExternalReference),
        b"O" => SylkLine::Drop(ActionKind::RemovedMacroSheet),
        _ => SylkLine::Drop(ActionKind::RemovedExternalFormula),
    }
}

/// The fields after the record type, with `;;` kept inside a field.
fn sylk_fields(line: &[u8]) -> Vec<Vec<u8>> {
    let mut fields = Vec::new();
    let mut cur = Vec::new();
    let mut i = line.iter().position(|&b| b == b';').map_or(line.len(), |p| p + 1);
    while i < line.len() {
        if line[i] == b';' {
            if line.get(i + 1) == Some(&b';') {
                cur.extend_from_slice(b";;");
                i += 2;
                continue;
            }
            fields.push(std::mem::take(&mut cur));
        } else {
            cur.push(line[i]);
        }
        i += 1;
    }
    if !cur.is_empty() || line.last() == Some(&b';') {
        fields.push(cur);
    }
    fields
}

fn disarm_sylk(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let mut out = Vec::with_capacity(data.len());
    let mut actions = Vec::new();
    let mut formulas = 0usize;
    for (n, line) in sylk_lines(data).enumerate() {
        if n % 65_536 == 0 {
            ctx.budget.check_time()?;
        }
        if n == 0 && !line.starts_with(b"ID;") {
            return Err(FormatError::malformed("SYLK: no ID record first"));
        }
        match sylk_line(line) {
            SylkLine::Keep => out.extend_from_slice(line),
            SylkLine::Cell(c) => {
                formulas += 1;
                out.extend_from_slice(&c);
            }
            SylkLine::Drop(action) => {
                let shown = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
                actions.push(Action::with_detail(action, format!("line {}", n + 1), shown));
                continue;
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    while out.ends_with(b"\r\n\r\n") {
        out.truncate(out.len() - 2);
    }
    if formulas > 0 {
        actions.push(Action::with_detail(
            ActionKind::RemovedExternalFormula,
            "cells",
            format!("{formulas} cell formulas replaced by their values"),
        ));
    }
    Ok(Disarmed { name: None, data: out, kind: Kind::Sylk, actions })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hazards(csv: &str) -> Vec<String> {
        let d = csv.as_bytes();
        cells(d).iter().filter(|r| cell_hazard_at(d, r).is_some()).map(|r| csv[r.clone()].to_string()).collect()
    }

    #[test]
    fn only_cells_that_call_out_are_formula_hazards() {
        assert_eq!(hazards("a,=cmd|'/c calc'!A0,b"), ["=cmd|'/c calc'!A0"]);
        assert_eq!(hazards("x;\"=HYPERLINK(\"\"http://e\"\")\";y"), ["\"=HYPERLINK(\"\"http://e\"\")\""]);
        assert_eq!(hazards("+81-3-1234-5678,-500,=SUM(A1:A2),@mention,== heading =="), Vec::<String>::new());
        assert_eq!(hazards("\t-2+3+cmd|' /C notepad'!'A1'\n"), ["-2+3+cmd|' /C notepad'!'A1'"]);
    }

    #[test]
    fn shift_jis_text_keeps_its_bytes() {
        // 表 and ソ end in 0x5C, and many characters in 0x40 ('@') or 0x7C ('|'): none starts a cell.
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("表,ソ|ー@!,=cmd|'/c calc'!A0\r\n");
        let d = sjis.into_owned();
        let found: Vec<_> = cells(&d).iter().filter_map(|r| cell_hazard_at(&d, r)).collect();
        assert_eq!(found.len(), 1);
        assert!(has_formula_hazard(Kind::Text, &d));
        assert!(!has_formula_hazard(Kind::Text, &encoding_rs::SHIFT_JIS.encode("表,ソ|ー@!").0));
    }

    #[test]
    fn sylk_records_keep_values_and_formats_only() {
        assert!(matches!(sylk_line(b"C;X1;Y1;K42"), SylkLine::Keep));
        assert!(matches!(sylk_line(b"F;P0;DG0G10;M320"), SylkLine::Keep));
        match sylk_line(b"C;X1;Y1;K0;EEXEC(\"a;;b\")") {
            SylkLine::Cell(c) => assert_eq!(c, b"C;X1;Y1;K0"),
            _ => panic!("a formula cell is rebuilt"),
        }
        assert!(matches!(sylk_line(b"NN;NAuto_open;ER1C1"), SylkLine::Drop(ActionKind::RemovedAutoMacroName)));
        assert!(matches!(sylk_line(b"O;E"), SylkLine::Drop(ActionKind::RemovedMacroSheet)));
        assert_eq!(sylk_fields(b"C;X1;K\"a;;b\";EX"), [b"X1".to_vec(), b"K\"a;;b\"".to_vec(), b"EX".to_vec()]);
    }
}
