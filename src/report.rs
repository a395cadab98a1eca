//! The per-input report line (JSON Lines) written by `sanitize` and `scan`.

use crate::engine::Outcome;
use crate::model::{Action, Finding, Kind, Reason, Verdict};
use serde::{Deserialize, Serialize};

/// One line of the report: one input file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportLine {
    pub input: String,
    /// Where the clean copy was written; null when blocked (or when scanning).
    pub output: Option<String>,
    pub verdict: Verdict,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_kind: Option<Kind>,
    pub actions: Vec<Action>,
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    pub sha256_in: String,
    pub sha256_out: Option<String>,
    pub size_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_id: Option<String>,
    pub ms: u64,
}

impl ReportLine {
    pub fn from_outcome(input: String, output: Option<String>, o: &Outcome) -> Self {
        ReportLine {
            input,
            output,
            verdict: o.verdict,
            kind: o.kind,
            output_kind: o.output_kind.filter(|k| *k != o.kind),
            actions: o.actions.clone(),
            reason: o.reason,
            detail: o.detail.clone(),
            findings: o.findings.clone(),
            sha256_in: o.sha256_in.clone(),
            sha256_out: o.sha256_out.clone(),
            size_in: o.size_in,
            quarantine_id: None,
            ms: o.ms,
        }
    }
}
