//! `mugai receipt keygen` and `mugai receipt verify`: the key pair that signs sanitization
//! receipts, and the check a receiver runs on a file and its receipt.

use super::{Cli, EXIT_CLEAN, EXIT_FOUND};
use anyhow::{Context as _, Result};
use mugai::receipt::{self, ReceiptError};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ReceiptArgs {
    #[command(subcommand)]
    pub command: ReceiptCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReceiptCommand {
    /// Make an Ed25519 key pair: mugai.key (private, owner-only) and mugai.pub (give this one
    /// to the receivers). Existing files are never overwritten.
    Keygen {
        /// Folder for the two files (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check that a file is exactly the one a trusted key neutralized. Exit 0 when it is, 1
    /// when it is not (changed file, changed receipt, untrusted key, receipt for another file).
    Verify {
        /// The file, or a zip bundle holding files with their receipts.
        file: PathBuf,
        /// The receipt; default: <file>.mugai.json beside the file.
        #[arg(long)]
        receipt: Option<PathBuf>,
        /// A public key (.pub) or a folder of them.
        #[arg(long, required = true)]
        trust: PathBuf,
    },
}

pub fn run(_cli: &Cli, a: &ReceiptArgs) -> Result<u8> {
    match &a.command {
        ReceiptCommand::Keygen { out } => {
            let id = receipt::keygen(out)?;
            println!(
                "key {id}: private key {} (keep it secret), public key {} (give it to receivers)",
                out.join("mugai.key").display(),
                out.join("mugai.pub").display()
            );
            Ok(EXIT_CLEAN)
        }
        ReceiptCommand::Verify { file, receipt: r, trust } => verify(file, r.as_deref(), trust),
    }
}

/// Largest file checked (hashing streams would do for the file alone, but a bundle is read
/// whole).
const MAX_FILE_BYTES: u64 = 4 << 30;

fn verify(file: &Path, receipt_path: Option<&Path>, trust: &Path) -> Result<u8> {
    let trusted = receipt::load_trusted(trust)?;
    let data = read_bounded(file)?;
    let beside = receipt_path.map(Path::to_path_buf).unwrap_or_else(|| {
        let mut p = file.as_os_str().to_owned();
        p.push(receipt::SUFFIX);
        PathBuf::from(p)
    });
    let checks: Vec<receipt::Bundled> = if receipt_path.is_some() || beside.exists() {
        vec![(file.display().to_string(), data, receipt::read_receipt(&beside)?)]
    } else {
        match receipt::unbundle(&data, MAX_FILE_BYTES) {
            Some(pairs) if !pairs.is_empty() => pairs,
            _ => {
                println!(
                    "FAILED {}: no receipt ({} not found, and the file is not a bundle with receipts)",
                    file.display(),
                    beside.display()
                );
                return Ok(EXIT_FOUND);
            }
        }
    };
    let mut failed = 0;
    for (name, bytes, r) in &checks {
        match receipt::verify(bytes, r, &trusted) {
            Ok(v) => {
                let r = &v.receipt;
                let actions: Vec<String> = r
                    .actions
                    .iter()
                    .map(|a| {
                        serde_json::to_value(a.action)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    })
                    .collect();
                println!(
                    "OK {name}: neutralized by mugai {} (key {}) at {} from {} ({}, sha256 {}); {}: {}; policy {}",
                    r.mugai_version,
                    r.key_id,
                    r.issued_at,
                    r.input.name,
                    r.kind,
                    &r.input.sha256,
                    r.verdict.as_str(),
                    if actions.is_empty() { "nothing to remove".to_string() } else { actions.join(", ") },
                    &r.policy_sha256[..16.min(r.policy_sha256.len())],
                );
            }
            Err(e) => {
                failed += 1;
                let code = match &e {
                    ReceiptError::WrongFile { .. } => "wrong_file",
                    ReceiptError::BadSignature => "bad_signature",
                    ReceiptError::UntrustedKey(_) => "untrusted_key",
                    _ => "malformed",
                };
                println!("FAILED {name}: {code}: {e}");
            }
        }
    }
    Ok(if failed > 0 { EXIT_FOUND } else { EXIT_CLEAN })
}

fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut v = Vec::new();
    f.take(MAX_FILE_BYTES + 1).read_to_end(&mut v).with_context(|| format!("{}", path.display()))?;
    anyhow::ensure!(v.len() as u64 <= MAX_FILE_BYTES, "{}: larger than 4 GiB", path.display());
    Ok(v)
}
