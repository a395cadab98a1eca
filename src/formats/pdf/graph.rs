//! The object graph: the page tree, what the trailer reaches, and the rewrite.

use super::clean::active_content;
use super::Pdf;
use crate::formats::FormatError;
use crate::model::{ActionKind, Reason};
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Calls `f` for every reference inside `o` (nested arrays and dictionaries included), failing
/// when the nesting goes deeper than `max`.
pub(super) fn for_each_ref(o: &Object, max: u32, f: &mut impl FnMut(ObjectId)) -> Result<(), FormatError> {
    fn walk(o: &Object, depth: u32, max: u32, f: &mut impl FnMut(ObjectId)) -> Result<(), FormatError> {
        match o {
            Object::Reference(id) => f(*id),
            Object::Array(a) => {
                if a.iter().any(|x| matches!(x, Object::Array(_) | Object::Dictionary(_))) && depth >= max {
                    return Err(too_deep(max));
                }
                for x in a {
                    walk(x, depth + 1, max, f)?;
                }
            }
            Object::Dictionary(d) => walk_dict(d, depth, max, f)?,
            Object::Stream(s) => walk_dict(&s.dict, depth, max, f)?,
            _ => {}
        }
        Ok(())
    }
    fn walk_dict(d: &Dictionary, depth: u32, max: u32, f: &mut impl FnMut(ObjectId)) -> Result<(), FormatError> {
        for (_, v) in d.iter() {
            if matches!(v, Object::Array(_) | Object::Dictionary(_)) && depth >= max {
                return Err(too_deep(max));
            }
            walk(v, depth + 1, max, f)?;
        }
        Ok(())
    }
    walk(o, 0, max, f)
}

pub(super) fn too_deep(max: u32) -> FormatError {
    FormatError::new(Reason::LimitNesting, format!("objects nested deeper than {max}"))
}

impl Pdf<'_, '_> {
    /// Walks the page tree: it must exist, hold at least one page, and neither loop nor share a
    /// node nor nest deeper than `max_nesting`. Pages get their labels for reports.
    pub(super) fn check_page_tree(&mut self) -> Result<(), FormatError> {
        let max = self.max_nesting();
        let top = self
            .catalog()?
            .get(b"Pages")
            .and_then(Object::as_reference)
            .map_err(|_| FormatError::malformed("the catalog has no page tree"))?;
        let mut stack = vec![(top, 0u32)];
        let mut seen = HashSet::new();
        let mut pages = 0usize;
        while let Some((id, depth)) = stack.pop() {
            if depth > max {
                return Err(FormatError::new(Reason::LimitNesting, format!("page tree nested deeper than {max}")));
            }
            if !seen.insert(id) {
                return Err(FormatError::malformed(format!(
                    "the page tree loops or shares a node ({} {} R)",
                    id.0, id.1
                )));
            }
            if seen.len() % 1024 == 0 {
                self.ctx.budget.check_time()?;
            }
            let Some(node) = self.dict(id) else {
                if depth == 0 {
                    return Err(FormatError::malformed("the root of the page tree is missing"));
                }
                continue;
            };
            match node.get(b"Kids") {
                Ok(Object::Array(kids)) => {
                    for k in kids.iter().rev() {
                        if let Object::Reference(k) = k {
                            stack.push((*k, depth + 1));
                        }
                    }
                }
                _ if depth == 0 => return Err(FormatError::malformed("the root of the page tree has no /Kids")),
                _ => {
                    pages += 1;
                    self.labels.insert(id, format!("page {pages}"));
                }
            }
        }
        if pages == 0 {
            return Err(FormatError::malformed("the document has no pages"));
        }
        Ok(())
    }

