//! Validated zip reading, shared by every zip-based format (OOXML now, ODF and archives later).
//!
//! [`ZipIndex::open`] checks the whole archive before any entry is read and fails closed with a
//! named [`Reason`]:
//!
//! - the entry count in the end of central directory record is checked against
//!   `[limits] max_entries` before the zip crate parses (and allocates for) the directory;
//! - the central directory must sit exactly before its end record, with no gaps or left-over
//!   bytes, and the zip crate must agree on where it is and how many entries it holds;
//! - entry names must be relative, clean paths (see `check_name`) and unique, also when
//!   compared ASCII case-insensitively;
//! - encrypted entries, compression methods other than stored and deflate, and local headers
//!   that disagree with the central directory are refused;
//! - entries must lie inside the file, must not overlap each other or the central directory;
//! - declared sizes must respect `max_ratio` and `max_total_bytes`.
//!
//! [`ZipIndex::read`] then inflates one entry straight from the input bytes (so it takes `&self`
//! and can run on several threads at once), never producing more than the declared size and
//! checking the CRC-32. [`ZipIndex::raw_copy`] moves an entry's compressed bytes into a new
//! archive without recompressing them, and without any of the source's metadata.

use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::Reason;
use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const LOCATOR_SIG: u32 = 0x0706_4b50;

const LOCAL_LEN: u64 = 30;
const CENTRAL_LEN: u64 = 46;
const EOCD_LEN: u64 = 22;
const LOCATOR_LEN: u64 = 20;
/// A zip64 end record without an extensible data sector.
const EOCD64_LEN: u64 = 56;
/// The longest archive comment, so the farthest the end record can be from the end of the file.
const MAX_COMMENT: u64 = 0xFFFF;

/// General purpose flag bits.
const FLAG_ENCRYPTED: u16 = 0x0001;
const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;
const FLAG_STRONG_ENCRYPTION: u16 = 0x0040;
const FLAG_UTF8: u16 = 0x0800;
const FLAG_MASKED_HEADERS: u16 = 0x2000;
const ENCRYPTION_FLAGS: u16 = FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS;

/// Extra field ids.
const EXTRA_ZIP64: u16 = 0x0001;
const EXTRA_STRONG_ENCRYPTION: u16 = 0x0017;
const EXTRA_AES: u16 = 0x9901;

const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;
const METHOD_AES: u16 = 99;

/// Entries above this size must respect `max_ratio`; small, highly compressible XML is normal.
const RATIO_FLOOR: u64 = 1024 * 1024;
/// How many bytes `read` inflates between two looks at the clock.
const TIME_CHECK_BYTES: usize = 4 * 1024 * 1024;
/// How many directory entries `open` checks between two looks at the clock.
const TIME_CHECK_ENTRIES: usize = 1024;
/// DOS date of 1980-01-01, the fixed timestamp of every entry mugai writes.
const DOS_DATE_1980: u16 = (1 << 5) | 1;

/// How an entry's bytes are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
}

impl Method {
    fn code(self) -> u16 {
        match self {
            Method::Stored => METHOD_STORED,
            Method::Deflated => METHOD_DEFLATED,
        }
    }
}

/// One validated entry of the central directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the central directory.
    pub index: usize,
    /// The name as the archive's writer meant it: UTF-8 when flagged so (or when the bytes are
    /// valid UTF-8), else Shift_JIS when they decode as such (Japanese Windows writes names in
    /// its code page without a flag), else CP437 as the zip specification says. A Unicode path
    /// extra field, when present, wins (as the zip crate reads it).
    pub name: String,
    /// The last-modified time and date as stored (MS-DOS format: local time, two-second steps).
    pub modified: DosTime,
    pub is_dir: bool,
    pub method: Method,
    pub compressed_size: u64,
    /// The declared uncompressed size; `read` produces exactly this many bytes or fails.
    pub size: u64,
    pub crc32: u32,
    /// Offset of the local header in the input.
    pub header_start: u64,
    /// Offset of the compressed bytes in the input.
    pub data_start: u64,
}

/// An MS-DOS time and date, as zip headers store them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DosTime {
    pub time: u16,
    pub date: u16,
}

impl DosTime {
    /// 1980-01-01 00:00, the fixed time of every part mugai writes for itself.
    pub const EPOCH: DosTime = DosTime { time: 0, date: DOS_DATE_1980 };

    /// The zip crate's form of this time; invalid fields (month 13, hour 25) give the epoch.
    pub fn to_zip(self) -> DateTime {
        DateTime::try_from_msdos(self.date, self.time).unwrap_or_default()
    }
}

/// A zip archive whose directory has been checked; entries are read on demand.
pub struct ZipIndex<'a> {
    data: &'a [u8],
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    by_lower_name: HashMap<String, usize>,
    extra_bytes: bool,
    /// Reused for the one-entry archives of raw copies (one large buffer instead of one per part).
    scratch: std::sync::Mutex<Vec<u8>>,
}

impl std::fmt::Debug for ZipIndex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipIndex")
            .field("len", &self.data.len())
            .field("entries", &self.entries)
            .field("extra_bytes", &self.extra_bytes)
            .finish()
    }
}

