//! The SMTP content filter end to end on loopback: mugai's server in this process (random free
//! port), real peers started by the tests: Postfix's `smtp-sink` as the next hop (also in its
//! failure modes), `swaks` and a plain socket client as the client.
//!
//! Needs `smtp-sink` (package postfix) and `swaks` on the PATH; `.ci/run` installs both.

use mugai::config::{Config, NextHopTls, SmtpConfig};
use mugai::engine::Engine;
use mugai::quarantine::{Filter, Quarantine};
use mugai::samples::mail;
use mugai::smtp::filter::{Decision, EngineFilter, Envelope, Filtered, MessageFilter};
use mugai::smtp::Server;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Peers

/// A port nothing listens on now and that no other test of this binary was given: tests run
/// in parallel, and a port is only taken once its peer starts.
pub(crate) fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Waits (bounded) until something accepts connections on `port`.
pub(crate) fn wait_listening(port: u16) {
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// Postfix's smtp-sink on a free port, dumping every message it takes into its own folder.
pub(crate) struct Sink {
    pub(crate) port: u16,
    dump: tempfile::TempDir,
    /// The sink's conversation log (`-v`), beside the dump folder.
    log: tempfile::NamedTempFile,
    child: Child,
}

impl Sink {
    pub(crate) fn start(extra: &[&str]) -> Sink {
        Self::start_on(free_port(), extra)
    }

    fn start_on(port: u16, extra: &[&str]) -> Sink {
        let dump = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // smtp-sink drops its privileges (to nobody when run as root) before writing.
            std::fs::set_permissions(dump.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        // Installed in /usr/sbin, which is not on every user's PATH.
        let installed = Path::new("/usr/sbin/smtp-sink");
        let mut cmd = Command::new(if installed.exists() { installed } else { Path::new("smtp-sink") });
        if is_root() {
            cmd.args(["-u", "nobody"]);
        }
        cmd.arg("-v").arg("-d").arg(format!("{}/", dump.path().display()));
        cmd.args(extra).arg(format!("127.0.0.1:{port}")).arg("64");
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("smtp-sink (package postfix) must be installed: .ci/run installs it");
        let mut sink = Sink { port, dump, log, child };
        wait_listening(port);
        assert!(sink.child.try_wait().unwrap().is_none(), "smtp-sink could not take port {port}");
        sink
    }

    /// The commands the sink received so far, one per line (`MAIL FROM:<a> BODY=8BITMIME`).
    /// Waits (bounded) until the sink has logged a DATA command: it writes its log on its own
    /// schedule. Lines are `<program>: <text>`.
    fn commands(&self) -> String {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let log = std::fs::read_to_string(self.log.path()).unwrap();
            let lines: Vec<&str> = log.lines().filter_map(|l| l.split_once(": ").map(|(_, t)| t)).collect();
            if lines.iter().any(|l| l.eq_ignore_ascii_case("DATA")) || Instant::now() > until {
                return lines.join("\n");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every message the sink took, as dumped (its own header lines first, then the message).
    pub(crate) fn messages(&self) -> Vec<String> {
        let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(self.dump.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.clone(), String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()))
            .collect();
        out.sort();
        out.into_iter().map(|(_, s)| s).collect()
    }

    /// The messages once there are `n` of them (the dump is written as the sink answers; a
    /// message may also come from a queue retried every second or two).
    pub(crate) fn wait_messages(&self, n: usize) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() > until {
                return m;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// mugai's SMTP filter running in this process on its own runtime.
struct Mugai {
    addr: SocketAddr,
    quarantine: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Mugai {
    /// The filter with the default engine, relaying to `next_hop`, with `change` applied.
    fn start(next_hop: u16, change: impl FnOnce(&mut SmtpConfig)) -> Mugai {
        let quarantine = tempfile::tempdir().unwrap();
        let q = Quarantine::open(&quarantine.path().join("q")).unwrap();
        let mut config = Config::default();
        config.engine.threads = 2;
        let engine = Arc::new(Engine::new(Arc::new(config)).unwrap());
        Self::start_with(next_hop, change, Arc::new(EngineFilter::new(engine, q)), quarantine)
    }

    fn start_with(
        next_hop: u16,
        change: impl FnOnce(&mut SmtpConfig),
        filter: Arc<dyn MessageFilter>,
        quarantine: tempfile::TempDir,
    ) -> Mugai {
        let mut cfg = SmtpConfig {
            listen: "127.0.0.1:0".into(),
            next_hop: format!("127.0.0.1:{next_hop}"),
            ..Default::default()
        };
        change(&mut cfg);
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let server = rt.block_on(Server::bind(cfg, filter)).unwrap();
        let addr = server.local_addr().unwrap();
        rt.spawn(server.run());
        Mugai { addr, quarantine, _rt: rt }
    }

    /// Quarantined originals, oldest first, read through the store.
    fn held(&self) -> Vec<Vec<u8>> {
        let q = Quarantine::open(&self.quarantine.path().join("q")).unwrap();
        let mut records = q.list(&Filter::default()).unwrap();
        records.reverse();
        records.iter().map(|r| q.read_original(r).unwrap()).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Clients

/// A plain SMTP client over any stream, reading replies line by line.
struct Client<S: Read + Write> {
    s: S,
    buf: Vec<u8>,
}

fn connect(addr: SocketAddr) -> Client<TcpStream> {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    Client { s, buf: Vec::new() }
}

impl<S: Read + Write> Client<S> {
    fn line(&mut self) -> Option<String> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                return Some(String::from_utf8_lossy(&line).trim_end().to_string());
            }
            let mut chunk = [0u8; 4096];
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// One (possibly multi-line) reply: its code and all its lines joined; code 0 when the
    /// connection closed.
    fn reply(&mut self) -> (u16, String) {
        let mut text = Vec::new();
        loop {
            let Some(line) = self.line() else { return (0, text.join("\n")) };
            let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            let last = line.as_bytes().get(3) != Some(&b'-');
            text.push(line);
            if last {
                return (code, text.join("\n"));
            }
        }
    }

    fn send(&mut self, data: &[u8]) {
        self.s.write_all(data).unwrap();
        self.s.flush().unwrap();
    }

    fn cmd(&mut self, line: &str) -> (u16, String) {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }
}

/// The message with its lines dot-stuffed and the final dot, for DATA.
/// A session greeted, with one transaction (a@example.com to b@example.com) at its DATA: the
/// message can follow.
fn at_data(addr: SocketAddr) -> Client<TcpStream> {
    let mut c = connect(addr);
    c.reply();
    c.cmd("EHLO c");
    c.cmd("MAIL FROM:<a@example.com>");
    c.cmd("RCPT TO:<b@example.com>");
    assert_eq!(c.cmd("DATA").0, 354);
    c
}

fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut start_of_line = true;
    for &b in message {
        if start_of_line && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        start_of_line = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Sends one message with swaks; returns swaks' transcript.
fn swaks(addr: SocketAddr, message: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.eml");
    std::fs::write(&file, message).unwrap();
    let out = Command::new("swaks")
        .args(["--server", &addr.ip().to_string(), "--port", &addr.port().to_string()])
        .args(["--from", "sender@example.com", "--to", "rcpt@example.com"])
        .arg("--data")
        .arg(&file)
        .args(extra)
        .output()
        .expect("swaks must be installed: .ci/run installs it");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The reply swaks got to the final dot.
fn final_reply(transcript: &str) -> String {
    let lines: Vec<&str> = transcript.lines().collect();
    let dot = lines.iter().rposition(|l| l.trim() == "-> ." || l.trim() == "~> .").expect("no final dot in transcript");
    lines[dot + 1..]
        .iter()
        .find(|l| l.contains("<-") || l.contains("<~") || l.contains("<**"))
        .unwrap_or(&"")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn a_message_with_a_docm_arrives_at_the_sink_disarmed() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let t = swaks(mugai.addr, &mail::nested_docm(), &[]);
    let reply = final_reply(&t);
    assert!(reply.contains("250 2.0.0 Ok: queued as"), "{t}");
    let got = sink.wait_messages(1);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert!(m.contains("X-Mugai-Result:"), "{m}");
    assert!(m.contains(".docx"), "the docm should arrive as a docx: {m}");
    assert!(!m.contains("vbaProject"), "{m}");
    // Nothing was blocked, so nothing was held.
    assert!(mugai.held().is_empty());
}

#[test]
fn with_a_receipt_key_every_clean_attachment_arrives_with_a_receipt_that_verifies() {
    use mail_parser::MimeHeaders;
    use mugai::receipt;
    let keys = tempfile::tempdir().unwrap();
    receipt::keygen(keys.path()).unwrap();
    let trusted = receipt::load_trusted(&keys.path().join("mugai.pub")).unwrap();
    let sink = Sink::start(&[]);
    let quarantine = tempfile::tempdir().unwrap();
    let q = Quarantine::open(&quarantine.path().join("q")).unwrap();
    let config = Config::default();
    let signer = receipt::Signer::load(&keys.path().join("mugai.key"), &config).unwrap();
    let engine = Arc::new(Engine::new(Arc::new(config)).unwrap());
    let filter = Arc::new(EngineFilter::new(engine, q).with_receipts(signer));
    let mugai = Mugai::start_with(sink.port, |_| {}, filter, quarantine);
    let t = swaks(mugai.addr, &mail::four_attachments(), &[]);
    assert!(final_reply(&t).contains("250 "), "{t}");
    let got = sink.wait_messages(1);
    let parsed = mail_parser::MessageParser::default().parse(got[0].as_bytes()).unwrap();
    let files: Vec<(String, Vec<u8>)> =
        parsed.attachments().filter_map(|a| Some((a.attachment_name()?.to_string(), a.contents().to_vec()))).collect();
    let (receipts, clean): (Vec<_>, Vec<_>) = files.iter().partition(|(n, _)| n.ends_with(receipt::SUFFIX));
    let mut inputs = Vec::new();
    for (name, data) in &clean {
        let json = receipts.iter().find(|(n, _)| *n == format!("{name}{}", receipt::SUFFIX));
        let (_, json) = json
            .unwrap_or_else(|| panic!("no receipt for {name}: {:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>()));
        let v = receipt::verify(data, json, &trusted).unwrap_or_else(|e| panic!("{name}: {e}"));
        inputs.push((v.receipt.input.name.clone(), name.clone(), v.receipt.verdict.as_str().to_string()));
        // A receipt vouches for its own file only.
        let other = clean.iter().find(|(n, _)| n != name).unwrap();
        assert!(receipt::verify(&other.1, json, &trusted).is_err(), "{name}'s receipt took {}", other.0);
    }
    inputs.sort();
    let expected = [
        ("invoice.docm", "invoice.docx", "disarmed"),
        ("notes.txt", "notes.txt", "kept"),
        ("statement.pdf", "statement.pdf", "disarmed"),
        ("tools.zip", "tools.zip", "disarmed"),
    ];
    let expected: Vec<_> = expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(inputs, expected);
    assert_eq!(receipts.len(), clean.len(), "one receipt per attachment and no more");
    // The message still carries its text and HTML bodies.
    assert!(parsed.body_text(0).is_some_and(|t| !t.is_empty()) && parsed.body_html(0).is_some());
}

#[test]
fn a_blocked_attachment_is_held_and_the_rest_relayed() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let original = mail::exe_attachment();
    let mut c = at_data(mugai.addr);
    c.send(&dot_stuffed(&original));
    let (code, text) = c.reply();
    assert_eq!(code, 250, "{text}");
    let got = sink.wait_messages(1);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("viewer.exe") && !got[0].contains("TVqQAAMAAAAEAAAA"),
        "a notice instead of the program: {}",
        got[0]
    );
    let held = mugai.held();
    assert_eq!(held.len(), 1, "the original goes to quarantine");
    assert_eq!(held[0], original, "the original is held byte for byte");
}

#[test]
fn a_malformed_message_gets_a_5xx_and_is_held() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let t = swaks(mugai.addr, &mail::missing_boundary(), &[]);
    let reply = final_reply(&t);
    assert!(reply.contains("554 5.7.1") && reply.contains("malformed"), "{t}");
    assert!(reply.contains("held as"), "{reply}");
    assert_eq!(mugai.held().len(), 1);
    assert!(sink.messages().is_empty());
}

/// The final reply for a plain message relayed to an smtp-sink started with `sink_args`.
fn reply_through_sink(sink_args: &[&str]) -> String {
    let sink = Sink::start(sink_args);
    let mugai = Mugai::start(sink.port, |_| {});
    final_reply(&swaks(mugai.addr, &mail::plain(), &[]))
}

#[test]
fn a_next_hop_refusing_the_data_gives_a_4xx() {
    // -r .: the sink answers the final dot with 450.
    let reply = reply_through_sink(&["-r", "."]);
    assert!(reply.contains("451 4.4.0"), "{reply}");
}

#[test]
fn a_next_hop_refusing_for_good_gives_a_5xx() {
    // -f .: the sink answers the final dot with 500.
    let reply = reply_through_sink(&["-f", "."]);
    assert!(reply.starts_with("<** 5"), "{reply}");
}

#[test]
fn a_next_hop_dropping_the_connection_gives_a_4xx() {
    // -q .: the sink hangs up after the final dot without answering.
    let reply = reply_through_sink(&["-q", "."]);
    assert!(reply.contains("451 4."), "{reply}");
}

#[test]
fn a_next_hop_that_is_down_gives_a_4xx() {
    let mugai = Mugai::start(free_port(), |_| {});
    let reply = final_reply(&swaks(mugai.addr, &mail::plain(), &[]));
    assert!(reply.contains("451 4.4.0") && reply.contains("connect"), "{reply}");
}

#[test]
fn a_next_hop_that_went_away_and_came_back_is_reached_again() {
    let sink = Sink::start(&[]);
    let port = sink.port;
    let mugai = Mugai::start(port, |_| {});
    assert!(final_reply(&swaks(mugai.addr, &mail::plain(), &[])).contains("250 "));
    assert_eq!(sink.wait_messages(1).len(), 1);
    // The connection kept from the first message is dead now: the second message must not
    // fail on it, and goes to the new sink over a new connection.
    drop(sink);
    let down = final_reply(&swaks(mugai.addr, &mail::plain(), &[]));
    assert!(down.contains("451 "), "{down}");
    let sink = Sink::start_on(port, &[]);
    assert!(final_reply(&swaks(mugai.addr, &mail::plain(), &[])).contains("250 "));
    assert_eq!(sink.wait_messages(1).len(), 1);
}

#[test]
fn a_kept_connection_closed_by_the_next_hop_is_replaced() {
    // The sink is replaced while mugai keeps a connection to the old one.
    let sink = Sink::start(&[]);
    let port = sink.port;
    let mugai = Mugai::start(port, |_| {});
    assert!(final_reply(&swaks(mugai.addr, &mail::plain(), &[])).contains("250 "));
    drop(sink);
    let sink = Sink::start_on(port, &[]);
    let reply = final_reply(&swaks(mugai.addr, &mail::plain(), &[]));
    assert!(reply.contains("250 "), "{reply}");
    assert_eq!(sink.wait_messages(1).len(), 1);
}

#[test]
fn a_next_hop_slower_than_the_relay_timeout_gives_a_4xx() {
    // -W .:5: the sink waits five seconds before answering the final dot; the relay allows one.
    let sink = Sink::start(&["-W", ".:5"]);
    let mugai = Mugai::start(sink.port, |c| c.relay_timeout = Duration::from_secs(1));
    let reply = final_reply(&swaks(mugai.addr, &mail::plain(), &[]));
    assert!(reply.contains("451 4.4.7"), "{reply}");
}

#[test]
fn a_full_quarantine_gives_a_4xx_and_relays_nothing() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    // The quarantine folder replaced by a file: nothing can be held.
    let q = mugai.quarantine.path().join("q");
    std::fs::remove_dir_all(&q).unwrap();
    std::fs::write(&q, b"not a folder").unwrap();
    let reply = final_reply(&swaks(mugai.addr, &mail::exe_attachment(), &[]));
    assert!(reply.contains("451 4.3.0") && reply.contains("quarantine"), "{reply}");
    assert!(sink.messages().is_empty());
}

#[test]
fn envelope_parameters_and_xforward_reach_the_next_hop() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let mut c = connect(mugai.addr);
    assert_eq!(c.reply().0, 220);
    let (code, ehlo) = c.cmd("EHLO client.example");
    assert_eq!(code, 250);
    for ext in ["PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "XFORWARD"] {
        assert!(ehlo.contains(ext), "{ext} missing from {ehlo}");
    }
    assert_eq!(c.cmd("XFORWARD NAME=spike.example ADDR=192.0.2.7 HELO=outside.example").0, 250);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com> SIZE=500 BODY=8BITMIME RET=HDRS ENVID=QQ314159").0, 250);
    assert_eq!(c.cmd("RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.com").0, 250);
    assert_eq!(c.cmd("DATA").0, 354);
    c.send(&dot_stuffed(&mail::plain()));
    let (code, text) = c.reply();
    assert_eq!(code, 250, "{text}");
    assert_eq!(sink.wait_messages(1).len(), 1);
    let sent = sink.commands();
    // smtp-sink offers XFORWARD NAME ADDR PROTO HELO, 8BITMIME and DSN, but not SIZE: what it
    // offers is passed on, nothing else.
    assert!(sent.contains("\nXFORWARD NAME=spike.example ADDR=192.0.2.7 HELO=outside.example\n"), "{sent}");
    assert!(sent.contains("\nMAIL FROM:<a@example.com> BODY=8BITMIME RET=HDRS ENVID=QQ314159\n"), "{sent}");
    assert!(sent.contains("\nRCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.com\n"), "{sent}");
    assert_eq!(c.cmd("QUIT").0, 221);
}

#[test]
fn a_next_hop_without_pipelining_gets_one_command_at_a_time() {
    // -p: the sink does not offer PIPELINING.
    let sink = Sink::start(&["-p"]);
    let mugai = Mugai::start(sink.port, |_| {});
    let reply = final_reply(&swaks(mugai.addr, &mail::plain(), &["--to", "b@example.com,c@example.com"]));
    assert!(reply.contains("250 "), "{reply}");
    assert_eq!(sink.wait_messages(1).len(), 1);
}

/// A next hop that offers PIPELINING and answers nothing before the whole envelope
/// (`envelope` commands: MAIL and the RCPTs) is in: a client sending one command at a time
/// would wait for the MAIL reply forever. Returns its port and the message it takes.
fn envelope_at_once_next_hop(envelope: usize) -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else { return };
        let mut out = stream.try_clone().unwrap();
        let mut lines = std::io::BufReader::new(stream);
        let mut line = String::new();
        let mut read = |line: &mut String| {
            line.clear();
            lines.read_line(line).unwrap_or(0) > 0
        };
        out.write_all(b"220 hop ESMTP\r\n").unwrap();
        let mut got = 0;
        while got < envelope && read(&mut line) {
            // lettre greets, and the relay greets again to see every extension.
            if line.starts_with("EHLO") {
                out.write_all(b"250-hop\r\n250 PIPELINING\r\n").unwrap();
            } else {
                got += 1;
            }
        }
        out.write_all("250 ok\r\n".repeat(envelope).as_bytes()).unwrap();
        assert!(read(&mut line) && line == "DATA\r\n", "{line}");
        out.write_all(b"354 go on\r\n").unwrap();
        let mut message = String::new();
        while read(&mut line) && line != ".\r\n" {
            message.push_str(&line);
        }
        out.write_all(b"250 2.0.0 queued as P1\r\n").unwrap();
        let _ = tx.send(message);
        while read(&mut line) {
            if line.starts_with("QUIT") {
                let _ = out.write_all(b"221 bye\r\n");
                return;
            }
        }
    });
    (port, rx)
}

#[test]
fn the_envelope_goes_to_a_pipelining_next_hop_in_one_go() {
    // MAIL and two RCPTs.
    let (port, taken) = envelope_at_once_next_hop(3);
    let mugai = Mugai::start(port, |c| c.relay_timeout = Duration::from_secs(20));
    let reply = final_reply(&swaks(mugai.addr, &mail::plain(), &["--to", "b@example.com,c@example.com"]));
    assert!(reply.contains("250 ") && reply.contains("queued as P1"), "{reply}");
    let message = taken.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(message.contains("X-Mugai-Result"), "{message}");
}

#[test]
fn bounces_with_the_null_sender_are_relayed_with_it() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let mut c = connect(mugai.addr);
    c.reply();
    c.cmd("EHLO c");
    assert_eq!(c.cmd("MAIL FROM:<>").0, 250);
    c.cmd("RCPT TO:<b@example.com>");
    c.cmd("DATA");
    c.send(&dot_stuffed(&mail::plain()));
    assert_eq!(c.reply().0, 250);
    assert_eq!(sink.wait_messages(1).len(), 1);
    assert!(sink.commands().contains("\nMAIL FROM:<>\n"), "{}", sink.commands());
}

#[test]
fn dot_stuffed_lines_arrive_unchanged() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let msg = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: dots\r\nMessage-ID: <dots@example.com>\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n";
    let mut c = at_data(mugai.addr);
    c.send(&dot_stuffed(msg));
    assert_eq!(c.reply().0, 250);
    let got = sink.wait_messages(1);
    // (smtp-sink writes its dump with LF line ends.)
    assert!(got[0].contains("\n.leading dot\n..two dots\n.\nend\n"), "{:?}", got[0]);
}

#[test]
fn bare_line_feeds_cannot_end_the_data_or_smuggle_a_second_message() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let mut c = at_data(mugai.addr);
    // "<LF>.<CRLF>" and "<LF>.<LF>" end the data for some servers, not for SMTP: what follows
    // them is message text, and must reach the next hop as text, not as commands.
    let mut data =
        b"From: a@example.com\r\nSubject: smuggle\r\nMessage-ID: <s@example.com>\r\n\r\nhello\n.\r\n".to_vec();
    data.extend_from_slice(
        b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nsmuggled\n.\nend\r\n.\r\n",
    );
    c.send(&data);
    let (code, text) = c.reply();
    assert_eq!(code, 250, "{text}");
    assert_eq!(c.cmd("NOOP").0, 250, "exactly one reply for the message");
    let got = sink.wait_messages(1);
    assert_eq!(got.len(), 1);
    let sent = sink.commands();
    assert_eq!(sent.matches("MAIL FROM").count(), 1, "{sent}");
    assert!(!sent.contains("evil@example.com"), "{sent}");
    assert!(got[0].contains("MAIL FROM:<evil@example.com>"), "the text arrives as text: {}", got[0]);
}

