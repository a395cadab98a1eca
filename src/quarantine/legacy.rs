//! Import of the earlier folder format: `<id>.bin` (the original) and `<id>.json` (its record)
//! side by side in the quarantine folder.
//!
//! Each pair becomes a blob and a record (keeping its id, so reports that cite it still find
//! it); the pair is removed only after its record is committed. Interrupted, the next open
//! picks up where it stopped: a record already there is not written twice, and a blob written
//! again is the same blob. A pair that cannot be read is left in place, logged, and reported by
//! `check`; nothing is removed that was not imported.

use super::{audit, blobs, index, now, Quarantine, QuarantineError, Record, Source, Status, Tx};
use crate::model::{Kind, Reason};
use rusqlite::OptionalExtension;
use serde::Deserialize;
use std::fs;
use std::path::{Path, PathBuf};

/// The record the folder format wrote.
#[derive(Deserialize)]
struct OldRecord {
    id: String,
    held_at: u64,
    source: String,
    file_name: Option<String>,
    kind: Kind,
    reason: Reason,
    detail: Option<String>,
}

/// `<id>.json` files at the top of the folder that have their `<id>.bin`.
fn pairs(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(PathBuf, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
        .map(|json| (json.with_extension("bin"), json))
        .filter(|(bin, _)| bin.is_file())
        .collect();
    out.sort();
    out
}

/// What is left of the folder format (pairs that could not be imported).
pub fn leftovers(dir: &Path) -> Vec<PathBuf> {
    pairs(dir).into_iter().map(|(_, json)| json).collect()
}

/// The source string the folder format wrote: `smtp <client> from <sender> to <a>,<b>` for
/// mail, a path otherwise.
fn parse_source(s: &str) -> Source {
    let smtp = (|| {
        let rest = s.strip_prefix("smtp ")?;
        let (client, rest) = rest.split_once(" from <")?;
        let (sender, rest) = rest.split_once("> to ")?;
        let recipients = rest.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect();
        Some(Source::Smtp {
            client: client.to_string(),
            sender: sender.to_string(),
            recipients,
            message_id: None,
            queue_id: None,
            upstream_id: None,
        })
    })();
    smtp.unwrap_or_else(|| Source::Cli { path: s.to_string() })
}

/// Imports every pair; returns how many were imported.
pub fn import(q: &Quarantine) -> Result<usize, QuarantineError> {
    let mut n = 0;
    for (bin, json) in pairs(&q.dir) {
        match import_one(q, &bin, &json) {
            Ok(()) => n += 1,
            Err(e) => {
                tracing::warn!(record = %json.display(), "cannot import a quarantined item of the folder format: {e}")
            }
        }
    }
    if n > 0 {
        tracing::info!(items = n, dir = %q.dir.display(), "imported quarantined items of the folder format");
    }
    Ok(n)
}

fn import_one(q: &Quarantine, bin: &Path, json: &Path) -> Result<(), QuarantineError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| QuarantineError::Io { path, source }
    };
    let text = fs::read(json).map_err(io(json))?;
    let old: OldRecord = serde_json::from_slice(&text).map_err(|e| QuarantineError::Io {
        path: json.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    let mut f = fs::File::open(bin).map_err(io(bin))?;
    let blob = q.put_blob(&mut f)?;
    let record = Record {
        id: old.id.clone(),
        held_at: old.held_at,
        source: parse_source(&old.source),
        file_name: old.file_name,
        kind: old.kind,
        reason: old.reason,
        detail: old.detail,
        actions: Vec::new(),
        findings: Vec::new(),
        size: blob.size,
        sha256: blob.sha256.clone(),
        blob: blob.name.clone(),
        status: Status::Held,
        status_at: None,
        status_by: None,
    };
    {
        let conn = q.conn();
        let tx = Tx::begin(&conn)?;
        let there = conn.query_row("SELECT 1 FROM items WHERE id = ?1", [&record.id], |_| Ok(())).optional()?;
        if there.is_none() {
            if !q.blobs.exists(&blob.name) {
                return Err(QuarantineError::Raced { id: record.id });
            }
            index::insert(&conn, &record)?;
            let detail = format!("from the folder format: {}", bin.display());
            audit::append(&conn, now(), &q.actor, "import", Some(&record.id), "ok", Some(&detail))?;
        }
        tx.commit()?;
    }
    // The record is committed: the pair can go (the record first, so an interrupted removal
    // leaves a lone .bin, which is not taken for a pair again).
    fs::remove_file(json).map_err(io(json))?;
    fs::remove_file(bin).map_err(io(bin))?;
    let _ = blobs::sync_dir(&q.dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_smtp_sources_become_structured() {
        match parse_source("smtp 127.0.0.1:5000 from <a@x> to b@y,c@z") {
            Source::Smtp { client, sender, recipients, .. } => {
                assert_eq!((client.as_str(), sender.as_str()), ("127.0.0.1:5000", "a@x"));
                assert_eq!(recipients, vec!["b@y".to_string(), "c@z".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_source("in/a.pdf"), Source::Cli { path: "in/a.pdf".into() });
    }
}
