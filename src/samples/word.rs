//! WordprocessingML samples: a complete small document and one variant per threat.

use super::media;
use super::package::{ct, esc, ns, office_package, rel, PackageBuilder, XML_DECL};

const DOC: &str = "word/document.xml";
const SETTINGS: &str = "word/settings.xml";
const WEB_SETTINGS: &str = "word/webSettings.xml";

/// Words shown as field results in [`dde_fields`] and [`include_text_field`]; a disarmed
/// document must still show them.
pub const DDE_RESULT_WORDS: [&str; 2] = ["Marmalade", "Tangerine"];
pub const INCLUDE_RESULT_WORD: &str = "Quince";
/// The text of the `file:` link in [`file_hyperlink`], which must survive without its link.
pub const FILE_LINK_TEXT: &str = "Lemonade notes";

/// A Word package under construction: body XML plus the parts around it.
pub struct Word {
    pub pkg: PackageBuilder,
    /// Block-level XML of the body, without the final `w:sectPr`.
    pub body: String,
    /// Id of an `attachedTemplate` relationship of `word/settings.xml`, written into the settings.
    pub attached_template: Option<String>,
    /// Inner XML of `word/webSettings.xml`; the part exists only when this is set.
    pub web_settings: Option<String>,
    header_footer: Option<(String, String)>,
}

impl Word {
    /// A document with styles and settings; `main_ct` is the main part's content type
    /// ([`ct::DOCX_MAIN`], [`ct::DOCM_MAIN`], ...).
    pub fn new(main_ct: &'static str, title: &str) -> Self {
        let mut pkg = office_package(title);
        pkg.add_rel("", rel::OFFICE_DOCUMENT, DOC);
        pkg.add_part(DOC, Some(main_ct), Vec::new()); // written by `into_package`
        pkg.add_part("word/styles.xml", Some(ct::W_STYLES), styles_xml());
        pkg.add_part(SETTINGS, Some(ct::W_SETTINGS), Vec::new());
        pkg.add_rel(DOC, rel::STYLES, "styles.xml");
        pkg.add_rel(DOC, rel::SETTINGS, "settings.xml");
        let mut w = Word { pkg, body: String::new(), attached_template: None, web_settings: None, header_footer: None };
        w.heading(title);
        w
    }

    pub fn push(&mut self, xml: &str) {
        self.body.push_str(xml);
    }

    pub fn para(&mut self, text: &str) {
        self.body.push_str(&format!("<w:p>{}</w:p>", run(text)));
    }

    pub fn heading(&mut self, text: &str) {
        self.body.push_str(&format!("<w:p><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr>{}</w:p>", run(text)));
    }

    /// An internal relationship from the main part.
    pub fn rel(&mut self, rel_type: &str, target: &str) -> String {
        self.pkg.add_rel(DOC, rel_type, target)
    }

    /// An external relationship from the main part.
    pub fn external_rel(&mut self, rel_type: &str, target: &str) -> String {
        self.pkg.add_external_rel(DOC, rel_type, target)
    }

    /// Stores a PNG under `word/media/` and relates it from the main part.
    pub fn image(&mut self, file: &str, png: Vec<u8>) -> String {
        self.pkg.set_default("png", ct::PNG);
        self.pkg.add_part(&format!("word/media/{file}"), None, png);
        self.rel(rel::IMAGE, &format!("media/{file}"))
    }

    /// Adds a default header and footer with the given text.
    pub fn header_footer(&mut self, header: &str, footer: &str) {
        let hdr = hdr_ftr_xml("hdr", "Header", header);
        let ftr = hdr_ftr_xml("ftr", "Footer", footer);
        self.pkg.add_part("word/header1.xml", Some(ct::W_HEADER), hdr);
        self.pkg.add_part("word/footer1.xml", Some(ct::W_FOOTER), ftr);
        let h = self.rel(rel::HEADER, "header1.xml");
        let f = self.rel(rel::FOOTER, "footer1.xml");
        self.header_footer = Some((h, f));
    }

    /// Adds `word/webSettings.xml`, related from the main part, with `inner` as its content.
    pub fn add_web_settings(&mut self, inner: String) {
        self.pkg.add_part(WEB_SETTINGS, Some(ct::W_WEB_SETTINGS), Vec::new());
        self.rel(rel::WEB_SETTINGS, "webSettings.xml");
        self.web_settings = Some(inner);
    }

