use super::*;
use crate::config::Config;
use crate::engine::Engine;
use crate::model::{Item, Verdict};
use crate::samples::archive::{self, PPAP_PASSWORD};
use crate::samples::{package::ct, word};
use std::io::{Cursor, Read};
use std::sync::Arc;

/// Every entry of a plain zip: (raw name bytes, contents); fails on an encrypted entry.
fn entries(zip_bytes: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut z = ::zip::ZipArchive::new(Cursor::new(zip_bytes)).expect("a zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("a plain entry");
            let mut data = Vec::new();
            f.read_to_end(&mut data).expect("entry data");
            (f.name_raw().to_vec(), data)
        })
        .collect()
}

fn process(data: Vec<u8>, name: &str) -> crate::engine::Outcome {
    let engine = Engine::new(Arc::new(Config::default())).expect("engine");
    engine.process(Item::new(data, Some(name.into()), name))
}

#[test]
fn the_ppap_sample_opens_with_its_password_and_not_without() {
    let locked = archive::ppap_encrypted();
    let plain = unlock(&locked, "password").expect("unlocks");
    let got = entries(&plain);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "見積書.docx".as_bytes());
    assert_eq!(got[0].1, word::benign());
    for wrong in ["Password", "passwort", "", "パスワード"] {
        assert!(matches!(unlock(&locked, wrong), Err(UnlockError::WrongPassword)), "{wrong:?}");
    }
}

#[test]
fn a_zipcrypto_docm_unlocked_comes_out_of_the_engine_as_a_clean_docx() {
    let locked = archive::ppap_docm();
    let before = process(locked.clone(), "請求書.zip");
    assert_eq!(before.reason, Some(Reason::Encrypted), "blocked while locked");

    let plain = unlock(&locked, PPAP_PASSWORD).expect("unlocks");
    let got = entries(&plain);
    assert_eq!(got[0], ("請求書.docm".as_bytes().to_vec(), word::vba(ct::DOCM_MAIN)));
    let out = process(plain, "請求書.zip");
    assert_eq!(out.verdict, Verdict::Disarmed, "{out:?}");
    let clean = entries(out.output.as_deref().expect("output"));
    let names: Vec<String> = clean.iter().map(|(n, _)| String::from_utf8_lossy(n).into_owned()).collect();
    assert!(names.contains(&"請求書.docx".to_string()), "{names:?}");
    let docx = &clean.iter().find(|(n, _)| n == "請求書.docx".as_bytes()).expect("docx").1;
    assert!(!entries(docx).iter().any(|(n, _)| n.ends_with(b"vbaProject.bin")), "no macros left");
}

#[test]
fn winzip_aes_zips_of_every_key_length_unlock() {
    for mode in [::zip::AesMode::Aes128, ::zip::AesMode::Aes192, ::zip::AesMode::Aes256] {
        let locked = archive::ppap_aes(mode);
        assert!(matches!(unlock(&locked, "hosp-2026!"), Err(UnlockError::WrongPassword)), "{mode:?}");
        let got = entries(&unlock(&locked, PPAP_PASSWORD).expect("unlocks"));
        assert_eq!(got.len(), 2, "{mode:?}");
        assert_eq!(got[0].1, word::vba(ct::DOCM_MAIN), "{mode:?}");
        let out = process(unlock(&locked, PPAP_PASSWORD).expect("unlocks"), "a.zip");
        assert_eq!(out.verdict, Verdict::Disarmed, "{mode:?}");
    }
}

