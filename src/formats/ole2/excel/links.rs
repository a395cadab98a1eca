//! Links from a BIFF8 workbook to other workbooks (and DDE/OLE links), disarmed: the linked
//! book's `SUPBOOK` goes with its `EXTERNNAME`, `XCT` and `CRN` records (names and cached
//! values of the other book), every cell formula that reads it becomes its cached value
//! (`NUMBER`, `LABEL`, `BOOLERR` or `BLANK`, same row, column and cell format), and every
//! defined name that reads it keeps its name and place but gets the formula `#REF!` (a formula
//! using such a name becomes its cached value too). A shared or array formula (`SHRFMLA`,
//! `ARRAY`) that reads it goes, and every cell using it becomes its cached value.
//! `EXTERNSHEET` keeps its entries, so no
//! `ixti` anywhere needs renumbering: an entry that pointed at a removed book points at the
//! workbook's own `SUPBOOK` with a deleted sheet (`#REF!`), the others follow their book's new
//! index.
//!
//! Refused as `unsupported` (the file is blocked, never passed half-rewritten): a workbook with
//! links but no `SUPBOOK` for itself; a shared or array formula that does not follow its first
//! cell's formula; a data validation, a conditional format, a chart series or an object formula (`OBJ` macro, picture, scroll bar
//! or list formulas) that reads a linked book; any `CF12` record next to a link, as it is not
//! read here; a formula token not understood; a cached text longer than a `LABEL` holds; a
//! record continued (`CONTINUE`) where it would have to be rewritten.

use super::{Edit, Rec, BOF, BOUNDSHEET, CONTINUE, EOF, EXTERNSHEET, LBL, SUPBOOK};
use crate::engine::Budget;
use crate::formats::ole2::Actions;
use crate::formats::FormatError;
use crate::model::{ActionKind, Reason};
use std::collections::{BTreeMap, HashMap, HashSet};

const FORMULA: u16 = 0x0006;
const STRING: u16 = 0x0207;
const SHRFMLA: u16 = 0x04BC;
const ARRAY: u16 = 0x0221;
const TABLE: u16 = 0x0236;
const NUMBER: u16 = 0x0203;
const LABEL: u16 = 0x0204;
const BOOLERR: u16 = 0x0205;
const BLANK: u16 = 0x0201;
const EXTERNNAME: u16 = 0x0023;
const XCT: u16 = 0x0059;
const CRN: u16 = 0x005A;
const DV: u16 = 0x01BE;
const CF: u16 = 0x01B1;
const CF12: u16 = 0x087A;
const BRAI: u16 = 0x1051;
const OBJ: u16 = 0x005D;

/// `SUPBOOK.cch` values of the two books that are not other files.
const SELF_REFERENCE: u16 = 0x0401;
const ADD_IN: u16 = 0x3A01;

/// The `itabFirst`/`itabLast` of a reference to a deleted sheet.
const DELETED_SHEET: u16 = 0xFFFE;

fn unsupported(what: impl Into<String>) -> FormatError {
    FormatError::new(Reason::Unsupported, what.into())
}

/// What a `SUPBOOK` names: `None` for the workbook itself or add-in functions, else the linked
/// file (or DDE/OLE server and topic) as readable text.
fn linked_path(body: &[u8]) -> Result<Option<String>, FormatError> {
    if body.len() < 4 {
        return Err(FormatError::malformed("SUPBOOK record too short"));
    }
    let cch = u16::from_le_bytes([body[2], body[3]]);
    if cch == SELF_REFERENCE || cch == ADD_IN {
        return Ok(None);
    }
    let path = xl_string(&body[4..], cch as usize).map(|(s, _)| s).unwrap_or_default();
    // The encoded path marks volumes and folders with control characters.
    let readable: String = path.chars().map(|c| if c.is_control() { '\\' } else { c }).collect();
    Ok(Some(readable))
}

