//! Packed and compressed archive samples: gzip, tar, 7z and LHA, each built by the functions
//! here, benign and hostile.
//!
//! gzip and tar are written with `flate2` and the `tar` crate (raw header fields where a hostile
//! sample needs what the crate refuses to write, such as a `../` name); the 7z holding a
//! document with `sevenz-rust2`'s pure-Rust writer. The encrypted 7z archives (content, and
//! header) and the one declaring a 4 GiB dictionary are written field by field
//! ([`seven_zip_single_coder`]): the crate is built without encryption, and no writer declares a
//! dictionary it does not use. LHA archives are
//! written by [`lzh_level2`], a small level-2 header writer with stored (`-lh0-`) data and CRC-16:
//! no crate writes LHA.
//!
//! [`all`] lists them with the outcome the engine must reach under the default configuration;
//! `examples/gen_samples.rs` writes them to `samples/packed/` with `EXPECTED.tsv`. The payloads
//! are inert: the macro shows a message box, the "program" is a PE header without code.

use super::package::ct;
use super::{hostile, word, Expected, Sample};
use crate::model::{ActionKind, Reason};
use ::tar::{Builder, EntryType, Header};
use flate2::{Compression, GzBuilder};
use std::io::Write;

/// The modification time of every sample entry: 2023-11-14 22:13:20 UTC.
pub const MTIME: u64 = 1_700_000_000;

/// The text file of the samples.
pub const NOTES: &[u8] = "Ward meeting notes\n病棟会議の議事録\nNext meeting: Tuesday\n".as_bytes();

/// The name (Shift_JIS in the LHA sample) of the document in the LHA and 7z samples: 表 ends in
/// the byte 0x5C, the MS-DOS path separator.
pub const JA_FOLDER: &str = "資料";
pub const JA_DOCUMENT: &str = "報告書_表.docm";

/// A Word document with a VBA project.
pub fn docm() -> Vec<u8> {
    word::vba(ct::DOCM_MAIN)
}

