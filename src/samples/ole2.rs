//! Legacy Office samples (OLE2 compound files), one per row of the legacy Office checklist:
//! a minimal Word 97 document (a File Information Block, a piece table, a style sheet, a font
//! table and one paragraph of text), a minimal BIFF8 workbook (globals with fonts, formats and
//! sheets, and worksheet substreams of text cells), 一太郎-like documents, and PowerPoint
//! record streams made only to exercise the checks (they are not complete presentations). The
//! VBA projects are [`media::vba_project`], grafted under `Macros` or `_VBA_PROJECT_CUR`; the
//! embedded objects are [`media::ole_package`] batch files that echo. Nothing runs.
//!
//! [`all`] lists them with their expected outcomes; `examples/gen_samples.rs` writes them to
//! `samples/ole2/`.

use super::media;
use super::{sample, Expected, Sample};
use crate::model::{ActionKind, Reason};
use std::io::{Cursor, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Text of every sample document; the tests look for these words in the outputs.
pub const DOC_WORDS: [&str; 3] = ["Discharge", "summary", "ward"];
const DOC_TEXT: &str = "Discharge summary for ward 3 patients.";
/// A string that only the VBA module's source holds.
pub const VBA_MARKER: &str = "mugai sample macro";
/// A string that only the XLM macro sheet holds.
pub const XLM_MARKER: &str = "MUGAI_XLM_SAMPLE_CELL";
/// A string that only the slack after a workbook's last record holds.
pub const SLACK_MARKER: &str = "MUGAI_SLACK_AFTER_EOF";
/// A string that only the embedded object holds.
pub const OBJECT_MARKER: &str = "MUGAI_OBJECT_PAYLOAD";
/// The file name of the workbook the linked sample workbook reads.
pub const LINKED_BOOK: &str = "mugai_linked_prices.xls";
/// The cached text result of the linked sample's text formula.
pub const LINKED_TEXT: &str = "Ampicillin";
/// The cached number result of the linked sample's number formulas.
pub const LINKED_NUMBER: f64 = 42.5;

const WORD_CLSID: &str = "00020906-0000-0000-c000-000000000046";
const EXCEL_CLSID: &str = "00020820-0000-0000-c000-000000000046";
const PACKAGE_CLSID: &str = "0003000c-0000-0000-c000-000000000046";

fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_711_962_000)
}

