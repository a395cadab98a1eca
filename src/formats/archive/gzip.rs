//! gzip files (RFC 1952), read with `flate2` (pure-Rust zlib-rs backend): the content goes back
//! through the engine as one child and is compressed again.
//!
//! One or several concatenated members are read as one stream, as `gunzip` does. The sizes the
//! trailers declare (ISIZE) are never trusted: the content is inflated a piece at a time under a
//! cap of `max_entry_bytes` and what is left of `max_total_bytes`, charged to the budget as it
//! comes out, and refused as a bomb (`limit_ratio`) once more than 1 MiB came out of more than
//! `max_ratio` times fewer compressed bytes. Every member's CRC-32 and length are checked.
//!
//! The child is named by the first member's FNAME field when there is one (made safe), else by
//! the gzip's own name without `.gz` (`x.tgz` holds `x.tar`), else `data`. When the child comes
//! back under a new name (a docm is now a docx) and the gzip was named after it, the gzip's
//! name follows: `report.docm.gz` comes out as `report.docx.gz`. A blocked child blocks the gzip
//! whatever `[archive] on_blocked_entry` says: a gzip without its content is of no use.
//!
//! The rebuilt file is one member (deflated at the default level, or the fastest when the input
//! could hardly compress its content): FNAME is the child's (possibly new) name when the input had
//! one, MTIME is kept, OS is 255 (unknown); no extra field, comment or header CRC. Bytes after the
//! last member are left out (`removed_trailing_data`, or `removed_archive_metadata` when they are
//! only zero padding), and so are extra fields and comments (`removed_archive_metadata`).

use super::{clean, expand, CleanEntry, Listed, Stamp};
use crate::formats::{zipread, Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind, Reason};
use crate::names;
use flate2::bufread::GzDecoder;
use flate2::{Compression, GzBuilder};
use std::io::{Read, Write};

/// The child's name when the file does not name it.
const UNNAMED: &str = "data";

/// Disarms a gzip file.
pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let budget = ctx.budget;
    budget.charge_entries(1)?;
    let inflated = inflate(data, ctx)?;
    let mut actions = Vec::new();
    if inflated.extras {
        actions.push(Action::with_detail(ActionKind::RemovedArchiveMetadata, "", "gzip extra field or comment"));
    }
    if !inflated.trailing.is_empty() {
        let n = inflated.trailing.len();
        if inflated.trailing.iter().all(|&b| b == 0) {
            let detail = format!("{n} zero bytes after the last member");
            actions.push(Action::with_detail(ActionKind::RemovedArchiveMetadata, "", detail));
        } else {
            let detail = format!("{n} bytes after the last member");
            actions.push(Action::with_detail(ActionKind::RemovedTrailingData, "", detail));
        }
    }
    let own_stem = ctx.name.map(names::base_name).and_then(content_name);
    let name = match &inflated.name {
        Some(raw) => names::safe_file_name(names::base_name(&decode_fname(raw))),
        None => own_stem.clone().unwrap_or_else(|| UNNAMED.to_string()),
    };
    let inflated_len = inflated.content.len() as u64;
    let listed =
        vec![Listed::File { path: name.clone(), data: inflated.content, modified: Stamp::from_unix(0), source: None }];
    let cleaned = clean(listed, ctx)?;
    let Some((path, content)) = cleaned.entries.into_iter().find_map(|e| match e {
        CleanEntry::File { path, data, .. } => Some((path, data)),
        CleanEntry::Dir { .. } => None,
    }) else {
        // Dropped by `[archive] on_blocked_entry = "drop"`: the gzip goes with it.
        let held = cleaned.actions.iter().find(|a| a.reason.is_some());
        let reason = held.and_then(|a| a.reason).unwrap_or(Reason::InternalError);
        let detail = held.and_then(|a| a.detail.clone()).unwrap_or_default();
        return Err(FormatError::new(reason, format!("the content of the gzip file: {detail}")));
    };
    actions.extend(cleaned.actions);
    // Content the input could hardly compress (a tar of Office files, pictures) is deflated at
    // the fastest level: a stronger one spends its time finding nothing.
    let level = if data.len() as u64 * 10 > inflated_len * 9 { Compression::fast() } else { Compression::default() };
    let out = write(inflated.name.is_some().then_some(path.as_str()), inflated.mtime, &content, level)?;
    let rename = match (own_stem, ctx.name) {
        // `.gz`, also for a `.tgz` whose content turned out not to be a tar.
        (Some(stem), Some(_)) if stem == name && path != name => Some(format!("{path}.gz")),
        _ => None,
    };
    Ok(Disarmed { name: rename, data: out, kind: Kind::Gzip, actions })
}

