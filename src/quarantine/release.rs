//! Release: an admin judged a held item safe, and it goes where it was going.
//!
//! - A file item is written, decrypted, to the release folder under its own name made safe
//!   ([`crate::names::safe_file_name`]), never over an existing file (` (2)` and so on is
//!   added).
//! - A mail item (source `smtp`) is re-delivered as it was received, through the relay to
//!   `[smtp] next_hop` ([`crate::smtp::redeliver`]), to its original recipients or to the
//!   addresses given. It becomes `released` only when every recipient took it; otherwise it
//!   stays held, and the reply of each recipient is returned and logged.
//! - With a password, the original is decrypted wherever it is encrypted (the item itself, or
//!   a password zip inside a message: [`Engine::process_with_password`]) and disarmed like any
//!   input; only the clean result is released, and a result still blocked is refused with its
//!   reason.
//!
//! Every attempt is in the audit log: who, which item, where it went (the folder, or each
//! recipient with its reply), and the result (`ok`, `partial`, `refused`, `failed`). An item
//! already deleted is refused.

use super::{blobs, Quarantine, QuarantineError, Record, Source, Status};
use crate::config::Config;
use crate::engine::Engine;
use crate::model::{Item, Reason, Verdict};
use crate::names::safe_file_name;
use crate::smtp::redeliver::{redeliver, RedeliverError};
use crate::smtp::relay::Reply;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Store(#[from] QuarantineError),
    #[error("release folder {path}: {source}", path = .path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("still blocked after decryption and disarm: {reason}: {detail}; nothing was released")]
    StillBlocked { reason: Reason, detail: String },
    #[error("--to is for mail items; {id} is a file, released to the release folder")]
    ToForFile { id: String },
    #[error("re-delivery failed, nothing was delivered and the item stays held: {0}")]
    Redeliver(#[from] RedeliverError),
}

/// What an admin asks for.
#[derive(Debug, Clone, Default)]
pub struct ReleaseRequest<'a> {
    /// Mail: these recipients instead of the original ones.
    pub to: &'a [String],
    /// Decrypt with this password, disarm, and release the clean result.
    pub password: Option<&'a str>,
}

/// What a release did.
#[derive(Debug)]
pub enum Released {
    /// Written to the release folder.
    File { record: Record, path: PathBuf },
    /// Handed to the next hop; `record.status` is `released` only if every recipient took it.
    Mail { record: Record, replies: Vec<(String, Reply)> },
}

/// Releases one item (see the module documentation).
pub fn release(
    q: &Quarantine,
    engine: &Engine,
    config: &Config,
    id: &str,
    request: &ReleaseRequest<'_>,
) -> Result<Released, ReleaseError> {
    let record = q.find(id)?;
    if record.status == Status::Deleted {
        q.log("release", Some(&record.id), "refused", Some("already deleted"))?;
        return Err(QuarantineError::Status {
            id: record.id,
            status: Status::Deleted,
            what: "its original was removed",
        }
        .into());
    }
    let mail = match &record.source {
        Source::Smtp { sender, recipients, .. } => Some((sender.clone(), recipients.clone())),
        _ => None,
    };
    if mail.is_none() && !request.to.is_empty() {
        q.log("release", Some(&record.id), "refused", Some("--to given for a file item"))?;
        return Err(ReleaseError::ToForFile { id: record.id });
    }
    // With a password: decrypt and disarm, and release only a clean result.
    let clean = match request.password {
        None => None,
        Some(password) => {
            let data = q.read_original(&record)?;
            let item = Item {
                data,
                name: record.file_name.clone(),
                declared_type: mail.as_ref().map(|_| "message/rfc822".to_string()),
                path: record.file_name.clone().unwrap_or_else(|| "original".into()),
            };
            let outcome = engine.process_with_password(item, password);
            match (outcome.verdict, outcome.output) {
                (Verdict::Blocked, _) | (_, None) => {
                    let reason = outcome.reason.unwrap_or(Reason::InternalError);
                    let detail = outcome.detail.unwrap_or_default();
                    let why = format!("with a password: still blocked: {reason}: {detail}");
                    q.log("release", Some(&record.id), "refused", Some(&why))?;
                    return Err(ReleaseError::StillBlocked { reason, detail });
                }
                (_, Some(output)) => Some((output, outcome.output_name, outcome.actions.len())),
            }
        }
    };
    match mail {
        Some((sender, original_recipients)) => {
            let recipients = if request.to.is_empty() { original_recipients } else { request.to.to_vec() };
            let message = match &clean {
                Some((output, _, _)) => output.clone(),
                None => q.read_original(&record)?,
            };
            let what = if clean.is_some() { "decrypted and disarmed, " } else { "" };
            let replies = match redeliver(&config.smtp, &sender, &recipients, &message) {
                Ok(r) => r,
                Err(e) => {
                    let detail = format!("{what}re-delivery to {} failed: {e}", recipients.join(", "));
                    q.log("release", Some(&record.id), "failed", Some(&detail))?;
                    return Err(e.into());
                }
            };
            let each: Vec<String> =
                replies.iter().map(|(r, reply)| format!("{r}: {} {}", reply.code, reply.text)).collect();
            let detail = format!("{what}re-delivered from <{sender}> to {}", each.join("; "));
            let record = if replies.iter().all(|(_, r)| r.is_ok()) {
                q.mark_released(&record.id, &detail)?
            } else {
                q.log("release", Some(&record.id), "partial", Some(&detail))?;
                record
            };
            Ok(Released::Mail { record, replies })
        }
        None => {
            let dir = &config.quarantine.release_dir;
            let (path, detail) = match &clean {
                Some((output, name, actions)) => {
                    let name = name
                        .as_deref()
                        .map(safe_file_name)
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| release_name(&record));
                    let path = write_new(q, &record, Some(output), dir, &name)?;
                    let d = format!("decrypted and disarmed ({actions} actions), written to {}", path.display());
                    (path, d)
                }
                None => {
                    let path = write_new(q, &record, None, dir, &release_name(&record))?;
                    let d = format!("written to {}", path.display());
                    (path, d)
                }
            };
            let record = q.mark_released(&record.id, &detail)?;
            Ok(Released::File { record, path })
        }
    }
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
