//! Archives: every file inside goes back through the engine, and the archive is rebuilt from the
//! clean results.
//!
//! Each format module reads its archive into a list of [`Listed`] entries (files with their
//! bytes, folders, and entries that are neither, such as links); [`clean`] sends the files
//! through the engine in parallel, one level deeper, and collects what comes back:
//!
//! - a kept or disarmed file goes into the rebuilt archive under its (possibly new) name:
//!   `report.docm` comes back as `report.docx`;
//! - a blocked file is left out and listed as [`ActionKind::RemovedBlockedEntry`] with its reason,
//!   or blocks the whole archive, as `[archive] on_blocked_entry` says; a limit or timeout
//!   reached inside (a bomb, nesting past `max_depth`) always blocks the whole archive, since the
//!   budget it exhausted is the whole input's;
//! - links, devices and other special entries are never written: extracting them makes
//!   something other than a file ([`ActionKind::RemovedSpecialEntry`]).
//!
//! Entry paths are checked before anything is processed: absolute paths, `..` and `.`
//! segments, drive letters, backslashes and control characters are refused as
//! `path_traversal`, and two entries whose paths are equal ignoring case (or a file used as a
//! folder) as `duplicate_entry`. Written paths are made safe again segment by segment.
//!
//! Readers ([`ziparc`], [`gzip`], [`tar`], [`sevenz`], [`lzh`]) charge every entry and every
//! expanded byte to the input's budget as they read, before allocating, and refuse encrypted
//! entries (`encrypted`: the original stays in quarantine for a release with the password).
//! What the readers drop of the container itself (comments, extra fields, bytes outside the
//! entries, owners and permissions) is never carried over.

mod expand;
pub mod gzip;
pub mod lzh;
pub mod sevenz;
pub mod tar;
pub mod ziparc;

use crate::config::BlockedEntryPolicy;
use crate::formats::{adopt_child_actions, zipread, Context, FormatError};
use crate::model::{Action, ActionKind, FailureClass, Item, Kind, Reason, Verdict};
use crate::names;
use std::collections::{HashMap, HashSet};

/// A calendar time without a zone: zip and LHA store local time, tar and 7z UTC; the rebuilt
/// archive stores the same wall-clock value in its own format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl Default for Stamp {
    /// 1980-01-01 00:00:00, the earliest time a zip can store.
    fn default() -> Self {
        Stamp { year: 1980, month: 1, day: 1, hour: 0, minute: 0, second: 0 }
    }
}

impl Stamp {
    /// From seconds since 1970-01-01 UTC; times before 1980 or after 2107 (outside what a zip
    /// can store) become the nearest end of that range.
    pub fn from_unix(secs: i64) -> Stamp {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = crate::model::civil_from_days(days);
        if y < 1980 {
            return Stamp::default();
        }
        if y > 2107 {
            return Stamp { year: 2107, month: 12, day: 31, hour: 23, minute: 59, second: 58 };
        }
        Stamp {
            year: y as u16,
            month: m as u8,
            day: d as u8,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
        }
    }

