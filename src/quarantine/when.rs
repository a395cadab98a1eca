//! Times as admins type and read them: durations (`90d`, `12h`, `2w`, `30min`), dates
//! (`2026-11-01`, `2026-11-01T08:00:00Z`), and UTC times in listings.

use std::time::{Duration, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
#[error("`{0}`: expected a duration like 90d, 12h, 2w or 30min, or a date like 2026-11-01 or 2026-11-01T08:00:00Z")]
pub struct WhenError(pub String);

/// A duration: humantime's units (`s`, `min`, `h`, `d`, `w`, `M`, `y`, combinable: `1d 12h`).
pub fn parse_duration(s: &str) -> Result<Duration, WhenError> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(t).map_err(|_| WhenError(s.to_string()))
}

/// A point in time (seconds since the Unix epoch): a date (midnight UTC), an RFC 3339 time, or
/// a duration meaning that long before `now`.
pub fn parse_since(s: &str, now: u64) -> Result<u64, WhenError> {
    let t = s.trim();
    if let Ok(d) = parse_duration(t) {
        return Ok(now.saturating_sub(d.as_secs()));
    }
    let full = if t.len() == 10 { format!("{t}T00:00:00Z") } else { t.to_string() };
    let at = humantime::parse_rfc3339_weak(&full).map_err(|_| WhenError(s.to_string()))?;
    Ok(at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
}

/// `2026-11-29T14:05:00Z`.
pub fn format_time(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// `2026-11-29 14:05` (UTC), for tables.
pub fn format_short(secs: u64) -> String {
    let full = format_time(secs);
    full.get(..16).map(|s| s.replace('T', " ")).unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_dates_and_times() {
        assert_eq!(parse_duration("90d").unwrap(), Duration::from_secs(90 * 86_400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_since("1h", 10_000).unwrap(), 6_400);
        assert_eq!(parse_since("2025-11-25", 0).unwrap(), 1_764_028_800);
        assert_eq!(parse_since("2025-11-25T00:00:10Z", 0).unwrap(), 1_764_028_810);
        assert!(parse_since("yesterday", 0).is_err());
        assert_eq!(format_time(1_764_028_800), "2025-11-25T00:00:00Z");
        assert_eq!(format_short(1_764_028_800), "2025-11-25 00:00");
    }
}
