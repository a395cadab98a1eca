//! Password release: turns a password-protected file into the plain file of the same kind, which
//! the caller then sends through the engine like any other input (so what comes out of a
//! release is disarmed exactly as if it had arrived without a password). The engine calls it
//! too, for every item blocked as encrypted when it processes a release with a password
//! ([`crate::engine::Engine::process_with_password`]): that is how the password zip attached
//! to a held message is opened.
//!
//! Supported, in order of how often Japanese mail carries them:
//! - zip with traditional PKWARE encryption (ZipCrypto, the "PPAP" password zip) or WinZip AES
//!   (see the `zip` submodule); the output is a plain zip;
//! - 7z with AES-256 (the content, and the header when it is encrypted too), read with the
//!   same checks as the disarm; the output is a plain zip, as the engine rebuilds every 7z as a
//!   zip anyway;
//! - PDF with a user password (the standard security handler: RC4 or AES), loaded within the
//!   same limits as the disarm; the output is the same document written without encryption;
//! - Word, Excel and PowerPoint documents encrypted with a password (ECMA-376 agile and
//!   standard encryption, Office 2007 and later; see the `office` submodule); the output is
//!   the docx, xlsx or pptx (macro-enabled kinds stay so, for the engine to disarm).
//!
//! Everything else that can carry a password (RAR,
//! OpenDocument, legacy Word/Excel/PowerPoint encryption) is refused as [`UnlockError::Unsupported`], and a
//! file that opens without a password as [`UnlockError::NotEncrypted`]. Nothing here touches
//! files or the network, and every loop is bounded by the same [`Limits`] the engine uses, so
//! a bomb behind a password is stopped before it is inflated.

mod office;
mod zip;

use crate::config::Limits;
use crate::detect;
use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::{FailureClass, Kind, Reason};

/// Why a file could not be unlocked. Each variant has a stable name ([`UnlockError::as_str`])
/// for logs, the audit trail and the command line.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    /// The password does not open the file. A 7z keeps no password check, so a damaged
    /// encrypted 7z reads the same way.
    #[error("wrong password")]
    WrongPassword,
    #[error("not encrypted: this {0} file opens without a password")]
    NotEncrypted(Kind),
    #[error("mugai cannot decrypt this {0}")]
    Unsupported(Kind),
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("limit reached: {0}")]
    Limit(String),
}

impl UnlockError {
    /// The closed name of the failure.
    pub fn as_str(&self) -> &'static str {
        match self {
            UnlockError::WrongPassword => "wrong_password",
            UnlockError::NotEncrypted(_) => "not_encrypted",
            UnlockError::Unsupported(_) => "unsupported",
            UnlockError::Malformed(_) => "malformed",
            UnlockError::Limit(_) => "limit",
        }
    }
}

impl From<FormatError> for UnlockError {
    /// A budget or format failure met while decrypting: limits stay limits; anything else is a
    /// damaged file.
    fn from(e: FormatError) -> Self {
        match e.reason.class() {
            FailureClass::Limit | FailureClass::Timeout => UnlockError::Limit(e.detail),
            _ => UnlockError::Malformed(e.detail),
        }
    }
}

/// Unlocks `data` with `password` within the default limits (those of `config.toml` when it
/// sets none).
pub fn unlock(data: &[u8], password: &str) -> Result<Vec<u8>, UnlockError> {
    unlock_within(data, password, &crate::config::Config::default().limits)
}

/// Unlocks `data` with `password` within `limits` (`max_input_bytes`, `max_entries`,
/// `max_entry_bytes`, `max_total_bytes`, `max_ratio`, the time allowance, and for PDF the
/// object and stream limits).
pub fn unlock_within(data: &[u8], password: &str, limits: &Limits) -> Result<Vec<u8>, UnlockError> {
    unlock_in(data, password, &Budget::new(limits))
}

