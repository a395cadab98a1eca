//! The relay: hands a clean message to the next hop with lettre's low-level async connection,
//! the envelope pipelined when the next hop offers PIPELINING, and reports the next hop's
//! answer for every recipient.
//!
//! The envelope's parameters (SIZE, BODY, SMTPUTF8, RET, ENVID, NOTIFY, ORCPT) are passed on when
//! the next hop offers the extension they belong to, and XFORWARD attributes when it offers
//! XFORWARD. Any failure before the next hop has answered the final dot is temporary for every
//! recipient: the client keeps the message. Nothing here decides what is in the message.

use crate::config::{NextHopTls, SmtpConfig};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::time::Duration;

/// One reply line to give the client: code, enhanced status code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply { code, text: text.into() }
    }
    pub fn is_ok(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

/// One recipient with its RCPT parameters as they go on the wire (` NOTIFY=... ORCPT=...`).
#[derive(Debug, Clone)]
pub struct Recipient {
    pub address: String,
    pub notify: Option<String>,
    pub orcpt: Option<String>,
}

/// What to relay.
#[derive(Debug, Clone, Default)]
pub struct Transaction {
    pub from: String,
    /// `BODY=` value (`8BITMIME`, `7BIT`), if the client gave one.
    pub body: Option<String>,
    pub smtputf8: bool,
    /// `RET=` value (`FULL`, `HDRS`).
    pub ret: Option<String>,
    /// `ENVID=` value, xtext-encoded as received.
    pub envid: Option<String>,
    pub recipients: Vec<Recipient>,
    /// XFORWARD attributes (`NAME`, `ADDR`, `PROTO`, `HELO`, ...), values as received.
    pub xforward: Vec<(String, String)>,
}

/// The result of one relay: one reply per recipient, in order, and the next hop's queue id
/// text when it took the message.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub replies: Vec<Reply>,
    pub next_hop_reply: Option<String>,
}

/// Connections to the next hop kept open between messages, so that a busy filter does not
/// open, greet and close one per message. A connection is put back only after a transaction
/// the next hop took; an idle one is used again for at most 30 seconds.
pub struct Pool {
    idle: std::sync::Mutex<Vec<Idle>>,
}

struct Idle {
    conn: AsyncSmtpConnection,
    ext: Extensions,
    since: std::time::Instant,
}

/// Idle connections kept, and for how long (well under the 300 s Postfix's smtpd waits).
const MAX_IDLE: usize = 32;
const IDLE_FOR: Duration = Duration::from_secs(30);

impl Default for Pool {
    fn default() -> Self {
        Pool { idle: std::sync::Mutex::new(Vec::new()) }
    }
}

impl Pool {
    fn take(&self) -> Option<(AsyncSmtpConnection, Extensions)> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        // Stale ones are dropped (closing the socket) on the way.
        while let Some(i) = idle.pop() {
            if i.since.elapsed() < IDLE_FOR {
                return Some((i.conn, i.ext));
            }
        }
        None
    }

    /// Says QUIT on every idle connection and closes it (for a pool that is not used again).
    pub async fn close(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for mut i in idle {
            let _ = i.conn.quit().await;
        }
    }

    fn put(&self, conn: AsyncSmtpConnection, ext: Extensions) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(Idle { conn, ext, since: std::time::Instant::now() });
        }
    }
}

/// Relays `data` (a whole message, CRLF line ends) for `tx`. With `all_or_nothing` (SMTP, where
/// the client can be given one answer only), the message is sent only when the next hop took
/// every recipient; otherwise (LMTP) to those it took, the others keeping their own reply.
pub async fn relay(config: &SmtpConfig, pool: &Pool, tx: &Transaction, data: &[u8], all_or_nothing: bool) -> Relayed {
    match try_relay(config, pool, tx, data, all_or_nothing).await {
        Ok(r) => r,
        Err(text) => Relayed { replies: vec![Reply::new(451, text); tx.recipients.len()], next_hop_reply: None },
    }
}

/// [`relay`], with a failure before the next hop answered the final dot (it cannot be
/// reached, it broke the connection, it did not answer in time) kept apart from its replies:
/// the error is the enhanced status code and text every recipient would get as a 451.
pub async fn try_relay(
    config: &SmtpConfig,
    pool: &Pool,
    tx: &Transaction,
    data: &[u8],
    all_or_nothing: bool,
) -> Result<Relayed, String> {
    match tokio::time::timeout(config.relay_timeout, relay_inner(config, pool, tx, data, all_or_nothing)).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(format!("4.4.0 next hop {}: {}", config.next_hop, one_line(&e))),
        Err(_) => Err(format!("4.4.7 next hop {} did not answer in time", config.next_hop)),
    }
}