impl<'a> ZipIndex<'a> {
    /// Parses and validates the whole directory; charges `budget.charge_entries` with the number
    /// of entries.
    pub fn open(data: &'a [u8], budget: &Budget) -> Result<Self, FormatError> {
        let limits = budget.limits();
        let end = find_end(data, limits.max_entries)?;
        budget.charge_entries(end.entries)?;

        // The archive offset is passed in so the zip crate looks at the very records checked
        // above; its own search would otherwise fall back to other candidates.
        let config = zip::read::Config { archive_offset: zip::read::ArchiveOffset::Known(end.archive_offset) };
        let archive = zip::ZipArchive::with_config(config, Cursor::new(data))
            .map_err(|e| FormatError::malformed(format!("zip: {e}")))?;
        if archive.has_duplicate_names() {
            return Err(FormatError::new(Reason::DuplicateEntry, "two central directory entries with the same name"));
        }
        if archive.len() as u64 != end.entries
            || archive.central_directory_start() != end.cd_start
            || archive.offset() != end.archive_offset
        {
            return Err(FormatError::malformed(
                "the zip reader found a different central directory than the end record declares",
            ));
        }

        let mut entries = Vec::with_capacity(archive.len());
        let mut locals = Vec::with_capacity(archive.len());
        let mut names = HashSet::with_capacity(archive.len());
        let mut next_central = end.cd_start;
        for index in 0..archive.len() {
            if index % TIME_CHECK_ENTRIES == 0 {
                budget.check_time()?;
            }
            let file =
                archive.by_index_data(index).map_err(|e| FormatError::malformed(format!("zip entry {index}: {e}")))?;
            if file.central_header_start() != next_central {
                return Err(FormatError::malformed(format!(
                    "central directory entry {index} is not where the previous one ends"
                )));
            }
            let central = Header::parse(data, next_central, CENTRAL_SIG, CENTRAL_LEN)
                .ok_or_else(|| FormatError::malformed(format!("central directory entry {index} is truncated")))?;
            next_central = central.end;

            let utf8 = central.flags & FLAG_UTF8 != 0;
            if utf8 && std::str::from_utf8(central.name).is_err() {
                let shown = String::from_utf8_lossy(central.name);
                return Err(FormatError::malformed(format!("entry name {shown:?} is flagged UTF-8 but is not")));
            }
            let crate_name = || {
                file.name()
                    .map(|n| n.into_owned())
                    .map_err(|e| FormatError::malformed(format!("entry {index} name: {e}")))
            };
            let stored = match decode_name(central.name) {
                Some(s) => s,
                None if file.name_raw() == central.name => crate_name()?,
                None => central.name.iter().map(|&b| if b.is_ascii() { b as char } else { '_' }).collect(),
            };
            // A Unicode path extra field replaces the stored name; readers that ignore the field
            // see the stored one, so both must be clean.
            let name = if file.name_raw() != central.name {
                let name = crate_name()?;
                check_name(&stored).map_err(|e| e.about(&name))?;
                name
            } else {
                stored
            };
            check_name(&name).map_err(|e| e.about(&name))?;
            let key = name.trim_end_matches('/').to_ascii_lowercase();
            if !names.insert(key) {
                return Err(FormatError::new(
                    Reason::DuplicateEntry,
                    format!("entry {name:?} appears twice (ignoring case)"),
                ));
            }

            if central.flags & ENCRYPTION_FLAGS != 0
                || central.method == METHOD_AES
                || has_extra(central.extra, &[EXTRA_AES, EXTRA_STRONG_ENCRYPTION])
            {
                return Err(FormatError::new(Reason::Encrypted, format!("entry {name:?} is encrypted")));
            }
            let method = match central.method {
                METHOD_STORED => Method::Stored,
                METHOD_DEFLATED => Method::Deflated,
                other => {
                    return Err(FormatError::new(
                        Reason::UnsupportedCompression,
                        format!("entry {name:?} uses compression method {other}"),
                    ))
                }
            };
            if method == Method::Stored && file.compressed_size() != file.size() {
                return Err(FormatError::malformed(format!(
                    "stored entry {name:?} has different compressed and uncompressed sizes"
                )));
            }

            // The local header: only its position and lengths here, the comparison with the
            // central directory comes after the overlap check.
            let header_start = file.header_start();
            let local = Header::parse(data, header_start, LOCAL_SIG, LOCAL_LEN).ok_or_else(|| {
                FormatError::malformed(format!("local header of {name:?} is missing or out of bounds"))
            })?;
            let data_start = local.end;
            let in_bounds =
                data_start.checked_add(file.compressed_size()).is_some_and(|data_end| data_end <= data.len() as u64);
            if !in_bounds {
                return Err(FormatError::malformed(format!("data of {name:?} runs past the end of the file")));
            }

            entries.push(Entry {
                index,
                modified: DosTime { time: central.time, date: central.date },
                is_dir: file.is_dir(),
                method,
                compressed_size: file.compressed_size(),
                size: file.size(),
                crc32: file.crc32(),
                header_start,
                data_start,
                name,
            });
            locals.push((central, local));
        }
        if next_central != end.cd_start + end.cd_size {
            return Err(FormatError::malformed("central directory size does not match its entries"));
        }

        check_overlaps(&entries, end.cd_start)?;
        for (entry, (central, local)) in entries.iter().zip(&locals) {
            check_local(entry, central, local)?;
        }

        let mut total: u64 = 0;
        for entry in &entries {
            let allowed = limits.max_ratio.saturating_mul(entry.compressed_size.max(1));
            if entry.size > RATIO_FLOOR && entry.size > allowed {
                return Err(FormatError::new(
                    Reason::LimitRatio,
                    format!(
                        "entry {:?} declares {} bytes from {} compressed (limit {}x)",
                        entry.name, entry.size, entry.compressed_size, limits.max_ratio
                    ),
                ));
            }
            if entry.size > limits.max_entry_bytes {
                return Err(FormatError::new(
                    Reason::LimitEntryBytes,
                    format!("entry {:?} declares {} bytes, limit {}", entry.name, entry.size, limits.max_entry_bytes),
                ));
            }
            total = total.saturating_add(entry.size);
        }
        if total > limits.max_total_bytes {
            return Err(FormatError::new(
                Reason::LimitTotalBytes,
                format!("entries declare {total} bytes, limit {}", limits.max_total_bytes),
            ));
        }

        let first_byte = entries.iter().map(|e| e.header_start).min().unwrap_or(end.cd_start);
        let extra_bytes = first_byte > 0 || end.end < data.len() as u64;
        let by_name = entries.iter().map(|e| (e.name.clone(), e.index)).collect();
        let by_lower_name = entries.iter().map(|e| (e.name.to_ascii_lowercase(), e.index)).collect();
        Ok(ZipIndex { data, entries, by_name, by_lower_name, extra_bytes, scratch: Default::default() })
    }

    /// All entries, in central directory order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry with exactly this name.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).and_then(|&i| self.entries.get(i))
    }

    /// The entry whose name equals `name` ignoring ASCII case (names are unique that way).
    pub fn find_ci(&self, name: &str) -> Option<&Entry> {
        self.by_lower_name.get(&name.to_ascii_lowercase()).and_then(|&i| self.entries.get(i))
    }

    /// Whether the file holds bytes before the first local header or after the end record
    /// (a prepended stub or an appended payload). They are never read or copied.
    pub fn has_extra_bytes(&self) -> bool {
        self.extra_bytes
    }

    /// Decompresses one entry, verifying its CRC-32 and size. Never produces more than the
    /// declared size; charges `budget.charge_bytes(size)` before allocating.
    pub fn read(&self, entry: &Entry, budget: &Budget) -> Result<Vec<u8>, FormatError> {
        let entry = self.own(entry)?;
        let size = usize::try_from(entry.size).map_err(|_| too_large(entry))?;
        let mut out = Vec::new();
        out.try_reserve_exact(size).map_err(|_| too_large(entry))?;
        self.expand(entry, budget, |piece| out.extend_from_slice(piece))?;
        Ok(out)
    }

    /// Checks one entry without keeping it: the same bounded inflate and the same size and
    /// CRC-32 checks as [`ZipIndex::read`], in pieces, so a large picture that is copied
    /// unchanged never needs a buffer of its own. Returns the entry's first `head` bytes (enough
    /// to tell its true type).
    pub fn verify(&self, entry: &Entry, budget: &Budget, head: usize) -> Result<Vec<u8>, FormatError> {
        let entry = self.own(entry)?;
        let mut first = Vec::with_capacity(head.min(usize::try_from(entry.size).unwrap_or(head)));
        self.expand(entry, budget, |piece| {
            let room = head.saturating_sub(first.len());
            first.extend_from_slice(&piece[..room.min(piece.len())]);
        })?;
        Ok(first)
    }

    /// Inflates (or copies) an entry piece by piece into `sink`, charging the budget, refusing
    /// more or fewer bytes than declared and checking the CRC-32.
    fn expand(&self, entry: &Entry, budget: &Budget, mut sink: impl FnMut(&[u8])) -> Result<(), FormatError> {
        let raw = self.compressed(entry)?;
        budget.charge_bytes(entry.size)?;
        let size = usize::try_from(entry.size).map_err(|_| too_large(entry))?;
        let mut crc = crc32fast::Hasher::new();
        let mut total = 0usize;
        let mut take = |piece: &[u8]| {
            crc.update(piece);
            total += piece.len();
            sink(piece);
        };
        match entry.method {
            Method::Stored => take(raw),
            Method::Deflated => inflate(entry, raw, size, budget, &mut take)?,
        }
        if total != size {
            return Err(FormatError::malformed(format!(
                "entry {:?} holds {} bytes, {} declared",
                entry.name, total, size
            )));
        }
        if crc.finalize() != entry.crc32 {
            return Err(FormatError::malformed(format!("entry {:?} fails its CRC-32 check", entry.name)));
        }
        Ok(())
    }

    /// Copies one entry's compressed bytes unchanged into `w` (no recompression), optionally
    /// under a new name.
    ///
    /// Only the bytes, method, sizes and CRC-32 are carried over: the copy gets the same fixed
    /// timestamp as [`deterministic_options`] and no extra fields, comment or file attributes
    /// (those can hide data, or turn the entry into a symbolic link when extracted). The
    /// compressed bytes are not inflated here; callers that need them checked read the entry.
    pub fn raw_copy<W: std::io::Write + std::io::Seek>(
        &self,
        entry: &Entry,
        w: &mut zip::ZipWriter<W>,
        new_name: Option<&str>,
    ) -> Result<(), FormatError> {
        self.raw_copy_dated(entry, w, new_name, DosTime::EPOCH)
    }

    /// [`ZipIndex::raw_copy`] with the given last-modified time instead of the fixed one (for
    /// archives, whose users care when their files were changed).
    pub fn raw_copy_dated<W: std::io::Write + std::io::Seek>(
        &self,
        entry: &Entry,
        w: &mut zip::ZipWriter<W>,
        new_name: Option<&str>,
        modified: DosTime,
    ) -> Result<(), FormatError> {
        let entry = self.own(entry)?;
        let name = new_name.unwrap_or(&entry.name);
        check_name(name).map_err(|e| e.about(name))?;
        let raw = self.compressed(entry)?;
        // The zip writer copies raw entries only out of another archive, and takes everything
        // else along with them; so the entry is first put alone into a minimal archive that
        // holds nothing but its bytes.
        let mut bare = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        bare_archive(entry, raw, modified, &mut bare)?;
        let mut archive = zip::ZipArchive::new(Cursor::new(bare.as_slice()))
            .map_err(|e| FormatError::malformed(format!("raw copy of {name:?}: {e}")))?;
        let file = archive.by_index_raw(0).map_err(|e| FormatError::malformed(format!("raw copy of {name:?}: {e}")))?;
        w.raw_copy_file_rename(file, name).map_err(|e| FormatError::malformed(format!("raw copy of {name:?}: {e}")))
    }

    /// This index's own copy of `entry`, so that a caller cannot make `read` look outside it.
    fn own(&self, entry: &Entry) -> Result<&Entry, FormatError> {
        match self.entries.get(entry.index) {
            Some(own) if own == entry => Ok(own),
            _ => Err(FormatError::malformed(format!("entry {:?} does not belong to this archive", entry.name))),
        }
    }

    fn compressed(&self, entry: &Entry) -> Result<&'a [u8], FormatError> {
        let data: &'a [u8] = self.data;
        let range = usize::try_from(entry.data_start)
            .ok()
            .and_then(|start| Some(start..start.checked_add(usize::try_from(entry.compressed_size).ok()?)?));
        range
            .and_then(|r| data.get(r))
            .ok_or_else(|| FormatError::malformed(format!("data of {:?} out of bounds", entry.name)))
    }
}

