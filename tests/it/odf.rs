//! Every ODF sample of `mugai::samples::odf` through the engine: the verdict, reason, actions and
//! output name it must get under the default configuration, and for every rebuilt document an
//! independent check (the zip reopened with the zip crate, not mugai's reader; XML searched as
//! text): `mimetype` first, stored and without extra field; no macro, script or dialog library;
//! no event listener that runs a macro or program, no macro URL, no OLE object, DDE, linked
//! section or table, external picture or script element; the manifest lists exactly the
//! entries there are; no OLE storage or program anywhere; every XML entry well-formed; the
//! words of the document still there. Also determinism, idempotence, limits, mutated inputs,
//! detection of templates, flat XML and packages without `mimetype`, and that the files
//! committed under `samples/odf/` are what the builders make now.

use super::common::{
    committed_sample_problems, damage, damage_one_entry, detail, engine_with, fail_with, kinds, outcome_problems,
    process, process_with, unique_and_deterministic, Rng,
};
use mugai::config::{Config, HyperlinkPolicy};
use mugai::model::{ActionKind, Family, Kind, Reason, Verdict};
use mugai::samples::odf;
use mugai::{detect, formats};
use std::collections::BTreeSet;
use std::io::{Cursor, Read, Write};

super::common::sample_set!(mugai::samples::odf::all);

// ----------------------------------------------------------------------------------------------
// The independent check

/// Markup that must not be in any XML of a rebuilt document (searched lower-cased).
const FORBIDDEN_MARKUP: &[&str] = &[
    "<script:event-listener",
    "presentation:action=\"execute\"",
    "presentation:action=\"verb\"",
    "vnd.sun.star.script:",
    "vnd.sun.star.basic:",
    "=\"macro:",
    "=\" macro:",
    "<draw:object-ole",
    "<draw:applet",
    "<text:script",
    "<text:execute-macro",
    "<table:error-macro",
    "<text:dde-connection",
    "<table:dde-link",
    "<office:dde-source",
    "<text:section-source",
    "<table:table-source",
    "<table:cell-range-source",
    "<xforms:submission",
    "xforms-submission",
    "href=\"file:",
    "href=\"\\\\",
    "href=\"../",
    "<office:script ",
    "<office:script>",
    "<meta:template",
    "<meta:auto-reload",
    "of:=dde(",
    "webservice(",
    "'file:",
];

/// The raw local header of the first entry: name, method and extra field length.
fn first_entry(bytes: &[u8]) -> Result<(String, u16, u16), String> {
    if bytes.len() < 30 || &bytes[..4] != b"PK\x03\x04" {
        return Err("does not start with a local file header".into());
    }
    let method = u16::from_le_bytes([bytes[8], bytes[9]]);
    let name_len = u16::from_le_bytes([bytes[26], bytes[27]]) as usize;
    let extra_len = u16::from_le_bytes([bytes[28], bytes[29]]);
    let name = bytes.get(30..30 + name_len).ok_or("first header cut short")?;
    Ok((String::from_utf8_lossy(name).into_owned(), method, extra_len))
}

/// `full-path` values of a manifest, found as text.
fn manifest_paths(manifest: &str) -> Vec<String> {
    manifest
        .split("manifest:full-path=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&").replace("&quot;", "\"").replace("&apos;", "'"))
        .collect()
}

fn well_formed(xml: &[u8]) -> Result<(), String> {
    let mut r = quick_xml::Reader::from_reader(xml);
    r.config_mut().check_end_names = true;
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Eof) => return Ok(()),
            Ok(quick_xml::events::Event::DocType(_)) => return Err("document type declaration".into()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The markup of a part: what stands between `<` and `>`, text content, comments and
/// processing instructions left out (none of them runs anything, and a sample's text may quote
/// anything).
fn tags_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let text = strip_between(&strip_between(text, "<!--", "-->"), "<?", "?>");
    let mut in_tag = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (in_tag, quote, c) {
            (false, _, '<') => {
                in_tag = true;
                out.push(c);
            }
            (false, _, _) => {}
            (true, None, '"' | '\'') => {
                quote = Some(c);
                out.push(c);
            }
            (true, Some(q), _) if c == q => {
                quote = None;
                out.push(c);
            }
            (true, None, '>') => {
                in_tag = false;
                out.push_str(">\n");
            }
            _ => out.push(c),
        }
    }
    out
}

