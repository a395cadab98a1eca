//! RTF: disarm by tokenizing the file and writing back the tokens that are kept.
//!
//! The bytes are split into tokens by the `token` module (groups, control words with their
//! parameter and delimiting space, control symbols, `\'hh`, `\binN` raw runs, `\uN`, text). A
//! first pass follows the group structure and decides, for each group, whether it stays, goes, or is
//! replaced by the result it shows; a second pass writes every kept token back with its exact
//! bytes, so text, formatting, pictures and Japanese text (`\'hh` in code page 932, `\uN` with
//! its fallback) come out unchanged. What goes:
//!
//! - embedded and linked objects (`\object` groups with `\objdata`, `\objclass`, `\objemb`,
//!   `\objlink`, `\objautlink`, `\objupdate`, `\objocx` ...): replaced by their `\result` (the
//!   picture or text they show); `\objdata` and the other object destinations wherever they
//!   appear, and stray `\obj...` control words;
//! - `\*\datastore` (binary data Word loads into the document's storage) and `\*\template`
//!   (an attached template, possibly remote: an injection route);
//! - field instructions that run or fetch something (DDE, DDEAUTO, INCLUDETEXT,
//!   INCLUDEPICTURE, LINK, IMPORT, MACROBUTTON, DATABASE, codes built from nested fields),
//!   classified as Word fields in OOXML are (the same code, with the stricter readings below):
//!   the field becomes a plain group holding its `\fldrslt`; HYPERLINK fields follow
//!   `[ooxml] hyperlinks`; form field entry and exit macros (`\*\ffentrymcr`, `\*\ffexitmcr`);
//! - shape pictures linked from a URL or a network share (`pibName` and the like), subdocument
//!   references (`\subdocumentN`);
//! - `\binN` raw data outside a picture, where no reader shows it;
//! - anything after the document's closing brace (only line breaks, spaces and NUL padding
//!   there are not reported; the NULs are dropped).
//!
//! A group is judged by every control word directly in it, not only its first one, since Word
//! switches destination wherever such a word stands (`{\b \objdata ...}` is object data too).
//! Control words are compared without regard to case. Where a damaged file could be read two
//! ways, the reading that removes more wins: a field code is read both as Word reads it and as a
//! reader that ignores `\uN` (showing its fallback) and reads `\*` groups too would; DDE counts
//! as any word of the code; a HYPERLINK naming a share anywhere is not a web link; a code that
//! loses a removed group, or has text before its instruction word, is not judged safe; and a
//! linked picture value goes wherever it stands after its property name.
//!
//! Refused (blocked): a file that does not start with `{\rt`; the constructs the tokenizer
//! refuses (see the `token` module: unterminated or negative `\bin`, cut or ambiguous `\'` escapes,
//! over-long words and parameters); groups nested deeper than `[limits] max_nesting`
//! (`limit_nesting`); an object, field or removed destination directly in the document's own
//! group, which would take the whole document with it (`unsupported`). Groups left open at the
//! end of the file are closed (readers close them anyway). An extra closing brace ends the
//! document where it stands, as in Word; what follows is dropped and reported.
//!
//! The rebuilt file is tokenized and judged once more: if anything would still be removed, the
//! item is blocked (a bug is a block, never a pass).

pub mod token;

use crate::config::HyperlinkPolicy;
use crate::engine::Budget;
use crate::formats::ooxml::fields::{classify, FieldClass};
use crate::formats::{Context, Disarmed, FormatError};
use crate::model::{Action, ActionKind, Kind, Reason};
use std::collections::{BTreeMap, HashMap};
use token::{Kind as T, Tok, Tokenizer};

/// Longest field code (or object class, template path, shape property) collected for judging;
/// a longer field code is treated as dangerous.
const MAX_CODE: usize = 64 * 1024;
/// Tokens between two checks of the time budget.
const TIME_CHECK_EVERY: u32 = 1 << 14;

/// Destination words whose group is object data (or part of an object's description).
const OBJECT_DESTS: [&[u8]; 8] =
    [b"objdata", b"objclass", b"objname", b"objalias", b"objsect", b"objtopic", b"objitem", b"oleclsid"];

/// Shape properties that name a linked picture.
fn linked_picture_property(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    n == "pibname" || n.ends_with("blipname")
}

/// A value that points outside the document: a URL or a network share.
fn external_target(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    v.contains("://") || v.starts_with("\\\\") || v.starts_with("//") || v.starts_with("file:")
}

/// Settings for one rebuild.
#[derive(Clone, Copy)]
struct Options {
    max_nesting: u32,
    hyperlinks: HyperlinkPolicy,
}

/// Disarms an RTF document.
pub fn disarm(data: &[u8], ctx: &Context<'_>) -> Result<Disarmed, FormatError> {
    let opts = Options { max_nesting: ctx.budget.limits().max_nesting, hyperlinks: ctx.config.ooxml.hyperlinks };
    let first = rebuild(data, opts, ctx.budget)?;
    ctx.budget.charge_bytes(first.data.len() as u64)?;
    let again = rebuild(&first.data, opts, ctx.budget).map_err(|e| match e.reason {
        Reason::Timeout | Reason::LimitTotalBytes => e,
        _ => FormatError::new(Reason::InternalError, format!("the rebuilt RTF does not parse: {}", e.detail)),
    })?;
    if let Some(a) = again.actions.first() {
        return Err(FormatError::new(
            Reason::InternalError,
            format!(
                "the rebuilt RTF still holds something to remove: {:?} {}",
                a.action,
                a.detail.as_deref().unwrap_or("")
            ),
        ));
    }
    if again.data != first.data {
        return Err(FormatError::new(Reason::InternalError, "the rebuilt RTF changes when rebuilt again"));
    }
    Ok(Disarmed { name: None, data: first.data, kind: Kind::Rtf, actions: first.actions })
}

