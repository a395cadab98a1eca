//! PowerPoint 97-2003 (.ppt, .pps, .pot): the VBA project, embedded and linked objects,
//! ActiveX controls and actions that run a macro, a program or an object verb are removed.
//!
//! All of them live inside the `PowerPoint Document` stream. The VBA project is a compressed
//! `ExOleObjStg` persist object named by the `VBAInfoAtom` in the document's `DocInfoList`; an
//! embedded, linked or control object is an `ExEmbed`, `ExOleLink` or `ExControl` container in
//! the `ExObjList`, whose `ExOleObjAtom` names its storage (another `ExOleObjStg`) and the object
//! id that slides' shapes use (`ExObjRefAtom` in the shape's client data).
//!
//! The stream is rewritten top-level record by top-level record:
//! - the storages go, every version any persist directory lists;
//! - `VBAInfoContainer`, `ExEmbed`, `ExOleLink` and `ExControl` containers go, and so does each
//!   shape's `ExObjRefAtom` to a removed object: the shape loses its `fOleShape` flag and stays
//!   as the object's preview picture; an `InteractiveInfoContainer` whose action runs a macro, a
//!   program or an object verb goes with the text range atom that follows it; every container
//!   around a removal gets its new length, and records nothing touched are copied as they are;
//! - each `PersistDirectoryAtom` loses the removed ids, and every absolute offset is moved with
//!   the bytes: the persist directory entries, each `UserEditAtom`'s `offsetLastEdit` and
//!   `offsetPersistDirectory`, and the `Current User` stream's `offsetToCurrentEdit`.
//!
//! The result is walked again from `Current User` and scanned again; anything active left (an
//! orphan storage no list names, say) blocks the presentation as `unsupported`. An encrypted one
//! (`CryptSession10Container`, an encrypted `Current User` token or an `EncryptedSummary`
//! stream) is blocked as `encrypted`; one whose records run past their container, or whose user
//! edits and persist directories do not lead to records, as `malformed`.

use super::{Actions, Tree};
use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::{ActionKind, Reason};
use std::collections::{BTreeSet, HashMap};

const EX_OLE_OBJ_STG: u16 = 0x1011;
const VBA_INFO_ATOM: u16 = 0x0400;
const EX_EMBED: u16 = 0x0FCC;
const EX_OLE_LINK: u16 = 0x0FCE;
const EX_CONTROL: u16 = 0x0FEE;
const INTERACTIVE_INFO_ATOM: u16 = 0x0FF3;
const CRYPT_SESSION: u16 = 0x2F14;
const VBA_INFO_CONTAINER: u16 = 0x03FF;
const USER_EDIT_ATOM: u16 = 0x0FF5;
const PERSIST_DIRECTORY_ATOM: u16 = 0x1772;
const CURRENT_USER_ATOM: u16 = 0x0FF6;
const EX_OLE_OBJ_ATOM: u16 = 0x0FC3;
const EX_OBJ_REF_ATOM: u16 = 0x0BC1;
const INTERACTIVE_INFO_CONTAINER: u16 = 0x0FF2;
const TEXT_INTERACTIVE_INFO_ATOM: u16 = 0x0FDF;
const OFFICE_ART_SP_CONTAINER: u16 = 0xF004;
const OFFICE_ART_FSP: u16 = 0xF00A;

/// `CurrentUserAtom.headerToken` of a plain and of an encrypted presentation.
const TOKEN_PLAIN: u32 = 0xE391_C05F;
const TOKEN_ENCRYPTED: u32 = 0xF3D1_C4DF;

/// Deepest record nesting walked (real presentations nest a handful of levels).
const MAX_DEPTH: usize = 64;

