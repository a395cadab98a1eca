//! Configuration: `config.toml` -> validated [`Config`].
//!
//! [`Config::load`] reads a configuration file (or `./config.toml`, or falls back to the
//! built-in defaults), applies `--set SECTION.KEY=VALUE` overrides and validates the result.
//! Every key is optional; a missing key takes its value from [`Config::default`], which is also
//! what the `config.toml` shipped at the root of the repository spells out.
//!
//! Problems are never reported one at a time: unknown keys, values of the wrong type and values
//! that break a rule are all collected into one [`ConfigErrors`], each naming its key path
//! (`limits.max_depth`) and what is expected.
//!
//! Rules beyond the types:
//! - every limit is greater than 0 (`engine.threads` may be 0: one thread per core), and
//!   `limits.max_ratio` is at least 2;
//! - the `executable` and `unknown` families, and every kind in them, may only be blocked:
//!   mugai fails closed on programs and unrecognised content;
//! - `keep` is allowed only for the text, image and markup families and their kinds: documents,
//!   archives and PDFs are never passed on unparsed;
//! - `log.level` is one of error, warn, info, debug, trace.
//!
//! Relative paths (`quarantine.dir`, `quarantine.key_file`, `quarantine.release_dir`) are resolved against the folder of the configuration file,
//! also when they come from `--set`; with the built-in defaults, against the current folder.

use crate::model::{Family, Kind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the policy does with a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindAction {
    /// Rebuild without active content.
    Disarm,
    /// Hold in quarantine.
    Block,
    /// Pass unchanged (only allowed for data families: text, image, markup).
    Keep,
}

/// Which external hyperlinks in documents survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HyperlinkPolicy {
    /// Keep every hyperlink.
    Keep,
    /// Keep http, https and mailto links; remove file:, UNC and other schemes.
    Web,
    /// Remove every external hyperlink (the link text stays).
    Remove,
}

/// Which links in PDF documents survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPolicy {
    /// Keep web and mail links (`javascript:`, `file:`, `data:` and UNC targets are always removed).
    Keep,
    /// Remove every link action (the text and the clickable area stay, inert).
    Remove,
}

/// What happens to documents embedded in documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddedPolicy {
    /// Disarm them through the engine and keep the clean result.
    Disarm,
    /// Remove them (the preview image stays).
    Remove,
}

/// What happens to an archive when one of its entries is blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockedEntryPolicy {
    /// Rebuild the archive without the entry; the report lists it with its reason.
    Drop,
    /// Block the whole archive with the entry's reason.
    Block,
}

/// What a finding about a file name does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameAction {
    /// Block the item (reason `dangerous_name`).
    Block,
    /// Only note the finding in the report.
    Report,
}

/// What becomes of links in HTML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HtmlLinks {
    /// Keep http, https, mailto and tel links (other schemes are always removed).
    Keep,
    /// Every link keeps its text and loses its target: nothing is clickable.
    Inert,
}

/// What a disarmed HTML file becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HtmlOutput {
    /// Sanitized HTML, written as UTF-8.
    Html,
    /// Plain UTF-8 text (a `.txt` file).
    Text,
}

/// What becomes of the HTML body of a mail message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailHtml {
    /// Sanitized HTML (as `[html]` cleans HTML files), written as UTF-8.
    Sanitize,
    /// The body's text only, as a text/plain part in UTF-8.
    Text,
    /// Passed as it is (for a gateway behind another that already cleans HTML).
    Keep,
}

impl MailHtml {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            MailHtml::Sanitize => "sanitize",
            MailHtml::Text => "text",
            MailHtml::Keep => "keep",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EngineConfig {
    /// Worker threads for disarming; 0 = one per core.
    pub threads: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input_bytes: u64,
    /// All bytes expanded while processing one input, nested items included.
    pub max_total_bytes: u64,
    /// Parts and archive entries across one input, nested items included.
    pub max_entries: u64,
    /// How deeply containers may nest (0 = the input itself).
    pub max_depth: u32,
    /// Largest expansion ratio of one zip entry (uncompressed / compressed size).
    pub max_ratio: u64,
    /// Deepest XML element nesting.
    pub max_xml_depth: u32,
    /// Objects in one PDF (object streams included).
    pub max_objects: u64,
    /// Largest size one stream may expand to, in bytes.
    pub max_stream_bytes: u64,
    /// Largest size one archive entry may expand to, in bytes.
    pub max_entry_bytes: u64,
    /// Deepest nesting inside one file: PDF dictionaries and arrays, page trees, RTF groups.
    pub max_nesting: u32,
    /// Time allowed for one input item (`item_timeout_secs` in `config.toml`).
    #[serde(serialize_with = "ser_secs")]
    pub item_timeout: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyConfig {
    /// One action per family.
    pub families: BTreeMap<Family, KindAction>,
    /// Per-kind overrides of the family action.
    pub kinds: BTreeMap<Kind, KindAction>,
}

impl PolicyConfig {
    pub fn action_for(&self, kind: Kind) -> KindAction {
        if let Some(a) = self.kinds.get(&kind) {
            return *a;
        }
        self.families.get(&kind.family()).copied().unwrap_or(KindAction::Block)
    }
}

/// What each finding about a file name does (see [`crate::names`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamesConfig {
    pub bidi_control: NameAction,
    pub double_extension: NameAction,
    pub clsid_extension: NameAction,
    pub executable_extension: NameAction,
    pub long_name: NameAction,
    /// Names longer than this many characters are long.
    pub max_name_chars: usize,
}

impl NamesConfig {
    /// The action for a finding; findings that are not about names are only reported.
    pub fn action_for(&self, f: crate::model::FindingKind) -> NameAction {
        use crate::model::FindingKind as F;
        match f {
            F::BidiControl => self.bidi_control,
            F::DoubleExtension => self.double_extension,
            F::ClsidExtension => self.clsid_extension,
            F::ExecutableExtension => self.executable_extension,
            F::LongName => self.long_name,
            _ => NameAction::Report,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchiveConfig {
    pub on_blocked_entry: BlockedEntryPolicy,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OoxmlConfig {
    pub hyperlinks: HyperlinkPolicy,
    pub embedded_documents: EmbeddedPolicy,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OdfConfig {
    pub hyperlinks: HyperlinkPolicy,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PdfConfig {
    pub embedded_files: EmbeddedPolicy,
    pub links: LinkPolicy,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HtmlConfig {
    pub links: HtmlLinks,
    pub output: HtmlOutput,
}

/// Mail messages (`.eml`, and the messages the SMTP filter relays).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MailConfig {
    pub html: MailHtml,
    /// Put before the subject when anything was removed or blocked; empty for none.
    pub subject_tag: String,
    /// The notice that replaces a blocked part, in Japanese and in English; `{name}`, `{reason}`
    /// and `{ref}` are filled in.
    pub notice_ja: String,
    pub notice_en: String,
    /// Largest header block of one message or part, in bytes.
    pub max_header_bytes: u64,
    /// Most MIME parts in one message (nested messages count their own).
    pub max_parts: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuarantineConfig {
    /// Folder for blocked originals; absolute once loaded unless the base folder was relative.
    pub dir: PathBuf,
    /// Key file that turns on encryption at rest of held originals (64 hex digits, mode 0600).
    pub key_file: Option<PathBuf>,
    /// How long items are kept before the service purges them; `None` keeps them forever.
    pub retention: Option<Duration>,
    /// Where `mugai quarantine release` writes released files.
    pub release_dir: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogConfig {
    /// One of [`LOG_LEVELS`], lower case.
    pub level: String,
    pub format: LogFormat,
}

/// How the relay reaches the next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextHopTls {
    /// Plain SMTP (the usual case on loopback).
    None,
    /// STARTTLS required: a next hop that does not offer it, or whose certificate does not
    /// verify, gets no message (the client gets a 4xx and retries).
    Starttls,
}

/// The SMTP content filter (`mugai serve`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SmtpConfig {
    /// Whether `mugai serve` runs the SMTP filter.
    pub enabled: bool,
    /// Address and port to listen on.
    pub listen: String,
    /// Where clean messages go (`host:port`), normally the re-injection port of the MTA.
    pub next_hop: String,
    /// STARTTLS to the next hop.
    pub next_hop_tls: NextHopTls,
    /// PEM file of the certificate authorities trusted for the next hop; empty = the public roots.
    pub next_hop_ca_file: Option<PathBuf>,
    /// The name given in the greeting, EHLO replies and to the next hop.
    pub hostname: String,
    /// Largest message accepted, in bytes (announced with SIZE, enforced while receiving).
    pub max_message_size: u64,
    /// Sessions at the same time; one more is refused with 421.
    pub max_connections: usize,
    /// Messages inside the engine at the same time; one more gets 451 (try again later).
    pub max_messages_in_engine: usize,
    /// Recipients per message.
    pub max_recipients: usize,
    /// Largest header block of a message, in bytes.
    pub max_header_bytes: u64,
    /// Client networks allowed to connect (CIDR); every other client gets 554 and is closed.
    pub allowed_clients: Vec<String>,
    /// PEM certificate chain and key for STARTTLS; STARTTLS is offered only when both are set.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// How long a client may stay silent between commands.
    #[serde(serialize_with = "ser_secs")]
    pub command_timeout: Duration,
    /// How long a client may stay silent while sending message data.
    #[serde(serialize_with = "ser_secs")]
    pub data_timeout: Duration,
    /// How long the whole relay of one message to the next hop may take.
    #[serde(serialize_with = "ser_secs")]
    pub relay_timeout: Duration,
    /// The record of deliveries the next hop accepted (see `smtp::journal`); `None` (only when
    /// built by hand, as tests do) keeps no record.
    pub journal: Option<PathBuf>,
    /// Sign a receipt for every attachment that leaves clean and add it to the message as
    /// `<name>.mugai.json`; `None`: no receipts.
    pub receipt_key: Option<PathBuf>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            enabled: true,
            listen: "127.0.0.1:10025".into(),
            next_hop: "127.0.0.1:10026".into(),
            next_hop_tls: NextHopTls::None,
            next_hop_ca_file: None,
            hostname: "localhost".into(),
            max_message_size: 50 * 1024 * 1024,
            max_connections: 100,
            max_messages_in_engine: 16,
            max_recipients: 1000,
            max_header_bytes: 1024 * 1024,
            allowed_clients: vec!["127.0.0.0/8".into(), "::1/128".into()],
            tls_cert: None,
            tls_key: None,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(300),
            relay_timeout: Duration::from_secs(600),
            journal: None,
            receipt_key: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    pub engine: EngineConfig,
    pub limits: Limits,
    pub policy: PolicyConfig,
    pub names: NamesConfig,
    pub archive: ArchiveConfig,
    pub ooxml: OoxmlConfig,
    pub odf: OdfConfig,
    pub pdf: PdfConfig,
    pub html: HtmlConfig,
    pub mail: MailConfig,
    pub quarantine: QuarantineConfig,
    pub log: LogConfig,
    pub smtp: SmtpConfig,
    /// Watched drop folders (`[[dropfolder]]`), none by default.
    pub dropfolders: Vec<DropFolderConfig>,
}

/// One watched drop folder.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DropFolderConfig {
    /// Where senders put files.
    pub inbox: PathBuf,
    /// Where clean copies go, in the same sub-folders.
    pub clean: PathBuf,
    /// Where the per-file reports go.
    pub report: PathBuf,
    /// Where a file is moved while it is processed: on the inbox's file system, so that the
    /// move is a rename. Default: `<inbox>.processing` beside the inbox.
    pub processing: PathBuf,
    /// A file is taken once its size and time have not changed for this long (a file renamed
    /// in from a temporary name is taken at once).
    pub settle: Duration,
    /// Full rescan interval: the truth when change events were missed or overflowed.
    pub rescan: Duration,
    /// Sign a receipt for every clean copy with this key (`<name>.mugai.json` beside it).
    pub receipt_key: Option<PathBuf>,
    /// Take only files that come with a valid receipt from one of `trusted_keys`.
    pub require_receipt: bool,
    /// Public keys (`.pub` files or folders of them) whose receipts are trusted.
    pub trusted_keys: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        let mut families = BTreeMap::new();
        for f in Family::ALL {
            let a = match f {
                Family::Ooxml
                | Family::Ole2
                | Family::Rtf
                | Family::Odf
                | Family::Pdf
                | Family::Archive
                | Family::Markup => KindAction::Disarm,
                Family::Text | Family::Image => KindAction::Keep,
                Family::Executable | Family::Unknown => KindAction::Block,
            };
            families.insert(f, a);
        }
        Config {
            engine: EngineConfig { threads: 0 },
            limits: Limits {
                max_input_bytes: 100 * 1024 * 1024,
                max_total_bytes: 1024 * 1024 * 1024,
                max_entries: 20_000,
                max_depth: 8,
                max_ratio: 1000,
                max_xml_depth: 256,
                max_objects: 50_000,
                max_stream_bytes: 256 * 1024 * 1024,
                max_entry_bytes: 256 * 1024 * 1024,
                max_nesting: 64,
                item_timeout: Duration::from_secs(120),
            },
            policy: PolicyConfig { families, kinds: BTreeMap::new() },
            names: NamesConfig {
                bidi_control: NameAction::Block,
                double_extension: NameAction::Block,
                clsid_extension: NameAction::Block,
                executable_extension: NameAction::Block,
                long_name: NameAction::Report,
                max_name_chars: 128,
            },
            archive: ArchiveConfig { on_blocked_entry: BlockedEntryPolicy::Drop },
            ooxml: OoxmlConfig { hyperlinks: HyperlinkPolicy::Web, embedded_documents: EmbeddedPolicy::Remove },
            odf: OdfConfig { hyperlinks: HyperlinkPolicy::Web },
            pdf: PdfConfig { embedded_files: EmbeddedPolicy::Remove, links: LinkPolicy::Keep },
            html: HtmlConfig { links: HtmlLinks::Keep, output: HtmlOutput::Html },
            mail: MailConfig {
                html: MailHtml::Sanitize,
                subject_tag: String::new(),
                notice_ja: DEFAULT_NOTICE_JA.into(),
                notice_en: DEFAULT_NOTICE_EN.into(),
                max_header_bytes: 256 * 1024,
                max_parts: 1000,
            },
            quarantine: QuarantineConfig {
                dir: PathBuf::from("quarantine"),
                key_file: None,
                retention: Some(Duration::from_secs(90 * 86_400)),
                release_dir: PathBuf::from("quarantine/released"),
            },
            log: LogConfig { level: "info".into(), format: LogFormat::Text },
            smtp: SmtpConfig::default(),
            dropfolders: Vec::new(),
        }
    }
}

impl NextHopTls {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            NextHopTls::None => "none",
            NextHopTls::Starttls => "starttls",
        }
    }
}

impl KindAction {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            KindAction::Disarm => "disarm",
            KindAction::Block => "block",
            KindAction::Keep => "keep",
        }
    }
}

impl HyperlinkPolicy {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            HyperlinkPolicy::Keep => "keep",
            HyperlinkPolicy::Web => "web",
            HyperlinkPolicy::Remove => "remove",
        }
    }
}