#[derive(Debug)]
struct Rebuilt {
    data: Vec<u8>,
    actions: Vec<Action>,
}

fn rebuild(data: &[u8], opts: Options, budget: &Budget) -> Result<Rebuilt, FormatError> {
    if !data.starts_with(b"{\\rt") {
        return Err(FormatError::malformed("an RTF file starts with {\\rt"));
    }
    let analysis = analyze(data, opts, budget)?;
    emit(data, &analysis, budget)
}

/// A control word name in lower case. Word's own words are lower case, but whether every
/// reader matches them that strictly is not something to rely on: `\OBJDATA` is judged as
/// `\objdata`. Names are at most [`token::MAX_NAME`] letters (the tokenizer refuses longer).
fn lower<'b>(name: &[u8], buf: &'b mut [u8; token::MAX_NAME]) -> &'b [u8] {
    let n = name.len().min(buf.len());
    let out = &mut buf[..n];
    out.copy_from_slice(&name[..n]);
    out.make_ascii_lowercase();
    out
}

// ----------------------------------------------------------------------------------------------
// Pass 1: what becomes of each group

/// What happens to a group that does not simply stay.
#[derive(Debug, Clone)]
enum Decision {
    /// The group and everything in it goes.
    Drop(ActionKind, String),
    /// The group's braces and direct content go; direct child groups marked [`Decision::Inner`]
    /// stay, as plain groups.
    Unwrap(ActionKind, String),
    /// A `\result` or `\fldrslt` group of an unwrapped group: it stays without its own word.
    Inner,
}

struct Analysis {
    /// Decisions by the offset of the group's opening brace, in file order (the writer meets
    /// the groups in the same order and walks this list alongside).
    decisions: Vec<(usize, Decision)>,
    /// Where the document's own group ends (after its closing brace), if it does.
    root_end: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextRole {
    FldInst,
    ObjClass,
    Template,
    Sn,
    Sv,
}

/// Field code text as Word reads it (`\uN` shown, its fallback skipped, `\*` groups skipped)
/// and as a reader that ignores `\uN` and reads every group does (fallback and `\*` group text
/// shown). A field is judged by both.
#[derive(Default)]
struct Code {
    word: String,
    fallback: String,
    overflow: bool,
    /// A group inside the code is removed: the code left in the output is not the code that
    /// was read, so it cannot be judged safe.
    tainted: bool,
}

impl Code {
    fn push(&mut self, word: Option<char>, fallback: Option<char>) {
        if self.word.len() >= MAX_CODE || self.fallback.len() >= MAX_CODE {
            self.overflow = true;
            return;
        }
        self.word.extend(word);
        self.fallback.extend(fallback);
    }
}

struct Frame1 {
    open: usize,
    started: bool,
    ignorable: bool,
    object: bool,
    field: bool,
    fldinst: bool,
    fldrslt: bool,
    result: bool,
    risky: Option<(ActionKind, &'static str)>,
    role: Option<TextRole>,
    /// Stack index of the group collecting this group's text (itself when it has a role).
    collector: Option<usize>,
    /// The code started with a nested field: the instruction is built when the field updates.
    dynamic: bool,
    /// Text or a group came directly in this group (before its destination word, if any).
    had_content: bool,
    /// Inside a `\*` group below the collecting group: Word does not read this text as code.
    hidden: bool,
    /// A `\sv` here follows a property name that names a linked picture.
    sv_linked: bool,
    /// [`Analyzer::kept_name_linked`] and [`Analyzer::linked_names`] when this group opened:
    /// what the first is again once the group is removed.
    kept_linked_at_open: bool,
    linked_names_at_open: u64,
    uc: i64,
    skip: i64,
    /// What only some groups need, allocated when first used: most groups are plain, and a
    /// file of millions of them must not pay for it.
    x: Option<Box<Extra>>,
}

#[derive(Default)]
struct Extra {
    code: Code,
    /// The worst class among this field's instructions, with the code for the report.
    child_class: Option<(FieldClass, String)>,
    /// Direct `\result` / `\fldrslt` groups, by the offset of their opening brace.
    kids: Vec<usize>,
    objclass: String,
}

impl Frame1 {
    fn x(&mut self) -> &mut Extra {
        self.x.get_or_insert_with(Box::default)
    }
}

impl Frame1 {
    fn new(
        open: usize,
        parent: Option<(usize, &Frame1)>,
        kept_linked_at_open: bool,
        linked_names_at_open: u64,
    ) -> Self {
        let collector = parent.and_then(|(i, p)| if p.role.is_some() { Some(i) } else { p.collector });
        Frame1 {
            open,
            started: false,
            ignorable: false,
            object: false,
            field: false,
            fldinst: false,
            fldrslt: false,
            result: false,
            risky: None,
            role: None,
            collector,
            dynamic: false,
            had_content: false,
            hidden: parent.is_some_and(|(_, p)| p.role.is_none() && p.hidden),
            sv_linked: false,
            kept_linked_at_open,
            linked_names_at_open,
            uc: parent.map(|(_, p)| p.uc).unwrap_or(1),
            skip: 0,
            x: None,
        }
    }
}

fn severity(c: FieldClass) -> u8 {
    match c {
        FieldClass::Safe => 0,
        FieldClass::ExternalLink => 1,
        FieldClass::Dangerous => 2,
        FieldClass::Dde => 3,
    }
}

fn field_action(c: FieldClass) -> ActionKind {
    match c {
        FieldClass::Dde => ActionKind::RemovedDdeField,
        FieldClass::ExternalLink => ActionKind::RemovedExternalReference,
        FieldClass::Dangerous | FieldClass::Safe => ActionKind::RemovedDangerousField,
    }
}

fn short(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.chars().take(120).collect()
}

struct Analyzer<'b> {
    stack: Vec<Frame1>,
    /// The last shape property name read names a linked picture.
    last_name_linked: bool,
    /// The same for the names the rebuilt file keeps: a name inside a removed group is not
    /// read there, and the value after it pairs with the name before (which the second pass
    /// over the rebuilt file sees). A value pairs with a linked name in either reading.
    kept_name_linked: bool,
    /// Linked picture names read so far.
    linked_names: u64,
    decisions: HashMap<usize, Decision>,
    opts: Options,
    budget: &'b Budget,
}

impl Analyzer<'_> {
    fn decide(&mut self, at: usize, d: Decision) -> Result<(), FormatError> {
        let cost = 64
            + match &d {
                Decision::Drop(_, s) | Decision::Unwrap(_, s) => s.len() as u64,
                Decision::Inner => 0,
            };
        self.budget.charge_bytes(cost)?;
        self.decisions.entry(at).or_insert(d);
        Ok(())
    }

