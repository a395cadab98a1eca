//! PresentationML samples: one slide on a master, a layout and a theme (PowerPoint needs all of
//! them), and one variant per threat.

use super::media;
use super::package::{ct, esc, ns, office_package, rel, PackageBuilder, XML_DECL};

const PRES: &str = "ppt/presentation.xml";
const SLIDE: &str = "ppt/slides/slide1.xml";

/// A one-slide presentation under construction.
pub struct Deck {
    pub pkg: PackageBuilder,
    /// Shapes of the slide's tree, after the group properties.
    pub shapes: String,
    next_id: u32,
}

impl Deck {
    /// A presentation with master, layout, theme and the presentation property parts, and one
    /// slide with a title.
    pub fn new(main_ct: &'static str, title: &str) -> Self {
        let mut pkg = office_package(title);
        pkg.add_rel("", rel::OFFICE_DOCUMENT, PRES);
        pkg.add_part(PRES, Some(main_ct), Vec::new()); // written below, once the ids are known
        let master = pkg.add_rel(PRES, rel::SLIDE_MASTER, "slideMasters/slideMaster1.xml");
        let slide = pkg.add_rel(PRES, rel::SLIDE, "slides/slide1.xml");
        pkg.add_rel(PRES, rel::PRES_PROPS, "presProps.xml");
        pkg.add_rel(PRES, rel::VIEW_PROPS, "viewProps.xml");
        pkg.add_rel(PRES, rel::THEME, "theme/theme1.xml");
        pkg.add_rel(PRES, rel::TABLE_STYLES, "tableStyles.xml");
        pkg.add_part(PRES, None, presentation_xml(&master, &slide));
        pkg.add_part(SLIDE, Some(ct::P_SLIDE), Vec::new()); // written by `into_package`
        pkg.add_rel(SLIDE, rel::SLIDE_LAYOUT, "../slideLayouts/slideLayout1.xml");
        let layout = "ppt/slideLayouts/slideLayout1.xml";
        pkg.add_part(layout, Some(ct::P_SLIDE_LAYOUT), layout_xml());
        pkg.add_rel(layout, rel::SLIDE_MASTER, "../slideMasters/slideMaster1.xml");
        let master_part = "ppt/slideMasters/slideMaster1.xml";
        let layout_id = pkg.add_rel(master_part, rel::SLIDE_LAYOUT, "../slideLayouts/slideLayout1.xml");
        pkg.add_rel(master_part, rel::THEME, "../theme/theme1.xml");
        pkg.add_part(master_part, Some(ct::P_SLIDE_MASTER), master_xml(&layout_id));
        pkg.add_part("ppt/theme/theme1.xml", Some(ct::THEME), theme_xml());
        pkg.add_part("ppt/presProps.xml", Some(ct::P_PRES_PROPS), pres_props_xml());
        pkg.add_part("ppt/viewProps.xml", Some(ct::P_VIEW_PROPS), view_props_xml());
        let table_styles = format!(
            "{XML_DECL}<a:tblStyleLst xmlns:a=\"{}\" def=\"{{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}}\"/>",
            ns::A
        );
        pkg.add_part("ppt/tableStyles.xml", Some(ct::P_TABLE_STYLES), table_styles);
        let mut deck = Deck { pkg, shapes: String::new(), next_id: 2 };
        let id = deck.shape_id();
        deck.shapes.push_str(&format!(
            "<p:sp><p:nvSpPr><p:cNvPr id=\"{id}\" name=\"Title {id}\"/><p:cNvSpPr><a:spLocks noGrp=\"1\"/></p:cNvSpPr>\
<p:nvPr><p:ph type=\"title\"/></p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/>\
<a:p><a:r><a:rPr lang=\"en-US\"/><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp>",
            esc(title)
        ));
        deck
    }

    /// A fresh shape id on the slide.
    pub fn shape_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn rel(&mut self, rel_type: &str, target: &str) -> String {
        self.pkg.add_rel(SLIDE, rel_type, target)
    }