/// Options for entries mugai writes itself: deflate, the fixed timestamp 1980-01-01 00:00 (same
/// input, same output bytes), no extra fields, no unix permissions, no file attributes.
pub fn deterministic_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .system(System::Dos)
        .external_attributes(0)
        .large_file(false)
}

fn too_large(entry: &Entry) -> FormatError {
    FormatError::new(Reason::LimitTotalBytes, format!("entry {:?} is too large to hold in memory", entry.name))
}

fn inflate(
    entry: &Entry,
    raw: &[u8],
    size: usize,
    budget: &Budget,
    out: &mut impl FnMut(&[u8]),
) -> Result<(), FormatError> {
    let mut decoder = flate2::read::DeflateDecoder::new(raw);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut since_check = 0usize;
    let mut produced = 0usize;
    loop {
        let n = decoder.read(&mut chunk).map_err(|e| FormatError::malformed(format!("entry {:?}: {e}", entry.name)))?;
        if n == 0 {
            break;
        }
        if produced + n > size {
            return Err(FormatError::malformed(format!(
                "entry {:?} inflates past its declared {} bytes",
                entry.name, size
            )));
        }
        produced += n;
        out(chunk.get(..n).unwrap_or_default());
        since_check += n;
        if since_check >= TIME_CHECK_BYTES {
            since_check = 0;
            budget.check_time()?;
        }
    }
    // Bytes after the end of the deflate stream would be a hiding place inside the entry.
    if decoder.total_in() != raw.len() as u64 {
        return Err(FormatError::malformed(format!(
            "entry {:?} has {} bytes after its deflate stream",
            entry.name,
            (raw.len() as u64).saturating_sub(decoder.total_in())
        )));
    }
    Ok(())
}

/// A one-entry archive holding `raw` with nothing but the entry's method, sizes and CRC-32.
fn bare_archive(entry: &Entry, raw: &[u8], modified: DosTime, out: &mut Vec<u8>) -> Result<(), FormatError> {
    let (Ok(csize), Ok(size)) = (u32::try_from(entry.compressed_size), u32::try_from(entry.size)) else {
        return Err(FormatError::new(
            Reason::Unsupported,
            format!("raw copy of {:?}: entries of 4 GiB and more", entry.name),
        ));
    };
    if csize == u32::MAX || size == u32::MAX {
        return Err(FormatError::new(
            Reason::Unsupported,
            format!("raw copy of {:?}: entries of 4 GiB and more", entry.name),
        ));
    }
    let name = b"x";
    out.clear();
    out.reserve(raw.len() + 128);

    let put16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let put32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());

    put32(out, LOCAL_SIG);
    put16(out, 20); // version needed
    put16(out, 0); // flags
    put16(out, entry.method.code());
    put16(out, modified.time);
    put16(out, modified.date);
    put32(out, entry.crc32);
    put32(out, csize);
    put32(out, size);
    put16(out, name.len() as u16);
    put16(out, 0); // extra length
    out.extend_from_slice(name);
    out.extend_from_slice(raw);

    let cd_start =
        u32::try_from(out.len()).map_err(|_| FormatError::new(Reason::Unsupported, "raw copy: entry too large"))?;
    put32(out, CENTRAL_SIG);
    put16(out, 20); // version made by: MS-DOS, so no unix attributes
    put16(out, 20); // version needed
    put16(out, 0); // flags
    put16(out, entry.method.code());
    put16(out, modified.time);
    put16(out, modified.date);
    put32(out, entry.crc32);
    put32(out, csize);
    put32(out, size);
    put16(out, name.len() as u16);
    put16(out, 0); // extra length
    put16(out, 0); // comment length
    put16(out, 0); // disk
    put16(out, 0); // internal attributes
    put32(out, 0); // external attributes
    put32(out, 0); // local header offset
    out.extend_from_slice(name);
    let cd_size = CENTRAL_LEN as u32 + name.len() as u32;

    put32(out, EOCD_SIG);
    put16(out, 0);
    put16(out, 0);
    put16(out, 1);
    put16(out, 1);
    put32(out, cd_size);
    put32(out, cd_start);
    put16(out, 0);
    Ok(())
}

/// What the end records say about the central directory. Offsets are absolute in the input.
#[derive(Debug)]
struct End {
    entries: u64,
    cd_start: u64,
    cd_size: u64,
    /// How far the archive was shifted (bytes prepended without adjusting its offsets).
    archive_offset: u64,
    /// First byte after the end record and its comment.
    end: u64,
}

