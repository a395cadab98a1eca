//! Writing header fields: RFC 2047 encoded words, RFC 2231 parameters, folding.
//!
//! By hand: mail-parser only reads, and a mail-writing crate would rebuild whole messages,
//! while here only the few fields of a replaced part are written, next to original fields kept
//! byte for byte.

use base64::Engine as _;

/// Longest line written in a new header field (RFC 5322 recommends 78).
const FOLD_AT: usize = 76;

/// Base64 with lines of 76 characters, each ended by `eol`.
pub fn base64_lines(data: &[u8], eol: &[u8]) -> Vec<u8> {
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = Vec::with_capacity(text.len() + text.len() / 76 * eol.len() + eol.len());
    for chunk in text.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(eol);
    }
    out
}

/// `text` as it may stand in an unstructured field: itself when printable ASCII, else RFC 2047
/// `B` encoded words of UTF-8 (each at most 75 characters, split on character boundaries).
pub fn encoded_words(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) && !text.contains("=?") {
        return text.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        // 45 bytes of UTF-8 make 60 base64 characters, 72 with the `=?UTF-8?B?` frame.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(b_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(b_word(&chunk));
    }
    words.join(" ")
}

fn b_word(s: &str) -> String {
    format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
}

/// A parameter value as a quoted string (backslash and quote escaped), for ASCII values.
fn quoted(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// The parameters that carry a file name: for an ASCII name `param="name"`; otherwise the RFC
/// 2231 form (`param*0*=UTF-8''...`, continued every 60 characters) for current readers and an
/// RFC 2047 quoted form for old ones that only know `param=`.
pub fn name_params(param: &str, name: &str) -> Vec<String> {
    let ascii = name.bytes().all(|b| (0x20..0x7f).contains(&b));
    if ascii {
        return vec![format!("{param}={}", quoted(name))];
    }
    let mut pct = Vec::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            pct.push((b as char).to_string());
        } else {
            pct.push(format!("%{b:02X}"));
        }
    }
    let mut sections = Vec::new();
    let mut cur = String::from("UTF-8''");
    for p in pct {
        if cur.len() + p.len() > 60 {
            sections.push(std::mem::take(&mut cur));
        }
        cur.push_str(&p);
    }
    sections.push(cur);
    let mut out: Vec<String> = if sections.len() == 1 {
        vec![format!("{param}*={}", sections[0])]
    } else {
        sections.iter().enumerate().map(|(i, s)| format!("{param}*{i}*={s}")).collect()
    };
    out.push(format!("{param}=\"{}\"", encoded_words(name)));
    out
}

/// A header field `Name: value; param; param` folded: each parameter on its own line when the
/// whole does not fit on one.
pub fn field_with_params(name: &str, value: &str, params: &[String], eol: &[u8]) -> Vec<u8> {
    let one = std::iter::once(value.to_string()).chain(params.iter().cloned()).collect::<Vec<_>>().join("; ");
    let mut out = Vec::new();
    if name.len() + 2 + one.len() <= FOLD_AT {
        out.extend_from_slice(format!("{name}: {one}").as_bytes());
    } else {
        out.extend_from_slice(format!("{name}: {value}").as_bytes());
        for p in params {
            out.push(b';');
            out.extend_from_slice(eol);
            out.extend_from_slice(b" ");
            out.extend_from_slice(p.as_bytes());
        }
    }
    out.extend_from_slice(eol);
    out
}

/// An unstructured field whose value is a list of words, folded between words.
pub fn folded_field(name: &str, words: &[String], eol: &[u8]) -> Vec<u8> {
    let mut out = format!("{name}:").into_bytes();
    let mut line = out.len();
    for w in words {
        if line + 1 + w.len() > FOLD_AT && line > name.len() + 1 {
            out.extend_from_slice(eol);
            line = 0;
        }
        out.push(b' ');
        out.extend_from_slice(w.as_bytes());
        line += 1 + w.len();
    }
    out.extend_from_slice(eol);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_for_new_and_old_readers() {
        assert_eq!(name_params("filename", "a \"b\".pdf"), vec!["filename=\"a \\\"b\\\".pdf\"".to_string()]);
        let p = name_params("filename", "報告書.docx");
        assert_eq!(p[0], "filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.docx");
        assert!(p[1].starts_with("filename=\"=?UTF-8?B?"));
        let long = name_params("name", &"長".repeat(40));
        assert!(long[0].starts_with("name*0*=UTF-8''%E9%95%B7"));
        assert!(long.len() > 2 && long[..long.len() - 1].iter().all(|l| l.len() < 100));
    }

    #[test]
    fn encoded_words_stay_short_and_round_trip_in_readers() {
        let w = encoded_words(&"無害化".repeat(20));
        assert!(w.split(' ').all(|x| x.len() <= 75 && x.starts_with("=?UTF-8?B?")));
        assert_eq!(encoded_words("plain"), "plain");
    }

    #[test]
    fn folding_keeps_lines_short() {
        let words: Vec<String> = (0..30).map(|i| format!("word{i};")).collect();
        let f = folded_field("X-Test", &words, b"\r\n");
        let text = String::from_utf8(f).unwrap();
        assert!(text.split("\r\n").all(|l| l.len() <= FOLD_AT + 1));
        assert!(text.ends_with("\r\n") && text.contains("\r\n word"));
    }
}
