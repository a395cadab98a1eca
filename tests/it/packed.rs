//! Every packed-archive sample of `mugai::samples::packed` (gzip, tar, 7z, LHA) through the
//! engine: the verdict, reason, actions and output name it must get under the default
//! configuration, and for every rebuilt archive an independent read with the `flate2`, `tar` and
//! `zip` crates: the docm inside came back as a docx without a VBA project, names and times were
//! kept, no link, device or executable bit is left, owners are gone. Also both
//! `[archive] on_blocked_entry` policies, every limit (entries, entry bytes, total bytes, ratio,
//! depth), determinism, a second pass, mutated inputs, and that the files under
//! `samples/packed/` are what the builders make now.

use super::common::{
    committed_sample_problems, damage, detail, engine_with, fail_with, kinds, outcome_problems, process, process_with,
    unique_and_deterministic, Rng,
};
use mugai::config::BlockedEntryPolicy;
use mugai::model::{ActionKind, Reason, Verdict};
use mugai::samples::packed::{self, LhaItem, TarItem};
use std::io::{Cursor, Read};

super::common::sample_set!(mugai::samples::packed::all);

fn output(name: &str) -> &'static [u8] {
    outcome(name).output.as_deref().unwrap_or_else(|| panic!("{name} has no output: {:?}", outcome(name).reason))
}

// ----------------------------------------------------------------------------------------------
// The independent read

/// One entry of an unpacked archive.
#[derive(Debug, Clone)]
struct Unpacked {
    path: String,
    dir: bool,
    data: Vec<u8>,
    /// Seconds since 1970 (tar) or the zip's DOS date and time.
    mtime: u64,
    mode: u32,
}

/// A gzip file's header fields and content (every member), read with `flate2`.
struct Gunzipped {
    name: Option<Vec<u8>>,
    mtime: u32,
    os: u8,
    has_extra_or_comment: bool,
    content: Vec<u8>,
    members: usize,
}

fn gunzip(bytes: &[u8]) -> Result<Gunzipped, String> {
    let mut rest = bytes;
    let mut out: Option<Gunzipped> = None;
    let mut members = 0;
    while !rest.is_empty() {
        let mut d = flate2::bufread::GzDecoder::new(rest);
        let mut content = Vec::new();
        d.read_to_end(&mut content).map_err(|e| format!("gzip: {e}"))?;
        let h = d.header().ok_or("gzip: no header")?;
        members += 1;
        match &mut out {
            None => {
                out = Some(Gunzipped {
                    name: h.filename().map(<[u8]>::to_vec),
                    mtime: h.mtime(),
                    os: h.operating_system(),
                    has_extra_or_comment: h.extra().is_some() || h.comment().is_some(),
                    content,
                    members,
                })
            }
            Some(g) => g.content.extend_from_slice(&content),
        }
        rest = d.into_inner();
    }
    let mut g = out.ok_or("gzip: empty")?;
    g.members = members;
    Ok(g)
}

/// Every entry of a tar archive, read with the `tar` crate; links and devices are errors.
fn untar(bytes: &[u8]) -> Result<Vec<Unpacked>, String> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for e in archive.entries().map_err(|e| format!("tar: {e}"))? {
        let mut e = e.map_err(|e| format!("tar: {e}"))?;
        let h = e.header().clone();
        let path = String::from_utf8(e.path_bytes().into_owned()).map_err(|_| "tar: name not UTF-8")?;
        let dir = match h.entry_type() {
            tar::EntryType::Regular => false,
            tar::EntryType::Directory => true,
            other => return Err(format!("tar: {path} is of type {other:?}")),
        };
        if h.uid().ok() != Some(0) || h.gid().ok() != Some(0) {
            return Err(format!("tar: {path} keeps an owner"));
        }
        if h.username_bytes().is_some_and(|u| !u.is_empty()) || h.groupname_bytes().is_some_and(|g| !g.is_empty()) {
            return Err(format!("tar: {path} keeps an owner name"));
        }
        let mut data = Vec::new();
        e.read_to_end(&mut data).map_err(|e| format!("tar: {e}"))?;
        out.push(Unpacked {
            path: path.trim_end_matches('/').to_string(),
            dir,
            data,
            mtime: h.mtime().map_err(|e| e.to_string())?,
            mode: h.mode().map_err(|e| e.to_string())?,
        });
    }
    Ok(out)
}

