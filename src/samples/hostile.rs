//! Inputs that must be blocked: not a package at all, broken or abusive zips, an executable in
//! disguise, an XML entity bomb; and [`all`], the hostile-input suite written to
//! `samples/hostile/`: every bomb, loop and depth attack of the robustness checklist in one
//! place, each with the named reason the engine's own limits must stop it with.
//!
//! The zip tricks need control the zip writer does not give (two entries of one name, the
//! encryption flag, another compression method), so those archives are assembled here by hand
//! from stored entries.

use super::media::{self, Prng};
use super::package::{ct, PackageBuilder};
use super::{archive, mail, markup, ole2, pdf, rtf, word, Expected, Sample};
use crate::model::{ActionKind, Reason};

/// One entry of a hand-assembled zip, its data already in the form written to the archive.
#[derive(Clone, Debug)]
pub struct RawEntry {
    pub name: String,
    /// 0 stored, 8 deflate, 12 bzip2, ...
    pub method: u16,
    /// General purpose flags (bit 0: encrypted).
    pub flags: u16,
    pub crc: u32,
    pub uncompressed_size: u32,
    pub data: Vec<u8>,
}

impl RawEntry {
    /// An entry stored without compression.
    pub fn stored(name: &str, data: &[u8]) -> Self {
        RawEntry {
            name: name.into(),
            method: 0,
            flags: 0,
            crc: crc32fast::hash(data),
            uncompressed_size: data.len() as u32,
            data: data.to_vec(),
        }
    }
}

/// Writes local headers, data, central directory and end record for `entries`, as given.
pub fn raw_zip(entries: &[RawEntry]) -> Vec<u8> {
    raw_zip_named(entries.iter().map(|e| (e.name.as_bytes(), e)))
}

