//! Mail messages (RFC 5322 with MIME): every attachment goes back through the engine, and the
//! message is rebuilt around the clean results.
//!
//! The structure (header blocks, multipart boundaries) is walked here, bounded: the header
//! block of each part is at most `[mail] max_header_bytes`, parts count against `[mail]
//! max_parts` and the input's `[limits] max_entries`, multipart nesting against `[limits]
//! max_nesting`, decoded bytes against the budget. The header fields of each part are read
//! with mail-parser (RFC 2047 words, RFC 2231 parameters, charsets) and bodies decoded with its
//! base64 and quoted-printable decoders.
//!
//! - The text/plain body keeps its bytes and its charset (no re-encoding, so no 文字化け).
//! - The HTML body is cleaned per `[mail] html`: sanitized (always written anew, as UTF-8),
//!   turned into text, or kept.
//! - Every other leaf part (attachments, inline images, text attachments) is a child item of the
//!   engine, disarmed in parallel; nested `message/rfc822` parts are children too and come back
//!   here one level deeper. A part that comes back unchanged keeps its original bytes; a changed
//!   one is written in base64 with its Content-Type and name following its new kind (docm ->
//!   docx); a blocked one is replaced by a short text/plain notice in Japanese and English naming
//!   the file, the reason and the quarantine reference (the first 16 hex digits of the SHA-256 of
//!   the message), and listed as held so that the original goes to quarantine.
//! - Header fields are kept byte for byte, but for the Content-* fields of replaced parts, any
//!   `X-Mugai-Result` the sender wrote (replaced by ours), and the subject tag when configured.
//! - A TNEF wrapper (`winmail.dat`) is replaced by its attachments ([`tnef`]), each a child.
//! - The preamble and epilogue of multiparts (text no reader shows) are left out, but for the
//!   short ASCII filler mail programs write there, which stays so that a message with nothing
//!   to remove keeps its bytes (and its DKIM signature holds).
//!
//! Refused: a message without header fields or with a header line that is not a field
//! (`malformed`); a part in a transfer encoding other than 7bit, 8bit, binary, base64 and
//! quoted-printable, message/partial and message/external-body (`unsupported`); a TNEF
//! wrapper that does not read or holds an attachment without data ([`tnef`]); encrypted S/MIME
//! and PGP parts (`encrypted`). These block the part, not the message. A limit reached anywhere, in
//! a nested message too, blocks the whole message, as in archives.

mod attach;
mod encode;
pub mod tnef;

pub use attach::{attach, Attachment};

use crate::config::{BlockedEntryPolicy, MailHtml};
use crate::formats::markup::{self, HtmlOptions};
use crate::formats::{adopt_child_actions, Context, Disarmed, FormatError};
use crate::model::{sha256_hex, Action, ActionKind, FailureClass, Item, Kind, Reason, Verdict};
use mail_parser::{HeaderName, HeaderValue, MessageParser};

/// One header field as it stands in the input.
struct Field<'a> {
    /// Lower case.
    name: String,
    /// The whole field with its line breaks.
    raw: &'a [u8],
}

/// A header block and what its Content-* fields say.
struct Head<'a> {
    fields: Vec<Field<'a>>,
    /// `type/subtype`, lower case (the RFC 2045 default when absent).
    mime: String,
    charset: Option<String>,
    boundary: Option<String>,
    /// Lower case; empty when absent.
    cte: String,
    /// `attachment` or `inline` when given, lower case.
    disposition: Option<String>,
    /// The file name (Content-Disposition filename, else Content-Type name), decoded.
    name: Option<String>,
    subject: Option<String>,
}

enum Node<'a> {
    Multipart {
        head: Head<'a>,
        /// The whole part as it stood.
        whole: &'a [u8],
        boundary: String,
        children: Vec<Node<'a>>,
        /// Preamble or epilogue text that was left out.
        dropped_text: bool,
    },
    Leaf {
        head: Head<'a>,
        /// The whole part as it stood (header, blank line, body).
        whole: &'a [u8],
        role: Role,
        /// The name used in actions, notices and the result header.
        label: String,
    },
}

enum Role {
    /// The text body: kept as it is.
    Text,
    /// The HTML body, decoded.
    Html(Vec<u8>),
    /// Index into the children handed to the engine.
    Child(usize),
    /// A detached signature of a multipart/signed.
    Signature,
    /// A TNEF wrapper: the children made of its attachments, with their names.
    Tnef(Vec<(usize, String)>),
    /// Refused here, without the engine.
    Refused(Reason, String),
}

