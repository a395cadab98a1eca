//! OOXML behaviours beyond the sample table: real-world package shapes that must not be blocked.

use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Verdict};
use mugai::samples;
use std::sync::Arc;

/// SharePoint writes custom XML items in UTF-16: such a document is rebuilt, not blocked.
#[test]
fn utf16_custom_xml_is_accepted() {
    use mugai::samples::package::ct;
    let w = samples::word::base(ct::DOCX_MAIN, "Custom XML");
    let mut pkg = w.into_package();
    let mut item = vec![0xFF, 0xFE];
    for u in "<?xml version=\"1.0\" encoding=\"utf-16\"?><p:properties xmlns:p=\"urn:x\"><p:v>値</p:v></p:properties>"
        .encode_utf16()
    {
        item.extend_from_slice(&u.to_le_bytes());
    }
    pkg.add_part("customXml/item1.xml", Some("application/xml"), item.clone());
    pkg.add_rel(
        "word/document.xml",
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml",
        "../customXml/item1.xml",
    );
    let o = Engine::new(Arc::new(Config::default())).unwrap().process(Item::new(
        pkg.write(),
        Some("c.docx".into()),
        "c.docx",
    ));
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?} {:?}", o.reason, o.detail);
    assert!(o.actions.is_empty(), "{:?}", o.actions);
    let out = o.output.unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(out)).unwrap();
    let mut kept = Vec::new();
    std::io::Read::read_to_end(&mut z.by_name("customXml/item1.xml").unwrap(), &mut kept).unwrap();
    assert_eq!(kept, item, "kept byte for byte");
}

/// Found by `properties::property_ooxml_mutations`: one flipped byte turned `Target` of the
/// main document relationship into `Ta\xB8get`. The relationship then reached nothing, the
/// document part was dropped as unreferenced and a package without its document came out as
/// disarmed (and was refused on a second pass). A relationship without `Id`, `Type` or
/// `Target`, and a main relationship that points at no part, make the package malformed.
/// `package` with one text entry's first `from` replaced by `to` (the entry re-zipped with a
/// valid CRC, so that the package reader, not the zip check, meets the damage).
fn with_entry_edited(package: &[u8], entry: &str, from: &str, to: &str) -> Vec<u8> {
    with_entry_rewritten(package, entry, |text| {
        assert!(text.contains(from), "{text}");
        text.replacen(from, to, 1)
    })
}

/// `package` with one text entry rewritten by `edit`, re-zipped with a valid CRC.
fn with_entry_rewritten(package: &[u8], entry: &str, mut edit: impl FnMut(String) -> String) -> Vec<u8> {
    use std::io::{Cursor, Read, Write};
    let mut zip = zip::ZipArchive::new(Cursor::new(package)).unwrap();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == entry {
            data = edit(String::from_utf8(data).unwrap()).into_bytes();
        }
        w.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn regression_a_main_relationship_that_reaches_no_part_is_malformed() {
    use mugai::model::Reason;
    use mugai::samples::package::ct;
    let engine = Engine::new(Arc::new(Config::default())).unwrap();
    let doc = samples::word::base(ct::DOCX_MAIN, "Main part").into_package().write();
    let main = "Target=\"word/document.xml\"";
    for broken in ["Ta\u{B8}get=\"word/document.xml\"", "Target=\"word/nothing.xml\""] {
        let broken_doc = with_entry_edited(&doc, "_rels/.rels", main, broken);
        let o = engine.process(Item::new(broken_doc, Some("m.docx".into()), "m.docx"));
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Malformed)), "{broken}: {:?}", o.detail);
    }
}

/// Found by `properties::property_ooxml_mutations`: a damaged `[Content_Types].xml` left the
/// workbook part without a content type; it was removed as such, the worksheets with it, and
/// a package without its document came out as disarmed. Whatever is removed, the main part must
/// remain, or the package is malformed.
#[test]
fn regression_a_main_part_without_a_content_type_is_malformed() {
    use mugai::model::Reason;
    use mugai::samples::package::ct;
    let engine = Engine::new(Arc::new(Config::default())).unwrap();
    let book = samples::excel::benign();
    // As the damage had it: the override names another part, and no default covers xml.
    let broken = with_entry_rewritten(&book, "[Content_Types].xml", |types| {
        let main = format!("<Override PartName=\"/xl/workbook.xml\" ContentType=\"{}\"/>", ct::XLSX_MAIN);
        let xml = "<Default Extension=\"xml\"";
        assert!(types.contains(&main) && types.contains(xml), "{types}");
        let other = main.replace("/xl/workbook.xml", "/xl/workbook.bak");
        types.replace(&main, &other).replace(xml, "<Default Extension=\"bak\"")
    });
    let o = engine.process(Item::new(broken, Some("b.xlsx".into()), "b.xlsx"));
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Malformed)), "{:?}", o.detail);
    assert!(o.detail.as_deref().unwrap_or("").contains("main document part"), "{:?}", o.detail);
}

/// Found by `properties::property_ooxml_mutations` on a real file: one flipped byte turned
/// `Extension` of a `Default` into `Ext\x8Dnsion`. The entry was reported as removed on every
/// pass but stayed in the file (it could not be matched by its extension again). A `Default`
/// or `Override` without its attributes makes the package malformed.
#[test]
fn regression_a_content_type_entry_without_its_name_is_malformed() {
    use mugai::model::Reason;
    let engine = Engine::new(Arc::new(Config::default())).unwrap();
    let doc = samples::word::benign();
    for (from, to) in [("<Default Extension=", "<Default Ext\u{8D}nsion="), ("<Override PartName=", "<Override Part=")]
    {
        let broken = with_entry_edited(&doc, "[Content_Types].xml", from, to);
        let o = engine.process(Item::new(broken, Some("d.docx".into()), "d.docx"));
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Malformed)), "{to}: {:?}", o.detail);
    }
}
