//! The quarantine store: every blocked original, kept whole, with a record of why, for an admin
//! to review, release or delete.
//!
//! Layout under `[quarantine] dir` (owner-only: the folder 0700, files 0600):
//! - `blobs/<ab>/<name>`: each original once ([`blobs`]); encrypted at rest when
//!   `[quarantine] key_file` is set ([`crypto`]);
//! - `index.sqlite`: a record per held item and the audit log (the `index` submodule, and [`audit`]).
//!
//! Holding writes the blob first (synced and renamed into place), then the record in one
//! transaction, so a record always points to a whole blob; a crash in between leaves an orphan
//! blob, which [`Quarantine::check`] reports (it never deletes anything by itself). Records have
//! a random 128-bit id; admin actions on them (release, delete, purge) change their status
//! and append to the audit log in the same transaction.
//!
//! On open, the store refuses a folder owned by another user (files written by one user would
//! lock out the other: the service and the CLI must run as the same user) and imports what the
//! earlier folder format left (`<id>.bin` + `<id>.json`, the `legacy` submodule).

pub mod audit;
pub mod blobs;
pub mod crypto;
mod index;
mod legacy;
pub mod release;
pub mod retention;
pub mod table;
pub mod when;

pub use audit::{Actor, AuditEntry};
pub use blobs::BlobRef;
pub use crypto::Key;
pub use index::SCHEMA_VERSION;

use crate::config::QuarantineConfig;
use crate::model::{Action, Finding, Kind, Reason};
use blobs::{BlobError, Blobs};
use crypto::CryptoError;
use index::IndexError;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    #[error("quarantine {path}: {source}", path = .path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "quarantine folder {path} belongs to uid {owner}, and this process runs as uid {me}: run mugai as the \
         owner of the store (e.g. `sudo -u {owner_name} mugai ...`), so that the service and the CLI can both \
         read and write everything in it",
        path = .path.display()
    )]
    NotOwner { path: PathBuf, owner: u32, owner_name: String, me: u32 },
    #[error("quarantine folder {path} cannot be used: {why}; fix: {fix}", path = .path.display())]
    Unusable { path: PathBuf, why: String, fix: String },
    #[error("quarantine index {path}: {source}", path = .path.display())]
    Index { path: PathBuf, source: IndexError },
    #[error("quarantine blob: {0}")]
    Blob(#[from] BlobError),
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    #[error("no quarantined item has an id starting with `{0}`")]
    NotFound(String),
    #[error("`{prefix}` matches several items ({}): give more of the id", .ids.join(", "))]
    Ambiguous { prefix: String, ids: Vec<String> },
    #[error("item {id} is {status}: {what}")]
    Status { id: String, status: Status, what: &'static str },
    #[error("the original of {id} was removed while it was being held; hold it again")]
    Raced { id: String },
}

impl From<rusqlite::Error> for QuarantineError {
    fn from(e: rusqlite::Error) -> Self {
        QuarantineError::Index { path: PathBuf::from(INDEX_FILE), source: IndexError::Sql(e) }
    }
}

impl From<IndexError> for QuarantineError {
    fn from(e: IndexError) -> Self {
        QuarantineError::Index { path: PathBuf::from(INDEX_FILE), source: e }
    }
}

/// The index file's name inside the store.
pub const INDEX_FILE: &str = "index.sqlite";

/// Where a held item came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// A file given to `mugai sanitize`.
    Cli { path: String },
    /// A message received by the SMTP filter; the record's blob is the whole message.
    Smtp {
        /// The client's address and port.
        client: String,
        /// The envelope sender (empty for bounces).
        sender: String,
        recipients: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
        /// mugai's own queue id for the message (in its log line and reply).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue_id: Option<String>,
        /// The sending MTA's queue id (Postfix passes it with XFORWARD IDENT).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        upstream_id: Option<String>,
    },
    /// A file found in a watched drop folder.
    Dropfolder {
        path: String,
        /// The claim it was processed under: a repeat of the claim after a restart finds the
        /// record instead of holding the file twice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim: Option<String>,
    },
}

