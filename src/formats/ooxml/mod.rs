//! OOXML (Office Open XML) disarm: Word, Excel, PowerPoint and Visio packages, macro-enabled
//! variants included.
//!
//! The package is rebuilt, not patched:
//! 1. the zip is opened and validated (see `zipread`: duplicate, overlapping or inconsistent
//!    entries, path tricks, bombs, encryption and odd compression methods are refused), and every
//!    part is decompressed with its CRC checked;
//! 2. dangerous parts are chosen by content type, name and the relationships that reach them:
//!    VBA projects and their companions, macro and dialog sheets, ActiveX controls, OLE objects,
//!    custom UI, data connections, web add-ins, external link parts; relationships to anything
//!    outside the package go too, except web hyperlinks as the policy allows;
//! 3. embedded packages go back through the engine; a clean one is kept, anything else removed;
//! 4. every XML part is streamed through [`rewrite`], which drops each reference to what was
//!    removed, dangerous Word field codes (keeping their results), DDE and external-workbook
//!    formulas (keeping their values), auto-run names and program actions;
//! 5. parts no relationship reaches any more (or never did: hidden payloads) are dropped, the
//!    macro-enabled main content type becomes its macro-free twin, and a new zip is written:
//!    unchanged parts are copied without recompression, rewritten parts are deflated with a fixed
//!    timestamp so the same input always gives the same bytes.
//!
//! Binary workbooks (xlsb) linked to other workbooks are disarmed by [`xlsb`] (formulas keep
//! their cached values, names reading a link become `#REF!`).
//!
//! What this module refuses: other binary parts (xlsb) that would need their records rewritten
//! to drop a reference are not edited; such packages are blocked as unsupported.

pub mod content_types;
pub(crate) mod fields;
pub mod package;
pub mod rewrite;
pub mod xlsb;

use crate::config::EmbeddedPolicy;
use crate::config::HyperlinkPolicy;
use crate::formats::zipread::{self, Entry, ZipIndex};
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Family, Item, Kind, Reason, Verdict};
use package::{ContentTypes, Rel};
use rayon::prelude::*;
use rewrite::{PartPlan, Role};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::io::{Cursor, Write};

pub use content_types::package_kind;

const CONTENT_TYPES: &str = "[content_types].xml";

/// How much of a binary part is kept after verifying it: enough for every magic number detection
/// looks at (disk images put theirs at 32 KiB).
const HEAD_BYTES: usize = 64 * 1024;

fn looks_like_markup(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".xml") || n.ends_with(".rels") || n.ends_with(".vml")
}

/// Relationship types whose target is never referenced by id inside the source part, so they can
/// be removed from binary (xlsb) parts too.
const IMPLICIT_RELS: &[&str] = &[
    "vbaproject",
    "vbaprojectsignature",
    "vbaprojectsignatureagile",
    "vbaprojectsignaturev3",
    "wordvbadata",
    "keymapcustomizations",
    "attachedtoolbars",
    "calcchain",
    "extensibility",
    "connections",
    "webextension",
    "webextensiontaskpanes",
    "taskpanes",
    "origin",
];

struct Part {
    /// The name as stored in the zip.
    name: String,
    entry: Entry,
    /// The part's bytes; for a binary part that has only been verified, just its first bytes
    /// (see `full`).
    data: Vec<u8>,
    full: bool,
    /// Replacement bytes, when the part was rewritten.
    new_data: Option<Vec<u8>>,
}

struct Rebuild<'c, 'a> {
    ctx: &'c Context<'a>,
    parts: BTreeMap<String, Part>,
    ct: ContentTypes,
    rels: BTreeMap<String, Vec<Rel>>,
    removed_parts: BTreeSet<String>,
    removed_rels: HashMap<String, HashSet<String>>,
    /// Parts handed to the engine as child items (their result is the engine's, not rewritten).
    children: HashSet<String>,
    actions: Vec<Action>,
}

