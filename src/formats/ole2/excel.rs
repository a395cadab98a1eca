//! Excel 97-2003 (.xls, .xlt, .xla): the VBA project, embedded objects, ActiveX control data,
//! Excel 4.0 (XLM) macro sheets and auto-run names go.
//!
//! Storages: `_VBA_PROJECT_CUR` (and the Excel 5 `_VBA_PROJECT`), every `MBD........` object
//! storage and the `Ctls` stream of ActiveX controls are dropped.
//!
//! The `Workbook` stream (BIFF8, or BIFF5 from Excel 5/95) is read record by record. A
//! `FILEPASS` record means the workbook is encrypted: blocked as `encrypted`. In a BIFF8
//! workbook, a link to another workbook or a DDE/OLE link (a `SUPBOOK` that is neither the
//! workbook itself nor an add-in) is removed and every formula and name that reads it loses its
//! formula but keeps its value (see the `links` module, which also says what it blocks); an
//! Excel 5 (BIFF5) `EXTERNSHEET` naming another file is blocked as `unsupported`. Then:
//! - an Excel 4.0 macro sheet (or an Excel 5 VBA module sheet), known by its `BoundSheet8` type
//!   or by its substream's own `BOF`, is **neutralised, not deleted**: its substream is replaced
//!   by an empty worksheet and its `BoundSheet8` says worksheet. The
//!   sheet keeps its place, so no sheet index anywhere (names' scopes, `EXTERNSHEET` entries,
//!   the active tab) needs renumbering, and its formulas are gone; a macro substream that no
//!   sheet entry names is dropped;
//! - `Auto_Open`, `Auto_Close`, `Auto_Activate` and `Auto_Deactivate` names (built-in or named
//!   with those prefixes, which Excel runs too) are **neutralised, not deleted**: the `Lbl`
//!   record stays, so formulas that refer to names by index (`PtgName`) still find theirs, but
//!   it gets a plain name of its own and the formula `#REF!`;
//! - the `OBPROJ` record, which tells Excel to load a VBA project, is dropped with the project.
//!
//! Records change length, so the stream is written anew and every absolute stream position in
//! it is moved with the bytes: `BoundSheet8.lbPlyPos`, the `EXTSST` string positions and the
//! `INDEX` row-block positions, and so are the relative positions in each row block's `DBCELL`
//! (cells before it may have changed size). A record that runs past the end, or a sheet position that does
//! not point at a sheet, is malformed; workbooks older than Excel 5 are not rebuilt.

mod links;

use super::{display_path, remove_objects, remove_root_storages, Actions, Tree};
use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::{ActionKind, Reason};
use std::collections::{BTreeMap, HashSet};

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const FILEPASS: u16 = 0x002F;
const BOUNDSHEET: u16 = 0x0085;
const LBL: u16 = 0x0018;
const OBPROJ: u16 = 0x00D3;
const EXTSST: u16 = 0x00FF;
const INDEX: u16 = 0x020B;
const CONTINUE: u16 = 0x003C;
const DIMENSIONS: u16 = 0x0200;
const WINDOW2: u16 = 0x023E;
const DBCELL: u16 = 0x00D7;
const ROW: u16 = 0x0208;
const SUPBOOK: u16 = 0x01AE;
const EXTERNSHEET: u16 = 0x0017;

const BIFF8: u16 = 0x0600;
const BIFF5: u16 = 0x0500;

/// `BoundSheet8.dt` values.
const DT_MACRO_SHEET: u8 = 1;
const DT_VBA_MODULE: u8 = 6;

/// `BOF.dt` values of the substreams that hold macros.
const BOF_MACRO_SHEET: u16 = 0x0040;
const BOF_VBA_MODULE: u16 = 0x0006;

/// Built-in name codes that run by themselves (Auto_Open, Auto_Close, Auto_Activate,
/// Auto_Deactivate).
const AUTO_BUILTINS: [(u8, &str); 4] =
    [(0x01, "Auto_Open"), (0x02, "Auto_Close"), (0x0A, "Auto_Activate"), (0x0B, "Auto_Deactivate")];

/// Name prefixes Excel runs on its own; `Auto_Open2` runs just as `Auto_Open` does.
const AUTO_PREFIXES: [&str; 4] = ["auto_open", "auto_close", "auto_activate", "auto_deactivate"];