/// What became of one leaf.
enum Rebuilt {
    /// The original bytes.
    Same,
    /// A new body (already transfer-encoded) with its Content-* fields.
    New { content_type: Vec<u8>, disposition: Option<Vec<u8>>, cte: &'static str, body: Vec<u8> },
}

struct Walker<'c, 'a> {
    ctx: &'c Context<'a>,
    parts: u64,
    children: Vec<Item>,
}

/// Disarms one message (see the module documentation).
pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    // The line break the message uses (`\r\n`, or `\n` for files saved with Unix line ends).
    let eol: &'static [u8] = match memchr::memchr(b'\n', data) {
        Some(i) if i > 0 && data[i - 1] == b'\r' => b"\r\n",
        _ => b"\n",
    };
    // The quarantine id of the original (the whole input, also for a message forwarded inside
    // another) ends with these digits.
    let root = ctx.budget.root_sha256().map(str::to_string).unwrap_or_else(|| sha256_hex(data));
    let reference = root[..16.min(root.len())].to_string();
    // The envelope line of a message saved from a mailbox (`From sender date`), kept in front.
    let envelope_len = match data.starts_with(b"From ") {
        true => memchr::memchr(b'\n', data).map_or(data.len(), |i| i + 1),
        false => 0,
    };
    let (envelope, data) = data.split_at(envelope_len);
    let mut w = Walker { ctx, parts: 0, children: Vec::new() };
    let root = w.node(data, 0, true, "text/plain")?;
    // The message must start with header fields as mail-parser, the reference reader here,
    // reads them (the parts themselves were walked above; parsing them all again would decode
    // every attachment a second time).
    if MessageParser::new().parse_headers(data).is_none_or(|m| m.parts.first().is_none_or(|p| p.headers.is_empty())) {
        return Err(FormatError::malformed("no header fields: not a mail message"));
    }
    let items = std::mem::take(&mut w.children);
    let outcomes = ctx.children.process(items, ctx.depth + 1, ctx.budget);
    let outcomes = outcomes.into_iter().map(Some).collect();
    let mut out = Writer { ctx, eol, reference, outcomes, actions: Vec::new(), results: Vec::new(), rewritten: 0 };
    let mut body = Vec::with_capacity(data.len() + 1024);
    out.write(&root, &mut body, true)?;
    let actions = std::mem::take(&mut out.actions);
    let mut message = Vec::with_capacity(body.len() + 512);
    message.extend_from_slice(envelope);
    message.extend_from_slice(&encode::folded_field("X-Mugai-Result", &out.result_words(&actions), eol));
    message.extend_from_slice(&body);
    Ok(Disarmed { data: message, kind: Kind::Eml, actions, name: None })
}

