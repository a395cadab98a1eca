//! Every RTF sample of `mugai::samples::rtf` through the engine: the verdict, reason, actions and
//! output name it must get under the default configuration, and for every rebuilt document an
//! independent check (a scanner written here, sharing no code with the disarm) that it is one
//! balanced group with nothing after it, holds no object, object data, data store, template,
//! form field macro, dangerous field instruction or linked picture, and keeps its words and its
//! Japanese text byte for byte; that the same input always gives the same bytes and a second
//! pass changes nothing; the hyperlink policy and nesting limit; mutated and truncated inputs;
//! and that the files committed under `samples/rtf/` are what the builders make now.

use super::common::{
    committed_sample_problems, damage, detail, engine_with, fail_with, kinds, outcome_problems, process, process_with,
    unique_and_deterministic, Rng,
};
use mugai::config::HyperlinkPolicy;
use mugai::model::{ActionKind, Kind, Reason, Verdict};
use mugai::samples::rtf;

super::common::sample_set!(mugai::samples::rtf::all);

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

// ----------------------------------------------------------------------------------------------
// The independent check: a plain scanner over the bytes

/// Destinations whose text is not shown.
const HIDDEN: [&str; 12] = [
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "fldinst",
    "objdata",
    "objclass",
    "datastore",
    "template",
    "shpinst",
    "listtable",
];

/// Field instructions that fetch, include or run something.
const BAD_FIELDS: [&str; 7] = ["INCLUDETEXT", "INCLUDEPICTURE", "INCLUDE", "IMPORT", "LINK", "MACROBUTTON", "DATABASE"];

#[derive(Clone, Default)]
struct GroupState {
    hidden: bool,
    first: bool,
    star: bool,
    field: Option<usize>,
    prop: Option<(usize, bool)>,
    uc: usize,
}

#[derive(Default, Debug)]
struct Scan {
    words: Vec<String>,
    fields: Vec<String>,
    props: Vec<(String, String)>,
    text: String,
    /// Groups still open at the end of the data.
    open: usize,
    /// Bytes after the closing brace of the first group.
    after: Vec<u8>,
}

