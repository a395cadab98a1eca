//! File names: what a name says about the file that it should not, and names made safe to write.
//!
//! [`findings`] looks at the name an item arrived with (an attachment's name, an archive entry's
//! last segment, a dropped file's name) for the tricks that make a program look like a document:
//! bidirectional controls (`invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`), double
//! extensions (`invoice.pdf.exe`, also padded with spaces), class-id extensions, extensions that
//! Windows runs, very long names and characters that have no place in a name. It only reports;
//! the policy (`[names]` in `config.toml`) decides which findings block.
//!
//! [`safe_file_name`] and [`safe_entry_path`] make names safe to create in an output folder or
//! to write into a rebuilt archive: no path separators, no control, bidi or zero-width
//! characters, no `.`/`..`, no trailing dots or spaces, no Windows device names, bounded length.
//!
//! Pure functions: no files are touched here.

use crate::model::{Finding, FindingKind};

/// Extensions Windows runs, or opens with a host that runs code, whatever the content: the name
/// alone makes a file dangerous once it is saved and double-clicked.
pub const EXECUTABLE_EXTENSIONS: &[&str] = &[
    // programs and libraries
    "exe",
    "com",
    "scr",
    "pif",
    "cpl",
    "dll",
    "ocx",
    "sys",
    "drv",
    "xll",
    "wll",
    "efi",
    // installers and packages
    "msi",
    "msp",
    "mst",
    "msix",
    "msixbundle",
    "appx",
    "appxbundle",
    "appinstaller",
    "application",
    "appref-ms",
    "gadget",
    "vsix",
    "jar",
    "jnlp",
    // scripts and script hosts
    "bat",
    "cmd",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "wsc",
    "ws",
    "sct",
    "ps1",
    "ps1xml",
    "ps2",
    "ps2xml",
    "psc1",
    "psc2",
    "psd1",
    "psm1",
    "msh",
    "msh1",
    "msh2",
    "mshxml",
    "hta",
    "py",
    "pyw",
    "pyc",
    "pl",
    "rb",
    "sh",
    "ksh",
    "csh",
    "command",
    "tool",
    "action",
    "workflow",
    "applescript",
    "scpt",
    // shortcuts and things that point elsewhere
    "lnk",
    "url",
    "scf",
    "inf",
    "reg",
    "settingcontent-ms",
    "library-ms",
    "search-ms",
    "searchconnector-ms",
    "website",
    "desktop",
    "diagcab",
    "msc",
    "cab",
    // containers Windows mounts or opens with their own runner
    "chm",
    "hlp",
    "iso",
    "img",
    "vhd",
    "vhdx",
    "one",
    "onepkg",
    "mht",
    "mhtml",
    "shs",
    "shb",
    "mda",
    "mdb",
    "mde",
    "accde",
    "ade",
    "adp",
    "isp",
    "ins",
    "crt",
    "der",
    "cer",
    "apk",
    "app",
    "dmg",
    "pkg",
];

/// Extensions a decoy name shows before the real one (`invoice.pdf.exe`).
const DECOY_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "pptm", "rtf", "txt", "csv", "odt", "ods",
    "odp", "jtd", "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "heic", "mp3", "mp4", "wav", "avi", "mov",
    "wmv", "htm", "html", "xml", "zip", "lzh", "7z", "rar", "eml", "msg", "dcm", "hl7",
];

/// The longest name segment [`safe_file_name`] writes, in bytes (file systems allow 255).
const MAX_SAFE_BYTES: usize = 200;

/// Bidirectional formatting characters: they reorder how the rest of the name is shown.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show as nothing (zero-width spaces and joiners, the byte order mark): they
/// can split an extension so that it escapes a check and still looks whole.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// The last segment of a path written with `/` or `\`.
pub fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// What is wrong with a name. `max_chars` is the length beyond which a name counts as long.
pub fn findings(name: &str, max_chars: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |finding, detail: String| out.push(Finding { finding, detail: Some(detail) });
    let base = base_name(name);
    if let Some(c) = base.chars().find(|&c| is_bidi_control(c)) {
        add(FindingKind::BidiControl, format!("U+{:04X} in {:?}", c as u32, base));
    }
    if base.chars().any(|c| c.is_control() || is_invisible(c)) {
        add(FindingKind::UnsafeCharacters, format!("control or invisible characters in {:?}", base));
    }
    let shown = visible(base);
    let exts = extensions(&shown);
    if let Some(last) = exts.last() {
        if is_clsid(last) {
            add(FindingKind::ClsidExtension, format!("class id extension .{last}"));
        } else if EXECUTABLE_EXTENSIONS.contains(&last.as_str()) {
            add(FindingKind::ExecutableExtension, format!(".{last}"));
            if let Some(decoy) = exts.iter().rev().nth(1).filter(|d| DECOY_EXTENSIONS.contains(&d.as_str())) {
                add(FindingKind::DoubleExtension, format!(".{decoy} shown, .{last} run"));
            }
        }
    }
    let chars = base.chars().count();
    if chars > max_chars {
        add(FindingKind::LongName, format!("{chars} characters"));
    }
    out
}