impl Source {
    /// `cli`, `smtp` or `dropfolder`: what `--source` filters on.
    pub fn type_name(&self) -> &'static str {
        match self {
            Source::Cli { .. } => "cli",
            Source::Smtp { .. } => "smtp",
            Source::Dropfolder { .. } => "dropfolder",
        }
    }

    pub const TYPES: [&'static str; 3] = ["cli", "smtp", "dropfolder"];

    /// One line for tables: the path, or the sender and first recipient.
    pub fn summary(&self) -> String {
        match self {
            Source::Cli { path } | Source::Dropfolder { path, .. } => path.clone(),
            Source::Smtp { sender, recipients, .. } => {
                let more = if recipients.len() > 1 { format!(" +{}", recipients.len() - 1) } else { String::new() };
                format!("<{sender}> -> {}{more}", recipients.first().map(String::as_str).unwrap_or("-"))
            }
        }
    }
}

/// What became of a held item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Held,
    Released,
    /// The original was removed; the record stays for the record.
    Deleted,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Held, Status::Released, Status::Deleted];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Released => "released",
            Status::Deleted => "deleted",
        }
    }

    pub fn from_name(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything known about a held item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// 32 hex digits (128 random bits); items imported from the folder format keep their id.
    pub id: String,
    /// Seconds since the Unix epoch.
    pub held_at: u64,
    pub source: Source,
    pub file_name: Option<String>,
    /// The true kind of the original.
    pub kind: Kind,
    pub reason: Reason,
    pub detail: Option<String>,
    /// What the engine removed or held back inside it.
    pub actions: Vec<Action>,
    pub findings: Vec<Finding>,
    pub size: u64,
    pub sha256: String,
    /// The blob file holding the original.
    pub blob: String,
    pub status: Status,
    /// When and by whom the status last changed.
    pub status_at: Option<u64>,
    pub status_by: Option<String>,
}

impl Record {
    /// The first 12 hex digits: what tables show (any unique prefix finds the item).
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }
}

/// What a caller knows about an original it holds.
#[derive(Debug, Clone)]
pub struct Held<'a> {
    pub source: Source,
    pub file_name: Option<&'a str>,
    pub kind: Kind,
    pub reason: Reason,
    pub detail: Option<&'a str>,
    pub actions: &'a [Action],
    pub findings: &'a [Finding],
}

impl<'a> Held<'a> {
    pub fn new(source: Source, kind: Kind, reason: Reason) -> Self {
        Held { source, file_name: None, kind, reason, detail: None, actions: &[], findings: &[] }
    }
}

/// Which records [`Quarantine::list`] returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Held at or after (seconds since the Unix epoch).
    pub since: Option<u64>,
    /// Held before.
    pub before: Option<u64>,
    pub reason: Option<Reason>,
    /// `cli`, `smtp` or `dropfolder`.
    pub source: Option<String>,
    pub status: Option<Status>,
    pub limit: Option<usize>,
}

/// What [`Quarantine::check`] found. Nothing is repaired or removed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    pub records: u64,
    pub blobs: u64,
    /// Blobs no record points to (a crash between blob and record, or a removal that did not
    /// finish).
    pub orphan_blobs: Vec<String>,
    /// Held or released records whose blob is gone: (id, blob).
    pub missing_blobs: Vec<(String, String)>,
    /// Temporary files of writes or removals that did not finish.
    pub temporary_files: Vec<PathBuf>,
    /// Files of the earlier folder format that could not be imported.
    pub legacy_left: Vec<PathBuf>,
    pub audit_rows: u64,
    /// Audit rows whose hash or link to the row before is wrong.
    pub audit_broken: Vec<i64>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.orphan_blobs.is_empty()
            && self.missing_blobs.is_empty()
            && self.temporary_files.is_empty()
            && self.legacy_left.is_empty()
            && self.audit_broken.is_empty()
    }
}

pub struct Quarantine {
    dir: PathBuf,
    blobs: Blobs,
    conn: Mutex<Connection>,
    actor: Actor,
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn new_id() -> Result<String, QuarantineError> {
    let mut b = [0u8; 16];
    crypto::random(&mut b)?;
    Ok(hex::encode(b))
}

impl Quarantine {
    /// Opens (creating if needed) a store without encryption.
    pub fn open(dir: &Path) -> Result<Self, QuarantineError> {
        Self::open_with(dir, None)
    }

    /// Opens the store `[quarantine]` describes, loading its key file if one is set.
    pub fn from_config(config: &QuarantineConfig) -> Result<Self, QuarantineError> {
        let key = match &config.key_file {
            Some(p) => Some(Key::load(p)?),
            None => None,
        };
        Self::open_with(&config.dir, key)
    }

