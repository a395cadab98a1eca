//! The RTF tokenizer: splits the bytes into groups, control words, control symbols, `\'hh`
//! escapes, `\binN` raw runs, text and line breaks, each with its exact byte span.
//!
//! Written by hand because the rebuild needs what no RTF crate gives: every token's span in the
//! input (kept tokens are copied back byte for byte) and a strict refusal of the constructs
//! readers disagree on. Where Word and other readers are known to differ or the specification
//! leaves it open, the tokenizer refuses the file (`malformed`) instead of guessing:
//! - a control word name longer than 32 letters (the specification's maximum) or a numeric
//!   parameter longer than 10 digits (Word reads up to 250 digits; a reader that stops earlier
//!   would see a different `\bin` length and a different structure after it);
//! - a `\'` escape whose two following bytes include a brace or a backslash, or that is cut by
//!   the end of the file;
//! - `\bin` with a negative length or more bytes than the file has left;
//! - a backslash as the last byte.

use crate::formats::FormatError;

/// Longest control word name the specification allows.
pub const MAX_NAME: usize = 32;
/// Most digits in a numeric parameter (enough for any 32-bit value).
pub const MAX_DIGITS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `{`
    Open,
    /// `}`
    Close,
    /// `\name` with its optional parameter and the space that ends it, if any.
    Word,
    /// `\` and one byte that is not a letter (`\*`, `\\`, `\{`, `\~`, `\'` is [`Kind::Hex`]).
    Symbol,
    /// `\'hh`: one byte given in hex (`value` is `None` when the two bytes are not hex digits).
    Hex,
    /// `\binN` followed by N raw bytes.
    Bin,
    /// A run of bytes that are none of `\ { } CR LF`.
    Text,
    /// A run of CR and LF bytes, which RTF readers ignore.
    Newline,
}

/// One token: its kind and span, and for words its name and parameter.
#[derive(Debug, Clone, Copy)]
pub struct Tok<'a> {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// Control word name (letters only); the symbol byte for symbols; empty otherwise.
    pub name: &'a [u8],
    /// Control word parameter; the byte value of a `\'hh` escape; the length of a `\bin` run.
    pub param: Option<i64>,
}

/// Walks the tokens of `data` from `pos`.
pub struct Tokenizer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn malformed(at: usize, what: &str) -> FormatError {
    FormatError::malformed(format!("RTF at byte {at}: {what}"))
}

