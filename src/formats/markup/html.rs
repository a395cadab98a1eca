//! HTML: an allow-list sanitizer (ammonia) and the report of what it removed.
//!
//! The page is decoded to UTF-8 (see [`super::charset`]), parsed once as a whole document with
//! html5ever (through `scraper`) for the report, the title and the style sheets, and cleaned by
//! ammonia, which parses it the same way and keeps only the elements and attributes listed here:
//! text, headings, paragraphs, lists, tables, images by `http(s):` or `cid:` URL and links to
//! `http(s):`, `mailto:` and `tel:` (or, with `[html] links = "inert"`, no link targets at all).
//! Everything else goes: scripts, `on...` handlers, forms and their controls, frames, objects,
//! embeds and applets, `base`, `meta` refresh, `link` (style sheets, imports, preloads),
//! `srcdoc`, and every `javascript:`, `vbscript:`, `data:`, `file:` or relative URL. Both
//! parsers decode character references and both read URLs with the WHATWG URL parser, so
//! `jav&#x09;ascript:` is seen as the browser sees it; the raw text is never searched.
//!
//! Inline `style` keeps the declarations that load and run nothing (see [`super::css`]); a
//! `<style>` sheet with no active CSS in it is kept in the output's head, one with any is
//! dropped whole.
//!
//! The output is a new UTF-8 document: `<meta charset="utf-8">`, the title, the kept style
//! sheets and the cleaned body; or, with `[html] output = "text"`, plain text.
//!
//! ammonia does not say what it removed, so the report comes from a pass over the parsed tree
//! with the same allow-lists and the same attribute checks (one function decides both).

use super::css;
use super::urls::{self, UrlClass};
use super::Report;
use crate::config::{Config, HtmlLinks};
use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::{Action, ActionKind, Reason};
use ego_tree::iter::Edge;
use scraper::{Html, Node};
use std::borrow::Cow;

/// How HTML is cleaned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HtmlOptions {
    pub links: HtmlLinks,
    /// Deepest element nesting accepted (`[limits] max_xml_depth`).
    pub max_depth: u32,
    /// Deepest nesting inside a style sheet (`[limits] max_nesting`).
    pub max_nesting: u32,
}

impl HtmlOptions {
    pub fn from_config(config: &Config) -> Self {
        HtmlOptions {
            links: config.html.links,
            max_depth: config.limits.max_xml_depth,
            max_nesting: config.limits.max_nesting,
        }
    }
}

/// Elements kept (their allowed attributes with them).
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "main",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "section",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Elements removed together with everything inside them. Every other element not in [`TAGS`]
/// is unwrapped: it goes, its text stays.
const DROP_WITH_CONTENT: &[&str] = &[
    "script",
    "style",
    "title",
    "iframe",
    "frame",
    "frameset",
    "noframes",
    "object",
    "embed",
    "applet",
    "noembed",
    "noscript",
    "template",
    "portal",
    "fencedframe",
];

/// Attributes kept on every kept element.
const GENERIC_ATTRIBUTES: &[&str] = &[
    "align", "bgcolor", "border", "class", "color", "dir", "height", "id", "lang", "style", "title", "valign", "width",
];

/// Attributes kept on one element.
const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "name", "target", "hreflang", "type"]),
    ("img", &["src", "alt", "hspace", "vspace"]),
    ("font", &["face", "size"]),
    ("ol", &["start", "type", "reversed"]),
    ("ul", &["type"]),
    ("li", &["value", "type"]),
    ("td", &["colspan", "rowspan", "headers", "scope", "abbr", "nowrap", "axis"]),
    ("th", &["colspan", "rowspan", "headers", "scope", "abbr", "nowrap", "axis"]),
    ("table", &["cellpadding", "cellspacing", "summary", "frame", "rules"]),
    ("col", &["span"]),
    ("colgroup", &["span"]),
    ("time", &["datetime"]),
    ("del", &["datetime"]),
    ("ins", &["datetime"]),
    ("details", &["open"]),
    ("hr", &["size", "noshade"]),
    ("br", &["clear"]),
];

/// URL schemes ammonia lets through; [`keep_attribute`] narrows them per attribute.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "tel", "cid"];

/// Attributes that hold a URL the browser loads or follows (on any element).
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "lowsrc",
    "dynsrc",
    "codebase",
    "longdesc",
    "usemap",
    "cite",
    "manifest",
    "icon",
    "profile",
    "ping",
    "archive",
    "xmlns:xlink",
];