#[test]
fn pipelined_commands_get_their_replies_in_order() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let mut c = connect(mugai.addr);
    c.reply();
    c.cmd("EHLO c");
    // Everything up to DATA in one write, as PIPELINING allows.
    c.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<bad address>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n");
    let codes: Vec<u16> = (0..5).map(|_| c.reply().0).collect();
    assert_eq!(codes, [250, 250, 501, 250, 354]);
    let mut rest = dot_stuffed(&mail::plain());
    rest.extend_from_slice(b"NOOP\r\nQUIT\r\n");
    c.send(&rest);
    assert_eq!([c.reply().0, c.reply().0, c.reply().0], [250, 250, 221]);
    let got = sink.wait_messages(1);
    assert_eq!(got[0].matches("X-Rcpt-Args:").count(), 2, "{}", got[0]);
}

#[test]
fn bdat_chunks_make_one_message() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |_| {});
    let msg = mail::plain();
    let (a, b) = msg.split_at(msg.len() / 2);
    let mut c = connect(mugai.addr);
    c.reply();
    c.cmd("EHLO c");
    c.cmd("MAIL FROM:<a@example.com>");
    c.cmd("RCPT TO:<b@example.com>");
    let mut first = format!("BDAT {}\r\n", a.len()).into_bytes();
    first.extend_from_slice(a);
    c.send(&first);
    assert_eq!(c.reply().0, 250);
    let mut last = format!("BDAT {} LAST\r\n", b.len()).into_bytes();
    last.extend_from_slice(b);
    c.send(&last);
    let (code, text) = c.reply();
    assert_eq!(code, 250, "{text}");
    let got = sink.wait_messages(1);
    let subject = String::from_utf8_lossy(&msg).lines().find(|l| l.starts_with("Subject:")).unwrap().to_string();
    assert!(got[0].contains(&subject), "{}", got[0]);
    // The session goes on after the message.
    assert_eq!(c.cmd("NOOP").0, 250);
}

