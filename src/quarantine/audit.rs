//! The audit log: one row per admin action (release, delete, purge, export, show) and per
//! retention purge, in the `audit` table of the index.
//!
//! Append-only twice over: SQLite triggers refuse every UPDATE and DELETE of the table, and each
//! row carries the SHA-256 of its own fields and of the row before it, so that a row changed or
//! removed by other means (editing the file) breaks the chain, which `mugai quarantine check`
//! verifies. Who: the OS user (uid and name) of the process. This module does not decide what
//! is logged: callers append inside the transaction of the action they log.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The OS user a process runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub uid: u32,
    pub name: String,
}

impl Actor {
    /// The effective user of this process, named from the password database (the uid alone
    /// when it has no entry).
    pub fn current() -> Actor {
        let uid = nix::unistd::geteuid();
        let name = nix::unistd::User::from_uid(uid).ok().flatten().map(|u| u.name).unwrap_or_else(|| uid.to_string());
        Actor { uid: uid.as_raw(), name }
    }

    /// `name (uid)`, as status changes record it.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.uid)
    }
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub uid: u32,
    pub user: String,
    /// What was done: `release`, `delete`, `purge`, `retention_purge`, `export`, `show`, `import`.
    pub action: String,
    /// The item it was done to, if one.
    pub item: Option<String>,
    /// `ok`, `refused`, `failed`, `partial`.
    pub result: String,
    pub detail: Option<String>,
    pub hash: String,
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev: &str,
    at: u64,
    uid: u32,
    user: &str,
    action: &str,
    item: Option<&str>,
    result: &str,
    detail: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    // Each field length-prefixed, so that no two different rows hash the same bytes.
    for field in [
        prev,
        &at.to_string(),
        &uid.to_string(),
        user,
        action,
        item.unwrap_or("\u{0}"),
        result,
        detail.unwrap_or("\u{0}"),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends one row. Call inside a write transaction (`BEGIN IMMEDIATE`), so that the previous
/// row read here is still the last one when this row is written.
pub fn append(
    conn: &Connection,
    at: u64,
    actor: &Actor,
    action: &str,
    item: Option<&str>,
    result: &str,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    let prev: String = conn
        .query_row("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string());
    let hash = row_hash(&prev, at, actor.uid, &actor.name, action, item, result, detail);
    conn.execute(
        "INSERT INTO audit (at, uid, user, action, item, result, detail, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![at as i64, actor.uid, actor.name, action, item, result, detail, prev, hash],
    )?;
    Ok(())
}

/// Rows held at or after `since`, oldest first.
pub fn entries(conn: &Connection, since: u64) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut st = conn.prepare(
        "SELECT seq, at, uid, user, action, item, result, detail, hash FROM audit WHERE at >= ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([since as i64], |r| {
        Ok(AuditEntry {
            seq: r.get(0)?,
            at: r.get::<_, i64>(1)?.max(0) as u64,
            uid: r.get(2)?,
            user: r.get(3)?,
            action: r.get(4)?,
            item: r.get(5)?,
            result: r.get(6)?,
            detail: r.get(7)?,
            hash: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// Walks the whole chain; returns the sequence numbers of rows whose hash or link is wrong.
pub fn verify(conn: &Connection) -> rusqlite::Result<(u64, Vec<i64>)> {
    let mut st =
        conn.prepare("SELECT seq, at, uid, user, action, item, result, detail, prev, hash FROM audit ORDER BY seq")?;
    let mut rows = st.query([])?;
    let mut expected_prev = GENESIS.to_string();
    let mut bad = Vec::new();
    let mut n = 0;
    while let Some(r) = rows.next()? {
        n += 1;
        let seq: i64 = r.get(0)?;
        let at: i64 = r.get(1)?;
        let uid: u32 = r.get(2)?;
        let user: String = r.get(3)?;
        let action: String = r.get(4)?;
        let item: Option<String> = r.get(5)?;
        let result: String = r.get(6)?;
        let detail: Option<String> = r.get(7)?;
        let prev: String = r.get(8)?;
        let hash: String = r.get(9)?;
        let again = row_hash(&prev, at.max(0) as u64, uid, &user, &action, item.as_deref(), &result, detail.as_deref());
        if prev != expected_prev || again != hash {
            bad.push(seq);
        }
        expected_prev = hash;
    }
    Ok((n, bad))
}
