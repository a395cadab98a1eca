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
