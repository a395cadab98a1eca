//! Large benign PDF documents for benchmarks: the shape of a long clinical report as office
//! software and report generators write it.
//!
//! Every page carries a flate-compressed content stream with a heading and several paragraphs of
//! varied text in two standard fonts shared through one resource dictionary; every third page
//! has a web link annotation, every tenth a small flate-compressed picture, and the outline has
//! an entry per ten pages. Pages hang from a two-level page tree that supplies the media box by
//! inheritance, and the trailer points at a document information dictionary. Nothing in it is
//! active: a disarm should find nothing to remove.
//!
//! The bytes are written directly (classic cross-reference table, no object streams), so that
//! the sample does not depend on the parser it is meant to exercise.

use super::media::Prng;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use std::io::Write;

const WORDS: [&str; 120] = [
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
    "admission",
    "allergy",
    "analgesia",
    "antibiotic",
    "assessment",
    "blood",
    "pressure",
    "cardiology",
    "catheter",
    "consent",
    "consultation",
    "culture",
    "diagnosis",
    "diet",
    "dressing",
    "echocardiogram",
    "electrolytes",
    "emergency",
    "examination",
    "family",
    "fever",
    "fluid",
    "glucose",
    "haemoglobin",
    "history",
    "imaging",
    "infusion",
    "insulin",
    "intake",
    "laboratory",
    "medication",
    "mobility",
    "monitoring",
    "nursing",
    "nutrition",
    "observation",
    "oncology",
    "outpatient",
    "oxygen",
    "pain",
    "pharmacy",
    "physiotherapy",
    "prescription",
    "procedure",
    "pulse",
    "radiology",
    "recovery",
    "rehabilitation",
    "respiratory",
    "saturation",
    "screening",
    "specimen",
    "surgery",
    "symptom",
    "temperature",
    "theatre",
    "therapy",
    "transfer",
    "treatment",
    "triage",
    "ultrasound",
    "urine",
    "vaccination",
    "wound",
    "x-ray",
    "stable",
    "improving",
    "reviewed",
    "confirmed",
    "requested",
    "completed",
    "pending",
    "normal",
    "elevated",
    "reduced",
    "daily",
    "overnight",
    "morning",
    "evening",
    "weekly",
    "the",
    "the",
    "and",
    "and",
    "of",
    "of",
    "with",
    "for",
    "to",
    "in",
    "on",
    "after",
    "before",
    "per",
    "was",
    "is",
];

const UNITS: [&str; 8] = ["mg", "ml", "mmol/L", "bpm", "mmHg", "%", "units", "hours"];

/// Page size (US Letter, points), margins and type sizes.
const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 72.0;
const BODY_SIZE: f32 = 10.0;
const LEADING: f32 = 13.0;
/// Characters per body line: Helvetica at 10 pt averages about 5 pt a character.
const LINE_CHARS: usize = 88;
/// Kids per intermediate node of the page tree.
const TREE_FANOUT: usize = 50;
/// Side of the pictures, in pixels.
const IMAGE_SIDE: u32 = 64;

fn pick<'a>(rng: &mut Prng, words: &[&'a str]) -> &'a str {
    words[(rng.next_u64() % words.len() as u64) as usize]
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn sentence(rng: &mut Prng) -> String {
    let n = 6 + (rng.next_u64() % 12) as usize;
    let mut s = capitalised(pick(rng, &WORDS));
    for i in 1..n {
        s.push(' ');
        match rng.next_u64() % 16 {
            // Measurements and dates give the text the digits real reports are full of.
            0 => s.push_str(&format!("{} {}", rng.next_u64() % 500, pick(rng, &UNITS))),
            1 => s.push_str(&format!("{:02}/{:02}/2024", 1 + rng.next_u64() % 28, 1 + rng.next_u64() % 12)),
            _ => s.push_str(pick(rng, &WORDS)),
        }
        if i + 1 < n && rng.next_u64().is_multiple_of(9) {
            s.push(',');
        }
    }
    s.push('.');
    s
}

/// Breaks text into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A PDF literal string, parentheses and backslashes escaped.
fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for c in s.chars() {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(')');
    out
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::with_capacity(data.len() / 2), Compression::default());
    e.write_all(data).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