#[test]
fn messages_over_the_size_limit_are_refused_and_the_session_goes_on() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |c| c.max_message_size = 10_000);
    let mut c = connect(mugai.addr);
    c.reply();
    let (_, ehlo) = c.cmd("EHLO c");
    assert!(ehlo.contains("SIZE 10000"), "{ehlo}");
    // Declared too large: refused at MAIL.
    assert_eq!(c.cmd("MAIL FROM:<a@example.com> SIZE=20000").0, 552);
    // Not declared, sent too large: read to the end and refused.
    c.cmd("MAIL FROM:<a@example.com>");
    c.cmd("RCPT TO:<b@example.com>");
    assert_eq!(c.cmd("DATA").0, 354);
    let big = [mail::plain(), vec![b'x'; 30_000], b"\r\n".to_vec()].concat();
    c.send(&dot_stuffed(&big));
    assert_eq!(c.reply().0, 552);
    // BDAT chunks adding up to more than the limit: the last is read and refused.
    c.cmd("MAIL FROM:<a@example.com>");
    c.cmd("RCPT TO:<b@example.com>");
    let mut chunk = b"BDAT 6000\r\n".to_vec();
    chunk.extend_from_slice(&[b'y'; 6_000]);
    c.send(&chunk);
    assert_eq!(c.reply().0, 250);
    let mut chunk = b"BDAT 6000 LAST\r\n".to_vec();
    chunk.extend_from_slice(&[b'y'; 6_000]);
    c.send(&chunk);
    assert_eq!(c.reply().0, 552);
    // And a message within the limit still goes through.
    c.cmd("MAIL FROM:<a@example.com>");
    c.cmd("RCPT TO:<b@example.com>");
    c.cmd("DATA");
    c.send(&dot_stuffed(&mail::plain()));
    assert_eq!(c.reply().0, 250);
    assert_eq!(sink.wait_messages(1).len(), 1);
    // One chunk larger than any message: refused without reading it, and the session ends.
    c.cmd("MAIL FROM:<a@example.com>");
    c.cmd("RCPT TO:<b@example.com>");
    c.send(b"BDAT 99999999999 LAST\r\n");
    assert_eq!(c.reply().0, 552);
    assert_eq!(c.reply().0, 0);
}