/// Reads the end of central directory record (and its zip64 form) by hand.
///
/// This runs before the zip crate sees the input because the zip crate parses (and allocates
/// for) the whole directory before it tells how many entries there are; a record claiming
/// millions of entries must be refused from its count alone. The checks mirror the zip crate's
/// own for the last record in the file, so that it accepts this record and never falls back to
/// an earlier candidate; `open` then verifies that it did not.
fn find_end(data: &[u8], max_entries: u64) -> Result<End, FormatError> {
    let len = data.len() as u64;
    let last = len.checked_sub(EOCD_LEN).ok_or_else(|| FormatError::malformed("too short to be a zip archive"))?;
    let lowest = last.saturating_sub(MAX_COMMENT);
    let pos = (lowest..=last)
        .rev()
        .find(|&p| {
            u32_at(data, p) == Some(EOCD_SIG)
                && u16_at(data, p + 20).is_some_and(|comment| p + EOCD_LEN + u64::from(comment) <= len)
        })
        .ok_or_else(|| FormatError::malformed("no end of central directory record"))?;
    let field16 = |off: u64| u16_at(data, pos + off).map(u64::from).unwrap_or(0);
    let field32 = |off: u64| u32_at(data, pos + off).map(u64::from).unwrap_or(0);
    let (disk, cd_disk, disk_entries, entries) = (field16(4), field16(6), field16(8), field16(10));
    let (cd_size, cd_offset, comment) = (field32(12), field32(16), field16(20));
    let end = pos + EOCD_LEN + comment;

    let may_be_zip64 = entries == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF;
    if !may_be_zip64 && (disk != 0 || cd_disk != 0 || disk_entries != entries) {
        return Err(FormatError::malformed("multi-disk archives are not supported"));
    }
    let Some(locator) = pos.checked_sub(LOCATOR_LEN).filter(|&l| u32_at(data, l) == Some(LOCATOR_SIG)) else {
        check_count(entries, max_entries)?;
        return directory(data, entries, cd_size, cd_offset, pos, end);
    };

    // Zip64: the locator sits right before the end record and the zip64 end record right before
    // the locator. An extensible data sector (only used by strong encryption) is not supported.
    // Some writers add these records to archives that do not need them; the directory then ends
    // at the zip64 record, and both records must tell the same.
    let bad64 = |what: &str| FormatError::malformed(format!("zip64 end record: {what}"));
    let rec = locator
        .checked_sub(EOCD64_LEN)
        .filter(|&r| u32_at(data, r) == Some(EOCD64_SIG))
        .ok_or_else(|| bad64("not found right before its locator"))?;
    let get64 = |off: u64| u64_at(data, rec + off).ok_or_else(|| bad64("truncated"));
    let get32 = |off: u64| u32_at(data, rec + off).ok_or_else(|| bad64("truncated"));
    let entries64 = get64(32)?;
    check_count(entries64, max_entries)?;
    if get64(4)? != EOCD64_LEN - 12 {
        return Err(bad64("unexpected record size"));
    }
    let locator_disk = u32_at(data, locator + 4).ok_or_else(|| bad64("truncated"))?;
    let declared_rec = u64_at(data, locator + 8).ok_or_else(|| bad64("truncated"))?;
    let disks = u32_at(data, locator + 16).ok_or_else(|| bad64("truncated"))?;
    if get32(16)? != 0 || get32(20)? != 0 || locator_disk != 0 || disks > 1 || get64(24)? != entries64 {
        return Err(FormatError::malformed("multi-disk archives are not supported"));
    }
    let (cd_size64, cd_offset64) = (get64(40)?, get64(48)?);
    let agrees = |classic: u64, saturated: u64, zip64: u64| classic == zip64 || classic == saturated;
    if !agrees(entries, 0xFFFF, entries64)
        || !agrees(cd_size, 0xFFFF_FFFF, cd_size64)
        || !agrees(cd_offset, 0xFFFF_FFFF, cd_offset64)
    {
        return Err(bad64("disagrees with the end of central directory record"));
    }
    let shift = rec.checked_sub(declared_rec).ok_or_else(|| bad64("declared position lies after the record"))?;
    let d = directory(data, entries64, cd_size64, cd_offset64, rec, end)?;
    if d.archive_offset != shift {
        return Err(bad64("central directory does not end where the record begins"));
    }
    Ok(d)
}

fn check_count(entries: u64, max_entries: u64) -> Result<(), FormatError> {
    if entries > max_entries {
        return Err(FormatError::new(
            Reason::LimitEntries,
            format!("the archive declares {entries} entries, limit {max_entries}"),
        ));
    }
    Ok(())
}

/// Places the central directory right before `directory_end` (the end record, or the zip64 end
/// record) and derives the archive offset from where it really is.
fn directory(
    data: &[u8],
    entries: u64,
    cd_size: u64,
    cd_offset: u64,
    directory_end: u64,
    end: u64,
) -> Result<End, FormatError> {
    let cd_start = directory_end
        .checked_sub(cd_size)
        .ok_or_else(|| FormatError::malformed("central directory larger than the file"))?;
    let archive_offset = cd_start
        .checked_sub(cd_offset)
        .ok_or_else(|| FormatError::malformed("central directory offset past its position"))?;
    if entries == 0 {
        if cd_size != 0 {
            return Err(FormatError::malformed("empty archive with a central directory"));
        }
    } else {
        // Every central header takes at least 46 bytes.
        if entries.saturating_mul(CENTRAL_LEN) > cd_size {
            return Err(FormatError::malformed("central directory too small for its entry count"));
        }
        if u32_at(data, cd_start) != Some(CENTRAL_SIG) {
            return Err(FormatError::malformed("no central directory right before the end record"));
        }
    }
    Ok(End { entries, cd_start, cd_size, archive_offset, end })
}

/// The fields of a local or central header that are compared; read by hand from the input.
#[derive(Debug)]
struct Header<'d> {
    flags: u16,
    method: u16,
    time: u16,
    date: u16,
    crc32: u32,
    compressed_size: u32,
    size: u32,
    name: &'d [u8],
    extra: &'d [u8],
    /// First byte after the header (the data for a local header, the next header for a central
    /// one).
    end: u64,
}

impl<'d> Header<'d> {
    /// Local and central headers share their layout from the flags on, the central one being
    /// shifted by two bytes (version made by) and longer (comment, disk, attributes, offset).
    fn parse(data: &'d [u8], at: u64, sig: u32, fixed: u64) -> Option<Header<'d>> {
        if u32_at(data, at)? != sig {
            return None;
        }
        let b = if sig == CENTRAL_SIG { at + 2 } else { at };
        let name_len = u64::from(u16_at(data, b + 26)?);
        let extra_len = u64::from(u16_at(data, b + 28)?);
        let comment_len = if sig == CENTRAL_SIG { u64::from(u16_at(data, b + 30)?) } else { 0 };
        let name_start = at.checked_add(fixed)?;
        let extra_start = name_start + name_len;
        let end = extra_start + extra_len + comment_len;
        Some(Header {
            flags: u16_at(data, b + 6)?,
            method: u16_at(data, b + 8)?,
            time: u16_at(data, b + 10)?,
            date: u16_at(data, b + 12)?,
            crc32: u32_at(data, b + 14)?,
            compressed_size: u32_at(data, b + 18)?,
            size: u32_at(data, b + 22)?,
            name: slice(data, name_start, name_len)?,
            extra: slice(data, extra_start, extra_len)?,
            end: if end <= data.len() as u64 {
                end
            } else {
                return None;
            },
        })
    }
}

/// Compares a local header with the central directory entry it belongs to.
fn check_local(entry: &Entry, central: &Header<'_>, local: &Header<'_>) -> Result<(), FormatError> {
    let inconsistent = |what: &str| {
        FormatError::new(
            Reason::InconsistentHeaders,
            format!("local header of {:?}: {what} differs from the central directory", entry.name),
        )
    };
    if local.flags & ENCRYPTION_FLAGS != 0
        || local.method == METHOD_AES
        || has_extra(local.extra, &[EXTRA_AES, EXTRA_STRONG_ENCRYPTION])
    {
        return Err(FormatError::new(Reason::Encrypted, format!("entry {:?} is encrypted", entry.name)));
    }
    if local.name != central.name {
        return Err(inconsistent("name"));
    }
    if local.method != central.method {
        return Err(inconsistent("compression method"));
    }
    if (local.flags ^ central.flags) & FLAG_DATA_DESCRIPTOR != 0 {
        return Err(inconsistent("data descriptor flag"));
    }
    if local.flags & FLAG_DATA_DESCRIPTOR != 0 {
        // Sizes and CRC-32 follow the data; the central directory has the real ones.
        return Ok(());
    }
    if local.crc32 != entry.crc32 {
        return Err(inconsistent("CRC-32"));
    }
    let (size, compressed_size) = if local.size == u32::MAX || local.compressed_size == u32::MAX {
        // A zip64 local header holds both sizes in its zip64 extra field.
        let field = find_extra(local.extra, EXTRA_ZIP64).ok_or_else(|| inconsistent("size"))?;
        match (u64_at(field, 0), u64_at(field, 8)) {
            (Some(size), Some(compressed)) => (size, compressed),
            _ => return Err(inconsistent("size")),
        }
    } else {
        (u64::from(local.size), u64::from(local.compressed_size))
    };
    if size != entry.size {
        return Err(inconsistent("uncompressed size"));
    }
    if compressed_size != entry.compressed_size {
        return Err(inconsistent("compressed size"));
    }
    Ok(())
}

/// Entries, from local header to end of data, must not share bytes with each other or with the
/// central directory.
fn check_overlaps(entries: &[Entry], cd_start: u64) -> Result<(), FormatError> {
    let mut spans: Vec<(u64, u64, &str)> = entries
        .iter()
        .map(|e| (e.header_start, e.data_start.saturating_add(e.compressed_size), e.name.as_str()))
        .collect();
    spans.sort_unstable();
    for pair in spans.windows(2) {
        if let [(_, end, a), (next, _, b)] = pair {
            if end > next {
                return Err(FormatError::new(Reason::OverlappingEntries, format!("entries {a:?} and {b:?} overlap")));
            }
        }
    }
    if let Some((_, _, name)) = spans.iter().find(|(_, end, _)| *end > cd_start) {
        return Err(FormatError::new(
            Reason::OverlappingEntries,
            format!("entry {name:?} overlaps the central directory"),
        ));
    }
    Ok(())
}

/// A name problem, before the name is attached to it.
struct NameError {
    reason: Reason,
    what: &'static str,
}

/// Checks an entry path of any archive as zip entry names are checked: relative, no `..` or `.`
/// segments, no empty segments, no backslashes, drive letters or control characters.
pub fn check_entry_name(name: &str) -> Result<(), FormatError> {
    check_name(name).map_err(|e| e.about(name))
}

impl NameError {
    fn about(self, name: &str) -> FormatError {
        FormatError::new(self.reason, format!("entry name {name:?}: {}", self.what))
    }
}

/// Entry names must be clean relative paths. Everything that could make two readers (or an
/// extractor) see a different path is refused with `PathTraversal`: `..` and `.` segments, empty
/// segments (`a//b`), absolute paths (`/x`, `C:`), backslashes, and control characters
/// (including NUL, which truncates names in C-based tools). An empty name is `Malformed`.
/// A trailing `/` marks a directory and is allowed.
fn check_name(name: &str) -> Result<(), NameError> {
    check_name_bytes(name.as_bytes())?;
    if name.chars().any(char::is_control) {
        return Err(NameError { reason: Reason::PathTraversal, what: "control character" });
    }
    Ok(())
}

/// The byte-level part of [`check_name`], also applied to stored names that are not UTF-8.
fn check_name_bytes(name: &[u8]) -> Result<(), NameError> {
    let traversal = |what| Err(NameError { reason: Reason::PathTraversal, what });
    if name.is_empty() {
        return Err(NameError { reason: Reason::Malformed, what: "empty name" });
    }
    if name.iter().any(|&b| b < 0x20 || b == 0x7F) {
        return traversal("control character");
    }
    if name.contains(&b'\\') {
        return traversal("backslash");
    }
    if name.first() == Some(&b'/') {
        return traversal("absolute path");
    }
    if let [drive, b':', ..] = name {
        if drive.is_ascii_alphabetic() {
            return traversal("drive letter");
        }
    }
    let segments: Vec<&[u8]> = name.split(|&b| b == b'/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            b".." => return traversal("parent directory segment"),
            b"." => return traversal("current directory segment"),
            b"" if i != last => return traversal("empty path segment"),
            _ => {}
        }
    }
    Ok(())
}

