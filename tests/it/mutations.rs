//! Mutated samples never crash the engine: whatever the damage, the outcome is a clean rebuild
//! or a named block, never `internal_error` (a caught panic). Part-level mutations re-zip the
//! damaged part with a valid CRC so that the XML rewriters, not just the zip checks, see it.

use mugai::config::Config;
use mugai::engine::Engine;
use mugai::model::{Item, Reason};
use mugai::samples;
use std::io::{Cursor, Read, Write};
use std::sync::Arc;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(data: &mut Vec<u8>, rng: &mut Rng) {
    if data.is_empty() {
        return;
    }
    match rng.below(4) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(data.len());
                data[i] = rng.next() as u8;
            }
        }
        1 => {
            let at = rng.below(data.len());
            data.truncate(at);
        }
        2 => {
            let from = rng.below(data.len());
            let len = rng.below(64).min(data.len() - from);
            let chunk: Vec<u8> = data[from..from + len].to_vec();
            let at = rng.below(data.len());
            data.splice(at..at, chunk);
        }
        _ => {
            let at = rng.below(data.len());
            let tokens: [&[u8]; 6] = [b"<", b"</w:r>", b"r:id=\"rId1\"", b"&#0;", b"]]>", b"<!DOCTYPE x>"];
            let t = tokens[rng.below(tokens.len())];
            data.splice(at..at, t.iter().copied());
        }
    }
}

/// The package with one XML part mutated and every entry re-zipped (valid CRCs).
fn mutate_part(package: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(package)).ok()?;
    let xml: Vec<usize> = (0..zip.len())
        .filter(|&i| {
            zip.by_index(i)
                .ok()
                .and_then(|f| f.name().ok().map(|n| n.ends_with(".xml") || n.ends_with(".rels")))
                .unwrap_or(false)
        })
        .collect();
    if xml.is_empty() {
        return None;
    }
    let target = xml[rng.below(xml.len())];
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).ok()?;
        let name = f.name().ok()?.into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).ok()?;
        if i == target {
            mutate(&mut data, rng);
        }
        w.start_file(name, zip::write::SimpleFileOptions::default()).ok()?;
        w.write_all(&data).ok()?;
    }
    Some(w.finish().ok()?.into_inner())
}

#[test]
fn mutated_samples_never_crash_the_engine() {
    let engine = Engine::new(Arc::new(Config::default())).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut crashes = Vec::new();
    for sample in samples::all() {
        if sample.bytes.len() > 512 * 1024 {
            continue;
        }
        for round in 0..24 {
            let data = if round % 2 == 0 {
                let mut d = sample.bytes.clone();
                mutate(&mut d, &mut rng);
                d
            } else {
                match mutate_part(&sample.bytes, &mut rng) {
                    Some(d) => d,
                    None => continue,
                }
            };
            let o = engine.process(Item::new(data, Some(sample.file_name.into()), sample.file_name));
            if o.reason == Some(Reason::InternalError) {
                crashes.push(format!("{} round {round}: {}", sample.file_name, o.detail.unwrap_or_default()));
            }
        }
    }
    assert!(crashes.is_empty(), "{} crash(es):\n{}", crashes.len(), crashes.join("\n"));
}