fn scan(d: &[u8]) -> Scan {
    let mut s = Scan::default();
    let mut stack: Vec<GroupState> = Vec::new();
    let mut cur = GroupState { uc: 1, ..Default::default() };
    let mut skip_chars = 0usize;
    let mut i = 0;
    let put = |s: &mut Scan, cur: &GroupState, c: char, skip: &mut usize| {
        if *skip > 0 {
            *skip -= 1;
            return;
        }
        if let Some(f) = cur.field {
            s.fields[f].push(c);
        } else if let Some((p, value)) = cur.prop {
            if value {
                s.props[p].1.push(c)
            } else {
                s.props[p].0.push(c)
            }
        } else if !cur.hidden {
            s.text.push(c);
        }
    };
    while i < d.len() {
        let b = d[i];
        match b {
            b'{' => {
                stack.push(cur.clone());
                cur.first = true;
                cur.star = false;
                skip_chars = 0;
                i += 1;
            }
            b'}' => {
                i += 1;
                match stack.pop() {
                    Some(prev) => cur = prev,
                    None => break,
                }
                skip_chars = 0;
                if stack.is_empty() {
                    s.after = d[i..].to_vec();
                    return s;
                }
            }
            b'\\' => {
                let Some(&c) = d.get(i + 1) else { break };
                if c.is_ascii_alphabetic() {
                    let mut j = i + 1;
                    while j < d.len() && d[j].is_ascii_alphabetic() {
                        j += 1;
                    }
                    let name = String::from_utf8_lossy(&d[i + 1..j]).to_string();
                    let neg = d.get(j) == Some(&b'-');
                    let k = if neg { j + 1 } else { j };
                    let mut m = k;
                    while m < d.len() && d[m].is_ascii_digit() {
                        m += 1;
                    }
                    let param: Option<i64> = std::str::from_utf8(&d[k..m]).ok().and_then(|t| t.parse().ok());
                    let param = param.map(|p| if neg { -p } else { p });
                    if d.get(m) == Some(&b' ') {
                        m += 1;
                    }
                    i = m;
                    if cur.first && (cur.star || HIDDEN.contains(&name.as_str())) {
                        cur.hidden = true;
                    }
                    cur.first = false;
                    match name.as_str() {
                        "bin" => i += param.unwrap_or(0).max(0) as usize,
                        "fldinst" => {
                            s.fields.push(String::new());
                            cur.field = Some(s.fields.len() - 1);
                        }
                        "sn" => {
                            s.props.push((String::new(), String::new()));
                            cur.prop = Some((s.props.len() - 1, false));
                        }
                        "sv" if !s.props.is_empty() => cur.prop = Some((s.props.len() - 1, true)),
                        "par" | "tab" | "line" | "cell" => put(&mut s, &cur, ' ', &mut skip_chars),
                        "uc" => cur.uc = param.unwrap_or(1).max(0) as usize,
                        "u" => {
                            let v = param.unwrap_or(0);
                            let v = if v < 0 { v + 65536 } else { v };
                            let c = char::from_u32(v as u32).unwrap_or('?');
                            put(&mut s, &cur, c, &mut 0);
                            skip_chars = cur.uc;
                        }
                        _ => {}
                    }
                    s.words.push(name);
                } else if c == b'\'' {
                    let v = d.get(i + 2..i + 4).and_then(|h| u8::from_str_radix(&String::from_utf8_lossy(h), 16).ok());
                    i += 4;
                    cur.first = false;
                    put(&mut s, &cur, v.filter(u8::is_ascii).map(char::from).unwrap_or('?'), &mut skip_chars);
                } else {
                    i += 2;
                    if c == b'*' {
                        cur.star = true;
                    } else {
                        cur.first = false;
                        if matches!(c, b'\\' | b'{' | b'}') {
                            put(&mut s, &cur, c as char, &mut skip_chars);
                        }
                    }
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                cur.first = false;
                put(&mut s, &cur, if b.is_ascii() { b as char } else { '?' }, &mut skip_chars);
                i += 1;
            }
        }
    }
    s.open = stack.len();
    s
}

/// Everything on the RTF checklist the scan found.
fn active(s: &Scan) -> Vec<String> {
    let mut found = Vec::new();
    for w in &s.words {
        if w.starts_with("obj")
            || ["datastore", "template", "ffentrymcr", "ffexitmcr", "subdocument"].contains(&w.as_str())
        {
            found.push(format!("control word \\{w}"));
        }
    }
    for code in &s.fields {
        let upper = code.to_uppercase();
        let tokens: Vec<&str> = upper.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
        if tokens.iter().any(|t| *t == "DDE" || *t == "DDEAUTO") {
            found.push(format!("DDE field {code:?}"));
        }
        let first = upper.split_whitespace().next().unwrap_or("");
        if BAD_FIELDS.contains(&first) {
            found.push(format!("field {code:?}"));
        }
        if first == "HYPERLINK" && (upper.contains("\"\\\\") || upper.contains("FILE:")) {
            found.push(format!("hyperlink to a share {code:?}"));
        }
    }
    for (name, value) in &s.props {
        if name.trim().eq_ignore_ascii_case("pibName") && value.contains("://") {
            found.push(format!("linked picture {value:?}"));
        }
    }
    if s.after.iter().any(|b| !b.is_ascii_whitespace()) {
        found.push(format!("{} bytes after the end", s.after.len()));
    }
    found
}

fn check_output(out: &[u8], words: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    if !out.starts_with(b"{\\rtf1") {
        problems.push("does not start with {\\rtf1".into());
    }
    let s = scan(out);
    if s.open != 0 {
        problems.push(format!("{} group(s) open at the end", s.open));
    }
    problems.extend(active(&s));
    for w in words {
        if !s.text.contains(w) {
            problems.push(format!("{w:?} is not in the text"));
        }
    }
    problems
}

// ----------------------------------------------------------------------------------------------
// Outcomes

#[test]
fn every_rtf_sample_gets_its_expected_outcome() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        if o.kind != Kind::Rtf || o.output.is_some() && o.output_kind != Some(Kind::Rtf) {
            problems.push(format!("{}: detected as {}, written as {:?}", s.file_name, o.kind, o.output_kind));
        }
        problems.extend(outcome_problems(s, o));
    }
    fail_with(problems);
}