    /// Seconds since 1970-01-01, reading the stamp as UTC.
    pub fn to_unix(self) -> i64 {
        let days = days_from_civil(i64::from(self.year), i64::from(self.month), i64::from(self.day));
        days * 86_400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second)
    }

    /// From an MS-DOS time and date; impossible fields give the default.
    pub fn from_dos(t: zipread::DosTime) -> Stamp {
        let s = Stamp {
            year: 1980 + (t.date >> 9),
            month: ((t.date >> 5) & 0x0F) as u8,
            day: (t.date & 0x1F) as u8,
            hour: (t.time >> 11) as u8,
            minute: ((t.time >> 5) & 0x3F) as u8,
            second: ((t.time & 0x1F) * 2) as u8,
        };
        if s.is_valid() {
            s
        } else {
            Stamp::default()
        }
    }

    pub fn to_dos(self) -> zipread::DosTime {
        let s = if self.is_valid() { self } else { Stamp::default() };
        zipread::DosTime {
            date: ((s.year - 1980) << 9) | (u16::from(s.month) << 5) | u16::from(s.day),
            time: (u16::from(s.hour) << 11) | (u16::from(s.minute) << 5) | u16::from(s.second / 2),
        }
    }

    fn is_valid(self) -> bool {
        (1980..=2107).contains(&self.year)
            && (1..=12).contains(&self.month)
            && (1..=31).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// [`crate::model::civil_from_days`]).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One entry as a reader found it.
#[derive(Debug)]
pub enum Listed {
    File {
        /// `/`-separated path inside the archive, as stored (checked by [`clean`]).
        path: String,
        data: Vec<u8>,
        modified: Stamp,
        /// Position in the source archive, for readers that can copy unchanged entries raw.
        source: Option<usize>,
    },
    Dir {
        path: String,
        modified: Stamp,
    },
    /// A link, device, pipe or other entry that is not a plain file: never written.
    Special {
        path: String,
        what: String,
    },
}

impl Listed {
    fn path(&self) -> &str {
        match self {
            Listed::File { path, .. } | Listed::Dir { path, .. } | Listed::Special { path, .. } => path,
        }
    }
}

/// One entry of the rebuilt archive.
#[derive(Debug)]
pub enum CleanEntry {
    Dir {
        path: String,
        modified: Stamp,
    },
    File {
        path: String,
        data: Vec<u8>,
        /// The true kind of `data`.
        kind: Kind,
        modified: Stamp,
        /// The bytes are the entry's original bytes (kept, or disarmed with no change).
        unchanged: bool,
        source: Option<usize>,
    },
}

/// What [`clean`] made of an archive's entries.
#[derive(Debug, Default)]
pub struct Cleaned {
    pub entries: Vec<CleanEntry>,
    pub actions: Vec<Action>,
}

/// Checks the entry paths, sends the files through the engine and turns their outcomes into the
/// entries of the rebuilt archive (see the module documentation).
pub fn clean(listed: Vec<Listed>, ctx: &Context<'_>) -> Result<Cleaned, FormatError> {
    check_paths(&listed)?;
    let mut out = Cleaned::default();
    let mut items = Vec::new();
    let mut files = Vec::new();
    for entry in listed {
        match entry {
            Listed::File { path, data, modified, source } => {
                if let Some(what) = system_metadata(&path, &data) {
                    out.actions.push(Action::with_detail(ActionKind::RemovedArchiveMetadata, path, what));
                    continue;
                }
                let name = names::base_name(&path).to_string();
                items.push(Item::new(data, Some(name), path.clone()));
                files.push((path, modified, source));
            }
            Listed::Dir { path, .. } if is_macos_fork_folder(&path) => {}
            Listed::Dir { path, modified } => {
                out.entries.push(CleanEntry::Dir { path: names::safe_entry_path(&path), modified })
            }
            Listed::Special { path, what } => {
                out.actions.push(Action::with_detail(ActionKind::RemovedSpecialEntry, path, what))
            }
        }
    }
    let outcomes = ctx.children.process(items, ctx.depth + 1, ctx.budget);
    let policy = ctx.config.archive.on_blocked_entry;
    // Paths taken in the rebuilt archive (ignoring case), so that `a.docm` becoming `a.docx`
    // cannot collide with an `a.docx` already there.
    let mut taken: HashSet<String> = out.entries.iter().map(|e| entry_path(e).to_lowercase()).collect();
    let mut planned = Vec::with_capacity(files.len());
    for ((path, modified, source), o) in files.into_iter().zip(outcomes) {
        match (o.verdict, o.output) {
            (Verdict::Kept | Verdict::Disarmed, Some(data)) => {
                let unchanged = o.sha256_out.as_deref() == Some(o.sha256_in.as_str());
                let base = o.output_name.as_deref().unwrap_or_else(|| names::base_name(&path));
                let wanted = match path.rsplit_once('/') {
                    Some((dir, _)) => format!("{dir}/{base}"),
                    None => base.to_string(),
                };
                adopt_child_actions(&mut out.actions, &path, o.actions);
                let kind = o.output_kind.unwrap_or(o.kind);
                planned.push((names::safe_entry_path(&wanted), data, kind, modified, unchanged, source));
            }
            _ => {
                let reason = o.reason.unwrap_or(Reason::InternalError);
                let detail = o.detail.unwrap_or_default();
                let inside = matches!(reason.class(), FailureClass::Limit | FailureClass::Timeout);
                if inside || policy == BlockedEntryPolicy::Block {
                    return Err(FormatError::new(reason, format!("{path}: {detail}")));
                }
                out.actions.push(Action::held(ActionKind::RemovedBlockedEntry, path, reason, detail));
            }
        }
    }
    // Unchanged names first, so that a renamed entry is the one that gives way.
    for (path, ..) in planned.iter().filter(|p| p.4) {
        taken.insert(path.to_lowercase());
    }
    for (path, data, kind, modified, unchanged, source) in planned {
        let path = if unchanged { path } else { unique_path(path, &mut taken) };
        out.entries.push(CleanEntry::File { path, data, kind, modified, unchanged, source });
    }
    Ok(out)
}

/// Files the archiving system added, not the sender: macOS resource forks and folder settings,
/// Windows thumbnail caches and folder settings. They are left out without counting as blocked
/// (otherwise every zip made on a Mac would be held in quarantine), and `desktop.ini`, whose
/// icon paths can point Explorer at a network share, never reaches the extracted folder.
fn system_metadata(path: &str, data: &[u8]) -> Option<&'static str> {
    let base = names::base_name(path);
    let lower = base.to_ascii_lowercase();
    if is_macos_fork_folder(path) || (base.starts_with("._") && data.starts_with(&[0, 5, 0x16, 7])) {
        Some("macOS resource fork")
    } else if base == ".DS_Store" && (data.is_empty() || data.get(4..8) == Some(b"Bud1")) {
        Some("macOS folder settings")
    } else if matches!(lower.as_str(), "thumbs.db" | "ehthumbs.db" | "ehthumbs_vista.db") {
        Some("Windows thumbnail cache")
    } else if lower == "desktop.ini" {
        Some("Windows folder settings")
    } else {
        None
    }
}

