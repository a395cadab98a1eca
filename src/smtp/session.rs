//! One client session: the SMTP/LMTP state machine over a byte stream (plain or TLS).
//!
//! Commands are read line by line from one bounded buffer; replies are collected and written
//! when no complete command is left in the buffer, which is what PIPELINING needs. Message data
//! (DATA with dot-stuffing, or BDAT chunks) is collected by smtp-proto's receivers, up to
//! `max_message_size`; beyond it the rest is read and thrown away and the message refused.

use super::filter::{message_id, Decision, Envelope, MessageFilter};
use super::journal;
use super::relay::{self, Recipient, Reply, Transaction};
use crate::config::SmtpConfig;
use smtp_proto::request::receiver::{BdatReceiver, DataReceiver, DummyDataReceiver};
use smtp_proto::{Error as ProtoError, Request};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// Longest command line, as smtp-proto reads them (RFC 5321 asks for at least 512).
const MAX_LINE: usize = smtp_proto::request::receiver::MAX_LINE_LENGTH;
/// Messages up to this size are hashed for the delivery journal on the session's own thread
/// (a thread hop costs more than hashing them).
const DIGEST_INLINE: usize = 1024 * 1024;
/// XFORWARD attributes kept per session, and the longest value.
const MAX_XFORWARD: usize = 16;
const MAX_XFORWARD_VALUE: usize = 255;

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What every session shares.
pub struct Shared {
    pub config: SmtpConfig,
    pub filter: Arc<dyn MessageFilter>,
    pub tls: Option<TlsAcceptor>,
    pub engine_slots: Arc<Semaphore>,
    pub pool: relay::Pool,
    /// Deliveries the next hop accepted (see [`journal`]); `None` when not configured.
    pub journal: Option<Arc<journal::Journal>>,
    /// Becomes true when the server stops: sessions waiting for a command say 421 and close;
    /// a message being received, disarmed or relayed is finished first.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Greeting {
    Helo,
    Ehlo,
    Lhlo,
}

struct Tx {
    relay: Transaction,
    /// BDAT chunks so far.
    data: Vec<u8>,
    /// Set once a BDAT chunk was refused: the rest of the chunks are read and refused too.
    bdat_failed: Option<Reply>,
}

enum Next {
    Continue,
    Quit,
    Data,
    Bdat { size: usize, last: bool },
    StartTls,
}

struct Session {
    shared: Arc<Shared>,
    peer: SocketAddr,
    io: Box<dyn Io>,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    greeting: Option<Greeting>,
    helo: String,
    tls_active: bool,
    tx: Option<Tx>,
    xforward: Vec<(String, String)>,
}

static QUEUE_SEQ: AtomicU64 = AtomicU64::new(0);

/// A short id for one received message, for the log and the 250 reply.
fn queue_id() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
    format!("{:X}{:04X}", t as u64 & 0xFFFF_FFFF_FFFF, QUEUE_SEQ.fetch_add(1, Ordering::Relaxed) & 0xFFFF)
}

pub async fn run(shared: Arc<Shared>, io: Box<dyn Io>, peer: SocketAddr) {
    let mut s = Session {
        shared,
        peer,
        io,
        inbuf: Vec::with_capacity(8192),
        out: Vec::with_capacity(1024),
        greeting: None,
        helo: String::new(),
        tls_active: false,
        tx: None,
        xforward: Vec::new(),
    };
    if let Err(e) = s.serve().await {
        tracing::debug!(client = %peer, "session ended: {e}");
    }
}

/// Why a session stops early.
type Stop = std::io::Error;

impl Session {
    fn reply(&mut self, code: u16, text: &str) {
        self.out.extend_from_slice(format!("{code} {text}\r\n").as_bytes());
    }