    /// The objects the trailer's `/Root` and `/Info` reach.
    fn reachable(&self) -> Result<HashSet<ObjectId>, FormatError> {
        let max = self.max_nesting();
        let mut seen = HashSet::new();
        let mut stack: Vec<ObjectId> = [b"Root".as_slice(), b"Info"]
            .iter()
            .filter_map(|k| self.trailer.get(k).and_then(Object::as_reference).ok())
            .collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if seen.len() % 4096 == 0 {
                self.ctx.budget.check_time()?;
            }
            if let Some(o) = self.objects.get(&id) {
                for_each_ref(o, max, &mut |r| {
                    if !seen.contains(&r) {
                        stack.push(r);
                    }
                })?;
            }
        }
        Ok(seen)
    }

    /// Drops every object the trailer does not reach. On the first call (the file as it came)
    /// a dropped object that holds active content is a hidden payload and is reported; later
    /// calls only clear away what the removals cut off.
    pub(super) fn drop_unreachable(&mut self, report: bool) -> Result<(), FormatError> {
        let keep = self.reachable()?;
        let dropped: Vec<ObjectId> = self.objects.keys().filter(|id| !keep.contains(id)).copied().collect();
        for id in dropped {
            let Some(o) = self.objects.remove(&id) else { continue };
            if report {
                if let Some(what) = active_content(&o, self.links(), false) {
                    self.report(ActionKind::RemovedUnreferencedPart, format!("obj {}", id.0), what);
                }
            }
        }
        Ok(())
    }

    /// Renumbers the objects from 1 in their present order, points every reference at the new
    /// numbers (a reference to a missing object becomes null, as the format reads it), and
    /// writes a new file with one cross-reference section and a trailer of `/Root`, `/Info`
    /// and `/ID` only. A file that kept its objects in object streams is written the same
    /// compact way (object streams and a cross-reference stream), others with a classic table.
    pub(super) fn write(&mut self, compact: bool) -> Result<Vec<u8>, FormatError> {
        // The length as written, never a reference to another object; an object that held
        // only a length is then reached by nothing and goes (it stayed in the file, and a
        // second pass dropped it and numbered every object after it anew).
        for o in self.objects.values_mut() {
            if let Object::Stream(s) = o {
                s.dict.set("Length", s.content.len() as i64);
            }
        }
        // An object that is null is no object, and the object and cross-reference streams of
        // the file that was read are not objects of the document (the writer makes its own):
        // the writer leaves them out, so a reference to one reads as null. Made so here, until
        // no such object is left (one that only referred to it becomes null in turn), or the
        // next pass over the file would find the gap and number every later object anew.
        let gone = |o: &Object| match o {
            Object::Null => true,
            Object::Stream(s) => s.dict.has_type(b"ObjStm") || s.dict.has_type(b"XRef"),
            _ => false,
        };
        loop {
            // A reference to an object that is not there (never was, or just left) is null.
            let same: HashMap<ObjectId, ObjectId> = self.objects.keys().map(|id| (*id, *id)).collect();
            for o in self.objects.values_mut() {
                renumber(o, &same);
            }
            let nulls: HashSet<ObjectId> = self.objects.iter().filter(|(_, o)| gone(o)).map(|(id, _)| *id).collect();
            if nulls.is_empty() {
                break;
            }
            self.objects.retain(|id, _| !nulls.contains(id));
        }
        self.drop_unreachable(false)?;
        let map: HashMap<ObjectId, ObjectId> =
            self.objects.keys().enumerate().map(|(i, id)| (*id, (i as u32 + 1, 0))).collect();
        let mut objects = BTreeMap::new();
        for (id, mut o) in std::mem::take(&mut self.objects) {
            renumber(&mut o, &map);
            objects.insert(map[&id], o);
        }
        let mut trailer = Dictionary::new();
        for key in [b"Root".as_slice(), b"Info"] {
            if let Ok(Object::Reference(r)) = self.trailer.get(key) {
                if let Some(n) = map.get(r) {
                    trailer.set(key, Object::Reference(*n));
                }
            }
        }
        if let Ok(Object::Array(id)) = self.trailer.get(b"ID") {
            if id.len() == 2 && id.iter().all(|x| matches!(x, Object::String(..))) {
                trailer.set("ID", Object::Array(id.clone()));
            }
        }
        let mut doc = Document::new();
        doc.version = self.version.clone();
        doc.max_id = objects.len() as u32;
        doc.objects = objects;
        doc.trailer = trailer;
        doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
        let mut out = Vec::new();
        let written = if compact {
            let options = lopdf::SaveOptions::builder().use_object_streams(true).use_xref_streams(true).build();
            doc.save_with_options(&mut out, options)
        } else {
            doc.save_to(&mut out)
        };
        written.map_err(|e| FormatError::new(Reason::InternalError, format!("writing the PDF: {e}")))?;
        Ok(out)
    }
}

fn renumber(o: &mut Object, map: &HashMap<ObjectId, ObjectId>) {
    match o {
        Object::Reference(id) => match map.get(id) {
            Some(n) => *id = *n,
            None => *o = Object::Null,
        },
        Object::Array(a) => a.iter_mut().for_each(|x| renumber(x, map)),
        Object::Dictionary(d) => d.iter_mut().for_each(|(_, v)| renumber(v, map)),
        Object::Stream(s) => s.dict.iter_mut().for_each(|(_, v)| renumber(v, map)),
        _ => {}
    }
}
