//! Format modules: pure functions from bytes to rebuilt bytes plus the actions taken.
//!
//! A format module never touches files, sockets, clocks or threads. It is handed a [`Context`]
//! that carries the shared budget (checked in every loop over untrusted input), the configuration
//! and a way to hand child items (embedded documents) back to the engine.

pub mod archive;
pub mod markup;
pub mod mime;
pub mod odf;
pub mod ole2;
pub mod ooxml;
pub mod pdf;
pub mod rtf;
pub mod text;
pub mod xml;
pub mod zipread;

use crate::config::Config;
use crate::engine::{Budget, Outcome};
use crate::model::{Action, Item, Kind, Reason};

/// Why a format could not produce a clean rebuild.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct FormatError {
    pub reason: Reason,
    pub detail: String,
}

impl FormatError {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        FormatError { reason, detail: detail.into() }
    }
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(Reason::Malformed, detail)
    }
}

/// A rebuilt item.
#[derive(Debug, Clone)]
pub struct Disarmed {
    pub data: Vec<u8>,
    /// The kind of the rebuilt bytes (a docm becomes a docx).
    pub kind: Kind,
    /// What was removed or changed, with parts relative to this item.
    pub actions: Vec<Action>,
    /// The name the output should carry, when the format knows better than the extension rule
    /// (`x.docm.gz` holding what is now a docx becomes `x.docx.gz`); `None` keeps the rule.
    pub name: Option<String>,
}

/// Hands child items back to the engine.
pub trait Children: Sync {
    /// Processes the items (in parallel) one level deeper than the container; outcomes come back
    /// in the same order.
    fn process(&self, items: Vec<Item>, depth: u32, budget: &Budget) -> Vec<Outcome>;
}

/// Everything a format call may use.
pub struct Context<'a> {
    pub budget: &'a Budget,
    pub config: &'a Config,
    /// Depth of the item being disarmed (0 = the input itself).
    pub depth: u32,
    /// The name the item arrived with, if any (never trusted for its kind).
    pub name: Option<&'a str>,
    pub children: &'a dyn Children,
}

/// Adds a child item's actions to its container's, with their parts placed under the part
/// (or attachment name) that held the child.
pub fn adopt_child_actions(into: &mut Vec<Action>, part: &str, actions: Vec<Action>) {
    into.extend(actions.into_iter().map(|a| Action {
        action: a.action,
        part: format!("{part}/{}", a.part),
        reason: a.reason,
        detail: a.detail,
    }));
}

/// Disarms `data` of the given kind; `Unsupported` for kinds without a format module yet.
pub fn disarm(kind: Kind, data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    match kind {
        Kind::EncryptedOffice => {
            Err(FormatError::new(Reason::Encrypted, "password-protected Office document (encrypted package)"))
        }
        // A hostile zip of any kind has already been refused, with its own named reason, by
        // detection (which opens zips with the same validated reader).
        Kind::OoxmlOther => {
            Err(FormatError::new(Reason::Unsupported, "Office package whose main part is not a known document"))
        }
        k if k.family() == crate::model::Family::Ooxml => ooxml::disarm(kind, data, ctx),
        Kind::Pdf => pdf::disarm(data, ctx),
        k if k.family() == crate::model::Family::Ole2 => ole2::disarm(kind, data, ctx),
        k if k.family() == crate::model::Family::Odf => odf::disarm(kind, data, ctx),
        Kind::Rtf => rtf::disarm(data, ctx),
        Kind::Zip => archive::ziparc::disarm(data, ctx),
        Kind::Text | Kind::Sylk => text::disarm(kind, data, ctx),
        Kind::Empty => Ok(Disarmed { name: None, data: Vec::new(), kind, actions: Vec::new() }),
        Kind::Gzip => archive::gzip::disarm(data, ctx),
        Kind::Tar => archive::tar::disarm(data, ctx),
        Kind::SevenZip => archive::sevenz::disarm(data, ctx),
        Kind::Lzh => archive::lzh::disarm(data, ctx),
        Kind::Rar | Kind::Cab => Err(FormatError::new(
            Reason::Unsupported,
            format!("{kind} archives: no maintained pure-Rust reader to unpack them with"),
        )),
        k if k.family() == crate::model::Family::Markup => markup::disarm(kind, data, ctx),
        Kind::Eml => mime::disarm(data, ctx),
        _ => Err(FormatError::new(Reason::Unsupported, format!("no disarm for {kind} yet"))),
    }
}