    async fn flush(&mut self) -> Result<(), Stop> {
        if !self.out.is_empty() {
            self.io.write_all(&self.out).await?;
            self.io.flush().await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Reads more bytes into the input buffer; false at end of stream. A client silent for
    /// `timeout` gets 421 and the session ends.
    async fn fill(&mut self, timeout: Duration) -> Result<bool, Stop> {
        let mut buf = [0u8; 16 * 1024];
        let read = tokio::time::timeout(timeout, self.io.read(&mut buf)).await;
        self.took(read, &buf).await
    }

    /// What one timed read gave: bytes into the input buffer (true), end of stream (false), or
    /// for a silent client 421 and the end of the session.
    async fn took(
        &mut self,
        read: Result<std::io::Result<usize>, tokio::time::error::Elapsed>,
        buf: &[u8],
    ) -> Result<bool, Stop> {
        match read {
            Ok(Ok(0)) => Ok(false),
            Ok(Ok(n)) => {
                self.inbuf.extend_from_slice(&buf[..n]);
                Ok(true)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => {
                self.reply(421, "4.4.2 Idle timeout, closing connection");
                self.flush().await?;
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "idle timeout"))
            }
        }
    }

    /// [`Session::fill`] between commands, where a stopping server ends the session with 421.
    async fn fill_command(&mut self) -> Result<bool, Stop> {
        let mut stopping = self.shared.stopping.clone();
        let stopped = *stopping.borrow();
        if stopped {
            return self.closing().await;
        }
        let timeout = self.shared.config.command_timeout;
        let mut buf = [0u8; 16 * 1024];
        let read = tokio::select! {
            r = tokio::time::timeout(timeout, self.io.read(&mut buf)) => r,
            // The guard wait_for returns must not live across the await below.
            _ = async { drop(stopping.wait_for(|s| *s).await) } => return self.closing().await,
        };
        self.took(read, &buf).await
    }

    async fn serve(&mut self) -> Result<(), Stop> {
        let greeting = format!("220 {} ESMTP mugai", self.shared.config.hostname);
        self.out.extend_from_slice(greeting.as_bytes());
        self.out.extend_from_slice(b"\r\n");
        loop {
            while let Some(pos) = memchr::memchr(b'\n', &self.inbuf) {
                let line: Vec<u8> = self.inbuf.drain(..=pos).collect();
                match self.command(&line) {
                    Next::Continue => {}
                    Next::Quit => {
                        self.reply(221, "2.0.0 Bye");
                        return self.flush().await;
                    }
                    Next::Data => {
                        self.reply(354, "Start mail input; end with <CRLF>.<CRLF>");
                        self.flush().await?;
                        self.receive_data().await?;
                    }
                    // A chunk larger than any message we take is not read through: the
                    // client is told and the session ends.
                    Next::Bdat { size, .. } if size as u64 > self.shared.config.max_message_size => {
                        self.reply(552, "5.3.4 Message size exceeds fixed maximum message size, closing connection");
                        return self.flush().await;
                    }
                    Next::Bdat { size, last } => self.receive_bdat(size, last).await?,
                    Next::StartTls => {
                        self.reply(220, "2.0.0 Ready to start TLS");
                        self.flush().await?;
                        self.start_tls().await?;
                    }
                }
            }
            if self.inbuf.len() > MAX_LINE {
                self.reply(500, "5.5.2 Line too long, closing connection");
                return self.flush().await;
            }
            self.flush().await?;
            if !self.fill_command().await? {
                return Ok(());
            }
        }
    }

    async fn closing(&mut self) -> Result<bool, Stop> {
        self.reply(421, "4.3.2 Service shutting down, try again later");
        self.flush().await?;
        Ok(false)
    }

    /// Upgrades the stream. Whatever the client sent after STARTTLS before the handshake is
    /// thrown away (RFC 3207: it could have been injected by someone in between).
    async fn start_tls(&mut self) -> Result<(), Stop> {
        let Some(acceptor) = self.shared.tls.clone() else { return Ok(()) };
        self.inbuf.clear();
        let io = std::mem::replace(&mut self.io, Box::new(tokio::io::join(tokio::io::empty(), tokio::io::sink())));
        let tls = tokio::time::timeout(self.shared.config.command_timeout, acceptor.accept(io))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timeout"))??;
        self.io = Box::new(tls);
        self.tls_active = true;
        self.greeting = None;
        self.tx = None;
        self.helo.clear();
        Ok(())
    }

    fn command(&mut self, line: &[u8]) -> Next {
        if line.len() > 9 && line[..9].eq_ignore_ascii_case(b"XFORWARD ") {
            self.xforward_command(&line[9..]);
            return Next::Continue;
        }
        let req = match Request::parse(&mut line.iter()) {
            Ok(r) => r.into_owned(),
            Err(e) => {
                let (code, text) = match e {
                    ProtoError::UnknownCommand => (500, "5.5.2 Command not recognized".to_string()),
                    ProtoError::InvalidSenderAddress => (501, "5.1.7 Bad sender address syntax".into()),
                    ProtoError::InvalidRecipientAddress => (501, "5.1.3 Bad recipient address syntax".into()),
                    ProtoError::SyntaxError { syntax } => (501, format!("5.5.4 Syntax: {syntax}")),
                    ProtoError::InvalidParameter { param } => (501, format!("5.5.4 Invalid parameter {param}")),
                    ProtoError::UnsupportedParameter { param } => {
                        (555, format!("5.5.4 Unsupported parameter {}", super::filter::one_line(&param)))
                    }
                    ProtoError::ResponseTooLong => (500, "5.5.2 Line too long".into()),
                    _ => (500, "5.5.2 Syntax error".into()),
                };
                self.reply(code, &text);
                return Next::Continue;
            }
        };
        let cfg = &self.shared.config;
        match req {
            Request::Ehlo { host } | Request::Lhlo { host } | Request::Helo { host } if host.is_empty() => {
                self.reply(501, "5.5.4 A host name is required");
            }
            Request::Ehlo { host } => self.hello(Greeting::Ehlo, host),
            Request::Lhlo { host } => self.hello(Greeting::Lhlo, host),
            Request::Helo { host } => self.hello(Greeting::Helo, host),
            Request::Mail { from } => {
                if self.greeting.is_none() {
                    self.reply(503, "5.5.1 Send EHLO, LHLO or HELO first");
                } else if self.tx.is_some() {
                    self.reply(503, "5.5.1 Nested MAIL command");
                } else if from.size as u64 > cfg.max_message_size {
                    self.reply(552, "5.3.4 Message size exceeds fixed maximum message size");
                } else {
                    use smtp_proto::*;
                    let body = if from.flags & MAIL_BODY_8BITMIME != 0 {
                        Some("8BITMIME".to_string())
                    } else if from.flags & MAIL_BODY_7BIT != 0 {
                        Some("7BIT".to_string())
                    } else {
                        None
                    };
                    let ret = if from.flags & MAIL_RET_FULL != 0 {
                        Some("FULL".to_string())
                    } else if from.flags & MAIL_RET_HDRS != 0 {
                        Some("HDRS".to_string())
                    } else {
                        None
                    };
                    let relay = Transaction {
                        from: from.address,
                        body,
                        smtputf8: from.flags & MAIL_SMTPUTF8 != 0,
                        ret,
                        envid: from.env_id.map(|e| xtext(&e)),
                        recipients: Vec::new(),
                        // XFORWARD describes the next transaction only (as Postfix's smtpd
                        // treats it); a client that reuses the session sends it again.
                        xforward: std::mem::take(&mut self.xforward),
                    };
                    self.tx = Some(Tx { relay, data: Vec::new(), bdat_failed: None });
                    self.reply(250, "2.1.0 Ok");
                }
            }
            Request::Rcpt { to } => {
                let max = cfg.max_recipients;
                match &mut self.tx {
                    None => self.reply(503, "5.5.1 Need MAIL command first"),
                    Some(tx) if tx.relay.recipients.len() >= max => self.reply(452, "4.5.3 Too many recipients"),
                    Some(tx) => {
                        use smtp_proto::*;
                        let notify = if to.flags & RCPT_NOTIFY_NEVER != 0 {
                            Some("NEVER".to_string())
                        } else {
                            let names: Vec<&str> = [
                                (RCPT_NOTIFY_SUCCESS, "SUCCESS"),
                                (RCPT_NOTIFY_FAILURE, "FAILURE"),
                                (RCPT_NOTIFY_DELAY, "DELAY"),
                            ]
                            .iter()
                            .filter(|(f, _)| to.flags & f != 0)
                            .map(|(_, n)| *n)
                            .collect();
                            (!names.is_empty()).then(|| names.join(","))
                        };
                        let orcpt = to.orcpt.map(|o| format!("rfc822;{}", xtext(&o)));
                        tx.relay.recipients.push(Recipient { address: to.address, notify, orcpt });
                        self.reply(250, "2.1.5 Ok");
                    }
                }
            }
            Request::Data => match &self.tx {
                None => self.reply(503, "5.5.1 Need MAIL command first"),
                Some(tx) if tx.relay.recipients.is_empty() => self.reply(554, "5.5.1 No valid recipients"),
                Some(tx) if !tx.data.is_empty() => self.reply(503, "5.5.1 DATA after BDAT"),
                Some(_) => return Next::Data,
            },
            Request::Bdat { chunk_size, is_last } => return Next::Bdat { size: chunk_size, last: is_last },
            Request::Rset => {
                self.tx = None;
                self.reply(250, "2.0.0 Ok");
            }
            Request::Noop { .. } => self.reply(250, "2.0.0 Ok"),
            Request::Quit => return Next::Quit,
            Request::StartTls => {
                if self.shared.tls.is_none() {
                    self.reply(502, "5.5.1 STARTTLS not available");
                } else if self.tls_active {
                    self.reply(503, "5.5.1 TLS already active");
                } else if self.tx.is_some() {
                    self.reply(503, "5.5.1 STARTTLS inside a mail transaction");
                } else {
                    return Next::StartTls;
                }
            }
            Request::Vrfy { .. } => self.reply(252, "2.5.2 Cannot verify, but will try delivery"),
            Request::Help { .. } => self.reply(214, "2.0.0 See RFC 5321"),
            _ => self.reply(502, "5.5.1 Command not implemented"),
        }
        Next::Continue
    }

    fn hello(&mut self, g: Greeting, host: String) {
        self.tx = None;
        self.greeting = Some(g);
        self.helo = super::filter::one_line(&host);
        let cfg = &self.shared.config;
        if g == Greeting::Helo {
            let text = cfg.hostname.clone();
            self.reply(250, &text);
            return;
        }
        let mut lines = vec![
            cfg.hostname.clone(),
            "PIPELINING".into(),
            format!("SIZE {}", cfg.max_message_size),
            "8BITMIME".into(),
            "SMTPUTF8".into(),
            "ENHANCEDSTATUSCODES".into(),
            "CHUNKING".into(),
            "DSN".into(),
        ];
        if self.shared.tls.is_some() && !self.tls_active {
            lines.push("STARTTLS".into());
        }
        lines.push("XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE".into());
        let n = lines.len();
        for (i, l) in lines.into_iter().enumerate() {
            let sep = if i + 1 == n { ' ' } else { '-' };
            self.out.extend_from_slice(format!("250{sep}{l}\r\n").as_bytes());
        }
    }

    /// `XFORWARD NAME=... ADDR=...`: what the client knows of the original sender, passed on to
    /// the next hop. Values are kept as received (xtext), bounded in number and length.
    fn xforward_command(&mut self, args: &[u8]) {
        if self.tx.is_some() {
            self.reply(503, "5.5.1 XFORWARD inside a mail transaction");
            return;
        }
        let args = String::from_utf8_lossy(args);
        let mut attrs = Vec::new();
        for word in args.split_whitespace() {
            let Some((k, v)) = word.split_once('=') else {
                self.reply(501, "5.5.4 Syntax: XFORWARD attribute=value ...");
                return;
            };
            let k = k.to_ascii_uppercase();
            let known = ["NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"];
            if !known.contains(&k.as_str()) || v.len() > MAX_XFORWARD_VALUE || v.contains(|c: char| c.is_control()) {
                self.reply(501, "5.5.4 Bad XFORWARD attribute");
                return;
            }
            attrs.push((k, v.to_owned()));
        }
        for (k, v) in attrs {
            self.xforward.retain(|(have, _)| *have != k);
            if self.xforward.len() < MAX_XFORWARD {
                self.xforward.push((k, v));
            }
        }
        self.reply(250, "2.0.0 Ok");
    }

    /// Hands the buffered input to `ingest` (a DATA or BDAT receiver) and drops what it took,
    /// reading more (under the data timeout) until it says the message or chunk is complete.
    async fn feed(
        &mut self,
        what: &str,
        mut ingest: impl FnMut(&mut std::slice::Iter<'_, u8>) -> bool,
    ) -> Result<(), Stop> {
        loop {
            let mut it = self.inbuf.iter();
            let done = ingest(&mut it);
            let consumed = self.inbuf.len() - it.as_slice().len();
            self.inbuf.drain(..consumed);
            if done {
                return Ok(());
            }
            if !self.fill(self.shared.config.data_timeout).await? {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("connection closed inside {what}"),
                ));
            }
        }
    }