fn allowed_attribute(tag: &str, attr: &str) -> bool {
    GENERIC_ATTRIBUTES.contains(&attr) || TAG_ATTRIBUTES.iter().any(|(t, attrs)| *t == tag && attrs.contains(&attr))
}

/// The last word on an allowed attribute of a kept element: its value as it is written out, or
/// `None` when it goes. ammonia calls this after its own checks; the report pass calls it too.
fn keep_attribute<'v>(tag: &str, attr: &str, value: &'v str, opts: &HtmlOptions) -> Option<Cow<'v, str>> {
    match (tag, attr) {
        (_, "style") => {
            // CSS that cannot be checked goes (the report pass has refused the page already).
            let (kept, _) = css::filter_declarations(value, opts.max_nesting).ok()?;
            (!kept.is_empty()).then(|| if kept == value { Cow::Borrowed(value) } else { Cow::Owned(kept) })
        }
        ("a", "href") => {
            let ok = opts.links == HtmlLinks::Keep
                && matches!(
                    urls::classify(value),
                    UrlClass::Web | UrlClass::Mailto | UrlClass::Tel | UrlClass::Fragment
                );
            ok.then_some(Cow::Borrowed(value))
        }
        ("img", "src") => {
            matches!(urls::classify(value), UrlClass::Web | UrlClass::Cid).then_some(Cow::Borrowed(value))
        }
        (_, a) if URL_ATTRIBUTES.contains(&a) => None,
        _ => Some(Cow::Borrowed(value)),
    }
}

fn builder(opts: HtmlOptions) -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(TAG_ATTRIBUTES.iter().map(|(t, a)| (*t, a.iter().copied().collect())).collect())
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        // A relative reference is a file next to the page (or, `//host`, another site): only a
        // place in the same page stays.
        .url_relative(ammonia::UrlRelative::Custom(Box::new(only_fragments)))
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .attribute_filter(move |tag, attr, value| keep_attribute(tag, attr, value, &opts));
    b
}

fn only_fragments(u: &str) -> Option<Cow<'_, str>> {
    (urls::classify(u) == UrlClass::Fragment).then_some(Cow::Borrowed(u))
}

/// What the document pass finds besides the report: the title and the inert style sheets.
struct Head {
    title: Option<String>,
    sheets: Vec<String>,
}

/// Cleans a whole HTML page: the new page (UTF-8) and what was removed.
pub fn sanitize_html(input: &str, opts: &HtmlOptions, budget: &Budget) -> Result<(String, Vec<Action>), FormatError> {
    let (head, actions) = survey(input, opts, budget)?;
    let body = clean_body(input, opts);
    budget.check_time()?;
    let mut out = String::with_capacity(body.len() + 256);
    // No white space between the tags: cleaning this output again must give it back unchanged.
    out.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\">");
    if let Some(t) = &head.title {
        out.push_str("<title>");
        escape_into(&mut out, t);
        out.push_str("</title>");
    }
    for sheet in &head.sheets {
        out.push_str("<style>");
        out.push_str(sheet);
        out.push_str("</style>");
    }
    out.push_str("</head><body>");
    out.push_str(&body);
    out.push_str("</body></html>");
    Ok((without_controls(out), actions))
}

/// The page with every C0 control character but tab, line feed, form feed and carriage return
/// (and DEL) replaced by U+FFFD, as the parser already does with NUL. Browsers show nothing for
/// them, but one stray control byte in a page the rewrite made shorter is enough for the page
/// not to read as text any more (it came back `unknown_kind`). Replaced, not removed: taking a
/// character out of the cleaned page could join what stands around it (`java\u{1}script:`).
fn without_controls(page: String) -> String {
    let bad = |c: char| matches!(c, '\u{1}'..='\u{8}' | '\u{B}' | '\u{E}'..='\u{1F}' | '\u{7F}');
    if !page.contains(bad) {
        return page;
    }
    page.chars().map(|c| if bad(c) { char::REPLACEMENT_CHARACTER } else { c }).collect()
}

