//! What each fuzz target does with its bytes, one function per target.
//!
//! The binaries in `fuzz_targets/` call these functions, and so does the test that replays every
//! file under `fuzz/regressions/<target>/` (`tests/fuzz_regressions.rs` at the repository's root,
//! which includes this file), so that an input once found to fail is run through the very same
//! code by a plain `cargo test`.
//!
//! A finding is a panic. Besides the panics of the code itself, the functions turn into panics
//! what the engine would otherwise hide: an `internal_error` outcome (the engine catches a panic
//! of a format module and blocks the item with that reason, and the format modules give it for
//! a rebuild that fails its own check) and a broken invariant of the code under test (RTF tokens
//! that do not tile their input, an SMTP reply that is not one well-formed line). Everything
//! else (an item blocked as malformed, over a limit, too slow) is the expected answer to
//! hostile bytes. Limits are small (see [`config`]) so that costly inputs end as a named limit
//! within seconds rather than as a fuzzer timeout.

use mugai::config::{Config, SmtpConfig};
use mugai::detect;
use mugai::engine::{Budget, Engine, Outcome};
use mugai::formats::{self, Context};
use mugai::model::{Action, Family, Item, Kind, Reason, Verdict};
use mugai::smtp::filter::{Decision, Envelope, Filtered, MessageFilter};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A target's function: it returns on any input, panicking only on a finding.
pub type Target = fn(&[u8]);

/// Every target: its name (the directory of its regressions, the name of its fuzz binary) and
/// its function.
pub const TARGETS: &[(&str, Target)] = &[
    ("detect", detect),
    ("ooxml", ooxml),
    ("ole2", ole2),
    ("odf", odf),
    ("pdf", pdf),
    ("rtf", rtf),
    ("rtf_token", rtf_token),
    ("mime", mime),
    ("markup", markup),
    ("zip", zip),
    ("gzip", gzip),
    ("tar", tar),
    ("sevenz", sevenz),
    ("lzh", lzh),
    ("text", text),
    ("engine", engine),
    ("smtp", smtp),
];

/// The configuration every target runs under: the defaults with one worker thread and small
/// limits (1 MiB in, 32 MiB expanded, 8 MiB per stream or entry, 2000 entries, 3 s per input).
pub fn config() -> Config {
    let mut c = Config::default();
    c.engine.threads = 1;
    let l = &mut c.limits;
    l.max_input_bytes = 1 << 20;
    l.max_total_bytes = 32 << 20;
    l.max_stream_bytes = 8 << 20;
    l.max_entry_bytes = 8 << 20;
    l.max_entries = 2000;
    l.max_objects = 20_000;
    l.item_timeout = Duration::from_secs(3);
    c
}

fn shared_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Arc::new(config())).expect("the engine's worker pool starts"))
}

/// Panics on anything that says a panic was caught or a rebuild failed its own check.
fn check_reason(what: &str, reason: Option<Reason>, detail: Option<&str>) {
    assert!(reason != Some(Reason::InternalError), "{what}: internal_error: {}", detail.unwrap_or(""));
}

fn check_actions(actions: &[Action]) {
    for a in actions {
        check_reason(&a.part, a.reason, a.detail.as_deref());
    }
}

fn check_outcome(o: &Outcome) {
    check_reason(&o.path, o.reason, o.detail.as_deref());
    check_actions(&o.actions);
    if o.verdict != Verdict::Blocked {
        assert!(o.output.is_some(), "{}: {} without an output", o.path, o.verdict.as_str());
    }
}

/// Detection alone, with and without a name and declared type that disagree with the content.
pub fn detect(data: &[u8]) {
    let limits = &shared_engine().config().limits;
    let _ = detect::detect(data, None, None, limits);
    let _ = detect::detect(data, Some("invoice.pdf"), Some("application/pdf"), limits);
}

/// One format's disarm, called as the engine calls it: the kind detection finds when it is one
/// of `family`'s, else `default`; nothing when detection refuses the container (the engine
/// blocks it before any disarm). Returns the rebuilt bytes.
fn disarm_as(data: &[u8], family: Family, default: Kind) -> Option<Vec<u8>> {
    disarm_if(data, |k| k.family() == family, default)
}

/// [`disarm_as`] for the kinds `fits` takes.
fn disarm_if(data: &[u8], fits: impl Fn(Kind) -> bool, default: Kind) -> Option<Vec<u8>> {
    let engine = shared_engine();
    let config = engine.config();
    let detected = detect::detect(data, None, None, &config.limits);
    if detected.refused.is_some() {
        return None;
    }
    let kind = if fits(detected.kind) { detected.kind } else { default };
    engine.install(|| {
        let budget = Budget::new(&config.limits);
        let ctx = Context { budget: &budget, config, depth: 0, name: None, children: engine };
        match formats::disarm(kind, data, &ctx) {
            Ok(d) => {
                check_actions(&d.actions);
                Some(d.data)
            }
            Err(e) => {
                check_reason(kind.as_str(), Some(e.reason), Some(&e.detail));
                None
            }
        }
    })
}