/// Every entry of a zip archive, read with the `zip` crate.
fn unzip(bytes: &[u8]) -> Result<Vec<Unpacked>, String> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("zip: {e}"))?;
    let mut out = Vec::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(|e| format!("zip: {e}"))?;
        let path = f.name().map_err(|e| format!("zip: {e}"))?.trim_end_matches('/').to_string();
        let dir = f.is_dir();
        let t = f.last_modified().ok_or("zip: no time")?;
        let mtime = u64::from(t.datepart()) << 16 | u64::from(t.timepart());
        let mode = f.unix_mode().unwrap_or(0);
        let mut data = Vec::new();
        f.read_to_end(&mut data).map_err(|e| format!("zip: {e}"))?;
        out.push(Unpacked { path, dir, data, mtime, mode });
    }
    Ok(out)
}

fn is_zip(b: &[u8]) -> bool {
    b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06")
}

fn is_tar(b: &[u8]) -> bool {
    b.len() > 262 && &b[257..262] == b"ustar"
}

/// What is wrong with an archive rebuilt by the engine, looking into nested archives and Office
/// documents: a macro-enabled document, a VBA project, a link or device, an executable bit.
fn active_content(bytes: &[u8], at: &str, depth: usize) -> Vec<String> {
    let mut problems = Vec::new();
    if depth > 8 {
        return vec![format!("{at}: nested too deep")];
    }
    if bytes.starts_with(&[0x1F, 0x8B]) {
        match gunzip(bytes) {
            Ok(g) => {
                if g.members != 1 || g.has_extra_or_comment || g.os != 255 {
                    problems.push(format!("{at}: gzip header not rebuilt ({} members, os {})", g.members, g.os));
                }
                problems.extend(active_content(&g.content, &format!("{at}/<gzip>"), depth + 1));
            }
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    } else if is_tar(bytes) {
        match untar(bytes) {
            Ok(entries) => {
                for e in entries {
                    let want = if e.dir { 0o755 } else { 0o644 };
                    if e.mode != want {
                        problems.push(format!("{at}/{}: mode {:o}", e.path, e.mode));
                    }
                    problems.extend(active_content(&e.data, &format!("{at}/{}", e.path), depth + 1));
                }
            }
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    } else if is_zip(bytes) {
        match unzip(bytes) {
            Ok(entries) => {
                for e in &entries {
                    let lower = e.path.to_lowercase();
                    if lower.ends_with("vbaproject.bin") || lower.ends_with(".docm") || lower.ends_with(".exe") {
                        problems.push(format!("{at}/{}: present", e.path));
                    }
                    if e.mode & 0o111 != 0 && !e.dir {
                        problems.push(format!("{at}/{}: executable bit", e.path));
                    }
                    if e.path == "[Content_Types].xml" && String::from_utf8_lossy(&e.data).contains("macroEnabled") {
                        problems.push(format!("{at}: still a macro-enabled package"));
                    }
                    problems.extend(active_content(&e.data, &format!("{at}/{}", e.path), depth + 1));
                }
            }
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    } else if bytes.starts_with(b"MZ") {
        problems.push(format!("{at}: a program"));
    }
    problems
}

fn entry<'a>(entries: &'a [Unpacked], path: &str) -> Result<&'a Unpacked, String> {
    entries
        .iter()
        .find(|e| e.path == path)
        .ok_or_else(|| format!("no {path} in {:?}", entries.iter().map(|e| &e.path).collect::<Vec<_>>()))
}

fn paths(entries: &[Unpacked]) -> Vec<&str> {
    entries.iter().map(|e| e.path.as_str()).collect()
}

/// The zip DOS date and time of [`packed::MTIME`] (2023-11-14 22:13:20).
fn dos_mtime() -> u64 {
    let date = ((2023 - 1980) << 9) | (11 << 5) | 14;
    let time = (22 << 11) | (13 << 5) | (20 / 2);
    (date << 16) | time
}

/// A docx (not a docm) without a VBA project.
fn is_macro_free_docx(bytes: &[u8]) -> Result<(), String> {
    let entries = unzip(bytes)?;
    if entries.iter().any(|e| e.path.to_lowercase().contains("vbaproject")) {
        return Err("vbaProject.bin is still there".into());
    }
    let types = entry(&entries, "[Content_Types].xml")?;
    let types = String::from_utf8_lossy(&types.data);
    if types.contains("macroEnabled") || !types.contains("wordprocessingml.document.main+xml") {
        return Err(format!("content types: {types}"));
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------------
// Outcomes

#[test]
fn every_packed_sample_gets_its_expected_outcome() {
    let problems = all().iter().zip(outcomes()).flat_map(|(s, o)| outcome_problems(s, o)).collect();
    fail_with(problems);
}

#[test]
fn no_rebuilt_archive_holds_active_content() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        if let Some(out) = &o.output {
            problems.extend(active_content(out, s.file_name, 0));
        }
    }
    fail_with(problems);
}

#[test]
fn the_check_sees_what_the_samples_carry() {
    // Without this, a check that reads nothing would pass every output.
    let seen = |name: &str| !active_content(&sample(name).bytes, name, 0).is_empty();
    assert!(seen("report_docm.tar.gz"));
    assert!(seen("program_inside.tgz"));
    assert!(seen("special_entries.tar"));
}

#[test]
fn a_tar_gz_with_a_docm_comes_out_as_a_tar_gz_with_a_docx() {
    let g = gunzip(output("report_docm.tar.gz")).unwrap();
    assert_eq!(g.name, None, "the input had no name in its gzip header");
    assert_eq!((g.mtime, g.os, g.members), (packed::MTIME as u32, 255, 1));
    let entries = untar(&g.content).unwrap();
    assert_eq!(paths(&entries), ["minutes", "minutes/notes.txt", "minutes/report.docx"]);
    for e in &entries {
        assert_eq!(e.mtime, packed::MTIME, "{}", e.path);
    }
    let notes = entry(&entries, "minutes/notes.txt").unwrap();
    assert_eq!(notes.data, packed::NOTES);
    assert_eq!(notes.mode, 0o644, "setuid and execute bits are gone");
    is_macro_free_docx(&entry(&entries, "minutes/report.docx").unwrap().data).unwrap();
    let o = outcome("report_docm.tar.gz");
    assert!(
        o.actions
            .iter()
            .any(|a| a.action == ActionKind::RemovedVbaProject
                && a.part.starts_with("report_docm.tar/minutes/report.docm")),
        "{:?}",
        o.actions
    );
}

#[test]
fn links_devices_and_pipes_are_left_out_of_a_tar() {
    let entries = untar(output("special_entries.tar")).unwrap();
    assert_eq!(paths(&entries), ["notes.txt"]);
    let o = outcome("special_entries.tar");
    let removed: Vec<&str> =
        o.actions.iter().filter(|a| a.action == ActionKind::RemovedSpecialEntry).map(|a| a.part.as_str()).collect();
    assert_eq!(removed, ["passwd", "notes_again.txt", "null", "pipe"]);
}

#[test]
fn a_path_that_climbs_out_blocks_the_tar() {
    assert!(detail(outcome("path_traversal.tar")).contains(".."), "{}", detail(outcome("path_traversal.tar")));
}

#[test]
fn a_benign_tar_keeps_its_entries_names_and_times() {
    let before = untar_raw(&sample("benign_minutes.tar").bytes);
    let after = untar(output("benign_minutes.tar")).unwrap();
    assert_eq!(paths(&after), before.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>());
    for (e, (_, data)) in after.iter().zip(&before) {
        assert_eq!(&e.data, data, "{}", e.path);
        assert_eq!(e.mtime, packed::MTIME);
    }
    assert!(after.iter().any(|e| e.path.len() > 100), "the long name is kept (as a pax record)");
    assert!(after.iter().any(|e| e.path == "minutes/報告.txt"));
}

/// Names and contents as the `tar` crate reads the input.
fn untar_raw(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = String::from_utf8(e.path_bytes().into_owned()).unwrap().trim_end_matches('/').to_string();
        let mut d = Vec::new();
        e.read_to_end(&mut d).unwrap();
        out.push((p, d));
    }
    out
}