fn strip_between(text: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        match rest[i + open.len()..].find(close) {
            Some(j) => rest = &rest[i + open.len() + j + close.len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

fn check_markup(name: &str, text: &str, problems: &mut Vec<String>) {
    let text = tags_only(text);
    let text = text.as_str();
    let lower = text.to_lowercase();
    for f in FORBIDDEN_MARKUP {
        // An element name must end where the pattern ends (`<text:scripts` is not `<text:script`).
        let whole = |i: usize| {
            !f.starts_with('<')
                || !f.ends_with(|c: char| c.is_ascii_alphanumeric())
                || lower[i + f.len()..].starts_with(|c: char| c.is_whitespace() || c == '/' || c == '>')
        };
        if let Some(i) = lower.match_indices(f).map(|(i, _)| i).find(|&i| whole(i)) {
            let from = text.floor_char_boundary(i.saturating_sub(60));
            let to = text.ceil_char_boundary((i + 60).min(text.len()));
            problems.push(format!("{name}: {f} is still there: …{}…", &text[from..to]));
        }
    }
    // `office:scripts` may stay, empty.
    if let Some(i) = lower.find("<office:scripts>") {
        if !lower[i..].starts_with("<office:scripts></office:scripts>") {
            problems.push(format!("{name}: office:scripts has content"));
        }
    }
}

/// Every problem found in a rebuilt package; `words` must be in `content.xml`.
fn check_package(out: &[u8], words: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    match first_entry(out) {
        Ok((name, method, extra)) => {
            if name != "mimetype" || method != 0 || extra != 0 {
                problems.push(format!("first entry {name:?} method {method} extra {extra}: not a stored mimetype"));
            }
        }
        Err(e) => problems.push(e),
    }
    let mut zip = match zip::ZipArchive::new(Cursor::new(out)) {
        Ok(z) => z,
        Err(e) => return vec![format!("the zip crate does not open it: {e}")],
    };
    let mut files: BTreeSet<String> = BTreeSet::new();
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    let mut manifest = String::new();
    let mut content = String::new();
    let limits = Config::default().limits;
    for i in 0..zip.len() {
        let mut f = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("entry {i}: {e}"));
                continue;
            }
        };
        let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
        if f.is_dir() {
            dirs.insert(name);
            continue;
        }
        let mut data = Vec::new();
        if let Err(e) = f.read_to_end(&mut data) {
            problems.push(format!("{name}: {e}"));
            continue;
        }
        let lower = name.to_lowercase();
        let top = lower.rsplit_once("object ").map(|(_, r)| r).unwrap_or(&lower);
        for lib in ["basic/", "scripts/", "dialogs/"] {
            if lower.starts_with(lib) || lower.contains(&format!("/{lib}")) || top.contains(&format!("/{lib}")) {
                problems.push(format!("{name}: a library entry"));
            }
        }
        if name == "mimetype" {
            if !String::from_utf8_lossy(&data).starts_with("application/vnd.oasis.opendocument.") {
                problems.push("mimetype is not an OpenDocument type".into());
            }
            continue;
        }
        let kind = detect::detect(&data, None, None, &limits).kind;
        if matches!(kind.family(), Family::Ole2 | Family::Executable) {
            problems.push(format!("{name}: holds a {kind} file"));
        }
        if kind == Kind::Pdf {
            if let Some(p) = pdf_scripts(&data) {
                problems.push(format!("{name}: {p}"));
            }
        }
        if lower.starts_with("meta-inf/") && lower.contains("signatures") {
            problems.push(format!("{name}: a signature that no longer matches"));
        }
        if lower.ends_with(".xml") || lower.ends_with(".rdf") {
            if let Err(e) = well_formed(&data) {
                problems.push(format!("{name}: not well-formed: {e}"));
            }
            let text = String::from_utf8_lossy(&data).into_owned();
            check_markup(&name, &text, &mut problems);
            if name == "content.xml" {
                content = text.clone();
            }
            if name == "META-INF/manifest.xml" {
                manifest = text;
                continue;
            }
        }
        files.insert(name);
    }
    if manifest.is_empty() {
        problems.push("no manifest".into());
    }
    let listed: BTreeSet<String> = manifest_paths(&manifest).into_iter().collect();
    for f in &files {
        if f != "mimetype" && !f.starts_with("META-INF/") && !listed.contains(f) {
            problems.push(format!("{f} is not in the manifest"));
        }
    }
    for l in &listed {
        if l == "/" {
            continue;
        }
        let exists = if l.ends_with('/') {
            files.iter().chain(&dirs).any(|f| f.starts_with(l.as_str()))
        } else {
            files.contains(l)
        };
        if !exists {
            problems.push(format!("the manifest lists {l}, which is not there"));
        }
    }
    for w in words {
        if !content.contains(w) {
            problems.push(format!("{w:?} is gone from content.xml"));
        }
    }
    problems
}

