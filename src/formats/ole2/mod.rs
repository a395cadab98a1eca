//! Legacy Office (OLE2 compound files): Word (.doc), Excel (.xls), PowerPoint (.ppt) and
//! 一太郎 (.jtd) disarm, by reading the compound file and writing a new one.
//!
//! The input is opened with the `cfb` crate and read whole, within the limits: every storage and
//! stream is counted against `max_entries`, every stream's bytes against `max_total_bytes`, and a
//! stream that claims more bytes than the file holds, or cannot be read to its declared size
//! (a FAT chain cut short, looping or running past the end), makes the file `malformed`. Then
//! each kind drops what is dangerous (see the `word`, `excel` and `powerpoint` modules, and the
//! 一太郎 rule below) and the kept storages and streams are written into a **new** compound file
//! of the same version, with their names, CLSIDs, state bits and storage timestamps copied over.
//! A fresh file has no freed sectors, so nothing of a removed macro project or object survives in
//! its bytes; the same input always gives the same output.
//!
//! When anything was removed, document signatures (`_xmlsignatures`, `_signatures`,
//! `\x05DigitalSignature`), which the rebuild has made invalid, go too. After the kind's own
//! rules, a final check refuses (as `unsupported`) any file that still holds a VBA storage or an
//! embedded object stream anywhere: what a rule did not expect is blocked, never passed.
//!
//! What this module refuses: Outlook messages, Visio drawings and other compound files are not
//! rebuilt (`unsupported`); Word 6/95 documents, Word documents with DDE or network-fetching
//! fields and Excel 5 workbooks linked to other files are blocked as `unsupported` (see each
//! kind's module); encrypted documents are blocked as `encrypted`; two entries with the same name in
//! one storage, or names that cannot be told apart from path syntax, are `malformed`.

mod excel;
mod powerpoint;
mod word;

use crate::engine::Budget;
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind, Reason};
use std::io::{Cursor, Read, Write};
use std::time::SystemTime;

/// Storages that hold a VBA project, wherever they appear (compared without case).
const VBA_STORAGES: [&str; 4] = ["macros", "_vba_project_cur", "vba", "_vba_project"];

/// Streams that make the storage holding them an embedded or linked OLE object.
const OBJECT_STREAMS: [&str; 4] = ["\u{1}ole", "\u{1}compobj", "\u{1}ole10native", "package"];

/// Streams of ActiveX controls.
const CONTROL_STREAMS: [&str; 2] = ["\u{3}ocxname", "\u{3}ocxdata"];

/// One storage or stream of a compound file, read whole.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// Entry names from the root down (the root itself has none).
    pub path: Vec<String>,
    pub is_stream: bool,
    pub clsid: uuid::Uuid,
    pub state_bits: u32,
    pub created: SystemTime,
    pub modified: SystemTime,
    /// The stream's bytes (empty for storages).
    pub data: Vec<u8>,
}

impl Node {
    fn lower_path(&self) -> Vec<String> {
        self.path.iter().map(|n| n.to_lowercase()).collect()
    }

    /// The path as reports show it: names joined with `/`, control characters as `\xNN`.
    pub fn display(&self) -> String {
        display_path(&self.path)
    }

    fn name_lower(&self) -> String {
        self.path.last().map(|n| n.to_lowercase()).unwrap_or_default()
    }