pub(super) fn disarm(tree: &mut Tree, actions: &mut Actions, budget: &Budget) -> Result<(), FormatError> {
    if tree.root_stream("Workbook").is_some() && tree.root_stream("Book").is_some() {
        // Which one a reader takes differs between readers; the other would pass unread.
        return Err(FormatError::malformed("both a Workbook and a Book stream"));
    }
    let main = if tree.root_stream("Workbook").is_some() { "Workbook" } else { "Book" };
    let stream = tree.root_stream(main).ok_or_else(|| FormatError::malformed("no Workbook stream"))?;
    let new = rewrite_workbook(&stream.data, main, actions, budget)?;
    if let Some(new) = new {
        if let Some(s) = tree.root_stream_mut(main) {
            s.data = new;
        }
    }
    remove_root_storages(tree, &["_VBA_PROJECT_CUR", "_VBA_PROJECT"], ActionKind::RemovedVbaProject, actions);
    remove_objects(tree, actions, |n| !n.is_stream && n.path.len() == 1 && is_mbd_name(&n.path[0]));
    let ctls: Vec<Vec<String>> = tree
        .nodes
        .iter()
        .filter(|n| n.is_stream && n.path.len() == 1 && n.path[0].eq_ignore_ascii_case("Ctls"))
        .map(|n| n.path.clone())
        .collect();
    for p in ctls {
        tree.remove(&p);
        actions.add(ActionKind::RemovedActivex, display_path(&p), "ActiveX control data");
    }
    Ok(())
}

/// `MBD` followed by eight hex digits: the storage of one embedded object.
fn is_mbd_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 11 && b[..3].eq_ignore_ascii_case(b"MBD") && b[3..].iter().all(u8::is_ascii_hexdigit)
}

#[derive(Clone, Copy, Debug)]
struct Rec {
    /// Position of the record header in the stream.
    start: usize,
    id: u16,
    len: usize,
}

impl Rec {
    fn body<'d>(&self, data: &'d [u8]) -> &'d [u8] {
        &data[self.start + 4..self.start + 4 + self.len]
    }
    fn end(&self) -> usize {
        self.start + 4 + self.len
    }
}

/// Splits the stream into records, as far as they fit, and says where the workbook ends: after
/// the last `EOF` that closes a substream. What follows is zero padding (writers round the
/// stream up), kept as it is, or slack no reader looks at, which is not written out. A stream
/// without a closed substream is malformed.
fn records(data: &[u8], budget: &Budget) -> Result<(Vec<Rec>, Option<usize>), FormatError> {
    let (mut recs, _) = split(data, budget)?;
    let mut depth = 0usize;
    let mut end = None;
    for (i, r) in recs.iter().enumerate() {
        match r.id {
            BOF => depth += 1,
            EOF if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                }
            }
            _ => {}
        }
    }
    let last = end.ok_or_else(|| FormatError::malformed("Workbook stream without a complete substream"))?;
    let tail = recs[last].end();
    recs.truncate(last + 1);
    Ok((recs, data[tail..].iter().all(|&b| b == 0).then_some(tail)))
}

fn split(data: &[u8], budget: &Budget) -> Result<(Vec<Rec>, usize), FormatError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        if out.len().is_multiple_of(4096) {
            budget.check_time()?;
        }
        let id = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let len = u16::from_le_bytes([data[pos + 2], data[pos + 3]]) as usize;
        if pos + 4 + len > data.len() {
            break;
        }
        out.push(Rec { start: pos, id, len });
        pos += 4 + len;
    }
    Ok((out, pos))
}

/// What happens to one record in the rewritten stream.
enum Edit {
    Drop,
    Body(Vec<u8>),
    /// The record becomes another one (a linked formula its cached value).
    Record(u16, Vec<u8>),
    /// This record starts a substream (through record `last`) that is replaced by `bytes`.
    Substream {
        last: usize,
        bytes: Vec<u8>,
    },
}

