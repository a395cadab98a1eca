//! Shared plain types: what an item is, what kind it really is, what was found and done to it,
//! and the verdict. Every finding, action and block reason is a variant of a closed enum so that
//! logs, reports, quarantine records and notices all speak the same names.
//!
//! This module holds data only: no I/O, no policy decisions.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The broad family a kind belongs to; the policy has one setting per family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Ooxml,
    Ole2,
    Rtf,
    Odf,
    Pdf,
    Archive,
    Markup,
    Text,
    Image,
    Executable,
    Unknown,
}

impl Family {
    pub const ALL: [Family; 11] = [
        Family::Ooxml,
        Family::Ole2,
        Family::Rtf,
        Family::Odf,
        Family::Pdf,
        Family::Archive,
        Family::Markup,
        Family::Text,
        Family::Image,
        Family::Executable,
        Family::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ooxml => "ooxml",
            Family::Ole2 => "ole2",
            Family::Rtf => "rtf",
            Family::Odf => "odf",
            Family::Pdf => "pdf",
            Family::Archive => "archive",
            Family::Markup => "markup",
            Family::Text => "text",
            Family::Image => "image",
            Family::Executable => "executable",
            Family::Unknown => "unknown",
        }
    }
}

macro_rules! kinds {
    ($( $variant:ident => $name:literal, $family:ident, [$($ext:literal),*] ;)*) => {
        /// The true kind of an item, found from its bytes (never from its name).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Kind {
            $( #[serde(rename = $name)] $variant, )*
        }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The stable name used in config, reports and logs.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }

            pub fn family(self) -> Family {
                match self { $(Kind::$variant => Family::$family,)* }
            }

            /// File name extensions that honestly describe this kind (lower case, no dot).
            /// The first one is the extension mugai gives to outputs of this kind.
            pub fn extensions(self) -> &'static [&'static str] {
                match self { $(Kind::$variant => &[$($ext),*],)* }
            }

            pub fn from_name(name: &str) -> Option<Kind> {
                match name { $($name => Some(Kind::$variant),)* _ => None }
            }
        }
    };
}