#[test]
fn a_gzip_keeps_its_name_and_time_and_loses_what_follows_it() {
    let g = gunzip(output("benign_notes.txt.gz")).unwrap();
    assert_eq!(
        (g.name.as_deref(), g.mtime, g.content.as_slice()),
        (Some(&b"notes.txt"[..]), packed::MTIME as u32, packed::NOTES)
    );
    let g = gunzip(output("trailing_data.gz")).unwrap();
    assert_eq!((g.members, g.content.as_slice()), (1, packed::NOTES));
    assert!(!output("trailing_data.gz").windows(6).any(|w| w == b"hidden"));
}

#[test]
fn concatenated_gzip_members_are_read_as_one_stream() {
    let mut two = packed::gzip(Some("notes.txt"), b"first half\n");
    two.extend(packed::gzip(Some("other.txt"), b"second half\n"));
    let o = process("two.txt.gz", &two);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    let g = gunzip(o.output.as_deref().unwrap()).unwrap();
    assert_eq!((g.members, g.content.as_slice()), (1, &b"first half\nsecond half\n"[..]));
    assert_eq!(g.name.as_deref(), Some(&b"notes.txt"[..]));
}

#[test]
fn a_gzip_name_that_climbs_out_is_made_safe() {
    let gz = packed::gzip(Some("../../etc/cron.d/notes.txt"), packed::NOTES);
    let o = process("x.gz", &gz);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    let g = gunzip(o.output.as_deref().unwrap()).unwrap();
    assert_eq!(g.name.as_deref(), Some(&b"notes.txt"[..]));
}