impl<'c, 'a> Walker<'c, 'a> {
    /// Reads one part (the message itself when `top`) at multipart nesting `level`.
    fn node(&mut self, part: &'a [u8], level: u32, top: bool, default_mime: &str) -> Result<Node<'a>, FormatError> {
        let ctx = self.ctx;
        ctx.budget.check_time()?;
        let limits = ctx.budget.limits();
        if level > limits.max_nesting {
            return Err(FormatError::new(
                Reason::LimitNesting,
                format!("multiparts nested deeper than {}", limits.max_nesting),
            ));
        }
        self.parts += 1;
        if self.parts > ctx.config.mail.max_parts {
            return Err(FormatError::new(
                Reason::LimitEntries,
                format!("more than {} MIME parts ([mail] max_parts)", ctx.config.mail.max_parts),
            ));
        }
        ctx.budget.charge_entries(1)?;
        let (head_bytes, body) = split_head(part, ctx.config.mail.max_header_bytes)?;
        let head = read_head(head_bytes, top, default_mime)?;
        if let Some(boundary) = head.mime.strip_prefix("multipart/").and(head.boundary.clone()) {
            let (bodies, dropped_text) = split_multipart(body, &boundary, ctx)?;
            let mut children = Vec::with_capacity(bodies.len());
            for b in bodies {
                let default = if head.mime == "multipart/digest" { "message/rfc822" } else { "text/plain" };
                // A part that does not read (a broken header line, a nested multipart without
                // its boundary) is replaced by the notice; the rest of the message still goes.
                let child = match self.node(b, level + 1, false, default) {
                    Ok(n) => n,
                    Err(e) if e.reason == Reason::Malformed => Node::Leaf {
                        head: Head::empty(),
                        whole: b,
                        role: Role::Refused(e.reason, e.detail),
                        label: format!("part{}", self.parts),
                    },
                    Err(e) => return Err(e),
                };
                children.push(child);
            }
            return Ok(Node::Multipart { head, whole: part, boundary, children, dropped_text });
        }
        if head.mime.starts_with("multipart/") {
            return Err(FormatError::malformed(format!("{} without a boundary", head.mime)));
        }
        let label = match (&head.name, head.mime.as_str()) {
            (Some(n), _) => n.clone(),
            (None, "text/html") => format!("part{}.html", self.parts),
            (None, "message/rfc822") => format!("part{}.eml", self.parts),
            (None, _) => format!("part{}", self.parts),
        };
        let role = self.role(&head, body, &label, top)?;
        Ok(Node::Leaf { head, whole: part, role, label })
    }

    fn role(&mut self, head: &Head<'_>, body: &[u8], label: &str, top: bool) -> Result<Role, FormatError> {
        let mime = head.mime.as_str();
        let attached = head.disposition.as_deref() == Some("attachment") || head.name.is_some();
        let refused = |r: Reason, d: &str| Ok(Role::Refused(r, d.to_string()));
        match mime {
            "message/partial" | "message/external-body" => {
                return refused(Reason::Unsupported, "a message in pieces or stored elsewhere")
            }
            "application/pkcs7-mime" | "application/x-pkcs7-mime" | "application/pgp-encrypted" => {
                return refused(Reason::Encrypted, "S/MIME or PGP content, readable only with the key")
            }
            "application/pkcs7-signature" | "application/x-pkcs7-signature" | "application/pgp-signature" => {
                return Ok(Role::Signature)
            }
            _ => {}
        }
        if !attached && mime == "text/plain" {
            // Some readers turn uuencoded or yEnc blocks inside a text body into attachments:
            // a file that would pass here unseen.
            return Ok(match self.decode(head, body)? {
                Ok(text) if has_encoded_file(&text) => {
                    Role::Refused(Reason::Unsupported, "a uuencoded or yEnc file inside a text part".into())
                }
                Ok(_) => Role::Text,
                Err((reason, why)) => Role::Refused(reason, why),
            });
        }
        let decoded = match self.decode(head, body)? {
            Ok(d) => d,
            Err((reason, why)) => return refused(reason, &why),
        };
        if !attached && mime == "text/html" {
            return Ok(Role::Html(decoded));
        }
        let tnef_type = matches!(mime, "application/ms-tnef" | "application/vnd.ms-tnef");
        if tnef_type || label.eq_ignore_ascii_case("winmail.dat") && tnef::is_tnef(&decoded) {
            if top {
                return refused(Reason::Unsupported, "a message that is only a TNEF stream");
            }
            let found = match tnef::attachments(&decoded, self.ctx.budget) {
                Ok(f) => f,
                Err(e) if matches!(e.reason.class(), FailureClass::Limit | FailureClass::Timeout) => return Err(e),
                Err(e) => return Ok(Role::Refused(e.reason, format!("TNEF: {}", e.detail))),
            };
            let mut kids = Vec::with_capacity(found.len());
            for (n, a) in found.into_iter().enumerate() {
                let Some(data) = a.data else { return refused(tnef::NO_DATA.0, tnef::NO_DATA.1) };
                let name = a.name.map(|n| crate::names::base_name(&n).to_string()).filter(|n| !n.is_empty());
                let label = name.clone().unwrap_or_else(|| format!("{label}-{}", n + 1));
                self.children.push(Item::new(data, name, label.clone()));
                kids.push((self.children.len() - 1, label));
            }
            return Ok(Role::Tnef(kids));
        }
        let mut item = Item::new(decoded, head.name.clone(), label.to_string());
        item.declared_type = Some(mime.to_string());
        self.children.push(item);
        Ok(Role::Child(self.children.len() - 1))
    }

    /// The body without its transfer encoding, or why that part cannot be decoded (which
    /// blocks the part, not the message).
    #[allow(clippy::type_complexity)]
    fn decode(&self, head: &Head<'_>, body: &[u8]) -> Result<Result<Vec<u8>, (Reason, String)>, FormatError> {
        let out = match head.cte.as_str() {
            "" | "7bit" | "8bit" | "binary" => body.to_vec(),
            "base64" => match mail_parser::decoders::base64::base64_decode(body) {
                Some(d) => d,
                None => return Ok(Err((Reason::Malformed, "base64 that does not decode".into()))),
            },
            "quoted-printable" => match mail_parser::decoders::quoted_printable::quoted_printable_decode(body) {
                Some(d) => d,
                None => return Ok(Err((Reason::Malformed, "quoted-printable that does not decode".into()))),
            },
            other => return Ok(Err((Reason::Unsupported, format!("transfer encoding {other:?}")))),
        };
        self.ctx.budget.charge_bytes(out.len() as u64)?;
        Ok(Ok(out))
    }
}

/// Whether a body's transfer encoding is written the one way every reader decodes alike, so that
/// its original bytes may be passed on: base64 that is exactly the standard encoding of what it
/// decoded to (line breaks aside), quoted-printable whose every `=` starts an escape or a soft
/// line break. Anything looser (characters outside the alphabet, data after the padding, a
/// stray `=`) is where decoders differ, a known way to slip a file past a scanner: such a part
/// is written anew from the bytes that were checked.
fn canonical_encoding(cte: &str, body: &[u8], decoded: &[u8]) -> bool {
    use base64::Engine as _;
    match cte {
        // Compared a block at a time, without a second copy of the body.
        "base64" => {
            let mut chars = body.iter().copied().filter(|c| !matches!(c, b'\r' | b'\n'));
            let mut buf = [0u8; 4096];
            for block in decoded.chunks(3072) {
                let n = base64::engine::general_purpose::STANDARD.encode_slice(block, &mut buf).unwrap_or(0);
                if !buf[..n].iter().all(|&b| chars.next() == Some(b)) {
                    return false;
                }
            }
            chars.next().is_none()
        }
        "quoted-printable" => memchr::memchr_iter(b'=', body).all(|i| match body.get(i + 1..(i + 3).min(body.len())) {
            Some([a, b]) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => true,
            Some([b'\r', b'\n']) | Some([b'\n', ..]) => true,
            _ => false,
        }),
        _ => true,
    }
}

/// The header block (without the empty line that ends it) and the body.
fn split_head(part: &[u8], max: u64) -> Result<(&[u8], &[u8]), FormatError> {
    let mut at = 0usize;
    loop {
        if at as u64 > max {
            return Err(FormatError::new(
                Reason::LimitHeaderBytes,
                format!("a header block longer than {max} bytes ([mail] max_header_bytes)"),
            ));
        }
        let Some(rest) = part.get(at..) else { return Ok((part, &[])) };
        if rest.is_empty() {
            return Ok((part, &[]));
        }
        if rest.starts_with(b"\r\n") {
            return Ok((&part[..at], &part[at + 2..]));
        }
        if rest.starts_with(b"\n") {
            return Ok((&part[..at], &part[at + 1..]));
        }
        match memchr::memchr(b'\n', rest) {
            Some(i) => at += i + 1,
            None => return Ok((part, &[])),
        }
    }
}

/// Splits the header block into fields and reads their Content-* values with mail-parser.
impl Head<'_> {
    /// The header of a part that did not read: its fields are not carried over.
    fn empty() -> Self {
        Head {
            fields: Vec::new(),
            mime: "application/octet-stream".into(),
            charset: None,
            boundary: None,
            cte: String::new(),
            disposition: None,
            name: None,
            subject: None,
        }
    }
}

