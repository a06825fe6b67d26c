//! The table `regress` prints at the end: one row per fixture with its findings and warnings,
//! then the counts and where the reports are.

use camino::Utf8Path;

use crate::outcome::{RegressReport, Status};

/// The summary table of `report`, whose files are in `report_dir`.
pub fn summary_table(report: &RegressReport, report_dir: &Utf8Path) -> String {
    let mut out = format!("\n{:<20} {:<8} detail\n", "fixture", "status");
    for f in &report.fixtures {
        out.push_str(&format!("{:<20} {:<8} {}\n", f.name, f.status, f.detail()));
    }
    out.push_str(&format!(
        "\n{} passed, {} failed, {} skipped, {} errors; reports: {} and {}\n",
        report.count(Status::Passed),
        report.count(Status::Failed),
        report.count(Status::Skipped),
        report.count(Status::Error),
        report_dir.join("report.json"),
        report_dir.join("report.html"),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table ends every `regress` run: a row per fixture, its failure's detail, the counts.
    #[test]
    fn the_summary_table() {
        let table = summary_table(
            &crate::outcome::sample_report(),
            Utf8Path::new("framelock-report"),
        );
        insta::assert_snapshot!(table);
    }
}