    /// True when this entry is `prefix` or lies under it.
    fn under(&self, prefix: &[String]) -> bool {
        self.path.len() >= prefix.len() && self.path.iter().zip(prefix).all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

pub(crate) fn display_path(path: &[String]) -> String {
    let mut s = String::new();
    for (i, name) in path.iter().enumerate() {
        if i > 0 {
            s.push('/');
        }
        for c in name.chars() {
            if c.is_control() {
                s.push_str(&format!("\\x{:02X}", c as u32));
            } else {
                s.push(c);
            }
        }
    }
    s
}

/// A compound file read into memory: the root entry and every storage and stream below it, in
/// the order the directory lists them (parents before children).
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    version: cfb::Version,
    root: Node,
    pub nodes: Vec<Node>,
    /// Property-set streams left out because they do not read, with why.
    dropped: Vec<(String, String)>,
}

impl Tree {
    /// Reads every entry of the compound file in `data`, within the budget.
    pub fn read(data: &[u8], budget: &Budget) -> Result<Tree, FormatError> {
        let malformed = |e: std::io::Error| FormatError::malformed(format!("compound file: {e}"));
        let mut cf = cfb::CompoundFile::open(Cursor::new(data)).map_err(malformed)?;
        let version = cf.version();
        let root_entry = cf.root_entry();
        let root = Node {
            path: Vec::new(),
            is_stream: false,
            clsid: *root_entry.clsid(),
            state_bits: root_entry.state_bits(),
            created: root_entry.created(),
            modified: root_entry.modified(),
            data: Vec::new(),
        };
        let entries: Vec<cfb::Entry> = cf.walk().filter(|e| !e.is_root()).collect();
        budget.charge_entries(entries.len() as u64)?;
        let mut nodes = Vec::with_capacity(entries.len());
        // Compound file names compare without case; a second entry of the same name would be
        // hidden behind the first by every reader.
        let mut paths = std::collections::HashSet::new();
        let mut dropped = Vec::new();
        for e in entries {
            budget.check_time()?;
            let name = e.name();
            // Names that cannot be told apart from path syntax would address another entry.
            if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
                return Err(FormatError::malformed(format!("compound file entry name {name:?}")));
            }
            let parent = e.path().parent().map(path_names).transpose()?.unwrap_or_default();
            let mut path = parent;
            path.push(name.to_string());
            if path_names(e.path())? != path {
                return Err(FormatError::malformed(format!("compound file entry {name:?}: inconsistent path")));
            }
            if !paths.insert(path.iter().map(|n| n.to_uppercase()).collect::<Vec<_>>()) {
                return Err(FormatError::malformed(format!("two compound file entries named {}", display_path(&path))));
            }
            let mut node = Node {
                path,
                is_stream: e.is_stream(),
                clsid: *e.clsid(),
                state_bits: e.state_bits(),
                created: e.created(),
                modified: e.modified(),
                data: Vec::new(),
            };
            if e.is_stream() {
                match read_stream(&mut cf, &e, data.len() as u64, budget) {
                    Ok(buf) => node.data = buf,
                    // A property set (title, author, ...) is metadata no reader needs: one that
                    // does not read (old writers left bogus sizes in them) is left out, not fatal.
                    Err(err) if err.reason == Reason::Malformed && name.starts_with('\u{5}') => {
                        dropped.push((node.display(), err.detail));
                        continue;
                    }
                    Err(err) => return Err(err),
                }
            }
            nodes.push(node);
        }
        Ok(Tree { version, root, nodes, dropped })
    }

    pub fn root_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().filter(|n| n.path.len() == 1).map(|n| n.path[0].as_str())
    }

    /// The stream at the root with this name (compared without case).
    pub fn root_stream(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.is_stream && n.path.len() == 1 && n.path[0].eq_ignore_ascii_case(name))
    }

    pub fn root_stream_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.is_stream && n.path.len() == 1 && n.path[0].eq_ignore_ascii_case(name))
    }

    pub fn has_root_entry(&self, name: &str) -> bool {
        self.root_names().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// Removes the entry at `path` and everything under it; returns whether anything went.
    pub fn remove(&mut self, path: &[String]) -> bool {
        let before = self.nodes.len();
        self.nodes.retain(|n| !n.under(path));
        self.nodes.len() != before
    }

    /// Writes the tree as a new compound file of the input's version.
    pub fn write(&self, budget: &Budget) -> Result<Vec<u8>, FormatError> {
        let io = |e: std::io::Error| FormatError::new(Reason::Unsupported, format!("cannot write compound file: {e}"));
        let mut out = cfb::CompoundFile::create_with_version(self.version, Cursor::new(Vec::new())).map_err(io)?;
        for n in &self.nodes {
            budget.check_time()?;
            let p = fs_path(&n.path);
            if n.is_stream {
                let mut s = out.create_new_stream(&p).map_err(io)?;
                s.write_all(&n.data).map_err(io)?;
            } else {
                out.create_storage(&p).map_err(io)?;
            }
        }
        // Metadata last, so that nothing done while building the tree overwrites it.
        out.set_storage_clsid("/", self.root.clsid).map_err(io)?;
        out.set_state_bits("/", self.root.state_bits).map_err(io)?;
        out.set_created_time("/", self.root.created).map_err(io)?;
        out.set_modified_time("/", self.root.modified).map_err(io)?;
        for n in &self.nodes {
            let p = fs_path(&n.path);
            out.set_state_bits(&p, n.state_bits).map_err(io)?;
            if !n.is_stream {
                out.set_storage_clsid(&p, n.clsid).map_err(io)?;
                out.set_created_time(&p, n.created).map_err(io)?;
                out.set_modified_time(&p, n.modified).map_err(io)?;
            }
        }
        out.flush().map_err(io)?;
        Ok(out.into_inner().into_inner())
    }
}

