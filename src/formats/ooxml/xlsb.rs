//! Links from a binary workbook (xlsb, MS-XLSB BIFF12 records) to other workbooks, disarmed the
//! way the BIFF8 ones are (see `ole2::excel::links`): the linked book's `BrtSupBookSrc` goes
//! (or becomes the workbook's own `BrtSupSelf` when it has none yet) and `BrtExternSheet` keeps
//! its entries, so no `ixti` anywhere needs renumbering: an entry that read a linked book points
//! at the workbook itself with a deleted sheet (`#REF!`), the others follow their book's new
//! index. Every cell formula
//! (`BrtFmlaNum`, `BrtFmlaString`, `BrtFmlaBool`, `BrtFmlaError`) that reads the book, directly
//! or through a defined name, becomes its cached value (`BrtCellReal`, `BrtCellSt`,
//! `BrtCellBool`, `BrtCellError`, same column and cell format); every defined name (`BrtName`)
//! that reads it keeps its name and place but gets the formula `#REF!`; an OLE object linked
//! through it (`BrtOleObject` whose link formula reads it) goes, its picture stays.
//!
//! A shared or array formula (`BrtShrFmla`, `BrtArrFmla`) that reads a linked book goes, and
//! every cell of its block becomes its cached value.
//!
//! Refused as `unsupported` (the file is blocked, never passed half-rewritten): a dynamic array
//! formula (cell metadata) that reads a linked book; an embedded OLE object,
//! or one linked elsewhere, next to a link; any worksheet record not known to be free of
//! formulas (data validation, conditional formats, tables, ...); any package part other than the
//! workbook, worksheets, styles, shared strings, theme, properties, printer settings, pictures,
//! drawings without formulas, cell metadata and calculation chain (charts, pivot caches, ...
//! could read the book too); a formula token not understood.

use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::{Action, ActionKind, Reason};
use std::collections::{BTreeMap, HashSet};

const FMLA_STRING: u32 = 8;
const FMLA_NUM: u32 = 9;
const FMLA_BOOL: u32 = 10;
const FMLA_ERROR: u32 = 11;
const CELL_ERROR: u32 = 3;
const CELL_BOOL: u32 = 4;
const CELL_REAL: u32 = 5;
const CELL_ST: u32 = 6;
const ROW_HDR: u32 = 0;
const CELL_META: u32 = 49;
const NAME: u32 = 39;
const BEGIN_EXTERNALS: u32 = 353;
const END_EXTERNALS: u32 = 354;
const SUP_BOOK_SRC: u32 = 355;
const SUP_SELF: u32 = 357;
const SUP_SAME: u32 = 358;
const EXTERN_SHEET: u32 = 362;
const SUP_ADDIN: u32 = 667;
const SHR_FMLA: u32 = 427;
const BEGIN_OLE_OBJECTS: u32 = 638;
const OLE_OBJECT: u32 = 639;
const END_OLE_OBJECTS: u32 = 640;
const ARR_FMLA: u32 = 426;

/// The `itabFirst`/`itabLast` of a reference to a deleted sheet.
const DELETED_SHEET: i32 = -2;
/// `PtgErr` with `#REF!`.
const REF_ERROR_RGCE: [u8; 2] = [0x1C, 0x17];

/// Worksheet records known to carry no formula: cells, rows, views, sheet properties, column
/// widths, merged cells, page setup, protection. Anything else next to a link blocks the file.
const SAFE_SHEET_RECORDS: &[u32] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 49, 62, // rows, cells, cell metadata
    37, 38, 1045, // alternate content holding the sheet's format info
    60, 390, 391, // column information
    129, 130, 133, 134, 137, 138, 145, 146, 147, 148, 151, 152, // sheet, views, data, properties
    176, 177, 178, // merged cells
    426, 427, // array and shared formulas (walked like cell formulas)
    476, 477, 478, 479, 480, 485, 535, 1024, 3072, // page setup, header, protection, row info, ids
    550, 551, // the sheet's drawings, by relationship id (their parts are checked on their own)
];

