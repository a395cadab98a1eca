//! Synthetic documents built by the project for its tests, samples and benchmarks.
//!
//! Every file here is made by this module's code: OOXML packages (Word, Excel, PowerPoint,
//! Visio) that open in their applications, each variant carrying one threat from the project's
//! checklist, and hostile inputs that must be blocked; and, in [`pdf`], PDF documents made by a
//! small raw writer, one per row of the PDF checklist, with their own list of samples; and, in
//! [`ole2`], legacy Office compound files (Word 97, BIFF8, PowerPoint records); in [`odf`],
//! OpenDocument packages and flat XML documents, one per row of the ODF checklist; and, in
//! [`rtf`], RTF documents written as text, one per row of the RTF checklist; in [`archive`]
//! and [`packed`], archives and disguised files, benign and hostile; in [`markup`], HTML, SVG
//! and XML files written as text; in [`mail`], mail messages with attachments, benign and
//! hostile. Nothing is
//! downloaded or copied, and the payloads are inert (a message box macro or script, a batch file
//! that echoes, a PE header without code).
//!
//! [`all`] lists every sample with the outcome the engine must reach under the default
//! configuration; `examples/gen_samples.rs` writes them to `samples/ooxml/` together with
//! `EXPECTED.tsv`, and the integration tests check both the outcomes and that the committed files
//! still equal what these builders make. [`large_docx`] makes benign documents of a chosen size
//! and [`large_pdf`] benign PDFs of a chosen page count for the benchmarks.
//!
//! The builders are deterministic: fixed zip timestamps, fixed compound file times, a seeded
//! generator for noise.

pub mod archive;
pub mod excel;
pub mod hostile;
mod large;
mod large_pdf;
pub mod mail;
pub mod markup;
pub mod media;
pub mod odf;
pub mod ole2;
pub mod package;
pub mod packed;
pub mod pdf;
pub mod powerpoint;
pub mod rtf;
pub mod visio;
pub mod word;

pub use large::{large_docm, large_docx};
pub use large_pdf::large_pdf;
pub use package::PackageBuilder;

use crate::model::{ActionKind, Reason, Verdict};
use package::ct;

/// The outcome a sample must reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    /// Actions that must all appear. For a disarmed sample, an empty list together with an empty
    /// `any_of` means the output must come with no actions at all.
    pub actions: Vec<ActionKind>,
    /// When not empty, at least one of these must appear (for threats that may be handled in
    /// more than one acceptable way).
    pub any_of: Vec<ActionKind>,
    /// The extension of the output's name (`docm` inputs become `docx`), or `None` when blocked.
    pub output_ext: Option<&'static str>,
    /// Words that must still be in the output's main document part (field results, link text).
    pub keeps_text: Vec<&'static str>,
}

impl Expected {
    /// Rebuilt with nothing removed.
    pub fn clean(ext: &'static str) -> Self {
        Self::disarmed(ext, &[])
    }

    /// Rebuilt, with at least these actions.
    pub fn disarmed(ext: &'static str, actions: &[ActionKind]) -> Self {
        Expected {
            verdict: Verdict::Disarmed,
            reason: None,
            actions: actions.to_vec(),
            any_of: Vec::new(),
            output_ext: Some(ext),
            keeps_text: Vec::new(),
        }
    }

    /// Passed as it was, byte for byte.
    pub fn kept(ext: &'static str) -> Self {
        Expected { verdict: Verdict::Kept, ..Self::clean(ext) }
    }

    pub fn blocked(reason: Reason) -> Self {
        Expected {
            verdict: Verdict::Blocked,
            reason: Some(reason),
            actions: Vec::new(),
            any_of: Vec::new(),
            output_ext: None,
            keeps_text: Vec::new(),
        }
    }

    pub fn or_one_of(mut self, any_of: &[ActionKind]) -> Self {
        self.any_of = any_of.to_vec();
        self
    }