#[test]
fn shift_jis_names_and_passwords_are_kept_and_tried() {
    let (locked, sjis_name) = archive::ppap_shift_jis();
    let plain = unlock(&locked, "見積2026").expect("the password in Shift_JIS opens it");
    let got = entries(&plain);
    assert_eq!(got[0], (sjis_name, "見積金額: 120,000円\r\n".as_bytes().to_vec()));
    assert_eq!(got[1].0, b"readme.txt", "the unencrypted entry is carried over");
    // The engine reads the Shift_JIS name as Japanese Windows wrote it (and writes it in UTF-8).
    let out = process(plain, "見積.zip");
    assert_eq!(out.verdict, Verdict::Disarmed, "{out:?}");
    assert!(out.actions.is_empty(), "{:?}", out.actions);
    assert_eq!(entries(out.output.as_deref().expect("output"))[0].0, "見積書.txt".as_bytes());
    assert!(matches!(unlock(&locked, "見積2025"), Err(UnlockError::WrongPassword)));
}

#[test]
fn a_bomb_behind_a_password_is_stopped() {
    // Declaring its 200 MiB: refused from the directory, nothing inflated.
    let honest = unlock(&archive::ppap_bomb(true), PPAP_PASSWORD);
    assert!(matches!(honest, Err(UnlockError::Limit(_))), "{honest:?}");
    // Declaring 4 KiB: cut off one byte past what it declares.
    let lying = unlock(&archive::ppap_bomb(false), PPAP_PASSWORD);
    assert!(matches!(lying, Err(UnlockError::Limit(_))), "{lying:?}");
    // A tight limit on the total stops an honest entry under the ratio too.
    let mut limits = Config::default().limits;
    limits.max_total_bytes = 1000;
    let small = unlock_within(&archive::ppap_docm(), PPAP_PASSWORD, &limits);
    assert!(matches!(small, Err(UnlockError::Limit(_))), "{small:?}");
}

#[test]
fn files_without_a_password_are_not_encrypted_and_others_unsupported() {
    let plain_zip = archive::zip_of(&[("a.txt", b"hello")]);
    assert!(matches!(unlock(&plain_zip, "x"), Err(UnlockError::NotEncrypted(Kind::Zip))));
    assert!(matches!(unlock(&word::benign(), "x"), Err(UnlockError::NotEncrypted(Kind::Docx))));
    assert!(matches!(unlock(b"just text\r\n", "x"), Err(UnlockError::NotEncrypted(Kind::Text))));
    assert!(matches!(unlock(&archive::rar(), "x"), Err(UnlockError::Unsupported(Kind::Rar))));
    let e = unlock(&archive::rar(), "x").unwrap_err();
    assert_eq!(e.as_str(), "unsupported");
}

#[test]
fn damage_after_the_password_was_proven_is_malformed() {
    let mut locked = archive::ppap_docm();
    // The second entry's encrypted data sits just before the central directory: flip a byte
    // in its last few (deflate data, after the 12-byte encryption header).
    let cd = u32::from_le_bytes(locked[locked.len() - 6..locked.len() - 2].try_into().expect("4 bytes")) as usize;
    locked[cd - 3] ^= 0x55;
    let r = unlock(&locked, PPAP_PASSWORD);
    assert!(matches!(r, Err(UnlockError::Malformed(_))), "{r:?}");
}

#[test]
fn an_aes_7z_unlocks_into_a_zip_of_its_files_with_or_without_an_encrypted_header() {
    use crate::samples::packed;
    for hidden_names in [false, true] {
        let locked = packed::seven_zip_aes(PPAP_PASSWORD, hidden_names);
        let before = process(locked.clone(), "a.7z");
        assert_eq!(before.reason, Some(Reason::Encrypted), "blocked while locked");
        let wrong = unlock(&locked, "hosp-2026!");
        assert!(matches!(wrong, Err(UnlockError::WrongPassword)), "{hidden_names}: {wrong:?}");

        let plain = unlock(&locked, PPAP_PASSWORD).expect("unlocks");
        let got = entries(&plain);
        let names: Vec<String> = got.iter().map(|(n, _)| String::from_utf8_lossy(n).into_owned()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.iter().any(|n| n.ends_with(".docm")), "{names:?}");
        let out = process(plain, "a.zip");
        assert_eq!(out.verdict, Verdict::Disarmed, "{out:?}");
        let clean = entries(out.output.as_deref().expect("output"));
        assert!(clean.iter().any(|(n, _)| n.ends_with(b".docx")), "the docm came out as a docx");
    }
    // The same limits as the disarm: here the declared sizes are over max_total_bytes.
    let mut limits = Config::default().limits;
    limits.max_total_bytes = 1000;
    let small = unlock_within(&packed::seven_zip_aes(PPAP_PASSWORD, true), PPAP_PASSWORD, &limits);
    assert!(matches!(small, Err(UnlockError::Limit(_))), "{small:?}");
    let plain_7z = packed::seven_zip_docm();
    assert!(matches!(unlock(&plain_7z, PPAP_PASSWORD), Err(UnlockError::NotEncrypted(Kind::SevenZip))));
}