/// `default_mime` is the type of a part without Content-Type: text/plain, or message/rfc822 in
/// a multipart/digest (RFC 2046 5.1.5).
fn read_head<'a>(block: &'a [u8], top: bool, default_mime: &str) -> Result<Head<'a>, FormatError> {
    let mut fields: Vec<Field<'_>> = Vec::new();
    // Where the last field started, so that its continuation lines join it.
    let mut field_start = 0;
    let mut at = 0;
    while at < block.len() {
        let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |i| at + i + 1);
        let line = &block[at..end];
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            match fields.last_mut() {
                Some(f) => f.raw = &block[field_start..end],
                None => return Err(FormatError::malformed("a header block that starts with a continuation line")),
            }
        } else {
            field_start = at;
            let colon = memchr::memchr(b':', line).filter(|&c| c > 0 && line[..c].iter().all(|b| b.is_ascii_graphic()));
            let Some(c) = colon else {
                return Err(FormatError::malformed(format!(
                    "header line {:?} is not a field",
                    String::from_utf8_lossy(&line[..line.len().min(40)]).trim_end()
                )));
            };
            fields.push(Field { name: String::from_utf8_lossy(&line[..c]).to_ascii_lowercase(), raw: line });
        }
        at = end;
    }
    if top && fields.is_empty() {
        return Err(FormatError::malformed("no header fields: not a mail message"));
    }
    let mut head = Head { fields, mime: default_mime.into(), ..Head::empty() };
    if head.fields.is_empty() {
        return Ok(head);
    }
    // Names in raw 8-bit Shift_JIS or EUC-JP (old Japanese mailers) are read as such, not as
    // broken UTF-8; the fields themselves are kept as they are.
    let text: std::borrow::Cow<'_, [u8]> = if std::str::from_utf8(block).is_ok() {
        block.into()
    } else {
        legacy_japanese(block).map_or(block.into(), |s| s.into_bytes().into())
    };
    let mut with_end = text.into_owned();
    with_end.extend_from_slice(b"\r\n\r\n");
    let parsed = MessageParser::new().parse_headers(&with_end);
    let Some(part) = parsed.as_ref().and_then(|m| m.parts.first()) else {
        return Err(FormatError::malformed("header fields that do not parse"));
    };
    for h in &part.headers {
        match (&h.name, &h.value) {
            (HeaderName::ContentType, HeaderValue::ContentType(ct)) => {
                let sub = ct.subtype().unwrap_or("");
                head.mime = format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase();
                head.charset = ct.attribute("charset").map(str::to_string);
                head.boundary = ct.attribute("boundary").map(str::to_string);
                if head.name.is_none() {
                    head.name = ct.attribute("name").map(str::to_string);
                }
            }
            (HeaderName::ContentDisposition, HeaderValue::ContentType(cd)) => {
                head.disposition = Some(cd.ctype().to_ascii_lowercase());
                if let Some(f) = cd.attribute("filename") {
                    head.name = Some(f.to_string());
                }
            }
            (HeaderName::ContentTransferEncoding, HeaderValue::Text(t)) => head.cte = t.trim().to_ascii_lowercase(),
            (HeaderName::Subject, HeaderValue::Text(t)) => head.subject = Some(t.to_string()),
            _ => {}
        }
    }
    head.name = head.name.map(|n| crate::names::base_name(n.trim()).to_string()).filter(|n| !n.is_empty());
    Ok(head)
}

/// A `begin 644 name` line followed by an `end` line (uuencode), or a `=ybegin ` line (yEnc).
fn has_encoded_file(text: &[u8]) -> bool {
    let mut begun = false;
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"=ybegin ") {
            return true;
        }
        if let Some(rest) = line.strip_prefix(b"begin ") {
            let mode = rest.iter().take_while(|b| (b'0'..=b'7').contains(b)).count();
            begun |= (3..=4).contains(&mode) && rest.get(mode) == Some(&b' ');
        }
        if begun && line == b"end" {
            return true;
        }
    }
    false
}

fn legacy_japanese(block: &[u8]) -> Option<String> {
    for enc in [encoding_rs::SHIFT_JIS, encoding_rs::EUC_JP] {
        if let Some(s) = enc.decode_without_bom_handling_and_without_replacement(block) {
            return Some(s.into_owned());
        }
    }
    None
}

/// The bodies of a multipart's parts, and whether a preamble or epilogue with text was left out.
fn split_multipart<'a>(
    body: &'a [u8],
    boundary: &str,
    ctx: &Context<'_>,
) -> Result<(Vec<&'a [u8]>, bool), FormatError> {
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(FormatError::malformed("a multipart boundary that is empty or too long"));
    }
    let delim = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut preamble_end = None;
    let mut closed_at = None;
    let mut at = 0;
    let mut lines = 0u32;
    while at < body.len() {
        lines = lines.wrapping_add(1);
        if lines.is_multiple_of(4096) {
            ctx.budget.check_time()?;
        }
        let end = memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |i| at + i + 1);
        let line = &body[at..end];
        if let Some(rest) = line.strip_prefix(delim.as_bytes()) {
            let is_close = rest.starts_with(b"--");
            let rest = if is_close { &rest[2..] } else { rest };
            if rest.iter().all(|b| b.is_ascii_whitespace()) {
                // The line break before a delimiter belongs to the delimiter.
                let before = if at >= 2 && body[at - 2] == b'\r' { at - 2 } else { at.saturating_sub(1) };
                match start {
                    Some(s) => parts.push(&body[s..before.max(s)]),
                    None => preamble_end = Some(before),
                }
                if is_close {
                    closed_at = Some(end);
                    break;
                }
                start = Some(end);
            }
        }
        at = end;
    }
    if closed_at.is_none() {
        match start {
            // A multipart cut short: its last part runs to the end, as readers take it.
            Some(s) => parts.push(&body[s..]),
            None => return Err(FormatError::malformed(format!("a multipart without any {delim:?} line"))),
        }
    }
    let pre = preamble_end.map_or(&[][..], |e| &body[..e]);
    let epi = closed_at.map_or(&[][..], |e| &body[e..]);
    Ok((parts, !filler(pre) || !filler(epi)))
}

