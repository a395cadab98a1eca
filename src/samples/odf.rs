//! OpenDocument samples: a small package builder and one document per row of the ODF threat
//! list, with benign, malformed and encrypted variants.
//!
//! [`OdfBuilder`] writes what LibreOffice writes: `mimetype` first and stored, the document's
//! XML entries, pictures and sub-documents deflated, and a `META-INF/manifest.xml` that lists
//! every entry (unless a sample asks for a package that lies). Text is Japanese and English so
//! that a test can find its words in the rebuilt `content.xml`. The payloads are inert: a
//! StarBasic message box, a Python function that does nothing, an OLE package holding a batch
//! file that echoes, a program header without code.
//!
//! [`all`] lists every ODF sample with the outcome the engine must reach under the default
//! configuration; `examples/gen_samples.rs` writes them to `samples/odf/` with `EXPECTED.tsv`.
//! [`large_odt`] makes a benign text document of about a chosen size for the benchmark.

use super::media::{self, Prng};
use super::package::esc;
use super::{Expected, Sample};
use crate::model::{ActionKind, Reason};
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

pub const TEXT_MT: &str = "application/vnd.oasis.opendocument.text";
pub const TEXT_TEMPLATE_MT: &str = "application/vnd.oasis.opendocument.text-template";
pub const SHEET_MT: &str = "application/vnd.oasis.opendocument.spreadsheet";
pub const PRESENTATION_MT: &str = "application/vnd.oasis.opendocument.presentation";
pub const GRAPHICS_MT: &str = "application/vnd.oasis.opendocument.graphics";
pub const CHART_MT: &str = "application/vnd.oasis.opendocument.chart";
pub const DATABASE_MT: &str = "application/vnd.oasis.opendocument.base";

/// The words every text sample's body holds.
pub const TEXT_WORDS: [&str; 3] = ["診療記録", "Ward", "round"];
/// Words of the benign spreadsheet.
pub const SHEET_WORDS: [&str; 2] = ["売上", "Apples"];
/// Words of the benign presentation.
pub const SLIDE_WORDS: [&str; 2] = ["四半期", "review"];

/// Namespace declarations for every document root.
pub const NS: &str = concat!(
    r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" "#,
    r#"xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" "#,
    r#"xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" "#,
    r#"xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" "#,
    r#"xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" "#,
    r#"xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" "#,
    r#"xmlns:xlink="http://www.w3.org/1999/xlink" "#,
    r#"xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
    r#"xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" "#,
    r#"xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" "#,
    r#"xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" "#,
    r#"xmlns:chart="urn:oasis:names:tc:opendocument:xmlns:chart:1.0" "#,
    r#"xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" "#,
    r#"xmlns:form="urn:oasis:names:tc:opendocument:xmlns:form:1.0" "#,
    r#"xmlns:xforms="http://www.w3.org/2002/xforms" "#,
    r#"xmlns:dom="http://www.w3.org/2001/xml-events" "#,
    r#"xmlns:ooo="http://openoffice.org/2004/office" "#,
    r#"xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" "#,
    r#"office:version="1.3""#
);

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// An inert StarBasic module: a message box.
pub const BASIC_SOURCE: &str = "Sub Main\n  MsgBox \"mugai test\"\nEnd Sub\n";
/// The macro URL the samples bind to events and links.
pub const MACRO_URL: &str = "vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document";

/// One entry of a package under construction.
#[derive(Clone, Debug)]
struct BuiltEntry {
    name: String,
    data: Vec<u8>,
    /// Listed in the manifest with this media type, or not at all.
    media_type: Option<String>,
}

/// An OpenDocument package under construction.
#[derive(Clone, Debug)]
pub struct OdfBuilder {
    /// The `mimetype` entry, or `None` for a package that lacks it.
    pub mimetype: Option<String>,
    entries: Vec<BuiltEntry>,
    /// Folders listed in the manifest (`Object 1/` with its media type).
    dirs: Vec<(String, String)>,
    /// Text added inside the manifest's `file-entry` of `content.xml` (encryption data).
    pub content_entry_extra: String,
    /// Whether a manifest is written at all.
    pub with_manifest: bool,
}

impl OdfBuilder {
    pub fn new(mimetype: &str) -> Self {
        OdfBuilder {
            mimetype: Some(mimetype.to_string()),
            entries: Vec::new(),
            dirs: Vec::new(),
            content_entry_extra: String::new(),
            with_manifest: true,
        }
    }

    /// Adds (or replaces) an entry listed in the manifest.
    pub fn add(&mut self, name: &str, media_type: &str, data: impl Into<Vec<u8>>) -> &mut Self {
        self.put(name, Some(media_type), data.into())
    }

    /// Adds an entry the manifest does not list.
    pub fn add_unlisted(&mut self, name: &str, data: impl Into<Vec<u8>>) -> &mut Self {
        self.put(name, None, data.into())
    }

    fn put(&mut self, name: &str, media_type: Option<&str>, data: Vec<u8>) -> &mut Self {
        let e = BuiltEntry { name: name.to_string(), data, media_type: media_type.map(str::to_string) };
        match self.entries.iter_mut().find(|x| x.name == name) {
            Some(slot) => *slot = e,
            None => self.entries.push(e),
        }
        self
    }

    /// Lists a folder in the manifest (a sub-document, a library).
    pub fn add_dir(&mut self, path: &str, media_type: &str) -> &mut Self {
        self.dirs.push((path.to_string(), media_type.to_string()));
        self
    }

