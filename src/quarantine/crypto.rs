//! Encryption at rest of held originals: the key file, and sealing and opening blobs.
//!
//! The key file holds 32 random bytes as 64 hex digits and must be readable by its owner only.
//! Two keys are derived from it with HMAC-SHA-256 under fixed labels: one seals blobs
//! (XChaCha20-Poly1305 in the STREAM construction, 64 KiB chunks, a random nonce prefix per blob,
//! so an original of any size is sealed as it streams in and a truncated, reordered or altered
//! file fails to open), the other names them.
//!
//! Names: an unencrypted blob is named by the SHA-256 of its content, which is what makes the
//! store content-addressed. With a key, the name is HMAC(name key, SHA-256) instead: still one
//! name per content (so the same original held twice is stored once), but whoever can list the
//! blob folder (a backup, a copy) cannot test whether a given file is held by hashing it. A blob
//! whose name is its content hash was stored in the clear (held before a key was set) and is
//! read as it is.
//!
//! This module refuses a key file that is missing, readable by group or others, or not 64 hex
//! digits. It does not encrypt the index: the metadata (senders, file names, hashes) is protected
//! by the owner-only permissions of the store.

use aead_stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::XChaCha20Poly1305;
use hmac::{Hmac, KeyInit as _, Mac};
use sha2::Sha256;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Plaintext bytes per sealed chunk.
const CHUNK: usize = 64 * 1024;
/// Poly1305 tag per chunk.
const TAG: usize = 16;
/// The first bytes of every encrypted blob: format and version.
pub const MAGIC: &[u8; 8] = b"MUGAIQE1";
/// XChaCha20 nonce (24) minus the STREAM counter and last-chunk flag (5).
const NONCE_PREFIX: usize = 19;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "quarantine key file {path}: {source} (create one with `mugai quarantine keygen --out {path}`)",
        path = .path.display()
    )]
    Read { path: PathBuf, source: std::io::Error },
    #[error("quarantine key file {path} is readable by others (mode {mode:04o}): run `chmod 600 {path}`", path = .path.display())]
    Permissions { path: PathBuf, mode: u32 },
    #[error("quarantine key file {path}: expected 64 hex digits (32 bytes)", path = .path.display())]
    Format { path: PathBuf },
    #[error("{path} already exists: a key is never overwritten (the originals it sealed would be lost)", path = .path.display())]
    Exists { path: PathBuf },
    #[error("writing the key file {path}: {source}", path = .path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
    #[error("the blob is not an encrypted quarantine blob, or was encrypted with another key, or is damaged")]
    Open,
    #[error("reading or writing a blob: {0}")]
    Io(#[from] std::io::Error),
}

/// The keys derived from a key file.
#[derive(Clone)]
pub struct Key {
    seal: [u8; 32],
    name: [u8; 32],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so new_from_slice cannot fail here.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|e| CryptoError::Random(e.to_string()))
}

impl Key {
    fn from_master(master: &[u8; 32]) -> Key {
        Key {
            seal: hmac(master, b"mugai quarantine: blob sealing v1"),
            name: hmac(master, b"mugai quarantine: blob names v1"),
        }
    }