#[test]
fn a_7z_with_a_docm_comes_out_as_a_zip_with_a_docx() {
    let entries = unzip(output("report_docm.7z")).unwrap();
    let doc = format!("{}/{}", packed::JA_FOLDER, packed::JA_DOCUMENT.replace(".docm", ".docx"));
    assert_eq!(paths(&entries), [packed::JA_FOLDER, doc.as_str(), "notes.txt"]);
    assert!(entry(&entries, packed::JA_FOLDER).unwrap().dir);
    for e in &entries {
        assert_eq!(e.mtime, dos_mtime(), "{}", e.path);
    }
    assert_eq!(entry(&entries, "notes.txt").unwrap().data, packed::NOTES);
    is_macro_free_docx(&entry(&entries, &doc).unwrap().data).unwrap();
    assert_eq!(outcome("report_docm.7z").output_name.as_deref(), Some("report_docm.zip"));
}

#[test]
fn every_7z_method_built_in_is_read() {
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter, EncoderConfiguration, EncoderMethod};
    let methods = [
        EncoderMethod::COPY,
        EncoderMethod::LZMA,
        EncoderMethod::LZMA2,
        EncoderMethod::PPMD,
        EncoderMethod::BZIP2,
        EncoderMethod::DEFLATE,
    ];
    let text = packed::NOTES.repeat(50);
    for method in methods {
        let mut w = ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
        w.set_content_methods(vec![EncoderConfiguration::new(method)]);
        w.push_archive_entry(ArchiveEntry::new_file("notes.txt"), Some(&text[..])).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let o = process("notes.7z", &bytes);
        assert_eq!(o.verdict, Verdict::Disarmed, "{}: {}", method.name(), detail(&o));
        let entries = unzip(o.output.as_deref().unwrap()).unwrap();
        assert_eq!(entry(&entries, "notes.txt").unwrap().data, text, "{}", method.name());
    }
}

