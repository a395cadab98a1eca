//! Word 97-2003 (.doc, .dot): the `Macros` storage (the VBA project) and every embedded object
//! in `ObjectPool` go, and so does a second table stream the FIB does not name (Word never
//! reads it).
//!
//! The File Information Block at the start of the `WordDocument` stream is read enough to refuse
//! what cannot be cleaned this way: encrypted or obfuscated documents (`fEncrypted`,
//! `fObfuscated`) are blocked as `encrypted`; Word 6/95 documents, whose WordBasic macros live
//! inside the document stream itself, as `unsupported`; a FIB that is too short, has the wrong
//! signature or names a table stream that does not exist, as `malformed`.
//!
//! The text is read through the piece table (the `Clx` in the table stream) and every field
//! instruction in it is looked at: a field that runs something (`DDE`, `DDEAUTO`), one that
//! fetches something over the network (`INCLUDETEXT`, `INCLUDEPICTURE`, `INCLUDE`, `IMPORT`,
//! `LINK` with a URL or a network-share path; a local picture path is left) or whose type is itself
//! computed by a nested field (the classic way to hide `DDEAUTO`) blocks the document as
//! `unsupported`: taking a field code out of a Word 97 document means rewriting the piece table
//! and the field tables, which mugai does not do. A piece table that does not parse is
//! `malformed`.
//!
//! Nothing in the FIB or the table stream points at the `Macros` storage, so the document stays
//! consistent without it. An object's place in the text keeps its preview picture (stored in the
//! `Data` stream, not in the object's storage): Word and LibreOffice show the picture, and there
//! is nothing left to activate.

use super::{display_path, remove_objects, remove_root_storages, Actions, Tree};
use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::{ActionKind, Reason};

/// `wIdent` of a Word 97 and later document.
const WORD97_IDENT: u16 = 0xA5EC;
/// `wIdent` of a Word 6/95 document.
const WORD6_IDENT: u16 = 0xA5DC;
/// The lowest `nFib` of Word 97 (earlier versions keep macros in the document stream).
const WORD97_NFIB: u16 = 0x00C0;

const F_ENCRYPTED: u16 = 0x0100;
const F_WHICH_TBL_STM: u16 = 0x0200;
const F_OBFUSCATED: u16 = 0x8000;

/// What the FIB says about the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fib {
    pub n_fib: u16,
    pub flags: u16,
}

impl Fib {
    pub fn parse(word: &[u8]) -> Result<Fib, FormatError> {
        if word.len() < 32 {
            return Err(FormatError::malformed(format!("WordDocument stream of {} bytes has no FIB", word.len())));
        }
        let u16_at = |o: usize| u16::from_le_bytes([word[o], word[o + 1]]);
        let ident = u16_at(0);
        let fib = Fib { n_fib: u16_at(2), flags: u16_at(0x0A) };
        if ident == WORD6_IDENT || (ident == WORD97_IDENT && fib.n_fib < WORD97_NFIB) {
            return Err(FormatError::new(
                Reason::Unsupported,
                "Word 6/95 document: its macros would live inside the document stream",
            ));
        }
        if ident != WORD97_IDENT {
            return Err(FormatError::malformed(format!("WordDocument stream: FIB signature {ident:#06x}")));
        }
        Ok(fib)
    }

    pub fn table_stream(&self) -> &'static str {
        if self.flags & F_WHICH_TBL_STM != 0 {
            "1Table"
        } else {
            "0Table"
        }
    }
}

pub(super) fn disarm(tree: &mut Tree, actions: &mut Actions, budget: &Budget) -> Result<(), FormatError> {
    let word = tree.root_stream("WordDocument").ok_or_else(|| FormatError::malformed("no WordDocument stream"))?;
    let fib = Fib::parse(&word.data)?;
    if fib.flags & (F_ENCRYPTED | F_OBFUSCATED) != 0 {
        return Err(FormatError::new(Reason::Encrypted, "password-protected Word document (fEncrypted in the FIB)"));
    }
    let table = tree.root_stream(fib.table_stream()).ok_or_else(|| {
        FormatError::malformed(format!("the FIB names a {} stream that is not there", fib.table_stream()))
    })?;
    check_fields(&word.data, &table.data, budget)?;
    // The other table stream, if there is one, is never read by Word: a hidden payload.
    let other = if fib.table_stream() == "1Table" { "0Table" } else { "1Table" };
    if let Some(n) = tree.root_stream(other) {
        let p = n.path.clone();
        tree.remove(&p);
        actions.add(ActionKind::RemovedUnreferencedPart, display_path(&p), "table stream the FIB does not name");
    }
    remove_root_storages(tree, &["Macros"], ActionKind::RemovedVbaProject, actions);
    // Each object is a storage of its own under ObjectPool; the pool itself stays (empty), as
    // Word writes it for documents without objects too.
    remove_objects(tree, actions, |n| n.path.len() == 2 && n.path[0].eq_ignore_ascii_case("ObjectPool"));
    Ok(())
}