    pub fn external_rel(&mut self, rel_type: &str, target: &str) -> String {
        self.pkg.add_external_rel(SLIDE, rel_type, target)
    }

    /// Stores a PNG under `ppt/media/` and relates it from the slide.
    pub fn image(&mut self, file: &str, png: Vec<u8>) -> String {
        self.pkg.set_default("png", ct::PNG);
        self.pkg.add_part(&format!("ppt/media/{file}"), None, png);
        self.rel(rel::IMAGE, &format!("../media/{file}"))
    }

    /// A text box; `click` is an optional `a:hlinkClick` element for the shape.
    pub fn text_box(&mut self, text: &str, click: &str) {
        let id = self.shape_id();
        let (open, close) = if click.is_empty() {
            (format!("<p:cNvPr id=\"{id}\" name=\"TextBox {id}\"/>"), String::new())
        } else {
            (format!("<p:cNvPr id=\"{id}\" name=\"TextBox {id}\">{click}"), "</p:cNvPr>".to_string())
        };
        self.shapes.push_str(&format!(
            "<p:sp><p:nvSpPr>{open}{close}<p:cNvSpPr txBox=\"1\"/><p:nvPr/></p:nvSpPr><p:spPr>\
<a:xfrm><a:off x=\"457200\" y=\"1600200\"/><a:ext cx=\"5486400\" cy=\"914400\"/></a:xfrm>\
<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom><a:noFill/></p:spPr><p:txBody><a:bodyPr wrap=\"square\" rtlCol=\"0\">\
<a:spAutoFit/></a:bodyPr><a:lstStyle/><a:p><a:r><a:rPr lang=\"en-US\" dirty=\"0\"/><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp>",
            esc(text)
        ));
    }

    /// A picture of relationship `rid`.
    pub fn picture(&mut self, rid: &str) {
        let id = self.shape_id();
        self.shapes.push_str(&format!(
            "<p:pic><p:nvPicPr><p:cNvPr id=\"{id}\" name=\"Picture {id}\"/><p:cNvPicPr><a:picLocks noChangeAspect=\"1\"/></p:cNvPicPr>\
<p:nvPr/></p:nvPicPr>{}</p:pic>",
            pic_body(rid, 6_400_800, 1_600_200, 1_828_800)
        ));
    }

    /// An OLE object frame (`p:oleObj`), embedded (`p:embed`) or linked (`p:link`), with a
    /// preview picture.
    pub fn ole_frame(&mut self, ole_rid: &str, prog_id: &str, how: &str, preview_rid: &str) {
        let id = self.shape_id();
        self.shapes.push_str(&format!(
            "<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id=\"{id}\" name=\"Object {id}\"/><p:cNvGraphicFramePr>\
<a:graphicFrameLocks noChangeAspect=\"1\"/></p:cNvGraphicFramePr><p:nvPr/></p:nvGraphicFramePr>\
<p:xfrm><a:off x=\"457200\" y=\"3200400\"/><a:ext cx=\"914400\" cy=\"914400\"/></p:xfrm>\
<a:graphic><a:graphicData uri=\"http://schemas.openxmlformats.org/presentationml/2006/ole\">\
<p:oleObj name=\"{prog_id}\" r:id=\"{ole_rid}\" imgW=\"914400\" imgH=\"914400\" progId=\"{prog_id}\">{how}\
<p:pic><p:nvPicPr><p:cNvPr id=\"0\" name=\"\"/><p:cNvPicPr/><p:nvPr/></p:nvPicPr>{}</p:pic></p:oleObj>\
</a:graphicData></a:graphic></p:graphicFrame>",
            pic_body(preview_rid, 457_200, 3_200_400, 914_400)
        ));
    }

    pub fn into_package(mut self) -> PackageBuilder {
        let slide = format!(
            "{XML_DECL}<p:sld xmlns:a=\"{}\" xmlns:r=\"{}\" xmlns:p=\"{}\"><p:cSld><p:spTree>{}{}</p:spTree></p:cSld>\
<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>",
            ns::A,
            ns::R,
            ns::P,
            GROUP_PROPS,
            self.shapes
        );
        self.pkg.add_part(SLIDE, None, slide);
        self.pkg
    }