pub fn disarm(kind: Kind, data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let budget = ctx.budget;
    let max_depth = ctx.config.limits.max_xml_depth;
    let zip = ZipIndex::open(data, budget)?;
    let entries: Vec<Entry> = zip.entries().iter().filter(|e| !e.is_dir).cloned().collect();
    // Every part is inflated and CRC-checked, in parallel. Markup is kept whole for rewriting;
    // other parts (pictures, mostly) are only verified, keeping their first bytes to tell their
    // type, and read whole later only if they turn out to be needed.
    let contents: Vec<(Vec<u8>, bool)> = entries
        .par_iter()
        .map(|e| {
            if looks_like_markup(&e.name) {
                zip.read(e, budget).map(|d| (d, true))
            } else {
                zip.verify(e, budget, HEAD_BYTES).map(|d| (d, false))
            }
        })
        .collect::<Result<_, _>>()?;
    let mut parts = BTreeMap::new();
    for (entry, (data, full)) in entries.into_iter().zip(contents) {
        let key = entry.name.trim_start_matches('/').to_lowercase();
        parts.insert(key, Part { name: entry.name.clone(), entry, data, full, new_data: None });
    }
    let ct_data = &parts.get(CONTENT_TYPES).ok_or_else(|| FormatError::malformed("no [Content_Types].xml"))?.data;
    let ct = ContentTypes::parse(ct_data, max_depth)?;
    let mut rels = BTreeMap::new();
    for (key, part) in &parts {
        if let Some(source) = package::rels_source(key) {
            rels.insert(source.clone(), package::parse_rels(&part.data, &part.name, &source, max_depth)?);
        }
    }
    let is_main = |r: &Rel| !r.external && content_types::MAIN_DOCUMENT_RELS.contains(&r.ty.as_str());
    if !rels.get("").map(|r| r.iter().any(is_main)).unwrap_or(false) {
        return Err(FormatError::malformed("no main document relationship in _rels/.rels"));
    }
    // The main part must be there: a package whose main relationship points nowhere would be
    // rebuilt without its document (every part of it unreferenced) and passed on as clean.
    let main_found = |r: &Rel| is_main(r) && r.resolved.as_ref().is_some_and(|t| parts.contains_key(t));
    let Some(main_part) = rels.get("").and_then(|r| r.iter().find(|r| main_found(r))).and_then(|r| r.resolved.clone())
    else {
        return Err(FormatError::malformed("the main document relationship in _rels/.rels points at no part"));
    };
    let mut rb = Rebuild {
        ctx,
        parts,
        ct,
        rels,
        removed_parts: BTreeSet::new(),
        removed_rels: HashMap::new(),
        children: HashSet::new(),
        actions: Vec::new(),
    };
    rb.classify_parts();
    let children = rb.classify_rels();
    rb.process_children(&zip, children)?;
    rb.drop_rels_to_removed_parts();
    let out_kind = kind.macro_free_twin();
    rb.rewrite_parts(&zip, kind)?;
    // Any change (the content type conversion included) invalidates a package signature.
    if !rb.actions.is_empty() || kind != out_kind {
        rb.drop_signatures();
    }
    rb.drop_unreachable();
    // Whatever was removed, the document itself must remain (a main part without a content
    // type would otherwise go as a part of an unknown kind, and the package with it).
    if rb.removed_parts.contains(&main_part) {
        return Err(FormatError::malformed(format!("the main document part {main_part} would be removed")));
    }
    let bytes = rb.write(&zip, kind, out_kind)?;
    let mut actions = rb.actions;
    if kind != out_kind {
        actions.push(Action::with_detail(
            ActionKind::ConvertedToMacroFree,
            "[Content_Types].xml",
            format!("{kind} -> {out_kind}"),
        ));
    }
    Ok(Disarmed { name: None, data: bytes, kind: out_kind, actions })
}

/// Removal rule for a part, judged from its content type and name alone.
fn dangerous_part(key: &str, ct: &str) -> Option<ActionKind> {
    let ct = ct.to_ascii_lowercase();
    let base = key.rsplit('/').next().unwrap_or(key);
    let in_dir = |d: &str| key.starts_with(&format!("{d}/")) || key.contains(&format!("/{d}/"));
    if ct.contains("vbaprojectsignature") || base.starts_with("vbaprojectsignature") {
        return Some(ActionKind::RemovedVbaCompanion);
    }
    if ct.contains("vbaproject") || base == "vbaproject.bin" {
        return Some(ActionKind::RemovedVbaProject);
    }
    if ct.contains("vbadata")
        || base == "vbadata.xml"
        || ct.contains("keymapcustomizations")
        || ct.contains("attachedtoolbars")
    {
        return Some(ActionKind::RemovedVbaCompanion);
    }
    if ct.contains("activex") || in_dir("activex") {
        return Some(ActionKind::RemovedActivex);
    }
    if ct.contains("macrosheet") || ct.contains("dialogsheet") || in_dir("macrosheets") || in_dir("intlmacrosheets") {
        return Some(ActionKind::RemovedMacroSheet);
    }
    if ct.contains("oleobject") {
        return Some(ActionKind::RemovedOleObject);
    }
    if in_dir("customui") && (ct.ends_with("xml") || base.ends_with(".xml")) {
        return Some(ActionKind::RemovedCustomUi);
    }
    if ct.contains("connections+xml") || ct.contains("querytable+xml") {
        return Some(ActionKind::RemovedDataConnection);
    }
    if ct.contains("webextension") || ct.contains("taskpanes") {
        return Some(ActionKind::RemovedWebExtension);
    }
    None
}

