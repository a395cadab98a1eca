//! Mail messages (`mugai::samples::mail`) through the engine: each sample's outcome under the
//! default configuration; an independent re-parse of every rebuilt message with mail-parser (no
//! macro project, program or script in any attachment or body, notices with their reason and
//! quarantine reference, original header fields kept, names decoded right, Japanese text
//! unchanged); the `[mail]` and `[archive]` settings; determinism and idempotence; mutated
//! messages; and that the files committed under `samples/mail/` are what the builders make now.

use super::common::{
    committed_sample_problems, damage, detail, engine_with, fail_with, outcome_problems, process, process_with,
    same_output_again, unique_and_deterministic, Rng,
};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use mugai::config::{BlockedEntryPolicy, MailHtml};
use mugai::model::{sha256_hex, Reason, Verdict};
use mugai::samples::mail;
use std::io::{Cursor, Read};

super::common::sample_set!(mugai::samples::mail::all);

fn output(name: &str) -> &'static [u8] {
    outcome(name).output.as_deref().unwrap_or_else(|| panic!("{name}: no output ({})", detail(outcome(name))))
}

#[test]
fn every_mail_sample_gets_its_expected_outcome() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        problems.extend(outcome_problems(s, o));
    }
    fail_with(problems);
}

/// One leaf of a re-parsed message: its name, type and decoded bytes.
struct Leaf {
    name: Option<String>,
    mime: String,
    data: Vec<u8>,
}

/// Every leaf part, nested messages walked into (bounded by the depth the samples use).
fn leaves(raw: &[u8], depth: u32, out: &mut Vec<Leaf>) -> Result<(), String> {
    if depth > 10 {
        return Err("nested too deep".into());
    }
    let m = MessageParser::new().parse(raw).ok_or("does not parse")?;
    for part in &m.parts {
        let ct = part.content_type();
        let mime = ct.map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))).unwrap_or_default();
        match &part.body {
            PartType::Multipart(_) => {}
            PartType::Message(inner) => leaves(inner.raw_message(), depth + 1, out)?,
            PartType::Text(t) | PartType::Html(t) => {
                out.push(Leaf { name: part.attachment_name().map(str::to_string), mime, data: t.as_bytes().to_vec() })
            }
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                out.push(Leaf { name: part.attachment_name().map(str::to_string), mime, data: b.to_vec() })
            }
        }
    }
    Ok(())
}

/// What in a rebuilt message is still active: a macro project or macro-enabled type in an
/// Office attachment (also inside zips), a program, a PDF script, an HTML script or handler.
fn active_content(data: &[u8], at: &str, problems: &mut Vec<String>) {
    let text = String::from_utf8_lossy(data).to_lowercase();
    if data.starts_with(b"MZ") || data.starts_with(b"\x7fELF") {
        problems.push(format!("{at}: a program"));
    }
    if data.starts_with(b"%PDF") && (text.contains("/javascript") || text.contains("/openaction")) {
        problems.push(format!("{at}: a PDF script"));
    }
    if text.contains("<script") || text.contains("onload=") {
        problems.push(format!("{at}: an HTML script"));
    }
    if text.contains("begin 644 ") {
        problems.push(format!("{at}: a uuencoded file"));
    }
    if data.starts_with(b"PK\x03\x04") {
        let Ok(mut z) = zip::ZipArchive::new(Cursor::new(data)) else {
            return problems.push(format!("{at}: a zip that does not read"));
        };
        for i in 0..z.len() {
            let Ok(mut f) = z.by_index(i) else { continue };
            let name = f.name().map(|n| n.to_lowercase()).unwrap_or_default();
            let mut inner = Vec::new();
            if f.read_to_end(&mut inner).is_err() {
                problems.push(format!("{at}/{name}: does not read"));
                continue;
            }
            if name.ends_with("vbaproject.bin") {
                problems.push(format!("{at}/{name}: a macro project"));
            }
            if name == "[content_types].xml" && String::from_utf8_lossy(&inner).contains("macroEnabled") {
                problems.push(format!("{at}/{name}: a macro-enabled type"));
            }
            active_content(&inner, &format!("{at}/{name}"), problems);
        }
    }
}

