//! Writing OPC packages: parts, content types and relationships, zipped deterministically.
//!
//! A [`PackageBuilder`] holds parts in the order they were added, the `[Content_Types].xml`
//! defaults and overrides, and the relationships of each source part. [`PackageBuilder::write`]
//! zips them with a fixed timestamp, so the same builder calls always give the same bytes.

use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// XML namespaces used by the samples.
pub mod ns {
    pub const CONTENT_TYPES: &str = "http://schemas.openxmlformats.org/package/2006/content-types";
    pub const RELATIONSHIPS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    pub const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    pub const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    pub const WP: &str = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing";
    pub const A: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";
    pub const PIC: &str = "http://schemas.openxmlformats.org/drawingml/2006/picture";
    pub const C: &str = "http://schemas.openxmlformats.org/drawingml/2006/chart";
    pub const P: &str = "http://schemas.openxmlformats.org/presentationml/2006/main";
    pub const SML: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    pub const XM: &str = "http://schemas.microsoft.com/office/excel/2006/main";
    pub const V: &str = "urn:schemas-microsoft-com:vml";
    pub const O: &str = "urn:schemas-microsoft-com:office:office";
    pub const X: &str = "urn:schemas-microsoft-com:office:excel";
    pub const VISIO: &str = "http://schemas.microsoft.com/office/visio/2012/main";
    pub const AX: &str = "http://schemas.microsoft.com/office/2006/activeX";
    pub const WNE: &str = "http://schemas.microsoft.com/office/word/2006/wordml";
}

/// Relationship types.
pub mod rel {
    macro_rules! od {
        ($($name:ident = $suffix:literal;)*) => {
            $(pub const $name: &str = concat!("http://schemas.openxmlformats.org/officeDocument/2006/relationships/", $suffix);)*
        };
    }
    od! {
        OFFICE_DOCUMENT = "officeDocument";
        EXTENDED_PROPERTIES = "extended-properties";
        STYLES = "styles";
        SETTINGS = "settings";
        WEB_SETTINGS = "webSettings";
        HEADER = "header";
        FOOTER = "footer";
        IMAGE = "image";
        HYPERLINK = "hyperlink";
        OLE_OBJECT = "oleObject";
        PACKAGE = "package";
        CONTROL = "control";
        ATTACHED_TEMPLATE = "attachedTemplate";
        SUB_DOCUMENT = "subDocument";
        FRAME = "frame";
        WORKSHEET = "worksheet";
        SHARED_STRINGS = "sharedStrings";
        THEME = "theme";
        EXTERNAL_LINK = "externalLink";
        EXTERNAL_LINK_PATH = "externalLinkPath";
        CONNECTIONS = "connections";
        VML_DRAWING = "vmlDrawing";
        SLIDE_MASTER = "slideMaster";
        SLIDE_LAYOUT = "slideLayout";
        SLIDE = "slide";
        PRES_PROPS = "presProps";
        VIEW_PROPS = "viewProps";
        TABLE_STYLES = "tableStyles";
        CHART = "chart";
    }
    pub const CORE_PROPERTIES: &str =
        "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties";
    pub const VBA_PROJECT: &str = "http://schemas.microsoft.com/office/2006/relationships/vbaProject";
    pub const WORD_VBA_DATA: &str = "http://schemas.microsoft.com/office/2006/relationships/wordVbaData";
    pub const XL_MACROSHEET: &str = "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet";
    pub const ACTIVEX_BINARY: &str = "http://schemas.microsoft.com/office/2006/relationships/activeXControlBinary";
    pub const CUSTOM_UI: &str = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility";
    pub const WEB_EXTENSION: &str = "http://schemas.microsoft.com/office/2011/relationships/webextension";
    pub const WEB_EXTENSION_TASKPANES: &str =
        "http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes";
    /// Visio's main part is reached by its own relationship type, not `officeDocument`.
    pub const VISIO_DOCUMENT: &str = "http://schemas.microsoft.com/visio/2010/relationships/document";
    pub const VISIO_PAGES: &str = "http://schemas.microsoft.com/visio/2010/relationships/pages";
    pub const VISIO_PAGE: &str = "http://schemas.microsoft.com/visio/2010/relationships/page";
}

