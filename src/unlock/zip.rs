//! Password zips: traditional PKWARE encryption (ZipCrypto) and WinZip AES (AE-1, AE-2; 128,
//! 192 and 256-bit keys), decrypted with the zip crate (pure RustCrypto primitives) and written
//! out again as a plain zip with the same entries.
//!
//! Each entry keeps its stored name bytes (a name Japanese Windows wrote in Shift_JIS stays in
//! Shift_JIS, and the engine's zip reader decodes it as it would have), its modification time
//! and its method (stored stays stored, the rest is deflated). Nothing else is carried over:
//! comments, extra fields, attributes and bytes outside the entries are left behind.
//!
//! Bounded: the entry count, each declared size, their sum and each entry's expansion ratio
//! are checked against the limits before anything is decrypted, and no entry is ever read past
//! its declared size, so a bomb behind a password is refused (or cut off) as it would be
//! without one. Refused: strong encryption (the PKWARE certificate scheme) and compression
//! methods other than stored and deflate.

use super::UnlockError;
use crate::engine::Budget;
use crate::formats::zipread;
use crate::model::Kind;
use std::io::{Cursor, Read, Write};
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

/// Declared sizes above this must respect `max_ratio` (as in the engine's zip reader).
const RATIO_FLOOR: u64 = 1024 * 1024;
/// How much is decrypted and inflated between two looks at the clock.
const PIECE: u64 = 4 * 1024 * 1024;

struct Meta {
    raw_name: Vec<u8>,
    shown: String,
    encrypted: bool,
    is_dir: bool,
    stored: bool,
    size: u64,
    modified: zip::DateTime,
}

/// Decrypts every encrypted entry of the zip in `data` with the first of `passwords` (the same
/// password in different encodings) that opens it, and writes a plain zip.
pub(super) fn unlock(data: &[u8], passwords: &[Vec<u8>], budget: &Budget) -> Result<Vec<u8>, UnlockError> {
    let limits = budget.limits();
    let mut archive = ZipArchive::new(Cursor::new(data)).map_err(|e| UnlockError::Malformed(format!("zip: {e}")))?;
    budget.charge_entries(archive.len() as u64)?;

    let mut metas = Vec::with_capacity(archive.len());
    let mut total = 0u64;
    for i in 0..archive.len() {
        if i % 1024 == 0 {
            budget.check_time()?;
        }
        let f = archive.by_index_data(i).map_err(|e| UnlockError::Malformed(format!("zip entry {i}: {e}")))?;
        let raw_name = f.name_raw().to_vec();
        let shown = zipread::decode_name(&raw_name).unwrap_or_else(|| String::from_utf8_lossy(&raw_name).into_owned());
        let size = f.size();
        if size > limits.max_entry_bytes {
            return Err(UnlockError::Limit(format!(
                "entry {shown:?} declares {size} bytes, limit {}",
                limits.max_entry_bytes
            )));
        }
        if size > RATIO_FLOOR && size > limits.max_ratio.saturating_mul(f.compressed_size().max(1)) {
            return Err(UnlockError::Limit(format!(
                "entry {shown:?} declares {size} bytes from {} compressed (limit {}x)",
                f.compressed_size(),
                limits.max_ratio
            )));
        }
        total = total.saturating_add(size);
        let stored = f.compression() == CompressionMethod::Stored;
        metas.push(Meta {
            encrypted: f.encrypted(),
            is_dir: f.is_dir(),
            stored,
            size,
            modified: f.last_modified().unwrap_or_default(),
            raw_name,
            shown,
        });
    }
    if total > limits.max_total_bytes {
        return Err(UnlockError::Limit(format!("entries declare {total} bytes, limit {}", limits.max_total_bytes)));
    }
    if !metas.iter().any(|m| m.encrypted) {
        return Err(UnlockError::NotEncrypted(Kind::Zip));
    }

    let werr = |e: &dyn std::fmt::Display| UnlockError::Malformed(format!("writing the zip: {e}"));
    let capacity = usize::try_from(total.min(data.len() as u64 * 2)).unwrap_or(0);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(capacity)));
    // The password (in the encoding that worked) once one entry has been decrypted and checked
    // (its CRC-32 or its authentication code): from then on a failure is damage, not a wrong
    // password.
    let mut proven: Option<usize> = None;
    for (i, m) in metas.iter().enumerate() {
        budget.check_time()?;
        let opts = zipread::deterministic_options()
            .last_modified_time(m.modified)
            .compression_method(if m.stored || m.is_dir {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            })
            .large_file(m.size >= u64::from(u32::MAX))
            .name(&m.raw_name);
        if m.is_dir {
            if m.size != 0 {
                return Err(UnlockError::Malformed(format!("folder entry {:?} holds data", m.shown)));
            }
            w.start_file_with_options(opts).map_err(|e| werr(&e))?;
            continue;
        }
        let bytes = if m.encrypted {
            let (bytes, which) = decrypt_entry(&mut archive, i, m, passwords, proven, budget)?;
            proven = Some(which);
            bytes
        } else {
            let f = archive.by_index(i).map_err(|e| zip_error(e, m))?;
            read_bounded(f, m, budget).map_err(|e| e.into_error(m, false))?
        };
        w.start_file_with_options(opts).map_err(|e| werr(&e))?;
        w.write_all(&bytes).map_err(|e| werr(&e))?;
    }
    Ok(w.finish().map_err(|e| werr(&e))?.into_inner())
}