fn is_xml_part(key: &str, ct: &str) -> bool {
    let ct = ct.to_ascii_lowercase();
    ct.ends_with("+xml") || ct == "application/xml" || ct == "text/xml" || key.ends_with(".xml")
}

fn is_web_link(target: &str) -> bool {
    let t = target.trim().to_ascii_lowercase();
    t.starts_with("http://") || t.starts_with("https://") || t.starts_with("mailto:")
}

impl<'c, 'a> Rebuild<'c, 'a> {
    fn remove_part(&mut self, key: &str, action: Option<ActionKind>, detail: Option<String>) {
        if !self.parts.contains_key(key) || self.removed_parts.contains(key) {
            return;
        }
        if let Some(a) = action {
            let name = self.parts[key].name.clone();
            self.actions.push(match &detail {
                Some(d) => Action::with_detail(a, name, d.clone()),
                None => Action::new(a, name),
            });
        }
        self.removed_parts.insert(key.to_string());
    }

    /// Removes the workbook's calculation chain after formulas were removed: it lists every
    /// formula cell, and a stale one makes Excel repair the file; without it Excel simply
    /// rebuilds the chain.
    fn drop_calc_chain(&mut self) {
        let calc: Vec<(String, String, String)> = self
            .rels
            .iter()
            .flat_map(|(s, rs)| rs.iter().map(move |r| (s.clone(), r.clone())))
            .filter(|(_, r)| r.short == "calcchain")
            .filter_map(|(s, r)| r.resolved.clone().map(|t| (s, r.id.clone(), t)))
            .collect();
        for (s, id, t) in calc {
            self.remove_rel(&s, &id);
            self.remove_part(&t, Some(ActionKind::RemovedCalcChain), None);
        }
    }

    fn remove_rel(&mut self, source: &str, id: &str) {
        self.removed_rels.entry(source.to_string()).or_default().insert(id.to_string());
    }

    /// Parts that are dangerous by what they are.
    fn classify_parts(&mut self) {
        let keys: Vec<String> = self.parts.keys().cloned().collect();
        for key in keys {
            if key == CONTENT_TYPES || package::rels_source(&key).is_some() {
                continue;
            }
            let ct = self.ct.of(&key).unwrap_or("").to_string();
            if ct.is_empty() {
                self.remove_part(
                    &key,
                    Some(ActionKind::RemovedContentType),
                    Some("part without a content type".into()),
                );
                continue;
            }
            if let Some(action) = dangerous_part(&key, &ct) {
                self.remove_part(&key, Some(action), None);
                continue;
            }
            if !is_xml_part(&key, &ct) {
                let d = crate::detect::detect(&self.parts[&key].data, None, None, &self.ctx.config.limits);
                if d.kind.family() == Family::Executable {
                    self.remove_part(&key, Some(ActionKind::RemovedOleObject), Some(format!("{} content", d.kind)));
                }
            }
        }
    }

