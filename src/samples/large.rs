//! Large benign documents for benchmarks: text paragraphs and many distinct noise pictures, so
//! that the package stays near the requested size instead of compressing away.

use super::media::{self, Prng};
use super::package::ct;
use super::word::{picture_run, Word};

const WORDS: [&str; 24] = [
    "patient",
    "record",
    "ward",
    "report",
    "dose",
    "schedule",
    "clinic",
    "review",
    "update",
    "summary",
    "result",
    "sample",
    "order",
    "visit",
    "note",
    "plan",
    "chart",
    "referral",
    "discharge",
    "follow-up",
    "check",
    "team",
    "shift",
    "handover",
];

fn sentence(rng: &mut Prng) -> String {
    let n = 8 + (rng.next_u64() % 10) as usize;
    let mut s: Vec<&str> = (0..n).map(|_| WORDS[(rng.next_u64() % WORDS.len() as u64) as usize]).collect();
    let first = s[0].to_string();
    let mut cap = first[..1].to_uppercase();
    cap.push_str(&first[1..]);
    s[0] = &cap;
    format!("{}.", s.join(" "))
}

/// A docx of roughly `target_bytes` (within about ten percent): paragraphs of text and
/// as many distinct noise PNGs as needed. The same target always gives the same bytes.
pub fn large_docx(target_bytes: usize) -> Vec<u8> {
    large_word(target_bytes, false)
}

/// Like [`large_docx`], as a macro-enabled document with a VBA project (for the benchmarks of
/// whole messages).
pub fn large_docm(target_bytes: usize) -> Vec<u8> {
    large_word(target_bytes, true)
}

fn large_word(target_bytes: usize, vba: bool) -> Vec<u8> {
    let mut rng = Prng::new(target_bytes as u64);
    let main = if vba { ct::DOCM_MAIN } else { ct::DOCX_MAIN };
    let mut w = Word::new(main, "Benchmark document");
    if vba {
        super::word::add_vba(&mut w);
    }
    let paragraphs = (20 + target_bytes / 20_000).min(2_000);
    let mut text_len = 0;
    for _ in 0..paragraphs {
        let p: Vec<String> = (0..4).map(|_| sentence(&mut rng)).collect();
        let p = p.join(" ");
        text_len += p.len();
        w.para(&p);
    }
    // What the package weighs so far, roughly: fixed parts plus text deflated about 3:1.
    let mut estimate = 6_000 + text_len / 3;
    // Pictures of about a fortieth of the target each, between 3 KB and 200 KB.
    let side = (((target_bytes / 40).clamp(3_000, 200_000) / 3) as f64).sqrt() as u32;
    let side = side.max(8);
    let per_picture = (side * side * 3 + side + 200) as usize;
    let emu = 9_525u64 * side as u64; // one pixel is 9525 EMU at 96 dpi
    let mut n = 0u32;
    while estimate + per_picture / 2 < target_bytes {
        n += 1;
        let img = w.image(&format!("image{n}.png"), media::noise_png(side, side, &mut rng));
        w.push(&format!("<w:p>{}</w:p>", picture_run("r:embed", &img, n, emu, emu)));
        w.para(&sentence(&mut rng));
        estimate += per_picture;
    }
    w.finish()
}
