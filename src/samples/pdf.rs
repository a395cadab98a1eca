//! PDF samples: a small raw PDF writer and one document per row of the PDF threat list.
//!
//! The writer is handed every object as the bytes between `N 0 obj` and `endobj` and lays the
//! file out itself, so that a sample can be exactly as tricky or as broken as it needs to be: a
//! classic cross-reference table with exact offsets, a PDF 1.5 cross-reference stream with the
//! objects packed into an object stream, an incremental update appended with `/Prev`, a file cut
//! short, loops and bombs. Pages show Helvetica text in literal strings, one `Tj` per line, so a
//! test finds the words in the page contents of a disarmed copy.
//!
//! [`all`] lists every PDF sample with the outcome the engine must reach under the default
//! configuration; `examples/gen_samples.rs` writes them to `samples/pdf/` with `EXPECTED.tsv`.
//! The payloads are inert: scripts show a message box, the launch action runs `echo`, the
//! attached program is a PE header without code. Everything is deterministic, the encrypted
//! samples included (fixed file identifier, no random padding).

use super::media::Prng;
use super::package::ct;
use super::{hostile, word, Expected, Sample};
use crate::model::{ActionKind, Reason};
use std::collections::BTreeMap;
use std::io::Write;

/// The second line of every sample's first page.
pub const MADE_BY: &str = "This document was made by mugai for its tests.";

/// An inert script: a message box.
const ALERT: &str = "app.alert('mugai test');";

/// A PDF under construction: numbered objects, each given as the bytes between `N 0 obj` and
/// `endobj`, written in the order they were first set.
#[derive(Clone, Debug)]
pub struct Pdf {
    /// The version in the header (`%PDF-1.7`).
    pub version: &'static str,
    objects: Vec<(u32, Vec<u8>)>,
    next: u32,
    /// Trailer entries besides `/Size` (`/Root 1 0 R /Info 4 0 R`).
    pub trailer: String,
}

impl Default for Pdf {
    fn default() -> Self {
        Self::new()
    }
}

impl Pdf {
    pub fn new() -> Self {
        Pdf { version: "1.7", objects: Vec::new(), next: 1, trailer: String::new() }
    }

    /// A new object number, for an object set later with [`Pdf::set`].
    pub fn reserve(&mut self) -> u32 {
        let n = self.next;
        self.next += 1;
        n
    }

    /// Adds an object under the next free number.
    pub fn add(&mut self, body: impl Into<Vec<u8>>) -> u32 {
        // A fresh number has no object yet: no need to look for one to replace.
        let n = self.reserve();
        self.objects.push((n, body.into()));
        n
    }

    /// Adds a stream object (see [`stream`]).
    pub fn add_stream(&mut self, dict: &str, data: &[u8]) -> u32 {
        self.add(stream(dict, data))
    }

    /// Sets object `n`, replacing it in place if it was set before.
    pub fn set(&mut self, n: u32, body: impl Into<Vec<u8>>) {
        let body = body.into();
        self.next = self.next.max(n + 1);
        match self.objects.iter_mut().find(|(m, _)| *m == n) {
            Some(slot) => slot.1 = body,
            None => self.objects.push((n, body)),
        }
    }

    pub fn get(&self, n: u32) -> Option<&[u8]> {
        self.objects.iter().find(|(m, _)| *m == n).map(|(_, b)| b.as_slice())
    }

    /// One more than the highest object number: the trailer's `/Size`.
    pub fn size(&self) -> u32 {
        self.next
    }

    fn header(&self, version: &str) -> Vec<u8> {
        // The comment of four high bytes tells transfer programs the file is binary.
        let mut out = format!("%PDF-{version}\n").into_bytes();
        out.extend_from_slice(b"%\xE2\xE3\xCF\xD3\n");
        out
    }

    /// The whole file with a classic cross-reference table: one subsection from 0, exact
    /// offsets, numbers never set written as free entries.
    pub fn write(&self) -> Vec<u8> {
        let mut out = self.header(self.version);
        let mut offsets = BTreeMap::new();
        for (n, body) in &self.objects {
            offsets.insert(*n, out.len());
            write_object(&mut out, *n, body);
        }
        let size = self.size();
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
        for n in 1..size {
            let entry = match offsets.get(&n) {
                Some(offset) => format!("{offset:010} 00000 n \n"),
                None => "0000000000 00001 f \n".to_string(),
            };
            out.extend_from_slice(entry.as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size {size} {} >>\nstartxref\n{xref}\n%%EOF\n", self.trailer).as_bytes(),
        );
        out
    }

    /// The whole file as PDF 1.5 writes it: streams stay at the top level, every other object
    /// goes into one compressed object stream, and a compressed cross-reference stream (which
    /// also carries the trailer entries) replaces the table.
    pub fn write_with_object_streams(&self) -> Vec<u8> {
        let version = if self.version < "1.5" { "1.5" } else { self.version };
        let mut out = self.header(version);
        let (streams, packed): (Vec<_>, Vec<_>) = self.objects.iter().partition(|(_, b)| is_stream(b));
        let objstm = self.size();
        let xref_obj = objstm + 1;
        let size = xref_obj + 1;
        // Per object: (type, field 2, field 3) of its cross-reference stream entry.
        let mut entries: BTreeMap<u32, (u8, u32, u16)> = BTreeMap::new();
        for (n, body) in &streams {
            entries.insert(*n, (1, out.len() as u32, 0));
            write_object(&mut out, *n, body);
        }
        let mut index = String::new();
        let mut data = Vec::new();
        for (i, (n, body)) in packed.iter().enumerate() {
            index.push_str(&format!("{n} {} ", data.len()));
            data.extend_from_slice(body);
            data.push(b'\n');
            entries.insert(*n, (2, objstm, i as u16));
        }
        let first = index.len();
        let mut content = index.into_bytes();
        content.extend_from_slice(&data);
        entries.insert(objstm, (1, out.len() as u32, 0));
        let dict = format!("/Type /ObjStm /N {} /First {first} /Filter /FlateDecode", packed.len());
        write_object(&mut out, objstm, &stream(&dict, &deflate(&content)));
        let xref = out.len();
        entries.insert(xref_obj, (1, xref as u32, 0));
        let mut rows = Vec::with_capacity(size as usize * 7);
        for n in 0..size {
            let (t, f2, f3) = match (n, entries.get(&n)) {
                (0, _) => (0, 0, 0xFFFF),
                (_, Some(e)) => *e,
                (_, None) => (0, 0, 1),
            };
            rows.push(t);
            rows.extend_from_slice(&f2.to_be_bytes());
            rows.extend_from_slice(&f3.to_be_bytes());
        }
        let dict =
            format!("/Type /XRef /Size {size} /W [1 4 2] /Index [0 {size}] /Filter /FlateDecode {}", self.trailer);
        write_object(&mut out, xref_obj, &stream(&dict, &deflate(&rows)));
        out.extend_from_slice(format!("startxref\n{xref}\n%%EOF\n").as_bytes());
        out
    }
}

fn write_object(out: &mut Vec<u8>, n: u32, body: &[u8]) {
    out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\nendobj\n");
}

fn is_stream(body: &[u8]) -> bool {
    body.ends_with(b"endstream")
}

/// A stream object's body: `<< dict /Length n >>`, the data, `endstream`.
pub fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

/// zlib-compressed bytes, as `/FlateDecode` expects them.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// A literal string: `(text)` with `\`, `(` and `)` escaped.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for c in s.chars() {
        if matches!(c, '\\' | '(' | ')') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(')');
    out
}

