//! Attachments: the `/EmbeddedFiles` name tree, file attachment annotations, and any other
//! file specification with embedded data (`/EF`).
//!
//! Under `[pdf] embedded_files = "disarm"` each attached file goes back through the engine as a
//! child item, one level deeper. A clean child that did not change stays as it was; a changed
//! child (a docm that became a docx) replaces the attachment's data, and the file
//! specification takes the new name; a blocked child is removed together with the name tree
//! entry or annotation that offered it. Under `"remove"` every attachment is removed.

use super::{get_name, show, Ban, Pdf};
use crate::config::EmbeddedPolicy;
use crate::formats::FormatError;
use crate::model::{ActionKind, Item, Verdict};
use lopdf::{Dictionary, Object, ObjectId, StringFormat};
use std::collections::{BTreeMap, BTreeSet};

/// The keys of an `/EF` dictionary that hold file data.
const EF_KEYS: [&[u8]; 5] = [b"F", b"UF", b"DOS", b"Mac", b"Unix"];

/// A file specification with embedded data, found inside object `holder`.
struct FileSpec {
    holder: ObjectId,
    /// The file specification is the holder itself (not a dictionary inside it).
    indirect: bool,
    streams: Vec<ObjectId>,
}

/// What becomes of one attached file.
enum Fate {
    Keep,
    Replace { data: Vec<u8>, name: Option<String>, kind_changed: bool },
    Remove,
}

impl Pdf<'_, '_> {
    pub(super) fn embedded_files(&mut self) -> Result<(), FormatError> {
        let (specs, names) = self.find_file_specs()?;
        // Streams typed as embedded files that no file specification offers are attachments
        // too (nothing would show them, but they would still be carried).
        let mut files: BTreeSet<ObjectId> = specs.iter().flat_map(|s| s.streams.iter().copied()).collect();
        for (id, o) in &self.objects {
            if let Object::Stream(s) = o {
                if s.dict.has_type(b"EmbeddedFile") {
                    files.insert(*id);
                }
            }
        }
        if files.is_empty() {
            return Ok(());
        }
        let fates = match self.ctx.config.pdf.embedded_files {
            EmbeddedPolicy::Remove => {
                for id in &files {
                    let name = names.get(id).cloned().unwrap_or_else(|| "attachment".into());
                    self.report(ActionKind::RemovedEmbeddedFile, name, "removed by policy");
                }
                files.iter().map(|id| (*id, Fate::Remove)).collect()
            }
            EmbeddedPolicy::Disarm => self.disarm_files(&files, &names)?,
        };
        let mut renamed = BTreeMap::new();
        for (id, fate) in fates {
            match fate {
                Fate::Keep => {
                    self.made_streams.insert(id);
                }
                Fate::Remove => {
                    self.banned.insert(
                        id,
                        Ban { action: ActionKind::RemovedEmbeddedFile, detail: String::new(), reported: true },
                    );
                }
                Fate::Replace { data, name, kind_changed } => {
                    self.replace_file(id, data, kind_changed)?;
                    if let Some(n) = name {
                        renamed.insert(id, n);
                    }
                }
            }
        }
        // A file specification whose data all went is cut where it is offered: its name tree
        // entry, its annotation, its place in an associated files array.
        let dead_spec = |s: &FileSpec, banned: &std::collections::HashMap<ObjectId, Ban>| {
            !s.streams.is_empty() && s.streams.iter().all(|id| banned.contains_key(id))
        };
        let mut dead = Vec::new();
        for s in &specs {
            if dead_spec(s, &self.banned) {
                // A file specification inside another object (the catalog's associated files,
                // say) only loses its data; the sweep removes the emptied `/EF`.
                // An object that is something else as well (the catalog, a page) keeps its place.
                let holder = self.objects.get(&s.holder);
                let own_spec = s.indirect && s.holder != self.root && holder.is_some_and(only_a_file_spec);
                if own_spec || holder.is_some_and(is_file_attachment) {
                    dead.push(s.holder);
                }
            } else if s.streams.iter().any(|id| renamed.contains_key(id)) {
                if let Some(n) = s.streams.iter().find_map(|id| renamed.get(id)) {
                    let n = n.clone();
                    if let Some(o) = self.objects.get_mut(&s.holder) {
                        rename_specs(o, &s.streams, &n);
                    }
                }
            }
        }
        for holder in dead {
            self.banned.entry(holder).or_insert(Ban {
                action: ActionKind::RemovedEmbeddedFile,
                detail: String::new(),
                reported: true,
            });
        }
        // File attachment annotations whose file specification went.
        let annots: Vec<ObjectId> = self
            .objects
            .iter()
            .filter(|(id, o)| !self.banned.contains_key(id) && is_file_attachment(o))
            .filter(|(_, o)| match o.as_dict().ok().and_then(|d| d.get(b"FS").ok()) {
                Some(Object::Reference(fs)) => self.banned.contains_key(fs),
                _ => false,
            })
            .map(|(id, _)| *id)
            .collect();
        for id in annots {
            self.banned
                .insert(id, Ban { action: ActionKind::RemovedEmbeddedFile, detail: String::new(), reported: true });
        }
        if files.iter().all(|id| self.banned.contains_key(id)) {
            // Nothing left to offer: the attachment list and portfolio view go too.
            if let Some(n) = self.names_dict_mut() {
                n.remove(b"EmbeddedFiles");
            }
            if let Some(Object::Dictionary(c)) = self.objects.get_mut(&self.root) {
                c.remove(b"Collection");
            }
        }
        Ok(())
    }

