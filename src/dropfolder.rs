//! The watched drop folder: files senders put in an inbox come out disarmed in a clean folder
//! (same sub-folders), or held in quarantine, each with a report; nothing is lost or done twice,
//! whatever stops the service.
//!
//! How a file travels:
//! 1. **Found.** The inbox is scanned in full every `rescan` seconds and after a change event
//!    that may bring a file (inotify through `notify`; at once after a quiet moment, at most
//!    every 50 ms in a burst): events only wake the scan, the scan is the truth, so
//!    nothing is missed when events overflow or arrive while the service is down. Temporary
//!    names (`.x`, `~$x`, `x.tmp`, `x.part`, `x.filepart`, `x.crdownload`, ...) are never taken,
//!    nor is anything in the processing folder when it is placed inside the inbox.
//! 2. **Complete.** A file is taken once it was renamed in (an upload tool writing under a
//!    temporary name, then renaming), or once its size and modification time have not changed
//!    for `settle` seconds.
//! 3. **Claimed.** Its record (the claim's name, where the file came from, when) is appended
//!    to a claim journal in `processing`, and the file is then moved there by rename under the
//!    claim's name. A receipt beside it (`<name>.mugai.json`) moves with it (`<claim>.receipt`).
//!    Claiming does not sync: the outputs do, before the claim is removed. A journal goes once
//!    none of its claims is left.
//! 4. **Done.** Read once; its receipt verified when trusted keys are configured (and required
//!    with `require_receipt`: without a valid one it is held, reason `unverified`); disarmed by
//!    the engine; the clean copy written into a file without a name (or under a temporary
//!    name where the file system has no such files) and linked into `clean` (names made safe,
//!    never overwriting another file); the original held in
//!    quarantine when anything was blocked; a JSON report written the same way into `report`;
//!    and only then, once a group commit has synced those outputs, the claim removed.
//!
//! After a crash or restart, every claim still in `processing` is done again, with its record
//! read back from the journals. Each step
//! is safe to repeat: a clean copy already in place with the same bytes (disarming is
//! deterministic) is not written twice, a report already written for the claim ends it, and the
//! quarantine id of an original already held is kept beside the claim (`<claim>.held`). So every file ends
//! exactly once in clean or quarantine, with its report.
//!
//! Files are processed in parallel on the engine's pool, a bounded number at once
//! ([`max_queued`]); the scanner waits for room rather than queueing without bound. The group
//! commit syncs when the engine has no claim left to do, or after [`MAX_UNSYNCED`] in a long
//! run, so that a burst's writeback does not take the processors from the burst.
//!
//! This module moves files and never looks inside them: the engine does that.

use crate::config::{Config, DropFolderConfig};
use crate::engine::{Engine, Outcome};
use crate::model::{Item, Reason, Verdict};
use crate::names::safe_file_name;
use crate::quarantine::{Filter, Held, Quarantine, Source};
use crate::receipt;
use crate::report::ReportLine;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum DropError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Receipt(#[from] receipt::ReceiptError),
    #[error(transparent)]
    Quarantine(#[from] crate::quarantine::QuarantineError),
    #[error("cannot watch {path}: {why}")]
    Watch { path: PathBuf, why: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DropError + '_ {
    move |source| DropError::Io { path: path.to_path_buf(), source }
}

/// What the report of one file says beyond the engine's report line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileReport {
    #[serde(flatten)]
    pub line: ReportLine,
    /// The claim this file was processed under (the same on a repeat after a restart).
    pub claim: String,
    /// When it was taken from the inbox and when it was done, RFC 3339 UTC.
    pub taken_at: String,
    pub done_at: String,
    /// The receipt written beside the clean copy, when receipts are signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// What the sender's receipt showed, when one came with the file or is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_receipt: Option<SenderReceipt>,
}

/// The check of the receipt a file came with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SenderReceipt {
    /// True when a trusted key signed it for exactly these bytes: the sender's neutralization
    /// is verified.
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_version: Option<String>,
    /// Why it did not verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a claimed file came from: one line of a claim journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClaimRecord {
    claim: String,
    /// Path relative to the inbox, `/`-separated.
    rel: String,
    taken_at: String,
}

/// Beside a claimed file in processing: the receipt that came with it, and the quarantine id
/// of the original once held.
const RECEIPT: &str = ".receipt";
const HELD: &str = ".held";
/// Claim journals in processing are `.journal-<instance>-<n>`.
const JOURNAL: &str = ".journal-";
/// Claims one journal takes before the next is started (so that each stays small and goes
/// once its claims are done, also while files keep coming).
const JOURNAL_LINES: usize = 4096;

/// The claim journals: the records of claims not committed yet, each with the journal it is
/// in, and the journal new claims are appended to.
///
/// A claim is a rename of the file into processing, under the claim's name, after its record
/// was appended to the journal. One append per file instead of a folder and a record file of
/// its own: creating and removing inodes is what a drop folder spends most of its time on.
#[derive(Default)]
struct Journals {
    records: HashMap<String, (ClaimRecord, PathBuf)>,
    current: Option<(fs::File, PathBuf, usize)>,
    /// Numbers the journals of this run.
    made: u64,
}

/// One watched drop folder.
pub struct DropFolder {
    cfg: DropFolderConfig,
    engine: Arc<Engine>,
    /// Holds without waiting for the disk: the group commit syncs the store with the outputs
    /// (see [`Quarantine::deferring_sync`]).
    quarantine: Quarantine,
    signer: Option<receipt::Signer>,
    trusted: Vec<ed25519_dalek::VerifyingKey>,
    max_input: u64,
    counter: AtomicU64,
    /// To the group committer ([`committer`]).
    commits: mpsc::Sender<Committing>,
    /// Random, new at every start, part of every claim's name: tells this run's claims from
    /// those an earlier run left (a process id can come again).
    instance: String,
    /// Shared with the committer, which drops the records of committed claims.
    journals: Arc<std::sync::Mutex<Journals>>,
    /// Claims started and not yet through a worker. The scanner starts no more than
    /// [`max_queued`]; the committer syncs once it falls to nothing.
    queued: Arc<AtomicUsize>,
}

/// How a claim comes to a worker.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Claimed {
    /// Moved in from the inbox by this pass, with its receipt or without: nothing of it has
    /// been written anywhere yet, so nothing is looked for.
    Fresh { receipt: bool },
    /// Found in processing (a restart, or a claim that failed): it may have been done in part.
    Found,
}

/// What the scanner hears of a claim it started.
enum Done {
    /// A worker is through with it: room for another.
    Processed,
    /// No longer in flight: committed and removed, or left in processing for a later pass.
    Settled(String),
}

/// A file seen in the inbox, not taken yet.
struct Sighting {
    len: u64,
    modified: Option<SystemTime>,
    /// Since when it has looked like this.
    since: Instant,
}