    pub fn into_package(mut self) -> PackageBuilder {
        let refs = match &self.header_footer {
            Some((h, f)) => format!(
                "<w:headerReference w:type=\"default\" r:id=\"{h}\"/><w:footerReference w:type=\"default\" r:id=\"{f}\"/>"
            ),
            None => String::new(),
        };
        let doc = format!(
            "{XML_DECL}<w:document xmlns:w=\"{w}\" xmlns:r=\"{r}\" xmlns:wp=\"{wp}\" xmlns:a=\"{a}\" \
xmlns:pic=\"{pic}\" xmlns:v=\"{v}\" xmlns:o=\"{o}\"><w:body>{body}<w:sectPr>{refs}\
<w:pgSz w:w=\"11906\" w:h=\"16838\"/>\
<w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" w:left=\"1440\" w:header=\"720\" w:footer=\"720\" w:gutter=\"0\"/>\
<w:cols w:space=\"720\"/><w:docGrid w:linePitch=\"360\"/></w:sectPr></w:body></w:document>",
            w = ns::W,
            r = ns::R,
            wp = ns::WP,
            a = ns::A,
            pic = ns::PIC,
            v = ns::V,
            o = ns::O,
            body = self.body,
        );
        self.pkg.add_part(DOC, None, doc);
        let template = match &self.attached_template {
            Some(id) => format!("<w:attachedTemplate r:id=\"{id}\"/>"),
            None => String::new(),
        };
        let settings = format!(
            "{XML_DECL}<w:settings xmlns:w=\"{}\" xmlns:r=\"{}\"><w:zoom w:percent=\"100\"/>{template}\
<w:defaultTabStop w:val=\"720\"/><w:characterSpacingControl w:val=\"doNotCompress\"/>\
<w:compat><w:compatSetting w:name=\"compatibilityMode\" w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/></w:compat>\
</w:settings>",
            ns::W,
            ns::R
        );
        self.pkg.add_part(SETTINGS, None, settings);
        if let Some(inner) = &self.web_settings {
            let ws =
                format!("{XML_DECL}<w:webSettings xmlns:w=\"{}\" xmlns:r=\"{}\">{inner}</w:webSettings>", ns::W, ns::R);
            self.pkg.add_part(WEB_SETTINGS, None, ws);
        }
        self.pkg
    }

    pub fn finish(self) -> Vec<u8> {
        self.into_package().write()
    }
}

/// A run of plain text.
pub fn run(text: &str) -> String {
    format!("<w:r><w:t xml:space=\"preserve\">{}</w:t></w:r>", esc(text))
}

fn hdr_ftr_xml(root: &str, style: &str, text: &str) -> String {
    format!(
        "{XML_DECL}<w:{root} xmlns:w=\"{}\" xmlns:r=\"{}\"><w:p><w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>{}</w:p></w:{root}>",
        ns::W,
        ns::R,
        run(text)
    )
}