/// Whether a preamble or epilogue is the kind of filler mail programs write there ("This is a
/// multi-part message in MIME format."): short printable ASCII with no line that could start
/// a file some readers decode from plain text (uuencode's `begin 644 name`, yEnc's `=ybegin`,
/// BinHex). Such text stays where it is, so that a message with nothing to remove keeps its
/// bytes and its DKIM body hash; anything else is left out and the message rebuilt.
fn filler(text: &[u8]) -> bool {
    const MAX: usize = 4096;
    if text.len() > MAX {
        return false;
    }
    if !text.iter().all(|b| matches!(b, b' '..=b'~' | b'\t' | b'\r' | b'\n')) {
        return false;
    }
    text.split(|b| *b == b'\n').all(|line| {
        let l = line.trim_ascii_start();
        !(l.starts_with(b"begin")
            || l.starts_with(b"=ybegin")
            || l.starts_with(b"(This file must be converted with BinHex"))
    })
}

/// Parts listed one by one in `X-Mugai-Result`.
const MAX_RESULT_PARTS: usize = 50;

struct Writer<'c, 'a> {
    ctx: &'c Context<'a>,
    eol: &'static [u8],
    reference: String,
    outcomes: Vec<Option<crate::engine::Outcome>>,
    actions: Vec<Action>,
    /// One entry per part for `X-Mugai-Result`.
    results: Vec<String>,
    /// Parts written anew so far (not as their original bytes).
    rewritten: usize,
}

impl Writer<'_, '_> {
    fn write(&mut self, node: &Node<'_>, out: &mut Vec<u8>, top: bool) -> Result<(), FormatError> {
        match node {
            Node::Multipart { head, whole, boundary, children, dropped_text } => {
                let before = self.rewritten;
                if *dropped_text {
                    self.rewritten += 1;
                    self.actions.push(Action::with_detail(
                        ActionKind::RemovedArchiveMetadata,
                        "multipart",
                        "preamble or epilogue text (not shown by mail readers)",
                    ));
                }
                // The parts first: the message's own header (subject tag, result) follows
                // from what became of them.
                let signed = head.mime == "multipart/signed";
                let mut bodies = Vec::with_capacity(children.len());
                let mut first_changed = false;
                for (i, c) in children.iter().enumerate() {
                    let rewritten = self.rewritten;
                    let written = self.write_child(c, signed && !first_changed)?;
                    if i == 0 {
                        first_changed = self.rewritten != rewritten;
                    }
                    bodies.extend(written);
                }
                // Nothing inside was rewritten: the original bytes, so that signatures over
                // them (S/MIME, DKIM body hashes) still hold.
                if self.rewritten == before {
                    if top {
                        self.head(head, None, out, true);
                        out.extend_from_slice(self.eol);
                        out.extend_from_slice(split_head(whole, u64::MAX).map(|(_, b)| b).unwrap_or_default());
                    } else {
                        out.extend_from_slice(whole);
                    }
                    return Ok(());
                }
                self.head(head, None, out, top);
                out.extend_from_slice(self.eol);
                for b in bodies {
                    out.extend_from_slice(format!("--{boundary}").as_bytes());
                    out.extend_from_slice(self.eol);
                    out.extend_from_slice(&b);
                    out.extend_from_slice(self.eol);
                }
                out.extend_from_slice(format!("--{boundary}--").as_bytes());
                out.extend_from_slice(self.eol);
            }
            Node::Leaf { head, whole, role, label } => match self.leaf(head, whole, role, label)? {
                Rebuilt::Same if !top => out.extend_from_slice(whole),
                Rebuilt::Same => {
                    self.head(head, None, out, true);
                    let body = split_head(whole, u64::MAX).map(|(_, b)| b).unwrap_or_default();
                    out.extend_from_slice(self.eol);
                    out.extend_from_slice(body);
                }
                Rebuilt::New { content_type, disposition, cte, body } => {
                    self.rewritten += 1;
                    let mut new = content_type;
                    if let Some(d) = disposition {
                        new.extend_from_slice(&d);
                    }
                    new.extend_from_slice(format!("Content-Transfer-Encoding: {cte}").as_bytes());
                    new.extend_from_slice(self.eol);
                    self.head(head, Some(&new), out, top);
                    out.extend_from_slice(self.eol);
                    out.extend_from_slice(&body);
                }
            },
        }
        Ok(())
    }

    /// The parts a child part becomes: none for a stale signature, the attachments of a TNEF
    /// wrapper, else one.
    fn write_child(&mut self, node: &Node<'_>, keep_signature: bool) -> Result<Vec<Vec<u8>>, FormatError> {
        match node {
            Node::Leaf { role: Role::Signature, whole, label, .. } => {
                if keep_signature {
                    return Ok(vec![whole.to_vec()]);
                }
                let what = "signed content changed";
                self.actions.push(Action::with_detail(ActionKind::RemovedSignature, label.as_str(), what));
                self.rewritten += 1;
                Ok(Vec::new())
            }
            Node::Leaf { role: Role::Tnef(kids), label, .. } => {
                self.rewritten += 1;
                self.actions.push(Action::with_detail(
                    ActionKind::RemovedArchiveMetadata,
                    label.as_str(),
                    "TNEF wrapper (rich-text body, message properties); its attachments kept as parts",
                ));
                let mut parts = Vec::with_capacity(kids.len());
                for (i, kid_label) in kids {
                    let Some(o) = self.outcomes.get_mut(*i).and_then(Option::take) else {
                        return Err(FormatError::new(Reason::InternalError, "a part came back without its outcome"));
                    };
                    let mut b = Vec::new();
                    if let Rebuilt::New { content_type, disposition, cte, body } = self.child(None, kid_label, o)? {
                        b.extend_from_slice(&content_type);
                        if let Some(d) = disposition {
                            b.extend_from_slice(&d);
                        }
                        b.extend_from_slice(format!("Content-Transfer-Encoding: {cte}").as_bytes());
                        b.extend_from_slice(self.eol);
                        b.extend_from_slice(self.eol);
                        b.extend_from_slice(&body);
                    }
                    parts.push(b);
                }
                Ok(parts)
            }
            _ => {
                let mut b = Vec::new();
                self.write(node, &mut b, false)?;
                Ok(vec![b])
            }
        }
    }

