//! CSS checks shared by HTML and SVG: style sheets (`<style>`) and style declarations (`style`
//! attributes, SVG presentation attributes).
//!
//! The text is tokenized with `cssparser` (the CSS Syntax Level 3 tokenizer browsers follow), so
//! escapes (`exp\72 ession`), comments and odd spacing are undone before anything is looked at;
//! the raw text is never searched with patterns. What makes CSS active:
//! - `url(...)` and the functions that take URLs as strings (`image-set()`, `image()`,
//!   `cross-fade()`, `src()`), and `@import`: they load something from elsewhere (only a
//!   reference to an element of the same document, `url(#id)`, stays);
//! - `expression()` (Internet Explorer runs it as script), `behavior` and `-moz-binding`
//!   (they attach script components), `progid:` filters (ActiveX).
//!
//! A style sheet with any of these is dropped whole (nothing of it is rewritten); a declaration
//! list keeps the declarations without them. Blocks nested deeper than `[limits] max_nesting`,
//! or more tokens than can be checked, refuse the item (`limit_nesting`).

use super::urls::{classify, UrlClass};
use crate::formats::FormatError;
use crate::model::{ActionKind, Reason};
use cssparser::{ParseError, Parser, Token};

/// Tokens looked at in one style sheet or declaration list before giving up (treated as
/// active): the budget of a pathological sheet.
const MAX_TOKENS: usize = 2_000_000;

/// One active construct found in CSS: what it is and a short description.
pub type Threat = (ActionKind, String);

/// The active constructs in a style sheet or a value; empty when it is inert. `url(#id)` (an
/// element of the same document) is inert.
pub fn scan(text: &str, max_nesting: u32) -> Result<Vec<Threat>, FormatError> {
    let mut parser = Parser::new(text);
    let mut state = Scan { threats: Vec::new(), tokens: 0, max_nesting };
    state.walk(&mut parser, 0).map_err(|_| too_much(max_nesting))?;
    Ok(state.threats)
}

fn too_much(max_nesting: u32) -> FormatError {
    FormatError::new(
        Reason::LimitNesting,
        format!("CSS nested deeper than {max_nesting} or longer than {MAX_TOKENS} tokens"),
    )
}

struct Scan {
    threats: Vec<Threat>,
    tokens: usize,
    max_nesting: u32,
}

#[derive(Debug)]
struct TooDeep;

