//! Structural checks of OOXML packages, written apart from the engine so that they judge its
//! output rather than repeat its logic.
//!
//! [`check_structure`] asks whether a package would open: the zip reads, every XML part is
//! well-formed, every internal relationship reaches a part, every relationship id used in a part
//! exists, every part has a content type. [`check_no_active_content`] asks whether anything on
//! the project's OOXML checklist is left. [`check_package`] is both, applied recursively to
//! embedded packages.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

const R_NS: &[u8] = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const O_NS: &[u8] = b"urn:schemas-microsoft-com:office:office";
const W_NS: &[u8] = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const SML_NS: &[u8] = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const MAX_PART: u64 = 64 * 1024 * 1024;

/// How [`check_no_active_content`] words an embedded document (an object, not chart data).
pub const EMBEDDED_DOCUMENT: &str = "embedded document";

/// A package read into memory: part name (no leading slash) to bytes, in zip order.
pub struct Package {
    pub parts: BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct Rel {
    pub id: String,
    pub rel_type: String,
    pub target: String,
    pub external: bool,
}

impl Package {
    pub fn read(bytes: &[u8]) -> Result<Package, String> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("zip does not open: {e}"))?;
        let mut parts = BTreeMap::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).map_err(|e| format!("zip entry {i}: {e}"))?;
            if f.is_dir() {
                continue;
            }
            let name = f.name().map_err(|e| format!("zip entry {i}: name: {e}"))?.into_owned();
            if f.size() > MAX_PART {
                return Err(format!("{name}: {} bytes", f.size()));
            }
            let mut data = Vec::with_capacity(f.size() as usize);
            f.read_to_end(&mut data).map_err(|e| format!("{name}: {e}"))?;
            if parts.insert(name.clone(), data).is_some() {
                return Err(format!("{name}: duplicate entry"));
            }
        }
        Ok(Package { parts })
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.parts.get(name).map(|d| String::from_utf8_lossy(d).into_owned())
    }

    fn has_part(&self, name: &str) -> bool {
        self.parts.keys().any(|p| p.eq_ignore_ascii_case(name))
    }

    /// Relationships parts with the part they belong to (`""` for the package).
    pub fn rels(&self) -> Vec<(String, String, Vec<Rel>)> {
        let mut out = Vec::new();
        for (name, data) in &self.parts {
            let Some(source) = rels_source(name) else {
                continue;
            };
            out.push((name.clone(), source, parse_rels(data)));
        }
        out
    }

    /// `(defaults by lower-case extension, overrides by lower-case part name)`.
    pub fn content_types(&self) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let mut defaults = BTreeMap::new();
        let mut overrides = BTreeMap::new();
        if let Some(ct) = self.parts.get("[Content_Types].xml") {
            for_each_element(ct, |local, e| {
                let a = attrs(e);
                let ct = a.get("ContentType").cloned().unwrap_or_default();
                match local {
                    "Default" => {
                        defaults.insert(a.get("Extension").cloned().unwrap_or_default().to_ascii_lowercase(), ct);
                    }
                    "Override" => {
                        let p = a.get("PartName").cloned().unwrap_or_default();
                        overrides.insert(p.trim_start_matches('/').to_ascii_lowercase(), ct);
                    }
                    _ => {}
                }
            });
        }
        (defaults, overrides)
    }
}

/// The source part of a relationships part (`word/_rels/document.xml.rels` -> `word/document.xml`).
fn rels_source(name: &str) -> Option<String> {
    let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
    let file = file.strip_suffix(".rels")?;
    let parent = if dir == "_rels" { "" } else { dir.strip_suffix("/_rels")? };
    Some(if parent.is_empty() { file.to_string() } else { format!("{parent}/{file}") })
}

fn attrs(e: &BytesStart<'_>) -> BTreeMap<String, String> {
    e.attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            (key, a.unescape_value().map(|v| v.into_owned()).unwrap_or_default())
        })
        .collect()
}

