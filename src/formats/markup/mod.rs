//! Markup that can carry scripts: HTML, SVG and XML.
//!
//! - HTML ([`html`]): decoded to UTF-8 whatever its character set ([`charset`]), cleaned with an
//!   allow-list (ammonia) and written anew as UTF-8 HTML, or as plain text (`[html] output`).
//! - SVG ([`svg`]): rewritten with an allow-list of SVG elements and attributes; scripts,
//!   handlers, foreign objects, animations of links and every reference out of the file go.
//! - XML ([`xml`]): parsed whole and written back without style sheet instructions and XInclude;
//!   a document type declaration, or XHTML, SVG or XSLT markup inside, blocks it.
//! - Office 2003 XML (Word and Excel XML, flat OPC) can carry VBA and OLE objects in base64:
//!   blocked as unsupported, since it cannot be rebuilt here.
//!
//! Style (CSS) is checked with one tokenizer for all of them ([`css`]), URLs are read as
//! browsers read them ([`urls`]).

pub mod charset;
pub mod css;
pub mod html;
pub mod svg;
pub mod urls;
pub mod xml;

pub use html::{html_to_text, sanitize_html, HtmlOptions};

use crate::config::HtmlOutput;
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind, Reason};
use std::collections::HashMap;

pub fn disarm(kind: Kind, data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    match kind {
        Kind::Html => disarm_html(data, ctx),
        Kind::Svg => svg::disarm(data, ctx),
        Kind::Xml => xml::disarm(data, ctx),
        Kind::OfficeXml => Err(FormatError::new(
            Reason::Unsupported,
            "Office 2003 XML document (may carry VBA and OLE objects in base64): not rebuilt",
        )),
        _ => Err(FormatError::new(Reason::Unsupported, format!("{kind} is not markup"))),
    }
}

fn disarm_html(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let (text, _) = charset::decode(data)?;
    ctx.budget.charge_bytes(text.len() as u64)?;
    let opts = HtmlOptions::from_config(ctx.config);
    match ctx.config.html.output {
        HtmlOutput::Html => {
            let (out, actions) = sanitize_html(&text, &opts, ctx.budget)?;
            Ok(Disarmed { name: None, data: out.into_bytes(), kind: Kind::Html, actions })
        }
        HtmlOutput::Text => {
            let (out, actions) = html_to_text(&text, &opts, ctx.budget)?;
            Ok(Disarmed { name: None, data: out.into_bytes(), kind: Kind::Text, actions })
        }
    }
}

/// The character set an XML declaration names (`<?xml version="1.0" encoding="Shift_JIS"?>`),
/// if the document starts with one that names one.
pub fn charset_label_of_xml(data: &[u8]) -> Option<String> {
    let head = &data[..data.len().min(512)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + 8..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// What the report pass collects: one action per kind and place, with how many times.
#[derive(Default)]
pub struct Report {
    order: Vec<(ActionKind, String)>,
    seen: HashMap<(ActionKind, String), (usize, String)>,
}

impl Report {
    pub fn add(&mut self, kind: ActionKind, place: impl Into<String>, example: impl Into<String>) {
        let key = (kind, place.into());
        match self.seen.get_mut(&key) {
            Some((n, _)) => *n += 1,
            None => {
                self.order.push(key.clone());
                self.seen.insert(key, (1, example.into()));
            }
        }
    }

    pub fn into_actions(self) -> Vec<Action> {
        let mut seen = self.seen;
        self.order
            .into_iter()
            .map(|key| {
                let (n, example) = seen.remove(&key).unwrap_or_default();
                let detail = match (n, example.is_empty()) {
                    (1, true) => String::new(),
                    (1, false) => example,
                    (n, true) => format!("{n} times"),
                    (n, false) => format!("{n} times, e.g. {example}"),
                };
                if detail.is_empty() {
                    Action::new(key.0, key.1)
                } else {
                    Action::with_detail(key.0, key.1, detail)
                }
            })
            .collect()
    }
}
