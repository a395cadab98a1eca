//! tar archives (ustar, pax and GNU), read with the `tar` crate (no extended attributes):
//! every file goes back through the engine and the archive is written anew as tar.
//!
//! Regular files become entries of the rebuilt archive and folders stay folders; hard and
//! symbolic links, devices and pipes are never written ([`ActionKind::RemovedSpecialEntry`]).
//! GNU long names and pax `path` and `size` records are followed (by the crate); sparse files
//! (GNU type `S` or pax `GNU.sparse.*` records), multi-volume and other unknown entry types are
//! refused as `unsupported`, since what they expand to cannot be checked the way a file is.
//! Every entry is charged to `max_entries` before it is read, and its size to `max_entry_bytes`
//! and `max_total_bytes` before its bytes are copied. A leading `./` (what `tar -C dir .`
//! writes) is dropped; every other `..`, absolute or odd path is refused by [`clean`]. Names that
//! are not UTF-8 are read as Shift_JIS (Japanese Windows tools write them), and refused as
//! `malformed` when they are neither.
//!
//! The rebuilt archive is ustar with deterministic headers: the entry's original modification
//! time, mode 0644 for files and 0755 for folders (no setuid, setgid or execute bits), owner
//! and group 0 with no user or group names; a path too long for the ustar fields gets a pax
//! `path` record and nothing else. Global pax headers, owners, permissions, link targets and
//! anything after the end-of-archive blocks are not carried over.

use super::{clean, expand, CleanEntry, Listed, Stamp};
use crate::formats::{zipread, Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind, Reason};
use ::tar::{Archive, Builder, EntryType, Header};

const BLOCK: u64 = 512;

/// Disarms a tar archive.
pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let (listed, mut actions) = read(data, ctx)?;
    let cleaned = clean(listed, ctx)?;
    actions.extend(cleaned.actions);
    let out = write(&cleaned.entries)?;
    Ok(Disarmed { name: None, data: out, kind: Kind::Tar, actions })
}

fn malformed(e: std::io::Error) -> FormatError {
    FormatError::malformed(format!("tar archive: {e}"))
}

/// Lists the entries with their bytes; the actions say what of the container is dropped.
fn read(data: &[u8], ctx: &Context<'_>) -> Result<(Vec<Listed>, Vec<Action>), FormatError> {
    let budget = ctx.budget;
    let mut archive = Archive::new(data);
    let mut listed = Vec::new();
    let mut actions = Vec::new();
    let mut end = 0u64;
    for entry in archive.entries().map_err(malformed)? {
        budget.check_time()?;
        let mut entry = entry.map_err(malformed)?;
        budget.charge_entries(1)?;
        let size = entry.size();
        let start = entry.raw_file_position();
        end = size.div_ceil(BLOCK).checked_mul(BLOCK).and_then(|s| s.checked_add(start)).unwrap_or(u64::MAX);
        let raw_path = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw_path).into_owned();
        let mut pax_mtime = None;
        if let Some(pax) = entry.pax_extensions().map_err(malformed)? {
            for ext in pax {
                let ext = ext.map_err(malformed)?;
                let key = ext.key_bytes();
                if key.starts_with(b"GNU.sparse.") {
                    return Err(FormatError::new(Reason::Unsupported, format!("{shown}: sparse file (pax)")));
                }
                if key == b"mtime" {
                    pax_mtime = std::str::from_utf8(ext.value_bytes())
                        .ok()
                        .and_then(|v| v.split('.').next())
                        .and_then(|v| v.parse::<i64>().ok());
                }
            }
        }
        let header = entry.header();
        let kind = header.entry_type();
        if kind == EntryType::XGlobalHeader {
            actions.push(Action::with_detail(ActionKind::RemovedArchiveMetadata, "", "pax global header"));
            continue;
        }
        let mtime = match pax_mtime {
            Some(t) => t,
            None => header.mtime().map_err(malformed)? as i64,
        };
        let modified = Stamp::from_unix(mtime);
        let Some(path) = entry_path(&raw_path)? else {
            // The archive's own root (`./`): nothing to extract.
            if kind == EntryType::Directory {
                continue;
            }
            return Err(FormatError::new(Reason::PathTraversal, format!("entry name {shown:?}")));
        };
        match kind {
            EntryType::Regular | EntryType::Continuous => {
                expand::charge_declared(&path, size, budget)?;
                let bytes = usize::try_from(start)
                    .ok()
                    .zip(usize::try_from(size).ok())
                    .and_then(|(s, n)| data.get(s..s.checked_add(n)?))
                    .ok_or_else(|| FormatError::malformed(format!("{path}: data runs past the end of the archive")))?;
                listed.push(Listed::File { path, data: bytes.to_vec(), modified, source: None });
            }
            EntryType::Directory => {
                if size != 0 {
                    return Err(FormatError::malformed(format!("folder entry {path:?} holds data")));
                }
                listed.push(Listed::Dir { path, modified });
            }
            EntryType::Symlink | EntryType::Link => {
                let target = entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned());
                let what = if kind == EntryType::Symlink { "symbolic link" } else { "hard link" };
                let what = format!("{what} to {:?}", target.unwrap_or_default());
                listed.push(Listed::Special { path, what });
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let what = match kind {
                    EntryType::Char => "character device",
                    EntryType::Block => "block device",
                    _ => "named pipe",
                };
                listed.push(Listed::Special { path, what: what.into() });
            }
            EntryType::GNUSparse => {
                return Err(FormatError::new(Reason::Unsupported, format!("{path}: sparse file")));
            }
            other => {
                return Err(FormatError::new(
                    Reason::Unsupported,
                    format!("{path}: tar entry type {:?}", char::from(other.as_byte())),
                ));
            }
        }
    }
    // What follows the last entry should be the end-of-archive blocks: zeros.
    let after = usize::try_from(end).ok().and_then(|e| data.get(e..)).unwrap_or(&[]);
    if let Some(first) = after.iter().position(|&b| b != 0) {
        let detail = format!("{} bytes after the end of the archive", after.len() - first);
        actions.push(Action::with_detail(ActionKind::RemovedTrailingData, "", detail));
    }
    Ok((listed, actions))
}