impl Scan {
    fn walk(&mut self, p: &mut Parser<'_>, depth: u32) -> Result<(), TooDeep> {
        if depth > self.max_nesting {
            return Err(TooDeep);
        }
        // Identifiers joined across comments: old Internet Explorer removed comments before it
        // read a value, so `exp/**/ression(` was `expression(` to it.
        let mut glued = String::new();
        loop {
            self.tokens += 1;
            if self.tokens > MAX_TOKENS {
                return Err(TooDeep);
            }
            let token = match p.next_including_whitespace_and_comments() {
                Ok(t) => t.clone(),
                Err(_) => return Ok(()),
            };
            let mut nested_is_url = false;
            match &token {
                Token::Comment(_) => {}
                Token::Ident(i) if glued.len() < 64 => glued.push_str(&i.to_ascii_lowercase()),
                Token::Function(f) => {
                    glued.push_str(&f.to_ascii_lowercase());
                    if glued.ends_with("expression") {
                        self.threats.push((ActionKind::RemovedScript, "expression()".into()));
                    }
                }
                _ => {}
            }
            if !matches!(token, Token::Comment(_) | Token::Ident(_)) {
                glued.clear();
            }
            match &token {
                Token::UnquotedUrl(u) => self.url(u),
                Token::BadUrl(u) => self.url(u),
                Token::AtKeyword(k) if k.eq_ignore_ascii_case("import") => {
                    self.threats.push((ActionKind::RemovedExternalReference, "@import".into()))
                }
                Token::Ident(i) => {
                    let i = i.to_ascii_lowercase();
                    if matches!(i.as_str(), "behavior" | "-ms-behavior" | "-moz-binding" | "binding") {
                        self.threats.push((ActionKind::RemovedScript, i));
                    } else if i == "progid" || i.starts_with("progid:") {
                        self.threats.push((ActionKind::RemovedScript, "progid filter".into()));
                    }
                }
                Token::Function(f) => {
                    let f = f.to_ascii_lowercase();
                    match f.as_str() {
                        "url" | "src" | "image-set" | "-webkit-image-set" | "image" | "cross-fade"
                        | "-webkit-cross-fade" => nested_is_url = true,
                        _ if f.starts_with("progid") => {
                            self.threats.push((ActionKind::RemovedScript, "progid filter".into()))
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            if matches!(
                token,
                Token::Function(_) | Token::ParenthesisBlock | Token::SquareBracketBlock | Token::CurlyBracketBlock
            ) {
                let result: Result<(), ParseError<TooDeep>> = p.parse_nested_block(|inner| {
                    if nested_is_url {
                        self.url_strings(inner).map_err(ParseError::custom)
                    } else {
                        self.walk(inner, depth + 1).map_err(ParseError::custom)
                    }
                });
                if let Err(e) = result {
                    if matches!(e.kind, cssparser::ParseErrorKind::Custom(TooDeep)) {
                        return Err(TooDeep);
                    }
                }
            }
        }
    }

    /// The inside of a function that takes URLs: every string in it is a URL.
    fn url_strings(&mut self, p: &mut Parser<'_>) -> Result<(), TooDeep> {
        let mut seen = false;
        loop {
            self.tokens += 1;
            if self.tokens > MAX_TOKENS {
                return Err(TooDeep);
            }
            let token = match p.next() {
                Ok(t) => t.clone(),
                Err(_) => break,
            };
            match &token {
                Token::QuotedString(s) | Token::UnquotedUrl(s) => {
                    seen = true;
                    self.url(s);
                }
                // image-set(url(a) 1x, ...): a nested url() or block holds the URL.
                Token::Function(_) | Token::ParenthesisBlock | Token::SquareBracketBlock | Token::CurlyBracketBlock => {
                    seen = true;
                    let r: Result<(), ParseError<TooDeep>> =
                        p.parse_nested_block(|inner| self.url_strings(inner).map_err(ParseError::custom));
                    if let Err(e) = r {
                        if matches!(e.kind, cssparser::ParseErrorKind::Custom(TooDeep)) {
                            return Err(TooDeep);
                        }
                    }
                }
                _ => {}
            }
        }
        if !seen {
            // A URL function with nothing readable in it: not a local reference either.
            self.threats.push((ActionKind::RemovedExternalReference, "url()".into()));
        }
        Ok(())
    }

    fn url(&mut self, u: &str) {
        let class = classify(u);
        if class == UrlClass::Fragment {
            return;
        }
        self.threats.push((class.action(), format!("url({})", super::urls::shown(u))));
    }
}

/// Properties a `style` attribute keeps (HTML text and box formatting, SVG painting); the
/// `mso-` properties Outlook and Word write are kept too. Anything else (positioning over the
/// page, custom properties, unknown names) goes without a report: it is not active.
const PROPERTIES: &[&str] = &[
    "background",
    "background-color",
    "background-position",
    "background-repeat",
    "border",
    "border-bottom",
    "border-bottom-color",
    "border-bottom-style",
    "border-bottom-width",
    "border-collapse",
    "border-color",
    "border-left",
    "border-left-color",
    "border-left-style",
    "border-left-width",
    "border-radius",
    "border-right",
    "border-right-color",
    "border-right-style",
    "border-right-width",
    "border-spacing",
    "border-style",
    "border-top",
    "border-top-color",
    "border-top-style",
    "border-top-width",
    "border-width",
    "box-sizing",
    "caption-side",
    "clear",
    "color",
    "column-count",
    "column-gap",
    "direction",
    "display",
    "empty-cells",
    "float",
    "font",
    "font-family",
    "font-feature-settings",
    "font-kerning",
    "font-size",
    "font-stretch",
    "font-style",
    "font-variant",
    "font-weight",
    "height",
    "hyphens",
    "letter-spacing",
    "line-break",
    "line-height",
    "list-style",
    "list-style-position",
    "list-style-type",
    "margin",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "margin-top",
    "max-height",
    "max-width",
    "min-height",
    "min-width",
    "opacity",
    "orphans",
    "outline",
    "outline-color",
    "outline-style",
    "outline-width",
    "overflow",
    "overflow-wrap",
    "overflow-x",
    "overflow-y",
    "padding",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "padding-top",
    "page-break-after",
    "page-break-before",
    "page-break-inside",
    "quotes",
    "tab-size",
    "table-layout",
    "text-align",
    "text-align-last",
    "text-autospace",
    "text-decoration",
    "text-decoration-color",
    "text-decoration-line",
    "text-decoration-style",
    "text-indent",
    "text-justify",
    "text-orientation",
    "text-overflow",
    "text-transform",
    "text-underline-position",
    "unicode-bidi",
    "vertical-align",
    "visibility",
    "white-space",
    "widows",
    "width",
    "word-break",
    "word-spacing",
    "word-wrap",
    "writing-mode",
    // SVG painting and text
    "alignment-baseline",
    "baseline-shift",
    "clip-path",
    "clip-rule",
    "color-interpolation",
    "color-interpolation-filters",
    "dominant-baseline",
    "fill",
    "fill-opacity",
    "fill-rule",
    "filter",
    "flood-color",
    "flood-opacity",
    "lighting-color",
    "marker",
    "marker-end",
    "marker-mid",
    "marker-start",
    "mask",
    "mix-blend-mode",
    "paint-order",
    "shape-rendering",
    "stop-color",
    "stop-opacity",
    "stroke",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-opacity",
    "stroke-width",
    "text-anchor",
    "text-rendering",
    "transform",
    "transform-origin",
    "vector-effect",
];

/// The property a declaration sets, if it is written as one (`name: value`).
fn property(decl: &str) -> Option<String> {
    let mut p = Parser::new(decl);
    let name = match p.next() {
        Ok(Token::Ident(n)) => n.to_ascii_lowercase(),
        _ => return None,
    };
    matches!(p.next(), Ok(Token::Colon)).then_some(name)
}

fn allowed_property(name: &str) -> bool {
    PROPERTIES.contains(&name) || (name.starts_with("mso-") && name.len() > 4)
}

/// A declaration list (a `style` attribute) without its active declarations and without
/// properties not on the list: the kept declarations as written, joined with `;`, and the
/// active ones that were dropped.
pub fn filter_declarations(text: &str, max_nesting: u32) -> Result<(String, Vec<Threat>), FormatError> {
    let mut kept: Vec<&str> = Vec::new();
    let mut threats = Vec::new();
    let mut parser = Parser::new(text);
    let mut start = parser.position();
    let mut tokens = 0usize;
    loop {
        tokens += 1;
        let next = if tokens > MAX_TOKENS { Err(()) } else { parser.next().cloned().map_err(|_| ()) };
        let at_end = next.is_err();
        if at_end || matches!(next, Ok(Token::Semicolon)) {
            let end = parser.position();
            let mut slice = parser.slice(start..end);
            if !at_end {
                slice = slice.strip_suffix(';').unwrap_or(slice);
            }
            let decl = slice.trim();
            if !decl.is_empty() {
                let found = scan(decl, max_nesting)?;
                if !found.is_empty() {
                    threats.extend(found);
                } else if property(decl).is_some_and(|p| allowed_property(&p)) {
                    kept.push(decl);
                }
            }
            if at_end {
                break;
            }
            start = parser.position();
        }
    }
    if tokens > MAX_TOKENS {
        return Err(too_much(max_nesting));
    }
    Ok((kept.join("; "), threats))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(t: &Result<Vec<Threat>, FormatError>) -> Vec<ActionKind> {
        t.as_ref().unwrap().iter().map(|(k, _)| *k).collect()
    }

    #[test]
    fn active_css_is_found_through_escapes_and_comments() {
        use ActionKind::*;
        assert!(scan("p { color: red; margin: 0 }", 64).unwrap().is_empty());
        assert!(scan("rect { fill: url(#grad) }", 64).unwrap().is_empty());
        assert_eq!(kinds(&scan("p{width:exp\\72 ession(alert(1))}", 64)), [RemovedScript]);
        assert_eq!(kinds(&scan("p{width:expr/**/ession(1)}", 64)), [RemovedScript], "as old IE read it");
        assert_eq!(kinds(&scan("@import 'x.css';", 64)), [RemovedExternalReference]);
        assert_eq!(kinds(&scan("p{background:url(javascript:alert(1))}", 64)), [RemovedJavascript]);
        assert_eq!(kinds(&scan("p{background:URL( 'http://x/y.png' )}", 64)), [RemovedExternalReference]);
        assert_eq!(kinds(&scan("p{background:url(data:image/png;base64,AA)}", 64)), [RemovedDataUrl]);
        assert_eq!(kinds(&scan("p{behavior:url(x.htc)}", 64)), [RemovedScript, RemovedExternalReference]);
        assert_eq!(kinds(&scan("p{-moz-binding:none}", 64)), [RemovedScript]);
        assert_eq!(kinds(&scan("p{background-image:image-set('a.png' 1x)}", 64)), [RemovedExternalReference]);
        let deep = "a{".repeat(200);
        assert_eq!(scan(&deep, 64).unwrap_err().reason, Reason::LimitNesting);
        assert_eq!(scan(&"a{b:c}".repeat(1_000_000), 64).unwrap_err().reason, Reason::LimitNesting);
    }

    #[test]
    fn declarations_keep_the_inert_ones() {
        let (kept, threats) =
            filter_declarations("color: red; background: url(http://t/x.gif); font-size:12px", 64).unwrap();
        assert_eq!(kept, "color: red; font-size:12px");
        assert_eq!(kinds(&Ok(threats)), [ActionKind::RemovedExternalReference]);
        let (kept, threats) = filter_declarations("width: expression(alert(1))", 64).unwrap();
        assert_eq!((kept.as_str(), kinds(&Ok(threats))), ("", vec![ActionKind::RemovedScript]));
        let (kept, _) = filter_declarations("font-family: 'a;b'; color: blue;", 64).unwrap();
        assert_eq!(kept, "font-family: 'a;b'; color: blue");
        let (kept, threats) =
            filter_declarations("javascript:x; position: fixed; --v: 1; MSO-ansi-language: JA; Color:red", 64).unwrap();
        assert_eq!((kept.as_str(), threats.len()), ("MSO-ansi-language: JA; Color:red", 0));
    }
}
