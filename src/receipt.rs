//! Signed sanitization receipts: proof that a file is exactly the one mugai produced from a
//! given input, under a given policy, and what it removed on the way.
//!
//! A receipt is a small JSON document ([`Receipt`]): the clean file's name, SHA-256 and size,
//! the same of the input it came from, the input's true kind, the verdict, the actions taken, the
//! SHA-256 of the policy (the configuration sections that decide what is removed), the mugai
//! version, the time, the signing key's id, and an Ed25519 signature over all of that. It travels
//! beside the file as `<name>.mugai.json`, or inside a zip with it ([`bundle`]).
//!
//! What is signed is the receipt without its `signature` field, in a canonical form: keys sorted,
//! no white space, strings escaped as JSON requires and nothing more (RFC 8785 for documents
//! whose numbers are all integers, which receipts are). The receiver re-derives that form from
//! the JSON it got, so pretty-printing or re-ordering the file in transit does not break it, and
//! any change to a value does.
//!
//! Keys are Ed25519 in the standard PEM forms (PKCS #8 for the private key, SubjectPublicKeyInfo
//! for the public key), so `openssl pkey` can read them too. The private key file must be
//! readable by its owner only; a looser one is refused, as ssh refuses.
//!
//! This module does no disarming and trusts nothing it reads: verifying checks the signature
//! against the trusted keys first, then that the file's bytes are the ones signed for.

use crate::config::Config;
use crate::engine::Outcome;
use crate::model::{sha256_hex, Action, Kind, Verdict};
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The value of a receipt's `format` field.
pub const FORMAT: &str = "mugai-receipt/1";

/// The suffix a receipt file takes after the name of the file it is for.
pub const SUFFIX: &str = ".mugai.json";

/// Largest receipt read (a receipt lists actions, not content: a few KB is usual).
const MAX_RECEIPT_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("key file {path}: {why}")]
    Key { path: PathBuf, why: String },
    #[error("not a mugai receipt: {0}")]
    Malformed(String),
    #[error("the receipt is signed by key {0}, which is not among the trusted keys")]
    UntrustedKey(String),
    #[error("the receipt's signature does not match its contents: the receipt was changed after it was signed")]
    BadSignature,
    #[error("the file is not the one the receipt is for: the receipt names {expected_name} with SHA-256 {expected}, the file has {actual}")]
    WrongFile { expected_name: String, expected: String, actual: String },
    #[error("no trusted keys: {0}")]
    NoTrustedKeys(String),
}

/// A file a receipt speaks of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// A sanitization receipt, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`FORMAT`].
    pub format: String,
    /// The clean file.
    pub file: FileRef,
    /// The input it was made from.
    pub input: FileRef,
    /// The input's true kind, and the clean file's.
    pub kind: Kind,
    pub output_kind: Kind,
    /// `kept` (nothing to remove) or `disarmed`.
    pub verdict: Verdict,
    /// What was removed or changed.
    pub actions: Vec<Action>,
    /// SHA-256 of the policy in force ([`policy_sha256`]).
    pub policy_sha256: String,
    pub mugai_version: String,
    /// When it was issued, RFC 3339 UTC.
    pub issued_at: String,
    /// The signing key's id ([`key_id`]).
    pub key_id: String,
    /// Ed25519 signature over the canonical form of every other field, base64.
    pub signature: String,
}

/// A receipt that verified: what it says.
#[derive(Debug, Clone)]
pub struct Verified {
    pub receipt: Receipt,
}

/// The id of a public key: the first 16 hex digits of the SHA-256 of its 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    sha256_hex(key.as_bytes())[..16].to_string()
}

/// The SHA-256 of the policy: the resolved configuration without the sections that do not
/// decide what is removed (engine threads, quarantine, logging, services, folders). Two
/// installations with the same hash remove the same things.
pub fn policy_sha256(config: &Config) -> String {
    const NOT_POLICY: [&str; 5] = ["engine", "quarantine", "log", "smtp", "dropfolder"];
    let mut keep = true;
    let mut text = String::new();
    for line in config.to_toml().lines() {
        let t = line.trim();
        if let Some(section) = t.strip_prefix("[[").or_else(|| t.strip_prefix('[')) {
            let name = section.trim_end_matches(']').trim();
            let top = name.split('.').next().unwrap_or(name);
            keep = !NOT_POLICY.contains(&top);
        }
        if keep {
            text.push_str(line);
            text.push('\n');
        }
    }
    sha256_hex(text.as_bytes())
}

