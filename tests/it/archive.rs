//! Zip archives and disguised files (`mugai::samples::archive`) through the engine: each
//! sample's outcome under the default configuration, and for every rebuilt archive an
//! independent walk with the zip crate (nothing inside detects as a program, no macro project
//! inside any Office entry, names as UTF-8 with their original times, no bytes outside the
//! entries); both `[archive] on_blocked_entry` policies; every limit an archive can trip, and
//! bombs blocked without their expanded size ever being allocated (checked in a child process
//! under an address-space cap); determinism and idempotence; mutated archives; and that the
//! files committed under `samples/archive/` are what the builders make now.

use super::common::{
    committed_sample_problems, damage, detail, engine_with, fail_with, kinds, outcome_problems, process, process_with,
    unique_and_deterministic, Rng,
};
use mugai::config::BlockedEntryPolicy;
use mugai::model::{ActionKind, Kind, Reason, Verdict};
use mugai::samples::{archive, Sample};
use std::io::{Cursor, Read};

super::common::sample_set!(mugai::samples::archive::all);

#[test]
fn every_archive_sample_gets_its_expected_outcome() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        problems.extend(outcome_problems(s, o));
    }
    fail_with(problems);
}

// ----------------------------------------------------------------------------------------------
// The independent check: a walk over the rebuilt archive with the zip crate

/// Entries of a zip, with their names, UTF-8 flag as the zip crate reports it, and times.
struct ZipEntry {
    name: String,
    data: Vec<u8>,
    time: zip::DateTime,
}

fn read_zip(bytes: &[u8]) -> Result<Vec<ZipEntry>, String> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(|e| e.to_string())?;
        if f.encrypted() {
            return Err(format!("{}: encrypted", f.name().unwrap_or_default()));
        }
        let name = f.name().map_err(|e| e.to_string())?.into_owned();
        let time = f.last_modified().unwrap_or_default();
        let mut data = Vec::new();
        f.read_to_end(&mut data).map_err(|e| format!("{name}: {e}"))?;
        out.push(ZipEntry { name, data, time });
    }
    Ok(out)
}

/// What in a rebuilt zip (and the zips and Office packages inside it) is still active or out of
/// place: a program, a script under a name Windows runs, a macro project, a name with a bidi
/// control, bytes outside the entries.
fn active_content(bytes: &[u8], at: &str, problems: &mut Vec<String>) {
    if !bytes.starts_with(b"PK\x03\x04") && !bytes.starts_with(b"PK\x05\x06") {
        problems.push(format!("{at}: bytes before the first entry"));
    }
    let tail = bytes.len().saturating_sub(22);
    if bytes.get(tail..tail + 4) != Some(&b"PK\x05\x06"[..]) {
        problems.push(format!("{at}: bytes after the end record, or a comment"));
    }
    let entries = match read_zip(bytes) {
        Ok(e) => e,
        Err(e) => return problems.push(format!("{at}: does not read: {e}")),
    };
    let is_package = entries.iter().any(|e| e.name == "[Content_Types].xml");
    for e in &entries {
        let here = format!("{at}/{}", e.name);
        let lower = e.name.to_lowercase();
        if e.data.starts_with(b"MZ") || e.data.starts_with(b"\x7fELF") {
            problems.push(format!("{here}: a program"));
        }
        if e.name
            .chars()
            .any(|c| matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        {
            problems.push(format!("{here}: a bidi control in the name"));
        }
        let ext = lower.trim_end_matches(['.', ' ']).rsplit('.').next().unwrap_or("").to_string();
        if ["exe", "scr", "js", "vbs", "bat", "cmd", "ps1", "hta", "lnk", "jar"].contains(&ext.as_str())
            || lower.ends_with('}')
        {
            problems.push(format!("{here}: a name Windows runs"));
        }
        if is_package && (lower.ends_with("vbaproject.bin") || lower.contains("macrosheets/")) {
            problems.push(format!("{here}: a macro part"));
        }
        if is_package && e.name == "[Content_Types].xml" && String::from_utf8_lossy(&e.data).contains("macroEnabled") {
            problems.push(format!("{here}: a macro-enabled content type"));
        }
        if !is_package && e.data.starts_with(b"PK\x03\x04") {
            active_content(&e.data, &here, problems);
        }
    }
}

#[test]
fn rebuilt_archives_hold_nothing_active_and_are_written_anew() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        if let (Verdict::Disarmed, Some(out), Some(Kind::Zip)) = (o.verdict, &o.output, o.output_kind) {
            active_content(out, s.file_name, &mut problems);
        }
    }
    fail_with(problems);
}