/// Calls `f` with the local name and start tag of every element (lenient: stops at an error).
fn for_each_element(xml: &[u8], mut f: impl FnMut(&str, &BytesStart<'_>)) {
    let mut r = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                f(&local, &e);
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
}

pub fn parse_rels(xml: &[u8]) -> Vec<Rel> {
    let mut rels = Vec::new();
    for_each_element(xml, |local, e| {
        if local == "Relationship" {
            let a = attrs(e);
            rels.push(Rel {
                id: a.get("Id").cloned().unwrap_or_default(),
                rel_type: a.get("Type").cloned().unwrap_or_default(),
                target: a.get("Target").cloned().unwrap_or_default(),
                external: a.get("TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External")),
            });
        }
    });
    rels
}

/// Resolves an internal target against the folder of its source part: leading `/` means the
/// package root; `.` and `..` are applied; percent escapes are decoded; a fragment is dropped.
pub fn resolve_target(source: &str, target: &str) -> Result<String, String> {
    let target = target.split('#').next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(target).decode_utf8_lossy().into_owned();
    let mut segments: Vec<&str> = Vec::new();
    let rest = if let Some(abs) = decoded.strip_prefix('/') {
        abs
    } else {
        if let Some((dir, _)) = source.rsplit_once('/') {
            segments.extend(dir.split('/'));
        }
        decoded.as_str()
    };
    for seg in rest.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(format!("{target} climbs above the package root"));
                }
            }
            s => segments.push(s),
        }
    }
    Ok(segments.join("/"))
}

fn is_xml_part(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.ends_with(".xml") || l.ends_with(".rels")
}