#[test]
fn a_pdf_with_a_user_password_unlocks_with_it_and_goes_through_the_engine() {
    use crate::samples::pdf::{self as pdf_samples, ENCRYPTED_WORDS, USER_PASSWORD};
    for locked in [pdf_samples::encrypted_with_password(), pdf_samples::encrypted_aes_with_password()] {
        assert_eq!(process(locked.clone(), "letter.pdf").reason, Some(Reason::Encrypted), "blocked while locked");
        let wrong = unlock(&locked, "mugai-usr");
        assert!(matches!(wrong, Err(UnlockError::WrongPassword)), "{wrong:?}");
        let plain = unlock(&locked, USER_PASSWORD).expect("unlocks");
        let doc = lopdf::Document::load_mem(&plain).expect("a PDF");
        assert!(!doc.trailer.has(b"Encrypt"), "written in the clear");
        let text = doc.extract_text(&[1]).expect("text of page 1");
        for w in ENCRYPTED_WORDS {
            assert!(text.contains(w), "{w} in {text:?}");
        }
        let out = process(plain, "letter.pdf");
        assert_ne!(out.verdict, Verdict::Blocked, "{out:?}");
    }
    assert!(matches!(unlock(&pdf_samples::encrypted_empty_password(), "x"), Err(UnlockError::NotEncrypted(Kind::Pdf))));
}

/// `plain` encrypted as Office does with a password (agile: AES-256, SHA-512, 100 000 spins),
/// by an encryptor independent of the decryptor.
fn office_encrypted(plain: &[u8], password: &str) -> Vec<u8> {
    use rand::SeedableRng;
    use std::io::Write;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut w = ms_offcrypto_writer::Ecma376AgileWriter::create(&mut rng, password, Cursor::new(Vec::new()))
        .expect("encryptor");
    w.write_all(plain).expect("encrypting");
    w.into_inner().expect("encrypted file").into_inner()
}

#[test]
fn an_encrypted_docm_unlocks_to_the_docm_and_comes_out_of_the_engine_as_a_docx() {
    let docm = word::vba(ct::DOCM_MAIN);
    let locked = office_encrypted(&docm, PPAP_PASSWORD);
    let before = process(locked.clone(), "請求書.docm");
    assert_eq!(before.kind, Kind::EncryptedOffice);
    assert_eq!(before.reason, Some(Reason::Encrypted), "blocked while locked");
    assert!(matches!(unlock(&locked, "hosp-2026!"), Err(UnlockError::WrongPassword)));

    let plain = unlock(&locked, PPAP_PASSWORD).expect("unlocks");
    assert_eq!(plain, docm, "the package it wraps, byte for byte");
    let out = process(plain, "請求書.docm");
    assert_eq!(out.verdict, Verdict::Disarmed, "{out:?}");
    assert_eq!(out.output_kind, Some(Kind::Docx));
    assert_eq!(out.output_name.as_deref(), Some("請求書.docx"));
}

#[test]
fn an_encrypted_document_within_tight_limits_is_a_limit() {
    let locked = office_encrypted(&word::benign(), PPAP_PASSWORD);
    let mut limits = Config::default().limits;
    limits.max_total_bytes = 1000;
    assert!(matches!(unlock_within(&locked, PPAP_PASSWORD, &limits), Err(UnlockError::Limit(_))));
    limits = Config::default().limits;
    limits.max_input_bytes = 1000;
    assert!(matches!(unlock_within(&locked, PPAP_PASSWORD, &limits), Err(UnlockError::Limit(_))));
}