    pub fn entry(&self, name: &str) -> Option<&[u8]> {
        self.entries.iter().find(|e| e.name == name).map(|e| e.data.as_slice())
    }

    pub fn manifest_xml(&self) -> String {
        let mut s = format!(
            "{DECL}<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.3\">\n"
        );
        let root = self.mimetype.clone().unwrap_or_else(|| TEXT_MT.to_string());
        s.push_str(&format!(
            " <manifest:file-entry manifest:full-path=\"/\" manifest:version=\"1.3\" manifest:media-type=\"{root}\"/>\n"
        ));
        for (d, mt) in &self.dirs {
            s.push_str(&format!(
                " <manifest:file-entry manifest:full-path=\"{}\" manifest:media-type=\"{}\"/>\n",
                esc(d),
                esc(mt)
            ));
        }
        for e in &self.entries {
            let Some(mt) = &e.media_type else { continue };
            if e.name == "content.xml" && !self.content_entry_extra.is_empty() {
                s.push_str(&format!(
                    " <manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"{mt}\">{}</manifest:file-entry>\n",
                    self.content_entry_extra
                ));
                continue;
            }
            s.push_str(&format!(
                " <manifest:file-entry manifest:full-path=\"{}\" manifest:media-type=\"{}\"/>\n",
                esc(&e.name),
                esc(mt)
            ));
        }
        s.push_str("</manifest:manifest>\n");
        s
    }

    /// Zips the package: `mimetype` first and stored, then the entries deflated, the manifest
    /// last, all with the zip epoch as timestamp.
    pub fn write(&self) -> Vec<u8> {
        let mut zw = ZipWriter::new(Cursor::new(Vec::new()));
        let stored = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(DateTime::default());
        let deflated = stored.compression_method(CompressionMethod::Deflated);
        if let Some(m) = &self.mimetype {
            zw.start_file("mimetype", stored).expect("zip entry");
            zw.write_all(m.as_bytes()).expect("zip write");
        }
        for e in &self.entries {
            zw.start_file(e.name.as_str(), deflated).expect("zip entry");
            zw.write_all(&e.data).expect("zip write");
        }
        if self.with_manifest {
            zw.start_file("META-INF/manifest.xml", deflated).expect("zip entry");
            zw.write_all(self.manifest_xml().as_bytes()).expect("zip write");
        }
        zw.finish().expect("zip finish").into_inner()
    }
}

/// A `content.xml`: `scripts` goes into `office:scripts`, `decls` before the body (forms,
/// connection declarations go inside the body element itself), `body` inside the body element
/// of `class` (`text`, `spreadsheet`, `presentation`, `drawing`, `chart`).
pub fn content_xml(class: &str, scripts: &str, body: &str) -> String {
    let scripts = if scripts.is_empty() {
        "<office:scripts/>".to_string()
    } else {
        format!("<office:scripts>{scripts}</office:scripts>")
    };
    format!(
        "{DECL}<office:document-content {NS}>{scripts}<office:automatic-styles/><office:body><office:{class}>{body}</office:{class}></office:body></office:document-content>"
    )
}

pub fn styles_xml(master: bool) -> String {
    let masters = if master {
        "<office:automatic-styles><style:page-layout style:name=\"PM1\"><style:page-layout-properties fo:page-width=\"28cm\" fo:page-height=\"15.75cm\" style:print-orientation=\"landscape\"/></style:page-layout></office:automatic-styles><office:master-styles><style:master-page style:name=\"Default\" style:page-layout-name=\"PM1\"/></office:master-styles>"
    } else {
        "<office:automatic-styles><style:page-layout style:name=\"pm1\"><style:page-layout-properties fo:page-width=\"21cm\" fo:page-height=\"29.7cm\"/></style:page-layout></office:automatic-styles><office:master-styles><style:master-page style:name=\"Standard\" style:page-layout-name=\"pm1\"/></office:master-styles>"
    };
    format!(
        "{DECL}<office:document-styles {NS}><office:styles><style:default-style style:family=\"paragraph\"><style:text-properties fo:font-size=\"12pt\"/></style:default-style></office:styles>{masters}</office:document-styles>"
    )
}

pub fn meta_xml(title: &str, extra: &str) -> String {
    format!(
        "{DECL}<office:document-meta {NS}><office:meta><meta:generator>mugai samples</meta:generator><dc:title>{}</dc:title><meta:creation-date>2024-04-01T09:00:00</meta:creation-date>{extra}</office:meta></office:document-meta>",
        esc(title)
    )
}

pub fn settings_xml() -> String {
    format!(
        "{DECL}<office:document-settings {NS} xmlns:config=\"urn:oasis:names:tc:opendocument:xmlns:config:1.0\"><office:settings><config:config-item-set config:name=\"ooo:configuration-settings\"><config:config-item config:name=\"PrinterIndependentLayout\" config:type=\"string\">high-resolution</config:config-item></config:config-item-set></office:settings></office:document-settings>"
    )
}

/// A package of the given type with styles, metadata, settings and `content`.
pub fn package(mimetype: &str, title: &str, content: String) -> OdfBuilder {
    let master = mimetype == PRESENTATION_MT || mimetype == GRAPHICS_MT;
    let mut b = OdfBuilder::new(mimetype);
    b.add("content.xml", "text/xml", content);
    b.add("styles.xml", "text/xml", styles_xml(master));
    b.add("meta.xml", "text/xml", meta_xml(title, ""));
    b.add("settings.xml", "text/xml", settings_xml());
    b
}

