//! The character set of an HTML file, and its text as UTF-8.
//!
//! Japanese HTML often comes as Shift_JIS, EUC-JP or ISO-2022-JP, sometimes without saying so or
//! saying it wrongly. The order: a byte order mark; then the `<meta charset>` or `http-equiv
//! Content-Type` declaration (looked for as the HTML standard's prescan does, in the first
//! bytes); then a guess: UTF-8, ISO-2022-JP, Shift_JIS or EUC-JP (the one that decodes without
//! error and reads most like Japanese text), then windows-1252. Every decoder runs strictly: a
//! byte sequence the charset does not define is never replaced, so no text is silently lost;
//! text that no charset decodes cleanly is refused as malformed (mojibake is a defect, not an
//! output).

use crate::formats::FormatError;
use encoding_rs::{Encoding, EUC_JP, ISO_2022_JP, SHIFT_JIS, UTF_8, WINDOWS_1252};

/// How far the declaration is looked for (the HTML standard's prescan reads 1024 bytes; pages
/// saved by mail programs put long comments first, so a little more).
const PRESCAN: usize = 4096;

/// The text of `data` and the character set it was read with.
pub fn decode(data: &[u8]) -> Result<(String, &'static Encoding), FormatError> {
    if let Some((enc, bom)) = Encoding::for_bom(data) {
        return strict(enc, &data[bom..]).map(|t| (t, enc)).ok_or_else(|| {
            FormatError::malformed(format!("text is not valid {} after its byte order mark", enc.name()))
        });
    }
    if let Some(enc) = declared(&data[..data.len().min(PRESCAN)]) {
        if let Some(t) = strict(enc, data) {
            return Ok((t, enc));
        }
        // A wrong declaration: the content may still be one of the others.
    }
    guess(data)
}

fn strict(enc: &'static Encoding, data: &[u8]) -> Option<String> {
    if enc == UTF_8 {
        return std::str::from_utf8(data).ok().map(str::to_owned);
    }
    enc.decode_without_bom_handling_and_without_replacement(data).map(|c| c.into_owned())
}

fn guess(data: &[u8]) -> Result<(String, &'static Encoding), FormatError> {
    // ISO-2022-JP is 7-bit, so it is also valid UTF-8: its escape sequences tell it apart.
    if data.is_ascii() && [&b"\x1b$B"[..], b"\x1b$@", b"\x1b(J", b"\x1b(I"].iter().any(|e| find(data, e).is_some()) {
        if let Some(t) = strict(ISO_2022_JP, data) {
            return Ok((t, ISO_2022_JP));
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        return Ok((s.to_owned(), UTF_8));
    }
    let candidates: Vec<(String, &'static Encoding)> =
        [SHIFT_JIS, EUC_JP].into_iter().filter_map(|e| strict(e, data).map(|t| (t, e))).collect();
    if let Some((t, e)) = candidates.into_iter().max_by_key(|(t, e)| (japanese_score(t), *e == SHIFT_JIS)) {
        return Ok((t, e));
    }
    // Broken Japanese text would read as Latin mojibake: refuse it instead.
    for enc in [SHIFT_JIS, EUC_JP] {
        let (text, _) = enc.decode_without_bom_handling(data);
        let total = text.chars().count().max(1);
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        if japanese_score(&text) >= 8 && bad * 100 <= total {
            return Err(FormatError::malformed(format!(
                "{} text with {bad} byte sequence(s) that do not decode",
                enc.name()
            )));
        }
    }
    let text = strict(WINDOWS_1252, data).unwrap_or_default();
    if text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)) {
        return Err(FormatError::malformed("text in no character set mugai can read"));
    }
    Ok((text, WINDOWS_1252))
}

/// Characters typical of Japanese text (kana, CJK ideographs, full-width punctuation) minus
/// those a wrong guess produces (half-width katakana runs, private use).
fn japanese_score(text: &str) -> i64 {
    let mut score = 0i64;
    for c in text.chars() {
        match c {
            '\u{3040}'..='\u{30ff}' => score += 2,
            '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff01}'..='\u{ff5e}' => score += 1,
            '\u{ff61}'..='\u{ff9f}' | '\u{e000}'..='\u{f8ff}' => score -= 2,
            _ => {}
        }
    }
    score
}

/// The character set a `<meta>` element declares, if any.
fn declared(head: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"<meta") {
        let start = from + i + 5;
        let end = lower[start..].iter().position(|&b| b == b'>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(label) = charset_in(tag) {
            if let Some(enc) = Encoding::for_label(label) {
                // As the HTML standard says: a UTF-16 declaration in ASCII-compatible bytes is
                // UTF-8, and x-user-defined is windows-1252.
                let enc = if enc == encoding_rs::UTF_16BE || enc == encoding_rs::UTF_16LE {
                    UTF_8
                } else if enc == encoding_rs::X_USER_DEFINED {
                    WINDOWS_1252
                } else {
                    enc
                };
                return Some(enc);
            }
        }
        from = end;
    }
    None
}

/// The value after `charset=` in a meta tag (as an attribute or inside `content`).
fn charset_in(tag: &[u8]) -> Option<&[u8]> {
    let i = find(tag, b"charset")?;
    let mut rest = &tag[i + 7..];
    rest = trim_start(rest);
    rest = rest.strip_prefix(b"=")?;
    rest = trim_start(rest);
    if let Some(r) = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")) {
        rest = r;
    }
    let end = rest.iter().position(|&b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b';' | b'/' | b'>'));
    let label = &rest[..end.unwrap_or(rest.len())];
    (!label.is_empty()).then_some(label)
}

fn trim_start(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LETTER: &str = "拝啓　いつもお世話になっております。検査結果をお送りします。";

    #[test]
    fn japanese_charsets_are_read_without_loss() {
        for enc in [SHIFT_JIS, EUC_JP, ISO_2022_JP, UTF_8] {
            let (bytes, _, _) = enc.encode(LETTER);
            let page = [b"<html><body><p>".as_slice(), &bytes, b"</p></body></html>"].concat();
            let (text, got) = decode(&page).unwrap();
            assert!(text.contains(LETTER), "{}", enc.name());
            assert_eq!(got, enc, "guessed");
        }
    }

    #[test]
    fn a_declaration_is_followed_and_a_wrong_one_corrected() {
        let (sjis, _, _) = SHIFT_JIS.encode(LETTER);
        let page =
            [b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">".as_slice(), &sjis].concat();
        assert_eq!(decode(&page).unwrap().1, SHIFT_JIS);
        let page = [b"<meta charset=\"utf-8\">".as_slice(), &sjis].concat();
        let (text, enc) = decode(&page).unwrap();
        assert_eq!((enc, text.contains(LETTER)), (SHIFT_JIS, true));
        let (latin, _, _) = WINDOWS_1252.encode("caf\u{e9}");
        let page = [b"<meta charset=iso-8859-1>".as_slice(), &latin].concat();
        assert!(decode(&page).unwrap().0.contains("caf\u{e9}"));
    }

    #[test]
    fn broken_japanese_text_is_refused() {
        let text = LETTER.repeat(4);
        let mut bytes = SHIFT_JIS.encode(&text).0.into_owned();
        bytes.insert(20, 0x81);
        bytes.insert(21, 0x20);
        assert!(decode(&bytes).is_err());
    }
}