/// A text string for metadata and titles: literal when ASCII, UTF-16BE with its byte order mark
/// in hexadecimal otherwise.
pub fn text_string(s: &str) -> String {
    if s.is_ascii() {
        return lit(s);
    }
    let mut out = String::from("<FEFF");
    for u in s.encode_utf16() {
        out.push_str(&format!("{u:04X}"));
    }
    out.push('>');
    out
}

/// The byte offset just after the last `startxref` keyword's number: the previous section an
/// incremental update points back to.
fn last_startxref(file: &[u8]) -> usize {
    let at = file.windows(9).rposition(|w| w == b"startxref").expect("a startxref");
    let digits: String = file[at + 9..]
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| c.is_whitespace())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("a startxref offset")
}

/// Appends an incremental update to `base`: the objects given (new, or new versions of old
/// ones), a cross-reference section listing only them, and a trailer with `/Size`, the entries
/// in `trailer` and `/Prev` pointing at the previous section.
pub fn append_update(base: &[u8], objects: &[(u32, Vec<u8>)], size: u32, trailer: &str) -> Vec<u8> {
    let prev = last_startxref(base);
    let mut out = base.to_vec();
    let mut offsets = BTreeMap::new();
    for (n, body) in objects {
        offsets.insert(*n, out.len());
        write_object(&mut out, *n, body);
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n");
    for (n, offset) in &offsets {
        out.extend_from_slice(format!("{n} 1\n{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} {trailer} /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

/// The vertical position of line `i` of a page (the first line is 0).
fn line_y(i: usize) -> usize {
    720 - 18 * i
}

/// The rectangle over line `i` of a page, for an annotation on that line.
pub fn line_rect(i: usize) -> String {
    let y = line_y(i);
    format!("[68 {} 544 {}]", y - 5, y + 13)
}

/// A page's content stream: each line one literal string in Helvetica.
pub fn text_content(lines: &[&str]) -> Vec<u8> {
    let mut s = format!("BT\n/F1 12 Tf\n18 TL\n72 {} Td\n", line_y(0));
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            s.push_str("T*\n");
        }
        s.push_str(&format!("{} Tj\n", lit(line)));
    }
    s.push_str("ET\n");
    s.into_bytes()
}

/// A document under construction: catalog, page tree, one Helvetica font and the document
/// information dictionary around the pages and objects a sample adds. The catalog and the
/// page tree are written last, when the document is finished.
pub struct Doc {
    pub pdf: Pdf,
    pub catalog: u32,
    pub pages: u32,
    pub font: u32,
    /// The page tree's kids, in order: pages made by [`Doc::page`] are appended.
    pub kids: Vec<u32>,
    /// Entries written into the catalog besides `/Type` and `/Pages` (`/OpenAction 9 0 R`).
    pub catalog_extra: String,
    /// Whether page contents are compressed (`/FlateDecode`).
    pub compress: bool,
}

impl Doc {
    pub fn new(title: &str) -> Self {
        let mut pdf = Pdf::new();
        let catalog = pdf.reserve();
        let pages = pdf.reserve();
        let font = pdf.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
        let info = pdf.add(format!(
            "<< /Title {} /Producer (mugai samples) /CreationDate (D:20240401090000Z) >>",
            text_string(title)
        ));
        pdf.trailer = format!("/Root {catalog} 0 R /Info {info} 0 R");
        Doc { pdf, catalog, pages, font, kids: Vec::new(), catalog_extra: String::new(), compress: false }
    }

    pub fn reserve(&mut self) -> u32 {
        self.pdf.reserve()
    }

    pub fn add(&mut self, body: impl Into<Vec<u8>>) -> u32 {
        self.pdf.add(body)
    }

    pub fn add_stream(&mut self, dict: &str, data: &[u8]) -> u32 {
        self.pdf.add_stream(dict, data)
    }

    pub fn set(&mut self, n: u32, body: impl Into<Vec<u8>>) {
        self.pdf.set(n, body)
    }

    /// Adds entries to the catalog.
    pub fn catalog(&mut self, entries: &str) {
        self.catalog_extra.push(' ');
        self.catalog_extra.push_str(entries);
    }

    /// A content stream showing `lines`.
    pub fn contents(&mut self, lines: &[&str]) -> u32 {
        let text = text_content(lines);
        if self.compress {
            self.add_stream("/Filter /FlateDecode", &deflate(&text))
        } else {
            self.add_stream("", &text)
        }
    }

    /// A new last page showing `lines`, with `extra` entries in its dictionary (`/Annots [..]`).
    pub fn page(&mut self, lines: &[&str], extra: &str) -> u32 {
        let n = self.reserve();
        self.page_at(n, lines, extra);
        n
    }

    /// Like [`Doc::page`], under a number reserved before (so that annotations and
    /// destinations made earlier can point at it).
    pub fn page_at(&mut self, n: u32, lines: &[&str], extra: &str) {
        let contents = self.contents(lines);
        self.page_with_contents(n, contents, extra);
    }

    /// A new last page under number `n` whose content stream is object `contents`.
    pub fn page_with_contents(&mut self, n: u32, contents: u32, extra: &str) {
        let (pages, font) = (self.pages, self.font);
        self.set(
            n,
            format!(
                "<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 612 792] \
/Resources << /Font << /F1 {font} 0 R >> >> /Contents {contents} 0 R {extra} >>"
            ),
        );
        self.kids.push(n);
    }

    /// Writes the page tree and the catalog; the document is complete afterwards.
    pub fn into_pdf(mut self) -> Pdf {
        let kids: Vec<String> = self.kids.iter().map(|k| format!("{k} 0 R")).collect();
        let pages = format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), self.kids.len());
        self.set(self.pages, pages);
        let catalog = format!("<< /Type /Catalog /Pages {} 0 R{} >>", self.pages, self.catalog_extra);
        self.set(self.catalog, catalog);
        self.pdf
    }

    /// The file, with a classic cross-reference table.
    pub fn finish(self) -> Vec<u8> {
        self.into_pdf().write()
    }

    /// The file, with its objects in an object stream and a cross-reference stream.
    pub fn finish_with_object_streams(self) -> Vec<u8> {
        self.into_pdf().write_with_object_streams()
    }
}

/// A document with one page: the title, [`MADE_BY`], then `lines`. Line `i` of `lines` is line
/// `i + 2` of the page (see [`line_rect`]).
pub fn base(title: &str, lines: &[&str], page_extra: &str) -> Doc {
    let mut doc = Doc::new(title);
    let mut all = vec![title, MADE_BY];
    all.extend_from_slice(lines);
    doc.page(&all, page_extra);
    doc
}

/// A link annotation over line `line` that runs `action` (an action dictionary or a reference).
pub fn link(line: usize, action: &str) -> String {
    format!("<< /Type /Annot /Subtype /Link /Rect {} /Border [0 0 0] /A {action} >>", line_rect(line))
}

/// An action dictionary that runs `script`.
pub fn js_action(script: &str) -> String {
    format!("<< /Type /Action /S /JavaScript /JS {} >>", lit(script))
}

/// A file specification with its embedded file stream (object `ef`).
pub fn file_spec(name: &str, ef: u32) -> String {
    format!("<< /Type /Filespec /F {} /UF {} /EF << /F {ef} 0 R >> >>", lit(name), text_string(name))
}

/// An embedded file stream: `data` compressed, with its size and MIME type.
pub fn embedded_file(doc: &mut Doc, mime: &str, data: &[u8]) -> u32 {
    let subtype = mime.replace('/', "#2F");
    let dict =
        format!("/Type /EmbeddedFile /Subtype /{subtype} /Params << /Size {} >> /Filter /FlateDecode", data.len());
    doc.add_stream(&dict, &deflate(data))
}

/// A document whose `/Names /EmbeddedFiles` tree holds one attachment.
fn with_attachment(title: &str, name: &str, mime: &str, data: &[u8]) -> Vec<u8> {
    let mut doc = base(title, &[&format!("The file {name} is attached to this document.")], "");
    let ef = embedded_file(&mut doc, mime, data);
    let spec = doc.add(file_spec(name, ef));
    doc.catalog(&format!(
        "/Names << /EmbeddedFiles << /Names [{} {spec} 0 R] >> >> /PageMode /UseAttachments",
        lit(name)
    ));
    doc.finish()
}

// ----------------------------------------------------------------------------------------------
// Benign documents

/// Words on the pages of [`benign`].
pub const BENIGN_WORDS: [&str; 4] = ["Quarterly", "Admissions", "Radiology", "Summary"];

/// The https address linked from [`benign`] and [`dangerous_uris`]; it must survive the default
/// link policy.
pub const WEB_LINK: &str = "https://example.com/guide";

/// Three pages of text, an https link, a link to the third page, an outline of the three pages
/// and an open action that is a destination (show the first page whole); nothing active.
pub fn benign() -> Vec<u8> {
    let mut doc = Doc::new("Quarterly report");
    doc.compress = true;
    let pages = [doc.reserve(), doc.reserve(), doc.reserve()];
    let web = doc.add(link(2, &format!("<< /S /URI /URI {} >>", lit(WEB_LINK))));
    let internal = doc.add(link(3, &format!("<< /S /GoTo /D [{} 0 R /Fit] >>", pages[2])));
    doc.page_at(
        pages[0],
        &["Quarterly report", MADE_BY, "See the guide online for the details.", "The Summary is on page three."],
        &format!("/Annots [{web} 0 R {internal} 0 R]"),
    );
    doc.page_at(pages[1], &["Admissions", "Admissions rose by four percent on the quarter."], "");
    doc.page_at(pages[2], &["Radiology", "Summary: the waiting time fell to nine days."], "");
    let outlines = doc.reserve();
    let items: Vec<u32> = (0..3).map(|_| doc.reserve()).collect();
    for (i, title) in ["Quarterly report", "Admissions", "Radiology"].iter().enumerate() {
        let mut item = format!("<< /Title {} /Parent {outlines} 0 R /Dest [{} 0 R /XYZ 0 792 0]", lit(title), pages[i]);
        if i > 0 {
            item.push_str(&format!(" /Prev {} 0 R", items[i - 1]));
        }
        if i + 1 < items.len() {
            item.push_str(&format!(" /Next {} 0 R", items[i + 1]));
        }
        item.push_str(" >>");
        doc.set(items[i], item);
    }
    doc.set(outlines, format!("<< /Type /Outlines /First {} 0 R /Last {} 0 R /Count 3 >>", items[0], items[2]));
    doc.catalog(&format!(
        "/Outlines {outlines} 0 R /PageMode /UseOutlines /OpenAction [{} 0 R /Fit] /Lang (en-GB)",
        pages[0]
    ));
    doc.finish()
}

/// Words on the pages of [`benign_object_streams`].
pub const OBJECT_STREAM_WORDS: [&str; 2] = ["Pharmacy", "Dispensing"];

/// Two pages in a PDF 1.5 file (object stream, cross-reference stream) that opens with a plain
/// GoTo action to its first page; nothing active.
pub fn benign_object_streams() -> Vec<u8> {
    let mut doc = Doc::new("Pharmacy stock");
    doc.compress = true;
    let first = doc.page(&["Pharmacy stock", MADE_BY], "");
    doc.page(&["Dispensing", "Dispensing times are listed by ward."], "");
    doc.catalog(&format!("/OpenAction << /S /GoTo /D [{first} 0 R /Fit] >>"));
    doc.finish_with_object_streams()
}

// ----------------------------------------------------------------------------------------------
// JavaScript and automatic actions

/// A script that runs when the document opens (`/OpenAction`).
pub fn js_open_action() -> Vec<u8> {
    let mut doc = base("Open action script", &[], "");
    let action = doc.add(js_action(ALERT));
    doc.catalog(&format!("/OpenAction {action} 0 R"));
    doc.finish()
}

/// A document-level script in the `/Names /JavaScript` tree, its code in a stream.
pub fn js_names_tree() -> Vec<u8> {
    let mut doc = base("Document script", &[], "");
    let code = doc.add_stream("", ALERT.as_bytes());
    let action = doc.add(format!("<< /Type /Action /S /JavaScript /JS {code} 0 R >>"));
    let tree = doc.add(format!("<< /Names [(startup) {action} 0 R] >>"));
    doc.catalog(&format!("/Names << /JavaScript {tree} 0 R >>"));
    doc.finish()
}

/// The text under the script link of [`js_link`].
pub const JS_LINK_TEXT: &str = "Open the appointment form";

/// A link whose action is a script; its text must survive.
pub fn js_link() -> Vec<u8> {
    let mut doc = Doc::new("Script link");
    let annot = doc.add(link(2, &js_action(ALERT)));
    doc.page(&["Script link", MADE_BY, JS_LINK_TEXT], &format!("/Annots [{annot} 0 R]"));
    doc.finish()
}

/// The label of the form field in [`js_form_field`].
pub const FIELD_LABEL: &str = "Amount due";

/// A text field with keystroke, format, validate and calculate scripts in its `/AA`, and a page
/// open script in the page's `/AA`.
pub fn js_form_field() -> Vec<u8> {
    let mut doc = Doc::new("Form scripts");
    let page = doc.reserve();
    let helv = doc.font;
    let script = |s: &str| js_action(s);
    let field = doc.add(format!(
        "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (10.00) /DA (/Helv 12 Tf 0 g) /F 4 \
/Rect [200 {} 400 {}] /P {page} 0 R /AA << /K {} /F {} /V {} /C {} >> >>",
        line_y(2) - 5,
        line_y(2) + 13,
        script("AFNumber_Keystroke(2, 0, 0, 0, '', true);"),
        script("AFNumber_Format(2, 0, 0, 0, '', true);"),
        script("if (event.value < 0) app.alert('mugai test');"),
        script("event.value = 10;"),
    ));
    doc.page_at(
        page,
        &["Form scripts", MADE_BY, FIELD_LABEL],
        &format!("/Annots [{field} 0 R] /AA << /O {} >>", script(ALERT)),
    );
    doc.catalog(&format!(
        "/AcroForm << /Fields [{field} 0 R] /CO [{field} 0 R] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv {helv} 0 R >> >> >>"
    ));
    doc.finish()
}

/// An open action script inside a compressed object stream (PDF 1.5), invisible to a search of
/// the file's bytes.
pub fn js_in_object_stream() -> Vec<u8> {
    let mut doc = base("Script in an object stream", &[], "");
    doc.compress = true;
    let action = doc.add(js_action(ALERT));
    doc.catalog(&format!("/OpenAction {action} 0 R"));
    doc.finish_with_object_streams()
}

/// An open action script and a document script whose names are written with `#xx` escapes
/// (`/Open#41ction`, `/S /Java#53cript`, `/J#53`, `/#4A#61vaScript`): the same names to a
/// reader, different bytes to a search.
pub fn js_escaped_names() -> Vec<u8> {
    let mut doc = base("Escaped names", &[], "");
    let open = doc.add(format!("<< /S /Java#53cript /J#53 {} >>", lit(ALERT)));
    let named = doc.add(format!("<< /S /Java#53cript /J#53 {} >>", lit(ALERT)));
    let tree = doc.add(format!("<< /Names [(startup) {named} 0 R] >>"));
    doc.catalog(&format!("/Open#41ction {open} 0 R /Names << /#4A#61vaScript {tree} 0 R >>"));
    doc.finish()
}

/// A clean document to which an incremental update adds an open action script: the catalog is
/// written again after the first `%%EOF`, with `/Prev` pointing back.
pub fn incremental_js() -> Vec<u8> {
    let doc = base("Incremental update", &[], "");
    let (catalog, pages) = (doc.catalog, doc.pages);
    let pdf = doc.into_pdf();
    let original = pdf.write();
    let action = pdf.size();
    let objects = vec![
        (catalog, format!("<< /Type /Catalog /Pages {pages} 0 R /OpenAction {action} 0 R >>").into_bytes()),
        (action, js_action(ALERT).into_bytes()),
    ];
    let trailer = pdf.trailer.clone();
    append_update(&original, &objects, action + 1, &trailer)
}

// ----------------------------------------------------------------------------------------------
// Dangerous actions

/// An open action that launches a program (`cmd.exe /c echo`).
pub fn launch_open_action() -> Vec<u8> {
    let mut doc = base("Launch action", &[], "");
    let action = doc.add(
        "<< /Type /Action /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c echo mugai test) >> /NewWindow true >>",
    );
    doc.catalog(&format!("/OpenAction {action} 0 R"));
    doc.finish()
}

/// The text of [`submit_form`]'s button line.
pub const SUBMIT_TEXT: &str = "Send the form";

/// A push button that submits the form's fields to a web address.
pub fn submit_form() -> Vec<u8> {
    let mut doc = Doc::new("Submit form");
    let page = doc.reserve();
    let helv = doc.font;
    let name = doc.add(format!(
        "<< /Type /Annot /Subtype /Widget /FT /Tx /T (patient) /V (Test) /DA (/Helv 12 Tf 0 g) /F 4 \
/Rect [200 {} 400 {}] /P {page} 0 R >>",
        line_y(2) - 5,
        line_y(2) + 13
    ));
    let button = doc.add(format!(
        "<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (send) /F 4 /Rect {} /P {page} 0 R \
/MK << /CA (Send) >> /A << /Type /Action /S /SubmitForm /F << /FS /URL /F (https://example.invalid/collect) >> \
/Flags 4 >> >>",
        line_rect(3)
    ));
    doc.page_at(page, &["Submit form", MADE_BY, "Patient", SUBMIT_TEXT], &format!("/Annots [{name} 0 R {button} 0 R]"));
    doc.catalog(&format!(
        "/AcroForm << /Fields [{name} 0 R {button} 0 R] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv {helv} 0 R >> >> >>"
    ));
    doc.finish()
}

/// The text of [`signed`]'s signature line.
pub const SIGNED_TEXT: &str = "Signed by the clinic";

/// A signed form (a signature field with its value, and DocMDP permissions resting on it): any
/// rewrite breaks the signature, so it goes.
pub fn signed() -> Vec<u8> {
    let mut doc = Doc::new("Signed report");
    let page = doc.reserve();
    let sig = doc.add(
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange [0 10 20 10] \
/Contents <3082000000> /M (D:20260101000000Z) >>",
    );
    let field = doc.add(format!(
        "<< /Type /Annot /Subtype /Widget /FT /Sig /T (signature) /V {sig} 0 R /F 132 /Rect [0 0 0 0] /P {page} 0 R >>"
    ));
    doc.page_at(page, &["Signed report", MADE_BY, SIGNED_TEXT], &format!("/Annots [{field} 0 R]"));
    doc.catalog(&format!("/AcroForm << /Fields [{field} 0 R] /SigFlags 3 >> /Perms << /DocMDP {sig} 0 R >>"));
    doc.finish()
}

/// A link that opens another document (`/GoToR`).
pub fn gotor_link() -> Vec<u8> {
    let mut doc = Doc::new("Remote go-to");
    let annot = doc.add(link(2, "<< /Type /Action /S /GoToR /F (other/report.pdf) /D [0 /Fit] /NewWindow true >>"));
    doc.page(&["Remote go-to", MADE_BY, "Open the other report"], &format!("/Annots [{annot} 0 R]"));
    doc.finish()
}

/// A link that opens an embedded document (`/GoToE`).
pub fn gotoe_link() -> Vec<u8> {
    let mut doc = Doc::new("Embedded go-to");
    let annot = doc.add(link(2, "<< /Type /Action /S /GoToE /T << /R /C /N (inner.pdf) >> /D [0 /Fit] >>"));
    doc.page(&["Embedded go-to", MADE_BY, "Open the embedded report"], &format!("/Annots [{annot} 0 R]"));
    doc.finish()
}

/// Links that import form data, play a rendition, a sound and a movie.
pub fn media_actions() -> Vec<u8> {
    let mut doc = Doc::new("Media actions");
    let sound = doc.add_stream("/Type /Sound /R 8000 /C 1 /B 8 /E /Raw", &[0x80; 64]);
    let actions = [
        "<< /Type /Action /S /ImportData /F (values.fdf) >>".to_string(),
        "<< /Type /Action /S /Rendition /OP 0 /R << /Type /Rendition /S /MR /C << /Type /MediaClip /S /MCD \
/D << /Type /Filespec /F (clip.mp4) >> /CT (video/mp4) >> >> >>"
            .to_string(),
        format!("<< /Type /Action /S /Sound /Sound {sound} 0 R >>"),
        "<< /Type /Action /S /Movie /T (clip) /Operation /Play >>".to_string(),
    ];
    let annots: Vec<String> =
        actions.iter().enumerate().map(|(i, a)| format!("{} 0 R", doc.add(link(i + 2, a)))).collect();
    doc.page(
        &["Media actions", MADE_BY, "Import the values", "Play the clip", "Play the sound", "Play the movie"],
        &format!("/Annots [{}]", annots.join(" ")),
    );
    doc.finish()
}

/// The text of the link whose `/Next` chain loops in [`action_loop`].
pub const LOOP_LINK_TEXT: &str = "Go to the top";

/// A link whose GoTo action's `/Next` is a script whose `/Next` is the GoTo again: a loop a
/// naive walker never leaves.
pub fn action_loop() -> Vec<u8> {
    let mut doc = Doc::new("Action loop");
    let page = doc.reserve();
    let goto = doc.reserve();
    let js = doc.add(format!("<< /Type /Action /S /JavaScript /JS {} /Next {goto} 0 R >>", lit(ALERT)));
    doc.set(goto, format!("<< /Type /Action /S /GoTo /D [{page} 0 R /Fit] /Next {js} 0 R >>"));
    let annot = doc.add(link(2, &format!("{goto} 0 R")));
    doc.page_at(page, &["Action loop", MADE_BY, LOOP_LINK_TEXT], &format!("/Annots [{annot} 0 R]"));
    doc.finish()
}

// ----------------------------------------------------------------------------------------------
// Links

/// The targets [`dangerous_uris`] links to besides [`WEB_LINK`]; each must go.
pub const DANGEROUS_URIS: [&str; 4] = [
    "javascript:app.alert('mugai test')",
    "file:///C:/Windows/System32/calc.exe",
    "data:text/html,<p>mugai test</p>",
    r"\\fileserver\share\notes.pdf",
];

/// Texts of the links of [`dangerous_uris`], one per line.
pub const URI_LINK_TEXTS: [&str; 5] =
    ["Run the check", "Open the program", "Show the note", "Open the shared notes", "Read the guide"];

/// Links to `javascript:`, `file:`, `data:` and UNC targets next to an https link.
pub fn dangerous_uris() -> Vec<u8> {
    let mut doc = Doc::new("Link targets");
    let targets: Vec<&str> = DANGEROUS_URIS.iter().copied().chain([WEB_LINK]).collect();
    let annots: Vec<String> = targets
        .iter()
        .enumerate()
        .map(|(i, uri)| format!("{} 0 R", doc.add(link(i + 2, &format!("<< /S /URI /URI {} >>", lit(uri))))))
        .collect();
    let mut lines = vec!["Link targets", MADE_BY];
    lines.extend_from_slice(&URI_LINK_TEXTS);
    doc.page(&lines, &format!("/Annots [{}]", annots.join(" ")));
    doc.finish()
}

// ----------------------------------------------------------------------------------------------
// Embedded files

/// The name of the macro-enabled document attached to [`embedded_docm`].
pub const EMBEDDED_DOCM_NAME: &str = "invoice.docm";

/// A macro-enabled Word document (an `AutoOpen` VBA project) attached through the
/// `/EmbeddedFiles` tree.
pub fn embedded_docm() -> Vec<u8> {
    let docm = word::vba(ct::DOCM_MAIN);
    with_attachment(
        "Attached macro document",
        EMBEDDED_DOCM_NAME,
        "application/vnd.ms-word.document.macroEnabled.12",
        &docm,
    )
}

/// A program (PE header, no code) attached through the `/EmbeddedFiles` tree.
pub fn embedded_exe() -> Vec<u8> {
    with_attachment("Attached program", "setup.exe", "application/octet-stream", &hostile::executable())
}

/// The name and content of the text file attached to [`attachment_text`].
pub const ATTACHED_TEXT_NAME: &str = "notes.txt";
pub const ATTACHED_TEXT: &[u8] = b"Ward round notes\r\nBed 4: discharged.\r\n";

/// A plain text file attached through a `/FileAttachment` annotation: harmless.
pub fn attachment_text() -> Vec<u8> {
    let mut doc = Doc::new("Attached notes");
    let ef = embedded_file(&mut doc, "text/plain", ATTACHED_TEXT);
    let annot = doc.add(format!(
        "<< /Type /Annot /Subtype /FileAttachment /Rect [480 {} 496 {}] /Name /Paperclip /Contents (Ward round notes) \
/FS {} >>",
        line_y(2) - 5,
        line_y(2) + 13,
        file_spec(ATTACHED_TEXT_NAME, ef)
    ));
    doc.page(&["Attached notes", MADE_BY, "The ward round notes are attached."], &format!("/Annots [{annot} 0 R]"));
    doc.finish()
}

// ----------------------------------------------------------------------------------------------
// Forms and media

/// An AcroForm with an XFA form (whose template carries an initialize script) and one field.
pub fn xfa_form() -> Vec<u8> {
    let mut doc = Doc::new("XFA form");
    let page = doc.reserve();
    let helv = doc.font;
    let field = doc.add(format!(
        "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Test) /DA (/Helv 12 Tf 0 g) /F 4 \
/Rect [200 {} 400 {}] /P {page} 0 R >>",
        line_y(2) - 5,
        line_y(2) + 13
    ));
    let packets = [
        ("xdp:xdp", "<xdp:xdp xmlns:xdp=\"http://ns.adobe.com/xdp/\">"),
        (
            "template",
            "<template xmlns=\"http://www.xfa.org/schema/xfa-template/3.3/\"><subform name=\"form1\">\
<field name=\"name\"><event activity=\"initialize\"><script contentType=\"application/x-javascript\">\
app.alert('mugai test');</script></event></field></subform></template>",
        ),
        ("datasets", "<xfa:datasets xmlns:xfa=\"http://www.xfa.org/schema/xfa-data/1.0/\"><xfa:data/></xfa:datasets>"),
        ("</xdp:xdp>", "</xdp:xdp>"),
    ];
    let mut xfa = Vec::new();
    for (name, xml) in packets {
        let s = doc.add_stream("", xml.as_bytes());
        xfa.push(format!("{} {s} 0 R", lit(name)));
    }
    doc.page_at(page, &["XFA form", MADE_BY, "Name"], &format!("/Annots [{field} 0 R]"));
    doc.catalog(&format!(
        "/AcroForm << /Fields [{field} 0 R] /XFA [{}] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv {helv} 0 R >> >> >>",
        xfa.join(" ")
    ));
    doc.finish()
}

/// A RichMedia (Flash) annotation whose asset is an embedded file.
pub fn rich_media() -> Vec<u8> {
    let mut doc = Doc::new("Rich media");
    let mut swf = b"FWS\x0A".to_vec();
    swf.resize(64, 0);
    let ef = embedded_file(&mut doc, "application/x-shockwave-flash", &swf);
    let asset = doc.add(file_spec("player.swf", ef));
    let annot = doc.add(format!(
        "<< /Type /Annot /Subtype /RichMedia /Rect [72 400 372 600] \
/RichMediaSettings << /Type /RichMediaSettings /Activation << /Type /RichMediaActivation /Condition /PO >> >> \
/RichMediaContent << /Type /RichMediaContent /Assets << /Names [(player.swf) {asset} 0 R] >> \
/Configurations [<< /Type /RichMediaConfiguration /Subtype /Flash /Instances [<< /Type /RichMediaInstance \
/Subtype /Flash /Asset {asset} 0 R >>] >>] >> >>"
    ));
    doc.page(&["Rich media", MADE_BY, "A player was placed below."], &format!("/Annots [{annot} 0 R]"));
    doc.finish()
}

/// A 3D annotation (a U3D stream) that activates when the page opens.
pub fn annotation_3d() -> Vec<u8> {
    let mut doc = Doc::new("3D model");
    let mut u3d = b"U3D\0".to_vec();
    u3d.resize(64, 0);
    let model = doc.add_stream("/Type /3D /Subtype /U3D", &u3d);
    let annot = doc.add(format!(
        "<< /Type /Annot /Subtype /3D /Rect [72 400 372 600] /3DD {model} 0 R /3DA << /A /PO /D /PC >> >>"
    ));
    doc.page(&["3D model", MADE_BY, "A model was placed below."], &format!("/Annots [{annot} 0 R]"));
    doc.finish()
}

/// Screen, Movie and Sound annotations.
pub fn media_annotations() -> Vec<u8> {
    let mut doc = Doc::new("Media annotations");
    let sound = doc.add_stream("/Type /Sound /R 8000 /C 1 /B 8 /E /Raw", &[0x80; 64]);
    let annots = [
        format!("<< /Type /Annot /Subtype /Screen /Rect {} /T (clip) /MK << /CA (Play) >> >>", line_rect(2)),
        format!("<< /Type /Annot /Subtype /Movie /Rect {} /T (movie) /Movie << /F (clip.mov) >> >>", line_rect(3)),
        format!("<< /Type /Annot /Subtype /Sound /Rect {} /Sound {sound} 0 R /Name /Speaker >>", line_rect(4)),
    ];
    let refs: Vec<String> = annots.iter().map(|a| format!("{} 0 R", doc.add(a.clone()))).collect();
    doc.page(&["Media annotations", MADE_BY, "Screen", "Movie", "Sound"], &format!("/Annots [{}]", refs.join(" ")));
    doc.finish()
}

// ----------------------------------------------------------------------------------------------
// Encryption

/// The user password of [`encrypted_with_password`].
pub const USER_PASSWORD: &str = "mugai-user";

/// Words on the page of the encrypted samples.
pub const ENCRYPTED_WORDS: [&str; 2] = ["Confidential", "discharge"];

/// The confidential letter, encrypted by the standard security handler so that it opens with
/// `user_password` (empty: anyone can open it; the owner password only guards permissions).
/// RC4 with a 128-bit key (revision 3) is deterministic here: the file identifier is fixed and
/// the arbitrary half of `/U` is zeroed. AES-128 (revision 4) draws a random initialisation
/// vector for every string and stream, so its bytes differ on every build.
fn encrypted(user_password: &str, aes: bool) -> Vec<u8> {
    use lopdf::encryption::crypt_filters::{Aes128CryptFilter, CryptFilter};
    use lopdf::{EncryptionState, EncryptionVersion, Object, Permissions, StringFormat};
    use std::sync::Arc;
    let plain = base("Confidential letter", &["The discharge letter follows."], "").finish();
    let mut doc = lopdf::Document::load_mem(&plain).expect("the sample parses");
    let id = Object::String(b"mugai-sample-id!".to_vec(), StringFormat::Hexadecimal);
    doc.trailer.set("ID", Object::Array(vec![id.clone(), id]));
    let owner_password = "mugai-owner";
    let permissions = Permissions::all();
    let version = if aes {
        let filter: Arc<dyn CryptFilter> = Arc::new(Aes128CryptFilter);
        EncryptionVersion::V4 {
            document: &doc,
            encrypt_metadata: true,
            crypt_filters: BTreeMap::from([(b"StdCF".to_vec(), filter)]),
            stream_filter: b"StdCF".to_vec(),
            string_filter: b"StdCF".to_vec(),
            owner_password,
            user_password,
            permissions,
        }
    } else {
        EncryptionVersion::V2 { document: &doc, owner_password, user_password, key_length: 128, permissions }
    };
    let state = EncryptionState::try_from(version).expect("encryption parameters");
    doc.encrypt(&state).expect("encrypting the sample");
    // Only the first 16 bytes of /U are checked; the rest is arbitrary (random in lopdf).
    let dict_id = doc.trailer.get(b"Encrypt").and_then(Object::as_reference).expect("an /Encrypt reference");
    let dict = doc.get_dictionary_mut(dict_id).expect("the encryption dictionary");
    if let Ok(Object::String(u, _)) = dict.get_mut(b"U") {
        for b in u.iter_mut().skip(16) {
            *b = 0;
        }
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("writing to memory");
    out
}

/// Encrypted (AES-128) with an empty user password. Not deterministic (random initialisation
/// vectors), so it is not among [`all`]: tests build it on the fly.
pub fn encrypted_aes_empty_password() -> Vec<u8> {
    encrypted("", true)
}

/// Encrypted (RC4-128) with an empty user password: opens without one.
pub fn encrypted_empty_password() -> Vec<u8> {
    encrypted("", false)
}

/// Encrypted (RC4-128) with a user password: cannot be read without it.
pub fn encrypted_with_password() -> Vec<u8> {
    encrypted(USER_PASSWORD, false)
}

/// Encrypted (AES-128) with a user password. Not deterministic, like
/// [`encrypted_aes_empty_password`].
pub fn encrypted_aes_with_password() -> Vec<u8> {
    encrypted(USER_PASSWORD, true)
}

// ----------------------------------------------------------------------------------------------
// Hostile files

/// A clean document cut short just before its page tree: the page tree and the catalog (written
/// last) are lost with the cross-reference table and the trailer.
pub fn truncated() -> Vec<u8> {
    let doc = base("Truncated", &[], "");
    let pages = doc.pages;
    let full = doc.finish();
    let marker = format!("\n{pages} 0 obj\n");
    let at = full.windows(marker.len()).position(|w| w == marker.as_bytes()).expect("the page tree");
    full[..at + 1].to_vec()
}

/// Words on the page of [`reference_loops`].
pub const LOOP_WORDS: [&str; 2] = ["Reference", "rings"];

/// A clean page whose objects point at one another in rings: a ring of three dictionaries
/// hung from the catalog, a dictionary that names itself, and a page whose resources point back
/// at the page tree. Nothing active: a walker that does not remember where it has been never
/// finishes, one that does rebuilds the page.
pub fn reference_loops() -> Vec<u8> {
    let mut doc = Doc::new("Reference loops");
    let ring = [doc.reserve(), doc.reserve(), doc.reserve()];
    for (i, n) in ring.iter().enumerate() {
        let next = ring[(i + 1) % ring.len()];
        doc.set(*n, format!("<< /Ring {i} /Next {next} 0 R /Back {} 0 R >>", ring[(i + 2) % ring.len()]));
    }
    let me = doc.reserve();
    doc.set(me, format!("<< /Self {me} 0 R /Ring {} 0 R >>", ring[0]));
    let tree = doc.pages;
    doc.page(
        &["Reference rings", MADE_BY],
        &format!("/PieceInfo << /mugai << /Private {me} 0 R /Tree {tree} 0 R >> >>"),
    );
    doc.catalog(&format!("/Ring {} 0 R", ring[0]));
    doc.finish()
}

/// A PDF header followed by 4 KiB of noise.
pub fn random_after_header() -> Vec<u8> {
    let mut d = b"%PDF-1.7\n".to_vec();
    d.extend_from_slice(&Prng::new(11).bytes(4096));
    d
}

/// A page tree whose inner node lists the root among its kids.
pub fn page_tree_loop() -> Vec<u8> {
    let mut doc = base("Page tree loop", &[], "");
    let page = doc.kids[0];
    let node =
        doc.add(format!("<< /Type /Pages /Parent {} 0 R /Kids [{page} 0 R {} 0 R] /Count 1 >>", doc.pages, doc.pages));
    doc.kids = vec![node];
    doc.finish()
}

/// How deep the dictionary of [`deep_nesting`] is nested.
pub const DEEP_NESTING: usize = 80;

/// A page carrying a dictionary nested [`DEEP_NESTING`] levels deep.
pub fn deep_nesting() -> Vec<u8> {
    let n = DEEP_NESTING - 1;
    let nested = format!("{}<< /Leaf true >>{}", "<< /D ".repeat(n), " >>".repeat(n));
    base("Deep nesting", &[], &format!("/PieceInfo << /mugai << /Private {nested} >> >>")).finish()
}

/// How many objects [`many_objects`] has besides those of its page.
pub const MANY_OBJECTS: u32 = 100_000;

/// [`MANY_OBJECTS`] small dictionaries, all reachable from the catalog through one array.
pub fn many_objects() -> Vec<u8> {
    let mut doc = base("Many objects", &[], "");
    let array = doc.reserve();
    let mut refs = String::with_capacity(MANY_OBJECTS as usize * 10);
    for i in 0..MANY_OBJECTS {
        let n = doc.add(format!("<< /I {i} >>"));
        refs.push_str(&format!("{n} 0 R "));
    }
    doc.set(array, format!("[{refs}]"));
    doc.catalog(&format!("/Filler {array} 0 R"));
    doc.finish()
}

/// A zlib stream of `expanded` zero bytes, built without compressing them all: one MiB of zeros
/// is compressed with a full flush (byte-aligned, no reference to earlier data), those bytes
/// are repeated, and the stream ends with an empty final block and the Adler-32 of the whole.
/// `expanded` is rounded up to whole MiB.
pub fn zeros_zlib(expanded: u64) -> Vec<u8> {
    const MIB: usize = 1024 * 1024;
    let blocks = expanded.div_ceil(MIB as u64).max(1);
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(4096);
    c.compress_vec(&vec![0u8; MIB], &mut block, flate2::FlushCompress::Full).expect("deflate");
    assert_eq!(c.total_in(), MIB as u64, "the whole block was compressed");
    let mut out = Vec::with_capacity(block.len() * blocks as usize + 16);
    out.extend_from_slice(&[0x78, 0xDA]);
    for _ in 0..blocks {
        out.extend_from_slice(&block);
    }
    // A final stored block of length 0, then Adler-32: zeros leave a at 1, b grows by 1 a byte.
    out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    let b = (blocks * MIB as u64 % 65521) as u32;
    out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    out
}

/// A one-page document whose content stream inflates to `expanded_bytes` zero bytes (rounded up
/// to whole MiB; zero bytes are white space in a content stream).
pub fn flate_bomb_pdf(expanded_bytes: u64) -> Vec<u8> {
    let mut doc = Doc::new("Flate bomb");
    let contents = doc.add_stream("/Filter /FlateDecode", &zeros_zlib(expanded_bytes));
    let page = doc.reserve();
    doc.page_with_contents(page, contents, "");
    doc.finish()
}

/// A one-page document whose content stream is flate-compressed twice (`/Filter [/FlateDecode
/// /FlateDecode]`) and inflates to `expanded_bytes` zero bytes: the inner stream is
/// [`zeros_zlib`], about 1 KiB per MiB, and compressing its repeated blocks again takes it to
/// a few KiB, so that a 4 GiB bomb is a small file.
pub fn double_flate_bomb_pdf(expanded_bytes: u64) -> Vec<u8> {
    let mut doc = Doc::new("Double flate bomb");
    let outer = deflate(&zeros_zlib(expanded_bytes));
    let contents = doc.add_stream("/Filter [/FlateDecode /FlateDecode]", &outer);
    let page = doc.reserve();
    doc.page_with_contents(page, contents, "");
    doc.finish()
}

/// What the flate bomb of [`all`] expands to: past `max_stream_bytes` (256 MiB), within
/// `max_total_bytes` (1 GiB).
pub const BOMB_EXPANDED_BYTES: u64 = 300 * 1024 * 1024;

fn sample(file_name: &'static str, bytes: Vec<u8>, expected: Expected) -> Sample {
    Sample { file_name, bytes, expected }
}

/// Every PDF sample, in a fixed order, with the outcome it must reach under the default
/// configuration.
pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    let auto_js = [RemovedAutoAction, RemovedJavascript];
    let pdf = |actions: &[ActionKind]| Expected::disarmed("pdf", actions);
    vec![
        // Benign: rebuilt with nothing to report.
        sample("benign_report.pdf", benign(), Expected::clean("pdf").keeping(&BENIGN_WORDS)),
        sample(
            "benign_object_streams.pdf",
            benign_object_streams(),
            Expected::clean("pdf").keeping(&OBJECT_STREAM_WORDS),
        ),
        // JavaScript and automatic actions.
        sample("js_open_action.pdf", js_open_action(), pdf(&auto_js)),
        sample("js_names_tree.pdf", js_names_tree(), pdf(&[RemovedJavascript])),
        sample("js_link.pdf", js_link(), pdf(&[RemovedJavascript]).keeping(&["appointment", "form"])),
        sample("js_form_field.pdf", js_form_field(), pdf(&auto_js).keeping(&[FIELD_LABEL])),
        sample("js_object_stream.pdf", js_in_object_stream(), pdf(&auto_js)),
        sample("js_escaped_names.pdf", js_escaped_names(), pdf(&auto_js)),
        sample("js_incremental_update.pdf", incremental_js(), pdf(&auto_js).keeping(&["Incremental"])),
        sample("action_next_loop.pdf", action_loop(), pdf(&[RemovedJavascript]).keeping(&[LOOP_LINK_TEXT])),
        sample("reference_loops.pdf", reference_loops(), Expected::clean("pdf").keeping(&LOOP_WORDS)),
        // Dangerous actions.
        sample("launch_open_action.pdf", launch_open_action(), pdf(&[RemovedAutoAction, RemovedDangerousAction])),
        sample("submit_form.pdf", submit_form(), pdf(&[RemovedDangerousAction]).keeping(&[SUBMIT_TEXT])),
        sample("signed.pdf", signed(), pdf(&[RemovedSignature]).keeping(&[SIGNED_TEXT])),
        sample("gotor_link.pdf", gotor_link(), pdf(&[RemovedDangerousAction])),
        sample("gotoe_link.pdf", gotoe_link(), pdf(&[RemovedDangerousAction])),
        sample("media_actions.pdf", media_actions(), pdf(&[RemovedDangerousAction])),
        // Links.
        sample(
            "uri_dangerous_schemes.pdf",
            dangerous_uris(),
            pdf(&[RemovedExternalReference]).keeping(&URI_LINK_TEXTS),
        ),
        // Embedded files: removed under the default `[pdf] embedded_files = "remove"`.
        sample("embedded_docm.pdf", embedded_docm(), pdf(&[RemovedEmbeddedFile])),
        sample("embedded_exe.pdf", embedded_exe(), pdf(&[RemovedEmbeddedFile])),
        sample("attachment_text.pdf", attachment_text(), pdf(&[RemovedEmbeddedFile]).keeping(&["ward", "round"])),
        // Forms and media.
        sample("xfa_form.pdf", xfa_form(), pdf(&[RemovedXfa])),
        sample("rich_media.pdf", rich_media(), pdf(&[RemovedRichMedia])),
        sample("annotation_3d.pdf", annotation_3d(), pdf(&[RemovedRichMedia])),
        sample("media_annotations.pdf", media_annotations(), pdf(&[RemovedRichMedia])),
        // Encryption.
        sample(
            "encrypted_empty_password.pdf",
            encrypted_empty_password(),
            pdf(&[RemovedEncryption]).keeping(&ENCRYPTED_WORDS),
        ),
        sample("encrypted_user_password.pdf", encrypted_with_password(), Expected::blocked(Reason::Encrypted)),
        // Blocked.
        sample("blocked_truncated.pdf", truncated(), Expected::blocked(Reason::Malformed)),
        sample("blocked_random_body.pdf", random_after_header(), Expected::blocked(Reason::Malformed)),
        sample("blocked_page_tree_loop.pdf", page_tree_loop(), Expected::blocked(Reason::Malformed)),
        sample("blocked_deep_nesting.pdf", deep_nesting(), Expected::blocked(Reason::LimitNesting)),
        sample("blocked_many_objects.pdf", many_objects(), Expected::blocked(Reason::LimitObjects)),
        sample(
            "blocked_flate_bomb.pdf",
            flate_bomb_pdf(BOMB_EXPANDED_BYTES),
            Expected::blocked(Reason::LimitStreamBytes),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn literal_strings_escape_delimiters() {
        assert_eq!(lit(r"a(b)\c"), r"(a\(b\)\\c)");
        assert_eq!(text_string("無害"), "<FEFF71215BB3>");
    }

    #[test]
    fn classic_xref_offsets_point_at_their_objects() {
        let file = base("Offsets", &[], "").finish();
        let xref = last_startxref(&file);
        assert!(file[xref..].starts_with(b"xref\n0 "));
        let table = String::from_utf8_lossy(&file[xref..]).into_owned();
        for (n, line) in table.lines().skip(3).take_while(|l| l.len() == 19).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            let head = format!("{} 0 obj", n + 1);
            assert!(file[offset..].starts_with(head.as_bytes()), "object {} at {offset}", n + 1);
        }
    }

    #[test]
    fn the_double_flate_bomb_is_small_and_inflates_twice_to_its_size() {
        let pdf = double_flate_bomb_pdf(64 * 1024 * 1024);
        assert!(pdf.len() < 16 * 1024, "{} bytes", pdf.len());
        let start = pdf.windows(7).position(|w| w == b"stream\n").expect("a stream") + 7;
        let end = pdf.windows(10).position(|w| w == b"\nendstream").expect("its end");
        let mut inner = Vec::new();
        flate2::read::ZlibDecoder::new(&pdf[start..end]).read_to_end(&mut inner).expect("outer layer");
        let mut n = 0u64;
        let mut d = flate2::read::ZlibDecoder::new(&inner[..]);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let k = d.read(&mut buf).expect("inner layer");
            if k == 0 {
                break;
            }
            assert!(buf[..k].iter().all(|&b| b == 0));
            n += k as u64;
        }
        assert_eq!(n, 64 * 1024 * 1024);
    }

    #[test]
    fn the_zeros_stream_inflates_to_its_size() {
        let z = zeros_zlib(3 * 1024 * 1024);
        let mut d = flate2::read::ZlibDecoder::new(&z[..]);
        let mut out = Vec::new();
        d.read_to_end(&mut out).expect("a valid zlib stream, checksum included");
        assert_eq!(out.len(), 3 * 1024 * 1024);
        assert!(out.iter().all(|&b| b == 0));
        assert!(z.len() < 8 * 1024, "{} bytes", z.len());
    }
}