    /// Opens (creating if needed) a store; with a key, new originals are encrypted and held ones
    /// are read with it.
    pub fn open_with(dir: &Path, key: Option<Key>) -> Result<Self, QuarantineError> {
        prepare_dir(dir)?;
        let blobs = Blobs::open(&dir.join("blobs"), key)?;
        let db = dir.join(INDEX_FILE);
        if !db.exists() {
            // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files
            // the same mode.
            match blobs::create_private(&db) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(unusable_io(dir, &db, source)),
            }
        }
        let conn = index::open(&db).map_err(|source| match source {
            IndexError::Sql(ref e) if is_access_error(e) => QuarantineError::Unusable {
                path: db.clone(),
                why: format!("{e}"),
                fix: format!("make {} and the files beside it readable and writable by this user", db.display()),
            },
            source => QuarantineError::Index { path: db.clone(), source },
        })?;
        let q = Quarantine { dir: dir.to_path_buf(), blobs, conn: Mutex::new(conn), actor: Actor::current() };
        legacy::import(&q)?;
        Ok(q)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What a hold of `record` through a [`Quarantine::deferring_sync`] handle leaves to be
    /// synced: the files (its blob, the index and its write-ahead log), and the folders they
    /// are in (the blob's, the store's).
    pub fn unsynced(&self, record: &Record) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let blob = self.blob_path(record);
        let folder = blob.parent().map(Path::to_path_buf).unwrap_or_else(|| self.dir.join("blobs"));
        let db = self.dir.join(INDEX_FILE);
        let mut wal = db.clone().into_os_string();
        wal.push("-wal");
        (vec![blob, db, PathBuf::from(wal)], vec![folder, self.dir.clone()])
    }