/// Content types.
pub mod ct {
    pub const RELS: &str = "application/vnd.openxmlformats-package.relationships+xml";
    pub const XML: &str = "application/xml";
    pub const PNG: &str = "image/png";
    pub const CORE: &str = "application/vnd.openxmlformats-package.core-properties+xml";
    pub const APP: &str = "application/vnd.openxmlformats-officedocument.extended-properties+xml";
    pub const THEME: &str = "application/vnd.openxmlformats-officedocument.theme+xml";
    pub const OLE_OBJECT: &str = "application/vnd.openxmlformats-officedocument.oleObject";
    pub const ACTIVEX_XML: &str = "application/vnd.ms-office.activeX+xml";
    pub const ACTIVEX_BIN: &str = "application/vnd.ms-office.activeX";
    pub const VBA_PROJECT: &str = "application/vnd.ms-office.vbaProject";
    pub const VML: &str = "application/vnd.openxmlformats-officedocument.vmlDrawing";
    pub const CHART: &str = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml";
    pub const WEB_EXTENSION: &str = "application/vnd.ms-office.webextension+xml";
    pub const WEB_EXTENSION_TASKPANES: &str = "application/vnd.ms-office.webextensiontaskpanes+xml";

    pub const DOCX_MAIN: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
    pub const DOCM_MAIN: &str = "application/vnd.ms-word.document.macroEnabled.main+xml";
    pub const DOTM_MAIN: &str = "application/vnd.ms-word.template.macroEnabledTemplate.main+xml";
    pub const W_STYLES: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml";
    pub const W_SETTINGS: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml";
    pub const W_WEB_SETTINGS: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.webSettings+xml";
    pub const W_HEADER: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml";
    pub const W_FOOTER: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml";
    pub const W_VBA_DATA: &str = "application/vnd.ms-word.vbaData+xml";

    pub const XLSX_MAIN: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
    pub const XLSM_MAIN: &str = "application/vnd.ms-excel.sheet.macroEnabled.main+xml";
    pub const XLTM_MAIN: &str = "application/vnd.ms-excel.template.macroEnabled.main+xml";
    pub const XLAM_MAIN: &str = "application/vnd.ms-excel.addin.macroEnabled.main+xml";
    pub const X_WORKSHEET: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
    pub const X_MACROSHEET: &str = "application/vnd.ms-excel.macrosheet+xml";
    pub const X_SHARED_STRINGS: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml";
    pub const X_STYLES: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml";
    pub const X_EXTERNAL_LINK: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml";
    pub const X_CONNECTIONS: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml";

    pub const PPTX_MAIN: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml";
    pub const PPTM_MAIN: &str = "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml";
    pub const POTM_MAIN: &str = "application/vnd.ms-powerpoint.template.macroEnabled.main+xml";
    pub const PPSM_MAIN: &str = "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml";
    pub const P_SLIDE: &str = "application/vnd.openxmlformats-officedocument.presentationml.slide+xml";
    pub const P_SLIDE_LAYOUT: &str = "application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml";
    pub const P_SLIDE_MASTER: &str = "application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml";
    pub const P_PRES_PROPS: &str = "application/vnd.openxmlformats-officedocument.presentationml.presProps+xml";
    pub const P_VIEW_PROPS: &str = "application/vnd.openxmlformats-officedocument.presentationml.viewProps+xml";
    pub const P_TABLE_STYLES: &str = "application/vnd.openxmlformats-officedocument.presentationml.tableStyles+xml";

    pub const VSDX_MAIN: &str = "application/vnd.ms-visio.drawing.main+xml";
    pub const VSDM_MAIN: &str = "application/vnd.ms-visio.drawing.macroEnabled.main+xml";
    /// Visio's main part is reached by its own relationship type, not `officeDocument`.
    pub const VISIO_DOCUMENT: &str = "http://schemas.microsoft.com/visio/2010/relationships/document";
    pub const VISIO_PAGES: &str = "application/vnd.ms-visio.pages+xml";
    pub const VISIO_PAGE: &str = "application/vnd.ms-visio.page+xml";

    /// Whole packages, for documents embedded in documents.
    pub const XLSX_PACKAGE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    pub const DOCM_PACKAGE: &str = "application/vnd.ms-word.document.macroEnabled.12";
}

/// The XML declaration every part starts with.
pub const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// Escapes text for use in XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// One relationship of a source part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relationship {
    pub id: String,
    pub rel_type: String,
    pub target: String,
    pub external: bool,
}