fn styles_xml() -> String {
    let border = |side: &str| format!("<w:{side} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"auto\"/>");
    let borders: String = ["top", "left", "bottom", "right", "insideH", "insideV"].iter().map(|s| border(s)).collect();
    let hf = |id: &str, name: &str| {
        format!(
            "<w:style w:type=\"paragraph\" w:styleId=\"{id}\"><w:name w:val=\"{name}\"/><w:basedOn w:val=\"Normal\"/>\
<w:uiPriority w:val=\"99\"/><w:unhideWhenUsed/><w:pPr><w:tabs><w:tab w:val=\"center\" w:pos=\"4513\"/>\
<w:tab w:val=\"right\" w:pos=\"9026\"/></w:tabs><w:spacing w:after=\"0\" w:line=\"240\" w:lineRule=\"auto\"/></w:pPr></w:style>"
        )
    };
    format!(
        "{XML_DECL}<w:styles xmlns:w=\"{w}\"><w:docDefaults><w:rPrDefault><w:rPr>\
<w:rFonts w:ascii=\"Calibri\" w:eastAsia=\"Yu Mincho\" w:hAnsi=\"Calibri\" w:cs=\"Times New Roman\"/>\
<w:sz w:val=\"22\"/><w:szCs w:val=\"22\"/><w:lang w:val=\"en-US\" w:eastAsia=\"ja-JP\" w:bidi=\"ar-SA\"/></w:rPr></w:rPrDefault>\
<w:pPrDefault><w:pPr><w:spacing w:after=\"160\" w:line=\"259\" w:lineRule=\"auto\"/></w:pPr></w:pPrDefault></w:docDefaults>\
<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/></w:style>\
<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/>\
<w:next w:val=\"Normal\"/><w:uiPriority w:val=\"9\"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before=\"240\" w:after=\"120\"/>\
<w:outlineLvl w:val=\"0\"/></w:pPr><w:rPr><w:b/><w:sz w:val=\"32\"/></w:rPr></w:style>\
<w:style w:type=\"character\" w:default=\"1\" w:styleId=\"DefaultParagraphFont\"><w:name w:val=\"Default Paragraph Font\"/>\
<w:uiPriority w:val=\"1\"/><w:semiHidden/><w:unhideWhenUsed/></w:style>\
<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\"><w:name w:val=\"Normal Table\"/><w:uiPriority w:val=\"99\"/>\
<w:semiHidden/><w:unhideWhenUsed/><w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/><w:tblCellMar><w:top w:w=\"0\" w:type=\"dxa\"/>\
<w:left w:w=\"108\" w:type=\"dxa\"/><w:bottom w:w=\"0\" w:type=\"dxa\"/><w:right w:w=\"108\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr></w:style>\
<w:style w:type=\"table\" w:styleId=\"TableGrid\"><w:name w:val=\"Table Grid\"/><w:basedOn w:val=\"TableNormal\"/>\
<w:uiPriority w:val=\"39\"/><w:pPr><w:spacing w:after=\"0\" w:line=\"240\" w:lineRule=\"auto\"/></w:pPr>\
<w:tblPr><w:tblBorders>{borders}</w:tblBorders></w:tblPr></w:style>\
<w:style w:type=\"character\" w:styleId=\"Hyperlink\"><w:name w:val=\"Hyperlink\"/><w:basedOn w:val=\"DefaultParagraphFont\"/>\
<w:uiPriority w:val=\"99\"/><w:unhideWhenUsed/><w:rPr><w:color w:val=\"0563C1\"/><w:u w:val=\"single\"/></w:rPr></w:style>\
{header}{footer}</w:styles>",
        w = ns::W,
        header = hf("Header", "header"),
        footer = hf("Footer", "footer"),
    )
}

