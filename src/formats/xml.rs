//! Small helpers shared by the streaming XML rewriters (quick-xml).
//!
//! Rewriters read events and write them straight back, changing only what they must, so that a
//! part keeps its exact bytes where nothing was removed. Document type declarations are refused
//! outright: no Office or OpenDocument part has one, and they are how entity-expansion bombs
//! arrive.

use crate::formats::FormatError;
use crate::model::Reason;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// The local part of a qualified name (`w:instrText` -> `instrText`).
pub fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The prefix of a qualified name (`w:instrText` -> `w`), empty when there is none.
pub fn prefix(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[..i],
        None => b"",
    }
}

/// The unescaped value of the first attribute with this local name.
pub fn attr(e: &BytesStart<'_>, local_name: &[u8]) -> Option<String> {
    for a in e.attributes().with_checks(false).flatten() {
        if local(a.key.as_ref()) == local_name {
            return Some(match a.unescape_value() {
                Ok(v) => v.into_owned(),
                Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
            });
        }
    }
    None
}

/// A reader set up the same way for every rewriter: text kept as it is, end names checked.
pub fn reader(data: &[u8]) -> Reader<&[u8]> {
    let mut r = Reader::from_reader(data);
    let c = r.config_mut();
    c.trim_text(false);
    c.check_end_names = true;
    c.expand_empty_elements = false;
    r
}

/// Reads a whole part and calls `f` for every event, refusing document type declarations and
/// nesting deeper than `max_depth`. The shared loop of every read-only pass over a part.
pub fn walk(
    data: &[u8],
    part: &str,
    max_depth: u32,
    mut f: impl FnMut(&Event<'_>) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut r = reader(data);
    let mut depth = 0usize;
    loop {
        let ev = r.read_event().map_err(|e| parse_error(part, e))?;
        match &ev {
            Event::Eof => return Ok(()),
            Event::DocType(_) => return Err(doctype_error(part)),
            Event::Start(_) => {
                depth += 1;
                if depth > max_depth as usize {
                    return Err(depth_error(part, max_depth));
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        f(&ev)?;
    }
}

/// Whether `name` is a plausible XML name: UTF-8, not empty, none of the characters that end or
/// quote a tag. quick-xml takes whatever stands between `<` and a space as a name; an office
/// suite's (or a browser's) parser refuses such a tag, so a cleaner that let one through would judge markup the
/// application reads another way.
pub fn valid_name(name: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(name) else { return false };
    let mut chars = s.chars();
    match chars.next() {
        None => return false,
        Some(c) if c.is_ascii_digit() || c == '-' || c == '.' => return false,
        _ => {}
    }
    !s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>&\"'=/!?;,()[]{}\\`".contains(c))
}

/// Checks a start tag: its name and every attribute (syntax, duplicates, names).
pub fn check_tag(part: &str, e: &BytesStart<'_>) -> Result<(), FormatError> {
    if !valid_name(e.name().as_ref()) {
        return Err(parse_error(part, format!("bad element name {:?}", String::from_utf8_lossy(e.name().as_ref()))));
    }
    for a in e.attributes() {
        let a = a.map_err(|err| parse_error(part, err))?;
        if !valid_name(a.key.as_ref()) {
            return Err(parse_error(part, format!("bad attribute name {:?}", String::from_utf8_lossy(a.key.as_ref()))));
        }
        if a.value.contains(&b'<') {
            return Err(parse_error(part, "`<` in an attribute value"));
        }
    }
    Ok(())
}

pub fn doctype_error(part: &str) -> FormatError {
    FormatError::new(Reason::XmlDoctype, format!("{part}: document type declaration"))
}

pub fn parse_error(part: &str, e: impl std::fmt::Display) -> FormatError {
    FormatError::malformed(format!("{part}: XML: {e}"))
}

pub fn depth_error(part: &str, max: u32) -> FormatError {
    FormatError::new(Reason::LimitXmlDepth, format!("{part}: elements nested deeper than {max}"))
}

/// A namespace-aware reader for rewriting a part event by event: text kept exactly as written
/// (no trimming), end tags checked against their start, empty elements kept empty.
pub fn rewrite_reader(data: &[u8]) -> quick_xml::reader::NsReader<&[u8]> {
    let mut reader = quick_xml::reader::NsReader::from_reader(data);
    let c = reader.config_mut();
    c.trim_text(false);
    c.check_end_names = true;
    c.expand_empty_elements = false;
    reader
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_last_colon() {
        assert_eq!(local(b"w:instrText"), b"instrText");
        assert_eq!(local(b"sheet"), b"sheet");
        assert_eq!(prefix(b"r:id"), b"r");
        assert_eq!(prefix(b"id"), b"");
    }
}