/// Makes the receipt for an outcome's clean output, written as `output_name`; the output's
/// hash is the one the engine took. `issued_at` comes from the caller (this module reads no
/// clock). Returns `None` for a blocked outcome: there is no clean file to vouch for.
pub fn issue(
    key: &SigningKey,
    input_name: &str,
    outcome: &Outcome,
    output_name: &str,
    policy_sha256: &str,
    issued_at: std::time::SystemTime,
) -> Option<Receipt> {
    if outcome.verdict == Verdict::Blocked {
        return None;
    }
    // The engine gives the output's hash and size; the bytes themselves are needed only for
    // an outcome made without them.
    let (sha256, size) = match (&outcome.sha256_out, outcome.size_out, outcome.output.as_deref()) {
        (Some(h), Some(n), _) => (h.clone(), n),
        (_, _, Some(output)) => (sha256_hex(output), output.len() as u64),
        _ => return None,
    };
    let mut r = Receipt {
        format: FORMAT.into(),
        file: FileRef { name: output_name.into(), sha256, size },
        input: FileRef { name: input_name.into(), sha256: outcome.sha256_in.clone(), size: outcome.size_in },
        kind: outcome.kind,
        output_kind: outcome.output_kind.unwrap_or(outcome.kind),
        verdict: outcome.verdict,
        actions: outcome.actions.clone(),
        policy_sha256: policy_sha256.into(),
        mugai_version: env!("CARGO_PKG_VERSION").into(),
        issued_at: humantime::format_rfc3339_seconds(issued_at).to_string(),
        key_id: key_id(&key.verifying_key()),
        signature: String::new(),
    };
    let body = canonical_unsigned(&serde_json::to_value(&r).ok()?).ok()?;
    r.signature = base64::engine::general_purpose::STANDARD.encode(key.sign(&body).to_bytes());
    Some(r)
}

impl Receipt {
    /// The receipt as a file: pretty JSON (the signature does not depend on the layout).
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// Checks `receipt` (its JSON bytes) against `trusted` keys and `file` (the bytes it should be
/// for). The signature is checked before anything the receipt says is believed.
pub fn verify(file: &[u8], receipt: &[u8], trusted: &[VerifyingKey]) -> Result<Verified, ReceiptError> {
    let value: Value = serde_json::from_slice(receipt).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let obj = value.as_object().ok_or_else(|| ReceiptError::Malformed("not a JSON object".into()))?;
    if obj.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(ReceiptError::Malformed(format!("no \"format\": \"{FORMAT}\"")));
    }
    let sig_text =
        obj.get("signature").and_then(Value::as_str).ok_or_else(|| ReceiptError::Malformed("no signature".into()))?;
    let sig_bytes = base64::engine::general_purpose::STANDARD
        .decode(sig_text)
        .map_err(|_| ReceiptError::Malformed("the signature is not base64".into()))?;
    let sig = Signature::from_slice(&sig_bytes)
        .map_err(|_| ReceiptError::Malformed("the signature is not 64 bytes".into()))?;
    let named = obj.get("key_id").and_then(Value::as_str).unwrap_or_default().to_string();
    let key = trusted.iter().find(|k| key_id(k) == named).ok_or(ReceiptError::UntrustedKey(named))?;
    let body = canonical_unsigned(&value)?;
    key.verify(&body, &sig).map_err(|_| ReceiptError::BadSignature)?;
    // Signed by a trusted key: now what it says can be read.
    let receipt: Receipt = serde_json::from_value(value).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let actual = sha256_hex(file);
    if actual != receipt.file.sha256 || file.len() as u64 != receipt.file.size {
        return Err(ReceiptError::WrongFile {
            expected_name: receipt.file.name.clone(),
            expected: receipt.file.sha256.clone(),
            actual,
        });
    }
    Ok(Verified { receipt })
}

