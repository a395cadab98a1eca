//! Every PDF sample of `mugai::samples::pdf` through the engine: the verdict, reason, actions and
//! output name it must get under the default configuration, and for every rebuilt PDF an
//! independent check with lopdf (it loads, keeps its pages and words, has no script, automatic
//! or dangerous action, rich media, XFA, encryption or earlier revision left, no attachment,
//! nothing unreferenced), that it is the same on every run and that a second pass
//! finds nothing more. Also the embedded-file and link policies, the limits, hostile and mutated
//! inputs, and that the files committed under `samples/pdf/` are what the builders make now.

use super::common::{
    blocked_reason, committed_sample_problems, damage, default_engine, detail, engine_with, fail_with, kinds,
    outcome_problems, process, process_with, unique_and_deterministic, Rng,
};
use lopdf::{Document, Object, ObjectId};
use mugai::config::{Config, EmbeddedPolicy, LinkPolicy};
use mugai::detect;
use mugai::engine::{Engine, Outcome};
use mugai::model::{ActionKind, Family, Kind, Reason, Verdict};
use mugai::samples::{self, pdf};
use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

super::common::sample_set!(mugai::samples::pdf::all);

/// Outcomes of every sample, computed once for all tests of this file.
/// The rebuilt bytes of a disarmed outcome, or why there are none.
fn disarmed_output<'a>(name: &str, o: &'a Outcome) -> Result<&'a [u8], String> {
    match (o.verdict, &o.output) {
        (Verdict::Disarmed, Some(out)) => Ok(out),
        _ => Err(format!("{name}: expected a rebuilt PDF, got {:?}/{:?} ({})", o.verdict, o.reason, detail(o))),
    }
}

// ----------------------------------------------------------------------------------------------
// The independent check

/// Largest stream the check decodes (the samples' streams are far smaller).
const CHECK_STREAM_LIMIT: usize = 64 * 1024 * 1024;

/// Action types that run, fetch, submit, launch or play something.
const DANGEROUS_ACTIONS: [&[u8]; 9] =
    [b"JavaScript", b"Launch", b"SubmitForm", b"ImportData", b"GoToR", b"GoToE", b"Rendition", b"Sound", b"Movie"];

/// Annotation subtypes that play media or 3D content.
const MEDIA_ANNOTATIONS: [&[u8]; 5] = [b"RichMedia", b"3D", b"Screen", b"Movie", b"Sound"];

fn load(bytes: &[u8]) -> Result<Document, String> {
    Document::load_mem(bytes).map_err(|e| format!("lopdf does not load it: {e}"))
}

fn name_of(o: &Object) -> Option<&[u8]> {
    match o {
        Object::Name(n) => Some(n),
        _ => None,
    }
}

fn string_of(o: &Object) -> Option<&[u8]> {
    match o {
        Object::String(s, _) => Some(s),
        _ => None,
    }
}

/// A URI that is never safe to keep: scripts, local files, inline data, file shares.
fn dangerous_uri(uri: &[u8]) -> bool {
    let u = String::from_utf8_lossy(uri).trim().to_ascii_lowercase();
    ["javascript:", "file:", "data:", "vbscript:"].iter().any(|s| u.starts_with(s))
        || u.starts_with("\\\\")
        || u.starts_with("//")
}

fn stream_content(s: &lopdf::Stream) -> Vec<u8> {
    s.get_plain_content_with_limit(CHECK_STREAM_LIMIT).unwrap_or_else(|_| s.content.clone())
}

/// Everything on the PDF checklist found in a document, one line each. Any attachment counts
/// (the default policy removes them all), and so does any stream holding a macro-enabled
/// document or a program, whatever it is called.
fn active_content(doc: &Document) -> Vec<String> {
    let mut found = Vec::new();
    let limits = Config::default().limits;
    for (id, obj) in &doc.objects {
        walk(obj, 0, &mut |o| {
            let dict = match o {
                Object::Dictionary(d) => d,
                Object::Stream(s) => &s.dict,
                _ => return,
            };
            for key in [&b"JS"[..], b"JavaScript", b"AA", b"XFA"] {
                if dict.has(key) {
                    found.push(format!("object {id:?}: /{}", String::from_utf8_lossy(key)));
                }
            }
            if let Some(s) = dict.get(b"S").ok().and_then(name_of) {
                if DANGEROUS_ACTIONS.contains(&s) {
                    found.push(format!("object {id:?}: action /S /{}", String::from_utf8_lossy(s)));
                }
            }
            if let Some(s) = dict.get(b"Subtype").ok().and_then(name_of) {
                if MEDIA_ANNOTATIONS.contains(&s) && dict.has(b"Rect") {
                    found.push(format!("object {id:?}: /{} annotation", String::from_utf8_lossy(s)));
                }
            }
            if dict.has_type(b"EmbeddedFile")
                || dict.get(b"Subtype").ok().and_then(name_of) == Some(b"FileAttachment")
                || dict.has(b"EF")
                || dict.has(b"EmbeddedFiles")
            {
                found.push(format!("object {id:?}: an attachment"));
            }
            if let Some(u) = dict.get(b"URI").ok().and_then(string_of) {
                if dangerous_uri(u) {
                    found.push(format!("object {id:?}: link to {}", String::from_utf8_lossy(u)));
                }
            }
        });
        if let Object::Stream(s) = obj {
            let content = stream_content(s);
            let kind = detect::detect(&content, None, None, &limits).kind;
            if kind.is_macro_enabled() || kind.family() == Family::Executable {
                found.push(format!("object {id:?}: a stream holding a {kind} file"));
            }
        }
    }
    if let Ok(catalog) = doc.catalog() {
        if let Ok(open) = catalog.get(b"OpenAction") {
            let open = doc.dereference(open).map(|(_, o)| o).unwrap_or(open);
            let plain_goto =
                |d: &lopdf::Dictionary| d.get(b"S").ok().and_then(name_of) == Some(b"GoTo") && !d.has(b"Next");
            match open {
                Object::Array(_) => {}
                Object::Dictionary(d) if plain_goto(d) => {}
                other => found.push(format!("catalog: /OpenAction {}", short(other))),
            }
        }
    }
    if doc.trailer.has(b"Encrypt") || doc.is_encrypted() || doc.was_encrypted() {
        found.push("trailer: /Encrypt".into());
    }
    found
}

