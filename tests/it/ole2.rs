//! Every legacy Office sample of `mugai::samples::ole2` through the engine: the verdict, reason,
//! actions and output name it must get under the default configuration, and for every rebuilt
//! file an independent check with the `cfb` crate and a small BIFF reader of its own: it opens,
//! holds no VBA storage, object storage, object or control stream, macro sheet or auto-run name,
//! none of the removed macro source, macro sheet or object bytes appear anywhere in the file,
//! every stream that was kept is byte for byte the input's, class ids are kept, every sheet
//! position points at a sheet, and the words are still there. Also determinism, a second pass,
//! the limits, mutated inputs, and that the files under `samples/ole2/` are what the builders
//! make now.

use super::common::{
    committed_sample_problems, damage, engine_with, fail_with, outcome_problems, process, process_with,
    unique_and_deterministic, Rng,
};
use mugai::model::{ActionKind, Reason, Verdict};
use mugai::samples::{media, ole2};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

super::common::sample_set!(mugai::samples::ole2::all);

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

// ----------------------------------------------------------------------------------------------
// The independent check

/// A compound file read back: every entry by its path, with its class id and (for streams) bytes.
struct Read2 {
    root_clsid: String,
    entries: BTreeMap<String, (bool, String, Vec<u8>)>,
}

fn read_cfb(bytes: &[u8]) -> Result<Read2, String> {
    read_cfb_with(bytes, false)
}

/// `skip_unreadable`: a stream that does not read whole is left out instead of failing (for
/// inputs with a damaged stream the rebuild is expected to leave out).
fn read_cfb_with(bytes: &[u8], skip_unreadable: bool) -> Result<Read2, String> {
    let mut cf = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| format!("cfb does not open it: {e}"))?;
    let root_clsid = cf.root_entry().clsid().to_string();
    let list: Vec<cfb::Entry> = cf.walk().filter(|e| !e.is_root()).collect();
    let mut entries = BTreeMap::new();
    for e in list {
        let mut data = Vec::new();
        if e.is_stream() {
            let read = cf
                .open_stream(e.path())
                .and_then(|mut s| s.read_to_end(&mut data))
                .map_err(|err| format!("{}: {err}", e.path().display()))
                .and_then(|_| match data.len() as u64 == e.len() {
                    true => Ok(()),
                    false => Err(format!("{}: {} of {} bytes", e.path().display(), data.len(), e.len())),
                });
            match read {
                Ok(()) => {}
                Err(_) if skip_unreadable => continue,
                Err(err) => return Err(err),
            }
        }
        entries.insert(e.path().display().to_string(), (e.is_stream(), e.clsid().to_string(), data));
    }
    Ok(Read2 { root_clsid, entries })
}

fn biff_records(data: &[u8]) -> Vec<(usize, u16, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let id = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let len = u16::from_le_bytes([data[pos + 2], data[pos + 3]]) as usize;
        if pos + 4 + len > data.len() {
            break;
        }
        out.push((pos, id, &data[pos + 4..pos + 4 + len]));
        pos += 4 + len;
    }
    out
}

/// Macro sheets, auto-run names and sheet positions that do not point at a sheet.
fn workbook_problems(wb: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let recs = biff_records(wb);
    let bofs: Vec<usize> = recs.iter().filter(|r| r.1 == 0x0809).map(|r| r.0).collect();
    for (_, id, body) in &recs {
        match id {
            0x0085 if body.len() >= 6 => {
                if matches!(body[5], 1 | 6) {
                    found.push(format!("BoundSheet8 of type {}", body[5]));
                }
                let pos = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
                if !bofs.contains(&pos) {
                    found.push(format!("sheet position {pos} is not a BOF"));
                }
            }
            0x0809 if body.len() >= 4 && u16::from_le_bytes([body[2], body[3]]) == 0x0040 => {
                found.push("a macro sheet BOF".into())
            }
            0x0018 if body.len() >= 16 => {
                let builtin = body[0] & 0x20 != 0;
                if builtin && matches!(body[15], 1 | 2 | 0x0A | 0x0B) {
                    found.push("a built-in auto-run name".into());
                }
                let name: String = body[15..].iter().take(body[3] as usize).map(|&b| b as char).collect();
                if !builtin && name.to_lowercase().starts_with("auto_") {
                    found.push(format!("a name {name}"));
                }
            }
            0x00D3 => found.push("OBPROJ".into()),
            0x01AE if body.len() >= 4 && !matches!(u16::from_le_bytes([body[2], body[3]]), 0x0401 | 0x3A01) => {
                found.push("a SUPBOOK naming another file".into())
            }
            0x0023 | 0x0059 | 0x005A => found.push(format!("a record {id:#06x} of a linked book")),
            _ => {}
        }
    }
    found
}

