//! Package structure: content types, relationships and part names (ECMA-376 part 2, OPC).

use crate::formats::xml::{self, local};
use crate::formats::FormatError;
use quick_xml::events::Event;
use quick_xml::Writer;
use std::collections::{BTreeSet, HashMap, HashSet};

/// One relationship of a source part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rel {
    pub id: String,
    /// The full relationship type URI.
    pub ty: String,
    /// The last segment of the type URI, lower-cased (`officedocument`, `vbaproject`, ...).
    pub short: String,
    pub target: String,
    pub external: bool,
    /// For internal relationships: the target part name, lower-cased, without leading slash.
    pub resolved: Option<String>,
}

/// The part whose relationships a `.rels` part holds: `word/_rels/document.xml.rels` ->
/// `word/document.xml`; `_rels/.rels` -> `""` (the package itself). `None` if not a rels name.
pub fn rels_source(rels_name: &str) -> Option<String> {
    let (dir, file) = match rels_name.rsplit_once('/') {
        Some((d, f)) => (d, f),
        None => ("", rels_name),
    };
    let file = file.strip_suffix(".rels")?;
    let dir = if dir == "_rels" { "" } else { dir.strip_suffix("/_rels")? };
    Some(if dir.is_empty() { file.to_string() } else { format!("{dir}/{file}") })
}

/// The rels part name for a source part (`""` = the package).
pub fn rels_name_for(source: &str) -> String {
    match source.rsplit_once('/') {
        Some((d, f)) => format!("{d}/_rels/{f}.rels"),
        None => format!("_rels/{source}.rels"),
    }
}

/// Resolves a relationship target against its source part, as a lower-case part name.
pub fn resolve_target(source: &str, target: &str) -> Option<String> {
    let target = target.split('#').next().unwrap_or("");
    if target.is_empty() {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(target).decode_utf8_lossy().replace('\\', "/");
    let mut segs: Vec<&str> = Vec::new();
    if !decoded.starts_with('/') {
        if let Some((dir, _)) = source.rsplit_once('/') {
            segs.extend(dir.split('/'));
        }
    }
    for s in decoded.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                segs.pop()?;
            }
            s => segs.push(s),
        }
    }
    if segs.is_empty() {
        return None;
    }
    Some(segs.join("/").to_lowercase())
}

pub fn parse_rels(data: &[u8], rels_name: &str, source: &str, max_depth: u32) -> Result<Vec<Rel>, FormatError> {
    let mut out = Vec::new();
    xml::walk(data, rels_name, max_depth, |ev| {
        let (Event::Start(e) | Event::Empty(e)) = ev else { return Ok(()) };
        if local(e.name().as_ref()) != b"Relationship" {
            return Ok(());
        }
        // All three are required (ECMA-376 part 2): a relationship without a target reaches
        // nothing, and the part it was meant for would be dropped as unreferenced.
        let required = |name: &[u8]| {
            xml::attr(e, name).ok_or_else(|| {
                FormatError::malformed(format!("{rels_name}: a relationship without {}", String::from_utf8_lossy(name)))
            })
        };
        let (id, ty, target) = (required(b"Id")?, required(b"Type")?, required(b"Target")?);
        let external = xml::attr(e, b"TargetMode").map(|m| m.eq_ignore_ascii_case("External")).unwrap_or(false);
        let short = ty.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        let resolved = if external { None } else { resolve_target(source, &target) };
        out.push(Rel { id, ty, short, target, external, resolved });
        Ok(())
    })?;
    Ok(out)
}