pub(super) fn disarm(tree: &mut Tree, actions: &mut Actions, budget: &Budget) -> Result<(), FormatError> {
    if tree.root_stream("EncryptedSummary").is_some() {
        return Err(FormatError::new(Reason::Encrypted, "password-protected presentation (EncryptedSummary stream)"));
    }
    let doc = tree
        .root_stream("PowerPoint Document")
        .ok_or_else(|| FormatError::malformed("no PowerPoint Document stream"))?;
    let user = tree.root_stream("Current User").ok_or_else(|| FormatError::malformed("no Current User stream"))?;
    if user.data.len() >= 16 && user.data[12..16] == TOKEN_ENCRYPTED.to_le_bytes() {
        return Err(FormatError::new(Reason::Encrypted, "password-protected presentation (Current User token)"));
    }
    if !scan(&doc.data, budget)?.any() {
        return Ok(());
    }
    let (new_doc, new_user, removed) = remove_active(&doc.data, &user.data, budget)?;
    if scan(&new_doc, budget)?.any() {
        // Something active that no object list names (an orphan storage, a control outside the
        // lists): it cannot be taken out consistently.
        return Err(FormatError::new(
            Reason::Unsupported,
            "presentation with an object, macro project or action that its lists do not name: not rebuilt",
        ));
    }
    // The rewritten stream must still lead from the current user to records of the right types.
    persist_chain(&new_doc, &new_user)?;
    for (action, part, detail) in removed {
        actions.add(action, part, detail);
    }
    if let Some(d) = tree.root_stream_mut("PowerPoint Document") {
        d.data = new_doc;
    }
    if let Some(u) = tree.root_stream_mut("Current User") {
        u.data = new_user;
    }
    Ok(())
}

/// What the record walk counted: `ExOleObjStg` records and `VBAInfoContainer`s.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub storages: usize,
    pub vba_info: usize,
    /// Embedded, linked and control objects, and actions that run something.
    pub active: usize,
}

impl Found {
    fn any(&self) -> bool {
        self.storages + self.vba_info + self.active > 0
    }
}

/// Walks the record tree of a `PowerPoint Document` stream, refusing what cannot be removed and
/// counting what can.
pub(crate) fn scan(data: &[u8], budget: &Budget) -> Result<Found, FormatError> {
    let mut found = Found::default();
    // (position, end of the enclosing container, depth)
    let mut stack: Vec<(usize, usize, usize)> = vec![(0, data.len(), 0)];
    let mut seen = 0u64;
    while let Some((pos, end, depth)) = stack.pop() {
        if pos >= end {
            continue;
        }
        if end - pos < 8 {
            // A short tail of zeros is padding (as `children` reads it too).
            if data[pos..end].iter().all(|&b| b == 0) {
                continue;
            }
            return Err(FormatError::malformed(format!("PowerPoint record header cut short at {pos}")));
        }
        seen += 1;
        if seen.is_multiple_of(4096) {
            budget.check_time()?;
        }
        let ver_inst = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let rtype = u16::from_le_bytes([data[pos + 2], data[pos + 3]]);
        let len = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]) as usize;
        let body = pos + 8;
        if len > end - body {
            return Err(FormatError::malformed(format!(
                "PowerPoint record {rtype:#06x} at {pos} runs past its container"
            )));
        }
        let b = &data[body..body + len];
        match rtype {
            CRYPT_SESSION => {
                return Err(FormatError::new(
                    Reason::Encrypted,
                    "password-protected presentation (CryptSession10Container)",
                ))
            }
            EX_OLE_OBJ_STG => found.storages += 1,
            VBA_INFO_CONTAINER => found.vba_info += 1,
            EX_EMBED | EX_OLE_LINK | EX_CONTROL => found.active += 1,
            INTERACTIVE_INFO_ATOM if b.len() >= 9 && matches!(b[8], 1 | 2 | 5) => found.active += 1,
            _ => {}
        }
        stack.push((body + len, end, depth));
        if ver_inst & 0x000F == 0x000F {
            if depth + 1 > MAX_DEPTH {
                return Err(FormatError::new(Reason::LimitNesting, "PowerPoint records nested too deeply"));
            }
            stack.push((body, body + len, depth + 1));
        }
    }
    Ok(found)
}

/// A record header.
#[derive(Clone, Copy, Debug)]
struct Hdr {
    start: usize,
    ver_inst: u16,
    rtype: u16,
    len: usize,
}