/// An inline picture run (DrawingML) showing the image of relationship `rid`, embedded
/// (`r:embed`) or linked (`r:link`).
pub fn picture_run(attr: &str, rid: &str, id: u32, cx: u64, cy: u64) -> String {
    format!(
        "<w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\"><wp:extent cx=\"{cx}\" cy=\"{cy}\"/>\
<wp:effectExtent l=\"0\" t=\"0\" r=\"0\" b=\"0\"/><wp:docPr id=\"{id}\" name=\"Picture {id}\"/>\
<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect=\"1\"/></wp:cNvGraphicFramePr>\
<a:graphic><a:graphicData uri=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"><pic:pic>\
<pic:nvPicPr><pic:cNvPr id=\"{id}\" name=\"image{id}.png\"/><pic:cNvPicPr/></pic:nvPicPr>\
<pic:blipFill><a:blip {attr}=\"{rid}\"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>\
<pic:spPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"{cx}\" cy=\"{cy}\"/></a:xfrm><a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></pic:spPr>\
</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )
}

/// A paragraph holding an OLE object (`o:OLEObject`) with its preview picture (VML).
fn ole_object_para(preview_rid: &str, ole_rid: &str, prog_id: &str, aspect: &str, n: u32) -> String {
    format!(
        "<w:p><w:r><w:object w:dxaOrig=\"1440\" w:dyaOrig=\"1440\">\
<v:shape id=\"_x0000_i{shape}\" style=\"width:72pt;height:72pt\" o:ole=\"\"><v:imagedata r:id=\"{preview_rid}\" o:title=\"\"/></v:shape>\
<o:OLEObject Type=\"Embed\" ProgID=\"{prog_id}\" ShapeID=\"_x0000_i{shape}\" DrawAspect=\"{aspect}\" ObjectID=\"_17119620{n:02}\" r:id=\"{ole_rid}\"/>\
</w:object></w:r></w:p>",
        shape = 1024 + n
    )
}

fn table(rows: &[[&str; 2]]) -> String {
    let mut t = String::from(
        "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"0\" w:type=\"auto\"/>\
<w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:lastRow=\"0\" w:firstColumn=\"1\" w:lastColumn=\"0\" w:noHBand=\"0\" w:noVBand=\"1\"/>\
</w:tblPr><w:tblGrid><w:gridCol w:w=\"4513\"/><w:gridCol w:w=\"4513\"/></w:tblGrid>",
    );
    for row in rows {
        t.push_str("<w:tr>");
        for cell in row {
            t.push_str(&format!(
                "<w:tc><w:tcPr><w:tcW w:w=\"4513\" w:type=\"dxa\"/></w:tcPr><w:p>{}</w:p></w:tc>",
                run(cell)
            ));
        }
        t.push_str("</w:tr>");
    }
    t.push_str("</w:tbl>");
    t
}

/// A document with the threat samples' common body: a heading and a sentence.
pub fn base(main_ct: &'static str, title: &str) -> Word {
    let mut w = Word::new(main_ct, title);
    w.para("This document was made by mugai for its tests.");
    w
}

/// Text, a table, a picture, an https link, a header and a footer; nothing active.
pub fn benign() -> Vec<u8> {
    let mut w = Word::new(ct::DOCX_MAIN, "Quarterly report");
    w.para("This document was made by mugai for its tests. It has text, a table, a picture, a link, a header and a footer.");
    w.para("無害化のテスト文書です。表と画像とリンクがあります。");
    w.push(&table(&[["Item", "Amount"], ["Apples", "10"], ["Pears", "32"]]));
    let img = w.image("image1.png", media::sample_png());
    w.push(&format!("<w:p>{}</w:p>", picture_run("r:embed", &img, 1, 914_400, 914_400)));
    let link = w.external_rel(rel::HYPERLINK, "https://example.com/report");
    w.push(&format!(
        "<w:p>{}<w:hyperlink r:id=\"{link}\" w:history=\"1\"><w:r><w:rPr><w:rStyle w:val=\"Hyperlink\"/></w:rPr>\
<w:t>the report online</w:t></w:r></w:hyperlink></w:p>",
        run("See ")
    ));
    w.header_footer("mugai samples", "Page footer");
    w.finish()
}

/// Adds `word/vbaProject.bin` (with `word/vbaData.xml`) to a Word package.
pub fn add_vba(w: &mut Word) {
    w.pkg.set_default("bin", ct::VBA_PROJECT);
    w.pkg.add_part("word/vbaProject.bin", None, media::vba_project("AutoOpen"));
    w.rel(rel::VBA_PROJECT, "vbaProject.bin");
    let vba_data = format!(
        "{XML_DECL}<wne:vbaSuppData xmlns:wne=\"{}\"><wne:mcds>\
<wne:mcd wne:macroName=\"PROJECT.MODULE1.AUTOOPEN\" wne:name=\"Project.Module1.AutoOpen\" wne:bEncrypt=\"00\" wne:cmg=\"56\"/>\
</wne:mcds></wne:vbaSuppData>",
        ns::WNE
    );
    w.pkg.add_part("word/vbaData.xml", Some(ct::W_VBA_DATA), vba_data);
    w.pkg.add_rel("word/vbaProject.bin", rel::WORD_VBA_DATA, "vbaData.xml");
}

/// A macro-enabled document (or template, by `main_ct`) with an `AutoOpen` VBA project.
pub fn vba(main_ct: &'static str) -> Vec<u8> {
    let mut w = base(main_ct, "Macro document");
    add_vba(&mut w);
    w.finish()
}

/// An ActiveX check box (`w:control`) with its `activeX1.xml` and `activeX1.bin`.
pub fn activex() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "ActiveX control");
    let img = w.image("image1.png", media::sample_png());
    let ctl = w.rel(rel::CONTROL, "activeX/activeX1.xml");
    add_activex_parts(&mut w.pkg, "word/activeX");
    w.push(&format!(
        "<w:p><w:r><w:object w:dxaOrig=\"2160\" w:dyaOrig=\"360\">\
<v:shape id=\"_x0000_i1025\" style=\"width:108pt;height:18pt\"><v:imagedata r:id=\"{img}\" o:title=\"\"/></v:shape>\
<w:control r:id=\"{ctl}\" w:name=\"CheckBox1\" w:shapeid=\"_x0000_i1025\"/></w:object></w:r></w:p>"
    ));
    w.finish()
}

