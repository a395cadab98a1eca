//! The retention purge: `mugai serve` removes items held longer than `[quarantine] retention`,
//! at start and then every hour, on a thread of its own. Each removed item is logged in the
//! audit log as `retention_purge`. A purge that fails is logged and tried again at the next
//! turn; it never stops the service. At start the same thread also runs the store's check once
//! and logs what it found (orphan originals after a crash, missing originals, a broken audit
//! chain), so that nothing odd goes unnoticed until an admin runs `mugai quarantine check`.

use super::{now, Quarantine};
use std::sync::Arc;
use std::time::Duration;

/// How often the service purges.
pub const INTERVAL: Duration = Duration::from_secs(3600);

/// One purge of items held longer than `retention`; returns how many were removed.
pub fn purge_once(q: &Quarantine, retention: Duration) -> Result<usize, super::QuarantineError> {
    q.purge_before(now().saturating_sub(retention.as_secs()), "retention_purge")
}

/// Logs what [`Quarantine::check`] finds.
pub fn log_check(q: &Quarantine) {
    match q.check() {
        Ok(r) if r.is_clean() => tracing::debug!(records = r.records, originals = r.blobs, "quarantine check: ok"),
        Ok(r) => tracing::warn!(
            orphan_originals = r.orphan_blobs.len(),
            missing_originals = r.missing_blobs.len(),
            unfinished_writes = r.temporary_files.len(),
            not_imported = r.legacy_left.len(),
            audit_entries_altered = r.audit_broken.len(),
            "quarantine check found problems: run `mugai quarantine check`"
        ),
        Err(e) => tracing::error!("quarantine check failed: {e}"),
    }
}

/// Starts the thread that checks the store once, then purges every `interval` when
/// `retention` is set.
pub fn spawn(q: Arc<Quarantine>, retention: Option<Duration>, interval: Duration) -> std::io::Result<()> {
    std::thread::Builder::new().name("mugai-retention".into()).spawn(move || {
        log_check(&q);
        let Some(retention) = retention else { return };
        loop {
            run_once(&q, retention);
            std::thread::sleep(interval);
        }
    })?;
    Ok(())
}

fn run_once(q: &Quarantine, retention: Duration) {
    match purge_once(q, retention) {
        Ok(0) => {}
        Ok(n) => tracing::info!(items = n, retention_days = retention.as_secs() / 86_400, "quarantine retention purge"),
        Err(e) => tracing::error!("quarantine retention purge failed: {e}"),
    }
}
