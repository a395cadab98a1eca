//! The engine: walks an item tree under one budget and turns every item into an [`Outcome`].
//!
//! For each item it detects the true kind, asks the policy what to do, calls the format module
//! (inside `catch_unwind`, so a bug blocks the item instead of passing it), and lets containers
//! hand their children back through [`Children`]. Children of one container are disarmed in
//! parallel on the engine's rayon pool; every item of one input shares one [`Budget`].
//!
//! The engine never reads or writes files: shells give it bytes and take outcomes.

use crate::config::{Config, Limits};
use crate::detect::{self, Detected};
use crate::formats::{self, Children, Context, FormatError};
use crate::model::{sha256_hex, Action, ActionKind, Finding, Item, Kind, Reason, Verdict};
use crate::names;
use crate::policy::{self, Decision};
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The shared allowance of one input and everything nested in it.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    bytes: AtomicU64,
    entries: AtomicU64,
    deadline: Instant,
    /// SHA-256 (hex) of the input itself, set when its processing starts.
    root: std::sync::OnceLock<String>,
    /// The password an admin gave to release this input (see
    /// [`Engine::process_with_password`]); `None` everywhere else.
    password: Option<String>,
    /// The outcomes (without their bytes) of the items directly inside the input, such as a
    /// message's attachments, kept only when a shell asks for them (see
    /// [`Engine::process_borrowed_with_parts`]).
    parts: Option<std::sync::Mutex<Vec<Outcome>>>,
}

impl Budget {
    pub fn new(limits: &Limits) -> Self {
        Budget {
            limits: limits.clone(),
            bytes: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            deadline: Instant::now() + limits.item_timeout,
            root: std::sync::OnceLock::new(),
            password: None,
            parts: None,
        }
    }

    /// A budget for a release with `password`: items blocked as encrypted are decrypted with it.
    pub fn with_password(limits: &Limits, password: &str) -> Self {
        Budget { password: Some(password.to_owned()), ..Budget::new(limits) }
    }

    /// The release password, when this input is processed for a release with one.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Counts `n` more expanded bytes against `max_total_bytes`.
    pub fn charge_bytes(&self, n: u64) -> Result<(), FormatError> {
        let total = self.bytes.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if total > self.limits.max_total_bytes {
            return Err(FormatError::new(
                Reason::LimitTotalBytes,
                format!("more than {} bytes expanded", self.limits.max_total_bytes),
            ));
        }
        Ok(())
    }

    /// Bytes that may still be expanded before `max_total_bytes` is reached.
    pub fn bytes_left(&self) -> u64 {
        self.limits.max_total_bytes.saturating_sub(self.bytes.load(Ordering::Relaxed))
    }

    /// Counts `n` more entries (parts, archive members) against `max_entries`.
    pub fn charge_entries(&self, n: u64) -> Result<(), FormatError> {
        let total = self.entries.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if total > self.limits.max_entries {
            return Err(FormatError::new(
                Reason::LimitEntries,
                format!("more than {} entries", self.limits.max_entries),
            ));
        }
        Ok(())
    }

    /// SHA-256 (hex) of the whole input, the one its quarantine record carries: what notices
    /// deep inside it cite.
    pub fn root_sha256(&self) -> Option<&str> {
        self.root.get().map(String::as_str)
    }

    /// Fails once the input's time allowance is spent. Format loops call this as they go.
    pub fn check_time(&self) -> Result<(), FormatError> {
        if Instant::now() >= self.deadline {
            return Err(FormatError::new(
                Reason::Timeout,
                format!("took longer than {}s", self.limits.item_timeout.as_secs()),
            ));
        }
        Ok(())
    }
}

/// Everything known about one processed item.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Where the item sits in its job.
    pub path: String,
    pub name: Option<String>,
    /// The true kind of the input.
    pub kind: Kind,
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    /// Human-readable detail for the reason (what exactly failed).
    pub detail: Option<String>,
    /// What was removed or changed, parts relative to this item.
    pub actions: Vec<Action>,
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub output: Option<Vec<u8>>,
    /// The kind of the output (differs from `kind` when a docm became a docx).
    pub output_kind: Option<Kind>,
    /// The name the output should carry (extension follows the output kind).
    pub output_name: Option<String>,
    pub sha256_in: String,
    pub sha256_out: Option<String>,
    pub size_in: u64,
    /// The size of the output, when there is one.
    pub size_out: Option<u64>,
    pub ms: u64,
}