fn path_names(p: &std::path::Path) -> Result<Vec<String>, FormatError> {
    p.components()
        .filter_map(|c| match c {
            std::path::Component::RootDir => None,
            std::path::Component::Normal(s) => {
                Some(s.to_str().map(str::to_string).ok_or_else(|| FormatError::malformed("compound file entry name")))
            }
            _ => Some(Err(FormatError::malformed("compound file entry path"))),
        })
        .collect()
}

fn fs_path(names: &[String]) -> std::path::PathBuf {
    let mut p = std::path::PathBuf::from("/");
    for n in names {
        p.push(n);
    }
    p
}

/// Collects actions, one line per removed entry.
#[derive(Default)]
pub(crate) struct Actions(Vec<Action>);

impl Actions {
    pub fn add(&mut self, action: ActionKind, part: impl Into<String>, detail: impl Into<String>) {
        let detail: String = detail.into();
        self.0.push(if detail.is_empty() {
            Action::new(action, part)
        } else {
            Action::with_detail(action, part, detail)
        });
    }
}

/// Disarms a compound file of the given kind and writes it anew.
/// Reads a stream whole: it must not claim more bytes than the file holds, and must read to
/// its declared size (a FAT chain cut short, looping or running past the end does not).
fn read_stream(
    cf: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    e: &cfb::Entry,
    file_len: u64,
    budget: &Budget,
) -> Result<Vec<u8>, FormatError> {
    let shown = display_path(&path_names(e.path())?);
    let len = e.len();
    if len > file_len {
        return Err(FormatError::malformed(format!("stream {shown} claims {len} bytes, more than the file holds")));
    }
    budget.charge_bytes(len)?;
    let mut stream = cf.open_stream(e.path()).map_err(|err| FormatError::malformed(format!("compound file: {err}")))?;
    let mut buf = Vec::with_capacity(len as usize);
    (&mut stream)
        .take(len)
        .read_to_end(&mut buf)
        .map_err(|err| FormatError::malformed(format!("stream {shown}: {err}")))?;
    if buf.len() as u64 != len {
        return Err(FormatError::malformed(format!("stream {shown} ends after {} of its {len} bytes", buf.len())));
    }
    Ok(buf)
}