/// An OPC package being assembled.
#[derive(Clone, Debug)]
pub struct PackageBuilder {
    parts: Vec<(String, Vec<u8>)>,
    defaults: Vec<(String, String)>,
    overrides: Vec<(String, String)>,
    /// Relationships by source part name; `""` is the package itself (`_rels/.rels`).
    rels: Vec<(String, Vec<Relationship>)>,
}

impl Default for PackageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PackageBuilder {
    /// An empty package with the two defaults every package needs (`rels` and `xml`).
    pub fn new() -> Self {
        PackageBuilder {
            parts: Vec::new(),
            defaults: vec![("rels".into(), ct::RELS.into()), ("xml".into(), ct::XML.into())],
            overrides: Vec::new(),
            rels: Vec::new(),
        }
    }

    /// Declares (or replaces) the content type of every part with this extension.
    pub fn set_default(&mut self, ext: &str, content_type: &str) -> &mut Self {
        let ext = ext.to_ascii_lowercase();
        match self.defaults.iter_mut().find(|(e, _)| *e == ext) {
            Some(d) => d.1 = content_type.into(),
            None => self.defaults.push((ext, content_type.into())),
        }
        self
    }

    /// Declares (or replaces) the content type of one part.
    pub fn set_override(&mut self, part: &str, content_type: &str) -> &mut Self {
        match self.overrides.iter_mut().find(|(p, _)| p == part) {
            Some(o) => o.1 = content_type.into(),
            None => self.overrides.push((part.into(), content_type.into())),
        }
        self
    }

    /// Adds (or replaces) a part. With a content type it gets an override; without one it relies
    /// on the default for its extension.
    pub fn add_part(&mut self, name: &str, content_type: Option<&str>, data: impl Into<Vec<u8>>) -> &mut Self {
        let data = data.into();
        match self.parts.iter_mut().find(|(n, _)| n == name) {
            Some(p) => p.1 = data,
            None => self.parts.push((name.into(), data)),
        }
        if let Some(ct) = content_type {
            self.set_override(name, ct);
        }
        self
    }

    pub fn part(&self, name: &str) -> Option<&[u8]> {
        self.parts.iter().find(|(n, _)| n == name).map(|(_, d)| d.as_slice())
    }

    /// Adds an internal relationship from `source` (`""` for the package) and returns its id.
    /// `target` is relative to the source part's folder, as in a real package.
    pub fn add_rel(&mut self, source: &str, rel_type: &str, target: &str) -> String {
        self.push_rel(source, rel_type, target, false)
    }

    /// Adds a relationship with `TargetMode="External"` and returns its id.
    pub fn add_external_rel(&mut self, source: &str, rel_type: &str, target: &str) -> String {
        self.push_rel(source, rel_type, target, true)
    }

    fn push_rel(&mut self, source: &str, rel_type: &str, target: &str, external: bool) -> String {
        let list = match self.rels.iter().position(|(s, _)| s == source) {
            Some(i) => &mut self.rels[i].1,
            None => {
                self.rels.push((source.into(), Vec::new()));
                &mut self.rels.last_mut().expect("just pushed").1
            }
        };
        let id = format!("rId{}", list.len() + 1);
        list.push(Relationship { id: id.clone(), rel_type: rel_type.into(), target: target.into(), external });
        id
    }

    /// The name of the relationships part of `source` (`word/document.xml` ->
    /// `word/_rels/document.xml.rels`).
    pub fn rels_part_name(source: &str) -> String {
        match source.rsplit_once('/') {
            Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
            None => format!("_rels/{source}.rels"),
        }
    }

    pub fn content_types_xml(&self) -> String {
        let mut s = format!("{XML_DECL}<Types xmlns=\"{}\">", ns::CONTENT_TYPES);
        for (ext, ct) in &self.defaults {
            s.push_str(&format!("<Default Extension=\"{}\" ContentType=\"{}\"/>", esc(ext), esc(ct)));
        }
        for (part, ct) in &self.overrides {
            s.push_str(&format!("<Override PartName=\"/{}\" ContentType=\"{}\"/>", esc(part), esc(ct)));
        }
        s.push_str("</Types>");
        s
    }