fn one_line(s: &str) -> String {
    super::filter::one_line(s)
}

/// A failure that keeps the whole message with the client.
type Temp = String;

/// How a transaction failed.
enum Fail {
    /// At its first command, before the next hop took anything: on a connection kept from
    /// before, it may just have been closed meanwhile, and a new one is tried.
    First(Temp),
    Later(Temp),
}

async fn relay_inner(
    config: &SmtpConfig,
    pool: &Pool,
    tx: &Transaction,
    data: &[u8],
    all_or_nothing: bool,
) -> Result<Relayed, Temp> {
    loop {
        let (mut conn, ext, reused) = match pool.take() {
            Some((c, e)) => (c, e, true),
            None => {
                let (c, e) = open(config).await?;
                (c, e, false)
            }
        };
        match transaction(&mut conn, &ext, tx, data, all_or_nothing).await {
            Ok((relayed, After::Reuse)) => {
                pool.put(conn, ext);
                return Ok(relayed);
            }
            Ok((relayed, After::Quit)) => {
                let _ = conn.quit().await;
                return Ok(relayed);
            }
            Err(Fail::First(_)) if reused => conn.abort().await,
            Err(Fail::First(e) | Fail::Later(e)) => {
                conn.abort().await;
                return Err(e);
            }
        }
    }
}

/// A new connection to the next hop: greeted, upgraded with STARTTLS when configured, and its
/// extensions known.
async fn open(config: &SmtpConfig) -> Result<(AsyncSmtpConnection, Extensions), Temp> {
    let hello = ClientId::Domain(config.hostname.clone());
    let (host, port) = config.next_hop.rsplit_once(':').ok_or("next hop is not host:port")?;
    let port: u16 = port.parse().map_err(|_| "next hop port is not a number")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let connect_timeout = config.relay_timeout.min(Duration::from_secs(60));
    let tcp = tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect((host, port)))
        .await
        .map_err(|_| "cannot connect: timed out".to_string())?
        .map_err(|e| format!("cannot connect: {e}"))?;
    // Commands and the message go out in several small writes on a connection that is kept:
    // without this, each waits for the peer's delayed acknowledgement.
    let _ = tcp.set_nodelay(true);
    let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
        .await
        .map_err(|e| format!("greeting: {e}"))?;
    if config.next_hop_tls == NextHopTls::Starttls {
        let mut b = TlsParameters::builder(host.to_owned());
        if let Some(ca) = &config.next_hop_ca_file {
            let pem = std::fs::read(ca).map_err(|e| format!("CA file {}: {e}", ca.display()))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| format!("CA file {}: {e}", ca.display()))?;
            b = b.add_root_certificate(cert);
        }
        let params = b.build_rustls().map_err(|e| format!("TLS setup: {e}"))?;
        // A failed handshake leaves lettre's connection without a stream: it is dropped, not
        // used again (not even for QUIT).
        conn.starttls(params, &hello).await.map_err(|e| format!("STARTTLS: {e}"))?;
    }
    // lettre keeps only the extensions it knows of; the EHLO is repeated to see them all.
    let ehlo = match conn.command(format!("EHLO {}\r\n", config.hostname)).await {
        Ok(r) => r,
        Err(e) => {
            conn.abort().await;
            return Err(format!("EHLO: {e}"));
        }
    };
    let ext = Extensions::parse(ehlo.message());
    Ok((conn, ext))
}

/// What to do with a connection after a transaction.
enum After {
    /// The next hop took the message: the connection can carry the next one.
    Reuse,
    /// Say QUIT and close it.
    Quit,
}