/// Paragraphs of the text samples (the body's words are [`TEXT_WORDS`]).
pub fn text_body(extra: &str) -> String {
    format!(
        "<text:h text:outline-level=\"1\">診療記録 (sample)</text:h><text:p>Ward round notes: 患者の状態は安定しています。</text:p>{extra}<text:p>This document was made by mugai for its tests.</text:p>"
    )
}

/// A text document with `extra` in the body and `scripts` in `office:scripts`.
pub fn text_doc(title: &str, scripts: &str, extra: &str) -> OdfBuilder {
    package(TEXT_MT, title, content_xml("text", scripts, &text_body(extra)))
}

fn picture_frame(href: &str) -> String {
    format!(
        "<text:p><draw:frame draw:name=\"Picture\" text:anchor-type=\"as-char\" svg:width=\"2cm\" svg:height=\"2cm\"><draw:image xlink:href=\"{href}\" xlink:type=\"simple\" xlink:show=\"embed\" xlink:actuate=\"onLoad\"/></draw:frame></text:p>"
    )
}

// ----------------------------------------------------------------------------------------------
// Benign

pub fn benign_text() -> Vec<u8> {
    let table = "<table:table table:name=\"Table1\"><table:table-column table:number-columns-repeated=\"2\"/><table:table-row><table:table-cell office:value-type=\"string\"><text:p>検査</text:p></table:table-cell><table:table-cell office:value-type=\"string\"><text:p>Blood test</text:p></table:table-cell></table:table-row></table:table>";
    let link = "<text:p>See <text:a xlink:type=\"simple\" xlink:href=\"https://example.com/guideline\">the guideline</text:a> and <text:a xlink:type=\"simple\" xlink:href=\"#Top\">the top</text:a>.</text:p>";
    let body = format!("{table}{link}{}", picture_frame("Pictures/sample.png"));
    let mut b = text_doc("Benign report", "", &body);
    b.add("Pictures/sample.png", "image/png", media::sample_png());
    b.add("Thumbnails/thumbnail.png", "image/png", media::sample_png());
    b.add_dir("Configurations2/", "application/vnd.sun.xml.ui.configuration");
    b.add("Configurations2/accelerator/current.xml", "", Vec::new());
    b.write()
}

fn sheet_rows(extra_cells: &str) -> String {
    format!(
        "<table:table table:name=\"売上\"><table:table-column table:number-columns-repeated=\"3\"/>\
<table:table-row><table:table-cell office:value-type=\"string\"><text:p>売上</text:p></table:table-cell><table:table-cell office:value-type=\"string\"><text:p>Apples</text:p></table:table-cell><table:table-cell office:value-type=\"float\" office:value=\"120\"><text:p>120</text:p></table:table-cell></table:table-row>\
<table:table-row><table:table-cell office:value-type=\"string\"><text:p>合計</text:p></table:table-cell><table:table-cell/><table:table-cell table:formula=\"of:=SUM([.C1:.C1])\" office:value-type=\"float\" office:value=\"120\"><text:p>120</text:p></table:table-cell></table:table-row>{extra_cells}</table:table>"
    )
}

pub fn benign_sheet() -> Vec<u8> {
    package(SHEET_MT, "Benign sales", content_xml("spreadsheet", "", &sheet_rows(""))).write()
}

fn slide(extra: &str) -> String {
    format!(
        "<draw:page draw:name=\"page1\" draw:master-page-name=\"Default\"><draw:frame svg:x=\"2cm\" svg:y=\"2cm\" svg:width=\"20cm\" svg:height=\"3cm\"><draw:text-box><text:p>四半期 review</text:p><text:p>This presentation was made by mugai for its tests.</text:p></draw:text-box></draw:frame>{extra}</draw:page>"
    )
}

pub fn benign_presentation() -> Vec<u8> {
    package(PRESENTATION_MT, "Benign review", content_xml("presentation", "", &slide(""))).write()
}

pub fn benign_drawing() -> Vec<u8> {
    package(GRAPHICS_MT, "Benign drawing", content_xml("drawing", "", &slide(""))).write()
}

pub fn benign_template() -> Vec<u8> {
    package(TEXT_TEMPLATE_MT, "Template", content_xml("text", "", &text_body(""))).write()
}

// ----------------------------------------------------------------------------------------------
// Macros, scripts and event bindings

fn basic_library(b: &mut OdfBuilder, root: &str) {
    let lc = format!("{DECL}<!DOCTYPE library:libraries PUBLIC \"-//OpenOffice.org//DTD OfficeDocument 1.0//EN\" \"libraries.dtd\">\n<library:libraries xmlns:library=\"http://openoffice.org/2000/library\" xmlns:xlink=\"http://www.w3.org/1999/xlink\"><library:library library:name=\"Standard\" library:link=\"false\"/></library:libraries>");
    let lb = format!("{DECL}<!DOCTYPE library:library PUBLIC \"-//OpenOffice.org//DTD OfficeDocument 1.0//EN\" \"library.dtd\">\n<library:library xmlns:library=\"http://openoffice.org/2000/library\" library:name=\"Standard\" library:readonly=\"false\" library:passwordprotected=\"false\"><library:element library:name=\"Module1\"/></library:library>");
    let module = format!("{DECL}<!DOCTYPE script:module PUBLIC \"-//OpenOffice.org//DTD OfficeDocument 1.0//EN\" \"module.dtd\">\n<script:module xmlns:script=\"http://openoffice.org/2000/script\" script:name=\"Module1\" script:language=\"StarBasic\" script:moduleType=\"normal\">{}</script:module>", esc(BASIC_SOURCE));
    b.add_dir(&format!("{root}Basic/"), "");
    b.add(&format!("{root}Basic/script-lc.xml"), "text/xml", lc);
    b.add(&format!("{root}Basic/Standard/script-lb.xml"), "text/xml", lb);
    b.add(&format!("{root}Basic/Standard/Module1.xml"), "text/xml", module);
}

