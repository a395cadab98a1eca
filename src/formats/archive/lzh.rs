//! LHA / LZH archives (still common in Japan), read with `delharc` (pure Rust): every file goes
//! back through the engine and the archive is rebuilt **as a zip** (`x.lzh` comes out as
//! `x.zip`): no maintained crate writes LHA, and every recipient can open a zip.
//!
//! Header levels 0, 1 and 2 (and 3) are read, their checksums checked by the crate. The methods
//! the crate decodes are accepted (`-lh0-`, `-lh1-`, `-lh4-` to `-lh7-`, `-lz4-`, `-lz5-`,
//! `-lzs-`, `-pm0-` to `-pm2-`); any other (`-lhx-`, `-lh2-`, `-lh3-`, unknown) is refused as
//! `unsupported_compression`. Each file's declared size is checked against `max_entry_bytes`,
//! charged to `max_total_bytes` and, with its compressed size, against `max_ratio` before it is
//! decoded; it is decoded a piece at a time and its CRC-16 checked.
//!
//! Names are read as the format defines them: a directory extension header whose parts are
//! separated by `0xFF`, a file name extension header or the level 0/1 name field, whose MS-DOS
//! `\` separators are recognised only after the name is decoded from Shift_JIS (where `\` is also
//! the second byte of characters such as 表 and ソ). UTF-8 names are taken as such. Folders
//! (`-lhd-`) stay folders; symbolic links (Unix mode or MS-DOS attribute) and other special files
//! are never written. Times are kept (MS-DOS local time for levels 0 and 1, Unix time for level 2
//! or when an extension header gives it); comments, owners, permissions and bytes after the end
//! marker are not carried over.

use super::{clean, expand, ziparc, Listed, Stamp};
use crate::formats::{zipread, Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind, Reason};
use delharc::{LhaDecodeReader, LhaHeader};

/// Extension header ids (the `lha` program's header format).
const EXT_FILENAME: u8 = 0x01;
const EXT_DIRECTORY: u8 = 0x02;
const EXT_UNIX_MODE: u8 = 0x50;
const EXT_UNIX_TIME: u8 = 0x54;

/// The separator of the directory extension header.
const DIR_SEPARATOR: u8 = 0xFF;

/// Disarms an LHA archive; the result is a zip.
pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let (listed, mut actions) = read(data, ctx)?;
    let cleaned = clean(listed, ctx)?;
    actions.extend(cleaned.actions);
    let out = ziparc::write(&cleaned.entries, None)?;
    Ok(Disarmed { name: None, data: out, kind: Kind::Zip, actions })
}

fn malformed(what: &str, e: impl std::fmt::Display) -> FormatError {
    FormatError::malformed(format!("{what}: {e}"))
}

fn read(data: &[u8], ctx: &Context<'_>) -> Result<(Vec<Listed>, Vec<Action>), FormatError> {
    let budget = ctx.budget;
    let mut reader = LhaDecodeReader::new(data).map_err(|e| malformed("LHA header", e))?;
    let mut listed = Vec::new();
    loop {
        budget.check_time()?;
        budget.charge_entries(1)?;
        let header = reader.header();
        let path = entry_path(header)?;
        let modified = stamp(header);
        if let Some(what) = special(header) {
            listed.push(Listed::Special { path, what: what.into() });
        } else if header.is_directory() {
            listed.push(Listed::Dir { path: path.trim_end_matches('/').to_string(), modified });
        } else {
            let method = String::from_utf8_lossy(&header.compression).into_owned();
            if header.compression_method().is_err() || !reader.is_decoder_supported() {
                return Err(FormatError::new(Reason::UnsupportedCompression, format!("{path}: LHA method {method}")));
            }
            let (size, packed) = (header.original_size, header.compressed_size);
            expand::charge_declared(&path, size, budget)?;
            expand::check_ratio(&path, size, packed, budget)?;
            let fail = |e: std::io::Error| malformed(&path, e);
            let bytes = expand::read_declared(&path, &mut reader, size, budget, &fail)?;
            if !reader.crc_is_ok() {
                return Err(FormatError::malformed(format!("{path}: CRC-16 does not match")));
            }
            listed.push(Listed::File { path, data: bytes, modified, source: None });
        }
        match reader.next_file() {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(malformed("LHA header", e)),
        }
    }
    let mut actions = Vec::new();
    // After the end marker (a zero byte), or at the end of the file.
    let after = reader.get_ref().copied().unwrap_or(&[]);
    if !after.is_empty() {
        let (kind, what) = if after.iter().all(|&b| b == 0) {
            (ActionKind::RemovedArchiveMetadata, "zero bytes")
        } else {
            (ActionKind::RemovedTrailingData, "bytes")
        };
        actions.push(Action::with_detail(kind, "", format!("{} {what} after the end of the archive", after.len())));
    }
    Ok((listed, actions))
}

