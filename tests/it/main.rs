//! Integration tests: one binary for the whole crate.
//!
//! `cli` runs the `mugai` binary on real files (exit codes, report, quarantine, config errors);
//! `samples` runs every synthetic sample of `mugai::samples` through the engine and checks the
//! outcome and the rebuilt package; `structure` holds the package checks those tests use; `pdf`
//! does the same for the PDF samples of `mugai::samples::pdf`, with its own checks; `ole2`, `odf`,
//! `rtf`, `archive`, `packed` and `markup` for the legacy Office, OpenDocument, RTF, zip and
//! disguised files, gzip/tar/7z/LHA, and HTML/SVG/XML samples of `mugai::samples`; `mail` for the
//! mail messages; `smtp` for the SMTP content filter with real peers on loopback; `quarantine` for the
//! quarantine store (a real SQLite index and blob files) and the `mugai quarantine` commands;
//! `hostile` for the hostile-input suite (each input in a child process under a memory cap);
//! `properties` for the property tests (mutated samples of each format family).

mod archive;
mod cli;
mod common;
mod dropfolder;
mod hostile;
mod limits;
mod mail;
mod markup;
mod mutations;
mod odf;
mod ole2;
mod ooxml;
mod packed;
mod pdf;
mod properties;
mod quarantine;
mod receipt;
mod rtf;
mod samples;
mod smtp;
mod structure;
mod xlsb;
