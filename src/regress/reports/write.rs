//! `report.json` and `report.html`, written whole into the report folder.

use camino::Utf8Path;

use super::super::error::RegressError;
use super::html::report_html;
use crate::outcome::RegressReport;

/// Writes `report.json` and `report.html` into `dir`, each replacing the old one whole.
pub fn write_reports(report: &RegressReport, dir: &Utf8Path) -> Result<(), RegressError> {
    let json = serde_json::to_string_pretty(report).expect("the report serialises") + "\n";
    let html = report_html(report, dir);
    for (name, text) in [("report.json", json), ("report.html", html)] {
        let path = dir.join(name);
        crate::staging::write_file(&path, "report", text.as_bytes())
            .map_err(RegressError::io(&path))?;
    }
    Ok(())
}