/// Adds `activeX1.xml` (a check box's class id) and its binary data `activeX1.bin` to `dir`.
pub fn add_activex_parts(pkg: &mut PackageBuilder, dir: &str) {
    let xml_part = format!("{dir}/activeX1.xml");
    let bin = pkg.add_rel(&xml_part, rel::ACTIVEX_BINARY, "activeX1.bin");
    let xml = format!(
        "{XML_DECL}<ax:ocx ax:classid=\"{{8BD21D40-EC42-11CE-9E0D-00AA006002F3}}\" ax:persistence=\"persistStorage\" \
r:id=\"{bin}\" xmlns:ax=\"{}\" xmlns:r=\"{}\"/>",
        ns::AX,
        ns::R
    );
    pkg.add_part(&xml_part, Some(ct::ACTIVEX_XML), xml);
    pkg.add_part(&format!("{dir}/activeX1.bin"), Some(ct::ACTIVEX_BIN), media::activex_data());
}

/// An embedded OLE package (`oleObject1.bin` with `\x01Ole10Native`) shown as an icon.
pub fn ole_package() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Embedded package");
    let img = w.image("image1.png", media::sample_png());
    w.pkg.add_part(
        "word/embeddings/oleObject1.bin",
        Some(ct::OLE_OBJECT),
        media::ole_package("readme.bat", b"@echo off\r\necho mugai sample\r\n"),
    );
    let ole = w.rel(rel::OLE_OBJECT, "embeddings/oleObject1.bin");
    w.push(&ole_object_para(&img, &ole, "Package", "Icon", 1));
    w.finish()
}

/// An embedded workbook (`Microsoft_Excel_Worksheet.xlsx`, a `package` relationship): the
/// benign sample workbook.
pub fn embedded_xlsx() -> Vec<u8> {
    embedded_workbook(super::excel::benign())
}

/// A document embedding `workbook` as an Excel object shown by its preview picture.
pub fn embedded_workbook(workbook: Vec<u8>) -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Embedded workbook");
    let img = w.image("image1.png", media::sample_png());
    w.pkg.set_default("xlsx", ct::XLSX_PACKAGE);
    w.pkg.add_part("word/embeddings/Microsoft_Excel_Worksheet.xlsx", None, workbook);
    let pkg = w.rel(rel::PACKAGE, "embeddings/Microsoft_Excel_Worksheet.xlsx");
    w.push(&ole_object_para(&img, &pkg, "Excel.Sheet.12", "Content", 2));
    w.finish()
}

/// A document embedding `pdf` as a package object shown by its preview picture (as Word does
/// when a PDF is inserted as an object from a file).
pub fn embedded_pdf(pdf: Vec<u8>) -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Embedded PDF");
    let img = w.image("image1.png", media::sample_png());
    w.pkg.set_default("pdf", "application/pdf");
    w.pkg.add_part("word/embeddings/report.pdf", None, pdf);
    let pkg = w.rel(rel::PACKAGE, "embeddings/report.pdf");
    w.push(&ole_object_para(&img, &pkg, "Package", "Content", 2));
    w.finish()
}

/// An embedded macro-enabled document (a docm package holding a VBA project).
pub fn embedded_docm() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Embedded macro document");
    let img = w.image("image1.png", media::sample_png());
    w.pkg.set_default("docm", ct::DOCM_PACKAGE);
    w.pkg.add_part("word/embeddings/Microsoft_Word_Macro-Enabled_Document.docm", None, vba(ct::DOCM_MAIN));
    let pkg = w.rel(rel::PACKAGE, "embeddings/Microsoft_Word_Macro-Enabled_Document.docm");
    w.push(&ole_object_para(&img, &pkg, "Word.DocumentMacroEnabled.12", "Content", 3));
    w.finish()
}

/// A DDEAUTO complex field (its instruction split over two runs) and a DDE simple field, each
/// showing a distinctive result word ([`DDE_RESULT_WORDS`]).
pub fn dde_fields() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "DDE fields");
    let [first, second] = DDE_RESULT_WORDS;
    w.push(&format!(
        "<w:p>{}<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>\
<w:r><w:instrText xml:space=\"preserve\"> DDE</w:instrText></w:r>\
<w:r><w:instrText xml:space=\"preserve\">AUTO c:\\\\Windows\\\\System32\\\\cmd.exe \"/k calc.exe\" </w:instrText></w:r>\
<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>{}<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>",
        run("Breakfast: "),
        run(first)
    ));
    w.push(&format!(
        "<w:p>{}<w:fldSimple w:instr=\" DDE Excel &quot;C:\\\\Data\\\\Book1.xlsx&quot; R1C1 \">{}</w:fldSimple></w:p>",
        run("Fruit: "),
        run(second)
    ));
    w.finish()
}

