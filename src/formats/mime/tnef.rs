//! TNEF (`winmail.dat`, application/ms-tnef): the attachments Outlook wraps in its own format.
//!
//! Read by hand from the MS-OXTNEF specification: the only Rust TNEF reader is unmaintained,
//! and the part needed here is small (a list of checksummed attributes; per attachment its
//! data, its title and, among its MAPI properties, its long file name). Everything else in the
//! stream (the rich-text body, message properties, icons) is not carried over: the attachments
//! come out as ordinary MIME parts and the wrapper goes.
//!
//! Refused (the part is blocked): a bad signature, an attribute that runs past the end or whose
//! checksum is wrong (`malformed`); an attachment without data, such as an attached message
//! (`unsupported`).

use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::Reason;

const SIGNATURE: u32 = 0x223E_9F78;
const LVL_ATTACHMENT: u8 = 0x02;
const ATT_ATTACH_REND_DATA: u32 = 0x0006_9002;
const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
const ATT_ATTACH_DATA: u32 = 0x0006_800F;
const ATT_ATTACHMENT: u32 = 0x0006_9005;
const ATT_OEM_CODEPAGE: u32 = 0x0006_9007;
/// PidTagAttachLongFilename.
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;

/// One attachment found in the stream.
#[derive(Debug, Default)]
pub struct Attachment {
    pub name: Option<String>,
    pub data: Option<Vec<u8>>,
}