#[test]
fn a_header_block_over_the_limit_is_refused() {
    let sink = Sink::start(&[]);
    let mugai = Mugai::start(sink.port, |c| c.max_header_bytes = 1000);
    let msg = format!("From: a@example.com\r\nX-Long: {}\r\n\r\nbody\r\n", "z".repeat(2000));
    let reply = final_reply(&swaks(mugai.addr, msg.as_bytes(), &[]));
    assert!(reply.contains("552 5.3.4"), "{reply}");
    assert!(sink.messages().is_empty());
}

#[test]
fn silent_clients_are_disconnected_between_commands_and_inside_data() {
    let mugai = Mugai::start(free_port(), |c| {
        c.command_timeout = Duration::from_secs(1);
        c.data_timeout = Duration::from_secs(1);
    });
    let mut c = connect(mugai.addr);
    c.reply();
    let (code, text) = c.reply();
    assert_eq!(code, 421, "{text}");
    assert_eq!(c.reply().0, 0, "closed");
    let mut c = at_data(mugai.addr);
    c.send(b"Subject: half a message\r\n");
    assert_eq!(c.reply().0, 421);
    assert_eq!(c.reply().0, 0, "closed");
}

#[test]
fn overlong_command_lines_end_the_session() {
    let mugai = Mugai::start(free_port(), |_| {});
    let mut c = connect(mugai.addr);
    c.reply();
    c.send(&vec![b'A'; 10_000]);
    assert_eq!(c.reply().0, 500);
    assert_eq!(c.reply().0, 0, "the connection is closed");
}

#[test]
fn lmtp_gives_one_reply_per_recipient() {
    // The next hop is a second mugai that takes one recipient per message: the second
    // recipient is refused there (452) and must get its own reply here.
    let sink = Sink::start(&[]);
    let inner = Mugai::start(sink.port, |c| c.max_recipients = 1);
    let mugai = Mugai::start(inner.addr.port(), |_| {});
    let mut c = connect(mugai.addr);
    c.reply();
    assert_eq!(c.cmd("LHLO c").0, 250);
    c.cmd("MAIL FROM:<a@example.com>");
    assert_eq!(c.cmd("RCPT TO:<one@example.com>").0, 250);
    assert_eq!(c.cmd("RCPT TO:<two@example.com>").0, 250);
    assert_eq!(c.cmd("DATA").0, 354);
    c.send(&dot_stuffed(&mail::plain()));
    let (first, t1) = c.reply();
    let (second, t2) = c.reply();
    assert_eq!(first, 250, "{t1}");
    assert_eq!(second / 100, 4, "{t2}");
    let got = sink.wait_messages(1);
    assert!(got[0].contains("<one@example.com>") && !got[0].contains("<two@example.com>"), "{}", got[0]);
}

#[test]
fn smtp_refuses_all_for_now_when_the_next_hop_takes_only_some_recipients() {
    let sink = Sink::start(&[]);
    let inner = Mugai::start(sink.port, |c| c.max_recipients = 1);
    let mugai = Mugai::start(inner.addr.port(), |_| {});
    let mut c = connect(mugai.addr);
    c.reply();
    c.cmd("EHLO c");
    c.cmd("MAIL FROM:<a@example.com>");
    c.cmd("RCPT TO:<one@example.com>");
    c.cmd("RCPT TO:<two@example.com>");
    c.cmd("DATA");
    c.send(&dot_stuffed(&mail::plain()));
    let (code, text) = c.reply();
    // Nobody got it, so retrying cannot duplicate it.
    assert_eq!(code, 451, "{text}");
    assert!(sink.messages().is_empty());
}