/// Sends `commands` and reads one reply to each, in order. With PIPELINING they all go out in
/// one write (RFC 2920), so a transaction costs three round trips (envelope, DATA, message)
/// instead of one per command; without it, one by one. A failure that is not a reply
/// (a broken connection, a reply that does not parse) ends the list there.
async fn exchange(
    conn: &mut AsyncSmtpConnection,
    commands: &[String],
    pipelined: bool,
) -> Vec<Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error>> {
    let is_reply = |e: &lettre::transport::smtp::Error| e.is_permanent() || e.is_transient();
    let mut replies = Vec::with_capacity(commands.len());
    if pipelined && !commands.is_empty() {
        // lettre's `command` writes its argument and reads one reply; the others are read
        // after it, in the order the commands went out.
        let first = conn.command(commands.concat()).await;
        let broken = first.as_ref().is_err_and(|e| !is_reply(e));
        replies.push(first);
        if !broken {
            for _ in 1..commands.len() {
                let r = conn.read_response().await;
                let broken = r.as_ref().is_err_and(|e| !is_reply(e));
                replies.push(r);
                if broken {
                    break;
                }
            }
        }
    } else {
        for c in commands {
            let r = conn.command(c).await;
            let broken = r.as_ref().is_err_and(|e| !is_reply(e));
            replies.push(r);
            if broken {
                break;
            }
        }
    }
    replies
}

/// One transaction on an open connection: the replies, and what to do with the connection.
async fn transaction(
    conn: &mut AsyncSmtpConnection,
    ext: &Extensions,
    tx: &Transaction,
    data: &[u8],
    all_or_nothing: bool,
) -> Result<(Relayed, After), Fail> {
    let mut commands = Vec::with_capacity(tx.recipients.len() + 3);
    let mut xforward = false;
    if let Some(attrs) = &ext.xforward {
        let sent: Vec<String> = tx
            .xforward
            .iter()
            .filter(|(k, _)| attrs.iter().any(|a| a.eq_ignore_ascii_case(k)))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !sent.is_empty() {
            commands.push(format!("XFORWARD {}\r\n", sent.join(" ")));
            xforward = true;
        }
    }

    let mut mail = format!("MAIL FROM:<{}>", tx.from);
    if ext.size {
        mail.push_str(&format!(" SIZE={}", data.len()));
    }
    if let Some(body) = &tx.body {
        if ext.eightbitmime {
            mail.push_str(&format!(" BODY={body}"));
        }
    }
    if tx.smtputf8 && ext.smtputf8 {
        mail.push_str(" SMTPUTF8");
    }
    if ext.dsn {
        if let Some(ret) = &tx.ret {
            mail.push_str(&format!(" RET={ret}"));
        }
        if let Some(envid) = &tx.envid {
            mail.push_str(&format!(" ENVID={envid}"));
        }
    }
    mail.push_str("\r\n");
    commands.push(mail);

    for r in &tx.recipients {
        let mut rcpt = format!("RCPT TO:<{}>", r.address);
        if ext.dsn {
            if let Some(n) = &r.notify {
                rcpt.push_str(&format!(" NOTIFY={n}"));
            }
            if let Some(o) = &r.orcpt {
                rcpt.push_str(&format!(" ORCPT={o}"));
            }
        }
        rcpt.push_str("\r\n");
        commands.push(rcpt);
    }
    // DATA is not sent with the envelope, though RFC 2920 allows it: a server that says 354
    // after refusing every recipient (some do) could then only be hung up on mid-transaction.
    let pipelined = ext.pipelining;
    let mut answers = exchange(conn, &commands, pipelined).await.into_iter();

    if xforward {
        match answers.next() {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(Fail::First(format!("XFORWARD: {e}"))),
            None => return Err(Fail::First("XFORWARD: no reply".into())),
        }
    }
    let mail_refused = match answers.next() {
        Some(Ok(_)) => None,
        // The next hop answered: its refusal stands.
        Some(Err(e)) if e.is_permanent() || e.is_transient() => Some(refused(&e, "MAIL")),
        Some(Err(e)) => return Err(Fail::First(format!("MAIL: {e}"))),
        None => return Err(Fail::First("MAIL: no reply".into())),
    };
    let mut replies: Vec<Option<Reply>> = Vec::with_capacity(tx.recipients.len());
    for _ in &tx.recipients {
        match answers.next() {
            Some(Ok(_)) => replies.push(None),
            Some(Err(e)) => replies.push(Some(refused(&e, "RCPT"))),
            None => replies.push(Some(Reply::new(451, "4.4.0 next hop failed at RCPT: connection lost"))),
        }
    }
    if let Some(reply) = mail_refused {
        return Ok((Relayed { replies: vec![reply; tx.recipients.len()], next_hop_reply: None }, After::Quit));
    }
    let accepted = replies.iter().filter(|r| r.is_none()).count();
    let finish = |replies: Vec<Option<Reply>>, fill: Reply| {
        replies.into_iter().map(|r| r.unwrap_or_else(|| fill.clone())).collect::<Vec<_>>()
    };
    if accepted == 0 {
        let _ = conn.command("RSET\r\n").await;
        let fill = Reply::new(451, "4.3.0 not relayed");
        return Ok((Relayed { replies: finish(replies, fill), next_hop_reply: None }, After::Quit));
    }
    if all_or_nothing && accepted < replies.len() {
        // One answer for all: the refusals stand only if they are all permanent and nobody was
        // taken; here some were taken, so nobody gets the message now and all try again.
        let _ = conn.command("RSET\r\n").await;
        let why: Vec<String> = replies.iter().flatten().map(|r| format!("{} {}", r.code, r.text)).collect();
        let reply = Reply::new(451, format!("4.5.3 next hop refused some recipients: {}", one_line(&why.join("; "))));
        return Ok((Relayed { replies: vec![reply; replies.len()], next_hop_reply: None }, After::Quit));
    }

    match conn.command("DATA\r\n").await {
        Ok(_) => {}
        Err(e) if e.is_permanent() || e.is_transient() => {
            let reply = refused(&e, "DATA");
            return Ok((Relayed { replies: finish(replies, reply), next_hop_reply: None }, After::Quit));
        }
        Err(e) => return Err(Fail::Later(format!("DATA: {e}"))),
    }
    let wire = crlf(data);
    // lettre appends CRLF . CRLF itself: the message's own last line end is not sent twice.
    let body = wire.strip_suffix(b"\r\n").unwrap_or(&wire);
    match conn.message(body).await {
        Ok(resp) => {
            let text = one_line(&resp.message().collect::<Vec<_>>().join(" "));
            let ok = Reply::new(250, format!("2.0.0 Ok: relayed, next hop said: {} {text}", resp.code()));
            Ok((Relayed { replies: finish(replies, ok), next_hop_reply: Some(text) }, After::Reuse))
        }
        Err(e) => {
            let reply = refused(&e, "end of data");
            Ok((Relayed { replies: finish(replies, reply), next_hop_reply: None }, After::Quit))
        }
    }
}