    /// Adds characters to the field code (or name) being collected, if any.
    fn text(&mut self, word: Option<char>, fallback: Option<char>) {
        let Some(top) = self.stack.last_mut() else { return };
        let word = if top.skip > 0 {
            top.skip -= 1;
            None
        } else if top.hidden {
            None
        } else {
            word
        };
        if let Some(c) = top.collector {
            if let Some(f) = self.stack.get_mut(c) {
                f.x().code.push(word, fallback);
            }
        }
    }

    fn significant(&mut self) {
        if let Some(top) = self.stack.last_mut() {
            top.started = true;
            top.had_content = true;
        }
    }

    fn word(&mut self, t: &Tok<'_>) {
        let depth = self.stack.len();
        let mut buf = [0u8; token::MAX_NAME];
        let name = lower(t.name, &mut buf);
        // A value may also stand inside the group of its name, before that name is complete.
        let sv_linked = name == b"sv"
            && (self.last_name_linked
                || self.kept_name_linked
                || self.stack.iter().any(|f| {
                    f.role == Some(TextRole::Sn)
                        && f.x.as_ref().is_some_and(|x| {
                            x.code.tainted || x.code.word.split_whitespace().next().is_some_and(linked_picture_property)
                        })
                }));
        let Some(top) = self.stack.last_mut() else { return };
        let first = !top.started;
        top.started = true;
        let mut role = None;
        match name {
            b"object" => top.object = true,
            b"field" => {
                top.field = true;
                // A field whose code is still empty when a nested field starts: the code is
                // built when the outer field updates.
                if let Some(c) = top.collector.filter(|c| *c + 1 < depth) {
                    if let Some(f) = self.stack.get_mut(c) {
                        if f.x
                            .as_ref()
                            .is_none_or(|x| x.code.word.trim().is_empty() && x.code.fallback.trim().is_empty())
                        {
                            f.dynamic = true;
                        }
                    }
                }
                return;
            }
            b"fldinst" if !top.fldinst => {
                // The instruction starts here: what the group held before went to the previous
                // destination. Writers put nothing there; if something is, the code cannot be
                // told for sure and is not judged safe.
                top.fldinst = true;
                top.role = Some(TextRole::FldInst);
                top.collector = Some(depth - 1);
                top.hidden = false;
                top.dynamic = false;
                let had_content = top.had_content;
                let code = &mut top.x().code;
                *code = Code::default();
                code.tainted = had_content;
            }
            // A second instruction word in the same group: readers may start the code again
            // there or go on; either way it is not judged safe.
            b"fldinst" => top.x().code.tainted = true,
            b"fldrslt" => top.fldrslt = true,
            b"result" => top.result = true,
            b"sn" => role = Some(TextRole::Sn),
            b"sv" => {
                role = Some(TextRole::Sv);
                // The value belongs to the name read last before it, whatever comes inside.
                top.sv_linked = sv_linked;
            }
            b"datastore" => {
                top.risky.get_or_insert((ActionKind::RemovedDataStore, "\\*\\datastore"));
            }
            b"template" => {
                top.risky.get_or_insert((ActionKind::RemovedAttachedTemplate, "\\*\\template"));
                role = Some(TextRole::Template);
            }
            b"ffentrymcr" | b"ffexitmcr" => {
                top.risky.get_or_insert((ActionKind::RemovedDangerousField, "form field macro"));
            }
            b"uc" => {
                top.uc = t.param.unwrap_or(1).clamp(0, 1 << 16);
                return;
            }
            b"u" => {
                let v = t.param.unwrap_or(0);
                let v = if v < 0 { v + 65536 } else { v };
                let c = u32::try_from(v).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
                let skip = top.uc;
                let c = if top.hidden { None } else { Some(c) };
                top.had_content = true;
                if let Some(ci) = top.collector {
                    if let Some(f) = self.stack.get_mut(ci) {
                        f.x().code.push(c, None);
                    }
                }
                if let Some(top) = self.stack.last_mut() {
                    top.skip = skip;
                }
                return;
            }
            b"par" | b"line" | b"tab" | b"cell" | b"row" | b"sect" | b"page" => {
                self.text(Some(' '), Some(' '));
                return;
            }
            _ => {}
        }
        if OBJECT_DESTS.contains(&name) || (first && name != b"object" && name.starts_with(b"obj")) {
            top.risky.get_or_insert((ActionKind::RemovedOleObject, "object data"));
            if name == b"objclass" {
                role = Some(TextRole::ObjClass);
            }
        }
        if let Some(r) = role {
            if top.role.is_none() {
                top.role = Some(r);
                top.collector = Some(depth - 1);
                top.hidden = false;
            }
        }
        if top.skip > 0 {
            top.skip -= 1;
        }
    }