    /// Relationships: external references, and the parts internal ones make dangerous. Returns
    /// the embedded packages to hand to the engine.
    fn classify_rels(&mut self) -> Vec<String> {
        let hyperlinks = self.ctx.config.ooxml.hyperlinks;
        let embedded = self.ctx.config.ooxml.embedded_documents;
        let mut children = Vec::new();
        let all: Vec<(String, Rel)> =
            self.rels.iter().flat_map(|(s, rs)| rs.iter().map(move |r| (s.clone(), r.clone()))).collect();
        for (source, rel) in all {
            if !source.is_empty() && (self.removed_parts.contains(&source) || !self.parts.contains_key(&source)) {
                continue;
            }
            let where_ = if source.is_empty() { "_rels/.rels".to_string() } else { source.clone() };
            if rel.external {
                let remove = match rel.short.as_str() {
                    "hyperlink" => match hyperlinks {
                        HyperlinkPolicy::Keep => false,
                        HyperlinkPolicy::Web => !is_web_link(&rel.target),
                        HyperlinkPolicy::Remove => true,
                    },
                    _ => true,
                };
                if remove {
                    let action = if rel.short == "attachedtemplate" {
                        ActionKind::RemovedAttachedTemplate
                    } else {
                        ActionKind::RemovedExternalReference
                    };
                    self.actions.push(Action::with_detail(action, where_, format!("{} -> {}", rel.short, rel.target)));
                    self.remove_rel(&source, &rel.id);
                }
                continue;
            }
            let Some(target) = rel.resolved.clone() else { continue };
            let action = match rel.short.as_str() {
                "vbaproject" => Some(ActionKind::RemovedVbaProject),
                "vbaprojectsignature"
                | "vbaprojectsignatureagile"
                | "vbaprojectsignaturev3"
                | "wordvbadata"
                | "keymapcustomizations"
                | "attachedtoolbars" => Some(ActionKind::RemovedVbaCompanion),
                "xlmacrosheet" | "xlintlmacrosheet" | "dialogsheet" | "macrosheet" => {
                    Some(ActionKind::RemovedMacroSheet)
                }
                "activexcontrol" | "activexcontrolbinary" | "control" => Some(ActionKind::RemovedActivex),
                "oleobject" => Some(ActionKind::RemovedOleObject),
                "extensibility" => Some(ActionKind::RemovedCustomUi),
                "connections" | "querytable" => Some(ActionKind::RemovedDataConnection),
                "webextension" | "webextensiontaskpanes" | "taskpanes" => Some(ActionKind::RemovedWebExtension),
                "attachedtemplate" | "subdocument" | "frame" => Some(ActionKind::RemovedAttachedTemplate),
                "externallink" => {
                    let text = self.parts.get(&target).map(|p| String::from_utf8_lossy(&p.data).to_string());
                    if text.map(|t| t.contains("ddeLink")).unwrap_or(false) {
                        Some(ActionKind::RemovedDdeLink)
                    } else {
                        Some(ActionKind::RemovedExternalReference)
                    }
                }
                "package" | "afchunk" => {
                    // Chart data and imported chunks (altChunk) are content of the document
                    // itself and always go through the engine; embedded objects follow the policy.
                    let source_ct = self.ct.of(&source).unwrap_or("").to_ascii_lowercase();
                    let is_content =
                        rel.short == "afchunk" || source_ct.contains("drawingml.chart") || source.contains("/charts/");
                    if embedded == EmbeddedPolicy::Remove && !is_content {
                        Some(ActionKind::RemovedOleObject)
                    } else {
                        if self.parts.contains_key(&target) && !children.contains(&target) {
                            children.push(target.clone());
                        }
                        None
                    }
                }
                _ => None,
            };
            if let Some(a) = action {
                self.remove_rel(&source, &rel.id);
                if self.parts.contains_key(&target) {
                    self.remove_part(&target, Some(a), None);
                } else {
                    self.actions.push(Action::with_detail(a, where_, format!("{} -> {}", rel.short, rel.target)));
                }
            }
        }
        children.retain(|c| !self.removed_parts.contains(c));
        children
    }

    /// Embedded packages go back through the engine: a clean result of the same kind replaces the
    /// part; anything else (blocked, or a kind change the package could not follow) removes it.
    /// Makes sure the whole of a part is in memory (binary parts are at first only verified).
    fn ensure_full(&mut self, zip: &ZipIndex<'_>, key: &str) -> Result<(), FormatError> {
        if let Some(p) = self.parts.get_mut(key) {
            if !p.full {
                p.data = zip.read(&p.entry, self.ctx.budget)?;
                p.full = true;
            }
        }
        Ok(())
    }

    fn process_children(&mut self, zip: &ZipIndex<'_>, children: Vec<String>) -> Result<(), FormatError> {
        if children.is_empty() {
            return Ok(());
        }
        for key in &children {
            self.ensure_full(zip, key)?;
            self.children.insert(key.clone());
        }
        // The parts' bytes are moved into the child items, not copied; what comes back (the
        // same bytes when nothing changed) goes back into the part.
        let items: Vec<Item> = children
            .iter()
            .filter_map(|k| {
                let p = self.parts.get_mut(k)?;
                p.full = false;
                let base = p.name.rsplit('/').next().unwrap_or(&p.name).to_string();
                Some(Item {
                    data: std::mem::take(&mut p.data),
                    name: Some(base),
                    declared_type: None,
                    path: p.name.clone(),
                })
            })
            .collect();
        let outcomes = self.ctx.children.process(items, self.ctx.depth + 1, self.ctx.budget);
        for (key, o) in children.iter().zip(outcomes) {
            let name = self.parts[key].name.clone();
            let same_kind =
                o.verdict == Verdict::Kept || (o.verdict == Verdict::Disarmed && o.output_kind == Some(o.kind));
            match o.output {
                Some(out) if same_kind => {
                    if !o.actions.is_empty() {
                        self.actions.push(Action::with_detail(
                            ActionKind::DisarmedEmbeddedDocument,
                            name.clone(),
                            o.kind.as_str(),
                        ));
                        self.adopt_child_actions(&name, o.actions);
                    }
                    if let Some(p) = self.parts.get_mut(key) {
                        if o.sha256_out.as_deref() == Some(o.sha256_in.as_str()) {
                            p.data = out;
                            p.full = true;
                        } else {
                            p.new_data = Some(out);
                        }
                    }
                }
                _ => {
                    let why = match o.reason {
                        Some(r) => format!("embedded {}: {r}", o.kind),
                        None => format!("embedded {} would become {}", o.kind, o.output_kind.unwrap_or(o.kind)),
                    };
                    self.adopt_child_actions(&name, o.actions);
                    self.remove_part(key, Some(ActionKind::RemovedOleObject), Some(why));
                }
            }
        }
        Ok(())
    }

