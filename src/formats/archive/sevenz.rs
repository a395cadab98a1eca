//! 7z archives, read with `sevenz-rust2` (pure Rust, built without its zstd, brotli and LZ4
//! codecs): every file goes back through the engine and the archive is rebuilt **as a zip**
//! (`x.7z` comes out as `x.zip`): every recipient can open a zip without 7-Zip, and the rebuilt
//! archives share one writer.
//!
//! Before a byte is decoded:
//! - the start header must be intact (its CRC set and right): a damaged one would make the crate
//!   search the file for a header, which is recovery, not reading;
//! - encrypted archives are refused as `encrypted` (an AES coder on any block, or an encrypted
//!   header); only [`decrypt_to_zip`], for a release with the password, reads them; methods other than copy, LZMA, LZMA2, PPMd, BZip2, Deflate and the branch filters
//!   (BCJ, BCJ2, ARM, ..., delta) as `unsupported_compression`;
//! - an LZMA or LZMA2 dictionary larger than both the data it decodes and 64 MiB is refused as
//!   `limit_total_bytes`: the decoder would allocate it whole, and a 4 GiB dictionary in a
//!   tiny file is a memory bomb; so is a PPMd model larger than 64 MiB and than 16 times the
//!   data (at most 256 MiB), the most 7-Zip gives one;
//! - the declared sizes are checked: each entry against `max_entry_bytes`, all of them charged to
//!   `max_total_bytes`, their sum against `max_ratio` times the archive's size.
//!
//! Decoding is single-threaded and bounded: each entry is read a piece at a time up to its
//! declared size (the crate refuses blocks that decode to more or less than declared, and
//! checks every CRC). Solid blocks are decoded once, front to back. Symbolic links, reparse
//! points, devices and anti-items are never written. Names are UTF-16 in the format; a
//! backslash is read as a path separator (as 7-Zip on Windows writes it) before the paths are
//! checked. Times are UTC; attributes, creation and access times, and bytes after the header are
//! not carried over.

use super::{clean, expand, ziparc, CleanEntry, Listed, Stamp};
use crate::engine::Budget;
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind, Reason};
use sevenz_rust2::{Archive, ArchiveEntry, BlockDecoder, Coder, EncoderMethod, Error as SzError, Password};
use std::io::Cursor;

const SIGNATURE: [u8; 6] = [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C];
const START_HEADER: usize = 32;

/// A dictionary up to this size is accepted even when the data it decodes is smaller: writers
/// that do not shrink the dictionary to the file (7-Zip's strongest level uses 64 MiB) stay
/// readable, and the memory stays bounded.
const DICTIONARY_ALLOWANCE: u64 = 64 << 20;

/// The largest PPMd model accepted (7-Zip's strongest setting uses 192 MiB).
const PPMD_MEMORY_CAP: u64 = 256 << 20;

/// Extra room, in KiB, over a decoder's dictionary for the crate's own memory check.
const MEMORY_SLACK_KB: usize = 4 << 10;

/// Windows file attributes: a reparse point (symbolic link, junction), and the flag that puts a
/// Unix mode in the high 16 bits.
const ATTRIBUTE_REPARSE_POINT: u32 = 0x400;
const ATTRIBUTE_UNIX_EXTENSION: u32 = 0x8000;

/// Disarms a 7z archive; the result is a zip.
pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let start = StartHeader::read(data)?;
    let mut actions = Vec::new();
    if let Some(after) = data.get(start.end..).filter(|a| !a.is_empty()) {
        let (kind, what) = if after.iter().all(|&b| b == 0) {
            (ActionKind::RemovedArchiveMetadata, "zero bytes")
        } else {
            (ActionKind::RemovedTrailingData, "bytes")
        };
        actions.push(Action::with_detail(kind, "", format!("{} {what} after the end of the archive", after.len())));
    }
    let listed = if start.empty { Vec::new() } else { read(data, ctx.budget, &Password::empty())? };
    let cleaned = clean(listed, ctx)?;
    actions.extend(cleaned.actions);
    let out = ziparc::write(&cleaned.entries, None)?;
    Ok(Disarmed { name: None, data: out, kind: Kind::Zip, actions })
}

/// The 32 bytes at the start of every 7z archive.
struct StartHeader {
    /// Where the archive ends (after its header).
    end: usize,
    /// An archive with no header at all: no entries.
    empty: bool,
}

