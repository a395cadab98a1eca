//! What counts as active content in a PDF, and the sweep that removes it wherever it hangs.
//!
//! Actions are recognised by their type (`/S`), whatever key holds them: `/A` of a link,
//! widget or outline item, `/PA`, `/Next` chains, or a key no specification names. A reference
//! to a banned object (a script, a dangerous action, a rich media annotation, a blocked
//! attachment) is cut wherever it appears; the banned object then has nothing pointing to it
//! and is dropped with the rest of what nothing references.

use super::graph::too_deep;
use super::{get_name, show, Ban, Pdf};
use crate::config::LinkPolicy;
use crate::formats::FormatError;
use crate::model::{ActionKind, Reason};
use lopdf::{Dictionary, Object, ObjectId};
use std::collections::BTreeMap;

/// Every action type of the specification (PDF 2.0, 12.6.4): a dictionary whose `/S` is one of
/// these is an action. Other dictionaries use `/S` too (structure elements, page labels,
/// transitions, transparency groups) with other values.
const ACTION_TYPES: [&[u8]; 20] = [
    b"GoTo",
    b"GoToR",
    b"GoToE",
    b"GoToDp",
    b"Launch",
    b"Thread",
    b"URI",
    b"Sound",
    b"Movie",
    b"Hide",
    b"Named",
    b"SubmitForm",
    b"ResetForm",
    b"ImportData",
    b"JavaScript",
    b"SetOCGState",
    b"Rendition",
    b"Trans",
    b"GoTo3DView",
    b"RichMediaExecute",
];

/// Actions that run something, send or fetch data, open another document or play media.
const DANGEROUS_ACTIONS: [&[u8]; 8] =
    [b"Launch", b"SubmitForm", b"ImportData", b"GoToR", b"GoToE", b"Rendition", b"Sound", b"Movie"];

/// Actions that drive rich media or 3D content (removed with that content).
const MEDIA_ACTIONS: [&[u8]; 2] = [b"GoTo3DView", b"RichMediaExecute"];

/// Annotations that play media or run 3D and rich media content.
const MEDIA_ANNOTATIONS: [&[u8]; 5] = [b"RichMedia", b"3D", b"Screen", b"Movie", b"Sound"];

/// Keys that hold rich media or 3D content wherever they appear.
const MEDIA_KEYS: [&[u8]; 4] = [b"RichMediaContent", b"RichMediaSettings", b"3DD", b"3DV"];

/// URI schemes a kept link may use.
const WEB_SCHEMES: [&str; 3] = ["http:", "https:", "mailto:"];

/// Whether a dictionary is an action.
fn is_action(d: &Dictionary) -> bool {
    d.has(b"JS") || get_name(d, b"S").is_some_and(|s| ACTION_TYPES.contains(&s))
}

/// The removal an action calls for under the link policy, or `None` when it may stay.
pub(super) fn judge_action(d: &Dictionary, links: LinkPolicy) -> Option<(ActionKind, String)> {
    let s = get_name(d, b"S");
    if d.has(b"JS") || s == Some(b"JavaScript") {
        return Some((ActionKind::RemovedJavascript, "JavaScript action".into()));
    }
    let s = s?;
    if DANGEROUS_ACTIONS.contains(&s) {
        let target = ["F", "URL", "Win"]
            .iter()
            .find_map(|k| match d.get(k.as_bytes()) {
                Ok(Object::String(f, _)) => Some(format!(" {}", show(f))),
                Ok(Object::Dictionary(f)) => match f.get(b"F").or_else(|_| f.get(b"UF")) {
                    Ok(Object::String(f, _)) => Some(format!(" {}", show(f))),
                    _ => None,
                },
                _ => None,
            })
            .unwrap_or_default();
        return Some((ActionKind::RemovedDangerousAction, format!("/{} action{target}", show(s))));
    }
    if MEDIA_ACTIONS.contains(&s) {
        return Some((ActionKind::RemovedRichMedia, format!("/{} action", show(s))));
    }
    if s == b"URI" {
        let uri = match d.get(b"URI") {
            Ok(Object::String(u, _)) => String::from_utf8_lossy(u).into_owned(),
            _ => String::new(),
        };
        let shown = show(uri.as_bytes());
        if links == LinkPolicy::Remove {
            return Some((ActionKind::RemovedExternalReference, format!("link to {shown}")));
        }
        let lower = uri.trim().to_ascii_lowercase();
        if !WEB_SCHEMES.iter().any(|w| lower.starts_with(w)) {
            return Some((ActionKind::RemovedExternalReference, format!("link to a non-web target: {shown}")));
        }
    }
    None
}