fn short(o: &Object) -> String {
    let s = format!("{o:?}");
    s.chars().take(120).collect()
}

/// Calls `f` on `o` and everything nested in it (references are not followed).
fn walk(o: &Object, depth: usize, f: &mut dyn FnMut(&Object)) {
    if depth > 256 {
        return;
    }
    f(o);
    match o {
        Object::Array(a) => a.iter().for_each(|x| walk(x, depth + 1, f)),
        Object::Dictionary(d) => d.iter().for_each(|(_, x)| walk(x, depth + 1, f)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, x)| walk(x, depth + 1, f)),
        _ => {}
    }
}

/// The objects the trailer reaches.
fn reachable(doc: &Document) -> HashSet<ObjectId> {
    let mut seen = HashSet::new();
    let mut todo: Vec<ObjectId> = Vec::new();
    let refs = |o: &Object, todo: &mut Vec<ObjectId>| {
        walk(o, 0, &mut |x| {
            if let Object::Reference(r) = x {
                todo.push(*r);
            }
        })
    };
    refs(&Object::Dictionary(doc.trailer.clone()), &mut todo);
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(o) = doc.objects.get(&id) {
            refs(o, &mut todo);
        }
    }
    seen
}

/// Every page's content streams, decoded and joined.
fn page_text(doc: &Document) -> String {
    let mut text = Vec::new();
    for id in doc.get_pages().values() {
        text.extend(doc.get_page_content_with_limit(*id, CHECK_STREAM_LIMIT).unwrap_or_default());
        text.push(b'\n');
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The bytes with every `#xx` escape inside a name decoded (`/Java#53cript` -> `/JavaScript`).
fn decode_names(bytes: &[u8]) -> Vec<u8> {
    let regular = |c: u8| !b" \t\r\n\x0c\0()<>[]{}/%".contains(&c);
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_name = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'/' {
            in_name = true;
        } else if !regular(c) {
            in_name = false;
        } else if in_name && c == b'#' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Whether the last trailer (classic `trailer` dictionary or cross-reference stream
/// dictionary) has `/Prev`.
fn last_trailer_has_prev(bytes: &[u8]) -> Result<bool, String> {
    let at = bytes.windows(9).rposition(|w| w == b"startxref").ok_or("no startxref")?;
    let digits: String = bytes[at + 9..]
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| c.is_whitespace())
        .take_while(char::is_ascii_digit)
        .collect();
    let offset: usize = digits.parse().map_err(|_| "no startxref offset")?;
    let section = bytes.get(offset..at).ok_or("startxref points outside the file")?;
    let dict = if section.starts_with(b"xref") {
        let t = section.windows(7).position(|w| w == b"trailer").ok_or("no trailer after the xref table")?;
        &section[t..]
    } else {
        let s =
            section.windows(6).position(|w| w == b"stream").ok_or("startxref points at neither table nor stream")?;
        &section[..s]
    };
    let dict = decode_names(dict);
    Ok(dict
        .windows(5)
        .enumerate()
        .any(|(i, w)| w == b"/Prev" && dict.get(i + 5).is_none_or(|&c| !c.is_ascii_alphanumeric())))
}

/// Checks one rebuilt PDF; `input_pages` is the input's page count.
fn check_output(out: &[u8], input_pages: usize, words: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let doc = match load(out) {
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    let pages = doc.get_pages().len();
    if pages != input_pages {
        problems.push(format!("{pages} page(s), the input has {input_pages}"));
    }
    problems.extend(active_content(&doc));
    let eofs = count(out, b"%%EOF");
    if eofs != 1 {
        problems.push(format!("{eofs} %%EOF markers (one revision expected)"));
    }
    if doc.revision_count() != 1 {
        problems.push(format!("{} revisions", doc.revision_count()));
    }
    match last_trailer_has_prev(out) {
        Ok(false) => {}
        Ok(true) => problems.push("the trailer has /Prev".into()),
        Err(e) => problems.push(format!("trailer: {e}")),
    }
    let live = reachable(&doc);
    for (id, o) in &doc.objects {
        let structural = matches!(o, Object::Stream(s) if matches!(s.dict.get(b"Type").ok().and_then(name_of), Some(b"ObjStm" | b"XRef")));
        if !live.contains(id) && !structural {
            problems.push(format!("object {id:?} is not referenced ({})", short(o)));
        }
    }
    let mut raw = out.to_vec();
    for o in doc.objects.values() {
        if let Object::Stream(s) = o {
            raw.extend(stream_content(s));
        }
    }
    if count(&decode_names(&raw), b"/JavaScript") > 0 {
        problems.push("a /JavaScript name is in the bytes".into());
    }
    let text = page_text(&doc);
    for w in words {
        if !text.contains(w) {
            problems.push(format!("{w:?} is gone from the page contents"));
        }
    }
    problems
}

/// Loads a document, decrypting it with `password` if it is encrypted.
fn load_with_password(bytes: &[u8], password: &str) -> lopdf::Result<Document> {
    Document::load_mem_with_options(bytes, lopdf::LoadOptions::with_password(password))
}

/// The input's page count, read with the empty password if it is encrypted.
fn input_pages(bytes: &[u8]) -> Result<usize, String> {
    let doc = load_with_password(bytes, "").map_err(|e| format!("the input does not load: {e}"))?;
    Ok(doc.get_pages().len())
}

// ----------------------------------------------------------------------------------------------
// Outcomes under the default configuration

#[test]
fn every_pdf_sample_gets_its_expected_outcome() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        if o.kind != Kind::Pdf || o.output.is_some() && o.output_kind != Some(Kind::Pdf) {
            problems.push(format!("{}: detected as {}, written as {:?}", s.file_name, o.kind, o.output_kind));
        }
        problems.extend(outcome_problems(s, o));
    }
    fail_with(problems);
}

#[test]
fn rebuilt_pdfs_load_keep_their_pages_and_words_and_hold_nothing_active() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) else {
            continue;
        };
        let name = s.file_name;
        let pages = match input_pages(&s.bytes) {
            Ok(n) => n,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        problems.extend(check_output(out, pages, &s.expected.keeps_text).into_iter().map(|p| format!("{name}: {p}")));
    }
    fail_with(problems);
}