#[test]
fn a_macro_document_two_zips_deep_comes_back_as_a_docx_two_zips_deep() {
    let o = outcome("docm_two_deep.zip");
    let outer = read_zip(o.output.as_deref().expect("output")).expect("outer zip");
    assert_eq!(outer.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["inner.zip"]);
    let inner = read_zip(&outer[0].data).expect("inner zip");
    let names: Vec<&str> = inner.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["請求書.docx", "readme.txt"]);
    let docx = read_zip(&inner[0].data).expect("docx");
    assert!(docx.iter().any(|e| e.name == "word/document.xml"));
    assert!(
        !docx.iter().any(|e| e.name.to_lowercase().contains("vba")),
        "{:?}",
        docx.iter().map(|e| &e.name).collect::<Vec<_>>()
    );
    let parts: Vec<&str> = o.actions.iter().map(|a| a.part.as_str()).collect();
    assert!(parts.contains(&"inner.zip/請求書.docm/word/vbaProject.bin"), "{parts:?}");
}

#[test]
fn names_and_times_survive_the_rebuild() {
    let o = outcome("benign_bundle.zip");
    let entries = read_zip(o.output.as_deref().expect("output")).expect("zip");
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["報告書/", "報告書/月次報告.docx", "報告書/scan.png", "報告書/letter.pdf", "readme.txt"]);
    for e in &entries {
        assert_eq!(e.time, archive::sample_time(), "{}", e.name);
    }
    let input = read_zip(&sample("benign_bundle.zip").bytes).expect("input");
    for (a, b) in input.iter().zip(&entries) {
        if a.name.ends_with(".txt") || a.name.ends_with(".png") {
            assert_eq!(a.data, b.data, "{} kept byte for byte", a.name);
        }
    }
}

#[test]
fn files_the_archiving_system_added_are_left_out_without_holding_the_archive() {
    let o = outcome("system_files.zip");
    let names: Vec<String> =
        read_zip(o.output.as_deref().expect("output")).expect("zip").into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["写真/", "写真/scan.png"]);
    assert!(o.held_back().is_none(), "{:?}", o.actions);
    assert!(!o.found_active_content(), "{:?}", o.actions);
}

#[test]
fn shift_jis_names_are_read_as_such_and_written_as_utf8() {
    let o = outcome("shift_jis_names.zip");
    let out = o.output.as_deref().expect("output");
    let entries = read_zip(out).expect("zip");
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["ソフト仕様.txt", "表計算/売上.csv"]);
    assert_eq!(entries[0].data, "仕様書の本文\r\n".as_bytes());
    // Flagged UTF-8 (general purpose bit 11) in the central directory, so that every reader
    // agrees.
    let z = zip::ZipArchive::new(Cursor::new(out)).expect("zip");
    let cd = z.central_directory_start() as usize;
    assert_eq!(&out[cd..cd + 4], b"PK\x01\x02");
    let flags = u16::from_le_bytes([out[cd + 8], out[cd + 9]]);
    assert_ne!(flags & 0x0800, 0, "UTF-8 flag");
}