/// A stored path as text with a leading `./` dropped; `None` for the root itself.
fn entry_path(raw: &[u8]) -> Result<Option<String>, FormatError> {
    let text = zipread::decode_name(raw).ok_or_else(|| {
        FormatError::malformed(format!("entry name {:?} is neither UTF-8 nor Shift_JIS", String::from_utf8_lossy(raw)))
    })?;
    let mut path = text.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    Ok((!path.is_empty() && path != ".").then(|| path.to_string()))
}

/// Writes the entries as a new tar archive (see the module documentation).
fn write(entries: &[CleanEntry]) -> Result<Vec<u8>, FormatError> {
    let werr = |e: std::io::Error| FormatError::malformed(format!("writing the tar archive: {e}"));
    let size: usize = entries.iter().map(|e| if let CleanEntry::File { data, .. } = e { data.len() } else { 0 }).sum();
    let mut b = Builder::new(Vec::with_capacity(size + entries.len() * 1024 + 1024));
    for e in entries {
        let (path, data, mode, kind, modified) = match e {
            CleanEntry::Dir { path, modified } => {
                (format!("{}/", path.trim_end_matches('/')), &[][..], 0o755, EntryType::Directory, *modified)
            }
            CleanEntry::File { path, data, modified, .. } => {
                (path.clone(), data.as_slice(), 0o644, EntryType::Regular, *modified)
            }
        };
        let mtime = u64::try_from(modified.to_unix()).unwrap_or(0);
        let mut h = header(kind, mode, mtime, data.len() as u64);
        if h.set_path(&path).is_err() {
            // Too long for the ustar name and prefix fields: a pax record carries it, and the
            // header holds as much of it as fits for readers that do not know pax.
            let record = pax_record("path", &path);
            let mut ph = header(EntryType::XHeader, 0o644, mtime, record.len() as u64);
            ph.set_path("././@PaxHeader").map_err(werr)?;
            ph.set_cksum();
            b.append(&ph, record.as_slice()).map_err(werr)?;
            let mut cut = path.len().min(99);
            while !path.is_char_boundary(cut) {
                cut -= 1;
            }
            if let Some(ustar) = h.as_ustar_mut() {
                ustar.name = [0; 100];
                ustar.name[..cut].copy_from_slice(&path.as_bytes()[..cut]);
            }
        }
        h.set_cksum();
        b.append(&h, data).map_err(werr)?;
    }
    b.into_inner().map_err(werr)
}

fn header(kind: EntryType, mode: u32, mtime: u64, size: u64) -> Header {
    let mut h = Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_size(size);
    h
}

/// One pax extended header record: `<length> <key>=<value>\n`, the length counting itself.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while (len.to_string().len() + body.len()) != len {
        len = len.to_string().len() + body.len();
    }
    format!("{len}{body}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_count_their_own_length() {
        let r = pax_record("path", "a");
        assert_eq!(r, b"9 path=a\n");
        let long = "x".repeat(95);
        let r = pax_record("path", &long);
        assert_eq!(r.len(), 105);
        assert!(r.starts_with(format!("{} ", r.len()).as_bytes()));
    }

    #[test]
    fn leading_dot_slash_is_dropped_and_odd_names_decoded() {
        assert_eq!(entry_path(b"./a/b.txt").unwrap().as_deref(), Some("a/b.txt"));
        assert_eq!(entry_path(b"./").unwrap(), None);
        // 表 ends in the byte 0x5C, which is not a separator here.
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("表計算/表.txt");
        assert_eq!(entry_path(&sjis).unwrap().as_deref(), Some("表計算/表.txt"));
        assert!(entry_path(b"\xff\xfe\xfd").is_err());
    }
}
