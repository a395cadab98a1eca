//! Quarantine folder: blocked originals are copied here with a JSON record beside each, so that
//! nothing blocked is lost and an admin can see why it was held.
//!
//! Layout: `<dir>/<id>.bin` (the original bytes, unchanged) and `<dir>/<id>.json` (the record).
//! The id is the UTC time plus the start of the content's SHA-256, so listings sort by time and
//! the same content blocked twice is recognisable. The folder is created owner-only.

use crate::model::{Kind, Reason};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    #[error("quarantine folder {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("quarantine record: {0}")]
    Json(#[from] serde_json::Error),
}

/// What is known about a held item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// Seconds since the Unix epoch when it was held.
    pub held_at: u64,
    /// Where it came from (a path given to `sanitize`, later an SMTP envelope or drop folder).
    pub source: String,
    pub file_name: Option<String>,
    pub kind: Kind,
    pub reason: Reason,
    pub detail: Option<String>,
    pub size: u64,
    pub sha256: String,
}

pub struct Quarantine {
    dir: PathBuf,
}

impl Quarantine {
    /// Opens (creating if needed, owner-only) the quarantine folder.
    pub fn open(dir: &Path) -> Result<Self, QuarantineError> {
        let io = |source| QuarantineError::Io { path: dir.to_path_buf(), source };
        fs::create_dir_all(dir).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        Ok(Quarantine { dir: dir.to_path_buf() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores the original and its record; returns the record with its id filled in.
    pub fn hold(
        &self,
        original: &[u8],
        source: &str,
        file_name: Option<&str>,
        kind: Kind,
        reason: Reason,
        detail: Option<&str>,
    ) -> Result<Record, QuarantineError> {
        self.hold_reader(&mut &original[..], source, file_name, kind, reason, detail)
    }

    /// Like [`Quarantine::hold`], streaming the original from a reader (for inputs too large to
    /// load). The original is written and synced first, the record last and by rename, so a
    /// record never points to a missing original.
    pub fn hold_reader(
        &self,
        original: &mut dyn Read,
        source: &str,
        file_name: Option<&str>,
        kind: Kind,
        reason: Reason,
        detail: Option<&str>,
    ) -> Result<Record, QuarantineError> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let tmp = self.dir.join(format!(".incoming-{}-{:?}.tmp", std::process::id(), std::thread::current().id()));
        let io = |source| QuarantineError::Io { path: tmp.clone(), source };
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        {
            let mut f = Self::create_private(&tmp).map_err(io)?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = original.read(&mut buf).map_err(io)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                f.write_all(&buf[..n]).map_err(io)?;
                size += n as u64;
            }
            f.sync_all().map_err(io)?;
        }
        let sha256 = hex::encode(hasher.finalize());
        let base = format!("{}-{}", utc_stamp(now), &sha256[..16]);
        let mut id = base.clone();
        let mut n = 1;
        while self.dir.join(format!("{id}.json")).exists() || self.dir.join(format!("{id}.bin")).exists() {
            n += 1;
            id = format!("{base}-{n}");
        }
        let bin = self.dir.join(format!("{id}.bin"));
        fs::rename(&tmp, &bin).map_err(|source| QuarantineError::Io { path: bin.clone(), source })?;
        let record = Record {
            id: id.clone(),
            held_at: now,
            source: source.to_string(),
            file_name: file_name.map(str::to_owned),
            kind,
            reason,
            detail: detail.map(str::to_owned),
            size,
            sha256,
        };
        let json = serde_json::to_vec_pretty(&record)?;
        self.write_atomic(&format!("{id}.json"), &json)?;
        Ok(record)
    }

    fn create_private(path: &Path) -> std::io::Result<fs::File> {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(path)
    }

    fn write_atomic(&self, name: &str, data: &[u8]) -> Result<(), QuarantineError> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let io = |source| QuarantineError::Io { path: path.clone(), source };
        let mut f = Self::create_private(&tmp).map_err(io)?;
        f.write_all(data).map_err(io)?;
        f.sync_all().map_err(io)?;
        fs::rename(&tmp, &path).map_err(io)?;
        Ok(())
    }
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time.
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = crate::model::civil_from_days(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_is_utc_calendar_time() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(1_764_028_800), "20251125T000000Z");
    }

    #[test]
    fn held_item_has_original_and_record() {
        let dir = tempfile::tempdir().unwrap();
        let q = Quarantine::open(&dir.path().join("q")).unwrap();
        let r = q.hold(b"MZ", "in/a.pdf", Some("a.pdf"), Kind::Pe, Reason::Executable, None).unwrap();
        assert_eq!(fs::read(q.dir().join(format!("{}.bin", r.id))).unwrap(), b"MZ");
        let back: Record = serde_json::from_slice(&fs::read(q.dir().join(format!("{}.json", r.id))).unwrap()).unwrap();
        assert_eq!(back.reason, Reason::Executable);
        assert_eq!(back.sha256, crate::model::sha256_hex(b"MZ"));
        let again = q.hold(b"MZ", "in/a.pdf", Some("a.pdf"), Kind::Pe, Reason::Executable, None).unwrap();
        assert_ne!(again.id, r.id);
    }
}