#[test]
fn rebuilt_messages_hold_nothing_active() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let Some(out) = &o.output else { continue };
        let mut parts = Vec::new();
        if let Err(e) = leaves(out, 0, &mut parts) {
            problems.push(format!("{}: {e}", s.file_name));
        }
        for p in &parts {
            let at = format!("{}/{}", s.file_name, p.name.as_deref().unwrap_or(&p.mime));
            active_content(&p.data, &at, &mut problems);
            if p.name.as_deref().is_some_and(|n| n.ends_with(".docm") || n.ends_with(".exe")) {
                problems.push(format!("{at}: a macro or program name"));
            }
        }
    }
    fail_with(problems);
}

#[test]
fn blocked_parts_become_notices_with_reason_and_reference() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let Some(out) = &o.output else { continue };
        let held: Vec<_> = o.actions.iter().filter(|a| a.reason.is_some() && !a.part.contains('/')).collect();
        let mut parts = Vec::new();
        let _ = leaves(out, 0, &mut parts);
        let notices: Vec<String> = parts
            .iter()
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
            .filter(|t| t.contains("quarantine"))
            .collect();
        if notices.len() != held.len() {
            problems.push(format!("{}: {} held part(s), {} notice(s)", s.file_name, held.len(), notices.len()));
        }
        let reference = &sha256_hex(&s.bytes)[..16];
        for (a, n) in held.iter().zip(&notices) {
            let reason = a.reason.map(|r| r.as_str()).unwrap_or("");
            for want in [reference, reason, a.part.as_str(), "添付ファイル"] {
                if !n.contains(want) {
                    problems.push(format!("{}: notice without {want:?}: {n}", s.file_name));
                }
            }
        }
        let header = String::from_utf8_lossy(&out[..out.len().min(2000)]).into_owned();
        if !held.is_empty() && !header.contains(&format!("ref={reference}")) {
            problems.push(format!("{}: X-Mugai-Result without the reference", s.file_name));
        }
    }
    fail_with(problems);
}

#[test]
fn original_header_fields_are_kept_byte_for_byte() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let Some(out) = &o.output else { continue };
        let end = s.bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
        let fields = String::from_utf8_lossy(&s.bytes[..end]).into_owned();
        let out_text = String::from_utf8_lossy(out);
        for line in fields.split("\r\n").filter(|l| !l.to_lowercase().starts_with("content-")) {
            if !out_text.contains(&format!("{line}\r\n")) {
                problems.push(format!("{}: header line {line:?} lost", s.file_name));
            }
        }
        if !out.starts_with(b"X-Mugai-Result: ") {
            problems.push(format!("{}: no X-Mugai-Result first", s.file_name));
        }
    }
    fail_with(problems);
}

#[test]
fn names_and_japanese_text_survive() {
    let mut parts = Vec::new();
    leaves(output("iso_2022_jp.eml"), 0, &mut parts).unwrap();
    let names: Vec<_> = parts.iter().filter_map(|p| p.name.as_deref()).collect();
    assert_eq!(names, ["見積書.docx", "議事録.txt"]);
    let body = &parts[0];
    assert!(String::from_utf8_lossy(&body.data).contains("見積書を送付します"), "body text lost");
    // The text parts kept their bytes and charsets: the ISO-2022-JP body is in the output as it
    // was, not re-encoded.
    let (jis, _, _) = encoding_rs::ISO_2022_JP.encode("見積書を送付します。");
    assert!(output("iso_2022_jp.eml").windows(jis.len()).any(|w| w == &jis[..]));
    let m = MessageParser::new().parse(output("iso_2022_jp.eml")).unwrap();
    assert_eq!(m.subject(), Some("見積書の送付"));
    let docx = parts.iter().find(|p| p.name.as_deref() == Some("見積書.docx")).unwrap();
    assert_eq!(docx.mime, "application/vnd.openxmlformats-officedocument.wordprocessingml.document");

    let mut parts = Vec::new();
    leaves(output("four_attachments.eml"), 0, &mut parts).unwrap();
    let names: Vec<_> = parts.iter().filter_map(|p| p.name.as_deref()).collect();
    assert_eq!(names, ["invoice.docx", "tools.zip", "statement.pdf", "notes.txt"]);
    let text = String::from_utf8_lossy(&parts[0].data).into_owned();
    assert!(mail::BODY_WORDS.iter().all(|w| text.contains(w)), "{text}");

    let mut parts = Vec::new();
    leaves(output("nested_docm.eml"), 0, &mut parts).unwrap();
    assert!(parts.iter().any(|p| p.name.as_deref() == Some("order.docx")));

    // The TNEF wrapper gives way to its attachments, under their long names.
    let mut parts = Vec::new();
    leaves(output("tnef_winmail.eml"), 0, &mut parts).unwrap();
    let names: Vec<_> = parts.iter().filter_map(|p| p.name.as_deref()).collect();
    assert_eq!(names, ["報告書.docx", "memo.txt"]);
    assert_eq!(parts[2].data, b"ward 3 memo\r\n");

    // A digest entry without a Content-Type is a message: its docm came back as a docx.
    let mut parts = Vec::new();
    leaves(output("digest_docm.eml"), 0, &mut parts).unwrap();
    assert!(
        parts.iter().any(|p| p.name.as_deref() == Some("digest.docx")),
        "{:?}",
        parts.iter().map(|p| &p.name).collect::<Vec<_>>()
    );
}