/// One entry of a tar sample.
pub enum TarItem<'a> {
    File(&'a str, &'a [u8]),
    /// A file with the given mode (setuid, executable bits).
    FileMode(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    CharDevice(&'a str),
    Fifo(&'a str),
    /// A file whose name is written into the header as it is, unchecked (`../x`).
    RawName(&'a [u8], &'a [u8]),
}

fn tar_header(kind: EntryType, size: u64, mode: u32) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(MTIME);
    h.set_uid(1000);
    h.set_gid(1000);
    // Owner names the rebuilt archive must not carry.
    let _ = h.set_username("nurse");
    let _ = h.set_groupname("ward");
    h
}

/// A GNU tar archive of the items, in order (long names as GNU long-name entries).
pub fn tar(items: &[TarItem<'_>]) -> Vec<u8> {
    let mut b = Builder::new(Vec::new());
    for item in items {
        let r = match *item {
            TarItem::File(path, data) => {
                b.append_data(&mut tar_header(EntryType::Regular, data.len() as u64, 0o644), path, data)
            }
            TarItem::FileMode(path, data, mode) => {
                b.append_data(&mut tar_header(EntryType::Regular, data.len() as u64, mode), path, data)
            }
            TarItem::Dir(path) => b.append_data(&mut tar_header(EntryType::Directory, 0, 0o755), path, &[][..]),
            TarItem::Symlink(path, target) => {
                b.append_link(&mut tar_header(EntryType::Symlink, 0, 0o777), path, target)
            }
            TarItem::HardLink(path, target) => b.append_link(&mut tar_header(EntryType::Link, 0, 0o644), path, target),
            TarItem::CharDevice(path) => {
                let mut h = tar_header(EntryType::Char, 0, 0o600);
                let _ = h.set_device_major(1);
                let _ = h.set_device_minor(3);
                b.append_data(&mut h, path, &[][..])
            }
            TarItem::Fifo(path) => b.append_data(&mut tar_header(EntryType::Fifo, 0, 0o600), path, &[][..]),
            TarItem::RawName(name, data) => {
                let mut h = tar_header(EntryType::Regular, data.len() as u64, 0o644);
                let field = &mut h.as_old_mut().name;
                let n = name.len().min(field.len());
                field[..n].copy_from_slice(&name[..n]);
                h.set_cksum();
                b.append(&h, data)
            }
        };
        r.expect("tar sample");
    }
    b.into_inner().expect("tar sample")
}

/// One gzip member; `name` goes into FNAME.
pub fn gzip(name: Option<&str>, content: &[u8]) -> Vec<u8> {
    let mut builder = GzBuilder::new().mtime(MTIME as u32).operating_system(3);
    if let Some(n) = name {
        builder = builder.filename(n);
    }
    let mut w = builder.write(Vec::new(), Compression::default());
    w.write_all(content).expect("gzip sample");
    w.finish().expect("gzip sample")
}

/// A gzip bomb: `expanded` zero bytes in one member, whose trailer claims 1000 bytes (the
/// reader must not believe it).
pub fn gzip_bomb(expanded: usize) -> Vec<u8> {
    let mut w = GzBuilder::new().mtime(MTIME as u32).write(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 16];
    let mut left = expanded;
    while left > 0 {
        let n = left.min(zeros.len());
        w.write_all(&zeros[..n]).expect("gzip sample");
        left -= n;
    }
    let mut gz = w.finish().expect("gzip sample");
    let len = gz.len();
    gz[len - 4..].copy_from_slice(&1000u32.to_le_bytes());
    gz
}

/// A .tar.gz of a docm and a text file, as `tar czf` writes it (no name in the gzip header).
pub fn tar_gz_docm() -> Vec<u8> {
    let docm = docm();
    let t = tar(&[
        TarItem::Dir("minutes/"),
        TarItem::FileMode("minutes/notes.txt", NOTES, 0o4755),
        TarItem::File("minutes/report.docm", &docm),
    ]);
    gzip(None, &t)
}

/// A benign tar: a folder, a text file, a document, and a name too long for ustar fields.
pub fn benign_tar() -> Vec<u8> {
    let long = format!("minutes/{}.txt", "very_long_file_name_of_the_ward_meeting_minutes_".repeat(3));
    tar(&[
        TarItem::Dir("minutes/"),
        TarItem::File("minutes/notes.txt", NOTES),
        TarItem::File(&long, NOTES),
        TarItem::File("minutes/報告.txt", NOTES),
    ])
}

/// A tar whose links, device and pipe must be left out.
pub fn special_entries_tar() -> Vec<u8> {
    tar(&[
        TarItem::File("notes.txt", NOTES),
        TarItem::Symlink("passwd", "/etc/passwd"),
        TarItem::HardLink("notes_again.txt", "notes.txt"),
        TarItem::CharDevice("null"),
        TarItem::Fifo("pipe"),
    ])
}

/// A tar with an entry that climbs out of the extraction folder, next to a symbolic link.
pub fn path_traversal_tar() -> Vec<u8> {
    tar(&[
        TarItem::File("notes.txt", NOTES),
        TarItem::Symlink("up", ".."),
        TarItem::RawName(b"../../home/user/.bashrc", b"echo pwned\n"),
    ])
}

/// A .tgz with a program among documents.
pub fn tgz_with_program() -> Vec<u8> {
    let exe = hostile::executable();
    gzip(Some("bundle.tar"), &tar(&[TarItem::File("notes.txt", NOTES), TarItem::File("setup.exe", &exe)]))
}

/// A 7z archive of a folder with the docm, and a text file, in one solid block (LZMA2).
pub fn seven_zip_docm() -> Vec<u8> {
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter, NtTime, SourceReader};
    let docm = docm();
    let dated = |mut e: ArchiveEntry| {
        e.has_last_modified_date = true;
        e.last_modified_date = NtTime::from(116_444_736_000_000_000 + MTIME * 10_000_000);
        e
    };
    let mut w = ArchiveWriter::new(std::io::Cursor::new(Vec::new())).expect("7z sample");
    w.push_archive_entry::<&[u8]>(dated(ArchiveEntry::new_directory(JA_FOLDER)), None).expect("7z sample");
    let doc_name = format!("{JA_FOLDER}/{JA_DOCUMENT}");
    let entries = vec![dated(ArchiveEntry::new_file(&doc_name)), dated(ArchiveEntry::new_file("notes.txt"))];
    w.push_archive_entries(entries, vec![SourceReader::new(&docm[..]), SourceReader::new(NOTES)]).expect("7z sample");
    w.finish().expect("7z sample").into_inner()
}

/// [`seven_zip_docm`] encrypted with AES-256 under `password` (as 7-Zip does with `-p`), and
/// with its header encrypted too when `encrypt_header` (7-Zip's `-mhe=on`, which hides the
/// names).
pub fn seven_zip_aes(password: &str, encrypt_header: bool) -> Vec<u8> {
    use sevenz_rust2::encoder_options::AesEncoderOptions;
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter, EncoderMethod, Password, SourceReader};
    let docm = docm();
    let mut w = ArchiveWriter::new(std::io::Cursor::new(Vec::new())).expect("7z sample");
    w.set_content_methods(vec![AesEncoderOptions::new(Password::new(password)).into(), EncoderMethod::LZMA2.into()]);
    w.set_encrypt_header(encrypt_header);
    let doc_name = format!("{JA_FOLDER}/{JA_DOCUMENT}");
    let entries = vec![ArchiveEntry::new_file(&doc_name), ArchiveEntry::new_file("notes.txt")];
    w.push_archive_entries(entries, vec![SourceReader::new(&docm[..]), SourceReader::new(NOTES)]).expect("7z sample");
    w.finish().expect("7z sample").into_inner()
}