/// Rewrites the workbook stream; `None` when nothing in it needs to change.
fn rewrite_workbook(
    data: &[u8],
    part: &str,
    actions: &mut Actions,
    budget: &Budget,
) -> Result<Option<Vec<u8>>, FormatError> {
    let (recs, tail) = records(data, budget)?;
    let first = recs.first().ok_or_else(|| FormatError::malformed("empty Workbook stream"))?;
    if first.id != BOF || first.len < 4 {
        return Err(FormatError::new(
            Reason::Unsupported,
            "workbook older than Excel 5 (or not a BIFF workbook): not rebuilt",
        ));
    }
    let version = u16::from_le_bytes([data[4], data[5]]);
    if version != BIFF8 && version != BIFF5 {
        return Err(FormatError::new(Reason::Unsupported, format!("BIFF version {version:#06x} is not rebuilt")));
    }
    // The globals substream: up to the first EOF.
    let globals_end = recs.iter().position(|r| r.id == EOF).ok_or_else(|| FormatError::malformed("no EOF record"))?;
    if recs.iter().any(|r| r.id == FILEPASS) {
        return Err(FormatError::new(Reason::Encrypted, "password-protected workbook (FILEPASS record)"));
    }
    let mut edits: BTreeMap<usize, Edit> = BTreeMap::new();
    if version == BIFF8 {
        links::disarm(&recs, data, globals_end, part, &mut edits, actions, budget)?;
    } else {
        check_links(&recs[..globals_end], data)?;
    }
    let by_start: BTreeMap<usize, usize> = recs.iter().enumerate().map(|(i, r)| (r.start, i)).collect();

    // Macro and VBA module sheets: by the sheet entry's type or by the substream's own BOF (a
    // macro sheet listed as a worksheet is still one).
    let bof_dt = |j: usize| {
        let b = recs[j].body(data);
        if b.len() >= 4 {
            u16::from_le_bytes([b[2], b[3]])
        } else {
            0
        }
    };
    let mut referenced = HashSet::new();
    for (i, r) in recs[..globals_end].iter().enumerate() {
        if r.id != BOUNDSHEET {
            continue;
        }
        let body = r.body(data);
        if body.len() < 8 {
            return Err(FormatError::malformed("BoundSheet8 record too short"));
        }
        let dt = body[5];
        let pos = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
        let target = by_start.get(&pos).copied().filter(|&j| recs[j].id == BOF && j > globals_end);
        if let Some(j) = target {
            referenced.insert(j);
        }
        let macro_bof = target.map(|j| matches!(bof_dt(j), BOF_MACRO_SHEET | BOF_VBA_MODULE)).unwrap_or(false);
        if dt != DT_MACRO_SHEET && dt != DT_VBA_MODULE && !macro_bof {
            continue;
        }
        let bof = target.ok_or_else(|| FormatError::malformed(format!("sheet position {pos} is not a sheet")))?;
        let last = substream_end(&recs, bof)?;
        if edits.contains_key(&bof) {
            return Err(FormatError::malformed("two sheets share one substream"));
        }
        edits.insert(bof, Edit::Substream { last, bytes: empty_worksheet(recs[bof].body(data), version) });
        let mut new_body = body.to_vec();
        new_body[5] = 0;
        edits.insert(i, Edit::Body(new_body));
        let vba = dt == DT_VBA_MODULE || bof_dt(bof) == BOF_VBA_MODULE;
        let what = if vba { "VBA module sheet" } else { "Excel 4.0 macro sheet" };
        let name = sheet_name(body, version);
        actions.add(
            ActionKind::RemovedMacroSheet,
            format!("{part}/{name}"),
            format!("{what}; an empty worksheet holds its place"),
        );
    }
    // A macro substream no sheet entry names is never shown, but it is still macro code in the
    // file: it goes. (Other unnamed substreams are left: a reader that walks the stream in
    // order would show them.)
    let mut j = globals_end + 1;
    while j < recs.len() {
        if recs[j].id != BOF {
            j += 1;
            continue;
        }
        let last = substream_end(&recs, j)?;
        if !referenced.contains(&j) && matches!(bof_dt(j), BOF_MACRO_SHEET | BOF_VBA_MODULE) {
            edits.insert(j, Edit::Substream { last, bytes: Vec::new() });
            actions.add(
                ActionKind::RemovedMacroSheet,
                format!("{part}/substream at {}", recs[j].start),
                "macro sheet substream that no sheet entry names",
            );
        }
        j = last + 1;
    }

    // Auto-run names.
    let names: Vec<(usize, Option<String>)> = recs[..globals_end]
        .iter()
        .enumerate()
        .filter(|(_, r)| r.id == LBL)
        .map(|(i, r)| (i, lbl_name(r.body(data), version)))
        .collect();
    let mut taken: HashSet<String> = names.iter().filter_map(|(_, n)| n.as_ref().map(|s| s.to_lowercase())).collect();
    let mut counter = 0;
    for (i, r) in recs[..globals_end].iter().enumerate() {
        if r.id != LBL {
            continue;
        }
        let Some(auto) = auto_name(r.body(data), version)? else { continue };
        if recs.get(i + 1).map(|n| n.id) == Some(CONTINUE) {
            return Err(FormatError::new(Reason::Unsupported, format!("{auto} name continued over records")));
        }
        let new_name = loop {
            counter += 1;
            let candidate = format!("mugai_disabled_{counter}");
            if taken.insert(candidate.clone()) {
                break candidate;
            }
        };
        edits.insert(i, Edit::Body(neutral_lbl(r.body(data), &new_name, version)));
        actions.add(
            ActionKind::RemovedAutoMacroName,
            format!("{part}/{auto}"),
            format!("renamed {new_name}, formula #REF!"),
        );
    }

    // The VBA project flag goes with the project.
    for (i, r) in recs[..globals_end].iter().enumerate() {
        if r.id == OBPROJ {
            edits.insert(i, Edit::Drop);
        }
    }
    if edits.is_empty() && tail.is_some() {
        return Ok(None);
    }
    // Slack after the workbook's end is dropped: nothing reads it, and nothing unread is passed.
    let tail_bytes = tail.map(|t| &data[t..]).unwrap_or(&[]);
    rebuild(data, &recs, tail_bytes, edits, version, budget).map(Some)
}