/// A stored entry name as text when it is UTF-8 or Shift_JIS (see [`Entry::name`]); `None`
/// leaves it to the zip crate's CP437 reading.
pub(crate) fn decode_name(raw: &[u8]) -> Option<String> {
    // Shift_JIS bytes hardly ever form valid UTF-8 by chance (its lead bytes 0x81-0x9F are UTF-8
    // continuation bytes), so valid UTF-8 is taken as such even without the flag.
    if let Ok(s) = std::str::from_utf8(raw) {
        return Some(s.to_owned());
    }
    encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(raw).map(|s| s.into_owned())
}

/// Iterates over well-formed extra fields, stopping at the first that does not fit (some writers
/// pad the local extra field with a few zero bytes).
fn extra_fields(mut extra: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let id = u16_at(extra, 0)?;
        let len = u64::from(u16_at(extra, 2)?);
        let body = slice(extra, 4, len)?;
        extra = extra.get(4 + body.len()..)?;
        Some((id, body))
    })
}

fn find_extra(extra: &[u8], id: u16) -> Option<&[u8]> {
    extra_fields(extra).find(|(i, _)| *i == id).map(|(_, b)| b)
}

fn has_extra(extra: &[u8], ids: &[u16]) -> bool {
    extra_fields(extra).any(|(id, _)| ids.contains(&id))
}

fn slice(data: &[u8], at: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(at).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    data.get(start..end)
}

fn u16_at(data: &[u8], at: u64) -> Option<u16> {
    let b: [u8; 2] = slice(data, at, 2)?.try_into().ok()?;
    Some(u16::from_le_bytes(b))
}

