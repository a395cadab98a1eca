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
//! - The HTML body is cleaned per `[mail] html`: sanitized (written as UTF-8 only when
//!   something was removed), turned into text, or kept.
//! - Every other leaf part (attachments, inline images, text attachments) is a child item of the
//!   engine, disarmed in parallel; nested `message/rfc822` parts are children too and come back
//!   here one level deeper. A part that comes back unchanged keeps its original bytes; a changed
//!   one is written in base64 with its Content-Type and name following its new kind (docm ->
//!   docx); a blocked one is replaced by a short text/plain notice in Japanese and English naming
//!   the file, the reason and the quarantine reference (the first 16 hex digits of the SHA-256 of
//!   the message), and listed as held so that the original goes to quarantine.
//! - Header fields are kept byte for byte, but for the Content-* fields of replaced parts, any
//!   `X-Mugai-Result` the sender wrote (replaced by ours), and the subject tag when configured.
//! - The preamble and epilogue of multiparts (text no reader shows) are left out.
//!
//! Refused: a message without header fields or with a header line that is not a field
//! (`malformed`); a part in a transfer encoding other than 7bit, 8bit, binary, base64 and
//! quoted-printable, message/partial and message/external-body (`unsupported`); TNEF
//! (`winmail.dat`), whose attachments are not unpacked yet (`unsupported`); encrypted S/MIME and
//! PGP parts (`encrypted`). These block the part, not the message. A limit reached anywhere, in
//! a nested message too, blocks the whole message, as in archives.

