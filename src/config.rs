//! Configuration: `config.toml` -> validated [`Config`].
//!
//! TYPES ONLY FOR NOW: loading, `--set` overrides and validation are being written.

use crate::model::{Family, Kind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
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

/// What happens to documents embedded in documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddedPolicy {
    /// Disarm them through the engine and keep the clean result.
    Disarm,
    /// Remove them (the preview image stays).
    Remove,
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
    pub max_input_bytes: u64,
    pub max_total_bytes: u64,
    pub max_entries: u64,
    pub max_depth: u32,
    pub max_ratio: u64,
    pub max_xml_depth: u32,
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

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OoxmlConfig {
    pub hyperlinks: HyperlinkPolicy,
    pub embedded_documents: EmbeddedPolicy,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuarantineConfig {
    pub dir: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    pub engine: EngineConfig,
    pub limits: Limits,
    pub policy: PolicyConfig,
    pub ooxml: OoxmlConfig,
    pub quarantine: QuarantineConfig,
    pub log: LogConfig,
}

impl Default for Config {
    fn default() -> Self {
        let mut families = BTreeMap::new();
        for f in Family::ALL {
            let a = match f {
                Family::Ooxml | Family::Ole2 | Family::Rtf | Family::Odf | Family::Pdf | Family::Archive => {
                    KindAction::Disarm
                }
                Family::Text | Family::Image => KindAction::Keep,
                Family::Markup | Family::Executable | Family::Unknown => KindAction::Block,
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
                max_ratio: 200,
                max_xml_depth: 256,
                item_timeout: Duration::from_secs(120),
            },
            policy: PolicyConfig { families, kinds: BTreeMap::new() },
            ooxml: OoxmlConfig { hyperlinks: HyperlinkPolicy::Web, embedded_documents: EmbeddedPolicy::Disarm },
            quarantine: QuarantineConfig { dir: PathBuf::from("quarantine") },
            log: LogConfig { level: "info".into(), format: LogFormat::Text },
        }
    }
}