pub fn disarm(kind: Kind, data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    match kind {
        Kind::Doc | Kind::Xls | Kind::Ppt | Kind::Jtd => {}
        Kind::Msg => return Err(FormatError::new(Reason::Unsupported, "Outlook messages are not rebuilt")),
        Kind::Vsd => return Err(FormatError::new(Reason::Unsupported, "Visio 2003 drawings are not rebuilt")),
        _ => return Err(FormatError::new(Reason::Unsupported, format!("{kind} compound files are not rebuilt"))),
    }
    let mut tree = Tree::read(data, ctx.budget)?;
    if tree.has_root_entry("EncryptionInfo") || tree.has_root_entry("EncryptedPackage") {
        return Err(FormatError::new(Reason::Encrypted, "encrypted Office document"));
    }
    let mut actions = Actions::default();
    for (path, why) in std::mem::take(&mut tree.dropped) {
        actions.add(ActionKind::RepairedStructure, path, format!("unreadable property set left out: {why}"));
    }
    match kind {
        Kind::Doc => word::disarm(&mut tree, &mut actions, ctx.budget)?,
        Kind::Xls => excel::disarm(&mut tree, &mut actions, ctx.budget)?,
        Kind::Ppt => powerpoint::disarm(&mut tree, &mut actions, ctx.budget)?,
        Kind::Jtd => remove_embedded_objects(&mut tree, &mut actions),
        _ => unreachable!("kinds filtered above"),
    }
    if !actions.0.is_empty() {
        remove_signatures(&mut tree, &mut actions);
    }
    verify_clean(&tree)?;
    let out = tree.write(ctx.budget)?;
    Ok(Disarmed { name: None, data: out, kind, actions: actions.0 })
}

/// Removes the root-level storages named in `names` (compared without case), each reported as
/// `action`.
pub(crate) fn remove_root_storages(tree: &mut Tree, names: &[&str], action: ActionKind, actions: &mut Actions) {
    let found: Vec<Vec<String>> = tree
        .nodes
        .iter()
        .filter(|n| !n.is_stream && n.path.len() == 1 && names.iter().any(|x| n.path[0].eq_ignore_ascii_case(x)))
        .map(|n| n.path.clone())
        .collect();
    for p in found {
        tree.remove(&p);
        actions.add(action, display_path(&p), "");
    }
}

/// Document signatures (XML-DSig in `_xmlsignatures`, the older `_signatures` and
/// `\x05DigitalSignature`): any removal makes them invalid, and a broken signature only alarms.
fn remove_signatures(tree: &mut Tree, actions: &mut Actions) {
    let names = ["_xmlsignatures", "_signatures", "\u{5}DigitalSignature"];
    let found: Vec<Vec<String>> = tree
        .nodes
        .iter()
        .filter(|n| n.path.len() == 1 && names.iter().any(|x| n.path[0].eq_ignore_ascii_case(x)))
        .map(|n| n.path.clone())
        .collect();
    for p in found {
        tree.remove(&p);
        actions.add(ActionKind::RemovedSignature, display_path(&p), "invalidated by the rebuild");
    }
}

/// Removes every entry `is_object` picks (with what lies under it), each reported for what it
/// holds.
pub(crate) fn remove_objects(tree: &mut Tree, actions: &mut Actions, is_object: impl Fn(&Node) -> bool) {
    let objects: Vec<Vec<String>> = tree.nodes.iter().filter(|n| is_object(n)).map(|n| n.path.clone()).collect();
    for p in objects {
        let action = object_action(tree, &p);
        tree.remove(&p);
        actions.add(action, display_path(&p), "");
    }
}

/// What an object storage holds: an ActiveX control or another embedded object.
pub(crate) fn object_action(tree: &Tree, path: &[String]) -> ActionKind {
    let control =
        tree.nodes.iter().any(|n| n.is_stream && n.under(path) && CONTROL_STREAMS.contains(&n.name_lower().as_str()));
    if control {
        ActionKind::RemovedActivex
    } else {
        ActionKind::RemovedOleObject
    }
}