    fn rels_xml(rels: &[Relationship]) -> String {
        let mut s = format!("{XML_DECL}<Relationships xmlns=\"{}\">", ns::RELATIONSHIPS);
        for r in rels {
            s.push_str(&format!(
                "<Relationship Id=\"{}\" Type=\"{}\" Target=\"{}\"{}/>",
                r.id,
                esc(&r.rel_type),
                esc(&r.target),
                if r.external { " TargetMode=\"External\"" } else { "" }
            ));
        }
        s.push_str("</Relationships>");
        s
    }

    /// Every zip entry in writing order: content types, package relationships, then each part
    /// followed by its relationships.
    pub fn entries(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![("[Content_Types].xml".to_string(), self.content_types_xml().into_bytes())];
        let rels_of = |source: &str| self.rels.iter().find(|(s, _)| s == source).map(|(_, r)| r);
        if let Some(r) = rels_of("") {
            out.push(("_rels/.rels".into(), Self::rels_xml(r).into_bytes()));
        }
        for (name, data) in &self.parts {
            out.push((name.clone(), data.clone()));
            if let Some(r) = rels_of(name) {
                out.push((Self::rels_part_name(name), Self::rels_xml(r).into_bytes()));
            }
        }
        // Relationships of sources that are not parts (kept so that broken packages can be built).
        for (source, r) in &self.rels {
            if !source.is_empty() && !self.parts.iter().any(|(n, _)| n == source) {
                out.push((Self::rels_part_name(source), Self::rels_xml(r).into_bytes()));
            }
        }
        out
    }

    /// Zips the package: deflate, fixed timestamp, deterministic order.
    pub fn write(&self) -> Vec<u8> {
        zip_entries(&self.entries())
    }
}

/// Options for every entry the samples write: deflate and the zip epoch as timestamp.
pub fn entry_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
}

/// Zips entries in the given order with [`entry_options`].
pub fn zip_entries(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zw = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        zw.start_file(name.as_str(), entry_options()).expect("zip entry");
        zw.write_all(data).expect("zip write to memory");
    }
    zw.finish().expect("zip finish").into_inner()
}

/// A package with `docProps/core.xml` and `docProps/app.xml` in place and related from the root.
pub fn office_package(title: &str) -> PackageBuilder {
    let mut p = PackageBuilder::new();
    p.add_part("docProps/core.xml", Some(ct::CORE), core_xml(title));
    p.add_part("docProps/app.xml", Some(ct::APP), app_xml());
    p.add_rel("", rel::CORE_PROPERTIES, "docProps/core.xml");
    p.add_rel("", rel::EXTENDED_PROPERTIES, "docProps/app.xml");
    p
}

fn core_xml(title: &str) -> String {
    format!(
        "{XML_DECL}<cp:coreProperties \
xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
<dc:title>{}</dc:title><dc:creator>mugai samples</dc:creator><cp:lastModifiedBy>mugai samples</cp:lastModifiedBy>\
<cp:revision>1</cp:revision>\
<dcterms:created xsi:type=\"dcterms:W3CDTF\">2024-04-01T09:00:00Z</dcterms:created>\
<dcterms:modified xsi:type=\"dcterms:W3CDTF\">2024-04-01T09:00:00Z</dcterms:modified>\
</cp:coreProperties>",
        esc(title)
    )
}

fn app_xml() -> String {
    format!(
        "{XML_DECL}<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" \
xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">\
<Application>mugai samples</Application><DocSecurity>0</DocSecurity><AppVersion>16.0000</AppVersion></Properties>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rels_part_names_follow_the_source() {
        assert_eq!(PackageBuilder::rels_part_name("word/document.xml"), "word/_rels/document.xml.rels");
        assert_eq!(PackageBuilder::rels_part_name("a.xml"), "_rels/a.xml.rels");
    }

    #[test]
    fn relationship_ids_count_per_source() {
        let mut p = PackageBuilder::new();
        assert_eq!(p.add_rel("", rel::OFFICE_DOCUMENT, "word/document.xml"), "rId1");
        assert_eq!(p.add_rel("word/document.xml", rel::STYLES, "styles.xml"), "rId1");
        assert_eq!(p.add_external_rel("word/document.xml", rel::HYPERLINK, "https://example.com/"), "rId2");
    }

    #[test]
    fn writing_twice_gives_the_same_bytes() {
        let p = office_package("t");
        assert_eq!(p.write(), p.write());
    }
}
