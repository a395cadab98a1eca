//! Integration tests: one binary for the whole crate.
//!
//! `cli` runs the `mugai` binary on real files (exit codes, report, quarantine, config errors);
//! `samples` runs every synthetic sample of `mugai::samples` through the engine and checks the
//! outcome and the rebuilt package; `structure` holds the package checks those tests use.

mod cli;
mod limits;
mod mutations;
mod ooxml;
mod samples;
mod structure;
