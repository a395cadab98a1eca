//! PowerPoint 97-2003 (.ppt, .pps, .pot): checked, not edited.
//!
//! A presentation keeps its VBA project and its embedded objects inside the `PowerPoint
//! Document` stream, as compressed `ExOleObjStg` records reached through the persist directory
//! (`VBAInfoAtom` points at the VBA one). Taking them out would mean rewriting the persist
//! directory and every user edit's offsets; mugai does not do that yet. So the record tree is
//! walked (bounded in depth and time) and a presentation is blocked as `unsupported` when it
//! holds any `ExOleObjStg`, a `VBAInfoAtom` that says it has macros, an embedded or linked object
//! (`ExEmbed`, `ExOleLink`), an ActiveX control (`ExControl`) or an action that runs a macro, a
//! program or an object verb (`InteractiveInfoAtom`). An encrypted one (`CryptSession10Container`
//! or an `EncryptedSummary` stream) is blocked as `encrypted`, one whose records run past their
//! container as `malformed`. A presentation with none of these is rebuilt as it is.

use super::Tree;
use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::Reason;

const EX_OLE_OBJ_STG: u16 = 0x1011;
const VBA_INFO_ATOM: u16 = 0x0400;
const EX_EMBED: u16 = 0x0FCC;
const EX_OLE_LINK: u16 = 0x0FCE;
const EX_CONTROL: u16 = 0x0FEE;
const INTERACTIVE_INFO_ATOM: u16 = 0x0FF3;
const CRYPT_SESSION: u16 = 0x2F14;

/// Deepest record nesting walked (real presentations nest a handful of levels).
const MAX_DEPTH: usize = 64;

pub(super) fn check(tree: &Tree, budget: &Budget) -> Result<(), FormatError> {
    if tree.root_stream("EncryptedSummary").is_some() {
        return Err(FormatError::new(Reason::Encrypted, "password-protected presentation (EncryptedSummary stream)"));
    }
    let doc = tree
        .root_stream("PowerPoint Document")
        .ok_or_else(|| FormatError::malformed("no PowerPoint Document stream"))?;
    scan(&doc.data, budget)
}

/// Walks the record tree of a `PowerPoint Document` stream.
pub(crate) fn scan(data: &[u8], budget: &Budget) -> Result<(), FormatError> {
    let unsupported = |what: &str| {
        Err(FormatError::new(
            Reason::Unsupported,
            format!("presentation with {what}: its records are not rewritten, so it is not rebuilt"),
        ))
    };
    // (position, end of the enclosing container, depth)
    let mut stack: Vec<(usize, usize, usize)> = vec![(0, data.len(), 0)];
    let mut seen = 0u64;
    while let Some((pos, end, depth)) = stack.pop() {
        if pos >= end {
            continue;
        }
        if end - pos < 8 {
            // A short tail at the top level is padding when it is all zero.
            if depth == 0 && data[pos..end].iter().all(|&b| b == 0) {
                continue;
            }
            return Err(FormatError::malformed(format!("PowerPoint record header cut short at {pos}")));
        }
        seen += 1;
        if seen.is_multiple_of(4096) {
            budget.check_time()?;
        }
        let ver_inst = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let rtype = u16::from_le_bytes([data[pos + 2], data[pos + 3]]);
        let len = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]) as usize;
        let body = pos + 8;
        if len > end - body {
            return Err(FormatError::malformed(format!(
                "PowerPoint record {rtype:#06x} at {pos} runs past its container"
            )));
        }
        let b = &data[body..body + len];
        match rtype {
            CRYPT_SESSION => {
                return Err(FormatError::new(
                    Reason::Encrypted,
                    "password-protected presentation (CryptSession10Container)",
                ))
            }
            EX_OLE_OBJ_STG => return unsupported("an embedded object or VBA project (ExOleObjStg)"),
            VBA_INFO_ATOM if b.len() >= 8 && b[4] & 1 != 0 => return unsupported("macros (VBAInfoAtom)"),
            EX_EMBED => return unsupported("an embedded object (ExEmbed)"),
            EX_OLE_LINK => return unsupported("a linked object (ExOleLink)"),
            EX_CONTROL => return unsupported("an ActiveX control (ExControl)"),
            INTERACTIVE_INFO_ATOM if b.len() >= 9 && matches!(b[8], 1 | 2 | 5) => {
                return unsupported("an action that runs a macro, program or object verb")
            }
            _ => {}
        }
        stack.push((body + len, end, depth));
        if ver_inst & 0x000F == 0x000F {
            if depth + 1 > MAX_DEPTH {
                return Err(FormatError::new(Reason::LimitNesting, "PowerPoint records nested too deeply"));
            }
            stack.push((body, body + len, depth + 1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn rec(ver_inst: u16, rtype: u16, body: &[u8]) -> Vec<u8> {
        let mut d = ver_inst.to_le_bytes().to_vec();
        d.extend_from_slice(&rtype.to_le_bytes());
        d.extend_from_slice(&(body.len() as u32).to_le_bytes());
        d.extend_from_slice(body);
        d
    }

    #[test]
    fn nested_objects_and_macros_are_found() {
        let budget = Budget::new(&Config::default().limits);
        let atom = rec(0, 0x0FA8, b"hello");
        let clean = rec(0x000F, 0x03E8, &atom);
        assert!(scan(&clean, &budget).is_ok());
        let stg = rec(0x000F, 0x03E8, &rec(0x0010, EX_OLE_OBJ_STG, &[0; 12]));
        assert_eq!(scan(&stg, &budget).unwrap_err().reason, Reason::Unsupported);
        let mut cut = clean.clone();
        cut.truncate(cut.len() - 2);
        assert_eq!(scan(&cut, &budget).unwrap_err().reason, Reason::Malformed);
        let crypt = rec(0x000F, CRYPT_SESSION, &[]);
        assert_eq!(scan(&crypt, &budget).unwrap_err().reason, Reason::Encrypted);
    }
}
