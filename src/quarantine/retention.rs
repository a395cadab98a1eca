//! The retention purge: `mugai serve` removes items held longer than `[quarantine] retention`,
//! at start and then every hour, on a thread of its own. Each removed item is logged in the
//! audit log as `retention_purge`. A purge that fails is logged and tried again at the next
//! turn; it never stops the service.

use super::{now, Quarantine};
use std::sync::Arc;
use std::time::Duration;

/// How often the service purges.
pub const INTERVAL: Duration = Duration::from_secs(3600);

/// One purge of items held longer than `retention`; returns how many were removed.
pub fn purge_once(q: &Quarantine, retention: Duration) -> Result<usize, super::QuarantineError> {
    q.purge_before(now().saturating_sub(retention.as_secs()), "retention_purge")
}

/// Starts the thread that purges every `interval`.
pub fn spawn(q: Arc<Quarantine>, retention: Duration, interval: Duration) -> std::io::Result<()> {
    std::thread::Builder::new().name("mugai-retention".into()).spawn(move || loop {
        match purge_once(&q, retention) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(items = n, retention_days = retention.as_secs() / 86_400, "quarantine retention purge")
            }
            Err(e) => tracing::error!("quarantine retention purge failed: {e}"),
        }
        std::thread::sleep(interval);
    })?;
    Ok(())
}