/// The 7z variable-length number.
fn sz_number(v: u64, out: &mut Vec<u8>) {
    for n in 0..8u32 {
        if v < 1u64 << (7 * (n + 1)) {
            let high = (v >> (8 * n)) as u8;
            out.push((0xFFu16 << (8 - n)) as u8 | high);
            out.extend_from_slice(&v.to_le_bytes()[..n as usize]);
            return;
        }
    }
    out.push(0xFF);
    out.extend_from_slice(&v.to_le_bytes());
}

/// The streams information of one packed stream in one folder with one coder (`method` with
/// `props`), declared to expand to `unpack_size` bytes, with its closing `kEnd`.
fn sz_streams_info(method: &[u8], props: &[u8], packed_len: u64, unpack_size: u64) -> Vec<u8> {
    let mut h = vec![0x06]; // PackInfo
    sz_number(0, &mut h); // pack position
    sz_number(1, &mut h); // one packed stream
    h.push(0x09); // sizes
    sz_number(packed_len, &mut h);
    h.extend_from_slice(&[0x00, 0x07, 0x0B]); // end PackInfo, UnpackInfo, Folder
    sz_number(1, &mut h); // one folder
    h.push(0x00); // not external
    sz_number(1, &mut h); // one coder
    h.push(method.len() as u8 | if props.is_empty() { 0 } else { 0x20 });
    h.extend_from_slice(method);
    if !props.is_empty() {
        sz_number(props.len() as u64, &mut h);
        h.extend_from_slice(props);
    }
    h.push(0x0C); // unpack sizes
    sz_number(unpack_size, &mut h);
    h.push(0x00); // end UnpackInfo
    h.extend_from_slice(&[0x08, 0x00]); // SubStreamsInfo: one stream per folder
    h.push(0x00); // end of the streams information
    h
}

/// A 7z archive: start header, `packed`, then the (next) `header`.
fn sz_archive(packed: &[u8], header: &[u8]) -> Vec<u8> {
    let mut start = Vec::with_capacity(20);
    start.extend_from_slice(&(packed.len() as u64).to_le_bytes());
    start.extend_from_slice(&(header.len() as u64).to_le_bytes());
    start.extend_from_slice(&crc32fast::hash(header).to_le_bytes());
    let mut out = vec![0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0, 4];
    out.extend_from_slice(&crc32fast::hash(&start).to_le_bytes());
    out.extend_from_slice(&start);
    out.extend_from_slice(packed);
    out.extend_from_slice(header);
    out
}

/// A 7z archive of one file `name` whose single block has one coder (`method` with `props`)
/// over `packed`, declared to expand to `unpack_size` bytes; header not compressed.
pub fn seven_zip_single_coder(method: &[u8], props: &[u8], packed: &[u8], unpack_size: u64, name: &str) -> Vec<u8> {
    let mut h = vec![0x01, 0x04]; // Header, MainStreamsInfo
    h.extend(sz_streams_info(method, props, packed.len() as u64, unpack_size));
    h.push(0x05); // FilesInfo
    sz_number(1, &mut h);
    h.push(0x11); // names
    let utf16: Vec<u8> = name.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect();
    sz_number(utf16.len() as u64 + 1, &mut h);
    h.push(0x00); // not external
    h.extend_from_slice(&utf16);
    h.extend_from_slice(&[0x00, 0x00]); // end FilesInfo, end Header
    sz_archive(packed, &h)
}