/// The name as Windows resolves it: bidi and invisible characters gone, trailing dots and
/// spaces (which Windows drops) trimmed, lower case.
fn visible(base: &str) -> String {
    let s: String = base.chars().filter(|&c| !is_bidi_control(c) && !is_invisible(c)).collect();
    s.trim_end_matches(|c: char| c == '.' || c.is_whitespace()).to_lowercase()
}

/// The extensions of a name, first to last (`a.tar.gz` -> `tar`, `gz`); white space around the
/// dots (`invoice.pdf      .exe`) does not hide one.
fn extensions(shown: &str) -> Vec<String> {
    let mut parts: Vec<&str> = shown.split('.').collect();
    if parts.len() < 2 {
        return Vec::new();
    }
    parts.remove(0);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty() && (p.len() <= 16 || is_clsid(p)))
        .collect()
}

fn is_clsid(ext: &str) -> bool {
    let b = ext.as_bytes();
    b.len() == 38
        && b[0] == b'{'
        && b[37] == b'}'
        && b[1..37].iter().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// A file name safe to create: no path separators, no control, bidi or invisible characters,
/// not `.`/`..`, no trailing dots or spaces, no Windows device name, at most 200 bytes (the
/// extension kept).
pub fn safe_file_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .filter(|&c| !is_invisible(c))
        .map(|c| match c {
            '/' | '\\' | '\0' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() || is_bidi_control(c) => '_',
            c => c,
        })
        .collect();
    let trimmed = s.trim_end_matches(['.', ' ']).trim_start();
    if trimmed.len() != s.len() {
        s = trimmed.to_string();
    }
    if s.is_empty() || s == "." || s == ".." {
        s = "file".into();
    }
    let stem = s.split('.').next().unwrap_or("").trim_end().to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if device {
        s.insert(0, '_');
    }
    if s.len() > MAX_SAFE_BYTES {
        let ext = s.rsplit_once('.').map(|(_, e)| e.to_string()).filter(|e| e.len() <= 16);
        let room = MAX_SAFE_BYTES - ext.as_ref().map_or(0, |e| e.len() + 1);
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        if let Some(e) = ext {
            s.push('.');
            s.push_str(&e);
        }
    }
    s
}

/// An archive entry path made safe segment by segment (`/` separated); empty, `.` and `..`
/// segments are dropped. Never empty.
pub fn safe_entry_path(path: &str) -> String {
    let segments: Vec<String> =
        path.split(['/', '\\']).filter(|s| !s.is_empty() && *s != "." && *s != "..").map(safe_file_name).collect();
    if segments.is_empty() {
        "file".into()
    } else {
        segments.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(name: &str) -> Vec<FindingKind> {
        findings(name, 128).into_iter().map(|f| f.finding).collect()
    }

    #[test]
    fn right_to_left_override_is_found() {
        let k = kinds("invoice\u{202E}fdp.exe");
        assert!(k.contains(&FindingKind::BidiControl), "{k:?}");
        assert!(k.contains(&FindingKind::ExecutableExtension), "{k:?}");
        assert!(kinds("請求書\u{2067}.pdf").contains(&FindingKind::BidiControl));
    }

    #[test]
    fn double_extensions_padded_or_not_are_found() {
        for n in ["invoice.pdf.exe", "Invoice.PDF.scr", "report.docx      .js", "a.jpg.exe.", "見積書.xlsx.lnk"] {
            assert!(kinds(n).contains(&FindingKind::DoubleExtension), "{n}");
        }
        for n in ["backup.tar.gz", "report.v2.pdf", "setup.exe", "a.pdf.docx", "notes.txt"] {
            assert!(!kinds(n).contains(&FindingKind::DoubleExtension), "{n}");
        }
        assert_eq!(kinds("setup.exe"), vec![FindingKind::ExecutableExtension]);
        assert!(kinds("run.ex\u{200B}e").contains(&FindingKind::ExecutableExtension));
    }

    #[test]
    fn clsid_long_and_clean_names() {
        assert_eq!(kinds("readme.txt.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}"), vec![FindingKind::ClsidExtension]);
        assert_eq!(kinds(&format!("{}.pdf", "a".repeat(200))), vec![FindingKind::LongName]);
        assert!(kinds("議事録 2026年11月.docx").is_empty());
        assert!(kinds("dir/sub/report.pdf").is_empty());
        assert_eq!(kinds("a\tb.txt"), vec![FindingKind::UnsafeCharacters]);
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_file_name("a/../b.docx"), "a_.._b.docx");
        assert_eq!(safe_file_name("invoice\u{202E}fdp.exe"), "invoice_fdp.exe");
        assert_eq!(safe_file_name(".."), "file");
        assert_eq!(safe_file_name("report.pdf.  "), "report.pdf");
        assert_eq!(safe_file_name("con.txt"), "_con.txt");
        assert_eq!(safe_file_name("COM1"), "_COM1");
        assert_eq!(safe_file_name("a:b?.txt"), "a_b_.txt");
        let long = safe_file_name(&format!("{}.docx", "あ".repeat(300)));
        assert!(long.len() <= 200 && long.ends_with(".docx"), "{long}");
        assert_eq!(safe_entry_path("../a//./b\\c.txt"), "a/b/c.txt");
        assert_eq!(safe_entry_path("/"), "file");
    }
}