fn u32_at(b: &[u8], o: usize) -> Option<usize> {
    b.get(o..o + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize)
}

/// VBA and object records left in a presentation, and user edits or persist directories that
/// do not lead to records (read from `Current User` on, the way PowerPoint opens a file).
fn presentation_problems(doc: &[u8], user: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut tops = Vec::new();
    let mut stack = vec![(0usize, doc.len(), 0usize)];
    while let Some((pos, end, depth)) = stack.pop() {
        if pos + 8 > end {
            continue;
        }
        let ver = doc[pos] & 0x0F;
        let rtype = u16::from_le_bytes([doc[pos + 2], doc[pos + 3]]);
        let len = u32_at(doc, pos + 4).unwrap_or(0);
        if pos + 8 + len > end {
            found.push(format!("record at {pos} runs past its container"));
            continue;
        }
        if depth == 0 {
            tops.push((pos, rtype));
        }
        match rtype {
            0x1011 => found.push(format!("an ExOleObjStg at {pos}")),
            0x03FF | 0x0400 => found.push(format!("VBA info record at {pos}")),
            0x0FCC | 0x0FCE | 0x0FEE => found.push(format!("an object or control container at {pos}")),
            0x0BC1 => found.push(format!("a shape's object reference at {pos}")),
            0x0FF3 if len >= 9 && matches!(doc[pos + 16], 1 | 2 | 5) => {
                found.push(format!("a program action at {pos}"))
            }
            _ => {}
        }
        stack.push((pos + 8 + len, end, depth));
        if ver == 0x0F {
            stack.push((pos + 8, pos + 8 + len, depth + 1));
        }
    }
    let type_at = |off: usize| tops.iter().find(|t| t.0 == off).map(|t| t.1);
    let mut edit = u32_at(user, 16).unwrap_or(usize::MAX);
    for _ in 0..64 {
        if type_at(edit) != Some(0x0FF5) {
            found.push(format!("user edit offset {edit} is not a UserEditAtom"));
            break;
        }
        let body = &doc[edit + 8..];
        let dir = u32_at(body, 12).unwrap_or(usize::MAX);
        if type_at(dir) != Some(0x1772) {
            found.push(format!("persist directory offset {dir} is not a PersistDirectoryAtom"));
            break;
        }
        let dlen = u32_at(doc, dir + 4).unwrap_or(0);
        let d = &doc[dir + 8..dir + 8 + dlen];
        let mut i = 0;
        while i + 4 <= d.len() {
            let n = u32_at(d, i).unwrap_or(0) >> 20;
            for k in 0..n {
                let o = u32_at(d, i + 4 + 4 * k).unwrap_or(usize::MAX);
                if type_at(o).is_none() {
                    found.push(format!("persist offset {o} is not a record"));
                }
            }
            i += 4 + 4 * n;
        }
        match u32_at(body, 8) {
            Some(0) | None => break,
            Some(last) => edit = last,
        }
    }
    found
}

/// Bytes that only the removed content holds: the compressed source of the sample VBA module
/// (its first 48 bytes, literal tokens and all), the XLM sheet's marker cell and the object's
/// payload.
fn removed_content_markers() -> Vec<(&'static str, Vec<u8>)> {
    let project = media::vba_project("AutoOpen");
    let mut cf = cfb::CompoundFile::open(Cursor::new(&project)).expect("vba project");
    let mut module = Vec::new();
    cf.open_stream("/VBA/Module1").expect("module").read_to_end(&mut module).expect("read");
    let project_wb = media::vba_project("Workbook_Open");
    let mut cf = cfb::CompoundFile::open(Cursor::new(&project_wb)).expect("vba project");
    let mut module_wb = Vec::new();
    cf.open_stream("/VBA/Module1").expect("module").read_to_end(&mut module_wb).expect("read");
    vec![
        ("VBA module source (AutoOpen)", module[..48].to_vec()),
        ("VBA module source (Workbook_Open)", module_wb[..48].to_vec()),
        ("VBA dir stream name", "_VBA_PROJECT".encode_utf16().flat_map(|u| u.to_le_bytes()).collect()),
        ("XLM marker", ole2::XLM_MARKER.as_bytes().to_vec()),
        ("object payload", ole2::OBJECT_MARKER.as_bytes().to_vec()),
        ("slack after the workbook", ole2::SLACK_MARKER.as_bytes().to_vec()),
        ("linked workbook path", ole2::LINKED_BOOK.as_bytes().to_vec()),
    ]
}