    async fn receive_data(&mut self) -> Result<(), Stop> {
        let max = self.shared.config.max_message_size;
        let mut rx = DataReceiver::new();
        let mut discard: Option<DummyDataReceiver> = None;
        let mut msg = Vec::new();
        self.feed("DATA", |it| {
            let done = match &mut discard {
                Some(d) => d.ingest(it),
                None => rx.ingest(it, &mut msg),
            };
            if discard.is_none() && msg.len() as u64 > max {
                discard = Some(DummyDataReceiver::new_data(&rx));
                msg = Vec::new();
            }
            done
        })
        .await?;
        let Some(tx) = self.tx.take() else { return Ok(()) };
        if discard.is_some() {
            let r = Reply::new(552, "5.3.4 Message size exceeds fixed maximum message size");
            self.answer(&vec![r; tx.relay.recipients.len()]);
            return Ok(());
        }
        self.deliver(tx, msg).await;
        Ok(())
    }

    async fn receive_bdat(&mut self, size: usize, last: bool) -> Result<(), Stop> {
        let max = self.shared.config.max_message_size;
        let refusal = match &self.tx {
            None => Some(Reply::new(503, "5.5.1 Need MAIL command first")),
            Some(tx) if tx.relay.recipients.is_empty() => Some(Reply::new(554, "5.5.1 No valid recipients")),
            Some(tx) if tx.bdat_failed.is_some() => tx.bdat_failed.clone(),
            Some(tx) if (tx.data.len() as u64).saturating_add(size as u64) > max => {
                Some(Reply::new(552, "5.3.4 Message size exceeds fixed maximum message size"))
            }
            Some(_) => None,
        };
        if let Some(r) = refusal {
            // The chunk's bytes are read and thrown away so that the next command is found.
            let mut d = DummyDataReceiver::new_bdat(size);
            self.feed("BDAT", |it| d.ingest(it)).await?;
            if let Some(tx) = &mut self.tx {
                tx.bdat_failed = Some(r.clone());
                if last {
                    self.tx = None;
                }
            }
            self.reply(r.code, &r.text);
            return Ok(());
        }
        let mut data = self.tx.as_mut().map(|t| std::mem::take(&mut t.data)).unwrap_or_default();
        let mut rx = BdatReceiver::new(size, last);
        if size > 0 {
            self.feed("BDAT", |it| rx.ingest(it, &mut data)).await?;
        }
        if !last {
            if let Some(tx) = &mut self.tx {
                tx.data = data;
            }
            self.reply(250, &format!("2.0.0 {size} bytes received"));
            return Ok(());
        }
        if let Some(tx) = self.tx.take() {
            self.deliver(tx, data).await;
        }
        Ok(())
    }

