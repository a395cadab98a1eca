//! Word 97-2003 (.doc, .dot): the `Macros` storage (the VBA project) and every embedded object
//! in `ObjectPool` go.
//!
//! The File Information Block at the start of the `WordDocument` stream is read enough to refuse
//! what cannot be cleaned this way: encrypted or obfuscated documents (`fEncrypted`,
//! `fObfuscated`) are blocked as `encrypted`; Word 6/95 documents, whose WordBasic macros live
//! inside the document stream itself, as `unsupported`; a FIB that is too short, has the wrong
//! signature or names a table stream that does not exist, as `malformed`.
//!
//! Nothing in the FIB or the table stream points at the `Macros` storage, so the document stays
//! consistent without it. An object's place in the text keeps its preview picture (stored in the
//! `Data` stream, not in the object's storage): Word and LibreOffice show the picture, and there
//! is nothing left to activate.

use super::{display_path, object_action, remove_root_storages, Actions, Tree};
use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::{ActionKind, Reason};

/// `wIdent` of a Word 97 and later document.
const WORD97_IDENT: u16 = 0xA5EC;
/// `wIdent` of a Word 6/95 document.
const WORD6_IDENT: u16 = 0xA5DC;
/// The lowest `nFib` of Word 97 (earlier versions keep macros in the document stream).
const WORD97_NFIB: u16 = 0x00C0;

const F_ENCRYPTED: u16 = 0x0100;
const F_WHICH_TBL_STM: u16 = 0x0200;
const F_OBFUSCATED: u16 = 0x8000;

/// What the FIB says about the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fib {
    pub n_fib: u16,
    pub flags: u16,
}

impl Fib {
    pub fn parse(word: &[u8]) -> Result<Fib, FormatError> {
        if word.len() < 32 {
            return Err(FormatError::malformed(format!("WordDocument stream of {} bytes has no FIB", word.len())));
        }
        let u16_at = |o: usize| u16::from_le_bytes([word[o], word[o + 1]]);
        let ident = u16_at(0);
        let fib = Fib { n_fib: u16_at(2), flags: u16_at(0x0A) };
        if ident == WORD6_IDENT || (ident == WORD97_IDENT && fib.n_fib < WORD97_NFIB) {
            return Err(FormatError::new(
                Reason::Unsupported,
                "Word 6/95 document: its macros would live inside the document stream",
            ));
        }
        if ident != WORD97_IDENT {
            return Err(FormatError::malformed(format!("WordDocument stream: FIB signature {ident:#06x}")));
        }
        Ok(fib)
    }

    pub fn table_stream(&self) -> &'static str {
        if self.flags & F_WHICH_TBL_STM != 0 {
            "1Table"
        } else {
            "0Table"
        }
    }
}

pub(super) fn disarm(tree: &mut Tree, actions: &mut Actions, _budget: &Budget) -> Result<(), FormatError> {
    let word = tree.root_stream("WordDocument").ok_or_else(|| FormatError::malformed("no WordDocument stream"))?;
    let fib = Fib::parse(&word.data)?;
    if fib.flags & (F_ENCRYPTED | F_OBFUSCATED) != 0 {
        return Err(FormatError::new(Reason::Encrypted, "password-protected Word document (fEncrypted in the FIB)"));
    }
    if tree.root_stream(fib.table_stream()).is_none() {
        return Err(FormatError::malformed(format!("the FIB names a {} stream that is not there", fib.table_stream())));
    }
    remove_root_storages(tree, &["Macros"], ActionKind::RemovedVbaProject, actions);
    // Each object is a storage of its own under ObjectPool; the pool itself stays (empty), as
    // Word writes it for documents without objects too.
    let objects: Vec<Vec<String>> = tree
        .nodes
        .iter()
        .filter(|n| n.path.len() == 2 && n.path[0].eq_ignore_ascii_case("ObjectPool"))
        .map(|n| n.path.clone())
        .collect();
    for p in objects {
        let action = object_action(tree, &p);
        tree.remove(&p);
        actions.add(action, display_path(&p), "");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fib(ident: u16, n_fib: u16, flags: u16) -> Vec<u8> {
        let mut d = vec![0u8; 64];
        d[0..2].copy_from_slice(&ident.to_le_bytes());
        d[2..4].copy_from_slice(&n_fib.to_le_bytes());
        d[0x0A..0x0C].copy_from_slice(&flags.to_le_bytes());
        d
    }

    #[test]
    fn the_fib_tells_versions_and_table_streams_apart() {
        assert_eq!(Fib::parse(&fib(0xA5EC, 0xC1, 0x0200)).unwrap().table_stream(), "1Table");
        assert_eq!(Fib::parse(&fib(0xA5EC, 0x101, 0)).unwrap().table_stream(), "0Table");
        assert_eq!(Fib::parse(&fib(0xA5DC, 0x65, 0)).unwrap_err().reason, Reason::Unsupported);
        assert_eq!(Fib::parse(&fib(0x1234, 0xC1, 0)).unwrap_err().reason, Reason::Malformed);
        assert_eq!(Fib::parse(&[0xEC, 0xA5]).unwrap_err().reason, Reason::Malformed);
    }
}