/// Content types of the parts that may sit next to a disarmed link.
pub(crate) const SAFE_PART_TYPES: &[&str] = &[
    "application/vnd.ms-excel.sheet.binary.macroenabled.main",
    "application/vnd.ms-excel.worksheet",
    "application/vnd.ms-excel.styles",
    "application/vnd.ms-excel.sharedstrings",
    "application/vnd.ms-excel.calcchain",
    "application/vnd.ms-excel.sheetmetadata",
    "application/vnd.ms-excel.binindexws",
    "application/vnd.ms-excel.externallink",
    "application/vnd.openxmlformats-officedocument.theme+xml",
    "application/vnd.openxmlformats-package.core-properties+xml",
    "application/vnd.openxmlformats-officedocument.extended-properties+xml",
    "application/vnd.openxmlformats-officedocument.custom-properties+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.printersettings",
    "image/jpeg",
    "image/png",
    "image/x-emf",
    "image/x-wmf",
    "application/vnd.openxmlformats-officedocument.drawing+xml",
    "application/vnd.openxmlformats-officedocument.vmldrawing",
];

fn unsupported(what: impl Into<String>) -> FormatError {
    FormatError::new(Reason::Unsupported, what.into())
}

/// One BIFF12 record: its type and body.
#[derive(Clone, Debug, PartialEq)]
pub struct Record<'a> {
    pub ty: u32,
    pub body: &'a [u8],
}

/// Splits a BIFF12 stream into records (MS-XLSB 2.1.4: a type of one or two 7-bit groups, a
/// size of up to four). A truncated record is malformed.
pub fn records<'a>(data: &'a [u8], part: &str, budget: &Budget) -> Result<Vec<Record<'a>>, FormatError> {
    let bad = || FormatError::malformed(format!("{part}: truncated BIFF12 record"));
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < data.len() {
        if out.len() % 4096 == 0 {
            budget.check_time()?;
        }
        let b0 = *data.get(i).ok_or_else(bad)?;
        i += 1;
        let mut ty = u32::from(b0 & 0x7F);
        if b0 & 0x80 != 0 {
            let b1 = *data.get(i).ok_or_else(bad)?;
            i += 1;
            if b1 & 0x80 != 0 {
                return Err(FormatError::malformed(format!("{part}: BIFF12 record type too long")));
            }
            ty |= u32::from(b1) << 7;
        }
        let mut size = 0usize;
        for k in 0..4 {
            let b = *data.get(i).ok_or_else(bad)?;
            i += 1;
            size |= usize::from(b & 0x7F) << (7 * k);
            if b & 0x80 == 0 {
                break;
            }
            if k == 3 {
                return Err(FormatError::malformed(format!("{part}: BIFF12 record size too long")));
            }
        }
        let body = data.get(i..i.checked_add(size).ok_or_else(bad)?).ok_or_else(bad)?;
        i += size;
        out.push(Record { ty, body });
    }
    Ok(out)
}