fn is_macos_fork_folder(path: &str) -> bool {
    path == "__MACOSX" || path.starts_with("__MACOSX/")
}

fn entry_path(e: &CleanEntry) -> &str {
    match e {
        CleanEntry::Dir { path, .. } | CleanEntry::File { path, .. } => path,
    }
}

/// `path`, or `stem (2).ext`, `stem (3).ext`, ... when another entry has that path.
fn unique_path(path: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(path.to_lowercase()) {
        return path;
    }
    let (dir, base) = match path.rsplit_once('/') {
        Some((d, b)) => (format!("{d}/"), b.to_string()),
        None => (String::new(), path.clone()),
    };
    let (stem, ext) = match base.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (base.clone(), String::new()),
    };
    (2..).map(|n| format!("{dir}{stem} ({n}){ext}")).find(|p| taken.insert(p.to_lowercase())).unwrap_or(path)
}

/// Refuses paths that climb out or collide (see the module documentation).
fn check_paths(listed: &[Listed]) -> Result<(), FormatError> {
    let mut seen: HashMap<String, bool> = HashMap::with_capacity(listed.len());
    let mut dirs_needed: Vec<String> = Vec::new();
    for entry in listed {
        let raw = entry.path();
        zipread::check_entry_name(raw)?;
        let path = raw.trim_end_matches('/');
        let is_dir = matches!(entry, Listed::Dir { .. });
        let key = path.to_lowercase();
        if let Some(was_dir) = seen.insert(key.clone(), is_dir) {
            // A folder listed twice is harmless (tar writes parents again); anything else is
            // two entries that extract to one place.
            if !(was_dir && is_dir) {
                return Err(FormatError::new(
                    Reason::DuplicateEntry,
                    format!("{path:?} appears twice (ignoring case)"),
                ));
            }
        }
        if let Some((parent, _)) = key.rsplit_once('/') {
            dirs_needed.push(parent.to_string());
        }
    }
    for parent in dirs_needed {
        // Every ancestor of an entry must be a folder, never a file (or a link) of the archive.
        let mut p = parent.as_str();
        loop {
            if seen.get(p) == Some(&false) {
                return Err(FormatError::new(
                    Reason::DuplicateEntry,
                    format!("{p:?} is both a file and a folder of the archive"),
                ));
            }
            match p.rsplit_once('/') {
                Some((up, _)) => p = up,
                None => break,
            }
        }
    }
    Ok(())
}

