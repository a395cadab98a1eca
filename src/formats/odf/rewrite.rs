//! The streaming cleaner for one XML part of an OpenDocument package (or a whole flat XML
//! document).
//!
//! It reads the part event by event and writes the same events back, leaving out:
//! - event bindings: `script:event-listener` always, `presentation:event-listener` when it runs
//!   a program, an OLE verb or a macro, validity-check macros (`table:error-macro`), and the
//!   content of `office:scripts` (document events and, in flat XML, whole Basic libraries);
//! - script code (`text:script`), macro fields (`text:execute-macro`, its text kept) and every
//!   attribute whose value is a macro or script URL (`vnd.sun.star.script:`, `macro:`, ...);
//! - embedded OLE objects (`draw:object-ole`; the replacement picture next to it stays), Java
//!   applets and browser plug-ins; `draw:object` stays only when it is an ODF sub-document of
//!   the package or inline;
//! - external references: linked sections, sheets and cell ranges, DDE connections and links
//!   (a DDE field keeps its text), pictures, objects, sounds and fonts fetched from outside the
//!   package (web addresses included), a template or auto-reload address in the metadata, form
//!   submissions and database connections, spreadsheet formulas that call DDE, fetch from the
//!   web or read other files (the cell keeps its value);
//! - hyperlinks that `[odf] hyperlinks` does not allow (by default anything but web pages, mail
//!   addresses and places inside the document; the link text stays).
//!
//! Names are matched on their local part whatever the prefix; the one place where the namespace
//! decides (a presentation event listener may stay, a script one never does) resolves it.
//! Document type declarations are refused and nesting is bounded.

use crate::config::HyperlinkPolicy;
use crate::engine::Budget;
use crate::formats::xml::{self, check_tag, local, valid_name};
use crate::formats::FormatError;
use crate::model::{Action, ActionKind, Reason};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::Writer;
use std::collections::HashSet;

const PRESENTATION_NS: &[u8] = b"urn:oasis:names:tc:opendocument:xmlns:presentation:1.0";

/// What the part is, for the rules that only apply to some parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Content, styles, metadata, settings, a sub-document's parts, a flat XML document.
    Document,
    /// User interface configuration (`Configurations2/`): only looked at, never changed; the
    /// output says whether a menu, toolbar or key binding calls a macro.
    Configuration,
}

/// The names in the package, to tell references inside it from references out of it.
#[derive(Debug, Default, Clone)]
pub struct PackageNames {
    /// Entries (files) that stay.
    pub files: HashSet<String>,
    /// Every folder that holds a kept entry, with its trailing slash (`Object 1/`).
    pub dirs: HashSet<String>,
    /// Entries the rebuild removes: references to them go without an action of their own.
    pub removed: HashSet<String>,
    /// Folders of the ODF sub-documents that stay (`Object 1/`).
    pub subdocs: HashSet<String>,
}

impl PackageNames {
    /// Records a kept entry and the folders above it.
    pub fn add_file(&mut self, name: &str) {
        let mut at = 0;
        while let Some(i) = name[at..].find('/') {
            at += i + 1;
            self.dirs.insert(name[..at].to_string());
        }
        self.files.insert(name.to_string());
    }
}

pub struct Plan<'a> {
    pub part: &'a str,
    /// The folder the part's relative references start from (`""`, `Object 1/`).
    pub base: &'a str,
    pub role: Role,
    pub names: &'a PackageNames,
    pub max_depth: u32,
    /// Which hyperlinks to outside the document survive (`[odf] hyperlinks`).
    pub hyperlinks: HyperlinkPolicy,
}

#[derive(Debug, Default)]
pub struct PartOutput {
    /// The rewritten part, or `None` when nothing had to change.
    pub data: Option<Vec<u8>>,
    pub actions: Vec<Action>,
    /// Package entries that only dropped elements pointed to (OLE storages, applet code).
    pub dropped_refs: Vec<String>,
    /// For a configuration part: why the configuration must go (a menu, toolbar, event or key
    /// calls a macro; a document type declaration).
    pub remove_config: Option<&'static str>,
}

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Href {
    /// Nothing, or a place inside the document (`#Bookmark`).
    Anchor,
    /// An entry or folder of the package (the resolved name: `Object 1`, `Pictures/a.png`).
    Internal(String),
    /// A path inside the package where nothing is (an office suite looks for it in the package
    /// and finds nothing; it does not go out for it).
    Missing(String),
    /// A web page or mail address.
    Web,
    /// A macro, script or command URL.
    Script,
    /// Anything else: files, network shares, other schemes, paths outside the package.
    External,
}

/// URL schemes that run something when the link is followed.
const SCRIPT_SCHEMES: &[&str] = &[
    "vnd.sun.star.script",
    "vnd.sun.star.basic",
    "vnd.sun.star.uno",
    "vnd.sun.star.cmd",
    "vnd.sun.star.job",
    "macro",
    "javascript",
    "vbscript",
    "service",
    "slot",
];