/// Reads the characters of an `XLUnicodeStringNoCch` (a flags byte, then 8- or 16-bit
/// characters) and says how many bytes it took.
fn xl_string(b: &[u8], cch: usize) -> Option<(String, usize)> {
    let high = b.first()? & 1 != 0;
    let n = if high { cch * 2 } else { cch };
    let chars = b.get(1..1 + n)?;
    let s = if high {
        let units: Vec<u16> = chars.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        chars.iter().map(|&c| c as char).collect()
    };
    Some((s, 1 + n))
}

/// What a formula's tokens refer to that matters here.
struct Refs<'a> {
    /// For each `EXTERNSHEET` entry: does it point at a linked book?
    external_xti: &'a [bool],
    /// For each defined name (1-based in `PtgName`, 0-based here): does it read a linked book?
    external_name: &'a [bool],
}

impl Refs<'_> {
    /// True when the parsed expression `rgce` reads a linked book, through a 3-D reference, an
    /// external name or a defined name that does. Every token's size is known; one that is
    /// not makes the formula unreadable, and the workbook is not rewritten.
    fn uses_link(&self, rgce: &[u8]) -> Result<bool, FormatError> {
        let bad = || unsupported("formula token not understood in a workbook with links");
        let mut p = 0;
        let mut uses = false;
        while p < rgce.len() {
            let ptg = rgce[p];
            let base = if ptg >= 0x20 { (ptg & 0x1F) | 0x20 } else { ptg };
            if ptg >= 0x80 {
                return Err(bad());
            }
            let size = match base {
                0x01 | 0x02 => 5, // PtgExp, PtgTbl
                0x03..=0x16 => 1, // operators, parentheses, missing argument
                0x17 => {
                    // PtgStr: cch, flags, characters
                    let cch = *rgce.get(p + 1).ok_or_else(bad)? as usize;
                    let flags = *rgce.get(p + 2).ok_or_else(bad)?;
                    3 + if flags & 1 != 0 { cch * 2 } else { cch }
                }
                0x19 => {
                    // PtgAttr: only AttrChoose carries a jump table after its four bytes.
                    let kind = *rgce.get(p + 1).ok_or_else(bad)?;
                    if kind & 0x04 != 0 {
                        let c = rgce.get(p + 2..p + 4).ok_or_else(bad)?;
                        4 + 2 * (u16::from_le_bytes([c[0], c[1]]) as usize + 1)
                    } else {
                        4
                    }
                }
                0x1C | 0x1D => 2, // PtgErr, PtgBool
                0x1E => 3,        // PtgInt
                0x1F => 9,        // PtgNum
                0x20 => 8,        // PtgArray (its values follow the expression)
                0x21 => 3,        // PtgFunc
                0x22 => 4,        // PtgFuncVar
                0x23 => {
                    // PtgName: a 1-based name index.
                    let b = rgce.get(p + 1..p + 5).ok_or_else(bad)?;
                    let k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                    if k >= 1 && self.external_name.get(k - 1).copied().unwrap_or(false) {
                        uses = true;
                    }
                    5
                }
                0x24 | 0x2A | 0x2C => 5, // PtgRef, PtgRefErr, PtgRefN
                0x25 | 0x2B | 0x2D => 9, // PtgArea, PtgAreaErr, PtgAreaN
                // PtgMemArea, PtgMemErr, PtgMemNoMem: the sub-expression that follows is
                // ordinary tokens, walked on.
                0x26..=0x28 => 7,
                0x29 => 3, // PtgMemFunc
                0x39..=0x3D => {
                    // PtgNameX, PtgRef3d, PtgArea3d, PtgRefErr3d, PtgAreaErr3d: an ixti first.
                    let b = rgce.get(p + 1..p + 3).ok_or_else(bad)?;
                    let ixti = u16::from_le_bytes([b[0], b[1]]) as usize;
                    match self.external_xti.get(ixti) {
                        Some(true) => uses = true,
                        Some(false) => {}
                        None => return Err(FormatError::malformed("formula refers to a missing EXTERNSHEET entry")),
                    }
                    if matches!(base, 0x3B | 0x3D) {
                        11
                    } else {
                        7
                    }
                }
                _ => return Err(bad()),
            };
            p += size;
        }
        if p != rgce.len() {
            return Err(bad());
        }
        Ok(uses)
    }
}