/// Field types that run something.
const DDE_FIELDS: [&str; 2] = ["DDE", "DDEAUTO"];

/// Field types that fetch their target when updated.
const FETCHING_FIELDS: [&str; 5] = ["INCLUDETEXT", "INCLUDEPICTURE", "INCLUDE", "IMPORT", "LINK"];

/// True when an instruction's argument names something on the network: a URL or a share path
/// (`\\server`, written with doubled backslashes in field codes, or `//server`).
fn remote_target(instr: &str) -> bool {
    let args = instr.split_whitespace().skip(1).map(|t| t.trim_matches('"'));
    args.filter(|t| !t.is_empty()).any(|t| {
        let l = t.to_ascii_lowercase();
        // Switches start with one backslash (`\d`, `\*`); a share path with two.
        l.contains("://")
            || t.starts_with(r"\\")
            || t.starts_with("//")
            || ["http:", "https:", "ftp:", "file:", "smb:"].iter().any(|s| l.starts_with(s))
    })
}

/// Deepest field nesting followed (Word itself allows 20 levels).
const MAX_FIELD_DEPTH: usize = 64;

/// Where `FibRgFcLcb97` starts, after the variable-length parts before it.
fn fc_lcb_start(word: &[u8]) -> Result<(usize, usize), FormatError> {
    let short = || FormatError::malformed("WordDocument stream: FIB cut short");
    let u16_at = |o: usize| word.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize).ok_or_else(short);
    let mut off = 32;
    off += 2 + 2 * u16_at(off)?;
    off += 2 + 4 * u16_at(off)?;
    let count = u16_at(off)?;
    Ok((off + 2, count))
}

/// The piece table: for each piece, where its text starts in the WordDocument stream, how many
/// characters it has and whether they are 8-bit.
fn pieces(word: &[u8], table: &[u8]) -> Result<Vec<(usize, usize, bool)>, FormatError> {
    let bad = |what: &str| FormatError::malformed(format!("Word piece table: {what}"));
    let (start, count) = fc_lcb_start(word)?;
    const CLX: usize = 33;
    if count <= CLX {
        return Err(bad("the FIB has no Clx entry"));
    }
    let at = start + CLX * 8;
    let fc_lcb = word.get(at..at + 8).ok_or_else(|| bad("the FIB is cut short"))?;
    let fc = u32::from_le_bytes([fc_lcb[0], fc_lcb[1], fc_lcb[2], fc_lcb[3]]) as usize;
    let lcb = u32::from_le_bytes([fc_lcb[4], fc_lcb[5], fc_lcb[6], fc_lcb[7]]) as usize;
    let clx = table.get(fc..fc.saturating_add(lcb)).ok_or_else(|| bad("Clx outside the table stream"))?;
    let mut i = 0;
    // Property modifiers (Prc) come first; the piece table (Pcdt) ends the Clx.
    while clx.get(i) == Some(&0x01) {
        let cb = clx.get(i + 1..i + 3).ok_or_else(|| bad("Prc cut short"))?;
        i += 3 + u16::from_le_bytes([cb[0], cb[1]]) as usize;
    }
    if clx.get(i) != Some(&0x02) {
        return Err(bad("no Pcdt"));
    }
    let len = clx.get(i + 1..i + 5).ok_or_else(|| bad("Pcdt cut short"))?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let plc = clx.get(i + 5..(i + 5).saturating_add(len)).ok_or_else(|| bad("PlcPcd cut short"))?;
    if plc.len() < 16 || (plc.len() - 4) % 12 != 0 {
        return Err(bad("PlcPcd of an impossible size"));
    }
    let n = (plc.len() - 4) / 12;
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as usize;
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let (cp0, cp1) = (u32_at(plc, 4 * k), u32_at(plc, 4 * k + 4));
        if cp1 < cp0 {
            return Err(bad("character positions go backwards"));
        }
        let fc = u32_at(plc, 4 * (n + 1) + 8 * k + 2);
        let chars = cp1 - cp0;
        let (pos, compressed) = if fc & 0x4000_0000 != 0 { ((fc & 0x3FFF_FFFF) / 2, true) } else { (fc, false) };
        let bytes = if compressed { chars } else { chars.saturating_mul(2) };
        if pos.saturating_add(bytes) > word.len() {
            return Err(bad("a piece runs past the end of the WordDocument stream"));
        }
        out.push((pos, chars, compressed));
    }
    Ok(out)
}

