//! Word field codes: finding the code of every complex field and telling which ones are dangerous.
//!
//! A complex field is `fldChar begin`, the code in `instrText` runs (possibly with nested fields),
//! `fldChar separate`, the displayed result, `fldChar end`. The code of a field is only known
//! once its `separate` (or `end`) is reached, so a first pass collects every field's code in
//! document order; the rewriter then drops the markers and code of the dangerous ones while
//! keeping their results.

use crate::config::HyperlinkPolicy;
use crate::formats::xml::{self, local};
use crate::formats::FormatError;
use quick_xml::events::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldClass {
    Safe,
    /// A HYPERLINK field whose target the hyperlink policy does not allow (file:, UNC ...).
    ExternalLink,
    /// DDE / DDEAUTO: runs a program through dynamic data exchange.
    Dde,
    /// Fetches, includes or runs something, or its instruction is built at run time.
    Dangerous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedField {
    pub class: FieldClass,
    pub code: String,
}

/// Field instructions that reach outside the document or run something.
const DANGEROUS: &[&str] =
    &["INCLUDETEXT", "INCLUDEPICTURE", "INCLUDE", "IMPORT", "LINK", "MACROBUTTON", "DATABASE", "PRINT", "AUTOTEXTLIST"];

/// Classifies a field code. `dynamic` is true when the code starts with a nested field, i.e.
/// the instruction itself is computed when the field updates (a known way to hide DDE).
/// HYPERLINK fields follow the same policy as hyperlink relationships.
pub fn classify(code: &str, dynamic: bool, hyperlinks: HyperlinkPolicy) -> FieldClass {
    let upper = code.to_uppercase();
    let tokens: Vec<&str> = upper
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\\' || c == '{' || c == '}')
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.iter().any(|t| *t == "DDE" || *t == "DDEAUTO") {
        return FieldClass::Dde;
    }
    if dynamic {
        return FieldClass::Dangerous;
    }
    let first = upper.trim_start();
    let keyword: String = first.chars().take_while(|c| !c.is_whitespace() && *c != '\\').collect();
    if keyword.is_empty() {
        return FieldClass::Safe;
    }
    if DANGEROUS.contains(&keyword.as_str()) {
        return FieldClass::Dangerous;
    }
    if keyword == "HYPERLINK" {
        let allowed = match (hyperlink_target(code), hyperlinks) {
            (None, _) | (_, HyperlinkPolicy::Keep) => true,
            (Some(_), HyperlinkPolicy::Remove) => false,
            (Some(t), HyperlinkPolicy::Web) => {
                let t = t.trim().to_ascii_lowercase();
                t.starts_with("http://") || t.starts_with("https://") || t.starts_with("mailto:")
            }
        };
        return if allowed { FieldClass::Safe } else { FieldClass::ExternalLink };
    }
    if !keyword.chars().all(|c| c.is_ascii_alphanumeric() || c == '=') {
        return FieldClass::Dangerous;
    }
    FieldClass::Safe
}

/// The target of a HYPERLINK field code: its first argument that is not a switch or a switch's
/// argument; `None` for a link to a bookmark in the document (`HYPERLINK \l "name"`).
fn hyperlink_target(code: &str) -> Option<String> {
    let rest = code.trim_start().get("HYPERLINK".len()..)?;
    let mut chars = rest.chars().peekable();
    let mut skip_next = false;
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let c = *chars.peek()?;
        let token: String = if c == '"' {
            chars.next();
            let t: String = chars.by_ref().take_while(|c| *c != '"').collect();
            t
        } else {
            let mut t = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                t.push(c);
                chars.next();
            }
            if let Some(switch) = t.strip_prefix('\\') {
                // \l (bookmark), \o (tooltip) and \t (frame) take an argument.
                skip_next = matches!(switch.to_ascii_lowercase().as_str(), "l" | "o" | "t");
                continue;
            }
            t
        };
        if skip_next {
            skip_next = false;
            continue;
        }
        return Some(token);
    }
}

struct Open {
    code: String,
    nested_first: bool,
    index: usize,
    in_code: bool,
}

fn finish(o: &Open, out: &mut [ScannedField], hyperlinks: HyperlinkPolicy) {
    if let Some(f) = out.get_mut(o.index) {
        f.class = classify(&o.code, o.nested_first, hyperlinks);
        f.code = o.code.trim().chars().take(200).collect();
    }
}

