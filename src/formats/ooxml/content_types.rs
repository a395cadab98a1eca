//! Main-part content types of every OOXML kind, and the macro-free twin of each macro-enabled one.

use crate::model::Kind;
use quick_xml::events::Event;
use quick_xml::Reader;

/// The content type of each kind's main part.
pub const MAIN_CONTENT_TYPES: &[(Kind, &str)] = &[
    (Kind::Docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    (Kind::Docm, "application/vnd.ms-word.document.macroEnabled.main+xml"),
    (Kind::Dotx, "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"),
    (Kind::Dotm, "application/vnd.ms-word.template.macroEnabledTemplate.main+xml"),
    (Kind::Xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    (Kind::Xlsm, "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
    (Kind::Xltx, "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"),
    (Kind::Xltm, "application/vnd.ms-excel.template.macroEnabled.main+xml"),
    (Kind::Xlsb, "application/vnd.ms-excel.sheet.binary.macroEnabled.main"),
    (Kind::Xlam, "application/vnd.ms-excel.addin.macroEnabled.main+xml"),
    (Kind::Pptx, "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
    (Kind::Pptm, "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"),
    (Kind::Potx, "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"),
    (Kind::Potm, "application/vnd.ms-powerpoint.template.macroEnabled.main+xml"),
    (Kind::Ppsx, "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml"),
    (Kind::Ppsm, "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml"),
    (Kind::Ppam, "application/vnd.ms-powerpoint.addin.macroEnabled.main+xml"),
    (Kind::Vsdx, "application/vnd.ms-visio.drawing.main+xml"),
    (Kind::Vsdm, "application/vnd.ms-visio.drawing.macroEnabled.main+xml"),
    (Kind::Vstx, "application/vnd.ms-visio.template.main+xml"),
    (Kind::Vstm, "application/vnd.ms-visio.template.macroEnabled.main+xml"),
    (Kind::Vssx, "application/vnd.ms-visio.stencil.main+xml"),
    (Kind::Vssm, "application/vnd.ms-visio.stencil.macroEnabled.main+xml"),
];

pub fn kind_of_main_content_type(ct: &str) -> Option<Kind> {
    MAIN_CONTENT_TYPES.iter().find(|(_, c)| c.eq_ignore_ascii_case(ct.trim())).map(|(k, _)| *k)
}

pub fn main_content_type(kind: Kind) -> Option<&'static str> {
    MAIN_CONTENT_TYPES.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c)
}

/// The MIME type of a whole package of this kind (as used for embedded packages and mail).
pub fn package_mime(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Kind::Dotx => "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
        Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Kind::Xltx => "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
        Kind::Xlsb => "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
        Kind::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Kind::Potx => "application/vnd.openxmlformats-officedocument.presentationml.template",
        Kind::Ppsx => "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
        Kind::Vsdx => "application/vnd.ms-visio.drawing",
        _ => return None,
    })
}

/// Finds the package kind from `[Content_Types].xml` and, when present, `_rels/.rels` (whose
/// officeDocument relationship names the main part). Without a recognised main part the package
/// is [`Kind::OoxmlOther`].
pub fn package_kind(content_types: &[u8], root_rels: Option<&[u8]>) -> Kind {
    let main_part = root_rels.and_then(main_part_name);
    let mut by_part: Option<Kind> = None;
    let mut any: Option<Kind> = None;
    let main_ext = main_part.as_deref().and_then(|m| m.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
    let mut by_default: Option<Kind> = None;
    let mut reader = Reader::from_reader(content_types);
    let mut buf = Vec::new();
    // Bounded: the caller limits the size of the content types part.
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                if e.local_name().as_ref() == b"Default" {
                    let mut ext = None;
                    let mut ct = None;
                    for a in e.attributes().flatten() {
                        let v = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                        match a.key.local_name().as_ref() {
                            b"Extension" => ext = Some(v.to_ascii_lowercase()),
                            b"ContentType" => ct = Some(v),
                            _ => {}
                        }
                    }
                    if let (Some(ext), Some(ct), Some(main_ext)) = (ext, ct, &main_ext) {
                        if ext == *main_ext {
                            by_default = kind_of_main_content_type(&ct);
                        }
                    }
                } else if e.local_name().as_ref() == b"Override" {
                    let mut part = None;
                    let mut ct = None;
                    for a in e.attributes().flatten() {
                        let v = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                        match a.key.local_name().as_ref() {
                            b"PartName" => part = Some(v),
                            b"ContentType" => ct = Some(v),
                            _ => {}
                        }
                    }
                    if let (Some(part), Some(ct)) = (part, ct) {
                        if let Some(k) = kind_of_main_content_type(&ct) {
                            any.get_or_insert(k);
                            if let Some(m) = &main_part {
                                if part.trim_start_matches('/').eq_ignore_ascii_case(m) {
                                    by_part = Some(k);
                                }
                            }
                        }
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
    by_part.or(by_default).or(any).unwrap_or(Kind::OoxmlOther)
}

/// Relationship types from the package to its main part (Visio uses a type of its own).
pub const MAIN_DOCUMENT_RELS: &[&str] = &[
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
    "http://schemas.microsoft.com/visio/2010/relationships/document",
];

/// The part name (without leading slash) of the package's main part, from `_rels/.rels`.
pub fn main_part_name(root_rels: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(root_rels);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.local_name().as_ref() == b"Relationship" => {
                let mut ty = None;
                let mut target = None;
                let mut external = false;
                for a in e.attributes().flatten() {
                    let v = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                    match a.key.local_name().as_ref() {
                        b"Type" => ty = Some(v),
                        b"Target" => target = Some(v),
                        b"TargetMode" => external = v.eq_ignore_ascii_case("External"),
                        _ => {}
                    }
                }
                if let (Some(ty), Some(t)) = (ty, target) {
                    if !external && MAIN_DOCUMENT_RELS.contains(&ty.as_str()) {
                        return Some(t.trim_start_matches('/').to_string());
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_macro_kind_has_a_macro_free_twin_with_a_content_type() {
        for (k, _) in MAIN_CONTENT_TYPES {
            assert!(main_content_type(k.macro_free_twin()).is_some(), "{k}");
        }
    }

    #[test]
    fn main_part_from_rels_wins() {
        let ct = br#"<Types><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>"#;
        let rels = br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;
        assert_eq!(package_kind(ct, Some(rels)), Kind::Docm);
    }
}