impl Outcome {
    /// An outcome not decided yet (blocked, with no reason): the starting point of every item.
    pub fn new(path: String, name: Option<String>, size_in: u64, sha256_in: String) -> Self {
        Outcome {
            path,
            name,
            kind: Kind::Unknown,
            verdict: Verdict::Blocked,
            reason: None,
            detail: None,
            actions: Vec::new(),
            findings: Vec::new(),
            output: None,
            output_kind: None,
            output_name: None,
            sha256_in,
            sha256_out: None,
            size_in,
            size_out: None,
            ms: 0,
        }
    }

    /// True when the item had anything active in it: it was blocked or something was removed
    /// (bookkeeping that only follows from other removals does not count).
    /// The first thing removed because it was blocked (an archive entry left out): its presence
    /// means the original belongs in quarantine although the item itself was rebuilt.
    pub fn held_back(&self) -> Option<&Action> {
        self.actions.iter().find(|a| a.reason.is_some())
    }

    /// Why the original belongs in quarantine, if it does, with the record's detail: the item's
    /// own reason when it was blocked, else the first thing blocked inside it (`part: detail`).
    /// Every shell holds originals by this one rule.
    pub fn hold_reason(&self) -> Option<(Reason, String)> {
        if self.verdict == Verdict::Blocked {
            return Some((self.reason.unwrap_or(Reason::InternalError), self.detail.clone().unwrap_or_default()));
        }
        self.held_back().map(|a| {
            (a.reason.unwrap_or(Reason::InternalError), format!("{}: {}", a.part, a.detail.as_deref().unwrap_or("")))
        })
    }

    pub fn found_active_content(&self) -> bool {
        self.verdict == Verdict::Blocked || self.actions.iter().any(|a| !a.action.is_consequence())
    }
}

/// An item as the engine reads it: its bytes owned (items of containers) or borrowed from a
/// shell that keeps them.
struct Input<'a> {
    data: Cow<'a, [u8]>,
    name: Option<String>,
    declared_type: Option<String>,
    path: String,
}

/// Processes items under the configured policy, limits and thread count.
pub struct Engine {
    config: Arc<Config>,
    pool: rayon::ThreadPool,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot start the worker pool: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
}