#[test]
fn blocked_entries_are_left_out_and_listed_with_their_reason() {
    let cases = [
        ("exe_named_pdf.zip", vec![("invoice.pdf", Reason::Executable)]),
        (
            "rtl_names.zip",
            vec![("invoice\u{202E}fdp.exe", Reason::Executable), ("photo\u{202E}gpj.txt", Reason::DangerousName)],
        ),
        (
            "double_extensions.zip",
            vec![
                ("invoice.pdf.js", Reason::DangerousName),
                ("見積書.xlsx          .scr", Reason::Executable),
                ("readme.txt.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}", Reason::DangerousName),
            ],
        ),
    ];
    for (name, expected) in cases {
        let o = outcome(name);
        let held: Vec<(&str, Reason)> = o
            .actions
            .iter()
            .filter(|a| a.action == ActionKind::RemovedBlockedEntry)
            .map(|a| (a.part.as_str(), a.reason.expect("a reason")))
            .collect();
        assert_eq!(held, expected, "{name}");
        assert!(o.held_back().is_some(), "{name}: the original must be held");
        let kept = read_zip(o.output.as_deref().expect("output")).expect("zip");
        assert_eq!(kept.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["readme.txt"], "{name}");
    }
}

#[test]
fn on_blocked_entry_block_blocks_the_whole_archive_with_the_entry_reason() {
    let engine = engine_with(|c| c.archive.on_blocked_entry = BlockedEntryPolicy::Block);
    for (name, reason, entry) in [
        ("exe_named_pdf.zip", Reason::Executable, "invoice.pdf"),
        ("rtl_names.zip", Reason::Executable, "fdp.exe"),
        ("double_extensions.zip", Reason::DangerousName, "invoice.pdf.js"),
    ] {
        let o = process_with(&engine, name, &sample(name).bytes);
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(reason)), "{name}: {}", detail(&o));
        assert!(detail(&o).contains(entry), "{name}: {}", detail(&o));
    }
    let o = process_with(&engine, "benign_bundle.zip", &sample("benign_bundle.zip").bytes);
    assert_eq!(o.verdict, Verdict::Disarmed);
}

#[test]
fn every_limit_an_archive_can_reach_blocks_it() {
    let text: Vec<u8> = (0..200_000u32).flat_map(|i| format!("line {i} of the log\n").into_bytes()).collect();
    let log = archive::zip_of(&[("big.log", &text)]);
    let cases: Vec<(&str, mugai::engine::Engine, &[u8], Reason)> = vec![
        (
            "max_entries",
            engine_with(|c| c.limits.max_entries = 5000),
            &sample("ten_thousand_entries.zip").bytes,
            Reason::LimitEntries,
        ),
        (
            "max_entry_bytes",
            engine_with(|c| c.limits.max_entry_bytes = 1000),
            &sample("benign_bundle.zip").bytes,
            Reason::LimitEntryBytes,
        ),
        (
            "max_total_bytes",
            engine_with(|c| c.limits.max_total_bytes = 20_000),
            &sample("benign_bundle.zip").bytes,
            Reason::LimitTotalBytes,
        ),
        ("max_depth", engine_with(|c| c.limits.max_depth = 1), &sample("docm_two_deep.zip").bytes, Reason::LimitDepth),
        ("max_ratio", engine_with(|c| c.limits.max_ratio = 2), &log, Reason::LimitRatio),
        (
            "item_timeout",
            engine_with(|c| c.limits.item_timeout = std::time::Duration::ZERO),
            &sample("benign_bundle.zip").bytes,
            Reason::Timeout,
        ),
    ];
    let mut problems = Vec::new();
    for (what, engine, bytes, reason) in cases {
        let o = process_with(&engine, "a.zip", bytes);
        if (o.verdict, o.reason) != (Verdict::Blocked, Some(reason)) {
            problems.push(format!("{what}: expected {reason:?}, got {:?}/{:?} ({})", o.verdict, o.reason, detail(&o)));
        }
    }
    // Under the default limits the same log is fine, and so is a mostly blank picture-like
    // entry that compresses a few hundred times (more than the old default of 200 allowed).
    let mut blank = vec![0u8; 4 * 1024 * 1024];
    let mut rng = Rng(7);
    for i in (0..blank.len()).step_by(1500) {
        blank[i] = rng.next() as u8;
    }
    let blank_zip = archive::zip_of(&[("blank.raw", &blank)]);
    let ratio = blank.len() / blank_zip.len();
    assert!((200..1000).contains(&ratio), "ratio {ratio}");
    for (what, bytes) in [("log", &log), ("blank", &blank_zip)] {
        let o = process("a.zip", bytes);
        if o.verdict == Verdict::Blocked {
            problems.push(format!("default limits, {what}: {:?} ({})", o.reason, detail(&o)));
        }
    }
    fail_with(problems);
}