/// The entry's path, `/`-separated (see the module documentation).
fn entry_path(h: &LhaHeader) -> Result<String, FormatError> {
    let mut dir: Vec<String> = Vec::new();
    let mut name: Option<String> = None;
    for ext in h.iter_extra() {
        match ext {
            [EXT_DIRECTORY, rest @ ..] => {
                for part in rest.split(|&b| b == DIR_SEPARATOR).filter(|p| !p.is_empty()) {
                    dir.push(decode(part)?);
                }
            }
            [EXT_FILENAME, rest @ ..] => name = Some(decode(rest)?),
            _ => {}
        }
    }
    let name = match name {
        Some(n) => n,
        None => {
            // Level 0 and 1: the name field, which may hold the whole path; a NUL ends it
            // (Amiga archivers put a comment after it).
            let raw = h.filename.split(|&b| b == 0).next().unwrap_or(&[]);
            let parts: Vec<String> = raw.split(|&b| b == DIR_SEPARATOR).map(decode).collect::<Result<_, _>>()?;
            parts.join("/")
        }
    };
    let mut path = dir.join("/");
    if !path.is_empty() && !name.is_empty() {
        path.push('/');
    }
    path.push_str(&name);
    // MS-DOS separators, recognised in the decoded text (see the module documentation).
    Ok(path.replace('\\', "/"))
}

fn decode(raw: &[u8]) -> Result<String, FormatError> {
    zipread::decode_name(raw).ok_or_else(|| {
        FormatError::malformed(format!("entry name {:?} is neither UTF-8 nor Shift_JIS", String::from_utf8_lossy(raw)))
    })
}

/// The modification time (see the module documentation).
fn stamp(h: &LhaHeader) -> Stamp {
    for ext in h.iter_extra() {
        if let [EXT_UNIX_TIME, a, b, c, d, ..] = *ext {
            return Stamp::from_unix(i64::from(u32::from_le_bytes([a, b, c, d])));
        }
    }
    if h.level < 2 {
        let t = h.last_modified;
        Stamp::from_dos(zipread::DosTime { time: t as u16, date: (t >> 16) as u16 })
    } else {
        Stamp::from_unix(i64::from(h.last_modified))
    }
}

/// What an entry is when it is not a plain file or folder.
fn special(h: &LhaHeader) -> Option<&'static str> {
    if h.msdos_attrs.is_symlink() {
        return Some("symbolic link");
    }
    let mode = h.iter_extra().find_map(|ext| match *ext {
        [EXT_UNIX_MODE, lo, hi, ..] => Some(u16::from_le_bytes([lo, hi])),
        _ => None,
    })?;
    match mode & 0o170000 {
        0 | 0o100000 | 0o040000 => None,
        0o120000 => Some("symbolic link"),
        0o020000 => Some("character device"),
        0o060000 => Some("block device"),
        0o010000 => Some("named pipe"),
        _ => Some("special file"),
    }
}
