//! Re-delivery of a released message: sends a held original (or the clean result of a release
//! with a password) to `[smtp] next_hop` through the same [`relay`](super::relay) the filter
//! uses, and reports the next hop's answer for each recipient.
//!
//! It is blocking (it runs its own small current-thread runtime), because the command line that
//! calls it is not async. Recipients are taken one by one, LMTP-style: a recipient the next hop
//! refuses keeps its own reply while the others get the message. A next hop that cannot be
//! reached, breaks the connection or does not answer the final dot in time is an error for the
//! whole message: nobody got it, and it stays held.
//!
//! The message goes out as it is, with bare line feeds made CRLF (held originals are kept
//! exactly as received). [`released_copy`] adds an `X-Mugai-Released` header first, for
//! callers that want recipients to see that an admin released it. Addresses that could break
//! the SMTP command they go into (line breaks, angle brackets, spaces) are refused before a
//! connection is opened.

use super::relay::{self, Pool, Recipient, Reply, Transaction};
use crate::config::SmtpConfig;

#[derive(Debug, thiserror::Error)]
pub enum RedeliverError {
    #[error("no recipients to deliver to")]
    NoRecipients,
    #[error("address {0:?} cannot be used in an SMTP envelope")]
    BadAddress(String),
    #[error("cannot start the delivery runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The next hop did not take the message for anyone (the text is its 4xx reply or what
    /// went wrong).
    #[error("{0}")]
    NextHop(String),
}

/// Sends `message` from `from` to each of `recipients` through `config.next_hop`, and returns
/// each recipient's reply (2xx delivered, 4xx try again later, 5xx refused for good), in order.
pub fn redeliver(
    config: &SmtpConfig,
    from: &str,
    recipients: &[String],
    message: &[u8],
) -> Result<Vec<(String, Reply)>, RedeliverError> {
    if recipients.is_empty() {
        return Err(RedeliverError::NoRecipients);
    }
    // The null reverse path (bounces) stays allowed.
    if !from.is_empty() {
        check_address(from)?;
    }
    for r in recipients {
        check_address(r)?;
    }
    let tx = Transaction {
        from: from.to_owned(),
        // Declared when the message has 8-bit bytes; the relay passes it on only when the next
        // hop offers 8BITMIME.
        body: (!message.is_ascii()).then(|| "8BITMIME".to_owned()),
        smtputf8: !from.is_ascii() || recipients.iter().any(|r| !r.is_ascii()),
        recipients: recipients.iter().map(|r| Recipient { address: r.clone(), notify: None, orcpt: None }).collect(),
        ..Transaction::default()
    };
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(RedeliverError::Runtime)?;
    let pool = Pool::default();
    let relayed = runtime.block_on(async {
        let r = relay::try_relay(config, &pool, &tx, message, false).await;
        pool.close().await;
        r
    });
    let relayed = relayed.map_err(RedeliverError::NextHop)?;
    Ok(recipients.iter().cloned().zip(relayed.replies).collect())
}

/// `message` with an `X-Mugai-Released: <date>; id=<id>` header in front (the date in UTC,
/// RFC 5322 form). Characters of `id` that could end or fold the header are dropped.
pub fn released_copy(message: &[u8], id: &str) -> Vec<u8> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    released_copy_at(message, id, i64::try_from(secs).unwrap_or(0))
}

fn released_copy_at(message: &[u8], id: &str, unix_secs: i64) -> Vec<u8> {
    let id: String = id.chars().filter(|c| !c.is_control()).take(200).collect();
    let header = format!("X-Mugai-Released: {}; id={id}\r\n", rfc5322_date(unix_secs));
    let mut out = Vec::with_capacity(header.len() + message.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(message);
    out
}

/// `Sun, 29 Nov 2026 14:26:07 +0000`.
fn rfc5322_date(unix_secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix_secs.div_euclid(86_400);
    let s = unix_secs.rem_euclid(86_400);
    let (y, m, d) = crate::model::civil_from_days(days);
    let weekday = DAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[usize::try_from(m - 1).unwrap_or(0).min(11)];
    format!("{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} +0000", s / 3600, s % 3600 / 60, s % 60)
}

/// An address that goes between `<` and `>` in MAIL or RCPT: no white space, control
/// characters or angle brackets, and not empty.
fn check_address(a: &str) -> Result<(), RedeliverError> {
    let bad =
        a.is_empty() || a.len() > 512 || a.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if bad {
        return Err(RedeliverError::BadAddress(a.chars().take(80).collect()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_header_carries_an_rfc5322_date_and_the_id() {
        let out = released_copy_at(b"Subject: x\r\n\r\nbody\r\n", "q-1\r\nBcc: evil", 1_795_962_367);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("X-Mugai-Released: Sun, 29 Nov 2026 14:26:07 +0000; id=q-1Bcc: evil\r\nSubject: x"),
            "{text}"
        );
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    }

    #[test]
    fn addresses_that_would_break_the_command_are_refused_before_connecting() {
        let config = SmtpConfig { next_hop: "127.0.0.1:1".into(), ..SmtpConfig::default() };
        for bad in ["a@b>\r\nRCPT TO:<c@d", "a b@c", "", "<a@b>"] {
            let r = redeliver(&config, "x@y", &[bad.to_string()], b"x\r\n");
            assert!(matches!(r, Err(RedeliverError::BadAddress(_))), "{bad:?}: {r:?}");
        }
        assert!(matches!(redeliver(&config, "x@y", &[], b"x\r\n"), Err(RedeliverError::NoRecipients)));
    }
}