/// The URL with ASCII whitespace and control characters taken out and lower-cased: how a
/// lenient URL parser sees its scheme.
fn squeeze(v: &str) -> String {
    v.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control()).collect::<String>().to_ascii_lowercase()
}

fn scheme(v: &str) -> Option<&str> {
    let (s, _) = v.split_once(':')?;
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then_some(s)
}

/// Whether an attribute value is a URL that runs a macro, a script or an office command.
pub fn is_script_url(value: &str) -> bool {
    let v = squeeze(value);
    if v.starts_with(".uno:") {
        return true;
    }
    // Script URLs nest (a hyperlink formula, a link wrapped in another scheme): look anywhere.
    if v.contains("vnd.sun.star.script:") || v.contains("vnd.sun.star.basic:") {
        return true;
    }
    scheme(&v).map(|s| SCRIPT_SCHEMES.contains(&s)).unwrap_or(false)
}

/// A macro URL in the sense of the user interface configuration, where `.uno:` commands are the
/// normal content of menus and toolbars.
fn is_macro_url(value: &str) -> bool {
    let v = squeeze(value);
    !v.starts_with(".uno:") && is_script_url(value)
}

/// Classifies a link `href` found in a part whose relative references start at `base`.
pub fn classify(href: &str, base: &str, names: &PackageNames) -> Href {
    let v = squeeze(href);
    if v.is_empty() || v.starts_with('#') {
        return Href::Anchor;
    }
    // `.` is the document itself; in a sub-document `..` is the document that holds it (a
    // chart takes its data from there).
    if matches!(v.as_str(), "." | "./") || (!base.is_empty() && matches!(v.as_str(), ".." | "../")) {
        return Href::Anchor;
    }
    if is_script_url(href) {
        return Href::Script;
    }
    let mut path = href.trim();
    if let Some(s) = scheme(&v) {
        match s {
            "http" | "https" | "mailto" => return Href::Web,
            "vnd.sun.star.package" => path = path.split_once(':').map(|(_, p)| p).unwrap_or(""),
            _ => return Href::External,
        }
    }
    if path.starts_with('/') || path.starts_with('\\') {
        return Href::External;
    }
    let path = path.split('#').next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    let mut parts = decoded.split(['/', '\\']).filter(|s| !s.is_empty() && *s != ".").peekable();
    // A reference that starts by going up leaves the package: office suites resolve it against
    // the document's own location in the file system.
    if parts.peek() == Some(&"..") {
        return Href::External;
    }
    let mut segs: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for s in parts {
        if s == ".." {
            if segs.pop().is_none() {
                return Href::External;
            }
        } else {
            segs.push(s);
        }
    }
    if segs.is_empty() {
        return Href::External;
    }
    let name = segs.join("/");
    let dir = format!("{name}/");
    if names.files.contains(&name) || names.removed.contains(&name) {
        Href::Internal(name)
    } else if names.dirs.contains(&dir) || names.removed.contains(&dir) {
        Href::Internal(dir)
    } else {
        Href::Missing(name)
    }
}

/// Spreadsheet formulas that call DDE, fetch from the web or read another file.
pub fn formula_threat(f: &str) -> Option<ActionKind> {
    let upper = f.to_ascii_uppercase();
    let mut bare = String::with_capacity(upper.len());
    let mut in_dq = false;
    for c in upper.chars() {
        if c == '"' {
            in_dq = !in_dq;
            continue;
        }
        if !in_dq {
            bare.push(c);
        }
    }
    let bare: String = bare.chars().filter(|c| !c.is_whitespace()).collect();
    if bare.contains("DDE(") {
        return Some(ActionKind::RemovedDdeFormula);
    }
    let external_ref =
        ["'FILE:", "'HTTP:", "'HTTPS:", "'FTP:", "'SMB:", "'\\\\", "'#$"].iter().any(|p| bare.contains(p));
    let fetches = bare.contains("WEBSERVICE(");
    // INDIRECT builds a reference from text at run time; pointed at a file or a web address
    // it reads from outside like an external reference does.
    let indirect_out =
        bare.contains("INDIRECT(") && ["FILE:", "HTTP:", "HTTPS:", "FTP:", "\\\\"].iter().any(|p| upper.contains(p));
    (external_ref || fetches || indirect_out).then_some(ActionKind::RemovedExternalFormula)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Emit,
    Unwrap,
}

