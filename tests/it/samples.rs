//! Every sample of `mugai::samples` through the engine under the default configuration: the
//! verdict, reason, actions and output name it must get, and for every rebuilt package that it
//! is well-formed, free of the checklist's active content, stable when processed again and the
//! same on every run. Also checks that the files committed under `samples/ooxml/` are exactly
//! what the builders make now.

use super::common::{
    committed_sample_problems, engine_with, fail_with, kinds, outcome_problems, process, unique_and_deterministic,
};
use crate::structure::{check_no_active_content, check_package, check_structure, Package, EMBEDDED_DOCUMENT};
use mugai::config::EmbeddedPolicy;
use mugai::engine::Outcome;
use mugai::model::{ActionKind, Item, Verdict};
use mugai::samples::{self, Sample};
use std::sync::OnceLock;

fn all() -> &'static [Sample] {
    static ALL: OnceLock<Vec<Sample>> = OnceLock::new();
    ALL.get_or_init(samples::all)
}

/// Outcomes of every sample, computed once for all tests of this file.
fn outcomes() -> &'static [Outcome] {
    static OUT: OnceLock<Vec<Outcome>> = OnceLock::new();
    OUT.get_or_init(|| all().iter().map(|s| process(s.file_name, &s.bytes)).collect())
}

#[test]
fn every_sample_gets_its_expected_outcome() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        problems.extend(outcome_problems(s, o));
    }
    fail_with(problems);
}

#[test]
fn rebuilt_packages_are_sound_clean_idempotent_and_deterministic() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) else {
            continue;
        };
        let name = s.file_name;
        if let Err(errs) = check_package(out) {
            problems.extend(errs.into_iter().map(|e| format!("{name}: output: {e}")));
        }
        let out_name = o.output_name.clone().unwrap_or_else(|| name.to_string());
        let again = process(&out_name, out);
        if again.verdict != Verdict::Disarmed || !again.actions.is_empty() {
            problems.push(format!(
                "{name}: second pass gave {:?}/{:?} with {:?}",
                again.verdict, again.reason, again.actions
            ));
        } else if again.output.as_deref() != Some(out.as_slice()) {
            problems.push(format!("{name}: second pass changed the bytes"));
        }
        let rerun = process(name, &s.bytes);
        if rerun.output.as_deref() != Some(out.as_slice()) {
            problems.push(format!("{name}: a second run on the same input gave different bytes"));
        }
    }
    fail_with(problems);
}

#[test]
fn field_results_and_link_texts_survive() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        if s.expected.keeps_text.is_empty() {
            continue;
        }
        let Some(out) = &o.output else {
            problems.push(format!("{}: no output", s.file_name));
            continue;
        };
        let doc = Package::read(out).ok().and_then(|p| p.text("word/document.xml")).unwrap_or_default();
        for w in &s.expected.keeps_text {
            if !doc.contains(w) {
                problems.push(format!("{}: {w:?} is gone from word/document.xml", s.file_name));
            }
        }
    }
    fail_with(problems);
}

#[test]
fn committed_samples_match_the_builders() {
    fail_with(committed_sample_problems("ooxml", all()));
}

#[test]
fn sample_names_are_unique_and_builders_are_deterministic() {
    fail_with(unique_and_deterministic(all(), &samples::all()));
}

/// The builders' own packages must be sound, or an engine failure could be the sample's fault.
#[test]
fn sample_packages_are_structurally_sound() {
    let mut problems = Vec::new();
    for s in all().iter().filter(|s| s.expected.verdict != Verdict::Blocked) {
        if let Err(errs) = check_structure(&s.bytes) {
            problems.extend(errs.into_iter().map(|e| format!("{}: {e}", s.file_name)));
        }
    }
    fail_with(problems);
}

#[test]
fn benign_samples_pass_the_full_package_check() {
    let mut problems = Vec::new();
    for s in all().iter().filter(|s| s.expected.expects_no_actions()) {
        if let Err(errs) = check_package(&s.bytes) {
            problems.extend(errs.into_iter().map(|e| format!("{}: {e}", s.file_name)));
        }
    }
    fail_with(problems);
}

/// The package check must see each threat, or a clean result would prove nothing.
#[test]
fn the_package_check_notices_every_threat_sample() {
    let mut problems = Vec::new();
    for s in all() {
        let e = &s.expected;
        let removes = e.actions.iter().chain(&e.any_of).any(|a| *a != ActionKind::DisarmedEmbeddedDocument);
        if e.verdict == Verdict::Disarmed && removes && check_no_active_content(&s.bytes).is_empty() {
            problems.push(format!("{}: the check finds nothing in the input", s.file_name));
        }
    }
    fail_with(problems);
}

#[test]
fn large_documents_are_near_their_target_and_sound() {
    for target in [20_000usize, 1_000_000] {
        let doc = samples::large_docx(target);
        assert!(
            doc.len() >= target * 9 / 10 && doc.len() <= target * 13 / 10,
            "large_docx({target}) is {} bytes",
            doc.len()
        );
        if let Err(errs) = check_package(&doc) {
            panic!("large_docx({target}): {}", errs.join("\n"));
        }
    }
}

/// Under `[ooxml] embedded_documents = "disarm"` an embedded workbook is rebuilt and kept: a clean
/// one silently, one with a threat reported as a disarmed embedded document.
#[test]
fn embedded_workbooks_are_kept_under_the_disarm_policy() {
    let engine = engine_with(|c| c.ooxml.embedded_documents = EmbeddedPolicy::Disarm);
    let part = "word/embeddings/Microsoft_Excel_Worksheet.xlsx";
    for (workbook, expected) in [
        (samples::excel::benign(), vec![]),
        (samples::excel::dde_link(), vec![ActionKind::DisarmedEmbeddedDocument, ActionKind::RemovedDdeLink]),
    ] {
        let doc = samples::word::embedded_workbook(workbook);
        let o = engine.process(Item::new(doc, Some("embedded.docx".into()), "embedded.docx"));
        assert_eq!(o.verdict, Verdict::Disarmed, "{:?}", o.detail);
        let got = kinds(&o);
        assert!(expected.iter().all(|a| got.contains(a)), "expected {expected:?}, got {got:?}");
        if expected.is_empty() {
            assert!(got.is_empty(), "a clean embedded workbook was reported: {got:?}");
        }
        let out = o.output.expect("output");
        if let Err(errs) = check_structure(&out) {
            panic!("{}", errs.join("\n"));
        }
        let left: Vec<_> =
            check_no_active_content(&out).into_iter().filter(|f| !f.contains(EMBEDDED_DOCUMENT)).collect();
        assert!(left.is_empty(), "{}", left.join("\n"));
        assert!(Package::read(&out).unwrap().parts.contains_key(part), "the embedded workbook is gone");
    }
}