fn on_load() -> String {
    format!(
        "<office:event-listeners><script:event-listener script:language=\"ooo:script\" script:event-name=\"dom:load\" xlink:href=\"{MACRO_URL}\" xlink:type=\"simple\"/></office:event-listeners>"
    )
}

/// A StarBasic library, a dialog library and a document event that runs the macro on load;
/// the package carries a macro signature too.
pub fn basic_macro_on_load() -> Vec<u8> {
    let mut b = text_doc("Basic macro", &on_load(), "");
    basic_library(&mut b, "");
    b.add("Dialogs/dialog-lc.xml", "text/xml", format!("{DECL}<library:libraries xmlns:library=\"http://openoffice.org/2000/library\"><library:library library:name=\"Standard\" library:link=\"false\"/></library:libraries>"));
    b.add("Dialogs/Standard/Dialog1.xml", "text/xml", format!("{DECL}<dlg:window xmlns:dlg=\"http://openoffice.org/2000/dialog\" xmlns:script=\"http://openoffice.org/2000/script\" dlg:id=\"Dialog1\"><dlg:bulletinboard><dlg:button dlg:id=\"B\" dlg:value=\"Run\"><script:event script:event-name=\"on-performaction\" script:macro-name=\"{MACRO_URL}\" script:language=\"Script\"/></dlg:button></dlg:bulletinboard></dlg:window>"));
    b.add_unlisted(
        "META-INF/macrosignatures.xml",
        format!("{DECL}<document-signatures xmlns=\"urn:oasis:names:tc:opendocument:xmlns:digitalsignature:1.0\"/>"),
    );
    b.write()
}

/// A Python script in `Scripts/` bound to the spreadsheet's open event.
pub fn python_script() -> Vec<u8> {
    let url = "vnd.sun.star.script:hello.py$main?language=Python&amp;location=document";
    let scripts = format!(
        "<office:event-listeners><script:event-listener script:language=\"ooo:script\" script:event-name=\"dom:load\" xlink:href=\"{url}\"/></office:event-listeners>"
    );
    let mut b = package(SHEET_MT, "Python script", content_xml("spreadsheet", &scripts, &sheet_rows("")));
    b.add_dir("Scripts/", "application/binary");
    b.add_dir("Scripts/python/", "application/binary");
    b.add("Scripts/python/hello.py", "", "def main(*args):\n    return None\n");
    b.write()
}

pub const MACRO_LINK_TEXT: &str = "予約を確認";

/// A hyperlink whose target is a macro.
pub fn macro_hyperlink() -> Vec<u8> {
    let p = format!(
        "<text:p><text:a xlink:type=\"simple\" xlink:href=\"{MACRO_URL}\">{MACRO_LINK_TEXT}</text:a> and <text:a xlink:type=\"simple\" xlink:href=\" MACRO:///Standard.Module1.Main\">second</text:a></text:p>"
    );
    text_doc("Macro link", "", &p).write()
}

pub const BUTTON_LABEL: &str = "送信";

/// A form button that runs a macro when pressed and submits an XForms model.
pub fn form_button_macro() -> Vec<u8> {
    let xforms = "<xforms:model><xforms:instance><data xmlns=\"\"/></xforms:instance><xforms:submission xforms:id=\"submit1\" xforms:action=\"https://example.invalid/xforms\" xforms:method=\"post\"/></xforms:model>";
    let forms = format!(
        "<office:forms form:automatic-focus=\"false\" form:apply-design-mode=\"false\">{xforms}<form:form form:name=\"Form\" xlink:href=\"https://example.invalid/collect\" form:method=\"post\"><form:button form:name=\"PushButton\" form:control-implementation=\"ooo:com.sun.star.form.component.CommandButton\" xml:id=\"control1\" form:id=\"control1\" form:label=\"{BUTTON_LABEL}\" form:xforms-submission=\"submit1\"><office:event-listeners><script:event-listener script:language=\"ooo:script\" script:event-name=\"form:performaction\" xlink:href=\"{MACRO_URL}\" xlink:type=\"simple\"/></office:event-listeners></form:button></form:form></office:forms>"
    );
    let body = format!(
        "{forms}{}<text:p><draw:control text:anchor-type=\"paragraph\" draw:control=\"control1\" svg:width=\"4cm\" svg:height=\"1cm\"/>{BUTTON_LABEL}</text:p>",
        text_body("")
    );
    package(TEXT_MT, "Form button", content_xml("text", "", &body)).write()
}