pub fn ooxml(data: &[u8]) {
    disarm_as(data, Family::Ooxml, Kind::Docx);
}

pub fn ole2(data: &[u8]) {
    disarm_as(data, Family::Ole2, Kind::Doc);
}

pub fn odf(data: &[u8]) {
    disarm_as(data, Family::Odf, Kind::Odt);
}

pub fn pdf(data: &[u8]) {
    disarm_if(data, |k| k == Kind::Pdf, Kind::Pdf);
}

pub fn rtf(data: &[u8]) {
    disarm_if(data, |k| k == Kind::Rtf, Kind::Rtf);
}

/// MIME parse and rebuild: a rebuilt message must itself parse again.
pub fn mime(data: &[u8]) {
    if let Some(out) = disarm_if(data, |k| k == Kind::Eml, Kind::Eml) {
        let engine = shared_engine();
        let config = engine.config();
        engine.install(|| {
            let budget = Budget::new(&config.limits);
            let ctx = Context { budget: &budget, config, depth: 0, name: None, children: engine };
            if let Err(e) = formats::disarm(Kind::Eml, &out, &ctx) {
                check_reason("rebuilt message", Some(e.reason), Some(&e.detail));
                assert!(e.reason != Reason::Malformed, "the rebuilt message does not parse: {}", e.detail);
            }
        });
    }
}

/// HTML, SVG and XML: the kind detection finds, else the first byte picks one.
pub fn markup(data: &[u8]) {
    let default = match data.first().map(|b| b % 3) {
        Some(0) => Kind::Html,
        Some(1) => Kind::Svg,
        _ => Kind::Xml,
    };
    disarm_as(data, Family::Markup, default);
}

pub fn zip(data: &[u8]) {
    disarm_if(data, |k| k == Kind::Zip, Kind::Zip);
}

/// The single-kind archive formats are disarmed as that kind whatever detection says: their
/// readers must refuse other bytes by themselves.
fn disarm_kind(data: &[u8], kind: Kind) {
    let engine = shared_engine();
    let config = engine.config();
    engine.install(|| {
        let budget = Budget::new(&config.limits);
        let ctx = Context { budget: &budget, config, depth: 0, name: None, children: engine };
        match formats::disarm(kind, data, &ctx) {
            Ok(d) => check_actions(&d.actions),
            Err(e) => check_reason(kind.as_str(), Some(e.reason), Some(&e.detail)),
        }
    })
}

pub fn gzip(data: &[u8]) {
    disarm_kind(data, Kind::Gzip);
}

pub fn tar(data: &[u8]) {
    disarm_kind(data, Kind::Tar);
}

pub fn sevenz(data: &[u8]) {
    disarm_kind(data, Kind::SevenZip);
}

pub fn lzh(data: &[u8]) {
    disarm_kind(data, Kind::Lzh);
}

/// Plain text and SYLK.
pub fn text(data: &[u8]) {
    disarm_as(data, Family::Text, Kind::Text);
}

/// The whole engine on one item, as the `sanitize` command gives it one.
pub fn engine(data: &[u8]) {
    let o = shared_engine().process(Item::new(data.to_vec(), None, "input"));
    check_outcome(&o);
}