/// Everything on the legacy Office checklist found in a rebuilt file, one line each, and any
/// difference from the input that the rebuild had no reason to make.
fn check_output(input: &[u8], out: &[u8], words: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let (inp, got) = match (read_cfb_with(input, true), read_cfb(out)) {
        (Ok(i), Ok(o)) => (i, o),
        (_, Err(e)) => return vec![e],
        (Err(e), _) => return vec![format!("input: {e}")],
    };
    if inp.root_clsid != got.root_clsid {
        problems.push(format!("root class id {} became {}", inp.root_clsid, got.root_clsid));
    }
    for (path, (is_stream, clsid, data)) in &got.entries {
        let lower = path.to_lowercase();
        let name = lower.rsplit('/').next().unwrap_or("");
        if !is_stream && ["macros", "_vba_project_cur", "vba", "_vba_project"].contains(&name) {
            problems.push(format!("VBA storage {path}"));
        }
        if lower.starts_with("/objectpool/") || (name.starts_with("mbd") && name.len() == 11) {
            problems.push(format!("object storage entry {path}"));
        }
        if ["\u{1}ole10native", "\u{3}ocxname", "ctls"].contains(&name) {
            problems.push(format!("object or control stream {path:?}"));
        }
        match inp.entries.get(path) {
            None => problems.push(format!("{path:?} is new")),
            Some((s, c, d)) => {
                if s != is_stream || c != clsid {
                    problems.push(format!("{path:?} changed its type or class id"));
                }
                let rewritten = ["/workbook", "/book", "/powerpoint document", "/current user"];
                if d != data && !rewritten.contains(&lower.as_str()) {
                    problems.push(format!("stream {path:?} changed"));
                }
            }
        }
        if *is_stream && (lower == "/workbook" || lower == "/book") {
            problems.extend(workbook_problems(data));
        }
    }
    if let (Some((_, _, doc)), Some((_, _, user))) =
        (got.entries.get("/PowerPoint Document"), got.entries.get("/Current User"))
    {
        problems.extend(presentation_problems(doc, user));
    }
    for (what, marker) in removed_content_markers() {
        if find(out, &marker) {
            problems.push(format!("the {what} is still in the bytes"));
        }
    }
    for w in words {
        let utf16: Vec<u8> = w.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        if !find(out, w.as_bytes()) && !find(out, &utf16) {
            problems.push(format!("the word {w:?} is gone"));
        }
    }
    problems
}

// ----------------------------------------------------------------------------------------------
// Outcomes

#[test]
fn every_ole2_sample_gets_its_expected_outcome() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        problems.extend(outcome_problems(s, o));
    }
    fail_with(problems);
}

#[test]
fn rebuilt_compound_files_hold_nothing_active_and_keep_everything_else() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        if o.verdict != Verdict::Disarmed {
            continue;
        }
        let Some(out) = &o.output else {
            problems.push(format!("{}: disarmed without output", s.file_name));
            continue;
        };
        problems.extend(
            check_output(&s.bytes, out, &s.expected.keeps_text).into_iter().map(|p| format!("{}: {p}", s.file_name)),
        );
    }
    fail_with(problems);
}

#[test]
fn the_check_sees_each_threat_in_the_inputs() {
    // Each active sample fails the output check when given to it as if it were an output: the
    // check can fail.
    for name in [
        "vba_autoopen.doc",
        "ole_package.doc",
        "xlm_auto_open.xls",
        "vba_workbook_open.xls",
        "ole_package.xls",
        "ole_package.jtd",
    ] {
        let s = all().iter().find(|s| s.file_name == name).expect("sample");
        let problems = check_output(&s.bytes, &s.bytes, &[]);
        assert!(!problems.is_empty(), "{name}: the check finds nothing in the input");
    }
    let xlm = ole2::xls_xlm();
    let problems = check_output(&xlm, &xlm, &[]);
    for what in ["BoundSheet8 of type 1", "a macro sheet BOF", "a built-in auto-run name", "XLM marker"] {
        assert!(problems.iter().any(|p| p.contains(what)), "{what} not seen in {problems:?}");
    }
    let vba = ole2::doc_vba();
    assert!(check_output(&vba, &vba, &[]).iter().any(|p| p.contains("VBA module source")));
}