kinds! {
    // OOXML (Office Open XML packages)
    Docx => "docx", Ooxml, ["docx"];
    Docm => "docm", Ooxml, ["docm"];
    Dotx => "dotx", Ooxml, ["dotx"];
    Dotm => "dotm", Ooxml, ["dotm"];
    Xlsx => "xlsx", Ooxml, ["xlsx"];
    Xlsm => "xlsm", Ooxml, ["xlsm"];
    Xltx => "xltx", Ooxml, ["xltx"];
    Xltm => "xltm", Ooxml, ["xltm"];
    Xlsb => "xlsb", Ooxml, ["xlsb"];
    Xlam => "xlam", Ooxml, ["xlam"];
    Pptx => "pptx", Ooxml, ["pptx"];
    Pptm => "pptm", Ooxml, ["pptm"];
    Potx => "potx", Ooxml, ["potx"];
    Potm => "potm", Ooxml, ["potm"];
    Ppsx => "ppsx", Ooxml, ["ppsx"];
    Ppsm => "ppsm", Ooxml, ["ppsm"];
    Ppam => "ppam", Ooxml, ["ppam"];
    Vsdx => "vsdx", Ooxml, ["vsdx"];
    Vsdm => "vsdm", Ooxml, ["vsdm"];
    Vstx => "vstx", Ooxml, ["vstx"];
    Vstm => "vstm", Ooxml, ["vstm"];
    Vssx => "vssx", Ooxml, ["vssx"];
    Vssm => "vssm", Ooxml, ["vssm"];
    // A package with [Content_Types].xml whose main part mugai does not recognise.
    OoxmlOther => "ooxml", Ooxml, [];
    // OLE2 / compound files
    Doc => "doc", Ole2, ["doc", "dot"];
    Xls => "xls", Ole2, ["xls", "xlt", "xla"];
    Ppt => "ppt", Ole2, ["ppt", "pot", "pps"];
    Vsd => "vsd", Ole2, ["vsd", "vss", "vst"];
    Jtd => "jtd", Ole2, ["jtd", "jtt"];
    Msg => "msg", Ole2, ["msg"];
    EncryptedOffice => "encrypted_office", Ole2, ["docx", "xlsx", "pptx", "docm", "xlsm", "pptm", "xlsb", "doc", "xls", "ppt"];
    Ole2Other => "ole2", Ole2, [];
    // Rich text
    Rtf => "rtf", Rtf, ["rtf", "doc"];
    // OpenDocument
    Odt => "odt", Odf, ["odt", "ott"];
    Ods => "ods", Odf, ["ods", "ots"];
    Odp => "odp", Odf, ["odp", "otp"];
    Odg => "odg", Odf, ["odg", "otg"];
    OdfOther => "odf", Odf, ["odf", "odb", "odc", "odm"];
    // A whole OpenDocument as one XML file (flat XML: fodt, fods, fodp, fodg).
    FlatOdf => "fodf", Odf, ["fodt", "fods", "fodp", "fodg"];
    Pdf => "pdf", Pdf, ["pdf"];
    // Archives
    Zip => "zip", Archive, ["zip"];
    Gzip => "gzip", Archive, ["gz", "tgz"];
    Tar => "tar", Archive, ["tar"];
    SevenZip => "7z", Archive, ["7z"];
    Rar => "rar", Archive, ["rar"];
    Lzh => "lzh", Archive, ["lzh", "lha"];
    Cab => "cab", Archive, ["cab"];
    // A whole mail message (message/rfc822): a container of attachments.
    Eml => "eml", Archive, ["eml", "msg"];
    // Executables, scripts and disk images: blocked whatever their name says
    Pe => "pe", Executable, ["exe", "dll", "scr", "cpl", "sys", "ocx", "com"];
    Elf => "elf", Executable, [];
    MachO => "macho", Executable, [];
    JavaClass => "java_class", Executable, ["class"];
    Jar => "jar", Executable, ["jar"];
    Msi => "msi", Executable, ["msi"];
    Lnk => "lnk", Executable, ["lnk"];
    Chm => "chm", Executable, ["chm"];
    OneNote => "onenote", Executable, ["one"];
    DiskImage => "disk_image", Executable, ["iso", "img", "vhd", "vhdx"];
    Script => "script", Executable, ["sh", "js", "vbs", "ps1", "bat", "cmd", "hta", "wsf"];
    // Markup that can carry scripts
    // Not `xhtml`: the rebuilt page is HTML, which an XML reader (what the .xhtml name calls
    // for) would refuse.
    Html => "html", Markup, ["html", "htm", "mht", "mhtml"];
    Svg => "svg", Markup, ["svg"];
    OfficeXml => "office_xml", Markup, ["xml"];
    Xml => "xml", Markup, ["xml"];
    // Plain data
    // Excel's symbolic link format: text records that may carry Excel 4.0 macros.
    Sylk => "sylk", Text, ["slk"];
    Text => "text", Text, ["txt", "text", "csv", "tsv", "log", "md", "json", "ini", "cfg", "conf", "yaml", "yml", "toml", "hl7", "dat", "prn", "tab", "jsonl", "ndjson"];
    Empty => "empty", Text, [];
    Png => "png", Image, ["png"];
    Jpeg => "jpeg", Image, ["jpg", "jpeg", "jpe", "jfif"];
    Gif => "gif", Image, ["gif"];
    Bmp => "bmp", Image, ["bmp", "dib"];
    Tiff => "tiff", Image, ["tif", "tiff"];
    Webp => "webp", Image, ["webp"];
    Unknown => "unknown", Unknown, [];
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Kind {
    /// The extension given to outputs of this kind, if it has one.
    pub fn output_extension(self) -> Option<&'static str> {
        self.extensions().first().copied()
    }

    /// For a macro-enabled OOXML kind, the macro-free kind its clean output becomes.
    /// Add-ins have no macro-free twin of their own and become the plain document kind.
    pub fn macro_free_twin(self) -> Kind {
        match self {
            Kind::Docm => Kind::Docx,
            Kind::Dotm => Kind::Dotx,
            Kind::Xlsm | Kind::Xlam => Kind::Xlsx,
            Kind::Xltm => Kind::Xltx,
            Kind::Pptm | Kind::Ppam => Kind::Pptx,
            Kind::Potm => Kind::Potx,
            Kind::Ppsm => Kind::Ppsx,
            Kind::Vsdm => Kind::Vsdx,
            Kind::Vstm => Kind::Vstx,
            Kind::Vssm => Kind::Vssx,
            other => other,
        }
    }

    pub fn is_macro_enabled(self) -> bool {
        self.macro_free_twin() != self
    }
}