#[test]
fn a_7z_model_or_dictionary_larger_than_needed_is_refused_before_it_is_allocated() {
    // PPMd order 6 with a model of 4 GiB - 64 bytes, for 5 bytes of data.
    let mut props = vec![6];
    props.extend_from_slice(&(u32::MAX - 63).to_le_bytes());
    let ppmd = packed::seven_zip_single_coder(&[0x03, 0x04, 0x01], &props, &[0; 8], 5, "a.txt");
    let o = process("ppmd.7z", &ppmd);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitTotalBytes)), "{}", detail(&o));
    assert!(detail(outcome("dictionary_bomb.7z")).contains("dictionary"), "{}", detail(outcome("dictionary_bomb.7z")));
    // LZMA with a 1 GiB dictionary for 5 bytes.
    let mut props = vec![0x5D];
    props.extend_from_slice(&(1u32 << 30).to_le_bytes());
    let lzma = packed::seven_zip_single_coder(&[0x03, 0x01, 0x01], &props, &[0; 8], 5, "a.txt");
    let o = process("lzma.7z", &lzma);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitTotalBytes)), "{}", detail(&o));
}

#[test]
fn an_lzh_with_shift_jis_names_comes_out_as_a_zip_with_a_docx() {
    let entries = unzip(output("report_sjis.lzh")).unwrap();
    let doc = format!("{}/{}", packed::JA_FOLDER, packed::JA_DOCUMENT.replace(".docm", ".docx"));
    assert_eq!(paths(&entries), [packed::JA_FOLDER, doc.as_str(), "notes.txt"]);
    assert_eq!(entry(&entries, "notes.txt").unwrap().data, packed::NOTES);
    is_macro_free_docx(&entry(&entries, &doc).unwrap().data).unwrap();
    for e in &entries {
        assert_eq!(e.mtime, dos_mtime(), "{}", e.path);
    }
}

#[test]
fn level_0_lzh_names_split_on_backslash_only_outside_shift_jis_characters() {
    // 資料\表.txt in Shift_JIS: 表 is 0x95 0x5C, whose second byte is not a separator.
    let name = encoding_rs::SHIFT_JIS.encode("資料\\表.txt").0.into_owned();
    assert_eq!(name.iter().filter(|&&b| b == b'\\').count(), 2);
    let lzh = packed::lzh_level0(&[(&name, packed::NOTES)]);
    let o = process("old.lzh", &lzh);
    assert_eq!(o.verdict, Verdict::Disarmed, "{}", detail(&o));
    let entries = unzip(o.output.as_deref().unwrap()).unwrap();
    assert_eq!(paths(&entries), ["資料/表.txt"]);
    assert_eq!(entries[0].data, packed::NOTES);
    assert_eq!(entries[0].mtime, dos_mtime());
    let o = process("old.lzh", &packed::lzh_level0(&[(b"..\\..\\autoexec.bat", b"echo\r\n")]));
    assert_eq!(o.reason, Some(Reason::PathTraversal), "{}", detail(&o));
}

#[test]
fn an_lzh_with_a_bad_crc_or_a_cut_is_refused() {
    let good = packed::lzh_level2(&[LhaItem { method: b"-lh0-", dir: &[], name: "notes.txt", data: packed::NOTES }]);
    assert_eq!(process("n.lzh", &good).verdict, Verdict::Disarmed);
    // The data's last byte changed: the header still checks, the CRC-16 of the data does not.
    let mut bad = good.clone();
    let at = bad.len() - 2;
    bad[at] ^= 0x20;
    let o = process("n.lzh", &bad);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Malformed)), "{}", detail(&o));
    assert!(detail(&o).contains("CRC"), "{}", detail(&o));
    let o = process("n.lzh", &good[..good.len() - 10]);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Malformed)), "{}", detail(&o));
}