#[test]
fn rebuilt_compound_files_are_deterministic_and_a_second_pass_finds_nothing() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let Some(out) = &o.output else { continue };
        let again = process(s.file_name, &s.bytes);
        if again.output.as_deref() != Some(&out[..]) {
            problems.push(format!("{}: a second run gave other bytes", s.file_name));
        }
        let second = process(s.file_name, out);
        if second.verdict != Verdict::Disarmed || !second.actions.is_empty() {
            problems.push(format!(
                "{}: second pass {:?} {:?} {:?}",
                s.file_name, second.verdict, second.reason, second.actions
            ));
        } else if second.output.as_deref() != Some(&out[..]) {
            problems.push(format!("{}: a second pass changed the bytes", s.file_name));
        }
    }
    fail_with(problems);
}

#[test]
fn macro_sheet_and_name_are_neutralised_in_place() {
    let o = process("x.xls", &ole2::xls_xlm());
    let out = o.output.expect("output");
    let read = read_cfb(&out).expect("opens");
    let wb = &read.entries["/Workbook"].2;
    let recs = biff_records(wb);
    let sheets: Vec<&[u8]> = recs.iter().filter(|r| r.1 == 0x0085).map(|r| r.2).collect();
    assert_eq!(sheets.len(), 2, "both sheets keep their places");
    assert_eq!(sheets[0][5], 0, "the macro sheet is now a worksheet");
    assert_eq!(sheets[0][4], 1, "and still hidden");
    let names: Vec<&[u8]> = recs.iter().filter(|r| r.1 == 0x0018).map(|r| r.2).collect();
    assert_eq!(names.len(), 1, "the name record stays, so name indices do not move");
    assert_eq!(names[0][names[0].len() - 2..], [0x1C, 0x17], "and refers to #REF!");
    assert!(o.actions.iter().any(|a| a.action == ActionKind::RemovedAutoMacroName && a.part.ends_with("Auto_Open")));
}

#[test]
fn linked_formulas_become_their_cached_values_and_extern_sheet_keeps_its_numbering() {
    let o = process("x.xls", &ole2::xls_linked_book());
    assert_eq!(o.verdict, Verdict::Disarmed);
    let out = o.output.expect("output");
    let read = read_cfb(&out).expect("opens");
    let wb = &read.entries["/Workbook"].2;
    let recs = biff_records(wb);
    let cell = |row: u16| {
        recs.iter()
            .find(|r| {
                matches!(r.1, 0x0006 | 0x0201 | 0x0203 | 0x0204 | 0x0205)
                    && r.2.len() >= 6
                    && r.2[..6] == [row as u8, 0, 1, 0, 15, 0]
            })
            .map(|r| (r.1, r.2[6..].to_vec()))
            .unwrap_or_else(|| panic!("no cell at row {row}, column B"))
    };
    let number = ole2::LINKED_NUMBER.to_le_bytes().to_vec();
    assert_eq!(cell(0), (0x0203, number.clone()), "number result as NUMBER");
    let mut label = vec![ole2::LINKED_TEXT.len() as u8, 0, 0];
    label.extend_from_slice(ole2::LINKED_TEXT.as_bytes());
    assert_eq!(cell(1), (0x0204, label), "text result as LABEL");
    assert_eq!(cell(2), (0x0205, vec![1, 0]), "boolean result as BOOLERR");
    assert_eq!(cell(4), (0x0203, number.clone()), "a formula through a linked name as NUMBER");
    assert_eq!(cell(5), (0x0203, number.clone()), "both cells of a linked shared formula as NUMBER");
    assert_eq!(cell(6), (0x0203, number), "the second cell of the shared formula as NUMBER");
    assert!(!recs.iter().any(|r| r.1 == 0x04BC), "and the shared formula goes");
    let (id, internal) = cell(3);
    assert_eq!(id, 0x0006, "the formula reading its own sheet stays");
    assert_eq!(internal[16..], [0x5A, 0, 0, 0, 0, 0, 0], "with EXTERNSHEET entry 0");
    let strings: Vec<&[u8]> = recs.iter().filter(|r| r.1 == 0x0207).map(|r| r.2).collect();
    assert_eq!(strings, [b"\x09\0\0Discharge".as_slice()], "only the kept formula's STRING stays");
    let books: Vec<&[u8]> = recs.iter().filter(|r| r.1 == 0x01AE).map(|r| r.2).collect();
    assert_eq!(books, [[1, 0, 1, 4].as_slice()], "only the workbook's own SUPBOOK stays");
    let sheets: Vec<&[u8]> = recs.iter().filter(|r| r.1 == 0x0017).map(|r| r.2).collect();
    assert_eq!(
        sheets,
        [[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFE, 0xFF, 0xFE, 0xFF].as_slice()],
        "both entries stay; the linked one is a deleted sheet of this workbook"
    );
    let names: Vec<&[u8]> = recs.iter().filter(|r| r.1 == 0x0018).map(|r| r.2).collect();
    assert_eq!(names.len(), 1);
    assert_eq!(&names[0][15..26], b"LinkedTotal", "the name keeps its name");
    assert_eq!(names[0][26..], [0x1C, 0x17], "and refers to #REF!");
    assert!(!find(&out, ole2::LINKED_BOOK.as_bytes()));
    assert!(o.actions.iter().any(|a| a.action == ActionKind::RemovedExternalReference
        && a.detail.as_deref().is_some_and(|d| d.contains(ole2::LINKED_BOOK))));
    let formulas = o.actions.iter().filter(|a| a.action == ActionKind::RemovedExternalFormula).count();
    assert_eq!(formulas, 2, "one action for the name, one for the sheet's formulas");
}