impl StartHeader {
    fn read(data: &[u8]) -> Result<StartHeader, FormatError> {
        let bad = |what: &str| FormatError::malformed(format!("7z start header: {what}"));
        let head = data.get(..START_HEADER).ok_or_else(|| bad("too short"))?;
        if head[..6] != SIGNATURE {
            return Err(bad("no signature"));
        }
        if head[6] != 0 {
            return Err(FormatError::new(Reason::Unsupported, format!("7z format version {}.{}", head[6], head[7])));
        }
        let u32_at = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let u64_at = |i: usize| u64::from(u32_at(i)) | (u64::from(u32_at(i + 4)) << 32);
        let crc = u32_at(8);
        if crc == 0 || crc != crc32fast::hash(&head[12..32]) {
            return Err(bad("checksum is wrong (a damaged or unfinished archive)"));
        }
        let (offset, size) = (u64_at(12), u64_at(20));
        let end = (START_HEADER as u64)
            .checked_add(offset)
            .and_then(|e| e.checked_add(size))
            .and_then(|e| usize::try_from(e).ok())
            .filter(|&e| e <= data.len())
            .ok_or_else(|| bad("the header lies beyond the end of the file"))?;
        Ok(StartHeader { end, empty: size == 0 })
    }
}

/// Names an error of the crate with one of ours.
fn crate_error(what: &str, e: SzError) -> FormatError {
    let detail = format!("{what}: {e}");
    match e {
        SzError::PasswordRequired | SzError::MaybeBadPassword(_) => FormatError::new(Reason::Encrypted, detail),
        // Built without decryption, an encrypted header reads as a method the crate lacks.
        SzError::UnsupportedCompressionMethod(m) if m.contains("AES") => {
            FormatError::new(Reason::Encrypted, format!("{what} is encrypted (AES-256)"))
        }
        SzError::UnsupportedCompressionMethod(_) => FormatError::new(Reason::UnsupportedCompression, detail),
        SzError::MaxMemLimited { .. } => FormatError::new(Reason::LimitTotalBytes, detail),
        SzError::Unsupported(_) | SzError::UnsupportedVersion { .. } | SzError::ExternalUnsupported => {
            FormatError::new(Reason::Unsupported, detail)
        }
        _ => FormatError::malformed(detail),
    }
}

/// What [`decrypt_to_zip`] made of an archive.
pub enum Decrypted {
    /// The archive holds no encrypted block or header.
    NotEncrypted,
    /// A zip of the same files (folders kept; links, devices and anti-items left out, as the
    /// rebuild would leave them out).
    Zip(Vec<u8>),
}

/// Decrypts a 7z archive encrypted with AES-256 (its content, and its header when that is
/// encrypted too) with `password`, within the same checks as the disarm, and writes its files
/// into a plain zip, for a release with the password; the zip then goes through the engine.
/// A wrong password shows as [`Reason::Encrypted`] (or as data that does not decode: 7z keeps
/// no password check of its own).
pub fn decrypt_to_zip(data: &[u8], password: &str, budget: &Budget) -> Result<Decrypted, FormatError> {
    let start = StartHeader::read(data)?;
    if start.empty {
        return Ok(Decrypted::NotEncrypted);
    }
    let header_kb = (DICTIONARY_ALLOWANCE >> 10) as usize + MEMORY_SLACK_KB;
    let encrypted = match Archive::read_with_memory_limit(&mut Cursor::new(data), &Password::empty(), header_kb) {
        Ok(archive) => archive
            .blocks
            .iter()
            .any(|b| b.coders.iter().any(|c| c.encoder_method_id() == EncoderMethod::ID_AES256_SHA256)),
        Err(e) => match crate_error("7z header", e) {
            e if e.reason == Reason::Encrypted => true,
            e => return Err(e),
        },
    };
    if !encrypted {
        return Ok(Decrypted::NotEncrypted);
    }
    let listed = read(data, budget, &Password::new(password))?;
    let entries: Vec<CleanEntry> = listed
        .into_iter()
        .filter_map(|l| match l {
            Listed::File { path, data, modified, .. } => {
                Some(CleanEntry::File { path, data, kind: Kind::Unknown, modified, unchanged: false, source: None })
            }
            Listed::Dir { path, modified } => Some(CleanEntry::Dir { path, modified }),
            Listed::Special { .. } => None,
        })
        .collect();
    Ok(Decrypted::Zip(ziparc::write(&entries, None)?))
}