/// Decrypts one entry, trying the proven password alone when there is one, else each in turn.
fn decrypt_entry(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    i: usize,
    m: &Meta,
    passwords: &[Vec<u8>],
    proven: Option<usize>,
    budget: &Budget,
) -> Result<(Vec<u8>, usize), UnlockError> {
    let candidates: Vec<usize> = match proven {
        Some(p) => vec![p],
        None => (0..passwords.len()).collect(),
    };
    let mut last = UnlockError::WrongPassword;
    for &c in &candidates {
        let Some(password) = passwords.get(c) else { continue };
        let f = match archive.by_index_decrypt(i, password) {
            Ok(f) => f,
            // The check byte (ZipCrypto) or the password verifier (AES) does not match.
            Err(ZipError::InvalidPassword) => continue,
            Err(e) => return Err(zip_error(e, m)),
        };
        match read_bounded(f, m, budget) {
            Ok(bytes) => return Ok((bytes, c)),
            // A wrong password passes ZipCrypto's one-byte check once in 256 times (and AES's
            // two-byte verifier once in 65536): the data then fails to inflate or fails its
            // check. Before any entry proved the password, that is the likely cause.
            Err(e) => {
                last = e.into_error(m, proven.is_none());
                if !matches!(last, UnlockError::WrongPassword) {
                    return Err(last);
                }
            }
        }
    }
    Err(last)
}

enum ReadFailure {
    /// The entry holds more than it declares.
    Overrun,
    /// Fewer bytes than declared, a broken deflate stream, a CRC-32 or authentication failure.
    Data(String),
    Limit(UnlockError),
}

impl ReadFailure {
    fn into_error(self, m: &Meta, maybe_password: bool) -> UnlockError {
        match self {
            ReadFailure::Overrun => {
                UnlockError::Limit(format!("entry {:?} expands beyond the {} bytes it declares", m.shown, m.size))
            }
            ReadFailure::Data(_) if maybe_password => UnlockError::WrongPassword,
            ReadFailure::Data(e) => UnlockError::Malformed(format!("entry {:?}: {e}", m.shown)),
            ReadFailure::Limit(e) => e,
        }
    }
}

/// Reads an entry a piece at a time, never past its declared size; the zip crate checks the
/// CRC-32 (and the AES authentication code) when the end is reached.
fn read_bounded(mut f: impl Read, m: &Meta, budget: &Budget) -> Result<Vec<u8>, ReadFailure> {
    budget.charge_bytes(m.size).map_err(|e| ReadFailure::Limit(e.into()))?;
    let mut out = Vec::new();
    out.try_reserve_exact(usize::try_from(m.size.min(PIECE)).unwrap_or(0))
        .map_err(|_| ReadFailure::Limit(UnlockError::Limit(format!("entry {:?} is too large", m.shown))))?;
    loop {
        budget.check_time().map_err(|e| ReadFailure::Limit(e.into()))?;
        let room = m.size.saturating_sub(out.len() as u64);
        // One byte more than the room: an entry that holds more than it declares is seen.
        let want = room.min(PIECE) + u64::from(room <= PIECE);
        let got = (&mut f).take(want).read_to_end(&mut out).map_err(read_failure)?;
        if out.len() as u64 > m.size {
            return Err(ReadFailure::Overrun);
        }
        if got == 0 || room <= PIECE {
            break;
        }
    }
    if (out.len() as u64) < m.size {
        return Err(ReadFailure::Data(format!("holds {} bytes, {} declared", out.len(), m.size)));
    }
    // Reading on to the end is what makes the crate compare the CRC-32 or the authentication
    // code: anything more is an overrun.
    let mut probe = [0u8; 1];
    match f.read(&mut probe) {
        Ok(0) => Ok(out),
        Ok(_) => Err(ReadFailure::Overrun),
        Err(e) => Err(read_failure(e)),
    }
}

/// The zip crate stops an entry one byte past its declared size with an error of its own (of
/// the same I/O kind as a CRC-32 failure, so only its text tells them apart).
fn read_failure(e: std::io::Error) -> ReadFailure {
    let text = e.to_string();
    if text.contains("larger than its declared") {
        ReadFailure::Overrun
    } else {
        ReadFailure::Data(text)
    }
}

fn zip_error(e: ZipError, m: &Meta) -> UnlockError {
    match e {
        ZipError::UnsupportedArchive(what) => {
            tracing::debug!(entry = %m.shown, "zip: {what}");
            UnlockError::Unsupported(Kind::Zip)
        }
        ZipError::InvalidPassword => UnlockError::WrongPassword,
        other => UnlockError::Malformed(format!("entry {:?}: {other}", m.shown)),
    }
}