impl DropFolder {
    /// Creates the folders (the processing folder owner-only) and reads the keys.
    pub fn new(
        cfg: DropFolderConfig,
        config: &Config,
        engine: Arc<Engine>,
        quarantine: Arc<Quarantine>,
    ) -> Result<Self, DropError> {
        let mut cfg = cfg;
        for d in [&mut cfg.inbox, &mut cfg.clean, &mut cfg.report, &mut cfg.processing] {
            fs::create_dir_all(&*d).map_err(io(d))?;
            // Absolute, as change events name paths.
            *d = fs::canonicalize(&*d).map_err(io(d))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&cfg.processing, fs::Permissions::from_mode(0o700)).map_err(io(&cfg.processing))?;
        }
        let signer = match &cfg.receipt_key {
            Some(k) => Some(receipt::Signer::load(k, config)?),
            None => None,
        };
        let mut trusted = Vec::new();
        for k in &cfg.trusted_keys {
            trusted.extend(receipt::load_trusted(k)?);
        }
        let journals =
            Arc::new(std::sync::Mutex::new(Journals { records: load_journals(&cfg.processing), ..Default::default() }));
        let (commits, rx) = mpsc::channel();
        let j = journals.clone();
        let queued = Arc::new(AtomicUsize::new(0));
        let q = queued.clone();
        std::thread::Builder::new()
            .name("mugai-dropfolder-commit".into())
            .spawn(move || committer(rx, &j, &q))
            .map_err(|e| DropError::Io { path: cfg.processing.clone(), source: e })?;
        let mut id = [0u8; 6];
        getrandom::fill(&mut id).map_err(|e| DropError::Io {
            path: cfg.processing.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(DropFolder {
            instance: hex::encode(id),
            commits,
            cfg,
            engine,
            quarantine: quarantine.deferring_sync()?,
            signer,
            trusted,
            max_input: config.limits.max_input_bytes,
            counter: AtomicU64::new(0),
            journals,
            queued,
        })
    }

    pub fn config(&self) -> &DropFolderConfig {
        &self.cfg
    }

    /// Watches and processes until `stop` is set, then finishes the files in progress.
    pub fn run(self: &Arc<Self>, stop: &AtomicBool) -> Result<(), DropError> {
        let (wake_tx, wake_rx) = mpsc::channel::<Vec<PathBuf>>();
        // Without change events (the system's limit of watches reached, a file system that
        // has none) the periodic scan still finds everything, only later.
        let _watcher = match self.watch(wake_tx) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("{e}; relying on the scan every {} s", self.cfg.rescan.as_secs());
                None
            }
        };
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let mut in_flight: HashSet<String> = HashSet::new();
        let mut sightings: HashMap<PathBuf, Sighting> = HashMap::new();
        let mut renamed_in: HashSet<PathBuf> = HashSet::new();
        let max_queued = max_queued(self.engine_threads());
        let mut next_scan = Instant::now();
        let mut last_pass = Instant::now().checked_sub(THROTTLE).unwrap_or_else(Instant::now);
        loop {
            while let Ok(d) = done_rx.try_recv() {
                if let Done::Settled(c) = d {
                    in_flight.remove(&c);
                }
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if Instant::now() >= next_scan {
                last_pass = Instant::now();
                self.pass(&mut sightings, &mut renamed_in, &mut in_flight, max_queued, &done_tx, &done_rx);
                // Files waiting to settle are looked at again soon; otherwise at the rescan.
                let soon = if sightings.is_empty() {
                    self.cfg.rescan
                } else {
                    (self.cfg.settle / 4).max(Duration::from_millis(100))
                };
                next_scan = Instant::now() + soon.min(self.cfg.rescan);
            }
            // Short enough that a stop is noticed at once.
            let wait = next_scan.saturating_duration_since(Instant::now()).min(Duration::from_millis(100));
            match wake_rx.recv_timeout(wait) {
                Ok(renamed) => {
                    renamed_in.extend(renamed);
                    while let Ok(more) = wake_rx.try_recv() {
                        renamed_in.extend(more);
                    }
                    // At once after a quiet moment; during a burst of events, one scan every
                    // THROTTLE at most.
                    next_scan = next_scan.min(last_pass + THROTTLE);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => next_scan = Instant::now(),
            }
        }
        // Finish what was started: a claim left half done would be done again at the next
        // start anyway, but finishing is quicker.
        while !in_flight.is_empty() {
            match done_rx.recv_timeout(Duration::from_secs(60)) {
                Ok(Done::Settled(c)) => {
                    in_flight.remove(&c);
                }
                Ok(Done::Processed) => {}
                Err(_) => break,
            }
        }
        Ok(())
    }

    fn engine_threads(&self) -> usize {
        self.engine.config().engine.threads.max(1)
    }

    /// Wakes the scanner on a change in the inbox that may bring a file; names what was
    /// renamed in.
    fn watch(&self, wake: mpsc::Sender<Vec<PathBuf>>) -> Result<notify::RecommendedWatcher, DropError> {
        use notify::{Event, RecursiveMode, Watcher};
        let inbox = self.cfg.inbox.clone();
        let processing = self.cfg.processing.clone();
        let mut w = notify::recommended_watcher(move |e: notify::Result<Event>| {
            // An error (an overflow among them) wakes it with nothing named: the scan finds
            // what was missed.
            let renamed = match &e {
                Ok(ev) => match wake_for(ev, &processing) {
                    Some(renamed) => renamed,
                    None => return,
                },
                Err(_) => Vec::new(),
            };
            let _ = wake.send(renamed);
        })
        .map_err(|e| DropError::Watch { path: inbox.clone(), why: e.to_string() })?;
        w.watch(&self.cfg.inbox, RecursiveMode::Recursive)
            .map_err(|e| DropError::Watch { path: self.cfg.inbox.clone(), why: e.to_string() })?;
        Ok(w)
    }

    /// Claims what is ready and starts it, and starts claims left in processing.
    fn pass(
        self: &Arc<Self>,
        sightings: &mut HashMap<PathBuf, Sighting>,
        renamed_in: &mut HashSet<PathBuf>,
        in_flight: &mut HashSet<String>,
        max_queued: usize,
        done_tx: &mpsc::Sender<Done>,
        done_rx: &mpsc::Receiver<Done>,
    ) {
        let start = |me: &Arc<Self>, claim: String, how: Claimed, in_flight: &mut HashSet<String>| {
            while self.queued.load(Ordering::SeqCst) >= max_queued {
                match done_rx.recv() {
                    Ok(Done::Settled(c)) => {
                        in_flight.remove(&c);
                    }
                    Ok(Done::Processed) => {}
                    Err(_) => return,
                }
            }
            in_flight.insert(claim.clone());
            self.queued.fetch_add(1, Ordering::SeqCst);
            let me = Arc::clone(me);
            let done = done_tx.clone();
            self.engine.spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| me.finish(&claim, how)));
                // Handed to the committer before the count drops: a committer that sees no
                // claim left to do has every finished one in its queue.
                let settled = match r {
                    // The committer says when it is done.
                    Ok(Ok(Some(commit))) => match me.commits.send((commit, done.clone())) {
                        Ok(()) => None,
                        Err(mpsc::SendError((commit, _))) => Some(commit.claim),
                    },
                    Ok(Ok(None)) => Some(claim),
                    Ok(Err(e)) => {
                        tracing::error!(claim = %claim, "drop folder: {e}; the file stays in processing and is tried again");
                        Some(claim)
                    }
                    Err(_) => {
                        tracing::error!(claim = %claim, "drop folder: internal error; the file stays in processing");
                        Some(claim)
                    }
                };
                me.queued.fetch_sub(1, Ordering::SeqCst);
                let _ = done.send(Done::Processed);
                if let Some(claim) = settled {
                    let _ = done.send(Done::Settled(claim));
                }
            });
        };
        // Claims from before (a restart, or a failure): done again.
        for claim in self.tidy_processing() {
            if !in_flight.contains(&claim) {
                start(self, claim, Claimed::Found, in_flight);
            }
        }
        let now = Instant::now();
        let mut seen = HashSet::new();
        let mut ready_files = Vec::new();
        for (path, rel, receipt) in self.inbox_files() {
            seen.insert(path.clone());
            let Ok(meta) = fs::symlink_metadata(&path) else { continue };
            let (len, modified) = (meta.len(), meta.modified().ok());
            let ready = if renamed_in.remove(&path) {
                true
            } else {
                match sightings.get_mut(&path) {
                    Some(s) if s.len == len && s.modified == modified => now.duration_since(s.since) >= self.cfg.settle,
                    Some(s) => {
                        *s = Sighting { len, modified, since: now };
                        false
                    }
                    None => {
                        sightings.insert(path.clone(), Sighting { len, modified, since: now });
                        self.cfg.settle.is_zero()
                    }
                }
            };
            if !ready {
                continue;
            }
            sightings.remove(&path);
            ready_files.push((len, path, rel, receipt));
        }
        sightings.retain(|p, _| seen.contains(p));
        renamed_in.retain(|p| seen.contains(p));
        // Largest first: the threads then end a burst together on small files, instead of one
        // finishing a large file alone while the others wait.
        ready_files.sort_by_key(|f| std::cmp::Reverse(f.0));
        let records: Vec<ClaimRecord> = ready_files.iter().map(|(_, _, rel, _)| self.new_claim(rel)).collect();
        // Every record in one write, before any of the files moves.
        if let Err(e) = self.journal(&records) {
            tracing::warn!("drop folder: cannot take files yet: {e}");
            return;
        }
        for ((_, path, _, receipt), record) in ready_files.into_iter().zip(records) {
            match self.claim(&path, record.claim, receipt) {
                Ok(Some((claim, receipt))) => start(self, claim, Claimed::Fresh { receipt }, in_flight),
                Ok(None) => {}
                Err(e) => tracing::warn!(file = %path.display(), "drop folder: cannot take the file yet: {e}"),
            }
        }
    }

    /// Regular files in the inbox that may be taken: (path, path relative to the inbox, whether
    /// a receipt is beside it). A receipt is taken with its file, so it is not listed when its
    /// file is there (senders put the receipt in first).
    fn inbox_files(&self) -> Vec<(PathBuf, PathBuf, bool)> {
        let walk = walkdir::WalkDir::new(&self.cfg.inbox).follow_links(false).min_depth(1).into_iter();
        let processing = &self.cfg.processing;
        let all: HashSet<PathBuf> = walk
            .filter_entry(|e| !(e.file_type().is_dir() && e.path() == processing))
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(walkdir::DirEntry::into_path)
            .collect();
        let with_suffix = |p: &Path| {
            let mut s = p.as_os_str().to_owned();
            s.push(receipt::SUFFIX);
            PathBuf::from(s)
        };
        let mut out = Vec::new();
        for path in &all {
            let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            if temporary_name(&name)
                || name.ends_with(receipt::SUFFIX)
                    && all.contains(&path.with_file_name(name.trim_end_matches(receipt::SUFFIX)))
            {
                continue;
            }
            if let Ok(rel) = path.strip_prefix(&self.cfg.inbox) {
                out.push((path.clone(), rel.to_path_buf(), all.contains(&with_suffix(path))));
            }
        }
        out.sort();
        out
    }

    /// Reads the processing folder once: removes the journals no uncommitted claim is in (the
    /// one in use too once all of its claims are done: the next claim starts a new one) and the
    /// markers and receipts whose claim is gone (a stop while a claim's files were being
    /// removed), and returns the claimed files there (the names sort by the time they were made).
    fn tidy_processing(&self) -> Vec<String> {
        let Ok(rd) = fs::read_dir(&self.cfg.processing) else { return Vec::new() };
        let entries: Vec<(String, bool)> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.file_name().to_str()?.to_owned(), e.file_type().is_ok_and(|t| t.is_file()))))
            .collect();
        let names: HashSet<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        let mut j = self.journals.lock().unwrap_or_else(|e| e.into_inner());
        let live: HashSet<&PathBuf> = j.records.values().map(|(_, p)| p).collect();
        let idle = j.current.as_ref().is_some_and(|(_, p, _)| !live.contains(p));
        let mut gone = Vec::new();
        let mut claims = Vec::new();
        for (name, is_file) in &entries {
            let path = self.cfg.processing.join(name);
            let current = j.current.as_ref().is_some_and(|(_, p, _)| *p == path);
            if name.starts_with(JOURNAL) {
                if !live.contains(&path) && (!current || idle) {
                    gone.push(path);
                }
            } else if let Some(claim) = name.strip_suffix(HELD).or_else(|| name.strip_suffix(RECEIPT)) {
                // Looked at again when not listed: a claim made while the folder was read
                // may be missing from the listing, its marker not.
                if !names.contains(claim) && !self.cfg.processing.join(claim).exists() {
                    gone.push(path);
                }
            } else if *is_file && !name.contains('.') {
                claims.push(name.clone());
            }
        }
        if idle {
            j.current = None;
        }
        drop(j);
        for p in gone {
            let _ = fs::remove_file(p);
        }
        claims.sort();
        claims
    }

    /// A new claim's record for the inbox file at `rel` (names sort by the time they were made).
    fn new_claim(&self, rel: &Path) -> ClaimRecord {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let now = SystemTime::now();
        let nanos = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        ClaimRecord {
            claim: format!("{nanos:024}-{}-{n:06}", self.instance),
            rel: rel_string(rel),
            taken_at: rfc3339(now),
        }
    }

    /// Appends claims' records to the journal in use (starting one when there is none or it is
    /// full), as few writes as the journals' size allows. Not synced: see [`DropFolder::claim`].
    fn journal(&self, records: &[ClaimRecord]) -> Result<(), DropError> {
        let mut j = self.journals.lock().unwrap_or_else(|e| e.into_inner());
        let mut rest = records;
        while !rest.is_empty() {
            if j.current.as_ref().is_none_or(|(_, _, n)| *n >= JOURNAL_LINES) {
                j.made += 1;
                let path = self.cfg.processing.join(format!("{JOURNAL}{}-{:06}", self.instance, j.made));
                let f = fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io(&path))?;
                j.current = Some((f, path, 0));
            }
            let Some((f, path, n)) = j.current.as_mut() else { unreachable!("a journal was just started") };
            let (now, later) = rest.split_at(rest.len().min(JOURNAL_LINES - *n));
            let mut lines = Vec::with_capacity(now.len() * 128);
            for r in now {
                serde_json::to_writer(&mut lines, r).unwrap_or_default();
                lines.push(b'\n');
            }
            // One write of whole lines: a stop can cut the last line only, which is then not
            // read (its file is still in the inbox, or a claim without a record: see `finish`).
            f.write_all(&lines).map_err(io(path))?;
            *n += now.len();
            let path = path.clone();
            for r in now {
                j.records.insert(r.claim.clone(), (r.clone(), path.clone()));
            }
            rest = later;
        }
        Ok(())
    }

    /// Moves a complete file (and its receipt, when the inbox had one beside it) from the inbox
    /// into processing under `claim`, whose record is in the journal: the claim, and whether its
    /// receipt came with it. `None` when the file went away meanwhile.
    fn claim(&self, path: &Path, claim: String, receipt: bool) -> Result<Option<(String, bool)>, DropError> {
        let data = self.cfg.processing.join(&claim);
        // The record first, then the rename. Neither is synced: a process that is killed
        // loses neither (the page cache outlives it), and after a power loss the file is
        // found again either in the inbox or as a claim (see `finish` for a claim whose record
        // did not survive). The outputs are synced before a claim is removed, which is what
        // keeps a file.
        let forget = || {
            self.journals.lock().unwrap_or_else(|e| e.into_inner()).records.remove(&claim);
        };
        match fs::rename(path, &data) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                forget();
                return Ok(None);
            }
            Err(e) => {
                forget();
                if e.raw_os_error() == Some(18) {
                    // EXDEV: a rename cannot cross file systems.
                    tracing::error!(
                        processing = %self.cfg.processing.display(),
                        "drop folder: the processing folder is on another file system than the inbox; set [[dropfolder]] processing to a folder on the inbox's"
                    );
                }
                return Err(DropError::Io { path: path.to_path_buf(), source: e });
            }
        }
        let receipt = receipt && {
            let mut beside = path.as_os_str().to_owned();
            beside.push(receipt::SUFFIX);
            fs::rename(beside, self.cfg.processing.join(format!("{claim}{RECEIPT}"))).is_ok()
        };
        Ok(Some((claim, receipt)))
    }

    /// The files of a claim in processing: the claimed file first.
    fn claim_files(&self, claim: &str) -> Vec<PathBuf> {
        let p = &self.cfg.processing;
        vec![p.join(claim), p.join(format!("{claim}{RECEIPT}")), p.join(format!("{claim}{HELD}"))]
    }

    /// Does one claim to the end (see the module documentation); safe to repeat.
    fn finish(&self, claim: &str, how: Claimed) -> Result<Option<Commit>, DropError> {
        let files = self.claim_files(claim);
        let data_path = files[0].clone();
        let file = match fs::File::open(&data_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DropError::Io { path: data_path, source: e }),
        };
        let known = self.journals.lock().unwrap_or_else(|e| e.into_inner()).records.get(claim).map(|(r, _)| r.clone());
        let record = match known {
            Some(r) => r,
            // The file made it into processing and its record did not (a power loss): done
            // under a name of its own rather than lost.
            None => ClaimRecord {
                claim: claim.to_string(),
                rel: format!("recovered-{claim}"),
                taken_at: rfc3339(SystemTime::now()),
            },
        };
        let rel = safe_rel(&record.rel);
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
        let rel_dir = rel.parent().map(Path::to_path_buf).unwrap_or_default();
        let report_dir = self.cfg.report.join(&rel_dir);
        let clean_dir = self.cfg.clean.join(&rel_dir);
        // A claim made by an earlier run (its instance is not ours): it may have left
        // temporary files where it was writing.
        let ours = claim.split('-').nth(1) == Some(self.instance.as_str());
        if !ours {
            sweep(&clean_dir, claim);
            sweep(&report_dir, claim);
            sweep(&self.cfg.processing, claim);
        }
        if how == Claimed::Found && self.report_exists(&report_dir, &name, claim) {
            // Done before a restart, all but removing the claim: the committer does that.
            return Ok(Some(Commit { claim: claim.to_string(), remove: files, sync: ToSync::default(), input: None }));
        }
        let mut sync = ToSync::default();
        // What the committer removes: the claimed file, and its receipt and held marker only
        // when there are such (most claims have neither; a marker an earlier run left without
        // a hold now is swept as an orphan).
        let receipt_came = match how {
            Claimed::Fresh { receipt } => receipt,
            Claimed::Found => files[1].exists(),
        };
        let mut remove = vec![data_path.clone()];
        if receipt_came {
            remove.push(files[1].clone());
        }

        let len = file.metadata().map_err(io(&data_path))?.len();
        let shown = format!("{}/{}", self.cfg.inbox.display(), record.rel);
        // The name the item goes through the engine and out with (a bundle's file's).
        let mut item_name = name.clone();
        let too_big = |len: u64| {
            let mut o = Outcome::new(record.rel.clone(), Some(name.clone()), len, String::new());
            o.reason = Some(Reason::LimitInputSize);
            o.detail = Some(format!("{len} bytes, limit {}", self.max_input));
            (o, None)
        };
        let (outcome, sender) = 'read: {
            if len > self.max_input {
                break 'read too_big(len);
            }
            // Read with the limit again: a sender can still write to a file it held open.
            let mut data = Vec::with_capacity(len as usize);
            (&file).take(self.max_input + 1).read_to_end(&mut data).map_err(io(&data_path))?;
            if data.len() as u64 > self.max_input {
                break 'read too_big(data.len() as u64);
            }
            let mut receipt_bytes = if receipt_came { Some(receipt::read_receipt(&files[1])?) } else { None };
            // A bundle (`mugai sanitize --bundle`) of one file and its receipt stands for that
            // file: it is what gets checked, disarmed and written out.
            if receipt_bytes.is_none() && name.ends_with(".mugai.zip") {
                if let Some(mut pairs) = receipt::unbundle(&data, self.max_input).filter(|p| p.len() == 1) {
                    if let Some((inner, bytes, r)) = pairs.pop() {
                        item_name = inner.rsplit('/').next().unwrap_or(&inner).to_string();
                        data = bytes;
                        receipt_bytes = Some(r);
                    }
                }
            }
            let sender = self.check_sender(&data, receipt_bytes.as_deref());
            let outcome = match &sender {
                Some(s) if self.cfg.require_receipt && !s.verified => {
                    let mut o = Outcome::new(
                        record.rel.clone(),
                        Some(item_name.clone()),
                        data.len() as u64,
                        crate::model::sha256_hex(&data),
                    );
                    o.reason = Some(Reason::Unverified);
                    o.detail = s.error.clone();
                    o
                }
                _ => self.engine.process(Item::new(data, Some(item_name.clone()), record.rel.clone())),
            };
            (outcome, sender)
        };

        let mut line;
        let mut receipt_path = None;
        if outcome.verdict == Verdict::Blocked {
            line = ReportLine::from_outcome(shown.clone(), None, &outcome);
        } else {
            let out_name = outcome.output_name.clone().unwrap_or_else(|| item_name.clone());
            let out = outcome.output.as_deref().unwrap_or_default();
            let dest = place(&clean_dir, &safe_file_name(&out_name), out, claim)?;
            sync.files.push(dest.clone());
            sync.dirs.push(clean_dir.clone());
            if let Some(signer) = &self.signer {
                let dest_name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if let Some(r) = signer.issue(&record.rel, &outcome, &dest_name) {
                    let mut p = dest.clone().into_os_string();
                    p.push(receipt::SUFFIX);
                    let p = PathBuf::from(p);
                    write_replacing(&p, &r.to_json(), claim)?;
                    sync.files.push(p.clone());
                    receipt_path = Some(p.to_string_lossy().into_owned());
                }
            }
            line = ReportLine::from_outcome(shown.clone(), Some(dest.to_string_lossy().into_owned()), &outcome);
        }
        let hold = if outcome.verdict == Verdict::Blocked {
            Some((outcome.reason.unwrap_or(Reason::InternalError), outcome.detail.clone().unwrap_or_default()))
        } else {
            outcome.hold_reason()
        };
        if let Some((reason, detail)) = hold {
            let taken = humantime::parse_rfc3339(&record.taken_at)
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            let held =
                self.hold(ours, how, taken, &files[2], &data_path, &shown, claim, &name, &outcome, reason, &detail)?;
            remove.push(files[2].clone());
            let (files, dirs) = self.quarantine.unsynced(&held);
            sync.files.extend(files);
            sync.dirs.extend(dirs);
            if line.sha256_in.is_empty() {
                // Not read by the engine (over the size limit): the hold hashed it as it
                // copied it.
                line.sha256_in = held.sha256;
            }
            line.quarantine_id = Some(held.id);
        }
        let report = FileReport {
            line,
            claim: claim.to_string(),
            taken_at: record.taken_at.clone(),
            done_at: rfc3339(SystemTime::now()),
            receipt: receipt_path,
            sender_receipt: sender,
        };
        let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
        let report_path = place(&report_dir, &format!("{}.json", safe_file_name(&name)), &json, claim)?;
        tracing::info!(
            file = %shown,
            verdict = report.line.verdict.as_str(),
            reason = report.line.reason.map(|r| r.as_str()).unwrap_or("-"),
            quarantine = report.line.quarantine_id.as_deref().unwrap_or("-"),
            report = %report_path.display(),
            "drop folder"
        );
        sync.files.push(report_path);
        sync.dirs.push(report_dir);
        Ok(Some(Commit { claim: claim.to_string(), remove, sync, input: Some(file) }))
    }

    /// The sender's receipt, checked: `None` when none came and none is required.
    fn check_sender(&self, data: &[u8], receipt_bytes: Option<&[u8]>) -> Option<SenderReceipt> {
        let failed = |error: String| SenderReceipt {
            verified: false,
            key_id: None,
            issued_at: None,
            sender_version: None,
            error: Some(error),
        };
        match receipt_bytes {
            None if self.cfg.require_receipt => Some(failed("no receipt came with the file".into())),
            None => None,
            Some(_) if self.trusted.is_empty() => Some(failed("no trusted keys are configured".into())),
            Some(r) => match receipt::verify(data, r, &self.trusted) {
                Ok(v) => Some(SenderReceipt {
                    verified: true,
                    key_id: Some(v.receipt.key_id),
                    issued_at: Some(v.receipt.issued_at),
                    sender_version: Some(v.receipt.mugai_version),
                    error: None,
                }),
                Err(e) => Some(failed(e.to_string())),
            },
        }
    }

    /// Holds the claimed original once: the quarantine id is kept beside the claim, so a
    /// repeat after a restart finds it instead of holding the file a second time.
    #[allow(clippy::too_many_arguments)]
    fn hold(
        &self,
        ours: bool,
        how: Claimed,
        taken_at: u64,
        marker: &Path,
        data_path: &Path,
        shown: &str,
        claim: &str,
        name: &str,
        outcome: &Outcome,
        reason: Reason,
        detail: &str,
    ) -> Result<crate::quarantine::Record, DropError> {
        // Blobs are written without syncing and the claim stays until they are synced: a
        // claim an earlier run left may have lost its blob's bytes to a power cut while the
        // record survived. Its blob is written again (same content, same name) before the
        // record is taken as it is.
        let rewrite = |r: crate::quarantine::Record| -> Result<crate::quarantine::Record, DropError> {
            if !ours {
                let mut f = fs::File::open(data_path).map_err(io(data_path))?;
                self.quarantine.put_blob(&mut f)?;
            }
            Ok(r)
        };
        if how == Claimed::Found {
            if let Ok(id) = fs::read_to_string(marker) {
                if !id.trim().is_empty() {
                    return rewrite(self.quarantine.find(id.trim())?);
                }
            }
        }
        let source = Source::Dropfolder { path: shown.to_string(), claim: Some(claim.to_string()) };
        // A claim made by an earlier run may have been stopped after the record was committed
        // and before the marker was written: the record says so.
        if !ours {
            let since = taken_at.saturating_sub(60);
            let filter = Filter { since: Some(since), source: Some("dropfolder".into()), ..Default::default() };
            if let Some(r) = self.quarantine.list(&filter)?.into_iter().find(|r| r.source == source) {
                write_replacing(marker, r.id.as_bytes(), claim)?;
                return rewrite(r);
            }
        }
        let mut f = fs::File::open(data_path).map_err(io(data_path))?;
        let mut held = Held::new(source, outcome.kind, reason);
        held.file_name = Some(name);
        held.detail = Some(detail);
        held.actions = &outcome.actions;
        held.findings = &outcome.findings;
        let record = self.quarantine.hold_reader(&mut f, &held)?;
        write_replacing(marker, record.id.as_bytes(), claim)?;
        Ok(record)
    }

    /// Whether a report for this claim was written already (a repeat after a restart that
    /// came after the report and before the claim was removed).
    fn report_exists(&self, report_dir: &Path, name: &str, claim: &str) -> bool {
        let base = safe_file_name(name);
        (1..=MAX_SAME_NAME)
            .map(|n| report_dir.join(numbered(&format!("{base}.json"), n)))
            .take_while(|p| p.exists())
            .any(|p| {
                fs::read(&p)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .is_some_and(|v| v.get("claim").and_then(|c| c.as_str()) == Some(claim))
            })
    }
}