/// Why an item was blocked. Each reason belongs to one failure class (see [`Reason::class`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The bytes do not parse as the kind they claim to be.
    Malformed,
    /// A zip with two entries of the same name (or names equal but for case).
    DuplicateEntry,
    /// Zip entries whose data overlap (a classic bomb and parser-confusion trick).
    OverlappingEntries,
    /// Local and central zip headers disagree.
    InconsistentHeaders,
    /// An entry name that is absolute or climbs out with `..`.
    PathTraversal,
    /// An XML part with a document type declaration (entity expansion attacks).
    XmlDoctype,
    /// Password protected content.
    Encrypted,
    /// A kind or a construct mugai cannot rebuild safely.
    Unsupported,
    /// A zip compression method other than stored or deflate.
    UnsupportedCompression,
    /// The item is larger than `[limits] max_input_bytes`.
    LimitInputSize,
    /// More bytes were expanded than `[limits] max_total_bytes` allows.
    LimitTotalBytes,
    /// More entries than `[limits] max_entries`.
    LimitEntries,
    /// Containers nested deeper than `[limits] max_depth`.
    LimitDepth,
    /// An entry expands more than `[limits] max_ratio` times its compressed size.
    LimitRatio,
    /// XML nested deeper than `[limits] max_xml_depth`.
    LimitXmlDepth,
    /// More objects in one PDF than `[limits] max_objects`.
    LimitObjects,
    /// A stream expands beyond `[limits] max_stream_bytes`.
    LimitStreamBytes,
    /// Objects nested deeper than `[limits] max_nesting`.
    LimitNesting,
    /// The item took longer than `[limits] item_timeout_secs`.
    Timeout,
    /// A bug in mugai (a panic): the item is held rather than passed on.
    InternalError,
    /// An executable program, script or disk image.
    Executable,
    /// Content mugai does not recognise.
    UnknownKind,
    /// The policy blocks this kind.
    PolicyBlocked,
    /// A kind that is kept as it is only when its name matches its content; this one does not.
    NameMismatch,
    /// A file name built to mislead (a right-to-left override, `invoice.pdf.exe`, a CLSID
    /// extension, a name Windows would run), blocked by `[names]`.
    DangerousName,
    /// One archive entry expands beyond `[limits] max_entry_bytes`.
    LimitEntryBytes,
    /// A mail header block larger than `[mail] max_header_bytes`.
    LimitHeaderBytes,
    /// A drop folder that requires receipts got a file without a valid receipt from a trusted
    /// key (`[[dropfolder]] require_receipt`).
    Unverified,
}

/// Failure classes: the policy maps each to an outcome (always block; see `policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    Malformed,
    Encrypted,
    Unsupported,
    Limit,
    Timeout,
    InternalError,
    Policy,
}