impl LinkPolicy {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPolicy::Keep => "keep",
            LinkPolicy::Remove => "remove",
        }
    }
}

impl EmbeddedPolicy {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            EmbeddedPolicy::Disarm => "disarm",
            EmbeddedPolicy::Remove => "remove",
        }
    }
}

impl BlockedEntryPolicy {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockedEntryPolicy::Drop => "drop",
            BlockedEntryPolicy::Block => "block",
        }
    }
}

impl HtmlLinks {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            HtmlLinks::Keep => "keep",
            HtmlLinks::Inert => "inert",
        }
    }
}

impl NameAction {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameAction::Block => "block",
            NameAction::Report => "report",
        }
    }
}

impl HtmlOutput {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            HtmlOutput::Html => "html",
            HtmlOutput::Text => "text",
        }
    }
}

impl LogFormat {
    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// The notice that replaces a blocked mail part, in Japanese.
pub const DEFAULT_NOTICE_JA: &str = "添付ファイル「{name}」は無害化できなかったため削除しました（理由: {reason}）。原本は隔離保管されています（参照番号: {ref}）。必要な場合は管理者にお問い合わせください。";
/// The notice that replaces a blocked mail part, in English.
pub const DEFAULT_NOTICE_EN: &str = "The attachment \"{name}\" was removed because it could not be made safe (reason: {reason}). The original is held in quarantine (reference: {ref}). Contact your administrator if you need it.";

/// The file used when no configuration file is named and it exists in the current folder.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

/// The sections of `config.toml`, in order.
const SECTIONS: [&str; 13] = [
    "engine",
    "limits",
    "policy",
    "names",
    "archive",
    "ooxml",
    "odf",
    "pdf",
    "html",
    "mail",
    "quarantine",
    "log",
    "smtp",
];

/// Values accepted by `log.level`, least verbose first.
pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// The longest `limits.item_timeout_secs` accepted: one week.
pub const MAX_ITEM_TIMEOUT_SECS: u64 = 7 * 24 * 60 * 60;

/// One problem in a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted key path (`limits.max_depth`, `policy.kinds.docm`); `--set` for a malformed
    /// override; empty for problems with the file as a whole (unreadable, TOML syntax).
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { key: key.into(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

/// Every problem found in a configuration (at least one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors {
    /// The configuration file the errors are about, if one was read.
    pub file: Option<PathBuf>,
    pub errors: Vec<ConfigError>,
}

impl ConfigErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }
}

/// One error per line, each prefixed with the file name when there is one.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_char('\n')?;
            }
            if let Some(file) = &self.file {
                write!(f, "{}: ", file.display())?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Where a loaded configuration came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// This file (made absolute).
    File(PathBuf),
    /// No file: the built-in defaults, plus any `--set` overrides.
    BuiltIn,
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::File(p) => write!(f, "{}", p.display()),
            ConfigSource::BuiltIn => f.write_str("built-in defaults"),
        }
    }
}

// The file as written: every field optional (missing = default), unknown keys refused. These
// structures are the one description of which keys exist and what type each value has.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    engine: Option<RawEngine>,
    limits: Option<RawLimits>,
    policy: Option<RawPolicy>,
    names: Option<RawNames>,
    archive: Option<RawArchive>,
    ooxml: Option<RawOoxml>,
    odf: Option<RawOdf>,
    pdf: Option<RawPdf>,
    html: Option<RawHtml>,
    mail: Option<RawMail>,
    quarantine: Option<RawQuarantine>,
    log: Option<RawLog>,
    smtp: Option<RawSmtp>,
    dropfolder: Option<Vec<RawDropFolder>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDropFolder {
    inbox: Option<String>,
    clean: Option<String>,
    report: Option<String>,
    processing: Option<String>,
    settle_secs: Option<u64>,
    rescan_secs: Option<u64>,
    receipt_key: Option<String>,
    require_receipt: Option<bool>,
    trusted_keys: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    threads: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_input_bytes: Option<u64>,
    max_total_bytes: Option<u64>,
    max_entries: Option<u64>,
    max_depth: Option<u32>,
    max_ratio: Option<u64>,
    max_xml_depth: Option<u32>,
    max_objects: Option<u64>,
    max_stream_bytes: Option<u64>,
    max_entry_bytes: Option<u64>,
    max_nesting: Option<u32>,
    item_timeout_secs: Option<u64>,
}

/// One key per family, named as [`Family::as_str`] names them, plus per-kind exceptions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    ooxml: Option<KindAction>,
    ole2: Option<KindAction>,
    rtf: Option<KindAction>,
    odf: Option<KindAction>,
    pdf: Option<KindAction>,
    archive: Option<KindAction>,
    markup: Option<KindAction>,
    text: Option<KindAction>,
    image: Option<KindAction>,
    executable: Option<KindAction>,
    unknown: Option<KindAction>,
    /// Kind names are checked against [`Kind::from_name`] during validation.
    kinds: Option<BTreeMap<String, KindAction>>,
}