    /// Writes the answer to a finished message: one reply (SMTP) or one per recipient (LMTP).
    fn answer(&mut self, replies: &[Reply]) {
        if self.greeting == Some(Greeting::Lhlo) {
            for r in replies {
                self.reply(r.code, &r.text);
            }
            return;
        }
        // All taken, or all refused for good: the first reply speaks for all. Otherwise some
        // recipient can still succeed later, so the whole message is tried again.
        let one = if replies.iter().all(Reply::is_ok) || replies.iter().all(|r| r.code >= 500) {
            replies.first().cloned()
        } else {
            replies.iter().find(|r| (400..500).contains(&r.code)).cloned()
        };
        let one = one.unwrap_or_else(|| Reply::new(451, "4.3.0 Internal error"));
        self.reply(one.code, &one.text);
    }

    /// Disarms and relays one complete message and queues the answer.
    async fn deliver(&mut self, mut tx: Tx, mut msg: Vec<u8>) {
        // Recipients the next hop already accepted this very message for (it is being sent
        // again after mugai stopped before answering): answered at once, not relayed again.
        // Only a message the client names (its queue id, which Postfix passes with XFORWARD
        // IDENT and keeps on every attempt) can be told apart from a new one with the same
        // bytes: a device mailing the same scan notice with a fixed Message-ID must get every
        // one through.
        let identity = tx.relay.xforward.iter().find(|(k, _)| k == "IDENT").map(|(_, v)| v.clone());
        let journal = self.shared.journal.clone().filter(|_| identity.is_some());
        let keys: Vec<[u8; 32]> = match (&journal, &identity) {
            (Some(_), Some(identity)) => {
                // Hashing a large message (about 25 ms for 50 MB) would hold this runtime
                // thread and every session on it; it goes to a blocking thread instead.
                let digest = if msg.len() > DIGEST_INLINE {
                    match tokio::task::spawn_blocking(move || (journal::message_digest(&msg), msg)).await {
                        Ok((digest, back)) => {
                            msg = back;
                            digest
                        }
                        Err(e) => {
                            tracing::error!(client = %self.peer, "hashing the message failed: {e}");
                            let n = tx.relay.recipients.len();
                            self.answer(&vec![Reply::new(451, "4.3.0 Internal error, try again later"); n]);
                            return;
                        }
                    }
                } else {
                    journal::message_digest(&msg)
                };
                let from = &tx.relay.from;
                tx.relay.recipients.iter().map(|r| journal::key(&digest, identity, from, &r.address)).collect()
            }
            _ => Vec::new(),
        };
        let done: Vec<bool> = keys.iter().map(|k| journal.as_ref().is_some_and(|j| j.contains(k))).collect();
        let all_recipients = tx.relay.recipients.len();
        if done.iter().any(|d| *d) {
            let already = done.iter().filter(|d| **d).count();
            tracing::info!(client = %self.peer, recipients = all_recipients, already, "message sent again: already delivered");
            if already == all_recipients {
                self.answer(&vec![Reply::new(250, "2.0.0 Ok: already delivered"); all_recipients]);
                return;
            }
            let mut flags = done.iter();
            tx.relay.recipients.retain(|_| !flags.next().copied().unwrap_or(false));
        }
        let pending: Vec<[u8; 32]> = keys.iter().zip(&done).filter(|(_, d)| !**d).map(|(k, _)| *k).collect();
        let start = Instant::now();
        let cfg = &self.shared.config;
        let id = queue_id();
        let n = tx.relay.recipients.len();
        let size_in = msg.len();
        let mid = message_id(&msg).unwrap_or_default();
        let all = |r: Reply| vec![r; n];
        let mut size_out = 0usize;
        let summary;
        let mut held = None;
        let mut next_hop = None;
        let header_end = memchr::memmem::find(&msg, b"\r\n\r\n")
            .or_else(|| memchr::memmem::find(&msg, b"\n\n"))
            .unwrap_or(msg.len());
        let replies = if header_end as u64 > cfg.max_header_bytes {
            summary = "header too large".into();
            all(Reply::new(552, "5.3.4 Message header exceeds the fixed maximum size"))
        } else if let Ok(permit) = self.shared.engine_slots.clone().try_acquire_owned() {
            let envelope = Envelope {
                client: self.peer.to_string(),
                from: tx.relay.from.clone(),
                recipients: tx.relay.recipients.iter().map(|r| r.address.clone()).collect(),
                queue_id: Some(id.clone()),
                upstream_id: identity.clone(),
            };
            let filter = self.shared.filter.clone();
            let (send, receive) = tokio::sync::oneshot::channel();
            let job = {
                let filter = filter.clone();
                move || {
                    let _permit = permit;
                    // A panic must not take the worker (a rayon pool aborts on one): it drops
                    // `send`, and the session sees the channel closed and answers 451.
                    let run = std::panic::AssertUnwindSafe(|| filter.filter(msg, &envelope));
                    if let Ok(filtered) = std::panic::catch_unwind(run) {
                        let _ = send.send(filtered);
                    }
                }
            };
            filter.spawn(Box::new(job));
            match receive.await {
                Err(e) => {
                    tracing::error!("message filter failed: {e}");
                    summary = "internal error".into();
                    all(Reply::new(451, "4.3.0 Internal error, try again later"))
                }
                Ok(f) => {
                    summary = f.summary;
                    held = f.held_as;
                    match f.decision {
                        Decision::Reject(text) => all(Reply::new(554, text)),
                        Decision::Defer(text) => all(Reply::new(451, text)),
                        Decision::Relay(clean) => {
                            size_out = clean.len();
                            let lmtp = self.greeting == Some(Greeting::Lhlo);
                            let r = relay::relay(cfg, &self.shared.pool, &tx.relay, &clean, !lmtp).await;
                            next_hop = r.next_hop_reply;
                            r.replies
                                .into_iter()
                                .map(|r| {
                                    if r.is_ok() {
                                        Reply::new(250, format!("2.0.0 Ok: queued as {id} ({})", r.text))
                                    } else {
                                        r
                                    }
                                })
                                .collect()
                        }
                    }
                }
            }
        } else {
            summary = "engine busy".into();
            all(Reply::new(451, "4.3.2 Too many messages in process, try again later"))
        };
        // Recorded before the client hears of it: a restart between the two then finds it.
        let mut replies = replies;
        if let Some(j) = &journal {
            let accepted: Vec<[u8; 32]> =
                pending.iter().zip(&replies).filter(|(_, r)| r.is_ok()).map(|(k, _)| *k).collect();
            if let Err(e) = j.record(&accepted) {
                // The message is delivered: the worst a lost record does is a second copy after
                // a restart, which is what happens without the journal.
                tracing::error!(journal = %j.path().display(), "cannot record a delivery: {e}");
            }
        }
        if n < all_recipients {
            let mut relayed = replies.into_iter();
            replies = done
                .iter()
                .map(|d| {
                    if *d {
                        Reply::new(250, "2.0.0 Ok: already delivered")
                    } else {
                        relayed.next().unwrap_or_else(|| Reply::new(451, "4.3.0 Internal error, try again later"))
                    }
                })
                .collect();
        }
        let result: Vec<String> = replies.iter().map(|r| r.code.to_string()).collect();
        // The client's own queue id, when it passed it with XFORWARD IDENT (Postfix does).
        let upstream = tx.relay.xforward.iter().find(|(k, _)| k == "IDENT").map(|(_, v)| v.as_str());
        tracing::info!(
            client = %self.peer,
            helo = %self.helo,
            upstream_id = upstream.unwrap_or("-"),
            queue_id = %id,
            next_hop = next_hop.as_deref().unwrap_or("-"),
            message_id = %mid,
            from = %tx.relay.from,
            rcpts = n,
            size_in,
            size_out,
            result = %result.join(","),
            held = held.as_deref().unwrap_or("-"),
            parts = %summary,
            ms = start.elapsed().as_millis() as u64,
            "message"
        );
        self.answer(&replies);
    }
}

/// xtext (RFC 3461): `+`, `=`, controls, spaces and non-ASCII as `+XX`.
fn xtext(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtext_encodes_plus_equals_and_spaces() {
        assert_eq!(xtext("a+b=c d"), "a+2Bb+3Dc+20d");
    }
}