/// Whether a change event may bring a file, and so wakes the scanner: `None` when it cannot,
/// else what it names as renamed in. Not news:
/// - a folder or file opened, read or closed unwritten: the scan's own walk opens every folder
///   of the inbox, and waking on that made the scanner wake itself, a scan every moment for as
///   long as the service runs (a file closed after writing is news: it may be complete);
/// - a file leaving (each claim moves one out of the inbox);
/// - claims coming and going, when processing is inside the inbox.
fn wake_for(ev: &notify::Event, processing: &Path) -> Option<Vec<PathBuf>> {
    use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
    use notify::EventKind;
    let quiet = match ev.kind {
        EventKind::Access(a) => a != AccessKind::Close(AccessMode::Write),
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => true,
        _ => false,
    };
    if quiet || !ev.paths.is_empty() && ev.paths.iter().all(|p| p.starts_with(processing)) {
        return None;
    }
    Some(match ev.kind {
        EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)) => {
            ev.paths.last().cloned().into_iter().collect()
        }
        _ => Vec::new(),
    })
}

/// Claims started and not yet through a worker: enough for every engine thread to have work;
/// the rest waits in the inbox. A claim waiting its turn is only its name in memory.
fn max_queued(threads: usize) -> usize {
    128 * threads + 512
}

