//! The SMTP content filter: an SMTP and LMTP server that takes each message, hands it to the
//! engine (through a [`filter::MessageFilter`]) and relays the clean result to the next hop,
//! answering the client only once the next hop has answered the final dot.
//!
//! The order of events is what keeps mail from being lost or duplicated: until the client has
//! our 250, the message is still in its queue; we give that 250 only after the next hop gave us
//! its own. Everything that goes wrong before that (a full engine, a quarantine that cannot be
//! written, a next hop that is down, slow or refuses for now) becomes a 4xx, so the client
//! tries again later. Only a message the engine blocks as a whole gets a 5xx, after its
//! original is in quarantine.
//!
//! Bounded everywhere: at most `max_connections` sessions (one more gets 421), at most
//! `max_messages_in_engine` messages being disarmed (one more gets 451), command lines of
//! 4096 bytes, `max_message_size` and `max_header_bytes`, `max_recipients`, and idle timeouts
//! between commands and inside message data. Clients outside `allowed_clients` get 554.
//!
//! [`redeliver`] sends a message an admin released from quarantine through the same relay.
//!
//! This module never looks inside messages; the engine does.

pub mod filter;
pub mod journal;
pub mod redeliver;
pub mod relay;
mod session;
pub mod tls;

use crate::config::{network_contains, parse_network, SmtpConfig};
use filter::MessageFilter;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("delivery journal {path}: {source}")]
    Journal { path: std::path::PathBuf, source: std::io::Error },
}

/// A bound SMTP filter, ready to [`Server::run`].
pub struct Server {
    shared: Arc<session::Shared>,
    listener: TcpListener,
    networks: Vec<(IpAddr, u8)>,
    connections: Arc<Semaphore>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// Runs one session over `io`, a byte stream the caller brings (an in-process client), as a
/// bound [`Server`] does for each client it accepts from `peer`: the same state machine, limits
/// and filter, and the relay to `config.next_hop` for messages the filter passes. There is no
/// listening socket here, no TLS (STARTTLS is not offered), no delivery journal and no stop:
/// the session ends when the client quits or closes the stream, or at a timeout.
pub async fn serve_stream<S>(config: SmtpConfig, filter: Arc<dyn MessageFilter>, io: S, peer: SocketAddr)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let engine_slots = Arc::new(Semaphore::new(config.max_messages_in_engine));
    // Kept until the session ends: a dropped sender would read as a stop.
    let (_stop, stopping) = tokio::sync::watch::channel(false);
    let shared = Arc::new(session::Shared {
        config,
        filter,
        tls: None,
        engine_slots,
        pool: Default::default(),
        journal: None,
        stopping,
    });
    session::run(shared, Box::new(io), peer).await;
}

/// How long a stopping server waits for messages in progress.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

impl Server {
    /// Binds the listening socket and loads the TLS certificate when one is configured.
    pub async fn bind(config: SmtpConfig, filter: Arc<dyn MessageFilter>) -> Result<Server, SmtpError> {
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(c), Some(k)) => Some(tls::acceptor(c, k)?),
            _ => None,
        };
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|source| SmtpError::Listen { addr: config.listen.clone(), source })?;
        // Validated with the configuration; an entry that still does not parse admits nobody.
        let networks = config.allowed_clients.iter().filter_map(|n| parse_network(n)).collect();
        let connections = Arc::new(Semaphore::new(config.max_connections));
        let engine_slots = Arc::new(Semaphore::new(config.max_messages_in_engine));
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let journal = match &config.journal {
            Some(path) => Some(Arc::new(
                journal::Journal::open(path).map_err(|source| SmtpError::Journal { path: path.clone(), source })?,
            )),
            None => None,
        };
        let shared = Arc::new(session::Shared {
            config,
            filter,
            tls,
            engine_slots,
            pool: Default::default(),
            journal,
            stopping,
        });
        Ok(Server { shared, listener, networks, connections, stop })
    }

    /// The address actually bound (the port is chosen by the system when `listen` gives 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts sessions until the task is dropped.
    pub async fn run(self) {
        self.run_until(std::future::pending()).await
    }

    /// Accepts sessions until `stop` completes, then stops taking connections, lets every
    /// session finish the message it is on (idle sessions get 421), and returns once all have
    /// ended or after [`STOP_GRACE`]. A message whose client is cut off at the grace's end has
    /// not been answered, so its client still has it.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) {
        tokio::select! {
            _ = self.accept_loop() => {}
            _ = stop => {}
        }
        drop(self.listener);
        let _ = self.stop.send(true);
        let all = u32::try_from(self.shared.config.max_connections).unwrap_or(u32::MAX);
        if tokio::time::timeout(STOP_GRACE, self.connections.acquire_many(all)).await.is_err() {
            tracing::warn!("sessions still open after {}s, stopping anyway", STOP_GRACE.as_secs());
        }
    }

    async fn accept_loop(&self) {
        loop {
            let (mut stream, peer) = match self.listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            if !self.networks.iter().any(|n| network_contains(*n, peer.ip())) {
                tracing::warn!(client = %peer, "client not in smtp.allowed_clients, refused");
                tokio::spawn(async move {
                    let _ = stream.write_all(b"554 5.7.1 Access denied\r\n").await;
                    let _ = stream.shutdown().await;
                });
                continue;
            }
            let Ok(permit) = self.connections.clone().try_acquire_owned() else {
                tracing::warn!(client = %peer, "smtp.max_connections reached, refused");
                tokio::spawn(async move {
                    let _ = stream.write_all(b"421 4.3.2 Too many connections, try again later\r\n").await;
                    let _ = stream.shutdown().await;
                });
                continue;
            };
            let shared = self.shared.clone();
            tokio::spawn(async move {
                session::run(shared, Box::new(stream), peer).await;
                drop(permit);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use filter::{Decision, Envelope, Filtered};
    use tokio::io::AsyncReadExt;

    struct Refuse;

    impl MessageFilter for Refuse {
        fn filter(&self, message: Vec<u8>, envelope: &Envelope) -> Filtered {
            let text = format!("5.7.1 {} bytes for {}", message.len(), envelope.recipients.join(","));
            Filtered { decision: Decision::Reject(text), summary: "refused".into(), held_as: None }
        }
    }

    #[test]
    fn a_session_over_a_stream_the_caller_brings() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let replies = rt.block_on(async {
            let (mut client, server) = tokio::io::duplex(64 * 1024);
            let peer: SocketAddr = "192.0.2.1:25".parse().unwrap();
            let session = serve_stream(SmtpConfig::default(), Arc::new(Refuse), server, peer);
            let talk = async {
                client
                    .write_all(
                        b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: s\r\n\r\nhi\r\n.\r\nQUIT\r\n",
                    )
                    .await
                    .unwrap();
                let mut out = String::new();
                client.read_to_string(&mut out).await.unwrap();
                out
            };
            tokio::join!(session, talk).1
        });
        let codes: Vec<&str> =
            replies.lines().filter(|l| l.as_bytes().get(3) != Some(&b'-')).map(|l| &l[..3]).collect();
        assert_eq!(codes, ["220", "250", "250", "250", "354", "554", "221"], "{replies}");
        assert!(replies.contains("554 5.7.1 18 bytes for b@y"), "{replies}");
        assert!(!replies.contains("STARTTLS"), "{replies}");
    }
}