    fn symbol(&mut self, b: u8) {
        let Some(top) = self.stack.last_mut() else { return };
        if b == b'*' {
            if !top.started {
                top.ignorable = true;
                if top.role.is_none() {
                    top.hidden = true;
                }
            }
            return;
        }
        top.started = true;
        match b {
            b'\\' | b'{' | b'}' => self.text(Some(b as char), Some(b as char)),
            b'~' => self.text(Some(' '), Some(' ')),
            b'_' | b'-' => self.text(Some('-'), Some('-')),
            _ => {
                if top.skip > 0 {
                    top.skip -= 1;
                }
            }
        }
    }

    fn open(&mut self, at: usize) -> Result<(), FormatError> {
        if self.stack.len() >= self.opts.max_nesting as usize {
            return Err(FormatError::new(
                Reason::LimitNesting,
                format!("RTF groups nested deeper than {}", self.opts.max_nesting),
            ));
        }
        self.significant();
        let parent = self.stack.len().checked_sub(1).and_then(|i| self.stack.get(i).map(|f| (i, f)));
        let f = Frame1::new(at, parent, self.kept_name_linked, self.linked_names);
        self.stack.push(f);
        Ok(())
    }

    /// Closes the innermost group and decides what becomes of it.
    fn close(&mut self) -> Result<(), FormatError> {
        let Some(mut f) = self.stack.pop() else { return Ok(()) };
        let x = f.x.take().map(|b| *b).unwrap_or_default();
        // A shape property value is paired with the name read last, wherever the two groups
        // stand (a damaged shape must not hide the pair from this check but not from a reader).
        // A name or value that lost a removed group reads differently in the rebuilt file: it
        // counts as a linked picture's name, or an external target.
        let linked_value = match f.role {
            Some(TextRole::Sn) => {
                let words: Vec<&str> = x.code.word.split_whitespace().collect();
                self.last_name_linked = x.code.tainted || words.first().is_some_and(|w| linked_picture_property(w));
                self.kept_name_linked = self.last_name_linked;
                self.linked_names += u64::from(self.last_name_linked);
                // A name and value run together in one group.
                self.last_name_linked && words.iter().skip(1).any(|w| external_target(w))
            }
            Some(TextRole::Sv) => f.sv_linked && (x.code.tainted || external_target(&x.code.word)),
            _ => false,
        };
        let class = f.fldinst.then(|| self.classify(&x.code, f.dynamic));
        let parent_is_field = self.stack.last().is_some_and(|p| p.field);
        let decided = self.decisions.len();
        if let Some((action, what)) = f.risky {
            let detail = match f.role {
                Some(TextRole::Template) | Some(TextRole::ObjClass) => format!("{what} {}", short(&x.code.word)),
                _ => what.to_string(),
            };
            self.decide(f.open, Decision::Drop(action, detail.trim().to_string()))?;
        } else if f.object {
            let detail =
                if x.objclass.is_empty() { "\\object".to_string() } else { format!("\\object {}", x.objclass) };
            self.unwrap(f.open, &x.kids, ActionKind::RemovedOleObject, detail)?;
        } else if let Some(c) = class.filter(|c| *c != FieldClass::Safe && (f.field || !parent_is_field)) {
            self.decide(f.open, Decision::Drop(field_action(c), format!("field {}", short(&x.code.word))))?;
        } else if let Some((c, code)) = x.child_class.as_ref().filter(|(c, _)| f.field && *c != FieldClass::Safe) {
            self.unwrap(f.open, &x.kids, field_action(*c), format!("field {code}"))?;
        } else if linked_value {
            let detail = format!("linked picture {}", short(&x.code.word));
            self.decide(f.open, Decision::Drop(ActionKind::RemovedExternalReference, detail))?;
        }
        if self.decisions.len() > decided || self.decisions.contains_key(&f.open) {
            self.taint_code_around(&f);
        }
        match self.decisions.get(&f.open) {
            Some(Decision::Drop(..)) => self.kept_name_linked = f.kept_linked_at_open,
            // Only the results of an unwrapped group stay, and which of the names in it they
            // hold is not followed: linked if any name read in it, or the one before it, was.
            Some(Decision::Unwrap(..)) => {
                self.kept_name_linked |= f.kept_linked_at_open || self.linked_names != f.linked_names_at_open
            }
            _ => {}
        }
        let Some(p) = self.stack.last_mut() else { return Ok(()) };
        // A result group that also holds an instruction is no result to keep.
        if (f.fldrslt || f.result) && !f.fldinst {
            self.budget.charge_bytes(8)?;
            p.x().kids.push(f.open);
        }
        if let Some(c) = class.filter(|_| !f.field && p.field) {
            let px = p.x();
            if px.child_class.as_ref().is_none_or(|(old, _)| severity(c) > severity(*old)) {
                px.child_class = Some((c, short(&x.code.word)));
            }
        }
        if f.role == Some(TextRole::ObjClass) {
            p.x().objclass = short(&x.code.word);
        }
        Ok(())
    }

