//! `META-INF/manifest.xml`: the list of an OpenDocument package's entries and their media types
//! (ODF 1.3 part 2, section 4).
//!
//! Parsing refuses a manifest that carries encryption data of any kind (per-entry
//! `manifest:encryption-data`, or the package-wide OpenPGP `manifest:keyinfo`): the entries it
//! describes cannot be read, so the package is blocked as encrypted. The rebuilt package gets a
//! manifest written anew from what was parsed: the `file-entry` elements of the entries that
//! stay, with their path, media type and version, and nothing else (no foreign elements, no
//! comments, no declarations).
//!
//! OpenOffice.org 2 and 3 wrote a document type declaration naming `Manifest.dtd` into every
//! manifest. One that only names an external DTD declares no entity and is left out of the
//! rewritten manifest; one with an internal subset (`[...]`, where entities are declared) is
//! refused like in every other part.

use crate::formats::xml::{self, local};
use crate::formats::FormatError;
use crate::model::Reason;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
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
    /// The ODF version of a (sub-)document entry.
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub entries: Vec<FileEntry>,
    /// The `manifest:version` of the root element.
    pub version: Option<String>,
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
            // Attributes must parse (no duplicates, no broken quoting): a manifest read one way
            // here and another way by an office suite would make the rebuild meaningless.
            for a in e.attributes() {
                a.map_err(|err| xml::parse_error(NAME, err))?;
            }
            if !root_seen {
                root_seen = true;
                if name != b"manifest" {
                    return Err(FormatError::malformed(format!("{NAME}: the root element is not manifest")));
                }
                m.version = xml::attr(e, b"version");
            }
            if ENCRYPTION_ELEMENTS.contains(&name.as_slice()) {
                return Err(FormatError::new(Reason::Encrypted, "the manifest describes encrypted entries"));
            }
            if name == b"file-entry" {
                let full_path = xml::attr(e, b"full-path").unwrap_or_default();
                let media_type = xml::attr(e, b"media-type").unwrap_or_default();
                let version = xml::attr(e, b"version");
                m.entries.push(FileEntry { full_path, media_type, version });
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

/// Writes a new manifest with the entries `keep` accepts, in their original order.
pub fn write(m: &Manifest, keep: impl Fn(&str) -> bool) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    let mut root = BytesStart::new("manifest:manifest");
    root.push_attribute(("xmlns:manifest", "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"));
    if let Some(v) = &m.version {
        root.push_attribute(("manifest:version", v.as_str()));
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // Writing into a Vec cannot fail.
    let _ = w.write_event(Event::Start(root));
    for e in m.entries.iter().filter(|e| keep(&e.full_path)) {
        let mut fe = BytesStart::new("manifest:file-entry");
        fe.push_attribute(("manifest:full-path", e.full_path.as_str()));
        if let Some(v) = &e.version {
            fe.push_attribute(("manifest:version", v.as_str()));
        }
        fe.push_attribute(("manifest:media-type", e.media_type.as_str()));
        let _ = w.write_event(Event::Text(BytesText::new("\n ")));
        let _ = w.write_event(Event::Empty(fe));
    }
    let _ = w.write_event(Event::Text(BytesText::new("\n")));
    let _ = w.write_event(Event::End(BytesEnd::new("manifest:manifest")));
    out.extend_from_slice(&w.into_inner());
    out.push(b'\n');
    out
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
        let out = String::from_utf8(write(&m, |p| !p.starts_with("Basic/"))).unwrap();
        assert!(!out.contains("Basic") && out.contains(r#"manifest:full-path="content.xml""#), "{out}");
        let again = Manifest::parse(out.as_bytes(), 16).unwrap();
        assert_eq!(again.entries.len(), 2);
        assert_eq!(again.version.as_deref(), Some("1.3"));
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
        let out = String::from_utf8(write(&m, |_| true)).unwrap();
        assert!(!out.contains("DOCTYPE") && out.contains("content.xml"), "{out}");
        let bomb = M.replace("?>\n", "?>\n<!DOCTYPE m [<!ENTITY a \"aaaa\">]>\n");
        assert_eq!(Manifest::parse(bomb.as_bytes(), 16).unwrap_err().reason, Reason::XmlDoctype);
        let broken = M.replace(
            r#"manifest:full-path="content.xml""#,
            r#"manifest:full-path="content.xml" manifest:full-path="x""#,
        );
        assert_eq!(Manifest::parse(broken.as_bytes(), 16).unwrap_err().reason, Reason::Malformed);
    }
}