    pub fn finish(self) -> Vec<u8> {
        self.into_package().write()
    }
}

const GROUP_PROPS: &str = "<p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>\
<p:grpSpPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext cx=\"0\" cy=\"0\"/><a:chOff x=\"0\" y=\"0\"/><a:chExt cx=\"0\" cy=\"0\"/></a:xfrm></p:grpSpPr>";

fn pic_body(rid: &str, x: u64, y: u64, size: u64) -> String {
    format!(
        "<p:blipFill><a:blip r:embed=\"{rid}\"/><a:stretch><a:fillRect/></a:stretch></p:blipFill>\
<p:spPr><a:xfrm><a:off x=\"{x}\" y=\"{y}\"/><a:ext cx=\"{size}\" cy=\"{size}\"/></a:xfrm>\
<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></p:spPr>"
    )
}

fn presentation_xml(master: &str, slide: &str) -> String {
    format!(
        "{XML_DECL}<p:presentation xmlns:a=\"{}\" xmlns:r=\"{}\" xmlns:p=\"{}\" saveSubsetFonts=\"1\">\
<p:sldMasterIdLst><p:sldMasterId id=\"2147483648\" r:id=\"{master}\"/></p:sldMasterIdLst>\
<p:sldIdLst><p:sldId id=\"256\" r:id=\"{slide}\"/></p:sldIdLst>\
<p:sldSz cx=\"9144000\" cy=\"6858000\" type=\"screen4x3\"/><p:notesSz cx=\"6858000\" cy=\"9144000\"/>\
<p:defaultTextStyle><a:lvl1pPr marL=\"0\" algn=\"l\" defTabSz=\"914400\"><a:defRPr sz=\"1800\" kern=\"1200\">\
<a:solidFill><a:schemeClr val=\"tx1\"/></a:solidFill><a:latin typeface=\"+mn-lt\"/><a:ea typeface=\"+mn-ea\"/>\
<a:cs typeface=\"+mn-cs\"/></a:defRPr></a:lvl1pPr></p:defaultTextStyle></p:presentation>",
        ns::A,
        ns::R,
        ns::P
    )
}

fn title_placeholder(with_position: bool) -> String {
    let sp_pr = if with_position {
        "<p:spPr><a:xfrm><a:off x=\"457200\" y=\"274638\"/><a:ext cx=\"8229600\" cy=\"1143000\"/></a:xfrm>\
<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></p:spPr>"
    } else {
        "<p:spPr/>"
    };
    format!(
        "<p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"Title Placeholder 1\"/><p:cNvSpPr><a:spLocks noGrp=\"1\"/></p:cNvSpPr>\
<p:nvPr><p:ph type=\"title\"/></p:nvPr></p:nvSpPr>{sp_pr}<p:txBody><a:bodyPr anchor=\"ctr\"/><a:lstStyle/>\
<a:p><a:r><a:rPr lang=\"en-US\"/><a:t>Title</a:t></a:r></a:p></p:txBody></p:sp>"
    )
}