#[test]
fn connections_beyond_max_connections_get_421() {
    let mugai = Mugai::start(free_port(), |c| c.max_connections = 1);
    let mut first = connect(mugai.addr);
    assert_eq!(first.reply().0, 220);
    let mut second = connect(mugai.addr);
    assert_eq!(second.reply().0, 421);
    // Once the first leaves, there is room again.
    assert_eq!(first.cmd("QUIT").0, 221);
    drop(first);
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = connect(mugai.addr);
        let code = c.reply().0;
        if code == 220 {
            break;
        }
        assert!(Instant::now() < until, "the slot was never freed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn clients_outside_allowed_clients_are_refused() {
    let mugai = Mugai::start(free_port(), |c| c.allowed_clients = vec!["192.0.2.0/24".into()]);
    let mut c = connect(mugai.addr);
    let (code, text) = c.reply();
    assert_eq!(code, 554, "{text}");
    assert_eq!(c.reply().0, 0);
}

/// A filter that holds every message until told to let it go, to fill the engine.
struct Gate {
    open: Mutex<bool>,
    cv: std::sync::Condvar,
    entered: Mutex<usize>,
}

impl MessageFilter for Gate {
    fn filter(&self, message: Vec<u8>, _: &Envelope) -> Filtered {
        *self.entered.lock().unwrap() += 1;
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
        Filtered { decision: Decision::Relay(message), summary: "gate".into(), held_as: None }
    }
}

#[test]
fn a_full_engine_gives_451() {
    let sink = Sink::start(&[]);
    let gate = Arc::new(Gate { open: Mutex::new(false), cv: Default::default(), entered: Mutex::new(0) });
    let mugai =
        Mugai::start_with(sink.port, |c| c.max_messages_in_engine = 1, gate.clone(), tempfile::tempdir().unwrap());
    let send = |c: &mut Client<TcpStream>| {
        c.reply();
        c.cmd("EHLO c");
        c.cmd("MAIL FROM:<a@example.com>");
        c.cmd("RCPT TO:<b@example.com>");
        c.cmd("DATA");
        c.send(&dot_stuffed(&mail::plain()));
    };
    let mut first = connect(mugai.addr);
    send(&mut first);
    let until = Instant::now() + Duration::from_secs(10);
    while *gate.entered.lock().unwrap() == 0 {
        assert!(Instant::now() < until);
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut second = connect(mugai.addr);
    send(&mut second);
    let (code, text) = second.reply();
    assert_eq!(code, 451, "{text}");
    *gate.open.lock().unwrap() = true;
    gate.cv.notify_all();
    assert_eq!(first.reply().0, 250);
    assert_eq!(sink.wait_messages(1).len(), 1);
}

#[test]
fn a_stopping_server_finishes_the_message_in_progress() {
    let sink = Sink::start(&[]);
    let gate = Arc::new(Gate { open: Mutex::new(false), cv: Default::default(), entered: Mutex::new(0) });
    let cfg =
        SmtpConfig { listen: "127.0.0.1:0".into(), next_hop: format!("127.0.0.1:{}", sink.port), ..Default::default() };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(Server::bind(cfg, gate.clone())).unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = rt.spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let mut busy = connect(addr);
    busy.reply();
    busy.cmd("EHLO c");
    busy.cmd("MAIL FROM:<a@example.com>");
    busy.cmd("RCPT TO:<b@example.com>");
    busy.cmd("DATA");
    busy.send(&dot_stuffed(&mail::plain()));
    let until = Instant::now() + Duration::from_secs(10);
    while *gate.entered.lock().unwrap() == 0 {
        assert!(Instant::now() < until);
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut idle = connect(addr);
    assert_eq!(idle.reply().0, 220);
    stop.send(()).unwrap();
    // The idle session is told to come back later; the busy one gets its answer.
    assert_eq!(idle.reply().0, 421);
    *gate.open.lock().unwrap() = true;
    gate.cv.notify_all();
    let (code, text) = busy.reply();
    assert_eq!(code, 250, "{text}");
    assert_eq!(sink.wait_messages(1).len(), 1);
    assert_eq!(busy.reply().0, 421, "and then the session is closed");
    rt.block_on(done).unwrap();
    assert!(TcpStream::connect(addr).is_err(), "no longer listening");
}

struct Panicking;

impl MessageFilter for Panicking {
    fn filter(&self, _: Vec<u8>, _: &Envelope) -> Filtered {
        panic!("filter bug");
    }
}

#[test]
fn a_failing_filter_gives_451_and_the_server_goes_on() {
    let mugai = Mugai::start_with(free_port(), |_| {}, Arc::new(Panicking), tempfile::tempdir().unwrap());
    for _ in 0..2 {
        let reply = final_reply(&swaks(mugai.addr, &mail::plain(), &[]));
        assert!(reply.contains("451 4.3.0"), "{reply}");
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files.
fn test_certificate(dir: &Path) -> (PathBuf, PathBuf, Vec<u8>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert, key, ck.cert.der().to_vec())
}

fn tls_client(stream: TcpStream, ca_der: &[u8]) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from(ca_der.to_vec())).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    rustls::StreamOwned::new(conn, stream)
}

#[test]
fn starttls_works_and_discards_what_was_pipelined_before_the_handshake() {
    let sink = Sink::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = test_certificate(dir.path());
    let mugai = Mugai::start(sink.port, |c| {
        c.tls_cert = Some(cert.clone());
        c.tls_key = Some(key.clone());
    });
    let mut c = connect(mugai.addr);
    c.reply();
    let (_, ehlo) = c.cmd("EHLO c");
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
    // HELP sent with STARTTLS in one write must never be answered (it could be injected).
    c.send(b"STARTTLS\r\nHELP\r\n");
    assert_eq!(c.reply().0, 220);
    assert!(c.buf.is_empty());
    let mut t = Client { s: tls_client(c.s, &der), buf: Vec::new() };
    let (code, ehlo) = t.cmd("EHLO c");
    assert_eq!(code, 250, "{ehlo}");
    assert!(!ehlo.contains("STARTTLS") && ehlo.contains("PIPELINING"), "{ehlo}");
    t.cmd("MAIL FROM:<a@example.com>");
    t.cmd("RCPT TO:<b@example.com>");
    assert_eq!(t.cmd("DATA").0, 354);
    t.send(&dot_stuffed(&mail::plain()));
    assert_eq!(t.reply().0, 250);
    assert_eq!(sink.wait_messages(1).len(), 1);
}

#[test]
fn starttls_to_the_next_hop_when_configured() {
    // The next hop is a second mugai with a certificate; this one requires STARTTLS to it.
    let sink = Sink::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = test_certificate(dir.path());
    let inner = Mugai::start(sink.port, |c| {
        c.tls_cert = Some(cert.clone());
        c.tls_key = Some(key.clone());
    });
    let trusting = Mugai::start(inner.addr.port(), |c| {
        c.next_hop = format!("localhost:{}", inner.addr.port());
        c.next_hop_tls = NextHopTls::Starttls;
        c.next_hop_ca_file = Some(cert.clone());
    });
    assert!(final_reply(&swaks(trusting.addr, &mail::plain(), &[])).contains("250 "));
    assert_eq!(sink.wait_messages(1).len(), 1);
    // Without the certificate authority the certificate does not verify: 4xx, nothing relayed.
    let untrusting = Mugai::start(inner.addr.port(), |c| {
        c.next_hop = format!("localhost:{}", inner.addr.port());
        c.next_hop_tls = NextHopTls::Starttls;
    });
    let reply = final_reply(&swaks(untrusting.addr, &mail::plain(), &[]));
    assert!(reply.contains("451 4.4.0") && reply.contains("STARTTLS"), "{reply}");
    assert_eq!(sink.messages().len(), 1);
}

#[test]
fn commands_out_of_order_are_refused() {
    let mugai = Mugai::start(free_port(), |_| {});
    let mut c = connect(mugai.addr);
    c.reply();
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").0, 503);
    assert_eq!(c.cmd("HELO c").0, 250);
    assert_eq!(c.cmd("RCPT TO:<b@example.com>").0, 503);
    assert_eq!(c.cmd("DATA").0, 503);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").0, 250);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").0, 503);
    assert_eq!(c.cmd("DATA").0, 554);
    assert_eq!(c.cmd("RSET").0, 250);
    assert_eq!(c.cmd("STARTTLS").0, 502);
    assert_eq!(c.cmd("FOO").0, 500);
    assert_eq!(c.cmd("QUIT").0, 221);
}

#[test]
fn mugai_serve_filters_with_the_shipped_defaults_changed_by_set() {
    let sink = Sink::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mugai"))
        .arg("serve")
        .args(["--set", &format!("smtp.listen=127.0.0.1:{port}")])
        .args(["--set", &format!("smtp.next_hop=127.0.0.1:{}", sink.port)])
        .args(["--set", &format!("quarantine.dir={}", dir.path().join("q").display())])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_listening(port);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let reply = final_reply(&swaks(addr, &mail::exe_attachment(), &[]));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(reply.contains("250 "), "{reply}\n{log}");
    assert_eq!(sink.wait_messages(1).len(), 1);
    // One log line for the message, with its id, sizes and what was done.
    let line = log.lines().find(|l| l.contains(" message ")).unwrap_or_else(|| panic!("{log}"));
    for field in ["queue_id=", "message_id=", "size_in=", "result=250", "held=\"", "removed_blocked_entry", "ms="] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
    assert!(!line.contains("held=\"-\""), "{line}");
    let q = Quarantine::open(&dir.path().join("q")).unwrap();
    let held = q.list(&Filter::default()).unwrap();
    assert_eq!(held.len(), 1, "the original is held");
    assert!(line.contains(&held[0].id), "the log line names the record: {line}");
    match &held[0].source {
        mugai::quarantine::Source::Smtp { recipients, message_id, queue_id, .. } => {
            assert!(!recipients.is_empty() && message_id.is_some() && queue_id.is_some(), "{:?}", held[0].source)
        }
        other => panic!("{other:?}"),
    }
}