    fn adopt_child_actions(&mut self, part: &str, actions: Vec<Action>) {
        crate::formats::adopt_child_actions(&mut self.actions, part, actions);
    }

    /// Every relationship whose target part is removed goes too.
    fn drop_rels_to_removed_parts(&mut self) {
        let mut drops = Vec::new();
        for (source, rels) in &self.rels {
            for r in rels {
                if let Some(t) = &r.resolved {
                    if self.removed_parts.contains(t) {
                        drops.push((source.clone(), r.id.clone()));
                    }
                }
            }
        }
        for (s, id) in drops {
            self.remove_rel(&s, &id);
        }
    }

    fn rel_short(&self, source: &str, id: &str) -> Option<&str> {
        self.rels.get(source)?.iter().find(|r| r.id == id).map(|r| r.short.as_str())
    }

    /// Disarms the links of a binary workbook to other workbooks (see [`xlsb`]): rewrites the
    /// workbook and the worksheets that read them, drops what indexes the rewritten sheets and
    /// the calculation chain. Returns the removed relationships (source, id) the rewrite took care of.
    fn disarm_xlsb_links(&mut self, zip: &ZipIndex<'_>, main: &str) -> Result<HashSet<(String, String)>, FormatError> {
        let mut handled = HashSet::new();
        let link_ids: HashSet<String> = self
            .rels
            .get(main)
            .map(|rs| {
                rs.iter()
                    .filter(|r| r.short == "externallink")
                    .filter(|r| self.removed_rels.get(main).map(|s| s.contains(&r.id)).unwrap_or(false))
                    .map(|r| r.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        if link_ids.is_empty() || !self.parts.contains_key(main) {
            return Ok(handled);
        }
        // Anything that could read a link besides cells and names is refused.
        for key in self.parts.keys() {
            if key == CONTENT_TYPES || package::rels_source(key).is_some() || self.removed_parts.contains(key) {
                continue;
            }
            let ct = self.ct.of(key).unwrap_or("").to_ascii_lowercase();
            // A drawing may hold formulas of its own (text links, control links, camera pictures).
            let drawing = ct.contains("drawing");
            let text = if drawing {
                String::from_utf8_lossy(&self.parts[key].data).to_ascii_lowercase()
            } else {
                String::new()
            };
            let formulas = text.contains("fmla")
                || text.match_indices("textlink=\"").any(|(i, m)| !text[i + m.len()..].starts_with('"'));
            if !xlsb::SAFE_PART_TYPES.contains(&ct.as_str()) || (drawing && (!self.parts[key].full || formulas)) {
                return Err(FormatError::new(
                    Reason::Unsupported,
                    format!("{}: {ct} part next to a link to another workbook", self.parts[key].name),
                ));
            }
        }
        // The linked files, as the removed link parts name them.
        let mut paths = Vec::new();
        for r in self.rels.get(main).into_iter().flatten().filter(|r| link_ids.contains(&r.id)) {
            if let Some(t) = &r.resolved {
                for lr in self.rels.get(t).into_iter().flatten().filter(|lr| lr.external) {
                    paths.push((self.parts.get(t).map(|p| p.name.clone()).unwrap_or_default(), lr.target.clone()));
                }
            }
        }
        let sheet_keys: Vec<String> = self
            .parts
            .keys()
            .filter(|k| !self.removed_parts.contains(*k))
            .filter(|k| self.ct.of(k).unwrap_or("").eq_ignore_ascii_case("application/vnd.ms-excel.worksheet"))
            .cloned()
            .collect();
        self.ensure_full(zip, main)?;
        for k in &sheet_keys {
            self.ensure_full(zip, k)?;
        }
        let sheets: Vec<(String, String, &[u8])> =
            sheet_keys.iter().map(|k| (k.clone(), self.parts[k].name.clone(), self.parts[k].data.as_slice())).collect();
        let wb = &self.parts[main];
        let edit = xlsb::disarm_links((&wb.name, &wb.data), &link_ids, &sheets, self.ctx.budget)?;
        for id in &link_ids {
            handled.insert((main.to_string(), id.clone()));
        }
        for (part, path) in paths {
            // The link part's own relationships may already have been reported with the path.
            let known = self.actions.iter().any(|a| a.detail.as_deref().is_some_and(|d| d.ends_with(path.as_str())));
            if !known {
                self.actions.push(Action::with_detail(ActionKind::RemovedExternalReference, part, path));
            }
        }
        let formulas_removed = !edit.sheets.is_empty();
        self.actions.extend(edit.actions);
        if let Some(w) = edit.workbook {
            if let Some(p) = self.parts.get_mut(main) {
                p.new_data = Some(w);
            }
        }
        for (key, data) in edit.sheets {
            // The sheet's row index holds offsets into the old records; Excel rebuilds it.
            let index_rels: Vec<(String, Option<String>)> = self
                .rels
                .get(&key)
                .into_iter()
                .flatten()
                .filter(|r| r.short == "xlbinaryindex")
                .map(|r| (r.id.clone(), r.resolved.clone()))
                .collect();
            for (id, target) in index_rels {
                self.remove_rel(&key, &id);
                handled.insert((key.clone(), id));
                if let Some(t) = target {
                    self.remove_part(&t, None, None);
                }
            }
            if let Some(p) = self.parts.get_mut(&key) {
                p.new_data = Some(data);
            }
        }
        if formulas_removed {
            self.drop_calc_chain();
        }
        Ok(handled)
    }

    /// Streams every XML part through the rewriter (in parallel), which also validates it.
    fn rewrite_parts(&mut self, zip: &ZipIndex<'_>, kind: Kind) -> Result<(), FormatError> {
        let main = self
            .rels
            .get("")
            .and_then(|r| r.iter().find(|r| !r.external && content_types::MAIN_DOCUMENT_RELS.contains(&r.ty.as_str())))
            .and_then(|r| r.resolved.clone())
            .unwrap_or_default();
        let spreadsheet = matches!(kind, Kind::Xlsx | Kind::Xlsm | Kind::Xltx | Kind::Xltm | Kind::Xlam);
        let max_depth = self.ctx.config.limits.max_xml_depth;
        let empty = HashSet::new();
        let handled = if kind == Kind::Xlsb { self.disarm_xlsb_links(zip, &main)? } else { HashSet::new() };
        let mut jobs: Vec<(String, Role)> = Vec::new();
        for (key, part) in &self.parts {
            if key == CONTENT_TYPES
                || package::rels_source(key).is_some()
                || self.removed_parts.contains(key)
                || self.children.contains(key)
            {
                continue;
            }
            let ct = self.ct.of(key).unwrap_or("").to_ascii_lowercase();
            let removed = self.removed_rels.get(key).unwrap_or(&empty);
            if !is_xml_part(key, &ct) {
                let needs_edit = removed.iter().any(|id| {
                    !IMPLICIT_RELS.contains(&self.rel_short(key, id).unwrap_or(""))
                        && !handled.contains(&(key.clone(), id.clone()))
                });
                if needs_edit && !ct.contains("vmldrawing") {
                    return Err(FormatError::new(
                        Reason::Unsupported,
                        format!("{}: binary part would need its references rewritten", part.name),
                    ));
                }
                if !needs_edit {
                    continue;
                }
            }
            let role = if ct.contains("wordprocessingml") || ct.contains("ms-word.") {
                Role::WordStory
            } else if spreadsheet && *key == main {
                let removed_sheets = sheet_positions(&part.data, removed, &part.name, max_depth)?;
                Role::Workbook { removed_sheets }
            } else if ct.contains("spreadsheetml.worksheet") {
                Role::Worksheet
            } else if ct.contains("custom-properties+xml") {
                Role::CustomProperties
            } else {
                Role::Other
            };
            jobs.push((key.clone(), role));
        }
        for (key, _) in &jobs {
            self.ensure_full(zip, key)?;
        }
        let budget = self.ctx.budget;
        let results: Vec<(String, rewrite::PartOutput)> = jobs
            .par_iter()
            .map(|(key, role)| {
                let part = &self.parts[key];
                let plan = PartPlan {
                    part: &part.name,
                    role: role.clone(),
                    removed_ids: self.removed_rels.get(key).unwrap_or(&empty),
                    max_depth,
                    hyperlinks: self.ctx.config.ooxml.hyperlinks,
                };
                match utf16_as_utf8(&part.data, &part.name)? {
                    // A UTF-16 part (SharePoint writes custom XML that way) is validated in
                    // UTF-8 and kept as it was; one that would need changing is refused.
                    Some(utf8) => {
                        let out = rewrite::rewrite(&utf8, &plan, budget)?;
                        if out.data.is_some() {
                            return Err(FormatError::new(
                                Reason::Unsupported,
                                format!("{}: UTF-16 part would need rewriting", part.name),
                            ));
                        }
                        Ok((key.clone(), out))
                    }
                    None => rewrite::rewrite(&part.data, &plan, budget).map(|o| (key.clone(), o)),
                }
            })
            .collect::<Result<_, _>>()?;
        let mut formulas_removed = false;
        for (key, out) in results {
            self.actions.extend(out.actions);
            formulas_removed |= out.formulas_removed;
            for id in out.dropped_ids.difference(&out.kept_ids) {
                self.remove_rel(&key, id);
            }
            if let Some(d) = out.data {
                if let Some(p) = self.parts.get_mut(&key) {
                    p.new_data = Some(d);
                }
            }
        }
        if formulas_removed {
            self.drop_calc_chain();
        }
        Ok(())
    }

    /// A package signature no longer matches a rebuilt package; an invalid signature is worse
    /// than none, so it goes.
    fn drop_signatures(&mut self) {
        let origins: Vec<(String, String)> = self
            .rels
            .get("")
            .map(|rs| {
                rs.iter()
                    .filter(|r| r.short == "origin")
                    .filter_map(|r| r.resolved.clone().map(|t| (r.id.clone(), t)))
                    .collect()
            })
            .unwrap_or_default();
        for (id, origin) in origins {
            self.remove_rel("", &id);
            let sigs: Vec<String> = self
                .rels
                .get(&origin)
                .map(|rs| rs.iter().filter_map(|r| r.resolved.clone()).collect())
                .unwrap_or_default();
            self.remove_part(&origin, Some(ActionKind::RemovedSignature), None);
            for s in sigs {
                self.remove_part(&s, None, None);
            }
        }
    }

    /// Parts no kept relationship reaches are hidden payloads (or leftovers of removed parts).
    fn drop_unreachable(&mut self) {
        let mut reached: HashSet<String> = HashSet::new();
        let mut queue: VecDeque<String> = VecDeque::new();
        queue.push_back(String::new());
        while let Some(src) = queue.pop_front() {
            let removed = self.removed_rels.get(&src);
            if let Some(rels) = self.rels.get(&src) {
                for r in rels {
                    if removed.map(|s| s.contains(&r.id)).unwrap_or(false) {
                        continue;
                    }
                    if let Some(t) = &r.resolved {
                        if self.parts.contains_key(t) && !self.removed_parts.contains(t) && reached.insert(t.clone()) {
                            queue.push_back(t.clone());
                        }
                    }
                }
            }
        }
        let keys: Vec<String> = self.parts.keys().cloned().collect();
        for key in keys {
            if key == CONTENT_TYPES || reached.contains(&key) || self.removed_parts.contains(&key) {
                continue;
            }
            if let Some(source) = package::rels_source(&key) {
                if source.is_empty() || reached.contains(&source) {
                    continue;
                }
                // The relationships of a part that is gone go with it; they were never a part
                // of their own, so this needs no action of its own unless the source never existed.
                let orphan = !self.parts.contains_key(&source);
                self.remove_part(&key, orphan.then_some(ActionKind::RemovedUnreferencedPart), None);
                continue;
            }
            let was_referenced = self.rels.values().flatten().any(|r| r.resolved.as_deref() == Some(key.as_str()));
            let action = if was_referenced { None } else { Some(ActionKind::RemovedUnreferencedPart) };
            self.remove_part(&key, action, None);
        }
    }

    /// Writes the new package: content types first, then the kept parts in their original order.
    fn write(&mut self, zip: &ZipIndex<'_>, kind: Kind, out_kind: Kind) -> Result<Vec<u8>, FormatError> {
        let removed = &self.removed_parts;
        // Rels parts that lost relationships.
        let rels_keys: Vec<String> = self.parts.keys().filter(|k| package::rels_source(k).is_some()).cloned().collect();
        for key in rels_keys {
            if removed.contains(&key) {
                continue;
            }
            let source = package::rels_source(&key).unwrap_or_default();
            if let Some(ids) = self.removed_rels.get(&source) {
                if !ids.is_empty() {
                    let p = &self.parts[&key];
                    let new = package::rewrite_rels(&p.data, &p.name, ids)?;
                    if let Some(p) = self.parts.get_mut(&key) {
                        p.new_data = Some(new);
                    }
                }
            }
        }
        // Content types: overrides of removed parts, defaults nothing uses that name dangerous
        // types, and the macro-enabled main type.
        let kept_exts: HashSet<String> = self
            .parts
            .keys()
            .filter(|k| !removed.contains(*k))
            .filter_map(|k| k.rsplit('/').next().and_then(|b| b.rsplit_once('.')).map(|(_, e)| e.to_string()))
            .collect();
        let removed_defaults: HashSet<String> = self
            .ct
            .defaults
            .iter()
            .filter(|(ext, ct)| {
                // Unused defaults that name active content (a macro-enabled document type left
                // behind by a removed embedding, a VBA project, an executable extension).
                !kept_exts.contains(*ext)
                    && (dangerous_part("", ct).is_some()
                        || ct.to_ascii_lowercase().contains("macroenabled")
                        || executable_extension(ext))
            })
            .map(|(ext, _)| ext.clone())
            .collect();
        let mut replace = HashMap::new();
        if kind != out_kind {
            if let (Some(from), Some(to)) =
                (content_types::main_content_type(kind), content_types::main_content_type(out_kind))
            {
                replace.insert(from.to_string(), to.to_string());
            }
        }
        let overrides_removed = self.ct.overrides.keys().any(|k| removed.contains(k));
        if overrides_removed || !removed_defaults.is_empty() || !replace.is_empty() {
            for ext in &removed_defaults {
                self.actions.push(Action::with_detail(
                    ActionKind::RemovedContentType,
                    "[Content_Types].xml",
                    format!("Default .{ext}"),
                ));
            }
            let p = &self.parts[CONTENT_TYPES];
            let new = ContentTypes::rewrite(&p.data, removed, &removed_defaults, &replace)?;
            if let Some(p) = self.parts.get_mut(CONTENT_TYPES) {
                p.new_data = Some(new);
            }
        }

        let mut order: Vec<&Part> = self.parts.iter().filter(|(k, _)| !removed.contains(*k)).map(|(_, p)| p).collect();
        order.sort_by_key(|p| (p.entry.name.to_lowercase() != CONTENT_TYPES, p.entry.header_start));
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(
            self.parts.values().map(|p| p.entry.compressed_size as usize).sum::<usize>() + 4096,
        )));
        let opts = zipread::deterministic_options();
        for p in order {
            self.ctx.budget.check_time()?;
            match &p.new_data {
                Some(d) => {
                    w.start_file(p.name.clone(), opts)
                        .map_err(|e| FormatError::new(Reason::InternalError, format!("zip write: {e}")))?;
                    w.write_all(d).map_err(|e| FormatError::new(Reason::InternalError, format!("zip write: {e}")))?;
                }
                None => zip.raw_copy(&p.entry, &mut w, None)?,
            }
        }
        let out = w.finish().map_err(|e| FormatError::new(Reason::InternalError, format!("zip write: {e}")))?;
        Ok(out.into_inner())
    }
}

/// The UTF-8 text of a part that starts with a UTF-16 byte order mark; `None` for other parts.
fn utf16_as_utf8(data: &[u8], part: &str) -> Result<Option<Vec<u8>>, FormatError> {
    let little = match data {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return Ok(None),
    };
    let body = &data[2..];
    if !body.len().is_multiple_of(2) {
        return Err(FormatError::malformed(format!("{part}: odd length for UTF-16")));
    }
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| if little { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
        .collect();
    let text = String::from_utf16(&units).map_err(|e| FormatError::malformed(format!("{part}: UTF-16: {e}")))?;
    Ok(Some(text.into_bytes()))
}

fn executable_extension(ext: &str) -> bool {
    matches!(
        ext,
        "exe"
            | "dll"
            | "scr"
            | "com"
            | "pif"
            | "cpl"
            | "bat"
            | "cmd"
            | "vbs"
            | "vbe"
            | "js"
            | "jse"
            | "wsf"
            | "wsh"
            | "ps1"
            | "hta"
            | "msi"
            | "jar"
            | "lnk"
            | "sct"
            | "reg"
    )
}

/// Positions (0-based) of the workbook's `<sheet>` entries whose relationship is being removed.
fn sheet_positions(
    data: &[u8],
    removed: &HashSet<String>,
    part: &str,
    max_depth: u32,
) -> Result<Vec<usize>, FormatError> {
    let mut out = Vec::new();
    if removed.is_empty() {
        return Ok(out);
    }
    let mut pos = 0usize;
    crate::formats::xml::walk(data, part, max_depth, |ev| {
        let (quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) = ev else { return Ok(()) };
        if crate::formats::xml::local(e.name().as_ref()) == b"sheet" {
            let rid = e
                .attributes()
                .with_checks(false)
                .flatten()
                .find(|a| crate::formats::xml::local(a.key.as_ref()) == b"id")
                .map(|a| String::from_utf8_lossy(&a.value).into_owned());
            if rid.map(|r| removed.contains(&r)).unwrap_or(false) {
                out.push(pos);
            }
            pos += 1;
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_parts_are_read_as_text() {
        let mut le = vec![0xFF, 0xFE];
        for u in "<a>é</a>".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(utf16_as_utf8(&le, "p").unwrap().unwrap(), "<a>é</a>".as_bytes());
        assert_eq!(utf16_as_utf8(b"<a/>", "p").unwrap(), None);
        assert_eq!(utf16_as_utf8(&[0xFF, 0xFE, 0x3C], "p").unwrap_err().reason, Reason::Malformed);
    }
}