/// What a gzip named `own` holds by its name: `x.docm.gz` -> `x.docm`, `x.tgz` -> `x.tar`.
fn content_name(own: &str) -> Option<String> {
    let lower = own.to_ascii_lowercase();
    let stem = if lower.ends_with(".tgz") {
        return Some(names::safe_file_name(&format!("{}.tar", &own[..own.len() - 4])));
    } else if lower.ends_with(".gz") {
        &own[..own.len() - 3]
    } else if lower.ends_with(".gzip") {
        &own[..own.len() - 5]
    } else {
        return None;
    };
    (!stem.is_empty()).then(|| names::safe_file_name(stem))
}

/// What [`inflate`] found.
struct Inflated {
    content: Vec<u8>,
    /// The first member's FNAME, raw.
    name: Option<Vec<u8>>,
    mtime: u32,
    /// A member had an extra field or a comment.
    extras: bool,
    /// Bytes after the last member.
    trailing: Vec<u8>,
}

/// Inflates every member into one buffer, under the limits (see the module documentation).
fn inflate(data: &[u8], ctx: &Context<'_>) -> Result<Inflated, FormatError> {
    let budget = ctx.budget;
    let limits = budget.limits();
    let cap = limits.max_entry_bytes.min(budget.bytes_left());
    let mut out = Inflated { content: Vec::new(), name: None, mtime: 0, extras: false, trailing: Vec::new() };
    let mut rest = data;
    let mut first = true;
    loop {
        budget.check_time()?;
        let mut member = GzDecoder::new(rest);
        loop {
            budget.check_time()?;
            let room = cap - (out.content.len() as u64).min(cap);
            let got = (&mut member)
                .take(room.saturating_add(1).min(expand::PIECE))
                .read_to_end(&mut out.content)
                .map_err(|e| FormatError::malformed(format!("gzip stream: {e}")))?;
            budget.charge_bytes(got as u64)?;
            let expanded = out.content.len() as u64;
            if expanded > cap {
                let reason =
                    if expanded > limits.max_entry_bytes { Reason::LimitEntryBytes } else { Reason::LimitTotalBytes };
                return Err(FormatError::new(reason, format!("gzip content expands beyond {cap} bytes")));
            }
            let consumed = (data.len() - member.get_ref().len()) as u64;
            expand::check_ratio("gzip content", expanded, consumed, budget)?;
            if got == 0 {
                break;
            }
        }
        let header = member.header().ok_or_else(|| FormatError::malformed("gzip member without a valid header"))?;
        out.extras |= header.extra().is_some() || header.comment().is_some();
        if first {
            out.name = header.filename().map(<[u8]>::to_vec);
            out.mtime = header.mtime();
            first = false;
        }
        rest = member.into_inner();
        if rest.is_empty() {
            return Ok(out);
        }
        if !rest.starts_with(&[0x1F, 0x8B]) {
            out.trailing = rest.to_vec();
            return Ok(out);
        }
    }
}

/// FNAME as text: UTF-8 or Shift_JIS as zip names are read, else ISO 8859-1 (what RFC 1952
/// prescribes, and which every byte string is).
fn decode_fname(raw: &[u8]) -> String {
    zipread::decode_name(raw).unwrap_or_else(|| raw.iter().map(|&b| char::from(b)).collect())
}

/// One gzip member holding `content`; see the module documentation for the header.
fn write(name: Option<&str>, mtime: u32, content: &[u8], level: Compression) -> Result<Vec<u8>, FormatError> {
    let werr = |e: std::io::Error| FormatError::malformed(format!("writing the gzip file: {e}"));
    let mut builder = GzBuilder::new().mtime(mtime).operating_system(255);
    if let Some(n) = name {
        // A safe name holds no NUL, which FNAME cannot carry.
        builder = builder.filename(n.replace('\0', "_"));
    }
    let mut w = builder.write(Vec::with_capacity(content.len() / 2 + 64), level);
    w.write_all(content).map_err(werr)?;
    w.finish().map_err(werr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fname_in_shift_jis_or_latin1_is_read() {
        assert_eq!(decode_fname("報告書.docx".as_bytes()), "報告書.docx");
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("報告書.docx");
        assert_eq!(decode_fname(&sjis), "報告書.docx");
        assert_eq!(decode_fname(b"caf\xe9\xff.txt"), "caf\u{e9}\u{ff}.txt");
    }

    #[test]
    fn the_rebuilt_header_holds_name_and_time_only() {
        let gz = write(Some("a.txt"), 1_700_000_000, b"hello", Compression::default()).unwrap();
        // ID1 ID2 CM FLG(FNAME) MTIME XFL OS
        assert_eq!(&gz[..4], &[0x1F, 0x8B, 8, 0x08]);
        assert_eq!(u32::from_le_bytes([gz[4], gz[5], gz[6], gz[7]]), 1_700_000_000);
        assert_eq!(gz[9], 255);
        assert_eq!(&gz[10..16], b"a.txt\0");
        let gz = write(None, 0, b"", Compression::default()).unwrap();
        assert_eq!(gz[3], 0);
    }
}
