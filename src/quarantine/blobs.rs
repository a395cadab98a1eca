//! The blob folder: each held original once, in a file named after its content (see
//! [`super::crypto`] for the name of encrypted blobs), under a sub-folder named by the name's
//! first two hex digits so that no folder grows past a few thousand entries.
//!
//! A blob is written to `blobs/tmp/` first, synced, then renamed into place and the folder synced:
//! a blob name that exists always holds a whole blob. The same content written twice lands on
//! the same name (the rename replaces a whole blob by an equal one). This module never decides
//! whether a blob may be removed: the index does, from the records that point to it.

use super::crypto::{CryptoError, Key};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{path}: {source}", path = .path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("blob {name}: {source}")]
    Crypto { name: String, source: CryptoError },
    #[error(
        "blob {name} is encrypted and no key is configured: set [quarantine] key_file to the key it was written with"
    )]
    NoKey { name: String },
    #[error("blob {name} does not hold the original it should (SHA-256 {found}, expected {expected})")]
    Mismatch { name: String, found: String, expected: String },
}

/// A blob written into the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    /// The file name (content hash, or its keyed hash when encrypted).
    pub name: String,
    /// SHA-256 (hex) of the original.
    pub sha256: String,
    /// Bytes of the original.
    pub size: u64,
}

pub struct Blobs {
    root: PathBuf,
    key: Option<Key>,
    /// Whether a blob is synced (file and folder) before `put` returns; see
    /// [`super::Quarantine::deferring_sync`].
    durable: bool,
}

pub(crate) fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

pub(crate) fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// Makes a rename or removal in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// A writer that hashes what goes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Blobs {
    pub fn open(root: &Path, key: Option<Key>) -> Result<Blobs, BlobError> {
        let tmp = root.join("tmp");
        create_private_dir(&tmp).map_err(|source| BlobError::Io { path: tmp, source })?;
        Ok(Blobs { root: root.to_path_buf(), key, durable: true })
    }

    /// The same blobs, written without waiting for the disk.
    pub fn deferring_sync(&self) -> Blobs {
        Blobs { root: self.root.clone(), key: self.key.clone(), durable: false }
    }

    pub fn encrypted(&self) -> bool {
        self.key.is_some()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name.get(..2).unwrap_or("00")).join(name)
    }

    /// Writes a blob from `original` (streamed) and returns where it is.
    pub fn put(&self, original: &mut dyn Read) -> Result<BlobRef, BlobError> {
        let mut id = [0u8; 16];
        super::crypto::random(&mut id).map_err(|source| BlobError::Crypto { name: "new".into(), source })?;
        let tmp = self.root.join("tmp").join(format!("{}.tmp", hex::encode(id)));
        let result = self.write_tmp(&tmp, original);
        let (sha, size) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let name = match &self.key {
            Some(k) => k.blob_name(&sha),
            None => hex::encode(sha),
        };
        let path = self.path(&name);
        let io = |source| BlobError::Io { path: path.clone(), source };
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        create_private_dir(&dir).map_err(io)?;
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(io(e));
        }
        if self.durable {
            sync_dir(&dir).map_err(io)?;
        }
        Ok(BlobRef { name, sha256: hex::encode(sha), size })
    }

    fn write_tmp(&self, tmp: &Path, original: &mut dyn Read) -> Result<([u8; 32], u64), BlobError> {
        let io = |source| BlobError::Io { path: tmp.to_path_buf(), source };
        let file = create_private(tmp).map_err(io)?;
        let (file, read) = match &self.key {
            Some(k) => {
                let crypto = |source| BlobError::Crypto { name: tmp.display().to_string(), source };
                let mut sealer = k.sealer(std::io::BufWriter::new(file)).map_err(crypto)?;
                let read = pump(original, tmp, |b| sealer.write(b).map_err(crypto))?;
                (sealer.finish().map_err(crypto)?.into_inner().map_err(|e| io(e.into_error()))?, read)
            }
            None => {
                let mut file = file;
                let read = pump(original, tmp, |b| file.write_all(b).map_err(io))?;
                (file, read)
            }
        };
        if self.durable {
            file.sync_all().map_err(io)?;
        }
        Ok(read)
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).is_file()
    }

    /// Writes the original held in blob `name` to `out`, checking it against `sha256`. On a
    /// mismatch part of it may have been written: callers write to a temporary place.
    pub fn copy_to(&self, name: &str, sha256: &str, out: &mut dyn Write) -> Result<u64, BlobError> {
        let path = self.path(name);
        let io = |source| BlobError::Io { path: path.clone(), source };
        let mut file = std::io::BufReader::new(fs::File::open(&path).map_err(io)?);
        let mut sink = Hashing { inner: out, hasher: Sha256::new(), size: 0 };
        // A blob named by its content's hash was stored in the clear, any other name is sealed:
        // so originals held before a key was configured stay readable after.
        if name == sha256 {
            std::io::copy(&mut file, &mut sink).map_err(io)?;
        } else {
            let key = self.key.as_ref().ok_or_else(|| BlobError::NoKey { name: name.to_string() })?;
            key.open_to(&mut file, &mut sink).map_err(|source| BlobError::Crypto { name: name.to_string(), source })?;
        }
        let found = hex::encode(sink.hasher.finalize());
        if found != sha256 {
            return Err(BlobError::Mismatch { name: name.to_string(), found, expected: sha256.to_string() });
        }
        Ok(sink.size)
    }

    /// Removes a blob (already gone is fine).
    pub fn remove(&self, name: &str) -> Result<(), BlobError> {
        let path = self.path(name);
        match fs::remove_file(&path) {
            Ok(()) => {
                let _ = sync_dir(path.parent().unwrap_or(&self.root));
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(BlobError::Io { path, source }),
        }
    }

    /// Every blob name on disk, and temporary files left by writes that did not finish.
    pub fn scan(&self) -> Result<(Vec<String>, Vec<PathBuf>), BlobError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BlobError::Io { path, source }
        };
        let mut names = Vec::new();
        let mut temporary = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(io(&self.root))? {
            let entry = entry.map_err(io(&self.root))?;
            let sub = entry.path();
            if !entry.file_type().map_err(io(&sub))?.is_dir() {
                continue;
            }
            let is_tmp = entry.file_name() == "tmp";
            for f in fs::read_dir(&sub).map_err(io(&sub))? {
                let f = f.map_err(io(&sub))?;
                if is_tmp {
                    temporary.push(f.path());
                } else if let Some(n) = f.file_name().to_str() {
                    names.push(n.to_string());
                }
            }
        }
        names.sort();
        Ok((names, temporary))
    }
}

/// Reads `original` to its end in blocks, handing each to `write`: its SHA-256 and size.
fn pump(
    original: &mut dyn Read,
    tmp: &Path,
    mut write: impl FnMut(&[u8]) -> Result<(), BlobError>,
) -> Result<([u8; 32], u64), BlobError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let n = read_some(original, &mut buf).map_err(|source| BlobError::Io { path: tmp.to_path_buf(), source })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
        write(&buf[..n])?;
    }
    Ok((hasher.finalize().into(), size))
}

fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}