#[test]
fn an_lzh_path_that_climbs_out_is_refused() {
    // `..` as a folder of the directory header, and `..\` in the file name (MS-DOS separator).
    let a = packed::lzh_level2(&[LhaItem { method: b"-lh0-", dir: &[".."], name: "x.txt", data: b"x" }]);
    let b = packed::lzh_level2(&[LhaItem { method: b"-lh0-", dir: &[], name: "..\\x.txt", data: b"x" }]);
    for (n, bytes) in [("dir", a), ("name", b)] {
        let o = process("x.lzh", &bytes);
        assert_eq!(o.reason, Some(Reason::PathTraversal), "{n}: {}", detail(&o));
    }
}

// ----------------------------------------------------------------------------------------------
// Blocked entries and limits

#[test]
fn a_blocked_entry_is_dropped_or_blocks_the_archive_as_configured() {
    let o = outcome("program_inside.tgz");
    let held: Vec<_> = o.actions.iter().filter(|a| a.action == ActionKind::RemovedBlockedEntry).collect();
    assert_eq!(held.len(), 1, "{:?}", o.actions);
    assert_eq!((held[0].part.as_str(), held[0].reason), ("bundle.tar/setup.exe", Some(Reason::Executable)));
    let g = gunzip(o.output.as_deref().unwrap()).unwrap();
    assert_eq!(g.name.as_deref(), Some(&b"bundle.tar"[..]));
    assert_eq!(paths(&untar(&g.content).unwrap()), ["notes.txt"]);

    let block = engine_with(|c| c.archive.on_blocked_entry = BlockedEntryPolicy::Block);
    let o = process_with(&block, "program_inside.tgz", &sample("program_inside.tgz").bytes);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Executable)), "{}", detail(&o));
    let o = process_with(&block, "report_docm.tar.gz", &sample("report_docm.tar.gz").bytes);
    assert_eq!(o.verdict, Verdict::Disarmed, "nothing is blocked inside: {}", detail(&o));
}

#[test]
fn a_gzip_whose_content_is_blocked_is_blocked_under_either_policy() {
    for policy in [BlockedEntryPolicy::Drop, BlockedEntryPolicy::Block] {
        let e = engine_with(|c| c.archive.on_blocked_entry = policy);
        let o = process_with(&e, "program.gz", &sample("program.gz").bytes);
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Executable)), "{policy:?}: {}", detail(&o));
    }
}

/// A tar of `n` text files of `size` bytes each.
fn many_files(n: usize, size: usize) -> Vec<u8> {
    let names: Vec<String> = (0..n).map(|i| format!("f{i:05}.txt")).collect();
    let data = vec![b'a'; size];
    let items: Vec<TarItem<'_>> = names.iter().map(|p| TarItem::File(p, &data)).collect();
    packed::tar(&items)
}

#[test]
fn max_entries_blocks_every_format() {
    let e = engine_with(|c| c.limits.max_entries = 20);
    let tar = many_files(30, 10);
    let lzh_items: Vec<LhaItem<'_>> =
        (0..30).map(|_| LhaItem { method: b"-lh0-", dir: &[], name: "a.txt", data: b"a" }).collect();
    let cases = [
        ("many.tar", tar.clone()),
        ("many.tar.gz", packed::gzip(None, &tar)),
        ("many.lzh", packed::lzh_level2(&lzh_items)),
        ("many.7z", seven_zip_of(30, 10)),
    ];
    for (name, bytes) in cases {
        let o = process_with(&e, name, &bytes);
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitEntries)), "{name}: {}", detail(&o));
    }
}