/// [`raw_zip`] with each entry's name given as the bytes to store (names in a legacy code page).
pub fn raw_zip_named<'a>(entries: impl Iterator<Item = (&'a [u8], &'a RawEntry)>) -> Vec<u8> {
    const DOS_DATE_1980_01_01: u16 = 0x0021;
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut count = 0u16;
    for (name, e) in entries {
        count += 1;
        let offset = out.len() as u32;
        let fields = |buf: &mut Vec<u8>| {
            buf.extend_from_slice(&20u16.to_le_bytes()); // version needed
            buf.extend_from_slice(&e.flags.to_le_bytes());
            buf.extend_from_slice(&e.method.to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // time
            buf.extend_from_slice(&DOS_DATE_1980_01_01.to_le_bytes());
            buf.extend_from_slice(&e.crc.to_le_bytes());
            buf.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            buf.extend_from_slice(&e.uncompressed_size.to_le_bytes());
            buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4B50u32.to_le_bytes());
        fields(&mut out);
        out.extend_from_slice(name);
        out.extend_from_slice(&e.data);

        central.extend_from_slice(&0x0201_4B50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        fields(&mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4B50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The entries of a small valid document, stored.
fn stored_docx_entries(title: &str) -> Vec<RawEntry> {
    word::base(ct::DOCX_MAIN, title).into_package().entries().iter().map(|(n, d)| RawEntry::stored(n, d)).collect()
}

/// 4 KiB of noise under a document's name.
pub fn random_bytes() -> Vec<u8> {
    let mut d = Prng::new(7).bytes(4096);
    // Keep the noise from starting like any known format.
    d[0] = 0x00;
    d[1] = 0x9F;
    d
}

/// The first half of a valid document: the zip directory at the end is missing.
pub fn truncated() -> Vec<u8> {
    let full = word::benign();
    full[..full.len() / 2].to_vec()
}

/// A valid document plus an entry named `../evil.txt` that climbs out of the extraction folder.
pub fn path_traversal() -> Vec<u8> {
    let mut entries = stored_docx_entries("Path traversal");
    entries.push(RawEntry::stored("../evil.txt", b"written outside the target folder\r\n"));
    raw_zip(&entries)
}

/// How many bytes of padding the zip bomb's main part expands to.
pub const BOMB_EXPANDED_BYTES: usize = 200 * 1024 * 1024;

/// Collects bits least significant first, as deflate packs them.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, value: u64, bits: u32) {
        self.acc |= value << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A raw deflate stream of `prefix` followed by `run` copies of `byte`, written directly: a
/// stored block with the prefix and the first few copies, then one dynamic Huffman block whose
/// only codes are "copy 258 bytes from distance 1" and "end of block", two bits per 258 bytes.
/// This reaches deflate's best ratio (about 1030:1) without running a compressor over the
/// expanded bytes.
pub fn deflate_with_run(prefix: &[u8], byte: u8, run: usize) -> Vec<u8> {
    assert!(run >= 1);
    let matches = (run - 1) / 258;
    let literal_run = run - matches * 258;
    let mut stored = prefix.to_vec();
    stored.resize(prefix.len() + literal_run, byte);
    assert!(stored.len() <= 65_535, "the stored block holds the prefix");
    let mut w = BitWriter { out: Vec::with_capacity(stored.len() + matches / 4 + 64), acc: 0, n: 0 };
    // Stored block, not final: header bits 0 + 00, then byte-aligned LEN, NLEN, data.
    w.put(0, 3);
    w = BitWriter { out: w.finish(), acc: 0, n: 0 };
    let len = stored.len() as u16;
    w.out.extend_from_slice(&len.to_le_bytes());
    w.out.extend_from_slice(&(!len).to_le_bytes());
    w.out.extend_from_slice(&stored);
    // Dynamic block, final.
    w.put(1, 1); // BFINAL
    w.put(2, 2); // BTYPE = dynamic Huffman
    w.put(29, 5); // HLIT: 286 literal/length codes
    w.put(0, 5); // HDIST: 1 distance code
    w.put(14, 4); // HCLEN: 18 code length code lengths
                  // Code length code lengths in their fixed order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1:
                  // only 18 (a run of zeros) and 1 (a length of one) are used, one bit each.
    for sym in [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1] {
        w.put(if sym == 18 || sym == 1 { 1 } else { 0 }, 3);
    }
    // Canonical codes: symbol 1 -> 0, symbol 18 -> 1.
    let zeros = |w: &mut BitWriter, n: u64| {
        w.put(1, 1);
        w.put(n - 11, 7);
    };
    let one = |w: &mut BitWriter| w.put(0, 1);
    zeros(&mut w, 138); // literals 0..=137
    zeros(&mut w, 118); // literals 138..=255
    one(&mut w); // 256, end of block
    zeros(&mut w, 28); // 257..=284
    one(&mut w); // 285, length 258
    one(&mut w); // distance code 0, distance 1
                 // Literal/length codes: 256 -> 0, 285 -> 1. Distance code 0 -> 0.
    for _ in 0..matches {
        w.put(0b01, 2); // 285 (bit 1), then distance 1 (bit 0)
    }
    w.put(0, 1); // end of block
    w.finish()
}

/// A document whose main part is valid XML followed by 200 MiB of spaces (allowed after the root
/// element): about 200 KiB compressed, a ratio above 1000:1. The compressed stream is written
/// directly ([`deflate_with_run`]), so building it never holds or compresses the expanded bytes.
pub fn zip_bomb() -> Vec<u8> {
    let pkg: PackageBuilder = word::base(ct::DOCX_MAIN, "Zip bomb").into_package();
    let entries: Vec<RawEntry> = pkg
        .entries()
        .iter()
        .map(|(name, data)| {
            if name != "word/document.xml" {
                return RawEntry::stored(name, data);
            }
            let mut crc = crc32fast::Hasher::new();
            crc.update(data);
            let mut mib = crc32fast::Hasher::new();
            mib.update(&vec![b' '; 1024 * 1024]);
            for _ in 0..BOMB_EXPANDED_BYTES / (1024 * 1024) {
                crc.combine(&mib);
            }
            RawEntry {
                name: name.clone(),
                method: 8,
                flags: 0,
                crc: crc.finalize(),
                uncompressed_size: (data.len() + BOMB_EXPANDED_BYTES) as u32,
                data: deflate_with_run(data, b' ', BOMB_EXPANDED_BYTES),
            }
        })
        .collect();
    raw_zip(&entries)
}

/// A program (PE header, no code) under the name of a document.
pub fn executable() -> Vec<u8> {
    let mut d = media::pe_header();
    d.resize(1024, 0);
    d
}

/// A valid document with a second, different `word/document.xml` entry.
pub fn duplicate_entry() -> Vec<u8> {
    let mut entries = stored_docx_entries("Duplicate entry");
    let other = word::base(ct::DOCX_MAIN, "The other main part").into_package();
    let doc = other.part("word/document.xml").expect("main part");
    entries.push(RawEntry::stored("word/document.xml", doc));
    raw_zip(&entries)
}

/// ZipCrypto, the traditional PKWARE encryption (weak, but what "encrypted zip" usually means).
struct ZipCrypto([u32; 3]);

impl ZipCrypto {
    fn new(password: &[u8]) -> Self {
        let mut z = ZipCrypto([0x1234_5678, 0x2345_6789, 0x3456_7890]);
        for &b in password {
            z.update(b);
        }
        z
    }
    fn crc_byte(crc: u32, b: u8) -> u32 {
        let mut c = (crc ^ b as u32) & 0xFF;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        c ^ (crc >> 8)
    }
    fn update(&mut self, plain: u8) {
        let k = &mut self.0;
        k[0] = Self::crc_byte(k[0], plain);
        k[1] = k[1].wrapping_add(k[0] & 0xFF).wrapping_mul(134_775_813).wrapping_add(1);
        k[2] = Self::crc_byte(k[2], (k[1] >> 24) as u8);
    }
    fn encrypt(&mut self, plain: u8) -> u8 {
        let t = (self.0[2] | 2) & 0xFFFF;
        let c = plain ^ ((t.wrapping_mul(t ^ 1) >> 8) as u8);
        self.update(plain);
        c
    }
}

/// A document whose main part is encrypted (ZipCrypto, password `mugai`).
pub fn encrypted_entry() -> Vec<u8> {
    let mut entries = stored_docx_entries("Encrypted entry");
    let e = entries.iter_mut().find(|e| e.name == "word/document.xml").expect("main part");
    e.data = zip_crypto_encrypt(b"mugai", e.crc, &e.data);
    e.flags |= 1;
    raw_zip(&entries)
}

/// `plain` encrypted with ZipCrypto under `password`, with the 12-byte header readers check
/// (its last byte is the top byte of the entry's CRC-32).
pub fn zip_crypto_encrypt(password: &[u8], crc: u32, plain: &[u8]) -> Vec<u8> {
    let mut z = ZipCrypto::new(password);
    let mut header = Prng::new(11).bytes(12);
    header[11] = (crc >> 24) as u8;
    let mut data: Vec<u8> = header.iter().map(|&b| z.encrypt(b)).collect();
    data.extend(plain.iter().map(|&b| z.encrypt(b)));
    data
}

/// A document whose main part declares a document type with nested entities (the "billion
/// laughs" expansion).
pub fn xml_entity_bomb() -> Vec<u8> {
    let mut pkg = word::base(ct::DOCX_MAIN, "Entity bomb").into_package();
    let mut dtd = String::from("<!ENTITY lol0 \"lol\">");
    for i in 1..=9 {
        let refs: String = (0..10).map(|_| format!("&lol{};", i - 1)).collect();
        dtd.push_str(&format!("<!ENTITY lol{i} \"{refs}\">"));
    }
    let doc = String::from_utf8(pkg.part("word/document.xml").expect("main part").to_vec()).expect("utf-8");
    let doc = doc.replacen("<w:document", &format!("<!DOCTYPE w:document [{dtd}]>\n<w:document"), 1).replacen(
        "</w:body>",
        "<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body>",
        1,
    );
    pkg.add_part("word/document.xml", None, doc);
    pkg.write()
}

/// A document whose main part is compressed with bzip2 (method 12), which OOXML does not use.
/// The data is a genuine bzip2 stream (of an empty input).
pub fn bzip2_entry() -> Vec<u8> {
    const EMPTY_BZIP2: [u8; 14] = [0x42, 0x5A, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0, 0, 0, 0];
    let mut entries = stored_docx_entries("Bzip2 entry");
    let e = entries.iter_mut().find(|e| e.name == "word/document.xml").expect("main part");
    e.method = 12;
    e.crc = 0;
    e.uncompressed_size = 0;
    e.data = EMPTY_BZIP2.to_vec();
    raw_zip(&entries)
}

/// How many copies each layer of [`nested_zip_bomb`] holds.
pub const NESTED_BOMB_COPIES: usize = 16;
/// What one file at the bottom of [`nested_zip_bomb`] expands to.
pub const NESTED_BOMB_LEAF_BYTES: usize = 1024 * 1024;

/// A bomb made of zips inside zips, as `42.zip` is: the top holds 16 zips, each of those 16
/// zips, each of those 16 files of 1 MiB: 4 GiB in all from about 100 KiB. No single entry is
/// over any limit: each leaf's deflate stream starts with a stored block of 1 KiB, which holds
/// its ratio near 500:1 (under `max_ratio`), and every zip declares its true sizes; only the
/// sum of what the copies expand to is the bomb (`max_total_bytes`).
pub fn nested_zip_bomb() -> Vec<u8> {
    const STORED: usize = 1024;
    let leaf = NESTED_BOMB_LEAF_BYTES;
    let data = deflate_with_run(&[b'0'; STORED], b'0', leaf - STORED);
    let crc = crc32fast::hash(&vec![b'0'; leaf]);
    let leaves: Vec<RawEntry> = (0..NESTED_BOMB_COPIES)
        .map(|i| RawEntry {
            name: format!("zeros{i:02}.txt"),
            method: 8,
            flags: 0,
            crc,
            uncompressed_size: leaf as u32,
            data: data.clone(),
        })
        .collect();
    let mut layer = raw_zip(&leaves);
    for depth in [2, 1] {
        let names: Vec<String> = (0..NESTED_BOMB_COPIES).map(|i| format!("layer{depth}_{i:02}.zip")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), layer.as_slice())).collect();
        layer = archive::zip_of(&entries);
    }
    layer
}

/// The characters of Unicode's `Bidi_Control` property: each one reorders how the rest of a
/// name is shown.
pub const BIDI_CONTROLS: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}',
    '\u{2067}', '\u{2068}', '\u{2069}',
];