impl<'a> Tokenizer<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Tokenizer { data, pos: 0 }
    }

    /// The next token, `None` at the end of the data.
    pub fn next_tok(&mut self) -> Result<Option<Tok<'a>>, FormatError> {
        let d = self.data;
        let start = self.pos;
        let Some(&b) = d.get(start) else { return Ok(None) };
        let tok = |kind, end, name, param| Tok { kind, start, end, name, param };
        let t = match b {
            b'{' => tok(Kind::Open, start + 1, &[][..], None),
            b'}' => tok(Kind::Close, start + 1, &[][..], None),
            b'\r' | b'\n' => {
                let n = d[start..].iter().take_while(|c| matches!(c, b'\r' | b'\n')).count();
                tok(Kind::Newline, start + n, &[][..], None)
            }
            b'\\' => return self.escape(start).map(Some),
            _ => {
                let rest = &d[start..];
                let n = memchr::memchr3(b'\\', b'{', b'}', rest).unwrap_or(rest.len());
                let n = memchr::memchr2(b'\r', b'\n', &rest[..n]).unwrap_or(n);
                tok(Kind::Text, start + n, &[][..], None)
            }
        };
        self.pos = t.end;
        Ok(Some(t))
    }

    fn escape(&mut self, start: usize) -> Result<Tok<'a>, FormatError> {
        let d = self.data;
        let Some(&c) = d.get(start + 1) else { return Err(malformed(start, "a backslash ends the file")) };
        if c == b'\'' {
            let (Some(&h), Some(&l)) = (d.get(start + 2), d.get(start + 3)) else {
                return Err(malformed(start, "a \\' escape is cut by the end of the file"));
            };
            if [h, l].iter().any(|x| matches!(x, b'{' | b'}' | b'\\')) {
                return Err(malformed(start, "a \\' escape takes a brace or backslash as a hex digit"));
            }
            let value = match (hex_digit(h), hex_digit(l)) {
                (Some(h), Some(l)) => Some(i64::from(h * 16 + l)),
                _ => None,
            };
            self.pos = start + 4;
            return Ok(Tok { kind: Kind::Hex, start, end: start + 4, name: &[][..], param: value });
        }
        if !c.is_ascii_alphabetic() {
            self.pos = start + 2;
            return Ok(Tok { kind: Kind::Symbol, start, end: start + 2, name: &d[start + 1..start + 2], param: None });
        }
        let name_end = start + 1 + d[start + 1..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
        if name_end - start - 1 > MAX_NAME {
            return Err(malformed(start, "a control word name longer than 32 letters"));
        }
        let name = &d[start + 1..name_end];
        let mut p = name_end;
        let negative = d.get(p) == Some(&b'-') && d.get(p + 1).is_some_and(u8::is_ascii_digit);
        if negative {
            p += 1;
        }
        let digits = d[p..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > MAX_DIGITS {
            return Err(malformed(start, "a control word parameter longer than 10 digits"));
        }
        let param = if digits > 0 {
            // At most 10 digits: always fits.
            let v = d[p..p + digits].iter().fold(0i64, |v, c| v * 10 + i64::from(c - b'0'));
            Some(if negative { -v } else { v })
        } else {
            None
        };
        p += digits;
        if d.get(p) == Some(&b' ') {
            p += 1;
        }
        if name == b"bin" {
            let n = param.unwrap_or(0);
            if n < 0 {
                return Err(malformed(start, "\\bin with a negative length"));
            }
            let end = p.checked_add(n as usize).filter(|e| *e <= d.len());
            let Some(end) = end else {
                return Err(malformed(start, &format!("\\bin{n} runs past the end of the file")));
            };
            self.pos = end;
            return Ok(Tok { kind: Kind::Bin, start, end, name, param: Some(n) });
        }
        self.pos = p;
        Ok(Tok { kind: Kind::Word, start, end: p, name, param })
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|v| v as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Listed = Vec<(Kind, Vec<u8>, Option<i64>)>;

    fn toks(data: &[u8]) -> Result<Listed, FormatError> {
        let mut t = Tokenizer::new(data);
        let mut out = Vec::new();
        while let Some(x) = t.next_tok()? {
            out.push((x.kind, data[x.start..x.end].to_vec(), x.param));
        }
        Ok(out)
    }

    #[test]
    fn words_symbols_escapes_and_raw_runs() {
        let t = toks(b"{\\rtf1\\b-2x\\fs24 A\\'8a\\*\\bin3 {}}\r\n}").unwrap();
        let spans: Vec<&[u8]> = t.iter().map(|x| x.1.as_slice()).collect();
        assert_eq!(
            spans,
            vec![
                &b"{"[..],
                b"\\rtf1",
                b"\\b-2",
                b"x",
                b"\\fs24 ",
                b"A",
                b"\\'8a",
                b"\\*",
                b"\\bin3 {}}",
                b"\r\n",
                b"}"
            ]
        );
        assert_eq!(t[2].2, Some(-2));
        assert_eq!(t[6].2, Some(0x8a));
        assert_eq!((t[8].0, t[8].2), (Kind::Bin, Some(3)));
    }

    #[test]
    fn ambiguous_constructs_are_refused() {
        for bad in [
            &b"{\\rtf1 \\bin5 abc"[..],
            b"{\\rtf1 \\bin-1 x}",
            b"{\\rtf1 \\'4{}",
            b"{\\rtf1 \\'4",
            b"{\\rtf1 \\",
            b"{\\rtf1 \\fs00000000024 x}",
            b"{\\rtf1 \\abcdefghijklmnopqrstuvwxyzabcdefgh x}",
        ] {
            assert!(toks(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // `\'` with bytes that are not hex digits is consumed whole, as Word does.
        assert_eq!(toks(b"\\'zz").unwrap()[0].2, None);
        // A dash not followed by a digit ends the word; `\bin` without a length reads nothing.
        assert_eq!(toks(b"\\b-x").unwrap().len(), 2);
        assert_eq!(toks(b"\\bin x").unwrap()[0].1, b"\\bin ");
    }
}
