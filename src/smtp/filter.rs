//! What happens to a received message between the final dot and the relay: it goes through the
//! engine as one item (declared `message/rfc822`), and a blocked original goes to quarantine
//! before anything is relayed.
//!
//! This is the one place the SMTP shell touches the engine. It never looks inside the message
//! itself beyond its `Message-ID` header (for the log line and the quarantine record).

use crate::engine::{Engine, Outcome};
use crate::formats::mime;
use crate::model::{Reason, Verdict};
use crate::quarantine::{Held, Quarantine, Source};
use crate::receipt::{self, Signer};
use std::sync::Arc;

/// The envelope of one message as the client gave it.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// The client's address and port.
    pub client: String,
    /// The reverse path (empty for bounces).
    pub from: String,
    pub recipients: Vec<String>,
    /// mugai's queue id for the message (in its log line and 250 reply).
    pub queue_id: Option<String>,
    /// The client's own queue id, when it passed it (Postfix: XFORWARD IDENT).
    pub upstream_id: Option<String>,
}

/// What becomes of one message.
#[derive(Debug)]
pub enum Decision {
    /// Relay these bytes (the clean message).
    Relay(Vec<u8>),
    /// Refuse permanently (5xx) with this text.
    Reject(String),
    /// Refuse for now (4xx) with this text: the client keeps the message and tries again.
    Defer(String),
}

/// The decision plus what the log line says about it.
#[derive(Debug)]
pub struct Filtered {
    pub decision: Decision,
    /// Verdict, kind and what was removed or blocked, for the log.
    pub summary: String,
    /// The quarantine id of the original when it was held.
    pub held_as: Option<String>,
}

/// Turns a received message into a [`Decision`]. Runs on a blocking thread: it may take as long
/// as the engine takes.
pub trait MessageFilter: Send + Sync + 'static {
    fn filter(&self, message: Vec<u8>, envelope: &Envelope) -> Filtered;

    /// Runs `job` (which calls [`MessageFilter::filter`]) away from the async runtime: by
    /// default on tokio's blocking threads.
    fn spawn(&self, job: Box<dyn FnOnce() + Send + 'static>) {
        tokio::task::spawn_blocking(job);
    }
}

/// The production filter: the engine, then quarantine for anything blocked.
pub struct EngineFilter {
    engine: Arc<Engine>,
    quarantine: Arc<Quarantine>,
    receipts: Option<Signer>,
}

impl EngineFilter {
    /// The quarantine may be shared (the retention purge of `mugai serve` uses it too).
    pub fn new(engine: Arc<Engine>, quarantine: impl Into<Arc<Quarantine>>) -> Self {
        EngineFilter { engine, quarantine: quarantine.into(), receipts: None }
    }

    /// Adds a signed receipt (`<name>.mugai.json`) for every attachment that leaves clean
    /// (`[smtp] receipt_key`), so that the receiver can check what was neutralized and under
    /// which policy (`mugai receipt verify`).
    pub fn with_receipts(self, signer: Signer) -> Self {
        EngineFilter { receipts: Some(signer), ..self }
    }

    /// The clean message with the receipts of its attachments added, ordered by where the
    /// attachments sit. Attachments without a name (inline parts) get none.
    fn add_receipts(&self, signer: &Signer, message: Vec<u8>, mut parts: Vec<Outcome>) -> Vec<u8> {
        parts.sort_by(|a, b| a.path.cmp(&b.path));
        let mut signed = Vec::new();
        for p in &parts {
            let Some(name) = &p.name else { continue };
            let output_name = p.output_name.clone().unwrap_or_else(|| name.clone());
            if let Some(r) = signer.issue(name, p, &output_name) {
                signed.push((format!("{output_name}{}", receipt::SUFFIX), r.to_json()));
            }
        }
        let files: Vec<mime::Attachment<'_>> =
            signed.iter().map(|(name, json)| mime::Attachment { name, mime: "application/json", data: json }).collect();
        match mime::attach(&message, &files, self.engine.config().mail.max_header_bytes) {
            Ok(with) => with,
            Err(e) => {
                // The message is mugai's own clean rebuild, so this is not expected; it still
                // goes out clean, only without its receipts.
                tracing::error!("cannot add the receipts to the message: {e}");
                message
            }
        }
    }
}