/// AES-256 coder properties as 7-Zip writes them: 2^19 key derivation rounds, no salt, a
/// 16-byte IV.
fn aes_props() -> Vec<u8> {
    let mut props = vec![0x53, 0x0F];
    props.extend_from_slice(&[0x5A; 16]);
    props
}

/// A 7z whose header is encrypted (`7z -p -mhe=on`): not even the names can be read.
pub fn seven_zip_encrypted_header() -> Vec<u8> {
    let packed: Vec<u8> = (0u8..96).map(|i| i.wrapping_mul(59) ^ 0x3C).collect();
    let mut h = vec![0x17]; // EncodedHeader
    h.extend(sz_streams_info(&[0x06, 0xF1, 0x07, 0x01], &aes_props(), packed.len() as u64, 90));
    sz_archive(&packed, &h)
}

/// A 7z whose content is encrypted (an AES-256 coder, as 7-Zip writes with a password).
pub fn seven_zip_encrypted() -> Vec<u8> {
    let packed: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
    seven_zip_single_coder(&[0x06, 0xF1, 0x07, 0x01], &aes_props(), &packed, 60, "invoice.docm")
}

/// A tiny 7z whose LZMA2 block declares a 4 GiB dictionary.
pub fn seven_zip_dictionary_bomb() -> Vec<u8> {
    // An LZMA2 stream of one uncompressed chunk ("hello") and the end marker.
    let packed = [0x01, 0x00, 0x04, b'h', b'e', b'l', b'l', b'o', 0x00];
    seven_zip_single_coder(&[0x21], &[40], &packed, 5, "hello.txt")
}

/// CRC-16 as LHA uses it (polynomial 0x8005, reflected, initial value 0).
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xA001 } else { crc >> 1 };
        }
    }
    crc
}

/// One entry of an LHA sample.
pub struct LhaItem<'a> {
    /// `-lh0-` for stored data, `-lhd-` for a folder; anything else is written as given.
    pub method: &'a [u8; 5],
    /// Folder parts, in Shift_JIS; joined with `0xFF` as the format wants.
    pub dir: &'a [&'a str],
    /// The name in Shift_JIS (empty for a folder).
    pub name: &'a str,
    pub data: &'a [u8],
}