/// Whether a dictionary is an annotation that plays media or 3D content.
fn media_annotation(d: &Dictionary) -> Option<String> {
    let st = get_name(d, b"Subtype")?;
    (MEDIA_ANNOTATIONS.contains(&st) && (d.has(b"Rect") || d.has_type(b"Annot")))
        .then(|| format!("/{} annotation", show(st)))
}

/// Whether a dictionary carries or offers an attached file: an embedded file stream, a file
/// attachment annotation, a file specification with data (`/EF`) or the attachments list.
fn attachment(d: &Dictionary) -> bool {
    d.has_type(b"EmbeddedFile")
        || get_name(d, b"Subtype") == Some(b"FileAttachment")
        || d.has(b"EF")
        || d.has(b"EmbeddedFiles")
}

/// What the object needs removed, judged on itself alone (its own keys and direct
/// sub-objects): used for objects that are dropped and for the final check. Attachments count
/// unless `files_allowed`.
pub(super) fn active_content(o: &Object, links: LinkPolicy, files_allowed: bool) -> Option<String> {
    fn dict(d: &Dictionary, links: LinkPolicy, files: bool, depth: u32) -> Option<String> {
        if depth > 128 {
            return None;
        }
        for key in [b"JS".as_slice(), b"JavaScript", b"AA", b"XFA"] {
            if d.has(key) {
                return Some(format!("/{}", show(key)));
            }
        }
        if let Some(k) = MEDIA_KEYS.iter().find(|k| d.has(k)) {
            return Some(format!("/{}", show(k)));
        }
        if is_action(d) {
            if let Some((_, why)) = judge_action(d, links) {
                return Some(why);
            }
        }
        if let Some(m) = media_annotation(d) {
            return Some(m);
        }
        if !files && attachment(d) {
            return Some("embedded file".into());
        }
        d.iter().find_map(|(_, v)| value(v, links, files, depth + 1))
    }
    fn value(o: &Object, links: LinkPolicy, files: bool, depth: u32) -> Option<String> {
        match o {
            Object::Dictionary(d) => dict(d, links, files, depth),
            Object::Stream(s) => dict(&s.dict, links, files, depth),
            Object::Array(a) if depth <= 128 => a.iter().find_map(|x| value(x, links, files, depth + 1)),
            _ => None,
        }
    }
    value(o, links, files_allowed, 0)
}

/// A removal found while sweeping one object, reported once the object is back in place.
struct Found {
    action: ActionKind,
    detail: String,
}

/// Sweeps one object that has been taken out of the document, with read access to the rest.
struct Sweeper<'p> {
    objects: &'p BTreeMap<ObjectId, Object>,
    banned: &'p std::collections::HashMap<ObjectId, Ban>,
    links: LinkPolicy,
    /// Attachments may stay (`[pdf] embedded_files = "disarm"`): those the engine kept.
    files: bool,
    max: u32,
    found: Vec<Found>,
    /// Banned objects whose references were cut.
    cut: Vec<ObjectId>,
    signature: bool,
}

fn resolve<'o>(objects: &'o BTreeMap<ObjectId, Object>, o: &'o Object) -> Option<&'o Dictionary> {
    match o {
        Object::Dictionary(d) => Some(d),
        Object::Reference(id) => match objects.get(id)? {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        },
        _ => None,
    }
}

