//! XML documents (hospital exchange formats such as HL7 CDA), and the streaming rewriter that
//! SVG shares.
//!
//! The document is decoded from the character set its declaration names (UTF-8 when none; a
//! document in another set is written back as UTF-8 with its declaration saying so), parsed
//! whole with quick-xml (nesting bounded, names and attribute syntax checked, one root element,
//! no text outside it, every namespace prefix declared) and written back event by event.
//!
//! What a generic XML document loses: `xml-stylesheet` processing instructions (a browser would
//! fetch and run the style sheet, XSLT included) and XInclude elements (they pull in other
//! files). What blocks it: a document type declaration (entity expansion, external entities),
//! and XHTML, SVG or XSLT elements inside it, which browsers render and run scripts from
//! whatever the document around them is. Everything else (namespaces, attributes, text,
//! comments, other processing instructions) is written back as it was.

use super::{charset_label_of_xml, Report};
use crate::formats::xml as fx;
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{ActionKind, Kind, Reason};
use quick_xml::events::{BytesDecl, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::Writer;

pub const XHTML_NS: &[u8] = b"http://www.w3.org/1999/xhtml";
pub const SVG_NS: &[u8] = b"http://www.w3.org/2000/svg";
pub const XSLT_NS: &[u8] = b"http://www.w3.org/1999/XSL/Transform";
pub const XINCLUDE_NS: &[u8] = b"http://www.w3.org/2001/XInclude";
pub const XINCLUDE_NS_OLD: &[u8] = b"http://www.w3.org/2003/XInclude";
pub const XLINK_NS: &[u8] = b"http://www.w3.org/1999/xlink";
pub const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";

/// One attribute of a start tag, with its namespace resolved and its value unescaped.
pub struct Attr {
    /// The name as written (`xlink:href`).
    pub qname: String,
    /// The namespace the prefix is bound to; `None` for an unprefixed attribute.
    pub ns: Option<Vec<u8>>,
    pub local: String,
    pub value: String,
}

/// What becomes of an element.
pub enum Decision {
    /// Written out with this start tag.
    Keep(BytesStart<'static>),
    /// Left out with everything inside it.
    Drop,
    /// A style sheet: its text is checked as CSS before the element is written (this start tag)
    /// or dropped.
    Sheet(BytesStart<'static>),
}

/// What differs between the vocabularies the rewriter serves.
pub trait Rules {
    /// Decides an element: `ns` is its resolved namespace (`None` when it has none).
    fn element(
        &mut self,
        ns: Option<&[u8]>,
        local: &str,
        start: &BytesStart<'_>,
        attrs: Vec<Attr>,
        report: &mut Report,
    ) -> Result<Decision, FormatError>;
    /// Whether a processing instruction stays (reporting it when it goes).
    fn keep_pi(&mut self, target: &str, content: &str, report: &mut Report) -> bool;
    /// A document type declaration: `Ok` drops it, an error refuses the document.
    fn doctype(&mut self, text: &[u8]) -> Result<(), FormatError>;
    /// The threats in a style sheet's text (for [`Decision::Sheet`]).
    fn sheet(&mut self, text: &str) -> Result<Vec<(ActionKind, String)>, FormatError>;
}

pub struct Limits<'a> {
    pub part: &'a str,
    pub max_depth: u32,
}

enum Frame {
    Keep,
    Sheet,
}

/// Rewrites a whole XML document under `rules`.
pub fn rewrite(
    data: &[u8],
    rules: &mut dyn Rules,
    limits: &Limits<'_>,
    ctx: &Context<'_>,
) -> Result<(Vec<u8>, Report), FormatError> {
    let part = limits.part;
    let (text, transcoded) = decode(data, part)?;
    ctx.budget.charge_bytes(text.len() as u64)?;
    let mut reader = fx::rewrite_reader(text.as_bytes());
    let mut writer = Writer::new(Vec::with_capacity(text.len()));
    let mut report = Report::default();
    let mut frames: Vec<Frame> = Vec::new();
    let mut skip = 0usize;
    // The style sheet being read: its start tag, its text, its events.
    let mut sheet: Option<(BytesStart<'static>, String, Vec<Event<'static>>)> = None;
    let mut seen_any = false;
    let mut root_done = false;
    let mut count: u64 = 0;
    let write = |w: &mut Writer<Vec<u8>>, ev: Event<'_>| {
        w.write_event(ev).map_err(|e| FormatError::new(Reason::InternalError, format!("XML write: {e}")))
    };
    loop {
        count += 1;
        if count.is_multiple_of(16_384) {
            ctx.budget.check_time()?;
        }
        let (resolved, ev) = reader.read_resolved_event().map_err(|e| fx::parse_error(part, e))?;
        let element_ns = match resolved {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_vec()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => {
                return Err(fx::parse_error(
                    part,
                    format!("undeclared namespace prefix {:?}", String::from_utf8_lossy(&p)),
                ))
            }
        };
        let top = frames.is_empty() && skip == 0;
        let first = !seen_any;
        seen_any = true;
        match ev {
            Event::Eof => break,
            Event::Decl(d) => {
                if !first {
                    return Err(fx::parse_error(part, "XML declaration not at the start"));
                }
                let version = d.version().map_err(|e| fx::parse_error(part, e))?;
                let standalone = match d.standalone() {
                    Some(s) => Some(s.map_err(|e| fx::parse_error(part, e))?),
                    None => None,
                };
                if transcoded {
                    let version = String::from_utf8_lossy(&version).into_owned();
                    let standalone = standalone.map(|s| String::from_utf8_lossy(&s).into_owned());
                    write(&mut writer, Event::Decl(BytesDecl::new(&version, Some("UTF-8"), standalone.as_deref())))?;
                } else {
                    write(&mut writer, Event::Decl(d))?;
                }
            }
            Event::DocType(d) => {
                if root_done || !frames.is_empty() || skip > 0 {
                    return Err(fx::parse_error(part, "document type declaration after the root element"));
                }
                rules.doctype(&d)?;
            }
            Event::PI(pi) => {
                let raw = String::from_utf8_lossy(&pi).into_owned();
                let (target, content) = raw.split_once(|c: char| c.is_whitespace()).unwrap_or((raw.as_str(), ""));
                if !fx::valid_name(target.as_bytes()) || target.eq_ignore_ascii_case("xml") {
                    return Err(fx::parse_error(part, "bad processing instruction"));
                }
                if skip == 0 && sheet.is_none() && rules.keep_pi(target, content, &mut report) {
                    write(&mut writer, Event::PI(pi))?;
                }
            }
            Event::Start(e) | Event::Empty(e) if top && root_done => {
                let _ = e;
                return Err(fx::parse_error(part, "a second root element"));
            }
            Event::Start(e) => {
                if frames.len() + skip >= limits.max_depth as usize {
                    return Err(fx::depth_error(part, limits.max_depth));
                }
                fx::check_tag(part, &e)?;
                if skip > 0 {
                    skip += 1;
                    continue;
                }
                if sheet.is_some() {
                    return Err(FormatError::new(Reason::Unsupported, format!("{part}: markup inside a style sheet")));
                }
                let attrs = attributes(&reader, &e, part)?;
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match rules.element(element_ns.as_deref(), &local, &e, attrs, &mut report)? {
                    Decision::Keep(start) => {
                        write(&mut writer, Event::Start(start))?;
                        frames.push(Frame::Keep);
                    }
                    Decision::Drop if top => return Err(root_dropped(part, &local)),
                    Decision::Drop => skip = 1,
                    Decision::Sheet(start) => {
                        sheet = Some((start, String::new(), Vec::new()));
                        frames.push(Frame::Sheet);
                    }
                }
            }
            Event::Empty(e) => {
                fx::check_tag(part, &e)?;
                if top {
                    root_done = true;
                }
                if skip > 0 {
                    continue;
                }
                if sheet.is_some() {
                    return Err(FormatError::new(Reason::Unsupported, format!("{part}: markup inside a style sheet")));
                }
                let attrs = attributes(&reader, &e, part)?;
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match rules.element(element_ns.as_deref(), &local, &e, attrs, &mut report)? {
                    Decision::Keep(start) | Decision::Sheet(start) => write(&mut writer, Event::Empty(start))?,
                    Decision::Drop if top => return Err(root_dropped(part, &local)),
                    Decision::Drop => {}
                }
            }
            Event::End(e) => {
                if frames.len() + skip == 1 {
                    root_done = true;
                }
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                match frames.pop() {
                    Some(Frame::Keep) => write(&mut writer, Event::End(e))?,
                    Some(Frame::Sheet) => {
                        let Some((start, css, events)) = sheet.take() else {
                            return Err(FormatError::new(Reason::InternalError, "style sheet state lost"));
                        };
                        let threats = rules.sheet(&css)?;
                        if threats.is_empty() {
                            write(&mut writer, Event::Start(start))?;
                            for ev in events {
                                write(&mut writer, ev)?;
                            }
                            write(&mut writer, Event::End(e))?;
                        } else {
                            for (kind, what) in threats {
                                report.add(kind, "<style>", what);
                            }
                        }
                    }
                    None => return Err(fx::parse_error(part, "unbalanced end tag")),
                }
            }
            Event::Text(t) => {
                if top && !t.iter().all(|b| b.is_ascii_whitespace()) {
                    return Err(fx::parse_error(part, "text outside the root element"));
                }
                if skip > 0 {
                    continue;
                }
                if t.contains(&b'&') {
                    check_chars(&t.unescape().map_err(|e| fx::parse_error(part, e))?, part)?;
                }
                if let Some((_, css, events)) = sheet.as_mut() {
                    let s = t.unescape().map_err(|e| fx::parse_error(part, e))?;
                    css.push_str(&s);
                    events.push(Event::Text(t.into_owned()));
                } else {
                    write(&mut writer, Event::Text(t))?;
                }
            }
            Event::CData(c) => {
                if top {
                    return Err(fx::parse_error(part, "text outside the root element"));
                }
                if skip > 0 {
                    continue;
                }
                if let Some((_, css, events)) = sheet.as_mut() {
                    css.push_str(std::str::from_utf8(&c).map_err(|e| fx::parse_error(part, e))?);
                    events.push(Event::CData(c.into_owned()));
                } else {
                    write(&mut writer, Event::CData(c))?;
                }
            }
            Event::Comment(c) => {
                if skip == 0 && sheet.is_none() {
                    write(&mut writer, Event::Comment(c))?;
                }
            }
        }
    }
    if !frames.is_empty() || skip > 0 {
        return Err(fx::parse_error(part, "unexpected end of document"));
    }
    if !root_done {
        return Err(fx::parse_error(part, "no root element"));
    }
    Ok((writer.into_inner(), report))
}

/// The root element is one the rules leave out (an `svg` outside the SVG namespace): the
/// rewrite would be a document without a root, which is no document.
fn root_dropped(part: &str, local: &str) -> FormatError {
    fx::parse_error(part, format!("the root element <{local}> is not one that is kept: nothing would remain"))
}

fn attributes(
    reader: &quick_xml::reader::NsReader<&[u8]>,
    e: &BytesStart<'_>,
    part: &str,
) -> Result<Vec<Attr>, FormatError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| fx::parse_error(part, err))?;
        let qname = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let is_decl = qname == "xmlns" || qname.starts_with("xmlns:");
        let (ns, local) = if is_decl {
            (None, qname.clone())
        } else {
            let (res, local) = reader.resolve_attribute(a.key);
            let ns = match res {
                ResolveResult::Bound(ns) => Some(ns.as_ref().to_vec()),
                ResolveResult::Unbound => None,
                ResolveResult::Unknown(p) => {
                    return Err(fx::parse_error(
                        part,
                        format!("undeclared namespace prefix {:?}", String::from_utf8_lossy(&p)),
                    ))
                }
            };
            (ns, String::from_utf8_lossy(local.as_ref()).into_owned())
        };
        let value = a.unescape_value().map_err(|err| fx::parse_error(part, err))?.into_owned();
        check_chars(&value, part)?;
        out.push(Attr { qname, ns, local, value });
    }
    Ok(out)
}