/// A zip of plain text files, one named with each bidi control (`report\u{202E}fdp.txt`), and
/// a readme named plainly.
pub fn bidi_names() -> Vec<u8> {
    let names: Vec<String> = BIDI_CONTROLS.iter().map(|c| format!("report_{:04X}{c}fdp.txt", *c as u32)).collect();
    let mut entries: Vec<(&str, &[u8])> =
        names.iter().map(|n| (n.as_str(), b"minutes of the meeting\r\n".as_slice())).collect();
    entries.push(("readme.txt", b"names with bidi controls\r\n"));
    archive::zip_of(&entries)
}

/// How deep the deep XML samples of [`all`] nest.
pub const DEEP_XML: usize = 10_000;
/// How many RTF groups the deep RTF sample of [`all`] opens.
pub const DEEP_RTF_GROUPS: usize = 100_000;
/// What the PDF bomb of [`all`] inflates to: 4 GiB, from a few KiB.
pub const PDF_BOMB_BYTES: u64 = 4 << 30;

/// A document whose body holds custom XML elements nested `depth` deep around one paragraph.
pub fn deep_docx(depth: usize) -> Vec<u8> {
    let mut w = word::Word::new(ct::DOCX_MAIN, "Deep nesting");
    w.push(&format!(
        "{}<w:p><w:r><w:t>deep</w:t></w:r></w:p>{}",
        "<w:customXml w:element=\"a\">".repeat(depth),
        "</w:customXml>".repeat(depth)
    ));
    w.finish()
}