#[test]
fn rebuilt_pdfs_are_deterministic_and_a_second_pass_finds_nothing() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) else {
            continue;
        };
        let name = s.file_name;
        let rerun = process(name, &s.bytes);
        if rerun.output.as_deref() != Some(out.as_slice()) {
            problems.push(format!("{name}: a second run on the same input gave different bytes"));
        }
        let out_name = o.output_name.clone().unwrap_or_else(|| name.to_string());
        let again = process(&out_name, out);
        if again.output.as_deref() != Some(out.as_slice()) {
            problems.push(format!("{name}: disarming the output again changed its bytes"));
        }
        if again.verdict != Verdict::Disarmed || !again.actions.is_empty() {
            problems.push(format!(
                "{name}: the output processed again gave {:?}/{:?} with {:?} ({})",
                again.verdict,
                again.reason,
                again.actions,
                detail(&again)
            ));
        }
    }
    fail_with(problems);
}

/// A signed document loses its signature value and the permissions resting on it, keeps the
/// signature field and its text.
#[test]
fn a_signature_the_rewrite_breaks_is_removed() {
    let s = all().iter().find(|s| s.file_name == "signed.pdf").expect("signed sample");
    let o = process(s.file_name, &s.bytes);
    let out = o.output.expect("output");
    let doc = lopdf::Document::load_mem(&out).expect("loads");
    let catalog = doc.catalog().expect("catalog");
    assert!(!catalog.has(b"Perms"));
    let sigs: Vec<_> = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"FT").and_then(|f| f.as_name()).ok() == Some(b"Sig".as_slice()))
        .collect();
    assert_eq!(sigs.len(), 1, "the signature field stays");
    assert!(!sigs[0].has(b"V"), "its value goes");
    assert!(!doc.objects.values().any(|o| o.as_dict().is_ok_and(|d| d.has_type(b"Sig"))));
}

