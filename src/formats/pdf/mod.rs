//! PDF: structural disarm and a complete rewrite.
//!
//! The file is parsed into its object graph (lopdf: cross-reference tables and streams, object
//! streams, incremental updates merged, damaged cross-reference data rebuilt), so names written
//! with `#xx` escapes, objects hidden in object streams and objects of older revisions are seen
//! for what they are. Then, in order:
//!
//! 1. the structure is checked: a catalog, a page tree without loops within `max_nesting`, at
//!    least one page;
//! 2. objects nothing reaches from the trailer are dropped (reported when they held active
//!    content: a hidden payload);
//! 3. the catalog loses its automatic open action (a destination or a plain GoTo stays), its
//!    JavaScript name tree, alternate presentations and renditions;
//! 4. attachments go through the engine as child items (see the `embedded` module);
//! 5. every remaining object is swept (see the `clean` module): additional actions, scripts,
//!    XFA, rich media, dangerous actions and links wherever they hang, and signatures the
//!    rewrite breaks;
//! 6. what nothing references any more is dropped, and a final check refuses the output if any
//!    active content survived (a bug is a block, never a pass);
//! 7. every stream kept is decoded within the limits (a stream that inflates to gigabytes is
//!    refused; one whose compressed data is damaged is rebuilt from what decodes);
//! 8. the objects are renumbered and written as a new file with one cross-reference table:
//!    never an incremental update, so no old revision survives in the bytes.

mod clean;
mod embedded;
mod graph;
mod load;
mod streams;

use crate::config::LinkPolicy;
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind};
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Disarms a PDF and writes it anew.
pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let loaded = load::load(data, ctx.budget)?;
    let mut pdf = Pdf::new(loaded.doc, ctx)?;
    if loaded.decrypted {
        pdf.report(
            ActionKind::RemovedEncryption,
            "document",
            "encrypted with an empty user password; written without encryption",
        );
    }
    if loaded.repaired {
        tracing::debug!("PDF cross-reference data rebuilt by scanning the file");
    }
    pdf.check_page_tree()?;
    pdf.drop_unreachable(true)?;
    pdf.clean_catalog()?;
    pdf.drop_unreachable(false)?;
    pdf.embedded_files()?;
    pdf.sweep()?;
    pdf.drop_unreachable(false)?;
    // What was removed must not have taken the pages: the output has a page tree with pages.
    pdf.check_page_tree().map_err(|e| FormatError::new(e.reason, format!("once cleaned: {}", e.detail)))?;
    pdf.verify_clean()?;
    pdf.check_streams()?;
    let data = pdf.write(loaded.compact)?;
    Ok(Disarmed { name: None, data, kind: Kind::Pdf, actions: pdf.into_actions() })
}

/// What [`decrypt`] made of a PDF.
pub enum Decrypted {
    /// The document opens without a password (the disarm reads it as it is).
    NotEncrypted,
    /// The same document written without encryption.
    Pdf(Vec<u8>),
}

/// Decrypts a PDF that needs a password to open, with `password` (the user or the owner
/// password), loading it within the same limits as the disarm, and writes it without
/// encryption, for a release with the password; the result then goes through the engine.
/// A wrong password is [`Reason::Encrypted`]; a security handler other than the standard one
/// (certificates) is [`Reason::Unsupported`].
pub fn decrypt(data: &[u8], password: &str, budget: &crate::engine::Budget) -> Result<Decrypted, FormatError> {
    match load::load(data, budget) {
        Ok(_) => return Ok(Decrypted::NotEncrypted),
        Err(e) if e.reason == crate::model::Reason::Encrypted && !e.detail.starts_with("encrypted with the") => {}
        Err(e) if e.reason == crate::model::Reason::Encrypted => {
            return Err(FormatError::new(crate::model::Reason::Unsupported, e.detail))
        }
        Err(e) => return Err(e),
    }
    let mut loaded = load::load_with(data, budget, Some(password))?;
    // lopdf took the encryption dictionary out when it decrypted; without its state the
    // document is written in the clear.
    loaded.doc.encryption_state = None;
    let mut out = Vec::new();
    loaded.doc.save_to(&mut out).map_err(|e| FormatError::malformed(format!("writing the decrypted PDF: {e}")))?;
    Ok(Decrypted::Pdf(out))
}

/// Why an object is taken out of the document, and whether a removal of it was reported yet.
#[derive(Debug, Clone)]
struct Ban {
    action: ActionKind,
    detail: String,
    reported: bool,
}

/// A document being disarmed.
struct Pdf<'c, 'a> {
    objects: BTreeMap<ObjectId, Object>,
    trailer: Dictionary,
    version: String,
    ctx: &'c Context<'a>,
    root: ObjectId,
    /// Pages and the catalog by the names reports use for them.
    labels: HashMap<ObjectId, String>,
    /// Objects to cut out: every reference to them is removed.
    banned: HashMap<ObjectId, Ban>,
    /// Streams whose bytes this rewrite produced (already known to decode).
    made_streams: HashSet<ObjectId>,
    /// Reports, counted: the same removal at the same place is one line.
    reports: BTreeMap<(ActionKind, String, String), usize>,
    /// Actions of attachments, already placed under the attachment.
    child_actions: Vec<Action>,
}