fn u32_at(data: &[u8], at: u64) -> Option<u32> {
    let b: [u8; 4] = slice(data, at, 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

fn u64_at(data: &[u8], at: u64) -> Option<u64> {
    let b: [u8; 8] = slice(data, at, 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Limits};
    use std::io::Write;
    use zip::ZipWriter;

    fn budget() -> Budget {
        Budget::new(&Config::default().limits)
    }

    fn budget_with(change: impl FnOnce(&mut Limits)) -> Budget {
        let mut limits = Config::default().limits;
        change(&mut limits);
        Budget::new(&limits)
    }

    fn reason<T: std::fmt::Debug>(result: Result<T, FormatError>) -> Reason {
        match result {
            Err(e) => e.reason,
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    fn open_reason(data: &[u8]) -> Reason {
        reason(ZipIndex::open(data, &budget()))
    }

    /// A zip written by the zip crate.
    fn build(files: &[(&str, &[u8], CompressionMethod)]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, method) in files {
            w.start_file(*name, deterministic_options().compression_method(*method)).expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("deflate");
        e.finish().expect("deflate")
    }

    /// One entry of a hand-assembled zip; the fields are written as they are, true or not.
    #[derive(Clone)]
    struct Raw {
        name: Vec<u8>,
        local_name: Option<Vec<u8>>,
        method: u16,
        local_method: Option<u16>,
        flags: u16,
        local_flags: Option<u16>,
        crc: u32,
        local_crc: Option<u32>,
        csize: u32,
        size: u32,
        data: Vec<u8>,
        /// Point the central entry at the local header of another entry.
        header_of: Option<usize>,
        /// Sizes written in the local header instead of the central ones.
        local_sizes: Option<(u32, u32)>,
        /// Bytes after the data (a data descriptor).
        trailer: Vec<u8>,
    }

    impl Raw {
        fn stored(name: &str, content: &[u8]) -> Raw {
            Raw {
                name: name.as_bytes().to_vec(),
                local_name: None,
                method: METHOD_STORED,
                local_method: None,
                flags: 0,
                local_flags: None,
                crc: crc32fast::hash(content),
                local_crc: None,
                csize: content.len() as u32,
                size: content.len() as u32,
                data: content.to_vec(),
                header_of: None,
                local_sizes: None,
                trailer: Vec::new(),
            }
        }

        fn deflated(name: &str, content: &[u8]) -> Raw {
            let data = deflate(content);
            Raw { method: METHOD_DEFLATED, csize: data.len() as u32, data, ..Raw::stored(name, content) }
        }
    }

    fn put16(out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    fn put32(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    fn put64(out: &mut Vec<u8>, v: u64) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    fn assemble(entries: &[Raw]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        for e in entries {
            offsets.push(out.len() as u32);
            let name = e.local_name.as_ref().unwrap_or(&e.name);
            put32(&mut out, LOCAL_SIG);
            put16(&mut out, 20);
            put16(&mut out, e.local_flags.unwrap_or(e.flags));
            put16(&mut out, e.local_method.unwrap_or(e.method));
            put16(&mut out, 0);
            put16(&mut out, DOS_DATE_1980);
            put32(&mut out, e.local_crc.unwrap_or(e.crc));
            let (csize, size) = e.local_sizes.unwrap_or((e.csize, e.size));
            put32(&mut out, csize);
            put32(&mut out, size);
            put16(&mut out, name.len() as u16);
            put16(&mut out, 0);
            out.extend_from_slice(name);
            out.extend_from_slice(&e.data);
            out.extend_from_slice(&e.trailer);
        }
        let cd_start = out.len() as u32;
        for (i, e) in entries.iter().enumerate() {
            put32(&mut out, CENTRAL_SIG);
            put16(&mut out, 20);
            put16(&mut out, 20);
            put16(&mut out, e.flags);
            put16(&mut out, e.method);
            put16(&mut out, 0);
            put16(&mut out, DOS_DATE_1980);
            put32(&mut out, e.crc);
            put32(&mut out, e.csize);
            put32(&mut out, e.size);
            put16(&mut out, e.name.len() as u16);
            put16(&mut out, 0);
            put16(&mut out, 0);
            put16(&mut out, 0);
            put16(&mut out, 0);
            put32(&mut out, 0);
            put32(&mut out, offsets[e.header_of.unwrap_or(i)]);
            out.extend_from_slice(&e.name);
        }
        let cd_size = out.len() as u32 - cd_start;
        put32(&mut out, EOCD_SIG);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, entries.len() as u16);
        put16(&mut out, entries.len() as u16);
        put32(&mut out, cd_size);
        put32(&mut out, cd_start);
        put16(&mut out, 0);
        out
    }

    /// Replaces the end record of a zip (without comment) by zip64 end records declaring
    /// `count` entries, with a saturated classic end record.
    fn to_zip64(zip: Vec<u8>, count: u64) -> Vec<u8> {
        with_zip64_records(zip, count, true)
    }

    /// Adds zip64 end records before the end record; `saturate` puts the zip64 markers in the
    /// classic record, otherwise it keeps its values (as streaming writers do).
    fn with_zip64_records(mut zip: Vec<u8>, count: u64, saturate: bool) -> Vec<u8> {
        let eocd = zip.len() - EOCD_LEN as usize;
        let cd_size = u64::from(u32_at(&zip, eocd as u64 + 12).expect("cd size"));
        let cd_offset = u64::from(u32_at(&zip, eocd as u64 + 16).expect("cd offset"));
        zip.truncate(eocd);
        let rec = zip.len() as u64;
        put32(&mut zip, EOCD64_SIG);
        put64(&mut zip, EOCD64_LEN - 12);
        put16(&mut zip, 45);
        put16(&mut zip, 45);
        put32(&mut zip, 0);
        put32(&mut zip, 0);
        put64(&mut zip, count);
        put64(&mut zip, count);
        put64(&mut zip, cd_size);
        put64(&mut zip, cd_offset);
        put32(&mut zip, LOCATOR_SIG);
        put32(&mut zip, 0);
        put64(&mut zip, rec);
        put32(&mut zip, 1);
        put32(&mut zip, EOCD_SIG);
        put16(&mut zip, 0);
        put16(&mut zip, 0);
        if saturate {
            put16(&mut zip, 0xFFFF);
            put16(&mut zip, 0xFFFF);
            put32(&mut zip, 0xFFFF_FFFF);
            put32(&mut zip, 0xFFFF_FFFF);
        } else {
            put16(&mut zip, count as u16);
            put16(&mut zip, count as u16);
            put32(&mut zip, cd_size as u32);
            put32(&mut zip, cd_offset as u32);
        }
        put16(&mut zip, 0);
        zip
    }

    fn text() -> Vec<u8> {
        b"<w:document><w:body><w:p>hello</w:p></w:body></w:document>\n".repeat(200)
    }

    fn compressed<'d>(index: &ZipIndex<'d>, e: &Entry) -> &'d [u8] {
        index.compressed(e).expect("in bounds")
    }

    #[test]
    fn valid_zip_reads_back_and_raw_copies_byte_identically() {
        let doc = text();
        let data = build(&[
            ("[Content_Types].xml", b"<Types/>", CompressionMethod::Stored),
            ("word/document.xml", &doc, CompressionMethod::Deflated),
            ("word/", b"", CompressionMethod::Stored),
        ]);
        let b = budget();
        let index = ZipIndex::open(&data, &b).expect("valid zip");
        assert!(!index.has_extra_bytes());
        assert_eq!(index.entries().len(), 3);
        let ct = index.find("[Content_Types].xml").expect("content types");
        assert_eq!(ct.method, Method::Stored);
        assert_eq!(index.read(ct, &b).expect("read"), b"<Types/>");
        let main = index.find_ci("WORD/Document.XML").expect("case-insensitive find");
        assert_eq!(main.method, Method::Deflated);
        assert!(main.compressed_size < main.size);
        assert_eq!(index.read(main, &b).expect("read"), doc);
        assert!(index.find("WORD/document.xml").is_none());
        assert!(index.find("word/").expect("dir").is_dir);

        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        index.raw_copy(ct, &mut w, None).expect("raw copy");
        index.raw_copy(main, &mut w, Some("word/renamed.xml")).expect("raw copy");
        let out = w.finish().expect("finish").into_inner();
        let copy = ZipIndex::open(&out, &b).expect("copy opens");
        let ct2 = copy.find("[Content_Types].xml").expect("copied");
        let main2 = copy.find("word/renamed.xml").expect("renamed");
        assert_eq!(compressed(&copy, ct2), compressed(&index, ct));
        assert_eq!(compressed(&copy, main2), compressed(&index, main));
        assert_eq!((main2.method, main2.crc32, main2.size), (main.method, main.crc32, main.size));
        assert_eq!(copy.read(main2, &b).expect("read copy"), doc);
    }

    #[test]
    fn raw_copy_drops_source_metadata() {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        let mut options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::from_date_and_time(2021, 6, 7, 8, 9, 10).expect("date"))
            .unix_permissions(0o4755)
            .into_full_options();
        options.add_extra_field(0x7A6D, b"hidden payload", false).expect("extra");
        let options = options.with_file_comment("a comment");
        w.start_file("media/image1.png", options).expect("start");
        w.write_all(&text()).expect("write");
        let data = w.finish().expect("finish").into_inner();
        assert!(data.windows(14).any(|w| w == b"hidden payload"));

        let b = budget();
        let index = ZipIndex::open(&data, &b).expect("opens");
        let entry = index.find("media/image1.png").expect("entry");
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        index.raw_copy(entry, &mut w, None).expect("raw copy");
        let out = w.finish().expect("finish").into_inner();
        let copy = ZipIndex::open(&out, &b).expect("copy opens");
        let e = copy.find("media/image1.png").expect("copied");
        assert_eq!(compressed(&copy, e), compressed(&index, entry));
        let local = Header::parse(&out, e.header_start, LOCAL_SIG, LOCAL_LEN).expect("local");
        assert!(local.extra.is_empty());
        assert_eq!(u16_at(&out, e.header_start + 12), Some(DOS_DATE_1980));
        let archive = zip::ZipArchive::new(Cursor::new(out.as_slice())).expect("zip");
        let f = archive.by_index_data(0).expect("entry");
        assert_eq!(f.external_attributes(), 0);
        assert_eq!(f.comment(), "");
        assert!(!out.windows(14).any(|w| w == b"hidden payload"));
    }

    #[test]
    fn raw_copy_refuses_unsafe_new_name() {
        let data = build(&[("a.xml", b"<a/>", CompressionMethod::Deflated)]);
        let index = ZipIndex::open(&data, &budget()).expect("opens");
        let entry = index.find("a.xml").expect("entry");
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        assert_eq!(reason(index.raw_copy(entry, &mut w, Some("../a.xml"))), Reason::PathTraversal);
    }

    #[test]
    fn deterministic_options_give_identical_bytes() {
        let doc = text();
        let files: &[(&str, &[u8], CompressionMethod)] =
            &[("a.xml", &doc, CompressionMethod::Deflated), ("b.bin", b"\x00\x01", CompressionMethod::Deflated)];
        let one = build(files);
        let two = build(files);
        assert_eq!(one, two);
        let index = ZipIndex::open(&one, &budget()).expect("opens");
        for e in index.entries() {
            assert_eq!(e.method, Method::Deflated);
            assert_eq!(u16_at(&one, e.header_start + 10), Some(0), "time");
            assert_eq!(u16_at(&one, e.header_start + 12), Some(DOS_DATE_1980), "date");
            assert_eq!(u16_at(&one, e.header_start + 28), Some(0), "no extra fields");
        }
        let archive = zip::ZipArchive::new(Cursor::new(one.as_slice())).expect("zip");
        for i in 0..archive.len() {
            let f = archive.by_index_data(i).expect("entry");
            assert_eq!(f.external_attributes(), 0);
            assert_eq!(f.unix_mode(), None);
        }
    }

    #[test]
    fn truncated_files_are_malformed() {
        let doc = text();
        let data = build(&[("a.xml", &doc, CompressionMethod::Deflated), ("b.xml", &doc, CompressionMethod::Stored)]);
        assert_eq!(open_reason(&data[..data.len() / 2]), Reason::Malformed);
        assert_eq!(open_reason(&data[..data.len() - 1]), Reason::Malformed);
        assert_eq!(open_reason(&data[10..]), Reason::Malformed);
        assert_eq!(open_reason(&data[..10]), Reason::Malformed);
        assert_eq!(open_reason(b""), Reason::Malformed);
        // The end record intact but the directory cut short.
        let eocd = &data[data.len() - EOCD_LEN as usize..];
        assert_eq!(open_reason(eocd), Reason::Malformed);
    }

    #[test]
    fn traversal_names_are_refused() {
        for name in [
            "../evil",
            "a/../../evil",
            "a/..",
            "/abs",
            "//server/share",
            "\\abs",
            "a\\b",
            "C:/x",
            "c:x",
            "a\0b",
            "a\nb",
            "a\u{7f}b",
            "a\u{85}b",
            "./a",
            "a//b",
        ] {
            let data = assemble(&[Raw::stored(name, b"x")]);
            assert_eq!(open_reason(&data), Reason::PathTraversal, "{name:?}");
        }
        assert_eq!(open_reason(&assemble(&[Raw::stored("", b"x")])), Reason::Malformed);
        let fine = ["a", "dir/", "dir/b.xml", "[Content_Types].xml", "a..b", "x/.rels", "d/é.xml"];
        let entries: Vec<Raw> = fine.iter().map(|n| Raw::stored(n, b"")).collect();
        let data = assemble(&entries);
        let index = ZipIndex::open(&data, &budget()).expect("clean names");
        assert_eq!(index.entries().len(), fine.len());
    }

    #[test]
    fn duplicate_names_are_refused() {
        let exact = assemble(&[Raw::stored("a.xml", b"1"), Raw::stored("a.xml", b"2")]);
        assert_eq!(open_reason(&exact), Reason::DuplicateEntry);
        let case = assemble(&[Raw::stored("Word/A.xml", b"1"), Raw::stored("word/a.XML", b"2")]);
        assert_eq!(open_reason(&case), Reason::DuplicateEntry);
        let dir = assemble(&[Raw::stored("a", b"1"), Raw::stored("A/", b"")]);
        assert_eq!(open_reason(&dir), Reason::DuplicateEntry);
    }

    #[test]
    fn encrypted_entries_are_refused() {
        let e = Raw { flags: FLAG_ENCRYPTED, ..Raw::stored("a.xml", b"secret") };
        assert_eq!(open_reason(&assemble(&[e])), Reason::Encrypted);
        let e = Raw { method: METHOD_AES, local_method: Some(METHOD_AES), ..Raw::stored("a.xml", b"x") };
        assert_eq!(open_reason(&assemble(&[e])), Reason::Encrypted);
        let e = Raw { local_flags: Some(FLAG_ENCRYPTED), ..Raw::stored("a.xml", b"secret") };
        assert_eq!(open_reason(&assemble(&[e])), Reason::Encrypted);
    }

    #[test]
    fn unsupported_compression_is_refused() {
        for method in [1u16, 6, 9, 12, 14, 93, 95] {
            let e = Raw { method, local_method: Some(method), ..Raw::stored("a.xml", b"x") };
            assert_eq!(open_reason(&assemble(&[e])), Reason::UnsupportedCompression, "method {method}");
        }
    }

    #[test]
    fn local_headers_must_match_the_directory() {
        let e = Raw { local_name: Some(b"b.xml".to_vec()), ..Raw::stored("a.xml", b"x") };
        assert_eq!(open_reason(&assemble(&[e])), Reason::InconsistentHeaders);
        let e = Raw { local_method: Some(METHOD_DEFLATED), ..Raw::stored("a.xml", b"x") };
        assert_eq!(open_reason(&assemble(&[e])), Reason::InconsistentHeaders);
        let e = Raw { local_crc: Some(1), ..Raw::stored("a.xml", b"x") };
        assert_eq!(open_reason(&assemble(&[e])), Reason::InconsistentHeaders);
        let e = Raw { local_sizes: Some((1, 2)), ..Raw::stored("a.xml", b"x") };
        assert_eq!(open_reason(&assemble(&[e])), Reason::InconsistentHeaders);
        let e = Raw { local_flags: Some(FLAG_DATA_DESCRIPTOR), ..Raw::stored("a.xml", b"x") };
        assert_eq!(open_reason(&assemble(&[e])), Reason::InconsistentHeaders);
        // With a data descriptor on both sides the local sizes and CRC-32 are not compared.
        let e = Raw { flags: FLAG_DATA_DESCRIPTOR, local_crc: Some(0), ..Raw::stored("a.xml", b"x") };
        let data = assemble(&[e]);
        let index = ZipIndex::open(&data, &budget()).expect("opens");
        assert_eq!(index.read(&index.entries()[0], &budget()).expect("reads"), b"x");
    }

    #[test]
    fn shared_local_header_is_overlap() {
        let a = Raw::stored("a.xml", b"aaaa");
        let b = Raw { header_of: Some(0), ..Raw::stored("b.xml", b"aaaa") };
        assert_eq!(open_reason(&assemble(&[a, b])), Reason::OverlappingEntries);
    }

    #[test]
    fn entry_running_into_the_directory_is_overlap() {
        let mut e = Raw::stored("a.xml", b"aaaa");
        e.csize = 20;
        e.size = 20;
        assert_eq!(open_reason(&assemble(&[e])), Reason::OverlappingEntries);
    }

    #[test]
    fn out_of_bounds_entries_are_malformed() {
        let mut e = Raw::stored("a.xml", b"aaaa");
        e.csize = 1_000_000;
        e.size = 1_000_000;
        assert_eq!(open_reason(&assemble(&[e])), Reason::Malformed);
        // A local header offset beyond the file.
        let mut data = assemble(&[Raw::stored("a.xml", b"aaaa")]);
        let cd = data.len() - EOCD_LEN as usize - (CENTRAL_LEN as usize + 5);
        data[cd + 42..cd + 46].copy_from_slice(&900_000u32.to_le_bytes());
        assert_eq!(open_reason(&data), Reason::Malformed);
    }

    #[test]
    fn corrupted_crc_fails_on_read() {
        let e = Raw { crc: 0xDEAD_BEEF, ..Raw::stored("a.xml", b"hello") };
        let data = assemble(&[e]);
        let b = budget();
        let index = ZipIndex::open(&data, &b).expect("opens");
        assert_eq!(reason(index.read(&index.entries()[0], &b)), Reason::Malformed);

        let mut e = Raw::deflated("b.xml", &text());
        e.data[10] ^= 0x55;
        let data = assemble(&[e]);
        let index = ZipIndex::open(&data, &b).expect("opens");
        assert_eq!(reason(index.read(&index.entries()[0], &b)), Reason::Malformed);
    }

    #[test]
    fn declared_size_must_match_the_data() {
        let content = text();
        let b = budget();
        let smaller = Raw { size: content.len() as u32 / 2, ..Raw::deflated("a.xml", &content) };
        let data = assemble(&[smaller]);
        let index = ZipIndex::open(&data, &b).expect("opens");
        assert_eq!(reason(index.read(&index.entries()[0], &b)), Reason::Malformed);

        let larger = Raw { size: content.len() as u32 + 1, ..Raw::deflated("a.xml", &content) };
        let data = assemble(&[larger]);
        let index = ZipIndex::open(&data, &b).expect("opens");
        assert_eq!(reason(index.read(&index.entries()[0], &b)), Reason::Malformed);

        let stored = Raw { size: 3, ..Raw::stored("a.xml", b"hello") };
        assert_eq!(open_reason(&assemble(&[stored])), Reason::Malformed);
    }

    #[test]
    fn bytes_after_the_deflate_stream_are_malformed() {
        let mut e = Raw::deflated("a.xml", &text());
        e.data.extend_from_slice(b"smuggled");
        e.csize = e.data.len() as u32;
        let data = assemble(&[e]);
        let b = budget();
        let index = ZipIndex::open(&data, &b).expect("opens");
        assert_eq!(reason(index.read(&index.entries()[0], &b)), Reason::Malformed);
    }

    #[test]
    fn entry_counts_are_limited_before_parsing() {
        // An end record claiming 0xFFFF entries over a one-entry directory.
        let mut data = assemble(&[Raw::stored("a.xml", b"x")]);
        let eocd = data.len() - EOCD_LEN as usize;
        data[eocd + 8..eocd + 12].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(open_reason(&data), Reason::LimitEntries);

        // A zip64 end record claiming a billion entries.
        let data = to_zip64(assemble(&[Raw::stored("a.xml", b"x")]), 1_000_000_000);
        assert_eq!(open_reason(&data), Reason::LimitEntries);

        // More entries than max_entries.
        let data = assemble(&[Raw::stored("a", b""), Raw::stored("b", b""), Raw::stored("c", b"")]);
        assert_eq!(reason(ZipIndex::open(&data, &budget_with(|l| l.max_entries = 2))), Reason::LimitEntries);

        // Entries are charged to the shared budget.
        let b = budget_with(|l| l.max_entries = 4);
        ZipIndex::open(&data, &b).expect("three of four");
        assert_eq!(reason(ZipIndex::open(&data, &b)), Reason::LimitEntries);
    }

    #[test]
    fn zip64_end_records_are_read() {
        let content = text();
        let data = to_zip64(assemble(&[Raw::stored("a.xml", b"x"), Raw::deflated("b.xml", &content)]), 2);
        let b = budget();
        let index = ZipIndex::open(&data, &b).expect("zip64 opens");
        assert_eq!(index.entries().len(), 2);
        assert_eq!(index.read(index.find("b.xml").expect("b"), &b).expect("read"), content);
        // A count that disagrees with the directory.
        let two = assemble(&[Raw::stored("a.xml", b"x"), Raw::stored("b.xml", b"y")]);
        assert_eq!(open_reason(&to_zip64(two.clone(), 1)), Reason::Malformed);

        // Zip64 records that an archive does not need, as streaming writers add them.
        let data = with_zip64_records(two.clone(), 2, false);
        let index = ZipIndex::open(&data, &b).expect("opens");
        assert_eq!(index.read(index.find("b.xml").expect("b"), &b).expect("read"), b"y");
        assert!(!index.has_extra_bytes());
        // ... where the zip64 record must tell the same as the classic one.
        let mut data = with_zip64_records(two, 2, false);
        let eocd = data.len() - EOCD_LEN as usize;
        data[eocd + 8..eocd + 12].copy_from_slice(&[1, 0, 1, 0]);
        assert_eq!(open_reason(&data), Reason::Malformed);
    }

    #[test]
    fn zip64_local_headers_are_compared() {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("big.xml", deterministic_options().large_file(true)).expect("start");
        w.write_all(&text()).expect("write");
        let data = w.finish().expect("finish").into_inner();
        assert_eq!(u32_at(&data, 18), Some(u32::MAX), "local sizes are in the zip64 extra field");
        let b = budget();
        let index = ZipIndex::open(&data, &b).expect("opens");
        assert_eq!(index.read(&index.entries()[0], &b).expect("read"), text());

        // The same with a wrong size in the local zip64 field.
        let mut bad = data.clone();
        let extra = LOCAL_LEN as usize + "big.xml".len();
        assert_eq!(u16_at(&bad, extra as u64), Some(EXTRA_ZIP64));
        bad[extra + 4] ^= 1;
        assert_eq!(open_reason(&bad), Reason::InconsistentHeaders);
    }

    #[test]
    fn data_descriptors_are_accepted() {
        let content = text();
        let mut a = Raw::deflated("a.xml", &content);
        let mut b = Raw::stored("b.xml", b"<b/>");
        for e in [&mut a, &mut b] {
            e.flags = FLAG_DATA_DESCRIPTOR;
            e.local_crc = Some(0);
            e.local_sizes = Some((0, 0));
            let mut descriptor = Vec::new();
            put32(&mut descriptor, 0x0807_4b50);
            put32(&mut descriptor, e.crc);
            put32(&mut descriptor, e.csize);
            put32(&mut descriptor, e.size);
            e.trailer = descriptor;
        }
        let data = assemble(&[a, b]);
        let budget = budget();
        let index = ZipIndex::open(&data, &budget).expect("opens");
        assert_eq!(index.read(index.find("a.xml").expect("a"), &budget).expect("read"), content);
        assert_eq!(index.read(index.find("b.xml").expect("b"), &budget).expect("read"), b"<b/>");
    }

    #[test]
    fn ratio_bomb_is_refused() {
        let zeros = vec![0u8; 20 * 1024 * 1024];
        let data = build(&[("bomb.bin", &zeros, CompressionMethod::Deflated)]);
        assert_eq!(open_reason(&data), Reason::LimitRatio);
        // Small, highly compressible entries are normal.
        let data = build(&[("small.xml", &zeros[..512 * 1024], CompressionMethod::Deflated)]);
        ZipIndex::open(&data, &budget()).expect("small entry passes");
    }

    #[test]
    fn total_bytes_are_limited() {
        let content = vec![b'a'; 2000];
        let data = assemble(&[Raw::stored("a.bin", &content)]);
        assert_eq!(reason(ZipIndex::open(&data, &budget_with(|l| l.max_total_bytes = 1000))), Reason::LimitTotalBytes);

        let data = assemble(&[Raw::stored("a.bin", &content[..600]), Raw::stored("b.bin", &content[..600])]);
        let b = budget_with(|l| l.max_total_bytes = 1000);
        let index = ZipIndex::open(&data, &budget()).expect("opens");
        index.read(&index.entries()[0], &b).expect("first fits");
        assert_eq!(reason(index.read(&index.entries()[1], &b)), Reason::LimitTotalBytes);
    }

    #[test]
    fn prepended_and_appended_bytes_are_noted() {
        let zip = build(&[("a.xml", b"<a/>", CompressionMethod::Deflated)]);
        let mut prefixed = b"#!/bin/sh\nexit 0\n".to_vec();
        prefixed.extend_from_slice(&zip);
        let b = budget();
        let index = ZipIndex::open(&prefixed, &b).expect("prefixed opens");
        assert!(index.has_extra_bytes());
        assert_eq!(index.read(&index.entries()[0], &b).expect("read"), b"<a/>");

        let mut suffixed = zip.clone();
        suffixed.extend_from_slice(b"appended payload");
        let index = ZipIndex::open(&suffixed, &b).expect("suffixed opens");
        assert!(index.has_extra_bytes());
        assert_eq!(index.read(&index.entries()[0], &b).expect("read"), b"<a/>");
    }

    #[test]
    fn foreign_entries_are_refused() {
        let data = build(&[("a.xml", b"<a/>", CompressionMethod::Stored)]);
        let b = budget();
        let index = ZipIndex::open(&data, &b).expect("opens");
        let mut forged = index.entries()[0].clone();
        forged.data_start = 0;
        forged.compressed_size = data.len() as u64;
        assert_eq!(reason(index.read(&forged, &b)), Reason::Malformed);
    }

    #[test]
    fn empty_archive_opens() {
        let data = build(&[]);
        let index = ZipIndex::open(&data, &budget()).expect("empty zip");
        assert!(index.entries().is_empty());
        assert!(!index.has_extra_bytes());
    }

    #[test]
    fn entries_read_in_parallel() {
        fn assert_sync<T: Sync>(_: &T) {}
        let doc = text();
        let names: Vec<String> = (0..16).map(|i| format!("part{i}.xml")).collect();
        let files: Vec<(&str, &[u8], CompressionMethod)> =
            names.iter().map(|n| (n.as_str(), doc.as_slice(), CompressionMethod::Deflated)).collect();
        let data = build(&files);
        let b = budget();
        let index = ZipIndex::open(&data, &b).expect("opens");
        assert_sync(&index);
        use rayon::prelude::*;
        let all: Vec<Vec<u8>> =
            index.entries().par_iter().map(|e| index.read(e, &b)).collect::<Result<_, _>>().expect("reads");
        assert!(all.iter().all(|d| *d == doc));
    }
}