/// Under the default policies the benign sample's https link, internal link, outline and open
/// destination all stay.
#[test]
fn benign_links_outline_and_open_destination_survive() {
    let mut problems = Vec::new();
    for name in ["benign_report.pdf", "benign_object_streams.pdf"] {
        let out = match disarmed_output(name, outcome(name)) {
            Ok(out) => out,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let Ok(doc) = load(out) else { continue };
        let catalog = doc.catalog().expect("a catalog");
        if !catalog.has(b"OpenAction") {
            problems.push(format!("{name}: the open destination is gone"));
        }
        if name == "benign_report.pdf" {
            if uris(&doc) != [pdf::WEB_LINK.to_string()] {
                problems.push(format!("{name}: links {:?}, expected only {}", uris(&doc), pdf::WEB_LINK));
            }
            if count_actions(&doc, b"GoTo") != 1 {
                problems.push(format!("{name}: the link to page three is gone"));
            }
            let outline = catalog.get(b"Outlines").and_then(|o| doc.dereference(o)).map(|(_, o)| o);
            match outline.ok().and_then(|o| o.as_dict().ok()).and_then(|d| d.get(b"Count").ok()) {
                Some(Object::Integer(3)) => {}
                other => problems.push(format!("{name}: the outline is gone or changed ({other:?})")),
            }
        }
    }
    fail_with(problems);
}

/// Every `/URI` target in the document.
fn uris(doc: &Document) -> Vec<String> {
    let mut found = BTreeSet::new();
    for o in doc.objects.values() {
        walk(o, 0, &mut |x| {
            if let Object::Dictionary(d) = x {
                if let Some(u) = d.get(b"URI").ok().and_then(string_of) {
                    found.insert(String::from_utf8_lossy(u).into_owned());
                }
            }
        });
    }
    found.into_iter().collect()
}

/// How many action dictionaries of type `s` the document has.
fn count_actions(doc: &Document, s: &[u8]) -> usize {
    let mut n = 0;
    for o in doc.objects.values() {
        walk(o, 0, &mut |x| {
            if let Object::Dictionary(d) = x {
                if d.get(b"S").ok().and_then(name_of) == Some(s) {
                    n += 1;
                }
            }
        });
    }
    n
}

#[test]
fn dangerous_link_targets_go_and_the_web_link_stays() {
    let name = "uri_dangerous_schemes.pdf";
    let out = disarmed_output(name, outcome(name)).unwrap_or_else(|e| panic!("{e}"));
    let doc = load(out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(uris(&doc), [pdf::WEB_LINK.to_string()], "only the https link may stay");
}

/// Embedded files (the attachments: streams of type `/EmbeddedFile`), with the names their file
/// specifications give them.
fn attachments(doc: &Document) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut contents = Vec::new();
    let mut names = Vec::new();
    for o in doc.objects.values() {
        if let Object::Stream(s) = o {
            if s.dict.get(b"Type").ok().and_then(name_of) == Some(b"EmbeddedFile") {
                contents.push(stream_content(s));
            }
        }
        walk(o, 0, &mut |x| {
            if let Object::Dictionary(d) = x {
                if d.has(b"EF") {
                    for key in [&b"UF"[..], b"F"] {
                        if let Some(n) = d.get(key).ok().and_then(string_of) {
                            names.push(String::from_utf8_lossy(n).into_owned());
                        }
                    }
                }
            }
        });
    }
    (contents, names)
}

/// The engine under `[pdf] embedded_files = "disarm"`.
fn disarm_attachments() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| engine_with(|c| c.pdf.embedded_files = EmbeddedPolicy::Disarm))
}

#[test]
fn a_disarmed_attachment_comes_back_under_its_new_name() {
    let name = "embedded_docm.pdf";
    let o = process_with(disarm_attachments(), name, &sample(name).bytes);
    assert!(kinds(&o).contains(&ActionKind::DisarmedEmbeddedDocument), "{:?}", kinds(&o));
    let out = disarmed_output(name, &o).unwrap_or_else(|e| panic!("{e}"));
    let doc = load(out).unwrap_or_else(|e| panic!("{e}"));
    let (contents, names) = attachments(&doc);
    assert_eq!(contents.len(), 1, "one attachment expected, names {names:?}");
    let kind = detect::detect(&contents[0], None, None, &Config::default().limits).kind;
    assert_eq!(kind, Kind::Docx, "the attachment is now a {kind}");
    let stem = pdf::EMBEDDED_DOCM_NAME.trim_end_matches(".docm");
    assert!(!names.is_empty(), "the file specification has no name");
    for n in &names {
        assert_eq!(n, &format!("{stem}.docx"), "the attachment keeps a name that no longer fits: {names:?}");
    }
}

#[test]
fn a_clean_attachment_stays_as_it_was_under_the_disarm_policy() {
    let name = "attachment_text.pdf";
    let o = process_with(disarm_attachments(), name, &sample(name).bytes);
    assert!(o.actions.is_empty(), "a clean attachment is nothing to report: {:?}", o.actions);
    let out = disarmed_output(name, &o).unwrap_or_else(|e| panic!("{e}"));
    let doc = load(out).unwrap_or_else(|e| panic!("{e}"));
    let (contents, names) = attachments(&doc);
    assert_eq!(contents, [pdf::ATTACHED_TEXT.to_vec()], "the text attachment changed or is gone");
    assert!(names.iter().all(|n| n == pdf::ATTACHED_TEXT_NAME), "{names:?}");
    let annots = doc
        .objects
        .values()
        .filter(|o| o.as_dict().ok().and_then(|d| d.get(b"Subtype").ok()).and_then(name_of) == Some(b"FileAttachment"))
        .count();
    assert_eq!(annots, 1, "the file attachment annotation is gone");
}