/// The index of the `EOF` that closes the substream opened by the `BOF` at `bof` (substreams
/// nest: a chart inside a sheet has its own).
fn substream_end(recs: &[Rec], bof: usize) -> Result<usize, FormatError> {
    let mut depth = 0usize;
    for (j, r) in recs.iter().enumerate().skip(bof) {
        match r.id {
            BOF => depth += 1,
            EOF => {
                depth -= 1;
                if depth == 0 {
                    return Ok(j);
                }
            }
            _ => {}
        }
    }
    Err(FormatError::malformed("sheet substream without its EOF"))
}

fn record(out: &mut Vec<u8>, id: u16, body: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(body);
}

/// An empty worksheet substream of the workbook's BIFF version: the sheet's own BOF turned into
/// a worksheet BOF, empty dimensions, a window and EOF.
fn empty_worksheet(bof_body: &[u8], version: u16) -> Vec<u8> {
    let mut bof = bof_body.to_vec();
    if bof.len() < 4 {
        bof.resize(4, 0);
    }
    bof[0..2].copy_from_slice(&version.to_le_bytes());
    bof[2..4].copy_from_slice(&0x0010u16.to_le_bytes());
    let mut out = Vec::new();
    record(&mut out, BOF, &bof);
    // BIFF8 counts rows in 32 bits, BIFF5 in 16.
    record(&mut out, DIMENSIONS, if version == BIFF8 { &[0; 14] } else { &[0; 10] });
    let mut window = Vec::with_capacity(18);
    window.extend_from_slice(&0x00B6u16.to_le_bytes()); // grid, headers, zeros, outline symbols
    window.extend_from_slice(&[0, 0, 0, 0]); // top row, left column
    window.extend_from_slice(&0x40u32.to_le_bytes()); // default header colour
    if version == BIFF8 {
        window.extend_from_slice(&[0; 8]); // zoom defaults, reserved
    }
    record(&mut out, WINDOW2, &window);
    record(&mut out, EOF, &[]);
    out
}