impl Hdr {
    fn end(&self) -> usize {
        self.start + 8 + self.len
    }
    fn body<'d>(&self, data: &'d [u8]) -> &'d [u8] {
        &data[self.start + 8..self.end()]
    }
}

/// The records directly inside `data[from..to]` (a zero tail of fewer than 8 bytes is padding).
fn children(data: &[u8], from: usize, to: usize) -> Result<Vec<Hdr>, FormatError> {
    let mut out = Vec::new();
    let mut pos = from;
    while pos + 8 <= to {
        let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]);
        let len = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]) as usize;
        if len > to - pos - 8 {
            return Err(FormatError::malformed(format!("PowerPoint record at {pos} runs past its container")));
        }
        out.push(Hdr { start: pos, ver_inst: u16_at(pos), rtype: u16_at(pos + 2), len });
        pos += 8 + len;
    }
    if data[pos..to].iter().any(|&b| b != 0) {
        return Err(FormatError::malformed("PowerPoint record header cut short"));
    }
    Ok(out)
}

fn u32_at(b: &[u8], o: usize) -> Result<u32, FormatError> {
    b.get(o..o + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
        .ok_or_else(|| FormatError::malformed("PowerPoint record too short"))
}

/// The user edits, newest first: (index of the UserEditAtom among the top-level records, index
/// of its PersistDirectoryAtom, the directory's (persist id, offset) entries).
type Chain = Vec<(usize, usize, Vec<(u32, usize)>)>;

/// Follows the `Current User` stream to the newest `UserEditAtom` and back through every older
/// one, reading each persist directory. Every offset must be the start of a top-level record of
/// the right type.
fn persist_chain(doc: &[u8], user: &[u8]) -> Result<(Vec<Hdr>, Chain), FormatError> {
    // Only the atom's first fields are read: writers disagree on its length and on what follows
    // it (the Unicode user name), and nothing else in the stream is used.
    if user.len() < 20 || u16::from_le_bytes([user[2], user[3]]) != CURRENT_USER_ATOM {
        return Err(FormatError::malformed("no CurrentUserAtom"));
    }
    let body = &user[8..];
    match u32_at(body, 4)? {
        TOKEN_PLAIN => {}
        TOKEN_ENCRYPTED => return Err(FormatError::new(Reason::Encrypted, "password-protected presentation")),
        t => return Err(FormatError::malformed(format!("CurrentUserAtom token {t:#010x}"))),
    }
    let tops = children(doc, 0, doc.len())?;
    let by_start: HashMap<usize, usize> = tops.iter().enumerate().map(|(i, h)| (h.start, i)).collect();
    let at = |off: usize, rtype: u16| -> Result<usize, FormatError> {
        by_start
            .get(&off)
            .copied()
            .filter(|&i| tops[i].rtype == rtype)
            .ok_or_else(|| FormatError::malformed(format!("offset {off} is not a record of type {rtype:#06x}")))
    };
    let mut chain: Chain = Vec::new();
    let mut seen = BTreeSet::new();
    let mut off = u32_at(body, 8)? as usize;
    loop {
        if !seen.insert(off) || chain.len() > tops.len() {
            return Err(FormatError::malformed("PowerPoint user edits loop"));
        }
        let edit = at(off, USER_EDIT_ATOM)?;
        let eb = tops[edit].body(doc);
        let last = u32_at(eb, 8)? as usize;
        let dir = at(u32_at(eb, 12)? as usize, PERSIST_DIRECTORY_ATOM)?;
        let db = tops[dir].body(doc);
        let mut entries = Vec::new();
        let mut i = 0;
        while i + 4 <= db.len() {
            let head = u32_at(db, i)?;
            let (first, count) = (head & 0x000F_FFFF, (head >> 20) as usize);
            for k in 0..count {
                let o = u32_at(db, i + 4 + 4 * k)? as usize;
                if !by_start.contains_key(&o) {
                    return Err(FormatError::malformed(format!(
                        "persist object {} at {o} is not a record",
                        first as usize + k
                    )));
                }
                entries.push((first + k as u32, o));
            }
            i += 4 + 4 * count;
        }
        if i != db.len() {
            return Err(FormatError::malformed("PersistDirectoryAtom cut short"));
        }
        chain.push((edit, dir, entries));
        if last == 0 {
            break;
        }
        off = last;
    }
    Ok((tops, chain))
}

fn header(out: &mut Vec<u8>, ver_inst: u16, rtype: u16, len: usize) -> Result<(), FormatError> {
    let len = u32::try_from(len).map_err(|_| FormatError::malformed("PowerPoint record too large"))?;
    out.extend_from_slice(&ver_inst.to_le_bytes());
    out.extend_from_slice(&rtype.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    Ok(())
}

/// What goes: persist objects by id (the VBA project, embedded and linked objects' storages,
/// control storages) and the object ids shapes use to point at embedded objects.
#[derive(Default)]
struct Removal {
    persist_ids: BTreeSet<u32>,
    object_ids: BTreeSet<u32>,
    vba_ids: BTreeSet<u32>,
    /// (action, part, detail) lines, in the order found.
    reports: Vec<(ActionKind, String, String)>,
}

impl Removal {
    fn report(&mut self, action: ActionKind, detail: String) {
        let line = (action, "PowerPoint Document".to_string(), detail);
        if !self.reports.contains(&line) {
            self.reports.push(line);
        }
    }
}

/// Finds the VBA project and every embedded, linked or control object the presentation lists.
fn collect(doc: &[u8], tops: &[Hdr], budget: &Budget) -> Result<Removal, FormatError> {
    let mut r = Removal::default();
    // (record, type of its parent, depth)
    let mut stack: Vec<(Hdr, u16, usize)> = tops.iter().map(|h| (*h, 0, 0)).collect();
    let mut seen = 0u64;
    while let Some((h, parent, depth)) = stack.pop() {
        seen += 1;
        if seen.is_multiple_of(4096) {
            budget.check_time()?;
        }
        let body = h.body(doc);
        match (h.rtype, parent) {
            (VBA_INFO_ATOM, VBA_INFO_CONTAINER) => {
                // Id 0 names no object (an atom left by a project that was deleted).
                let id = u32_at(body, 0)?;
                if id != 0 {
                    r.vba_ids.insert(id);
                    r.persist_ids.insert(id);
                }
            }
            (EX_OLE_OBJ_ATOM, EX_EMBED | EX_OLE_LINK | EX_CONTROL) => {
                r.object_ids.insert(u32_at(body, 8)?);
                let id = u32_at(body, 16)?;
                if id != 0 {
                    r.persist_ids.insert(id);
                }
            }
            _ => {}
        }
        if h.ver_inst & 0x000F == 0x000F {
            if depth + 1 > MAX_DEPTH {
                return Err(FormatError::new(Reason::LimitNesting, "PowerPoint records nested too deeply"));
            }
            for c in children(doc, h.start + 8, h.end())? {
                stack.push((c, h.rtype, depth + 1));
            }
        }
    }
    Ok(r)
}

/// An `InteractiveInfoContainer` whose action runs a macro, a program or an object verb.
fn runs_something(doc: &[u8], h: &Hdr) -> Result<bool, FormatError> {
    Ok(children(doc, h.start + 8, h.end())?
        .iter()
        .any(|a| a.rtype == INTERACTIVE_INFO_ATOM && a.len >= 9 && matches!(doc[a.start + 16], 1 | 2 | 5)))
}

/// The container `h` without what `r` removes, or `None` when nothing in it changes. The flag
/// says a shape's reference to a removed object went (its `OfficeArtFSP` then loses `fOleShape`
/// and the shape stays as the object's preview picture).
fn rewrite(doc: &[u8], h: &Hdr, r: &mut Removal, depth: usize) -> Result<Option<(Vec<u8>, bool)>, FormatError> {
    if h.ver_inst & 0x000F != 0x000F {
        return Ok(None);
    }
    if depth > MAX_DEPTH {
        return Err(FormatError::new(Reason::LimitNesting, "PowerPoint records nested too deeply"));
    }
    let kids = children(doc, h.start + 8, h.end())?;
    let mut pieces: Vec<(u16, Vec<u8>)> = Vec::with_capacity(kids.len());
    let (mut changed, mut lost_ref, mut after_dropped_info) = (false, false, false);
    for k in &kids {
        let follows_info = std::mem::take(&mut after_dropped_info);
        let drop = match k.rtype {
            // Reported with its storage.
            VBA_INFO_CONTAINER => true,
            EX_EMBED | EX_OLE_LINK => {
                let what = if k.rtype == EX_EMBED { "embedded object" } else { "linked object" };
                r.report(ActionKind::RemovedOleObject, format!("{what} and its storage; the picture stays"));
                true
            }
            EX_CONTROL => {
                r.report(ActionKind::RemovedActivex, "ActiveX control and its storage".into());
                true
            }
            EX_OBJ_REF_ATOM if k.len >= 4 && r.object_ids.contains(&u32_at(k.body(doc), 0)?) => {
                lost_ref = true;
                true
            }
            INTERACTIVE_INFO_CONTAINER if runs_something(doc, k)? => {
                r.report(ActionKind::RemovedProgramAction, "action running a macro, program or object verb".into());
                after_dropped_info = true;
                true
            }
            // The text range of an interactive action that was just removed.
            TEXT_INTERACTIVE_INFO_ATOM if follows_info => true,
            _ => false,
        };
        if drop {
            changed = true;
            continue;
        }
        match rewrite(doc, k, r, depth + 1)? {
            Some((bytes, lost)) => {
                changed = true;
                lost_ref |= lost;
                pieces.push((k.rtype, bytes));
            }
            None => pieces.push((k.rtype, doc[k.start..k.end()].to_vec())),
        }
    }
    if !changed {
        return Ok(None);
    }
    if lost_ref && h.rtype == OFFICE_ART_SP_CONTAINER {
        for (t, bytes) in &mut pieces {
            if *t == OFFICE_ART_FSP && bytes.len() >= 16 {
                bytes[12] &= !0x10; // fOleShape
            }
        }
        lost_ref = false;
    }
    let len: usize = pieces.iter().map(|p| p.1.len()).sum();
    let mut out = Vec::with_capacity(8 + len);
    header(&mut out, h.ver_inst, h.rtype, len)?;
    for (_, p) in pieces {
        out.extend_from_slice(&p);
    }
    Ok(Some((out, lost_ref)))
}

/// The new `PowerPoint Document` and `Current User` streams, and what was removed.
type Rewritten = (Vec<u8>, Vec<u8>, Vec<(ActionKind, String, String)>);

/// Rewrites the document stream without the VBA project, objects, controls and program actions
/// (see the module documentation).
fn remove_active(doc: &[u8], user: &[u8], budget: &Budget) -> Result<Rewritten, FormatError> {
    let (tops, chain) = persist_chain(doc, user)?;
    let mut removal = collect(doc, &tops, budget)?;
    // Every version of every storage to remove that any directory lists.
    let mut drop = BTreeSet::new();
    let mut listed = BTreeSet::new();
    for (_, _, entries) in &chain {
        for (id, off) in entries {
            if removal.persist_ids.contains(id) {
                listed.insert(*id);
                if !tops.iter().any(|h| h.start == *off && h.rtype == EX_OLE_OBJ_STG) {
                    return Err(FormatError::new(
                        Reason::Unsupported,
                        format!("persist object {id} of a macro project or object is not an ExOleObjStg"),
                    ));
                }
                drop.insert(*off);
            }
        }
    }
    for id in removal.vba_ids.intersection(&listed).copied().collect::<Vec<_>>() {
        removal.report(ActionKind::RemovedVbaProject, format!("VBA storage, persist object {id}"));
    }
    let dirs: HashMap<usize, &Vec<(u32, usize)>> = chain.iter().map(|(_, d, e)| (*d, e)).collect();
    let mut out = Vec::with_capacity(doc.len());
    let mut new_start: HashMap<usize, usize> = HashMap::new();
    // Offsets written with their old values, to be moved once every record has its place.
    let mut slots: Vec<(usize, usize)> = Vec::new();
    for (i, h) in tops.iter().enumerate() {
        if i % 256 == 0 {
            budget.check_time()?;
        }
        if drop.contains(&h.start) {
            continue;
        }
        new_start.insert(h.start, out.len());
        if let Some(entries) = dirs.get(&i) {
            let kept: Vec<(u32, usize)> =
                entries.iter().filter(|(id, _)| !removal.persist_ids.contains(id)).copied().collect();
            // Consecutive ids share one entry (at most 4095 to an entry).
            let mut groups: Vec<Vec<(u32, usize)>> = Vec::new();
            for e in kept {
                match groups.last_mut() {
                    Some(g) if g.len() < 0xFFF && g.last().map(|l| l.0 + 1) == Some(e.0) => g.push(e),
                    _ => groups.push(vec![e]),
                }
            }
            let len: usize = groups.iter().map(|g| 4 + 4 * g.len()).sum();
            header(&mut out, h.ver_inst, h.rtype, len)?;
            for g in groups {
                let head = (g[0].0 & 0x000F_FFFF) | ((g.len() as u32) << 20);
                out.extend_from_slice(&head.to_le_bytes());
                for (_, off) in g {
                    slots.push((out.len(), off));
                    out.extend_from_slice(&(off as u32).to_le_bytes());
                }
            }
        } else if h.rtype == USER_EDIT_ATOM {
            let at = out.len();
            out.extend_from_slice(&doc[h.start..h.end()]);
            let last = u32_at(h.body(doc), 8)? as usize;
            if last != 0 {
                slots.push((at + 16, last));
            }
            slots.push((at + 20, u32_at(h.body(doc), 12)? as usize));
        } else {
            match rewrite(doc, h, &mut removal, 1)? {
                Some((bytes, _)) => out.extend_from_slice(&bytes),
                None => out.extend_from_slice(&doc[h.start..h.end()]),
            }
        }
    }
    let tail = tops.last().map(|h| h.end()).unwrap_or(0);
    out.extend_from_slice(&doc[tail..]);
    let moved = |old: usize| {
        new_start
            .get(&old)
            .map(|&n| n as u32)
            .ok_or_else(|| FormatError::malformed(format!("offset {old} points at a removed record")))
    };
    for (at, old) in slots {
        out[at..at + 4].copy_from_slice(&moved(old)?.to_le_bytes());
    }
    let mut new_user = user.to_vec();
    let current = u32_at(user, 16)? as usize;
    new_user[16..20].copy_from_slice(&moved(current)?.to_le_bytes());
    Ok((out, new_user, removal.reports))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn rec(ver_inst: u16, rtype: u16, body: &[u8]) -> Vec<u8> {
        let mut d = ver_inst.to_le_bytes().to_vec();
        d.extend_from_slice(&rtype.to_le_bytes());
        d.extend_from_slice(&(body.len() as u32).to_le_bytes());
        d.extend_from_slice(body);
        d
    }

    #[test]
    fn nested_objects_and_macros_are_found() {
        let budget = Budget::new(&Config::default().limits);
        let atom = rec(0, 0x0FA8, b"hello");
        let clean = rec(0x000F, 0x03E8, &atom);
        assert!(scan(&clean, &budget).is_ok());
        let stg = rec(0x000F, 0x03E8, &rec(0x0010, EX_OLE_OBJ_STG, &[0; 12]));
        assert_eq!(scan(&stg, &budget).unwrap().storages, 1);
        let embed = rec(0x000F, 0x03E8, &rec(0x000F, EX_EMBED, &[]));
        assert_eq!(scan(&embed, &budget).unwrap().active, 1);
        let mut cut = clean.clone();
        cut.truncate(cut.len() - 2);
        assert_eq!(scan(&cut, &budget).unwrap_err().reason, Reason::Malformed);
        let crypt = rec(0x000F, CRYPT_SESSION, &[]);
        assert_eq!(scan(&crypt, &budget).unwrap_err().reason, Reason::Encrypted);
    }
}