fn master_xml(layout_rid: &str) -> String {
    format!(
        "{XML_DECL}<p:sldMaster xmlns:a=\"{}\" xmlns:r=\"{}\" xmlns:p=\"{}\"><p:cSld><p:bg><p:bgRef idx=\"1001\">\
<a:schemeClr val=\"bg1\"/></p:bgRef></p:bg><p:spTree>{GROUP_PROPS}{}</p:spTree></p:cSld>\
<p:clrMap bg1=\"lt1\" tx1=\"dk1\" bg2=\"lt2\" tx2=\"dk2\" accent1=\"accent1\" accent2=\"accent2\" accent3=\"accent3\" \
accent4=\"accent4\" accent5=\"accent5\" accent6=\"accent6\" hlink=\"hlink\" folHlink=\"folHlink\"/>\
<p:sldLayoutIdLst><p:sldLayoutId id=\"2147483649\" r:id=\"{layout_rid}\"/></p:sldLayoutIdLst>\
<p:txStyles><p:titleStyle><a:lvl1pPr algn=\"l\"><a:defRPr sz=\"4400\" kern=\"1200\"><a:solidFill><a:schemeClr val=\"tx1\"/></a:solidFill>\
<a:latin typeface=\"+mj-lt\"/><a:ea typeface=\"+mj-ea\"/><a:cs typeface=\"+mj-cs\"/></a:defRPr></a:lvl1pPr></p:titleStyle>\
<p:bodyStyle><a:lvl1pPr marL=\"228600\" indent=\"-228600\" algn=\"l\"><a:defRPr sz=\"2800\" kern=\"1200\"><a:solidFill>\
<a:schemeClr val=\"tx1\"/></a:solidFill><a:latin typeface=\"+mn-lt\"/><a:ea typeface=\"+mn-ea\"/><a:cs typeface=\"+mn-cs\"/>\
</a:defRPr></a:lvl1pPr></p:bodyStyle><p:otherStyle><a:lvl1pPr marL=\"0\" algn=\"l\"><a:defRPr sz=\"1800\" kern=\"1200\">\
<a:solidFill><a:schemeClr val=\"tx1\"/></a:solidFill><a:latin typeface=\"+mn-lt\"/><a:ea typeface=\"+mn-ea\"/>\
<a:cs typeface=\"+mn-cs\"/></a:defRPr></a:lvl1pPr></p:otherStyle></p:txStyles></p:sldMaster>",
        ns::A,
        ns::R,
        ns::P,
        title_placeholder(true)
    )
}

fn layout_xml() -> String {
    format!(
        "{XML_DECL}<p:sldLayout xmlns:a=\"{}\" xmlns:r=\"{}\" xmlns:p=\"{}\" type=\"titleOnly\" preserve=\"1\">\
<p:cSld name=\"Title Only\"><p:spTree>{GROUP_PROPS}{}</p:spTree></p:cSld>\
<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>",
        ns::A,
        ns::R,
        ns::P,
        title_placeholder(false)
    )
}

fn pres_props_xml() -> String {
    format!("{XML_DECL}<p:presentationPr xmlns:a=\"{}\" xmlns:r=\"{}\" xmlns:p=\"{}\"/>", ns::A, ns::R, ns::P)
}

fn view_props_xml() -> String {
    format!(
        "{XML_DECL}<p:viewPr xmlns:a=\"{}\" xmlns:r=\"{}\" xmlns:p=\"{}\"><p:normalViewPr><p:restoredLeft sz=\"15620\"/>\
<p:restoredTop sz=\"94660\"/></p:normalViewPr><p:gridSpacing cx=\"76200\" cy=\"76200\"/></p:viewPr>",
        ns::A,
        ns::R,
        ns::P
    )
}