    /// Every file specification with an `/EF` dictionary, and a name for each embedded stream.
    fn find_file_specs(&self) -> Result<(Vec<FileSpec>, BTreeMap<ObjectId, String>), FormatError> {
        let mut specs = Vec::new();
        let mut names = BTreeMap::new();
        for (n, (id, o)) in self.objects.iter().enumerate() {
            if n % 1024 == 0 {
                self.ctx.budget.check_time()?;
            }
            let top = match o {
                Object::Dictionary(d) => Some(d),
                Object::Stream(s) => Some(&s.dict),
                _ => None,
            };
            let mut found = Vec::new();
            collect_specs(o, 0, &mut found);
            for d in found {
                let indirect = top.is_some_and(|t| std::ptr::eq(t, d));
                let streams = self.spec_streams(d);
                if streams.is_empty() {
                    continue;
                }
                let name = spec_name(d);
                for s in &streams {
                    names.entry(*s).or_insert_with(|| name.clone());
                }
                specs.push(FileSpec { holder: *id, indirect, streams });
            }
        }
        Ok((specs, names))
    }

    /// The stream objects an `/EF` dictionary points to.
    fn spec_streams(&self, spec: &Dictionary) -> Vec<ObjectId> {
        let Some(ef) = spec.get(b"EF").ok().and_then(|o| self.resolve_dict(o)) else { return Vec::new() };
        let mut out = Vec::new();
        for k in EF_KEYS {
            if let Ok(Object::Reference(id)) = ef.get(k) {
                if matches!(self.objects.get(id), Some(Object::Stream(_))) && !out.contains(id) {
                    out.push(*id);
                }
            }
        }
        out
    }

    /// Decodes each attachment and hands it to the engine.
    fn disarm_files(
        &mut self,
        files: &BTreeSet<ObjectId>,
        names: &BTreeMap<ObjectId, String>,
    ) -> Result<Vec<(ObjectId, Fate)>, FormatError> {
        let budget = self.ctx.budget;
        let max = budget.limits().max_stream_bytes;
        let mut items = Vec::new();
        let mut order = Vec::new();
        let mut fates = Vec::new();
        for id in files {
            let name = names.get(id).cloned().unwrap_or_else(|| "attachment".into());
            let Some(Object::Stream(s)) = self.objects.get(id) else { continue };
            match super::streams::decode(s, *id, budget, max)? {
                Some(data) => {
                    items.push(Item { data, name: Some(name.clone()), declared_type: None, path: name.clone() });
                    order.push((*id, name));
                }
                None => {
                    self.report(ActionKind::RemovedEmbeddedFile, name, "its data does not decode");
                    fates.push((*id, Fate::Remove));
                }
            }
        }
        let outcomes = self.ctx.children.process(items, self.ctx.depth + 1, budget);
        for ((id, name), o) in order.into_iter().zip(outcomes) {
            let unchanged = o.sha256_out.as_deref() == Some(o.sha256_in.as_str());
            let child_actions = o.actions;
            match (o.verdict, o.output) {
                (Verdict::Kept, Some(_)) => fates.push((id, Fate::Keep)),
                (Verdict::Disarmed, Some(_)) if unchanged => fates.push((id, Fate::Keep)),
                (Verdict::Disarmed, Some(data)) => {
                    let kind_changed = o.output_kind != Some(o.kind);
                    let new_name = o.output_name.filter(|n| *n != name);
                    // Every rewrite changes bytes; only a rewrite that removed something or
                    // changed the kind is worth a line.
                    if !child_actions.is_empty() || kind_changed {
                        self.report(ActionKind::DisarmedEmbeddedDocument, name.clone(), o.kind.as_str());
                    }
                    fates.push((id, Fate::Replace { data, name: new_name, kind_changed }));
                }
                _ => {
                    let why = match o.reason {
                        Some(r) => format!("{}: {r}", o.kind),
                        None => o.kind.to_string(),
                    };
                    self.report(ActionKind::RemovedEmbeddedFile, name.clone(), why);
                    fates.push((id, Fate::Remove));
                }
            }
            crate::formats::adopt_child_actions(&mut self.child_actions, &name, child_actions);
        }
        Ok(fates)
    }

