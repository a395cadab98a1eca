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
    /// The name as the zip crate decodes it (UTF-8, or CP437 for names that are not UTF-8).
    pub name: String,
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

/// A zip archive whose directory has been checked; entries are read on demand.
pub struct ZipIndex<'a> {
    data: &'a [u8],
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    by_lower_name: HashMap<String, usize>,
    extra_bytes: bool,
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

            let name =
                file.name().map_err(|e| FormatError::malformed(format!("entry {index} name: {e}")))?.into_owned();
            if central.flags & FLAG_UTF8 != 0 && std::str::from_utf8(central.name).is_err() {
                return Err(FormatError::malformed(format!("entry name {name:?} is flagged UTF-8 but is not")));
            }
            check_name(&name).map_err(|e| e.about(&name))?;
            // A Unicode path extra field replaces the stored name; readers that ignore the field
            // see the stored one, so both must be clean.
            if file.name_raw() != central.name {
                check_name_bytes(central.name).map_err(|e| e.about(&name))?;
            }
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
        Ok(ZipIndex { data, entries, by_name, by_lower_name, extra_bytes })
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
        let raw = self.compressed(entry)?;
        budget.charge_bytes(entry.size)?;
        let size = usize::try_from(entry.size).map_err(|_| too_large(entry))?;
        let mut out = Vec::new();
        out.try_reserve_exact(size).map_err(|_| too_large(entry))?;

        match entry.method {
            Method::Stored => out.extend_from_slice(raw),
            Method::Deflated => inflate(entry, raw, size, &mut out, budget)?,
        }
        if out.len() != size {
            return Err(FormatError::malformed(format!(
                "entry {:?} holds {} bytes, {} declared",
                entry.name,
                out.len(),
                size
            )));
        }
        if crc32fast::hash(&out) != entry.crc32 {
            return Err(FormatError::malformed(format!("entry {:?} fails its CRC-32 check", entry.name)));
        }
        Ok(out)
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
        let entry = self.own(entry)?;
        let name = new_name.unwrap_or(&entry.name);
        check_name(name).map_err(|e| e.about(name))?;
        let raw = self.compressed(entry)?;
        // The zip writer copies raw entries only out of another archive, and takes everything
        // else along with them; so the entry is first put alone into a minimal archive that
        // holds nothing but its bytes.
        let bare = bare_archive(entry, raw)?;
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

fn inflate(entry: &Entry, raw: &[u8], size: usize, out: &mut Vec<u8>, budget: &Budget) -> Result<(), FormatError> {
    let mut decoder = flate2::read::DeflateDecoder::new(raw);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut since_check = 0usize;
    loop {
        let n = decoder.read(&mut chunk).map_err(|e| FormatError::malformed(format!("entry {:?}: {e}", entry.name)))?;
        if n == 0 {
            break;
        }
        if out.len() + n > size {
            return Err(FormatError::malformed(format!(
                "entry {:?} inflates past its declared {} bytes",
                entry.name, size
            )));
        }
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
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
fn bare_archive(entry: &Entry, raw: &[u8]) -> Result<Vec<u8>, FormatError> {
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
    let mut out = Vec::with_capacity(raw.len() + 128);
    let put16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let put32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());

    put32(&mut out, LOCAL_SIG);
    put16(&mut out, 20); // version needed
    put16(&mut out, 0); // flags
    put16(&mut out, entry.method.code());
    put16(&mut out, 0); // time
    put16(&mut out, DOS_DATE_1980);
    put32(&mut out, entry.crc32);
    put32(&mut out, csize);
    put32(&mut out, size);
    put16(&mut out, name.len() as u16);
    put16(&mut out, 0); // extra length
    out.extend_from_slice(name);
    out.extend_from_slice(raw);

    let cd_start =
        u32::try_from(out.len()).map_err(|_| FormatError::new(Reason::Unsupported, "raw copy: entry too large"))?;
    put32(&mut out, CENTRAL_SIG);
    put16(&mut out, 20); // version made by: MS-DOS, so no unix attributes
    put16(&mut out, 20); // version needed
    put16(&mut out, 0); // flags
    put16(&mut out, entry.method.code());
    put16(&mut out, 0); // time
    put16(&mut out, DOS_DATE_1980);
    put32(&mut out, entry.crc32);
    put32(&mut out, csize);
    put32(&mut out, size);
    put16(&mut out, name.len() as u16);
    put16(&mut out, 0); // extra length
    put16(&mut out, 0); // comment length
    put16(&mut out, 0); // disk
    put16(&mut out, 0); // internal attributes
    put32(&mut out, 0); // external attributes
    put32(&mut out, 0); // local header offset
    out.extend_from_slice(name);
    let cd_size = CENTRAL_LEN as u32 + name.len() as u32;

    put32(&mut out, EOCD_SIG);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, 1);
    put16(&mut out, 1);
    put32(&mut out, cd_size);
    put32(&mut out, cd_start);
    put16(&mut out, 0);
    Ok(out)
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