/// A presentation whose shape runs a program when clicked; a second shape's "next page"
/// action is benign and stays.
pub fn presentation_program() -> Vec<u8> {
    let shapes = "<draw:rect svg:x=\"2cm\" svg:y=\"8cm\" svg:width=\"4cm\" svg:height=\"2cm\"><text:p>Start</text:p><office:event-listeners><presentation:event-listener script:event-name=\"dom:click\" presentation:action=\"execute\" xlink:href=\"cmd.exe\" xlink:type=\"simple\"/></office:event-listeners></draw:rect><draw:rect svg:x=\"8cm\" svg:y=\"8cm\" svg:width=\"4cm\" svg:height=\"2cm\"><text:p>Next</text:p><office:event-listeners><presentation:event-listener script:event-name=\"dom:click\" presentation:action=\"next-page\"/></office:event-listeners></draw:rect>";
    package(PRESENTATION_MT, "Program action", content_xml("presentation", "", &slide(shapes))).write()
}

/// A `text:script` element holding JavaScript and a macro field.
pub fn text_script() -> Vec<u8> {
    let extra = "<text:p><text:script script:language=\"JavaScript\">app.alert('mugai test');</text:script>Script here. <text:execute-macro text:name=\"Standard.Module1.Main\">マクロ実行</text:execute-macro></text:p>";
    text_doc("Text script", "", extra).write()
}

/// The user interface configuration binds a toolbar button to a macro.
pub fn toolbar_macro() -> Vec<u8> {
    let mut b = text_doc("Toolbar macro", "", "");
    b.add_dir("Configurations2/", "application/vnd.sun.xml.ui.configuration");
    b.add(
        "Configurations2/toolbar/custom_toolbar_1.xml",
        "text/xml",
        format!("{DECL}<toolbar:toolbar xmlns:toolbar=\"http://openoffice.org/2001/toolbar\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" toolbar:id=\"toolbar\"><toolbar:toolbaritem xlink:href=\"{MACRO_URL}\" toolbar:text=\"Run\"/></toolbar:toolbar>"),
    );
    b.write()
}

/// An embedded sub-document (a chart) whose own content binds a macro: the sub-document stays,
/// cleaned like the main one.
pub fn subdocument_event() -> Vec<u8> {
    chart_document(&on_load())
}

// ----------------------------------------------------------------------------------------------
// Embedded objects

/// An OLE object (an OLE package holding a batch file) with its replacement picture.
pub fn ole_object() -> Vec<u8> {
    let frame = "<text:p><draw:frame draw:name=\"Object1\" text:anchor-type=\"as-char\" svg:width=\"3cm\" svg:height=\"3cm\"><draw:object-ole draw:class-id=\"0003000c-0000-0000-c000-000000000046\" xlink:href=\"./Object 1\" xlink:type=\"simple\" xlink:show=\"embed\" xlink:actuate=\"onLoad\"/><draw:image xlink:href=\"./ObjectReplacements/Object 1\" xlink:type=\"simple\" xlink:show=\"embed\" xlink:actuate=\"onLoad\"/></draw:frame></text:p>";
    let mut b = text_doc("OLE object", "", frame);
    b.add("Object 1", "application/vnd.sun.star.oleobject", media::ole_package("run.bat", b"@echo mugai test\r\n"));
    b.add("ObjectReplacements/Object 1", "image/png", media::sample_png());
    b.write()
}

fn chart_content(scripts: &str) -> String {
    let table = "<table:table table:name=\"local-table\"><table:table-header-columns><table:table-column/></table:table-header-columns><table:table-columns><table:table-column/></table:table-columns><table:table-header-rows><table:table-row><table:table-cell><text:p/></table:table-cell><table:table-cell office:value-type=\"string\"><text:p>件数</text:p></table:table-cell></table:table-row></table:table-header-rows><table:table-rows><table:table-row><table:table-cell office:value-type=\"string\"><text:p>A</text:p></table:table-cell><table:table-cell office:value-type=\"float\" office:value=\"3\"><text:p>3</text:p></table:table-cell></table:table-row></table:table-rows></table:table>";
    let chart = format!(
        "<chart:chart svg:width=\"8cm\" svg:height=\"6cm\" chart:class=\"chart:bar\"><chart:plot-area table:cell-range-address=\"local-table.$A$1:.$B$2\" chart:data-source-has-labels=\"both\"><chart:axis chart:dimension=\"x\" chart:name=\"primary-x\"/><chart:axis chart:dimension=\"y\" chart:name=\"primary-y\"/><chart:series chart:values-cell-range-address=\"local-table.$B$2:.$B$2\" chart:class=\"chart:bar\"/></chart:plot-area>{table}</chart:chart>"
    );
    content_xml("chart", scripts, &chart)
}

fn chart_document(chart_scripts: &str) -> Vec<u8> {
    let frame = "<text:p><draw:frame draw:name=\"Chart1\" text:anchor-type=\"as-char\" svg:width=\"8cm\" svg:height=\"6cm\"><draw:object xlink:href=\"./Object 1\" xlink:type=\"simple\" xlink:show=\"embed\" xlink:actuate=\"onLoad\"/><draw:image xlink:href=\"./ObjectReplacements/Object 1\" xlink:type=\"simple\" xlink:show=\"embed\" xlink:actuate=\"onLoad\"/></draw:frame></text:p>";
    let mut b = text_doc("Chart", "", frame);
    b.add_dir("Object 1/", CHART_MT);
    b.add("Object 1/content.xml", "text/xml", chart_content(chart_scripts));
    b.add("Object 1/styles.xml", "text/xml", styles_xml(false));
    b.add("ObjectReplacements/Object 1", "image/png", media::sample_png());
    b.write()
}

/// A chart sub-document with its replacement picture: benign, kept.
pub fn chart_subdocument() -> Vec<u8> {
    chart_document("")
}

// ----------------------------------------------------------------------------------------------
// External links and DDE