/// A Postfix instance of its own (configuration, queue and log in a temporary folder, loopback
/// ports), set up as the README says: an after-queue content filter to mugai over LMTP and a
/// re-injection smtpd, relaying everything to `relay_port`.
struct Postfix {
    dir: tempfile::TempDir,
    port: u16,
}

impl Postfix {
    fn start(filter_port: u16, reinject_port: u16, relay_port: u16) -> Postfix {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        for sub in ["conf", "queue", "data"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Postfix's own processes (user postfix) go through this folder to the queue.
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let chown = Command::new("chown").arg("postfix").arg(d.join("data")).status().unwrap();
        assert!(chown.success());
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {q}\n\
             data_directory = {data}\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             myhostname = mx.mugai.test\n\
             mydestination =\n\
             mynetworks = 127.0.0.0/8\n\
             alias_maps =\n\
             alias_database =\n\
             relayhost = [127.0.0.1]:{relay_port}\n\
             content_filter = mugai:[127.0.0.1]:{filter_port}\n\
             maillog_file_prefixes = {dir}\n\
             maillog_file = {dir}/maillog\n\
             syslog_name = postfix-mugai-test\n\
             smtp_dns_support_level = disabled\n\
             queue_run_delay = 1s\n\
             minimal_backoff_time = 1s\n\
             maximal_backoff_time = 2s\n",
            q = d.join("queue").display(),
            data = d.join("data").display(),
            dir = d.display(),
        );
        // The two services of the README, then the services every Postfix needs.
        let master_cf = format!(
            "127.0.0.1:{port} inet n - n - - smtpd\n\
             mugai unix - - n - 4 lmtp\n  -o lmtp_data_done_timeout=1200\n  -o lmtp_send_xforward_command=yes\n\
             127.0.0.1:{reinject_port} inet n - n - - smtpd\n  -o content_filter=\n\
             \x20 -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters\n\
             \x20 -o smtpd_helo_restrictions=\n  -o smtpd_client_restrictions=\n  -o smtpd_sender_restrictions=\n\
             \x20 -o smtpd_relay_restrictions=\n  -o smtpd_recipient_restrictions=permit_mynetworks,reject\n\
             \x20 -o mynetworks=127.0.0.0/8\n  -o smtpd_authorized_xforward_hosts=127.0.0.0/8\n\
             pickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\n\
             rewrite unix - - n - - trivial-rewrite\nbounce unix - - n - 0 bounce\ndefer unix - - n - 0 bounce\n\
             trace unix - - n - 0 bounce\nverify unix - - n - 1 verify\nflush unix n - n 1000 0 flush\n\
             proxymap unix - - n - - proxymap\nsmtp unix - - n - - smtp\nrelay unix - - n - - smtp\n\
             showq unix n - n - - showq\nerror unix - - n - - error\nretry unix - - n - - error\n\
             discard unix - - n - - discard\nlmtp unix - - n - - lmtp\nanvil unix - - n - 1 anvil\n\
             scache unix - - n - 1 scache\npostlog unix-dgram n - n - 1 postlogd\n"
        );
        std::fs::write(d.join("conf/main.cf"), main_cf).unwrap();
        std::fs::write(d.join("conf/master.cf"), master_cf).unwrap();
        let out = Command::new("/usr/sbin/postfix").arg("-c").arg(d.join("conf")).arg("start").output().unwrap();
        let pf = Postfix { dir, port };
        assert!(out.status.success(), "postfix did not start:\n{}", pf.log());
        wait_listening(port);
        pf
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("/usr/sbin/postfix").arg("-c").arg(self.dir.path().join("conf")).arg("abort").output();
    }
}

