//! Every limit of `[limits]` trips with a named reason (the input size and time limits are
//! tested in `engine`; the zip ratio, entry count and total bytes also in `zipread`).

use mugai::config::Config;
use mugai::engine::{Engine, Outcome};
use mugai::model::{ActionKind, Item, Reason, Verdict};
use mugai::samples;
use std::sync::Arc;

fn run(config: Config, bytes: Vec<u8>, name: &str) -> Outcome {
    Engine::new(Arc::new(config)).unwrap().process(Item::new(bytes, Some(name.into()), name))
}

fn blocked(o: &Outcome) -> Option<Reason> {
    (o.verdict == Verdict::Blocked).then_some(o.reason).flatten()
}

#[test]
fn max_depth_removes_a_nested_document_beyond_it() {
    let deck = samples::powerpoint::chart_with_embedded_workbook(samples::excel::benign());
    assert!(run(Config::default(), deck.clone(), "c.pptx").actions.is_empty());
    let mut c = Config::default();
    c.limits.max_depth = 0;
    let o = run(c, deck, "c.pptx");
    assert_eq!(o.verdict, Verdict::Disarmed);
    let removed = o.actions.iter().find(|a| a.action == ActionKind::RemovedOleObject).expect("chart data removed");
    assert!(removed.detail.as_deref().unwrap_or("").contains("limit_depth"), "{removed:?}");
}

#[test]
fn max_entries_blocks() {
    let mut c = Config::default();
    c.limits.max_entries = 3;
    assert_eq!(blocked(&run(c, samples::word::benign(), "a.docx")), Some(Reason::LimitEntries));
}

#[test]
fn max_total_bytes_blocks() {
    let mut c = Config::default();
    c.limits.max_total_bytes = 1000;
    assert_eq!(blocked(&run(c, samples::word::benign(), "a.docx")), Some(Reason::LimitTotalBytes));
}

#[test]
fn max_xml_depth_blocks() {
    let mut c = Config::default();
    c.limits.max_xml_depth = 3;
    assert_eq!(blocked(&run(c, samples::word::benign(), "a.docx")), Some(Reason::LimitXmlDepth));
}

#[test]
fn max_ratio_blocks_a_bomb() {
    let bomb = samples::all().into_iter().find(|s| s.expected.reason == Some(Reason::LimitRatio)).expect("a bomb");
    assert_eq!(blocked(&run(Config::default(), bomb.bytes, bomb.file_name)), Some(Reason::LimitRatio));
}
