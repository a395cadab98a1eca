//! OpenDocument disarm: text, spreadsheet, presentation and drawing documents, their templates,
//! charts, formulas and master documents, packaged (zip) or flat (one XML file).
//!
//! A package is rebuilt, not patched:
//! 1. the zip is opened with the validated reader (see `zipread`: duplicate, overlapping or
//!    inconsistent entries, path tricks, bombs, zip encryption and odd compression methods are
//!    refused); `mimetype` must name an OpenDocument type and `META-INF/manifest.xml` must
//!    parse; a manifest with encryption data blocks the package as encrypted;
//! 2. whole entries are removed by what they are: macro and dialog libraries (`Basic/`,
//!    `Scripts/`, `Dialogs/`, also inside sub-documents), OLE storages and programs (found from
//!    their bytes, whatever their name), other documents stored as entries, entries the
//!    manifest does not list (hidden payloads), unknown `META-INF/` files; a PDF stored as a
//!    picture goes through the engine and is kept only as its clean rebuild;
//! 3. every XML entry is streamed through [`rewrite`], which drops event bindings, scripts,
//!    macro URLs, OLE objects, applets, plug-ins and external references (see there); the user
//!    interface configuration (`Configurations2/`) goes as a whole when a menu, toolbar or key
//!    calls a macro;
//! 4. the manifest is written anew with the entries that stay, digital signatures go (they no
//!    longer match what they signed), and a new zip is written: `mimetype` first, stored, with
//!    no extra field, as ODF requires; unchanged entries are copied without recompression,
//!    rewritten ones deflated with a fixed timestamp, so the same input always gives the same
//!    bytes.
//!
//! A flat XML document goes through the same XML cleaner as a whole.
//!
//! What this module refuses: database documents (`odb`: embedded databases, queries, reports
//! and their macros are a format of their own) and packages without a `mimetype` or manifest
//! are blocked; so is anything the XML cleaner cannot parse.

pub mod manifest;
pub mod rewrite;

use crate::formats::zipread::{self, Entry, Method, ZipIndex};
use crate::formats::{adopt_child_actions, Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, FailureClass, Family, Item, Kind, Reason, Verdict};
use manifest::Manifest;
use rayon::prelude::*;
use rewrite::{PackageNames, Plan, Role};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Cursor, Write};

/// How much of a binary entry is kept after verifying it: enough for every magic number
/// detection looks at.
const HEAD_BYTES: usize = 64 * 1024;
/// The longest `mimetype` entry read (real ones are under 60 bytes).
const MAX_MIMETYPE: u64 = 256;
const MIMETYPE: &str = "mimetype";
const ODF_PREFIX: &str = "application/vnd.oasis.opendocument.";

/// Macro and dialog library folders, at the root of the package or of a sub-document.
const LIBRARY_DIRS: &[(&str, &str)] =
    &[("basic/", "StarBasic library"), ("scripts/", "script library"), ("dialogs/", "dialog library")];

/// The kind an OpenDocument media type stands for (templates are their document's kind).
pub fn kind_of_media_type(media_type: &str) -> Option<Kind> {
    let sub = media_type.trim().strip_prefix(ODF_PREFIX)?;
    Some(match sub.trim_end_matches("-template") {
        "text" => Kind::Odt,
        "spreadsheet" => Kind::Ods,
        "presentation" => Kind::Odp,
        "graphics" => Kind::Odg,
        _ => Kind::OdfOther,
    })
}

fn is_markup(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".xml") || n.ends_with(".rdf")
}

struct Part {
    entry: Entry,
    /// The whole entry for markup; the first bytes for other entries (verified whole).
    data: Vec<u8>,
    new_data: Option<Vec<u8>>,
}

struct Rebuild<'c, 'a> {
    ctx: &'c Context<'a>,
    parts: BTreeMap<String, Part>,
    /// Folder entries of the zip (`Configurations2/toolbar/`).
    dirs: Vec<String>,
    removed: BTreeSet<String>,
    /// The user interface configuration went (a menu, toolbar or key called a macro).
    config_removed: bool,
    actions: Vec<Action>,
}