/// The reply a refusal from the next hop becomes: permanent stays permanent (5xx with its text),
/// everything else (4xx, a broken connection, a reply that does not parse) is temporary.
fn refused(e: &lettre::transport::smtp::Error, stage: &str) -> Reply {
    let text = one_line(&e.to_string());
    if e.is_permanent() {
        let code = e.status().map(u16::from).filter(|c| (500..600).contains(c)).unwrap_or(550);
        Reply::new(code, format!("5.0.0 next hop refused {stage}: {text}"))
    } else {
        Reply::new(451, format!("4.4.0 next hop failed at {stage}: {text}"))
    }
}

/// Line ends made CRLF: a bare LF would let a line starting with a dot escape dot-stuffing.
fn crlf(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let bare = data.iter().enumerate().any(|(i, b)| *b == b'\n' && (i == 0 || data[i - 1] != b'\r'));
    if !bare {
        return std::borrow::Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(*b);
    }
    std::borrow::Cow::Owned(out)
}

/// The extensions the next hop offered in its EHLO reply.
#[derive(Debug, Default)]
struct Extensions {
    size: bool,
    eightbitmime: bool,
    smtputf8: bool,
    dsn: bool,
    pipelining: bool,
    /// The attributes XFORWARD accepts, when offered.
    xforward: Option<Vec<String>>,
}

impl Extensions {
    fn parse<'a>(lines: impl Iterator<Item = &'a str>) -> Self {
        let mut e = Extensions::default();
        for line in lines.skip(1) {
            let mut words = line.split_whitespace();
            let Some(kw) = words.next() else { continue };
            match kw.to_ascii_uppercase().as_str() {
                "SIZE" => e.size = true,
                "8BITMIME" => e.eightbitmime = true,
                "SMTPUTF8" => e.smtputf8 = true,
                "DSN" => e.dsn = true,
                "PIPELINING" => e.pipelining = true,
                "XFORWARD" => e.xforward = Some(words.map(str::to_owned).collect()),
                _ => {}
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_line_feeds_become_crlf() {
        assert_eq!(&*crlf(b"a\r\nb\n.c\n"), b"a\r\nb\r\n.c\r\n");
        assert!(matches!(crlf(b"a\r\n"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn extensions_are_read_from_the_ehlo_reply() {
        let e = Extensions::parse(["host", "SIZE 100", "XFORWARD NAME ADDR", "dsn"].into_iter());
        assert!(e.size && e.dsn && !e.eightbitmime);
        assert_eq!(e.xforward.unwrap(), ["NAME", "ADDR"]);
    }
}
