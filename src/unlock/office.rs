//! Encrypted Office documents (ECMA-376 agile and standard encryption: a compound file holding
//! `EncryptionInfo` and `EncryptedPackage`), decrypted with the `office-crypto` crate into the
//! OOXML package (docx, xlsx, pptx and their macro-enabled kinds) it wraps.
//!
//! The crate derives the key and decrypts without checking the password against the file's
//! verifier, so a wrong password yields noise: the result counts only when it is an OOXML
//! package the engine's zip reader accepts, and is a wrong password otherwise. The crate's
//! own compound-file reader runs only on input detection already opened with `cfb` and found
//! both streams in, inside `catch_unwind`. Its output is never larger than the encrypted
//! stream, and is charged to the budget. Legacy binary encryption (RC4 in .doc, .xls, .ppt)
//! is not attempted.

use super::UnlockError;
use crate::detect;
use crate::engine::Budget;
use crate::model::{Family, Kind};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub(super) fn unlock(data: &[u8], password: &str, budget: &Budget) -> Result<Vec<u8>, UnlockError> {
    budget.charge_bytes(data.len() as u64)?;
    budget.check_time()?;
    let result = catch_unwind(AssertUnwindSafe(|| office_crypto::decrypt_from_bytes(data.to_vec(), password)))
        .map_err(|_| UnlockError::Malformed("the decryptor failed on this document".into()))?;
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