#[test]
fn a_rebuilt_html_attachment_says_it_is_utf_8() {
    let (page, _, _) =
        encoding_rs::SHIFT_JIS.encode("<html><body><p>検査結果のお知らせ</p><script>alert(1)</script></body></html>");
    let msg = mail::with_attachment("text/html; charset=Shift_JIS", "result.html", page.into_owned());
    let o = process("html.eml", &msg);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    let mut parts = Vec::new();
    leaves(o.output.as_deref().unwrap(), 0, &mut parts).unwrap();
    let html = parts.iter().find(|p| p.name.as_deref() == Some("result.html")).expect("the page");
    let text = String::from_utf8_lossy(&html.data);
    assert!(text.contains("検査結果のお知らせ") && !text.contains("<script"), "{text}");
}

#[test]
fn an_unchanged_message_keeps_its_body_bytes_and_signature() {
    for name in ["signed_benign.eml", "plain.eml"] {
        let s = sample(name);
        let out = output(name);
        let body_at = |b: &[u8]| b.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
        assert_eq!(&out[body_at(out)..], &s.bytes[body_at(&s.bytes)..], "{name}: body bytes changed");
    }
    let mut parts = Vec::new();
    leaves(output("signed_docm.eml"), 0, &mut parts).unwrap();
    assert!(!parts.iter().any(|p| p.name.as_deref() == Some("smime.p7s")), "a signature that no longer holds");
}

#[test]
fn a_plain_message_keeps_its_bytes_after_the_result_field() {
    let s = sample("plain.eml");
    let out = output("plain.eml");
    assert!(out.ends_with(&s.bytes), "{}", String::from_utf8_lossy(out));
    assert!(out.starts_with(b"X-Mugai-Result: clean\r\n"));
}

#[test]
fn limits_and_damage_block_with_their_reason() {
    for (name, reason) in [
        ("ten_thousand_parts.eml", Reason::LimitEntries),
        ("multipart_100_deep.eml", Reason::LimitNesting),
        ("message_100_deep.eml", Reason::LimitDepth),
        ("header_1mb.eml", Reason::LimitHeaderBytes),
        ("missing_boundary.eml", Reason::Malformed),
    ] {
        let o = outcome(name);
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(reason)), "{name}: {}", detail(o));
    }
    // The part limit is the mail one; the input's entry limit counts parts too.
    let e = engine_with(|c| c.limits.max_entries = 3);
    let o = process_with(&e, "four.eml", &sample("four_attachments.eml").bytes);
    assert_eq!(o.reason, Some(Reason::LimitEntries), "{}", detail(&o));
}