/// Refuses a character XML 1.0 allows nowhere (C0 controls but tab, line feed and carriage
/// return; U+FFFE and U+FFFF), or asks authors to avoid (DEL), written as it is or as a
/// character reference: the document is not well-formed, and a rewrite that kept it would not
/// be read as XML again (an SVG with one came out as a file nothing recognised).
fn check_chars(text: &str, part: &str) -> Result<(), FormatError> {
    let bad = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}' | '\u{FFFE}' | '\u{FFFF}');
    match text.chars().find(|&c| bad(c)) {
        Some(c) => Err(fx::parse_error(part, format!("character U+{:04X} is not allowed in XML", c as u32))),
        None => Ok(()),
    }
}

/// The document as UTF-8 text, and whether it had to be converted (its declaration then says
/// UTF-8 in the output).
fn decode(data: &[u8], part: &str) -> Result<(String, bool), FormatError> {
    let (text, transcoded) = decode_text(data, part)?;
    check_chars(&text, part)?;
    Ok((text, transcoded))
}

fn decode_text(data: &[u8], part: &str) -> Result<(String, bool), FormatError> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let label = charset_label_of_xml(data);
    let enc = match &label {
        None => encoding_rs::UTF_8,
        Some(l) => encoding_rs::Encoding::for_label(l.as_bytes())
            .ok_or_else(|| FormatError::new(Reason::Unsupported, format!("{part}: unknown character set {l:?}")))?,
    };
    if enc == encoding_rs::UTF_8 {
        let s = std::str::from_utf8(data).map_err(|e| fx::parse_error(part, format!("not UTF-8: {e}")))?;
        return Ok((s.to_owned(), false));
    }
    if !enc.is_ascii_compatible() {
        return Err(FormatError::new(Reason::Unsupported, format!("{part}: character set {}", enc.name())));
    }
    let text = enc
        .decode_without_bom_handling_and_without_replacement(data)
        .ok_or_else(|| fx::parse_error(part, format!("text is not valid {}", enc.name())))?;
    Ok((text.into_owned(), true))
}