/// Turns an HTML page into plain text (after cleaning it): block elements end lines, list
/// items start with `- `, table cells are separated by tabs, and with links kept a link's
/// target follows its text in angle brackets.
pub fn html_to_text(input: &str, opts: &HtmlOptions, budget: &Budget) -> Result<(String, Vec<Action>), FormatError> {
    let (_, actions) = survey(input, opts, budget)?;
    let body = clean_body(input, opts);
    budget.check_time()?;
    let fragment = Html::parse_fragment(&body);
    Ok((without_controls(text_of(&fragment, opts, budget)?), actions))
}

/// The cleaned body. Cleaned twice: removing elements can leave a tree the HTML parser would
/// never build (a `div` inside a `p` once a `select` between them is gone), whose serialization
/// reads back as a different tree. The second pass parses and writes it the way a browser will
/// read it, so that what is passed on is exactly what was checked, and a rebuilt page cleaned
/// again comes out the same.
fn clean_body(input: &str, opts: &HtmlOptions) -> String {
    let b = builder(*opts);
    let first = b.clean(input).to_string();
    b.clean(&first).to_string()
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// The report pass: walks the whole document as parsed, finds what the allow-lists remove, the
/// title and the style sheets that may stay; refuses nesting deeper than the limit.
fn survey(input: &str, opts: &HtmlOptions, budget: &Budget) -> Result<(Head, Vec<Action>), FormatError> {
    let doc = Html::parse_document(input);
    budget.check_time()?;
    let mut report = Report::default();
    let mut head = Head { title: None, sheets: Vec::new() };
    let mut depth: u32 = 0;
    // Depth at which a removed-with-content element was entered (its inside is gone too).
    let mut dropped_at: Option<u32> = None;
    let mut count: u64 = 0;
    for edge in doc.tree.root().traverse() {
        count += 1;
        if count.is_multiple_of(16_384) {
            budget.check_time()?;
        }
        match edge {
            Edge::Open(node) => {
                let Node::Element(el) = node.value() else { continue };
                depth += 1;
                if depth > opts.max_depth {
                    return Err(FormatError::new(
                        Reason::LimitXmlDepth,
                        format!("HTML elements nested deeper than {}", opts.max_depth),
                    ));
                }
                let tag = el.name().to_ascii_lowercase();
                let inside_dropped = dropped_at.is_some();
                let fate = if inside_dropped || DROP_WITH_CONTENT.contains(&tag.as_str()) {
                    Fate::Dropped
                } else if TAGS.contains(&tag.as_str()) && &*el.name.ns == HTML_NS {
                    Fate::Kept
                } else {
                    Fate::Unwrapped
                };
                if fate == Fate::Dropped && dropped_at.is_none() {
                    dropped_at = Some(depth);
                }
                let text = || node.children().filter_map(|c| c.value().as_text().map(|t| t.to_string())).collect();
                match tag.as_str() {
                    "title" if head.title.is_none() && !inside_dropped && &*el.name.ns == HTML_NS => {
                        let t: String = text();
                        head.title = Some(t.split_ascii_whitespace().collect::<Vec<_>>().join(" "));
                    }
                    "style" if !inside_dropped => {
                        let sheet: String = text();
                        let mut threats = css::scan(&sheet, opts.max_nesting)?;
                        if sheet.to_ascii_lowercase().contains("</style") {
                            threats.push((ActionKind::RemovedScript, "markup inside a style sheet".into()));
                        }
                        if threats.is_empty() {
                            if !sheet.trim().is_empty() {
                                head.sheets.push(sheet);
                            }
                        } else {
                            for (kind, what) in threats {
                                report.add(kind, "style", what);
                            }
                        }
                    }
                    _ => {}
                }
                let element_reported = report_element(&tag, el, &mut report);
                for (name, value) in el.attrs() {
                    let name = name.to_ascii_lowercase();
                    report_attribute(&tag, &name, value, fate, element_reported, opts, &mut report)?;
                }
            }
            Edge::Close(node) => {
                if node.value().is_element() {
                    if dropped_at == Some(depth) {
                        dropped_at = None;
                    }
                    depth = depth.saturating_sub(1);
                }
            }
        }
    }
    Ok((head, report.into_actions()))
}

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Kept,
    /// The element goes, its content stays.
    Unwrapped,
    /// The element goes with everything inside it.
    Dropped,
}