impl RawPolicy {
    fn family(&self, f: Family) -> Option<KindAction> {
        match f {
            Family::Ooxml => self.ooxml,
            Family::Ole2 => self.ole2,
            Family::Rtf => self.rtf,
            Family::Odf => self.odf,
            Family::Pdf => self.pdf,
            Family::Archive => self.archive,
            Family::Markup => self.markup,
            Family::Text => self.text,
            Family::Image => self.image,
            Family::Executable => self.executable,
            Family::Unknown => self.unknown,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNames {
    bidi_control: Option<NameAction>,
    double_extension: Option<NameAction>,
    clsid_extension: Option<NameAction>,
    executable_extension: Option<NameAction>,
    long_name: Option<NameAction>,
    max_name_chars: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArchive {
    on_blocked_entry: Option<BlockedEntryPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOoxml {
    hyperlinks: Option<HyperlinkPolicy>,
    embedded_documents: Option<EmbeddedPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOdf {
    hyperlinks: Option<HyperlinkPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPdf {
    embedded_files: Option<EmbeddedPolicy>,
    links: Option<LinkPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHtml {
    links: Option<HtmlLinks>,
    output: Option<HtmlOutput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    html: Option<MailHtml>,
    subject_tag: Option<String>,
    notice_ja: Option<String>,
    notice_en: Option<String>,
    max_header_bytes: Option<u64>,
    max_parts: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuarantine {
    dir: Option<String>,
    key_file: Option<String>,
    retention: Option<RawRetention>,
    release_dir: Option<String>,
}

/// `retention = "90d"`, or `0` written as a number (keep forever).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawRetention {
    Text(String),
    Number(i64),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
    format: Option<LogFormat>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    enabled: Option<bool>,
    listen: Option<String>,
    next_hop: Option<String>,
    next_hop_tls: Option<NextHopTls>,
    next_hop_ca_file: Option<String>,
    hostname: Option<String>,
    max_message_size: Option<u64>,
    max_connections: Option<usize>,
    max_messages_in_engine: Option<usize>,
    max_recipients: Option<usize>,
    max_header_bytes: Option<u64>,
    allowed_clients: Option<Vec<String>>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    command_timeout_secs: Option<u64>,
    data_timeout_secs: Option<u64>,
    relay_timeout_secs: Option<u64>,
    journal: Option<String>,
    receipt_key: Option<String>,
}

impl Config {
    /// Parses and validates a configuration.
    ///
    /// `base_dir` is the folder relative paths are resolved against (the configuration file's
    /// folder). `overrides` are `SECTION.KEY=VALUE` strings applied on top of `text` before
    /// validation; see [`Config::load`]. All problems are reported together.
    pub fn from_toml_str(text: &str, base_dir: &Path, overrides: &[String]) -> Result<Config, ConfigErrors> {
        let mut errors = Vec::new();
        let mut table = match text.parse::<toml::Table>() {
            Ok(t) => t,
            Err(e) => {
                // Keep going with an empty document so that the overrides are checked too.
                errors.push(syntax_error(text, &e));
                toml::Table::new()
            }
        };
        let set_paths = apply_overrides(&mut table, overrides, &mut errors);
        let first_checked = errors.len();
        let raw: RawConfig = deserialize_collecting(table, &mut errors);
        let config = validate(raw, base_dir, &mut errors);
        for e in &mut errors[first_checked..] {
            if set_paths.iter().any(|p| paths_overlap(p, &e.key)) {
                e.message.push_str(" (set with --set)");
            }
        }
        // In the order of config.toml: problems outside the known sections first.
        errors.sort_by_cached_key(|e| {
            let section = e.key.split('.').next().unwrap_or("");
            let rank = SECTIONS.iter().position(|s| *s == section).map_or(0, |i| i + 1);
            (rank, e.key.clone())
        });
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigErrors { file: None, errors })
        }
    }

    /// Loads the configuration.
    ///
    /// With `Some(path)` that file must exist. With `None`, `./config.toml` is used if it exists,
    /// and the built-in defaults ([`Config::default`]) otherwise, with relative paths resolved
    /// against the current folder.
    ///
    /// Each override is `SECTION.KEY=VALUE` (like `limits.max_depth=4` or
    /// `policy.kinds.docm=block`) and replaces that key before validation. The value is read as
    /// a TOML value (`42`, `true`, `"text"`); when it is not one, it is taken as a string, so
    /// `quarantine.dir=/tmp/q` needs no quotes (quote values that would otherwise read as a
    /// number or a boolean). A relative path set this way is resolved against the same folder
    /// as the paths in the file. An override naming an unknown key is an error like any other.
    pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<(Config, ConfigSource), ConfigErrors> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let default = Path::new(DEFAULT_CONFIG_FILE);
                // symlink_metadata: a dangling link named config.toml is reported, not skipped.
                if std::fs::symlink_metadata(default).is_ok() {
                    default.to_path_buf()
                } else {
                    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                    let config = Config::from_toml_str("", &cwd, overrides)?;
                    return Ok((config, ConfigSource::BuiltIn));
                }
            }
        };
        let file = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigErrors {
            file: Some(file.clone()),
            errors: vec![ConfigError::new("", format!("cannot read the configuration file: {e}"))],
        })?;
        let base_dir = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match Config::from_toml_str(&text, &base_dir, overrides) {
            Ok(config) => Ok((config, ConfigSource::File(file))),
            Err(mut e) => {
                e.file = Some(file);
                Err(e)
            }
        }
    }

    /// The configuration as TOML in the shape of `config.toml`, every key written out.
    /// Reading it back gives the same configuration (`item_timeout` is written in whole
    /// seconds).
    pub fn to_toml(&self) -> String {
        fn kv(out: &mut String, key: &str, value: impl fmt::Display) {
            let _ = writeln!(out, "{key} = {value}");
        }
        fn string(s: &str) -> toml::Value {
            toml::Value::String(s.to_owned())
        }
        let mut out = String::new();
        out.push_str("[engine]\n");
        kv(&mut out, "threads", self.engine.threads);

        let l = &self.limits;
        out.push_str("\n[limits]\n");
        kv(&mut out, "max_input_bytes", l.max_input_bytes);
        kv(&mut out, "max_total_bytes", l.max_total_bytes);
        kv(&mut out, "max_entries", l.max_entries);
        kv(&mut out, "max_depth", l.max_depth);
        kv(&mut out, "max_ratio", l.max_ratio);
        kv(&mut out, "max_xml_depth", l.max_xml_depth);
        kv(&mut out, "max_objects", l.max_objects);
        kv(&mut out, "max_stream_bytes", l.max_stream_bytes);
        kv(&mut out, "max_entry_bytes", l.max_entry_bytes);
        kv(&mut out, "max_nesting", l.max_nesting);
        kv(&mut out, "item_timeout_secs", l.item_timeout.as_secs());

        out.push_str("\n[policy]\n");
        for f in Family::ALL {
            // A family missing from the map is blocked (see PolicyConfig::action_for).
            let a = self.policy.families.get(&f).copied().unwrap_or(KindAction::Block);
            kv(&mut out, f.as_str(), string(a.as_str()));
        }
        out.push_str("\n[policy.kinds]\n");
        let kinds: BTreeMap<&str, KindAction> = self.policy.kinds.iter().map(|(k, a)| (k.as_str(), *a)).collect();
        for (name, a) in kinds {
            kv(&mut out, name, string(a.as_str()));
        }

        let n = &self.names;
        out.push_str("\n[names]\n");
        kv(&mut out, "bidi_control", string(n.bidi_control.as_str()));
        kv(&mut out, "double_extension", string(n.double_extension.as_str()));
        kv(&mut out, "clsid_extension", string(n.clsid_extension.as_str()));
        kv(&mut out, "executable_extension", string(n.executable_extension.as_str()));
        kv(&mut out, "long_name", string(n.long_name.as_str()));
        kv(&mut out, "max_name_chars", n.max_name_chars);

        out.push_str("\n[archive]\n");
        kv(&mut out, "on_blocked_entry", string(self.archive.on_blocked_entry.as_str()));

        out.push_str("\n[ooxml]\n");
        kv(&mut out, "hyperlinks", string(self.ooxml.hyperlinks.as_str()));
        kv(&mut out, "embedded_documents", string(self.ooxml.embedded_documents.as_str()));

        out.push_str("\n[odf]\n");
        kv(&mut out, "hyperlinks", string(self.odf.hyperlinks.as_str()));

        out.push_str("\n[pdf]\n");
        kv(&mut out, "embedded_files", string(self.pdf.embedded_files.as_str()));
        kv(&mut out, "links", string(self.pdf.links.as_str()));

        out.push_str("\n[html]\n");
        kv(&mut out, "links", string(self.html.links.as_str()));
        kv(&mut out, "output", string(self.html.output.as_str()));

        let m = &self.mail;
        out.push_str("\n[mail]\n");
        kv(&mut out, "html", string(m.html.as_str()));
        kv(&mut out, "subject_tag", string(&m.subject_tag));
        kv(&mut out, "notice_ja", string(&m.notice_ja));
        kv(&mut out, "notice_en", string(&m.notice_en));
        kv(&mut out, "max_header_bytes", m.max_header_bytes);
        kv(&mut out, "max_parts", m.max_parts);

        out.push_str("\n[quarantine]\n");
        let q = &self.quarantine;
        kv(&mut out, "dir", string(&q.dir.to_string_lossy()));
        kv(
            &mut out,
            "key_file",
            string(&q.key_file.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()),
        );
        let retention = match q.retention.map(|d| d.as_secs()) {
            Some(s) if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
            Some(s) if s.is_multiple_of(3600) => format!("{}h", s / 3600),
            Some(s) => format!("{s}s"),
            None => "0".into(),
        };
        kv(&mut out, "retention", string(&retention));
        kv(&mut out, "release_dir", string(&q.release_dir.to_string_lossy()));

        out.push_str("\n[log]\n");
        kv(&mut out, "level", string(&self.log.level));
        kv(&mut out, "format", string(self.log.format.as_str()));

        let m = &self.smtp;
        let path =
            |p: &Option<PathBuf>| string(&p.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default());
        out.push_str("\n[smtp]\n");
        kv(&mut out, "enabled", m.enabled);
        kv(&mut out, "listen", string(&m.listen));
        kv(&mut out, "next_hop", string(&m.next_hop));
        kv(&mut out, "next_hop_tls", string(m.next_hop_tls.as_str()));
        kv(&mut out, "next_hop_ca_file", path(&m.next_hop_ca_file));
        kv(&mut out, "hostname", string(&m.hostname));
        kv(&mut out, "max_message_size", m.max_message_size);
        kv(&mut out, "max_connections", m.max_connections);
        kv(&mut out, "max_messages_in_engine", m.max_messages_in_engine);
        kv(&mut out, "max_recipients", m.max_recipients);
        kv(&mut out, "max_header_bytes", m.max_header_bytes);
        let clients = toml::Value::Array(m.allowed_clients.iter().map(|c| string(c)).collect());
        kv(&mut out, "allowed_clients", clients);
        kv(&mut out, "tls_cert", path(&m.tls_cert));
        kv(&mut out, "tls_key", path(&m.tls_key));
        kv(&mut out, "command_timeout_secs", m.command_timeout.as_secs());
        kv(&mut out, "data_timeout_secs", m.data_timeout.as_secs());
        kv(&mut out, "relay_timeout_secs", m.relay_timeout.as_secs());
        kv(&mut out, "journal", path(&m.journal));
        kv(&mut out, "receipt_key", path(&m.receipt_key));
        for d in &self.dropfolders {
            let p = |p: &Path| string(&p.to_string_lossy());
            out.push_str("\n[[dropfolder]]\n");
            kv(&mut out, "inbox", p(&d.inbox));
            kv(&mut out, "clean", p(&d.clean));
            kv(&mut out, "report", p(&d.report));
            kv(&mut out, "processing", p(&d.processing));
            kv(&mut out, "settle_secs", d.settle.as_secs());
            kv(&mut out, "rescan_secs", d.rescan.as_secs());
            kv(&mut out, "receipt_key", path(&d.receipt_key));
            kv(&mut out, "require_receipt", d.require_receipt);
            let keys = toml::Value::Array(d.trusted_keys.iter().map(|k| p(k)).collect());
            kv(&mut out, "trusted_keys", keys);
        }
        out
    }
}

/// What the commands call to get their configuration from `--config` and `--set`.
pub fn load_for_cli(config: Option<&Path>, sets: &[String]) -> Result<(Config, ConfigSource), ConfigErrors> {
    Config::load(config, sets)
}

/// A TOML syntax error on one line, with its position.
fn syntax_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().replace('\n', "; ");
    let at = match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!(" at line {line}, column {column}")
        }
        None => String::new(),
    };
    ConfigError::new("", format!("TOML syntax error{at}: {message}"))
}