/// True when `data` starts with the TNEF signature.
pub fn is_tnef(data: &[u8]) -> bool {
    data.len() >= 6 && u32_at(data, 0) == Some(SIGNATURE)
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at.checked_add(4)?).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The attachments of a TNEF stream, in order.
pub fn attachments(data: &[u8], budget: &Budget) -> Result<Vec<Attachment>, FormatError> {
    if !is_tnef(data) {
        return Err(FormatError::malformed("TNEF without its signature"));
    }
    let mut out: Vec<Attachment> = Vec::new();
    let mut codepage = 1252u32;
    let mut at = 6;
    while at < data.len() {
        budget.check_time()?;
        let level = data[at];
        let (Some(id), Some(len)) = (u32_at(data, at + 1), u32_at(data, at + 5)) else {
            return Err(FormatError::malformed("TNEF attribute header cut short"));
        };
        let start = at + 9;
        let end = start.checked_add(len as usize).filter(|&e| e + 2 <= data.len());
        let Some(end) = end else {
            return Err(FormatError::malformed(format!("TNEF attribute {id:#010x} runs past the end")));
        };
        let value = &data[start..end];
        let sum = value.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        if u16_at(data, end) != Some(sum) {
            return Err(FormatError::malformed(format!("TNEF attribute {id:#010x} has a wrong checksum")));
        }
        at = end + 2;
        match (level, id) {
            (_, ATT_OEM_CODEPAGE) => codepage = u32_at(value, 0).unwrap_or(1252),
            (LVL_ATTACHMENT, ATT_ATTACH_REND_DATA) => {
                budget.charge_entries(1)?;
                out.push(Attachment::default());
            }
            (LVL_ATTACHMENT, ATT_ATTACH_TITLE) => {
                let Some(a) = out.last_mut() else { continue };
                if a.name.is_none() {
                    a.name = Some(decode_8bit(value, codepage));
                }
            }
            (LVL_ATTACHMENT, ATT_ATTACH_DATA) => {
                let Some(a) = out.last_mut() else {
                    return Err(FormatError::malformed("TNEF attachment data before any attachment"));
                };
                budget.charge_bytes(value.len() as u64)?;
                a.data = Some(value.to_vec());
            }
            (LVL_ATTACHMENT, ATT_ATTACHMENT) => {
                let Some(a) = out.last_mut() else { continue };
                // The long name, when the properties read; the title (often 8.3) otherwise.
                if let Some(long) = long_filename(value, codepage, budget)? {
                    a.name = Some(long);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Text in the stream's code page (932 is Shift_JIS, as Japanese Outlook writes).
fn decode_8bit(value: &[u8], codepage: u32) -> String {
    let value = value.split(|&b| b == 0).next().unwrap_or_default();
    let enc = match codepage {
        932 => encoding_rs::SHIFT_JIS,
        65001 => encoding_rs::UTF_8,
        50220..=50222 => encoding_rs::ISO_2022_JP,
        20932 | 51932 => encoding_rs::EUC_JP,
        cp => encoding_rs::Encoding::for_label(format!("windows-{cp}").as_bytes()).unwrap_or(encoding_rs::WINDOWS_1252),
    };
    enc.decode_without_bom_handling(value).0.trim().to_string()
}

/// PidTagAttachLongFilename from an attachment's MAPI property list (MS-OXTNEF 2.1.3.4), or
/// `None` when it is absent or the list holds a type this reader does not size.
fn long_filename(props: &[u8], codepage: u32, budget: &Budget) -> Result<Option<String>, FormatError> {
    let Some(count) = u32_at(props, 0) else { return Ok(None) };
    let mut at = 4usize;
    let pad = |n: usize| n.div_ceil(4) * 4;
    for _ in 0..count.min(10_000) {
        budget.check_time()?;
        let (Some(ptype), Some(pid)) = (u16_at(props, at), u16_at(props, at + 2)) else { return Ok(None) };
        at += 4;
        if pid >= 0x8000 {
            // A named property: GUID, kind, then a number or a UTF-16 name.
            let Some(kind) = u32_at(props, at + 16) else { return Ok(None) };
            at += 20;
            if kind == 0 {
                at += 4;
            } else {
                let Some(n) = u32_at(props, at) else { return Ok(None) };
                at = at.saturating_add(4).saturating_add(pad(n as usize));
            }
        }
        let multi = ptype & 0x1000 != 0;
        let base = ptype & 0x0FFF;
        let fixed = match base {
            0x0001 | 0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => Some(4),
            0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => Some(8),
            0x0048 => Some(16),
            0x001E | 0x001F | 0x0102 | 0x000D => None,
            _ => return Ok(None),
        };
        let values = if multi || fixed.is_none() {
            let Some(n) = u32_at(props, at) else { return Ok(None) };
            at += 4;
            n as usize
        } else {
            1
        };
        for _ in 0..values.min(100_000) {
            match fixed {
                Some(size) => at = at.saturating_add(size),
                None => {
                    let Some(len) = u32_at(props, at) else { return Ok(None) };
                    let start = at + 4;
                    let Some(v) = start.checked_add(len as usize).and_then(|e| props.get(start..e)) else {
                        return Ok(None);
                    };
                    if pid == PR_ATTACH_LONG_FILENAME && !multi {
                        let name = match base {
                            0x001F => {
                                let units: Vec<u16> =
                                    v.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                                String::from_utf16_lossy(&units).trim_end_matches('\0').trim().to_string()
                            }
                            _ => decode_8bit(v, codepage),
                        };
                        return Ok(Some(name).filter(|n| !n.is_empty()));
                    }
                    at = start.saturating_add(pad(len as usize));
                }
            }
            if at > props.len() {
                return Ok(None);
            }
        }
    }
    Ok(None)
}

/// Writes a TNEF stream (for the project's samples and tests): each attachment with its
/// rendering attribute, title, data and a property list holding its long name (Unicode).
pub fn write(attachments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = SIGNATURE.to_le_bytes().to_vec();
    out.extend_from_slice(&0x0001u16.to_le_bytes());
    let attr = |out: &mut Vec<u8>, level: u8, id: u32, value: &[u8]| {
        out.push(level);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
        let sum = value.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        out.extend_from_slice(&sum.to_le_bytes());
    };
    attr(&mut out, 0x01, 0x0008_9006, &0x0001_0000u32.to_le_bytes());
    attr(&mut out, 0x01, ATT_OEM_CODEPAGE, &[0xE4, 0x04, 0, 0, 0, 0, 0, 0]);
    for (name, data) in attachments {
        // AttachType 1 (file), then position and rendering fields left zero.
        attr(&mut out, LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, &[1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
        let short: String = name.chars().filter(char::is_ascii).collect();
        let mut title = short.into_bytes();
        title.push(0);
        attr(&mut out, LVL_ATTACHMENT, ATT_ATTACH_TITLE, &title);
        attr(&mut out, LVL_ATTACHMENT, ATT_ATTACH_DATA, data);
        let mut props = 2u32.to_le_bytes().to_vec();
        // PidTagAttachMethod (PT_LONG) = 1, then PidTagAttachLongFilename (PT_UNICODE).
        props.extend_from_slice(&[0x03, 0x00, 0x05, 0x37, 1, 0, 0, 0]);
        props.extend_from_slice(&[0x1F, 0x00, 0x07, 0x37, 1, 0, 0, 0]);
        let mut utf16: Vec<u8> = name.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect();
        props.extend_from_slice(&(utf16.len() as u32).to_le_bytes());
        while !utf16.len().is_multiple_of(4) {
            utf16.push(0);
        }
        props.extend_from_slice(&utf16);
        attr(&mut out, LVL_ATTACHMENT, ATT_ATTACHMENT, &props);
    }
    out
}

/// The reason an attachment without data is refused with.
pub const NO_DATA: (Reason, &str) = (Reason::Unsupported, "a TNEF attachment without file data (an attached message)");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn attachments_and_long_names_are_read_back() {
        let budget = Budget::new(&Config::default().limits);
        let tnef = write(&[("報告書.docx", b"PK data"), ("a.txt", b"text")]);
        let got = attachments(&tnef, &budget).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name.as_deref(), Some("報告書.docx"));
        assert_eq!(got[0].data.as_deref(), Some(&b"PK data"[..]));
        assert_eq!(got[1].name.as_deref(), Some("a.txt"));
    }

    #[test]
    fn damage_is_refused() {
        let budget = Budget::new(&Config::default().limits);
        let mut tnef = write(&[("a.txt", b"text")]);
        let n = tnef.len();
        tnef[n - 30] ^= 0x55;
        assert_eq!(attachments(&tnef, &budget).unwrap_err().reason, Reason::Malformed);
        assert!(attachments(&tnef[..n - 3], &budget).is_err());
        assert!(attachments(b"not tnef", &budget).is_err());
    }
}