/// A script or automatic action in a PDF stored in the package, read with lopdf.
fn pdf_scripts(data: &[u8]) -> Option<String> {
    let doc = match lopdf::Document::load_mem(data) {
        Ok(d) => d,
        Err(e) => return Some(format!("a PDF lopdf cannot load: {e}")),
    };
    for (id, o) in &doc.objects {
        let dict = match o {
            lopdf::Object::Dictionary(d) => d,
            lopdf::Object::Stream(s) => &s.dict,
            _ => continue,
        };
        let js = dict.get(b"S").ok().and_then(|s| s.as_name().ok()) == Some(&b"JavaScript"[..]);
        if js || dict.has(b"JS") || dict.has(b"AA") || dict.has(b"OpenAction") {
            return Some(format!("a PDF with a script or an automatic action in object {id:?}"));
        }
    }
    None
}

fn check_flat(out: &[u8], words: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = well_formed(out) {
        problems.push(format!("not well-formed: {e}"));
    }
    let text = String::from_utf8_lossy(out);
    check_markup("document", &text, &mut problems);
    for w in words {
        if !text.contains(w) {
            problems.push(format!("{w:?} is gone"));
        }
    }
    problems
}

fn check_output(kind: Kind, out: &[u8], words: &[&str]) -> Vec<String> {
    if kind == Kind::FlatOdf {
        check_flat(out, words)
    } else {
        check_package(out, words)
    }
}

// ----------------------------------------------------------------------------------------------
// Outcomes

#[test]
fn every_odf_sample_gets_its_expected_outcome() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        if o.kind.family() != Family::Odf || o.output.is_some() && o.output_kind != Some(o.kind) {
            problems.push(format!("{}: detected as {}, written as {:?}", s.file_name, o.kind, o.output_kind));
        }
        problems.extend(outcome_problems(s, o));
    }
    fail_with(problems);
}

#[test]
fn rebuilt_documents_hold_nothing_active_and_keep_their_words() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        if let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) {
            let words: Vec<&str> = s.expected.keeps_text.clone();
            for p in check_output(o.kind, out, &words) {
                problems.push(format!("{}: {p}", s.file_name));
            }
        }
    }
    fail_with(problems);
}

#[test]
fn the_check_sees_each_threat_in_the_inputs() {
    // The check must be able to fail: every sample with something to remove fails it as it
    // was made (or its threat sits where only the engine's actions report it).
    let mut problems = Vec::new();
    for s in all() {
        let e = &s.expected;
        if e.verdict != Verdict::Disarmed || e.expects_no_actions() {
            continue;
        }
        let kind = detect::detect(&s.bytes, Some(s.file_name), None, &Config::default().limits).kind;
        if check_output(kind, &s.bytes, &[]).is_empty() {
            problems.push(format!("{}: the check finds nothing in the input", s.file_name));
        }
    }
    fail_with(problems);
}

#[test]
fn benign_inputs_pass_the_check() {
    let mut problems = Vec::new();
    for s in all().iter().filter(|s| s.expected.expects_no_actions()) {
        let kind = detect::detect(&s.bytes, Some(s.file_name), None, &Config::default().limits).kind;
        for p in check_output(kind, &s.bytes, &s.expected.keeps_text) {
            problems.push(format!("{}: {p}", s.file_name));
        }
    }
    fail_with(problems);
}

#[test]
fn the_replacement_picture_of_an_ole_object_stays() {
    let i = all().iter().position(|s| s.file_name == "ole_object.odt").expect("sample");
    let out = outcomes()[i].output.as_ref().expect("rebuilt");
    let mut zip = zip::ZipArchive::new(Cursor::new(out)).expect("zip");
    assert!(zip.by_name("Object 1").is_err(), "the OLE storage is still there");
    assert!(zip.by_name("ObjectReplacements/Object 1").is_ok(), "the replacement picture is gone");
    let mut content = String::new();
    zip.by_name("content.xml").expect("content").read_to_string(&mut content).expect("utf-8");
    assert!(content.contains("xlink:href=\"./ObjectReplacements/Object 1\""), "{content}");
}