/// The RTF tokenizer: tokens are non-empty, follow each other without gap or overlap, and
/// cover the whole input when no error stops them; each kind spans what it says it does.
pub fn rtf_token(data: &[u8]) {
    use mugai::formats::rtf::token::{Kind as T, Tokenizer, MAX_DIGITS, MAX_NAME};
    let mut t = Tokenizer::new(data);
    let mut at = 0;
    loop {
        match t.next_tok() {
            Ok(None) => {
                assert_eq!(at, data.len(), "tokens stop before the end");
                return;
            }
            Err(e) => {
                assert_eq!(e.reason, Reason::Malformed, "{e}");
                return;
            }
            Ok(Some(tok)) => {
                assert_eq!(tok.start, at, "a gap or an overlap before {tok:?}");
                assert!(tok.end > tok.start && tok.end <= data.len(), "bad span {tok:?}");
                let span = &data[tok.start..tok.end];
                match tok.kind {
                    T::Open => assert_eq!(span, b"{"),
                    T::Close => assert_eq!(span, b"}"),
                    T::Newline => assert!(span.iter().all(|b| matches!(b, b'\r' | b'\n')), "{tok:?}"),
                    T::Text => assert!(!span.iter().any(|b| matches!(b, b'\\' | b'{' | b'}' | b'\r' | b'\n'))),
                    T::Hex => assert!(span.len() == 4 && span.starts_with(b"\\'"), "{tok:?}"),
                    T::Symbol => assert!(span.len() == 2 && span[0] == b'\\' && !span[1].is_ascii_alphabetic()),
                    T::Word | T::Bin => {
                        assert!(span.starts_with(b"\\") && span[1..].starts_with(tok.name), "{tok:?}");
                        assert!(!tok.name.is_empty() && tok.name.len() <= MAX_NAME, "{tok:?}");
                        assert!(tok.name.iter().all(u8::is_ascii_alphabetic), "{tok:?}");
                        let digits = 10i64.pow(MAX_DIGITS as u32);
                        assert!(tok.param.is_none_or(|p| p.abs() < digits), "{tok:?}");
                        if tok.kind == T::Bin {
                            assert_eq!(tok.name, b"bin");
                        }
                    }
                }
                at = tok.end;
            }
        }
    }
}

/// A message filter that runs the engine and relays what it did not block, inline (no thread
/// hop), and keeps the outcomes' internal errors for the target to report after the session.
struct FuzzFilter {
    errors: Mutex<Vec<String>>,
}

impl MessageFilter for FuzzFilter {
    fn filter(&self, message: Vec<u8>, _: &Envelope) -> Filtered {
        let o = shared_engine().process_borrowed(&message, None, Some("message/rfc822".into()), "message");
        if let Err(p) = std::panic::catch_unwind(|| check_outcome(&o)) {
            let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
            errors.push(mugai::engine::panic_message(p.as_ref()));
        }
        let decision = match o.output {
            Some(clean) if o.verdict != Verdict::Blocked => Decision::Relay(clean),
            _ => Decision::Reject(format!("5.7.1 blocked: {}", o.reason.map(|r| r.as_str()).unwrap_or("-"))),
        };
        Filtered { decision, summary: String::new(), held_as: None }
    }

    fn spawn(&self, job: Box<dyn FnOnce() + Send + 'static>) {
        job();
    }
}

/// One SMTP session: the input is everything the client sends, then it closes its side; every
/// reply must be a well-formed line. Messages go through the engine; the next hop is a name
/// without a port, which the relay refuses before it opens any connection (so every relayed
/// message is answered 451, as when the next hop is down).
pub fn smtp(data: &[u8]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = SmtpConfig {
        next_hop: "next-hop.invalid".into(),
        max_message_size: 256 * 1024,
        max_header_bytes: 64 * 1024,
        max_recipients: 20,
        command_timeout: Duration::from_secs(2),
        data_timeout: Duration::from_secs(2),
        relay_timeout: Duration::from_secs(2),
        ..SmtpConfig::default()
    };
    let filter = Arc::new(FuzzFilter { errors: Mutex::new(Vec::new()) });
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let replies = rt.block_on(async {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (mut rx, mut tx) = tokio::io::split(client);
        let peer = "192.0.2.1:50000".parse().expect("an address");
        let session = mugai::smtp::serve_stream(config, filter.clone(), server, peer);
        let send = async {
            // The session may end before it has read everything (QUIT, a line too long).
            let _ = tx.write_all(data).await;
            let _ = tx.shutdown().await;
        };
        let receive = async {
            let mut out = Vec::new();
            let _ = rx.read_to_end(&mut out).await;
            out
        };
        tokio::join!(session, send, receive).2
    });
    let errors = filter.errors.lock().unwrap_or_else(|e| e.into_inner());
    assert!(errors.is_empty(), "{errors:?}");
    assert!(replies.starts_with(b"220 "), "no greeting");
    assert!(replies.ends_with(b"\r\n"), "a reply cut short");
    for line in replies.split_inclusive(|b| *b == b'\n') {
        let body = line.strip_suffix(b"\r\n").unwrap_or_else(|| panic!("a bare LF: {line:?}"));
        assert!(!body.contains(&b'\r') && !body.contains(&b'\n'), "a line break inside a reply: {body:?}");
        let good = body.len() >= 4 && body[..3].iter().all(u8::is_ascii_digit) && matches!(body[3], b' ' | b'-');
        assert!(good, "not a reply line: {:?}", String::from_utf8_lossy(body));
        assert!(!body.iter().any(|b| b.is_ascii_control()), "a control byte in {:?}", String::from_utf8_lossy(body));
    }
}