/// The shortest time between two scans that change events ask for: a burst of events (a
/// writer making many files) makes one scan per moment, not one per event.
const THROTTLE: Duration = Duration::from_millis(50);

/// How long the group commit gathers finished claims after the first before it syncs: a claim
/// is removed that much later, and one sync covers every claim of a busy moment.
const GATHER: Duration = Duration::from_millis(100);

/// How long the group commit goes on gathering while the engine still has claims to do: the
/// sync then comes when the burst is over instead of taking the processors from it, and no
/// claim waits longer than this for it (at most this much work is done again after a power
/// cut). It looks again every [`GATHER_TICK`].
const MAX_UNSYNCED: Duration = Duration::from_secs(1);
const GATHER_TICK: Duration = Duration::from_millis(20);

/// Most files of one name in one folder before placing gives up.
const MAX_SAME_NAME: usize = 10_000;

/// Writes `data` into `dir` as `name`, or `name (2)`, ... when another file holds that name;
/// an existing file with exactly these bytes is this very output written before a restart,
/// and is kept as it is. Written once into a file without a name, then linked under the first
/// name free; where the file system cannot make such files, under a temporary name renamed the
/// same way. Synced by the group commit before the claim goes. The folder is made only when it
/// is missing, and a name is looked at only when it is taken: most outputs cost an open, a
/// write and a link.
fn place(dir: &Path, name: &str, data: &[u8], claim: &str) -> Result<PathBuf, DropError> {
    // A file without a name (`O_TMPFILE`), given one by a link that fails when the name is
    // taken: one change to the folder per output where a temporary name costs two (made, then
    // renamed), each under the folder's lock that the other threads writing there wait for;
    // and a stop before the link leaves nothing behind. Where it cannot be linked (no `/proc`
    // to link through), under a temporary name.
    if let Some(f) = unnamed_file(dir, data) {
        if let Ok(path) = first_free(dir, name, data, |path| link_unnamed(&f, path)) {
            return Ok(path);
        }
    }
    place_named(dir, name, data, claim)
}