/// Indirect objects by number (1-based), written out in order at the end.
struct Objects(Vec<Vec<u8>>);

impl Objects {
    /// Reserves the next object number.
    fn reserve(&mut self) -> usize {
        self.0.push(Vec::new());
        self.0.len()
    }
    fn set(&mut self, num: usize, body: impl Into<Vec<u8>>) {
        self.0[num - 1] = body.into();
    }
    fn add(&mut self, body: impl Into<Vec<u8>>) -> usize {
        let num = self.reserve();
        self.set(num, body);
        num
    }
    /// A flate-compressed stream with extra dictionary entries.
    fn add_stream(&mut self, dict: &str, data: &[u8]) -> usize {
        let packed = deflate(data);
        let mut body = format!("<< {dict}/Length {} /Filter /FlateDecode >>\nstream\n", packed.len()).into_bytes();
        body.extend_from_slice(&packed);
        body.extend_from_slice(b"\nendstream");
        self.add(body)
    }
    fn finish(self, root: usize, info: usize, id: &str) -> Vec<u8> {
        let size: usize = self.0.iter().map(|b| b.len() + 32).sum();
        let mut out = Vec::with_capacity(size + self.0.len() * 20 + 256);
        out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        let mut offsets = Vec::with_capacity(self.0.len());
        for (i, body) in self.0.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", self.0.len() + 1).as_bytes());
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root {root} 0 R /Info {info} 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n",
                self.0.len() + 1
            )
            .as_bytes(),
        );
        out
    }
}

/// A picture of `IMAGE_SIDE` square: a colour gradient with grain, so it compresses only
/// partly, like a photograph.
fn picture(rng: &mut Prng) -> Vec<u8> {
    let base = [rng.next_u64() as u8, rng.next_u64() as u8, rng.next_u64() as u8];
    let mut raw = Vec::with_capacity((IMAGE_SIDE * IMAGE_SIDE * 3) as usize);
    for y in 0..IMAGE_SIDE {
        for x in 0..IMAGE_SIDE {
            let grain = rng.next_u64();
            for (c, b) in base.iter().enumerate() {
                let ramp = (x * 2 + y * (c as u32 + 1)) as u8;
                raw.push(b.wrapping_add(ramp).wrapping_add((grain >> (c * 8)) as u8 & 0x1F));
            }
        }
    }
    raw
}

/// The text of one page as a content stream, with the rectangle of its link, if any.
struct PageContent {
    ops: String,
    link_rect: Option<[f32; 4]>,
}

fn page_content(rng: &mut Prng, index: usize, pages: usize, image: bool, link: Option<&str>) -> PageContent {
    let mut ops = String::with_capacity(6_000);
    let top = PAGE_H - MARGIN;
    // Heading in the second font; a section title where the outline points.
    let heading = if index.is_multiple_of(10) {
        format!("Section {}: {} {}", index / 10 + 1, capitalised(pick(rng, &WORDS)), pick(rng, &WORDS))
    } else {
        format!("Ward report, page {}: {} {}", index + 1, capitalised(pick(rng, &WORDS)), pick(rng, &WORDS))
    };
    ops.push_str(&format!("BT\n/F2 16 Tf\n{MARGIN} {top} Td\n{} Tj\nET\n", literal(&heading)));
    // Body text down to the bottom margin, or to the picture.
    let floor = if image { MARGIN + 200.0 } else { MARGIN + 40.0 };
    let mut y = top - 30.0;
    ops.push_str(&format!("BT\n/F1 {BODY_SIZE} Tf\n{LEADING} TL\n{MARGIN} {y} Td\n"));
    'page: for _ in 0..4 + rng.next_u64() % 3 {
        let paragraph: Vec<String> = (0..3 + rng.next_u64() % 5).map(|_| sentence(rng)).collect();
        for line in wrap(&paragraph.join(" "), LINE_CHARS) {
            if y < floor {
                break 'page;
            }
            ops.push_str(&literal(&line));
            ops.push_str(" Tj T*\n");
            y -= LEADING;
        }
        ops.push_str("T*\n");
        y -= LEADING;
    }
    ops.push_str("ET\n");
    if image {
        let side = 144.0;
        ops.push_str(&format!("q\n{side} 0 0 {side} {MARGIN} {} cm\n/Im1 Do\nQ\n", MARGIN + 40.0));
        ops.push_str(&format!(
            "BT\n/F2 9 Tf\n{} {} Td\n(Figure {}) Tj\nET\n",
            MARGIN + side + 12.0,
            MARGIN + 40.0,
            index / 10 + 1
        ));
    }
    let mut link_rect = None;
    if let Some(url) = link {
        // The link's text in blue, under its annotation.
        let y = MARGIN + 20.0;
        let text = format!("Online record: {url}");
        ops.push_str(&format!("BT\n0 0 0.8 rg\n/F1 9 Tf\n{MARGIN} {y} Td\n{} Tj\nET\n", literal(&text)));
        link_rect = Some([MARGIN, y - 2.0, MARGIN + text.len() as f32 * 4.6, y + 9.0]);
    }
    ops.push_str(&format!(
        "BT\n0 g\n/F1 8 Tf\n{} {} Td\n(Page {} of {pages}) Tj\nET\n",
        PAGE_W / 2.0 - 24.0,
        MARGIN / 2.0,
        index + 1
    ));
    PageContent { ops, link_rect }
}