#[test]
fn settings_change_what_becomes_of_parts() {
    let four = &sample("four_attachments.eml").bytes;
    let e = engine_with(|c| c.archive.on_blocked_entry = BlockedEntryPolicy::Block);
    let o = process_with(&e, "exe.eml", &sample("exe_attachment.eml").bytes);
    assert_eq!(o.reason, Some(Reason::Executable), "{}", detail(&o));

    let e = engine_with(|c| c.mail.html = MailHtml::Text);
    let o = process_with(&e, "four.eml", four);
    let mut parts = Vec::new();
    leaves(o.output.as_deref().unwrap(), 0, &mut parts).unwrap();
    assert!(!parts.iter().any(|p| p.mime == "text/html"), "an HTML part is left");

    let e = engine_with(|c| c.mail.html = MailHtml::Keep);
    let o = process_with(&e, "four.eml", four);
    assert!(String::from_utf8_lossy(o.output.as_deref().unwrap()).contains("<script>alert('mail')</script>"));

    let e = engine_with(|c| c.mail.subject_tag = "[無害化済]".into());
    let tagged = process_with(&e, "four.eml", four);
    let m = MessageParser::new().parse(tagged.output.as_deref().unwrap()).unwrap();
    assert_eq!(m.subject(), Some("[無害化済] Invoice 2025-001"));
    let plain = process_with(&e, "plain.eml", &sample("plain.eml").bytes);
    let m = MessageParser::new().parse(plain.output.as_deref().unwrap()).unwrap();
    assert_eq!(m.subject(), Some("Lunch"), "a clean message is not tagged");
    let again = process_with(&e, "four.eml", tagged.output.as_deref().unwrap());
    let m = MessageParser::new().parse(again.output.as_deref().unwrap()).unwrap();
    assert_eq!(m.subject(), Some("[無害化済] Invoice 2025-001"), "tagged twice");
    // An encoded subject keeps the space after the tag.
    let jp = sample("iso_2022_jp.eml");
    let o = process_with(&e, "jp.eml", &jp.bytes);
    let m = MessageParser::new().parse(o.output.as_deref().unwrap()).unwrap();
    assert_eq!(m.subject(), Some("[無害化済] 見積書の送付"));
}

#[test]
fn the_result_field_stays_short_for_many_parts() {
    let parts = (0..300).map(|i| mail::attachment("text/plain", &format!("n{i}.txt"), b"x\r\n".to_vec())).collect();
    let msg = mail::message(&mail::headers("Many", "many300"), &mail::Part::Multi("mixed", parts));
    let o = process("many.eml", &msg);
    let out = o.output.as_deref().expect("output");
    let end = out.windows(4).position(|w| w == b"\r\nFr").expect("fields after the result");
    assert!(end < 2000, "X-Mugai-Result of {end} bytes");
    assert!(String::from_utf8_lossy(&out[..end]).contains("and 250 more parts"));
}

#[test]
fn unix_line_ends_are_read_and_kept() {
    let crlf = &sample("four_attachments.eml").bytes;
    let lf: Vec<u8> = String::from_utf8_lossy(crlf).replace("\r\n", "\n").into_bytes();
    let o = process("four.eml", &lf);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    let out = o.output.as_deref().unwrap();
    assert!(!out.windows(2).any(|w| w == b"\r\n"), "CRLF written into an LF message");
    let mut parts = Vec::new();
    leaves(out, 0, &mut parts).unwrap();
    assert_eq!(parts.iter().filter(|p| p.name.is_some()).count(), 4);
}

#[test]
fn outputs_are_deterministic_and_a_second_pass_finds_nothing() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let Some(out) = &o.output else { continue };
        let again = process(s.file_name, &s.bytes);
        if again.output.as_ref() != Some(out) {
            problems.push(format!("{}: two runs differ", s.file_name));
        }
        let second = process(s.file_name, out);
        if second.verdict != Verdict::Disarmed || !second.actions.is_empty() {
            problems.push(format!("{}: second pass {:?} {:?}", s.file_name, second.verdict, second.actions));
        } else if !same_output_again(out, second.output.as_deref().unwrap_or_default(), true) {
            problems.push(format!("{}: a second pass changed more than the result field", s.file_name));
        }
    }
    fail_with(problems);
}

#[test]
fn mutated_messages_never_become_internal_errors() {
    let mut problems = Vec::new();
    let mut rng = Rng(0x6d61_696c);
    let tokens: &[&[u8]] =
        &[b"\r\n--", b"\r\n\r\n", b"Content-Type: multipart/mixed; boundary=x\r\n", b"=?UTF-8?B?", b": "];
    for s in all().iter().filter(|s| s.bytes.len() < 200_000) {
        for round in 0..12 {
            let mut data = s.bytes.clone();
            damage(&mut data, &mut rng, tokens);
            let o = process(s.file_name, &data);
            if o.reason == Some(Reason::InternalError) {
                problems.push(format!("{} round {round}: internal error {}", s.file_name, detail(&o)));
            }
        }
    }
    fail_with(problems);
}