    /// Puts a disarmed attachment's bytes in place of the original's.
    fn replace_file(&mut self, id: ObjectId, data: Vec<u8>, kind_changed: bool) -> Result<(), FormatError> {
        let compressed = super::streams::compress(&data)?;
        let Some(Object::Stream(s)) = self.objects.get_mut(&id) else { return Ok(()) };
        s.dict.remove(b"DecodeParms");
        s.dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        if kind_changed {
            s.dict.remove(b"Subtype");
        }
        if let Ok(Object::Dictionary(p)) = s.dict.get_mut(b"Params") {
            p.set("Size", data.len() as i64);
            p.remove(b"CheckSum");
        }
        s.set_content(compressed);
        self.made_streams.insert(id);
        Ok(())
    }
}

/// Dictionaries with an `/EF` entry inside `o` (the object itself included).
fn collect_specs<'o>(o: &'o Object, depth: u32, out: &mut Vec<&'o Dictionary>) {
    if depth > 64 {
        return;
    }
    let d = match o {
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        Object::Array(a) => {
            a.iter().for_each(|x| collect_specs(x, depth + 1, out));
            return;
        }
        _ => return,
    };
    if d.has(b"EF") {
        out.push(d);
    }
    for (_, v) in d.iter() {
        collect_specs(v, depth + 1, out);
    }
}

/// Sets the file names of the file specifications inside `o` that offer one of `streams`.
fn rename_specs(o: &mut Object, streams: &[ObjectId], name: &str) {
    fn walk(o: &mut Object, streams: &[ObjectId], name: &str, depth: u32) {
        if depth > 64 {
            return;
        }
        let d = match o {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &mut s.dict,
            Object::Array(a) => {
                a.iter_mut().for_each(|x| walk(x, streams, name, depth + 1));
                return;
            }
            _ => return,
        };
        let offers = match d.get(b"EF") {
            Ok(Object::Dictionary(ef)) => {
                EF_KEYS.iter().any(|k| matches!(ef.get(k), Ok(Object::Reference(id)) if streams.contains(id)))
            }
            _ => false,
        };
        if offers {
            d.set("UF", lopdf::text_string(name));
            let ascii: String = name.chars().map(|c| if c.is_ascii() && !c.is_control() { c } else { '_' }).collect();
            d.set("F", Object::String(ascii.into_bytes(), StringFormat::Literal));
        }
        for (_, v) in d.iter_mut() {
            walk(v, streams, name, depth + 1);
        }
    }
    walk(o, streams, name, 0)
}

/// The name a file specification gives its file: `/UF`, else `/F`, without any folder part.
fn spec_name(d: &Dictionary) -> String {
    let full = [b"UF".as_slice(), b"F", b"DOS", b"Unix", b"Mac"]
        .iter()
        .find_map(|k| d.get(k).ok().filter(|o| matches!(o, Object::String(..))))
        .map(|o| lopdf::decode_text_string(o).unwrap_or_else(|_| show(o.as_str().unwrap_or_default())))
        .unwrap_or_default();
    let base = full.rsplit(['/', '\\', ':']).next().unwrap_or("").trim();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if clean.is_empty() {
        "attachment".into()
    } else {
        clean
    }
}

/// Whether an object with an `/EF` entry is a file specification and nothing else: typed
/// `/Filespec` or not typed at all.
fn only_a_file_spec(o: &Object) -> bool {
    match o {
        Object::Dictionary(d) => get_name(d, b"Type").is_none_or(|t| t == b"Filespec"),
        _ => false,
    }
}

fn is_file_attachment(o: &Object) -> bool {
    matches!(o, Object::Dictionary(d) if get_name(d, b"Subtype") == Some(b"FileAttachment"))
}