/// Rewrites a rels part without the relationships whose ids are in `removed`.
pub fn rewrite_rels(data: &[u8], rels_name: &str, removed: &HashSet<String>) -> Result<Vec<u8>, FormatError> {
    let mut reader = xml::reader(data);
    let mut w = Writer::new(Vec::with_capacity(data.len()));
    let mut skipping = 0usize;
    loop {
        let ev = reader.read_event().map_err(|e| xml::parse_error(rels_name, e))?;
        match &ev {
            Event::Eof => break,
            Event::DocType(_) => return Err(xml::doctype_error(rels_name)),
            Event::Start(e) if skipping > 0 || is_removed_rel(e, removed) => {
                let _ = e;
                skipping += 1;
                continue;
            }
            Event::End(_) if skipping > 0 => {
                skipping -= 1;
                continue;
            }
            Event::Empty(e) if skipping > 0 || is_removed_rel(e, removed) => continue,
            _ if skipping > 0 => continue,
            _ => {}
        }
        w.write_event(ev).map_err(|e| FormatError::malformed(format!("{rels_name}: {e}")))?;
    }
    Ok(w.into_inner())
}

fn is_removed_rel(e: &quick_xml::events::BytesStart<'_>, removed: &HashSet<String>) -> bool {
    local(e.name().as_ref()) == b"Relationship" && xml::attr(e, b"Id").map(|id| removed.contains(&id)).unwrap_or(false)
}

/// `[Content_Types].xml`: defaults by extension and overrides by part name (both lower-cased).
#[derive(Debug, Default, Clone)]
pub struct ContentTypes {
    pub defaults: HashMap<String, String>,
    pub overrides: HashMap<String, String>,
}

impl ContentTypes {
    pub fn parse(data: &[u8], max_depth: u32) -> Result<Self, FormatError> {
        let mut ct = ContentTypes::default();
        const NAME: &str = "[Content_Types].xml";
        xml::walk(data, NAME, max_depth, |ev| {
            let (Event::Start(e) | Event::Empty(e)) = ev else { return Ok(()) };
            let name = e.name();
            let element = local(name.as_ref());
            if element != b"Default" && element != b"Override" {
                return Ok(());
            }
            // Both attributes are required (ECMA-376 part 2): an entry without its name could
            // not be removed again by name, and would be reported as removed on every pass.
            let required = |name: &[u8]| {
                xml::attr(e, name).ok_or_else(|| {
                    FormatError::malformed(format!(
                        "{NAME}: a {} without {}",
                        String::from_utf8_lossy(element),
                        String::from_utf8_lossy(name)
                    ))
                })
            };
            let value = required(b"ContentType")?;
            if element == b"Default" {
                ct.defaults.insert(required(b"Extension")?.to_lowercase(), value);
            } else {
                let part = required(b"PartName")?;
                ct.overrides.insert(part.trim_start_matches('/').to_lowercase(), value);
            }
            Ok(())
        })?;
        Ok(ct)
    }

    /// The content type of a part (lower-case name), override first, then default by extension.
    pub fn of(&self, part: &str) -> Option<&str> {
        if let Some(c) = self.overrides.get(part) {
            return Some(c);
        }
        let base = part.rsplit('/').next().unwrap_or(part);
        let ext = base.rsplit_once('.').map(|(_, e)| e)?;
        self.defaults.get(ext).map(|s| s.as_str())
    }