/// Refuses Excel 5 workbooks that link to other files: `EXTERNSHEET`s with an encoded file name
/// (first character 0x01) or a DDE/OLE link (0x02 in BIFF5 is the own workbook's sheet).
fn check_links(globals: &[Rec], data: &[u8]) -> Result<(), FormatError> {
    for r in globals {
        let body = r.body(data);
        let external = r.id == EXTERNSHEET && body.len() >= 2 && body[1] == 0x01;
        if external {
            return Err(FormatError::new(
                Reason::Unsupported,
                "workbook linked to another file (external workbook, DDE or OLE link): formulas using it are not rewritten",
            ));
        }
    }
    Ok(())
}

/// A sheet's name from its `BoundSheet8` record, for reports.
fn sheet_name(body: &[u8], version: u16) -> String {
    let cch = body[6] as usize;
    if version != BIFF8 {
        return body[7..].iter().take(cch).map(|&b| b as char).collect();
    }
    let high = body[7] & 1 != 0;
    let s = &body[8..];
    if high {
        let units: Vec<u16> = s.chunks_exact(2).take(cch).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        s.iter().take(cch).map(|&b| b as char).collect()
    }
}

/// The name of a `Lbl` record (`None` for a built-in one). BIFF8 names carry a flags byte
/// before their characters; BIFF5 names are 8-bit.
fn lbl_name(body: &[u8], version: u16) -> Option<String> {
    if body.len() < 15 || body[0] & 0x20 != 0 {
        return None;
    }
    let cch = body[3] as usize;
    if version == BIFF8 {
        let high = body[14] & 1 != 0;
        let s = body.get(15..)?;
        if high {
            let units: Vec<u16> = s.chunks_exact(2).take(cch).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            Some(String::from_utf16_lossy(&units))
        } else {
            Some(s.iter().take(cch).map(|&b| b as char).collect())
        }
    } else {
        Some(body.get(14..)?.iter().take(cch).map(|&b| b as char).collect())
    }
}

/// The auto-run name a `Lbl` record defines, if it is one.
fn auto_name(body: &[u8], version: u16) -> Result<Option<String>, FormatError> {
    if body.len() < 15 {
        return Err(FormatError::malformed("Lbl record too short"));
    }
    if body[0] & 0x20 != 0 {
        // Built-in: the name is a single code.
        let code = if version == BIFF8 { body.get(15).copied().unwrap_or(0) } else { body[14] };
        return Ok(AUTO_BUILTINS.iter().find(|(c, _)| *c == code).map(|(_, n)| n.to_string()));
    }
    let name = lbl_name(body, version).unwrap_or_default();
    let lower = name.to_lowercase();
    // A local name is stored as itself; Excel also accepts `Sheet!Auto_Open` style prefixes
    // only through the scope (itab), never in the stored name.
    Ok(AUTO_PREFIXES.iter().any(|p| lower.starts_with(p)).then_some(name))
}

/// A `Lbl` body that defines `name` as `#REF!`, keeping the original's scope and hidden flag.
/// The BIFF5 form has no character flags byte and no optional strings (their lengths are 0).
fn neutral_lbl(body: &[u8], name: &str, version: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(15 + name.len() + 2);
    let flags = u16::from_le_bytes([body[0], body[1]]) & 0x0001; // fHidden only
    out.extend_from_slice(&flags.to_le_bytes());
    out.push(0); // no shortcut key
    out.push(name.len() as u8);
    out.extend_from_slice(&2u16.to_le_bytes()); // cce
    out.extend_from_slice(&[0, 0]); // reserved
    out.extend_from_slice(&body[8..10]); // itab: the same scope
    out.extend_from_slice(&[0, 0, 0, 0]); // reserved (BIFF5: no menu, description, help or status text)
    if version == BIFF8 {
        out.push(0); // 8-bit characters
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&[0x1C, 0x17]); // PtgErr #REF!
    out
}