    /// Reads and checks a key file.
    pub fn load(path: &Path) -> Result<Key, CryptoError> {
        let meta = fs::metadata(path).map_err(|source| CryptoError::Read { path: path.to_path_buf(), source })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(CryptoError::Permissions { path: path.to_path_buf(), mode });
            }
        }
        let text = fs::read_to_string(path).map_err(|source| CryptoError::Read { path: path.to_path_buf(), source })?;
        let bytes = hex::decode(text.trim()).map_err(|_| CryptoError::Format { path: path.to_path_buf() })?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Format { path: path.to_path_buf() })?;
        Ok(Key::from_master(&master))
    }

    /// Writes a new random key to `path`, owner-only; never replaces an existing file.
    pub fn generate(path: &Path) -> Result<(), CryptoError> {
        let mut master = [0u8; 32];
        random(&mut master)?;
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let write_err = |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                CryptoError::Exists { path: path.to_path_buf() }
            } else {
                CryptoError::Write { path: path.to_path_buf(), source }
            }
        };
        let mut f = opts.open(path).map_err(write_err)?;
        f.write_all(format!("{}\n", hex::encode(master)).as_bytes()).map_err(write_err)?;
        f.sync_all().map_err(write_err)?;
        Ok(())
    }

    /// The file name of the blob whose plaintext has this SHA-256.
    pub fn blob_name(&self, sha256: &[u8; 32]) -> String {
        hex::encode(hmac(&self.name, sha256))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        <XChaCha20Poly1305 as chacha20poly1305::KeyInit>::new(&self.seal.into())
    }

    /// A sealer for one new blob: writes the header at once, then sealed chunks as data comes.
    pub fn sealer<W: Write>(&self, mut out: W) -> Result<Sealer<W>, CryptoError> {
        let mut prefix = [0u8; NONCE_PREFIX];
        random(&mut prefix)?;
        out.write_all(MAGIC)?;
        out.write_all(&prefix)?;
        let enc = EncryptorBE32::from_aead(self.cipher(), &prefix.into());
        Ok(Sealer { enc: Some(enc), out, pending: Vec::with_capacity(CHUNK) })
    }

    /// Opens a sealed blob from `input`, writing the plaintext to `out`. Fails (after writing
    /// what did verify) on any damage; callers write to a temporary place and discard it then.
    pub fn open_to(&self, input: &mut dyn Read, out: &mut dyn Write) -> Result<u64, CryptoError> {
        let mut head = [0u8; 8 + NONCE_PREFIX];
        if read_full(input, &mut head)? != head.len() || &head[..8] != MAGIC {
            return Err(CryptoError::Open);
        }
        let prefix: [u8; NONCE_PREFIX] = head[8..].try_into().map_err(|_| CryptoError::Open)?;
        let mut dec = DecryptorBE32::from_aead(self.cipher(), &prefix.into());
        // One chunk read ahead: the last chunk is the one followed by the end of the file.
        let mut cur = vec![0u8; CHUNK + TAG];
        let mut next = vec![0u8; CHUNK + TAG];
        let mut cur_len = read_full(input, &mut cur)?;
        let mut total = 0u64;
        loop {
            let next_len = if cur_len == cur.len() { read_full(input, &mut next)? } else { 0 };
            if next_len == 0 {
                if cur_len < TAG {
                    return Err(CryptoError::Open);
                }
                let plain = dec.decrypt_last(&cur[..cur_len]).map_err(|_| CryptoError::Open)?;
                out.write_all(&plain)?;
                return Ok(total + plain.len() as u64);
            }
            let plain = dec.decrypt_next(&cur[..cur_len]).map_err(|_| CryptoError::Open)?;
            out.write_all(&plain)?;
            total += plain.len() as u64;
            std::mem::swap(&mut cur, &mut next);
            cur_len = next_len;
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_full(input: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Seals one blob as it is written.
pub struct Sealer<W: Write> {
    enc: Option<EncryptorBE32<XChaCha20Poly1305>>,
    out: W,
    pending: Vec<u8>,
}

impl<W: Write> Sealer<W> {
    pub fn write(&mut self, mut data: &[u8]) -> Result<(), CryptoError> {
        while !data.is_empty() {
            // A full chunk is sealed only once more data follows: the last chunk (sealed in
            // `finish`, possibly empty) carries the end-of-stream flag.
            if self.pending.len() == CHUNK {
                let enc = self.enc.as_mut().ok_or(CryptoError::Open)?;
                let sealed = enc.encrypt_next(&self.pending[..]).map_err(|_| CryptoError::Open)?;
                self.out.write_all(&sealed)?;
                self.pending.clear();
            }
            let take = (CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    /// Seals the last chunk and hands back the writer.
    pub fn finish(mut self) -> Result<W, CryptoError> {
        let enc = self.enc.take().ok_or(CryptoError::Open)?;
        let sealed = enc.encrypt_last(&self.pending[..]).map_err(|_| CryptoError::Open)?;
        self.out.write_all(&sealed)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::from_master(&[7u8; 32])
    }

    fn roundtrip(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut s = key().sealer(Vec::new()).unwrap();
        for piece in data.chunks(10_000) {
            s.write(piece).unwrap();
        }
        let sealed = s.finish().unwrap();
        let mut plain = Vec::new();
        key().open_to(&mut &sealed[..], &mut plain).unwrap();
        (sealed, plain)
    }

    #[test]
    fn sealed_blobs_open_to_their_plaintext_at_chunk_edges() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let (sealed, plain) = roundtrip(&data);
            assert_eq!(plain, data, "length {len}");
            assert_eq!(sealed.len(), 8 + NONCE_PREFIX + data.len() + TAG * (1 + len.saturating_sub(1) / CHUNK));
        }
    }

    #[test]
    fn damaged_truncated_or_foreign_blobs_do_not_open() {
        let data = vec![42u8; 2 * CHUNK + 10];
        let (sealed, _) = roundtrip(&data);
        let mut flipped = sealed.clone();
        flipped[100] ^= 1;
        let cut = &sealed[..8 + NONCE_PREFIX + CHUNK + TAG];
        let other = Key::from_master(&[8u8; 32]);
        for (what, bytes, k) in
            [("flipped", &flipped[..], key()), ("cut", cut, key()), ("other key", &sealed[..], other)]
        {
            let mut out = Vec::new();
            assert!(matches!(k.open_to(&mut &bytes[..], &mut out), Err(CryptoError::Open)), "{what}");
        }
    }

    #[test]
    fn names_are_keyed() {
        let sha = [1u8; 32];
        assert_ne!(key().blob_name(&sha), hex::encode(sha));
        assert_ne!(key().blob_name(&sha), Key::from_master(&[8u8; 32]).blob_name(&sha));
    }
}