impl Sweeper<'_> {
    /// Whether a value must be cut out of its container.
    fn must_cut(&mut self, v: &Object) -> bool {
        match v {
            Object::Reference(id) if self.banned.contains_key(id) => {
                self.cut.push(*id);
                true
            }
            Object::Dictionary(d) => {
                if is_action(d) {
                    if let Some((action, detail)) = judge_action(d, self.links) {
                        self.found.push(Found { action, detail });
                        return true;
                    }
                }
                if let Some(detail) = media_annotation(d) {
                    self.found.push(Found { action: ActionKind::RemovedRichMedia, detail });
                    return true;
                }
                if !self.files && get_name(d, b"Subtype") == Some(b"FileAttachment") {
                    let detail = "file attachment annotation".into();
                    self.found.push(Found { action: ActionKind::RemovedEmbeddedFile, detail });
                    return true;
                }
                false
            }
            _ => false,
        }
    }

    /// Reports what an `/AA` dictionary held: the trigger, and each action for what it was.
    fn additional_actions(&mut self, aa: &Object) {
        let objects = self.objects;
        let Some(d) = resolve(objects, aa) else {
            self.found.push(Found { action: ActionKind::RemovedAutoAction, detail: "additional actions".into() });
            return;
        };
        let triggers: Vec<String> = d.iter().map(|(k, _)| show(k)).collect();
        let mut inner = Vec::new();
        for (_, a) in d.iter() {
            if let Object::Reference(id) = a {
                if self.banned.contains_key(id) {
                    self.cut.push(*id);
                    continue;
                }
            }
            if let Some(ad) = resolve(objects, a) {
                if let Some((action, detail)) = judge_action(ad, self.links) {
                    inner.push(Found { action, detail });
                }
            }
        }
        self.found.push(Found {
            action: ActionKind::RemovedAutoAction,
            detail: format!("additional actions ({})", triggers.join(", ")),
        });
        self.found.extend(inner);
    }

    fn dict(&mut self, d: &mut Dictionary, depth: u32) -> Result<(), FormatError> {
        if let Some(aa) = d.remove(b"AA") {
            self.additional_actions(&aa);
        }
        if d.remove(b"JS").is_some() {
            self.found.push(Found { action: ActionKind::RemovedJavascript, detail: "JavaScript".into() });
        }
        if d.remove(b"JavaScript").is_some() {
            self.found.push(Found { action: ActionKind::RemovedJavascript, detail: "document JavaScript".into() });
        }
        if d.remove(b"XFA").is_some() {
            self.found.push(Found { action: ActionKind::RemovedXfa, detail: "XFA form".into() });
        }
        d.remove(b"NeedsRendering");
        for k in MEDIA_KEYS {
            if d.remove(k).is_some() {
                self.found.push(Found { action: ActionKind::RemovedRichMedia, detail: format!("/{}", show(k)) });
            }
        }
        // A signature the rewrite invalidates, and the permissions that rest on it.
        if get_name(d, b"FT") == Some(b"Sig") && d.remove(b"V").is_some() {
            self.signature = true;
        }
        if d.remove(b"Perms").is_some() {
            self.signature = true;
        }
        // "Signed, append only": the rewrite cannot honour it and there is no signature left.
        d.remove(b"SigFlags");
        let names_tree = d.has(b"Names") || d.has(b"Nums");
        let mut cut_keys = Vec::new();
        for (k, v) in d.iter() {
            if self.must_cut(v) {
                cut_keys.push(k.clone());
            }
        }
        for k in cut_keys {
            d.remove(&k);
        }
        for (k, v) in d.iter_mut() {
            if depth >= self.max && matches!(v, Object::Array(_) | Object::Dictionary(_)) {
                return Err(too_deep(self.max));
            }
            let pairs = names_tree && matches!(k.as_slice(), b"Names" | b"Nums");
            self.value(v, depth + 1, pairs)?;
        }
        // A file specification whose embedded data was all cut.
        if matches!(d.get(b"EF"), Ok(Object::Dictionary(ef)) if ef.is_empty()) {
            d.remove(b"EF");
        }
        // Under "remove", what the attachment pass could not follow (an `/EF` that points
        // nowhere or holds no stream, the attachments list itself) goes too.
        if !self.files {
            for key in [b"EF".as_slice(), b"EmbeddedFiles", b"RF"] {
                if d.remove(key).is_some() {
                    let detail = format!("/{} entry", show(key));
                    self.found.push(Found { action: ActionKind::RemovedEmbeddedFile, detail });
                }
            }
            // An object kept for what else it is (a page typed as an attachment by a damaged
            // file, say) loses the type.
            let typed = [(b"Type".as_slice(), b"EmbeddedFile".as_slice()), (b"Subtype", b"FileAttachment")];
            for (key, value) in typed {
                if get_name(d, key) == Some(value) {
                    d.remove(key);
                    let detail = format!("/{} /{}", show(key), show(value));
                    self.found.push(Found { action: ActionKind::RemovedEmbeddedFile, detail });
                }
            }
        }
        Ok(())
    }

    /// `pairs`: the array is a name or number tree leaf (`[key value key value ...]`), cut pair
    /// by pair.
    fn value(&mut self, v: &mut Object, depth: u32, pairs: bool) -> Result<(), FormatError> {
        match v {
            Object::Dictionary(d) => self.dict(d, depth),
            Object::Stream(s) => self.dict(&mut s.dict, depth),
            Object::Array(a) => {
                if pairs && a.len() % 2 == 0 {
                    let mut kept = Vec::with_capacity(a.len());
                    for pair in std::mem::take(a).chunks_exact(2) {
                        if !self.must_cut(&pair[1]) {
                            kept.extend_from_slice(pair);
                        }
                    }
                    *a = kept;
                } else {
                    let mut kept = Vec::with_capacity(a.len());
                    for x in std::mem::take(a) {
                        if !self.must_cut(&x) {
                            kept.push(x);
                        }
                    }
                    *a = kept;
                }
                for x in a.iter_mut() {
                    if depth >= self.max && matches!(x, Object::Array(_) | Object::Dictionary(_)) {
                        return Err(too_deep(self.max));
                    }
                    self.value(x, depth + 1, false)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl Pdf<'_, '_> {
    /// The catalog's own automatic and document-level content: an open action other than a
    /// destination or a plain GoTo, and the JavaScript, alternate presentation and rendition
    /// name trees.
    pub(super) fn clean_catalog(&mut self) -> Result<(), FormatError> {
        let links = self.links();
        let catalog = self.catalog()?;
        let open = catalog.get(b"OpenAction").ok();
        let open_verdict = open.map(|o| match o {
            Object::Array(_) => None,
            Object::Reference(id) if matches!(self.objects.get(id), Some(Object::Array(_))) => None,
            o => match self.resolve_dict(o) {
                Some(d) if get_name(d, b"S") == Some(b"GoTo") && !d.has(b"Next") => None,
                Some(d) => {
                    let what = get_name(d, b"S").map(show).unwrap_or_else(|| "unknown".into());
                    Some((format!("open action (/{what})"), judge_action(d, links)))
                }
                None => Some(("open action".to_string(), None)),
            },
        });
        let open_ref = match open {
            Some(Object::Reference(id)) => Some(*id),
            _ => None,
        };
        if let Some(Some((detail, inner))) = open_verdict {
            if let Some(Object::Dictionary(c)) = self.objects.get_mut(&self.root) {
                c.remove(b"OpenAction");
            }
            self.report(ActionKind::RemovedAutoAction, "catalog", detail);
            if let Some((action, detail)) = inner {
                self.report(action, "catalog", detail);
                if let Some(id) = open_ref {
                    self.banned.insert(id, Ban { action, detail: String::new(), reported: true });
                }
            }
        }
        let mut removed = Vec::new();
        if let Some(n) = self.names_dict_mut() {
            if n.remove(b"JavaScript").is_some() {
                removed.push((ActionKind::RemovedJavascript, "document JavaScript (name tree)"));
            }
            if n.remove(b"AlternatePresentations").is_some() {
                removed.push((ActionKind::RemovedRichMedia, "alternate presentations"));
            }
            if n.remove(b"Renditions").is_some() {
                removed.push((ActionKind::RemovedRichMedia, "renditions"));
            }
        }
        for (action, detail) in removed {
            self.report(action, "catalog", detail);
        }
        Ok(())
    }

    /// Bans every object that is a disallowed action or a media annotation, then sweeps every
    /// object: keys that are active in themselves go, and every reference to a banned object is
    /// cut.
    pub(super) fn sweep(&mut self) -> Result<(), FormatError> {
        let links = self.links();
        let files = self.files_allowed();
        for (id, o) in &self.objects {
            let d = match o {
                Object::Dictionary(d) => d,
                Object::Stream(s) => &s.dict,
                _ => continue,
            };
            let stray_file = || {
                let annotation = get_name(d, b"Subtype") == Some(b"FileAttachment")
                    && get_name(d, b"Type").is_none_or(|t| t == b"Annot");
                let file = matches!(o, Object::Stream(_)) && d.has_type(b"EmbeddedFile");
                (!files && (annotation || file)).then(|| (ActionKind::RemovedEmbeddedFile, "attached file".to_string()))
            };
            let ban = if is_action(d) { judge_action(d, links) } else { None }
                .or_else(|| media_annotation(d).map(|m| (ActionKind::RemovedRichMedia, m)))
                .or_else(stray_file);
            if let Some((action, detail)) = ban {
                if *id == self.root {
                    return Err(FormatError::malformed(format!("the document catalog is also a {detail}")));
                }
                // Removing it would take its pages with it (the rest of the document would be
                // passed on without them).
                if d.has_type(b"Page") || d.has_type(b"Pages") || self.labels.contains_key(id) {
                    return Err(FormatError::malformed(format!(
                        "{} {} R, a node of the page tree, is also a {detail}",
                        id.0, id.1
                    )));
                }
                self.banned.entry(*id).or_insert(Ban { action, detail, reported: false });
            }
        }
        // The document information dictionary hangs from the trailer, which is not swept: if
        // it is itself something to remove, the trailer loses it.
        if let Ok(Object::Reference(info)) = self.trailer.get(b"Info") {
            let info = *info;
            if self.banned.contains_key(&info) {
                self.trailer.remove(b"Info");
                self.report_ban(info, "document information");
            }
        }
        let ids: Vec<ObjectId> = self.objects.keys().copied().collect();
        let mut signature = false;
        for (n, id) in ids.into_iter().enumerate() {
            if n % 1024 == 0 {
                self.ctx.budget.check_time()?;
            }
            // Banned objects go with the next drop; nothing in them needs sweeping.
            if self.banned.contains_key(&id) {
                continue;
            }
            let Some(mut o) = self.objects.remove(&id) else { continue };
            let mut s = Sweeper {
                objects: &self.objects,
                banned: &self.banned,
                links,
                files,
                max: self.max_nesting(),
                found: Vec::new(),
                cut: Vec::new(),
                signature: false,
            };
            let r = s.value(&mut o, 0, false);
            let (found, cut) = (std::mem::take(&mut s.found), std::mem::take(&mut s.cut));
            signature |= s.signature;
            self.objects.insert(id, o);
            r?;
            let at = self.label(id);
            for f in found {
                self.report(f.action, at.clone(), f.detail);
            }
            for c in cut {
                self.report_ban(c, &at);
            }
        }
        if signature {
            self.report(ActionKind::RemovedSignature, "document", "digital signature invalidated by the rewrite");
        }
        Ok(())
    }

    /// The last line of defence: nothing the sweep should have removed may be left. If anything
    /// is, the document is blocked rather than passed on.
    pub(super) fn verify_clean(&self) -> Result<(), FormatError> {
        let links = self.links();
        let keep_files = self.files_allowed();
        for (id, o) in &self.objects {
            // Attachments are kept, disarmed, when the policy says so.
            let Some(what) = active_content(o, links, keep_files) else { continue };
            return Err(FormatError::new(
                Reason::InternalError,
                format!("active content left after the rewrite in object {}: {what}", id.0),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::StringFormat;

    fn action(s: &[u8], extra: &[(&str, Object)]) -> Dictionary {
        let mut d = Dictionary::new();
        d.set("S", Object::Name(s.to_vec()));
        for (k, v) in extra {
            d.set(*k, v.clone());
        }
        d
    }

    fn uri(u: &str) -> Dictionary {
        action(b"URI", &[("URI", Object::String(u.as_bytes().to_vec(), StringFormat::Literal))])
    }

    #[test]
    fn scripts_and_dangerous_actions_are_judged_by_type() {
        let k = |d: &Dictionary| judge_action(d, LinkPolicy::Keep).map(|(a, _)| a);
        assert_eq!(k(&action(b"JavaScript", &[])), Some(ActionKind::RemovedJavascript));
        // A /JS entry makes a script whatever the type says.
        let js = Object::String(b"app.alert(1)".to_vec(), StringFormat::Literal);
        assert_eq!(k(&action(b"GoTo", &[("JS", js)])), Some(ActionKind::RemovedJavascript));
        for s in DANGEROUS_ACTIONS {
            assert_eq!(k(&action(s, &[])), Some(ActionKind::RemovedDangerousAction), "{}", show(s));
        }
        assert_eq!(k(&action(b"RichMediaExecute", &[])), Some(ActionKind::RemovedRichMedia));
        for s in [b"GoTo".as_slice(), b"Named", b"ResetForm", b"Hide", b"SetOCGState", b"Thread"] {
            assert_eq!(k(&action(s, &[])), None, "{}", show(s));
        }
    }

    #[test]
    fn launch_names_its_target_in_the_report() {
        let f = Object::String(b"cmd.exe".to_vec(), StringFormat::Literal);
        let (_, detail) = judge_action(&action(b"Launch", &[("F", f)]), LinkPolicy::Keep).unwrap();
        assert_eq!(detail, "/Launch action cmd.exe");
    }

    #[test]
    fn links_follow_the_policy_and_never_keep_non_web_targets() {
        let keep = |u: &str| judge_action(&uri(u), LinkPolicy::Keep).is_none();
        assert!(keep("https://example.org/a"));
        assert!(keep("HTTP://example.org"));
        assert!(keep("mailto:someone@example.org"));
        for bad in
            ["javascript:alert(1)", " JavaScript:x", "file:///c:/x.exe", "\\\\host\\share", "data:text/html,x", "x.pdf"]
        {
            assert!(!keep(bad), "{bad}");
        }
        assert_eq!(
            judge_action(&uri("https://example.org"), LinkPolicy::Remove).map(|(a, _)| a),
            Some(ActionKind::RemovedExternalReference)
        );
    }

    #[test]
    fn structure_elements_and_page_labels_are_not_actions() {
        assert!(!is_action(&action(b"P", &[])));
        assert!(!is_action(&action(b"Link", &[])));
        assert!(!is_action(&action(b"D", &[])));
        assert!(is_action(&action(b"URI", &[])));
    }

    #[test]
    fn media_annotations_need_to_be_annotations() {
        let mut a = Dictionary::new();
        a.set("Subtype", Object::Name(b"3D".to_vec()));
        assert!(media_annotation(&a).is_none(), "a 3D stream is not an annotation");
        a.set("Rect", Object::Array(vec![0.into(), 0.into(), 10.into(), 10.into()]));
        assert_eq!(media_annotation(&a).as_deref(), Some("/3D annotation"));
    }

    #[test]
    fn active_content_looks_inside_direct_objects_only() {
        let mut inner = Dictionary::new();
        inner.set("A", Object::Dictionary(action(b"JavaScript", &[])));
        let mut outer = Dictionary::new();
        outer.set("Kids", Object::Array(vec![Object::Dictionary(inner)]));
        assert!(active_content(&Object::Dictionary(outer.clone()), LinkPolicy::Keep, false).is_some());
        let mut by_ref = Dictionary::new();
        by_ref.set("A", Object::Reference((7, 0)));
        assert!(active_content(&Object::Dictionary(by_ref), LinkPolicy::Keep, false).is_none());
        let mut spec = Dictionary::new();
        spec.set("EF", Object::Dictionary(Dictionary::new()));
        let spec = Object::Dictionary(spec);
        assert!(active_content(&spec, LinkPolicy::Keep, false).is_some());
        assert!(active_content(&spec, LinkPolicy::Keep, true).is_none());
    }
}
