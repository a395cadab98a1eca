//! Binary workbooks (xlsb) linked to other workbooks: the rebuilt package is read back record by
//! record, with a BIFF12 reader of its own, to check that nothing of the link is left and that
//! the formulas reading it became their cached values while the others stayed.

use crate::common::{blocked_reason, process};
use crate::structure::Package;
use mugai::model::{Reason, Verdict};
use mugai::samples::excel::binary;

/// `(type, body)` of every record; `None` when the stream does not split into whole records.
fn records(mut b: &[u8]) -> Option<Vec<(u32, Vec<u8>)>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let mut ty = u32::from(b[0] & 0x7F);
        let mut i = 1;
        if b[0] & 0x80 != 0 {
            ty |= u32::from(*b.get(1)?) << 7;
            i = 2;
        }
        let mut size = 0usize;
        for k in 0..4 {
            let c = *b.get(i)?;
            i += 1;
            size |= usize::from(c & 0x7F) << (7 * k);
            if c & 0x80 == 0 {
                break;
            }
        }
        out.push((ty, b.get(i..i + size)?.to_vec()));
        b = &b[i + size..];
    }
    Some(out)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn linked_binary_workbook_keeps_cached_values_and_loses_the_link() {
    let o = process("linked.xlsb", &binary::external_workbook());
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?}", o.detail);
    let pkg = Package::read(o.output.as_deref().unwrap()).unwrap();
    let mut problems = Vec::new();
    for (name, data) in &pkg.parts {
        let lower = name.to_ascii_lowercase();
        if lower.contains("externallink") {
            problems.push(format!("{name}: link part left"));
        }
        let text = String::from_utf8_lossy(data).to_ascii_lowercase();
        if text.contains("externallink") || text.contains("budget.xlsb") || contains(data, &utf16("budget.xlsb")) {
            problems.push(format!("{name}: names the link"));
        }
    }
    assert!(problems.is_empty(), "{problems:?}");

    let wb = records(&pkg.parts["xl/workbook.bin"]).expect("workbook records");
    assert!(!wb.iter().any(|(t, _)| *t == 355), "BrtSupBookSrc left");
    let books: Vec<u32> = wb.iter().filter(|(t, _)| [355, 357, 358, 667].contains(t)).map(|(t, _)| *t).collect();
    assert_eq!(books, vec![357], "only the self reference is left");
    let (_, xti) = wb.iter().find(|(t, _)| *t == 362).expect("BrtExternSheet");
    assert_eq!(u32_at(xti, 0), 2, "entries keep their numbers");
    let entry = |k: usize| (u32_at(xti, 4 + 12 * k), u32_at(xti, 8 + 12 * k) as i32, u32_at(xti, 12 + 12 * k) as i32);
    assert_eq!(entry(0), (0, -2, -2), "the linked entry is a deleted sheet of this workbook");
    assert_eq!(entry(1), (0, 1, 1), "the internal entry follows its book");
    let (_, name) = wb.iter().find(|(t, _)| *t == 39).expect("BrtName kept");
    let at = 9 + 4 + 2 * u32_at(name, 9) as usize;
    assert_eq!(&name[at..at + 10], &[2, 0, 0, 0, 0x1C, 0x17, 0, 0, 0, 0], "name becomes #REF!");

    let sheet = records(&pkg.parts["xl/worksheets/sheet1.bin"]).expect("sheet records");
    let cells: Vec<(u32, u32, Vec<u8>)> =
        sheet.iter().filter(|(t, _)| (3..=11).contains(t)).map(|(t, b)| (*t, u32_at(b, 0), b.clone())).collect();
    let by_col = |c: u32| cells.iter().find(|x| x.1 == c).expect("cell kept");
    assert_eq!(by_col(1).0, 5);
    assert_eq!(f64::from_le_bytes(by_col(1).2[8..16].try_into().unwrap()), 42.0);
    assert_eq!(by_col(2).0, 6);
    assert!(contains(&by_col(2).2, &utf16("Q3 forecast")));
    assert_eq!((by_col(3).0, by_col(3).2[8]), (4, 1));
    assert_eq!(by_col(4).0, 5);
    assert_eq!(f64::from_le_bytes(by_col(4).2[8..16].try_into().unwrap()), 7.0);
    assert_eq!(by_col(5).0, 9, "the internal 3-D reference stays a formula");
    assert!(!sheet.iter().any(|(t, _)| *t == 427), "the shared formula reading the link goes");
    let second_row = sheet.iter().position(|(t, b)| *t == 0 && u32_at(b, 0) == 1).expect("row 2");
    let shared: Vec<(u32, f64)> = sheet[second_row..]
        .iter()
        .filter(|(t, _)| (3..=11).contains(t))
        .map(|(t, b)| (*t, f64::from_le_bytes(b[8..16].try_into().unwrap())))
        .collect();
    assert_eq!(shared, vec![(5, 10.0), (5, 11.0)], "every cell of the shared block keeps its value");
    assert!(!pkg.parts.keys().any(|k| k.to_ascii_lowercase().contains("calcchain")));

    let again = process("linked.xlsb", o.output.as_deref().unwrap());
    assert_ne!(again.verdict, Verdict::Blocked, "{:?}", again.detail);
    assert!(again.actions.is_empty(), "a second pass finds nothing: {:?}", again.actions);
}

#[test]
fn objects_linked_through_the_book_go() {
    let o = process("object.xlsb", &binary::external_object());
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?}", o.detail);
    let pkg = Package::read(o.output.as_deref().unwrap()).unwrap();
    let sheet = records(&pkg.parts["xl/worksheets/sheet1.bin"]).expect("sheet records");
    assert!(!sheet.iter().any(|(t, _)| (638..=640).contains(t)), "OLE object records left");
    assert_eq!(sheet.last().map(|r| r.0), Some(130), "the sheet still ends");
    assert!(!pkg.parts.keys().any(|k| k.to_ascii_lowercase().contains("externallink")));
}

#[test]
fn linked_binary_workbook_read_elsewhere_is_blocked() {
    let o = process("linked.xlsb", &binary::external_workbook_validation());
    assert_eq!(blocked_reason(&o), Some(Reason::Unsupported), "{:?}", o.detail);
}

#[test]
fn damaged_link_records_are_refused_not_passed() {
    let good = binary::external_workbook();
    let pkg = Package::read(&good).unwrap();
    let wb = &pkg.parts["xl/workbook.bin"];
    // Every truncation of the workbook part either blocks or still leaves no link behind.
    for cut in (1..wb.len()).step_by(7) {
        let mut parts = pkg.parts.clone();
        parts.insert("xl/workbook.bin".into(), wb[..cut].to_vec());
        let bytes = mugai::samples::package::zip_entries(&parts.into_iter().collect::<Vec<_>>());
        let o = process("cut.xlsb", &bytes);
        if let Some(out) = o.output.as_deref() {
            let out = Package::read(out).unwrap();
            assert!(!out.parts.keys().any(|k| k.to_ascii_lowercase().contains("externallink")), "cut {cut}");
        }
    }
}