pub const SECTION_TEXT: &str = "リンクされた節";

/// A section linked to a file on a network share.
pub fn linked_section() -> Vec<u8> {
    let extra = format!(
        "<text:section text:name=\"Linked\"><text:section-source xlink:href=\"file://server/share/notes.odt\" text:filter-name=\"writer8\"/><text:p>{SECTION_TEXT}</text:p></text:section>"
    );
    text_doc("Linked section", "", &extra).write()
}

pub const DDE_RESULT: &str = "DDE結果";

/// A DDE connection declaration and a field that shows its result.
pub fn dde_field() -> Vec<u8> {
    let body = format!(
        "<text:variable-decls/><text:dde-connection-decls><text:dde-connection-decl office:name=\"cmd\" office:dde-application=\"cmd\" office:dde-topic=\"/c calc.exe\" office:dde-item=\"A0\" office:automatic-update=\"true\"/></text:dde-connection-decls>{}<text:p>Value: <text:dde-connection text:connection-name=\"cmd\">{DDE_RESULT}</text:dde-connection></text:p>",
        text_body("")
    );
    package(TEXT_MT, "DDE field", content_xml("text", "", &body)).write()
}

/// A spreadsheet with a DDE link, a DDE formula, a linked sheet and a web service formula.
pub fn dde_and_links_sheet() -> Vec<u8> {
    let cells = "<table:table-row><table:table-cell table:formula=\"of:=DDE(&quot;soffice&quot;;&quot;file:///tmp/x.ods&quot;;&quot;A1&quot;)\" office:value-type=\"float\" office:value=\"7\"><text:p>7</text:p></table:table-cell><table:table-cell table:formula=\"of:=WEBSERVICE(&quot;https://example.invalid/?q=&quot;&amp;[.A1])\" office:value-type=\"string\" office:string-value=\"x\"><text:p>x</text:p></table:table-cell><table:table-cell table:formula=\"of:=['file:///tmp/other.ods'#$Sheet1.A1]\" office:value-type=\"float\" office:value=\"5\"><text:p>5</text:p></table:table-cell></table:table-row>";
    let linked = "<table:table table:name=\"Linked\"><table:table-source table:mode=\"copy-all\" xlink:type=\"simple\" xlink:href=\"file:///tmp/other.ods\" table:filter-name=\"calc8\" table:table-name=\"Sheet1\"/><table:table-column/><table:table-row><table:table-cell office:value-type=\"string\"><text:p>copy</text:p></table:table-cell></table:table-row></table:table>";
    let dde = "<table:dde-links><table:dde-link><office:dde-source office:name=\"x\" office:dde-application=\"soffice\" office:dde-topic=\"file:///tmp/x.ods\" office:dde-item=\"A1\"/><table:table><table:table-column/><table:table-row><table:table-cell office:value-type=\"float\" office:value=\"7\"/></table:table-row></table:table></table:dde-link></table:dde-links>";
    let body = format!("{}{linked}{dde}", sheet_rows(cells));
    package(SHEET_MT, "DDE and links", content_xml("spreadsheet", "", &body)).write()
}

/// Pictures linked from a web server and from a file share, a font fetched from the web.
pub fn external_images() -> Vec<u8> {
    let extra = format!(
        "{}{}",
        picture_frame("https://example.invalid/pixel.png"),
        picture_frame("\\\\server\\share\\logo.png")
    );
    text_doc("External images", "", &extra).write()
}

pub const FILE_LINK_TEXT: &str = "共有フォルダ";

/// Hyperlinks to a local file, a network share and a relative path out of the package; a web
/// link stays.
pub fn file_links() -> Vec<u8> {
    let extra = format!(
        "<text:p><text:a xlink:href=\"file:///C:/Windows/System32/calc.exe\">{FILE_LINK_TEXT}</text:a> <text:a xlink:href=\"../../secret.odt\">relative</text:a> <text:a xlink:href=\"https://example.com/\">web</text:a></text:p>"
    );
    text_doc("File links", "", &extra).write()
}

/// A template fetched from a web server and an automatic reload to another address.
pub fn meta_template() -> Vec<u8> {
    let mut b = text_doc("Remote template", "", "");
    b.add(
        "meta.xml",
        "text/xml",
        meta_xml(
            "Remote template",
            "<meta:template xlink:type=\"simple\" xlink:actuate=\"onRequest\" xlink:href=\"https://example.invalid/t.ott\" xlink:title=\"t\"/><meta:auto-reload xlink:href=\"https://example.invalid/next\" meta:delay=\"PT0S\"/>",
        ),
    );
    b.write()
}

/// A PDF with a script in its open action, stored in the package as a picture.
pub fn pdf_picture() -> Vec<u8> {
    let mut b = text_doc("PDF picture", "", &picture_frame("Pictures/page.pdf"));
    b.add("Pictures/page.pdf", "application/pdf", super::pdf::js_open_action());
    b.write()
}

/// A signed document (the signature is a stand-in: nothing checks it) with a macro library.
pub fn signed_macro() -> Vec<u8> {
    let mut b = text_doc("Signed", &on_load(), "");
    basic_library(&mut b, "");
    b.add_unlisted(
        "META-INF/documentsignatures.xml",
        format!("{DECL}<document-signatures xmlns=\"urn:oasis:names:tc:opendocument:xmlns:digitalsignature:1.0\"/>"),
    );
    b.write()
}