/// The linked sample with its workbook stream's records reordered by `f` (a list of record
/// indices), in a new compound file.
fn linked_book_with_records(f: impl Fn(usize, &[(usize, u16, &[u8])]) -> Vec<usize>) -> Vec<u8> {
    let read = read_cfb(&ole2::xls_linked_book()).expect("sample opens");
    let mut cf = ole2::Cfb::new(None);
    for (path, (is_stream, _, data)) in &read.entries {
        if !*is_stream {
            cf.storage(path, None);
            continue;
        }
        if path != "/Workbook" {
            cf.stream(path, data.clone());
            continue;
        }
        let recs = biff_records(data);
        let end = recs.last().map(|r| r.0 + 4 + r.2.len()).unwrap_or(0);
        let mut out = Vec::new();
        for k in f(recs.len(), &recs) {
            let (at, _, body) = recs[k];
            out.extend_from_slice(&data[at..at + 4 + body.len()]);
        }
        out.extend_from_slice(&data[end..]);
        cf.stream(path, out);
    }
    cf.build()
}

#[test]
fn a_linked_books_records_away_from_its_supbook_block_the_workbook() {
    // As built, the workbook is disarmed; with the linked book's cached values (XCT, CRN) moved
    // after EXTERNSHEET, which keeps every sheet position, they would belong to no removed book.
    let same = linked_book_with_records(|n, _| (0..n).collect());
    assert_eq!(process("x.xls", &same).verdict, Verdict::Disarmed);
    let moved = linked_book_with_records(|n, recs| {
        let xct = recs.iter().position(|r| r.1 == 0x0059).expect("XCT");
        let sheet = recs.iter().position(|r| r.1 == 0x0017).expect("EXTERNSHEET");
        let mut order: Vec<usize> = (0..n).filter(|&k| k != xct && k != xct + 1).collect();
        let at = order.iter().position(|&k| k == sheet).expect("kept") + 1;
        order.splice(at..at, [xct, xct + 1]);
        order
    });
    let o = process("x.xls", &moved);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Unsupported)), "{:?}", o.detail);
    assert!(o.detail.as_deref().is_some_and(|d| d.contains("linked book")), "{:?}", o.detail);
}

#[test]
fn every_saved_version_of_a_presentation_loses_its_vba_and_the_edits_still_chain() {
    let o = process("x.ppt", &ole2::ppt_vba_saved_twice());
    let out = o.output.expect("output");
    let read = read_cfb(&out).expect("opens");
    let doc = &read.entries["/PowerPoint Document"].2;
    let user = &read.entries["/Current User"].2;
    assert!(presentation_problems(doc, user).is_empty(), "{:?}", presentation_problems(doc, user));
    // Both user edits are still there and the newest points back at the older one.
    let edits: Vec<usize> = (0..doc.len().saturating_sub(4)).filter(|&i| doc[i..i + 4] == [0, 0, 0xF5, 0x0F]).collect();
    assert_eq!(edits.len(), 2);
    let current = u32_at(user, 16).expect("offset");
    assert_eq!(current, edits[1]);
    assert_eq!(u32_at(doc, current + 16), Some(edits[0]), "offsetLastEdit follows the older edit");
}

