//! mugai (無害, "harmless"): content disarm and reconstruction.
//!
//! Every file that reaches mugai becomes an [`model::Item`]: bytes plus the name and type its
//! sender claimed. [`detect`] finds the item's true [`model::Kind`] from its bytes alone and
//! notes where the name or declared type disagree. The [`engine`] then hands the item to the
//! format module for its kind ([`formats`]); a format module is a pure function from bytes to
//! new bytes plus the list of [`model::Action`]s it took, or a named [`model::Reason`] why it
//! could not. Containers (archives, an OOXML package with embedded documents, PDF attachments,
//! mail messages and their attachments) hand their children back to the engine, which processes them in parallel under
//! one shared [`engine::Budget`] (bytes, entries, depth, time) and catches panics so that a bug
//! blocks an item instead of passing it. The [`policy`] alone turns kinds and failures into a
//! [`model::Verdict`]: kept, disarmed or blocked; [`names`] says what an item's name hides.
//! A container rebuilt without a blocked child says so with an action that carries the reason,
//! and the shell then holds the original in quarantine too.
//!
//! The shells around that core (the `sanitize` and `scan` commands, the SMTP content filter in
//! [`smtp`] that `mugai serve` runs, the `mugai quarantine` admin commands, later the drop
//! folder) only move bytes in and out: they never look inside files. Blocked originals go to
//! the [`quarantine`] store (content-addressed blobs, optionally encrypted, and an SQLite index
//! with an append-only audit log of what admins did with them). A release with a password decrypts what was held as encrypted
//! ([`unlock`]) and sends the result through the engine again; released mail goes back out
//! through the relay ([`smtp::redeliver`]).

#![forbid(unsafe_code)]

pub mod config;
pub mod detect;
pub mod dropfolder;
pub mod engine;
pub mod formats;
pub mod model;
pub mod names;
pub mod policy;
pub mod quarantine;
pub mod receipt;
pub mod report;
pub mod samples;
pub mod smtp;
pub mod unlock;