#[test]
fn rebuilt_rtf_is_balanced_keeps_its_words_and_japanese_and_holds_nothing_active() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) else { continue };
        let name = s.file_name;
        problems.extend(check_output(out, &s.expected.keeps_text).into_iter().map(|p| format!("{name}: {p}")));
        for ja in [rtf::JA_TITLE_SJIS, rtf::JA_NAME_UNICODE] {
            if !contains(out, ja.as_bytes()) {
                problems.push(format!("{name}: the Japanese text {ja} is not there byte for byte"));
            }
        }
    }
    fail_with(problems);
}

#[test]
fn a_clean_document_comes_out_byte_for_byte() {
    let s = sample("benign_letter_ja.rtf");
    let o = process(s.file_name, &s.bytes);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    assert!(o.output.as_deref() == Some(s.bytes.as_slice()), "the benign letter changed");
    // The `\bin` picture carries braces and backslashes in its raw bytes.
    assert!(contains(&s.bytes, b"{}\\}{}"));
}

#[test]
fn rebuilt_rtf_is_deterministic_and_a_second_pass_finds_nothing() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) else { continue };
        let name = s.file_name;
        if process(name, &s.bytes).output.as_deref() != Some(out.as_slice()) {
            problems.push(format!("{name}: a second run gave different bytes"));
        }
        let again = process(name, out);
        if again.output.as_deref() != Some(out.as_slice()) || !again.actions.is_empty() {
            problems.push(format!("{name}: the output processed again changed or reported {:?}", again.actions));
        }
    }
    fail_with(problems);
}

/// The check must see what each sample carries, or a clean output would prove nothing.
#[test]
fn the_check_sees_each_threat_in_the_samples() {
    let mut problems = Vec::new();
    for s in all().iter().filter(|s| s.expected.verdict == Verdict::Disarmed) {
        let found = active(&scan(&s.bytes));
        let threat = s.expected.actions.iter().chain(&s.expected.any_of).any(|a| !a.is_consequence());
        match (threat, found.is_empty()) {
            (true, true) => problems.push(format!("{}: the check finds nothing in the input", s.file_name)),
            (false, false) => problems.push(format!("{}: a clean sample has {found:?}", s.file_name)),
            _ => {}
        }
    }
    let s = scan(&sample("unbalanced_open.rtf").bytes);
    if s.open != 2 {
        problems.push(format!("unbalanced_open.rtf: {} groups open, expected 2", s.open));
    }
    fail_with(problems);
}

#[test]
fn objects_leave_their_result_picture_and_fields_their_result() {
    for name in ["ole_package_exe.rtf", "objupdate_link.rtf", "includepicture_unc.rtf"] {
        let o = outcomes()[all().iter().position(|s| s.file_name == name).unwrap()].clone();
        let out = o.output.unwrap();
        assert!(contains(&out, b"{\\pict\\pngblip\\picw16\\pich16\r\n"), "{name}: the result picture is gone");
    }
}

// ----------------------------------------------------------------------------------------------
// Policies and limits