/// A 7z of `n` text files of `size` bytes each, written with the crate's writer.
fn seven_zip_of(n: usize, size: usize) -> Vec<u8> {
    use sevenz_rust2::{ArchiveEntry, ArchiveWriter};
    let mut w = ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
    let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    for i in 0..n {
        w.push_archive_entry(ArchiveEntry::new_file(&format!("f{i}.txt")), Some(&data[..])).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn max_entry_bytes_blocks_every_format_before_expanding() {
    let e = engine_with(|c| c.limits.max_entry_bytes = 4000);
    let tar = many_files(1, 5000);
    let big = vec![b'a'; 5000];
    let cases = [
        ("big.tar", tar.clone()),
        ("big.txt.gz", packed::gzip(Some("big.txt"), &big)),
        ("big.lzh", packed::lzh_level2(&[LhaItem { method: b"-lh0-", dir: &[], name: "big.txt", data: &big }])),
        ("big.7z", seven_zip_of(1, 5000)),
    ];
    for (name, bytes) in cases {
        let o = process_with(&e, name, &bytes);
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitEntryBytes)), "{name}: {}", detail(&o));
    }
}

#[test]
fn max_total_bytes_blocks_every_format() {
    let e = engine_with(|c| c.limits.max_total_bytes = 12_000);
    let data = vec![b'a'; 5000];
    let items: Vec<LhaItem<'_>> = ["a.txt", "b.txt", "c.txt"]
        .iter()
        .map(|n| LhaItem { method: b"-lh0-", dir: &[], name: n, data: &data })
        .collect();
    let cases = [
        ("many.tar", many_files(3, 5000)),
        ("many.lzh", packed::lzh_level2(&items)),
        ("many.7z", seven_zip_of(3, 5000)),
        ("big.txt.gz", packed::gzip(Some("big.txt"), &vec![b'a'; 15_000])),
    ];
    for (name, bytes) in cases {
        let o = process_with(&e, name, &bytes);
        assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitTotalBytes)), "{name}: {}", detail(&o));
    }
}

#[test]
fn a_gzip_bomb_is_stopped_by_its_ratio_or_by_the_entry_cap() {
    let o = outcome("bomb.gz");
    assert!(detail(o).contains("compressed"), "{}", detail(o));
    // With the ratio check out of the way, the entry cap stops it: the trailer's claim of 1000
    // bytes is not believed, and no more than the cap is expanded.
    let e = engine_with(|c| {
        c.limits.max_ratio = 1_000_000;
        c.limits.max_entry_bytes = 8 << 20;
    });
    let o = process_with(&e, "bomb.gz", &sample("bomb.gz").bytes);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitEntryBytes)), "{}", detail(&o));
}

#[test]
fn declared_ratios_past_max_ratio_block_lzh_and_7z() {
    // LHA: an entry declaring 2 MiB from 10 bytes (refused before decoding).
    let mut lzh = packed::lzh_level2(&[LhaItem { method: b"-lh5-", dir: &[], name: "a.txt", data: &[0; 10] }]);
    lzh[11..15].copy_from_slice(&(2u32 << 20).to_le_bytes());
    // The header CRC no longer matches: write it again.
    lzh[27..29].copy_from_slice(&[0, 0]);
    let hl = u16::from_le_bytes([lzh[0], lzh[1]]) as usize;
    let crc = packed::crc16(&lzh[..hl]);
    lzh[27..29].copy_from_slice(&crc.to_le_bytes());
    let o = process("bomb.lzh", &lzh);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitRatio)), "{}", detail(&o));
    // 7z: 4 MiB of zeros in LZMA2 is a few hundred bytes.
    let zeros = {
        use sevenz_rust2::{ArchiveEntry, ArchiveWriter};
        let mut w = ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
        w.push_archive_entry(ArchiveEntry::new_file("zeros.bin"), Some(&vec![0u8; 4 << 20][..])).unwrap();
        w.finish().unwrap().into_inner()
    };
    let o = process("zeros.7z", &zeros);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitRatio)), "{}", detail(&o));
}

#[test]
fn nesting_past_max_depth_blocks_the_whole_archive() {
    // gzip (0) > tar (1) > docm (2)
    let e = engine_with(|c| c.limits.max_depth = 1);
    let o = process_with(&e, "report_docm.tar.gz", &sample("report_docm.tar.gz").bytes);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::LimitDepth)), "{}", detail(&o));
    let o = process_with(&e, "report_docm.7z", &sample("report_docm.7z").bytes);
    assert_eq!(o.verdict, Verdict::Disarmed, "7z (0) > docm (1) is within the depth: {}", detail(&o));
}

