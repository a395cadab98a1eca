//! Release: an admin judged a held item safe, and it goes where it was going.
//!
//! A file item is written, decrypted, to the release folder under its own name made safe
//! ([`crate::names::safe_file_name`]), never over an existing file (` (2)` and so on is added).
//! The status becomes `released` and the audit log says who released it and where, in the same
//! transaction; an item already deleted is refused.

use super::{blobs, Quarantine, QuarantineError, Record};
use crate::names::safe_file_name;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Store(#[from] QuarantineError),
    #[error("release folder {path}: {source}", path = .path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// The name a released file gets: its own name made safe, else the item's short id.
pub fn release_name(record: &Record) -> String {
    match record.file_name.as_deref().map(safe_file_name) {
        Some(n) if !n.is_empty() => n,
        _ => format!("{}.bin", record.short_id()),
    }
}

/// Writes `data` (or the item's original when `None`) into `dir` under `name`, or a free
/// variant of it; returns the path.
pub fn write_new(
    q: &Quarantine,
    record: &Record,
    data: Option<&[u8]>,
    dir: &Path,
    name: &str,
) -> Result<PathBuf, ReleaseError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReleaseError::Io { path, source }
    };
    blobs::create_private_dir(dir).map_err(io(dir))?;
    let tmp = dir.join(format!(".{}.releasing", record.id));
    let _ = fs::remove_file(&tmp);
    let written = (|| -> Result<(), ReleaseError> {
        let mut f = blobs::create_private(&tmp).map_err(io(&tmp))?;
        match data {
            Some(d) => std::io::Write::write_all(&mut f, d).map_err(io(&tmp))?,
            None => {
                let mut w = std::io::BufWriter::new(&mut f);
                q.copy_original(record, &mut w)?;
                std::io::Write::flush(&mut w).map_err(io(&tmp))?;
            }
        }
        f.sync_all().map_err(io(&tmp))?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    let p = Path::new(name);
    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| name.to_string());
    let ext = p.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let mut n = 1;
    loop {
        let candidate = if n == 1 { dir.join(name) } else { dir.join(format!("{stem} ({n}){ext}")) };
        // A hard link is made only if the name is free: nothing is ever overwritten, also when
        // another release writes the same name at the same moment.
        match fs::hard_link(&tmp, &candidate) {
            Ok(()) => {
                let _ = fs::remove_file(&tmp);
                let _ = blobs::sync_dir(dir);
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(ReleaseError::Io { path: candidate, source: e });
            }
        }
    }
}

/// Releases a file item: its original into `dir`. Returns the updated record and the path.
pub fn release_file(q: &Quarantine, id: &str, dir: &Path) -> Result<(Record, PathBuf), ReleaseError> {
    let record = q.find(id)?;
    if record.status == super::Status::Deleted {
        q.log("release", Some(&record.id), "refused", Some("already deleted"))?;
        return Err(QuarantineError::Status {
            id: record.id,
            status: super::Status::Deleted,
            what: "its original was removed",
        }
        .into());
    }
    let path = write_new(q, &record, None, dir, &release_name(&record))?;
    let record = q.mark_released(&record.id, &format!("file written to {}", path.display()))?;
    Ok((record, path))
}