/// The first of `name`, `name (2)`, ... in `dir` that `put` gives the output (`Ok(false)`: the
/// name is taken), or that already holds exactly `data`.
fn first_free(
    dir: &Path,
    name: &str,
    data: &[u8],
    mut put: impl FnMut(&Path) -> std::io::Result<bool>,
) -> Result<PathBuf, DropError> {
    for n in 1..=MAX_SAME_NAME {
        let path = dir.join(numbered(name, n));
        match put(&path) {
            Ok(true) => return Ok(path),
            Ok(false) if holds(&path, data) => return Ok(path),
            Ok(false) => {}
            Err(e) => return Err(DropError::Io { path, source: e }),
        }
    }
    Err(DropError::Io { path: dir.join(name), source: std::io::Error::other("too many files of this name") })
}

/// Whether the file at `path` holds exactly `data`.
fn holds(path: &Path, data: &[u8]) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == data.len() as u64)
        && fs::read(path).is_ok_and(|b| b == data)
}

/// [`place`] under a temporary name, renamed to the first name free.
fn place_named(dir: &Path, name: &str, data: &[u8], claim: &str) -> Result<PathBuf, DropError> {
    let tmp = dir.join(temp_name(name, claim));
    match write_file(&tmp, data) {
        Err(DropError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(io(dir))?;
            write_file(&tmp, data)?;
        }
        r => r?,
    }
    // Renamed into place unless the name is taken (a plain rename would replace it): one
    // directory change where a link and an unlink are two. Where the file system cannot (some
    // network file systems), linked, which fails the same way.
    let placed = first_free(dir, name, data, |path| match rename_noreplace(&tmp, path) {
        Ok(placed) => Ok(placed),
        Err(_) => match fs::hard_link(&tmp, path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        },
    });
    // Gone when renamed; otherwise linked, not needed, or failed.
    let _ = fs::remove_file(&tmp);
    placed
}