    pub fn keeping(mut self, words: &[&'static str]) -> Self {
        self.keeps_text = words.to_vec();
        self
    }

    /// True when a disarmed output must carry no actions.
    pub fn expects_no_actions(&self) -> bool {
        self.verdict == Verdict::Disarmed && self.actions.is_empty() && self.any_of.is_empty()
    }
}

/// One synthetic input and what must become of it.
#[derive(Clone, Debug)]
pub struct Sample {
    pub file_name: &'static str,
    pub bytes: Vec<u8>,
    pub expected: Expected,
}

fn sample(file_name: &'static str, bytes: Vec<u8>, expected: Expected) -> Sample {
    Sample { file_name, bytes, expected }
}

/// Every sample, in a fixed order.
pub fn all() -> Vec<Sample> {
    use ActionKind::*;
    let macro_free = [RemovedVbaProject, ConvertedToMacroFree];
    let vba = |name, bytes, ext| sample(name, bytes, Expected::disarmed(ext, &macro_free));
    vec![
        // Benign documents: rebuilt with nothing to report.
        sample("benign_report.docx", word::benign(), Expected::clean("docx")),
        sample("benign_sales.xlsx", excel::benign(), Expected::clean("xlsx")),
        sample("benign_review.pptx", powerpoint::benign(), Expected::clean("pptx")),
        sample("benign_drawing.vsdx", visio::benign(), Expected::clean("vsdx")),
        // VBA projects: removed, and the package becomes its macro-free twin.
        vba("vba_autoopen.docm", word::vba(ct::DOCM_MAIN), "docx"),
        vba("vba_template.dotm", word::vba(ct::DOTM_MAIN), "dotx"),
        vba("vba_docm_named.docx", word::vba(ct::DOCM_MAIN), "docx"),
        vba("vba_workbook.xlsm", excel::vba(ct::XLSM_MAIN), "xlsx"),
        vba("vba_template.xltm", excel::vba(ct::XLTM_MAIN), "xltx"),
        vba("vba_addin.xlam", excel::vba(ct::XLAM_MAIN), "xlsx"),
        vba("vba_presentation.pptm", powerpoint::vba(ct::PPTM_MAIN), "pptx"),
        vba("vba_template.potm", powerpoint::vba(ct::POTM_MAIN), "potx"),
        vba("vba_show.ppsm", powerpoint::vba(ct::PPSM_MAIN), "ppsx"),
        vba("vba_drawing.vsdm", visio::vba(), "vsdx"),
        // Excel 4.0 macros.
        sample(
            "xlm_auto_open.xlsm",
            excel::xlm_macro_sheet(),
            Expected::disarmed("xlsx", &[RemovedMacroSheet, RemovedAutoMacroName]),
        ),
        // ActiveX controls.
        sample("activex_checkbox.docx", word::activex(), Expected::disarmed("docx", &[RemovedActivex])),
        sample("activex_checkbox.xlsx", excel::activex(), Expected::disarmed("xlsx", &[RemovedActivex])),
        // Embedded OLE packages.
        sample("ole_package.docx", word::ole_package(), Expected::disarmed("docx", &[RemovedOleObject])),
        sample("ole_package.xlsx", excel::ole_package(), Expected::disarmed("xlsx", &[RemovedOleObject])),
        sample("ole_package.pptx", powerpoint::ole_package(), Expected::disarmed("pptx", &[RemovedOleObject])),
        // Embedded OOXML documents. Embedded objects are removed under the default policy
        // (`[ooxml] embedded_documents = "remove"`); a chart's data workbook is always disarmed
        // and kept, and reported only when something in it was removed.
        sample("embedded_xlsx.docx", word::embedded_xlsx(), Expected::disarmed("docx", &[RemovedOleObject])),
        sample(
            "embedded_docm.docx",
            word::embedded_docm(),
            Expected::disarmed("docx", &[]).or_one_of(&[RemovedVbaProject, RemovedOleObject]),
        ),
        sample(
            "chart_embedded_xlsx.pptx",
            powerpoint::chart_with_embedded_workbook(excel::benign()),
            Expected::clean("pptx"),
        ),
        sample(
            "chart_data_dde_link.pptx",
            powerpoint::chart_with_embedded_workbook(excel::dde_link()),
            Expected::disarmed("pptx", &[DisarmedEmbeddedDocument, RemovedDdeLink]),
        ),
        // DDE and other dangerous fields.
        sample(
            "dde_fields.docx",
            word::dde_fields(),
            Expected::disarmed("docx", &[RemovedDdeField]).keeping(&word::DDE_RESULT_WORDS),
        ),
        sample(
            "includetext_remote.docx",
            word::include_text_field(),
            Expected::disarmed("docx", &[RemovedDangerousField]).keeping(&[word::INCLUDE_RESULT_WORD]),
        ),
        sample(
            "hyperlink_field_unc.docx",
            word::unc_hyperlink_field(),
            Expected::disarmed("docx", &[RemovedExternalReference]).keeping(&["Meeting", "minutes", "Agenda"]),
        ),
        sample("dde_link.xlsx", excel::dde_link(), Expected::disarmed("xlsx", &[RemovedDdeLink])),
        sample("dde_formula.xlsx", excel::dde_formula(), Expected::disarmed("xlsx", &[RemovedDdeFormula])),
        sample(
            "webservice_formula.xlsx",
            excel::webservice_formula(),
            Expected::disarmed("xlsx", &[RemovedExternalFormula]),
        ),
        // External references.
        sample("remote_template.docx", word::remote_template(), Expected::disarmed("docx", &[RemovedAttachedTemplate])),
        sample("image_by_url.docx", word::image_by_url(), Expected::disarmed("docx", &[RemovedExternalReference])),
        sample(
            "subdocument_external.docx",
            word::external_subdocument(),
            Expected::disarmed("docx", &[RemovedExternalReference]),
        ),
        sample("frame_external.docx", word::external_frame(), Expected::disarmed("docx", &[RemovedExternalReference])),
        sample(
            "external_workbook.xlsx",
            excel::external_workbook(),
            Expected::disarmed("xlsx", &[RemovedExternalFormula, RemovedExternalReference]),
        ),
        sample(
            "external_workbook.xlsb",
            excel::binary::external_workbook(),
            Expected::disarmed("xlsb", &[RemovedExternalFormula, RemovedExternalReference]),
        ),
        sample(
            "external_object.xlsb",
            excel::binary::external_object(),
            Expected::disarmed("xlsb", &[RemovedOleObject, RemovedExternalFormula, RemovedExternalReference]),
        ),
        sample(
            "external_workbook_validation.xlsb",
            excel::binary::external_workbook_validation(),
            Expected::blocked(Reason::Unsupported),
        ),
        sample(
            "ole_link_external.pptx",
            powerpoint::ole_link_external(),
            Expected::disarmed("pptx", &[RemovedExternalReference]),
        ),
        sample(
            "hyperlink_file.docx",
            word::file_hyperlink(),
            Expected::disarmed("docx", &[RemovedExternalReference]).keeping(&[word::FILE_LINK_TEXT]),
        ),
        // Ribbon callbacks.
        sample("customui_onload.docx", word::custom_ui(false), Expected::disarmed("docx", &[RemovedCustomUi])),
        sample("vsto_addin.docx", word::vsto_addin(), Expected::disarmed("docx", &[RemovedAddinReference])),
        sample(
            "customui_onload.docm",
            word::custom_ui(true),
            Expected::disarmed("docx", &[RemovedCustomUi, RemovedVbaProject, ConvertedToMacroFree]),
        ),
        // Hidden payloads, program actions, data connections, web add-ins.
        // A program may be reported for what it is (an embedded program) or for where it is.
        sample(
            "hidden_exe.docx",
            word::hidden_executable(),
            Expected::disarmed("docx", &[RemovedContentType]).or_one_of(&[RemovedUnreferencedPart, RemovedOleObject]),
        ),
        sample(
            "hidden_script.docx",
            word::hidden_script(),
            Expected::disarmed("docx", &[RemovedUnreferencedPart, RemovedContentType]),
        ),
        sample(
            "program_action.pptx",
            powerpoint::program_action(),
            Expected::disarmed("pptx", &[RemovedProgramAction]),
        ),
        sample("data_connection.xlsx", excel::data_connection(), Expected::disarmed("xlsx", &[RemovedDataConnection])),
        sample("web_extension.docx", word::web_extension(), Expected::disarmed("docx", &[RemovedWebExtension])),
        // Blocked.
        sample("blocked_random.docx", hostile::random_bytes(), Expected::blocked(Reason::UnknownKind)),
        sample("blocked_truncated.docx", hostile::truncated(), Expected::blocked(Reason::Malformed)),
        sample("blocked_path_traversal.docx", hostile::path_traversal(), Expected::blocked(Reason::PathTraversal)),
        sample("blocked_zip_bomb.docx", hostile::zip_bomb(), Expected::blocked(Reason::LimitRatio)),
        sample("blocked_exe_invoice.docx", hostile::executable(), Expected::blocked(Reason::Executable)),
        sample("blocked_duplicate_entry.docx", hostile::duplicate_entry(), Expected::blocked(Reason::DuplicateEntry)),
        sample("blocked_encrypted_entry.docx", hostile::encrypted_entry(), Expected::blocked(Reason::Encrypted)),
        sample("blocked_xml_entity_bomb.docx", hostile::xml_entity_bomb(), Expected::blocked(Reason::XmlDoctype)),
        sample("blocked_bzip2_entry.docx", hostile::bzip2_entry(), Expected::blocked(Reason::UnsupportedCompression)),
    ]
}

/// The name reports use for an action (`removed_vba_project`).
pub fn action_name(a: ActionKind) -> String {
    match serde_json::to_value(a) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{a:?}"),
    }
}

/// `EXPECTED.tsv`: one line per sample with file, verdict, reason, actions and output extension.
/// Actions are comma-separated; alternatives of which one must appear are joined by `|`. `-`
/// stands for none.
pub fn expected_tsv(samples: &[Sample]) -> String {
    let mut s = String::from("file\tverdict\treason\tactions\toutput_ext\n");
    for x in samples {
        let e = &x.expected;
        let mut actions: Vec<String> = e.actions.iter().map(|a| action_name(*a)).collect();
        if !e.any_of.is_empty() {
            actions.push(e.any_of.iter().map(|a| action_name(*a)).collect::<Vec<_>>().join("|"));
        }
        let actions = if actions.is_empty() { "-".to_string() } else { actions.join(",") };
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            x.file_name,
            e.verdict.as_str(),
            e.reason.map(|r| r.as_str()).unwrap_or("-"),
            actions,
            e.output_ext.unwrap_or("-")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_snake_case() {
        assert_eq!(action_name(ActionKind::RemovedVbaProject), "removed_vba_project");
    }
}