pub fn disarm(kind: Kind, data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    if kind == Kind::FlatOdf {
        return disarm_flat(data, ctx);
    }
    let budget = ctx.budget;
    let max_depth = ctx.config.limits.max_xml_depth;
    let zip = ZipIndex::open(data, budget)?;

    let man_entry = zip.find(manifest::NAME);
    let Some(mt_entry) = zip.find(MIMETYPE) else {
        // Without its type the package is malformed, unless its manifest shows it is encrypted:
        // that is the better reason to give.
        if let Some(m) = man_entry {
            Manifest::parse(&zip.read(m, budget)?, max_depth)?;
        }
        return Err(FormatError::malformed("no mimetype entry"));
    };
    if mt_entry.size > MAX_MIMETYPE {
        return Err(FormatError::malformed("the mimetype entry is too long"));
    }
    let mt_bytes = zip.read(mt_entry, budget)?;
    let media_type = std::str::from_utf8(&mt_bytes)
        .ok()
        .filter(|m| m.is_ascii())
        .map(|m| m.trim().to_string())
        .ok_or_else(|| FormatError::malformed("the mimetype entry is not ASCII text"))?;
    if kind_of_media_type(&media_type).is_none() {
        return Err(FormatError::malformed(format!("mimetype {media_type:?} is not an OpenDocument type")));
    }
    if media_type.starts_with(&format!("{ODF_PREFIX}base")) {
        return Err(FormatError::new(Reason::Unsupported, "OpenDocument database (odb)"));
    }
    let man_entry = man_entry.ok_or_else(|| FormatError::malformed("no META-INF/manifest.xml"))?;
    let man_bytes = zip.read(man_entry, budget)?;
    let manifest = Manifest::parse(&man_bytes, max_depth)?;

    let entries: Vec<Entry> =
        zip.entries().iter().filter(|e| !e.is_dir && e.name != MIMETYPE && e.name != manifest::NAME).cloned().collect();
    let contents: Vec<Vec<u8>> = entries
        .par_iter()
        .map(|e| if is_markup(&e.name) { zip.read(e, budget) } else { zip.verify(e, budget, HEAD_BYTES) })
        .collect::<Result<_, _>>()?;
    let mut parts = BTreeMap::new();
    for (entry, data) in entries.into_iter().zip(contents) {
        parts.insert(entry.name.clone(), Part { entry, data, new_data: None });
    }
    let dirs = zip.entries().iter().filter(|e| e.is_dir).map(|e| e.name.clone()).collect();
    let mut rb = Rebuild { ctx, parts, dirs, removed: BTreeSet::new(), config_removed: false, actions: Vec::new() };
    let subdocs = rb.subdocuments(&manifest);
    rb.classify(&manifest, &subdocs)?;
    rb.process_pdfs(&zip)?;
    rb.rewrite_xml(&subdocs)?;
    let manifest_out = rb.finish_manifest(&manifest);
    let bytes = rb.write(&zip, &media_type, &manifest_out)?;
    Ok(Disarmed { name: None, data: bytes, kind, actions: rb.actions })
}

/// A flat XML document: one part, cleaned like the parts of a package. Nothing is inside a
/// package, so every reference to a file is a reference out.
fn disarm_flat(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let names = PackageNames::default();
    let plan = Plan {
        part: "document",
        base: "",
        role: Role::Document,
        names: &names,
        max_depth: ctx.config.limits.max_xml_depth,
        hyperlinks: ctx.config.odf.hyperlinks,
    };
    let out = rewrite::rewrite(data, &plan, ctx.budget)?;
    let bytes = out.data.unwrap_or_else(|| data.to_vec());
    Ok(Disarmed { name: None, data: bytes, kind: Kind::FlatOdf, actions: out.actions })
}