/// Kinds whose bytes are already compressed: stored, not deflated again.
pub fn is_compressed_kind(kind: Kind) -> bool {
    use crate::model::Family;
    matches!(kind.family(), Family::Ooxml | Family::Odf | Family::Archive) && !matches!(kind, Kind::Tar | Kind::Eml)
        || matches!(kind, Kind::Jpeg | Kind::Png | Kind::Gif | Kind::Webp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_convert_between_dos_and_unix_time() {
        let s = Stamp::from_unix(1_764_028_800 + 13 * 3600 + 5 * 60 + 7);
        assert_eq!(s, Stamp { year: 2025, month: 11, day: 25, hour: 13, minute: 5, second: 7 });
        assert_eq!(s.to_unix(), 1_764_028_800 + 13 * 3600 + 5 * 60 + 7);
        let dos = s.to_dos();
        assert_eq!(Stamp::from_dos(dos), Stamp { second: 6, ..s });
        assert_eq!(Stamp::from_unix(0), Stamp::default());
        assert_eq!(Stamp::from_dos(zipread::DosTime { time: 0xFFFF, date: 0xFFFF }), Stamp::default());
    }

    #[test]
    fn colliding_names_get_a_number() {
        let mut taken: HashSet<String> = ["a/b.docx".to_string()].into_iter().collect();
        assert_eq!(unique_path("a/B.docx".into(), &mut taken), "a/B (2).docx");
        assert_eq!(unique_path("a/B.docx".into(), &mut taken), "a/B (3).docx");
        assert_eq!(unique_path("c".into(), &mut taken), "c");
        assert_eq!(unique_path("c".into(), &mut taken), "c (2)");
    }

    #[test]
    fn paths_that_climb_out_or_collide_are_refused() {
        let file = |p: &str| Listed::File { path: p.into(), data: vec![], modified: Stamp::default(), source: None };
        let dir = |p: &str| Listed::Dir { path: p.into(), modified: Stamp::default() };
        let reason = |l: Vec<Listed>| check_paths(&l).err().map(|e| e.reason);
        assert_eq!(reason(vec![file("../x")]), Some(Reason::PathTraversal));
        assert_eq!(reason(vec![file("/etc/x")]), Some(Reason::PathTraversal));
        assert_eq!(reason(vec![file("C:x")]), Some(Reason::PathTraversal));
        assert_eq!(reason(vec![file("a/x"), file("A/X")]), Some(Reason::DuplicateEntry));
        assert_eq!(reason(vec![file("a"), file("a/x")]), Some(Reason::DuplicateEntry));
        assert_eq!(reason(vec![dir("a/"), dir("a/"), file("a/x")]), None);
        assert_eq!(reason(vec![dir("a/"), file("a")]), Some(Reason::DuplicateEntry));
    }
}