#[test]
fn an_ole_shape_stays_as_its_picture_without_its_object() {
    let o = process("x.ppt", &ole2::ppt_object_records());
    let out = o.output.expect("output");
    let read = read_cfb(&out).expect("opens");
    let doc = &read.entries["/PowerPoint Document"].2;
    let fsp = doc.windows(4).position(|w| w == [0xB2, 0x04, 0x0A, 0xF0]).expect("the shape is still there");
    let flags = u32_at(doc, fsp + 12).expect("flags");
    assert_eq!(flags & 0x10, 0, "fOleShape is cleared");
    assert_eq!(flags & 0x0A00, 0x0A00, "the other flags stay");
    assert!(presentation_problems(doc, &read.entries["/Current User"].2).is_empty());
}

// ----------------------------------------------------------------------------------------------
// Limits, damage

#[test]
fn the_compound_file_limits_follow_the_configuration() {
    let doc = ole2::doc_vba();
    let o = process_with(&engine_with(|c| c.limits.max_entries = 3), "a.doc", &doc);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitEntries)), "{:?}", o.detail);
    let o = process_with(&engine_with(|c| c.limits.max_total_bytes = 1000), "a.doc", &doc);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitTotalBytes)), "{:?}", o.detail);
}

/// The compound file with its main stream mutated and written back into a valid container, so
/// that the record readers (FIB, BIFF, PowerPoint records), not only the container checks, see
/// the damage.
fn with_mutated_main_stream(bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let read = read_cfb(bytes).ok()?;
    let mut cf = ole2::Cfb::new(None);
    let main = ["/WordDocument", "/Workbook", "/PowerPoint Document", "/DocumentText"];
    for (path, (is_stream, _, data)) in &read.entries {
        if *is_stream {
            let mut d = data.clone();
            if main.contains(&path.as_str()) {
                damage(&mut d, rng, &[]);
            }
            cf.stream(path, d);
        } else {
            cf.storage(path, None);
        }
    }
    Some(cf.build())
}

#[test]
fn mutated_ole2_samples_never_crash_the_engine() {
    let mut rng = Rng(0x0DEC_AF00_1234_5678);
    let mut problems = Vec::new();
    let mut verdicts = std::collections::HashSet::new();
    for s in all() {
        for round in 0..40 {
            let data = if round % 2 == 0 {
                let mut d = s.bytes.clone();
                damage(&mut d, &mut rng, &[]);
                d
            } else {
                match with_mutated_main_stream(&s.bytes, &mut rng) {
                    Some(d) => d,
                    None => continue,
                }
            };
            let o = process(s.file_name, &data);
            verdicts.insert(o.verdict);
            if o.reason == Some(Reason::InternalError) {
                problems.push(format!("{} round {round}: {:?}", s.file_name, o.detail));
            }
        }
    }
    assert!(verdicts.contains(&Verdict::Disarmed) && verdicts.contains(&Verdict::Blocked), "{verdicts:?}");
    fail_with(problems);
}

// ----------------------------------------------------------------------------------------------
// Committed samples

#[test]
fn ole2_sample_names_are_unique_and_builders_are_deterministic() {
    fail_with(unique_and_deterministic(all(), &ole2::all()));
}

#[test]
fn committed_ole2_samples_match_the_builders() {
    fail_with(committed_sample_problems("ole2", all()));
}

#[test]
fn deeply_nested_storages_come_to_an_outcome() {
    // 一太郎-like document with storages nested 300 deep, an object at the bottom.
    let mut cf = ole2::Cfb::new(None);
    cf.stream("/DocumentText", b"t\0e\0x\0t\0".to_vec());
    let mut path = String::new();
    for i in 0..300 {
        path.push_str(&format!("/S{i}"));
        cf.storage(&path, None);
    }
    cf.stream(&format!("{path}/\u{1}Ole10Native"), ole2::OBJECT_MARKER.as_bytes().to_vec());
    let bytes = cf.build();
    let o = process("deep.jtd", &bytes);
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?} {:?}", o.reason, o.detail);
    assert!(o.actions.iter().any(|a| a.action == ActionKind::RemovedOleObject));
    let out = o.output.expect("output");
    assert!(!find(&out, ole2::OBJECT_MARKER.as_bytes()));
}