mod encode;

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
    // The quarantine id of the original ends with these digits.
    let reference = sha256_hex(data)[..16].to_string();
    // The envelope line of a message saved from a mailbox (`From sender date`), kept in front.
    let envelope_len = match data.starts_with(b"From ") {
        true => memchr::memchr(b'\n', data).map_or(data.len(), |i| i + 1),
        false => 0,
    };
    let (envelope, data) = data.split_at(envelope_len);
    let mut w = Walker { ctx, parts: 0, children: Vec::new() };
    let root = w.node(data, 0, true)?;
    // The whole message must also read as a message to mail-parser, the reference reader here.
    if MessageParser::new().parse(data).is_none_or(|m| m.parts.is_empty()) {
        return Err(FormatError::malformed("no header fields: not a mail message"));
    }
    let items = std::mem::take(&mut w.children);
    let outcomes = ctx.children.process(items, ctx.depth + 1, ctx.budget);
    let outcomes = outcomes.into_iter().map(Some).collect();
    let mut out = Writer { ctx, eol, reference, outcomes, actions: Vec::new(), results: Vec::new() };
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
    fn node(&mut self, part: &'a [u8], level: u32, top: bool) -> Result<Node<'a>, FormatError> {
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
        let head = read_head(head_bytes, top)?;
        if let Some(boundary) = head.mime.strip_prefix("multipart/").and(head.boundary.clone()) {
            let (bodies, dropped_text) = split_multipart(body, &boundary, ctx)?;
            let mut children = Vec::with_capacity(bodies.len());
            for b in bodies {
                children.push(self.node(b, level + 1, false)?);
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
        let role = self.role(&head, body, &label)?;
        Ok(Node::Leaf { head, whole: part, role, label })
    }

    fn role(&mut self, head: &Head<'_>, body: &[u8], label: &str) -> Result<Role, FormatError> {
        let mime = head.mime.as_str();
        let attached = head.disposition.as_deref() == Some("attachment") || head.name.is_some();
        let refused = |r: Reason, d: &str| Ok(Role::Refused(r, d.to_string()));
        match mime {
            "message/partial" | "message/external-body" => {
                return refused(Reason::Unsupported, "a message in pieces or stored elsewhere")
            }
            "application/ms-tnef" | "application/vnd.ms-tnef" => {
                return refused(Reason::Unsupported, "TNEF (winmail.dat): its attachments are not unpacked yet")
            }
            "application/pkcs7-mime" | "application/x-pkcs7-mime" | "application/pgp-encrypted" => {
                return refused(Reason::Encrypted, "S/MIME or PGP content, readable only with the key")
            }
            "application/pkcs7-signature" | "application/x-pkcs7-signature" | "application/pgp-signature" => {
                return Ok(Role::Signature)
            }
            _ => {}
        }
        if label.eq_ignore_ascii_case("winmail.dat") {
            return refused(Reason::Unsupported, "TNEF (winmail.dat): its attachments are not unpacked yet");
        }
        if !attached && mime == "text/plain" {
            return Ok(Role::Text);
        }
        let decoded = match self.decode(head, body)? {
            Ok(d) => d,
            Err((reason, why)) => return refused(reason, &why),
        };
        if !attached && mime == "text/html" {
            return Ok(Role::Html(decoded));
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
fn read_head(block: &[u8], top: bool) -> Result<Head<'_>, FormatError> {
    let mut fields: Vec<Field<'_>> = Vec::new();
    let mut at = 0;
    while at < block.len() {
        let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |i| at + i + 1);
        let line = &block[at..end];
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            match fields.last_mut() {
                Some(f) => f.raw = &block[(f.raw.as_ptr() as usize - block.as_ptr() as usize)..end],
                None => return Err(FormatError::malformed("a header block that starts with a continuation line")),
            }
        } else {
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
    let mut head = Head {
        fields,
        mime: "text/plain".into(),
        charset: None,
        boundary: None,
        cte: String::new(),
        disposition: None,
        name: None,
        subject: None,
    };
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
    let has_text = |b: &[u8]| b.iter().any(|c| !c.is_ascii_whitespace());
    Ok((parts, has_text(pre) || has_text(epi)))
}

struct Writer<'c, 'a> {
    ctx: &'c Context<'a>,
    eol: &'static [u8],
    reference: String,
    outcomes: Vec<Option<crate::engine::Outcome>>,
    actions: Vec<Action>,
    /// One entry per part for `X-Mugai-Result`.
    results: Vec<String>,
}

impl Writer<'_, '_> {
    fn write(&mut self, node: &Node<'_>, out: &mut Vec<u8>, top: bool) -> Result<(), FormatError> {
        match node {
            Node::Multipart { head, boundary, children, dropped_text, .. } => {
                if *dropped_text {
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
                    let mut b = Vec::new();
                    let gone = self.write_child(c, &mut b, signed && !first_changed)?;
                    if i == 0 {
                        first_changed = whole_of(c) != b.as_slice();
                    }
                    if !gone {
                        bodies.push(b);
                    }
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
            Node::Leaf { head, whole, role, label } => match self.leaf(head, role, label)? {
                Rebuilt::Same if !top => out.extend_from_slice(whole),
                Rebuilt::Same => {
                    self.head(head, None, out, true);
                    let body = split_head(whole, u64::MAX).map(|(_, b)| b).unwrap_or_default();
                    out.extend_from_slice(self.eol);
                    out.extend_from_slice(body);
                }
                Rebuilt::New { content_type, disposition, cte, body } => {
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

    /// Writes a child part; true when it was left out (a stale signature).
    fn write_child(&mut self, node: &Node<'_>, out: &mut Vec<u8>, keep_signature: bool) -> Result<bool, FormatError> {
        if let Node::Leaf { role: Role::Signature, whole, label, .. } = node {
            if keep_signature {
                out.extend_from_slice(whole);
                return Ok(false);
            }
            self.actions.push(Action::with_detail(
                ActionKind::RemovedSignature,
                label.as_str(),
                "signed content changed",
            ));
            return Ok(true);
        }
        self.write(node, out, false)?;
        Ok(false)
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
                out.extend_from_slice(encode::encoded_words(&self.ctx.config.mail.subject_tag).as_bytes());
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

    fn leaf(&mut self, head: &Head<'_>, role: &Role, label: &str) -> Result<Rebuilt, FormatError> {
        match role {
            Role::Text => Ok(Rebuilt::Same),
            Role::Signature => Ok(Rebuilt::Same),
            Role::Refused(reason, detail) => self.blocked(label, *reason, detail.clone()),
            Role::Html(decoded) => self.html(head, decoded, label),
            Role::Child(i) => {
                let Some(o) = self.outcomes.get_mut(*i).and_then(Option::take) else {
                    return Err(FormatError::new(Reason::InternalError, "a part came back without its outcome"));
                };
                self.child(head, label, o)
            }
        }
    }

    fn child(&mut self, head: &Head<'_>, label: &str, o: crate::engine::Outcome) -> Result<Rebuilt, FormatError> {
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
                if unchanged {
                    self.results.push(format!("{} {verdict};", encode::encoded_words(label)));
                    return Ok(Rebuilt::Same);
                }
                let name = o.output_name.clone().or_else(|| head.name.clone());
                let shown = name.clone().unwrap_or_else(|| label.to_string());
                self.results.push(format!("{} {verdict};", encode::encoded_words(&shown)));
                let mime = if kind == o.kind { head.mime.clone() } else { mime_of(kind).to_string() };
                Ok(self.new_part(head, &mime, name.as_deref(), &data, kind))
            }
            _ => {
                let reason = o.reason.unwrap_or(Reason::InternalError);
                let detail = o.detail.unwrap_or_default();
                self.blocked(label, reason, detail)
            }
        }
    }

    fn new_part(&self, head: &Head<'_>, mime: &str, name: Option<&str>, data: &[u8], kind: Kind) -> Rebuilt {
        let eol = self.eol;
        let params: Vec<String> = name.map(|n| encode::name_params("name", n)).unwrap_or_default();
        let content_type = encode::field_with_params("Content-Type", mime, &params, eol);
        let disposition = name.map(|n| {
            let kind = head.disposition.as_deref().unwrap_or("attachment");
            encode::field_with_params("Content-Disposition", kind, &encode::name_params("filename", n), eol)
        });
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
        let text = match declared.and_then(|e| e.decode_without_bom_handling_and_without_replacement(decoded)) {
            Some(t) => t.into_owned(),
            None => markup::charset::decode(decoded)?.0,
        };
        let opts = HtmlOptions::from_config(self.ctx.config);
        let budget = self.ctx.budget;
        let (new, acts, mime) = match policy {
            MailHtml::Text => {
                let (t, a) = markup::html_to_text(&text, &opts, budget)?;
                (t, a, "text/plain")
            }
            _ => {
                let (h, a) = markup::sanitize_html(&text, &opts, budget)?;
                (h, a, "text/html")
            }
        };
        if acts.is_empty() && policy == MailHtml::Sanitize {
            self.results.push(format!("{} clean;", encode::encoded_words(label)));
            return Ok(Rebuilt::Same);
        }
        let verdict = if acts.is_empty() { "text" } else { "disarmed" };
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
        words.extend(self.results.iter().cloned());
        if let Some(last) = words.last_mut() {
            if last.ends_with(';') {
                last.pop();
            }
        }
        words
    }
}

fn whole_of<'a>(node: &Node<'a>) -> &'a [u8] {
    match node {
        Node::Multipart { whole, .. } | Node::Leaf { whole, .. } => whole,
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