/// Writes the stream with the edits applied and moves every absolute stream position.
fn rebuild(
    data: &[u8],
    recs: &[Rec],
    tail: &[u8],
    edits: BTreeMap<usize, Edit>,
    version: u16,
    budget: &Budget,
) -> Result<Vec<u8>, FormatError> {
    // Where INDEX's absolute positions (DEFCOLWIDTH, then the DBCELLs) begin.
    let index_positions = if version == BIFF8 { 12 } else { 8 };
    let mut out = Vec::with_capacity(data.len() + 1024);
    // New start of each record that was kept (with its body unchanged or rewritten), and of each
    // replaced substream's first record.
    let mut new_start: Vec<Option<usize>> = vec![None; recs.len()];
    let mut changed = vec![false; recs.len()];
    let mut i = 0;
    while i < recs.len() {
        if i.is_multiple_of(4096) {
            budget.check_time()?;
        }
        let r = recs[i];
        match edits.get(&i) {
            None => {
                new_start[i] = Some(out.len());
                out.extend_from_slice(&data[r.start..r.end()]);
            }
            Some(Edit::Drop) => {}
            Some(Edit::Body(b)) => {
                new_start[i] = Some(out.len());
                changed[i] = true;
                record(&mut out, r.id, b);
            }
            Some(Edit::Record(id, b)) => {
                new_start[i] = Some(out.len());
                changed[i] = true;
                record(&mut out, *id, b);
            }
            Some(Edit::Substream { last, bytes }) => {
                new_start[i] = Some(out.len());
                changed[i] = true;
                out.extend_from_slice(bytes);
                for c in &mut changed[i + 1..=*last] {
                    *c = true;
                }
                i = *last + 1;
                continue;
            }
        }
        i += 1;
    }
    out.extend_from_slice(tail);
    if out.len() > u32::MAX as usize {
        return Err(FormatError::malformed("Workbook stream too large"));
    }
    // Where an old position lands now: inside a record that kept its bytes, or at the start of
    // a record that was kept or replaced.
    let starts: Vec<usize> = recs.iter().map(|r| r.start).collect();
    let map = |pos: usize| -> Option<usize> {
        let k = match starts.binary_search(&pos) {
            Ok(k) => return new_start[k],
            Err(0) => return None,
            Err(k) => k - 1,
        };
        let r = recs[k];
        (!changed[k] && pos < r.end()).then(|| new_start[k]).flatten().map(|s| s + (pos - r.start))
    };
    let mut patches: Vec<(usize, u32)> = Vec::new();
    let mut patches16: Vec<(usize, u16)> = Vec::new();
    for (k, r) in recs.iter().enumerate() {
        let Some(at) = new_start[k] else { continue };
        if changed[k] && r.id != BOUNDSHEET {
            continue;
        }
        let body_at = at + 4;
        let body = &out[body_at..body_at + r.len];
        let u32_at = |o: usize| u32::from_le_bytes([body[o], body[o + 1], body[o + 2], body[o + 3]]) as usize;
        match r.id {
            BOUNDSHEET if body.len() >= 8 => {
                let old = u32_at(0);
                let new = map(old).ok_or_else(|| FormatError::malformed(format!("sheet position {old} is lost")))?;
                patches.push((body_at, new as u32));
            }
            // Position hints readers use to seek faster. One that pointed nowhere before
            // (some writers leave them stale) is left as it was: readers check and ignore it.
            EXTSST if body.len() >= 2 => {
                for o in (2..body.len().saturating_sub(3)).step_by(8) {
                    if let Some(new) = map(u32_at(o)) {
                        patches.push((body_at + o, new as u32));
                    }
                }
            }
            INDEX if body.len() >= index_positions + 4 => {
                for o in (index_positions..body.len() - 3).step_by(4) {
                    if let Some(new) = map(u32_at(o)) {
                        patches.push((body_at + o, new as u32));
                    }
                }
            }
            DBCELL if body.len() >= 4 => {
                if let Some(p) = dbcell_patch(recs, &starts, &new_start, k, body) {
                    patches16.extend(p.1.into_iter().enumerate().map(|(n, v)| (body_at + 4 + 2 * n, v)));
                    patches.push((body_at, p.0));
                }
            }
            _ => {}
        }
    }
    for (at, v) in patches {
        out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    for (at, v) in patches16 {
        out[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// A row block's `DBCELL` with its relative positions moved with the bytes (cell records
/// before it may have changed size): the distance back to the block's first `ROW` record, and
/// the chain of distances from the end of that record to each row's first cell. Only a chain
/// that lands on record starts that are still there is rewritten; a stale one is left as it
/// was (readers check and ignore it).
fn dbcell_patch(
    recs: &[Rec],
    starts: &[usize],
    new_start: &[Option<usize>],
    k: usize,
    body: &[u8],
) -> Option<(u32, Vec<u16>)> {
    let kept = |pos: usize| starts.binary_search(&pos).ok().and_then(|j| new_start[j].map(|n| (j, n)));
    let back = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
    let (row, new_row) = kept(recs[k].start.checked_sub(back)?)?;
    if recs[row].id != ROW || recs[row].len != 16 {
        return None;
    }
    let new_back = u32::try_from(new_start[k]?.checked_sub(new_row)?).ok()?;
    let (mut old_at, mut new_at) = (recs[row].end(), new_row + 20);
    let mut offsets = Vec::with_capacity(body.len() / 2);
    for c in body[4..].chunks_exact(2) {
        let cell = old_at + u16::from_le_bytes([c[0], c[1]]) as usize;
        let (_, new_cell) = kept(cell)?;
        offsets.push(u16::try_from(new_cell.checked_sub(new_at)?).ok()?);
        (old_at, new_at) = (cell, new_cell);
    }
    Some((new_back, offsets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn object_storage_names_are_recognised() {
        assert!(is_mbd_name("MBD0012ABCD"));
        assert!(is_mbd_name("mbd0012abcd"));
        assert!(!is_mbd_name("MBD0012ABC"));
        assert!(!is_mbd_name("Workbook"));
    }

    #[test]
    fn a_neutral_name_parses_back_as_a_plain_name() {
        let mut body = vec![0x20, 0, 0, 1, 9, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0x01];
        body.extend_from_slice(&[0x3A, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(auto_name(&body, BIFF8).unwrap().as_deref(), Some("Auto_Open"));
        let n = neutral_lbl(&body, "mugai_disabled_1", BIFF8);
        assert_eq!(auto_name(&n, BIFF8).unwrap(), None);
        assert_eq!(lbl_name(&n, BIFF8).as_deref(), Some("mugai_disabled_1"));
        assert_eq!(&n[8..10], &[2, 0]);
    }

    #[test]
    fn a_row_block_index_follows_a_cell_that_shrank() {
        let budget = Budget::new(&Config::default().limits);
        let mut d = Vec::new();
        record(&mut d, ROW, &[0; 16]);
        record(&mut d, 0x0006, &[0; 30]); // a formula, first cell of row 0
        record(&mut d, 0x0203, &[0; 14]); // first cell of row 1
        let mut db = 72u32.to_le_bytes().to_vec();
        db.extend_from_slice(&[0, 0, 34, 0]);
        record(&mut d, DBCELL, &db);
        let (recs, _) = split(&d, &budget).unwrap();
        let mut edits = BTreeMap::new();
        edits.insert(1, Edit::Record(0x0203, vec![0; 14]));
        let out = rebuild(&d, &recs, &[], edits, BIFF8, &budget).unwrap();
        assert_eq!(out.len(), 56 + 12);
        assert_eq!(out[60..68], [56, 0, 0, 0, 0, 0, 18, 0]);
        // A stale chain (here: pointing inside a record) is left as it was.
        let mut d2 = d.clone();
        d2[80] = 33;
        let (recs, _) = split(&d2, &budget).unwrap();
        let mut edits = BTreeMap::new();
        edits.insert(1, Edit::Record(0x0203, vec![0; 14]));
        let out = rebuild(&d2, &recs, &[], edits, BIFF8, &budget).unwrap();
        assert_eq!(out[60..68], [72, 0, 0, 0, 33, 0, 34, 0]);
    }

    #[test]
    fn zero_padding_is_kept_and_slack_after_the_workbook_is_dropped() {
        let budget = Budget::new(&Config::default().limits);
        let mut d = vec![0x09, 0x08, 0, 0, 0x0A, 0, 0, 0];
        d.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let (recs, tail) = records(&d, &budget).unwrap();
        assert_eq!((recs.len(), tail), (2, Some(8)));
        d.extend_from_slice(&[7, 7, 7]);
        let (recs, tail) = records(&d, &budget).unwrap();
        assert_eq!((recs.len(), tail), (2, None));
        assert_eq!(records(&[0x09, 0x08, 0, 0, 1, 2, 3, 4], &budget).unwrap_err().reason, Reason::Malformed);
    }
}