/// An LHA archive with level-2 headers, stored data and an end marker. Hand-written: no crate
/// writes LHA, and a level-2 header is a few fixed fields and tagged extension headers.
pub fn lzh_level2(items: &[LhaItem<'_>]) -> Vec<u8> {
    let sjis = |s: &str| encoding_rs::SHIFT_JIS.encode(s).0.into_owned();
    let mut out = Vec::new();
    for item in items {
        let mut ext: Vec<(u8, Vec<u8>)> = vec![(0x00, vec![0, 0])];
        if !item.name.is_empty() {
            ext.push((0x01, sjis(item.name)));
        }
        if !item.dir.is_empty() {
            let mut d = Vec::new();
            for part in item.dir {
                d.extend_from_slice(&sjis(part));
                d.push(0xFF);
            }
            ext.push((0x02, d));
        }
        let mut h = vec![0, 0];
        h.extend_from_slice(item.method);
        h.extend_from_slice(&(item.data.len() as u32).to_le_bytes());
        h.extend_from_slice(&(item.data.len() as u32).to_le_bytes());
        h.extend_from_slice(&(MTIME as u32).to_le_bytes());
        h.push(0x20); // reserved
        h.push(2); // level
        h.extend_from_slice(&crc16(item.data).to_le_bytes());
        h.push(b'M'); // written on MS-DOS / Windows
        for (i, (kind, data)) in ext.iter().enumerate() {
            if i == 0 {
                h.extend_from_slice(&(data.len() as u16 + 3).to_le_bytes());
            }
            h.push(*kind);
            h.extend_from_slice(data);
            let next = ext.get(i + 1).map_or(0, |(_, d)| d.len() as u16 + 3);
            h.extend_from_slice(&next.to_le_bytes());
        }
        // A header length whose low byte is zero would read as the end marker: LHA pads it.
        debug_assert!(h.len() & 0xFF != 0);
        let len = h.len() as u16;
        h[..2].copy_from_slice(&len.to_le_bytes());
        let crc = crc16(&h);
        // The common header (the first extension) holds the CRC-16 of the whole header.
        h[27..29].copy_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(item.data);
    }
    out.push(0);
    out
}

/// The MS-DOS date and time of [`MTIME`] (2023-11-14 22:13:20), as level 0 and 1 headers store
/// it: time in the low half, date in the high half.
pub const DOS_MTIME: u32 = ((22 << 11) | (13 << 5) | 10) | ((((2023 - 1980) << 9) | (11 << 5) | 14) << 16);

/// An LHA archive with level-0 headers (the MS-DOS original): each name is stored as given,
/// raw bytes with `\` between folders, and the data stored (`-lh0-`).
pub fn lzh_level0(items: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in items {
        let mut h = vec![0, 0];
        h.extend_from_slice(b"-lh0-");
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        h.extend_from_slice(&DOS_MTIME.to_le_bytes());
        h.push(0x20); // archive attribute
        h.push(0); // level
        h.push(name.len() as u8);
        h.extend_from_slice(name);
        h.extend_from_slice(&crc16(data).to_le_bytes());
        h[0] = (h.len() - 2) as u8;
        h[1] = h[2..].iter().fold(0u8, |a, &b| a.wrapping_add(b));
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
    }
    out.push(0);
    out
}

/// An LHA archive of a folder with the docm (Shift_JIS names), and a text file.
pub fn lzh_docm() -> Vec<u8> {
    let docm = docm();
    lzh_level2(&[
        LhaItem { method: b"-lhd-", dir: &[JA_FOLDER], name: "", data: b"" },
        LhaItem { method: b"-lh0-", dir: &[JA_FOLDER], name: JA_DOCUMENT, data: &docm },
        LhaItem { method: b"-lh0-", dir: &[], name: "notes.txt", data: NOTES },
    ])
}

/// An LHA archive packed with a method nothing reads any more (`-lh2-`).
pub fn lzh_unsupported_method() -> Vec<u8> {
    lzh_level2(&[LhaItem { method: b"-lh2-", dir: &[], name: "notes.txt", data: NOTES }])
}

/// Every packed sample, in a fixed order.
pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    let macro_free = [RemovedVbaProject, ConvertedToMacroFree];
    let s = |file_name, bytes, expected| Sample { file_name, bytes, expected };
    let mut trailing = gzip(Some("notes.txt"), NOTES);
    trailing.extend_from_slice(b"MZ\x90\x00 hidden after the last member");
    vec![
        s("benign_minutes.tar", benign_tar(), Expected::clean("tar")),
        s("benign_notes.txt.gz", gzip(Some("notes.txt"), NOTES), Expected::clean("gz")),
        s("report_docm.tar.gz", tar_gz_docm(), Expected::disarmed("gz", &macro_free)),
        s("special_entries.tar", special_entries_tar(), Expected::disarmed("tar", &[RemovedSpecialEntry])),
        s("path_traversal.tar", path_traversal_tar(), Expected::blocked(Reason::PathTraversal)),
        s("program_inside.tgz", tgz_with_program(), Expected::disarmed("tgz", &[RemovedBlockedEntry])),
        s("program.gz", gzip(Some("setup.exe"), &hostile::executable()), Expected::blocked(Reason::Executable)),
        s("trailing_data.gz", trailing, Expected::disarmed("gz", &[RemovedTrailingData])),
        s("bomb.gz", gzip_bomb(64 << 20), Expected::blocked(Reason::LimitRatio)),
        s("report_docm.7z", seven_zip_docm(), Expected::disarmed("zip", &macro_free)),
        s("encrypted.7z", seven_zip_encrypted(), Expected::blocked(Reason::Encrypted)),
        s("encrypted_header.7z", seven_zip_encrypted_header(), Expected::blocked(Reason::Encrypted)),
        s("dictionary_bomb.7z", seven_zip_dictionary_bomb(), Expected::blocked(Reason::LimitTotalBytes)),
        s("report_sjis.lzh", lzh_docm(), Expected::disarmed("zip", &macro_free)),
        s("unsupported_method.lzh", lzh_unsupported_method(), Expected::blocked(Reason::UnsupportedCompression)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lha_crc16_matches_the_check_value() {
        // CRC-16/ARC of "123456789".
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }

    #[test]
    fn seven_zip_numbers_use_their_length_prefix() {
        let enc = |v| {
            let mut o = Vec::new();
            sz_number(v, &mut o);
            o
        };
        assert_eq!(enc(0x7F), [0x7F]);
        assert_eq!(enc(0x80), [0x80, 0x80]);
        assert_eq!(enc(0x3FFF), [0xBF, 0xFF]);
        assert_eq!(enc(0x4000), [0xC0, 0x00, 0x40]);
        assert_eq!(enc(u64::MAX)[0], 0xFF);
    }
}