/// `data` in a new file without a name in `dir` (made when missing), or `None` where the file
/// system or the system cannot (then a temporary name serves).
fn unnamed_file(dir: &Path, data: &[u8]) -> Option<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = || fs::OpenOptions::new().write(true).custom_flags(nix::libc::O_TMPFILE).open(dir);
    let mut f = match open() {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).ok()?;
            open().ok()?
        }
        Err(_) => return None,
    };
    f.write_all(data).ok()?;
    Some(f)
}

/// Gives the unnamed file `f` the name `to`: `Ok(false)` when the name is taken. Linked through `/proc/self/fd` (`AT_EMPTY_PATH` would need a privilege).
fn link_unnamed(f: &fs::File, to: &Path) -> std::io::Result<bool> {
    use nix::fcntl::{AtFlags, AT_FDCWD};
    use std::os::fd::AsRawFd;
    let from = PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()));
    match nix::unistd::linkat(AT_FDCWD, &from, AT_FDCWD, to, AtFlags::AT_SYMLINK_FOLLOW) {
        Ok(()) => Ok(true),
        Err(nix::errno::Errno::EEXIST) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Renames `from` to `to` unless `to` exists: `Ok(false)` when it does, `Err` when the file
/// system cannot rename that way.
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<bool> {
    use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
    match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => Ok(true),
        Err(nix::errno::Errno::EEXIST) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The temporary name a claim writes `name` under: hidden, and marked with the claim so that
/// a repeat of the claim can sweep what a stopped run left.
fn temp_name(name: &str, claim: &str) -> String {
    format!(".{name}.{claim}.mugai-tmp")
}

/// Removes what an earlier run of `claim` left half-written in `dir`.
fn sweep(dir: &Path, claim: &str) {
    let tail = format!(".{claim}.mugai-tmp");
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let n = e.file_name();
        let n = n.to_string_lossy();
        if n.starts_with('.') && n.ends_with(&tail) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Writes a file that has one name only (a receipt beside its file): under a temporary name,
/// renamed over whatever an earlier run left there.
fn write_replacing(path: &Path, data: &[u8], claim: &str) -> Result<(), DropError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(temp_name(&name, claim));
    write_file(&tmp, data)?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// `report.docx`, `report (2).docx`, ...
fn numbered(name: &str, n: usize) -> String {
    if n == 1 {
        return name.to_string();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// Names upload tools and editors use while a file is still being written.
fn temporary_name(name: &str) -> bool {
    const SUFFIXES: [&str; 9] =
        [".tmp", ".temp", ".part", ".partial", ".crdownload", ".filepart", ".download", ".swp", "~"];
    let lower = name.to_ascii_lowercase();
    name.starts_with('.') || name.starts_with("~$") || SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// A relative path as `/`-separated text.
fn rel_string(rel: &Path) -> String {
    rel.components()
        .filter_map(|c| if let Component::Normal(s) = c { Some(s.to_string_lossy().into_owned()) } else { None })
        .collect::<Vec<_>>()
        .join("/")
}

/// The relative path of a claim made safe, folder by folder.
fn safe_rel(rel: &str) -> PathBuf {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty() && *p != "." && *p != "..").collect();
    let mut out = PathBuf::new();
    for (i, p) in parts.iter().enumerate() {
        // The file name is made safe where it is placed (its extension may change first).
        out.push(if i + 1 == parts.len() { (*p).to_string() } else { safe_file_name(p) });
    }
    out
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), DropError> {
    let mut f = fs::File::create(path).map_err(io(path))?;
    f.write_all(data).map_err(io(path))
}

/// Outputs of a finished claim to make durable, and the claim to remove after that.
struct Commit {
    claim: String,
    /// The claim's files in processing to remove, the claimed file first.
    remove: Vec<PathBuf>,
    sync: ToSync,
    /// The claimed file, read and done with: its cached pages are let go as soon as the
    /// committer has it, not at its removal (see [`committer`]).
    input: Option<fs::File>,
}

/// What a claim wrote: files, and the folders they are in (each file's folder is among them).
#[derive(Default)]
struct ToSync {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

/// A finished claim on its way to the committer, with whom to tell when it is gone.
type Committing = (Commit, mpsc::Sender<Done>);

/// Group commit: syncs the outputs of every claim that finished meanwhile ([`sync_all`]),
/// then removes those claims and drops their journal records; a claim is never removed before
/// its clean copy and report are on disk. A claim whose outputs cannot be synced stays, and is
/// done again. It syncs [`GATHER`] after the first claim comes, or, while the engine still has
/// claims to do (`queued`), once they are done or [`MAX_UNSYNCED`] after the first: the
/// writeback a sync sets off is work for the processors, and during a burst it is theirs to
/// disarm with. The outputs are in place before their sync; what waits is the removal of the
/// claims.
fn committer(rx: mpsc::Receiver<Committing>, journals: &std::sync::Mutex<Journals>, queued: &AtomicUsize) {
    while let Ok(first) = rx.recv() {
        // Asleep while the batch gathers, not waiting on the channel: a worker handing over a
        // claim then wakes nobody (waking the committer for every claim cost each worker a
        // switch away and back).
        let since = Instant::now();
        let mut batch = vec![first];
        let mut released = 0;
        std::thread::sleep(GATHER);
        loop {
            batch.extend(rx.try_iter());
            // The claimed files' cached pages go now rather than at the sync: a claim waits up
            // to MAX_UNSYNCED for it, and pages held that long are pages the new outputs cannot
            // reuse.
            for (c, _) in &mut batch[released..] {
                if let Some(f) = c.input.take() {
                    let _ = nix::fcntl::posix_fadvise(&f, 0, 0, nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED);
                }
            }
            released = batch.len();
            if queued.load(Ordering::SeqCst) == 0 || since.elapsed() >= MAX_UNSYNCED {
                break;
            }
            std::thread::sleep(GATHER_TICK);
        }
        batch.extend(rx.try_iter());
        let mut files = HashSet::new();
        let mut dirs = HashSet::new();
        for (c, _) in &batch {
            files.extend(c.sync.files.iter().map(PathBuf::as_path));
            dirs.extend(c.sync.dirs.iter().map(PathBuf::as_path));
        }
        let synced = sync_all(&files, &dirs);
        let oks: Vec<bool> = batch
            .iter()
            .map(|(c, _)| c.sync.files.iter().chain(&c.sync.dirs).all(|p| synced.contains(p.as_path())))
            .collect();
        for ((c, done), ok) in batch.into_iter().zip(oks) {
            let claim = c.claim.clone();
            if ok {
                let mut removed = true;
                // The claimed file last: while it is there the claim is done again, and its
                // marker and receipt are never left behind without it.
                for p in c.remove.iter().rev() {
                    match fs::remove_file(p) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            tracing::error!(claim = %claim, "drop folder: cannot remove the finished claim: {e}");
                            removed = false;
                        }
                        _ => {}
                    }
                }
                if removed {
                    journals.lock().unwrap_or_else(|e| e.into_inner()).records.remove(&c.claim);
                }
            }
            let _ = done.send(Done::Settled(claim));
        }
    }
}

/// Makes `files` and `dirs` (the folders the files are in, whose entries name them) durable;
/// returns those that are. Each file system the folders are on is synced once (`syncfs`): that
/// writes each inode table block once for the whole batch instead of once for every file in it,
/// and leaves the threads writing files in those blocks waiting far less (file by file, the drop
/// folder spent more time syncing than disarming). Only the folders are looked up to find the
/// file systems, a few for a batch of hundreds of files. Where `syncfs` fails, file by file.
fn sync_all<'a>(files: &HashSet<&'a Path>, dirs: &HashSet<&'a Path>) -> HashSet<&'a Path> {
    use std::os::unix::fs::MetadataExt;
    let one = |p: &Path| {
        fs::File::open(p)
            .and_then(|f| f.sync_all())
            .map_err(|e| tracing::error!(path = %p.display(), "drop folder: cannot sync: {e}"))
            .is_ok()
    };
    let mut by_device: HashMap<u64, Vec<&Path>> = HashMap::new();
    for d in dirs {
        match fs::metadata(d) {
            Ok(m) => by_device.entry(m.dev()).or_default().push(d),
            Err(e) => tracing::error!(path = %d.display(), "drop folder: cannot sync: {e}"),
        }
    }
    let mut done = HashSet::new();
    for (_, ds) in by_device {
        let synced = fs::File::open(ds[0]).and_then(|f| nix::unistd::syncfs(&f).map_err(std::io::Error::from));
        let inside = |f: &&&Path| f.parent().is_some_and(|p| ds.contains(&p));
        match synced {
            Ok(()) => {
                done.extend(files.iter().filter(inside));
                done.extend(ds);
            }
            Err(e) => {
                tracing::warn!(path = %ds[0].display(), "drop folder: cannot sync the file system ({e}); syncing file by file");
                done.extend(files.iter().filter(inside).filter(|f| one(f)));
                done.extend(ds.into_iter().filter(|d| one(d)));
            }
        }
    }
    done
}

/// The records of the claims still in `processing`, from the journals earlier runs left (a
/// line a stop cut short does not read and is skipped).
fn load_journals(processing: &Path) -> HashMap<String, (ClaimRecord, PathBuf)> {
    let mut records = HashMap::new();
    let Ok(rd) = fs::read_dir(processing) else { return records };
    for e in rd.filter_map(|e| e.ok()) {
        if !e.file_name().to_string_lossy().starts_with(JOURNAL) {
            continue;
        }
        let path = e.path();
        let Ok(text) = fs::read(&path) else { continue };
        for line in text.split(|&b| b == b'\n') {
            if let Ok(r) = serde_json::from_slice::<ClaimRecord>(line) {
                if processing.join(&r.claim).exists() {
                    records.insert(r.claim.clone(), (r, path.clone()));
                }
            }
        }
    }
    records
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With real change events: the scan's own walk of the inbox wakes nobody, a file written
    /// or renamed in does.
    #[test]
    fn the_scans_own_walk_wakes_nobody_and_a_new_file_does() {
        use notify::Watcher;
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        fs::create_dir_all(inbox.join("sub")).unwrap();
        let processing = dir.path().join("processing");
        let (tx, rx) = mpsc::channel();
        let p = processing.clone();
        let mut w = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
            if let Ok(ev) = e {
                let _ = tx.send((ev.kind, wake_for(&ev, &p)));
            }
        })
        .unwrap();
        w.watch(&inbox, notify::RecursiveMode::Recursive).unwrap();
        let walked = walkdir::WalkDir::new(&inbox).into_iter().filter_map(|e| e.ok()).count();
        assert_eq!(walked, 2);
        fs::write(inbox.join("sub/.upload.tmp"), b"x").unwrap();
        let mut seen = Vec::new();
        // The walk's events come first and wake nobody; the file's creation wakes it, and so
        // does its close after writing.
        let close = notify::EventKind::Access(notify::event::AccessKind::Close(notify::event::AccessMode::Write));
        let mut woken_by = Vec::new();
        while !woken_by.contains(&close) {
            let (kind, wake) = rx.recv_timeout(Duration::from_secs(10)).expect("the file's events");
            seen.push(kind);
            if wake.is_some() {
                woken_by.push(kind);
            }
        }
        assert_eq!(woken_by.first(), Some(&notify::EventKind::Create(notify::event::CreateKind::File)), "{seen:?}");
        assert!(seen.iter().any(|k| matches!(k, notify::EventKind::Access(notify::event::AccessKind::Open(_)))));
        fs::rename(inbox.join("sub/.upload.tmp"), inbox.join("sub/report.docx")).unwrap();
        // Named by its arrival (`To`) and by the pair (`Both`), which comes last.
        let both = notify::EventKind::Modify(notify::event::ModifyKind::Name(notify::event::RenameMode::Both));
        loop {
            let (kind, wake) = rx.recv_timeout(Duration::from_secs(10)).expect("the rename's events");
            if let Some(named) = wake.filter(|n| !n.is_empty()) {
                assert_eq!(named, vec![inbox.join("sub/report.docx")]);
            }
            if kind == both {
                break;
            }
        }
        fs::remove_file(inbox.join("sub/report.docx")).unwrap();
        let _ = walkdir::WalkDir::new(&inbox).into_iter().count();
        // The file leaving and the walk after it.
        while let Ok((kind, wake)) = rx.recv_timeout(Duration::from_millis(500)) {
            assert!(wake.is_none(), "{kind:?} woke the scanner");
        }
    }

    #[test]
    fn temporary_names_are_never_taken() {
        for n in [".upload", "~$report.docx", "a.tmp", "a.PART", "a.filepart", "a.crdownload", "a.docx~"] {
            assert!(temporary_name(n), "{n}");
        }
        for n in ["report.docx", "a.partner.pdf", "tmp.txt"] {
            assert!(!temporary_name(n), "{n}");
        }
    }

    #[test]
    fn claim_records_fill_each_journal_to_its_size_and_are_read_back_for_claims_left() {
        let d = tempfile::tempdir().unwrap();
        let cfg = DropFolderConfig {
            inbox: d.path().join("inbox"),
            clean: d.path().join("clean"),
            report: d.path().join("report"),
            processing: d.path().join("processing"),
            settle: Duration::ZERO,
            rescan: Duration::from_secs(1),
            receipt_key: None,
            require_receipt: false,
            trusted_keys: Vec::new(),
        };
        let config = Config::default();
        let engine = Arc::new(Engine::new(Arc::new(Config::default())).unwrap());
        let quarantine = Arc::new(Quarantine::open(&d.path().join("q")).unwrap());
        let f = DropFolder::new(cfg, &config, engine, quarantine).unwrap();
        let records: Vec<ClaimRecord> =
            (0..JOURNAL_LINES + 10).map(|i| f.new_claim(Path::new(&format!("sub/f{i}.docx")))).collect();
        // A small pass, then one that fills the journal and goes on in a new one.
        f.journal(&records[..5]).unwrap();
        f.journal(&records[5..]).unwrap();
        let processing = d.path().join("processing");
        let mut journals: Vec<PathBuf> = fs::read_dir(&processing)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(JOURNAL))
            .collect();
        journals.sort();
        let lines: Vec<usize> = journals.iter().map(|p| fs::read_to_string(p).unwrap().lines().count()).collect();
        assert_eq!(lines, [JOURNAL_LINES, 10]);
        // After a stop, the records of the files that made it into processing are read back,
        // from either journal; the others (still in the inbox) are not.
        let (first, last) = (&records[0], &records[JOURNAL_LINES + 9]);
        for r in [first, last] {
            fs::write(processing.join(&r.claim), b"x").unwrap();
        }
        let loaded = load_journals(&processing);
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded[&first.claim].0.rel, "sub/f0.docx");
        assert_eq!(loaded[&last.claim].0.rel, format!("sub/f{}.docx", JOURNAL_LINES + 9));
    }

    #[test]
    fn placing_never_overwrites_and_recognises_its_own_output() {
        // Through an unnamed file, and under a temporary name (where the file system has no
        // unnamed files).
        let ways: [Place; 2] = [place, place_named];
        for place in ways {
            placing_with(place);
        }
    }

    type Place = fn(&Path, &str, &[u8], &str) -> Result<PathBuf, DropError>;

    fn placing_with(place: Place) {
        let d = tempfile::tempdir().unwrap();
        let a = place(d.path(), "r.docx", b"one", "c1").unwrap();
        assert_eq!(a, d.path().join("r.docx"));
        // The same bytes again (a repeat after a restart): the same file.
        assert_eq!(place(d.path(), "r.docx", b"one", "c2").unwrap(), a);
        // Other bytes under the same name: a new name.
        let b = place(d.path(), "r.docx", b"two", "c3").unwrap();
        assert_eq!(b, d.path().join("r (2).docx"));
        assert_eq!(fs::read(&a).unwrap(), b"one");
        assert_eq!(numbered("noext", 3), "noext (3)");
        // A folder not there yet is made.
        let deep = d.path().join("sub").join("deeper");
        assert_eq!(place(&deep, "r.docx", b"one", "c4").unwrap(), deep.join("r.docx"));
        assert_eq!(fs::read_dir(&deep).unwrap().count(), 1, "no temporary file is left");
        // What a stopped claim left half-written is swept by its repeat, and only that.
        fs::write(d.path().join(temp_name("x.docx", "c9")), b"ha").unwrap();
        fs::write(d.path().join(temp_name("y.docx", "c8")), b"lf").unwrap();
        sweep(d.path(), "c9");
        assert!(!d.path().join(temp_name("x.docx", "c9")).exists());
        assert!(d.path().join(temp_name("y.docx", "c8")).exists());
    }

    #[test]
    fn claim_paths_cannot_climb_out() {
        assert_eq!(safe_rel("../../etc/passwd"), PathBuf::from("etc/passwd"));
        assert_eq!(safe_rel("a/./b.txt"), PathBuf::from("a/b.txt"));
    }
}