impl Engine {
    pub fn new(config: Arc<Config>) -> Result<Self, EngineError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.engine.threads)
            .thread_name(|i| format!("mugai-worker-{i}"))
            .build()?;
        Ok(Engine { config, pool })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs `f` on the engine's worker pool (so that rayon parallelism inside uses it).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Starts `f` on the engine's worker pool and returns at once (for shells that must not
    /// block, such as the SMTP server: `f` sends its result back itself).
    pub fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        self.pool.spawn(f)
    }

    /// Processes one input item with a fresh budget.
    pub fn process(&self, item: Item) -> Outcome {
        self.pool.install(|| {
            let budget = Budget::new(&self.config.limits);
            self.process_at(item, 0, &budget)
        })
    }

    /// [`Engine::process`] for bytes the caller keeps (a shell that must still hold the
    /// original, like the SMTP filter): they are copied only when the item is kept as it is.
    pub fn process_borrowed(
        &self,
        data: &[u8],
        name: Option<String>,
        declared_type: Option<String>,
        path: &str,
    ) -> Outcome {
        let budget = Budget::new(&self.config.limits);
        self.borrowed(data, name, declared_type, path, &budget)
    }

    /// [`Engine::process_borrowed`], also giving the outcomes of the items directly inside the
    /// input (a message's attachments, an archive's entries), in no set order and without
    /// their bytes: what a shell needs to sign a receipt for each of them.
    pub fn process_borrowed_with_parts(
        &self,
        data: &[u8],
        name: Option<String>,
        declared_type: Option<String>,
        path: &str,
    ) -> (Outcome, Vec<Outcome>) {
        let budget = Budget { parts: Some(Default::default()), ..Budget::new(&self.config.limits) };
        let outcome = self.borrowed(data, name, declared_type, path, &budget);
        let parts = budget.parts.map(|p| p.into_inner().unwrap_or_else(|e| e.into_inner())).unwrap_or_default();
        (outcome, parts)
    }

    fn borrowed(
        &self,
        data: &[u8],
        name: Option<String>,
        declared_type: Option<String>,
        path: &str,
        budget: &Budget,
    ) -> Outcome {
        self.pool.install(|| {
            let item = Input { data: Cow::Borrowed(data), name, declared_type, path: path.to_string() };
            self.timed(item, 0, budget)
        })
    }

    /// [`Engine::process`] for a release with a password: every item blocked as `encrypted`
    /// (the input itself, or an archive entry or attachment anywhere inside it, such as the
    /// password zip of a held message) is decrypted with `password` (see [`crate::unlock`]) and
    /// then processed like any other item, with a `removed_encryption` action saying so. An
    /// item the password does not open stays blocked as `encrypted`, its detail naming why.
    /// What the decryption expands counts against the same budget.
    pub fn process_with_password(&self, item: Item, password: &str) -> Outcome {
        self.pool.install(|| {
            let budget = Budget::with_password(&self.config.limits, password);
            self.process_at(item, 0, &budget)
        })
    }

    /// Processes many independent inputs in parallel, each with its own budget; results keep the
    /// order of the inputs.
    pub fn process_all(&self, items: Vec<Item>) -> Vec<Outcome> {
        self.pool.install(|| items.into_par_iter().map(|item| self.process(item)).collect())
    }

    fn process_at(&self, item: Item, depth: u32, budget: &Budget) -> Outcome {
        let Item { data, name, declared_type, path } = item;
        self.timed(Input { data: Cow::Owned(data), name, declared_type, path }, depth, budget)
    }

    fn timed(&self, item: Input<'_>, depth: u32, budget: &Budget) -> Outcome {
        let start = Instant::now();
        let mut out = self.decide(item, depth, budget);
        out.ms = start.elapsed().as_millis() as u64;
        if let (1, Some(parts)) = (depth, &budget.parts) {
            let output = out.output.take();
            parts.lock().unwrap_or_else(|e| e.into_inner()).push(out.clone());
            out.output = output;
        }
        out
    }

    fn decide(&self, item: Input<'_>, depth: u32, budget: &Budget) -> Outcome {
        let Some(password) = budget.password() else { return self.decide_once(item, depth, budget) };
        // The bytes are needed again only when the item turns out to be encrypted; a borrowed
        // input is not copied.
        let again = Input {
            data: item.data.clone(),
            name: item.name.clone(),
            declared_type: item.declared_type.clone(),
            path: item.path.clone(),
        };
        let mut out = self.decide_once(item, depth, budget);
        if out.verdict != Verdict::Blocked || out.reason != Some(Reason::Encrypted) {
            return out;
        }
        match crate::unlock::unlock_in(&again.data, password, budget) {
            Ok(plain) => {
                // The decrypted bytes are never encrypted again (they are written by mugai), so
                // this goes one level only.
                let input = Input { data: Cow::Owned(plain), ..again };
                let mut inner = self.decide_once(input, depth, budget);
                inner.kind = out.kind;
                inner.sha256_in = out.sha256_in;
                inner.size_in = out.size_in;
                inner.findings.splice(0..0, out.findings);
                if inner.verdict == Verdict::Kept {
                    // Kept after decryption is still not the bytes that came in.
                    inner.verdict = Verdict::Disarmed;
                }
                if inner.verdict != Verdict::Blocked {
                    inner.actions.insert(
                        0,
                        Action::with_detail(ActionKind::RemovedEncryption, "", "decrypted with the release password"),
                    );
                }
                inner
            }
            Err(e) => {
                let detail = out.detail.take().unwrap_or_default();
                out.detail = Some(format!("{detail}; the release password did not open it: {} ({e})", e.as_str()));
                out
            }
        }
    }

    fn decide_once(&self, item: Input<'_>, depth: u32, budget: &Budget) -> Outcome {
        let limits = &self.config.limits;
        let mut out =
            Outcome::new(item.path.clone(), item.name.clone(), item.data.len() as u64, sha256_hex(&item.data));
        if depth == 0 {
            let _ = budget.root.set(out.sha256_in.clone());
        }
        let block = |mut out: Outcome, reason: Reason, detail: String| {
            out.verdict = Verdict::Blocked;
            out.reason = Some(reason);
            out.detail = Some(detail);
            out.output = None;
            out
        };
        if item.data.len() as u64 > limits.max_input_bytes {
            let d = format!("{} bytes, limit {}", item.data.len(), limits.max_input_bytes);
            return block(out, Reason::LimitInputSize, d);
        }
        if depth > limits.max_depth {
            return block(out, Reason::LimitDepth, format!("nested deeper than {}", limits.max_depth));
        }
        if let Err(e) = budget.check_time() {
            return block(out, e.reason, e.detail);
        }
        let mut detected: Detected =
            detect::detect(&item.data, item.name.as_deref(), item.declared_type.as_deref(), &self.config.limits);
        if let Some(name) = &item.name {
            detected.findings.extend(names::findings(name, self.config.names.max_name_chars));
        }
        out.kind = detected.kind;
        out.findings = detected.findings.clone();
        match policy::decide(&self.config.policy, &self.config.names, &detected) {
            Decision::Block(reason, detail) => block(out, reason, detail),
            Decision::Keep => {
                out.verdict = Verdict::Kept;
                out.output_kind = Some(detected.kind);
                out.output_name = item.name.clone();
                out.sha256_out = Some(out.sha256_in.clone());
                out.size_out = Some(out.size_in);
                // The bytes themselves, moved: a kept item the engine owns is never copied.
                out.output = Some(item.data.into_owned());
                out
            }
            Decision::Disarm => {
                let ctx = Context { budget, config: &self.config, depth, name: item.name.as_deref(), children: self };
                let result = guarded(&item.path, detected.kind, || formats::disarm(detected.kind, &item.data, &ctx))
                    .and_then(|d| budget.check_time().map(|_| d));
                match result {
                    Ok(d) => {
                        out.verdict = Verdict::Disarmed;
                        out.actions = d.actions;
                        out.output_kind = Some(d.kind);
                        out.output_name = d.name.or_else(|| item.name.as_deref().map(|n| output_name(n, d.kind)));
                        out.sha256_out = Some(sha256_hex(&d.data));
                        out.size_out = Some(d.data.len() as u64);
                        out.output = Some(d.data);
                        out
                    }
                    Err(e) => block(out, e.reason, e.detail),
                }
            }
        }
    }
}