/// The attachments of a message: (name, decoded bytes).
fn attachments(message: &[u8]) -> Vec<(String, Vec<u8>)> {
    use mail_parser::MimeHeaders;
    let m = mail_parser::MessageParser::default().parse(message).expect("a message");
    m.attachments().map(|a| (a.attachment_name().unwrap_or_default().to_string(), a.contents().to_vec())).collect()
}

#[test]
fn a_held_message_released_with_the_password_carries_the_clean_documents_of_its_password_zip() {
    let message = crate::samples::mail::with_attachment("application/zip", "請求書.zip", archive::ppap_docm());
    let engine = Engine::new(Arc::new(Config::default())).expect("engine");
    let held = engine.process(Item::new(message.clone(), None, "message"));
    assert_eq!(held.hold_reason().map(|(r, _)| r), Some(Reason::Encrypted), "held while locked: {held:?}");

    let released = engine.process_with_password(Item::new(message.clone(), None, "message"), PPAP_PASSWORD);
    assert_eq!(released.verdict, Verdict::Disarmed, "{released:?}");
    assert_eq!(released.hold_reason(), None, "nothing held back: {:?}", released.actions);
    assert!(released.actions.iter().any(|a| a.action == crate::model::ActionKind::RemovedEncryption));
    let out = attachments(released.output.as_deref().expect("output"));
    let zip = &out.iter().find(|(n, _)| n == "請求書.zip").expect("the zip attachment, clean").1;
    let names: Vec<Vec<u8>> = entries(zip).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"請求書.docx".as_bytes().to_vec()), "{names:?}");

    let wrong = engine.process_with_password(Item::new(message, None, "message"), "hosp-2026?");
    let (reason, detail) = wrong.hold_reason().expect("still held");
    assert_eq!(reason, Reason::Encrypted);
    assert!(detail.contains("wrong_password"), "{detail}");
}

#[test]
fn an_encrypted_document_released_with_the_password_comes_out_as_its_macro_free_twin() {
    let locked = office_encrypted(&word::vba(ct::DOCM_MAIN), PPAP_PASSWORD);
    let engine = Engine::new(Arc::new(Config::default())).expect("engine");
    let out = engine.process_with_password(Item::new(locked, Some("請求書.docm".into()), "請求書.docm"), PPAP_PASSWORD);
    assert_eq!((out.verdict, out.kind, out.output_kind), (Verdict::Disarmed, Kind::EncryptedOffice, Some(Kind::Docx)));
    assert_eq!(out.output_name.as_deref(), Some("請求書.docx"));
    assert_eq!(out.actions[0].action, crate::model::ActionKind::RemovedEncryption);
    // Without a password nothing changes.
    let plain = engine.process(Item::new(word::benign(), Some("a.docx".into()), "a.docx"));
    let with = engine.process_with_password(Item::new(word::benign(), Some("a.docx".into()), "a.docx"), "x");
    assert_eq!((plain.verdict, plain.sha256_out), (with.verdict, with.sha256_out));
}