/// Applies `SECTION.KEY=VALUE` overrides to the parsed document; returns the key paths set.
fn apply_overrides(table: &mut toml::Table, overrides: &[String], errors: &mut Vec<ConfigError>) -> Vec<String> {
    let mut set = Vec::new();
    for o in overrides {
        match apply_override(table, o) {
            Ok(path) => set.push(path),
            Err(e) => errors.push(e),
        }
    }
    set
}

fn apply_override(table: &mut toml::Table, text: &str) -> Result<String, ConfigError> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(ConfigError::new(
            "--set",
            format!("`{text}`: expected SECTION.KEY=VALUE, e.g. limits.max_depth=4"),
        ));
    };
    let segments: Vec<&str> = key.split('.').map(str::trim).collect();
    if segments.len() < 2 || segments.iter().any(|s| s.is_empty()) {
        return Err(ConfigError::new(
            "--set",
            format!("`{text}`: the key must be SECTION.KEY, e.g. limits.max_depth=4"),
        ));
    }
    let value = value.trim();
    let value = value.parse::<toml::Value>().unwrap_or_else(|_| toml::Value::String(value.to_owned()));
    let (last, parents) = segments.split_last().expect("at least two segments");
    let mut t = table;
    for (i, seg) in parents.iter().enumerate() {
        let entry = t.entry(*seg).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match entry {
            toml::Value::Table(inner) => t = inner,
            _ => {
                return Err(ConfigError::new(
                    segments[..=i].join("."),
                    format!("is not a table, so --set cannot set `{}` inside it", segments.join(".")),
                ))
            }
        }
    }
    t.insert((*last).to_owned(), value);
    Ok(segments.join("."))
}

/// True when one dotted key path is the other or lies inside it.
fn paths_overlap(a: &str, b: &str) -> bool {
    let inside = |long: &str, short: &str| long.strip_prefix(short).is_some_and(|rest| rest.starts_with('.'));
    a == b || inside(a, b) || inside(b, a)
}

/// Deserializes the whole document. Serde stops at the first problem, so when that fails every
/// key that does not fit is found and reported, and the document is deserialized again without
/// those keys, so that the rest can still be validated.
fn deserialize_collecting<T: DeserializeOwned + Default>(table: toml::Table, errors: &mut Vec<ConfigError>) -> T {
    let mut root = toml::Value::Table(table);
    if let Ok(v) = T::deserialize(root.clone()) {
        return v;
    }
    let mut bad = Vec::new();
    diagnose::<T>(&mut Vec::new(), &root, &mut bad);
    for (path, message) in bad {
        errors.push(ConfigError::new(key_path(&path), message));
        remove_path(&mut root, &path);
    }
    match T::deserialize(root) {
        Ok(v) => v,
        Err(e) => {
            // Not expected: every key that failed alone has been removed.
            errors.push(ConfigError::new("", e.message().to_owned()));
            T::default()
        }
    }
}

/// Finds why `value`, found at `path`, does not fit `T`. A table that fits when empty is
/// searched key by key (each key tried alone, which works because every field is optional),
/// so that each bad key is reported at its own path.
fn diagnose<T: DeserializeOwned>(path: &mut Vec<String>, value: &toml::Value, bad: &mut Vec<(Vec<String>, String)>) {
    if let toml::Value::Table(t) = value {
        if !t.is_empty() && fits::<T>(path, toml::Value::Table(toml::Table::new())).is_ok() {
            let before = bad.len();
            for (k, v) in t {
                path.push(k.clone());
                if fits::<T>(path, v.clone()).is_err() {
                    diagnose::<T>(path, v, bad);
                }
                path.pop();
            }
            if bad.len() > before {
                return;
            }
        }
    }
    if let Err(e) = fits::<T>(path, value.clone()) {
        let message = explain::<T>(path, value, e.message());
        bad.push((path.clone(), message));
    }
}

/// Tries a document holding only `value` at `path`.
fn fits<T: DeserializeOwned>(path: &[String], value: toml::Value) -> Result<(), toml::de::Error> {
    let mut v = value;
    for seg in path.iter().rev() {
        let mut t = toml::Table::new();
        t.insert(seg.clone(), v);
        v = toml::Value::Table(t);
    }
    T::deserialize(v).map(|_| ())
}

fn remove_path(root: &mut toml::Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        *root = toml::Value::Table(toml::Table::new());
        return;
    };
    let mut v = root;
    for seg in parents {
        match v.get_mut(seg.as_str()) {
            Some(inner) => v = inner,
            None => return,
        }
    }
    if let toml::Value::Table(t) = v {
        t.remove(last.as_str());
    }
}

/// Rewords a serde message about `value` at `path` in the terms of a configuration file.
fn explain<T: DeserializeOwned>(path: &[String], value: &toml::Value, message: &str) -> String {
    let quote_list = |list: &str| list.replace('`', "");
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        let expected = expected.strip_prefix("one of ").unwrap_or(expected);
        return format!("unknown key; expected one of: {}", quote_list(expected));
    }
    if message.starts_with("unknown variant `") {
        return format!("expected {}, found {}", variants(message), describe(value));
    }
    let expected = message.rsplit_once(", expected ").map_or("", |(_, e)| e);
    let expected = match expected {
        "u32" => format!("a whole number from 0 to {}", u32::MAX),
        "u64" | "usize" => "a whole number (0 or more)".to_owned(),
        "a map" => "a table".to_owned(),
        e if e.starts_with("struct ") => "a table".to_owned(),
        // An enum given something other than a string: ask for the list of names.
        "string only" => match fits::<T>(path, toml::Value::String(String::new())) {
            Err(e) if e.message().starts_with("unknown variant `") => variants(e.message()),
            _ => "a string".to_owned(),
        },
        "" => return message.to_owned(),
        e => e.to_owned(),
    };
    format!("expected {expected}, found {}", describe(value))
}

/// What serde's "unknown variant" message expects ("one of `a`, `b`" or "`a` or `b`"), with
/// the names written as TOML strings.
fn variants(message: &str) -> String {
    let list = message.split_once(", expected ").map_or("", |(_, e)| e);
    list.replace('`', "\"")
}

/// A value as the error messages describe it.
fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(_) => format!("the string {value}"),
        toml::Value::Integer(i) => format!("the integer {i}"),
        toml::Value::Float(f) => format!("the number {f}"),
        toml::Value::Boolean(b) => format!("{b}"),
        toml::Value::Datetime(d) => format!("the date-time {d}"),
        toml::Value::Array(_) => "an array".to_owned(),
        toml::Value::Table(_) => "a table".to_owned(),
    }
}