/// A mail message of `n` parts, each the smallest part there is (an empty header block and one
/// line), so that 10 000 of them fit in a committed file.
pub fn many_parts(n: usize) -> Vec<u8> {
    let parts = (0..n).map(|i| mail::Part::Bare(format!("part {i}\r\n").into_bytes())).collect();
    mail::message(&mail::headers("Many parts", "many"), &mail::Part::Multi("mixed", parts))
}

/// The hostile-input suite (`samples/hostile/`): zip bombs (flat, lying, nested, overlapping,
/// nested past `max_depth`), XML with entity expansion and 10 000-deep nesting (plain and in a
/// Word document), a mail message of 10 000 parts, multiparts and messages 100 deep, a 1 MB
/// header, PDF reference cycles (a ring of objects that is rebuilt, a page tree that points at
/// itself), a PDF stream that inflates to 4 GiB, an OLE2 file whose FAT loops, RTF with
/// 100 000 nested groups and an unterminated `\bin`, and file names with every bidi control.
/// Each must end with its named reason within the default limits.
pub fn all() -> Vec<Sample> {
    let s = |file_name, bytes, expected| Sample { file_name, bytes, expected };
    let blocked = Expected::blocked;
    vec![
        s("zip_bomb_flat.zip", archive::declared_bomb(), blocked(Reason::LimitRatio)),
        s("zip_bomb_lying.zip", archive::lying_bomb(), blocked(Reason::Malformed)),
        s("zip_bomb_nested.zip", nested_zip_bomb(), blocked(Reason::LimitTotalBytes)),
        s("zip_bomb_overlapping.zip", archive::overlapping_bomb(), blocked(Reason::OverlappingEntries)),
        s("zip_nested_20_deep.zip", archive::nested_20_deep(), blocked(Reason::LimitDepth)),
        s("xml_entity_expansion.xml", markup::entity_bomb(), blocked(Reason::XmlDoctype)),
        s("xml_entity_expansion.docx", xml_entity_bomb(), blocked(Reason::XmlDoctype)),
        s("xml_10000_deep.xml", markup::deep_xml(DEEP_XML), blocked(Reason::LimitXmlDepth)),
        s("xml_10000_deep.docx", deep_docx(DEEP_XML), blocked(Reason::LimitXmlDepth)),
        s("mime_10000_parts.eml", many_parts(10_000), blocked(Reason::LimitEntries)),
        s("mime_multipart_100_deep.eml", mail::multipart_100_deep(), blocked(Reason::LimitNesting)),
        s("mime_message_100_deep.eml", mail::message_100_deep(), blocked(Reason::LimitDepth)),
        s("mime_header_1mb.eml", mail::header_1mb(), blocked(Reason::LimitHeaderBytes)),
        s("pdf_reference_cycle.pdf", pdf::reference_loops(), Expected::clean("pdf")),
        s("pdf_page_tree_cycle.pdf", pdf::page_tree_loop(), blocked(Reason::Malformed)),
        s("pdf_flate_4gib.pdf", pdf::double_flate_bomb_pdf(PDF_BOMB_BYTES), blocked(Reason::LimitStreamBytes)),
        s("ole2_fat_loop.xls", ole2::fat_loop_xls(), blocked(Reason::Malformed)),
        s("rtf_100000_groups.rtf", rtf::nested_groups(DEEP_RTF_GROUPS), blocked(Reason::LimitNesting)),
        s("rtf_unterminated_bin.rtf", rtf::unterminated_bin(), blocked(Reason::Malformed)),
        s("names_every_bidi_control.zip", bidi_names(), Expected::disarmed("zip", &[ActionKind::RemovedBlockedEntry])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read};

    /// Reads `raw` back through the zip crate as a deflated entry that must expand to `expected`
    /// (sizes and CRC checked by the reader).
    fn inflates_to(raw: &[u8], expected: &[u8]) -> bool {
        let mut e = RawEntry::stored("x", expected);
        e.method = 8;
        e.data = raw.to_vec();
        let mut a = zip::ZipArchive::new(Cursor::new(raw_zip(&[e]))).unwrap();
        let mut out = Vec::new();
        a.by_index(0).unwrap().read_to_end(&mut out).is_ok() && out == expected
    }

    #[test]
    fn deflate_with_run_inflates_to_prefix_and_run() {
        for run in [1, 2, 157, 258, 259, 1000, 100_000] {
            let mut expected = b"<a/>".to_vec();
            expected.resize(4 + run, b' ');
            assert!(inflates_to(&deflate_with_run(b"<a/>", b' ', run), &expected), "run {run}");
        }
    }

    #[test]
    fn nested_bomb_leaves_stay_under_the_ratio_and_add_up_to_4_gib() {
        let top = nested_zip_bomb();
        assert!(top.len() < 256 * 1024, "{} bytes", top.len());
        let mut leaves = 0u64;
        let mut expanded = 0u64;
        let mut a = zip::ZipArchive::new(Cursor::new(top)).unwrap();
        let mut middle = Vec::new();
        a.by_index(0).unwrap().read_to_end(&mut middle).unwrap();
        let mut m = zip::ZipArchive::new(Cursor::new(middle)).unwrap();
        let mut bottom = Vec::new();
        m.by_index(0).unwrap().read_to_end(&mut bottom).unwrap();
        let mut b = zip::ZipArchive::new(Cursor::new(bottom)).unwrap();
        for i in 0..b.len() {
            let mut f = b.by_index(i).unwrap();
            let ratio = f.size() / f.compressed_size();
            assert!(ratio > 100 && ratio < 1000, "ratio {ratio}");
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            assert_eq!(out.len(), NESTED_BOMB_LEAF_BYTES);
            leaves += 1;
            expanded += out.len() as u64;
        }
        assert_eq!((a.len(), m.len(), leaves), (NESTED_BOMB_COPIES, NESTED_BOMB_COPIES, NESTED_BOMB_COPIES as u64));
        assert_eq!(expanded * (a.len() * m.len()) as u64, 4 << 30);
    }

    #[test]
    fn bidi_names_carry_each_control_once() {
        let mut a = zip::ZipArchive::new(Cursor::new(bidi_names())).unwrap();
        let names: Vec<String> = (0..a.len()).map(|i| a.by_index(i).unwrap().name().unwrap().into_owned()).collect();
        for c in BIDI_CONTROLS {
            assert_eq!(names.iter().filter(|n| n.contains(c)).count(), 1, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn zip_bomb_declares_its_expanded_size_and_ratio() {
        let z = zip_bomb();
        assert!(z.len() < 300 * 1024);
        let mut a = zip::ZipArchive::new(Cursor::new(z)).unwrap();
        let f = a.by_name("word/document.xml").unwrap();
        assert!(f.size() > BOMB_EXPANDED_BYTES as u64);
        assert!(f.size() / f.compressed_size() > 1000);
    }

    #[test]
    fn hand_assembled_zips_open() {
        let z = raw_zip(&stored_docx_entries("t"));
        let mut a = zip::ZipArchive::new(Cursor::new(z)).unwrap();
        let mut s = String::new();
        a.by_name("word/document.xml").unwrap().read_to_string(&mut s).unwrap();
        assert!(s.contains("<w:body>"));
    }

    #[test]
    fn zipcrypto_entry_decrypts_with_its_password() {
        let mut a = zip::ZipArchive::new(Cursor::new(encrypted_entry())).unwrap();
        assert!(a.by_name("word/document.xml").is_err(), "readable without the password");
        let mut s = String::new();
        a.by_name_decrypt("word/document.xml", b"mugai").unwrap().read_to_string(&mut s).unwrap();
        assert!(s.contains("<w:body>"));
    }
}