#[test]
fn a_sparse_tar_entry_is_unsupported() {
    // A GNU sparse entry: one data region covering the whole file.
    let mut t = packed::tar(&[TarItem::File("notes.txt", packed::NOTES)]);
    let size = format!("{:011o}\0", packed::NOTES.len());
    t[156] = b'S';
    t[386..398].copy_from_slice(b"00000000000\0");
    t[398..410].copy_from_slice(size.as_bytes());
    t[483..495].copy_from_slice(size.as_bytes());
    let mut h = tar::Header::new_old();
    h.as_mut_bytes().copy_from_slice(&t[..512]);
    h.set_cksum();
    t[..512].copy_from_slice(h.as_bytes());
    let o = process("sparse.tar", &t);
    assert_eq!((o.verdict, o.reason), (Verdict::Blocked, Some(Reason::Unsupported)), "{}", detail(&o));
}

// ----------------------------------------------------------------------------------------------
// Determinism, second pass, damage

#[test]
fn rebuilt_archives_are_deterministic_and_a_second_pass_finds_nothing() {
    let mut problems = Vec::new();
    for (s, o) in all().iter().zip(outcomes()) {
        let Some(out) = &o.output else { continue };
        let again = process(s.file_name, &s.bytes);
        if again.output.as_ref() != Some(out) {
            problems.push(format!("{}: a second run gave other bytes", s.file_name));
        }
        let name = o.output_name.clone().unwrap_or_default();
        let second = process(&name, out);
        if second.verdict != Verdict::Disarmed || !second.actions.is_empty() {
            problems.push(format!("{name}: second pass {:?} {:?} {}", second.verdict, kinds(&second), detail(&second)));
        }
        if second.output.as_ref() != Some(out) {
            problems.push(format!("{name}: a second pass changed the bytes"));
        }
    }
    fail_with(problems);
}

#[test]
fn mutated_packed_samples_never_crash_the_engine() {
    let mut rng = Rng(0x5EED_7A12_0B5E_C0DE);
    let mut problems = Vec::new();
    for s in all().iter().filter(|s| s.bytes.len() < 200_000) {
        for round in 0..48 {
            let mut data = s.bytes.clone();
            damage(&mut data, &mut rng, &[b"ustar\0", b"-lh0-", &[0x1F, 0x8B, 8, 0], &[0x37, 0x7A, 0xBC, 0xAF]]);
            let o = process(s.file_name, &data);
            if o.reason == Some(Reason::InternalError) {
                problems.push(format!("{} round {round}: {}", s.file_name, detail(&o)));
            }
            if let Some(out) = &o.output {
                for p in active_content(out, s.file_name, 0) {
                    problems.push(format!("{} round {round}: {p}", s.file_name));
                }
            }
        }
    }
    fail_with(problems);
}

#[test]
fn packed_sample_names_are_unique_and_builders_are_deterministic() {
    fail_with(unique_and_deterministic(all(), &packed::all()));
}

#[test]
fn committed_packed_samples_match_the_builders() {
    fail_with(committed_sample_problems("packed", all()));
}

#[test]
fn a_gzip_named_after_a_docm_is_named_after_the_docx_it_now_holds() {
    use std::io::Write;
    let docm = mugai::samples::word::vba(mugai::samples::package::ct::DOCM_MAIN);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&docm).unwrap();
    let gz = gz.finish().unwrap();
    let o = process("議事録.docm.gz", &gz);
    assert_eq!(o.verdict, Verdict::Disarmed, "{:?} {}", o.reason, detail(&o));
    assert_eq!(o.output_name.as_deref(), Some("議事録.docx.gz"));
    assert!(o.actions.iter().any(|a| a.part == "議事録.docm/word/vbaProject.bin"), "{:?}", o.actions);
    let o = process("bundle.tgz", &gz);
    assert_eq!(o.output_name.as_deref(), Some("bundle.docx.gz"), "a .tgz holds a tar by its name, and this is not one");
}
