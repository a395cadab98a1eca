//! Integration tests: one binary for the whole crate.
//!
//! `samples` runs every synthetic sample of `mugai::samples` through the engine and checks the
//! outcome and the rebuilt package; `structure` holds the package checks those tests use.

mod samples;
mod structure;