impl MessageFilter for EngineFilter {
    /// On the engine's own pool: one thread hop fewer per message than a blocking thread that
    /// then waits for the pool.
    fn spawn(&self, job: Box<dyn FnOnce() + Send + 'static>) {
        self.engine.spawn(job);
    }

    fn filter(&self, message: Vec<u8>, envelope: &Envelope) -> Filtered {
        // The engine reads the bytes where they are: the original stays here for quarantine,
        // and a message is copied only if it is passed on unchanged.
        let declared = Some("message/rfc822".into());
        let (outcome, parts) = match &self.receipts {
            Some(_) => self.engine.process_borrowed_with_parts(&message, None, declared, "message"),
            None => (self.engine.process_borrowed(&message, None, declared, "message"), Vec::new()),
        };
        let mut summary = format!("{} {}", outcome.kind, outcome.verdict.as_str());
        if let Some(r) = outcome.reason {
            summary.push_str(&format!(" ({r})"));
        }
        for a in &outcome.actions {
            let name =
                serde_json::to_value(a.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            summary.push_str(&format!("; {name} {}", a.part));
            if let Some(r) = a.reason {
                summary.push_str(&format!(" ({r})"));
            }
        }
        let mut held_as = None;
        if let Some((reason, detail)) = outcome.hold_reason() {
            let source = Source::Smtp {
                client: envelope.client.clone(),
                sender: envelope.from.clone(),
                recipients: envelope.recipients.clone(),
                message_id: message_id(&message),
                queue_id: envelope.queue_id.clone(),
                upstream_id: envelope.upstream_id.clone(),
            };
            let held = Held {
                detail: Some(&detail),
                actions: &outcome.actions,
                findings: &outcome.findings,
                ..Held::new(source, outcome.kind, reason)
            };
            // The whole message is held as it was received, so that a release re-delivers it.
            match self.quarantine.hold(&message, &held) {
                Ok(record) => held_as = Some(record.id),
                Err(e) => {
                    tracing::error!("cannot hold the original in quarantine: {e}");
                    // Nothing is relayed whose original could not be kept: the client retries.
                    return Filtered {
                        decision: Decision::Defer("4.3.0 quarantine unavailable, try again later".into()),
                        summary,
                        held_as,
                    };
                }
            }
        }
        let decision = match (outcome.verdict, outcome.output) {
            (Verdict::Blocked, _) | (_, None) => {
                let reason = outcome.reason.unwrap_or(Reason::InternalError);
                let detail = outcome.detail.unwrap_or_default();
                let held = held_as.as_deref().unwrap_or("-");
                if reason == Reason::InternalError {
                    Decision::Defer(format!("4.3.0 message could not be processed, try again later (held as {held})"))
                } else {
                    Decision::Reject(format!("5.7.1 message blocked: {reason}: {} (held as {held})", one_line(&detail)))
                }
            }
            (_, Some(data)) => match &self.receipts {
                Some(signer) => Decision::Relay(self.add_receipts(signer, data, parts)),
                None => Decision::Relay(data),
            },
        };
        Filtered { decision, summary, held_as }
    }
}

/// Text safe to put in one reply line: no control characters, at most 200 characters.
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect()
}

/// The value of the first `Message-ID` header, for the log (unfolded, trimmed, bounded).
pub fn message_id(message: &[u8]) -> Option<String> {
    let head_end = memchr::memmem::find(message, b"\r\n\r\n").unwrap_or(message.len().min(64 * 1024));
    let head = &message[..head_end.min(message.len())];
    let mut lines = head.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let l = line.strip_suffix(b"\r").unwrap_or(line);
        if l.len() >= 11 && l[..11].eq_ignore_ascii_case(b"message-id:") {
            let mut v = String::from_utf8_lossy(&l[11..]).into_owned();
            while let Some(next) = lines.peek() {
                if next.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                    v.push_str(&String::from_utf8_lossy(next));
                    lines.next();
                } else {
                    break;
                }
            }
            return Some(one_line(v.trim()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_found_and_unfolded() {
        let m = b"From: a\r\nMessage-Id:\r\n <x@y>\r\nTo: b\r\n\r\nMessage-ID: <no>\r\n";
        assert_eq!(message_id(m).as_deref(), Some("<x@y>"));
        assert_eq!(message_id(b"From: a\r\n\r\nbody"), None);
    }
}