/// Whether a flat XML document's root is an OpenDocument `office:document`.
pub fn is_flat_document(data: &[u8]) -> bool {
    let head = &data[..data.len().min(64 * 1024)];
    let mut r = quick_xml::reader::NsReader::from_reader(head);
    for _ in 0..64 {
        match r.read_resolved_event() {
            Ok((ns, quick_xml::events::Event::Start(e))) => {
                let office = matches!(ns, quick_xml::name::ResolveResult::Bound(n)
                    if n.as_ref() == b"urn:oasis:names:tc:opendocument:xmlns:office:1.0");
                return office && e.local_name().as_ref() == b"document";
            }
            Ok((_, quick_xml::events::Event::Eof)) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    false
}

impl<'c, 'a> Rebuild<'c, 'a> {
    fn remove(&mut self, name: &str, action: Option<(ActionKind, String)>) {
        if !self.parts.contains_key(name) || !self.removed.insert(name.to_string()) {
            return;
        }
        if let Some((a, detail)) = action {
            self.actions.push(if detail.is_empty() {
                Action::new(a, name)
            } else {
                Action::with_detail(a, name, detail)
            });
        }
    }

    /// Folders of ODF sub-documents (charts, formulas, embedded documents): listed in the
    /// manifest with an OpenDocument media type, or holding a `content.xml` of their own.
    fn subdocuments(&self, manifest: &Manifest) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = manifest
            .entries
            .iter()
            .filter(|e| e.full_path.ends_with('/') && e.full_path != "/" && e.media_type.starts_with(ODF_PREFIX))
            .map(|e| e.full_path.clone())
            .collect();
        for name in self.parts.keys() {
            if let Some(dir) = name.strip_suffix("content.xml").or_else(|| name.strip_suffix("styles.xml")) {
                if dir.ends_with('/') {
                    out.insert(dir.to_string());
                }
            }
        }
        out
    }

    /// Entries removed by what they are.
    fn classify(&mut self, manifest: &Manifest, subdocs: &BTreeSet<String>) -> Result<(), FormatError> {
        let roots: HashSet<String> = subdocs.iter().map(|r| r.to_ascii_lowercase()).collect();
        let names: Vec<String> = self.parts.keys().cloned().collect();
        let listed: HashSet<&str> = manifest.entries.iter().map(|e| e.full_path.as_str()).collect();
        let mut libraries: BTreeSet<(String, &str)> = BTreeSet::new();
        for (i, name) in names.iter().enumerate() {
            if i % 256 == 0 {
                self.ctx.budget.check_time()?;
            }
            let lower = name.to_ascii_lowercase();
            // The package root and every sub-document folder above the entry.
            let starts = std::iter::once(0).chain(lower.match_indices('/').map(|(i, _)| i + 1));
            let lib = starts.filter(|&at| at == 0 || roots.contains(&lower[..at])).find_map(|at| {
                LIBRARY_DIRS
                    .iter()
                    .find(|(d, _)| lower[at..].starts_with(d))
                    .map(|(d, what)| (name[..at + d.len()].to_string(), *what))
            });
            if let Some((dir, what)) = lib {
                libraries.insert((dir, what));
                self.remove(name, None);
                continue;
            }
            if let Some(rest) = name.strip_prefix("META-INF/") {
                if rest.to_ascii_lowercase().contains("signatures") {
                    continue; // decided once the rest is known
                }
                self.remove(
                    name,
                    Some((ActionKind::RemovedUnreferencedPart, "not part of an OpenDocument package".into())),
                );
                continue;
            }
            if !listed.contains(name.as_str()) {
                self.remove(name, Some((ActionKind::RemovedUnreferencedPart, "not listed in the manifest".into())));
                continue;
            }
            if is_markup(name) {
                // Older office suites wrote empty key binding files (`accelerator/current.xml`):
                // not XML at all, and nothing the document needs.
                if name.starts_with("Configurations2/") && self.parts[name].data.iter().all(|b| b.is_ascii_whitespace())
                {
                    self.remove(name, None);
                }
                continue;
            }
            let d = crate::detect::detect(&self.parts[name].data, None, None, &self.ctx.config.limits);
            let drop = match d.kind.family() {
                Family::Executable | Family::Ole2 => true,
                Family::Ooxml | Family::Odf | Family::Rtf | Family::Archive => true,
                Family::Markup => matches!(d.kind, Kind::Html | Kind::OfficeXml),
                _ => false,
            };
            if drop {
                let detail = if d.kind.family() == Family::Ole2 {
                    "OLE storage".to_string()
                } else {
                    format!("{} content", d.kind)
                };
                self.remove(name, Some((ActionKind::RemovedOleObject, detail)));
            }
        }
        for (dir, what) in libraries {
            self.actions.push(Action::with_detail(ActionKind::RemovedMacroLibrary, dir, what));
        }
        Ok(())
    }

    /// PDFs stored in the package (pictures can be PDFs) go through the engine; a clean
    /// rebuild replaces them, a blocked one is removed.
    fn process_pdfs(&mut self, zip: &ZipIndex<'_>) -> Result<(), FormatError> {
        let pdfs: Vec<String> = self
            .parts
            .iter()
            .filter(|(n, p)| !self.removed.contains(*n) && !is_markup(n) && p.data.starts_with(b"%PDF-"))
            .map(|(n, _)| n.clone())
            .collect();
        if pdfs.is_empty() {
            return Ok(());
        }
        let mut items = Vec::new();
        for n in &pdfs {
            let data = zip.read(&self.parts[n].entry, self.ctx.budget)?;
            items.push(Item::new(data, Some(n.rsplit('/').next().unwrap_or(n).to_string()), n.clone()));
        }
        let outcomes = self.ctx.children.process(items, self.ctx.depth + 1, self.ctx.budget);
        for (n, o) in pdfs.iter().zip(outcomes) {
            match (o.verdict, o.output, o.output_kind) {
                (Verdict::Disarmed | Verdict::Kept, Some(out), Some(Kind::Pdf)) => {
                    if o.actions.iter().any(|a| !a.action.is_consequence()) {
                        self.actions.push(Action::new(ActionKind::DisarmedEmbeddedDocument, n.clone()));
                    }
                    adopt_child_actions(&mut self.actions, n, o.actions);
                    if let Some(p) = self.parts.get_mut(n) {
                        p.new_data = Some(out);
                    }
                }
                _ => {
                    let why = o.reason.map(|r| r.as_str()).unwrap_or("blocked");
                    self.remove(n, Some((ActionKind::RemovedEmbeddedFile, format!("PDF {why}"))));
                }
            }
        }
        Ok(())
    }

    fn names(&self, subdocs: &BTreeSet<String>) -> PackageNames {
        let mut names = PackageNames::default();
        for n in self.parts.keys() {
            if self.removed.contains(n) {
                names.removed.insert(n.clone());
            } else {
                names.add_file(n);
            }
        }
        for d in subdocs {
            if names.dirs.contains(d) {
                names.subdocs.insert(d.clone());
            }
        }
        names
    }

    /// Streams every kept XML entry through the cleaner.
    fn rewrite_xml(&mut self, subdocs: &BTreeSet<String>) -> Result<(), FormatError> {
        let names = self.names(subdocs);
        let max_depth = self.ctx.config.limits.max_xml_depth;
        let hyperlinks = self.ctx.config.odf.hyperlinks;
        let budget = self.ctx.budget;
        let todo: Vec<&String> = self.parts.keys().filter(|n| is_markup(n) && !self.removed.contains(*n)).collect();
        let results: Vec<(String, rewrite::PartOutput)> = todo
            .par_iter()
            .map(|n| {
                let part = &self.parts[*n];
                let base = n.rfind('/').map(|i| &n[..=i]).unwrap_or("");
                let role = if n.starts_with("Configurations2/") { Role::Configuration } else { Role::Document };
                // Relative references of a sub-document start at its own folder.
                let plan = Plan { part: n, base, role, names: &names, max_depth, hyperlinks };
                match rewrite::rewrite(&part.data, &plan, budget) {
                    Ok(o) => Ok(((*n).clone(), o)),
                    // The user interface configuration is not content: one that cannot be read
                    // goes as a whole instead of blocking the document.
                    Err(e)
                        if role == Role::Configuration
                            && (e.reason.class() == FailureClass::Malformed || e.reason == Reason::LimitXmlDepth) =>
                    {
                        let out = rewrite::PartOutput {
                            remove_config: Some("unreadable configuration"),
                            ..Default::default()
                        };
                        Ok(((*n).clone(), out))
                    }
                    Err(e) => Err(e),
                }
            })
            .collect::<Result<_, _>>()?;
        let mut config_reason = None;
        let mut dropped = Vec::new();
        for (n, out) in results {
            self.actions.extend(out.actions);
            config_reason = config_reason.or(out.remove_config);
            dropped.extend(out.dropped_refs);
            if let Some(d) = out.data {
                if let Some(p) = self.parts.get_mut(&n) {
                    p.new_data = Some(d);
                }
            }
        }
        // Storages only removed objects pointed to (their removal is reported with the object).
        let dropped: BTreeSet<String> = dropped.into_iter().collect();
        for r in dropped {
            let prefix = if r.ends_with('/') { r.clone() } else { format!("{r}/") };
            let mut under: Vec<String> = self
                .parts
                .range(prefix.clone()..)
                .map(|(k, _)| k)
                .take_while(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            if self.parts.contains_key(&r) {
                under.push(r.clone());
            }
            for k in under {
                self.remove(&k, None);
            }
        }
        if let Some(why) = config_reason {
            let config: Vec<String> =
                self.parts.keys().filter(|k| k.starts_with("Configurations2/")).cloned().collect();
            for k in config {
                self.remove(&k, None);
            }
            self.config_removed = true;
            self.actions.push(Action::with_detail(ActionKind::RemovedCustomUi, "Configurations2/", why));
        }
        Ok(())
    }

    /// Drops the signatures the rebuild invalidates and writes the new manifest.
    fn finish_manifest(&mut self, manifest: &Manifest) -> Vec<u8> {
        let sigs: Vec<String> = self
            .parts
            .keys()
            .filter(|k| k.starts_with("META-INF/") && k.to_ascii_lowercase().contains("signatures"))
            .cloned()
            .collect();
        // Document signatures cover every entry, the manifest included, and the manifest is
        // always written anew; macro signatures cover the libraries, which never stay.
        for s in sigs {
            self.remove(&s, Some((ActionKind::RemovedSignature, String::new())));
        }
        let kept: HashSet<&str> =
            self.parts.keys().filter(|k| !self.removed.contains(*k)).map(|k| k.as_str()).collect();
        let mut dirs: HashSet<String> =
            kept.iter().flat_map(|k| k.match_indices('/').map(move |(i, _)| k[..=i].to_string())).collect();
        dirs.extend(self.kept_dirs());
        let keep = |p: &str| p == "/" || kept.contains(p) || (p.ends_with('/') && dirs.contains(p));
        manifest::write(manifest, keep)
    }

    /// Folder entries of the zip that stay: not those of removed libraries or configuration,
    /// nor folders everything in which was removed.
    fn kept_dirs(&self) -> Vec<String> {
        let folders_of = |names: &mut dyn Iterator<Item = &String>| -> HashSet<String> {
            names.flat_map(|k| k.match_indices('/').map(move |(i, _)| k[..=i].to_string())).collect()
        };
        let with_removed = folders_of(&mut self.removed.iter());
        let with_kept = folders_of(&mut self.parts.keys().filter(|k| !self.removed.contains(*k)));
        self.dirs
            .iter()
            .filter(|d| {
                let lower = d.to_ascii_lowercase();
                let library =
                    LIBRARY_DIRS.iter().any(|(l, _)| lower.starts_with(l) || lower.contains(&format!("/{l}")));
                let config = self.config_removed && d.starts_with("Configurations2/");
                let emptied = with_removed.contains(d.as_str()) && !with_kept.contains(d.as_str());
                !(library || config || emptied)
            })
            .cloned()
            .collect()
    }

    fn write(&mut self, zip: &ZipIndex<'_>, media_type: &str, manifest_out: &[u8]) -> Result<Vec<u8>, FormatError> {
        let werr = |e: &dyn std::fmt::Display| FormatError::new(Reason::InternalError, format!("zip write: {e}"));
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(
            zip.entries().iter().map(|e| e.compressed_size as usize).sum::<usize>() + 4096,
        )));
        // ODF: the first entry is `mimetype`, stored, with no extra field, so that the type
        // can be read at a fixed offset.
        let stored = zipread::deterministic_options().compression_method(zip::CompressionMethod::Stored);
        w.start_file(MIMETYPE, stored).map_err(|e| werr(&e))?;
        w.write_all(media_type.as_bytes()).map_err(|e| werr(&e))?;

        let kept_dirs: HashSet<String> = self.kept_dirs().into_iter().collect();
        for e in zip.entries() {
            self.ctx.budget.check_time()?;
            if e.name == MIMETYPE {
                continue;
            }
            if e.is_dir {
                if kept_dirs.contains(&e.name) {
                    w.add_directory(e.name.clone(), stored).map_err(|err| werr(&err))?;
                }
                continue;
            }
            if e.name == manifest::NAME {
                w.start_file(e.name.clone(), zipread::deterministic_options()).map_err(|err| werr(&err))?;
                w.write_all(manifest_out).map_err(|err| werr(&err))?;
                continue;
            }
            if self.removed.contains(&e.name) {
                continue;
            }
            let Some(p) = self.parts.get(&e.name) else { continue };
            match &p.new_data {
                Some(d) => {
                    let opts = if p.entry.method == Method::Stored && !is_markup(&e.name) {
                        stored
                    } else {
                        zipread::deterministic_options()
                    };
                    w.start_file(e.name.clone(), opts).map_err(|err| werr(&err))?;
                    w.write_all(d).map_err(|err| werr(&err))?;
                }
                None => zip.raw_copy(&p.entry, &mut w, None)?,
            }
        }
        let out = w.finish().map_err(|e| werr(&e))?;
        Ok(out.into_inner())
    }
}