enum Decision<'a> {
    /// Written out (possibly changed).
    Emit(BytesStart<'a>),
    /// Left out with everything inside; `note` reports the bindings and scripts found inside.
    Drop { note: bool },
    /// The tags go, the content stays.
    Unwrap,
    /// Written as an empty element; the content goes (and is reported).
    Empty(BytesStart<'a>),
}

struct Rewriter<'p, 'b> {
    plan: &'p Plan<'p>,
    budget: &'b Budget,
    writer: Writer<Vec<u8>>,
    frames: Vec<Mode>,
    skip: usize,
    note: bool,
    /// Inside a dropped `office:script`: its language, until something in it shows it held a
    /// script (office suites write an empty library list into every flat document).
    pending_script: Option<(String, usize)>,
    changed: bool,
    out: PartOutput,
}

/// Cleans one part according to its plan. Returns new bytes only if something changed.
pub fn rewrite(data: &[u8], plan: &Plan<'_>, budget: &Budget) -> Result<PartOutput, FormatError> {
    let mut rw = Rewriter {
        plan,
        budget,
        writer: Writer::new(Vec::with_capacity(data.len())),
        frames: Vec::new(),
        skip: 0,
        note: false,
        pending_script: None,
        changed: false,
        out: PartOutput::default(),
    };
    rw.run(data)?;
    let mut out = rw.out;
    if rw.changed && plan.role == Role::Document {
        out.data = Some(rw.writer.into_inner());
    }
    Ok(out)
}

impl<'p, 'b> Rewriter<'p, 'b> {
    fn run(&mut self, data: &[u8]) -> Result<(), FormatError> {
        let part = self.plan.part;
        // OpenDocument XML is UTF-8; quick-xml does not check text, an office suite does.
        std::str::from_utf8(data).map_err(|e| xml::parse_error(part, format!("not UTF-8: {e}")))?;
        let mut first = true;
        let mut root_done = false;
        let mut reader = xml::rewrite_reader(data);
        let mut count: u64 = 0;
        loop {
            count += 1;
            if count.is_multiple_of(65_536) {
                self.budget.check_time()?;
            }
            let ev = reader.read_event().map_err(|e| xml::parse_error(part, e))?;
            let top = self.frames.is_empty() && self.skip == 0;
            match &ev {
                Event::Decl(d) => {
                    if !first {
                        return Err(xml::parse_error(part, "XML declaration not at the start"));
                    }
                    d.version().map_err(|e| xml::parse_error(part, e))?;
                    if let Some(enc) = d.encoding() {
                        let enc = enc.map_err(|e| xml::parse_error(part, e))?;
                        if !enc.eq_ignore_ascii_case(b"utf-8") {
                            return Err(xml::parse_error(part, "encoding other than UTF-8"));
                        }
                    }
                    if let Some(sa) = d.standalone() {
                        sa.map_err(|e| xml::parse_error(part, e))?;
                    }
                }
                Event::Text(t) if top && !t.iter().all(|b| b.is_ascii_whitespace()) => {
                    return Err(xml::parse_error(part, "text outside the root element"));
                }
                Event::Start(_) | Event::Empty(_) if top && root_done => {
                    return Err(xml::parse_error(part, "a second root element"));
                }
                Event::CData(_) if top => return Err(xml::parse_error(part, "text outside the root element")),
                Event::PI(pi) => {
                    let target = pi.split(|b| b.is_ascii_whitespace()).next().unwrap_or_default();
                    if !valid_name(target) || target.eq_ignore_ascii_case(b"xml") {
                        return Err(xml::parse_error(part, "bad processing instruction"));
                    }
                }
                _ => {}
            }
            first = false;
            if top && matches!(ev, Event::Empty(_)) {
                root_done = true;
            }
            if matches!(ev, Event::End(_)) && self.frames.len() + self.skip == 1 {
                root_done = true;
            }
            match ev {
                Event::Eof => break,
                Event::DocType(_) if self.plan.role == Role::Configuration => {
                    // Not parsed further and not kept: the configuration goes as a whole.
                    self.out.remove_config = Some("configuration with a document type declaration");
                    return Ok(());
                }
                Event::DocType(_) => return Err(xml::doctype_error(part)),
                Event::Start(e) => {
                    self.check_depth()?;
                    if self.skip > 0 {
                        check_tag(part, &e)?;
                        self.skip += 1;
                        self.note_skipped(&e, false);
                        continue;
                    }
                    match self.decide(&reader, e)? {
                        Decision::Emit(e) => {
                            self.emit(Event::Start(e))?;
                            self.frames.push(Mode::Emit);
                        }
                        Decision::Drop { note } => {
                            self.changed = true;
                            self.skip = 1;
                            self.note = note;
                        }
                        Decision::Unwrap => {
                            self.changed = true;
                            self.frames.push(Mode::Unwrap);
                        }
                        Decision::Empty(e) => {
                            self.changed = true;
                            self.emit(Event::Empty(e))?;
                            self.skip = 1;
                            self.note = true;
                        }
                    }
                }
                Event::Empty(e) => {
                    if self.skip > 0 {
                        check_tag(part, &e)?;
                        self.note_skipped(&e, true);
                        continue;
                    }
                    match self.decide(&reader, e)? {
                        Decision::Emit(e) | Decision::Empty(e) => self.emit(Event::Empty(e))?,
                        Decision::Drop { .. } | Decision::Unwrap => self.changed = true,
                    }
                }
                Event::End(e) => {
                    if self.skip > 0 {
                        // The end of an `office:script` that showed nothing.
                        if self.pending_script.as_ref().is_some_and(|(_, level)| *level == self.skip) {
                            self.pending_script = None;
                        }
                        self.skip -= 1;
                        if self.skip == 0 {
                            self.note = false;
                            self.pending_script = None;
                        }
                        continue;
                    }
                    match self.frames.pop() {
                        Some(Mode::Emit) => self.emit(Event::End(e))?,
                        Some(Mode::Unwrap) => {}
                        None => return Err(xml::parse_error(part, "unbalanced end tag")),
                    }
                }
                Event::Text(t) if self.skip > 0 => {
                    if self.note && !t.iter().all(|b| b.is_ascii_whitespace()) {
                        self.flush_script();
                    }
                }
                Event::CData(_) if self.skip > 0 => {
                    if self.note {
                        self.flush_script();
                    }
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
        if !root_done {
            return Err(xml::parse_error(part, "no root element"));
        }
        Ok(())
    }

    fn check_depth(&self) -> Result<(), FormatError> {
        if self.frames.len() + self.skip >= self.plan.max_depth as usize {
            return Err(xml::depth_error(self.plan.part, self.plan.max_depth));
        }
        Ok(())
    }

    fn emit(&mut self, ev: Event<'_>) -> Result<(), FormatError> {
        if self.plan.role == Role::Configuration {
            return Ok(());
        }
        self.writer.write_event(ev).map_err(|e| FormatError::new(Reason::InternalError, format!("XML write: {e}")))
    }

    fn action(&mut self, kind: ActionKind, detail: impl Into<String>) {
        let detail = detail.into();
        let part = self.plan.part.to_string();
        self.out.actions.push(if detail.is_empty() {
            Action::new(kind, part)
        } else {
            Action::with_detail(kind, part, detail)
        });
    }

    /// Reports what a dropped `office:scripts`, `table:error-macro` or listener list held.
    fn note_skipped(&mut self, e: &BytesStart<'_>, empty: bool) {
        if !self.note {
            return;
        }
        match local(e.name().as_ref()) {
            b"event-listener" => {
                let d = listener_detail(e);
                self.action(ActionKind::RemovedEventListener, d);
            }
            b"script" => {
                self.flush_script();
                if !empty {
                    self.pending_script = Some((xml::attr(e, b"language").unwrap_or_default(), self.skip));
                }
            }
            b"libraries" => {}
            b"library-embedded" | b"library-linked" => {
                self.pending_script = None;
                let name = xml::attr(e, b"name").unwrap_or_default();
                self.action(ActionKind::RemovedMacroLibrary, name);
            }
            _ => self.flush_script(),
        }
    }

    /// Reports a dropped `office:script` once it is known to have held something.
    fn flush_script(&mut self) {
        if let Some((lang, _)) = self.pending_script.take() {
            self.action(ActionKind::RemovedScript, lang);
        }
    }

    /// Whether a hyperlink to `h` goes under the policy (macro and script links always go).
    fn link_goes(&self, h: &Href) -> bool {
        match h {
            Href::Anchor | Href::Internal(_) => false,
            Href::Script => true,
            Href::Web => self.plan.hyperlinks == HyperlinkPolicy::Remove,
            Href::External | Href::Missing(_) => self.plan.hyperlinks != HyperlinkPolicy::Keep,
        }
    }

    fn href(&self, e: &BytesStart<'_>) -> (Option<String>, Href) {
        match xml::attr(e, b"href") {
            Some(h) => {
                let c = classify(&h, self.plan.base, self.plan.names);
                (Some(h), c)
            }
            None => (None, Href::Anchor),
        }
    }

    /// A picture, sound, font or object that is loaded from its `href`: kept only when it is
    /// inside the package (or inline); an entry the rebuild removed takes its reference along.
    fn fetched(&mut self, e: BytesStart<'static>, what: &str) -> Decision<'static> {
        let (raw, h) = self.href(&e);
        match h {
            Href::Anchor | Href::Missing(_) => Decision::Emit(e),
            Href::Internal(name) => {
                if self.plan.names.removed.contains(&name) {
                    Decision::Drop { note: false }
                } else {
                    Decision::Emit(e)
                }
            }
            Href::Script => {
                self.action(ActionKind::RemovedProgramAction, format!("{what} -> {}", raw.unwrap_or_default()));
                Decision::Drop { note: false }
            }
            Href::Web | Href::External => {
                self.action(ActionKind::RemovedExternalReference, format!("{what} -> {}", raw.unwrap_or_default()));
                Decision::Drop { note: false }
            }
        }
    }

    fn decide<'e>(&mut self, reader: &NsReader<&[u8]>, e: BytesStart<'e>) -> Result<Decision<'e>, FormatError> {
        let e = e.into_owned();
        // Attributes must parse (no duplicates, no broken quoting): an attribute this cleaner
        // skipped over could be read by an office suite.
        check_tag(self.plan.part, &e)?;
        let qname = e.name();
        let name = local(qname.as_ref()).to_vec();
        if self.plan.role == Role::Configuration {
            if e.attributes().with_checks(false).flatten().any(|a| is_macro_url(&value(&a))) {
                self.out.remove_config = Some("menus, toolbars or keys that call macros");
            }
            return Ok(Decision::Emit(e));
        }
        let parent_unwrapped = self.frames.last() == Some(&Mode::Unwrap);
        let mut href_done = false;
        match name.as_slice() {
            b"event-listener" => {
                let (ns, _) = reader.resolve_element(e.name());
                let presentation = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == PRESENTATION_NS);
                let action = xml::attr(&e, b"action").unwrap_or_default();
                let (_, h) = self.href(&e);
                let runs = !presentation || matches!(action.as_str(), "execute" | "verb") || h == Href::Script;
                if runs {
                    self.action(ActionKind::RemovedEventListener, listener_detail(&e));
                    return Ok(Decision::Drop { note: false });
                }
                if self.link_goes(&h) {
                    self.action(ActionKind::RemovedExternalReference, listener_detail(&e));
                    return Ok(Decision::Drop { note: false });
                }
                href_done = true;
            }
            b"event-listeners" if parent_unwrapped => return Ok(Decision::Drop { note: true }),
            b"scripts" => return Ok(Decision::Empty(e)),
            b"script" => {
                let lang = xml::attr(&e, b"language").unwrap_or_default();
                self.action(ActionKind::RemovedScript, lang);
                return Ok(Decision::Drop { note: false });
            }
            b"error-macro" => {
                self.action(ActionKind::RemovedEventListener, "validity error macro");
                return Ok(Decision::Drop { note: false });
            }
            b"execute-macro" => {
                let n = xml::attr(&e, b"name").unwrap_or_default();
                self.action(ActionKind::RemovedProgramAction, format!("macro field {n}"));
                return Ok(Decision::Unwrap);
            }
            b"object-ole" => {
                let (raw, h) = self.href(&e);
                if let Href::Internal(n) = h {
                    self.out.dropped_refs.push(n);
                }
                self.action(ActionKind::RemovedOleObject, raw.unwrap_or_else(|| "inline OLE object".into()));
                return Ok(Decision::Drop { note: false });
            }
            b"applet" => {
                let code = xml::attr(&e, b"code").unwrap_or_default();
                let (_, h) = self.href(&e);
                if let Href::Internal(n) = h {
                    self.out.dropped_refs.push(n);
                }
                self.action(ActionKind::RemovedOleObject, format!("Java applet {code}"));
                return Ok(Decision::Drop { note: false });
            }
            b"plugin" => {
                let mime = xml::attr(&e, b"mime-type").unwrap_or_default();
                if mime != "application/vnd.sun.star.media" {
                    let (_, h) = self.href(&e);
                    if let Href::Internal(n) = h {
                        self.out.dropped_refs.push(n);
                    }
                    self.action(ActionKind::RemovedOleObject, format!("plug-in {mime}"));
                    return Ok(Decision::Drop { note: false });
                }
                let d = self.fetched(e, "media");
                return self.checked(d);
            }
            b"object" => {
                let (raw, h) = self.href(&e);
                match h {
                    Href::Anchor | Href::Missing(_) => {}
                    Href::Internal(n) if self.plan.names.subdocs.contains(&format!("{}/", n.trim_end_matches('/'))) => {
                    }
                    Href::Internal(n) => {
                        // Not an ODF sub-document: an OLE storage under another element name.
                        if !self.plan.names.removed.contains(&n) {
                            self.action(ActionKind::RemovedOleObject, raw.unwrap_or_default());
                        }
                        self.out.dropped_refs.push(n);
                        return Ok(Decision::Drop { note: false });
                    }
                    Href::Script => {
                        self.action(ActionKind::RemovedProgramAction, format!("object -> {}", raw.unwrap_or_default()));
                        return Ok(Decision::Drop { note: false });
                    }
                    Href::Web | Href::External => {
                        self.action(
                            ActionKind::RemovedExternalReference,
                            format!("linked object -> {}", raw.unwrap_or_default()),
                        );
                        return Ok(Decision::Drop { note: false });
                    }
                }
                href_done = true;
            }
            b"image" | b"sound" | b"audio" | b"font-face-uri" | b"floating-frame" => {
                let what = String::from_utf8_lossy(&name).into_owned();
                let d = self.fetched(e, &what);
                return self.checked(d);
            }
            b"background-image" | b"fill-image" | b"list-level-style-image" | b"definition-src" | b"marker" => {
                // Styles: the element stays (other styles name it), only a reference to outside goes.
                let (raw, h) = self.href(&e);
                let kind = match h {
                    Href::Script => Some(ActionKind::RemovedProgramAction),
                    Href::Web | Href::External => Some(ActionKind::RemovedExternalReference),
                    Href::Internal(n) if self.plan.names.removed.contains(&n) => None,
                    _ => {
                        href_done = true;
                        None
                    }
                };
                if !href_done {
                    if let Some(k) = kind {
                        let what = String::from_utf8_lossy(&name).into_owned();
                        self.action(k, format!("{what} -> {}", raw.unwrap_or_default()));
                    }
                    self.changed = true;
                    let e = without(&e, |a| local(a.key.as_ref()) == b"href");
                    return self.checked(Decision::Emit(e));
                }
            }
            b"section-source" | b"table-source" | b"cell-range-source" => {
                let (raw, h) = self.href(&e);
                if h != Href::Anchor {
                    let what = String::from_utf8_lossy(&name).into_owned();
                    self.action(ActionKind::RemovedExternalReference, format!("{what} -> {}", raw.unwrap_or_default()));
                    return Ok(Decision::Drop { note: false });
                }
                href_done = true;
            }
            b"dde-connection-decls" | b"dde-links" | b"dde-source" | b"dde-connection-decl" | b"dde-link" => {
                let detail = xml::attr(&e, b"dde-application")
                    .map(|a| format!("{a} {}", xml::attr(&e, b"dde-topic").unwrap_or_default()))
                    .unwrap_or_else(|| String::from_utf8_lossy(&name).into_owned());
                self.action(ActionKind::RemovedDdeLink, detail);
                return Ok(Decision::Drop { note: false });
            }
            b"dde-connection" => {
                let n = xml::attr(&e, b"connection-name").unwrap_or_default();
                self.action(ActionKind::RemovedDdeField, n);
                return Ok(Decision::Unwrap);
            }
            b"a" => {
                let (raw, h) = self.href(&e);
                match h {
                    Href::Script => {
                        self.action(ActionKind::RemovedProgramAction, raw.unwrap_or_default());
                        return Ok(Decision::Unwrap);
                    }
                    _ if self.link_goes(&h) => {
                        self.action(
                            ActionKind::RemovedExternalReference,
                            format!("link -> {}", raw.unwrap_or_default()),
                        );
                        return Ok(Decision::Unwrap);
                    }
                    _ => href_done = true,
                }
            }
            b"submission" => {
                let a = xml::attr(&e, b"action").unwrap_or_default();
                self.action(ActionKind::RemovedDangerousAction, format!("form submission -> {a}"));
                return Ok(Decision::Drop { note: false });
            }
            b"connection-resource" | b"database-source-sql" | b"database-source-table" | b"database-source-query" => {
                let what = String::from_utf8_lossy(&name).into_owned();
                self.action(ActionKind::RemovedDataConnection, what);
                return Ok(Decision::Drop { note: false });
            }
            b"template" => {
                let (raw, h) = self.href(&e);
                if !matches!(h, Href::Anchor | Href::Internal(_)) {
                    self.action(ActionKind::RemovedAttachedTemplate, raw.unwrap_or_default());
                    return Ok(Decision::Drop { note: false });
                }
                href_done = true;
            }
            b"auto-reload" => {
                let (raw, h) = self.href(&e);
                if h != Href::Anchor {
                    self.action(ActionKind::RemovedAutoAction, format!("auto-reload -> {}", raw.unwrap_or_default()));
                    return Ok(Decision::Drop { note: false });
                }
                href_done = true;
            }
            b"named-expression" | b"named-range" => {
                for key in [&b"expression"[..], b"cell-range-address", b"base-cell-address"] {
                    if let Some(k) = xml::attr(&e, key).as_deref().and_then(formula_threat) {
                        let n = xml::attr(&e, b"name").unwrap_or_default();
                        self.action(k, format!("named expression {n}"));
                        return Ok(Decision::Drop { note: false });
                    }
                }
            }
            b"form" => {
                let (raw, h) = self.href(&e);
                let submits = h != Href::Anchor;
                let datasource = xml::attr(&e, b"datasource").is_some();
                if submits {
                    self.action(
                        ActionKind::RemovedDangerousAction,
                        format!("form submits to {}", raw.unwrap_or_default()),
                    );
                }
                if datasource {
                    self.action(ActionKind::RemovedDataConnection, "form data source");
                }
                if submits || datasource {
                    self.changed = true;
                    let e = without(&e, |a| matches!(local(a.key.as_ref()), b"href" | b"datasource"));
                    return self.checked(Decision::Emit(e));
                }
                href_done = true;
            }
            _ => {}
        }
        self.checked_attrs(e, href_done)
    }

    /// Runs the attribute checks on an element a rule decided to keep.
    fn checked<'e>(&mut self, d: Decision<'e>) -> Result<Decision<'e>, FormatError> {
        match d {
            Decision::Emit(e) => self.checked_attrs(e, true),
            other => Ok(other),
        }
    }

    /// The checks every kept element goes through: script URLs in any attribute, form
    /// submissions, spreadsheet formulas, and (unless a rule already judged it) the `href` as a
    /// hyperlink.
    fn checked_attrs<'e>(&mut self, e: BytesStart<'e>, href_done: bool) -> Result<Decision<'e>, FormatError> {
        let mut drop_keys: Vec<Vec<u8>> = Vec::new();
        for a in e.attributes().with_checks(false).flatten() {
            let key = a.key.as_ref();
            let v = value(&a);
            let qn = String::from_utf8_lossy(key).into_owned();
            match local(key) {
                _ if is_script_url(&v) => {
                    self.action(ActionKind::RemovedProgramAction, format!("{qn}={v}"));
                    drop_keys.push(key.to_vec());
                }
                // Only a presentation event listener has an action; one that runs a program or
                // an OLE verb is never kept, whatever element carries it.
                b"action" if matches!(v.as_str(), "execute" | "verb") => {
                    self.action(ActionKind::RemovedProgramAction, format!("{qn}={v}"));
                    drop_keys.push(key.to_vec());
                }
                b"xforms-submission" => {
                    self.action(ActionKind::RemovedDangerousAction, format!("{qn}={v}"));
                    drop_keys.push(key.to_vec());
                }
                b"formula" => {
                    if let Some(k) = formula_threat(&v) {
                        self.action(k, v.clone());
                        drop_keys.push(key.to_vec());
                    }
                }
                b"href" if !href_done && self.link_goes(&classify(&v, self.plan.base, self.plan.names)) => {
                    self.action(ActionKind::RemovedExternalReference, format!("{qn}={v}"));
                    drop_keys.push(key.to_vec());
                }
                _ => {}
            }
        }
        if drop_keys.is_empty() {
            return Ok(Decision::Emit(e));
        }
        self.changed = true;
        Ok(Decision::Emit(without(&e, |a| drop_keys.iter().any(|k| k.as_slice() == a.key.as_ref()))))
    }
}

