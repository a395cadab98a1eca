//! `META-INF/manifest.xml`: the list of an OpenDocument package's entries and their media types
//! (ODF 1.3 part 2, section 4).
//!
//! Parsing refuses a manifest that carries encryption data of any kind (per-entry
//! `manifest:encryption-data`, or the package-wide OpenPGP `manifest:keyinfo`): the entries it
//! describes cannot be read, so the package is blocked as encrypted. Rewriting leaves out the
//! `file-entry` elements of entries the rebuild removed and changes nothing else.
//!
//! OpenOffice.org 2 and 3 wrote a document type declaration naming `Manifest.dtd` into every
//! manifest. One that only names an external DTD declares no entity and is left out of the
//! rewritten manifest; one with an internal subset (`[...]`, where entities are declared) is
//! refused like in every other part.

use crate::formats::xml::{self, local};
use crate::formats::FormatError;
use crate::model::Reason;
use quick_xml::events::Event;
use quick_xml::Writer;

pub const NAME: &str = "META-INF/manifest.xml";

/// Elements that only appear in the manifest of an encrypted package.
const ENCRYPTION_ELEMENTS: &[&[u8]] =
    &[b"encryption-data", b"keyinfo", b"encrypted-key", b"key-derivation", b"start-key-generation", b"algorithm"];

/// One `manifest:file-entry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The entry's path in the package (`content.xml`, `Object 1/`, `/` for the package).
    pub full_path: String,
    pub media_type: String,
}

#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub entries: Vec<FileEntry>,
    /// The manifest had an external document type declaration (dropped when rewritten).
    pub doctype: bool,
}

/// Accepts a document type declaration only when it has no internal subset.
fn check_doctype(text: &[u8]) -> Result<(), FormatError> {
    if text.contains(&b'[') {
        return Err(xml::doctype_error(NAME));
    }
    Ok(())
}

impl Manifest {
    pub fn parse(data: &[u8], max_depth: u32) -> Result<Self, FormatError> {
        let mut m = Manifest::default();
        let mut root_seen = false;
        let mut reader = xml::reader(data);
        let mut depth = 0usize;
        loop {
            let ev = reader.read_event().map_err(|e| xml::parse_error(NAME, e))?;
            let e = match &ev {
                Event::Eof => break,
                Event::DocType(t) => {
                    check_doctype(t)?;
                    m.doctype = true;
                    continue;
                }
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    continue;
                }
                Event::Start(e) => {
                    depth += 1;
                    if depth > max_depth as usize {
                        return Err(xml::depth_error(NAME, max_depth));
                    }
                    e
                }
                Event::Empty(e) => e,
                _ => continue,
            };
            let name = local(e.name().as_ref()).to_vec();
            if !root_seen {
                root_seen = true;
                if name != b"manifest" {
                    return Err(FormatError::malformed(format!("{NAME}: the root element is not manifest")));
                }
            }
            if ENCRYPTION_ELEMENTS.contains(&name.as_slice()) {
                return Err(FormatError::new(Reason::Encrypted, "the manifest describes encrypted entries"));
            }
            if name == b"file-entry" {
                let full_path = xml::attr(e, b"full-path").unwrap_or_default();
                let media_type = xml::attr(e, b"media-type").unwrap_or_default();
                m.entries.push(FileEntry { full_path, media_type });
            }
        }
        if !root_seen {
            return Err(FormatError::malformed(format!("{NAME}: empty")));
        }
        Ok(m)
    }

    /// The media type the manifest gives the package itself (`full-path="/"`).
    pub fn root_media_type(&self) -> Option<&str> {
        self.entries.iter().find(|e| e.full_path == "/").map(|e| e.media_type.as_str())
    }

    /// Whether the manifest lists this entry.
    pub fn lists(&self, full_path: &str) -> bool {
        self.entries.iter().any(|e| e.full_path == full_path)
    }
}

/// Rewrites the manifest without the `file-entry` elements whose path `keep` refuses.
pub fn rewrite(data: &[u8], keep: impl Fn(&str) -> bool) -> Result<Vec<u8>, FormatError> {
    let mut reader = xml::reader(data);
    let mut w = Writer::new(Vec::with_capacity(data.len()));
    let mut skipping = 0usize;
    loop {
        let ev = reader.read_event().map_err(|e| xml::parse_error(NAME, e))?;
        match &ev {
            Event::Eof => break,
            Event::DocType(t) => {
                check_doctype(t)?;
                continue;
            }
            _ if skipping > 0 => {
                match &ev {
                    Event::Start(_) => skipping += 1,
                    Event::End(_) => skipping -= 1,
                    _ => {}
                }
                continue;
            }
            Event::Start(e) | Event::Empty(e) if local(e.name().as_ref()) == b"file-entry" => {
                let path = xml::attr(e, b"full-path").unwrap_or_default();
                if !keep(&path) {
                    if matches!(ev, Event::Start(_)) {
                        skipping = 1;
                    }
                    continue;
                }
            }
            _ => {}
        }
        w.write_event(ev).map_err(|e| FormatError::new(Reason::InternalError, format!("{NAME}: {e}")))?;
    }
    Ok(w.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="Basic/Standard/Module1.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;

    #[test]
    fn entries_are_listed_and_removed_ones_dropped() {
        let m = Manifest::parse(M.as_bytes(), 16).unwrap();
        assert_eq!(m.root_media_type(), Some("application/vnd.oasis.opendocument.text"));
        assert!(m.lists("content.xml") && m.lists("Basic/Standard/Module1.xml"));
        let out = String::from_utf8(rewrite(M.as_bytes(), |p| !p.starts_with("Basic/")).unwrap()).unwrap();
        assert!(!out.contains("Basic") && out.contains("content.xml"), "{out}");
    }

    #[test]
    fn encryption_data_means_encrypted() {
        let enc = M.replace(
            r#"manifest:media-type="text/xml"/>"#,
            r#"manifest:media-type="text/xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry>"#,
        );
        assert_eq!(Manifest::parse(enc.as_bytes(), 16).unwrap_err().reason, Reason::Encrypted);
    }

    #[test]
    fn an_external_doctype_is_dropped_and_an_internal_subset_refused() {
        let old = M.replace(
            "?>\n",
            "?>\n<!DOCTYPE manifest:manifest PUBLIC \"-//OpenOffice.org//DTD Manifest 1.0//EN\" \"Manifest.dtd\">\n",
        );
        let m = Manifest::parse(old.as_bytes(), 16).unwrap();
        assert!(m.doctype && m.lists("content.xml"));
        let out = String::from_utf8(rewrite(old.as_bytes(), |_| true).unwrap()).unwrap();
        assert!(!out.contains("DOCTYPE") && out.contains("content.xml"), "{out}");
        let bomb = M.replace("?>\n", "?>\n<!DOCTYPE m [<!ENTITY a \"aaaa\">]>\n");
        assert_eq!(Manifest::parse(bomb.as_bytes(), 16).unwrap_err().reason, Reason::XmlDoctype);
    }
}