    /// Marks the field code (or other collected text) this removed group was part of.
    fn taint_code_around(&mut self, f: &Frame1) {
        let target = if f.role.is_some() {
            let n = self.stack.len();
            self.stack.last().and_then(|p| if p.role.is_some() { Some(n - 1) } else { p.collector })
        } else {
            f.collector
        };
        if let Some(t) = target.and_then(|c| self.stack.get_mut(c)) {
            t.x().code.tainted = true;
        }
    }

    fn unwrap(&mut self, open: usize, kids: &[usize], action: ActionKind, detail: String) -> Result<(), FormatError> {
        self.decide(open, Decision::Unwrap(action, detail))?;
        for k in kids {
            self.decide(*k, Decision::Inner)?;
        }
        Ok(())
    }

    fn classify(&self, code: &Code, dynamic: bool) -> FieldClass {
        if code.overflow || code.tainted {
            return FieldClass::Dangerous;
        }
        let a = self.classify_one(&code.word, dynamic);
        let b = self.classify_one(&code.fallback, dynamic);
        if severity(b) > severity(a) {
            b
        } else {
            a
        }
    }

    /// The OOXML classification, made stricter where a damaged code may be read differently by
    /// another reader: DDE as any word of the code, and under the web-links policy a HYPERLINK
    /// whose code names a share or a file anywhere (not only as its first argument).
    fn classify_one(&self, code: &str, dynamic: bool) -> FieldClass {
        // DDE as a word anywhere, even inside a path or URL (`.../DDE`): scanners read it so,
        // and a code that says DDE is not worth keeping.
        if code
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case("dde") || w.eq_ignore_ascii_case("ddeauto"))
        {
            return FieldClass::Dde;
        }
        let class = classify(code, dynamic, self.opts.hyperlinks);
        if class == FieldClass::Safe && self.opts.hyperlinks == HyperlinkPolicy::Web {
            let upper = code.trim_start().to_ascii_uppercase();
            if upper.starts_with("HYPERLINK") && (upper.contains("\"\\\\") || upper.contains("FILE:")) {
                return FieldClass::ExternalLink;
            }
        }
        class
    }
}

fn analyze(data: &[u8], opts: Options, budget: &Budget) -> Result<Analysis, FormatError> {
    let mut a = Analyzer {
        stack: Vec::new(),
        last_name_linked: false,
        kept_name_linked: false,
        linked_names: 0,
        decisions: HashMap::new(),
        opts,
        budget,
    };
    let mut tokens = Tokenizer::new(data);
    let mut root_end = None;
    let mut n = 0u32;
    while let Some(t) = tokens.next_tok()? {
        n = n.wrapping_add(1);
        if n.is_multiple_of(TIME_CHECK_EVERY) {
            budget.check_time()?;
        }
        match t.kind {
            T::Open => a.open(t.start)?,
            T::Close => {
                a.close()?;
                if a.stack.is_empty() {
                    root_end = Some(t.end);
                    break;
                }
            }
            T::Word | T::Bin => a.word(&t),
            T::Symbol => a.symbol(t.name.first().copied().unwrap_or(0)),
            T::Hex => {
                a.significant();
                let c = t.param.and_then(|v| u32::try_from(v).ok()).and_then(char::from_u32);
                a.text(c, c);
            }
            T::Text => {
                a.significant();
                let run = &data[t.start..t.end];
                match a.stack.last_mut() {
                    // Nothing collects this text: only the `\uN` fallback count moves on.
                    Some(top) if top.collector.is_none() => {
                        top.skip = top.skip.saturating_sub(run.len() as i64).max(0);
                    }
                    _ => {
                        for &b in run {
                            a.text(Some(b as char), Some(b as char));
                        }
                    }
                }
            }
            T::Newline => {}
        }
    }
    // Groups left open at the end are closed where the file ends, as readers do.
    while !a.stack.is_empty() {
        a.close()?;
    }
    if a.decisions.contains_key(&0) {
        return Err(FormatError::new(
            Reason::Unsupported,
            "an object, field or removed destination directly in the document's own group",
        ));
    }
    let mut decisions: Vec<(usize, Decision)> = a.decisions.into_iter().collect();
    decisions.sort_unstable_by_key(|(at, _)| *at);
    Ok(Analysis { decisions, root_end })
}