impl Reason {
    pub fn class(self) -> FailureClass {
        use Reason::*;
        match self {
            Malformed | DuplicateEntry | OverlappingEntries | InconsistentHeaders | PathTraversal | XmlDoctype => {
                FailureClass::Malformed
            }
            Encrypted => FailureClass::Encrypted,
            Unsupported | UnsupportedCompression => FailureClass::Unsupported,
            LimitInputSize | LimitTotalBytes | LimitEntries | LimitDepth | LimitRatio | LimitXmlDepth
            | LimitObjects | LimitStreamBytes | LimitNesting | LimitEntryBytes | LimitHeaderBytes => {
                FailureClass::Limit
            }
            Timeout => FailureClass::Timeout,
            InternalError => FailureClass::InternalError,
            Executable | UnknownKind | PolicyBlocked | NameMismatch | DangerousName | Unverified => {
                FailureClass::Policy
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        // The same names serde writes (checked by a unit test).
        use Reason::*;
        match self {
            Malformed => "malformed",
            DuplicateEntry => "duplicate_entry",
            OverlappingEntries => "overlapping_entries",
            InconsistentHeaders => "inconsistent_headers",
            PathTraversal => "path_traversal",
            XmlDoctype => "xml_doctype",
            Encrypted => "encrypted",
            Unsupported => "unsupported",
            UnsupportedCompression => "unsupported_compression",
            LimitInputSize => "limit_input_size",
            LimitTotalBytes => "limit_total_bytes",
            LimitEntries => "limit_entries",
            LimitDepth => "limit_depth",
            LimitRatio => "limit_ratio",
            LimitXmlDepth => "limit_xml_depth",
            LimitObjects => "limit_objects",
            LimitStreamBytes => "limit_stream_bytes",
            LimitNesting => "limit_nesting",
            Timeout => "timeout",
            InternalError => "internal_error",
            Executable => "executable",
            UnknownKind => "unknown_kind",
            PolicyBlocked => "policy_blocked",
            NameMismatch => "name_mismatch",
            DangerousName => "dangerous_name",
            LimitEntryBytes => "limit_entry_bytes",
            LimitHeaderBytes => "limit_header_bytes",
            Unverified => "unverified",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was removed or changed. Each action names the part (path inside the item) it applied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// A VBA project part (`vbaProject.bin`) and everything that pointed to it.
    RemovedVbaProject,
    /// VBA companions: `vbaData.xml`, VBA project signatures, key bindings to macros.
    RemovedVbaCompanion,
    /// The main content type was macro-enabled and became its macro-free twin.
    ConvertedToMacroFree,
    /// An Excel 4.0 (XLM) macro sheet or dialog sheet.
    RemovedMacroSheet,
    /// A defined name that runs macros automatically (`Auto_Open`, `Auto_Close`, ...).
    RemovedAutoMacroName,
    /// An ActiveX control part and its control elements.
    RemovedActivex,
    /// An embedded OLE object or package (its preview image kept).
    RemovedOleObject,
    /// An embedded document that was disarmed and kept.
    DisarmedEmbeddedDocument,
    /// A DDE or DDEAUTO field code (its displayed result kept).
    RemovedDdeField,
    /// Another field code that fetches, includes or runs something (INCLUDETEXT, INCLUDEPICTURE,
    /// LINK, IMPORT, MACROBUTTON, DATABASE, or a code built at run time); result kept.
    RemovedDangerousField,
    /// A DDE link part of a workbook.
    RemovedDdeLink,
    /// A cell formula calling DDE (`=cmd|'...'!A0`); the cached value kept.
    RemovedDdeFormula,
    /// A cell formula reading another workbook or calling out (WEBSERVICE, RTD, CALL, REGISTER,
    /// add-in functions); the cached value kept. In delimited text, such a cell is made text
    /// (a leading apostrophe); in SYLK, every formula gives way to its value.
    RemovedExternalFormula,
    /// A relationship to something outside the package (template, linked object, frame,
    /// linked workbook, image by URL, hyperlink to a non-web target); in HTML, SVG and XML a
    /// base URL, a stylesheet or other resource the page would load, a `file:` or other non-web
    /// link, an XML stylesheet instruction or XInclude, a link made inert by policy.
    RemovedExternalReference,
    /// A remote template reference (`attachedTemplate`), a classic injection route.
    RemovedAttachedTemplate,
    /// Custom ribbon UI with callbacks (`customUI*.xml`).
    RemovedCustomUi,
    /// Data connections and query tables that fetch data from elsewhere.
    RemovedDataConnection,
    /// Office web add-ins (web extensions and task panes).
    RemovedWebExtension,
    /// A document-level add-in the document would load (`_AssemblyLocation` / `_AssemblyName`
    /// custom properties of a VSTO customization).
    RemovedAddinReference,
    /// A link or action that runs a program, macro or OLE verb: a PowerPoint action, an
    /// OpenDocument link or button to a macro URL (`vnd.sun.star.script:`, `macro:`), a macro
    /// field (`text:execute-macro`).
    RemovedProgramAction,
    /// A part no relationship reaches (a hidden payload).
    RemovedUnreferencedPart,
    /// A content type declaration for a removed or unknown part.
    RemovedContentType,
    /// A digital signature that the rebuild made invalid.
    RemovedSignature,
    /// The formula calculation chain, dropped so the application rebuilds it.
    RemovedCalcChain,
    /// JavaScript: a script action, the document's JavaScript name tree, a form field's
    /// calculate, format, keystroke or validate script; a `javascript:` URL in HTML or SVG.
    RemovedJavascript,
    /// An action that runs by itself: a PDF open action or additional actions (`/AA`) on the
    /// document, a page, an annotation or a form field; an HTML `meta` refresh or cookie.
    RemovedAutoAction,
    /// An action that launches a program, submits or imports form data, opens another or an
    /// embedded document, or plays media (`/Launch`, `/SubmitForm`, `/ImportData`, `/GoToR`,
    /// `/GoToE`, `/Rendition`, `/Sound`, `/Movie`).
    RemovedDangerousAction,
    /// A file attached to a document, removed by policy or because it was blocked.
    RemovedEmbeddedFile,
    /// Rich media, 3D, screen, movie and sound annotations.
    RemovedRichMedia,
    /// An XFA form (the document's AcroForm fields, if any, stay).
    RemovedXfa,
    /// The output is written without encryption (the input opened with an empty password).
    RemovedEncryption,
    /// An OpenDocument macro or dialog library: StarBasic modules (`Basic/`), BeanShell,
    /// JavaScript or Python scripts (`Scripts/`), dialogs that call them (`Dialogs/`).
    RemovedMacroLibrary,
    /// An event binding that runs a macro, script or program: document events (on load, on
    /// save), events of shapes, form controls, links and validity checks
    /// (`script:event-listener`, `presentation:event-listener`, `table:error-macro`); the `on...`
    /// event handler attributes of HTML and SVG elements.
    RemovedEventListener,
    /// Script code inside a document's XML: `text:script`, the content of `office:scripts`; in
    /// HTML and SVG, `script` elements, `vbscript:` URLs and style that runs code
    /// (`expression()`, `behavior`, `-moz-binding`), SVG handlers and animations that rewrite
    /// links.
    RemovedScript,
    /// An RTF data store (`\*\datastore`): binary data Word loads into the document's storage,
    /// a known way to carry OLE payloads past scanners.
    RemovedDataStore,
    /// Bytes after the end of the document (after an RTF file's final closing brace), which
    /// readers skip and scanners may not: a hiding place for payloads.
    RemovedTrailingData,
    /// An archive entry that was blocked and left out of the rebuilt archive (`[archive]
    /// on_blocked_entry = "drop"`); the detail names the entry's reason.
    RemovedBlockedEntry,
    /// An archive entry that is not a plain file or folder (a symbolic or hard link, a device, a
    /// pipe), which extracting would turn into something other than a file: left out.
    RemovedSpecialEntry,
    /// Bytes of an archive outside its entries (a stub before the first entry, data after the
    /// end, archive and entry comments, extra fields), not carried into the rebuilt archive.
    RemovedArchiveMetadata,
    /// A damaged structure the rebuild repaired (RTF groups left open at the end of the file,
    /// closed as readers close them; an unreadable property-set stream of a compound file left
    /// out).
    RepairedStructure,
    /// An HTML form or one of its controls (`form`, `input`, `button`, `select`, `textarea`):
    /// a way to send what the reader types to somewhere else, the usual shape of a phishing
    /// page.
    RemovedForm,
    /// Another document or a plug-in loaded into a page: HTML `iframe`, `frame`, `frameset`,
    /// `object`, `embed`, `applet` (and an `iframe`'s `srcdoc`), an SVG `foreignObject`.
    RemovedEmbeddedFrame,
    /// A `data:` URL in a link, source or style: content carried inside the URL itself (a whole
    /// page with scripts can hide there).
    RemovedDataUrl,
}

impl ActionKind {
    /// True for bookkeeping that only follows from other removals (a stale calculation chain, a
    /// content type entry, a signature the rebuild invalidated): not active content in itself.
    pub fn is_consequence(self) -> bool {
        matches!(
            self,
            ActionKind::RemovedCalcChain
                | ActionKind::RemovedContentType
                | ActionKind::RemovedSignature
                | ActionKind::RemovedEncryption
                | ActionKind::RepairedStructure
                | ActionKind::RemovedArchiveMetadata
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub action: ActionKind,
    /// Where it applied: a part name, prefixed with the paths of enclosing items.
    pub part: String,
    /// For something removed because it was blocked (an archive entry, an attachment): why.
    /// The original it came from belongs in quarantine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Action {
    pub fn new(action: ActionKind, part: impl Into<String>) -> Self {
        Action { action, part: part.into(), reason: None, detail: None }
    }

    /// Something removed because it was blocked for `reason`.
    pub fn held(action: ActionKind, part: impl Into<String>, reason: Reason, detail: impl Into<String>) -> Self {
        Action { reason: Some(reason), ..Action::with_detail(action, part, detail) }
    }
    pub fn with_detail(action: ActionKind, part: impl Into<String>, detail: impl Into<String>) -> Self {
        let mut d: String = detail.into();
        if d.len() > 200 {
            let mut cut = 200;
            while !d.is_char_boundary(cut) {
                cut -= 1;
            }
            d.truncate(cut);
        }
        Action { action, part: part.into(), reason: None, detail: Some(d) }
    }
}

/// Observations that are not removals: name and type disagreements and the like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The file name's extension does not fit the true kind.
    ExtensionMismatch,
    /// The declared (MIME) type does not fit the true kind.
    DeclaredTypeMismatch,
    /// The package declares macro parts (VBA project, macro sheets).
    MacroParts,
    /// The name holds a bidirectional control character (U+202E RIGHT-TO-LEFT OVERRIDE and
    /// friends) that makes `invoice\u{202E}fdp.exe` show as `invoiceexe.pdf`.
    BidiControl,
    /// A document-like extension followed by another one (`invoice.pdf.exe`,
    /// `report.docx   .js`): the first is what the reader sees, the last what Windows runs.
    DoubleExtension,
    /// A class id as the extension (`file.{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}`), which
    /// Windows follows to the handler it names while hiding it.
    ClsidExtension,
    /// The name ends in an extension Windows runs (exe, scr, js, vbs, bat, hta, lnk, ...),
    /// whatever the content.
    ExecutableExtension,
    /// A name longer than `[names] max_name_chars` (long names hide their extension).
    LongName,
    /// Cells a spreadsheet would evaluate into something active (DDE, functions that fetch or
    /// call out), or SYLK records beyond values and formats: text that must be disarmed even
    /// where text is kept.
    FormulaCells,
    /// Characters that have no place in a file name (control characters, path separators),
    /// replaced where the name is written out.
    UnsafeCharacters,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub finding: FindingKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The outcome for one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Passed as it was, byte for byte.
    Kept,
    /// Rebuilt without its active content.
    Disarmed,
    /// Held back; the original belongs in quarantine.
    Blocked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Kept => "kept",
            Verdict::Disarmed => "disarmed",
            Verdict::Blocked => "blocked",
        }
    }
}

/// One unit of untrusted bytes, with what its sender said about it.
#[derive(Clone, Debug, Default)]
pub struct Item {
    pub data: Vec<u8>,
    /// The file name it came with, if any (never trusted for the kind).
    pub name: Option<String>,
    /// The MIME type it was declared with, if any.
    pub declared_type: Option<String>,
    /// Where it sits in the job, e.g. `report.zip/word/embeddings/x.docx`.
    pub path: String,
}

impl Item {
    pub fn new(data: Vec<u8>, name: Option<String>, path: impl Into<String>) -> Self {
        Item { data, name, declared_type: None, path: path.into() }
    }
}

/// The proleptic Gregorian date (year, month, day) of a count of days since 1970-01-01.
///
/// By hand: a dozen lines of well-known integer arithmetic (H. Hinnant's civil-from-days)
/// against a date-time crate for the two places that turn times into calendar dates (archive
/// entry times, quarantine ids).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}