/// The canonical bytes of a receipt without its `signature` (see the module documentation).
fn canonical_unsigned(value: &Value) -> Result<Vec<u8>, ReceiptError> {
    let mut v = value.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("signature");
    }
    let mut out = Vec::with_capacity(1024);
    canonical(&v, &mut out, 0)?;
    Ok(out)
}

/// RFC 8785 serialization for JSON without fractional numbers, written here because it is a
/// dozen lines, and a crate would have to be trusted to match other implementations anyway:
/// objects with keys sorted by UTF-16 code units, no white space, strings as `serde_json` writes
/// them (which escapes exactly what RFC 8785 escapes, in its short forms). Nesting is bounded.
fn canonical(v: &Value, out: &mut Vec<u8>, depth: u32) -> Result<(), ReceiptError> {
    if depth > 32 {
        return Err(ReceiptError::Malformed("nested too deep".into()));
    }
    match v {
        Value::Null | Value::Bool(_) | Value::String(_) => {
            out.extend_from_slice(&serde_json::to_vec(v).map_err(|e| ReceiptError::Malformed(e.to_string()))?);
        }
        Value::Number(n) => {
            if n.is_f64() {
                return Err(ReceiptError::Malformed("a fractional number".into()));
            }
            out.extend_from_slice(n.to_string().as_bytes());
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(x, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&serde_json::to_vec(k).map_err(|e| ReceiptError::Malformed(e.to_string()))?);
                out.push(b':');
                canonical(&o[k], out, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A zip holding the file and its receipt (`<name>` and `<name>.mugai.json`), for sending both
/// as one attachment or one upload. Stored, not compressed: the file is usually compressed
/// already, and the receiver reads it back exactly.
pub fn bundle(name: &str, file: &[u8], receipt: &Receipt) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    let write =
        |zip: &mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>, n: &str, data: &[u8]| -> zip::result::ZipResult<()> {
            zip.start_file(n, opts)?;
            zip.write_all(data)?;
            Ok(())
        };
    let ok = write(&mut zip, name, file).and_then(|_| write(&mut zip, &format!("{name}{SUFFIX}"), &receipt.to_json()));
    match ok.and_then(|_| zip.finish()) {
        Ok(c) => c.into_inner(),
        Err(_) => Vec::new(),
    }
}

/// One file of a bundle: its name, its bytes and its receipt's bytes.
pub type Bundled = (String, Vec<u8>, Vec<u8>);

/// The (file, receipt) pairs inside a bundle made by [`bundle`]: every entry `X` with an entry
/// `X.mugai.json` beside it. `None` when `data` is not a zip, or when its pairs hold more than
/// `max_bytes` in all (never a part of a file: a cut file would be checked and passed on as if
/// it were whole).
pub fn unbundle(data: &[u8], max_bytes: u64) -> Option<Vec<Bundled>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).ok()?;
    let names: std::collections::BTreeSet<String> =
        zip.file_names().filter_map(Result::ok).map(|n| n.into_owned()).collect();
    let mut left = max_bytes;
    let mut read = |n: &str| -> Option<Vec<u8>> {
        let f = zip.by_name(n).ok()?;
        let mut v = Vec::new();
        f.take(left.saturating_add(1)).read_to_end(&mut v).ok()?;
        left = left.checked_sub(v.len() as u64)?;
        Some(v)
    };
    let mut pairs = Vec::new();
    for n in names.iter().filter(|n| !n.ends_with(SUFFIX)) {
        let r = format!("{n}{SUFFIX}");
        if names.contains(&r) {
            pairs.push((n.clone(), read(n)?, read(&r)?));
        }
    }
    Some(pairs)
}

/// Makes a key pair in `dir`: `mugai.key` (PKCS #8 PEM, owner-only) and `mugai.pub`
/// (SubjectPublicKeyInfo PEM). Refuses to overwrite either. Returns the key id.
pub fn keygen(dir: &Path) -> Result<String, ReceiptError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReceiptError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let (key_path, pub_path) = (dir.join("mugai.key"), dir.join("mugai.pub"));
    for p in [&key_path, &pub_path] {
        if p.exists() {
            return Err(ReceiptError::Key { path: p.clone(), why: "exists already; not overwritten".into() });
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| ReceiptError::Key { path: key_path.clone(), why: format!("no randomness: {e}") })?;
    let key = SigningKey::from_bytes(&seed);
    let pem = key
        .to_pkcs8_pem(Default::default())
        .map_err(|e| ReceiptError::Key { path: key_path.clone(), why: e.to_string() })?;
    let public = key
        .verifying_key()
        .to_public_key_pem(Default::default())
        .map_err(|e| ReceiptError::Key { path: pub_path.clone(), why: e.to_string() })?;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&key_path).map_err(io(&key_path))?;
    f.write_all(pem.as_bytes()).and_then(|_| f.sync_all()).map_err(io(&key_path))?;
    let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&pub_path).map_err(io(&pub_path))?;
    f.write_all(public.as_bytes()).and_then(|_| f.sync_all()).map_err(io(&pub_path))?;
    Ok(key_id(&key.verifying_key()))
}