/// AES-128 with an empty user password is decrypted and written without encryption, like the
/// committed RC4 sample (built here: AES draws random vectors, so it cannot be committed).
#[test]
fn an_aes_encrypted_pdf_with_an_empty_password_is_decrypted() {
    let input = pdf::encrypted_aes_empty_password();
    assert!(load_with_password(&input, "").is_ok_and(|d| d.was_encrypted()), "the input is not AES-encrypted");
    let o = process("aes.pdf", &input);
    let out = disarmed_output("aes.pdf", &o).unwrap_or_else(|e| panic!("{e}"));
    assert!(kinds(&o).contains(&ActionKind::RemovedEncryption), "{:?}", kinds(&o));
    fail_with(check_output(out, 1, &pdf::ENCRYPTED_WORDS));
}

// ----------------------------------------------------------------------------------------------
// Policies

#[test]
fn every_attachment_goes_by_default() {
    let engine = default_engine();
    assert_eq!(Config::default().pdf.embedded_files, EmbeddedPolicy::Remove);
    let mut problems = Vec::new();
    for name in ["embedded_docm.pdf", "embedded_exe.pdf", "attachment_text.pdf"] {
        let s = sample(name);
        let o = process_with(engine, name, &s.bytes);
        let out = match disarmed_output(name, &o) {
            Ok(out) => out,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if !kinds(&o).contains(&ActionKind::RemovedEmbeddedFile) {
            problems.push(format!("{name}: no removed_embedded_file in {:?}", kinds(&o)));
        }
        let pages = input_pages(&s.bytes).unwrap_or(0);
        problems.extend(check_output(out, pages, &s.expected.keeps_text).into_iter().map(|p| format!("{name}: {p}")));
        if let Ok(doc) = load(out) {
            let (contents, names) = attachments(&doc);
            if !contents.is_empty() || !names.is_empty() {
                problems.push(format!("{name}: attachments left: {names:?}, {} stream(s)", contents.len()));
            }
        }
    }
    fail_with(problems);
}

#[test]
fn every_web_link_goes_under_the_remove_policy() {
    let engine = engine_with(|c| c.pdf.links = LinkPolicy::Remove);
    let mut problems = Vec::new();
    for name in ["benign_report.pdf", "uri_dangerous_schemes.pdf"] {
        let s = sample(name);
        let o = process_with(&engine, name, &s.bytes);
        let out = match disarmed_output(name, &o) {
            Ok(out) => out,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if !kinds(&o).contains(&ActionKind::RemovedExternalReference) {
            problems.push(format!("{name}: no removed_external_reference in {:?}", kinds(&o)));
        }
        let pages = input_pages(&s.bytes).unwrap_or(0);
        problems.extend(check_output(out, pages, &s.expected.keeps_text).into_iter().map(|p| format!("{name}: {p}")));
        if let Ok(doc) = load(out) {
            let left = uris(&doc);
            if !left.is_empty() || count_actions(&doc, b"URI") > 0 {
                problems.push(format!("{name}: links left: {left:?}"));
            }
        }
    }
    fail_with(problems);
}

// ----------------------------------------------------------------------------------------------
// Limits and hostile input

#[test]
fn a_four_gib_flate_bomb_is_blocked_at_the_stream_limit() {
    let bomb = pdf::flate_bomb_pdf(4 << 30);
    assert!(bomb.len() < 8 * 1024 * 1024, "the bomb is {} bytes", bomb.len());
    let o = process("bomb.pdf", &bomb);
    assert_eq!(blocked_reason(&o), Some(Reason::LimitStreamBytes), "{:?}/{:?} ({})", o.verdict, o.reason, detail(&o));
}

#[test]
fn the_pdf_limits_follow_the_configuration() {
    let benign = &sample("benign_report.pdf").bytes;
    let cases: [(&str, Engine, Reason); 2] = [
        ("max_objects = 10", engine_with(|c| c.limits.max_objects = 10), Reason::LimitObjects),
        ("max_stream_bytes = 64", engine_with(|c| c.limits.max_stream_bytes = 64), Reason::LimitStreamBytes),
    ];
    let mut problems = Vec::new();
    for (what, engine, reason) in cases {
        let o = process_with(&engine, "benign_report.pdf", benign);
        if blocked_reason(&o) != Some(reason) {
            problems.push(format!("{what}: expected {reason}, got {:?}/{:?} ({})", o.verdict, o.reason, detail(&o)));
        }
    }
    fail_with(problems);
}

/// Hostile inputs (loops, bombs, deep nesting, damage) run to an outcome; each is processed on
/// its own so that one that never returns is named by the hung test's output.
#[test]
fn hostile_pdfs_come_to_an_outcome() {
    let hostile =
        all().iter().filter(|s| s.expected.verdict == Verdict::Blocked || s.file_name == "action_next_loop.pdf");
    for s in hostile {
        eprintln!("processing {}", s.file_name);
        let o = process(s.file_name, &s.bytes);
        assert_ne!(o.reason, Some(Reason::InternalError), "{}: {}", s.file_name, detail(&o));
    }
}

/// A file cut anywhere before its end-of-file marker loses what followed the cut: it is
/// blocked as malformed, never rebuilt from what is left. Junk after the marker (padding, a
/// mail footer) is not a cut.
#[test]
fn a_pdf_cut_short_anywhere_is_blocked() {
    let mut problems = Vec::new();
    for name in ["benign_report.pdf", "benign_object_streams.pdf", "js_incremental_update.pdf"] {
        let bytes = &sample(name).bytes;
        let end = bytes.windows(5).rposition(|w| w == b"%%EOF").expect("an end-of-file marker");
        // Cut points across the whole file, the last just before the marker.
        let cuts = (1..16).map(|i| end * i / 16).chain([end]);
        for cut in cuts {
            let o = process(name, &bytes[..cut]);
            if blocked_reason(&o) != Some(Reason::Malformed) {
                problems.push(format!(
                    "{name} cut at {cut}/{}: {:?}/{:?} ({})",
                    bytes.len(),
                    o.verdict,
                    o.reason,
                    detail(&o)
                ));
            }
        }
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0u8; 4096]);
        padded.extend_from_slice(b"\r\n-- \r\nSent from the ward office\r\n");
        let o = process(name, &padded);
        if o.verdict != Verdict::Disarmed {
            problems.push(format!("{name} with junk after %%EOF: {:?}/{:?} ({})", o.verdict, o.reason, detail(&o)));
        }
    }
    fail_with(problems);
}