/// The parsed expression of a BIFF8 `Lbl` body.
fn lbl_rgce(body: &[u8]) -> Result<&[u8], FormatError> {
    if body.len() < 15 {
        return Err(FormatError::malformed("Lbl record too short"));
    }
    let cch = body[3] as usize;
    let cce = u16::from_le_bytes([body[4], body[5]]) as usize;
    let start = 15 + if body[14] & 1 != 0 { cch * 2 } else { cch };
    body.get(start..start + cce).ok_or_else(|| FormatError::malformed("Lbl formula past the record"))
}

/// The same `Lbl` with its name, scope and flags, and the formula `#REF!`.
fn ref_error_lbl(body: &[u8]) -> Result<Vec<u8>, FormatError> {
    let cch = body[3] as usize;
    let name_end = 15 + if body[14] & 1 != 0 { cch * 2 } else { cch };
    if name_end > body.len() {
        return Err(FormatError::malformed("Lbl name past the record"));
    }
    let mut out = body[..name_end].to_vec();
    out[4..6].copy_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&[0x1C, 0x17]); // PtgErr #REF!
    Ok(out)
}

/// A cell formula's cached result as a value record: (record id, body), and whether the
/// `STRING` record after it was used.
fn value_record(body: &[u8], string: Option<&[u8]>) -> Result<(u16, Vec<u8>), FormatError> {
    let cell = &body[..6]; // row, column, cell format
    let val = &body[6..14];
    let mut out = cell.to_vec();
    if val[6] != 0xFF || val[7] != 0xFF {
        out.extend_from_slice(val);
        return Ok((NUMBER, out));
    }
    match val[0] {
        0 => {
            let s = string.ok_or_else(|| FormatError::malformed("text formula result without its STRING record"))?;
            if s.len() < 3 {
                return Err(FormatError::malformed("STRING record too short"));
            }
            if u16::from_le_bytes([s[0], s[1]]) > 255 {
                return Err(unsupported("cached text of a linked formula longer than a cell label holds"));
            }
            out.extend_from_slice(s);
            Ok((LABEL, out))
        }
        1 | 2 => {
            out.push(val[2]);
            out.push(val[0] - 1); // fError
            Ok((BOOLERR, out))
        }
        3 => Ok((BLANK, out)),
        _ => Err(FormatError::malformed("formula result of unknown type")),
    }
}

/// The parsed expression of a `SHRFMLA` (after its range, a reserved byte and the use count)
/// or `ARRAY` (after its range, flags and four unused bytes) record.
fn shared_rgce(id: u16, body: &[u8]) -> Option<&[u8]> {
    let at = if id == SHRFMLA { 8 } else { 12 };
    let cce = u16::from_le_bytes([*body.get(at)?, *body.get(at + 1)?]) as usize;
    body.get(at + 2..at + 2 + cce)
}

/// The tokens of an `ObjFmla` (empty when `cbFmla` is 0).
fn obj_formula(b: &[u8]) -> Option<&[u8]> {
    let cb = u16::from_le_bytes([*b.first()?, *b.get(1)?]) as usize;
    if cb == 0 {
        return Some(&[]);
    }
    let cce = u16::from_le_bytes([*b.get(2)?, *b.get(3)?]) as usize;
    b.get(8..8 + cce)
}

/// The data validation's two formulas: after the flags and four `XLUnicodeString`s.
fn dv_formulas(body: &[u8]) -> Option<[&[u8]; 2]> {
    let mut p = 4;
    for _ in 0..4 {
        let cch = u16::from_le_bytes([*body.get(p)?, *body.get(p + 1)?]) as usize;
        let (_, n) = xl_string(body.get(p + 2..)?, cch)?;
        p += 2 + n;
    }
    let mut out: [&[u8]; 2] = [&[], &[]];
    for f in &mut out {
        let cce = u16::from_le_bytes([*body.get(p)?, *body.get(p + 1)?]) as usize;
        *f = body.get(p + 4..p + 4 + cce)?;
        p += 4 + cce;
    }
    Some(out)
}