/// Turns the file as written into a [`Config`], checking the rules the types cannot express.
fn validate(raw: RawConfig, base_dir: &Path, errors: &mut Vec<ConfigError>) -> Config {
    let mut c = Config::default();

    if let Some(threads) = raw.engine.and_then(|e| e.threads) {
        c.engine.threads = threads;
    }

    if let Some(l) = raw.limits {
        let lim = &mut c.limits;
        positive(&mut lim.max_input_bytes, l.max_input_bytes, "limits.max_input_bytes", errors);
        positive(&mut lim.max_total_bytes, l.max_total_bytes, "limits.max_total_bytes", errors);
        positive(&mut lim.max_entries, l.max_entries, "limits.max_entries", errors);
        positive(&mut lim.max_depth, l.max_depth, "limits.max_depth", errors);
        positive(&mut lim.max_xml_depth, l.max_xml_depth, "limits.max_xml_depth", errors);
        positive(&mut lim.max_objects, l.max_objects, "limits.max_objects", errors);
        positive(&mut lim.max_stream_bytes, l.max_stream_bytes, "limits.max_stream_bytes", errors);
        positive(&mut lim.max_entry_bytes, l.max_entry_bytes, "limits.max_entry_bytes", errors);
        positive(&mut lim.max_nesting, l.max_nesting, "limits.max_nesting", errors);
        match l.max_ratio {
            Some(r) if r < 2 => {
                errors.push(ConfigError::new("limits.max_ratio", format!("must be at least 2 (found {r})")))
            }
            Some(r) => lim.max_ratio = r,
            None => {}
        }
        match l.item_timeout_secs {
            Some(0) => errors.push(ConfigError::new("limits.item_timeout_secs", "must be greater than 0")),
            Some(s) if s > MAX_ITEM_TIMEOUT_SECS => errors.push(ConfigError::new(
                "limits.item_timeout_secs",
                format!("must be at most {MAX_ITEM_TIMEOUT_SECS} (one week), found {s}"),
            )),
            Some(s) => lim.item_timeout = Duration::from_secs(s),
            None => {}
        }
    }

    if let Some(p) = raw.policy {
        for f in Family::ALL {
            let Some(a) = p.family(f) else { continue };
            match action_allowed(f, a) {
                Ok(()) => {
                    c.policy.families.insert(f, a);
                }
                Err(why) => errors.push(ConfigError::new(format!("policy.{}", f.as_str()), why)),
            }
        }
        for (name, a) in p.kinds.unwrap_or_default() {
            let key = format!("policy.kinds.{}", key_segment(&name));
            let Some(kind) = Kind::from_name(&name) else {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                errors.push(ConfigError::new(key, format!("unknown kind; expected one of: {}", names.join(", "))));
                continue;
            };
            match action_allowed(kind.family(), a) {
                Ok(()) => {
                    c.policy.kinds.insert(kind, a);
                }
                Err(why) => errors.push(ConfigError::new(
                    key,
                    format!("{why}; `{name}` is in the {} family", kind.family().as_str()),
                )),
            }
        }
    }

    if let Some(n) = raw.names {
        let names = &mut c.names;
        for (slot, v) in [
            (&mut names.bidi_control, n.bidi_control),
            (&mut names.double_extension, n.double_extension),
            (&mut names.clsid_extension, n.clsid_extension),
            (&mut names.executable_extension, n.executable_extension),
            (&mut names.long_name, n.long_name),
        ] {
            if let Some(v) = v {
                *slot = v;
            }
        }
        match n.max_name_chars {
            Some(0) => errors.push(ConfigError::new("names.max_name_chars", "must be greater than 0")),
            Some(m) => names.max_name_chars = m,
            None => {}
        }
    }

    if let Some(e) = raw.archive.and_then(|a| a.on_blocked_entry) {
        c.archive.on_blocked_entry = e;
    }

    if let Some(o) = raw.ooxml {
        if let Some(h) = o.hyperlinks {
            c.ooxml.hyperlinks = h;
        }
        if let Some(e) = o.embedded_documents {
            c.ooxml.embedded_documents = e;
        }
    }

    if let Some(h) = raw.odf.and_then(|o| o.hyperlinks) {
        c.odf.hyperlinks = h;
    }

    if let Some(p) = raw.pdf {
        if let Some(e) = p.embedded_files {
            c.pdf.embedded_files = e;
        }
        if let Some(l) = p.links {
            c.pdf.links = l;
        }
    }

    if let Some(h) = raw.html {
        if let Some(l) = h.links {
            c.html.links = l;
        }
        if let Some(o) = h.output {
            c.html.output = o;
        }
    }

    if let Some(m) = raw.mail {
        if let Some(h) = m.html {
            c.mail.html = h;
        }
        if let Some(t) = m.subject_tag {
            c.mail.subject_tag = t;
        }
        if let Some(t) = m.notice_ja {
            c.mail.notice_ja = t;
        }
        if let Some(t) = m.notice_en {
            c.mail.notice_en = t;
        }
        match m.max_header_bytes {
            Some(0) => errors.push(ConfigError::new("mail.max_header_bytes", "must be at least 1")),
            Some(n) => c.mail.max_header_bytes = n,
            None => {}
        }
        match m.max_parts {
            Some(0) => errors.push(ConfigError::new("mail.max_parts", "must be at least 1")),
            Some(n) => c.mail.max_parts = n,
            None => {}
        }
    }

    let rq = raw.quarantine.unwrap_or_default();
    match rq.dir {
        Some(d) if d.is_empty() => errors.push(ConfigError::new("quarantine.dir", "must not be empty")),
        Some(d) => c.quarantine.dir = PathBuf::from(d),
        None => {}
    }
    c.quarantine.dir = base_dir.join(&c.quarantine.dir);
    c.quarantine.key_file = rq.key_file.filter(|p| !p.is_empty()).map(|p| base_dir.join(p));
    if let Some(r) = rq.retention {
        let r = match r {
            RawRetention::Text(t) => t,
            RawRetention::Number(n) => n.to_string(),
        };
        match crate::quarantine::when::parse_duration(&r) {
            Ok(d) if d.is_zero() => c.quarantine.retention = None,
            Ok(d) if d.as_secs() < 3600 => errors.push(ConfigError::new(
                "quarantine.retention",
                format!("must be at least 1h (or \"0\" to keep items forever), found `{r}`"),
            )),
            Ok(d) => c.quarantine.retention = Some(d),
            Err(_) => errors.push(ConfigError::new(
                "quarantine.retention",
                format!("expected a duration like \"90d\" or \"26w\" (\"0\" keeps items forever), found `{r}`"),
            )),
        }
    }
    // The release folder follows the quarantine folder unless placed elsewhere.
    c.quarantine.release_dir = match rq.release_dir.filter(|p| !p.is_empty()) {
        Some(p) => base_dir.join(p),
        None => c.quarantine.dir.join("released"),
    };

    if let Some(l) = raw.log {
        if let Some(level) = l.level {
            let lower = level.to_ascii_lowercase();
            if LOG_LEVELS.contains(&lower.as_str()) {
                c.log.level = lower;
            } else {
                errors.push(ConfigError::new(
                    "log.level",
                    format!("unknown level `{level}`; expected one of: {}", LOG_LEVELS.join(", ")),
                ));
            }
        }
        if let Some(f) = l.format {
            c.log.format = f;
        }
    }

    if let Some(m) = raw.smtp {
        validate_smtp(&mut c.smtp, m, base_dir, errors);
    }
    // A message the engine would block for its size must be refused at MAIL SIZE and while
    // it arrives, not disarmed, blocked and bounced after the dot.
    if c.smtp.max_message_size > c.limits.max_input_bytes {
        errors.push(ConfigError::new(
            "smtp.max_message_size",
            format!(
                "must not exceed limits.max_input_bytes ({}), found {}",
                c.limits.max_input_bytes, c.smtp.max_message_size
            ),
        ));
    }

    for (i, d) in raw.dropfolder.unwrap_or_default().into_iter().enumerate() {
        if let Some(d) = validate_dropfolder(i, d, base_dir, errors) {
            c.dropfolders.push(d);
        }
    }

    // The SMTP delivery journal sits beside the quarantine folder unless placed elsewhere.
    if c.smtp.journal.is_none() {
        c.smtp.journal = Some(c.quarantine.dir.with_file_name("smtp-delivered.journal"));
    }
    c
}

fn validate_dropfolder(
    i: usize,
    d: RawDropFolder,
    base_dir: &Path,
    errors: &mut Vec<ConfigError>,
) -> Option<DropFolderConfig> {
    let key = |k: &str| format!("dropfolder[{i}].{k}");
    let before = errors.len();
    let mut required = |v: Option<String>, k: &str| match v.filter(|v| !v.is_empty()) {
        Some(v) => base_dir.join(v),
        None => {
            errors.push(ConfigError::new(key(k), "is required"));
            PathBuf::new()
        }
    };
    let inbox = required(d.inbox, "inbox");
    let clean = required(d.clean, "clean");
    let report = required(d.report, "report");
    let processing = d.processing.filter(|p| !p.is_empty()).map(|p| base_dir.join(p)).unwrap_or_else(|| {
        // Beside the inbox (so on its file system, unless the inbox is a mount point of its
        // own) and outside it (so that its changes wake no scan).
        let name = inbox.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "inbox".into());
        inbox.with_file_name(format!("{name}.processing"))
    });
    // Clean copies or reports written inside the inbox would be taken as new files, and an
    // inbox inside them would be written into: the folders must be apart.
    let folders = [("inbox", &inbox), ("clean", &clean), ("report", &report)];
    for (a, pa) in folders {
        for (b, pb) in folders {
            if a < b
                && !pa.as_os_str().is_empty()
                && !pb.as_os_str().is_empty()
                && (pa.starts_with(pb) || pb.starts_with(pa))
            {
                errors.push(ConfigError::new(key(b), format!("must not be inside `{a}` or contain it")));
            }
        }
    }
    let mut settle = Duration::from_secs(5);
    let mut rescan = Duration::from_secs(30);
    if let Some(n) = d.settle_secs {
        settle = Duration::from_secs(n);
    }
    match d.rescan_secs {
        Some(0) => errors.push(ConfigError::new(key("rescan_secs"), "must be greater than 0")),
        Some(n) => rescan = Duration::from_secs(n),
        None => {}
    }
    let trusted_keys: Vec<PathBuf> = d.trusted_keys.unwrap_or_default().into_iter().map(|k| base_dir.join(k)).collect();
    let require_receipt = d.require_receipt.unwrap_or(false);
    if require_receipt && trusted_keys.is_empty() {
        errors.push(ConfigError::new(key("trusted_keys"), "must name at least one key when require_receipt = true"));
    }
    let receipt_key = d.receipt_key.filter(|k| !k.is_empty()).map(|k| base_dir.join(k));
    (errors.len() == before).then_some(DropFolderConfig {
        inbox,
        clean,
        report,
        processing,
        settle,
        rescan,
        receipt_key,
        require_receipt,
        trusted_keys,
    })
}