/// A complete theme: colour, font and format schemes (three fills, lines, effects and
/// background fills each, as the schema requires).
pub fn theme_xml() -> String {
    let colors = [
        ("dk2", "44546A"),
        ("lt2", "E7E6E6"),
        ("accent1", "4472C4"),
        ("accent2", "ED7D31"),
        ("accent3", "A5A5A5"),
        ("accent4", "FFC000"),
        ("accent5", "5B9BD5"),
        ("accent6", "70AD47"),
        ("hlink", "0563C1"),
        ("folHlink", "954F72"),
    ];
    let scheme: String = colors.iter().map(|(n, c)| format!("<a:{n}><a:srgbClr val=\"{c}\"/></a:{n}>")).collect();
    let fill = "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>";
    let line = |w: u32| {
        format!("<a:ln w=\"{w}\" cap=\"flat\" cmpd=\"sng\" algn=\"ctr\">{fill}<a:prstDash val=\"solid\"/><a:miter lim=\"800000\"/></a:ln>")
    };
    let effect = "<a:effectStyle><a:effectLst/></a:effectStyle>";
    format!(
        "{XML_DECL}<a:theme xmlns:a=\"{}\" name=\"Office Theme\"><a:themeElements><a:clrScheme name=\"Office\">\
<a:dk1><a:sysClr val=\"windowText\" lastClr=\"000000\"/></a:dk1><a:lt1><a:sysClr val=\"window\" lastClr=\"FFFFFF\"/></a:lt1>{scheme}\
</a:clrScheme><a:fontScheme name=\"Office\"><a:majorFont><a:latin typeface=\"Calibri Light\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/>\
<a:font script=\"Jpan\" typeface=\"游ゴシック Light\"/></a:majorFont><a:minorFont><a:latin typeface=\"Calibri\"/><a:ea typeface=\"\"/>\
<a:cs typeface=\"\"/><a:font script=\"Jpan\" typeface=\"游ゴシック\"/></a:minorFont></a:fontScheme>\
<a:fmtScheme name=\"Office\"><a:fillStyleLst>{fill}{fill}{fill}</a:fillStyleLst><a:lnStyleLst>{}{}{}</a:lnStyleLst>\
<a:effectStyleLst>{effect}{effect}{effect}</a:effectStyleLst><a:bgFillStyleLst>{fill}{fill}{fill}</a:bgFillStyleLst>\
</a:fmtScheme></a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>",
        ns::A,
        line(6350),
        line(12700),
        line(19050)
    )
}

/// The threat samples' common slide: a title and a text box.
pub fn base(main_ct: &'static str, title: &str) -> Deck {
    let mut d = Deck::new(main_ct, title);
    d.text_box("This presentation was made by mugai for its tests.", "");
    d
}

/// A title, a text box and a picture; nothing active.
pub fn benign() -> Vec<u8> {
    let mut d = Deck::new(ct::PPTX_MAIN, "Quarterly review");
    d.text_box("Sales grew in every region. 全地域で売上が伸びました。", "");
    let img = d.image("image1.png", media::sample_png());
    d.picture(&img);
    d.finish()
}

/// A macro-enabled presentation, template or show (by `main_ct`) with a VBA project.
pub fn vba(main_ct: &'static str) -> Vec<u8> {
    let mut d = base(main_ct, "Macro presentation");
    d.pkg.set_default("bin", ct::VBA_PROJECT);
    d.pkg.add_part("ppt/vbaProject.bin", None, media::vba_project("ShowMessage"));
    d.pkg.add_rel(PRES, rel::VBA_PROJECT, "vbaProject.bin");
    d.finish()
}

/// An embedded OLE package in a graphic frame (`p:oleObj` with `p:embed`).
pub fn ole_package() -> Vec<u8> {
    let mut d = base(ct::PPTX_MAIN, "Embedded package");
    let img = d.image("image1.png", media::sample_png());
    d.pkg.add_part(
        "ppt/embeddings/oleObject1.bin",
        Some(ct::OLE_OBJECT),
        media::ole_package("readme.bat", b"@echo off\r\necho mugai sample\r\n"),
    );
    let ole = d.rel(rel::OLE_OBJECT, "../embeddings/oleObject1.bin");
    d.ole_frame(&ole, "Package", "<p:embed/>", &img);
    d.finish()
}

/// An OLE object linked to a workbook on a file server (`p:link`, external relationship).
pub fn ole_link_external() -> Vec<u8> {
    let mut d = base(ct::PPTX_MAIN, "Linked object");
    let img = d.image("image1.png", media::sample_png());
    let ole = d.external_rel(rel::OLE_OBJECT, "file://fileserver.example/share/figures.xlsx");
    d.ole_frame(&ole, "Excel.Sheet.12", "<p:link updateAutomatic=\"1\"/>", &img);
    d.finish()
}

/// A text box whose click runs a program (`ppaction://program`).
pub fn program_action() -> Vec<u8> {
    let mut d = Deck::new(ct::PPTX_MAIN, "Click to run");
    let target = d.external_rel(rel::HYPERLINK, "file:///C:/Windows/System32/calc.exe");
    d.text_box("Click here", &format!("<a:hlinkClick r:id=\"{target}\" action=\"ppaction://program\"/>"));
    d.finish()
}