/// An INCLUDETEXT field fetching a remote document; its result word is [`INCLUDE_RESULT_WORD`].
pub fn include_text_field() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "INCLUDETEXT field");
    w.push(&format!(
        "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>\
<w:r><w:instrText xml:space=\"preserve\"> INCLUDETEXT \"http://files.example.com/remote.docx\" \\* MERGEFORMAT </w:instrText></w:r>\
<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>{}<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>",
        run(INCLUDE_RESULT_WORD)
    ));
    w.finish()
}

/// A HYPERLINK field to a file share (clicking it hands the user's credentials to the host),
/// next to an https one that the default policy keeps.
pub fn unc_hyperlink_field() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "HYPERLINK fields");
    let field = |code: &str, shown: &str| {
        format!(
            "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>\
<w:r><w:instrText xml:space=\"preserve\"> {code} </w:instrText></w:r>\
<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>{}<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>",
            run(shown)
        )
    };
    w.push(&field("HYPERLINK \"\\\\\\\\files.example.com\\\\share\\\\minutes.docx\"", "Meeting minutes"));
    w.push(&field("HYPERLINK \"https://example.com/agenda\"", "Agenda online"));
    w.finish()
}

/// A remote template (`attachedTemplate` over http): the template injection route.
pub fn remote_template() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Remote template");
    let id = w.pkg.add_external_rel(SETTINGS, rel::ATTACHED_TEMPLATE, "http://templates.example.com/report.dotm");
    w.attached_template = Some(id);
    w.finish()
}

/// A picture linked by URL (`a:blip r:link`) instead of embedded.
pub fn image_by_url() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Linked picture");
    let id = w.external_rel(rel::IMAGE, "http://images.example.com/pixel.png");
    w.push(&format!("<w:p>{}</w:p>", picture_run("r:link", &id, 1, 914_400, 914_400)));
    w.finish()
}

/// A master document pulling in an external subdocument.
pub fn external_subdocument() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Master document");
    let id = w.external_rel(rel::SUB_DOCUMENT, "http://files.example.com/chapter2.docx");
    w.push(&format!("<w:p><w:subDoc r:id=\"{id}\"/></w:p>"));
    w.finish()
}

/// A frameset in `webSettings.xml` whose frame loads a remote document.
pub fn external_frame() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Frameset");
    let id = w.pkg.add_external_rel(WEB_SETTINGS, rel::FRAME, "http://files.example.com/frame.docx");
    w.add_web_settings(format!(
        "<w:frameset><w:framesetSplitbar><w:w w:val=\"60\"/><w:color w:val=\"auto\"/><w:noBorder/></w:framesetSplitbar>\
<w:frameset><w:frame><w:name w:val=\"Remote\"/><w:sourceFileName r:id=\"{id}\"/><w:linkedToFile/></w:frame></w:frameset>\
</w:frameset><w:optimizeForBrowser/><w:allowPNG/>"
    ));
    w.finish()
}

/// A hyperlink to a `file:` URL (not a web link), with the text [`FILE_LINK_TEXT`].
pub fn file_hyperlink() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "File link");
    let id = w.external_rel(rel::HYPERLINK, "file:///C:/Users/Public/notes.txt");
    w.push(&format!(
        "<w:p><w:hyperlink r:id=\"{id}\" w:history=\"1\"><w:r><w:rPr><w:rStyle w:val=\"Hyperlink\"/></w:rPr>\
<w:t>{}</w:t></w:r></w:hyperlink></w:p>",
        esc(FILE_LINK_TEXT)
    ));
    w.finish()
}

/// A ribbon customisation (`customUI/customUI14.xml`) with `onLoad` and `onAction` callbacks.
pub fn custom_ui(with_vba: bool) -> Vec<u8> {
    let mut w = base(if with_vba { ct::DOCM_MAIN } else { ct::DOCX_MAIN }, "Custom ribbon");
    if with_vba {
        add_vba(&mut w);
    }
    add_custom_ui(&mut w.pkg);
    w.finish()
}