/// Reports an element that is active in itself; true when it was reported (its URLs then need
/// no report of their own unless they are script or `data:` URLs).
fn report_element(tag: &str, el: &scraper::node::Element, report: &mut Report) -> bool {
    let place = format!("<{tag}>");
    match tag {
        "script" | "handler" => report.add(ActionKind::RemovedScript, place, String::new()),
        "listener" => report.add(ActionKind::RemovedEventListener, place, String::new()),
        "iframe" | "frame" | "frameset" | "object" | "embed" | "applet" | "portal" | "fencedframe"
        | "foreignobject" => report.add(ActionKind::RemovedEmbeddedFrame, place, String::new()),
        "form" | "input" | "button" | "select" | "textarea" | "keygen" | "isindex" => {
            report.add(ActionKind::RemovedForm, place, String::new())
        }
        "meta" => {
            let equiv = el.attr("http-equiv").map(|v| v.trim().to_ascii_lowercase()).unwrap_or_default();
            if matches!(equiv.as_str(), "refresh" | "set-cookie") {
                let content = el.attr("content").unwrap_or_default();
                report.add(ActionKind::RemovedAutoAction, format!("<meta http-equiv={equiv}>"), urls::shown(content));
            } else {
                return false;
            }
        }
        "base" if el.attr("href").is_some() => {
            report.add(ActionKind::RemovedExternalReference, place, urls::shown(el.attr("href").unwrap_or_default()))
        }
        "link" if el.attr("href").is_some() => {
            let rel = el.attr("rel").unwrap_or_default().trim().to_ascii_lowercase();
            report.add(
                ActionKind::RemovedExternalReference,
                format!("<link rel={rel}>"),
                urls::shown(el.attr("href").unwrap_or_default()),
            )
        }
        _ => return false,
    }
    true
}

fn report_attribute(
    tag: &str,
    name: &str,
    value: &str,
    fate: Fate,
    element_reported: bool,
    opts: &HtmlOptions,
    report: &mut Report,
) -> Result<(), FormatError> {
    if name.len() > 2 && name.starts_with("on") {
        report.add(ActionKind::RemovedEventListener, name, format!("on <{tag}>"));
        return Ok(());
    }
    if name == "srcdoc" {
        report.add(ActionKind::RemovedEmbeddedFrame, format!("<{tag} srcdoc>"), String::new());
        return Ok(());
    }
    let kept = fate == Fate::Kept && allowed_attribute(tag, name);
    if name == "style" {
        for (kind, what) in css::filter_declarations(value, opts.max_nesting)?.1 {
            report.add(kind, format!("<{tag} style>"), what);
        }
        return Ok(());
    }
    let candidates: Vec<&str> = if name == "srcset" || name == "imagesrcset" {
        value.split(',').filter_map(|c| c.split_whitespace().next()).collect()
    } else if URL_ATTRIBUTES.contains(&name) {
        vec![value]
    } else {
        return Ok(());
    };
    if kept && keep_attribute(tag, name, value, opts).is_some() {
        return Ok(());
    }
    for url in candidates {
        let class = urls::classify(url);
        let place = format!("<{tag} {name}>");
        if class.is_dangerous() {
            report.add(class.action(), place, urls::shown(url));
        } else if element_reported || fate == Fate::Dropped {
            // Gone with its element, which is reported (or inside one that is).
        } else if class == UrlClass::Fragment && !(tag == "a" && name == "href") {
            // A place in the same page: nothing to report when it goes.
        } else if tag == "a" && name == "href" && opts.links == HtmlLinks::Inert {
            if class != UrlClass::Fragment {
                report.add(ActionKind::RemovedExternalReference, "<a href> made inert", urls::shown(url));
            }
        } else {
            report.add(ActionKind::RemovedExternalReference, place, urls::shown(url));
        }
    }
    Ok(())
}

/// Block elements: they start and end lines in the text output.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "caption",
    "center",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
];

/// Blocks followed by an empty line.
const PARAGRAPHS: &[&str] = &["p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre"];