    /// A second handle on this store whose holds do not wait for the disk: blobs are written
    /// without syncing, and the index commits without syncing (SQLite `synchronous = NORMAL`,
    /// which in WAL mode never leaves the index corrupt). A hold made through it survives the
    /// process being killed at once, and a power cut once the caller has synced the file system
    /// the store is on ([`Quarantine::dir`]), as the drop folder's group commit does before it
    /// removes a claim: one sync for many holds instead of four for each.
    pub fn deferring_sync(&self) -> Result<Quarantine, QuarantineError> {
        let db = self.dir.join(INDEX_FILE);
        let index = |source| QuarantineError::Index { path: db.clone(), source };
        let conn = index::open(&db).map_err(index)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| index(e.into()))?;
        Ok(Quarantine {
            dir: self.dir.clone(),
            blobs: self.blobs.deferring_sync(),
            conn: Mutex::new(conn),
            actor: self.actor.clone(),
        })
    }

    pub fn encrypted(&self) -> bool {
        self.blobs.encrypted()
    }

    /// The OS user this process acts as in the audit log.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half transaction behind (SQLite rolls back
        // an unfinished one when the next begins), so the connection stays usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds `original`: blob first, then the record. Returns the record.
    pub fn hold(&self, original: &[u8], held: &Held<'_>) -> Result<Record, QuarantineError> {
        match self.hold_reader(&mut &original[..], held) {
            // The blob was removed by a purge between the write and the record: once more.
            Err(QuarantineError::Raced { .. }) => self.hold_reader(&mut &original[..], held),
            other => other,
        }
    }

    /// Like [`Quarantine::hold`], streaming the original from a reader (for inputs too large to
    /// load).
    pub fn hold_reader(&self, original: &mut dyn Read, held: &Held<'_>) -> Result<Record, QuarantineError> {
        let blob = self.put_blob(original)?;
        self.record_blob(&blob, held)
    }

    /// The first half of holding: writes the original as a blob and returns it, without a
    /// record. A blob left like this is an orphan that [`Quarantine::check`] reports.
    pub fn put_blob(&self, original: &mut dyn Read) -> Result<BlobRef, QuarantineError> {
        Ok(self.blobs.put(original)?)
    }

    /// The second half of holding: the record for a blob written by [`Quarantine::put_blob`].
    pub fn record_blob(&self, blob: &BlobRef, held: &Held<'_>) -> Result<Record, QuarantineError> {
        let record = Record {
            id: new_id()?,
            held_at: now(),
            source: held.source.clone(),
            file_name: held.file_name.map(str::to_owned),
            kind: held.kind,
            reason: held.reason,
            detail: held.detail.map(str::to_owned),
            actions: held.actions.to_vec(),
            findings: held.findings.to_vec(),
            size: blob.size,
            sha256: blob.sha256.clone(),
            blob: blob.name.clone(),
            status: Status::Held,
            status_at: None,
            status_by: None,
        };
        let conn = self.conn();
        let tx = Tx::begin(&conn)?;
        // Under the write lock no purge or delete can remove the blob any more; one that did
        // just before would have left the record pointing at nothing.
        if !self.blobs.exists(&blob.name) {
            return Err(QuarantineError::Raced { id: record.id });
        }
        index::insert(&conn, &record)?;
        tx.commit()?;
        Ok(record)
    }

    /// Records matching `filter`, newest first.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Record>, QuarantineError> {
        let mut sql = format!("SELECT {} FROM items WHERE 1=1", index::COLUMNS);
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(s) = filter.since {
            sql.push_str(" AND held_at >= ?");
            args.push((s as i64).into());
        }
        if let Some(b) = filter.before {
            sql.push_str(" AND held_at < ?");
            args.push((b as i64).into());
        }
        if let Some(r) = filter.reason {
            sql.push_str(" AND reason = ?");
            args.push(r.as_str().to_string().into());
        }
        if let Some(s) = &filter.source {
            sql.push_str(" AND source_type = ?");
            args.push(s.clone().into());
        }
        if let Some(s) = filter.status {
            sql.push_str(" AND status = ?");
            args.push(s.as_str().to_string().into());
        }
        sql.push_str(" ORDER BY held_at DESC, id");
        if let Some(l) = filter.limit {
            sql.push_str(&format!(" LIMIT {l}"));
        }
        let conn = self.conn();
        let mut st = conn.prepare_cached(&sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(index::from_row(row)?);
        }
        Ok(out)
    }

    /// The record whose id starts with `prefix` (at least 4 characters), if exactly one does;
    /// failing that, the one whose original's SHA-256 starts with it (the reference in mail
    /// notices).
    pub fn find(&self, prefix: &str) -> Result<Record, QuarantineError> {
        let conn = self.conn();
        find_in(&conn, prefix)
    }

    /// Writes the original of `record` to `out` (decrypted), checked against its SHA-256.
    pub fn copy_original(&self, record: &Record, out: &mut dyn Write) -> Result<u64, QuarantineError> {
        if record.status == Status::Deleted {
            return Err(QuarantineError::Status {
                id: record.id.clone(),
                status: record.status,
                what: "its original was removed",
            });
        }
        Ok(self.blobs.copy_to(&record.blob, &record.sha256, out)?)
    }

    /// The original of `record` in memory.
    pub fn read_original(&self, record: &Record) -> Result<Vec<u8>, QuarantineError> {
        let mut v = Vec::with_capacity(usize::try_from(record.size).unwrap_or(0).min(1 << 30));
        self.copy_original(record, &mut v)?;
        Ok(v)
    }

    /// The blob file of a record (for tests and the admin: encrypted when a key is set).
    pub fn blob_path(&self, record: &Record) -> PathBuf {
        self.blobs.path(&record.blob)
    }

    /// Appends a row to the audit log.
    pub fn log(
        &self,
        action: &str,
        item: Option<&str>,
        result: &str,
        detail: Option<&str>,
    ) -> Result<(), QuarantineError> {
        let conn = self.conn();
        let tx = Tx::begin(&conn)?;
        audit::append(&conn, now(), &self.actor, action, item, result, detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Audit rows at or after `since`, oldest first.
    pub fn audit(&self, since: u64) -> Result<Vec<AuditEntry>, QuarantineError> {
        Ok(audit::entries(&self.conn(), since)?)
    }

    /// Marks an item released (after its original was delivered or written out) and logs it.
    pub fn mark_released(&self, id: &str, detail: &str) -> Result<Record, QuarantineError> {
        self.change_status(id, Status::Released, "release", detail)
    }

    /// Removes the original of an item; the record stays, as deleted.
    pub fn delete(&self, id: &str) -> Result<Record, QuarantineError> {
        self.change_status(id, Status::Deleted, "delete", "")
    }

    fn change_status(&self, prefix: &str, to: Status, action: &str, detail: &str) -> Result<Record, QuarantineError> {
        let conn = self.conn();
        let tx = Tx::begin(&conn)?;
        let mut record = find_in(&conn, prefix)?;
        if record.status == Status::Deleted {
            let refused = format!("already deleted {detail}");
            audit::append(&conn, now(), &self.actor, action, Some(&record.id), "refused", Some(refused.trim()))?;
            tx.commit()?;
            return Err(QuarantineError::Status { id: record.id, status: Status::Deleted, what: "nothing left to do" });
        }
        let at = now();
        conn.execute(
            "UPDATE items SET status = ?1, status_at = ?2, status_by = ?3 WHERE id = ?4",
            params![to.as_str(), at as i64, self.actor.label(), record.id],
        )?;
        let detail = (!detail.is_empty()).then_some(detail);
        audit::append(&conn, at, &self.actor, action, Some(&record.id), "ok", detail)?;
        let trash = if to == Status::Deleted { self.unreferenced(&conn, &[record.blob.clone()])? } else { Vec::new() };
        let moved = self.move_to_trash(&trash)?;
        if let Err(e) = tx.commit() {
            self.restore_from_trash(&moved);
            return Err(e);
        }
        self.empty_trash(&moved);
        record.status = to;
        record.status_at = Some(at);
        record.status_by = Some(self.actor.label());
        Ok(record)
    }

    /// Removes every item held before `cutoff` (seconds since the epoch): its original and its
    /// record, each logged under `action` (`purge` by an admin, `retention_purge` by the
    /// service). Returns how many.
    pub fn purge_before(&self, cutoff: u64, action: &str) -> Result<usize, QuarantineError> {
        let conn = self.conn();
        let tx = Tx::begin(&conn)?;
        let mut st = conn.prepare("SELECT id, blob, sha256, status, reason FROM items WHERE held_at < ?1")?;
        let old: Vec<(String, String, String, String, String)> = st
            .query_map([cutoff as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<Result<_, _>>()?;
        drop(st);
        let at = now();
        let mut blobs = Vec::new();
        for (id, blob, sha, status, reason) in &old {
            conn.execute("DELETE FROM items WHERE id = ?1", [id])?;
            let detail = format!("held before {}; was {status}; {reason}; sha256 {sha}", when::format_time(cutoff));
            audit::append(&conn, at, &self.actor, action, Some(id), "ok", Some(&detail))?;
            blobs.push(blob.clone());
        }
        blobs.sort();
        blobs.dedup();
        let trash = self.unreferenced(&conn, &blobs)?;
        let moved = self.move_to_trash(&trash)?;
        if let Err(e) = tx.commit() {
            self.restore_from_trash(&moved);
            return Err(e);
        }
        self.empty_trash(&moved);
        Ok(old.len())
    }

    /// Of `blobs`, those no record still needing its original points to.
    fn unreferenced(&self, conn: &Connection, blobs: &[String]) -> Result<Vec<String>, QuarantineError> {
        let mut st = conn.prepare_cached("SELECT 1 FROM items WHERE blob = ?1 AND status != 'deleted' LIMIT 1")?;
        let mut out = Vec::new();
        for b in blobs {
            if st.query_row([b], |_| Ok(())).optional()?.is_none() {
                out.push(b.clone());
            }
        }
        Ok(out)
    }

    /// Blobs to remove are moved aside before the transaction commits (so a hold of the same
    /// content, waiting for the lock, finds them gone and writes them again) and unlinked
    /// after; a failed commit moves them back.
    fn move_to_trash(&self, names: &[String]) -> Result<Vec<(PathBuf, PathBuf)>, QuarantineError> {
        let mut moved = Vec::new();
        for n in names {
            let from = self.blobs.path(n);
            let to = self.dir.join("blobs").join("tmp").join(format!("{n}.removing"));
            match fs::rename(&from, &to) {
                Ok(()) => moved.push((from, to)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    self.restore_from_trash(&moved);
                    return Err(QuarantineError::Io { path: from, source });
                }
            }
        }
        Ok(moved)
    }

    fn restore_from_trash(&self, moved: &[(PathBuf, PathBuf)]) {
        for (from, to) in moved {
            let _ = fs::rename(to, from);
        }
    }

    fn empty_trash(&self, moved: &[(PathBuf, PathBuf)]) {
        for (_, to) in moved {
            if let Err(e) = fs::remove_file(to) {
                tracing::warn!(path = %to.display(), "cannot remove a deleted original: {e}");
            }
        }
    }

    /// Compares blobs and records and verifies the audit chain. Reports; never repairs.
    pub fn check(&self) -> Result<CheckReport, QuarantineError> {
        let conn = self.conn();
        // Read in one transaction: a consistent view while holds go on.
        conn.execute_batch("BEGIN")?;
        let result = (|| -> Result<CheckReport, QuarantineError> {
            let (names, temporary_files) = self.blobs.scan()?;
            let mut report = CheckReport { blobs: names.len() as u64, temporary_files, ..Default::default() };
            let mut st = conn.prepare("SELECT id, blob, status FROM items")?;
            let rows: Vec<(String, String, String)> =
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
            report.records = rows.len() as u64;
            let on_disk: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
            let mut referenced = std::collections::HashSet::new();
            for (id, blob, status) in &rows {
                if status == Status::Deleted.as_str() {
                    continue;
                }
                referenced.insert(blob.as_str());
                if !on_disk.contains(blob.as_str()) {
                    report.missing_blobs.push((id.clone(), blob.clone()));
                }
            }
            report.orphan_blobs = names.iter().filter(|n| !referenced.contains(n.as_str())).cloned().collect();
            let (n, bad) = audit::verify(&conn)?;
            report.audit_rows = n;
            report.audit_broken = bad;
            report.legacy_left = legacy::leftovers(&self.dir);
            Ok(report)
        })();
        let _ = conn.execute_batch("COMMIT");
        result
    }
}

fn find_in(conn: &Connection, prefix: &str) -> Result<Record, QuarantineError> {
    let p = prefix.trim();
    if p.len() < 4 || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(QuarantineError::NotFound(prefix.to_string()));
    }
    let mut found = Vec::new();
    // By id; else by the start of the original's SHA-256, which is the reference that mail
    // notices cite. (LIKE ignores ASCII case: ids of the folder format have capitals.)
    for column in ["id", "sha256"] {
        let sql =
            format!("SELECT {} FROM items WHERE {column} LIKE ?1 || '%' ORDER BY held_at DESC LIMIT 5", index::COLUMNS);
        let mut st = conn.prepare_cached(&sql)?;
        let mut rows = st.query([p])?;
        while let Some(r) = rows.next()? {
            found.push(index::from_row(r)?);
        }
        if !found.is_empty() {
            break;
        }
    }
    match found.len() {
        0 => Err(QuarantineError::NotFound(prefix.to_string())),
        1 => Ok(found.remove(0)),
        _ => Err(QuarantineError::Ambiguous {
            prefix: prefix.to_string(),
            ids: found.iter().map(|r| r.short_id().to_string()).collect(),
        }),
    }
}

/// A write transaction taken at once (`BEGIN IMMEDIATE`, waiting up to the busy timeout), rolled
/// back unless committed.
struct Tx<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> Tx<'c> {
    fn begin(conn: &'c Connection) -> Result<Self, QuarantineError> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Tx { conn, done: false })
    }

    fn commit(mut self) -> Result<(), QuarantineError> {
        self.done = true;
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn is_access_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::PermissionDenied)
    )
}

