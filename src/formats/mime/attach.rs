//! Adding files to a message mugai has already rebuilt (the signed receipts of its attachments).
//!
//! The message is wrapped rather than opened: its own body, with its own Content-* fields,
//! becomes the first part of a new `multipart/mixed`, and the files follow it. So whatever
//! the message was (a single part, a `multipart/alternative`, a `multipart/signed` whose
//! signature must keep covering the same bytes), its structure is left as it was.

use super::{encode, read_head, split_head};
use crate::formats::FormatError;
use crate::model::sha256_hex;

/// One file to add.
pub struct Attachment<'a> {
    pub name: &'a str,
    /// `type/subtype`.
    pub mime: &'a str,
    pub data: &'a [u8],
}

/// The header fields that describe a body: they go with the body into the first part.
const CONTENT_FIELDS: [&str; 4] =
    ["content-type", "content-transfer-encoding", "content-disposition", "content-length"];

/// Returns `message` with `files` added after its own body; the message unchanged when there
/// are none. `max_header_bytes` bounds the header block as in [`super::disarm`].
pub fn attach(message: &[u8], files: &[Attachment<'_>], max_header_bytes: u64) -> Result<Vec<u8>, FormatError> {
    if files.is_empty() {
        return Ok(message.to_vec());
    }
    let eol: &[u8] = match memchr::memchr(b'\n', message) {
        Some(i) if i > 0 && message[i - 1] == b'\r' => b"\r\n",
        _ => b"\n",
    };
    let (block, body) = split_head(message, max_header_bytes)?;
    let head = read_head(block, true, "text/plain")?;
    // A boundary made from the message's own hash cannot occur in the message (that would
    // need the hash of the bytes inside the bytes), and the same message gets the same one.
    let boundary = format!("=_mugai_{}", &sha256_hex(message)[..24]);
    let mut out = Vec::with_capacity(message.len() + files.iter().map(|f| f.data.len() * 4 / 3 + 512).sum::<usize>());
    let mut content = Vec::new();
    let mut has_mime_version = false;
    for f in &head.fields {
        let into = match CONTENT_FIELDS.contains(&f.name.as_str()) {
            true => &mut content,
            false => &mut out,
        };
        has_mime_version |= f.name == "mime-version";
        into.extend_from_slice(f.raw);
        if !f.raw.ends_with(b"\n") {
            into.extend_from_slice(eol);
        }
    }
    if !has_mime_version {
        out.extend_from_slice(b"MIME-Version: 1.0");
        out.extend_from_slice(eol);
    }
    let params = [format!("boundary=\"{boundary}\"")];
    out.extend_from_slice(&encode::field_with_params("Content-Type", "multipart/mixed", &params, eol));
    out.extend_from_slice(eol);
    let delimiter = |out: &mut Vec<u8>| {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(eol);
    };
    delimiter(&mut out);
    out.extend_from_slice(&content);
    out.extend_from_slice(eol);
    out.extend_from_slice(body);
    for f in files {
        // The line break before a delimiter belongs to it: the body above keeps its bytes.
        out.extend_from_slice(eol);
        delimiter(&mut out);
        let name = encode::name_params("name", f.name);
        out.extend_from_slice(&encode::field_with_params("Content-Type", f.mime, &name, eol));
        let filename = encode::name_params("filename", f.name);
        out.extend_from_slice(&encode::field_with_params("Content-Disposition", "attachment", &filename, eol));
        out.extend_from_slice(b"Content-Transfer-Encoding: base64");
        out.extend_from_slice(eol);
        out.extend_from_slice(eol);
        out.extend_from_slice(&encode::base64_lines(f.data, eol));
    }
    if !out.ends_with(eol) {
        out.extend_from_slice(eol);
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--");
    out.extend_from_slice(eol);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, MimeHeaders};

    fn files<'a>() -> Vec<Attachment<'a>> {
        vec![
            Attachment { name: "報告.docx.mugai.json", mime: "application/json", data: b"{\"a\":1}" },
            Attachment { name: "b.pdf.mugai.json", mime: "application/json", data: b"{\"b\":2}" },
        ]
    }

    #[test]
    fn files_follow_the_body_which_keeps_its_bytes_and_fields() {
        let signed = b"From: a@example.jp\r\nSubject: s\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=\"S\"\r\n\r\n\
--S\r\nContent-Type: text/plain\r\n\r\nhello\r\n--S\r\nContent-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--S--\r\n";
        let out = attach(signed, &files(), 1 << 20).unwrap();
        let m = MessageParser::new().parse(&out).unwrap();
        assert_eq!(m.content_type().map(|c| (c.ctype(), c.subtype())), Some(("multipart", Some("mixed"))));
        assert_eq!(m.subject(), Some("s"));
        // The first part is the signed entity byte for byte, with its own Content-Type.
        let boundary = format!("=_mugai_{}", &sha256_hex(signed)[..24]);
        let ct = signed.windows(14).position(|w| w == b"Content-Type: ").unwrap();
        let mut first = format!("\r\n--{boundary}\r\n").into_bytes();
        first.extend_from_slice(&signed[ct..]);
        first.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        assert!(out.windows(first.len()).any(|w| w == first), "{}", String::from_utf8_lossy(&out));
        assert_eq!(m.parts[1].content_type().and_then(|c| c.subtype()), Some("signed"));
        let names: Vec<_> = m.attachments().filter_map(|a| a.attachment_name().map(str::to_string)).collect();
        assert!(names.contains(&"報告.docx.mugai.json".to_string()), "{names:?}");
        assert!(names.contains(&"b.pdf.mugai.json".to_string()), "{names:?}");
        let json = m.attachments().find(|a| a.attachment_name() == Some("b.pdf.mugai.json")).unwrap();
        assert_eq!(json.contents(), b"{\"b\":2}");
        // The same message gets the same bytes.
        assert_eq!(out, attach(signed, &files(), 1 << 20).unwrap());
    }

    #[test]
    fn a_single_part_message_gains_a_mime_version_and_unix_line_ends_stay() {
        let plain = b"From: a@example.jp\nSubject: s\n\nhello\n";
        let out = attach(plain, &files()[1..], 1 << 20).unwrap();
        assert!(!out.windows(2).any(|w| w == b"\r\n"));
        let m = MessageParser::new().parse(&out).unwrap();
        assert_eq!(m.body_text(0).as_deref(), Some("hello\n"));
        assert_eq!(m.attachments().count(), 1);
        assert!(String::from_utf8_lossy(&out).contains("MIME-Version: 1.0\n"));
    }

    #[test]
    fn nothing_to_add_leaves_the_message_as_it_is() {
        assert_eq!(attach(b"Subject: s\r\n\r\nx\r\n", &[], 1024).unwrap(), b"Subject: s\r\n\r\nx\r\n");
    }
}