/// PDF syntax inserted into damaged samples.
const PDF_TOKENS: [&[u8]; 8] = [b"<<", b">>", b"endobj", b"1 0 R", b"[", b"stream\n", b"/Length 999999", b"%%EOF"];

/// Damaged PDFs never crash the engine: the outcome is a rebuild or a named block, never
/// `internal_error` (a caught panic, or active content the final check found after the sweep),
/// under either attachment policy.
#[test]
fn mutated_pdf_samples_never_crash_the_default_engine() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut crashes = Vec::new();
    for (policy, engine) in [("remove", default_engine()), ("disarm", disarm_attachments())] {
        for s in all().iter().filter(|s| s.bytes.len() <= 64 * 1024) {
            for round in 0..16 {
                let mut data = s.bytes.clone();
                damage(&mut data, &mut rng, &PDF_TOKENS);
                let o = process_with(engine, s.file_name, &data);
                if o.reason == Some(Reason::InternalError) {
                    crashes.push(format!("{} ({policy}) round {round}: {}", s.file_name, detail(&o)));
                }
            }
        }
    }
    fail_with(crashes);
}

// ----------------------------------------------------------------------------------------------
// The samples themselves

/// The builders' PDFs must load and show what they claim, or a clean result would prove
/// nothing: every sample meant to be rebuilt loads with its pages and words, and the check
/// finds the threat of every sample that must have something removed.
#[test]
fn the_samples_load_and_the_check_sees_each_threat() {
    let mut problems = Vec::new();
    for s in all().iter().filter(|s| s.expected.verdict == Verdict::Disarmed) {
        let name = s.file_name;
        let doc = match load_with_password(&s.bytes, "") {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{name}: does not load: {e}"));
                continue;
            }
        };
        if doc.get_pages().is_empty() {
            problems.push(format!("{name}: no pages"));
        }
        let text = page_text(&doc);
        for w in &s.expected.keeps_text {
            if !text.contains(w) {
                problems.push(format!("{name}: {w:?} is not on its pages"));
            }
        }
        let mut found = active_content(&doc);
        if s.expected.actions.contains(&ActionKind::RemovedEncryption) && !s.bytes.windows(8).any(|w| w == b"/Encrypt")
        {
            problems.push(format!("{name}: not encrypted"));
        }
        found.retain(|f| f != "trailer: /Encrypt");
        // Encryption and signatures are not active content; their removal follows from the rewrite.
        let threat = s.expected.actions.iter().any(|a| !a.is_consequence());
        match (threat, found.is_empty()) {
            (true, true) => problems.push(format!("{name}: the check finds nothing in the input")),
            (false, false) => problems.push(format!("{name}: a clean sample has {found:?}")),
            _ => {}
        }
    }
    fail_with(problems);
}

/// The output check itself: the clean samples pass it as they are, a decrypted copy of the
/// encrypted one passes it, and an incremental update fails it for its second revision.
#[test]
fn the_output_check_passes_clean_files_and_fails_updated_ones() {
    let mut problems = Vec::new();
    for s in all().iter().filter(|s| s.expected.expects_no_actions()) {
        let pages = input_pages(&s.bytes).unwrap_or(0);
        let found = check_output(&s.bytes, pages, &s.expected.keeps_text);
        if !found.is_empty() {
            problems.push(format!("{}: {found:?}", s.file_name));
        }
    }
    let encrypted = sample("encrypted_empty_password.pdf");
    let mut doc = load_with_password(&encrypted.bytes, "").expect("decrypts with the empty password");
    let mut decrypted = Vec::new();
    doc.save_to(&mut decrypted).expect("writing to memory");
    let found = check_output(&decrypted, 1, &encrypted.expected.keeps_text);
    if !found.is_empty() {
        problems.push(format!("the decrypted copy: {found:?}"));
    }
    let updated = &sample("js_incremental_update.pdf").bytes;
    let found = check_output(updated, 1, &[]);
    for expected in ["2 %%EOF markers", "2 revisions", "the trailer has /Prev", "catalog: /OpenAction"] {
        if !found.iter().any(|f| f.contains(expected)) {
            problems.push(format!("the incremental update: {expected:?} not among {found:?}"));
        }
    }
    fail_with(problems);
}