/// Disarms the workbook's links (see the module documentation), adding its edits. Does nothing
/// when no `SUPBOOK` names another file.
pub(super) fn disarm(
    recs: &[Rec],
    data: &[u8],
    globals_end: usize,
    part: &str,
    edits: &mut BTreeMap<usize, Edit>,
    actions: &mut Actions,
    budget: &Budget,
) -> Result<(), FormatError> {
    let globals = &recs[..globals_end];
    let mut books: Vec<(usize, Option<String>)> = Vec::new();
    for (i, r) in globals.iter().enumerate() {
        if r.id == SUPBOOK {
            books.push((i, linked_path(r.body(data))?));
        }
    }
    if books.iter().all(|(_, p)| p.is_none()) {
        return Ok(());
    }
    let continued = |i: usize| recs.get(i + 1).map(|n| n.id) == Some(CONTINUE);
    let self_book = books
        .iter()
        .position(|(i, p)| {
            p.is_none() && u16::from_le_bytes([data[recs[*i].start + 6], data[recs[*i].start + 7]]) == SELF_REFERENCE
        })
        .ok_or_else(|| {
            unsupported("workbook linked to another file without a reference to itself: links not rewritten")
        })?;

    // EXTERNSHEET: (iSupBook, itabFirst, itabLast) per entry.
    let sheets: Vec<usize> = (0..globals_end).filter(|&i| recs[i].id == EXTERNSHEET).collect();
    if sheets.len() > 1 {
        return Err(FormatError::malformed("more than one EXTERNSHEET record"));
    }
    let mut xti: Vec<[u16; 3]> = Vec::new();
    if let Some(&i) = sheets.first() {
        if continued(i) {
            return Err(unsupported("EXTERNSHEET continued over records in a linked workbook"));
        }
        let b = recs[i].body(data);
        // A body too short for its count has no length that matches.
        let n = b.get(..2).map(|c| u16::from_le_bytes([c[0], c[1]]) as usize);
        if n.map(|n| 2 + 6 * n) != Some(b.len()) {
            return Err(FormatError::malformed("EXTERNSHEET length does not match its entries"));
        }
        for e in b[2..].chunks_exact(6) {
            let v = |o: usize| u16::from_le_bytes([e[o], e[o + 1]]);
            xti.push([v(0), v(2), v(4)]);
        }
    }
    let mut external_xti = Vec::with_capacity(xti.len());
    for x in &xti {
        let book =
            books.get(x[0] as usize).ok_or_else(|| FormatError::malformed("EXTERNSHEET names a missing SUPBOOK"))?;
        external_xti.push(book.1.is_some());
    }

    // Defined names, to a fixed point: a name that uses a name that reads a linked book reads
    // it too.
    let names: Vec<usize> = (0..globals_end).filter(|&i| recs[i].id == LBL).collect();
    let mut external_name = vec![false; names.len()];
    for _ in 0..=names.len() {
        budget.check_time()?;
        let mut changed = false;
        for (k, &i) in names.iter().enumerate() {
            if external_name[k] {
                continue;
            }
            if continued(i) {
                return Err(unsupported("name continued over records in a linked workbook"));
            }
            let refs = Refs { external_xti: &external_xti, external_name: &external_name };
            if refs.uses_link(lbl_rgce(recs[i].body(data))?)? {
                external_name[k] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let refs = Refs { external_xti: &external_xti, external_name: &external_name };
    for (k, &i) in names.iter().enumerate() {
        if !external_name[k] {
            continue;
        }
        let body = recs[i].body(data);
        edits.insert(i, Edit::Body(ref_error_lbl(body)?));
        let name = super::lbl_name(body, super::BIFF8).unwrap_or_else(|| "built-in name".to_string());
        actions.add(
            ActionKind::RemovedExternalFormula,
            format!("{part}/{name}"),
            "name read another workbook; now #REF!",
        );
    }

    // Sheet names by substream position, for reports.
    let mut sheet_name: HashMap<usize, String> = HashMap::new();
    for r in globals.iter().filter(|r| r.id == BOUNDSHEET && r.len >= 8) {
        let b = r.body(data);
        sheet_name.insert(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, super::sheet_name(b, super::BIFF8));
    }
    // Shared and array formulas that read a linked book, by their substream and first cell:
    // every cell using one (its expression is PtgExp to that cell) becomes its cached value,
    // and the shared or array record goes.
    let mut linked_shared: HashSet<(usize, u16, u16)> = HashSet::new();
    let mut linked_records: HashSet<usize> = HashSet::new();
    let mut depth = 0usize;
    let mut sub = 0usize;
    for (i, r) in recs.iter().enumerate().skip(globals_end + 1) {
        if i.is_multiple_of(4096) {
            budget.check_time()?;
        }
        match r.id {
            BOF => {
                if depth == 0 {
                    sub = i;
                }
                depth += 1;
            }
            EOF => depth = depth.saturating_sub(1),
            SHRFMLA | ARRAY => {
                let body = r.body(data);
                let f =
                    shared_rgce(r.id, body).ok_or_else(|| FormatError::malformed("shared formula record too short"))?;
                if !refs.uses_link(f)? {
                    continue;
                }
                // It follows the FORMULA record of its range's first cell, which cells using
                // it name in their PtgExp.
                let (row, col) = (u16::from_le_bytes([body[0], body[1]]), body[4] as u16);
                let first = recs[i - 1].body(data);
                if recs[i - 1].id != FORMULA || first.len() < 4 || first[..4] != [body[0], body[1], body[4], 0] {
                    return Err(unsupported(
                        "shared or array formula reading a linked workbook not after its first cell",
                    ));
                }
                linked_shared.insert((sub, row, col));
                linked_records.insert(i);
            }
            _ => {}
        }
    }

    let mut converted: BTreeMap<String, usize> = BTreeMap::new();
    let mut sheet = String::new();
    let mut depth = 0usize;
    let mut sub = 0usize;
    for (i, r) in recs.iter().enumerate().skip(globals_end + 1) {
        if i.is_multiple_of(4096) {
            budget.check_time()?;
        }
        let body = r.body(data);
        match r.id {
            BOF => {
                if depth == 0 {
                    sub = i;
                }
                depth += 1;
                if let Some(n) = sheet_name.get(&r.start) {
                    sheet = n.clone();
                }
            }
            EOF => depth = depth.saturating_sub(1),
            OBJ => {
                let mut p = 0;
                while p + 4 <= body.len() {
                    let ft = u16::from_le_bytes([body[p], body[p + 1]]);
                    let cb = u16::from_le_bytes([body[p + 2], body[p + 3]]) as usize;
                    match ft {
                        0 => break,
                        // ftMacro, ftPictFmla, ftSbsFmla, ftLbsData, ftCblsFmla hold a formula
                        // first (cbFmla, cce, four unused bytes, the tokens).
                        0x04 | 0x09 | 0x0E | 0x13 | 0x14 => {
                            let f = obj_formula(&body[p + 4..])
                                .ok_or_else(|| FormatError::malformed("OBJ formula past the record"))?;
                            if refs.uses_link(f)? {
                                return Err(unsupported("object formula reads a linked workbook"));
                            }
                            // ftLbsData's own size is not reliable; it is the last that matters.
                            if ft == 0x13 {
                                break;
                            }
                            p += 4 + cb;
                        }
                        _ => p += 4 + cb,
                    }
                }
            }
            CF12 => return Err(unsupported("conditional format (CF12) in a linked workbook: not read")),
            CF => {
                if body.len() < 6 {
                    return Err(FormatError::malformed("CF record too short"));
                }
                let c1 = u16::from_le_bytes([body[2], body[3]]) as usize;
                let c2 = u16::from_le_bytes([body[4], body[5]]) as usize;
                let start = body.len().checked_sub(c1 + c2).filter(|&s| s >= 6);
                let start = start.ok_or_else(|| FormatError::malformed("CF formulas past the record"))?;
                if refs.uses_link(&body[start..start + c1])? || refs.uses_link(&body[start + c1..])? {
                    return Err(unsupported("conditional format reads a linked workbook"));
                }
            }
            DV => {
                let f = dv_formulas(body).ok_or_else(|| FormatError::malformed("DV record too short"))?;
                if refs.uses_link(f[0])? || refs.uses_link(f[1])? {
                    return Err(unsupported("data validation reads a linked workbook"));
                }
            }
            BRAI => {
                let cce = body.get(6..8).map(|c| u16::from_le_bytes([c[0], c[1]]) as usize);
                let f = cce.and_then(|c| body.get(8..8 + c));
                if refs.uses_link(f.ok_or_else(|| FormatError::malformed("BRAI record too short"))?)? {
                    return Err(unsupported("chart series reads a linked workbook"));
                }
            }
            SHRFMLA | ARRAY if linked_records.contains(&i) => {
                edits.insert(i, Edit::Drop);
            }
            FORMULA => {
                let cce = body.get(20..22).map(|c| u16::from_le_bytes([c[0], c[1]]) as usize);
                let f = cce.and_then(|c| body.get(22..22 + c));
                let f = f.ok_or_else(|| FormatError::malformed("FORMULA record too short"))?;
                let shared = f.len() == 5 && f[0] == 0x01 && {
                    let row = u16::from_le_bytes([f[1], f[2]]);
                    let col = u16::from_le_bytes([f[3], f[4]]);
                    linked_shared.contains(&(sub, row, col))
                };
                if !shared && !refs.uses_link(f)? {
                    continue;
                }
                if continued(i) {
                    return Err(unsupported("linked formula continued over records"));
                }
                // A text result follows in a STRING record (after the formula's own shared,
                // array or table record, if any).
                let mut s = i + 1;
                while recs.get(s).is_some_and(|n| matches!(n.id, SHRFMLA | ARRAY | TABLE)) {
                    s += 1;
                }
                let string = recs.get(s).filter(|n| n.id == STRING);
                let text = body[12] == 0xFF && body[13] == 0xFF && body[6] == 0;
                if text && string.is_some() {
                    if continued(s) {
                        return Err(unsupported("cached text of a linked formula continued over records"));
                    }
                    edits.insert(s, Edit::Drop);
                }
                let (id, new) = value_record(body, if text { string.map(|n| n.body(data)) } else { None })?;
                edits.insert(i, Edit::Record(id, new));
                *converted.entry(sheet.clone()).or_default() += 1;
            }
            _ => {}
        }
    }
    for (sheet, n) in converted {
        actions.add(
            ActionKind::RemovedExternalFormula,
            format!("{part}/{sheet}"),
            format!("{n} formula(s) reading another workbook replaced by their cached values"),
        );
    }

    // The linked books go with their names and cached values; EXTERNSHEET keeps its entries.
    let mut new_index = Vec::with_capacity(books.len());
    let mut removed = 0u16;
    for (i, path) in &books {
        new_index.push(new_index.len() as u16 - removed);
        let Some(path) = path else { continue };
        removed += 1;
        let mut j = *i;
        edits.insert(j, Edit::Drop);
        while recs.get(j + 1).is_some_and(|n| matches!(n.id, EXTERNNAME | XCT | CRN | CONTINUE)) {
            j += 1;
            edits.insert(j, Edit::Drop);
        }
        actions.add(ActionKind::RemovedExternalReference, format!("{part}/SUPBOOK"), path.clone());
    }
    // A removed book's name or cached value record that did not follow it directly would be
    // read as the previous book's, and shift that book's external names.
    let mut in_removed_book = false;
    for (i, r) in globals.iter().enumerate() {
        match r.id {
            SUPBOOK => in_removed_book = matches!(edits.get(&i), Some(Edit::Drop)),
            EXTERNNAME | XCT | CRN if in_removed_book && !matches!(edits.get(&i), Some(Edit::Drop)) => {
                return Err(unsupported("a linked book's records are not where they belong"));
            }
            _ => {}
        }
    }
    if let Some(&i) = sheets.first() {
        let mut b = recs[i].body(data)[..2].to_vec();
        for x in &xti {
            let entry = if books[x[0] as usize].1.is_some() {
                [new_index[self_book], DELETED_SHEET, DELETED_SHEET]
            } else {
                [new_index[x[0] as usize], x[1], x[2]]
            };
            for v in entry {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        edits.insert(i, Edit::Body(b));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const XTI: [bool; 2] = [false, true];

    fn uses(rgce: &[u8], names: &[bool]) -> Result<bool, FormatError> {
        Refs { external_xti: &XTI, external_name: names }.uses_link(rgce)
    }

    #[test]
    fn every_token_is_walked_to_the_reference_behind_it() {
        // PtgStr with 16-bit characters, AttrChoose with its jump table, PtgMemArea with its
        // sub-expression, then an area through the linked book (value class).
        let mut rgce = vec![0x17, 2, 1, b'a', 0, b'b', 0];
        rgce.extend_from_slice(&[0x19, 0x04, 1, 0, 4, 0, 8, 0]);
        rgce.extend_from_slice(&[0x26, 0, 0, 0, 0, 11, 0]);
        rgce.extend_from_slice(&[0x5B, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
        assert!(uses(&rgce, &[]).unwrap());
        // The same through this workbook's own sheet.
        let n = rgce.len();
        rgce[n - 10] = 0;
        assert!(!uses(&rgce, &[]).unwrap());
        // An operator, a number, a function: nothing linked.
        assert!(!uses(&[0x1F, 0, 0, 0, 0, 0, 0, 0, 0, 0x1E, 1, 0, 0x03, 0x41, 0x04, 0x00], &[]).unwrap());
    }

    #[test]
    fn a_name_that_reads_the_linked_book_makes_its_users_read_it_too() {
        assert!(uses(&[0x23, 2, 0, 0, 0], &[false, true]).unwrap());
        assert!(!uses(&[0x23, 1, 0, 0, 0], &[false, true]).unwrap());
        assert!(!uses(&[0x23, 9, 0, 0, 0], &[false, true]).unwrap());
    }

    #[test]
    fn unknown_or_cut_tokens_and_missing_entries_are_refused() {
        assert_eq!(uses(&[0x18, 0x01, 0, 0], &[]).unwrap_err().reason, Reason::Unsupported);
        assert_eq!(uses(&[0x3A, 1, 0, 0], &[]).unwrap_err().reason, Reason::Unsupported);
        assert_eq!(uses(&[0x1F, 0, 0], &[]).unwrap_err().reason, Reason::Unsupported);
        assert_eq!(uses(&[0x3A, 5, 0, 0, 0, 0, 0], &[]).unwrap_err().reason, Reason::Malformed);
    }

    #[test]
    fn cached_results_become_value_records() {
        let mut f = vec![3, 0, 1, 0, 15, 0];
        f.extend_from_slice(&[2, 0, 0x07, 0, 0, 0, 0xFF, 0xFF]); // #DIV/0!
        assert_eq!(value_record(&f, None).unwrap(), (BOOLERR, vec![3, 0, 1, 0, 15, 0, 0x07, 1]));
        f[6] = 3;
        assert_eq!(value_record(&f, None).unwrap(), (BLANK, vec![3, 0, 1, 0, 15, 0]));
        f[6] = 0;
        assert_eq!(value_record(&f, None).unwrap_err().reason, Reason::Malformed);
        let long = [0x00, 0x01, 0];
        assert_eq!(value_record(&f, Some(&long)).unwrap_err().reason, Reason::Unsupported);
        let text = [2, 0, 0, b'o', b'k'];
        assert_eq!(value_record(&f, Some(&text)).unwrap(), (LABEL, vec![3, 0, 1, 0, 15, 0, 2, 0, 0, b'o', b'k']));
    }
}