fn unusable_io(dir: &Path, path: &Path, source: std::io::Error) -> QuarantineError {
    if source.kind() == std::io::ErrorKind::PermissionDenied {
        QuarantineError::Unusable {
            path: path.to_path_buf(),
            why: source.to_string(),
            fix: format!("run mugai as the owner of {} (the user `mugai serve` runs as)", dir.display()),
        }
    } else {
        QuarantineError::Io { path: path.to_path_buf(), source }
    }
}

/// Creates the store folder owner-only, or checks an existing one: a folder, owned by this
/// user (tightened to 0700 if it was looser).
fn prepare_dir(dir: &Path) -> Result<(), QuarantineError> {
    let io = |source| QuarantineError::Io { path: dir.to_path_buf(), source };
    match fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            blobs::create_private_dir(dir).map_err(|e| unusable_io(dir, dir, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // create_dir_all's mode is masked by the umask; say it once more.
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
            }
            Ok(())
        }
        Err(e) => Err(unusable_io(dir, dir, e)),
        Ok(m) if !m.is_dir() => Err(QuarantineError::Unusable {
            path: dir.to_path_buf(),
            why: "it is not a folder".into(),
            fix: "set [quarantine] dir to a folder, or move the file away".into(),
        }),
        Ok(m) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::{MetadataExt, PermissionsExt};
                let me = nix::unistd::geteuid().as_raw();
                if m.uid() != me {
                    let owner_name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(m.uid()))
                        .ok()
                        .flatten()
                        .map(|u| u.name)
                        .unwrap_or_else(|| format!("#{}", m.uid()));
                    return Err(QuarantineError::NotOwner { path: dir.to_path_buf(), owner: m.uid(), owner_name, me });
                }
                if m.mode() & 0o077 != 0 {
                    tracing::warn!(dir = %dir.display(), mode = format!("{:04o}", m.mode() & 0o7777), "quarantine folder was open to others: made owner-only");
                    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
                }
            }
            Ok(())
        }
    }
}