    /// The header block: the original fields, without the ones `new` replaces, then `new`.
    fn head(&self, head: &Head<'_>, new: Option<&[u8]>, out: &mut Vec<u8>, top: bool) {
        let mut has_mime_version = false;
        for f in &head.fields {
            let replaced = new.is_some()
                && matches!(
                    f.name.as_str(),
                    "content-type" | "content-transfer-encoding" | "content-disposition" | "content-length"
                );
            let ours = top && f.name == "x-mugai-result";
            let retagged = top && f.name == "subject" && self.tags_subject(head);
            has_mime_version |= f.name == "mime-version";
            if retagged {
                // `Subject: <tag> <original value>`: the tag goes in front of the kept value.
                let value = &f.raw[f.raw.iter().position(|&b| b == b':').map_or(0, |c| c + 1)..];
                out.extend_from_slice(b"Subject: ");
                let tag = &self.ctx.config.mail.subject_tag;
                // White space between two encoded words is not shown: the space after the tag
                // then goes inside its word.
                let tag = match !tag.is_ascii() && value.trim_ascii_start().starts_with(b"=?") {
                    true => encode::encoded_words(&format!("{tag} ")),
                    false => encode::encoded_words(tag),
                };
                out.extend_from_slice(tag.as_bytes());
                if !value.starts_with(b" ") && !value.starts_with(b"\t") {
                    out.push(b' ');
                }
                out.extend_from_slice(value);
                continue;
            }
            if !replaced && !ours {
                out.extend_from_slice(f.raw);
                if !f.raw.ends_with(b"\n") {
                    out.extend_from_slice(self.eol);
                }
            }
        }
        if let Some(n) = new {
            if top && !has_mime_version {
                out.extend_from_slice(b"MIME-Version: 1.0");
                out.extend_from_slice(self.eol);
            }
            out.extend_from_slice(n);
        }
    }

    /// True when the subject gets the configured tag: something was removed or blocked, and
    /// the subject does not start with the tag already.
    fn tags_subject(&self, head: &Head<'_>) -> bool {
        let tag = self.ctx.config.mail.subject_tag.as_str();
        let changed = self.actions.iter().any(|a| a.reason.is_some() || !a.action.is_consequence());
        changed && !tag.is_empty() && !head.subject.as_deref().is_some_and(|s| s.trim_start().starts_with(tag))
    }

    fn leaf(&mut self, head: &Head<'_>, whole: &[u8], role: &Role, label: &str) -> Result<Rebuilt, FormatError> {
        match role {
            Role::Text | Role::Signature => Ok(Rebuilt::Same),
            // Never at the top (refused there), and written by `write_child`.
            Role::Tnef(_) => Err(FormatError::new(Reason::InternalError, "a TNEF part outside a multipart")),
            Role::Refused(reason, detail) => self.blocked(label, *reason, detail.clone()),
            Role::Html(decoded) => self.html(head, decoded, label),
            Role::Child(i) => {
                let Some(o) = self.outcomes.get_mut(*i).and_then(Option::take) else {
                    return Err(FormatError::new(Reason::InternalError, "a part came back without its outcome"));
                };
                let body = split_head(whole, u64::MAX).map(|(_, b)| b).unwrap_or_default();
                self.child(Some((head, body)), label, o)
            }
        }
    }