fn value(a: &Attribute<'_>) -> String {
    match a.unescape_value() {
        Ok(v) => v.into_owned(),
        Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
    }
}

fn listener_detail(e: &BytesStart<'_>) -> String {
    let event = xml::attr(e, b"event-name").unwrap_or_default();
    let target = xml::attr(e, b"href")
        .or_else(|| xml::attr(e, b"macro-name"))
        .or_else(|| xml::attr(e, b"action"))
        .unwrap_or_default();
    format!("{event} -> {target}")
}

fn without<'a>(e: &BytesStart<'a>, mut drop: impl FnMut(&Attribute<'_>) -> bool) -> BytesStart<'a> {
    let mut out = BytesStart::new(String::from_utf8_lossy(e.name().as_ref()).into_owned());
    for a in e.attributes().with_checks(false).flatten() {
        if !drop(&a) {
            out.push_attribute(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn names() -> PackageNames {
        let mut n = PackageNames::default();
        for f in ["content.xml", "Pictures/a.png", "Object 1/content.xml", "ObjectReplacements/Object 1"] {
            n.add_file(f);
        }
        n.removed.insert("Object 2".into());
        n.subdocs.insert("Object 1/".into());
        n
    }

    fn run(xml: &str) -> PartOutput {
        let n = names();
        let plan = Plan {
            part: "content.xml",
            base: "",
            role: Role::Document,
            names: &n,
            max_depth: 64,
            hyperlinks: HyperlinkPolicy::Web,
        };
        rewrite(xml.as_bytes(), &plan, &Budget::new(&Config::default().limits)).unwrap()
    }

    const NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:p="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0""#;

    #[test]
    fn links_are_classified() {
        let n = names();
        assert_eq!(classify("#Top", "", &n), Href::Anchor);
        assert_eq!(classify("https://example.com/", "", &n), Href::Web);
        assert_eq!(classify(" java\tscript:alert(1)", "", &n), Href::Script);
        assert_eq!(classify("vnd.sun.star.script:Standard.M.Main?location=document", "", &n), Href::Script);
        assert_eq!(classify(".uno:Open", "", &n), Href::Script);
        assert_eq!(classify("./Object 1", "", &n), Href::Internal("Object 1/".into()));
        assert_eq!(classify("./Object%202", "", &n), Href::Internal("Object 2".into()));
        assert_eq!(
            classify("./ObjectReplacements/Object 1", "Object 1/", &n),
            Href::Missing("Object 1/ObjectReplacements/Object 1".into())
        );
        assert_eq!(classify("../Pictures/a.png", "Object 1/", &n), Href::External);
        assert_eq!(classify("..", "Object 1/", &n), Href::Anchor);
        assert_eq!(classify("..", "", &n), Href::External);
        assert_eq!(classify(".", "", &n), Href::Anchor);
        assert_eq!(classify("Pictures/../../a.png", "", &n), Href::External);
        assert_eq!(classify("../x.odt", "", &n), Href::External);
        assert_eq!(classify("Pictures/missing.png", "", &n), Href::Missing("Pictures/missing.png".into()));
        assert_eq!(classify("\\\\server\\share", "", &n), Href::External);
        assert_eq!(classify("C:\\x.exe", "", &n), Href::External);
        assert_eq!(classify("file:///etc/passwd", "", &n), Href::External);
    }

    #[test]
    fn formulas_are_classified() {
        assert_eq!(formula_threat("of:=SUM([.A1:.A3])"), None);
        assert_eq!(formula_threat("of:=\"DDE(\"&[.A1]"), None);
        assert_eq!(formula_threat("of:=DDE(\"soffice\";\"x\";\"A1\")"), Some(ActionKind::RemovedDdeFormula));
        assert_eq!(formula_threat("of:=['file:///x.ods'#$Sheet1.A1]"), Some(ActionKind::RemovedExternalFormula));
        assert_eq!(formula_threat("of:=WEBSERVICE(\"http://x\")"), Some(ActionKind::RemovedExternalFormula));
        assert_eq!(
            formula_threat("of:=INDIRECT(\"'file:///etc/passwd'#$Sheet1.A1\")"),
            Some(ActionKind::RemovedExternalFormula)
        );
        assert_eq!(formula_threat("of:=INDIRECT(\"B\"&[.A1])"), None);
    }

    #[test]
    fn a_script_listener_goes_even_when_it_looks_like_a_presentation_one() {
        let doc = format!(
            r#"<office:document-content {NS}><office:body><draw:rect><office:event-listeners><script:event-listener presentation:action="next-page" script:event-name="dom:click" xlink:href="macro:///x"/><p:event-listener script:event-name="dom:click" p:action="previous-page"/></office:event-listeners></draw:rect></office:body></office:document-content>"#
        );
        let o = run(&doc);
        let t = String::from_utf8(o.data.unwrap()).unwrap();
        assert!(!t.contains("script:event-listener") && t.contains("p:event-listener"), "{t}");
        assert_eq!(o.actions[0].action, ActionKind::RemovedEventListener);
    }

    #[test]
    fn objects_stay_only_as_sub_documents() {
        let doc = format!(
            r#"<office:document-content {NS}><office:body><draw:frame><draw:object xlink:href="./Object 1"/><draw:image xlink:href="./ObjectReplacements/Object 1"/></draw:frame><draw:frame><draw:object xlink:href="./Object 2"/></draw:frame><draw:frame><draw:object xlink:href="http://x/y.odt"/></draw:frame></office:body></office:document-content>"#
        );
        let o = run(&doc);
        let t = String::from_utf8(o.data.unwrap()).unwrap();
        assert!(
            t.contains("./Object 1\"")
                && t.contains("ObjectReplacements")
                && !t.contains("Object 2")
                && !t.contains("y.odt"),
            "{t}"
        );
        assert!(o.dropped_refs.contains(&"Object 2".to_string()));
    }

    #[test]
    fn markup_an_office_suite_would_read_differently_is_refused() {
        let n = names();
        let plan = Plan {
            part: "p.xml",
            base: "",
            role: Role::Document,
            names: &n,
            max_depth: 64,
            hyperlinks: HyperlinkPolicy::Web,
        };
        let b = Budget::new(&Config::default().limits);
        for bad in [
            "<a x=\"1\" x=\"2\"/>",
            "<a x<y=\"1\"/>",
            "<a x=\"<b>\"/>",
            "text<a/>",
            "<a/><b/>",
            "<?<x?><a/>",
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>",
            "<a>\u{fffd}</a>\u{0}",
        ] {
            assert!(rewrite(bad.as_bytes(), &plan, &b).is_err(), "{bad}");
        }
        assert!(rewrite(b"<a>\xff</a>", &plan, &b).is_err());
        assert!(rewrite(b"", &plan, &b).is_err());
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let n = PackageNames::default();
        let plan = Plan {
            part: "p.xml",
            base: "",
            role: Role::Document,
            names: &n,
            max_depth: 64,
            hyperlinks: HyperlinkPolicy::Web,
        };
        let b = Budget::new(&Config::default().limits);
        let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><b/></a>\n";
        assert!(rewrite(doc.as_bytes(), &plan, &b).is_ok());
    }
}