impl Children for Engine {
    fn process(&self, items: Vec<Item>, depth: u32, budget: &Budget) -> Vec<Outcome> {
        items.into_par_iter().map(|item| self.process_at(item, depth, budget)).collect()
    }
}

/// The text a caught panic carried, for the log and the reason's detail.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Runs a format call so that a panic inside it becomes an `internal_error` block instead of
/// taking the process (and every other item) down.
pub fn guarded<T>(path: &str, kind: Kind, f: impl FnOnce() -> Result<T, FormatError>) -> Result<T, FormatError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic_message(panic.as_ref());
            tracing::error!(path = %path, kind = %kind, "format module failed: {msg}");
            Err(FormatError::new(Reason::InternalError, format!("format module failed: {msg}")))
        }
    }
}

/// The name an output of `kind` should carry: the same name with the extension the kind calls
/// for (`report.docm` -> `report.docx`; `scan.pdf` that is really a docx -> `scan.docx`).
pub fn output_name(name: &str, kind: Kind) -> String {
    let Some(ext) = kind.output_extension() else { return name.to_string() };
    match detect::extension(name) {
        Some(have) if kind.extensions().contains(&have.as_str()) => name.to_string(),
        Some(_) => {
            let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
            format!("{stem}.{ext}")
        }
        None => format!("{name}.{ext}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_panicking_format_call_becomes_an_internal_error() {
        let r: Result<(), FormatError> = guarded("x.docx", Kind::Docx, || panic!("boom"));
        let e = r.unwrap_err();
        assert_eq!(e.reason, Reason::InternalError);
        assert!(e.detail.contains("boom"));
    }

    #[test]
    fn input_size_and_time_limits_block() {
        let mut config = Config::default();
        config.limits.max_input_bytes = 4;
        let engine = Engine::new(Arc::new(config.clone())).unwrap();
        let o = engine.process(Item::new(b"hello\n".to_vec(), Some("a.txt".into()), "a.txt"));
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitInputSize)));
        config.limits.max_input_bytes = 1024;
        config.limits.item_timeout = Duration::ZERO;
        let engine = Engine::new(Arc::new(config)).unwrap();
        let o = engine.process(Item::new(b"hello\n".to_vec(), Some("a.txt".into()), "a.txt"));
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Timeout)));
    }

    #[test]
    fn output_name_follows_kind() {
        assert_eq!(output_name("a.docm", Kind::Docx), "a.docx");
        assert_eq!(output_name("a.DOCX", Kind::Docx), "a.DOCX");
        assert_eq!(output_name("scan.pdf", Kind::Docx), "scan.docx");
        assert_eq!(output_name("noext", Kind::Xlsx), "noext.xlsx");
        assert_eq!(output_name("a.xlsb", Kind::Xlsb), "a.xlsb");
    }
}