fn validate_smtp(c: &mut SmtpConfig, m: RawSmtp, base_dir: &Path, errors: &mut Vec<ConfigError>) {
    if let Some(e) = m.enabled {
        c.enabled = e;
    }
    if let Some(l) = m.listen {
        match l.parse::<std::net::SocketAddr>() {
            Ok(_) => c.listen = l,
            Err(_) => errors.push(ConfigError::new(
                "smtp.listen",
                format!("expected an address and port like 127.0.0.1:10025, found `{l}`"),
            )),
        }
    }
    if let Some(n) = m.next_hop {
        match n.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
            Some((h, Ok(p))) if !h.is_empty() && p > 0 => c.next_hop = n,
            _ => errors.push(ConfigError::new(
                "smtp.next_hop",
                format!("expected host:port like 127.0.0.1:10026, found `{n}`"),
            )),
        }
    }
    if let Some(t) = m.next_hop_tls {
        c.next_hop_tls = t;
    }
    let opt_path = |p: Option<String>| p.filter(|p| !p.is_empty()).map(|p| base_dir.join(p));
    if let Some(p) = m.next_hop_ca_file {
        c.next_hop_ca_file = opt_path(Some(p));
    }
    if let Some(h) = m.hostname {
        if h.is_empty() || h.contains(|ch: char| ch.is_whitespace() || ch.is_control()) {
            errors.push(ConfigError::new("smtp.hostname", "must be a host name without spaces"));
        } else {
            c.hostname = h;
        }
    }
    positive(&mut c.max_message_size, m.max_message_size, "smtp.max_message_size", errors);
    positive(&mut c.max_header_bytes, m.max_header_bytes, "smtp.max_header_bytes", errors);
    for (slot, v, key) in [
        (&mut c.max_connections, m.max_connections, "smtp.max_connections"),
        (&mut c.max_messages_in_engine, m.max_messages_in_engine, "smtp.max_messages_in_engine"),
        (&mut c.max_recipients, m.max_recipients, "smtp.max_recipients"),
    ] {
        match v {
            Some(0) => errors.push(ConfigError::new(key, "must be greater than 0")),
            Some(v) => *slot = v,
            None => {}
        }
    }
    if let Some(list) = m.allowed_clients {
        let bad: Vec<&String> = list.iter().filter(|n| parse_network(n).is_none()).collect();
        if bad.is_empty() {
            c.allowed_clients = list;
        } else {
            let bad: Vec<&str> = bad.iter().map(|s| s.as_str()).collect();
            errors.push(ConfigError::new(
                "smtp.allowed_clients",
                format!("expected networks like 127.0.0.0/8 or addresses like ::1, found `{}`", bad.join("`, `")),
            ));
        }
    }
    if let Some(p) = m.tls_cert {
        c.tls_cert = opt_path(Some(p));
    }
    if let Some(p) = m.tls_key {
        c.tls_key = opt_path(Some(p));
    }
    if let Some(p) = m.journal {
        c.journal = opt_path(Some(p));
    }
    if let Some(p) = m.receipt_key {
        c.receipt_key = opt_path(Some(p));
    }
    if c.tls_cert.is_some() != c.tls_key.is_some() {
        errors.push(ConfigError::new("smtp.tls_cert", "tls_cert and tls_key are set together or not at all"));
    }
    for (slot, v, key) in [
        (&mut c.command_timeout, m.command_timeout_secs, "smtp.command_timeout_secs"),
        (&mut c.data_timeout, m.data_timeout_secs, "smtp.data_timeout_secs"),
        (&mut c.relay_timeout, m.relay_timeout_secs, "smtp.relay_timeout_secs"),
    ] {
        match v {
            Some(0) => errors.push(ConfigError::new(key, "must be greater than 0")),
            Some(s) if s > MAX_ITEM_TIMEOUT_SECS => errors
                .push(ConfigError::new(key, format!("must be at most {MAX_ITEM_TIMEOUT_SECS} (one week), found {s}"))),
            Some(s) => *slot = Duration::from_secs(s),
            None => {}
        }
    }
}

/// A network in CIDR notation (`10.0.0.0/8`) or one address (`::1`): the network address and
/// prefix length, or None when it is not one.
pub fn parse_network(text: &str) -> Option<(std::net::IpAddr, u8)> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let addr: std::net::IpAddr = addr.trim().parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
        None => max,
    };
    Some((addr, prefix))
}