    /// Rewrites `[Content_Types].xml`: overrides of removed parts and the listed defaults go,
    /// and content types in `replace` are swapped for their new value.
    pub fn rewrite(
        data: &[u8],
        removed_parts: &BTreeSet<String>,
        removed_defaults: &HashSet<String>,
        replace: &HashMap<String, String>,
    ) -> Result<Vec<u8>, FormatError> {
        const NAME: &str = "[Content_Types].xml";
        let mut reader = xml::reader(data);
        let mut w = Writer::new(Vec::with_capacity(data.len()));
        loop {
            let ev = reader.read_event().map_err(|e| xml::parse_error(NAME, e))?;
            match ev {
                Event::Eof => break,
                Event::DocType(_) => return Err(xml::doctype_error(NAME)),
                Event::Empty(ref e) | Event::Start(ref e) => {
                    let n = local(e.name().as_ref()).to_vec();
                    let ct = xml::attr(e, b"ContentType").unwrap_or_default();
                    let drop = match n.as_slice() {
                        b"Override" => xml::attr(e, b"PartName")
                            .map(|p| removed_parts.contains(&p.trim_start_matches('/').to_lowercase()))
                            .unwrap_or(false),
                        b"Default" => xml::attr(e, b"Extension")
                            .map(|x| removed_defaults.contains(&x.to_lowercase()))
                            .unwrap_or(false),
                        _ => false,
                    };
                    if drop {
                        if matches!(ev, Event::Start(_)) {
                            reader.read_to_end(e.name()).map_err(|err| xml::parse_error(NAME, err))?;
                        }
                        continue;
                    }
                    if let Some(new) = replace.get(&ct) {
                        let mut out =
                            quick_xml::events::BytesStart::new(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                        for a in e.attributes().with_checks(false).flatten() {
                            if local(a.key.as_ref()) == b"ContentType" {
                                out.push_attribute((a.key.as_ref(), new.as_bytes()));
                            } else {
                                out.push_attribute(a);
                            }
                        }
                        let ev2 = if matches!(ev, Event::Start(_)) { Event::Start(out) } else { Event::Empty(out) };
                        w.write_event(ev2).map_err(|e| FormatError::malformed(format!("{NAME}: {e}")))?;
                        continue;
                    }
                    w.write_event(ev.clone()).map_err(|e| FormatError::malformed(format!("{NAME}: {e}")))?;
                }
                other => w.write_event(other).map_err(|e| FormatError::malformed(format!("{NAME}: {e}")))?,
            }
        }
        Ok(w.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rels_names_map_to_sources() {
        assert_eq!(rels_source("_rels/.rels").as_deref(), Some(""));
        assert_eq!(rels_source("word/_rels/document.xml.rels").as_deref(), Some("word/document.xml"));
        assert_eq!(rels_source("word/document.xml"), None);
        assert_eq!(rels_name_for("word/document.xml"), "word/_rels/document.xml.rels");
    }

    #[test]
    fn targets_resolve_relative_to_the_source() {
        assert_eq!(resolve_target("word/document.xml", "media/image1.png").as_deref(), Some("word/media/image1.png"));
        assert_eq!(
            resolve_target("xl/worksheets/sheet1.xml", "../drawings/d1.xml").as_deref(),
            Some("xl/drawings/d1.xml")
        );
        assert_eq!(resolve_target("", "/word/Document.xml").as_deref(), Some("word/document.xml"));
        assert_eq!(resolve_target("word/document.xml", "my%20file.bin").as_deref(), Some("word/my file.bin"));
        assert_eq!(resolve_target("a.xml", "../../x"), None);
    }

    #[test]
    fn content_types_rewrite_drops_and_replaces() {
        let ct = br#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/><Override PartName="/word/vbaData.xml" ContentType="application/vnd.ms-word.vbaData+xml"/></Types>"#;
        let parsed = ContentTypes::parse(ct, 16).unwrap();
        assert_eq!(parsed.of("word/vbaproject.bin"), Some("application/vnd.ms-office.vbaProject"));
        let removed: BTreeSet<String> = ["word/vbadata.xml".to_string()].into();
        let defaults: HashSet<String> = ["bin".to_string()].into();
        let replace: HashMap<String, String> = [(
            "application/vnd.ms-word.document.macroEnabled.main+xml".to_string(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml".to_string(),
        )]
        .into();
        let out = String::from_utf8(ContentTypes::rewrite(ct, &removed, &defaults, &replace).unwrap()).unwrap();
        assert!(!out.contains("vbaData") && !out.contains("vbaProject") && !out.contains("macroEnabled"), "{out}");
        assert!(out.contains("wordprocessingml.document.main+xml") && out.contains(r#"Extension="xml""#));
    }
}