#[test]
fn a_chart_subdocument_stays_and_a_benign_presentation_action_too() {
    let find = |n: &str| {
        let i = all().iter().position(|s| s.file_name == n).expect("sample");
        outcomes()[i].output.clone().expect("rebuilt")
    };
    let chart = find("chart_subdocument.odt");
    let mut zip = zip::ZipArchive::new(Cursor::new(&chart)).expect("zip");
    assert!(zip.by_name("Object 1/content.xml").is_ok());
    let mut content = String::new();
    zip.by_name("content.xml").expect("content").read_to_string(&mut content).expect("utf-8");
    assert!(content.contains("<draw:object xlink:href=\"./Object 1\""), "{content}");

    let pres = find("presentation_program.odp");
    let mut zip = zip::ZipArchive::new(Cursor::new(&pres)).expect("zip");
    let mut content = String::new();
    zip.by_name("content.xml").expect("content").read_to_string(&mut content).expect("utf-8");
    assert!(content.contains("presentation:action=\"next-page\"") && !content.contains("cmd.exe"), "{content}");
}

#[test]
fn web_links_stay_and_others_lose_their_target_but_keep_their_text() {
    let i = all().iter().position(|s| s.file_name == "file_links.odt").expect("sample");
    let out = outcomes()[i].output.as_ref().expect("rebuilt");
    let mut zip = zip::ZipArchive::new(Cursor::new(out)).expect("zip");
    let mut content = String::new();
    zip.by_name("content.xml").expect("content").read_to_string(&mut content).expect("utf-8");
    assert!(content.contains("href=\"https://example.com/\""), "{content}");
    assert!(!content.contains("calc.exe") && !content.contains("secret.odt"), "{content}");
    assert!(content.contains(odf::FILE_LINK_TEXT) && content.contains("relative"));
}

#[test]
fn rebuilt_documents_are_deterministic_and_a_second_pass_finds_nothing() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let Some(out) = &o.output else { continue };
        let again = process(s.file_name, &s.bytes);
        if again.output.as_ref() != Some(out) {
            problems.push(format!("{}: two runs give different bytes", s.file_name));
        }
        let name = o.output_name.clone().unwrap_or_else(|| s.file_name.to_string());
        let second = process(&name, out);
        if second.verdict != Verdict::Disarmed {
            problems.push(format!(
                "{}: second pass {:?}/{:?} ({})",
                s.file_name,
                second.verdict,
                second.reason,
                detail(&second)
            ));
            continue;
        }
        if !second.actions.is_empty() {
            problems.push(format!("{}: second pass still acts: {:?}", s.file_name, second.actions));
        }
        if second.output.as_ref() != Some(out) {
            problems.push(format!("{}: second pass changes the bytes", s.file_name));
        }
    }
    fail_with(problems);
}

// ----------------------------------------------------------------------------------------------
// Detection and limits

#[test]
fn templates_flat_documents_and_packages_without_mimetype_are_odf() {
    let limits = Config::default().limits;
    let kind = |b: &[u8]| detect::detect(b, None, None, &limits).kind;
    assert_eq!(kind(&odf::benign_template()), Kind::Odt);
    assert_eq!(kind(&odf::benign_flat()), Kind::FlatOdf);
    assert_eq!(kind(&odf::flat_macro()), Kind::FlatOdf);
    assert_eq!(kind(&odf::missing_mimetype()), Kind::Odt);
    assert_eq!(kind(&odf::database()), Kind::OdfOther);
    assert_eq!(
        formats::odf::kind_of_media_type("application/vnd.oasis.opendocument.spreadsheet-template"),
        Some(Kind::Ods)
    );
    assert_eq!(formats::odf::kind_of_media_type("application/zip"), None);
    // A flat document is never taken for HTML (it holds `<script:` elements).
    assert!(!formats::odf::is_flat_document(b"<html><script>1</script></html>"));
}

#[test]
fn a_flat_document_under_the_keep_markup_policy_is_still_disarmed() {
    let engine = engine_with(|c| {
        c.policy.families.insert(Family::Markup, mugai::config::KindAction::Keep);
    });
    let o = process_with(&engine, "macro.fodt", &odf::flat_macro());
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?}", o.detail);
    assert!(kinds(&o).contains(&ActionKind::RemovedEventListener));
}

#[test]
fn an_encrypted_package_without_mimetype_is_blocked_as_encrypted() {
    let mut zip = zip::ZipArchive::new(Cursor::new(odf::encrypted())).expect("zip");
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let name = f.name().expect("name").into_owned();
        if name == "mimetype" {
            continue;
        }
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("read");
        w.start_file(name, zip::write::SimpleFileOptions::default()).expect("entry");
        w.write_all(&data).expect("write");
    }
    let bytes = w.finish().expect("zip").into_inner();
    let o = process("enc.odt", &bytes);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Encrypted)), "{:?}", o.detail);
}

