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

#[cfg(test)]
mod tests {
    use super::*;

    /// `report.json` as tools read it: a fixture with findings, console errors and pictures.
    #[test]
    fn report_json_of_fixtures_with_findings() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        write_reports(&crate::outcome::sample_report(), dir).unwrap();
        let json = std::fs::read_to_string(dir.join("report.json")).unwrap();
        insta::assert_snapshot!(json);
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert!(
            html.contains("canvas-state"),
            "report.html is written beside it"
        );
    }
}
