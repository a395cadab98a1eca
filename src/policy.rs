//! The policy: the one place that turns a detected kind into keep, disarm or block.
//!
//! Format modules report what they found and removed; only this module decides. Executables and
//! unknown content are always blocked; kinds kept as they are (text, images) are kept only when
//! their name does not claim something else. Every failure of a format module (malformed,
//! encrypted, unsupported, limit, timeout, internal error) blocks the item: mugai never passes
//! bytes it could not parse.

use crate::config::{KindAction, NameAction, NamesConfig, PolicyConfig};
use crate::detect::Detected;
use crate::model::{Family, FindingKind, Reason};

/// What the engine does with an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Keep,
    Disarm,
    Block(Reason, String),
}

pub fn decide(policy: &PolicyConfig, names: &NamesConfig, d: &Detected) -> Decision {
    if let Some(e) = &d.refused {
        return Decision::Block(e.reason, e.detail.clone());
    }
    match d.kind.family() {
        Family::Executable => {
            return Decision::Block(Reason::Executable, format!("{} content", d.kind));
        }
        Family::Unknown => return Decision::Block(Reason::UnknownKind, "content not recognised".into()),
        _ => {}
    }
    if let Some(f) = d.findings.iter().find(|f| names.action_for(f.finding) == NameAction::Block) {
        let detail = f.detail.clone().unwrap_or_default();
        return Decision::Block(Reason::DangerousName, format!("{}: {detail}", finding_name(f.finding)));
    }
    match policy.action_for(d.kind) {
        KindAction::Block => Decision::Block(Reason::PolicyBlocked, format!("policy blocks {}", d.kind)),
        KindAction::Disarm => Decision::Disarm,
        // Text a spreadsheet would evaluate (DDE cells, SYLK macros) is never passed unchanged.
        KindAction::Keep if d.findings.iter().any(|f| f.finding == FindingKind::FormulaCells) => Decision::Disarm,
        KindAction::Keep => {
            if let Some(m) = d.findings.iter().find(|f| f.finding == FindingKind::ExtensionMismatch) {
                return Decision::Block(Reason::NameMismatch, m.detail.clone().unwrap_or_default());
            }
            Decision::Keep
        }
    }
}

fn finding_name(f: FindingKind) -> String {
    serde_json::to_value(f).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::detect::detect;

    #[test]
    fn text_is_kept_only_under_an_honest_name() {
        let p = Config::default().policy;
        assert_eq!(
            decide(&p, &Config::default().names, &detect(b"hello\n", Some("a.txt"), None, &Config::default().limits)),
            Decision::Keep
        );
        assert!(matches!(
            decide(
                &p,
                &Config::default().names,
                &detect(b"WScript.Echo 1\n", Some("a.vbs"), None, &Config::default().limits)
            ),
            Decision::Block(Reason::NameMismatch, _)
        ));
    }

    #[test]
    fn dangerous_names_block_by_default_and_can_be_reported_only() {
        let c = Config::default();
        let mut d = detect(b"%PDF-1.7\n", Some("invoice.pdf"), None, &c.limits);
        d.findings.extend(crate::names::findings("invoice\u{202E}fdp.pdf", 128));
        assert!(
            matches!(decide(&c.policy, &c.names, &d), Decision::Block(Reason::DangerousName, m) if m.starts_with("bidi_control"))
        );
        let mut names = c.names.clone();
        names.bidi_control = NameAction::Report;
        assert_eq!(decide(&c.policy, &names, &d), Decision::Disarm);
    }

    #[test]
    fn executables_and_unknown_are_blocked_whatever_the_config_says() {
        let mut p = Config::default().policy;
        p.families.insert(Family::Executable, KindAction::Keep);
        assert!(matches!(
            decide(&p, &Config::default().names, &detect(b"MZ\0\0", Some("a.docx"), None, &Config::default().limits)),
            Decision::Block(Reason::Executable, _)
        ));
        assert!(matches!(
            decide(
                &p,
                &Config::default().names,
                &detect(&[0x00, 0x9f, 0x13, 0x77], None, None, &Config::default().limits)
            ),
            Decision::Block(Reason::UnknownKind, _)
        ));
    }
}