impl<'c, 'a> Pdf<'c, 'a> {
    fn new(doc: Document, ctx: &'c Context<'a>) -> Result<Self, FormatError> {
        let root = doc
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| FormatError::malformed("the trailer names no document catalog"))?;
        let mut labels = HashMap::new();
        labels.insert(root, "catalog".to_string());
        Ok(Pdf {
            version: clean_version(&doc.version),
            objects: doc.objects,
            trailer: doc.trailer,
            ctx,
            root,
            labels,
            banned: HashMap::new(),
            made_streams: HashSet::new(),
            reports: BTreeMap::new(),
            child_actions: Vec::new(),
        })
    }

    fn links(&self) -> LinkPolicy {
        self.ctx.config.pdf.links
    }

    /// Whether attachments the engine kept may stay (`[pdf] embedded_files = "disarm"`).
    fn files_allowed(&self) -> bool {
        self.ctx.config.pdf.embedded_files == crate::config::EmbeddedPolicy::Disarm
    }

    fn max_nesting(&self) -> u32 {
        self.ctx.budget.limits().max_nesting
    }

    /// How reports name an object: `catalog`, `page 3`, or `obj 12`.
    fn label(&self, id: ObjectId) -> String {
        match self.labels.get(&id) {
            Some(l) => l.clone(),
            None => format!("obj {}", id.0),
        }
    }

    fn report(&mut self, action: ActionKind, part: impl Into<String>, detail: impl Into<String>) {
        *self.reports.entry((action, part.into(), detail.into())).or_insert(0) += 1;
    }

    /// Reports the removal of a reference to a banned object, once per object.
    fn report_ban(&mut self, id: ObjectId, at: &str) {
        if let Some(b) = self.banned.get_mut(&id) {
            if !b.reported {
                b.reported = true;
                let (action, detail) = (b.action, b.detail.clone());
                self.report(action, at, detail);
            }
        }
    }

    fn catalog(&self) -> Result<&Dictionary, FormatError> {
        self.objects
            .get(&self.root)
            .and_then(|o| o.as_dict().ok())
            .ok_or_else(|| FormatError::malformed("the document catalog is missing or not a dictionary"))
    }

    /// The catalog's name dictionary, direct in the catalog or an object of its own.
    fn names_dict_mut(&mut self) -> Option<&mut Dictionary> {
        let names = match self.objects.get(&self.root)? {
            Object::Dictionary(c) => c.get(b"Names").ok()?,
            _ => return None,
        };
        match names {
            Object::Reference(id) => {
                let id = *id;
                match self.objects.get_mut(&id)? {
                    Object::Dictionary(d) => Some(d),
                    _ => None,
                }
            }
            Object::Dictionary(_) => match self.objects.get_mut(&self.root)? {
                Object::Dictionary(c) => match c.get_mut(b"Names").ok()? {
                    Object::Dictionary(d) => Some(d),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    fn dict(&self, id: ObjectId) -> Option<&Dictionary> {
        match self.objects.get(&id)? {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    /// A dictionary given directly or by reference.
    fn resolve_dict<'o>(&'o self, o: &'o Object) -> Option<&'o Dictionary> {
        match o {
            Object::Dictionary(d) => Some(d),
            Object::Reference(id) => self.dict(*id),
            _ => None,
        }
    }

    fn into_actions(self) -> Vec<Action> {
        let mut out: Vec<Action> = self
            .reports
            .into_iter()
            .map(|((action, part, detail), n)| {
                let detail = if n > 1 { format!("{detail} ({n} times)") } else { detail };
                if detail.is_empty() {
                    Action::new(action, part)
                } else {
                    Action::with_detail(action, part, detail)
                }
            })
            .collect();
        out.extend(self.child_actions);
        out
    }
}

/// `1.7` stays; anything that is not `digit.digit` becomes `1.7`.
fn clean_version(v: &str) -> String {
    let b = v.as_bytes();
    if b.len() == 3 && b[0].is_ascii_digit() && b[1] == b'.' && b[2].is_ascii_digit() {
        v.to_string()
    } else {
        "1.7".to_string()
    }
}

/// A name value, if `o` is one.
fn name(o: &Object) -> Option<&[u8]> {
    match o {
        Object::Name(n) => Some(n),
        _ => None,
    }
}

fn get_name<'d>(d: &'d Dictionary, key: &[u8]) -> Option<&'d [u8]> {
    d.get(key).ok().and_then(name)
}

/// A readable form of a PDF name or string for reports.
fn show(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    s.chars().filter(|c| !c.is_control()).take(120).collect()
}