/// A key and the policy it signs under: what every shell that issues receipts holds.
pub struct Signer {
    key: SigningKey,
    policy_sha256: String,
}

impl Signer {
    /// Loads the private key (see [`load_signing_key`]) and takes the hash of `config`'s policy.
    pub fn load(key: &Path, config: &Config) -> Result<Self, ReceiptError> {
        Ok(Signer { key: load_signing_key(key)?, policy_sha256: policy_sha256(config) })
    }

    /// [`issue`] with this key and policy, dated now.
    pub fn issue(&self, input_name: &str, outcome: &Outcome, output_name: &str) -> Option<Receipt> {
        issue(&self.key, input_name, outcome, output_name, &self.policy_sha256, std::time::SystemTime::now())
    }
}

/// Reads a private key made by [`keygen`]; refuses one that others can read.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, ReceiptError> {
    let meta = fs::metadata(path).map_err(|source| ReceiptError::Io { path: path.into(), source })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ReceiptError::Key {
                path: path.into(),
                why: format!("readable by others (mode {mode:o}); make it owner-only: chmod 600 {}", path.display()),
            });
        }
    }
    let _ = meta;
    let text = fs::read_to_string(path).map_err(|source| ReceiptError::Io { path: path.into(), source })?;
    SigningKey::from_pkcs8_pem(&text)
        .map_err(|e| ReceiptError::Key { path: path.into(), why: format!("not an Ed25519 private key: {e}") })
}

/// The trusted public keys: one `.pub` file, or every `.pub` file in a folder.
pub fn load_trusted(path: &Path) -> Result<Vec<VerifyingKey>, ReceiptError> {
    let io = |source| ReceiptError::Io { path: path.into(), source };
    let files: Vec<PathBuf> = if fs::metadata(path).map_err(io)?.is_dir() {
        let mut v: Vec<PathBuf> = fs::read_dir(path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "pub"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut keys = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).map_err(|source| ReceiptError::Io { path: f.clone(), source })?;
        let k = VerifyingKey::from_public_key_pem(&text)
            .map_err(|e| ReceiptError::Key { path: f.clone(), why: format!("not an Ed25519 public key: {e}") })?;
        keys.push(k);
    }
    if keys.is_empty() {
        return Err(ReceiptError::NoTrustedKeys(format!("no .pub file in {}", path.display())));
    }
    Ok(keys)
}