#[test]
fn the_blocked_samples_are_what_they_claim() {
    let pages = |name: &str| Document::load_mem(&sample(name).bytes).map(|d| d.get_pages().len());
    assert!(
        load_with_password(&sample("encrypted_user_password.pdf").bytes, "").is_err(),
        "opens without its password"
    );
    let doc = load_with_password(&sample("encrypted_user_password.pdf").bytes, pdf::USER_PASSWORD)
        .expect("opens with its password");
    assert_eq!(doc.get_pages().len(), 1);
    let truncated = &sample("blocked_truncated.pdf").bytes;
    assert!(!truncated.windows(8).any(|w| w == b"/Catalog"), "the catalog is still there");
    assert!(sample("blocked_random_body.pdf").bytes.starts_with(b"%PDF-1.7\n"));
    let deep = Document::load_mem(&sample("blocked_deep_nesting.pdf").bytes).expect("the deep sample loads");
    let page = deep.get_pages().values().next().copied().expect("a page");
    let mut depth = 0;
    let mut d = deep.get_dictionary(page).expect("the page");
    for key in [&b"PieceInfo"[..], b"mugai", b"Private"] {
        d = d.get(key).and_then(Object::as_dict).expect("the nested dictionary");
    }
    while let Ok(inner) = d.get(b"D").and_then(Object::as_dict) {
        d = inner;
        depth += 1;
    }
    assert_eq!(depth + 1, pdf::DEEP_NESTING);
    let many = Document::load_mem(&sample("blocked_many_objects.pdf").bytes).expect("the large sample loads");
    assert!(many.objects.len() > pdf::MANY_OBJECTS as usize);
    assert_eq!(pages("blocked_flate_bomb.pdf").ok(), Some(1));
}

#[test]
fn pdf_sample_names_are_unique_and_builders_are_deterministic() {
    let mut problems = unique_and_deterministic(all(), &pdf::all());
    problems.extend(
        all().iter().filter(|s| !s.file_name.ends_with(".pdf")).map(|s| format!("{}: not named .pdf", s.file_name)),
    );
    fail_with(problems);
}

#[test]
fn committed_pdf_samples_match_the_builders() {
    fail_with(committed_sample_problems("pdf", all()));
}

/// A content stream whose compressed data is cut short (its end and checksum lost) is written
/// anew from what decodes: the output's streams all decode and the surviving text is there.
#[test]
fn a_damaged_content_stream_is_rebuilt_from_what_decodes() {
    let mut doc = pdf::Doc::new("Damaged stream");
    let mut lines = vec!["Damaged stream", "The first lines survive"];
    let filler: Vec<String> = (0..400).map(|i| format!("line {i} of a long page of filler text")).collect();
    lines.extend(filler.iter().map(String::as_str));
    let mut z = pdf::deflate(&pdf::text_content(&lines));
    z.truncate(z.len() * 3 / 4);
    let contents = doc.add_stream("/Filter /FlateDecode", &z);
    let page = doc.reserve();
    doc.page_with_contents(page, contents, "");
    let o = process("damaged.pdf", &doc.finish());
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?}", o.detail);
    let out = Document::load_mem(o.output.as_deref().unwrap()).unwrap();
    for obj in out.objects.values() {
        if let Object::Stream(s) = obj {
            // Strictly: complete zlib data with its checksum, not a lenient partial decode.
            if s.filters().is_ok_and(|f| f == [b"FlateDecode".as_slice()]) {
                let mut plain = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(s.content.as_slice()), &mut plain)
                    .expect("every stream written decodes");
            }
        }
    }
    assert!(page_text(&out).contains("The first lines survive"));
}

/// A PDF inside a Word document goes through the engine like any other child: with embedded
/// documents disarmed, its script goes and the clean PDF stays in the package.
#[test]
fn a_pdf_inside_a_word_document_is_disarmed_through_the_default_engine() {
    use mugai::config::EmbeddedPolicy;
    let docx = samples::word::embedded_pdf(pdf::js_open_action());
    let engine = engine_with(|c| c.ooxml.embedded_documents = EmbeddedPolicy::Disarm);
    let o = process_with(&engine, "with_pdf.docx", &docx);
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?}", o.detail);
    let js: Vec<_> = o.actions.iter().filter(|a| a.action == ActionKind::RemovedJavascript).collect();
    assert!(
        js.iter().any(|a| a.part.starts_with("word/embeddings/report.pdf/")),
        "the child's removal is reported under the part: {:?}",
        o.actions
    );
    let out = o.output.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(out)).unwrap();
    let mut inner = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("word/embeddings/report.pdf").unwrap(), &mut inner).unwrap();
    let again = process("report.pdf", &inner);
    assert_eq!((again.verdict, again.actions.len()), (Verdict::Disarmed, 0), "{:?}", again.actions);
}