/// Refuses documents with fields that run or fetch something (see the module documentation).
fn check_fields(word: &[u8], table: &[u8], budget: &Budget) -> Result<(), FormatError> {
    // Open fields: their instruction so far, whether it is still being read (no separator yet)
    // and whether a nested field began before any word of it.
    struct Open {
        instr: String,
        in_code: bool,
        computed: bool,
    }
    let mut stack: Vec<Open> = Vec::new();
    let refuse = |what: String| {
        Err(FormatError::new(
            Reason::Unsupported,
            format!("{what}: field codes in Word 97 documents are not rewritten, so the document is not rebuilt"),
        ))
    };
    for (n, (pos, chars, compressed)) in pieces(word, table)?.into_iter().enumerate() {
        if n % 1024 == 0 {
            budget.check_time()?;
        }
        for k in 0..chars {
            let c = if compressed {
                word[pos + k] as u16
            } else {
                u16::from_le_bytes([word[pos + 2 * k], word[pos + 2 * k + 1]])
            };
            match c {
                0x13 => {
                    if let Some(top) = stack.last_mut() {
                        if top.in_code && top.instr.trim().is_empty() {
                            top.computed = true;
                        }
                    }
                    if stack.len() >= MAX_FIELD_DEPTH {
                        return Err(FormatError::new(Reason::LimitNesting, "Word fields nested too deeply"));
                    }
                    stack.push(Open { instr: String::new(), in_code: true, computed: false });
                }
                0x14 | 0x15 => {
                    let Some(top) = stack.last_mut() else { continue };
                    if top.in_code {
                        top.in_code = false;
                        let kw = top.instr.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                        if DDE_FIELDS.contains(&kw.as_str()) {
                            return refuse(format!("a {kw} field"));
                        }
                        if FETCHING_FIELDS.contains(&kw.as_str()) && remote_target(&top.instr) {
                            return refuse(format!("a {kw} field with a network target"));
                        }
                        if top.computed {
                            return refuse("a field whose type is computed by a nested field".to_string());
                        }
                    }
                    if c == 0x15 {
                        stack.pop();
                    }
                }
                _ => {
                    if let Some(top) = stack.last_mut() {
                        // Instructions are short; a longer one is still judged by its first word.
                        if top.in_code && top.instr.len() < 256 {
                            top.instr.push(char::from_u32(c as u32).unwrap_or(' '));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fib(ident: u16, n_fib: u16, flags: u16) -> Vec<u8> {
        let mut d = vec![0u8; 64];
        d[0..2].copy_from_slice(&ident.to_le_bytes());
        d[2..4].copy_from_slice(&n_fib.to_le_bytes());
        d[0x0A..0x0C].copy_from_slice(&flags.to_le_bytes());
        d
    }

    #[test]
    fn network_targets_are_told_from_local_ones() {
        assert!(remote_target(r#" INCLUDEPICTURE "http://example.com/a.png" \* MERGEFORMATINET"#));
        assert!(remote_target(r#" INCLUDETEXT "\\\\server\\share\\a.doc""#));
        assert!(remote_target(r#" LINK Excel.Sheet.8 "//server/x.xls" "#));
        assert!(!remote_target(r#" INCLUDEPICTURE  \d "c:\\images\\a.gif" \* MERGEFORMATINET"#));
        assert!(!remote_target(" INCLUDETEXT report.doc"));
    }

    #[test]
    fn the_fib_tells_versions_and_table_streams_apart() {
        assert_eq!(Fib::parse(&fib(0xA5EC, 0xC1, 0x0200)).unwrap().table_stream(), "1Table");
        assert_eq!(Fib::parse(&fib(0xA5EC, 0x101, 0)).unwrap().table_stream(), "0Table");
        assert_eq!(Fib::parse(&fib(0xA5DC, 0x65, 0)).unwrap_err().reason, Reason::Unsupported);
        assert_eq!(Fib::parse(&fib(0x1234, 0xC1, 0)).unwrap_err().reason, Reason::Malformed);
        assert_eq!(Fib::parse(&[0xEC, 0xA5]).unwrap_err().reason, Reason::Malformed);
    }
}
