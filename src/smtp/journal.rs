//! What was already handed to the next hop, remembered across restarts, so that a message the
//! client sends again is not delivered twice.
//!
//! The gap this closes: the next hop has taken a message (its 250 after the final dot), and
//! mugai stops (killed, crashed, restarted) before its own 250 reaches the client. The client
//! (Postfix) still holds the message and sends it again later. Without a record mugai would
//! disarm and relay it a second time. With one, each (message, sender, recipient) the next hop
//! accepted is recorded before mugai answers, and a message sent again to recipients already
//! recorded is answered 250 at once, without relaying.
//!
//! A record is one line, `<sha256 hex> <unix seconds>`, appended with one write to a file
//! opened for appending. It is not synced: the page cache survives the process being killed,
//! which is the case this is for; after a power loss the last records may be gone, and then a
//! message can arrive twice, never not at all.
//!
//! The key is the SHA-256 of the message's identity, the sender, one recipient and the message
//! bytes as received. The identity tells a message sent again from a new message that happens
//! to have the same bytes (a monitoring system mailing the same alert every hour must get every
//! one through): the client's queue id, which Postfix passes with XFORWARD IDENT and which the
//! same queued message keeps on every attempt. A Message-ID is not enough (devices that send
//! the same notice with a fixed one exist), so a message without a queue id is never taken for
//! one sent again. Records older than [`KEEP`] are dropped when the file is
//! opened (the file is then written anew, compacted): a client retries for days, not for weeks.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a record is kept: longer than Postfix's default maximal queue lifetime (5 days).
pub const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

/// The records of what the next hop accepted.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    seen: Mutex<HashMap<[u8; 32], u64>>,
}

/// The digest of the message bytes, computed once per message.
pub fn message_digest(message: &[u8]) -> [u8; 32] {
    Sha256::digest(message).into()
}

/// The key of one delivery: the message's identity (see the module documentation), sender,
/// recipient and message bytes.
pub fn key(message: &[u8; 32], identity: &str, from: &str, recipient: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(message);
    h.update(b"\0");
    h.update(identity.as_bytes());
    h.update(b"\0");
    h.update(from.as_bytes());
    h.update(b"\0");
    h.update(recipient.to_ascii_lowercase().as_bytes());
    h.finalize().into()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Journal {
    /// Opens (creating, owner-only) the journal at `path`, keeping the records younger than
    /// [`KEEP`]. A line that does not read (the end of a write cut by a crash) is skipped.
    pub fn open(path: &Path) -> io::Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let oldest = now().saturating_sub(KEEP.as_secs());
        let mut seen = HashMap::new();
        if let Ok(f) = File::open(path) {
            for line in io::BufReader::new(f).lines() {
                let line = line.unwrap_or_default();
                let mut parts = line.split(' ');
                let (Some(hex_key), Some(when)) = (parts.next(), parts.next()) else { continue };
                let (Ok(k), Ok(when)) = (hex::decode(hex_key), when.parse::<u64>()) else { continue };
                let Ok(k) = <[u8; 32]>::try_from(k.as_slice()) else { continue };
                if when >= oldest {
                    seen.insert(k, when);
                }
            }
        }
        // Written anew without the old records, then renamed over the old file.
        let tmp = path.with_extension("compacting");
        {
            let mut f = private(OpenOptions::new().write(true).create(true).truncate(true)).open(&tmp)?;
            let mut all: Vec<(&[u8; 32], &u64)> = seen.iter().collect();
            all.sort_by_key(|(_, when)| **when);
            let mut buf = String::with_capacity(all.len() * 76);
            for (k, when) in all {
                buf.push_str(&hex::encode(k));
                buf.push(' ');
                buf.push_str(&when.to_string());
                buf.push('\n');
            }
            f.write_all(buf.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        let file = private(OpenOptions::new().append(true).create(true)).open(path)?;
        Ok(Journal { path: path.to_path_buf(), file: Mutex::new(file), seen: Mutex::new(seen) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this delivery was recorded.
    pub fn contains(&self, key: &[u8; 32]) -> bool {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).contains_key(key)
    }

    /// Records deliveries the next hop accepted. The records are written before this returns.
    pub fn record(&self, keys: &[[u8; 32]]) -> io::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let when = now();
        let mut buf = String::with_capacity(keys.len() * 76);
        for k in keys {
            buf.push_str(&hex::encode(k));
            buf.push(' ');
            buf.push_str(&when.to_string());
            buf.push('\n');
        }
        // One write of whole lines to a file opened for appending.
        self.file.lock().unwrap_or_else(|p| p.into_inner()).write_all(buf.as_bytes())?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            seen.insert(*k, when);
        }
        Ok(())
    }
}

fn private(opts: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_reopen_and_old_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/delivered.journal");
        let m = message_digest(b"Subject: x\r\n\r\nbody\r\n");
        let (a, b) =
            (key(&m, "4XyZ1", "s@example.org", "a@example.org"), key(&m, "4XyZ1", "s@example.org", "B@example.org"));
        let j = Journal::open(&path).unwrap();
        assert!(!j.contains(&a));
        j.record(&[a]).unwrap();
        assert!(j.contains(&a) && !j.contains(&b));
        drop(j);
        // A cut last line and a record older than KEEP are dropped when the journal is opened.
        let old = now() - KEEP.as_secs() - 10;
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        writeln!(f, "{} {old}", hex::encode(b)).unwrap();
        write!(f, "{}", &hex::encode(b)[..20]).unwrap();
        drop(f);
        let j = Journal::open(&path).unwrap();
        assert!(j.contains(&a) && !j.contains(&b));
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 1);
        assert_eq!(key(&m, "4XyZ1", "s@example.org", "b@example.org"), b, "recipients compare ignoring case");
        assert_ne!(key(&m, "4XyZ1", "t@example.org", "a@example.org"), a);
        assert_ne!(key(&m, "4XyZ2", "s@example.org", "a@example.org"), a, "another queued message");
    }
}
