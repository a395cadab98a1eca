//! Signed sanitization receipts end to end, through the `mugai` binary: a vendor makes a key
//! pair and sanitizes with receipts, a hospital verifies them; a changed file, a changed
//! receipt, an untrusted key and a receipt for another file are each refused.

use mugai::samples;
use std::fs;
use std::process::Output;

use super::common::mugai;

fn stdout(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn docm() -> Vec<u8> {
    samples::all().into_iter().find(|s| s.file_name.ends_with(".docm")).expect("a docm sample").bytes
}

/// The README's round trip: the vendor's side, then the hospital's.
#[test]
fn a_vendor_to_hospital_round_trip_verifies_and_every_forgery_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    fs::create_dir_all(dir.join("outgoing")).unwrap();
    fs::write(dir.join("outgoing/manual.docm"), docm()).unwrap();
    fs::write(dir.join("outgoing/readme.txt"), "install notes\n").unwrap();

    // Vendor.
    let k = mugai(dir, &["receipt", "keygen", "--out", "vendor-keys"]);
    assert!(k.status.success(), "{}", stdout(&k));
    let s = mugai(
        dir,
        &[
            "sanitize",
            "outgoing",
            "--out",
            "outbox",
            "--receipt-key",
            "vendor-keys/mugai.key",
            "--set",
            "quarantine.dir=q",
        ],
    );
    assert!(s.status.success(), "{}", stdout(&s));
    assert!(dir.join("outbox/manual.docx.mugai.json").exists() && dir.join("outbox/readme.txt.mugai.json").exists());

    // Hospital.
    let ok = mugai(dir, &["receipt", "verify", "outbox/manual.docx", "--trust", "vendor-keys/mugai.pub"]);
    let text = stdout(&ok);
    assert_eq!(ok.status.code(), Some(0), "{text}");
    assert!(text.starts_with("OK ") && text.contains("manual.docm") && text.contains("removed_vba_project"), "{text}");
    // A folder of trusted keys works too.
    let folder = mugai(dir, &["receipt", "verify", "outbox/readme.txt", "--trust", "vendor-keys"]);
    assert_eq!(folder.status.code(), Some(0), "{}", stdout(&folder));

    let refused = |args: &[&str], code: &str| {
        let o = mugai(dir, args);
        let text = stdout(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {text}");
        assert!(text.contains("FAILED") && text.contains(code), "{args:?}: {text}");
    };
    // The file changed after it was neutralized.
    fs::copy(dir.join("outbox/manual.docx"), dir.join("changed.docx")).unwrap();
    let mut bytes = fs::read(dir.join("changed.docx")).unwrap();
    bytes.push(0);
    fs::write(dir.join("changed.docx"), bytes).unwrap();
    fs::copy(dir.join("outbox/manual.docx.mugai.json"), dir.join("changed.docx.mugai.json")).unwrap();
    refused(&["receipt", "verify", "changed.docx", "--trust", "vendor-keys/mugai.pub"], "wrong_file");
    // The receipt changed: it claims nothing was removed.
    let receipt = fs::read_to_string(dir.join("outbox/manual.docx.mugai.json")).unwrap();
    let forged = receipt.replace("\"disarmed\"", "\"kept\"");
    assert_ne!(forged, receipt);
    fs::write(dir.join("forged.json"), forged).unwrap();
    refused(
        &["receipt", "verify", "outbox/manual.docx", "--receipt", "forged.json", "--trust", "vendor-keys/mugai.pub"],
        "bad_signature",
    );
    // Signed, but by a key the hospital does not trust.
    assert!(mugai(dir, &["receipt", "keygen", "--out", "other-keys"]).status.success());
    refused(&["receipt", "verify", "outbox/manual.docx", "--trust", "other-keys/mugai.pub"], "untrusted_key");
    // A valid receipt, for another file.
    refused(
        &[
            "receipt",
            "verify",
            "outbox/readme.txt",
            "--receipt",
            "outbox/manual.docx.mugai.json",
            "--trust",
            "vendor-keys",
        ],
        "wrong_file",
    );
    // No receipt at all.
    fs::write(dir.join("bare.txt"), "x").unwrap();
    refused(&["receipt", "verify", "bare.txt", "--trust", "vendor-keys"], "no receipt");
}

#[test]
fn bundles_carry_file_and_receipt_in_one_zip() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    fs::write(dir.join("manual.docm"), docm()).unwrap();
    assert!(mugai(dir, &["receipt", "keygen", "--out", "keys"]).status.success());
    let s = mugai(
        dir,
        &[
            "sanitize",
            "manual.docm",
            "--out",
            "outbox",
            "--receipt-key",
            "keys/mugai.key",
            "--bundle",
            "--set",
            "quarantine.dir=q",
        ],
    );
    assert!(s.status.success(), "{}", stdout(&s));
    assert!(!dir.join("outbox/manual.docx").exists());
    let ok = mugai(dir, &["receipt", "verify", "outbox/manual.docx.mugai.zip", "--trust", "keys/mugai.pub"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    // The bundle is itself a zip the engine accepts: the receiving side can disarm it again.
    let again = mugai(dir, &["scan", "outbox/manual.docx.mugai.zip"]);
    assert!(again.status.code().is_some(), "{}", stdout(&again));
}

#[test]
fn a_private_key_others_can_read_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    assert!(mugai(dir, &["receipt", "keygen", "--out", "keys"]).status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.join("keys/mugai.key");
        assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(dir.join("a.txt"), "x\n").unwrap();
        let o = mugai(
            dir,
            &["sanitize", "a.txt", "--out", "o", "--receipt-key", "keys/mugai.key", "--set", "quarantine.dir=q"],
        );
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(stdout(&o).contains("chmod 600"), "{}", stdout(&o));
        assert!(!dir.join("o/a.txt").exists(), "nothing is written without the receipt asked for");
    }
}