fn text_of(fragment: &Html, opts: &HtmlOptions, budget: &Budget) -> Result<String, FormatError> {
    let mut w = TextWriter::default();
    let mut pre = 0u32;
    let mut lists = 0u32;
    // For each open link: where its text started and its target.
    let mut links: Vec<(usize, String)> = Vec::new();
    let mut count: u64 = 0;
    for edge in fragment.tree.root().traverse() {
        count += 1;
        if count.is_multiple_of(16_384) {
            budget.check_time()?;
        }
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Text(t) => {
                    if pre > 0 {
                        w.raw(t);
                    } else {
                        w.words(t);
                    }
                }
                Node::Element(el) => {
                    let tag = el.name();
                    if BLOCKS.contains(&tag) {
                        w.line();
                    }
                    match tag {
                        "pre" => pre += 1,
                        "ul" | "ol" => lists += 1,
                        "li" => {
                            w.raw(&"  ".repeat(lists.saturating_sub(1) as usize));
                            w.raw("- ");
                        }
                        "br" => w.raw("\n"),
                        "hr" => {
                            w.line();
                            w.raw("----------------------------------------\n");
                        }
                        "img" => {
                            let alt = el.attr("alt").unwrap_or_default().trim();
                            if !alt.is_empty() {
                                w.words(&format!("[{alt}]"));
                            }
                        }
                        "a" => links.push((w.out.len(), el.attr("href").unwrap_or_default().to_string())),
                        _ => {}
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                let Node::Element(el) = node.value() else { continue };
                let tag = el.name();
                match tag {
                    "pre" => pre = pre.saturating_sub(1),
                    "ul" | "ol" => lists = lists.saturating_sub(1),
                    "td" | "th" => w.raw("\t"),
                    "a" => {
                        if let Some((start, href)) = links.pop() {
                            let shown = w.out.get(start..).unwrap_or_default().trim().to_string();
                            let class = urls::classify(&href);
                            let target = href.trim();
                            let bare = target
                                .get(..7)
                                .filter(|p| p.eq_ignore_ascii_case("mailto:"))
                                .map(|_| &target[7..])
                                .or_else(|| {
                                    target.get(..4).filter(|p| p.eq_ignore_ascii_case("tel:")).map(|_| &target[4..])
                                })
                                .unwrap_or(target);
                            if opts.links == HtmlLinks::Keep
                                && !href.is_empty()
                                && class != UrlClass::Fragment
                                && shown != target
                                && shown != bare
                            {
                                w.words(&format!(" <{}>", href.trim()));
                            }
                        }
                    }
                    _ => {}
                }
                if BLOCKS.contains(&tag) {
                    w.line();
                    if PARAGRAPHS.contains(&tag) {
                        w.blank();
                    }
                }
            }
        }
    }
    Ok(w.finish())
}

#[derive(Default)]
struct TextWriter {
    out: String,
    /// Newlines wanted before the next text (1: a line break, 2: an empty line).
    pending: u8,
}

impl TextWriter {
    fn flush(&mut self) {
        if self.pending > 0 && !self.out.is_empty() {
            while self.out.ends_with([' ', '\t']) {
                self.out.pop();
            }
            let have = self.out.chars().rev().take_while(|&c| c == '\n').count() as u8;
            for _ in have..self.pending {
                self.out.push('\n');
            }
        }
        self.pending = 0;
    }

    fn line(&mut self) {
        self.pending = self.pending.max(1);
    }

    fn blank(&mut self) {
        self.pending = 2;
    }

    fn raw(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.flush();
        self.out.push_str(s);
    }

    /// Text with its white space collapsed as HTML collapses it: ASCII white space only (an
    /// ideographic space, U+3000, is text and stays).
    fn words(&mut self, s: &str) {
        let mut first = true;
        let starts_with_space = s.starts_with(|c: char| c.is_ascii_whitespace());
        let ends_with_space = s.ends_with(|c: char| c.is_ascii_whitespace());
        let mut any = false;
        for word in s.split_ascii_whitespace() {
            if first {
                self.flush();
                let at_line_start = self.out.is_empty() || self.out.ends_with(['\n', '\t', ' ']);
                if starts_with_space && !at_line_start {
                    self.out.push(' ');
                }
                first = false;
            } else {
                self.out.push(' ');
            }
            self.out.push_str(word);
            any = true;
        }
        // White space after the words, or white space alone, separates from what follows.
        let space_alone = !any && !s.is_empty() && !self.out.is_empty() && !self.out.ends_with(['\n', '\t', ' ']);
        if (any && ends_with_space) || space_alone {
            self.out.push(' ');
        }
    }

