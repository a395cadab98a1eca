//! Expanding an archive entry under the input's budget, shared by the readers of compressed
//! archives (gzip, 7z, LHA).
//!
//! Nothing here trusts a declared size to allocate: output grows a piece at a time, the clock is
//! checked between pieces, and a declared size only serves to refuse early (before a byte is
//! expanded) what the limits would refuse later anyway.

use crate::engine::Budget;
use crate::formats::FormatError;
use crate::model::Reason;
use std::io::Read;

/// How much is expanded between two looks at the clock and the limits.
pub(super) const PIECE: u64 = 1 << 20;

/// Output below this size is never refused for its ratio: tiny files of repeated bytes compress
/// extremely well without being bombs.
pub(super) const RATIO_FLOOR: u64 = 1 << 20;

/// Refuses an entry whose declared size is past `max_entry_bytes`, then charges it to the budget
/// (`max_total_bytes`) before anything is allocated for it.
pub(super) fn charge_declared(what: &str, size: u64, budget: &Budget) -> Result<(), FormatError> {
    let cap = budget.limits().max_entry_bytes;
    if size > cap {
        return Err(FormatError::new(
            Reason::LimitEntryBytes,
            format!("{what}: declares {size} bytes, more than {cap} for one entry"),
        ));
    }
    budget.charge_bytes(size).map_err(|e| FormatError::new(e.reason, format!("{what}: {}", e.detail)))
}

/// Refuses `expanded` bytes made from `compressed` bytes when the ratio is past `max_ratio`
/// (once more than [`RATIO_FLOOR`] came out).
pub(super) fn check_ratio(what: &str, expanded: u64, compressed: u64, budget: &Budget) -> Result<(), FormatError> {
    let ratio = budget.limits().max_ratio;
    if expanded > RATIO_FLOOR && expanded > compressed.max(1).saturating_mul(ratio) {
        return Err(FormatError::new(
            Reason::LimitRatio,
            format!("{what}: {expanded} bytes from {compressed} compressed, more than {ratio} times"),
        ));
    }
    Ok(())
}

/// Reads exactly `size` bytes (a size already checked and charged with [`charge_declared`])
/// from a decoder, a piece at a time; `fail` names the decoder's errors.
pub(super) fn read_declared(
    what: &str,
    r: &mut dyn Read,
    size: u64,
    budget: &Budget,
    fail: &dyn Fn(std::io::Error) -> FormatError,
) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::new();
    while (out.len() as u64) < size {
        budget.check_time()?;
        let want = (size - out.len() as u64).min(PIECE);
        let got = r.take(want).read_to_end(&mut out).map_err(fail)?;
        if got == 0 {
            return Err(FormatError::malformed(format!("{what}: data ends after {} of {size} bytes", out.len())));
        }
    }
    Ok(out)
}
