//! Where a URL in markup points, read the way browsers read it.
//!
//! Values arrive already decoded by the HTML or XML parser (character references undone), and
//! the WHATWG URL parser (the `url` crate, the one the HTML sanitizer uses) removes tabs and
//! line breaks and trims control characters and spaces, so `jav&#x09;ascript:` is `javascript:`
//! here as it is in a browser. No pattern is ever matched on the raw text.

use crate::model::ActionKind;
use url::Url;

/// The kinds of target that matter to the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlClass {
    /// `#id`: a place in the same document.
    Fragment,
    /// `http:` or `https:`.
    Web,
    Mailto,
    Tel,
    /// `cid:`: a part of the same mail message.
    Cid,
    Javascript,
    Vbscript,
    /// `data:` with its media type (lower case, parameters removed).
    Data(String),
    /// `file:`, a network path (`//host`, `\\host`), a relative path (a file next to the page),
    /// any other scheme, or something that does not parse as a URL.
    Other,
}

impl UrlClass {
    /// The action that reports removing a URL of this class.
    pub fn action(&self) -> ActionKind {
        match self {
            UrlClass::Javascript => ActionKind::RemovedJavascript,
            UrlClass::Vbscript => ActionKind::RemovedScript,
            UrlClass::Data(_) => ActionKind::RemovedDataUrl,
            _ => ActionKind::RemovedExternalReference,
        }
    }

    /// A script URL or a `data:` URL: removed wherever it is.
    pub fn is_dangerous(&self) -> bool {
        matches!(self, UrlClass::Javascript | UrlClass::Vbscript | UrlClass::Data(_))
    }
}

/// The URL as the WHATWG URL parser sees it before resolving: tabs and line breaks removed,
/// leading and trailing control characters and spaces trimmed.
pub fn squeeze(v: &str) -> String {
    v.trim_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect()
}

pub fn classify(value: &str) -> UrlClass {
    let v = squeeze(value);
    match Url::parse(&v) {
        Ok(url) => match url.scheme() {
            "http" | "https" => UrlClass::Web,
            "mailto" => UrlClass::Mailto,
            "tel" => UrlClass::Tel,
            "cid" => UrlClass::Cid,
            "javascript" => UrlClass::Javascript,
            "vbscript" => UrlClass::Vbscript,
            "data" => {
                let path = url.path();
                let mime = path.split([';', ',']).next().unwrap_or("").trim().to_ascii_lowercase();
                UrlClass::Data(mime)
            }
            _ => UrlClass::Other,
        },
        Err(url::ParseError::RelativeUrlWithoutBase) if v.starts_with('#') => UrlClass::Fragment,
        Err(_) => UrlClass::Other,
    }
}

/// A URL shortened for a report.
pub fn shown(value: &str) -> String {
    let v = squeeze(value);
    if v.chars().count() > 60 {
        format!("{}...", v.chars().take(60).collect::<String>())
    } else {
        v
    }
}

/// A raster image carried in a `data:` URL (PNG, JPEG, GIF): no script can run from it.
pub fn is_raster_data(class: &UrlClass) -> bool {
    matches!(class, UrlClass::Data(m) if matches!(m.as_str(), "image/png" | "image/jpeg" | "image/jpg" | "image/gif"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obfuscated_schemes_are_seen_as_browsers_see_them() {
        assert_eq!(classify("jav\tascript:alert(1)"), UrlClass::Javascript);
        assert_eq!(classify(" \u{1}JaVaScRiPt:alert(1)"), UrlClass::Javascript);
        assert_eq!(classify("java\nscript:x"), UrlClass::Javascript);
        assert_eq!(classify("VBScript:msgbox"), UrlClass::Vbscript);
        assert_eq!(classify("data:text/html;base64,PHNjcmlwdD4="), UrlClass::Data("text/html".into()));
        assert_eq!(classify("https://example.org/a"), UrlClass::Web);
        assert_eq!(classify("#top"), UrlClass::Fragment);
        assert_eq!(classify("//evil.example/x"), UrlClass::Other);
        assert_eq!(classify("\\\\server\\share"), UrlClass::Other);
        assert_eq!(classify("file:///c:/x.exe"), UrlClass::Other);
        assert_eq!(classify("images/a.png"), UrlClass::Other);
        assert!(is_raster_data(&classify("data:image/png;base64,iVBOR")));
        assert!(!is_raster_data(&classify("data:image/svg+xml,<svg/>")));
    }
}
