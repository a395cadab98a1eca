//! The index: one SQLite file (`index.sqlite`) with a row per held item and the audit log.
//!
//! WAL mode and a busy timeout let the running service and the admin CLI (and several
//! `mugai sanitize` runs) write at once: writers queue for the lock instead of failing. The
//! schema is versioned with `PRAGMA user_version` and upgraded in one transaction on open; a
//! file made by a newer mugai is refused rather than guessed at.

use super::{Record, Source, Status};
use crate::model::{Kind, Reason};
use rusqlite::{params, Connection, OpenFlags, Row};
use std::path::Path;
use std::time::Duration;

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Each step upgrades the schema from the version before it (index 0: from 0 to 1).
const MIGRATIONS: [&str; 1] = [r#"
CREATE TABLE items (
    id          TEXT PRIMARY KEY,
    held_at     INTEGER NOT NULL,
    source_type TEXT NOT NULL,
    source      TEXT NOT NULL,
    file_name   TEXT,
    kind        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT,
    actions     TEXT NOT NULL,
    findings    TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    blob        TEXT NOT NULL,
    status      TEXT NOT NULL,
    status_at   INTEGER,
    status_by   TEXT
) WITHOUT ROWID;
CREATE INDEX items_held_at ON items (held_at);
CREATE INDEX items_blob ON items (blob);
CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    uid     INTEGER NOT NULL,
    user    TEXT NOT NULL,
    action  TEXT NOT NULL,
    item    TEXT,
    result  TEXT NOT NULL,
    detail  TEXT,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#];

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the index was written by a newer mugai (schema {found}, this one knows {SCHEMA_VERSION}): upgrade mugai")]
    Newer { found: i64 },
    #[error("record {id}: {what}")]
    Corrupt { id: String, what: String },
}

/// Opens (creating) the index and brings its schema up to date.
pub fn open(path: &Path) -> Result<Connection, IndexError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Long enough for a purge of many items by another process to finish.
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // In WAL mode NORMAL still never corrupts the file; FULL also makes each commit survive a
    // power cut, which the promise "nothing held is lost" needs.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&conn)?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<(), IndexError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(IndexError::Newer { found: version });
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let run = || -> Result<(), IndexError> {
        // Read again under the lock: another process may have upgraded it meanwhile.
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for step in version.max(0)..SCHEMA_VERSION {
            conn.execute_batch(MIGRATIONS[step as usize])?;
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(())
    };
    match run() {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

pub const COLUMNS: &str =
    "id, held_at, source, file_name, kind, reason, detail, actions, findings, size, sha256, blob, status, status_at, status_by";

/// The stored form of a record (enums by name, lists as JSON).
pub fn insert(conn: &Connection, r: &Record) -> Result<(), IndexError> {
    let json =
        |v: serde_json::Result<String>| v.map_err(|e| IndexError::Corrupt { id: r.id.clone(), what: e.to_string() });
    conn.execute(
        "INSERT INTO items (id, held_at, source_type, source, file_name, kind, reason, detail, actions, findings, size, sha256, blob, status, status_at, status_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            r.id,
            r.held_at as i64,
            r.source.type_name(),
            json(serde_json::to_string(&r.source))?,
            r.file_name,
            r.kind.as_str(),
            r.reason.as_str(),
            r.detail,
            json(serde_json::to_string(&r.actions))?,
            json(serde_json::to_string(&r.findings))?,
            r.size as i64,
            r.sha256,
            r.blob,
            r.status.as_str(),
            r.status_at.map(|t| t as i64),
            r.status_by,
        ],
    )?;
    Ok(())
}

/// A row selected with [`COLUMNS`].
pub fn from_row(row: &Row<'_>) -> Result<Record, IndexError> {
    let id: String = row.get(0)?;
    let bad = |what: String| IndexError::Corrupt { id: id.clone(), what };
    let source: String = row.get(2)?;
    let kind: String = row.get(4)?;
    let reason: String = row.get(5)?;
    let actions: String = row.get(7)?;
    let findings: String = row.get(8)?;
    let status: String = row.get(12)?;
    Ok(Record {
        held_at: row.get::<_, i64>(1)?.max(0) as u64,
        source: serde_json::from_str::<Source>(&source).map_err(|e| bad(format!("source: {e}")))?,
        file_name: row.get(3)?,
        kind: Kind::from_name(&kind).ok_or_else(|| bad(format!("unknown kind {kind}")))?,
        reason: serde_json::from_value::<Reason>(serde_json::Value::String(reason.clone()))
            .map_err(|_| bad(format!("unknown reason {reason}")))?,
        detail: row.get(6)?,
        actions: serde_json::from_str(&actions).map_err(|e| bad(format!("actions: {e}")))?,
        findings: serde_json::from_str(&findings).map_err(|e| bad(format!("findings: {e}")))?,
        size: row.get::<_, i64>(9)?.max(0) as u64,
        sha256: row.get(10)?,
        blob: row.get(11)?,
        status: Status::from_name(&status).ok_or_else(|| bad(format!("unknown status {status}")))?,
        status_at: row.get::<_, Option<i64>>(13)?.map(|t| t.max(0) as u64),
        status_by: row.get(14)?,
        id,
    })
}