/// Reads the header, checks it (see the module documentation) and decodes every entry. With
/// the empty password encrypted blocks are refused; with another they are decrypted.
fn read(data: &[u8], budget: &Budget, password: &Password) -> Result<Vec<Listed>, FormatError> {
    let mut source = Cursor::new(data);
    let decrypting = !password.as_slice().is_empty();
    let header_kb = (DICTIONARY_ALLOWANCE >> 10) as usize + MEMORY_SLACK_KB;
    let archive =
        Archive::read_with_memory_limit(&mut source, password, header_kb).map_err(|e| crate_error("7z header", e))?;
    budget.check_time()?;
    budget.charge_entries(archive.files.len() as u64)?;
    let memory_kb = archive.blocks.iter().map(|b| check_block(b, decrypting)).collect::<Result<Vec<_>, _>>()?;
    check_sizes(&archive, data.len() as u64, budget)?;

    let mut contents: Vec<Option<Vec<u8>>> = vec![None; archive.files.len()];
    for (index, kb) in memory_kb.into_iter().enumerate() {
        budget.check_time()?;
        let mut next = archive.stream_map.block_first_file_index.get(index).copied().unwrap_or(usize::MAX);
        let mut failure = None;
        let decoder = BlockDecoder::new_with_memory_limit(1, kb, index, &archive, password, &mut source);
        let decoded = decoder.for_each_entries(&mut |entry, reader| {
            let at = next;
            next = next.saturating_add(1);
            // The crate hands over a block's entries in order; make sure, since a mix-up would
            // give one entry's bytes another's name.
            if !archive.files.get(at).is_some_and(|f| std::ptr::eq(f, entry)) {
                failure = Some(FormatError::malformed(format!("{}: entries of a block out of order", entry.name)));
                return Err(SzError::Other("stopped".into()));
            }
            if !entry.has_stream {
                return Ok(true);
            }
            let fail = |e: std::io::Error| match e.get_ref().map(|inner| inner.to_string()) {
                Some(m) if m.contains("assword") => FormatError::new(Reason::Encrypted, format!("{}: {e}", entry.name)),
                _ => FormatError::malformed(format!("{}: {e}", entry.name)),
            };
            match expand::read_declared(&entry.name, reader, entry.size, budget, &fail) {
                Ok(bytes) => {
                    if let Some(slot) = contents.get_mut(at) {
                        *slot = Some(bytes);
                    }
                    Ok(true)
                }
                Err(e) => {
                    failure = Some(e);
                    Err(SzError::Other("stopped".into()))
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        decoded.map_err(|e| crate_error("7z data", e))?;
    }

    let mut listed = Vec::with_capacity(archive.files.len());
    for (entry, content) in archive.files.iter().zip(contents) {
        let path = entry_path(entry);
        let modified = if entry.has_last_modified_date {
            Stamp::from_unix(unix_time(entry.last_modified_date.into()))
        } else {
            Stamp::default()
        };
        if let Some(what) = special(entry) {
            listed.push(Listed::Special { path, what: what.into() });
        } else if entry.is_directory {
            listed.push(Listed::Dir { path, modified });
        } else if entry.has_stream {
            let data = content.ok_or_else(|| FormatError::malformed(format!("{path}: no data was decoded")))?;
            listed.push(Listed::File { path, data, modified, source: None });
        } else {
            listed.push(Listed::File { path, data: Vec::new(), modified, source: None });
        }
    }
    Ok(listed)
}

/// Checks a block's methods and dictionaries; returns the memory limit (KiB) to decode it with.
/// An AES coder is accepted only when `decrypting`.
fn check_block(block: &sevenz_rust2::Block, decrypting: bool) -> Result<usize, FormatError> {
    let mut largest = 0u64;
    for (index, coder) in block.coders.iter().enumerate() {
        let id = coder.encoder_method_id();
        let name = EncoderMethod::by_id(id).map(|m| m.name().to_string()).unwrap_or_else(|| hex(id));
        match id {
            EncoderMethod::ID_AES256_SHA256 if decrypting => {}
            EncoderMethod::ID_AES256_SHA256 => {
                return Err(FormatError::new(Reason::Encrypted, "7z archive with encrypted content (AES-256)"));
            }
            EncoderMethod::ID_LZMA | EncoderMethod::ID_LZMA2 => {
                let dictionary = dictionary_size(coder)?;
                let needed = block.get_unpack_size_at_index(index);
                if dictionary > needed.max(DICTIONARY_ALLOWANCE) {
                    return Err(FormatError::new(
                        Reason::LimitTotalBytes,
                        format!("{name} dictionary of {dictionary} bytes to decode {needed} bytes"),
                    ));
                }
                largest = largest.max(dictionary);
            }
            EncoderMethod::ID_PPMD => {
                let memory = ppmd_memory(coder)?;
                let needed = block.get_unpack_size_at_index(index);
                // 7-Zip shrinks the model to at most 16 times the data it packs.
                let allowed = DICTIONARY_ALLOWANCE.max(needed.saturating_mul(16).min(PPMD_MEMORY_CAP));
                if memory > allowed {
                    return Err(FormatError::new(
                        Reason::LimitTotalBytes,
                        format!("PPMd model of {memory} bytes to decode {needed} bytes"),
                    ));
                }
                largest = largest.max(memory);
            }
            EncoderMethod::ID_COPY
            | EncoderMethod::ID_BZIP2
            | EncoderMethod::ID_DEFLATE
            | EncoderMethod::ID_DELTA
            | EncoderMethod::ID_BCJ_X86
            | EncoderMethod::ID_BCJ2
            | EncoderMethod::ID_BCJ_PPC
            | EncoderMethod::ID_BCJ_IA64
            | EncoderMethod::ID_BCJ_ARM
            | EncoderMethod::ID_BCJ_ARM64
            | EncoderMethod::ID_BCJ_ARM_THUMB
            | EncoderMethod::ID_BCJ_SPARC
            | EncoderMethod::ID_BCJ_RISCV => {}
            _ => {
                return Err(FormatError::new(Reason::UnsupportedCompression, format!("7z compression method {name}")));
            }
        }
    }
    Ok(usize::try_from(largest >> 10).unwrap_or(usize::MAX).saturating_add(MEMORY_SLACK_KB))
}

/// The dictionary size an LZMA or LZMA2 coder declares.
fn dictionary_size(coder: &Coder) -> Result<u64, FormatError> {
    let p = coder.properties();
    if coder.encoder_method_id() == EncoderMethod::ID_LZMA {
        let b = p.get(1..5).ok_or_else(|| FormatError::malformed("LZMA properties too short"))?;
        return Ok(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
    }
    match p.first() {
        Some(&40) => Ok(u64::from(u32::MAX)),
        Some(&d) if d < 40 => Ok((2 | u64::from(d & 1)) << (d / 2 + 11)),
        _ => Err(FormatError::malformed("LZMA2 dictionary property out of range")),
    }
}

/// The model memory a PPMd coder declares.
fn ppmd_memory(coder: &Coder) -> Result<u64, FormatError> {
    let b = coder.properties().get(1..5).ok_or_else(|| FormatError::malformed("PPMd properties too short"))?;
    Ok(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
}

/// Declared sizes against the limits, before anything is decoded.
fn check_sizes(archive: &Archive, archive_len: u64, budget: &Budget) -> Result<(), FormatError> {
    let mut total = 0u64;
    for entry in archive.files.iter().filter(|e| e.has_stream) {
        expand::charge_declared(&entry.name, entry.size, budget)?;
        total = total.saturating_add(entry.size);
    }
    expand::check_ratio("7z archive", total, archive_len, budget)
}

/// The entry's path with `/` separators; an unnamed entry (written from standard input) is
/// called `data`.
fn entry_path(entry: &ArchiveEntry) -> String {
    if entry.name.is_empty() {
        "data".into()
    } else {
        entry.name.replace('\\', "/")
    }
}

/// What an entry is when it is not a plain file or folder.
fn special(entry: &ArchiveEntry) -> Option<&'static str> {
    if entry.is_anti_item {
        return Some("anti-item (a deletion mark of an update)");
    }
    if !entry.has_windows_attributes {
        return None;
    }
    let a = entry.windows_attributes;
    if a & ATTRIBUTE_REPARSE_POINT != 0 {
        return Some("reparse point (symbolic link or junction)");
    }
    if a & ATTRIBUTE_UNIX_EXTENSION != 0 {
        return match (a >> 16) & 0o170000 {
            0 | 0o100000 | 0o040000 => None,
            0o120000 => Some("symbolic link"),
            0o020000 => Some("character device"),
            0o060000 => Some("block device"),
            0o010000 => Some("named pipe"),
            0o140000 => Some("socket"),
            _ => Some("unknown file type"),
        };
    }
    None
}

/// Seconds since 1970 from a Windows file time (100 ns units since 1601).
fn unix_time(file_time: u64) -> i64 {
    (file_time / 10_000_000) as i64 - 11_644_473_600
}

fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_headers_must_be_whole_and_checked() {
        assert!(StartHeader::read(b"7z").is_err());
        let mut h = SIGNATURE.to_vec();
        h.extend_from_slice(&[0, 4, 0, 0, 0, 0]);
        h.extend_from_slice(&[0; 20]);
        // A zero checksum marks an unfinished archive.
        assert_eq!(StartHeader::read(&h).err().map(|e| e.reason), Some(Reason::Malformed));
        let crc = crc32fast::hash(&h[12..32]);
        h[8..12].copy_from_slice(&crc.to_le_bytes());
        let s = StartHeader::read(&h).unwrap();
        assert!(s.empty);
        assert_eq!(s.end, 32);
        // A header beyond the end of the file.
        h[20] = 10;
        let crc = crc32fast::hash(&h[12..32]);
        h[8..12].copy_from_slice(&crc.to_le_bytes());
        assert!(StartHeader::read(&h).is_err());
    }

    #[test]
    fn file_times_become_unix_times() {
        assert_eq!(unix_time(116_444_736_000_000_000), 0);
        assert_eq!(unix_time(116_444_736_000_000_000 + 10_000_000 * 86_400), 86_400);
    }
}