/// Found by `properties::property_pdf_mutations`: `/JS (...)` inserted into a page dictionary
/// made the page an action; it was removed with everything that referenced it, and a document
/// without pages came out as disarmed (refused on a second pass). A node of the page tree that
/// is also something to remove makes the document malformed, and the cleaned document must
/// still have pages.
#[test]
fn regression_a_page_that_is_also_an_action_is_malformed() {
    let base = &sample("js_names_tree.pdf").bytes;
    let page_end = b"/Contents 6 0 R  >>";
    let at = base.windows(page_end.len()).position(|w| w == page_end).expect("the page dictionary");
    for inserted in [b"/JS (app.alert(1)) ".as_slice(), b"/S /Launch /F (calc.exe) "] {
        let input = [&base[..at], inserted, &base[at..]].concat();
        let o = process("page.pdf", &input);
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Malformed)), "{}", detail(&o));
    }
}

/// Found by `properties::property_pdf_mutations` on a real file: a stream whose `/Length` is a
/// reference to another object. The rewrite writes lengths directly, but the object that held
/// the length stayed in the file, reached by nothing; a second pass dropped it and numbered
/// every later object anew (other bytes). It goes on the first pass now.
#[test]
fn regression_an_object_that_only_held_a_stream_length_goes() {
    let mut doc = pdf::Doc::new("Length elsewhere");
    let text = "BT /F1 12 Tf 72 720 Td (Length elsewhere) Tj ET";
    let length = doc.reserve();
    let contents = doc.add(format!("<< /Length {length} 0 R >>\nstream\n{text}\nendstream"));
    doc.set(length, text.len().to_string());
    let page = doc.reserve();
    doc.page_with_contents(page, contents, "");
    let input = doc.finish();
    let o = process("length.pdf", &input);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    assert!(o.actions.is_empty(), "{:?}", o.actions);
    let out = o.output.expect("output");
    let parsed = Document::load_mem(&out).expect("the output loads");
    let lengths_alone = parsed.objects.values().filter(|o| matches!(o, Object::Integer(_))).count();
    assert_eq!(lengths_alone, 0, "an object holding only a number is left");
    let again = process("length.pdf", &out);
    assert!(again.actions.is_empty() && again.output.as_deref() == Some(out.as_slice()), "not a fixed point");
}

/// Found by `properties::property_pdf_mutations` on a real file: an object that refers to one of
/// the file's object streams. The object stream was kept as an object and numbered, but the
/// writer makes its own object streams and left it out: the output referred to an object it
/// does not have, and a second pass numbered every later object anew. Object and
/// cross-reference streams of the input (and null objects) are not objects of the output, and
/// a reference to one is null.
#[test]
fn regression_a_reference_to_an_object_stream_reads_as_null() {
    let base = &sample("benign_object_streams.pdf").bytes;
    let at = base.windows(7).position(|w| w == b"9 0 obj").expect("the object stream");
    assert!(base[at..at + 40].windows(7).any(|w| w == b"/ObjStm"), "object 9 is the object stream");
    let dict = b"6 0 obj\n<< /Filter";
    let at = base.windows(dict.len()).position(|w| w == dict).expect("a stream dictionary") + 10;
    let input = [&base[..at], b" /Extra [9 0 R] ", &base[at..]].concat();
    let o = process("objstm.pdf", &input);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    let out = o.output.expect("output");
    let again = process("objstm.pdf", &out);
    assert!(again.actions.is_empty(), "{:?}", again.actions);
    assert!(again.output.as_deref() == Some(out.as_slice()), "a second pass changed the bytes");
}

/// Found by `properties::property_pdf_mutations` on a real file, after the fix above: an object
/// whose whole value is a reference to an object that is not there was written as a `null`
/// object, which a second pass then left out (renumbering every later object). Such an object
/// is null itself: it goes, and what referred to it reads null.
#[test]
fn regression_an_object_that_only_refers_to_a_missing_object_goes() {
    let mut doc = pdf::Doc::new("Dangling");
    let dangling = doc.add("999 0 R");
    let chain = doc.add(format!("{dangling} 0 R"));
    doc.page(&["Dangling"], &format!("/Extra [{chain} 0 R {dangling} 0 R]"));
    let input = doc.finish();
    let o = process("dangling.pdf", &input);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    let out = o.output.expect("output");
    let parsed = Document::load_mem(&out).expect("the output loads");
    assert!(
        !parsed.objects.values().any(|o| matches!(o, Object::Null | Object::Reference(_))),
        "a null object is left"
    );
    let again = process("dangling.pdf", &out);
    assert!(again.actions.is_empty(), "{:?}", again.actions);
    assert!(again.output.as_deref() == Some(out.as_slice()), "a second pass changed the bytes");
}