/// Whether `ip` lies in the network `(net, prefix)` (IPv4-mapped IPv6 addresses count as IPv4).
pub fn network_contains(net: (std::net::IpAddr, u8), ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match (net.0, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if net.1 == 0 { 0 } else { u32::MAX << (32 - u32::from(net.1)) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if net.1 == 0 { 0 } else { u128::MAX << (128 - u32::from(net.1)) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Sets a limit that must be greater than 0.
fn positive<T: Copy + Into<u64>>(slot: &mut T, value: Option<T>, key: &str, errors: &mut Vec<ConfigError>) {
    match value {
        Some(v) if v.into() == 0 => errors.push(ConfigError::new(key, "must be greater than 0")),
        Some(v) => *slot = v,
        None => {}
    }
}

/// Whether the policy may apply `action` to content of `family`; the reason when not.
fn action_allowed(family: Family, action: KindAction) -> Result<(), String> {
    match (family, action) {
        (Family::Executable | Family::Unknown, KindAction::Block) => Ok(()),
        (Family::Executable | Family::Unknown, _) => {
            Err("must be \"block\": programs, scripts and unrecognised content are always blocked, \
             mugai fails closed"
                .to_owned())
        }
        (Family::Text | Family::Image | Family::Markup, _) | (_, KindAction::Disarm | KindAction::Block) => Ok(()),
        (_, KindAction::Keep) => Err("\"keep\" is allowed only for the text, image and markup families: documents, \
             archives and PDFs are never passed on unparsed (use \"disarm\" or \"block\")"
            .to_owned()),
    }
}

fn key_path(path: &[String]) -> String {
    path.iter().map(|k| key_segment(k)).collect::<Vec<_>>().join(".")
}

/// A key as it would be written in a dotted key path (quoted unless it is a bare key).
fn key_segment(key: &str) -> String {
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        toml::Value::String(key.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../config.toml");

    fn parse(text: &str, sets: &[&str]) -> Result<Config, ConfigErrors> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Config::from_toml_str(text, Path::new("/etc/mugai"), &sets)
    }

    fn errors(text: &str, sets: &[&str]) -> Vec<ConfigError> {
        parse(text, sets).expect_err("the configuration should be refused").errors
    }

    fn error_at<'a>(errors: &'a [ConfigError], key: &str) -> &'a ConfigError {
        errors.iter().find(|e| e.key == key).unwrap_or_else(|| panic!("no error for {key} in {errors:#?}"))
    }

    fn defaults_in(base: &Path) -> Config {
        let mut c = Config::default();
        c.quarantine.dir = base.join("quarantine");
        c.quarantine.release_dir = base.join("quarantine/released");
        c.smtp.journal = Some(base.join("smtp-delivered.journal"));
        c
    }

    #[test]
    fn shipped_config_is_the_defaults() {
        let c = parse(SHIPPED, &[]).unwrap();
        assert_eq!(c, defaults_in(Path::new("/etc/mugai")));
        assert_eq!(c.quarantine.dir, PathBuf::from("/etc/mugai/quarantine"));
    }

    #[test]
    fn drop_folders_are_checked_and_resolved() {
        let c = parse("[[dropfolder]]\ninbox = \"in\"\nclean = \"out\"\nreport = \"rep\"\n", &[]).unwrap();
        let d = &c.dropfolders[0];
        assert_eq!(d.inbox, PathBuf::from("/etc/mugai/in"));
        assert_eq!(d.processing, PathBuf::from("/etc/mugai/in.processing"));
        assert_eq!((d.settle.as_secs(), d.rescan.as_secs(), d.require_receipt), (5, 30, false));
        // Shown by check-config, and read back the same.
        assert_eq!(parse(&c.to_toml(), &[]).unwrap().dropfolders, c.dropfolders);

        let e = errors("[[dropfolder]]\nclean = \"out\"\nreport = \"rep\"\n", &[]);
        assert!(error_at(&e, "dropfolder[0].inbox").message.contains("required"));
        let e =
            errors("[[dropfolder]]\ninbox = \"in\"\nclean = \"in/clean\"\nreport = \"rep\"\nrescan_secs = 0\n", &[]);
        assert!(error_at(&e, "dropfolder[0].inbox").message.contains("inside"), "{e:?}");
        error_at(&e, "dropfolder[0].rescan_secs");
        let e = errors("[[dropfolder]]\ninbox = \"in\"\nclean = \"c\"\nreport = \"r\"\nrequire_receipt = true\n", &[]);
        error_at(&e, "dropfolder[0].trusted_keys");
        let e = errors("[[dropfolder]]\ninbox = \"in\"\nclean = \"c\"\nreport = \"r\"\nsettle = 3\n", &[]);
        assert!(!e.is_empty(), "unknown keys are refused");
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(parse("", &[]).unwrap(), defaults_in(Path::new("/etc/mugai")));
    }

    #[test]
    fn shipped_config_has_every_key() {
        let shipped: toml::Table = SHIPPED.parse().unwrap();
        let full: toml::Table = Config::default().to_toml().parse().unwrap();
        for (section, keys) in &full {
            let keys = keys.as_table().unwrap();
            let in_file = shipped[section].as_table().unwrap();
            let a: Vec<_> = keys.keys().collect();
            let b: Vec<_> = in_file.keys().collect();
            assert_eq!(a, b, "keys of [{section}]");
        }
        assert_eq!(full.keys().collect::<Vec<_>>(), shipped.keys().collect::<Vec<_>>());
    }

    #[test]
    fn every_key_in_the_shipped_config_is_documented() {
        let lines: Vec<&str> = SHIPPED.lines().map(str::trim).collect();
        let mut section = "";
        let mut limits = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with('[') {
                section = line;
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = line.split('=').next().unwrap().trim();
            assert!(i > 0 && lines[i - 1].starts_with('#'), "`{key}` in {section} has no comment line just above it");
            if section == "[limits]" {
                limits.push(key);
            }
        }
        assert_eq!(
            limits,
            [
                "max_input_bytes",
                "max_total_bytes",
                "max_entries",
                "max_depth",
                "max_ratio",
                "max_xml_depth",
                "max_objects",
                "max_stream_bytes",
                "max_entry_bytes",
                "max_nesting",
                "item_timeout_secs"
            ]
        );
    }

    #[test]
    fn policy_keys_are_the_family_names() {
        for f in Family::ALL {
            let c = parse(&format!("[policy]\n{} = \"block\"", f.as_str()), &[]).unwrap();
            assert_eq!(c.policy.families[&f], KindAction::Block, "{}", f.as_str());
        }
    }

    #[test]
    fn value_names_are_the_serde_names() {
        #[derive(Deserialize)]
        struct Probe {
            a: KindAction,
            h: HyperlinkPolicy,
            e: EmbeddedPolicy,
            f: LogFormat,
        }
        let all = [KindAction::Disarm, KindAction::Block, KindAction::Keep];
        for (i, a) in all.into_iter().enumerate() {
            let h = [HyperlinkPolicy::Keep, HyperlinkPolicy::Web, HyperlinkPolicy::Remove][i];
            let e = [EmbeddedPolicy::Disarm, EmbeddedPolicy::Remove][i % 2];
            let f = [LogFormat::Text, LogFormat::Json][i % 2];
            let text = format!(
                "a = \"{}\"\nh = \"{}\"\ne = \"{}\"\nf = \"{}\"",
                a.as_str(),
                h.as_str(),
                e.as_str(),
                f.as_str()
            );
            let p: Probe = toml::from_str(&text).unwrap();
            assert_eq!((p.a, p.h, p.e, p.f), (a, h, e, f));
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = errors("[limits]\nmax_dept = 4\n", &[]);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].key, "limits.max_dept");
        assert!(e[0].message.contains("unknown key"), "{}", e[0].message);
        assert!(e[0].message.contains("max_depth"), "{}", e[0].message);

        let e = errors("[limitz]\nmax_depth = 4\n", &[]);
        assert_eq!(e[0].key, "limitz");
        let e = errors("threads = 4\n", &[]);
        assert_eq!(e[0].key, "threads");
    }

    #[test]
    fn all_errors_are_listed_at_once() {
        let text = "[engine]\nthreads = -1\n\
                    [limits]\nbogus = 1\nmax_entries = 0\n\
                    [policy]\npdf = \"dissarm\"\nooxml = \"keep\"\n\
                    [policy.kinds]\nnope = \"block\"\n\
                    [log]\nlevel = \"loud\"\n";
        let e = errors(text, &["ooxml.hyperlinks=maybe"]);
        let keys: Vec<&str> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "engine.threads",
                "limits.bogus",
                "limits.max_entries",
                "policy.kinds.nope",
                "policy.ooxml",
                "policy.pdf",
                "ooxml.hyperlinks",
                "log.level"
            ]
        );
        let shown = ConfigErrors { file: Some("/etc/mugai/config.toml".into()), errors: e }.to_string();
        assert_eq!(shown.lines().count(), 8);
        assert!(shown.lines().all(|l| l.starts_with("/etc/mugai/config.toml: ")));
    }

    #[test]
    fn bad_values_say_what_is_expected() {
        let e = errors("[policy]\npdf = \"dissarm\"\n", &[]);
        let m = &error_at(&e, "policy.pdf").message;
        assert!(m.contains("\"disarm\", \"block\", \"keep\""), "{m}");
        assert!(m.contains("\"dissarm\""), "{m}");

        let e = errors("[ooxml]\nhyperlinks = 1\n[log]\nformat = \"xml\"\n", &[]);
        assert!(error_at(&e, "ooxml.hyperlinks").message.contains("\"web\""));
        assert!(error_at(&e, "log.format").message.contains("\"json\""));

        let e = errors("[limits]\nmax_depth = \"deep\"\nmax_ratio = -3\n", &[]);
        assert!(error_at(&e, "limits.max_depth").message.contains("whole number"));
        assert!(error_at(&e, "limits.max_ratio").message.contains("whole number"));

        let e = errors("limits = 3\n", &[]);
        assert!(error_at(&e, "limits").message.contains("expected a table"));
    }

    #[test]
    fn smtp_values_are_checked() {
        let text = "[smtp]\nlisten = \"localhost\"\nnext_hop = \"nohost\"\nallowed_clients = [\"10.0.0.0/8\", \"10.0.0.0/99\", \"x\"]\n\
                    tls_cert = \"cert.pem\"\nmax_connections = 0\nrelay_timeout_secs = 0\nhostname = \"a b\"\n";
        let e = errors(text, &[]);
        assert!(error_at(&e, "smtp.listen").message.contains("address and port"));
        assert!(error_at(&e, "smtp.next_hop").message.contains("host:port"));
        assert!(error_at(&e, "smtp.allowed_clients").message.contains("`10.0.0.0/99`, `x`"));
        assert!(error_at(&e, "smtp.tls_cert").message.contains("together"));
        assert!(error_at(&e, "smtp.max_connections").message.contains("greater than 0"));
        assert!(error_at(&e, "smtp.relay_timeout_secs").message.contains("greater than 0"));
        assert!(error_at(&e, "smtp.hostname").message.contains("without spaces"));
        let e = errors("[limits]\nmax_input_bytes = 1000\n", &[]);
        assert!(error_at(&e, "smtp.max_message_size").message.contains("must not exceed"));
        let c = parse("[smtp]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\nnext_hop = \"[::1]:25\"\n", &[]).unwrap();
        assert_eq!(c.smtp.tls_cert, Some(PathBuf::from("/etc/mugai/c.pem")));
        assert_eq!(c.smtp.next_hop, "[::1]:25");
    }

    #[test]
    fn allowed_clients_match_their_networks() {
        let net = parse_network("127.0.0.0/8").unwrap();
        assert!(network_contains(net, "127.1.2.3".parse().unwrap()));
        assert!(network_contains(net, "::ffff:127.0.0.1".parse().unwrap()));
        assert!(!network_contains(net, "128.0.0.1".parse().unwrap()));
        let one = parse_network("::1").unwrap();
        assert!(network_contains(one, "::1".parse().unwrap()) && !network_contains(one, "::2".parse().unwrap()));
        let all = parse_network("0.0.0.0/0").unwrap();
        assert!(network_contains(all, "192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn limits_must_be_positive() {
        for key in [
            "max_input_bytes",
            "max_total_bytes",
            "max_entries",
            "max_depth",
            "max_xml_depth",
            "max_objects",
            "max_stream_bytes",
            "max_entry_bytes",
            "max_nesting",
            "item_timeout_secs",
        ] {
            let e = errors(&format!("[limits]\n{key} = 0\n"), &[]);
            assert!(error_at(&e, &format!("limits.{key}")).message.contains("greater than 0"));
        }
        let e = errors("[limits]\nmax_ratio = 1\n", &[]);
        assert!(error_at(&e, "limits.max_ratio").message.contains("at least 2"));
        let c = parse("[limits]\nmax_ratio = 2\n[engine]\nthreads = 0\n", &[]).unwrap();
        assert_eq!(c.limits.max_ratio, 2);
        let e = errors("[limits]\nitem_timeout_secs = 99999999999\n", &[]);
        assert!(error_at(&e, "limits.item_timeout_secs").message.contains("at most"));
        let c = parse("[limits]\nitem_timeout_secs = 5\n", &[]).unwrap();
        assert_eq!(c.limits.item_timeout, Duration::from_secs(5));
    }

    #[test]
    fn keep_is_refused_for_documents_and_executables() {
        let e = errors("[policy]\nooxml = \"keep\"\npdf = \"keep\"\narchive = \"keep\"\n", &[]);
        for key in ["policy.ooxml", "policy.pdf", "policy.archive"] {
            assert!(error_at(&e, key).message.contains("never passed on unparsed"));
        }
        let e = errors("[policy.kinds]\ndocx = \"keep\"\n", &[]);
        assert!(error_at(&e, "policy.kinds.docx").message.contains("ooxml family"));

        let e = errors("[policy]\nexecutable = \"keep\"\nunknown = \"disarm\"\n", &[]);
        for key in ["policy.executable", "policy.unknown"] {
            assert!(error_at(&e, key).message.contains("fails closed"));
        }
        let e = errors("[policy.kinds]\npe = \"disarm\"\nscript = \"keep\"\n", &[]);
        assert!(error_at(&e, "policy.kinds.pe").message.contains("fails closed"));
        assert!(error_at(&e, "policy.kinds.script").message.contains("fails closed"));
    }

    #[test]
    fn keep_is_allowed_for_data_families() {
        let c = parse(
            "[policy]\nmarkup = \"keep\"\ntext = \"block\"\nimage = \"disarm\"\n\
             [policy.kinds]\nsvg = \"block\"\npng = \"keep\"\ndocm = \"block\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.policy.action_for(Kind::Html), KindAction::Keep);
        assert_eq!(c.policy.action_for(Kind::Svg), KindAction::Block);
        assert_eq!(c.policy.action_for(Kind::Png), KindAction::Keep);
        assert_eq!(c.policy.action_for(Kind::Gif), KindAction::Disarm);
        assert_eq!(c.policy.action_for(Kind::Docm), KindAction::Block);
        assert_eq!(c.policy.action_for(Kind::Docx), KindAction::Disarm);
    }

    #[test]
    fn unknown_kind_names_are_refused() {
        let e = errors("[policy.kinds]\ndocmx = \"block\"\n", &[]);
        let m = &error_at(&e, "policy.kinds.docmx").message;
        assert!(m.contains("unknown kind") && m.contains("docm"), "{m}");
    }

    #[test]
    fn log_level_is_checked() {
        let c = parse("[log]\nlevel = \"DEBUG\"\nformat = \"json\"\n", &[]).unwrap();
        assert_eq!((c.log.level.as_str(), c.log.format), ("debug", LogFormat::Json));
        let e = errors("[log]\nlevel = \"verbose\"\n", &[]);
        assert!(error_at(&e, "log.level").message.contains("error, warn, info, debug, trace"));
    }

    #[test]
    fn set_overrides_a_number() {
        let c = parse(SHIPPED, &["limits.max_depth=4", "engine.threads = 3"]).unwrap();
        assert_eq!(c.limits.max_depth, 4);
        assert_eq!(c.engine.threads, 3);
    }

    #[test]
    fn set_takes_unquoted_strings() {
        let c = parse(SHIPPED, &["quarantine.dir=/tmp/q", "ooxml.hyperlinks=remove"]).unwrap();
        assert_eq!(c.quarantine.dir, PathBuf::from("/tmp/q"));
        assert_eq!(c.ooxml.hyperlinks, HyperlinkPolicy::Remove);
        let c = parse(SHIPPED, &["html.links=inert", "html.output=text"]).unwrap();
        assert_eq!((c.html.links, c.html.output), (HtmlLinks::Inert, HtmlOutput::Text));
        assert!(errors("[html]\nlinks = \"remove\"\n", &[]).iter().any(|e| e.key == "html.links"));
        assert!(errors("[html]\nformat = \"text\"\n", &[]).iter().any(|e| e.key == "html.format"));
        let c = parse(SHIPPED, &["mail.html=text", "mail.subject_tag=[SAFE]", "mail.max_parts=10"]).unwrap();
        assert_eq!((c.mail.html, c.mail.subject_tag.as_str(), c.mail.max_parts), (MailHtml::Text, "[SAFE]", 10));
        assert!(errors("[mail]\nhtml = \"strip\"\n", &[]).iter().any(|e| e.key == "mail.html"));
        assert!(errors("[mail]\nmax_parts = 0\n", &[]).iter().any(|e| e.key == "mail.max_parts"));
        assert!(errors("[mail]\nmax_header_bytes = 0\n", &[]).iter().any(|e| e.key == "mail.max_header_bytes"));
        let c = parse(SHIPPED, &["odf.hyperlinks=keep"]).unwrap();
        assert_eq!(c.odf.hyperlinks, HyperlinkPolicy::Keep);
        assert!(errors("[odf]\nhyperlinks = \"some\"\n", &[]).iter().any(|e| e.key == "odf.hyperlinks"));
        let c = parse(SHIPPED, &["quarantine.dir=\"held\"", "log.level=warn"]).unwrap();
        assert_eq!(c.quarantine.dir, PathBuf::from("/etc/mugai/held"));
        assert_eq!(c.log.level, "warn");
    }

    #[test]
    fn set_refuses_unknown_keys() {
        let e = errors(SHIPPED, &["limits.max_dept=4"]);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].key, "limits.max_dept");
        assert!(e[0].message.contains("unknown key") && e[0].message.contains("--set"));
        let e = errors("", &["nosuch.key=1"]);
        assert_eq!(e[0].key, "nosuch");
    }

    #[test]
    fn set_reaches_kinds() {
        let c = parse(SHIPPED, &["policy.kinds.docm=block"]).unwrap();
        assert_eq!(c.policy.kinds.get(&Kind::Docm), Some(&KindAction::Block));
        assert_eq!(c.policy.action_for(Kind::Docm), KindAction::Block);
        assert_eq!(c.policy.action_for(Kind::Docx), KindAction::Disarm);
        // Also without a [policy.kinds] table in the file.
        let c = parse("", &["policy.kinds.docm=block"]).unwrap();
        assert_eq!(c.policy.action_for(Kind::Docm), KindAction::Block);
        let e = errors(SHIPPED, &["policy.kinds.docx=keep"]);
        assert!(error_at(&e, "policy.kinds.docx").message.contains("--set"));
    }

    #[test]
    fn malformed_set_arguments_are_errors() {
        let e = errors("", &["limits.max_depth", "max_depth=4", "limits..x=1"]);
        assert_eq!(e.len(), 3);
        assert!(e.iter().all(|e| e.key == "--set"));
        let e = errors(SHIPPED, &["limits.max_depth.x=1"]);
        assert!(error_at(&e, "limits.max_depth").message.contains("not a table"));
        let e = errors("", &["limits.max_depth.x=1"]);
        assert!(error_at(&e, "limits.max_depth").message.contains("found a table"));
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let e = errors("[limits]\nmax_depth = = 4\n", &["limits.bogus=1"]);
        assert!(e[0].key.is_empty());
        assert!(e[0].message.contains("line 2"), "{}", e[0].message);
        // The overrides are still checked.
        error_at(&e, "limits.bogus");
    }

    #[test]
    fn quarantine_key_file_retention_and_release_folder() {
        let c = parse("[quarantine]\nkey_file = \"q.key\"\nretention = \"26w\"\n", &[]).unwrap();
        assert_eq!(c.quarantine.key_file, Some(PathBuf::from("/etc/mugai/q.key")));
        assert_eq!(c.quarantine.retention, Some(Duration::from_secs(26 * 7 * 86_400)));
        assert_eq!(c.quarantine.release_dir, PathBuf::from("/etc/mugai/quarantine/released"));
        let c = parse("", &["quarantine.retention=0", "quarantine.release_dir=/srv/out", "quarantine.dir=/q"]).unwrap();
        assert_eq!(c.quarantine.retention, None, "0 keeps items forever");
        assert_eq!(c.quarantine.release_dir, PathBuf::from("/srv/out"));
        let c = parse("", &["quarantine.dir=/q"]).unwrap();
        assert_eq!(c.quarantine.release_dir, PathBuf::from("/q/released"), "follows the store");
        let e = errors("[quarantine]\nretention = \"soon\"\n", &[]);
        assert!(error_at(&e, "quarantine.retention").message.contains("90d"), "{e:?}");
        let e = errors("[quarantine]\nretention = \"10min\"\n", &[]);
        assert!(error_at(&e, "quarantine.retention").message.contains("at least 1h"), "{e:?}");
        // Written back as it reads.
        let c = parse("[quarantine]\nretention = \"36h\"\n", &[]).unwrap();
        assert_eq!(parse(&c.to_toml(), &[]).unwrap(), c);
    }

    #[test]
    fn relative_quarantine_dir_is_resolved_against_the_config_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("etc");
        std::fs::create_dir(&folder).unwrap();
        let file = folder.join("mugai.toml");
        std::fs::write(&file, "[quarantine]\ndir = \"held/here\"\n").unwrap();
        let (c, source) = Config::load(Some(&file), &[]).unwrap();
        assert_eq!(c.quarantine.dir, folder.join("held/here"));
        assert_eq!(source, ConfigSource::File(file.clone()));

        let (c, _) = Config::load(Some(&file), &["quarantine.dir=q2".into()]).unwrap();
        assert_eq!(c.quarantine.dir, folder.join("q2"));

        std::fs::write(&file, "[quarantine]\ndir = \"/var/q\"\n").unwrap();
        let (c, _) = Config::load(Some(&file), &[]).unwrap();
        assert_eq!(c.quarantine.dir, PathBuf::from("/var/q"));
    }

    #[test]
    fn a_named_file_must_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("missing.toml");
        let e = Config::load(Some(&file), &[]).unwrap_err();
        assert_eq!(e.file.as_deref(), Some(file.as_path()));
        assert!(e.errors[0].message.contains("cannot read"));
    }

    #[test]
    fn errors_in_a_file_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("config.toml");
        std::fs::write(&file, "[limits]\nmax_depth = 0\n").unwrap();
        let e = Config::load(Some(&file), &[]).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: limits.max_depth: must be greater than 0", file.display()));
    }

    #[test]
    fn without_a_name_the_config_toml_in_the_current_folder_is_used() {
        // Tests run in the package root, which holds the shipped config.toml.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (c, source) = load_for_cli(None, &[]).unwrap();
        assert_eq!(source, ConfigSource::File(root.join("config.toml")));
        assert_eq!(c, defaults_in(root));
    }

    #[test]
    fn to_toml_round_trips() {
        for sets in [
            &[][..],
            &[
                "engine.threads=6",
                "limits.max_ratio=50",
                "limits.item_timeout_secs=9",
                "policy.markup=keep",
                "policy.kinds.docm=block",
                "policy.kinds.7z=block",
                "ooxml.hyperlinks=keep",
                "ooxml.embedded_documents=remove",
                "quarantine.dir=/srv/quarantine \"x\"",
                "log.level=trace",
                "log.format=json",
            ][..],
        ] {
            let c = parse("", sets).unwrap();
            let text = c.to_toml();
            let back =
                Config::from_toml_str(&text, Path::new("/elsewhere"), &[]).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(back, c, "{text}");
        }
    }
}
