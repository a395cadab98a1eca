//! Encrypted Office documents (ECMA-376 agile and standard encryption: a compound file holding
//! `EncryptionInfo` and `EncryptedPackage`), decrypted with the `office-crypto` crate into the
//! OOXML package (docx, xlsx, pptx and their macro-enabled kinds) it wraps.
//!
//! The crate derives the key and decrypts without checking the password against the file's
//! verifier, so a wrong password yields noise: the result counts only when it is an OOXML
//! package the engine's zip reader accepts, and is a wrong password otherwise. The crate's
//! own compound-file reader never sees the input: the two streams it needs are read with
//! `cfb` (the reader the rest of mugai uses) and put into a new compound file of their own
//! (and like every unlock it runs inside `catch_unwind`). Its output is never larger than the encrypted
//! stream, and is charged to the budget. Legacy binary encryption (RC4 in .doc, .xls, .ppt)
//! is not attempted.

use super::UnlockError;
use crate::detect;
use crate::engine::Budget;
use crate::model::{Family, Kind};
use std::io::{Cursor, Read, Write};

/// The two streams the decryption reads.
const STREAMS: [&str; 2] = ["EncryptionInfo", "EncryptedPackage"];

pub(super) fn unlock(data: &[u8], password: &str, budget: &Budget) -> Result<Vec<u8>, UnlockError> {
    budget.charge_bytes(data.len() as u64)?;
    budget.check_time()?;
    let clean = rewrap(data)?;
    budget.check_time()?;
    let result = office_crypto::decrypt_from_bytes(clean, password);
    budget.check_time()?;
    let plain = match result {
        Ok(p) => p,
        Err(office_crypto::DecryptError::Unimplemented(what)) => {
            tracing::debug!("encrypted Office document: {what}");
            return Err(UnlockError::Unsupported(Kind::EncryptedOffice));
        }
        Err(office_crypto::DecryptError::NotEncrypted) => return Err(UnlockError::NotEncrypted(Kind::EncryptedOffice)),
        Err(e) => return Err(UnlockError::Malformed(format!("encrypted Office document: {e}"))),
    };
    let found = detect::detect(&plain, None, None, budget.limits());
    if found.kind.family() == Family::Ooxml && found.refused.is_none() {
        Ok(plain)
    } else {
        Err(UnlockError::WrongPassword)
    }
}

/// `EncryptionInfo` and `EncryptedPackage` read from `data` and written into a new compound
/// file holding only them: nothing else of the input's structure reaches the decryptor. A
/// stream is never read past the input's own size.
fn rewrap(data: &[u8]) -> Result<Vec<u8>, UnlockError> {
    let bad = |e: std::io::Error| UnlockError::Malformed(format!("encrypted Office document: {e}"));
    let mut source = cfb::CompoundFile::open(Cursor::new(data)).map_err(bad)?;
    let mut out = cfb::CompoundFile::create(Cursor::new(Vec::with_capacity(data.len()))).map_err(bad)?;
    for name in STREAMS {
        let mut bytes = Vec::new();
        let stream = source.open_stream(format!("/{name}")).map_err(bad)?;
        stream.take(data.len() as u64).read_to_end(&mut bytes).map_err(bad)?;
        out.create_stream(format!("/{name}")).and_then(|mut s| s.write_all(&bytes)).map_err(bad)?;
    }
    out.flush().map_err(bad)?;
    Ok(out.into_inner().into_inner())
}