/// A program hidden in the package: one entry the manifest does not list, one it lists as a
/// picture.
pub fn hidden_payload() -> Vec<u8> {
    let mut b = text_doc("Hidden payload", "", "");
    b.add_unlisted("payload.exe", media::pe_header());
    b.add("Pictures/logo.png", "image/png", media::pe_header());
    b.write()
}

// ----------------------------------------------------------------------------------------------
// Flat XML

fn flat(body: &str, scripts: &str) -> Vec<u8> {
    let scripts =
        if scripts.is_empty() { String::new() } else { format!("<office:scripts>{scripts}</office:scripts>") };
    format!(
        "{DECL}<office:document {NS} office:mimetype=\"{TEXT_MT}\"><office:meta><dc:title>Flat</dc:title></office:meta>{scripts}<office:body><office:text>{}</office:text></office:body></office:document>",
        text_body(body)
    )
    .into_bytes()
}

pub fn benign_flat() -> Vec<u8> {
    flat("<text:p><text:a xlink:href=\"https://example.com/\">web</text:a></text:p>", "")
}

/// A flat XML document carrying a whole Basic library and an on-load event.
pub fn flat_macro() -> Vec<u8> {
    let scripts = format!(
        "<office:script script:language=\"ooo:Basic\"><ooo:libraries xmlns:ooo=\"http://openoffice.org/2004/office\"><ooo:library-embedded ooo:name=\"Standard\"><ooo:module ooo:name=\"Module1\"><ooo:source-code>{}</ooo:source-code></ooo:module></ooo:library-embedded></ooo:libraries></office:script>{}",
        esc(BASIC_SOURCE),
        on_load()
    );
    flat("", &scripts)
}

// ----------------------------------------------------------------------------------------------
// Blocked

/// A package whose manifest says `content.xml` is encrypted (as LibreOffice writes a
/// password-protected document).
pub fn encrypted() -> Vec<u8> {
    let mut b = text_doc("Encrypted", "", "");
    let mut rng = Prng::new(7);
    b.add("content.xml", "text/xml", rng.bytes(600));
    b.content_entry_extra = "<manifest:encryption-data manifest:checksum-type=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k\" manifest:checksum=\"AAAA\"><manifest:algorithm manifest:algorithm-name=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\" manifest:initialisation-vector=\"AAAA\"/><manifest:start-key-generation manifest:start-key-generation-name=\"http://www.w3.org/2000/09/xmldsig#sha256\" manifest:key-size=\"32\"/><manifest:key-derivation manifest:key-derivation-name=\"PBKDF2\" manifest:key-size=\"32\" manifest:iteration-count=\"100000\" manifest:salt=\"AAAA\"/></manifest:encryption-data>".into();
    b.write()
}

pub fn missing_mimetype() -> Vec<u8> {
    let mut b = text_doc("No mimetype", "", "");
    b.mimetype = None;
    b.write()
}

pub fn missing_manifest() -> Vec<u8> {
    let mut b = text_doc("No manifest", "", "");
    b.with_manifest = false;
    b.write()
}

pub fn bad_xml() -> Vec<u8> {
    let mut b = text_doc("Bad XML", "", "");
    let c = String::from_utf8(b.entry("content.xml").unwrap_or_default().to_vec()).unwrap_or_default();
    b.add("content.xml", "text/xml", c.replacen("</text:h>", "</text:p>", 1));
    b.write()
}

pub fn doctype_entity() -> Vec<u8> {
    let mut b = text_doc("Entity", "", "<text:p>&lol2;</text:p>");
    let c = String::from_utf8(b.entry("content.xml").unwrap_or_default().to_vec()).unwrap_or_default();
    let dtd = "<!DOCTYPE office:document-content [<!ENTITY lol0 \"lol\"><!ENTITY lol1 \"&lol0;&lol0;&lol0;&lol0;\"><!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;\">]>\n";
    b.add("content.xml", "text/xml", c.replacen(DECL, &format!("{DECL}{dtd}"), 1));
    b.write()
}

pub fn deep_nesting() -> Vec<u8> {
    let deep = format!("{}x{}", "<text:span>".repeat(400), "</text:span>".repeat(400));
    text_doc("Deep", "", &format!("<text:p>{deep}</text:p>")).write()
}

pub fn database() -> Vec<u8> {
    let mut b = OdfBuilder::new(DATABASE_MT);
    b.add("content.xml", "text/xml", format!("{DECL}<office:document-content {NS}><office:body><office:database/></office:body></office:document-content>"));
    b.write()
}

// ----------------------------------------------------------------------------------------------
// Large

/// A benign text document of about `target_bytes`: paragraphs of Japanese and English text and
/// incompressible pictures.
pub fn large_odt(target_bytes: usize) -> Vec<u8> {
    let mut rng = Prng::new(0x0df0_0df0);
    let mut body = String::new();
    let mut b = OdfBuilder::new(TEXT_MT);
    let mut n = 0usize;
    let mut size = 0usize;
    while size < target_bytes {
        n += 1;
        for i in 0..40 {
            body.push_str(&format!(
                "<text:p>段落 {n}-{i}: 病棟回診の記録。Ward round notes, paragraph {i} of section {n}.</text:p>"
            ));
        }
        let pic = format!("Pictures/p{n}.png");
        body.push_str(&picture_frame(&pic));
        let png = media::noise_png(256, 256, &mut rng);
        size += png.len() + 4000;
        b.add(&pic, "image/png", png);
    }
    b.add("content.xml", "text/xml", content_xml("text", "", &text_body(&body)));
    b.add("styles.xml", "text/xml", styles_xml(false));
    b.add("meta.xml", "text/xml", meta_xml("Large", ""));
    b.write()
}