/// [`unlock_within`] charging an existing budget (the engine's, for an item inside a release).
/// A panic inside (a bug) is caught and reported as `malformed`, so it refuses the item
/// instead of taking the caller down.
pub fn unlock_in(data: &[u8], password: &str, budget: &Budget) -> Result<Vec<u8>, UnlockError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(data, password, budget))) {
        Ok(r) => r,
        Err(panic) => {
            let msg = crate::engine::panic_message(panic.as_ref());
            tracing::error!("unlock failed: {msg}");
            Err(UnlockError::Malformed(format!("decryption failed (internal error: {msg})")))
        }
    }
}

fn dispatch(data: &[u8], password: &str, budget: &Budget) -> Result<Vec<u8>, UnlockError> {
    let limits = budget.limits();
    if data.len() as u64 > limits.max_input_bytes {
        return Err(UnlockError::Limit(format!("{} bytes, limit {}", data.len(), limits.max_input_bytes)));
    }
    let detected = detect::detect(data, None, None, limits);
    match detected.kind {
        Kind::Zip => zip::unlock(data, &password_encodings(password), budget),
        Kind::SevenZip => seven_zip(data, password, budget),
        Kind::Pdf => pdf(data, password, budget),
        Kind::EncryptedOffice => office::unlock(data, password, budget),
        kind => Err(not_supported(kind, detected.refused.as_ref())),
    }
}

/// A 7z holds no password check: a wrong password shows as data that does not decode (or
/// fails its CRC), which is what it says unless a limit was reached.
fn seven_zip(data: &[u8], password: &str, budget: &Budget) -> Result<Vec<u8>, UnlockError> {
    use crate::formats::archive::sevenz::{decrypt_to_zip, Decrypted};
    match decrypt_to_zip(data, password, budget) {
        Ok(Decrypted::Zip(zip)) => Ok(zip),
        Ok(Decrypted::NotEncrypted) => Err(UnlockError::NotEncrypted(Kind::SevenZip)),
        Err(e) => Err(match e.reason.class() {
            FailureClass::Limit | FailureClass::Timeout => UnlockError::Limit(e.detail),
            FailureClass::Unsupported => UnlockError::Unsupported(Kind::SevenZip),
            _ => {
                tracing::debug!("7z with a password: {}", e.detail);
                UnlockError::WrongPassword
            }
        }),
    }
}

fn pdf(data: &[u8], password: &str, budget: &Budget) -> Result<Vec<u8>, UnlockError> {
    use crate::formats::pdf::{decrypt, Decrypted};
    match decrypt(data, password, budget) {
        Ok(Decrypted::Pdf(pdf)) => Ok(pdf),
        Ok(Decrypted::NotEncrypted) => Err(UnlockError::NotEncrypted(Kind::Pdf)),
        Err(e) => Err(match e.reason {
            Reason::Encrypted => UnlockError::WrongPassword,
            Reason::Unsupported => UnlockError::Unsupported(Kind::Pdf),
            _ => e.into(),
        }),
    }
}

/// The error for a kind mugai does not decrypt: unsupported when detection saw encryption
/// (or the kind is one that carries its own), else not encrypted.
fn not_supported(kind: Kind, refused: Option<&FormatError>) -> UnlockError {
    let encrypted = refused.is_some_and(|e| e.reason == Reason::Encrypted);
    // Legacy Word, Excel and PowerPoint files keep their encryption inside their own streams
    // (the disarm finds it); mugai does not decrypt those, whether or not this one is.
    if encrypted || matches!(kind, Kind::Rar | Kind::OdfOther | Kind::Doc | Kind::Xls | Kind::Ppt) {
        UnlockError::Unsupported(kind)
    } else {
        UnlockError::NotEncrypted(kind)
    }
}

/// The password as bytes, in UTF-8 and, when it has characters outside ASCII, also in
/// Shift_JIS: zip tools on Japanese Windows derive the key from the password in the system
/// code page, newer ones from UTF-8.
fn password_encodings(password: &str) -> Vec<Vec<u8>> {
    let mut out = vec![password.as_bytes().to_vec()];
    if !password.is_ascii() {
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(password);
        if !unmappable && sjis.as_ref() != password.as_bytes() {
            out.push(sjis.into_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests;