/// Removes every storage below the root that holds an embedded object's streams, and object
/// streams lying at the root itself. Used for 一太郎 documents, whose embedded objects are
/// ordinary OLE object storages.
fn remove_embedded_objects(tree: &mut Tree, actions: &mut Actions) {
    let mut storages: Vec<Vec<String>> = Vec::new();
    for n in &tree.nodes {
        if n.is_stream && n.path.len() >= 2 && OBJECT_STREAMS.contains(&n.name_lower().as_str()) {
            let parent = n.path[..n.path.len() - 1].to_vec();
            // The outermost object storage goes, with everything inside it.
            if !storages.iter().any(|s| parent.len() >= s.len() && parent[..s.len()] == s[..]) {
                storages.retain(|s| !(s.len() > parent.len() && s[..parent.len()] == parent[..]));
                storages.push(parent);
            }
        }
    }
    for s in storages {
        let action = object_action(tree, &s);
        tree.remove(&s);
        actions.add(action, display_path(&s), "");
    }
    let root_objects: Vec<Vec<String>> = tree
        .nodes
        .iter()
        .filter(|n| n.is_stream && n.path.len() == 1)
        .filter(|n| ["\u{1}ole10native", "package"].contains(&n.name_lower().as_str()))
        .map(|n| n.path.clone())
        .collect();
    for p in root_objects {
        tree.remove(&p);
        actions.add(ActionKind::RemovedOleObject, display_path(&p), "");
    }
    remove_vba_anywhere(tree, actions);
}

/// Removes VBA storages wherever they are (a 一太郎 document has no macros of its own: any VBA
/// project in it was put there).
fn remove_vba_anywhere(tree: &mut Tree, actions: &mut Actions) {
    let found: Vec<Vec<String>> = tree
        .nodes
        .iter()
        .filter(|n| !n.is_stream && VBA_STORAGES.contains(&n.name_lower().as_str()))
        .map(|n| n.path.clone())
        .collect();
    for p in found {
        if tree.remove(&p) {
            actions.add(ActionKind::RemovedVbaProject, display_path(&p), "");
        }
    }
}

/// The last line of defence: nothing that looks like a VBA project, an embedded object or a
/// control may remain, whatever rules the kind applied.
fn verify_clean(tree: &Tree) -> Result<(), FormatError> {
    for n in &tree.nodes {
        let lower = n.lower_path();
        let name = n.name_lower();
        let unsupported = |what: &str| {
            Err(FormatError::new(
                Reason::Unsupported,
                format!("{what} left at {}, which mugai does not remove", n.display()),
            ))
        };
        if !n.is_stream && VBA_STORAGES.contains(&name.as_str()) {
            return unsupported("a VBA storage");
        }
        if n.is_stream && (name == "\u{1}ole10native" || CONTROL_STREAMS.contains(&name.as_str())) {
            return unsupported("an embedded object or control");
        }
        if n.is_stream && name == "\u{1}ole" && lower.len() > 1 {
            return unsupported("an embedded object");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn budget() -> Budget {
        Budget::new(&Config::default().limits)
    }

    #[test]
    fn a_tree_is_written_back_with_its_streams_and_metadata() {
        let cf = crate::samples::media::compound_file(&["/A", "/A/B"], &[("/A/B/s", b"small"), ("/big", &[7u8; 5000])]);
        let tree = Tree::read(&cf, &budget()).unwrap();
        let out = tree.write(&budget()).unwrap();
        let again = Tree::read(&out, &budget()).unwrap();
        assert_eq!(tree.nodes.len(), again.nodes.len());
        for (a, b) in tree.nodes.iter().zip(&again.nodes) {
            assert_eq!(
                (&a.path, &a.data, a.clsid, a.created, a.modified),
                (&b.path, &b.data, b.clsid, b.created, b.modified)
            );
        }
        assert_eq!(out, tree.write(&budget()).unwrap());
    }

    #[test]
    fn jtd_object_storages_go_and_the_text_stays() {
        let cf = crate::samples::media::compound_file(
            &["/Obj1"],
            &[("/DocumentText", b"text"), ("/Obj1/\u{1}Ole10Native", b"payload"), ("/Obj1/\u{1}CompObj", b"x")],
        );
        let mut tree = Tree::read(&cf, &budget()).unwrap();
        let mut actions = Actions::default();
        remove_embedded_objects(&mut tree, &mut actions);
        assert_eq!(tree.nodes.len(), 1);
        assert_eq!(actions.0.len(), 1);
        assert_eq!(actions.0[0].action, ActionKind::RemovedOleObject);
        verify_clean(&tree).unwrap();
    }
}