fn on_fld_char(
    e: &quick_xml::events::BytesStart<'_>,
    open: &mut Vec<Open>,
    out: &mut Vec<ScannedField>,
    hyperlinks: HyperlinkPolicy,
) {
    match xml::attr(e, b"fldCharType").as_deref() {
        Some("begin") => {
            if let Some(top) = open.last_mut() {
                if top.in_code && top.code.trim().is_empty() {
                    top.nested_first = true;
                }
            }
            out.push(ScannedField { class: FieldClass::Safe, code: String::new() });
            open.push(Open { code: String::new(), nested_first: false, index: out.len() - 1, in_code: true });
        }
        Some("separate") => {
            if let Some(top) = open.last_mut() {
                if top.in_code {
                    top.in_code = false;
                    finish(top, out, hyperlinks);
                }
            }
        }
        Some("end") => {
            if let Some(top) = open.pop() {
                if top.in_code {
                    finish(&top, out, hyperlinks);
                }
            }
        }
        _ => {}
    }
}

/// Every complex field of a WordprocessingML part, in the order of their `begin` markers.
pub fn scan(
    data: &[u8],
    part: &str,
    max_depth: u32,
    hyperlinks: HyperlinkPolicy,
) -> Result<Vec<ScannedField>, FormatError> {
    let mut out: Vec<ScannedField> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut in_instr = 0usize;
    xml::walk(data, part, max_depth, |ev| {
        match ev {
            Event::Start(e) => match local(e.name().as_ref()) {
                b"instrText" | b"delInstrText" => in_instr += 1,
                // A form field's begin marker carries its settings as children.
                b"fldChar" => on_fld_char(e, &mut open, &mut out, hyperlinks),
                _ => {}
            },
            Event::End(e) if matches!(local(e.name().as_ref()), b"instrText" | b"delInstrText") => {
                in_instr = in_instr.saturating_sub(1);
            }
            Event::Empty(e) if local(e.name().as_ref()) == b"fldChar" => {
                on_fld_char(e, &mut open, &mut out, hyperlinks)
            }
            Event::Text(t) if in_instr > 0 => {
                if let Some(top) = open.last_mut().filter(|t| t.in_code) {
                    match t.unescape() {
                        Ok(s) => top.code.push_str(&s),
                        Err(_) => top.code.push_str(&String::from_utf8_lossy(t)),
                    }
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    for o in open.iter().rev() {
        if o.in_code {
            finish(o, &mut out, hyperlinks);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HyperlinkPolicy;

    #[test]
    fn form_fields_with_settings_are_counted() {
        let doc = r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:checkBox><w:default w:val="0"/></w:checkBox></w:ffData></w:fldChar></w:r><w:r><w:instrText> FORMCHECKBOX </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>DDE a b</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:body></w:document>"#;
        let f = scan(doc.as_bytes(), "d.xml", 64, HyperlinkPolicy::Web).unwrap();
        assert_eq!(f.iter().map(|f| f.class).collect::<Vec<_>>(), vec![FieldClass::Safe, FieldClass::Dde]);
        assert_eq!(f[0].code, "FORMCHECKBOX");
    }

    #[test]
    fn classification() {
        assert_eq!(classify(" PAGE ", false, HyperlinkPolicy::Web), FieldClass::Safe);
        assert_eq!(classify("HYPERLINK \"https://example.org\"", false, HyperlinkPolicy::Web), FieldClass::Safe);
        assert_eq!(classify("DdeAuto c:\\\\x.exe", false, HyperlinkPolicy::Web), FieldClass::Dde);
        assert_eq!(
            classify("INCLUDEPICTURE \"http://x/y.png\" \\d", false, HyperlinkPolicy::Web),
            FieldClass::Dangerous
        );
        assert_eq!(classify(" cmd ", true, HyperlinkPolicy::Web), FieldClass::Dangerous);
        assert_eq!(classify("\"weird\"", false, HyperlinkPolicy::Web), FieldClass::Dangerous);
        assert_eq!(classify("= 1 + 2", false, HyperlinkPolicy::Web), FieldClass::Safe);
        let unc = r#"HYPERLINK "\\\\attacker\\share\\x.docx" \o "tip""#;
        assert_eq!(classify(unc, false, HyperlinkPolicy::Web), FieldClass::ExternalLink);
        assert_eq!(classify(unc, false, HyperlinkPolicy::Keep), FieldClass::Safe);
        let bookmark = r#"HYPERLINK \l "_Toc123" \o "tip""#;
        assert_eq!(classify(bookmark, false, HyperlinkPolicy::Remove), FieldClass::Safe);
        assert_eq!(classify("HYPERLINK \"mailto:a@b\"", false, HyperlinkPolicy::Web), FieldClass::Safe);
        assert_eq!(classify("HYPERLINK \"https://x\"", false, HyperlinkPolicy::Remove), FieldClass::ExternalLink);
    }
}
