//! The quarantine store over a real SQLite file and real blob files: holds from the service
//! and the CLI at once, a crash between blob and record, the import of the folder format,
//! encryption at rest, permissions, the audit log, list filters, purge and release.

use mugai::model::{Kind, Reason};
use mugai::quarantine::{retention, Filter, Held, Key, Quarantine, QuarantineError, Source, Status};
use mugai::samples::media::pe_header;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use super::common::mugai;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn cli_source(path: &str) -> Source {
    Source::Cli { path: path.into() }
}

fn smtp_source(to: &str) -> Source {
    Source::Smtp {
        client: "127.0.0.1:40000".into(),
        sender: "vendor@example.com".into(),
        recipients: vec![to.into()],
        message_id: Some("<m1@example.com>".into()),
        queue_id: Some("Q1".into()),
        upstream_id: None,
    }
}

fn hold(q: &Quarantine, data: &[u8], source: Source, reason: Reason) -> mugai::quarantine::Record {
    let held = Held { file_name: Some("setup.pdf"), ..Held::new(source, Kind::Pe, reason) };
    q.hold(data, &held).expect("hold")
}

/// A distinct small program per number.
fn program(n: usize) -> Vec<u8> {
    let mut d = pe_header();
    d.extend_from_slice(format!("program {n}").as_bytes());
    d
}

#[test]
fn the_service_and_parallel_cli_runs_hold_into_one_store_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let qdir = dir.path().join("q");
    let q = Quarantine::open(&qdir).unwrap();
    const CLI_RUNS: usize = 12;
    const SERVICE_HOLDS: usize = 60;
    for n in 0..CLI_RUNS {
        fs::write(dir.path().join(format!("in{n}.pdf")), program(1000 + n)).unwrap();
    }
    let children: Vec<std::process::Child> = (0..CLI_RUNS)
        .map(|n| {
            Command::new(env!("CARGO_BIN_EXE_mugai"))
                .args(["sanitize", &format!("in{n}.pdf"), "--out", &format!("out{n}"), "--set", "quarantine.dir=q"])
                .current_dir(dir.path())
                .env_remove("RUST_LOG")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Meanwhile the "service" holds through the library, from several threads.
    std::thread::scope(|s| {
        for t in 0..3 {
            let q = &q;
            s.spawn(move || {
                for n in 0..SERVICE_HOLDS / 3 {
                    hold(q, &program(t * 100 + n), smtp_source("a@example.com"), Reason::Executable);
                }
            });
        }
    });
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "blocked, held: {}", stderr(&out));
    }
    let all = q.list(&Filter::default()).unwrap();
    assert_eq!(all.len(), CLI_RUNS + SERVICE_HOLDS);
    assert_eq!(q.list(&Filter { source: Some("cli".into()), ..Default::default() }).unwrap().len(), CLI_RUNS);
    for r in &all {
        let data = q.read_original(r).unwrap();
        assert_eq!(mugai::model::sha256_hex(&data), r.sha256);
    }
    let check = q.check().unwrap();
    assert!(check.is_clean(), "{check:?}");
}

#[test]
fn a_crash_between_blob_and_record_leaves_an_orphan_that_check_reports_and_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let qdir = dir.path().join("q");
    let orphan_path;
    {
        let q = Quarantine::open(&qdir).unwrap();
        hold(&q, &program(1), cli_source("a"), Reason::Executable);
        // The first half of a hold only: what a crash after the blob leaves.
        let blob = q.put_blob(&mut &program(2)[..]).unwrap();
        orphan_path = qdir.join("blobs").join(&blob.name[..2]).join(&blob.name);
        assert!(orphan_path.is_file());
        // And a record whose original went missing (removed by hand).
        let r = hold(&q, &program(3), cli_source("b"), Reason::Executable);
        fs::remove_file(q.blob_path(&r)).unwrap();
    }
    let q = Quarantine::open(&qdir).unwrap();
    let report = q.check().unwrap();
    assert_eq!(report.records, 2, "no half-written record");
    assert_eq!(report.orphan_blobs.len(), 1, "{report:?}");
    assert_eq!(report.missing_blobs.len(), 1, "{report:?}");
    assert!(orphan_path.is_file(), "check never deletes");
    let out = mugai(dir.path(), &["quarantine", "check", "--set", "quarantine.dir=q"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("orphan original"), "{}", stdout(&out));
    assert!(stdout(&out).contains("is missing"), "{}", stdout(&out));
    assert!(orphan_path.is_file());
}