/// Checks that `xml` is one well-formed UTF-8 document without a DTD, with bound prefixes,
/// and returns the relationship ids its attributes use (`r:id`, `r:embed`, `o:relid`, ...).
pub fn check_xml(name: &str, xml: &[u8]) -> Result<BTreeSet<String>, String> {
    let body = xml.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(xml);
    std::str::from_utf8(body).map_err(|e| format!("{name}: not UTF-8: {e}"))?;
    let mut r = NsReader::from_reader(body);
    r.config_mut().check_comments = true;
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut ids = BTreeSet::new();
    loop {
        let pos = r.buffer_position();
        let (ns, ev) = match r.read_resolved_event_into(&mut buf) {
            Ok(x) => x,
            Err(e) => return Err(format!("{name}: {e} near byte {pos}")),
        };
        if let ResolveResult::Unknown(p) = &ns {
            return Err(format!("{name}: unbound prefix {}", String::from_utf8_lossy(p)));
        }
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if depth == 0 {
                    roots += 1;
                }
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
                for a in e.attributes() {
                    let a = a.map_err(|e| format!("{name}: attribute: {e}"))?;
                    let value = a.unescape_value().map_err(|e| format!("{name}: attribute value: {e}"))?;
                    let (ans, local) = r.resolve_attribute(a.key);
                    match ans {
                        ResolveResult::Unknown(p) => {
                            return Err(format!("{name}: unbound prefix {}", String::from_utf8_lossy(&p)))
                        }
                        ResolveResult::Bound(n) if n.as_ref() == R_NS => {
                            ids.insert(value.into_owned());
                        }
                        ResolveResult::Bound(n) if n.as_ref() == O_NS && local.as_ref() == b"relid" => {
                            ids.insert(value.into_owned());
                        }
                        _ => {}
                    }
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(ref t) => {
                let text = t.unescape().map_err(|e| format!("{name}: text: {e}"))?;
                if depth == 0 && !text.trim().is_empty() {
                    return Err(format!("{name}: text outside the root element"));
                }
            }
            Event::DocType(_) => return Err(format!("{name}: document type declaration")),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if depth != 0 {
        return Err(format!("{name}: {depth} element(s) not closed"));
    }
    if roots != 1 {
        return Err(format!("{name}: {roots} root elements"));
    }
    Ok(ids)
}

/// Would the package open: zip, XML, relationships, ids in use, content types.
pub fn check_structure(bytes: &[u8]) -> Result<(), Vec<String>> {
    let pkg = Package::read(bytes).map_err(|e| vec![e])?;
    let errs = structure_errors(&pkg);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

fn structure_errors(pkg: &Package) -> Vec<String> {
    let mut errs = Vec::new();
    if !pkg.parts.contains_key("[Content_Types].xml") {
        errs.push("no [Content_Types].xml".into());
    }
    let mut used_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, data) in &pkg.parts {
        if is_xml_part(name) {
            match check_xml(name, data) {
                Ok(ids) => {
                    used_ids.insert(name.clone(), ids);
                }
                Err(e) => errs.push(e),
            }
        }
    }
    let mut declared_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rels_name, source, rels) in pkg.rels() {
        if !source.is_empty() && !pkg.has_part(&source) {
            errs.push(format!("{rels_name}: relationships of a missing part {source}"));
        }
        let mut seen = BTreeSet::new();
        for rel in &rels {
            if !seen.insert(rel.id.clone()) {
                errs.push(format!("{rels_name}: duplicate id {}", rel.id));
            }
            if rel.external {
                continue;
            }
            match resolve_target(&source, &rel.target) {
                Ok(t) if pkg.has_part(&t) => {}
                Ok(t) => errs.push(format!("{rels_name}: {} -> {t}: no such part", rel.id)),
                Err(e) => errs.push(format!("{rels_name}: {}: {e}", rel.id)),
            }
        }
        declared_ids.insert(source, seen);
    }
    for (part, ids) in &used_ids {
        if part.ends_with(".rels") || part == "[Content_Types].xml" {
            continue;
        }
        let declared = declared_ids.get(part);
        for id in ids {
            if !declared.is_some_and(|d| d.contains(id)) {
                errs.push(format!("{part}: uses relationship id {id:?} that {part} does not declare"));
            }
        }
    }
    let (defaults, overrides) = pkg.content_types();
    for name in pkg.parts.keys() {
        if name == "[Content_Types].xml" {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if !overrides.contains_key(&lower) && !defaults.contains_key(ext) {
            errs.push(format!("{name}: no content type"));
        }
    }
    for part in overrides.keys() {
        if !pkg.has_part(part) {
            errs.push(format!("[Content_Types].xml: override for missing part /{part}"));
        }
    }
    errs
}

/// Anything on the OOXML checklist still present, one line each.
pub fn check_no_active_content(bytes: &[u8]) -> Vec<String> {
    match Package::read(bytes) {
        Ok(pkg) => active_content(&pkg),
        Err(e) => vec![e],
    }
}

fn active_content(pkg: &Package) -> Vec<String> {
    let mut found = Vec::new();
    for (name, data) in &pkg.parts {
        let l = name.to_ascii_lowercase();
        let file = l.rsplit('/').next().unwrap_or(&l);
        let what = if file.starts_with("vbaproject") {
            Some("VBA project")
        } else if file == "vbadata.xml" {
            Some("VBA data")
        } else if l.contains("activex/") {
            Some("ActiveX control")
        } else if l.contains("macrosheets/") {
            Some("macro sheet")
        } else if l.contains("embeddings/") && l.ends_with(".bin") {
            Some("embedded OLE object")
        } else if l.starts_with("customui/") {
            Some("custom UI")
        } else if l.contains("webextensions/") {
            Some("web extension")
        } else if l.contains("externallinks/") {
            Some("external link")
        } else if l.ends_with("/connections.xml") {
            Some("data connections")
        } else if data.starts_with(b"MZ") {
            Some("executable")
        } else {
            None
        };
        if let Some(w) = what {
            found.push(format!("{name}: {w} part"));
        }
    }
    for (rels_name, _, rels) in pkg.rels() {
        for rel in rels {
            let t = rel.rel_type.to_ascii_lowercase();
            let bad = t.ends_with("/vbaproject")
                || t.ends_with("vbadata")
                || t.contains("activexcontrol")
                || t.ends_with("/control")
                || t.ends_with("/oleobject")
                || t.ends_with("/externallink")
                || t.ends_with("/externallinkpath")
                || t.contains("macrosheet")
                || t.contains("ui/extensibility")
                || t.contains("webextension")
                || t.ends_with("/connections")
                || (rel.external
                    && (t.ends_with("/attachedtemplate")
                        || t.ends_with("/subdocument")
                        || t.ends_with("/frame")
                        || t.ends_with("/image")));
            let target = rel.target.to_ascii_lowercase();
            let non_web_link = rel.external
                && t.ends_with("/hyperlink")
                && !(target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:"));
            // Embedded documents are removed under the default policy; chart data stays.
            let embedded_object = !rel.external && t.ends_with("/package") && !rels_name.contains("charts/");
            if embedded_object {
                found.push(format!("{rels_name}: {EMBEDDED_DOCUMENT} {} -> {}", rel.id, rel.target));
            }
            if bad || non_web_link {
                found.push(format!("{rels_name}: {} relationship {} -> {}", rel.rel_type, rel.id, rel.target));
            }
        }
    }
    for name in unreachable_parts(pkg) {
        found.push(format!("{name}: no relationship reaches this part"));
    }
    let (defaults, overrides) = pkg.content_types();
    for (key, ct) in defaults.iter().chain(overrides.iter()) {
        let c = ct.to_ascii_lowercase();
        // The binary workbook has no macro-free main content type; its VBA project is a part.
        let xlsb_main = c == "application/vnd.ms-excel.sheet.binary.macroenabled.main";
        if !xlsb_main
            && ["macroenabled", "vbaproject", "vbadata", "activex", "macrosheet", "oleobject"]
                .iter()
                .any(|w| c.contains(w))
        {
            found.push(format!("[Content_Types].xml: {key} is {ct}"));
        }
    }
    for (name, data) in &pkg.parts {
        if !is_xml_part(name) {
            if looks_like_package(data) {
                match Package::read(data) {
                    Ok(inner) => found.extend(active_content(&inner).into_iter().map(|f| format!("{name} > {f}"))),
                    Err(e) => found.push(format!("{name}: {e}")),
                }
            }
            continue;
        }
        let lower = String::from_utf8_lossy(data).to_ascii_lowercase();
        for a in ["ppaction://program", "ppaction://macro", "ppaction://ole"] {
            if lower.contains(a) {
                found.push(format!("{name}: {a}"));
            }
        }
        found.extend(xml_findings(name, data));
    }
    found
}

/// Parts that no chain of internal relationships from the package reaches (hidden payloads).
fn unreachable_parts(pkg: &Package) -> Vec<String> {
    let by_lower: BTreeMap<String, &String> = pkg.parts.keys().map(|k| (k.to_ascii_lowercase(), k)).collect();
    let rels: BTreeMap<String, Vec<Rel>> =
        pkg.rels().into_iter().map(|(_, source, rels)| (source.to_ascii_lowercase(), rels)).collect();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut queue = vec![String::new()];
    while let Some(source) = queue.pop() {
        for rel in rels.get(&source).into_iter().flatten().filter(|r| !r.external) {
            let Ok(target) = resolve_target(&source, &rel.target) else { continue };
            let target = target.to_ascii_lowercase();
            if by_lower.contains_key(&target) && reached.insert(target.clone()) {
                queue.push(target);
            }
        }
    }
    by_lower
        .iter()
        .filter(|(lower, _)| {
            lower.as_str() != "[content_types].xml" && rels_source(lower).is_none() && !reached.contains(*lower)
        })
        .map(|(_, name)| (*name).clone())
        .collect()
}

fn looks_like_package(data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04")
}

fn is_dangerous_field(instr: &str) -> bool {
    let mut words = instr.split_whitespace();
    let first = words.next().unwrap_or("").to_ascii_uppercase();
    if first == "HYPERLINK" {
        // A link to a file share or a local file (the default policy keeps web links only).
        let target = words.next().unwrap_or("").trim_matches('"').to_ascii_lowercase();
        return target.starts_with("\\\\") || target.starts_with("file:");
    }
    matches!(first.as_str(), "DDE" | "DDEAUTO" | "INCLUDETEXT")
}

/// Field codes, ActiveX control elements, DDE links, DDE and external formulas, automatic macro
/// names, found by walking one XML part.
fn xml_findings(name: &str, xml: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut r = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    // Instruction text of the complex fields open at this point.
    let mut fields: Vec<String> = Vec::new();
    let mut in_instr = false;
    let mut in_formula = false;
    let mut formula = String::new();
    let mut defined_name: Option<String> = None;
    while let Ok((ns, ev)) = r.read_resolved_event_into(&mut buf) {
        let in_w = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == W_NS);
        let in_sml = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == SML_NS);
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name();
                let a = attrs(e);
                match (local.as_ref(), in_w, in_sml) {
                    (b"fldChar", true, _) => match a.get("fldCharType").map(String::as_str) {
                        Some("begin") => fields.push(String::new()),
                        Some("end") => {
                            if let Some(instr) = fields.pop() {
                                if is_dangerous_field(&instr) {
                                    found.push(format!("{name}: field {}", instr.trim()));
                                }
                            }
                        }
                        _ => {}
                    },
                    (b"instrText", true, _) => in_instr = matches!(ev, Event::Start(_)),
                    (b"fldSimple", true, _) => {
                        let instr = a.get("instr").cloned().unwrap_or_default();
                        if is_dangerous_field(&instr) {
                            found.push(format!("{name}: simple field {}", instr.trim()));
                        }
                    }
                    (b"control", true, _) | (b"control", _, true) => {
                        found.push(format!("{name}: ActiveX control element"))
                    }
                    (b"ddeLink", _, true) => found.push(format!("{name}: ddeLink")),
                    (b"f", _, true) => {
                        in_formula = matches!(ev, Event::Start(_));
                        formula.clear();
                    }
                    (b"definedName", _, true) => defined_name = a.get("name").cloned(),
                    (b"property", _, _) => {
                        let prop = a.get("name").map(|n| n.to_ascii_lowercase()).unwrap_or_default();
                        if prop == "_assemblylocation" || prop == "_assemblyname" {
                            found.push(format!("{name}: add-in custom property {prop}"));
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(ref t) => {
                let text = t.unescape().map(|c| c.into_owned()).unwrap_or_default();
                if in_instr {
                    if let Some(f) = fields.last_mut() {
                        f.push_str(&text);
                    }
                }
                if in_formula {
                    formula.push_str(&text);
                }
            }
            Event::End(ref e) => match e.local_name().as_ref() {
                b"instrText" => in_instr = false,
                b"f" if in_formula => {
                    in_formula = false;
                    if is_dde_formula(&formula) {
                        found.push(format!("{name}: DDE formula {formula}"));
                    }
                    if is_external_formula(&formula) {
                        found.push(format!("{name}: external formula {formula}"));
                    }
                    if calls_out(&formula) {
                        found.push(format!("{name}: formula calling out {formula}"));
                    }
                }
                b"definedName" => {
                    if let Some(n) = defined_name.take() {
                        let n = n.to_ascii_lowercase();
                        let n = n.strip_prefix("_xlnm.").unwrap_or(&n);
                        if ["auto_open", "auto_close", "auto_activate", "auto_deactivate"]
                            .iter()
                            .any(|p| n.starts_with(p))
                        {
                            found.push(format!("{name}: automatic macro name {n}"));
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    found
}

/// `app|'topic'!item`: a name, a bar, and a `!` after it.
fn is_dde_formula(f: &str) -> bool {
    f.match_indices('|').any(|(i, _)| {
        let app = f[..i].rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).next().unwrap_or("");
        !app.is_empty() && f[i + 1..].contains('!')
    })
}

/// `[1]Sheet1!A1`: a reference through an external link.
fn is_external_formula(f: &str) -> bool {
    let b = f.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'[' && {
            let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
            digits > 0 && b.get(i + 1 + digits) == Some(&b']')
        }
    })
}

/// A call to a function that reaches out of the workbook: WEBSERVICE, RTD, CALL, REGISTER(.ID),
/// or an add-in (`_xll.`) function.
fn calls_out(f: &str) -> bool {
    let upper = f.to_ascii_uppercase();
    upper.contains("_XLL.")
        || ["WEBSERVICE(", "RTD(", "CALL(", "REGISTER(", "REGISTER.ID("].iter().any(|name| {
            upper.match_indices(name).any(|(i, _)| {
                i == 0
                    || !upper[..i].chars().last().map(|c| c.is_alphanumeric() || c == '_').unwrap_or(false)
                    || upper[..i].ends_with("_XLFN.")
            })
        })
}

/// Both checks, on the package and on every package embedded in it.
pub fn check_package(bytes: &[u8]) -> Result<(), Vec<String>> {
    let pkg = Package::read(bytes).map_err(|e| vec![e])?;
    let mut errs = structure_errors(&pkg);
    errs.extend(active_content(&pkg));
    for (name, data) in &pkg.parts {
        if !is_xml_part(name) && looks_like_package(data) {
            if let Err(inner) = check_structure(data) {
                errs.extend(inner.into_iter().map(|e| format!("{name} > {e}")));
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

#[test]
fn targets_resolve_against_the_source_folder() {
    assert_eq!(resolve_target("word/document.xml", "media/image1.png").unwrap(), "word/media/image1.png");
    assert_eq!(resolve_target("ppt/slides/slide1.xml", "../media/a%20b.png").unwrap(), "ppt/media/a b.png");
    assert_eq!(resolve_target("", "word/document.xml").unwrap(), "word/document.xml");
    assert_eq!(resolve_target("xl/workbook.xml", "/xl/styles.xml").unwrap(), "xl/styles.xml");
    assert!(resolve_target("word/document.xml", "../../x").is_err());
}

#[test]
fn rels_parts_name_their_source() {
    assert_eq!(rels_source("_rels/.rels").as_deref(), Some(""));
    assert_eq!(rels_source("word/_rels/document.xml.rels").as_deref(), Some("word/document.xml"));
    assert_eq!(rels_source("word/document.xml"), None);
}

#[test]
fn formulas_are_classified() {
    assert!(is_dde_formula("cmd|'/c calc'!A0"));
    assert!(is_dde_formula("=MSEXCEL|'\\..\\..\\Windows\\System32\\cmd.exe /c calc'!''"));
    assert!(!is_dde_formula("SUM(A1:A3)"));
    assert!(is_external_formula("[1]Sheet1!$A$1"));
    assert!(!is_external_formula("Table1[Amount]"));
    assert!(calls_out("_xlfn.WEBSERVICE(\"https://x\")") && calls_out("1+RTD(\"a\",,\"b\")"));
    assert!(!calls_out("RECALL(1)") && !calls_out("SUM(A1)"));
}

#[test]
fn malformed_xml_is_reported() {
    assert!(check_xml("a.xml", b"<a><b></a>").is_err());
    assert!(check_xml("a.xml", b"<a/><b/>").is_err());
    assert!(check_xml("a.xml", b"<!DOCTYPE a><a/>").is_err());
    assert!(check_xml("a.xml", b"<a x=\"1\" x=\"2\"/>").is_err());
    assert!(check_xml("a.xml", b"<p:a/>").is_err());
    assert!(check_xml("a.xml", b"<a>&unknown;</a>").is_err());
    assert!(check_xml("a.xml", b"<?xml version=\"1.0\"?><a>ok</a>").is_ok());
}
