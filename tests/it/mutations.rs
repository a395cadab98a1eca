//! Mutated samples never crash the engine: whatever the damage, the outcome is a clean rebuild
//! or a named block, never `internal_error` (a caught panic). Part-level mutations re-zip the
//! damaged part with a valid CRC so that the XML rewriters, not just the zip checks, see it.

use super::common::{damage, damage_one_entry, detail, fail_with, process, Rng};
use mugai::model::Reason;
use mugai::samples;

/// Markup inserted into damaged samples.
const XML_TOKENS: [&[u8]; 6] = [b"<", b"</w:r>", b"r:id=\"rId1\"", b"&#0;", b"]]>", b"<!DOCTYPE x>"];

#[test]
fn mutated_samples_never_crash_the_engine() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut crashes = Vec::new();
    for sample in samples::all() {
        if sample.bytes.len() > 512 * 1024 {
            continue;
        }
        for round in 0..24 {
            let data = if round % 2 == 0 {
                let mut d = sample.bytes.clone();
                damage(&mut d, &mut rng, &XML_TOKENS);
                d
            } else {
                match damage_one_entry(&sample.bytes, &mut rng, &XML_TOKENS, |n| {
                    n.ends_with(".xml") || n.ends_with(".rels")
                }) {
                    Some(d) => d,
                    None => continue,
                }
            };
            let o = process(sample.file_name, &data);
            if o.reason == Some(Reason::InternalError) {
                crashes.push(format!("{} round {round}: {}", sample.file_name, detail(&o)));
            }
        }
    }
    fail_with(crashes);
}
