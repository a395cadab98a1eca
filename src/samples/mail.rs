//! Mail messages written by a small composer: one per row of the mail checklist (attachments
//! of every disarmed kind, Japanese charsets and names, nested messages) and hostile ones that
//! must be blocked with a named limit or as malformed.
//!
//! Payloads are those of the other sample sets (a message-box macro, a PE header without code,
//! an alert script).

use super::{archive, hostile, package::ct, pdf, word, Expected, Sample};
use crate::model::{ActionKind, Reason};
use base64::Engine as _;

/// One part of a composed message.
pub enum Part {
    /// A text part written as it is, with its Content-Type and transfer encoding.
    Raw { content_type: String, cte: &'static str, body: Vec<u8> },
    /// An attachment in base64 with the given header fields (Content-Type and Disposition).
    Attachment { fields: String, data: Vec<u8> },
    /// A whole message inside (message/rfc822).
    Message(Vec<u8>),
    /// A multipart with its subtype and parts.
    Multi(&'static str, Vec<Part>),
    /// Bytes after an empty header block (a digest entry: a message by default).
    Bare(Vec<u8>),
}

fn b64(data: &[u8]) -> String {
    let t = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(t.len() + t.len() / 38);
    for chunk in t.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// Writes a part (its header fields and body) with CRLF line ends; boundaries are `tag` and a
/// number.
fn write_part(p: &Part, out: &mut Vec<u8>, tag: &str, n: &mut u32) {
    match p {
        Part::Raw { content_type, cte, body } => {
            out.extend_from_slice(
                format!("Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n").as_bytes(),
            );
            out.extend_from_slice(body);
        }
        Part::Attachment { fields, data } => {
            out.extend_from_slice(format!("{fields}Content-Transfer-Encoding: base64\r\n\r\n{}", b64(data)).as_bytes());
        }
        Part::Message(m) => {
            out.extend_from_slice(b"Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n");
            out.extend_from_slice(m);
        }
        Part::Bare(b) => {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(b);
        }
        Part::Multi(sub, parts) => {
            *n += 1;
            let b = format!("=_mugai_{tag}_{n}");
            out.extend_from_slice(format!("Content-Type: multipart/{sub}; boundary=\"{b}\"\r\n\r\n").as_bytes());
            for part in parts {
                out.extend_from_slice(format!("--{b}\r\n").as_bytes());
                write_part(part, out, tag, n);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{b}--\r\n").as_bytes());
        }
    }
}

/// A message: the given header fields (CRLF-ended lines), then MIME-Version and the body part.
/// Boundaries are made from the header fields, so that messages inside messages (with their
/// own Message-ID) never share one.
pub fn message(headers: &str, body: &Part) -> Vec<u8> {
    let mut out = headers.as_bytes().to_vec();
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    let tag = crate::model::sha256_hex(headers.as_bytes());
    let mut n = 0;
    write_part(body, &mut out, &tag[..8], &mut n);
    out
}

/// Standard header fields with a subject.
pub fn headers(subject: &str, id: &str) -> String {
    format!(
        "From: \"Sender\" <sender@example.org>\r\nTo: <ward3@hospital.example.jp>\r\nSubject: {subject}\r\n\
         Date: Mon, 06 Jan 2025 10:00:00 +0900\r\nMessage-ID: <{id}@mugai.example>\r\n"
    )
}

pub fn text(body: &str) -> Part {
    Part::Raw {
        content_type: "text/plain; charset=utf-8".into(),
        cte: "8bit",
        body: body.replace('\n', "\r\n").into_bytes(),
    }
}

pub fn attachment(mime: &str, name: &str, data: Vec<u8>) -> Part {
    Part::Attachment {
        fields: format!(
            "Content-Type: {mime}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n"
        ),
        data,
    }
}

/// The words the text body of the samples says; they must survive.
pub const BODY_WORDS: [&str; 2] = ["invoice", "attached"];

const BODY: &str = "Please find the invoice attached.\n";

/// An HTML body with a script, an event handler and a link.
const HTML_BODY: &str = "<html><body onload=\"alert(1)\"><p>Please find the invoice attached.</p>\
<script>alert('mail')</script><a href=\"https://example.org/\">site</a></body></html>\r\n";

/// The gateway case: a text and HTML body (with a script) and four attachments, a macro
/// document, a zip holding a program, a PDF with an open-action script and a plain text.
pub fn four_attachments() -> Vec<u8> {
    let zip = archive::zip_of(&[("setup.exe", &hostile::executable()), ("readme.txt", b"read me\r\n")]);
    let body = Part::Multi(
        "mixed",
        vec![
            Part::Multi(
                "alternative",
                vec![
                    text(BODY),
                    Part::Raw {
                        content_type: "text/html; charset=utf-8".into(),
                        cte: "8bit",
                        body: HTML_BODY.as_bytes().to_vec(),
                    },
                ],
            ),
            attachment("application/vnd.ms-word.document.macroEnabled.12", "invoice.docm", word::vba(ct::DOCM_MAIN)),
            attachment("application/zip", "tools.zip", zip),
            attachment("application/pdf", "statement.pdf", pdf::js_open_action()),
            attachment("text/plain", "notes.txt", b"ward 3 notes\r\n".to_vec()),
        ],
    );
    message(&headers("Invoice 2025-001", "four"), &body)
}

/// A program attached directly: replaced by the notice.
pub fn exe_attachment() -> Vec<u8> {
    let body = Part::Multi(
        "mixed",
        vec![text(BODY), attachment("application/octet-stream", "viewer.exe", hostile::executable())],
    );
    message(&headers("Viewer", "exe"), &body)
}

/// Plain text only: passed with its bytes.
pub fn plain() -> Vec<u8> {
    message(&headers("Lunch", "plain"), &text("See you at noon.\n"))
}

/// The Japanese text of [`iso_2022_jp`].
pub const JAPANESE_WORDS: [&str; 2] = ["見積書", "送付"];

/// A Japanese message as Japanese mailers write it: subject and body in ISO-2022-JP, a macro
/// document named in Shift_JIS (RFC 2231) and a text file named in Shift_JIS (RFC 2047).
pub fn iso_2022_jp() -> Vec<u8> {
    let (body, _, _) = encoding_rs::ISO_2022_JP.encode("見積書を送付します。\r\nよろしくお願いします。\r\n");
    let (subject, _, _) = encoding_rs::ISO_2022_JP.encode("見積書の送付");
    let subject = format!("=?ISO-2022-JP?B?{}?=", base64::engine::general_purpose::STANDARD.encode(&subject));
    let pct = |s: &str| {
        let (b, _, _) = encoding_rs::SHIFT_JIS.encode(s);
        b.iter().map(|c| format!("%{c:02X}")).collect::<String>()
    };
    let (sj_txt, _, _) = encoding_rs::SHIFT_JIS.encode("議事録.txt");
    let b64_txt = base64::engine::general_purpose::STANDARD.encode(&sj_txt);
    let docm_name = format!("{}.docm", pct("見積書"));
    let body = Part::Multi(
        "mixed",
        vec![
            Part::Raw { content_type: "text/plain; charset=ISO-2022-JP".into(), cte: "7bit", body: body.into_owned() },
            Part::Attachment {
                fields: format!(
                    "Content-Type: application/vnd.ms-word.document.macroEnabled.12\r\n\
                     Content-Disposition: attachment;\r\n filename*=shift_jis''{docm_name}\r\n"
                ),
                data: word::vba(ct::DOCM_MAIN),
            },
            Part::Attachment {
                fields: format!(
                    "Content-Type: text/plain; charset=Shift_JIS; name=\"=?Shift_JIS?B?{b64_txt}?=\"\r\n\
                     Content-Disposition: attachment; filename=\"=?Shift_JIS?B?{b64_txt}?=\"\r\n"
                ),
                data: encoding_rs::SHIFT_JIS.encode("第3病棟 会議\r\n").0.into_owned(),
            },
        ],
    );
    message(&headers(&subject, "jp"), &body)
}

/// A forwarded message (message/rfc822) that carries a macro document.
pub fn nested_docm() -> Vec<u8> {
    let inner = message(
        &headers("Original", "inner"),
        &Part::Multi(
            "mixed",
            vec![
                text(BODY),
                attachment("application/vnd.ms-word.document.macroEnabled.12", "order.docm", word::vba(ct::DOCM_MAIN)),
            ],
        ),
    );
    let body = Part::Multi("mixed", vec![text("Forwarding the order below.\n"), Part::Message(inner)]);
    message(&headers("Fwd: Original", "outer"), &body)
}

/// An Outlook message with its attachments in a TNEF `winmail.dat`: a macro document with a
/// Japanese long name and a text file.
pub fn tnef() -> Vec<u8> {
    let docm = word::vba(ct::DOCM_MAIN);
    let dat = crate::formats::mime::tnef::write(&[("報告書.docm", &docm), ("memo.txt", b"ward 3 memo\r\n")]);
    let body = Part::Multi("mixed", vec![text(BODY), attachment("application/ms-tnef", "winmail.dat", dat)]);
    message(&headers("Outlook rich text", "tnef"), &body)
}

/// A TNEF stream with a wrong checksum: the wrapper is replaced by the notice.
pub fn tnef_damaged() -> Vec<u8> {
    let mut dat = crate::formats::mime::tnef::write(&[("memo.txt", b"ward 3 memo\r\n")]);
    let n = dat.len();
    dat[n - 20] ^= 0x55;
    let body = Part::Multi("mixed", vec![text(BODY), attachment("application/ms-tnef", "winmail.dat", dat)]);
    message(&headers("Outlook rich text", "tnef2"), &body)
}

/// A text message of about `bytes` bytes (for the benchmarks).
pub fn plain_of_size(bytes: usize) -> Vec<u8> {
    let line = "The ward rounds start at nine; please bring the updated charts.\n";
    let body = line.repeat(bytes / line.len() + 1);
    message(&headers("Rounds", "size"), &text(&body))
}

/// A message with one attachment (for the benchmarks).
pub fn with_attachment(mime: &str, name: &str, data: Vec<u8>) -> Vec<u8> {
    let body = Part::Multi("mixed", vec![text(BODY), attachment(mime, name, data)]);
    message(&headers("Attached", "one"), &body)
}

/// A digest (multipart/digest) whose entry, without a Content-Type, is by default a message:
/// one that carries a macro document.
pub fn digest_docm() -> Vec<u8> {
    let inner =
        with_attachment("application/vnd.ms-word.document.macroEnabled.12", "digest.docm", word::vba(ct::DOCM_MAIN));
    let body = Part::Multi("digest", vec![Part::Bare(inner)]);
    message(&headers("Digest", "digest"), &body)
}

/// uuencode (POSIX `uuencode` body lines), for the sample that hides a file in a text body.
fn uuencode(data: &[u8]) -> String {
    let c = |v: u8| if v == 0 { '`' } else { (v + 32) as char };
    let mut out = String::new();
    for line in data.chunks(45) {
        out.push(c(line.len() as u8));
        for g in line.chunks(3) {
            let b = [g[0], *g.get(1).unwrap_or(&0), *g.get(2).unwrap_or(&0)];
            out.push(c(b[0] >> 2));
            out.push(c(((b[0] & 3) << 4) | (b[1] >> 4)));
            out.push(c(((b[1] & 15) << 2) | (b[2] >> 6)));
            out.push(c(b[2] & 63));
        }
        out.push('\n');
    }
    out.push_str("`\nend\n");
    out
}

/// A program uuencoded inside the text body, which some readers show as an attachment.
pub fn uuencoded_in_text() -> Vec<u8> {
    let body = format!("Here is the viewer.\n\nbegin 644 viewer.exe\n{}", uuencode(&hostile::executable()));
    message(&headers("Viewer inline", "uu"), &text(&body))
}

/// A part whose header holds a line that is not a field: that part is replaced by the notice,
/// the rest of the message goes on.
pub fn broken_part_header() -> Vec<u8> {
    let mut m = headers("Broken part", "brokenpart").into_bytes();
    m.extend_from_slice(
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
          Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n\
          this line is not a header field\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n",
    );
    m
}

/// An S/MIME signed message (multipart/signed): the signature covers the first part.
pub fn signed(first: Part) -> Vec<u8> {
    let sig = Part::Attachment {
        fields: "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n\
                 Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
            .into(),
        data: vec![0x30, 0x82, 0x01, 0x00, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02],
    };
    message(&headers("Signed", "signed"), &Part::Multi("signed", vec![first, sig]))
}

/// 10 000 small parts in one multipart (past `[mail] max_parts`).
pub fn ten_thousand_parts() -> Vec<u8> {
    let parts = (0..10_000).map(|i| text(&format!("part {i}\n"))).collect();
    message(&headers("Many parts", "many"), &Part::Multi("mixed", parts))
}

/// Multiparts nested 100 deep (past `[limits] max_nesting`).
pub fn multipart_100_deep() -> Vec<u8> {
    let mut p = text(BODY);
    for _ in 0..100 {
        p = Part::Multi("mixed", vec![p]);
    }
    message(&headers("Deep", "deep"), &p)
}

/// Messages nested 100 deep as message/rfc822 (past `[limits] max_depth`).
pub fn message_100_deep() -> Vec<u8> {
    let mut m = message(&headers("Innermost", "m0"), &text(BODY));
    for i in 0..100 {
        m = message(
            &headers("Fwd", &format!("m{}", i + 1)),
            &Part::Multi("mixed", vec![text("fwd\n"), Part::Message(m)]),
        );
    }
    m
}

/// A header block of a million bytes (one field folded over many lines).
pub fn header_1mb() -> Vec<u8> {
    let mut h = headers("Big header", "big");
    h.push_str("X-Filler: x");
    while h.len() < 1_000_000 - 100 {
        h.push_str("\r\n ");
        h.push_str(&"y".repeat(70));
    }
    h.push_str("\r\n");
    message(&h, &text(BODY))
}

/// A multipart whose boundary never appears.
pub fn missing_boundary() -> Vec<u8> {
    let mut m = headers("Broken", "broken").into_bytes();
    m.extend_from_slice(
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"nowhere\"\r\n\r\nno parts\r\n",
    );
    m
}

/// An attachment whose base64 does not decode: that part is replaced by the notice.
pub fn bad_base64() -> Vec<u8> {
    let mut m = headers("Broken attachment", "bad64").into_bytes();
    m.extend_from_slice(
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
          Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n\
          Content-Transfer-Encoding: base64\r\n\r\n%%%% not base64 ****\r\n--b--\r\n",
    );
    m
}

pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    let s = |file_name, bytes, expected| Sample { file_name, bytes, expected };
    vec![
        s(
            "four_attachments.eml",
            four_attachments(),
            Expected::disarmed(
                "eml",
                &[RemovedVbaProject, ConvertedToMacroFree, RemovedBlockedEntry, RemovedAutoAction, RemovedScript],
            )
            .keeping(&BODY_WORDS),
        ),
        s("exe_attachment.eml", exe_attachment(), Expected::disarmed("eml", &[RemovedBlockedEntry])),
        s("plain.eml", plain(), Expected::clean("eml")),
        s("iso_2022_jp.eml", iso_2022_jp(), Expected::disarmed("eml", &[RemovedVbaProject, ConvertedToMacroFree])),
        s("nested_docm.eml", nested_docm(), Expected::disarmed("eml", &[RemovedVbaProject, ConvertedToMacroFree])),
        s(
            "tnef_winmail.eml",
            tnef(),
            Expected::disarmed("eml", &[RemovedVbaProject, ConvertedToMacroFree, RemovedArchiveMetadata]),
        ),
        s("tnef_damaged.eml", tnef_damaged(), Expected::disarmed("eml", &[RemovedBlockedEntry])),
        s("digest_docm.eml", digest_docm(), Expected::disarmed("eml", &[RemovedVbaProject, ConvertedToMacroFree])),
        s("uuencoded_in_text.eml", uuencoded_in_text(), Expected::disarmed("eml", &[RemovedBlockedEntry])),
        s("ten_thousand_parts.eml", ten_thousand_parts(), Expected::blocked(Reason::LimitEntries)),
        s("multipart_100_deep.eml", multipart_100_deep(), Expected::blocked(Reason::LimitNesting)),
        s("message_100_deep.eml", message_100_deep(), Expected::blocked(Reason::LimitDepth)),
        s("header_1mb.eml", header_1mb(), Expected::blocked(Reason::LimitHeaderBytes)),
        s("missing_boundary.eml", missing_boundary(), Expected::blocked(Reason::Malformed)),
        s("bad_base64.eml", bad_base64(), Expected::disarmed("eml", &[RemovedBlockedEntry])),
        s("signed_benign.eml", signed(Part::Multi("mixed", vec![text(BODY)])), Expected::clean("eml")),
        s(
            "signed_docm.eml",
            signed(Part::Multi(
                "mixed",
                vec![
                    text(BODY),
                    attachment("application/vnd.ms-word.document.macroEnabled.12", "s.docm", word::vba(ct::DOCM_MAIN)),
                ],
            )),
            Expected::disarmed("eml", &[RemovedVbaProject, RemovedSignature]),
        ),
        s("broken_part_header.eml", broken_part_header(), Expected::disarmed("eml", &[RemovedBlockedEntry])),
    ]
}