    /// What becomes of a child; `part` is the part's own header block and encoded body, `None`
    /// for an attachment taken out of a TNEF wrapper (always written as a new part).
    fn child(
        &mut self,
        part: Option<(&Head<'_>, &[u8])>,
        label: &str,
        o: crate::engine::Outcome,
    ) -> Result<Rebuilt, FormatError> {
        let head = part.map(|(h, _)| h);
        match (o.verdict, o.output) {
            (Verdict::Kept | Verdict::Disarmed, Some(data)) => {
                let unchanged = o.sha256_out.as_deref() == Some(o.sha256_in.as_str());
                let kind = o.output_kind.unwrap_or(o.kind);
                let verdict = if o.actions.iter().any(|a| a.reason.is_some() || !a.action.is_consequence()) {
                    "disarmed"
                } else {
                    "clean"
                };
                adopt_child_actions(&mut self.actions, label, o.actions);
                // Original bytes only when every reader decodes them to what was checked.
                let strict = |(h, body): (&Head<'_>, &[u8])| canonical_encoding(&h.cte, body, &data);
                if unchanged && part.is_some_and(strict) {
                    self.results.push(format!("{} {verdict};", encode::encoded_words(label)));
                    return Ok(Rebuilt::Same);
                }
                let name = o.output_name.clone().or_else(|| head.and_then(|h| h.name.clone()));
                let shown = name.clone().unwrap_or_else(|| label.to_string());
                self.results.push(format!("{} {verdict};", encode::encoded_words(&shown)));
                // The same kind keeps its declared type, and text its charset (formula cells
                // made inert keep the text's bytes); rebuilt HTML is UTF-8.
                let (mime, charset) = match head {
                    Some(h) if kind == o.kind => {
                        let charset = match kind {
                            Kind::Text => h.charset.clone().filter(|_| h.mime.starts_with("text/")),
                            Kind::Html => Some("UTF-8".to_string()),
                            _ => None,
                        };
                        (h.mime.clone(), charset)
                    }
                    // Markup comes back as UTF-8 HTML or text.
                    _ if matches!(kind, Kind::Html | Kind::Text) => {
                        (mime_of(kind).to_string(), Some("UTF-8".to_string()))
                    }
                    _ => (mime_of(kind).to_string(), None),
                };
                let disposition = head.and_then(|h| h.disposition.as_deref()).unwrap_or("attachment");
                Ok(self.new_part(disposition, &mime, charset.as_deref(), name.as_deref(), &data, kind))
            }
            _ => {
                let reason = o.reason.unwrap_or(Reason::InternalError);
                let detail = o.detail.unwrap_or_default();
                self.blocked(label, reason, detail)
            }
        }
    }

    fn new_part(
        &self,
        disposition: &str,
        mime: &str,
        charset: Option<&str>,
        name: Option<&str>,
        data: &[u8],
        kind: Kind,
    ) -> Rebuilt {
        let eol = self.eol;
        let mut params: Vec<String> = charset.map(|c| vec![format!("charset=\"{c}\"")]).unwrap_or_default();
        params.extend(name.map(|n| encode::name_params("name", n)).unwrap_or_default());
        let content_type = encode::field_with_params("Content-Type", mime, &params, eol);
        let file_params = name.map(|n| encode::name_params("filename", n)).unwrap_or_default();
        let disposition = Some(encode::field_with_params("Content-Disposition", disposition, &file_params, eol));
        if kind == Kind::Eml {
            // A message part may not be base64 (RFC 2046 5.2.1): 7bit or 8bit, as its bytes are.
            let cte = if data.is_ascii() { "7bit" } else { "8bit" };
            return Rebuilt::New { content_type, disposition, cte, body: data.to_vec() };
        }
        Rebuilt::New { content_type, disposition, cte: "base64", body: encode::base64_lines(data, eol) }
    }

    fn blocked(&mut self, label: &str, reason: Reason, detail: String) -> Result<Rebuilt, FormatError> {
        let whole_message = matches!(reason.class(), FailureClass::Limit | FailureClass::Timeout);
        if whole_message || self.ctx.config.archive.on_blocked_entry == BlockedEntryPolicy::Block {
            return Err(FormatError::new(reason, format!("{label}: {detail}")));
        }
        let cfg = &self.ctx.config.mail;
        let fill =
            |t: &str| t.replace("{name}", label).replace("{reason}", reason.as_str()).replace("{ref}", &self.reference);
        let text = format!("{}\r\n\r\n{}\r\n", fill(&cfg.notice_ja), fill(&cfg.notice_en));
        self.actions.push(Action::held(ActionKind::RemovedBlockedEntry, label, reason, detail));
        self.results.push(format!("{} blocked({reason});", encode::encoded_words(label)));
        let content_type = encode::field_with_params("Content-Type", "text/plain", &["charset=UTF-8".into()], self.eol);
        let disposition = Some(encode::field_with_params("Content-Disposition", "inline", &[], self.eol));
        Ok(Rebuilt::New {
            content_type,
            disposition,
            cte: "base64",
            body: encode::base64_lines(text.as_bytes(), self.eol),
        })
    }

    fn html(&mut self, head: &Head<'_>, decoded: &[u8], label: &str) -> Result<Rebuilt, FormatError> {
        let policy = self.ctx.config.mail.html;
        if policy == MailHtml::Keep {
            self.results.push(format!("{} kept;", encode::encoded_words(label)));
            return Ok(Rebuilt::Same);
        }
        let declared = head.charset.as_deref().and_then(|c| encoding_rs::Encoding::for_label(c.trim().as_bytes()));
        let opts = HtmlOptions::from_config(self.ctx.config);
        let budget = self.ctx.budget;
        let cleaned = match declared.and_then(|e| e.decode_without_bom_handling_and_without_replacement(decoded)) {
            Some(t) => Ok(t.into_owned()),
            None => markup::charset::decode(decoded).map(|(t, _)| t),
        }
        .and_then(|text| match policy {
            MailHtml::Text => markup::html_to_text(&text, &opts, budget).map(|(t, a)| (t, a, "text/plain")),
            _ => markup::sanitize_html(&text, &opts, budget).map(|(h, a)| (h, a, "text/html")),
        });
        // A body that cannot be read or cleaned is blocked like an attachment (a limit blocks
        // the message). Even a body with nothing removed is written as cleaned: only what the
        // cleaner wrote is passed on.
        let (new, acts, mime) = match cleaned {
            Ok(c) => c,
            Err(e) => return self.blocked(label, e.reason, e.detail),
        };
        let verdict = match (acts.is_empty(), policy) {
            (false, _) => "disarmed",
            (true, MailHtml::Text) => "text",
            (true, _) => "clean",
        };
        self.results.push(format!("{} {verdict};", encode::encoded_words(label)));
        adopt_child_actions(&mut self.actions, label, acts);
        let content_type = encode::field_with_params("Content-Type", mime, &["charset=UTF-8".into()], self.eol);
        Ok(Rebuilt::New {
            content_type,
            disposition: None,
            cte: "base64",
            body: encode::base64_lines(new.as_bytes(), self.eol),
        })
    }

    /// The words of `X-Mugai-Result`: the verdict, the quarantine reference when something
    /// was held, then one entry per part.
    fn result_words(&self, actions: &[Action]) -> Vec<String> {
        let held = actions.iter().any(|a| a.reason.is_some());
        let changed = actions.iter().any(|a| !a.action.is_consequence());
        let verdict = if held {
            "blocked-parts"
        } else if changed {
            "disarmed"
        } else {
            "clean"
        };
        let mut words = vec![format!("{verdict};")];
        if held {
            words.push(format!("ref={};", self.reference));
        }
        // Bounded, so that a message of many parts does not get a field relays refuse.
        words.extend(self.results.iter().take(MAX_RESULT_PARTS).cloned());
        if self.results.len() > MAX_RESULT_PARTS {
            words.push(format!("and {} more parts", self.results.len() - MAX_RESULT_PARTS));
        }
        if let Some(last) = words.last_mut() {
            if last.ends_with(';') {
                last.pop();
            }
        }
        words
    }
}

/// The MIME type given to a part whose kind changed.
fn mime_of(kind: Kind) -> &'static str {
    if let Some(m) = crate::formats::ooxml::content_types::package_mime(kind) {
        return m;
    }
    match kind {
        Kind::Pdf => "application/pdf",
        Kind::Zip => "application/zip",
        Kind::Gzip => "application/gzip",
        Kind::Tar => "application/x-tar",
        Kind::SevenZip => "application/x-7z-compressed",
        Kind::Lzh => "application/x-lzh-compressed",
        Kind::Doc => "application/msword",
        Kind::Xls => "application/vnd.ms-excel",
        Kind::Ppt => "application/vnd.ms-powerpoint",
        Kind::Rtf => "application/rtf",
        Kind::Odt => "application/vnd.oasis.opendocument.text",
        Kind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
        Kind::Odp => "application/vnd.oasis.opendocument.presentation",
        Kind::Odg => "application/vnd.oasis.opendocument.graphics",
        Kind::Html => "text/html",
        Kind::Svg => "image/svg+xml",
        Kind::Xml => "application/xml",
        Kind::Text => "text/plain",
        Kind::Eml => "message/rfc822",
        Kind::Png => "image/png",
        Kind::Jpeg => "image/jpeg",
        Kind::Gif => "image/gif",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_strict_transfer_encodings_count_as_canonical() {
        let data = b"MZ program bytes and then some more of them";
        let strict = encode::base64_lines(data, b"\r\n");
        assert!(canonical_encoding("base64", &strict, data));
        // Characters outside the alphabet, or data after the padding: decoders differ there.
        let mut junk = strict.clone();
        junk.insert(4, b'*');
        assert!(!canonical_encoding("base64", &junk, data));
        let mut after = strict.clone();
        after.extend_from_slice(b"TVo=");
        assert!(!canonical_encoding("base64", &after, data));
        assert!(canonical_encoding("quoted-printable", b"caf=C3=A9 =\r\nnext", b""));
        assert!(!canonical_encoding("quoted-printable", b"100=% sure", b""));
        assert!(canonical_encoding("7bit", b"anything", b"anything"));
    }

    use super::*;

    #[test]
    fn names_in_raw_shift_jis_are_read_as_such() {
        let (sjis, _, _) =
            encoding_rs::SHIFT_JIS.encode("Content-Disposition: attachment; filename=\"検査結果.pdf\"\r\n");
        let head = read_head(&sjis, false, "text/plain").unwrap();
        assert_eq!(head.name.as_deref(), Some("検査結果.pdf"));
        assert_eq!(head.fields[0].raw, &sjis[..], "the field itself is kept as it was");
    }

    #[test]
    fn files_hidden_in_text_bodies_are_seen() {
        assert!(has_encoded_file(b"hello\r\nbegin 644 run.exe\r\nM35H`\r\n`\r\nend\r\n"));
        assert!(has_encoded_file(b"=ybegin line=128 size=10 name=a.exe\n"));
        assert!(!has_encoded_file(b"begin the meeting at 9\nend of notes\nend\n"));
        assert!(!has_encoded_file(b"begin 644 x\nno end line\n"));
    }

    #[test]
    fn rfc_2231_and_2047_names_are_decoded() {
        let h = b"Content-Type: application/pdf; name=\"=?ISO-2022-JP?B?GyRCOCE6OjdrMkwbKEI=?=.pdf\"\r\n\
                  Content-Disposition: attachment;\r\n filename*=UTF-8''%E6%A4%9C%E6%9F%BB.pdf\r\n";
        let head = read_head(h, false, "text/plain").unwrap();
        assert_eq!(head.name.as_deref(), Some("検査.pdf"));
        assert_eq!(head.mime, "application/pdf");
        assert_eq!(head.disposition.as_deref(), Some("attachment"));
    }

    #[test]
    fn multipart_bodies_split_on_their_boundary_only() {
        let config = crate::config::Config::default();
        let budget = crate::engine::Budget::new(&config.limits);
        struct None_;
        impl crate::formats::Children for None_ {
            fn process(&self, _: Vec<Item>, _: u32, _: &crate::engine::Budget) -> Vec<crate::engine::Outcome> {
                Vec::new()
            }
        }
        let ctx = Context { budget: &budget, config: &config, depth: 0, name: None, children: &None_ };
        let body = b"begin 644 a.exe\r\n--ab\r\nA\r\n--abc\r\n--ab \r\nB\r\n--ab--\r\nepi";
        let (parts, dropped) = split_multipart(body, "ab", &ctx).unwrap();
        assert_eq!(parts, [&b"A\r\n--abc"[..], &b"B"[..]]);
        assert!(dropped);
        assert!(split_multipart(b"no parts", "ab", &ctx).is_err());
        let filler = b"This is a multi-part message in MIME format.\r\n--ab\r\nA\r\n--ab--\r\n";
        assert!(!split_multipart(filler, "ab", &ctx).unwrap().1);
    }

    #[test]
    fn only_plain_filler_text_is_kept_around_parts() {
        assert!(filler(b""));
        assert!(filler(b"This is a multi-part message in MIME format.\r\n"));
        assert!(!filler(b"begin 644 setup.exe\r\nM35J0``,````$````__\r\n`\r\nend\r\n"));
        assert!(!filler(b"note\r\n  =ybegin line=128 size=123 name=a.exe\r\n"));
        assert!(!filler("本文".as_bytes()));
        assert!(!filler(&vec![b'a'; 5000]));
    }
}