fn sample(file_name: &'static str, bytes: Vec<u8>, expected: Expected) -> Sample {
    Sample { file_name, bytes, expected }
}

/// Every ODF sample, in a fixed order.
pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    let odt = |a: &[ActionKind]| Expected::disarmed("odt", a);
    vec![
        // Benign: rebuilt with nothing to report.
        sample("benign_report.odt", benign_text(), Expected::clean("odt").keeping(&TEXT_WORDS)),
        sample("benign_sales.ods", benign_sheet(), Expected::clean("ods").keeping(&SHEET_WORDS)),
        sample("benign_review.odp", benign_presentation(), Expected::clean("odp").keeping(&SLIDE_WORDS)),
        sample("benign_drawing.odg", benign_drawing(), Expected::clean("odg").keeping(&SLIDE_WORDS)),
        sample("benign_template.ott", benign_template(), Expected::clean("ott").keeping(&TEXT_WORDS)),
        sample("chart_subdocument.odt", chart_subdocument(), Expected::clean("odt").keeping(&TEXT_WORDS)),
        sample("benign_flat.fodt", benign_flat(), Expected::clean("fodt").keeping(&TEXT_WORDS)),
        // Macros and event bindings.
        sample(
            "basic_macro_onload.odt",
            basic_macro_on_load(),
            odt(&[RemovedMacroLibrary, RemovedEventListener, RemovedSignature]).keeping(&TEXT_WORDS),
        ),
        sample(
            "python_script.ods",
            python_script(),
            Expected::disarmed("ods", &[RemovedMacroLibrary, RemovedEventListener]).keeping(&SHEET_WORDS),
        ),
        sample("macro_hyperlink.odt", macro_hyperlink(), odt(&[RemovedProgramAction]).keeping(&[MACRO_LINK_TEXT])),
        sample(
            "form_button_macro.odt",
            form_button_macro(),
            odt(&[RemovedEventListener, RemovedDangerousAction]).keeping(&TEXT_WORDS),
        ),
        sample(
            "presentation_program.odp",
            presentation_program(),
            Expected::disarmed("odp", &[RemovedEventListener]).keeping(&SLIDE_WORDS),
        ),
        sample("text_script.odt", text_script(), odt(&[RemovedScript, RemovedProgramAction]).keeping(&["マクロ実行"])),
        sample("toolbar_macro.odt", toolbar_macro(), odt(&[RemovedCustomUi])),
        sample("subdocument_event.odt", subdocument_event(), odt(&[RemovedEventListener]).keeping(&TEXT_WORDS)),
        sample(
            "flat_macro.fodt",
            flat_macro(),
            Expected::disarmed("fodt", &[RemovedMacroLibrary, RemovedEventListener]).keeping(&TEXT_WORDS),
        ),
        // Embedded objects.
        sample("ole_object.odt", ole_object(), odt(&[RemovedOleObject]).keeping(&TEXT_WORDS)),
        sample(
            "pdf_picture.odt",
            pdf_picture(),
            odt(&[DisarmedEmbeddedDocument, RemovedJavascript]).keeping(&TEXT_WORDS),
        ),
        sample(
            "signed_macro.odt",
            signed_macro(),
            odt(&[RemovedMacroLibrary, RemovedEventListener, RemovedSignature]).keeping(&TEXT_WORDS),
        ),
        sample(
            "hidden_payload.odt",
            hidden_payload(),
            odt(&[RemovedUnreferencedPart, RemovedOleObject]).keeping(&TEXT_WORDS),
        ),
        // External links and DDE.
        sample("linked_section.odt", linked_section(), odt(&[RemovedExternalReference]).keeping(&[SECTION_TEXT])),
        sample("dde_field.odt", dde_field(), odt(&[RemovedDdeLink, RemovedDdeField]).keeping(&[DDE_RESULT])),
        sample(
            "dde_and_links.ods",
            dde_and_links_sheet(),
            Expected::disarmed(
                "ods",
                &[RemovedDdeLink, RemovedDdeFormula, RemovedExternalFormula, RemovedExternalReference],
            )
            .keeping(&SHEET_WORDS),
        ),
        sample("external_images.odt", external_images(), odt(&[RemovedExternalReference]).keeping(&TEXT_WORDS)),
        sample("file_links.odt", file_links(), odt(&[RemovedExternalReference]).keeping(&[FILE_LINK_TEXT])),
        sample("remote_template.odt", meta_template(), odt(&[RemovedAttachedTemplate, RemovedAutoAction])),
        // Blocked.
        sample("blocked_encrypted.odt", encrypted(), Expected::blocked(Reason::Encrypted)),
        sample("blocked_missing_mimetype.odt", missing_mimetype(), Expected::blocked(Reason::Malformed)),
        sample("blocked_missing_manifest.odt", missing_manifest(), Expected::blocked(Reason::Malformed)),
        sample("blocked_bad_xml.odt", bad_xml(), Expected::blocked(Reason::Malformed)),
        sample("blocked_doctype.odt", doctype_entity(), Expected::blocked(Reason::XmlDoctype)),
        sample("blocked_deep_nesting.odt", deep_nesting(), Expected::blocked(Reason::LimitXmlDepth)),
        sample("blocked_database.odb", database(), Expected::blocked(Reason::Unsupported)),
    ]
}