#[test]
fn a_limit_deep_inside_blocks_the_archive_even_when_entries_are_dropped() {
    // 20 levels: the limit is reached at level 9, and the archive as a whole is blocked rather
    // than passed on without its deepest part.
    let o = outcome("nested_20_deep.zip");
    assert_eq!(o.reason, Some(Reason::LimitDepth));
    assert!(detail(o).starts_with("level01.zip: level02.zip: "), "{}", detail(o));
    assert!(detail(o).ends_with("level09.zip: nested deeper than 8"), "{}", detail(o));
}

/// Runs `mugai sanitize` on `bytes` in a child process whose address space is capped at
/// `cap_kib`: a bomb whose expanded size were ever allocated would fail there instead of being
/// reported blocked.
fn sanitize_under_memory_cap(name: &str, bytes: &[u8], cap_kib: u64) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), bytes).expect("write");
    let bin = env!("CARGO_BIN_EXE_mugai");
    let script = format!(
        "ulimit -v {cap_kib} && exec \"{bin}\" sanitize \"{name}\" --out out --report report.jsonl \
         --set quarantine.dir=q --set engine.threads=2"
    );
    let out = std::process::Command::new("sh").arg("-c").arg(script).current_dir(dir.path()).output().expect("sh");
    let report = std::fs::read_to_string(dir.path().join("report.jsonl")).unwrap_or_default();
    assert_eq!(out.status.code(), Some(1), "{name}: {}\n{report}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(report.lines().next().unwrap_or("{}")).expect("a report line")
}

#[test]
fn bombs_are_blocked_without_their_expanded_size_ever_being_allocated() {
    // 2 GiB of spaces in about 2 MiB, declared honestly (refused from the directory) and declared
    // as 4 KiB (refused as soon as the inflate passes the declared size), under a 1 GiB cap.
    const RUN: usize = 2 * 1024 * 1024 * 1024 - 1;
    let prefix = b"x";
    let data = mugai::samples::hostile::deflate_with_run(prefix, b' ', RUN);
    let entry = |declared: u32| mugai::samples::hostile::RawEntry {
        name: "zeros.txt".into(),
        method: 8,
        flags: 0,
        crc: 0,
        uncompressed_size: declared,
        data: data.clone(),
    };
    let honest = mugai::samples::hostile::raw_zip(&[entry((RUN + 1) as u32)]);
    let lying = mugai::samples::hostile::raw_zip(&[entry(4096)]);
    for (name, bytes, reason) in [("honest_bomb.zip", honest, "limit_ratio"), ("lying_bomb.zip", lying, "malformed")] {
        let line = sanitize_under_memory_cap(name, &bytes, 1024 * 1024);
        assert_eq!(line["verdict"], "blocked", "{name}: {line}");
        assert_eq!(line["reason"], reason, "{name}: {line}");
    }
}

#[test]
fn sanitize_holds_the_original_of_an_archive_whose_entries_were_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("parcel.zip"), &sample("exe_named_pdf.zip").bytes).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mugai"))
        .args(["sanitize", "parcel.zip", "--out", "out", "--report", "r.jsonl", "--set", "quarantine.dir=q"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "something was blocked: {}", String::from_utf8_lossy(&out.stderr));
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(dir.path().join("r.jsonl")).expect("report").trim())
            .expect("json");
    assert_eq!(line["verdict"], "disarmed");
    assert_eq!(line["actions"][0]["reason"], "executable");
    let id = line["quarantine_id"].as_str().expect("a quarantine id");
    let q = mugai::quarantine::Quarantine::open(&dir.path().join("q")).expect("store");
    let record = q.find(id).expect("record");
    assert_eq!(q.read_original(&record).expect("held original"), sample("exe_named_pdf.zip").bytes);
    assert_eq!(record.reason, mugai::model::Reason::Executable);
    assert!(record.detail.as_deref().unwrap_or("").starts_with("invoice.pdf"), "{record:?}");
    assert!(dir.path().join("out/parcel.zip").exists());
}

