//! Visio (VSDX) samples: a document with one page and one rectangle, and its VBA variant.

use super::media;
use super::package::{ct, ns, office_package, rel, PackageBuilder, XML_DECL};

const DOC: &str = "visio/document.xml";

/// A drawing with one page holding a labelled rectangle.
pub fn package(main_ct: &'static str) -> PackageBuilder {
    let mut pkg = office_package("Process drawing");
    pkg.add_rel("", rel::VISIO_DOCUMENT, DOC);
    let document = format!(
        "{XML_DECL}<VisioDocument xmlns=\"{}\" xmlns:r=\"{}\" xml:space=\"preserve\">\
<DocumentSettings TopPage=\"0\" DefaultTextStyle=\"0\" DefaultLineStyle=\"0\" DefaultFillStyle=\"0\" DefaultGuideStyle=\"0\">\
<GlueSettings>9</GlueSettings><SnapSettings>65847</SnapSettings><SnapExtensions>34</SnapExtensions><SnapAngles/>\
<DynamicGridEnabled>1</DynamicGridEnabled><ProtectStyles>0</ProtectStyles><ProtectShapes>0</ProtectShapes>\
<ProtectMasters>0</ProtectMasters><ProtectBkgnds>0</ProtectBkgnds></DocumentSettings>\
<Colors><ColorEntry IX=\"0\" RGB=\"#000000\"/><ColorEntry IX=\"1\" RGB=\"#FFFFFF\"/></Colors>\
<StyleSheets><StyleSheet ID=\"0\" NameU=\"No Style\" IsCustomNameU=\"1\" Name=\"No Style\" IsCustomName=\"1\">\
<Cell N=\"EnableLineProps\" V=\"1\"/><Cell N=\"EnableFillProps\" V=\"1\"/><Cell N=\"EnableTextProps\" V=\"1\"/>\
<Cell N=\"LineWeight\" V=\"0.01041666666666667\"/><Cell N=\"LineColor\" V=\"0\"/><Cell N=\"LinePattern\" V=\"1\"/>\
<Cell N=\"FillForegnd\" V=\"1\"/><Cell N=\"FillPattern\" V=\"1\"/></StyleSheet></StyleSheets>\
<DocumentSheet NameU=\"TheDoc\" IsCustomNameU=\"1\" Name=\"TheDoc\" IsCustomName=\"1\" LineStyle=\"0\" FillStyle=\"0\" TextStyle=\"0\">\
<Cell N=\"OutputFormat\" V=\"0\"/><Cell N=\"LockPreview\" V=\"0\"/></DocumentSheet></VisioDocument>",
        ns::VISIO,
        ns::R
    );
    pkg.add_part(DOC, Some(main_ct), document);
    let pages_part = "visio/pages/pages.xml";
    pkg.add_rel(DOC, rel::VISIO_PAGES, "pages/pages.xml");
    let page = pkg.add_rel(pages_part, rel::VISIO_PAGE, "page1.xml");
    let pages = format!(
        "{XML_DECL}<Pages xmlns=\"{}\" xmlns:r=\"{}\" xml:space=\"preserve\"><Page ID=\"0\" NameU=\"Page-1\" Name=\"Page-1\">\
<PageSheet LineStyle=\"0\" FillStyle=\"0\" TextStyle=\"0\"><Cell N=\"PageWidth\" V=\"8.267716535433071\"/>\
<Cell N=\"PageHeight\" V=\"11.69291338582677\"/><Cell N=\"PageScale\" V=\"1\" U=\"MM\"/><Cell N=\"DrawingScale\" V=\"1\" U=\"MM\"/>\
</PageSheet><Rel r:id=\"{page}\"/></Page></Pages>",
        ns::VISIO,
        ns::R
    );
    pkg.add_part(pages_part, Some(ct::VISIO_PAGES), pages);
    let mut geometry =
        String::from("<Section N=\"Geometry\" IX=\"0\"><Cell N=\"NoFill\" V=\"0\"/><Cell N=\"NoLine\" V=\"0\"/>");
    let corners =
        [("RelMoveTo", 0, 0), ("RelLineTo", 1, 0), ("RelLineTo", 1, 1), ("RelLineTo", 0, 1), ("RelLineTo", 0, 0)];
    for (i, (t, x, y)) in corners.iter().enumerate() {
        geometry.push_str(&format!(
            "<Row T=\"{t}\" IX=\"{}\"><Cell N=\"X\" V=\"{x}\"/><Cell N=\"Y\" V=\"{y}\"/></Row>",
            i + 1
        ));
    }
    geometry.push_str("</Section>");
    let page1 = format!(
        "{XML_DECL}<PageContents xmlns=\"{}\" xmlns:r=\"{}\" xml:space=\"preserve\"><Shapes>\
<Shape ID=\"1\" Type=\"Shape\" LineStyle=\"0\" FillStyle=\"0\" TextStyle=\"0\">\
<Cell N=\"PinX\" V=\"4.133858267716535\"/><Cell N=\"PinY\" V=\"5.846456692913386\"/><Cell N=\"Width\" V=\"2\"/>\
<Cell N=\"Height\" V=\"1\"/><Cell N=\"LocPinX\" V=\"1\" F=\"Width*0.5\"/><Cell N=\"LocPinY\" V=\"0.5\" F=\"Height*0.5\"/>\
{geometry}<Text>Process step</Text></Shape></Shapes></PageContents>",
        ns::VISIO,
        ns::R
    );
    pkg.add_part("visio/pages/page1.xml", Some(ct::VISIO_PAGE), page1);
    pkg
}

/// A drawing with one page; nothing active.
pub fn benign() -> Vec<u8> {
    package(ct::VSDX_MAIN).write()
}

/// A macro-enabled drawing with a VBA project.
pub fn vba() -> Vec<u8> {
    let mut pkg = package(ct::VSDM_MAIN);
    pkg.set_default("bin", ct::VBA_PROJECT);
    pkg.add_part("visio/vbaProject.bin", None, media::vba_project("ShowMessage"));
    pkg.add_rel(DOC, rel::VBA_PROJECT, "vbaProject.bin");
    pkg.write()
}