// ----------------------------------------------------------------------------------------------
// Pass 2: writing the kept tokens back

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Keep,
    Skip,
    Unwrap,
}

struct Frame2 {
    mode: Mode,
    /// Its opening brace was written (so its closing brace is written too).
    written: bool,
    /// Inside a picture, where `\bin` data belongs.
    pict: bool,
    /// A kept `\result` / `\fldrslt` group, which loses its own word.
    inner: bool,
}

/// Writes kept tokens with their exact bytes. When tokens were left out between a control word
/// and what follows, a space is put in so the word does not run into a letter, digit, dash or
/// space that came after the removed part (`\b` + `x` must not become `\bx`).
struct Writer<'a> {
    data: &'a [u8],
    out: Vec<u8>,
    open_word: bool,
    gap: bool,
    /// A `\*` held back until the word it belongs to is known to stay.
    star: Option<(usize, usize)>,
}

impl Writer<'_> {
    fn raw(&mut self, start: usize, end: usize, word: bool) {
        let span = &self.data[start..end];
        if self.gap
            && self.open_word
            && span.first().is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b' '))
        {
            self.out.push(b' ');
        }
        self.out.extend_from_slice(span);
        self.open_word = word && span.last() != Some(&b' ');
        self.gap = false;
    }

    fn put(&mut self, t: &Tok<'_>) {
        if let Some((s, e)) = self.star.take() {
            self.raw(s, e, false);
        }
        self.raw(t.start, t.end, t.kind == T::Word);
    }

    fn hold_star(&mut self, t: &Tok<'_>) {
        if let Some((s, e)) = self.star.take() {
            self.raw(s, e, false);
        }
        self.star = Some((t.start, t.end));
    }

    fn skip(&mut self) {
        self.gap = true;
    }

    /// Leaves out a word together with the `\*` held for it.
    fn skip_word(&mut self) {
        self.star = None;
        self.gap = true;
    }
}

#[derive(Default)]
struct Reports(BTreeMap<(ActionKind, String), usize>);

impl Reports {
    fn add(&mut self, action: ActionKind, detail: impl Into<String>) {
        *self.0.entry((action, detail.into())).or_insert(0) += 1;
    }

    fn into_actions(self) -> Vec<Action> {
        self.0
            .into_iter()
            .map(|((action, detail), n)| {
                let detail = if n > 1 { format!("{detail} ({n} times)") } else { detail };
                Action::with_detail(action, "document", detail)
            })
            .collect()
    }
}