#[test]
fn the_folder_format_is_imported_on_open_once_and_after_an_interruption() {
    let dir = tempfile::tempdir().unwrap();
    let qdir = dir.path().join("q");
    fs::create_dir_all(&qdir).unwrap();
    let old = |id: &str, source: &str, data: &[u8]| {
        fs::write(qdir.join(format!("{id}.bin")), data).unwrap();
        let json = serde_json::json!({
            "id": id, "held_at": 1_764_028_800u64, "source": source, "file_name": "setup.pdf",
            "kind": "pe", "reason": "executable", "detail": "pe content", "size": data.len(),
            "sha256": mugai::model::sha256_hex(data),
        });
        fs::write(qdir.join(format!("{id}.json")), serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    };
    old("20251125T000000Z-aaaaaaaaaaaaaaaa", "in/setup.pdf", &program(1));
    old("20251125T000000Z-bbbbbbbbbbbbbbbb", "smtp 127.0.0.1:1 from <v@x> to a@y,b@y", &program(2));
    fs::write(qdir.join("broken.bin"), b"x").unwrap();
    fs::write(qdir.join("broken.json"), b"{ not json").unwrap();

    let q = Quarantine::open(&qdir).unwrap();
    let a = q.find("20251125T000000Z-aaaa").unwrap();
    assert_eq!(a.held_at, 1_764_028_800);
    assert_eq!(a.source, cli_source("in/setup.pdf"));
    assert_eq!(q.read_original(&a).unwrap(), program(1));
    let b = q.find("20251125T000000Z-bbbb").unwrap();
    assert!(matches!(&b.source, Source::Smtp { recipients, .. } if recipients.len() == 2), "{:?}", b.source);
    assert!(!qdir.join("20251125T000000Z-aaaaaaaaaaaaaaaa.bin").exists());
    assert!(!qdir.join("20251125T000000Z-aaaaaaaaaaaaaaaa.json").exists());
    assert!(qdir.join("broken.json").exists(), "what cannot be read is left in place");
    let report = q.check().unwrap();
    assert_eq!(report.legacy_left.len(), 1, "{report:?}");
    assert_eq!(q.audit(0).unwrap().iter().filter(|e| e.action == "import").count(), 2);
    drop(q);

    // Interrupted after the commit, before the pair was removed: the pair is back.
    old("20251125T000000Z-aaaaaaaaaaaaaaaa", "in/setup.pdf", &program(1));
    let q = Quarantine::open(&qdir).unwrap();
    assert_eq!(q.list(&Filter::default()).unwrap().len(), 2, "not imported twice");
    assert!(!qdir.join("20251125T000000Z-aaaaaaaaaaaaaaaa.json").exists());
    assert_eq!(q.check().unwrap().orphan_blobs.len(), 0);
}

#[test]
fn encrypted_originals_do_not_show_their_content_or_hash_and_need_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("q.key");
    let out = mugai(dir.path(), &["quarantine", "keygen", "--out", "q.key"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::metadata(&key_file).unwrap().mode() & 0o777, 0o600);
    let again = mugai(dir.path(), &["quarantine", "keygen", "--out", "q.key"]);
    assert_ne!(again.status.code(), Some(0), "a key is never overwritten");

    let secret = b"MZ patient record 12345 \xe6\x82\xa3\xe8\x80\x85".repeat(5000);
    let qdir = dir.path().join("q");
    let q = Quarantine::open_with(&qdir, Some(Key::load(&key_file).unwrap())).unwrap();
    let r = hold(&q, &secret, cli_source("a"), Reason::Executable);
    let on_disk = fs::read(q.blob_path(&r)).unwrap();
    assert!(!on_disk.windows(17).any(|w| w == b"patient record 12"), "plaintext on disk");
    assert_ne!(r.blob, r.sha256, "the file name does not reveal the content's hash");
    assert!(!q.blob_path(&r).to_string_lossy().contains(&r.sha256));
    assert_eq!(q.read_original(&r).unwrap(), secret);
    drop(q);

    let other = dir.path().join("other.key");
    Key::generate(&other).unwrap();
    let q = Quarantine::open_with(&qdir, Some(Key::load(&other).unwrap())).unwrap();
    let err = q.read_original(&q.find(&r.id).unwrap()).unwrap_err().to_string();
    assert!(err.contains("another key"), "{err}");

    drop(q);

    // Without the key: refused with the fix; an original held in the clear before the key was
    // configured stays readable once it is.
    let q = Quarantine::open(&qdir).unwrap();
    let err = q.read_original(&q.find(&r.id).unwrap()).unwrap_err().to_string();
    assert!(err.contains("key_file"), "{err}");
    let clear = hold(&q, b"MZ held in the clear", cli_source("b"), Reason::Executable);
    assert_eq!(clear.blob, clear.sha256);
    drop(q);
    let q = Quarantine::open_with(&qdir, Some(Key::load(&key_file).unwrap())).unwrap();
    assert_eq!(q.read_original(&clear).unwrap(), b"MZ held in the clear");
    assert_eq!(q.read_original(&r).unwrap(), secret);

    // The CLI: a missing key file and one open to others are refused, naming the fix.
    let out =
        mugai(dir.path(), &["quarantine", "list", "--set", "quarantine.dir=q", "--set", "quarantine.key_file=nokey"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nokey") && stderr(&out).contains("keygen"), "{}", stderr(&out));
    fs::set_permissions(&key_file, fs::Permissions::from_mode(0o644)).unwrap();
    let out =
        mugai(dir.path(), &["quarantine", "list", "--set", "quarantine.dir=q", "--set", "quarantine.key_file=q.key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    fs::set_permissions(&key_file, fs::Permissions::from_mode(0o600)).unwrap();
    let out = mugai(
        dir.path(),
        &["quarantine", "show", &r.id, "--set", "quarantine.dir=q", "--set", "quarantine.key_file=q.key"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("(encrypted)"), "{}", stdout(&out));
}

#[test]
fn the_store_is_owner_only_and_a_store_of_another_user_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let qdir = dir.path().join("q");
    let q = Quarantine::open(&qdir).unwrap();
    let r = hold(&q, &program(1), cli_source("a"), Reason::Executable);
    let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o777;
    assert_eq!(mode(&qdir), 0o700);
    assert_eq!(mode(&qdir.join("index.sqlite")), 0o600);
    assert_eq!(mode(&q.blob_path(&r)), 0o600);
    assert_eq!(mode(q.blob_path(&r).parent().unwrap()), 0o700);
    drop(q);
    fs::set_permissions(&qdir, fs::Permissions::from_mode(0o755)).unwrap();
    drop(Quarantine::open(&qdir).unwrap());
    assert_eq!(mode(&qdir), 0o700, "tightened on open");

    // A file where the folder should be.
    let file = dir.path().join("notafolder");
    fs::write(&file, b"x").unwrap();
    let err = Quarantine::open(&file).err().expect("refused").to_string();
    assert!(err.contains("notafolder") && err.contains("not a folder"), "{err}");

    // Owned by someone else (only root can arrange that here).
    if nix::unistd::geteuid().is_root() {
        std::os::unix::fs::chown(&qdir, Some(4242), None).unwrap();
        let err = Quarantine::open(&qdir).err().expect("refused");
        assert!(matches!(err, QuarantineError::NotOwner { owner: 4242, .. }), "{err}");
        let out = mugai(dir.path(), &["quarantine", "list", "--set", "quarantine.dir=q"]);
        assert_eq!(out.status.code(), Some(2));
        let text = stderr(&out);
        assert!(text.contains(&qdir.display().to_string()) && text.contains("sudo -u"), "{text}");
    }
}

#[test]
fn admin_actions_are_audited_and_the_audit_log_refuses_changes() {
    let dir = tempfile::tempdir().unwrap();
    let qdir = dir.path().join("q");
    let q = Quarantine::open(&qdir).unwrap();
    let a = hold(&q, &program(1), cli_source("a"), Reason::Executable);
    let b = hold(&q, &program(2), cli_source("b"), Reason::Encrypted);
    let c = hold(&q, &program(3), cli_source("c"), Reason::Malformed);
    drop(q);
    let run = |args: &[&str]| {
        let mut all = vec!["quarantine"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--set", "quarantine.dir=q"]);
        let out = mugai(dir.path(), &all);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let released = run(&["release", &a.id[..8]]);
    assert!(released.contains("released to"), "{released}");
    assert_eq!(fs::read(qdir.join("released/setup.pdf")).unwrap(), program(1));
    run(&["delete", &b.id]);
    let csv = run(&["export", "--csv"]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains(&c.sha256));
    assert!(run(&["purge", "--older-than", "30d"]).starts_with("0 items"), "nothing is that old");

    let q = Quarantine::open(&qdir).unwrap();
    let b_after = q.find(&b.id).unwrap();
    assert_eq!(b_after.status, Status::Deleted);
    assert!(!q.blob_path(&b_after).exists(), "the original is removed");
    assert_eq!(q.find(&a.id).unwrap().status, Status::Released);
    retention::purge_once(&q, std::time::Duration::ZERO).unwrap();
    let log = q.audit(0).unwrap();
    let actions: Vec<(&str, Option<&str>)> = log.iter().map(|e| (e.action.as_str(), e.item.as_deref())).collect();
    assert!(actions.contains(&("release", Some(a.id.as_str()))), "{actions:?}");
    assert!(actions.contains(&("delete", Some(b.id.as_str()))), "{actions:?}");
    assert!(actions.iter().any(|(a, _)| *a == "export"), "{actions:?}");
    let me = mugai::quarantine::Actor::current();
    assert!(log.iter().all(|e| e.uid == me.uid && e.user == me.name && e.result == "ok"), "{log:?}");
    let shown = run(&["audit"]);
    assert!(shown.contains("release") && shown.contains(&a.id[..12]), "{shown}");
    assert!(q.check().unwrap().audit_broken.is_empty());
    drop(q);

    let db = rusqlite::Connection::open(qdir.join("index.sqlite")).unwrap();
    let update = db.execute("UPDATE audit SET user = 'nobody'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = db.execute("DELETE FROM audit", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    // Someone who drops the trigger and edits a row is caught by the hash chain.
    db.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET user = 'nobody' WHERE seq = 1;").unwrap();
    drop(db);
    let q = Quarantine::open(&qdir).unwrap();
    assert_eq!(q.check().unwrap().audit_broken, vec![1]);
    let out = mugai(dir.path(), &["quarantine", "check", "--set", "quarantine.dir=q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("audit entry 1"), "{}", stdout(&out));
}

#[test]
fn list_filters_by_since_reason_source_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let qdir = dir.path().join("q");
    let q = Quarantine::open(&qdir).unwrap();
    let a = hold(&q, &program(1), cli_source("a"), Reason::Executable);
    hold(&q, &program(2), smtp_source("x@example.com"), Reason::Encrypted);
    hold(&q, &program(3), smtp_source("y@example.com"), Reason::Executable);
    q.delete(&a.id).unwrap();
    let count = |f: Filter| q.list(&f).unwrap().len();
    assert_eq!(count(Filter::default()), 3);
    assert_eq!(count(Filter { source: Some("smtp".into()), ..Default::default() }), 2);
    assert_eq!(count(Filter { reason: Some(Reason::Executable), ..Default::default() }), 2);
    assert_eq!(count(Filter { status: Some(Status::Held), ..Default::default() }), 2);
    assert_eq!(count(Filter { since: Some(mugai::quarantine::now() + 3600), ..Default::default() }), 0);
    drop(q);
    let run = |args: &[&str]| {
        let mut all = vec!["quarantine", "list"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--set", "quarantine.dir=q"]);
        let out = mugai(dir.path(), &all);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let json = run(&["--source", "smtp", "--reason", "executable", "--json"]);
    let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{json}");
    assert_eq!(lines[0]["source"]["recipients"][0], "y@example.com");
    let table = run(&["--status", "held", "--since", "1h"]);
    assert!(table.starts_with("ID") && table.contains("2 items"), "{table}");
    assert!(table.contains("<vendor@example.com> -> x@example.com"), "{table}");
    assert_eq!(
        run(&["--since", "2099-01-01"]).trim(),
        "ID  HELD (UTC)  STATUS  REASON  KIND  SIZE  FILE  SOURCE\n0 items"
    );
    let bad = mugai(dir.path(), &["quarantine", "list", "--source", "fax", "--set", "quarantine.dir=q"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn purge_removes_old_items_and_originals_no_other_record_needs() {
    let dir = tempfile::tempdir().unwrap();
    let q = Quarantine::open(&dir.path().join("q")).unwrap();
    let a = hold(&q, &program(1), cli_source("a"), Reason::Executable);
    let twin = hold(&q, &program(1), cli_source("a again"), Reason::Executable);
    assert_eq!(a.blob, twin.blob, "the same content is stored once");
    q.delete(&a.id).unwrap();
    assert!(q.blob_path(&twin).exists(), "still needed by its twin");
    assert_eq!(q.read_original(&twin).unwrap(), program(1));
    let b = hold(&q, &program(2), cli_source("b"), Reason::Executable);
    assert_eq!(q.purge_before(a.held_at, "purge").unwrap(), 0, "nothing is older");
    assert_eq!(q.purge_before(mugai::quarantine::now() + 1, "purge").unwrap(), 3);
    assert!(q.list(&Filter::default()).unwrap().is_empty());
    assert!(!q.blob_path(&twin).exists() && !q.blob_path(&b).exists());
    assert_eq!(q.audit(0).unwrap().iter().filter(|e| e.action == "purge").count(), 3);
    let report = q.check().unwrap();
    assert!(report.is_clean() && report.blobs == 0, "{report:?}");
}

// ---------------------------------------------------------------------------------------------
// Release

use crate::smtp::Sink;
use mugai::config::Config;
use mugai::engine::Engine;
use mugai::quarantine::release::{self, ReleaseError, ReleaseRequest, Released};
use mugai::samples::archive::{ppap_docm, PPAP_PASSWORD};
use mugai::samples::mail;
use std::sync::Arc;

/// A configuration whose store is `dir/q` and whose next hop is `port`, and its engine.
fn setup(dir: &Path, port: u16) -> (Config, Engine) {
    let mut config = Config::default();
    config.engine.threads = 2;
    config.quarantine.dir = dir.join("q");
    config.quarantine.release_dir = dir.join("q/released");
    config.smtp.next_hop = format!("127.0.0.1:{port}");
    let engine = Engine::new(Arc::new(config.clone())).unwrap();
    (config, engine)
}

fn hold_mail(q: &Quarantine, message: &[u8], recipients: &[&str]) -> mugai::quarantine::Record {
    let source = Source::Smtp {
        client: "127.0.0.1:40000".into(),
        sender: "vendor@example.com".into(),
        recipients: recipients.iter().map(|r| r.to_string()).collect(),
        message_id: Some("<exe@example.com>".into()),
        queue_id: Some("Q1".into()),
        upstream_id: None,
    };
    q.hold(message, &Held::new(source, Kind::Eml, Reason::Executable)).unwrap()
}

#[test]
fn a_released_message_reaches_its_recipients_at_a_real_sink_as_it_was_received() {
    let sink = Sink::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = setup(dir.path(), sink.port);
    let q = Quarantine::open(&config.quarantine.dir).unwrap();
    let original = mail::exe_attachment();
    let r = hold_mail(&q, &original, &["ward3@example.jp", "ward4@example.jp"]);
    let done = release::release(&q, &engine, &config, &r.id[..10], &ReleaseRequest::default()).unwrap();
    let Released::Mail { record, replies } = done else { panic!("a mail release") };
    assert_eq!(replies.len(), 2);
    assert!(replies.iter().all(|(_, reply)| reply.code == 250), "{replies:?}");
    assert_eq!(record.status, Status::Released);
    let got = sink.wait_messages(1);
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("<ward3@example.jp>") && got[0].contains("<ward4@example.jp>"), "{}", got[0]);
    // The held original as it was received: the program is still in it (the admin judged it).
    let body = String::from_utf8_lossy(&original).replace("\r\n", "\n");
    let tail = body.lines().rev().find(|l| l.len() > 20).unwrap();
    assert!(got[0].contains(tail), "{}", got[0]);
    let log = q.audit(0).unwrap();
    let entry = log.iter().find(|e| e.action == "release").expect("audited");
    assert_eq!(entry.item.as_deref(), Some(r.id.as_str()));
    let detail = entry.detail.as_deref().unwrap_or("");
    assert!(detail.contains("ward3@example.jp: 250") && detail.contains("ward4@example.jp: 250"), "{detail}");
    assert_eq!(entry.user, mugai::quarantine::Actor::current().name);

    // Again, through the command line, to another address.
    let out = mugai(
        dir.path(),
        &[
            "quarantine",
            "release",
            &r.id,
            "--to",
            "it-desk@example.jp",
            "--set",
            "quarantine.dir=q",
            "--set",
            &format!("smtp.next_hop=127.0.0.1:{}", sink.port),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("it-desk@example.jp: 250"), "{}", stdout(&out));
    let got = sink.wait_messages(2);
    assert!(got.iter().any(|m| m.contains("<it-desk@example.jp>") && !m.contains("<ward3@example.jp>")), "{got:?}");
}

#[test]
fn a_message_some_recipients_refuse_stays_held_with_each_reply_logged() {
    // -r rcpt: the sink answers every RCPT with a 4xx.
    let sink = Sink::start(&["-r", "rcpt"]);
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = setup(dir.path(), sink.port);
    let q = Quarantine::open(&config.quarantine.dir).unwrap();
    let r = hold_mail(&q, &mail::exe_attachment(), &["ward3@example.jp"]);
    let Released::Mail { record, replies } =
        release::release(&q, &engine, &config, &r.id, &ReleaseRequest::default()).unwrap()
    else {
        panic!("a mail release")
    };
    assert_eq!(replies[0].1.code / 100, 4, "{replies:?}");
    assert_eq!(record.status, Status::Held);
    assert_eq!(q.find(&r.id).unwrap().status, Status::Held);
    let log = q.audit(0).unwrap();
    assert_eq!(log.last().map(|e| e.result.as_str()), Some("partial"), "{log:?}");
    assert!(sink.messages().is_empty());
    // A next hop that is down: nothing delivered, still held, logged as failed.
    drop(sink);
    let (config, engine) = setup(dir.path(), crate::smtp::free_port());
    let err = release::release(&q, &engine, &config, &r.id, &ReleaseRequest::default()).unwrap_err();
    assert!(matches!(err, ReleaseError::Redeliver(_)), "{err}");
    assert_eq!(q.find(&r.id).unwrap().status, Status::Held);
    assert_eq!(q.audit(0).unwrap().last().map(|e| e.result.clone()), Some("failed".to_string()));
}

#[test]
fn a_password_zip_released_with_its_password_yields_the_clean_documents() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("請求書.zip"), ppap_docm()).unwrap();
    let out = mugai(
        dir.path(),
        &["sanitize", "請求書.zip", "--out", "out", "--report", "r.jsonl", "--set", "quarantine.dir=q"],
    );
    assert_eq!(out.status.code(), Some(1), "blocked as encrypted: {}", stderr(&out));
    let line: serde_json::Value =
        serde_json::from_str(fs::read_to_string(dir.path().join("r.jsonl")).unwrap().trim()).unwrap();
    assert_eq!(line["reason"], "encrypted");
    let id = line["quarantine_id"].as_str().unwrap().to_string();
    let args = |pw: &str| {
        vec![
            "quarantine".to_string(),
            "release".into(),
            id.clone(),
            "--password".into(),
            pw.into(),
            "--set".into(),
            "quarantine.dir=q".into(),
        ]
    };
    let wrong = Command::new(env!("CARGO_BIN_EXE_mugai")).args(args("guess")).current_dir(dir.path()).output().unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("still blocked") && stderr(&wrong).contains("encrypted"), "{}", stderr(&wrong));
    assert!(
        !dir.path().join("q/released").exists() || fs::read_dir(dir.path().join("q/released")).unwrap().count() == 0
    );

    // The right password, from the environment (out of the process list).
    let right = Command::new(env!("CARGO_BIN_EXE_mugai"))
        .args(["quarantine", "release", &id, "--set", "quarantine.dir=q"])
        .env("MUGAI_RELEASE_PASSWORD", PPAP_PASSWORD)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(right.status.code(), Some(0), "{}", stderr(&right));
    let released = dir.path().join("q/released/請求書.zip");
    let mut z = zip::ZipArchive::new(fs::File::open(&released).expect("the clean zip")).unwrap();
    let names: Vec<String> = (0..z.len()).map(|i| z.by_index(i).unwrap().name().unwrap().to_string()).collect();
    assert!(names.contains(&"請求書.docx".to_string()) && names.contains(&"readme.txt".to_string()), "{names:?}");
    let mut docx = Vec::new();
    std::io::Read::read_to_end(&mut z.by_name("請求書.docx").unwrap(), &mut docx).unwrap();
    assert!(!docx.windows(14).any(|w| w == b"vbaProject.bin"), "the macros are gone");
    assert!(!z.by_index(0).unwrap().encrypted(), "written without a password");

    let q = Quarantine::open(&dir.path().join("q")).unwrap();
    assert_eq!(q.find(&id).unwrap().status, Status::Released);
    let results: Vec<String> = q.audit(0).unwrap().iter().map(|e| format!("{} {}", e.action, e.result)).collect();
    assert_eq!(results, ["release refused", "release ok"]);
}

#[test]
fn mugai_serve_reports_an_orphan_original_when_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let q = Quarantine::open(&dir.path().join("q")).unwrap();
    q.put_blob(&mut &program(9)[..]).unwrap();
    drop(q);
    let port = crate::smtp::free_port();
    let log = dir.path().join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mugai"))
        .args(["serve", "--set", "quarantine.dir=q", "--set", "smtp.enabled=true"])
        .args(["--set", &format!("smtp.listen=127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    crate::smtp::wait_listening(port);
    // The check runs on its own thread: wait (bounded) for its line.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut text = String::new();
    while std::time::Instant::now() < until {
        text = fs::read_to_string(&log).unwrap_or_default();
        if text.contains("quarantine check") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains("quarantine check found problems") && text.contains("orphan_originals=1"), "{text}");
}