#[test]
fn odf_limits_follow_the_configuration() {
    let with = |change: fn(&mut Config)| engine_with(change);
    let doc = odf::benign_text();
    let o = process_with(&with(|c| c.limits.max_entries = 4), "a.odt", &doc);
    assert_eq!(o.reason, Some(Reason::LimitEntries), "{:?}", o.detail);
    let o = process_with(&with(|c| c.limits.max_xml_depth = 4), "a.odt", &doc);
    assert_eq!(o.reason, Some(Reason::LimitXmlDepth), "{:?}", o.detail);
    let o = process_with(&with(|c| c.limits.max_total_bytes = 1000), "a.odt", &doc);
    assert_eq!(o.reason, Some(Reason::LimitTotalBytes), "{:?}", o.detail);
}

// ----------------------------------------------------------------------------------------------
// Mutated inputs

/// Markup inserted into damaged samples.
const ODF_TOKENS: [&[u8]; 8] = [
    b"<",
    b"</text:p>",
    b"<script:event-listener xlink:href=\"macro:x\"/>",
    b"&#0;",
    b"]]>",
    b"<!DOCTYPE x>",
    b"<office:event-listeners>",
    b" xlink:href=\"../x\"",
];

#[test]
fn mutated_odf_samples_never_crash_the_engine_or_leave_active_content() {
    let mut rng = Rng(0x1234_0df0_aaaa_7777);
    let mut problems = Vec::new();
    for s in all() {
        for round in 0..48 {
            let data = if round % 2 == 0 || s.file_name.ends_with(".fodt") {
                let mut d = s.bytes.clone();
                damage(&mut d, &mut rng, &ODF_TOKENS);
                d
            } else {
                match damage_one_entry(&s.bytes, &mut rng, &ODF_TOKENS, |_| true) {
                    Some(d) => d,
                    None => continue,
                }
            };
            let o = process(s.file_name, &data);
            if o.reason == Some(Reason::InternalError) {
                problems.push(format!("{} round {round}: {}", s.file_name, detail(&o)));
            }
            if let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) {
                if o.kind.family() == Family::Odf {
                    for p in check_output(o.kind, out, &[]) {
                        problems.push(format!("{} round {round}: {p}", s.file_name));
                    }
                }
            }
        }
    }
    fail_with(problems);
}

// ----------------------------------------------------------------------------------------------
// Committed samples

#[test]
fn odf_sample_names_are_unique_and_builders_are_deterministic() {
    fail_with(unique_and_deterministic(all(), &odf::all()));
}

#[test]
fn committed_odf_samples_match_the_builders() {
    fail_with(committed_sample_problems("odf", all()));
}

#[test]
fn a_large_document_is_rebuilt_whole() {
    let doc = odf::large_odt(2 * 1024 * 1024);
    assert!(doc.len() > 2 * 1024 * 1024);
    let o = process("large.odt", &doc);
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?}", o.detail);
    assert!(o.actions.is_empty(), "{:?}", o.actions);
    let out = o.output.expect("rebuilt");
    fail_with(check_package(&out, &odf::TEXT_WORDS));
}

fn content_of(out: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(out)).expect("zip");
    let mut content = String::new();
    zip.by_name("content.xml").expect("content").read_to_string(&mut content).expect("utf-8");
    content
}

#[test]
fn hyperlinks_follow_the_odf_policy() {
    let with = |p: HyperlinkPolicy| engine_with(|c| c.odf.hyperlinks = p);
    // remove: the web link goes, the link to a place in the document stays, the text too.
    let o = process_with(&with(HyperlinkPolicy::Remove), "a.odt", &odf::benign_text());
    assert!(kinds(&o).contains(&ActionKind::RemovedExternalReference), "{:?}", o.actions);
    let c = content_of(o.output.as_ref().expect("rebuilt"));
    assert!(!c.contains("example.com") && c.contains("href=\"#Top\"") && c.contains("the guideline"), "{c}");
    // keep: file links stay, macro links still go.
    let keep = with(HyperlinkPolicy::Keep);
    let o = process_with(&keep, "a.odt", &odf::file_links());
    assert!(o.actions.is_empty(), "{:?}", o.actions);
    assert!(content_of(o.output.as_ref().expect("rebuilt")).contains("calc.exe"));
    let o = process_with(&keep, "a.odt", &odf::macro_hyperlink());
    assert!(kinds(&o).contains(&ActionKind::RemovedProgramAction), "{:?}", o.actions);
    assert!(!content_of(o.output.as_ref().expect("rebuilt")).contains("vnd.sun.star.script"));
}