/// Appends one record in the BIFF12 encoding.
pub fn write_record(out: &mut Vec<u8>, ty: u32, body: &[u8]) -> Result<(), FormatError> {
    if ty >= 1 << 14 || body.len() >= 1 << 28 {
        return Err(FormatError::new(Reason::Unsupported, "BIFF12 record too large to write"));
    }
    if ty < 0x80 {
        out.push(ty as u8);
    } else {
        out.push((ty & 0x7F) as u8 | 0x80);
        out.push((ty >> 7) as u8);
    }
    let mut size = body.len();
    loop {
        let b = (size & 0x7F) as u8;
        size >>= 7;
        if size == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(body);
    Ok(())
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

/// Reads an `XLWideString` (a 32-bit count of UTF-16 units, then the units); returns the text
/// and the bytes it took.
fn wide_string(b: &[u8], at: usize) -> Option<(String, usize)> {
    let cch = u32_at(b, at)? as usize;
    let n = cch.checked_mul(2)?;
    let units = b.get(at + 4..at.checked_add(4)?.checked_add(n)?)?;
    let v: Vec<u16> = units.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    Some((String::from_utf16_lossy(&v), 4 + n))
}

/// What a formula reads, as far as links go.
#[derive(Default)]
struct Reads {
    /// `ixti` values of 3-D references and external names.
    ixti: Vec<u16>,
    /// 1-based indices of defined names.
    names: Vec<u32>,
}

/// Walks an `Rgce` (MS-XLSB 2.5.97.89): every token's size is known or the formula is refused.
fn walk_rgce(rgce: &[u8], what: &str) -> Result<Reads, FormatError> {
    let bad = || unsupported(format!("{what}: formula token not understood"));
    let mut r = Reads::default();
    let mut i = 0usize;
    while i < rgce.len() {
        let ptg = rgce[i];
        let base = if ptg >= 0x20 { (ptg & 0x1F) | 0x20 } else { ptg };
        i += 1;
        let len = match base {
            0x01 => 4,        // PtgExp: row of the shared or array formula's first cell
            0x03..=0x16 => 0, // operators, parentheses, missing argument
            0x17 => {
                // PtgStr: 16-bit count of UTF-16 units
                2 + 2 * usize::from(u16_at(rgce, i).ok_or_else(bad)?)
            }
            0x19 => {
                // PtgAttr: type, 16-bit data; tAttrChoose adds its jump table
                let kind = *rgce.get(i).ok_or_else(bad)?;
                let data = usize::from(u16_at(rgce, i + 1).ok_or_else(bad)?);
                match kind {
                    0x04 => 3 + 2 * (data + 1),
                    0x01 | 0x02 | 0x08 | 0x10 | 0x20 | 0x21 | 0x40 | 0x41 => 3,
                    _ => return Err(bad()),
                }
            }
            0x1C | 0x1D => 1, // PtgErr, PtgBool
            0x1E => 2,        // PtgInt
            0x1F => 8,        // PtgNum
            0x20 => 14,       // PtgArray (the values are in RgbExtra)
            0x21 => 2,        // PtgFunc
            0x22 => 3,        // PtgFuncVar
            0x23 => {
                r.names.push(u32_at(rgce, i).ok_or_else(bad)?);
                4
            }
            0x24 | 0x2A | 0x2C => 6,  // PtgRef, PtgRefErr, PtgRefN
            0x25 | 0x2B | 0x2D => 12, // PtgArea, PtgAreaErr, PtgAreaN
            0x26..=0x28 => 6,         // PtgMemArea, PtgMemErr, PtgMemNoMem
            0x29 => 2,                // PtgMemFunc
            0x39..=0x3D => {
                r.ixti.push(u16_at(rgce, i).ok_or_else(bad)?);
                match base {
                    0x39 | 0x3A | 0x3C => 6 + usize::from(base != 0x39) * 2, // NameX, Ref3d, RefErr3d
                    _ => 14,                                                 // Area3d, AreaErr3d
                }
            }
            _ => return Err(bad()),
        };
        i = i.checked_add(len).filter(|&e| e <= rgce.len()).ok_or_else(bad)?;
    }
    Ok(r)
}

/// The `Rgce` of a parsed formula at `at` (a 32-bit `cce`, the tokens, a 32-bit `cb`, the
/// extra bytes); returns the tokens and where the formula ends.
fn formula_at<'a>(b: &'a [u8], at: usize, what: &str) -> Result<(&'a [u8], usize), FormatError> {
    let bad = || FormatError::malformed(format!("{what}: formula truncated"));
    let cce = u32_at(b, at).ok_or_else(bad)? as usize;
    let start = at + 4;
    let end = start.checked_add(cce).ok_or_else(bad)?;
    let rgce = b.get(start..end).ok_or_else(bad)?;
    let cb = u32_at(b, end).ok_or_else(bad)? as usize;
    let stop = end.checked_add(4).and_then(|e| e.checked_add(cb)).filter(|&e| e <= b.len()).ok_or_else(bad)?;
    Ok((rgce, stop))
}

fn col_name(mut col: u32) -> String {
    let mut s = Vec::new();
    col += 1;
    while col > 0 && s.len() < 4 {
        s.push(b'A' + ((col - 1) % 26) as u8);
        col = (col - 1) / 26;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// Checks that a `BrtOleObject` is an object linked through a linked book (its `linkFmla`
/// reads one) and returns its shape id; an embedded object, or one linked elsewhere, is refused.
fn linked_object_reading(b: &[u8], part: &str, reads_link: &dyn Fn(&Reads) -> bool) -> Result<u32, FormatError> {
    let what = format!("{part}: OLE object");
    let flags = u16_at(b, 12).ok_or_else(|| FormatError::malformed(format!("{what} truncated")))?;
    if flags & 1 == 0 {
        return Err(unsupported(format!("{what}: embedded object next to a linked book")));
    }
    // strProgID is an XLNullableWideString: 0xFFFFFFFF for none.
    let prog = match u32_at(b, 14) {
        Some(u32::MAX) => 4,
        Some(_) => {
            wide_string(b, 14).map(|(_, n)| n).ok_or_else(|| FormatError::malformed(format!("{what} truncated")))?
        }
        None => return Err(FormatError::malformed(format!("{what} truncated"))),
    };
    let (rgce, _) = formula_at(b, 14 + prog, &what)?;
    if !reads_link(&walk_rgce(rgce, &what)?) {
        return Err(unsupported(format!("{what}: linked object not reading a linked book")));
    }
    Ok(u32_at(b, 8).unwrap_or(0))
}

/// What [`disarm_links`] changed.
pub struct LinkEdit {
    pub workbook: Option<Vec<u8>>,
    /// Rewritten worksheets, by part key.
    pub sheets: BTreeMap<String, Vec<u8>>,
    pub actions: Vec<Action>,
}

/// Disarms the links of `workbook` (its bytes and part name) to the books whose relationship
/// ids are `link_ids`, in the workbook and the given worksheets.
pub fn disarm_links(
    workbook: (&str, &[u8]),
    link_ids: &HashSet<String>,
    sheets: &[(String, String, &[u8])],
    budget: &Budget,
) -> Result<LinkEdit, FormatError> {
    let (wb_name, wb_data) = workbook;
    let recs = records(wb_data, wb_name, budget)?;
    let mut books: Vec<(usize, bool)> = Vec::new(); // (record index, linked)
    let mut has_self = false;
    let mut xti_rec = None;
    let mut in_externals = false;
    let mut names: Vec<usize> = Vec::new();
    for (i, r) in recs.iter().enumerate() {
        match r.ty {
            BEGIN_EXTERNALS => in_externals = true,
            END_EXTERNALS => in_externals = false,
            SUP_BOOK_SRC if in_externals => {
                let (id, _) = wide_string(r.body, 0)
                    .ok_or_else(|| FormatError::malformed(format!("{wb_name}: BrtSupBookSrc truncated")))?;
                if !link_ids.contains(&id) {
                    return Err(unsupported(format!("{wb_name}: linked book {id} without its link part")));
                }
                books.push((i, true));
            }
            SUP_SELF | SUP_SAME | SUP_ADDIN if in_externals => {
                has_self |= r.ty == SUP_SELF;
                books.push((i, false));
            }
            EXTERN_SHEET if in_externals && xti_rec.is_some() => {
                return Err(FormatError::malformed(format!("{wb_name}: two BrtExternSheet records")));
            }
            EXTERN_SHEET if in_externals => xti_rec = Some(i),
            NAME => names.push(i),
            _ if in_externals => {
                return Err(unsupported(format!("{wb_name}: record {} among the externals", r.ty)));
            }
            _ => {}
        }
    }
    let mut edit = LinkEdit { workbook: None, sheets: BTreeMap::new(), actions: Vec::new() };
    if !books.iter().any(|&(_, l)| l) {
        return Ok(edit);
    }
    // New place of each book: linked ones go, except the first when the workbook has no self
    // reference yet, which becomes that self reference.
    let mut converted = None;
    let mut new_index: Vec<Option<u32>> = Vec::with_capacity(books.len());
    let mut self_index = None;
    let mut next = 0u32;
    for &(i, l) in &books {
        let keep = !l || (!has_self && converted.is_none());
        if l && keep {
            converted = Some(i);
        }
        if keep {
            if l || recs[i].ty == SUP_SELF {
                self_index.get_or_insert(next);
            }
            new_index.push(Some(next));
            next += 1;
        } else {
            new_index.push(None);
        }
    }
    let self_index = self_index.ok_or_else(|| unsupported(format!("{wb_name}: no self reference")))?;
    // Entries of BrtExternSheet that read a linked book: same place, now a deleted sheet of
    // this workbook; the others follow their book.
    let mut ext_ixti: HashSet<u16> = HashSet::new();
    let mut new_xti: Option<Vec<u8>> = None;
    if let Some(x) = xti_rec {
        let body = recs[x].body;
        let n = u32_at(body, 0).ok_or_else(|| FormatError::malformed(format!("{wb_name}: BrtExternSheet")))? as usize;
        if n.checked_mul(12).and_then(|l| l.checked_add(4)) != Some(body.len()) || n > usize::from(u16::MAX) + 1 {
            return Err(FormatError::malformed(format!("{wb_name}: BrtExternSheet size")));
        }
        let mut out = body.to_vec();
        for k in 0..n {
            let at = 4 + 12 * k;
            let book = u32_at(body, at).unwrap_or(u32::MAX) as usize;
            let &(_, linked) = books
                .get(book)
                .ok_or_else(|| FormatError::malformed(format!("{wb_name}: BrtExternSheet names no book")))?;
            if linked {
                ext_ixti.insert(k as u16);
                out[at..at + 4].copy_from_slice(&self_index.to_le_bytes());
                out[at + 4..at + 8].copy_from_slice(&DELETED_SHEET.to_le_bytes());
                out[at + 8..at + 12].copy_from_slice(&DELETED_SHEET.to_le_bytes());
            } else if let Some(Some(b)) = new_index.get(book) {
                out[at..at + 4].copy_from_slice(&b.to_le_bytes());
            }
        }
        new_xti = Some(out);
    }
    // Defined names reading the book, directly or through other names (bounded by their count).
    let mut name_reads: Vec<(Reads, usize, usize)> = Vec::new(); // reads, formula start, end
    for &i in &names {
        let b = recs[i].body;
        let what = format!("{wb_name}: defined name");
        let (_, n) = wide_string(b, 9).ok_or_else(|| FormatError::malformed(format!("{what} truncated")))?;
        let (rgce, end) = formula_at(b, 9 + n, &what)?;
        name_reads.push((walk_rgce(rgce, &what)?, 9 + n, end));
    }
    let mut bad_names: HashSet<u32> = HashSet::new();
    for _ in 0..=name_reads.len() {
        budget.check_time()?;
        let before = bad_names.len();
        for (k, (r, _, _)) in name_reads.iter().enumerate() {
            if r.ixti.iter().any(|x| ext_ixti.contains(x)) || r.names.iter().any(|n| bad_names.contains(n)) {
                bad_names.insert(k as u32 + 1);
            }
        }
        if bad_names.len() == before {
            break;
        }
    }
    let reads_link =
        |r: &Reads| r.ixti.iter().any(|x| ext_ixti.contains(x)) || r.names.iter().any(|n| bad_names.contains(n));

    for (key, name, data) in sheets {
        let srecs = records(data, name, budget)?;
        let mut out = Vec::with_capacity(data.len());
        let mut changed = false;
        let mut row = 0u32;
        // Shared and array formulas reading a link: (rwFirst, rwLast, colFirst, colLast). They
        // follow their first cell, so they are found before the cells are rewritten.
        let mut linked_blocks: Vec<[u32; 4]> = Vec::new();
        for (k, r) in srecs.iter().enumerate() {
            if k % 4096 == 0 {
                budget.check_time()?;
            }
            if r.ty == SHR_FMLA || r.ty == ARR_FMLA {
                let what = format!("{name}: shared formula");
                let at = if r.ty == SHR_FMLA { 16 } else { 17 };
                let (rgce, _) = formula_at(r.body, at, &what)?;
                if reads_link(&walk_rgce(rgce, &what)?) {
                    let f = |i: usize| u32_at(r.body, 4 * i).unwrap_or(0);
                    linked_blocks.push([f(0), f(1), f(2), f(3)]);
                }
            }
        }
        let mut prev_ty = None;
        for (k, r) in srecs.iter().enumerate() {
            if k % 4096 == 0 {
                budget.check_time()?;
            }
            let before = prev_ty.replace(r.ty);
            if r.ty == BEGIN_OLE_OBJECTS || r.ty == END_OLE_OBJECTS {
                // Every object goes (or the file is refused), so their container goes too.
                changed = true;
                continue;
            }
            if r.ty == OLE_OBJECT {
                let shape = linked_object_reading(r.body, name, &reads_link)?;
                edit.actions.push(Action::with_detail(
                    ActionKind::RemovedOleObject,
                    name.clone(),
                    format!("object linked to another file (shape {shape})"),
                ));
                changed = true;
                continue;
            }
            if !SAFE_SHEET_RECORDS.contains(&r.ty) {
                return Err(unsupported(format!("{name}: record {} next to a linked book", r.ty)));
            }
            let b = r.body;
            let what = || format!("{name}: formula");
            match r.ty {
                ROW_HDR => row = u32_at(b, 0).unwrap_or(0),
                SHR_FMLA | ARR_FMLA => {
                    let at = if r.ty == SHR_FMLA { 16 } else { 17 };
                    let (rgce, _) = formula_at(b, at, &what())?;
                    if reads_link(&walk_rgce(rgce, &what())?) {
                        // Every cell of the block becomes its value (below), so the block goes.
                        changed = true;
                        continue;
                    }
                }
                FMLA_STRING | FMLA_NUM | FMLA_BOOL | FMLA_ERROR => {
                    let value_len = match r.ty {
                        FMLA_NUM => 8,
                        FMLA_STRING => wide_string(b, 8).map(|(_, n)| n).unwrap_or(usize::MAX),
                        _ => 1,
                    };
                    let vend = value_len
                        .checked_add(8)
                        .filter(|&e| e + 2 <= b.len())
                        .ok_or_else(|| FormatError::malformed(format!("{name}: formula cell truncated")))?;
                    let (rgce, _) = formula_at(b, vend + 2, &what())?;
                    let col = u32_at(b, 0).unwrap_or(0);
                    let in_block = rgce.first() == Some(&0x01)
                        && linked_blocks.iter().any(|x| (x[0]..=x[1]).contains(&row) && (x[2]..=x[3]).contains(&col));
                    if in_block || reads_link(&walk_rgce(rgce, &what())?) {
                        if before == Some(CELL_META) {
                            // A dynamic array's metadata would be left on a plain value.
                            return Err(unsupported(format!("{name}: dynamic array formula reads a linked book")));
                        }
                        let ty = match r.ty {
                            FMLA_NUM => CELL_REAL,
                            FMLA_STRING => CELL_ST,
                            FMLA_BOOL => CELL_BOOL,
                            _ => CELL_ERROR,
                        };
                        write_record(&mut out, ty, &b[..vend])?;
                        edit.actions.push(Action::with_detail(
                            ActionKind::RemovedExternalFormula,
                            name.clone(),
                            format!("{}{}", col_name(col), u64::from(row) + 1),
                        ));
                        changed = true;
                        continue;
                    }
                }
                _ => {}
            }
            write_record(&mut out, r.ty, b)?;
        }
        if changed {
            edit.sheets.insert(key.clone(), out);
        }
    }

    let mut out = Vec::with_capacity(wb_data.len());
    for (i, r) in recs.iter().enumerate() {
        if Some(i) == converted {
            write_record(&mut out, SUP_SELF, &[])?;
        } else if books.iter().any(|&(j, l)| l && j == i) {
            continue;
        } else if Some(i) == xti_rec {
            write_record(&mut out, EXTERN_SHEET, new_xti.as_deref().unwrap_or(r.body))?;
        } else if let Some(k) = names.iter().position(|&n| n == i).filter(|k| bad_names.contains(&(*k as u32 + 1))) {
            let (_, start, end) = name_reads[k];
            let mut body = r.body[..start].to_vec();
            body.extend_from_slice(&(REF_ERROR_RGCE.len() as u32).to_le_bytes());
            body.extend_from_slice(&REF_ERROR_RGCE);
            body.extend_from_slice(&0u32.to_le_bytes());
            body.extend_from_slice(&r.body[end..]);
            let label = wide_string(r.body, 9).map(|(s, _)| s).unwrap_or_default();
            edit.actions.push(Action::with_detail(
                ActionKind::RemovedExternalFormula,
                wb_name,
                format!("name {label}"),
            ));
            write_record(&mut out, NAME, &body)?;
        } else {
            write_record(&mut out, r.ty, r.body)?;
        }
    }
    edit.workbook = Some(out);
    Ok(edit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ty: u32, body: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        write_record(&mut v, ty, body).unwrap();
        v
    }

    #[test]
    fn records_round_trip() {
        let mut data = rec(131, &[]);
        data.extend(rec(5, &[7u8; 200]));
        data.extend(rec(3072, &[1, 2]));
        let budget = Budget::new(&crate::config::Config::default().limits);
        let r = records(&data, "x", &budget).unwrap();
        assert_eq!(r.iter().map(|r| (r.ty, r.body.len())).collect::<Vec<_>>(), vec![(131, 0), (5, 200), (3072, 2)]);
        let mut again = Vec::new();
        for x in &r {
            write_record(&mut again, x.ty, x.body).unwrap();
        }
        assert_eq!(again, data);
        assert!(records(&data[..data.len() - 1], "x", &budget).is_err());
    }

    #[test]
    fn tokens_are_walked_or_refused() {
        // A1 + [ixti 3]Sheet!B2 + name 2
        let rgce = [0x24, 0, 0, 0, 0, 0, 0, 0x3A, 3, 0, 1, 0, 0, 0, 1, 0, 0x03, 0x23, 2, 0, 0, 0, 0x03];
        let r = walk_rgce(&rgce, "t").unwrap();
        assert_eq!(r.ixti, vec![3]);
        assert_eq!(r.names, vec![2]);
        assert!(walk_rgce(&[0x18, 0x19], "t").is_err());
        assert!(walk_rgce(&[0x24, 0, 0], "t").is_err());
    }

    #[test]
    fn only_objects_linked_through_a_removed_book_go() {
        let mut b = vec![1, 0, 0, 0, 1, 0, 0, 0, 1, 4, 0, 0];
        b.extend([1, 0]);
        b.extend(u32::MAX.to_le_bytes());
        b.extend([7, 0, 0, 0, 0x59, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        let reads = |r: &Reads| r.ixti.contains(&2);
        assert_eq!(linked_object_reading(&b, "s", &reads).unwrap(), 1025);
        let other = |r: &Reads| r.ixti.contains(&3);
        assert!(linked_object_reading(&b, "s", &other).is_err());
        b[12] = 0; // embedded
        assert!(linked_object_reading(&b, "s", &reads).is_err());
        assert!(linked_object_reading(&b[..13], "s", &reads).is_err());
    }

    fn wide(s: &str) -> Vec<u8> {
        let mut v = (s.encode_utf16().count() as u32).to_le_bytes().to_vec();
        s.encode_utf16().for_each(|u| v.extend(u.to_le_bytes()));
        v
    }

    /// A workbook whose externals are `books` (record types; 355 is linked as "rIdN") and
    /// whose `BrtExternSheet` lists `xti` as (book, first, last).
    fn workbook(books: &[u32], xti: &[(u32, i32, i32)]) -> Vec<u8> {
        let mut wb = rec(131, &[]);
        wb.extend(rec(BEGIN_EXTERNALS, &[]));
        for (i, &t) in books.iter().enumerate() {
            wb.extend(rec(t, &if t == SUP_BOOK_SRC { wide(&format!("rId{i}")) } else { Vec::new() }));
        }
        let mut x = (xti.len() as u32).to_le_bytes().to_vec();
        for &(b, f, l) in xti {
            x.extend(b.to_le_bytes());
            x.extend(f.to_le_bytes());
            x.extend(l.to_le_bytes());
        }
        wb.extend(rec(EXTERN_SHEET, &x));
        wb.extend(rec(END_EXTERNALS, &[]));
        wb.extend(rec(132, &[]));
        wb
    }

    fn num_formula(ixti: u16) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        b.extend(5f64.to_le_bytes());
        b.extend([0, 0, 9, 0, 0, 0, 0x5A]);
        b.extend(ixti.to_le_bytes());
        b.extend([0u8; 6]);
        b.extend(0u32.to_le_bytes());
        rec(FMLA_NUM, &b)
    }

    fn run(wb: &[u8], sheet: &[u8], ids: &[&str]) -> Result<LinkEdit, FormatError> {
        let budget = Budget::new(&crate::config::Config::default().limits);
        let ids: HashSet<String> = ids.iter().map(|s| s.to_string()).collect();
        disarm_links(("wb", wb), &ids, &[("s".into(), "s".into(), sheet)], &budget)
    }

    fn externals(edit: &LinkEdit) -> (Vec<u32>, Vec<(u32, i32, i32)>) {
        let budget = Budget::new(&crate::config::Config::default().limits);
        let wb = edit.workbook.as_deref().unwrap();
        let recs = records(wb, "wb", &budget).unwrap();
        let books = recs.iter().map(|r| r.ty).filter(|t| [SUP_BOOK_SRC, SUP_SELF, SUP_SAME, SUP_ADDIN].contains(t));
        let x = recs.iter().find(|r| r.ty == EXTERN_SHEET).unwrap().body;
        let n = u32_at(x, 0).unwrap() as usize;
        let xti = (0..n)
            .map(|k| {
                let at = 4 + 12 * k;
                (u32_at(x, at).unwrap(), u32_at(x, at + 4).unwrap() as i32, u32_at(x, at + 8).unwrap() as i32)
            })
            .collect();
        (books.collect(), xti)
    }

    #[test]
    fn books_are_renumbered_and_entries_keep_their_place() {
        // add-in, linked, self, linked: the linked ones go, their entries read the self reference.
        let wb = workbook(
            &[SUP_ADDIN, SUP_BOOK_SRC, SUP_SELF, SUP_BOOK_SRC],
            &[(1, 0, 0), (2, 0, 1), (3, 2, 2), (0, -1, -1)],
        );
        let mut sheet = num_formula(1);
        sheet.extend(num_formula(2));
        let edit = run(&wb, &sheet, &["rId1", "rId3"]).unwrap();
        let (books, xti) = externals(&edit);
        assert_eq!(books, vec![SUP_ADDIN, SUP_SELF]);
        assert_eq!(xti, vec![(1, -2, -2), (1, 0, 1), (1, -2, -2), (0, -1, -1)]);
        let s = records(&edit.sheets["s"], "s", &Budget::new(&crate::config::Config::default().limits)).unwrap();
        assert_eq!(s.iter().map(|r| r.ty).collect::<Vec<_>>(), vec![FMLA_NUM, CELL_REAL], "only ixti 2 read a link");
    }

    #[test]
    fn without_a_self_reference_the_linked_book_becomes_it() {
        let wb = workbook(&[SUP_BOOK_SRC], &[(0, 0, 0)]);
        let edit = run(&wb, &num_formula(0), &["rId0"]).unwrap();
        assert_eq!(externals(&edit), (vec![SUP_SELF], vec![(0, -2, -2)]));
    }

    #[test]
    fn what_cannot_be_rewritten_is_refused() {
        let wb = workbook(&[SUP_BOOK_SRC], &[(0, 0, 0)]);
        // A dynamic array formula reading the link.
        let mut sheet = rec(CELL_META, &[1, 0, 0, 0]);
        sheet.extend(num_formula(0));
        assert!(run(&wb, &sheet, &["rId0"]).is_err());
        // A linked book whose part is not being removed.
        assert!(run(&wb, &num_formula(0), &["rId9"]).is_err());
        // An entry naming a book that does not exist.
        let bad = workbook(&[SUP_BOOK_SRC], &[(3, 0, 0)]);
        assert!(run(&bad, &num_formula(0), &["rId0"]).is_err());
        // Nothing linked: nothing changes.
        let own = workbook(&[SUP_SELF], &[(0, 0, 0)]);
        assert!(run(&own, &num_formula(0), &[]).unwrap().workbook.is_none());
    }

    #[test]
    fn columns_are_lettered() {
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
    }
}