#[test]
fn hyperlinks_follow_the_ooxml_policy() {
    let letter = &sample("benign_letter_ja.rtf").bytes;
    let remove = engine_with(|c| c.ooxml.hyperlinks = HyperlinkPolicy::Remove);
    let o = process_with(&remove, "l.rtf", letter);
    assert!(kinds(&o).contains(&ActionKind::RemovedExternalReference), "{:?}", o.actions);
    let out = o.output.unwrap();
    assert!(!contains(&out, b"HYPERLINK") && scan(&out).text.contains("the guide"));
    let keep = engine_with(|c| c.ooxml.hyperlinks = HyperlinkPolicy::Keep);
    let unc = &sample("hyperlink_unc.rtf").bytes;
    let o = process_with(&keep, "u.rtf", unc);
    assert_eq!((o.verdict, o.actions.len()), (Verdict::Disarmed, 0), "{:?}", o.actions);
}

#[test]
fn group_nesting_follows_max_nesting() {
    let letter = &sample("benign_letter_ja.rtf").bytes;
    let o = process_with(&engine_with(|c| c.limits.max_nesting = 3), "l.rtf", letter);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitNesting)), "{}", detail(&o));
    let o =
        process_with(&engine_with(|c| c.limits.max_nesting = 600), "d.rtf", &sample("blocked_deep_nesting.rtf").bytes);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
}

#[test]
fn a_large_document_with_pictures_is_rebuilt_unchanged() {
    let big = rtf::large_rtf(1 << 20);
    assert!(big.len() >= 1 << 20);
    let o = process("big.rtf", &big);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    assert!(o.output.as_deref() == Some(big.as_slice()));
}

// ----------------------------------------------------------------------------------------------
// Damaged inputs

/// RTF syntax inserted into damaged samples.
const RTF_TOKENS: [&[u8]; 10] =
    [b"{", b"}", b"\\*", b"\\bin5 ", b"\\'", b"\\objdata ", b"{\\object", b"\\u-3 ", b"\\uc9", b"\\fldinst DDE "];

/// Damaged RTF never crashes the engine and never comes out with active content left.
#[test]
fn mutated_rtf_samples_never_crash_the_engine() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut problems = Vec::new();
    for s in all() {
        for round in 0..64 {
            let mut data = s.bytes.clone();
            damage(&mut data, &mut rng, &RTF_TOKENS);
            let o = process(s.file_name, &data);
            if o.reason == Some(Reason::InternalError) {
                problems.push(format!("{} round {round}: {}", s.file_name, detail(&o)));
            }
            if let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) {
                let found = active(&scan(out));
                if !found.is_empty() {
                    problems.push(format!("{} round {round}: {found:?}", s.file_name));
                }
            }
        }
    }
    fail_with(problems);
}

/// A document cut anywhere is closed where it ends or refused, never passed with what it cut.
#[test]
fn truncated_rtf_is_repaired_or_blocked() {
    let bytes = &sample("obfuscated.rtf").bytes;
    let mut problems = Vec::new();
    for cut in (4..bytes.len()).step_by(97) {
        let o = process("cut.rtf", &bytes[..cut]);
        match (o.verdict, &o.output) {
            (Verdict::Disarmed, Some(out)) => {
                let s = scan(out);
                let found = active(&s);
                if s.open != 0 || !found.is_empty() {
                    problems.push(format!("cut at {cut}: {} open, {found:?}", s.open));
                }
            }
            (Verdict::Blocked, _) if matches!(o.reason, Some(Reason::Malformed | Reason::Unsupported)) => {}
            _ => problems.push(format!("cut at {cut}: {:?}/{:?} ({})", o.verdict, o.reason, detail(&o))),
        }
    }
    fail_with(problems);
}

// ----------------------------------------------------------------------------------------------
// The samples themselves

#[test]
fn rtf_sample_names_are_unique_and_builders_are_deterministic() {
    fail_with(unique_and_deterministic(all(), &rtf::all()));
}

#[test]
fn committed_rtf_samples_match_the_builders() {
    fail_with(committed_sample_problems("rtf", all()));
}