/// A compound file under construction: storages (with class ids) and streams, written with
/// fixed timestamps so the same sample always has the same bytes.
#[derive(Default)]
pub struct Cfb {
    root_clsid: Option<&'static str>,
    storages: Vec<(String, Option<&'static str>)>,
    streams: Vec<(String, Vec<u8>)>,
}

impl Cfb {
    pub fn new(root_clsid: Option<&'static str>) -> Self {
        Cfb { root_clsid, ..Default::default() }
    }
    pub fn storage(&mut self, path: &str, clsid: Option<&'static str>) -> &mut Self {
        self.storages.push((path.to_string(), clsid));
        self
    }
    pub fn stream(&mut self, path: &str, data: Vec<u8>) -> &mut Self {
        self.streams.push((path.to_string(), data));
        self
    }
    /// Copies every storage and stream of the compound file `cf` under the storage `at`.
    pub fn graft(&mut self, at: &str, cf: &[u8]) -> &mut Self {
        self.storage(at, None);
        let mut src = cfb::CompoundFile::open(Cursor::new(cf)).expect("compound file to graft");
        let entries: Vec<cfb::Entry> = src.walk().filter(|e| !e.is_root()).collect();
        for e in entries {
            let p = format!("{at}{}", e.path().display());
            if e.is_stream() {
                let mut data = Vec::new();
                src.open_stream(e.path()).expect("stream").read_to_end(&mut data).expect("read");
                self.stream(&p, data);
            } else {
                self.storage(&p, None);
            }
        }
        self
    }
    pub fn build(&self) -> Vec<u8> {
        let mut cf = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
            .expect("compound file in memory");
        for (s, _) in &self.storages {
            cf.create_storage(s).expect("storage");
        }
        for (path, data) in &self.streams {
            cf.create_stream(path).expect("stream").write_all(data).expect("stream write");
        }
        let uuid = |s: &str| uuid::Uuid::parse_str(s).expect("clsid");
        if let Some(c) = self.root_clsid {
            cf.set_storage_clsid("/", uuid(c)).expect("clsid");
        }
        cf.set_modified_time("/", fixed_time()).expect("time");
        for (s, clsid) in &self.storages {
            if let Some(c) = clsid {
                cf.set_storage_clsid(s, uuid(c)).expect("clsid");
            }
            cf.set_created_time(s, fixed_time()).expect("time");
            cf.set_modified_time(s, fixed_time()).expect("time");
        }
        cf.flush().expect("flush");
        cf.into_inner().into_inner()
    }
}

fn u16le(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn u32le(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// An OLE object storage's streams: a Package object carrying a batch file that echoes.
fn add_package_object(cf: &mut Cfb, at: &str) {
    let pkg = media::ole_package("readme.bat", format!("echo {OBJECT_MARKER}\r\n").as_bytes());
    let mut src = cfb::CompoundFile::open(Cursor::new(&pkg)).expect("package");
    let mut native = Vec::new();
    src.open_stream("/\u{1}Ole10Native").expect("native").read_to_end(&mut native).expect("read");
    cf.storage(at, Some(PACKAGE_CLSID));
    let mut compobj = vec![1, 0, 0xFE, 0xFF, 3, 0x0A, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
    compobj.extend_from_slice(&[0; 16]);
    for s in ["Package", "Package", "Package"] {
        u32le(&mut compobj, s.len() as u32 + 1);
        compobj.extend_from_slice(s.as_bytes());
        compobj.push(0);
    }
    u32le(&mut compobj, 0x7192_B2F4);
    cf.stream(&format!("{at}/\u{1}CompObj"), compobj);
    let mut ole = Vec::new();
    u32le(&mut ole, 0x0200_0001);
    ole.extend_from_slice(&[0; 16]);
    cf.stream(&format!("{at}/\u{1}Ole"), ole);
    cf.stream(&format!("{at}/\u{1}Ole10Native"), native);
}

// ----------------------------------------------------------------------------------------------
// Word

/// Options of a Word sample.
#[derive(Default, Clone, Copy)]
struct WordOpts {
    vba: bool,
    object: bool,
    encrypted: bool,
    dde: bool,
    signed: bool,
}

/// The `WordDocument` and `1Table` streams of a one-paragraph Word 97 document (MS-DOC: FIB,
/// text as 8-bit characters at 0x400, a one-piece piece table, a style sheet with the Normal
/// style, one font, empty formatting bin tables and a document properties block).
fn word_streams(body: &str, encrypted: bool) -> (Vec<u8>, Vec<u8>) {
    let text = format!("{body}\r");
    let text_at = 0x400usize;
    // Table stream pieces, each recorded as (index in FibRgFcLcb97, position, length).
    let mut table = Vec::new();
    let mut fclcb: Vec<(usize, u32, u32)> = Vec::new();
    let mut put = |table: &mut Vec<u8>, index: usize, data: &[u8]| {
        fclcb.push((index, table.len() as u32, data.len() as u32));
        table.extend_from_slice(data);
    };
    // Style sheet: STSHI with no styles written but the Normal style's place (cstd 1, one
    // empty STD slot), which readers fill with built-in defaults.
    let mut stsh = Vec::new();
    let mut stshi = Vec::new();
    u16le(&mut stshi, 1); // cstd
    u16le(&mut stshi, 0x000A); // cbSTDBaseInFile
    u16le(&mut stshi, 0); // fStdStylenamesWritten
    u16le(&mut stshi, 0x005B); // stiMaxWhenSaved
    u16le(&mut stshi, 0x000F); // istdMaxFixedWhenSaved
    u16le(&mut stshi, 0); // nVerBuiltInNamesWhenSaved
    u16le(&mut stshi, 0); // ftcAsci
    u16le(&mut stshi, 0); // ftcFE
    u16le(&mut stshi, 0); // ftcOther
    u16le(&mut stsh, stshi.len() as u16);
    stsh.extend_from_slice(&stshi);
    u16le(&mut stsh, 0); // the Normal style slot, empty
    put(&mut table, 1, &stsh);
    // Bin tables for character and paragraph properties: one run each, no properties page.
    // (An empty PlcBte is valid: readers use default properties.)
    // Font table: one font, Times New Roman.
    let mut ffn = Vec::new();
    let name: Vec<u8> = "Times New Roman\0".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let mut f = vec![0x16, 0x90, 0x01, 0x00, 0, 0]; // prq/fTrueType/ff, wWeight 400, chs, ixchSzAlt
    f.extend_from_slice(&[0; 10]); // panose
    f.extend_from_slice(&[0; 24]); // fs
    f.extend_from_slice(&name);
    u16le(&mut ffn, 1);
    u16le(&mut ffn, 0);
    ffn.push(f.len() as u8);
    ffn.extend_from_slice(&f);
    put(&mut table, 15, &ffn);
    // Document properties (Dop97 size; zeros are valid defaults).
    put(&mut table, 31, &[0u8; 0x1F4]);
    // Piece table: one piece, 8-bit characters at text_at.
    let mut clx = vec![0x02];
    let mut plc = Vec::new();
    u32le(&mut plc, 0);
    u32le(&mut plc, text.len() as u32);
    u16le(&mut plc, 0);
    u32le(&mut plc, ((text_at * 2) as u32) | 0x4000_0000);
    u16le(&mut plc, 0);
    u32le(&mut clx, plc.len() as u32);
    clx.extend_from_slice(&plc);
    put(&mut table, 33, &clx);

    let mut word = vec![0u8; text_at];
    let mut fib = Vec::new();
    u16le(&mut fib, 0xA5EC); // wIdent
    u16le(&mut fib, 0x00C1); // nFib: Word 97
    u16le(&mut fib, 0);
    u16le(&mut fib, 0x0409); // lid
    u16le(&mut fib, 0); // pnNext
    let mut flags = 0x1200u16; // fWhichTblStm (1Table), fExtChar
    if encrypted {
        flags |= 0x0100;
    }
    u16le(&mut fib, flags);
    u16le(&mut fib, 0x00BF); // nFibBack
    u32le(&mut fib, 0); // lKey
    fib.extend_from_slice(&[0, 0]); // envr, flags
    fib.extend_from_slice(&[0; 12]); // reserved
    u16le(&mut fib, 14); // csw
    fib.extend_from_slice(&[0; 28]);
    u16le(&mut fib, 22); // cslw
    let mut lw = [0u32; 22];
    lw[0] = (text_at + text.len()) as u32; // cbMac
    lw[3] = text.len() as u32; // ccpText
    for x in lw {
        u32le(&mut fib, x);
    }
    u16le(&mut fib, 0x005D); // cbRgFcLcb
    let mut rg = [0u32; 0x5D * 2];
    for (index, fc, lcb) in &fclcb {
        rg[index * 2] = *fc;
        rg[index * 2 + 1] = *lcb;
    }
    for x in rg {
        u32le(&mut fib, x);
    }
    u16le(&mut fib, 0); // cswNew
    word[..fib.len()].copy_from_slice(&fib);
    word.extend_from_slice(text.as_bytes());
    (word, table)
}

fn word(opts: WordOpts) -> Vec<u8> {
    let body = if opts.dde {
        // A DDEAUTO field (begin 0x13, separator 0x14, end 0x15) whose result reads "Loading".
        format!("{DOC_TEXT} \u{13} DDEAUTO c:\\windows\\system32\\cmd.exe \"/k echo mugai\" \u{14}Loading\u{15}")
    } else {
        DOC_TEXT.to_string()
    };
    let (w, t) = word_streams(&body, opts.encrypted);
    let mut cf = Cfb::new(Some(WORD_CLSID));
    cf.stream("/WordDocument", w).stream("/1Table", t);
    if opts.object {
        cf.storage("/ObjectPool", None);
        add_package_object(&mut cf, "/ObjectPool/_1712345678");
    }
    if opts.vba {
        cf.graft("/Macros", &media::vba_project("AutoOpen"));
    }
    if opts.signed {
        // Stand-in for an XML signature: only its place matters to the samples.
        cf.storage("/_xmlsignatures", None).stream("/_xmlsignatures/1", b"<Signature/>".to_vec());
    }
    cf.build()
}

/// A clean one-paragraph Word 97 document.
pub fn doc_benign() -> Vec<u8> {
    word(WordOpts::default())
}

/// The document with an `AutoOpen` VBA project in `Macros`.
pub fn doc_vba() -> Vec<u8> {
    word(WordOpts { vba: true, ..Default::default() })
}

/// The document with a packaged batch file in `ObjectPool`.
pub fn doc_object() -> Vec<u8> {
    word(WordOpts { object: true, ..Default::default() })
}

/// The document with both.
pub fn doc_vba_and_object() -> Vec<u8> {
    word(WordOpts { vba: true, object: true, ..Default::default() })
}

/// The benign document with a document signature.
pub fn doc_signed() -> Vec<u8> {
    word(WordOpts { signed: true, ..Default::default() })
}

/// The VBA document with a document signature, which the removal invalidates.
pub fn doc_signed_vba() -> Vec<u8> {
    word(WordOpts { signed: true, vba: true, ..Default::default() })
}

/// The document with a `DDEAUTO` field that would start a command prompt.
pub fn doc_dde() -> Vec<u8> {
    word(WordOpts { dde: true, ..Default::default() })
}

/// The document marked encrypted in its FIB (`fEncrypted`).
pub fn doc_encrypted() -> Vec<u8> {
    word(WordOpts { encrypted: true, ..Default::default() })
}

// ----------------------------------------------------------------------------------------------
// Excel

fn biff(out: &mut Vec<u8>, id: u16, body: &[u8]) {
    u16le(out, id);
    u16le(out, body.len() as u16);
    out.extend_from_slice(body);
}

fn bof(dt: u16) -> Vec<u8> {
    let mut b = Vec::new();
    u16le(&mut b, 0x0600);
    u16le(&mut b, dt);
    u16le(&mut b, 0x0DBB); // build
    u16le(&mut b, 0x07CC); // year
    u32le(&mut b, 0x0000_0041);
    u32le(&mut b, 0x0000_0006);
    b
}

/// A sheet of a sample workbook.
struct SheetDef {
    name: &'static str,
    /// `BoundSheet8.dt`: 0 worksheet, 1 macro sheet.
    dt: u8,
    /// The substream's `BOF.dt`: 0x10 worksheet, 0x40 macro sheet.
    bof_dt: u16,
    hidden: bool,
    cells: Vec<String>,
}

#[derive(Default)]
struct BookOpts {
    macro_sheet: bool,
    /// The macro sheet's entry says worksheet (only its BOF tells).
    disguised: bool,
    /// A macro sheet substream that no sheet entry names, after the sheets.
    orphan_macro: bool,
    vba: bool,
    encrypted: bool,
    external_link: bool,
    /// Links another workbook, as Excel writes it: formulas, a name and cached values.
    linked_book: bool,
    /// With `linked_book`: a data validation list read from the linked book.
    linked_validation: bool,
}

/// A `FORMULA` record in column 1 with its cached result and parsed expression.
fn formula(out: &mut Vec<u8>, row: u16, result: [u8; 8], rgce: &[u8]) {
    let mut f = Vec::new();
    u16le(&mut f, row);
    u16le(&mut f, 1);
    u16le(&mut f, 15);
    f.extend_from_slice(&result);
    u16le(&mut f, 0); // flags
    u32le(&mut f, 0); // chn
    u16le(&mut f, rgce.len() as u16);
    f.extend_from_slice(rgce);
    biff(out, 0x0006, &f);
}

/// `PtgRef3d` (value class) through EXTERNSHEET entry `ixti` to column A of `row`.
fn ref3d(ixti: u16, row: u16) -> Vec<u8> {
    let mut r = vec![0x5A];
    u16le(&mut r, ixti);
    u16le(&mut r, row);
    u16le(&mut r, 0);
    r
}

/// A `STRING` record: a formula's cached text.
fn string_result(out: &mut Vec<u8>, text: &str) {
    let mut b = Vec::new();
    u16le(&mut b, text.len() as u16);
    b.push(0);
    b.extend_from_slice(text.as_bytes());
    biff(out, 0x0207, &b);
}

/// The linked sample's formulas in column B: a number, a text and a boolean read from the
/// linked book (EXTERNSHEET entry 1), a text read from this workbook's own sheet (entry 0, kept),
/// a number through the name `LinkedTotal`, two cells sharing a formula that reads the book,
/// and optionally a data validation whose list is read from the book.
fn linked_cells(validation: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let text = [0, 0, 0, 0, 0, 0, 0xFF, 0xFF];
    formula(&mut out, 0, LINKED_NUMBER.to_le_bytes(), &ref3d(1, 0));
    formula(&mut out, 1, text, &ref3d(1, 1));
    string_result(&mut out, LINKED_TEXT);
    formula(&mut out, 2, [1, 0, 1, 0, 0, 0, 0xFF, 0xFF], &ref3d(1, 2));
    formula(&mut out, 3, text, &ref3d(0, 0));
    string_result(&mut out, "Discharge");
    formula(&mut out, 4, LINKED_NUMBER.to_le_bytes(), &[0x43, 1, 0, 0, 0]);
    let mut exp = vec![0x01];
    u16le(&mut exp, 5);
    u16le(&mut exp, 1);
    formula(&mut out, 5, LINKED_NUMBER.to_le_bytes(), &exp);
    let mut sh = Vec::new();
    u16le(&mut sh, 5);
    u16le(&mut sh, 6); // rows 6..7
    sh.extend_from_slice(&[1, 1, 0, 2]); // column B, reserved, two cells use it
    let rgce = ref3d(1, 0);
    u16le(&mut sh, rgce.len() as u16);
    sh.extend_from_slice(&rgce);
    biff(&mut out, 0x04BC, &sh);
    formula(&mut out, 6, LINKED_NUMBER.to_le_bytes(), &exp);
    if validation {
        let mut dv = Vec::new();
        u32le(&mut dv, 0x0000_0103); // list from a range, in-cell drop-down
        for _ in 0..4 {
            dv.extend_from_slice(&[1, 0, 0, 0]); // empty text: one NUL character
        }
        let rgce = ref3d(1, 0);
        u16le(&mut dv, rgce.len() as u16);
        u16le(&mut dv, 0);
        dv.extend_from_slice(&rgce);
        u32le(&mut dv, 0); // no second formula
        for v in [1u16, 0, 0, 2, 2] {
            u16le(&mut dv, v); // one range: C1
        }
        biff(&mut out, 0x01BE, &dv);
    }
    out
}

fn sheet_substream(s: &SheetDef) -> Vec<u8> {
    sheet_substream_with(s, &[])
}

/// A sheet with the text cells in column A and `formulas` (records in column B) after them.
fn sheet_substream_with(s: &SheetDef, formulas: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    biff(&mut out, 0x0809, &bof(s.bof_dt));
    let mut dim = Vec::new();
    u32le(&mut dim, 0);
    u32le(&mut dim, s.cells.len() as u32);
    u16le(&mut dim, 0);
    u16le(&mut dim, if formulas.is_empty() { 1 } else { 2 });
    u16le(&mut dim, 0);
    biff(&mut out, 0x0200, &dim);
    for (row, text) in s.cells.iter().enumerate() {
        let mut label = Vec::new();
        u16le(&mut label, row as u16);
        u16le(&mut label, 0);
        u16le(&mut label, 15); // the cell XF
        u16le(&mut label, text.len() as u16);
        label.push(0);
        label.extend_from_slice(text.as_bytes());
        biff(&mut out, 0x0204, &label);
    }
    out.extend_from_slice(formulas);
    let mut w2 = Vec::new();
    u16le(&mut w2, if s.dt == 0 && !s.hidden { 0x06B6 } else { 0x00B6 });
    w2.extend_from_slice(&[0, 0, 0, 0]);
    u32le(&mut w2, 0x40);
    w2.extend_from_slice(&[0; 8]);
    biff(&mut out, 0x023E, &w2);
    biff(&mut out, 0x000A, &[]);
    out
}

/// The `Workbook` stream: globals (code page, window, five fonts, 15 style formats and one
/// cell format, the Normal style, the sheets, names) and one substream per sheet.
fn workbook_stream(sheets: &[SheetDef], opts: &BookOpts) -> Vec<u8> {
    let mut g = Vec::new();
    biff(&mut g, 0x0809, &bof(0x0005));
    if opts.encrypted {
        // FILEPASS, RC4 CryptoAPI header start; the rest of the stream would be encrypted.
        let mut fp = vec![1, 0, 4, 0, 2, 0];
        fp.extend_from_slice(&[0x0C, 0, 0, 0]);
        fp.extend_from_slice(&[0; 48]);
        biff(&mut g, 0x002F, &fp);
    }
    biff(&mut g, 0x0042, &1200u16.to_le_bytes()); // CODEPAGE: UTF-16
    let mut win = Vec::new();
    for v in [0u16, 0, 0x3000, 0x2000, 0x0038, 0, 0, 1, 0x0258] {
        u16le(&mut win, v);
    }
    biff(&mut g, 0x003D, &win);
    for _ in 0..5 {
        let mut f = Vec::new();
        for v in [200u16, 0, 0x7FFF, 400, 0] {
            u16le(&mut f, v);
        }
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.push(5);
        f.push(0);
        f.extend_from_slice(b"Arial");
        biff(&mut g, 0x0031, &f);
    }
    for i in 0..16 {
        let mut xf = Vec::new();
        u16le(&mut xf, 0); // font
        u16le(&mut xf, 0); // number format: General
        u16le(&mut xf, if i < 15 { 0xFFF5 } else { 0x0001 }); // style XFs, then one cell XF
        xf.push(0x20); // bottom aligned
        xf.push(0);
        xf.push(0);
        xf.push(if i < 15 { 0xF4 } else { 0 });
        xf.extend_from_slice(&[0; 8]);
        u16le(&mut xf, 0x20C0);
        biff(&mut g, 0x00E0, &xf);
    }
    biff(&mut g, 0x0293, &[0x00, 0x80, 0x00, 0xFF]); // STYLE: built-in Normal
    if opts.vba {
        biff(&mut g, 0x00D3, &[]); // OBPROJ
    }
    let mut boundsheet_at = Vec::new();
    for s in sheets {
        boundsheet_at.push(g.len() + 4);
        let mut b = Vec::new();
        u32le(&mut b, 0); // lbPlyPos, set below
        b.push(if s.hidden { 1 } else { 0 });
        b.push(s.dt);
        b.push(s.name.len() as u8);
        b.push(0);
        b.extend_from_slice(s.name.as_bytes());
        biff(&mut g, 0x0085, &b);
    }
    if opts.external_link {
        let mut sb = Vec::new();
        let path = b"\x01\x01C:\\Shared\\prices.xls";
        u16le(&mut sb, 1);
        u16le(&mut sb, path.len() as u16);
        sb.push(0);
        sb.extend_from_slice(path);
        u16le(&mut sb, 6);
        sb.push(0);
        sb.extend_from_slice(b"Sheet1");
        biff(&mut g, 0x01AE, &sb);
    }
    if opts.linked_book {
        // This workbook's SUPBOOK, the linked book's with one sheet and a cached value (XCT,
        // CRN), EXTERNSHEET entries 0 (own first sheet) and 1 (the linked book's sheet), and
        // the name LinkedTotal reading the linked book.
        let mut sb = Vec::new();
        u16le(&mut sb, sheets.len() as u16);
        u16le(&mut sb, 0x0401);
        biff(&mut g, 0x01AE, &sb);
        let mut sb = Vec::new();
        let path = format!("\u{1}C\u{3}Shared\u{3}{LINKED_BOOK}");
        u16le(&mut sb, 1);
        u16le(&mut sb, path.len() as u16);
        sb.push(0);
        sb.extend_from_slice(path.as_bytes());
        u16le(&mut sb, 6);
        sb.push(0);
        sb.extend_from_slice(b"Prices");
        biff(&mut g, 0x01AE, &sb);
        biff(&mut g, 0x0059, &[1, 0, 0, 0]); // XCT: one CRN, sheet 0
        let mut crn = vec![0, 0, 0, 0]; // column A, row 0
        crn.push(0x01);
        crn.extend_from_slice(&LINKED_NUMBER.to_le_bytes());
        biff(&mut g, 0x005A, &crn);
        let mut es = Vec::new();
        for v in [2u16, 0, 0, 0, 1, 0, 0] {
            u16le(&mut es, v);
        }
        biff(&mut g, 0x0017, &es);
        let mut lbl = Vec::new();
        u16le(&mut lbl, 0);
        lbl.push(0);
        lbl.push(11); // cch
        u16le(&mut lbl, 7); // cce
        u16le(&mut lbl, 0);
        u16le(&mut lbl, 0); // itab: workbook scope
        lbl.extend_from_slice(&[0, 0, 0, 0, 0]);
        lbl.extend_from_slice(b"LinkedTotal");
        let mut r = ref3d(1, 0);
        r[0] = 0x3A; // reference class
        lbl.extend_from_slice(&r);
        biff(&mut g, 0x0018, &lbl);
    }
    if opts.macro_sheet {
        // SUPBOOK for this workbook, one EXTERNSHEET entry for the macro sheet, and Auto_Open
        // pointing at its first cell.
        let mut sb = Vec::new();
        u16le(&mut sb, sheets.len() as u16);
        u16le(&mut sb, 0x0401);
        biff(&mut g, 0x01AE, &sb);
        let macro_index = sheets.iter().position(|s| s.bof_dt == 0x0040).unwrap_or(0) as u16;
        let mut es = Vec::new();
        for v in [1u16, 0, macro_index, macro_index] {
            u16le(&mut es, v);
        }
        biff(&mut g, 0x0017, &es);
        let mut lbl = Vec::new();
        u16le(&mut lbl, 0x0020); // fBuiltin
        lbl.push(0);
        lbl.push(1); // cch
        u16le(&mut lbl, 7); // cce
        u16le(&mut lbl, 0);
        u16le(&mut lbl, 0); // itab: workbook scope
        lbl.extend_from_slice(&[0, 0, 0, 0]);
        lbl.push(0);
        lbl.push(0x01); // Auto_Open
        lbl.push(0x3A); // PtgRef3d
        u16le(&mut lbl, 0); // ixti
        u16le(&mut lbl, 0); // row
        u16le(&mut lbl, 0xC000); // column 0, relative flags
        biff(&mut g, 0x0018, &lbl);
    }
    biff(&mut g, 0x000A, &[]);
    let mut out = g;
    for (s, at) in sheets.iter().zip(boundsheet_at) {
        let pos = out.len() as u32;
        out[at..at + 4].copy_from_slice(&pos.to_le_bytes());
        if opts.linked_book && s.name == "Data" {
            out.extend_from_slice(&sheet_substream_with(s, &linked_cells(opts.linked_validation)));
        } else {
            out.extend_from_slice(&sheet_substream(s));
        }
    }
    if opts.orphan_macro {
        out.extend_from_slice(&sheet_substream(&SheetDef {
            name: "Orphan",
            dt: 1,
            bof_dt: 0x0040,
            hidden: true,
            cells: vec![XLM_MARKER.to_string(), "=HALT()".to_string()],
        }));
    }
    // Excel writes workbook streams of at least 4 KiB (a stream that small stays out of the
    // mini stream); the padding is zeros.
    if out.len() < 4096 {
        out.resize(4096, 0);
    }
    out
}

fn data_sheet() -> SheetDef {
    SheetDef {
        name: "Data",
        dt: 0,
        bof_dt: 0x0010,
        hidden: false,
        cells: DOC_TEXT.split(' ').map(str::to_string).collect(),
    }
}

fn book(opts: BookOpts, object: bool) -> Vec<u8> {
    let mut sheets = vec![data_sheet()];
    if opts.macro_sheet {
        sheets.insert(
            0,
            SheetDef {
                name: "Macro1",
                dt: if opts.disguised { 0 } else { 1 },
                bof_dt: 0x0040,
                hidden: true,
                cells: vec![XLM_MARKER.to_string(), "=ALERT(\"mugai sample\")".to_string(), "=HALT()".to_string()],
            },
        );
    }
    let mut cf = Cfb::new(Some(EXCEL_CLSID));
    cf.stream("/Workbook", workbook_stream(&sheets, &opts));
    if object {
        add_package_object(&mut cf, "/MBD0000A1B2");
    }
    if opts.vba {
        cf.graft("/_VBA_PROJECT_CUR", &media::vba_project("Workbook_Open"));
    }
    cf.build()
}

/// A benign workbook of about `bytes` bytes: sheets of 60000 rows of text cells each (for the
/// benchmarks).
pub fn large_xls(bytes: usize) -> Vec<u8> {
    let row = |i: usize| format!("Ward {} bed {} patient record {:08}", i % 40, i % 12, i);
    let per_row = 4 + 9 + row(0).len();
    let rows = (bytes / per_row).max(1);
    let names = ["Sheet1", "Sheet2", "Sheet3", "Sheet4", "Sheet5", "Sheet6", "Sheet7", "Sheet8"];
    let sheets: Vec<SheetDef> = (0..rows.div_ceil(60_000).min(names.len()))
        .map(|k| SheetDef {
            name: names[k],
            dt: 0,
            bof_dt: 0x0010,
            hidden: false,
            cells: (k * 60_000..((k + 1) * 60_000).min(rows)).map(row).collect(),
        })
        .collect();
    let mut cf = Cfb::new(Some(EXCEL_CLSID));
    cf.stream("/Workbook", workbook_stream(&sheets, &BookOpts::default()));
    cf.build()
}

/// A clean one-sheet workbook.
pub fn xls_benign() -> Vec<u8> {
    book(BookOpts::default(), false)
}

/// The workbook with a `Workbook_Open` VBA project.
pub fn xls_vba() -> Vec<u8> {
    book(BookOpts { vba: true, ..Default::default() }, false)
}

/// A workbook whose first (hidden) sheet is an Excel 4.0 macro sheet run by `Auto_Open`.
pub fn xls_xlm() -> Vec<u8> {
    book(BookOpts { macro_sheet: true, ..Default::default() }, false)
}

/// The XLM workbook with the macro sheet's entry claiming a worksheet.
pub fn xls_xlm_disguised() -> Vec<u8> {
    book(BookOpts { macro_sheet: true, disguised: true, ..Default::default() }, false)
}

/// A workbook with a macro sheet substream that no sheet entry names.
pub fn xls_orphan_macro() -> Vec<u8> {
    book(BookOpts { orphan_macro: true, ..Default::default() }, false)
}

/// The workbook with a packaged batch file in an `MBD` storage.
pub fn xls_object() -> Vec<u8> {
    book(BookOpts::default(), true)
}

/// A workbook with a `FILEPASS` record.
pub fn xls_encrypted() -> Vec<u8> {
    book(BookOpts { encrypted: true, ..Default::default() }, false)
}

/// A workbook that links to another workbook on a share but has no SUPBOOK for itself, which
/// a rewritten EXTERNSHEET would need.
pub fn xls_external_link() -> Vec<u8> {
    book(BookOpts { external_link: true, ..Default::default() }, false)
}

/// A workbook whose formulas and one name read another workbook, next to a formula reading its
/// own sheet.
pub fn xls_linked_book() -> Vec<u8> {
    book(BookOpts { linked_book: true, ..Default::default() }, false)
}

/// The linked workbook with a data validation list read from the other workbook, which is not
/// rewritten.
pub fn xls_linked_validation() -> Vec<u8> {
    book(BookOpts { linked_book: true, linked_validation: true, ..Default::default() }, false)
}

/// The benign workbook with bytes after its last record that no reader looks at.
pub fn xls_slack() -> Vec<u8> {
    let mut w = workbook_stream(&[data_sheet()], &BookOpts::default());
    let eof = w.len() - w.iter().rev().position(|&b| b != 0).unwrap_or(0);
    let slack = format!("\u{7}{SLACK_MARKER}");
    w[eof + 16..eof + 16 + slack.len()].copy_from_slice(slack.as_bytes());
    let mut cf = Cfb::new(Some(EXCEL_CLSID));
    cf.stream("/Workbook", w);
    cf.build()
}

/// A workbook whose sheet position points into the middle of a record.
pub fn xls_bad_sheet_position() -> Vec<u8> {
    let mut w = workbook_stream(&[data_sheet()], &BookOpts::default());
    let at = w.windows(4).position(|x| x == b"Data").expect("sheet name") - 8;
    let pos = u32::from_le_bytes([w[at], w[at + 1], w[at + 2], w[at + 3]]) + 2;
    w[at..at + 4].copy_from_slice(&pos.to_le_bytes());
    // The position check runs only when a sheet must be neutralised: make it a macro sheet.
    w[at + 5] = 1;
    let mut cf = Cfb::new(Some(EXCEL_CLSID));
    cf.stream("/Workbook", w);
    cf.build()
}

// ----------------------------------------------------------------------------------------------
// PowerPoint (record streams for the checks, not complete presentations)

fn ppt_rec(ver_inst: u16, rtype: u16, body: &[u8]) -> Vec<u8> {
    let mut d = Vec::new();
    u16le(&mut d, ver_inst);
    u16le(&mut d, rtype);
    u32le(&mut d, body.len() as u32);
    d.extend_from_slice(body);
    d
}

/// A presentation's streams: persist object 1 is a `DocumentContainer` with one text atom,
/// object 2 a slide; as asked, a VBA project (a `VBAInfoContainer` naming an uncompressed
/// `ExOleObjStg` that holds the project) and an embedded package (`ExObjList` / `ExEmbed` naming
/// its `ExOleObjStg`, and on the slide an OLE shape pointing at it whose click runs a program).
/// Then the persist directory, the user edit, and `Current User` pointing at it.
fn ppt(vba: bool, object: bool, encrypted_summary: bool, saved_twice: bool) -> Vec<u8> {
    let mut next_id = 3u32;
    let vba_id = vba.then(|| {
        next_id += 1;
        next_id - 1
    });
    let object_id = object.then(|| {
        next_id += 1;
        next_id - 1
    });
    let mut children = ppt_rec(0, 0x0FA8, DOC_TEXT.as_bytes()); // TextBytesAtom
    if let Some(id) = object_id {
        let mut atom = Vec::new();
        for v in [1u32, 0, 1, 0, id, 0] {
            u32le(&mut atom, v); // drawAspect, type, exObjId, subType, persistIdRef, unused
        }
        let embed = ppt_rec(0x000F, 0x0FCC, &ppt_rec(0x0010, 0x0FC3, &atom));
        let mut list = ppt_rec(0, 0x040A, &1u32.to_le_bytes()); // ExObjListAtom
        list.extend_from_slice(&embed);
        children.extend_from_slice(&ppt_rec(0x000F, 0x0409, &list));
    }
    if let Some(id) = vba_id {
        let mut info = Vec::new();
        u32le(&mut info, id); // persistIdRef
        u32le(&mut info, 1); // fHasMacros
        u32le(&mut info, 2); // version
        let container = ppt_rec(0x000F, 0x03FF, &ppt_rec(0x0020, 0x0400, &info));
        children.extend_from_slice(&ppt_rec(0x000F, 0x07D0, &container));
    }
    let document = ppt_rec(0x000F, 0x03E8, &children); // DocumentContainer
    let mut doc = document.clone();
    let mut offsets = vec![0u32, doc.len() as u32];
    // The slide: one shape, an OLE object's picture frame when there is an object.
    let mut fsp = Vec::new();
    u32le(&mut fsp, 1025);
    u32le(&mut fsp, if object { 0x0A10 } else { 0x0A00 }); // fHaveAnchor, fHaveSpt (, fOleShape)
    let mut shape = ppt_rec((75 << 4) | 2, 0xF00A, &fsp);
    if object {
        let mut client = ppt_rec(0, 0x0BC1, &1u32.to_le_bytes()); // ExObjRefAtom
        let mut action = vec![0u8; 16];
        action[8] = 2; // runProgram
        client.extend_from_slice(&ppt_rec(0x000F, 0x0FF2, &ppt_rec(0, 0x0FF3, &action)));
        shape.extend_from_slice(&ppt_rec(0x000F, 0xF011, &client));
    }
    let sp = ppt_rec(0x000F, 0xF004, &shape);
    let dg = ppt_rec(0x000F, 0xF002, &ppt_rec(0x000F, 0xF003, &sp));
    doc.extend_from_slice(&ppt_rec(0x000F, 0x03EE, &ppt_rec(0x000F, 0x040C, &dg)));
    if vba {
        offsets.push(doc.len() as u32);
        doc.extend_from_slice(&ppt_rec(0x0000, 0x1011, &media::vba_project("AutoOpen")));
    }
    if object {
        offsets.push(doc.len() as u32);
        let payload = format!("echo {OBJECT_MARKER}\r\n");
        doc.extend_from_slice(&ppt_rec(0x0000, 0x1011, &media::ole_package("readme.bat", payload.as_bytes())));
    }
    let dir_at = doc.len() as u32;
    let mut dir = Vec::new();
    u32le(&mut dir, 1 | ((offsets.len() as u32) << 20));
    for o in &offsets {
        u32le(&mut dir, *o);
    }
    doc.extend_from_slice(&ppt_rec(0, 0x1772, &dir));
    let edit_at = doc.len() as u32;
    let mut edit = Vec::new();
    u32le(&mut edit, 0); // lastSlideIdRef
    u16le(&mut edit, 0); // version
    edit.extend_from_slice(&[0, 3]); // minor, major version
    u32le(&mut edit, 0); // offsetLastEdit
    u32le(&mut edit, dir_at); // offsetPersistDirectory
    u32le(&mut edit, 1); // docPersistIdRef
    u32le(&mut edit, offsets.len() as u32); // persistIdSeed
    u16le(&mut edit, 1); // lastView
    u16le(&mut edit, 0);
    doc.extend_from_slice(&ppt_rec(0, 0x0FF5, &edit));
    let mut current = edit_at;
    if saved_twice {
        // A second save appends new versions of the document and (when there is one) the VBA
        // storage, a directory naming just those, and a user edit pointing back at the first.
        let doc_at = doc.len() as u32;
        doc.extend_from_slice(&document);
        let mut dir = Vec::new();
        u32le(&mut dir, 1 | (1 << 20));
        u32le(&mut dir, doc_at);
        if let Some(id) = vba_id {
            let stg_at = doc.len() as u32;
            doc.extend_from_slice(&ppt_rec(0x0000, 0x1011, &media::vba_project("AutoOpen")));
            u32le(&mut dir, id | (1 << 20));
            u32le(&mut dir, stg_at);
        }
        let dir_at = doc.len() as u32;
        doc.extend_from_slice(&ppt_rec(0, 0x1772, &dir));
        let mut edit2 = edit.clone();
        edit2[8..12].copy_from_slice(&edit_at.to_le_bytes()); // offsetLastEdit
        edit2[12..16].copy_from_slice(&dir_at.to_le_bytes()); // offsetPersistDirectory
        current = doc.len() as u32;
        doc.extend_from_slice(&ppt_rec(0, 0x0FF5, &edit2));
    }
    let mut cu = Vec::new();
    u32le(&mut cu, 0x14);
    u32le(&mut cu, 0xE391_C05F);
    u32le(&mut cu, current);
    u16le(&mut cu, 5);
    u16le(&mut cu, 0x03F4);
    cu.extend_from_slice(&[3, 0, 0, 0]);
    cu.extend_from_slice(b"mugai");
    u32le(&mut cu, 8);
    let mut cf = Cfb::new(None);
    cf.stream("/PowerPoint Document", doc).stream("/Current User", ppt_rec(0, 0x0FF6, &cu));
    if encrypted_summary {
        cf.stream("/EncryptedSummary", vec![0; 64]);
    }
    cf.build()
}

/// Records of a presentation with nothing active.
pub fn ppt_clean_records() -> Vec<u8> {
    ppt(false, false, false, false)
}

/// A `VBAInfoAtom` with macros and the VBA storage (`ExOleObjStg`).
pub fn ppt_vba_records() -> Vec<u8> {
    ppt(true, false, false, false)
}

/// The VBA presentation saved twice (incremental save): two versions of the document and of
/// the VBA storage, two persist directories, two user edits.
pub fn ppt_vba_saved_twice() -> Vec<u8> {
    ppt(true, false, false, true)
}

/// An embedded package (`ExEmbed` and its `ExOleObjStg`).
pub fn ppt_object_records() -> Vec<u8> {
    ppt(false, true, false, false)
}

/// Both.
pub fn ppt_vba_and_object_records() -> Vec<u8> {
    ppt(true, true, false, false)
}

/// A presentation with an `EncryptedSummary` stream.
pub fn ppt_encrypted_records() -> Vec<u8> {
    ppt(false, false, true, false)
}

// ----------------------------------------------------------------------------------------------
// 一太郎 (structure only: a text stream and storages)

fn jtd(object: bool) -> Vec<u8> {
    let mut cf = Cfb::new(None);
    let text: Vec<u8> = "退院サマリー Discharge summary".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    cf.stream("/DocumentText", text).storage("/JSRV_Settings", None).stream("/JSRV_Settings/Info", vec![1, 2, 3, 4]);
    if object {
        add_package_object(&mut cf, "/Object_1");
    }
    cf.build()
}

pub fn jtd_benign() -> Vec<u8> {
    jtd(false)
}

pub fn jtd_object() -> Vec<u8> {
    jtd(true)
}

// ----------------------------------------------------------------------------------------------
// Damaged compound files

/// The benign document cut in half.
pub fn truncated_doc() -> Vec<u8> {
    let mut d = doc_benign();
    d.truncate(d.len() / 2 + 100);
    d
}

/// The benign workbook with its FAT made to loop: the Workbook stream's chain points back to
/// its own start.
pub fn fat_loop_xls() -> Vec<u8> {
    let mut d = xls_benign();
    let sector = 512usize;
    let first_fat = u32::from_le_bytes([d[0x4C], d[0x4D], d[0x4E], d[0x4F]]) as usize;
    let fat_at = (first_fat + 1) * sector;
    // Directory: the first directory sector; entry 1 is the first one after the root.
    let dir = u32::from_le_bytes([d[0x30], d[0x31], d[0x32], d[0x33]]) as usize;
    let dir_at = (dir + 1) * sector;
    let entry = (1..4)
        .map(|i| dir_at + i * 128)
        .find(|&e| {
            let name: Vec<u8> = "Workbook".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
            d[e..e + name.len()] == name[..]
        })
        .expect("Workbook entry");
    let start = u32::from_le_bytes([d[entry + 116], d[entry + 117], d[entry + 118], d[entry + 119]]) as usize;
    // The chain's last sector points back to the first.
    let mut s = start;
    loop {
        let next = u32::from_le_bytes([
            d[fat_at + 4 * s],
            d[fat_at + 4 * s + 1],
            d[fat_at + 4 * s + 2],
            d[fat_at + 4 * s + 3],
        ]);
        if next == 0xFFFF_FFFE {
            break;
        }
        s = next as usize;
    }
    d[fat_at + 4 * s..fat_at + 4 * s + 4].copy_from_slice(&(start as u32).to_le_bytes());
    d
}

/// The benign workbook whose Workbook stream claims more bytes than the file holds.
pub fn stream_past_end_xls() -> Vec<u8> {
    let mut d = xls_benign();
    let sector = 512usize;
    let dir = u32::from_le_bytes([d[0x30], d[0x31], d[0x32], d[0x33]]) as usize;
    let dir_at = (dir + 1) * sector;
    let name: Vec<u8> = "Workbook".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let entry = (1..4).map(|i| dir_at + i * 128).find(|&e| d[e..e + name.len()] == name[..]).expect("entry");
    d[entry + 120..entry + 124].copy_from_slice(&0x0100_0000u32.to_le_bytes());
    d
}

/// A clean workbook whose summary information property set claims about 4 GB, a bogus size
/// some old writers left in property sets: the stream is left out, the workbook rebuilt.
pub fn xls_bogus_summary_size() -> Vec<u8> {
    let mut cf = Cfb::new(Some(EXCEL_CLSID));
    cf.stream("/Workbook", workbook_stream(&[data_sheet()], &BookOpts::default()));
    // A property set header (byte order, version, system, class id, no sections): content
    // no check reads.
    let mut set = vec![0xFE, 0xFF, 0, 0, 0x0A, 0x01, 0x02, 0];
    set.resize(28, 0);
    cf.stream("/\u{5}SummaryInformation", set);
    let mut d = cf.build();
    let dir = u32::from_le_bytes([d[0x30], d[0x31], d[0x32], d[0x33]]) as usize;
    let dir_at = (dir + 1) * 512;
    let name: Vec<u8> = "\u{5}SummaryInformation".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let entry = (1..4).map(|i| dir_at + i * 128).find(|&e| d[e..e + name.len()] == name[..]).expect("entry");
    d[entry + 120..entry + 124].copy_from_slice(&0xF300_00C8u32.to_le_bytes());
    d
}

/// Every legacy Office sample with its expected outcome, in a fixed order.
pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    vec![
        sample("benign_summary.doc", doc_benign(), Expected::clean("doc").keeping(&DOC_WORDS)),
        sample("vba_autoopen.doc", doc_vba(), Expected::disarmed("doc", &[RemovedVbaProject]).keeping(&DOC_WORDS)),
        sample("ole_package.doc", doc_object(), Expected::disarmed("doc", &[RemovedOleObject]).keeping(&DOC_WORDS)),
        sample(
            "vba_and_package.dot",
            doc_vba_and_object(),
            Expected::disarmed("dot", &[RemovedVbaProject, RemovedOleObject]).keeping(&DOC_WORDS),
        ),
        sample("signed_benign.doc", doc_signed(), Expected::clean("doc").keeping(&DOC_WORDS)),
        sample(
            "signed_vba.doc",
            doc_signed_vba(),
            Expected::disarmed("doc", &[RemovedVbaProject, RemovedSignature]).keeping(&DOC_WORDS),
        ),
        sample("blocked_encrypted.doc", doc_encrypted(), Expected::blocked(Reason::Encrypted)),
        sample("blocked_ddeauto_field.doc", doc_dde(), Expected::blocked(Reason::Unsupported)),
        sample("blocked_truncated.doc", truncated_doc(), Expected::blocked(Reason::Malformed)),
        sample("benign_sheet.xls", xls_benign(), Expected::clean("xls").keeping(&DOC_WORDS)),
        sample("vba_workbook_open.xls", xls_vba(), Expected::disarmed("xls", &[RemovedVbaProject]).keeping(&DOC_WORDS)),
        sample(
            "xlm_auto_open.xls",
            xls_xlm(),
            Expected::disarmed("xls", &[RemovedMacroSheet, RemovedAutoMacroName]).keeping(&DOC_WORDS),
        ),
        sample(
            "xlm_disguised_as_worksheet.xls",
            xls_xlm_disguised(),
            Expected::disarmed("xls", &[RemovedMacroSheet, RemovedAutoMacroName]).keeping(&DOC_WORDS),
        ),
        sample(
            "xlm_unnamed_substream.xls",
            xls_orphan_macro(),
            Expected::disarmed("xls", &[RemovedMacroSheet]).keeping(&DOC_WORDS),
        ),
        sample("ole_package.xls", xls_object(), Expected::disarmed("xls", &[RemovedOleObject]).keeping(&DOC_WORDS)),
        sample("slack_after_eof.xls", xls_slack(), Expected::clean("xls").keeping(&DOC_WORDS)),
        sample("blocked_filepass.xls", xls_encrypted(), Expected::blocked(Reason::Encrypted)),
        sample("blocked_external_link.xls", xls_external_link(), Expected::blocked(Reason::Unsupported)),
        sample(
            "linked_workbook.xls",
            xls_linked_book(),
            Expected::disarmed("xls", &[RemovedExternalFormula, RemovedExternalReference]).keeping(&DOC_WORDS),
        ),
        sample("blocked_linked_validation.xls", xls_linked_validation(), Expected::blocked(Reason::Unsupported)),
        sample("blocked_bad_sheet_position.xls", xls_bad_sheet_position(), Expected::blocked(Reason::Malformed)),
        sample("blocked_fat_loop.xls", fat_loop_xls(), Expected::blocked(Reason::Malformed)),
        sample("blocked_stream_past_end.xls", stream_past_end_xls(), Expected::blocked(Reason::Malformed)),
        sample("bogus_summary_size.xls", xls_bogus_summary_size(), Expected::disarmed("xls", &[RepairedStructure])),
        sample("records_clean.ppt", ppt_clean_records(), Expected::clean("ppt")),
        sample("vba_records.ppt", ppt_vba_records(), Expected::disarmed("ppt", &[RemovedVbaProject])),
        sample("vba_saved_twice.ppt", ppt_vba_saved_twice(), Expected::disarmed("ppt", &[RemovedVbaProject])),
        sample(
            "object_records.ppt",
            ppt_object_records(),
            Expected::disarmed("ppt", &[RemovedOleObject, RemovedProgramAction]),
        ),
        sample(
            "vba_and_object_records.pps",
            ppt_vba_and_object_records(),
            Expected::disarmed("pps", &[RemovedVbaProject, RemovedOleObject, RemovedProgramAction]),
        ),
        sample("blocked_encrypted_records.ppt", ppt_encrypted_records(), Expected::blocked(Reason::Encrypted)),
        sample("benign_structure.jtd", jtd_benign(), Expected::clean("jtd")),
        sample("ole_package.jtd", jtd_object(), Expected::disarmed("jtd", &[RemovedOleObject])),
    ]
}