/// A PDF of `pages` pages (at least one) of text, links, pictures and an outline: about 3 KB a
/// page. The same page count always gives the same bytes.
pub fn large_pdf(pages: usize) -> Vec<u8> {
    let pages = pages.max(1);
    let mut rng = Prng::new(0x5044_4600 ^ pages as u64);
    let mut o = Objects(Vec::new());
    let catalog = o.reserve();
    let root_pages = o.reserve();
    let outlines = o.reserve();
    let info = o.add(
        "<< /Title (Ward report, quarterly summary) /Author (Records office) \
         /Subject (Synthetic clinical report) /Keywords (ward report summary) \
         /Creator (mugai samples) /Producer (mugai samples) \
         /CreationDate (D:20240401090000+09'00') /ModDate (D:20240401090000+09'00') >>",
    );
    let helvetica = o.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    let times = o.add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Bold /Encoding /WinAnsiEncoding >>");
    let fonts = o.add(format!("<< /F1 {helvetica} 0 R /F2 {times} 0 R >>"));
    let resources = o.add(format!("<< /Font {fonts} 0 R /ProcSet [/PDF /Text] >>"));

    // Intermediate nodes of the page tree, when there is more than one group of pages.
    let groups = pages.div_ceil(TREE_FANOUT);
    let parents: Vec<usize> = if groups > 1 { (0..groups).map(|_| o.reserve()).collect() } else { vec![root_pages] };
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); parents.len()];
    let mut sections = Vec::new();

    for index in 0..pages {
        let group = index / TREE_FANOUT;
        let parent = parents[group];
        let image = index % 10 == 9;
        let link = (index.is_multiple_of(3))
            .then(|| format!("https://records.example.org/reports/{}/page-{}", pages, index + 1));
        let content = page_content(&mut rng, index, pages, image, link.as_deref());
        let contents = o.add_stream("", content.ops.as_bytes());
        let page_resources = if image {
            let im = o.add_stream(
                &format!(
                    "/Type /XObject /Subtype /Image /Width {IMAGE_SIDE} /Height {IMAGE_SIDE} \
                     /ColorSpace /DeviceRGB /BitsPerComponent 8 "
                ),
                &picture(&mut rng),
            );
            format!("<< /Font {fonts} 0 R /XObject << /Im1 {im} 0 R >> /ProcSet [/PDF /Text /ImageC] >>")
        } else {
            format!("{resources} 0 R")
        };
        let page = o.reserve();
        let annots = match (link, content.link_rect) {
            (Some(url), Some([x0, y0, x1, y1])) => {
                let annot = o.add(format!(
                    "<< /Type /Annot /Subtype /Link /Rect [{x0} {y0} {x1} {y1}] /Border [0 0 0] /P {page} 0 R \
                     /A << /Type /Action /S /URI /URI {} >> >>",
                    literal(&url)
                ));
                format!(" /Annots [{annot} 0 R]")
            }
            _ => String::new(),
        };
        o.set(
            page,
            format!(
                "<< /Type /Page /Parent {parent} 0 R /Resources {page_resources} /Contents {contents} 0 R{annots} >>"
            ),
        );
        kids[group].push(page);
        if index.is_multiple_of(10) {
            let title = format!(
                "Section {}: {} {}",
                index / 10 + 1,
                capitalised(pick(&mut rng, &WORDS)),
                pick(&mut rng, &WORDS)
            );
            sections.push((page, title));
        }
    }

    let refs = |nums: &[usize]| nums.iter().map(|n| format!("{n} 0 R")).collect::<Vec<_>>().join(" ");
    let media_box = format!("/MediaBox [0 0 {PAGE_W} {PAGE_H}]");
    if groups > 1 {
        for (node, kids) in parents.iter().zip(&kids) {
            o.set(
                *node,
                format!("<< /Type /Pages /Parent {root_pages} 0 R /Kids [{}] /Count {} >>", refs(kids), kids.len()),
            );
        }
        o.set(root_pages, format!("<< /Type /Pages {media_box} /Kids [{}] /Count {pages} >>", refs(&parents)));
    } else {
        o.set(root_pages, format!("<< /Type /Pages {media_box} /Kids [{}] /Count {pages} >>", refs(&kids[0])));
    }

    // Outline: one entry per ten pages, each pointing at the top of its first page.
    let items: Vec<usize> = sections.iter().map(|_| o.reserve()).collect();
    for (i, (page, title)) in sections.iter().enumerate() {
        let mut d =
            format!("<< /Title {} /Parent {outlines} 0 R /Dest [{page} 0 R /XYZ 0 {PAGE_H} null]", literal(title));
        if i > 0 {
            d.push_str(&format!(" /Prev {} 0 R", items[i - 1]));
        }
        if i + 1 < items.len() {
            d.push_str(&format!(" /Next {} 0 R", items[i + 1]));
        }
        d.push_str(" >>");
        o.set(items[i], d);
    }
    o.set(
        outlines,
        format!(
            "<< /Type /Outlines /First {} 0 R /Last {} 0 R /Count {} >>",
            items[0],
            items[items.len() - 1],
            items.len()
        ),
    );
    o.set(
        catalog,
        format!(
            "<< /Type /Catalog /Pages {root_pages} 0 R /Outlines {outlines} 0 R /PageMode /UseOutlines \
             /PageLayout /OneColumn /Lang (en-GB) >>"
        ),
    );
    let id: String = (0..2).map(|_| format!("{:016X}", rng.next_u64())).collect();
    o.finish(catalog, info, &id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        assert_eq!(large_pdf(3), large_pdf(3));
        let one = large_pdf(1).len();
        let hundred = large_pdf(100).len();
        assert!((1_000..20_000).contains(&one), "1 page: {one} bytes");
        assert!((100_000..1_000_000).contains(&hundred), "100 pages: {hundred} bytes");
    }

    #[test]
    fn parses_with_its_structure() {
        let doc = lopdf::Document::load_mem(&large_pdf(120)).expect("parses");
        let pages = doc.get_pages();
        assert_eq!(pages.len(), 120);
        let first = doc.get_page_content_with_limit(pages[&1], 1 << 20).expect("content");
        let text = String::from_utf8_lossy(&first);
        assert!(text.contains("/F1") && text.contains("/F2") && text.contains("Section 1"));
        let images = doc.objects.values().filter(|o| o.as_stream().is_ok_and(|s| s.dict.has_type(b"XObject"))).count();
        assert_eq!(images, 12);
        let links = doc
            .objects
            .values()
            .filter(|o| o.as_dict().is_ok_and(|d| d.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"Link")))
            .count();
        assert_eq!(links, 40);
        let outlines = doc.catalog().unwrap().get(b"Outlines").unwrap().as_reference().unwrap();
        let count = doc.get_dictionary(outlines).unwrap().get(b"Count").unwrap().as_i64().unwrap();
        assert_eq!(count, 12);
    }
}