/// Adds `customUI/customUI14.xml` and its package relationship.
pub fn add_custom_ui(pkg: &mut PackageBuilder) {
    let xml = format!(
        "{XML_DECL}<customUI xmlns=\"http://schemas.microsoft.com/office/2009/07/customui\" onLoad=\"Ribbon_OnLoad\">\
<ribbon><tabs><tab id=\"mugaiTab\" label=\"Tools\"><group id=\"mugaiGroup\" label=\"Run\">\
<button id=\"mugaiButton\" label=\"Go\" onAction=\"Ribbon_OnAction\"/></group></tab></tabs></ribbon></customUI>"
    );
    pkg.add_part("customUI/customUI14.xml", None, xml);
    pkg.add_rel("", rel::CUSTOM_UI, "customUI/customUI14.xml");
}

/// A document-level add-in: custom properties that make Office fetch and install a VSTO
/// customization when the document opens (plus an ordinary property that must survive).
pub fn vsto_addin() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Add-in loader");
    let fmtid = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}";
    let xml = format!(
        "{XML_DECL}<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties\" \
xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">\
<property fmtid=\"{fmtid}\" pid=\"2\" name=\"_AssemblyLocation\"><vt:lpwstr>https://example.com/addin/report.vsto|vstolocal</vt:lpwstr></property>\
<property fmtid=\"{fmtid}\" pid=\"3\" name=\"_AssemblyName\"><vt:lpwstr>4E3C66D5-58D4-491E-A7D4-64AF99AF6E8B</vt:lpwstr></property>\
<property fmtid=\"{fmtid}\" pid=\"4\" name=\"Department\"><vt:lpwstr>Radiology</vt:lpwstr></property></Properties>"
    );
    w.pkg.add_part(
        "docProps/custom.xml",
        Some("application/vnd.openxmlformats-officedocument.custom-properties+xml"),
        xml,
    );
    w.pkg.add_rel(
        "",
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties",
        "docProps/custom.xml",
    );
    w.finish()
}

/// A program hidden in a part no relationship reaches, with a content type for `.exe`.
pub fn hidden_executable() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Hidden payload");
    w.pkg.set_default("exe", "application/octet-stream");
    w.pkg.add_part("word/media/evil.exe", None, media::pe_header());
    w.finish()
}

/// A script hidden in a part no relationship reaches, with a content type for `.vbs`. Unlike
/// [`hidden_executable`] nothing in its bytes gives it away: only reachability does.
pub fn hidden_script() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Hidden script");
    w.pkg.set_default("vbs", "text/vbscript");
    w.pkg.add_part("word/media/update.vbs", None, b"MsgBox \"mugai sample script\"\r\n".to_vec());
    w.finish()
}

/// An Office web add-in: a task pane and its web extension.
pub fn web_extension() -> Vec<u8> {
    let mut w = base(ct::DOCX_MAIN, "Web add-in");
    let ext = w.pkg.add_rel("word/webextensions/taskpanes.xml", rel::WEB_EXTENSION, "webextension1.xml");
    let taskpanes = format!(
        "{XML_DECL}<wetp:taskpanes xmlns:wetp=\"http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11\">\
<wetp:taskpane dockstate=\"right\" visibility=\"1\" width=\"350\" row=\"4\">\
<wetp:webextensionref xmlns:r=\"{}\" r:id=\"{ext}\"/></wetp:taskpane></wetp:taskpanes>",
        ns::R
    );
    let extension = format!(
        "{XML_DECL}<we:webextension xmlns:we=\"http://schemas.microsoft.com/office/webextensions/webextension/2010/11\" \
id=\"{{6D756761-6900-4000-8000-000000000002}}\"><we:reference id=\"wa104000000\" version=\"1.0.0.0\" store=\"en-US\" storeType=\"OMEX\"/>\
<we:alternateReferences/><we:properties/><we:bindings/><we:snapshot xmlns:r=\"{}\"/></we:webextension>",
        ns::R
    );
    w.pkg.add_part("word/webextensions/taskpanes.xml", Some(ct::WEB_EXTENSION_TASKPANES), taskpanes);
    w.pkg.add_part("word/webextensions/webextension1.xml", Some(ct::WEB_EXTENSION), extension);
    w.pkg.add_rel("", rel::WEB_EXTENSION_TASKPANES, "word/webextensions/taskpanes.xml");
    w.finish()
}