/// Reads a receipt file, bounded.
pub fn read_receipt(path: &Path) -> Result<Vec<u8>, ReceiptError> {
    let f = fs::File::open(path).map_err(|source| ReceiptError::Io { path: path.into(), source })?;
    let mut v = Vec::new();
    f.take(MAX_RECEIPT_BYTES).read_to_end(&mut v).map_err(|source| ReceiptError::Io { path: path.into(), source })?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn outcome(out: &[u8]) -> Outcome {
        let mut o = Outcome::new("a.docm".into(), Some("a.docm".into()), 10, sha256_hex(b"input"));
        o.kind = Kind::Docm;
        o.verdict = Verdict::Disarmed;
        o.output_kind = Some(Kind::Docx);
        o.actions = vec![Action::new(crate::model::ActionKind::RemovedVbaProject, "word/vbaProject.bin")];
        o.output = Some(out.to_vec());
        o.sha256_out = Some(sha256_hex(out));
        o
    }

    fn receipt(k: &SigningKey, out: &[u8]) -> Receipt {
        issue(k, "a.docm", &outcome(out), "a.docx", "p", std::time::UNIX_EPOCH).unwrap()
    }

    #[test]
    fn a_receipt_verifies_for_its_file_and_key_only() {
        let r = receipt(&key(1), b"clean");
        let json = r.to_json();
        let v = verify(b"clean", &json, &[key(1).verifying_key()]).unwrap();
        assert_eq!(v.receipt.file.name, "a.docx");
        assert!(matches!(verify(b"clean!", &json, &[key(1).verifying_key()]), Err(ReceiptError::WrongFile { .. })));
        assert!(matches!(verify(b"clean", &json, &[key(2).verifying_key()]), Err(ReceiptError::UntrustedKey(_))));
        // Any value changed after signing.
        let tampered = String::from_utf8(json.clone()).unwrap().replace("removed_vba_project", "removed_activex");
        assert!(matches!(
            verify(b"clean", tampered.as_bytes(), &[key(1).verifying_key()]),
            Err(ReceiptError::BadSignature)
        ));
        // Layout is not content: compact JSON with other key order still verifies.
        let compact = serde_json::to_vec(&serde_json::from_slice::<Value>(&json).unwrap()).unwrap();
        assert!(verify(b"clean", &compact, &[key(1).verifying_key()]).is_ok());
    }

    #[test]
    fn canonical_form_sorts_keys_and_escapes_minimally() {
        let v: Value = serde_json::from_str(r#"{"b":[1,"\u000f",true],"a":{"é":"\n","Z":null}}"#).unwrap();
        let mut out = Vec::new();
        canonical(&v, &mut out, 0).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"a\":{\"Z\":null,\"é\":\"\\n\"},\"b\":[1,\"\\u000f\",true]}");
        assert!(canonical(&serde_json::json!({"a": 1.5}), &mut Vec::new(), 0).is_err());
    }

    #[test]
    fn bundles_carry_file_and_receipt() {
        let r = receipt(&key(3), b"clean");
        let z = bundle("a.docx", b"clean", &r);
        let pairs = unbundle(&z, 1 << 20).unwrap();
        assert_eq!(pairs.len(), 1);
        // More than the bound in all: not read as a bundle, rather than read in part.
        assert!(unbundle(&z, 10).is_none());
        assert_eq!(pairs[0].0, "a.docx");
        assert!(verify(&pairs[0].1, &pairs[0].2, &[key(3).verifying_key()]).is_ok());
    }

    #[test]
    fn keys_are_made_once_owner_only_and_read_back() {
        let d = tempfile::tempdir().unwrap();
        let id = keygen(d.path()).unwrap();
        assert!(keygen(d.path()).is_err(), "never overwritten");
        let k = load_signing_key(&d.path().join("mugai.key")).unwrap();
        assert_eq!(key_id(&k.verifying_key()), id);
        let trusted = load_trusted(d.path()).unwrap();
        assert_eq!(trusted, vec![k.verifying_key()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = d.path().join("mugai.key");
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(load_signing_key(&p), Err(ReceiptError::Key { .. })));
        }
    }

    #[test]
    fn the_policy_hash_follows_policy_not_plumbing() {
        let base = Config::default();
        let mut plumbing = Config::default();
        plumbing.engine.threads = 7;
        plumbing.quarantine.dir = "/elsewhere".into();
        assert_eq!(policy_sha256(&base), policy_sha256(&plumbing));
        let mut stricter = Config::default();
        stricter.limits.max_depth = 2;
        assert_ne!(policy_sha256(&base), policy_sha256(&stricter));
    }
}
