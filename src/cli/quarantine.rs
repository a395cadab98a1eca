//! `mugai quarantine`: the admin's view of the quarantine store. List, show, release, delete,
//! purge, export, the audit log, a consistency check, and a new key for encryption at rest.

use super::{load, Cli, EXIT_CLEAN, EXIT_FOUND, EXIT_USAGE};
use anyhow::{bail, Context as _, Result};
use mugai::config::Config;
use mugai::model::Reason;
use mugai::quarantine::table::{human_size, printable, render_table, write_csv};
use mugai::quarantine::{release, when, Filter, Key, Quarantine, Record, Source, Status};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct QuarantineArgs {
    #[command(subcommand)]
    pub command: QuarantineCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum QuarantineCommand {
    /// Held items, newest first: a table, or one JSON object per line with --json.
    List(ListArgs),
    /// Everything known about one item (any unique start of its id).
    Show {
        /// Any unique start of the id, or of the original's SHA-256.
        id: String,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Release an item: a file goes to the release folder, a message to its recipients.
    Release(ReleaseArgs),
    /// Remove an item's original; its record stays, marked deleted.
    Delete {
        /// Any unique start of the id, or of the original's SHA-256.
        id: String,
    },
    /// Remove items (originals and records) held longer than a duration, e.g. 90d.
    Purge {
        #[arg(long, value_name = "DURATION")]
        older_than: String,
    },
    /// Every record as CSV (to stdout, or --out), for audits.
    Export {
        /// CSV (the only format).
        #[arg(long, required = true)]
        csv: bool,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The audit log of admin actions and retention purges, oldest first.
    Audit {
        /// Only entries since a date (2026-11-01) or for a duration back (7d).
        #[arg(long, value_name = "DATE|DURATION")]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Compare originals and records, verify the audit chain; repairs nothing (exit 1 on findings).
    Check,
    /// Write a new random key for `[quarantine] key_file` (owner-only; never overwrites).
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Held since a date (2026-11-01, 2026-11-01T08:00:00Z) or for a duration back (7d, 12h).
    #[arg(long, value_name = "DATE|DURATION")]
    since: Option<String>,
    /// Only this reason (executable, encrypted, malformed, ...).
    #[arg(long)]
    reason: Option<String>,
    /// Only items from smtp, cli or dropfolder.
    #[arg(long)]
    source: Option<String>,
    /// Only held, released or deleted items.
    #[arg(long)]
    status: Option<String>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    /// The item: any unique start of its id, or of its original's SHA-256.
    id: String,
    /// Mail: deliver to these addresses instead of the original recipients (repeatable).
    #[arg(long, value_name = "ADDR")]
    to: Vec<String>,
    /// An encrypted archive or document: decrypt with this password, disarm, release the clean
    /// result. Also read from MUGAI_RELEASE_PASSWORD, which keeps it out of the process list
    /// and the shell history.
    #[arg(long, value_name = "PASSWORD", env = "MUGAI_RELEASE_PASSWORD", hide_env_values = true)]
    password: Option<String>,
}

pub fn run(cli: &Cli, a: &QuarantineArgs) -> Result<u8> {
    if let QuarantineCommand::Keygen { out } = &a.command {
        Key::generate(out)?;
        eprintln!(
            "key written to {} (mode 0600); set [quarantine] key_file to it and keep a copy apart",
            out.display()
        );
        return Ok(EXIT_CLEAN);
    }
    let Some((config, engine)) = load(cli)? else { return Ok(EXIT_USAGE) };
    let dir = &config.quarantine.dir;
    if !dir.exists() {
        bail!("no quarantine store at {} (see [quarantine] dir, or give --config)", dir.display());
    }
    let q = Quarantine::from_config(&config.quarantine)?;
    let mut out = std::io::stdout().lock();
    match &a.command {
        QuarantineCommand::List(l) => list(&q, l, &mut out),
        QuarantineCommand::Show { id, json } => {
            let r = q.find(id)?;
            if *json {
                serde_json::to_writer(&mut out, &r)?;
                writeln!(out)?;
            } else {
                show(&r, &q, &mut out)?;
            }
            Ok(EXIT_CLEAN)
        }
        QuarantineCommand::Release(r) => release_cmd(&config, &engine, &q, r, &mut out),
        QuarantineCommand::Delete { id } => {
            let r = q.delete(id)?;
            writeln!(out, "{} deleted (original removed, record kept)", r.id)?;
            Ok(EXIT_CLEAN)
        }
        QuarantineCommand::Purge { older_than } => {
            let d = when::parse_duration(older_than)?;
            let n = q.purge_before(mugai::quarantine::now().saturating_sub(d.as_secs()), "purge")?;
            writeln!(out, "{n} items held longer than {older_than} removed")?;
            Ok(EXIT_CLEAN)
        }
        QuarantineCommand::Export { out: file, .. } => {
            let records = q.list(&Filter::default())?;
            let n = match file {
                Some(p) => {
                    let f = std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
                    write_csv(&records, f)?
                }
                None => write_csv(&records, &mut out)?,
            };
            let to = file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "stdout".into());
            q.log("export", None, "ok", Some(&format!("{n} records as CSV to {to}")))?;
            Ok(EXIT_CLEAN)
        }
        QuarantineCommand::Audit { since, json } => {
            let since = match since {
                Some(s) => when::parse_since(s, mugai::quarantine::now())?,
                None => 0,
            };
            for e in q.audit(since)? {
                if *json {
                    serde_json::to_writer(&mut out, &e)?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "{}  {:<16} {:<16} {:<12} {:<8} {}",
                        when::format_time(e.at),
                        format!("{} ({})", e.user, e.uid),
                        e.action,
                        e.item.as_deref().map(|i| i.get(..12).unwrap_or(i)).unwrap_or("-"),
                        e.result,
                        e.detail.as_deref().unwrap_or("")
                    )?;
                }
            }
            Ok(EXIT_CLEAN)
        }
        QuarantineCommand::Check => {
            let r = q.check()?;
            writeln!(out, "{} records, {} originals, {} audit entries", r.records, r.blobs, r.audit_rows)?;
            for b in &r.orphan_blobs {
                writeln!(out, "orphan original (no record points to it): blobs/{}/{b}", b.get(..2).unwrap_or(""))?;
            }
            for (id, b) in &r.missing_blobs {
                writeln!(out, "record {id}: its original blobs/{}/{b} is missing", b.get(..2).unwrap_or(""))?;
            }
            for t in &r.temporary_files {
                writeln!(out, "unfinished write or removal: {}", t.display())?;
            }
            for l in &r.legacy_left {
                writeln!(out, "not imported from the folder format: {}", l.display())?;
            }
            for s in &r.audit_broken {
                writeln!(out, "audit entry {s} does not match its hash or the entry before it: the log was altered")?;
            }
            if r.is_clean() {
                writeln!(out, "ok")?;
                Ok(EXIT_CLEAN)
            } else {
                Ok(EXIT_FOUND)
            }
        }
        QuarantineCommand::Keygen { .. } => Ok(EXIT_CLEAN),
    }
}

fn parse_reason(s: &str) -> Result<Reason> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .with_context(|| format!("unknown reason `{s}` (see `mugai quarantine list` for the names in use)"))
}

fn list(q: &Quarantine, l: &ListArgs, out: &mut dyn Write) -> Result<u8> {
    let mut f = Filter::default();
    if let Some(s) = &l.since {
        f.since = Some(when::parse_since(s, mugai::quarantine::now())?);
    }
    if let Some(r) = &l.reason {
        f.reason = Some(parse_reason(r)?);
    }
    if let Some(s) = &l.source {
        if !Source::TYPES.contains(&s.as_str()) {
            bail!("unknown source `{s}`; expected one of: {}", Source::TYPES.join(", "));
        }
        f.source = Some(s.clone());
    }
    if let Some(s) = &l.status {
        f.status = Some(
            Status::from_name(s)
                .with_context(|| format!("unknown status `{s}`; expected held, released or deleted"))?,
        );
    }
    let records = q.list(&f)?;
    if l.json {
        let mut w = std::io::BufWriter::new(out);
        for r in &records {
            serde_json::to_writer(&mut w, r)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    } else {
        render_table(&records, out)?;
    }
    Ok(EXIT_CLEAN)
}

fn show(r: &Record, q: &Quarantine, out: &mut dyn Write) -> Result<()> {
    // Names, paths and addresses come from senders: shown with their control characters visible.
    let mut kv = |k: &str, v: &str| writeln!(out, "{k:<12} {}", printable(v));
    kv("id", &r.id)?;
    kv("held at", &when::format_time(r.held_at))?;
    kv(
        "status",
        &match (&r.status_at, &r.status_by) {
            (Some(at), Some(by)) => format!("{} ({} by {by})", r.status, when::format_time(*at)),
            _ => r.status.to_string(),
        },
    )?;
    kv("reason", r.reason.as_str())?;
    kv("detail", r.detail.as_deref().unwrap_or("-"))?;
    kv("kind", r.kind.as_str())?;
    kv("file name", r.file_name.as_deref().unwrap_or("-"))?;
    kv("size", &format!("{} ({} bytes)", human_size(r.size), r.size))?;
    kv("sha256", &r.sha256)?;
    match &r.source {
        Source::Cli { path } => kv("source", &format!("cli: {path}"))?,
        Source::Dropfolder { path, claim } => {
            kv("source", &format!("drop folder: {path}"))?;
            if let Some(c) = claim {
                kv("claim", c)?;
            }
        }
        Source::Smtp { client, sender, recipients, message_id, queue_id, upstream_id } => {
            kv("source", &format!("smtp from client {client}"))?;
            kv("sender", &format!("<{sender}>"))?;
            kv("recipients", &recipients.join(", "))?;
            kv("message-id", message_id.as_deref().unwrap_or("-"))?;
            kv(
                "queue id",
                &format!("{} (upstream {})", queue_id.as_deref().unwrap_or("-"), upstream_id.as_deref().unwrap_or("-")),
            )?;
        }
    }
    let blob = q.blob_path(r);
    kv("original", &format!("{}{}", blob.display(), if q.encrypted() { " (encrypted)" } else { "" }))?;
    writeln!(out, "actions:")?;
    if r.actions.is_empty() {
        writeln!(out, "  -")?;
    }
    for a in &r.actions {
        let name = serde_json::to_value(a.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let reason = a.reason.map(|r| format!(" ({r})")).unwrap_or_default();
        let detail = a.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
        writeln!(out, "  {name} {}", printable(&format!("{}{reason}{detail}", a.part)))?;
    }
    writeln!(out, "findings:")?;
    if r.findings.is_empty() {
        writeln!(out, "  -")?;
    }
    for f in &r.findings {
        let name = serde_json::to_value(f.finding).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        writeln!(out, "  {name}{}", printable(&f.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()))?;
    }
    Ok(())
}

fn release_cmd(
    config: &Config,
    engine: &mugai::engine::Engine,
    q: &Quarantine,
    a: &ReleaseArgs,
    out: &mut dyn Write,
) -> Result<u8> {
    let request = release::ReleaseRequest { to: &a.to, password: a.password.as_deref() };
    match release::release(q, engine, config, &a.id, &request)? {
        release::Released::File { record, path } => {
            writeln!(out, "{} released to {}", record.id, path.display())?;
            Ok(EXIT_CLEAN)
        }
        release::Released::Mail { record, replies } => {
            for (rcpt, reply) in &replies {
                writeln!(out, "{rcpt}: {} {}", reply.code, printable(&reply.text))?;
            }
            if record.status == Status::Released {
                writeln!(out, "{} released: delivered to every recipient", record.id)?;
                Ok(EXIT_CLEAN)
            } else {
                let n = replies.iter().filter(|(_, r)| !r.is_ok()).count();
                writeln!(
                    out,
                    "{} still held: {n} recipient(s) did not take it (see above); release again later",
                    record.id
                )?;
                Ok(EXIT_FOUND)
            }
        }
    }
}