/// A chart whose data is an embedded workbook (`c:externalData` to `ppt/embeddings/*.xlsx`).
/// The chart needs its workbook, so a disarm keeps it (rebuilt) rather than removing it.
pub fn chart_with_embedded_workbook(workbook: Vec<u8>) -> Vec<u8> {
    let mut d = base(ct::PPTX_MAIN, "Chart");
    let chart_part = "ppt/charts/chart1.xml";
    d.pkg.set_default("xlsx", ct::XLSX_PACKAGE);
    d.pkg.add_part("ppt/embeddings/Microsoft_Excel_Worksheet.xlsx", None, workbook);
    let data = d.pkg.add_rel(chart_part, rel::PACKAGE, "../embeddings/Microsoft_Excel_Worksheet.xlsx");
    d.pkg.add_part(chart_part, Some(ct::CHART), chart_xml(&data));
    let chart = d.rel(rel::CHART, "../charts/chart1.xml");
    let id = d.shape_id();
    d.shapes.push_str(&format!(
        "<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id=\"{id}\" name=\"Chart {id}\"/><p:cNvGraphicFramePr/><p:nvPr/>\
</p:nvGraphicFramePr><p:xfrm><a:off x=\"457200\" y=\"2743200\"/><a:ext cx=\"5486400\" cy=\"3200400\"/></p:xfrm>\
<a:graphic><a:graphicData uri=\"{c}\"><c:chart xmlns:c=\"{c}\" r:id=\"{chart}\"/></a:graphicData></a:graphic></p:graphicFrame>",
        c = ns::C
    ));
    d.finish()
}

fn chart_xml(data_rid: &str) -> String {
    let pts = |vals: &[&str]| -> String {
        vals.iter().enumerate().map(|(i, v)| format!("<c:pt idx=\"{i}\"><c:v>{v}</c:v></c:pt>")).collect()
    };
    format!(
        "{XML_DECL}<c:chartSpace xmlns:c=\"{}\" xmlns:a=\"{}\" xmlns:r=\"{}\"><c:chart><c:autoTitleDeleted val=\"1\"/>\
<c:plotArea><c:layout/><c:barChart><c:barDir val=\"col\"/><c:grouping val=\"clustered\"/><c:varyColors val=\"0\"/>\
<c:ser><c:idx val=\"0\"/><c:order val=\"0\"/><c:tx><c:strRef><c:f>Sales!$B$1</c:f><c:strCache><c:ptCount val=\"1\"/>{}</c:strCache>\
</c:strRef></c:tx><c:cat><c:strRef><c:f>Sales!$A$2:$A$3</c:f><c:strCache><c:ptCount val=\"2\"/>{}</c:strCache></c:strRef></c:cat>\
<c:val><c:numRef><c:f>Sales!$B$2:$B$3</c:f><c:numCache><c:formatCode>General</c:formatCode><c:ptCount val=\"2\"/>{}</c:numCache>\
</c:numRef></c:val></c:ser><c:axId val=\"500000001\"/><c:axId val=\"500000002\"/></c:barChart>\
<c:catAx><c:axId val=\"500000001\"/><c:scaling><c:orientation val=\"minMax\"/></c:scaling><c:delete val=\"0\"/>\
<c:axPos val=\"b\"/><c:crossAx val=\"500000002\"/></c:catAx><c:valAx><c:axId val=\"500000002\"/><c:scaling>\
<c:orientation val=\"minMax\"/></c:scaling><c:delete val=\"0\"/><c:axPos val=\"l\"/><c:crossAx val=\"500000001\"/></c:valAx>\
</c:plotArea><c:plotVisOnly val=\"1\"/></c:chart><c:externalData r:id=\"{data_rid}\"><c:autoUpdate val=\"0\"/></c:externalData>\
</c:chartSpace>",
        ns::C,
        ns::A,
        ns::R,
        pts(&["Amount"]),
        pts(&["Apples", "Pears"]),
        pts(&["10", "32"]),
    )
}