#[test]
fn archives_are_deterministic_and_a_second_pass_changes_nothing() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) else { continue };
        let again = process(o.output_name.as_deref().unwrap_or(s.file_name), out);
        if again.verdict == Verdict::Blocked || !again.actions.is_empty() {
            problems.push(format!(
                "{}: second pass {:?}/{:?} {:?}",
                s.file_name,
                again.verdict,
                again.reason,
                kinds(&again)
            ));
        } else if again.output.as_deref() != Some(out.as_slice()) {
            problems.push(format!("{}: second pass changed the bytes", s.file_name));
        }
        if process(s.file_name, &s.bytes).output.as_deref() != Some(out.as_slice()) {
            problems.push(format!("{}: not the same bytes on a second run", s.file_name));
        }
    }
    fail_with(problems);
}

#[test]
fn damaged_archives_never_end_in_an_internal_error_or_an_active_output() {
    let mut rng = Rng(0x5eed_a2c1);
    let mut problems = Vec::new();
    let small: Vec<&Sample> = all().iter().filter(|s| s.bytes.len() < 64 * 1024).collect();
    for round in 0..300 {
        let s = small[rng.below(small.len())];
        let mut data = s.bytes.clone();
        damage(&mut data, &mut rng, &[b"PK\x03\x04", b"PK\x01\x02", b"../", b"MZ"]);
        let o = process(s.file_name, &data);
        if o.reason == Some(Reason::InternalError) {
            problems.push(format!("round {round} ({}): internal error: {}", s.file_name, detail(&o)));
        }
        if let (Verdict::Disarmed, Some(out)) = (o.verdict, &o.output) {
            if out.starts_with(b"PK") {
                active_content(out, &format!("round {round} ({})", s.file_name), &mut problems);
            }
        }
    }
    fail_with(problems);
}

#[test]
fn formula_cells_are_made_text_and_nothing_else_changes() {
    let o = outcome("dde_injection.csv");
    let out = String::from_utf8(o.output.clone().expect("output")).expect("utf-8");
    let input = String::from_utf8(sample("dde_injection.csv").bytes.clone()).expect("utf-8");
    assert_eq!(out.replace('\'', ""), input.replace('\'', ""), "only apostrophes added");
    for line in out.lines().skip(1) {
        let last = line.rsplit(',').next().unwrap_or("");
        let cell = line.split(',').nth(2).unwrap_or("").trim_start_matches('"');
        assert!(cell.starts_with('\''), "{line} ({last})");
    }
    assert!(out.contains(",-300,"), "numbers stay numbers");
    let o = outcome("dde_utf16.txt");
    let out = o.output.clone().expect("output");
    assert_eq!(out, archive::utf16("氏名\t点数\r\n山田 太郎\t'=cmd|' /C calc'!A0\r\n"), "UTF-16 in, UTF-16 out");
    let o = outcome("macro_sheet.slk");
    let out = String::from_utf8(o.output.clone().expect("output")).expect("utf-8");
    assert!(!out.contains(";E") && !out.contains("NN;") && !out.contains("\nO;"), "{out}");
    assert!(out.contains("C;X2;Y2;K42") && out.contains("K\"Total\""), "values kept: {out}");
}

#[test]
fn committed_archive_samples_are_what_the_builders_make() {
    let mut problems = unique_and_deterministic(all(), &archive::all());
    problems.extend(committed_sample_problems("archive", all()));
    fail_with(problems);
}