#[test]
fn committed_mail_samples_equal_the_builders() {
    fail_with(committed_sample_problems("mail", all()));
    fail_with(unique_and_deterministic(all(), &mail::all()));
}

#[test]
fn an_attachment_in_a_loose_encoding_is_written_anew_not_passed_as_it_came() {
    use base64::Engine as _;
    let mut png = mugai::samples::media::sample_png();
    while png.len() % 3 != 1 {
        png.push(0); // so that the encoding ends in padding
    }
    let strict = base64::engine::general_purpose::STANDARD.encode(&png);
    assert!(strict.ends_with("=="));
    // Base64 data after the padding: some readers stop at the padding, others go on.
    let loose = format!("{strict}\r\nTVqQAA==");
    let message = |body: &str| {
        format!(
            "From: a@example.com\r\nTo: b@example.org\r\nSubject: scan\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
             --b\r\nContent-Type: image/png; name=\"scan.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n--b--\r\n"
        )
        .into_bytes()
    };
    let kept = process("m.eml", &message(&strict));
    let out = String::from_utf8(kept.output.clone().unwrap()).unwrap();
    assert!(out.contains(&strict), "a strict part keeps its bytes");
    let rewritten = process("m.eml", &message(&loose));
    assert_eq!(rewritten.verdict, Verdict::Disarmed, "{:?}", rewritten.reason);
    let out = String::from_utf8(rewritten.output.clone().unwrap()).unwrap();
    assert!(!out.contains("TVqQAA=="), "the loose encoding is not passed on: {:?}\n{out}", rewritten.actions);
    assert!(out.contains(&strict[..60]), "the checked bytes are, freshly encoded: {out}");
}

#[test]
fn a_notice_inside_a_forwarded_message_cites_the_message_that_is_held() {
    use mugai::samples::mail::{headers, message, text, Part};
    let inner = mail::exe_attachment();
    let outer = message(
        &headers("Fwd: invoice", "fwd"),
        &Part::Multi("mixed", vec![text("See below.\n"), Part::Message(inner.clone())]),
    );
    let o = process("fwd.eml", &outer);
    assert!(o.hold_reason().is_some(), "{:?}", o.actions);
    // Every text the reader would show, the forwarded message's included, decoded.
    fn texts(m: &mail_parser::Message<'_>, out: &mut String) {
        for p in &m.parts {
            match &p.body {
                mail_parser::PartType::Text(t) => out.push_str(t),
                mail_parser::PartType::Message(inner) => texts(inner, out),
                _ => {}
            }
        }
    }
    let parsed = mail_parser::MessageParser::new().parse(o.output.as_deref().expect("output")).expect("parses");
    let mut shown = String::new();
    texts(&parsed, &mut shown);
    let outer_ref = &mugai::model::sha256_hex(&outer)[..16];
    let inner_ref = &mugai::model::sha256_hex(&inner)[..16];
    assert!(shown.contains(outer_ref), "the held original's reference: {shown}");
    assert!(!shown.contains(inner_ref), "not the forwarded message's own: {shown}");
}

#[test]
fn a_clean_multipart_keeps_its_body_bytes_filler_preamble_included() {
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD.encode(mugai::samples::media::sample_png());
    let message = |preamble: &str| {
        format!(
            "From: a@example.com\r\nTo: b@example.org\r\nSubject: scan\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n{preamble}\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
             --b\r\nContent-Type: image/png; name=\"scan.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{png}\r\n--b--\r\n"
        )
        .into_bytes()
    };
    let body = |m: &[u8]| {
        let at = m.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        m[at..].to_vec()
    };
    // The filler mail programs write: the body (what a DKIM body hash covers) is unchanged.
    let filler = message("This is a multi-part message in MIME format.");
    let o = process("m.eml", &filler);
    assert_eq!(body(o.output.as_deref().unwrap()), body(&filler), "{:?}", o.actions);
    // A uuencoded program in the preamble, which some readers decode: left out.
    let uu = message("begin 644 setup.exe\r\nM35J0\r\n`\r\nend");
    let o = process("m.eml", &uu);
    let out = String::from_utf8(o.output.clone().unwrap()).unwrap();
    assert!(!out.contains("begin 644"), "{out}");
    assert!(o.actions.iter().any(|a| a.part == "multipart"), "{:?}", o.actions);
}