#[test]
fn postfix_in_front_delivers_through_mugai_and_keeps_mail_while_the_next_hop_is_down() {
    // Starting a Postfix instance takes root (its master process); CI runs as root.
    if !is_root() || !Path::new("/usr/sbin/postfix").exists() {
        eprintln!("skipped: needs root and Postfix");
        return;
    }
    let sink = Sink::start(&[]);
    let sink_port = sink.port;
    let reinject = free_port();
    let mugai = Mugai::start(reinject, |_| {});
    let postfix = Postfix::start(mugai.addr.port(), reinject, sink_port);
    let front: SocketAddr = format!("127.0.0.1:{}", postfix.port).parse().unwrap();

    // The gateway message: a docm, a zip with a program, a PDF with JavaScript, an HTML body.
    let t = swaks(front, &mail::four_attachments(), &[]);
    assert!(final_reply(&t).contains("250 "), "{t}");
    let got = sink.wait_messages(1);
    assert_eq!(got.len(), 1, "{}", postfix.log());
    let m = &got[0];
    assert!(m.contains("X-Mugai-Result:"), "{m}");
    assert!(m.contains("filename=\"invoice.docx\""), "{m}");
    assert!(!m.contains("vbaProject") && !m.contains("<script"), "{m}");
    // XFORWARD reached the re-injection smtpd: it knows the original queue id.
    assert!(postfix.log().contains("orig_queue_id="), "{}", postfix.log());

    // The next hop down: Postfix keeps the message and delivers it once the sink is back.
    drop(sink);
    let t = swaks(front, &mail::plain(), &[]);
    assert!(final_reply(&t).contains("250 "), "Postfix takes it into its queue: {t}");
    let until = Instant::now() + Duration::from_secs(30);
    while !postfix.log().contains("status=deferred") {
        assert!(Instant::now() < until, "never deferred:\n{}", postfix.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let sink = Sink::start_on(sink_port, &[]);
    let until = Instant::now() + Duration::from_secs(60);
    while sink.messages().is_empty() {
        assert!(Instant::now() < until, "never delivered after the sink came back:\n{}", postfix.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("Message-ID: <plain@mugai.example>"), "{}", got[0]);

    // mugai down: Postfix keeps the message in its queue and hands it over once mugai is back.
    let mugai_port = mugai.addr.port();
    drop(mugai);
    let deferred = postfix.log().matches("status=deferred").count();
    let t = swaks(front, &mail::nested_docm(), &[]);
    assert!(final_reply(&t).contains("250 "), "{t}");
    let until = Instant::now() + Duration::from_secs(30);
    while postfix.log().matches("status=deferred").count() == deferred {
        assert!(Instant::now() < until, "never deferred:\n{}", postfix.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let _mugai = Mugai::start(reinject, |c| c.listen = format!("127.0.0.1:{mugai_port}"));
    let got = sink.wait_messages(2);
    assert_eq!(got.len(), 2, "never delivered after mugai came back:\n{}", postfix.log());
    let m = got.iter().find(|m| m.contains("order.docx")).unwrap_or_else(|| panic!("{got:?}"));
    assert!(!m.contains("vbaProject"), "{m}");
}

/// A next hop of the test's own for the soak: it takes every message but every tenth, which
/// it refuses after the dot (451, as a busy server does), and counts the Message-IDs of what it
/// took. It speaks just enough ESMTP for Postfix's client (no PIPELINING offered).
struct TenthRefusingSink {
    port: u16,
    seen: Arc<std::sync::Mutex<std::collections::BTreeMap<usize, usize>>>,
    refused: Arc<std::sync::atomic::AtomicUsize>,
}

impl TenthRefusingSink {
    fn start() -> Self {
        use std::io::BufRead;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<std::sync::Mutex<std::collections::BTreeMap<usize, usize>>> = Default::default();
        let refused = Arc::new(AtomicUsize::new(0));
        let given = Arc::new(AtomicUsize::new(0));
        let (s2, r2) = (seen.clone(), refused.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, refused, given) = (s2.clone(), r2.clone(), given.clone());
                std::thread::spawn(move || {
                    let mut out = stream.try_clone().unwrap();
                    let mut lines = std::io::BufReader::new(stream);
                    let _ = out.write_all(b"220 sink ESMTP\r\n");
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let cmd = line.to_ascii_uppercase();
                        let reply: &[u8] = if cmd.starts_with("EHLO") {
                            b"250-sink\r\n250 8BITMIME\r\n"
                        } else if cmd.starts_with("QUIT") {
                            let _ = out.write_all(b"221 bye\r\n");
                            return;
                        } else if cmd.starts_with("DATA") {
                            let _ = out.write_all(b"354 go on\r\n");
                            let mut id = None;
                            loop {
                                line.clear();
                                if lines.read_line(&mut line).unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" || line == ".\n" {
                                    break;
                                }
                                let n = line.trim_end().strip_prefix("Message-ID: <soak-");
                                if let Some(n) = n.and_then(|r| r.strip_suffix("@mugai.test>")) {
                                    id = n.parse::<usize>().ok();
                                }
                            }
                            if given.fetch_add(1, Ordering::SeqCst) % 10 == 9 {
                                refused.fetch_add(1, Ordering::Relaxed);
                                b"451 4.3.0 every tenth message: try again later\r\n"
                            } else {
                                if let Some(id) = id {
                                    *seen.lock().unwrap().entry(id).or_insert(0) += 1;
                                }
                                b"250 2.0.0 taken\r\n"
                            }
                        } else {
                            b"250 ok\r\n"
                        };
                        if out.write_all(reply).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        TenthRefusingSink { port, seen, refused }
    }

    fn seen(&self) -> std::collections::BTreeMap<usize, usize> {
        self.seen.lock().unwrap().clone()
    }
}

/// The no-loss check of issue 6, by hand (`cargo test --test it -- --ignored soak`; root):
/// 1 000 messages through Postfix -> mugai (`mugai serve`, a process of its own) -> Postfix ->
/// a sink that refuses every tenth message it is given ([`TenthRefusingSink`]), while mugai is
/// killed with SIGKILL twice and started again. Every message must arrive, counted by
/// Message-ID.
///
/// Duplicates: a kill after the next hop answered a message's final dot and before mugai
/// answered its client is covered by the delivery journal (the message sent again is answered
/// as already delivered). A kill after the final dot and before the next hop's answer arrives,
/// while the next hop has committed the message, leaves the window RFC 1047 describes between
/// every two SMTP hops: the message is sent again and the next hop gets it twice. The test
/// holds a bound of eight (two kills, four messages in flight each) and prints what happened,
/// with the Postfix and mugai log lines of each duplicate: in thirteen runs every duplicate
/// (0 to 3 a run) was a message Postfix logged as "lost connection ... while sending end of
/// data -- message may be sent more than once" at a kill.
#[test]
#[ignore = "takes a minute and root; run by hand"]
fn soak_no_message_lost_or_duplicated_through_kills_and_a_failing_sink() {
    const N: usize = 1000;
    assert!(is_root(), "starting Postfix takes root");
    // The next hop fails every tenth message it is given (451 after the dot) and never
    // restarts, so the only kills are mugai's.
    let sink = TenthRefusingSink::start();
    let sink_port = sink.port;
    let mugai_port = free_port();
    let reinject = free_port();
    let qdir = tempfile::tempdir().unwrap();
    let start_mugai = || {
        let child = Command::new(env!("CARGO_BIN_EXE_mugai"))
            .arg("serve")
            .args(["--set", &format!("smtp.listen=127.0.0.1:{mugai_port}")])
            .args(["--set", &format!("smtp.next_hop=127.0.0.1:{reinject}")])
            .args(["--set", &format!("quarantine.dir={}", qdir.path().display())])
            .args(["--set", "log.level=info"])
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(qdir.path().join("mugai.log")).unwrap())
            .spawn()
            .unwrap();
        wait_listening(mugai_port);
        child
    };
    let mut mugai = start_mugai();
    let postfix = Postfix::start(mugai_port, reinject, sink_port);
    let front: SocketAddr = format!("127.0.0.1:{}", postfix.port).parse().unwrap();
    let mut c = connect(front);
    c.reply();
    c.cmd("EHLO soak.test");
    for i in 0..N {
        if i == N / 3 || i == 2 * N / 3 {
            mugai.kill().unwrap(); // SIGKILL
            mugai.wait().unwrap();
            std::thread::sleep(Duration::from_millis(500));
            mugai = start_mugai();
        }
        c.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
        assert_eq!([c.reply().0, c.reply().0, c.reply().0], [250, 250, 354]);
        let msg = format!("From: a@example.com\r\nTo: b@example.org\r\nSubject: soak {i}\r\nMessage-ID: <soak-{i}@mugai.test>\r\n\r\nmessage {i}\r\n");
        c.send(&dot_stuffed(msg.as_bytes()));
        assert_eq!(c.reply().0, 250);
    }
    c.cmd("QUIT");
    let until = Instant::now() + Duration::from_secs(300);
    let mut seen = sink.seen();
    while seen.len() < N && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(500));
        seen = sink.seen();
    }
    let _ = mugai.kill();
    let _ = mugai.wait();
    let missing: Vec<usize> = (0..N).filter(|i| !seen.contains_key(i)).collect();
    let twice: Vec<(&usize, &usize)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "soak: {} of {N} arrived, {} more than once {twice:?}, refused by the sink {} times, deferrals in the Postfix log: {}",
        seen.len(),
        twice.len(),
        sink.refused.load(std::sync::atomic::Ordering::Relaxed),
        postfix.log().matches("status=deferred").count()
    );
    // What the logs say of each duplicate: Postfix's queue ids for its Message-ID, every line of
    // those queues, and mugai's lines for the client queue ids.
    let plog = postfix.log();
    let mlog = std::fs::read_to_string(qdir.path().join("mugai.log")).unwrap_or_default();
    for (id, _) in &twice {
        let needle = format!("soak-{id}@");
        let queues: std::collections::BTreeSet<String> = plog
            .lines()
            .filter(|l| l.contains(&needle))
            .filter_map(|l| {
                l.split_whitespace()
                    .find(|w| {
                        w.ends_with(':') && w.len() > 8 && w[..w.len() - 1].chars().all(|c| c.is_ascii_alphanumeric())
                    })
                    .map(|w| w.trim_end_matches(':').to_string())
            })
            .collect();
        eprintln!("--- duplicate {id}: Postfix queues {queues:?}");
        for l in plog.lines().filter(|l| queues.iter().any(|q| l.contains(q.as_str()))) {
            eprintln!("  postfix: {l}");
        }
        for l in mlog.lines().filter(|l| l.contains(&needle) || queues.iter().any(|q| l.contains(q.as_str()))) {
            eprintln!("  mugai: {l}");
        }
    }
    assert!(missing.is_empty(), "missing {missing:?}");
    // Two kills, at most four messages in flight each (the Postfix transport's process limit).
    assert!(twice.len() <= 2 * 4 && twice.iter().all(|(_, n)| **n == 2), "more than once: {twice:?}");
}

/// One transaction on a plain SMTP or LMTP session, with the client's queue id passed as
/// Postfix passes it (XFORWARD IDENT) when given: the replies after the final dot.
fn send_once(addr: SocketAddr, lmtp: bool, ident: Option<&str>, rcpts: &[&str], message: &[u8]) -> Vec<(u16, String)> {
    let mut c = connect(addr);
    c.reply();
    c.cmd(if lmtp { "LHLO c" } else { "EHLO c" });
    if let Some(id) = ident {
        assert_eq!(c.cmd(&format!("XFORWARD IDENT={id}")).0, 250);
    }
    c.cmd("MAIL FROM:<vendor@example.com>");
    for r in rcpts {
        assert_eq!(c.cmd(&format!("RCPT TO:<{r}>")).0, 250);
    }
    assert_eq!(c.cmd("DATA").0, 354);
    c.send(&dot_stuffed(message));
    let n = if lmtp { rcpts.len() } else { 1 };
    let replies = (0..n).map(|_| c.reply()).collect();
    c.cmd("QUIT");
    replies
}

#[test]
fn a_message_sent_again_after_the_next_hop_took_it_is_not_delivered_twice() {
    // As after a restart between the next hop's 250 and ours: the client sends the same queued
    // message (same queue id) again. The journal, read back by a second server, answers for the
    // recipients already delivered and relays only the others.
    let sink = Sink::start(&[]);
    let state = tempfile::tempdir().unwrap();
    let journal = state.path().join("smtp-delivered.journal");
    let first = Mugai::start(sink.port, |c| c.journal = Some(journal.clone()));
    let replies = send_once(first.addr, true, Some("4QmXk1"), &["one@example.com"], &mail::plain());
    assert_eq!(replies[0].0, 250, "{replies:?}");
    assert_eq!(sink.wait_messages(1).len(), 1);
    drop(first);
    let second = Mugai::start(sink.port, |c| c.journal = Some(journal.clone()));
    let replies = send_once(second.addr, true, Some("4QmXk1"), &["one@example.com", "two@example.com"], &mail::plain());
    assert_eq!(replies.iter().map(|r| r.0).collect::<Vec<_>>(), [250, 250], "{replies:?}");
    assert!(replies[0].1.contains("already delivered"), "{replies:?}");
    let got = sink.wait_messages(2);
    assert_eq!(got.len(), 2, "one more copy, for the second recipient only");
    let to_two: Vec<&String> = got.iter().filter(|m| m.contains("<two@example.com>")).collect();
    assert_eq!(to_two.len(), 1);
    assert!(!to_two[0].contains("<one@example.com>"), "{}", to_two[0]);
    // Sent again over SMTP to both: nothing is relayed, one 250 for all.
    let replies =
        send_once(second.addr, false, Some("4QmXk1"), &["one@example.com", "two@example.com"], &mail::plain());
    assert!(replies[0].0 == 250 && replies[0].1.contains("already delivered"), "{replies:?}");
    // The same bytes as another queued message, or without a queue id at all, are new
    // messages (a monitor mailing the same alert every hour gets every one through).
    for ident in [Some("4QmXk2"), None] {
        let replies = send_once(second.addr, false, ident, &["one@example.com"], &mail::plain());
        assert!(replies[0].0 == 250 && !replies[0].1.contains("already"), "{replies:?}");
    }
    assert_eq!(sink.wait_messages(4).len(), 4);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(sink.messages().len(), 4);
}

#[test]
fn a_large_message_sent_again_is_recognised_too() {
    // Over 1 MiB, the journal's hash of the message is taken on a blocking thread.
    let sink = Sink::start(&[]);
    let state = tempfile::tempdir().unwrap();
    let journal = state.path().join("smtp-delivered.journal");
    let message = mail::with_attachment(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "manual.docx",
        mugai::samples::large_docx(1_500_000),
    );
    assert!(message.len() > 1024 * 1024);
    let mugai = Mugai::start(sink.port, |c| c.journal = Some(journal.clone()));
    let first = send_once(mugai.addr, false, Some("7ZbQ2"), &["one@example.com"], &message);
    assert!(first[0].0 == 250 && !first[0].1.contains("already"), "{first:?}");
    let again = send_once(mugai.addr, false, Some("7ZbQ2"), &["one@example.com"], &message);
    assert!(again[0].0 == 250 && again[0].1.contains("already delivered"), "{again:?}");
    assert_eq!(sink.wait_messages(1).len(), 1);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(sink.messages().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Re-delivery of released mail (`mugai::smtp::redeliver`)

fn next_hop(port: u16) -> SmtpConfig {
    SmtpConfig {
        next_hop: format!("127.0.0.1:{port}"),
        relay_timeout: Duration::from_secs(30),
        ..SmtpConfig::default()
    }
}

#[test]
fn a_released_message_reaches_every_recipient_at_the_next_hop() {
    use mugai::smtp::redeliver::{redeliver, released_copy};
    let sink = Sink::start(&[]);
    // Held originals are kept as received: here with bare line feeds, and a line with a dot.
    let held = b"From: a@example.com\nTo: one@example.com\nSubject: held\n\n.hidden line\nbody\n".to_vec();
    let message = released_copy(&held, "q-20261129-abc");
    let to = vec!["one@example.com".to_string(), "two@example.com".to_string()];
    let replies = redeliver(&next_hop(sink.port), "a@example.com", &to, &message).expect("delivered");
    assert_eq!(replies.len(), 2);
    for ((rcpt, reply), want) in replies.iter().zip(&to) {
        assert_eq!(rcpt, want);
        assert_eq!(reply.code, 250, "{reply:?}");
    }
    let got = sink.wait_messages(1);
    assert_eq!(got.len(), 1, "one copy for both recipients");
    assert!(got[0].contains("<one@example.com>") && got[0].contains("<two@example.com>"), "{}", got[0]);
    assert!(got[0].contains("X-Mugai-Released: ") && got[0].contains("; id=q-20261129-abc"), "{}", got[0]);
    // Dot-stuffed on the wire and unstuffed by the sink: the line arrives as it was.
    assert!(got[0].contains("\n.hidden line\n"), "{}", got[0]);
}

#[test]
fn a_next_hop_refusing_recipients_for_now_gives_each_its_4xx() {
    use mugai::smtp::redeliver::redeliver;
    // -r rcpt: the sink answers every RCPT with a 4xx.
    let sink = Sink::start(&["-r", "rcpt"]);
    let to = vec!["one@example.com".to_string(), "two@example.com".to_string()];
    let replies = redeliver(&next_hop(sink.port), "a@example.com", &to, &mail::plain()).expect("answered");
    assert_eq!(replies.len(), 2);
    for (rcpt, reply) in &replies {
        assert_eq!(reply.code / 100, 4, "{rcpt}: {reply:?}");
        assert!(reply.text.contains("RCPT"), "{reply:?}");
    }
    assert!(sink.messages().is_empty(), "{:?}\n{}", sink.messages(), sink.commands());
}

#[test]
fn a_next_hop_that_is_down_is_an_error_for_the_whole_release() {
    use mugai::smtp::redeliver::{redeliver, RedeliverError};
    let r = redeliver(&next_hop(free_port()), "a@example.com", &["one@example.com".to_string()], &mail::plain());
    match r {
        Err(RedeliverError::NextHop(text)) => assert!(text.starts_with("4.4.0") && text.contains("connect"), "{text}"),
        other => panic!("expected a next-hop error, got {other:?}"),
    }
}

#[test]
fn a_held_ppap_message_released_with_its_password_reaches_the_sink_with_the_clean_documents() {
    use mugai::model::Item;
    use mugai::samples::archive::{ppap_docm, PPAP_PASSWORD};
    use mugai::smtp::redeliver::{redeliver, released_copy};
    let sink = Sink::start(&[]);
    let held = mail::with_attachment("application/zip", "請求書.zip", ppap_docm());
    let engine = Engine::new(Arc::new(Config::default())).unwrap();
    let out = engine.process_with_password(Item::new(held, None, "message"), PPAP_PASSWORD);
    assert_eq!(out.hold_reason(), None, "{out:?}");
    let message = released_copy(out.output.as_deref().unwrap(), "q-1");
    let to = vec!["ward3@example.jp".to_string()];
    let replies = redeliver(&next_hop(sink.port), "vendor@example.com", &to, &message).unwrap();
    assert_eq!(replies[0].1.code, 250, "{replies:?}");
    let got = sink.wait_messages(1);
    // The zip arrives rebuilt: its docm became a docx (the zip's directory names it).
    let parsed = mail_parser::MessageParser::default().parse(got[0].as_bytes()).unwrap();
    let zip = parsed.attachments().next().unwrap().contents().to_vec();
    let names: Vec<String> = {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        (0..z.len()).map(|i| z.by_index(i).unwrap().name().unwrap().to_string()).collect()
    };
    assert!(names.contains(&"請求書.docx".to_string()), "{names:?}");
}