/// `plain` encrypted as Office 2007 does (ECMA-376 standard encryption: AES-128 in ECB mode,
/// the key from SHA-1 over 50 000 rounds; MS-OFFCRYPTO 2.3.4.5 to 2.3.4.9), written here from
/// the specification since no maintained crate writes this older scheme.
fn office_standard_encrypted(plain: &[u8], password: &str) -> Vec<u8> {
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    use sha1::{Digest, Sha1};
    use std::io::Write;
    let salt: [u8; 16] = *b"mugai-sample-slt";
    let pw: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut h = Sha1::digest([&salt[..], &pw].concat());
    for i in 0u32..50_000 {
        h = Sha1::digest([&i.to_le_bytes()[..], &h].concat());
    }
    let h = Sha1::digest([&h[..], &0u32.to_le_bytes()].concat());
    let mut x1 = [0x36u8; 64];
    x1.iter_mut().zip(h.iter()).for_each(|(a, b)| *a ^= b);
    let key = Sha1::digest(x1);
    let cipher = aes::Aes128::new_from_slice(&key[..16]).expect("a 16-byte key");
    let ecb = |data: &[u8]| -> Vec<u8> {
        let mut out = data.to_vec();
        out.resize(data.len().div_ceil(16) * 16, 0);
        for block in out.chunks_exact_mut(16) {
            let mut b = aes::Block::try_from(&*block).expect("16 bytes");
            cipher.encrypt_block(&mut b);
            block.copy_from_slice(&b);
        }
        out
    };
    let verifier: [u8; 16] = *b"verifier-bytes-!";
    let verifier_hash = Sha1::digest(verifier);

    let csp: Vec<u8> =
        "Microsoft Enhanced RSA and AES Cryptographic Provider\0".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut header = Vec::new();
    for v in [0x24u32, 0, 0x660E, 0x8004, 128, 0x18, 0, 0] {
        header.extend_from_slice(&v.to_le_bytes());
    }
    header.extend_from_slice(&csp);
    let mut info = vec![3, 0, 2, 0];
    info.extend_from_slice(&0x24u32.to_le_bytes());
    info.extend_from_slice(&(header.len() as u32).to_le_bytes());
    info.extend_from_slice(&header);
    info.extend_from_slice(&16u32.to_le_bytes());
    info.extend_from_slice(&salt);
    info.extend_from_slice(&ecb(&verifier));
    info.extend_from_slice(&20u32.to_le_bytes());
    info.extend_from_slice(&ecb(&verifier_hash));
    let mut package = (plain.len() as u64).to_le_bytes().to_vec();
    package.extend_from_slice(&ecb(plain));

    let mut cf = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("compound file");
    cf.create_stream("/EncryptionInfo").expect("stream").write_all(&info).expect("write");
    cf.create_stream("/EncryptedPackage").expect("stream").write_all(&package).expect("write");
    cf.flush().expect("flush");
    cf.into_inner().into_inner()
}

#[test]
fn an_office_2007_encrypted_workbook_unlocks_too() {
    let xlsm = crate::samples::excel::vba(ct::XLSM_MAIN);
    let locked = office_standard_encrypted(&xlsm, PPAP_PASSWORD);
    assert_eq!(process(locked.clone(), "a.xlsm").kind, Kind::EncryptedOffice);
    // Standard encryption's key check is not made by the decryptor: a wrong key gives noise,
    // which is not a package.
    assert!(matches!(unlock(&locked, "hosp-2026!"), Err(UnlockError::WrongPassword)));
    assert_eq!(unlock(&locked, PPAP_PASSWORD).expect("unlocks"), xlsm);
}

#[test]
fn damaged_encrypted_files_are_refused_without_a_panic() {
    let samples = [
        archive::ppap_docm(),
        archive::ppap_aes(::zip::AesMode::Aes256),
        crate::samples::packed::seven_zip_aes(PPAP_PASSWORD, true),
        crate::samples::pdf::encrypted_aes_with_password(),
        office_encrypted(&word::benign(), PPAP_PASSWORD),
    ];
    for (n, sample) in samples.iter().enumerate() {
        let password = if n == 3 { crate::samples::pdf::USER_PASSWORD } else { PPAP_PASSWORD };
        let step = (sample.len() / 40).max(1);
        for at in (0..sample.len()).step_by(step) {
            for cut in [false, true] {
                let mut bad = sample.clone();
                if cut {
                    bad.truncate(at);
                } else {
                    bad[at] ^= 0xA5;
                }
                // Any answer but a panic; what opens anyway goes through the engine next.
                let _ = unlock(&bad, password);
            }
        }
    }
}