fn emit(data: &[u8], an: &Analysis, budget: &Budget) -> Result<Rebuilt, FormatError> {
    let end = an.root_end.unwrap_or(data.len());
    let mut tokens = Tokenizer::new(&data[..end]);
    let mut w = Writer { data, out: Vec::with_capacity(data.len()), open_word: false, gap: false, star: None };
    let mut stack: Vec<Frame2> = Vec::new();
    let mut reports = Reports::default();
    let mut n = 0u32;
    let mut next_decision = 0usize;
    while let Some(t) = tokens.next_tok()? {
        n = n.wrapping_add(1);
        if n.is_multiple_of(TIME_CHECK_EVERY) {
            budget.check_time()?;
        }
        match t.kind {
            T::Open => {
                while an.decisions.get(next_decision).is_some_and(|(at, _)| *at < t.start) {
                    next_decision += 1;
                }
                let decision = an.decisions.get(next_decision).filter(|(at, _)| *at == t.start).map(|(_, d)| d);
                let parent = stack.last();
                let pict = parent.is_some_and(|p| p.pict);
                let (mode, inner) = match (parent.map(|p| p.mode), decision) {
                    (None, _) => (Mode::Keep, false),
                    (Some(Mode::Skip), _) => (Mode::Skip, false),
                    (Some(Mode::Unwrap), Some(Decision::Inner)) => (Mode::Keep, true),
                    (Some(Mode::Unwrap), _) => (Mode::Skip, false),
                    (Some(Mode::Keep), Some(Decision::Drop(a, d))) => {
                        reports.add(*a, d.clone());
                        (Mode::Skip, false)
                    }
                    (Some(Mode::Keep), Some(Decision::Unwrap(a, d))) => {
                        reports.add(*a, d.clone());
                        (Mode::Unwrap, false)
                    }
                    (Some(Mode::Keep), _) => (Mode::Keep, false),
                };
                let written = mode == Mode::Keep;
                if written {
                    w.put(&t);
                } else {
                    w.skip();
                }
                stack.push(Frame2 { mode, written, pict, inner });
            }
            T::Close => {
                let Some(f) = stack.pop() else { break };
                if f.written {
                    w.put(&t);
                } else {
                    w.skip();
                }
                if stack.is_empty() {
                    break;
                }
            }
            _ => {
                let Some(top) = stack.last_mut() else {
                    return Err(FormatError::malformed("RTF content outside any group"));
                };
                let mut buf = [0u8; token::MAX_NAME];
                let name = lower(t.name, &mut buf);
                if top.mode != Mode::Keep {
                    w.skip();
                    continue;
                }
                match t.kind {
                    T::Word if top.inner && matches!(name, b"result" | b"fldrslt") => w.skip_word(),
                    T::Word if name.starts_with(b"obj") => {
                        reports.add(ActionKind::RemovedOleObject, format!("\\{}", String::from_utf8_lossy(t.name)));
                        w.skip_word();
                    }
                    T::Word if name == b"subdocument" => {
                        reports.add(ActionKind::RemovedExternalReference, "\\subdocument");
                        w.skip_word();
                    }
                    T::Bin if !top.pict => {
                        let n = t.param.unwrap_or(0);
                        reports
                            .add(ActionKind::RemovedUnreferencedPart, format!("\\bin{n} raw data outside a picture"));
                        w.skip_word();
                    }
                    T::Symbol if t.name == b"*" => w.hold_star(&t),
                    _ => {
                        if t.kind == T::Word && name == b"pict" {
                            top.pict = true;
                        }
                        w.put(&t);
                    }
                }
            }
        }
    }
    if let Some((s, e)) = w.star.take() {
        w.raw(s, e, false);
    }
    let open = stack.iter().filter(|f| f.written).count();
    if open > 0 {
        w.out.extend(std::iter::repeat_n(b'}', open));
        reports.add(ActionKind::RepairedStructure, format!("{open} group(s) left open at the end of the file closed"));
    }
    if let Some(end) = an.root_end {
        let tail = &data[end..];
        if tail.iter().all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0)) {
            w.out.extend(tail.iter().filter(|b| **b != 0));
        } else {
            reports.add(
                ActionKind::RemovedTrailingData,
                format!("{} bytes after the document's closing brace", tail.len()),
            );
        }
    }
    Ok(Rebuilt { data: w.out, actions: reports.into_actions() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn run(data: &[u8]) -> Result<Rebuilt, FormatError> {
        let config = Config::default();
        let budget = Budget::new(&config.limits);
        rebuild(data, Options { max_nesting: 64, hyperlinks: HyperlinkPolicy::Web }, &budget)
    }

    fn out(data: &str) -> String {
        String::from_utf8(run(data.as_bytes()).unwrap().data).unwrap()
    }

    #[test]
    fn kept_tokens_are_copied_byte_for_byte() {
        let doc = "{\\rtf1\\ansi\\ansicpg932{\\fonttbl{\\f0 \\'82\\'6c;}}\\u26085\\'93\\'fa {\\field{\\*\\fldinst PAGE }{\\fldrslt 1}}\\par}\r\n";
        assert_eq!(out(doc), doc);
    }

    #[test]
    fn an_object_becomes_its_result() {
        let doc =
            "{\\rtf1 A{\\object\\objemb{\\*\\objclass Package}{\\*\\objdata 0105}{\\result{\\pict\\pngblip 89}}}B}";
        let r = run(doc.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(r.data).unwrap(), "{\\rtf1 A{{\\pict\\pngblip 89}}B}");
        assert_eq!(r.actions[0].action, ActionKind::RemovedOleObject);
        assert_eq!(r.actions[0].detail.as_deref(), Some("\\object Package"));
    }

    #[test]
    fn a_dangerous_field_keeps_its_result_and_a_safe_one_stays() {
        assert_eq!(out("{\\rtf1 {\\field{\\*\\fldinst DDEAUTO c:\\\\x.exe}{\\fldrslt Sales}}}"), "{\\rtf1 {Sales}}");
        assert_eq!(out("{\\rtf1 {\\field{\\*\\fldinst D{}D\\'45AUTO x}{\\fldrslt S}}}"), "{\\rtf1 {S}}");
        assert_eq!(out("{\\rtf1 {\\field{\\*\\fldinst \\u68 ?DE x}{\\fldrslt S}}}"), "{\\rtf1 {S}}");
        let nested = "{\\rtf1 {\\field{\\*\\fldinst {\\field{\\*\\fldinst QUOTE 68}{\\fldrslt DDE}} x}{\\fldrslt S}}}";
        assert_eq!(out(nested), "{\\rtf1 {S}}");
        let web = "{\\rtf1 {\\field{\\*\\fldinst HYPERLINK \"https://example.org\"}{\\fldrslt site}}}";
        assert_eq!(out(web), web);
    }

    #[test]
    fn damaged_or_ambiguous_codes_are_not_judged_safe() {
        // A removed object inside the code: what is left is not what was read.
        let tainted = "{\\rtf1 {\\field{\\*\\fldinst HYPERLINK {\\object\\objdata 01}\"https://x\"}{\\fldrslt S}}}";
        assert_eq!(out(tainted), "{\\rtf1 {S}}");
        // Text before the instruction word, a second instruction word.
        assert_eq!(out("{\\rtf1 {\\field{D\\fldinst PAGE}{\\fldrslt S}}}"), "{\\rtf1 {S}}");
        assert_eq!(out("{\\rtf1 {\\field{\\*\\fldinst PAGE \\fldinst X}{\\fldrslt S}}}"), "{\\rtf1 {S}}");
        // DDE as a word anywhere; a share anywhere in a HYPERLINK code; ignorable groups in
        // the code count for the strict reading.
        assert_eq!(out("{\\rtf1 {\\field{\\*\\fldinst HYPERLINK \"https://x/DDE\"}{\\fldrslt S}}}"), "{\\rtf1 {S}}");
        let share = "{\\rtf1 {\\field{\\*\\fldinst HYPERLINK \"https://x\" \"\\\\\\\\s\\\\x\"}{\\fldrslt S}}}";
        assert_eq!(out(share), "{\\rtf1 {S}}");
        assert_eq!(out("{\\rtf1 {\\field{\\*\\fldinst FORMTEXT {\\*\\ffdeftext DDE}}{\\fldrslt S}}}"), "{\\rtf1 {S}}");
    }

    #[test]
    fn a_linked_picture_value_goes_wherever_it_stands() {
        let sp = "{\\rtf1 {\\shp{\\*\\shpinst{\\sp{\\sn pibName}{\\sv http://t/p.png}}}}x}";
        assert_eq!(out(sp), "{\\rtf1 {\\shp{\\*\\shpinst{\\sp{\\sn pibName}}}}x}");
        let apart = "{\\rtf1 {\\sp{\\sn pibName}}{\\b{\\sv \\\\\\\\s\\\\p.png}}x}";
        assert_eq!(out(apart), "{\\rtf1 {\\sp{\\sn pibName}}{\\b}x}");
        let local = "{\\rtf1 {\\sp{\\sn pibName}{\\sv C:\\\\p.png}}{\\sp{\\sn wzName}{\\sv http://t}}x}";
        assert_eq!(out(local), local);
        // A name inside a removed value does not unpair the next value from the name before
        // (found by fuzzing: the rebuilt file paired them and failed its own check).
        let inner = "{\\rtf1 {\\sp{\\sn pibName}{\\sv http://t{\\sn x}}{\\sv //s/p.png}}x}";
        assert_eq!(out(inner), "{\\rtf1 {\\sp{\\sn pibName}}x}");
        let field = "{\\rtf1 {\\sp{\\sn pibName}{\\field{\\*\\fldinst DDE {\\sn x}}}{\\sv //s/p.png}}x}";
        assert_eq!(out(field), "{\\rtf1 {\\sp{\\sn pibName}}x}");
        // A name that loses a removed field reads as pibName in the rebuilt file.
        let lost = "{\\rtf1 {\\sp{\\sn pibName{\\field{\\*\\fldinst DDE x}X}}{\\sv //s/p.png}}x}";
        assert_eq!(out(lost), "{\\rtf1 {\\sp{\\sn pibName}}x}");
    }

    #[test]
    fn removed_words_do_not_glue_their_neighbours() {
        assert_eq!(out("{\\rtf1 \\b\\objupdate1x}"), "{\\rtf1 \\b x}");
        assert_eq!(out("{\\rtf1 \\b{\\*\\datastore 01}x}"), "{\\rtf1 \\b x}");
        assert_eq!(out("{\\rtf1 \\b {\\*\\datastore 01}x}"), "{\\rtf1 \\b x}");
    }

    #[test]
    fn destinations_are_found_anywhere_in_their_group() {
        assert_eq!(out("{\\rtf1 a{\\b \\objdata 0105}b}"), "{\\rtf1 ab}");
        assert_eq!(out("{\\rtf1 a{\\*\\template http://x/t.dotm}b}"), "{\\rtf1 ab}");
        assert_eq!(out("{\\rtf1 a{\\*\\OBJDATA 0105}{\\ObjUpdate}\\OBJEMB b}"), "{\\rtf1 ab}");
    }

    #[test]
    fn structure_repairs_and_refusals() {
        let r = run(b"{\\rtf1 {\\b x").unwrap();
        assert_eq!(r.data, b"{\\rtf1 {\\b x}}");
        assert_eq!(r.actions[0].action, ActionKind::RepairedStructure);
        let r = run(b"{\\rtf1 x}}{\\object\\objdata 01}").unwrap();
        assert_eq!(r.data, b"{\\rtf1 x}");
        assert_eq!(r.actions[0].action, ActionKind::RemovedTrailingData);
        assert_eq!(run(b"{\\rtf1 x}\r\n\0").unwrap().data, b"{\\rtf1 x}\r\n");
        assert_eq!(run(b"{\\rtf1 \\objdata 01}").unwrap_err().reason, Reason::Unsupported);
        assert_eq!(run(b"{\\rtf1 {\\pict\\bin4 ab}").unwrap_err().reason, Reason::Malformed);
        assert_eq!(run(b"x{\\rtf1}").unwrap_err().reason, Reason::Malformed);
        let deep = format!("{{\\rtf1 {}{}}}", "{".repeat(70), "}".repeat(70));
        assert_eq!(run(deep.as_bytes()).unwrap_err().reason, Reason::LimitNesting);
    }

    #[test]
    fn raw_binary_stays_in_pictures_only() {
        assert_eq!(out("{\\rtf1 {\\pict\\wmetafile8\\bin3 {}}}x}"), "{\\rtf1 {\\pict\\wmetafile8\\bin3 {}}}x}");
        assert_eq!(out("{\\rtf1 a\\bin3 {}}b}"), "{\\rtf1 ab}");
    }
}