    fn finish(self) -> String {
        let mut lines: Vec<&str> = self.out.lines().map(str::trim_end).collect();
        while lines.first().is_some_and(|l| l.is_empty()) {
            lines.remove(0);
        }
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let mut out = String::with_capacity(self.out.len() + 1);
        let mut empty = 0;
        for l in lines {
            if l.is_empty() {
                empty += 1;
                if empty > 1 {
                    continue;
                }
            } else {
                empty = 0;
            }
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn opts() -> HtmlOptions {
        HtmlOptions::from_config(&Config::default())
    }

    fn budget() -> Budget {
        Budget::new(&Config::default().limits)
    }

    fn clean(html: &str) -> (String, Vec<ActionKind>) {
        let (out, actions) = sanitize_html(html, &opts(), &budget()).unwrap();
        (out, actions.into_iter().map(|a| a.action).collect())
    }

    #[test]
    fn scripts_handlers_and_script_urls_go() {
        let (out, kinds) = clean(
            "<html><body onload=x()><p onclick='y()'>Hello</p><script>alert(1)</script>\
             <a href=' jav&#x09;ascript:alert(1)'>link</a><img src=\"https://example.org/a.png\"></body></html>",
        );
        assert!(!out.contains("alert"), "{out}");
        assert!(!out.contains("onclick") && !out.contains("onload"), "{out}");
        assert!(out.contains("Hello") && out.contains("link"), "{out}");
        assert!(out.contains("https://example.org/a.png"), "{out}");
        assert!(kinds.contains(&ActionKind::RemovedScript));
        assert!(kinds.contains(&ActionKind::RemovedEventListener));
        assert!(kinds.contains(&ActionKind::RemovedJavascript));
    }

    #[test]
    fn nothing_to_remove_means_no_actions_and_a_second_pass_changes_nothing() {
        let page = "<html><head><title>T &amp; x</title><style>p { color: red }</style></head><body>\
                    <h1>見出し</h1><p style=\"color: blue\">本文 <a href=\"https://example.org/\">link</a></p>\
                    <table><tr><td>1</td></tr></table></body></html>";
        let (out, kinds) = clean(page);
        assert!(kinds.is_empty(), "{kinds:?}");
        assert!(out.contains("<style>p { color: red }</style>"), "{out}");
        let (again, kinds) = clean(&out);
        assert!(kinds.is_empty(), "{kinds:?}");
        assert_eq!(again, out);
    }

    /// Found by `properties::property_markup_mutations`: one flipped byte put U+001D in a page;
    /// the cleaned page, shorter, no longer read as text and was refused on a second pass.
    #[test]
    fn control_characters_come_out_as_replacement_characters() {
        let page = "<p>a\u{1D}b <a href=\"https://example.org/\" title=\"x\u{1}y\">l&#1;</a></p>";
        let (out, _) = sanitize_html(page, &opts(), &budget()).unwrap();
        let control = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{C}');
        assert!(!out.contains(control), "{out:?}");
        assert!(out.contains("a\u{FFFD}b") && out.contains("x\u{FFFD}y"), "{out}");
        let (again, actions) = sanitize_html(&out, &opts(), &budget()).unwrap();
        assert_eq!((again.as_str(), actions.len()), (out.as_str(), 0));
        let (text, _) = html_to_text(page, &opts(), &budget()).unwrap();
        assert!(!text.contains(control), "{text:?}");
    }

    #[test]
    fn inert_links_keep_their_text() {
        let o = HtmlOptions { links: HtmlLinks::Inert, ..opts() };
        let (out, actions) = sanitize_html("<p><a href=\"https://example.org/\">site</a></p>", &o, &budget()).unwrap();
        assert!(!out.contains("href") && out.contains("site"), "{out}");
        assert_eq!(actions[0].action, ActionKind::RemovedExternalReference);
    }

    #[test]
    fn text_output_has_lines_lists_and_link_targets() {
        let (text, _) = html_to_text(
            "<h1>Title</h1><p>One <b>two</b>\u{3000}three</p><ul><li>a</li><li>b</li></ul>\
             <p><a href=\"https://example.org/\">site</a> end <a href=\"mailto:a@example.org\">a@example.org</a></p>\
             <table><tr><td>x</td><td>y</td></tr></table>",
            &opts(),
            &budget(),
        )
        .unwrap();
        assert_eq!(
            text,
            "Title\n\nOne two\u{3000}three\n\n- a\n- b\n\nsite <https://example.org/> end a@example.org\n\nx\ty\n"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "<div>".repeat(300);
        let e = sanitize_html(&deep, &opts(), &budget()).unwrap_err();
        assert_eq!(e.reason, Reason::LimitXmlDepth);
    }
}