/// The rules of a generic XML document.
struct Generic;

impl Rules for Generic {
    fn element(
        &mut self,
        ns: Option<&[u8]>,
        local: &str,
        start: &BytesStart<'_>,
        attrs: Vec<Attr>,
        report: &mut Report,
    ) -> Result<Decision, FormatError> {
        match ns {
            Some(XINCLUDE_NS) | Some(XINCLUDE_NS_OLD) => {
                let href = attrs.iter().find(|a| a.local == "href").map(|a| a.value.clone()).unwrap_or_default();
                report.add(ActionKind::RemovedExternalReference, format!("<xi:{local}>"), super::urls::shown(&href));
                Ok(Decision::Drop)
            }
            Some(n @ (XHTML_NS | SVG_NS | XSLT_NS)) => Err(FormatError::new(
                Reason::Unsupported,
                format!(
                    "XML with {} markup inside (<{local}>): a browser would render it and run its scripts",
                    match n {
                        XHTML_NS => "XHTML",
                        SVG_NS => "SVG",
                        _ => "XSLT",
                    }
                ),
            )),
            _ => Ok(Decision::Keep(start.to_owned())),
        }
    }

    fn keep_pi(&mut self, target: &str, content: &str, report: &mut Report) -> bool {
        if target.eq_ignore_ascii_case("xml-stylesheet") {
            report.add(ActionKind::RemovedExternalReference, "<?xml-stylesheet?>", content.trim().to_string());
            return false;
        }
        true
    }

    fn doctype(&mut self, _text: &[u8]) -> Result<(), FormatError> {
        Err(fx::doctype_error("xml"))
    }

    fn sheet(&mut self, _text: &str) -> Result<Vec<(ActionKind, String)>, FormatError> {
        Ok(Vec::new())
    }
}

pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let limits = Limits { part: "xml", max_depth: ctx.config.limits.max_xml_depth };
    let (out, report) = rewrite(data, &mut Generic, &limits, ctx)?;
    Ok(Disarmed { name: None, data: out, kind: Kind::Xml, actions: report.into_actions() })
}
