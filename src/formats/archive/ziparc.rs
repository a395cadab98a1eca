//! Zip archives (the container itself, not the Office and OpenDocument packages built on zip):
//! read with the validated reader, every entry disarmed through the engine, and written anew.
//!
//! The reader refuses what makes two tools see different archives before anything is read:
//! duplicate or overlapping entries, local headers that disagree with the central directory,
//! absolute or `..` names, encrypted entries (the "PPAP" password-zip habit: `encrypted`, and
//! the original waits in quarantine for a release with the password), compression other than
//! stored and deflate (`unsupported_compression`), and declared sizes past `max_ratio`,
//! `max_entry_bytes` or `max_total_bytes` (a bomb is refused from its directory, before a byte is
//! inflated). Names written in Shift_JIS by Japanese Windows are read as such.
//!
//! The rebuilt archive ([`write()`]) holds only the clean entries, with UTF-8 names, their
//! original modification times and nothing else: no comments, extra fields, permissions or
//! bytes outside the entries. Entries that come back unchanged are copied compressed as they
//! were (after their CRC-32 was checked); the others are deflated, or stored when their kind is
//! already compressed.

use super::{clean, is_compressed_kind, CleanEntry, Listed, Stamp};
use crate::formats::zipread::{self, ZipIndex};
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind};
use std::io::{Cursor, Write};
use zip::CompressionMethod;

/// Disarms a zip archive.
pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let zip = ZipIndex::open(data, ctx.budget)?;
    let mut listed = Vec::with_capacity(zip.entries().len());
    for entry in zip.entries() {
        ctx.budget.check_time()?;
        let modified = Stamp::from_dos(entry.modified);
        if entry.is_dir {
            if entry.size != 0 {
                return Err(FormatError::malformed(format!("folder entry {:?} holds data", entry.name)));
            }
            listed.push(Listed::Dir { path: entry.name.clone(), modified });
        } else {
            let data = zip.read(entry, ctx.budget)?;
            listed.push(Listed::File { path: entry.name.clone(), data, modified, source: Some(entry.index) });
        }
    }
    let cleaned = clean(listed, ctx)?;
    let mut actions = Vec::new();
    if zip.has_extra_bytes() {
        actions.push(Action::with_detail(
            ActionKind::RemovedArchiveMetadata,
            "",
            "bytes before the first entry or after the end of the archive",
        ));
    }
    actions.extend(cleaned.actions);
    let out = write(&cleaned.entries, Some(&zip))?;
    Ok(Disarmed { name: None, data: out, kind: Kind::Zip, actions })
}

/// Writes the entries as a new zip archive. With `source`, unchanged entries that came from it
/// are copied without recompression.
pub fn write(entries: &[CleanEntry], source: Option<&ZipIndex<'_>>) -> Result<Vec<u8>, FormatError> {
    let werr = |e: &dyn std::fmt::Display| FormatError::malformed(format!("writing the archive: {e}"));
    let size: usize = entries.iter().map(|e| if let CleanEntry::File { data, .. } = e { data.len() } else { 0 }).sum();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(size / 2 + 1024)));
    for e in entries {
        match e {
            CleanEntry::Dir { path, modified } => {
                let opts = zipread::deterministic_options().last_modified_time(modified.to_dos().to_zip());
                w.add_directory(format!("{}/", path.trim_end_matches('/')), opts).map_err(|e| werr(&e))?;
            }
            CleanEntry::File { path, data, kind, modified, unchanged, source: index } => {
                let original = match (unchanged, index, source) {
                    (true, Some(i), Some(zip)) => zip.entries().get(*i).map(|entry| (zip, entry)),
                    _ => None,
                };
                match original {
                    Some((zip, entry)) => zip.raw_copy_dated(entry, &mut w, Some(path), modified.to_dos())?,
                    None => {
                        let method = if is_compressed_kind(*kind) {
                            CompressionMethod::Stored
                        } else {
                            CompressionMethod::Deflated
                        };
                        let opts = zipread::deterministic_options()
                            .compression_method(method)
                            .last_modified_time(modified.to_dos().to_zip())
                            .large_file(data.len() as u64 >= u64::from(u32::MAX));
                        w.start_file(path.as_str(), opts).map_err(|e| werr(&e))?;
                        w.write_all(data).map_err(|e| werr(&e))?;
                    }
                }
            }
        }
    }
    Ok(w.finish().map_err(|e| werr(&e))?.into_inner())
}
