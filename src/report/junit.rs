//! JUnit XML for CI dashboards: one test case per fixture, findings as failure messages.

use super::escape;
use crate::regress::{RegressReport, Status};

/// The report as a JUnit XML document.
pub fn junit_xml(report: &RegressReport) -> String {
    let count = |s: Status| report.fixtures.iter().filter(|f| f.status == s).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites>\n  <testsuite name=\"framelock regress\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        report.fixtures.len(),
        count(Status::Failed),
        count(Status::Error),
        count(Status::Skipped)
    ));
    for f in &report.fixtures {
        xml.push_str(&format!(
            "    <testcase classname=\"framelock.regress\" name=\"{}\">",
            escape(&f.name)
        ));
        let details: Vec<String> = f
            .findings
            .iter()
            .map(ToString::to_string)
            .chain(f.warnings.iter().map(|w| format!("warning: {w}")))
            .collect();
        let reason = f.reason.clone().unwrap_or_default();
        match f.status {
            Status::Passed => {
                if !details.is_empty() {
                    xml.push_str(&format!(
                        "<system-out>{}</system-out>",
                        escape(&details.join("\n"))
                    ));
                }
            }
            Status::Skipped => xml.push_str(&format!("<skipped message=\"{}\"/>", escape(&reason))),
            Status::Failed => xml.push_str(&format!(
                "<failure message=\"{}\">{}</failure>",
                escape(&reason),
                escape(&details.join("\n"))
            )),
            Status::Error => xml.push_str(&format!("<error message=\"{}\"/>", escape(&reason))),
        }
        xml.push_str("</testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regress::{FixtureResult, RegressMode};

    #[test]
    fn one_case_per_fixture_with_escaped_messages() {
        let fixture = |name: &str, status: Status, reason: Option<&str>| FixtureResult {
            name: name.into(),
            status,
            reason: reason.map(String::from),
            bundle_hash: None,
            findings: Vec::new(),
            warnings: Vec::new(),
            psnr: None,
            min_psnr: 40.0,
            console_errors: Vec::new(),
            images: Vec::new(),
            seconds: 1.0,
            error_code: None,
            reused: false,
        };
        let report = RegressReport {
            format_version: 1,
            mode: RegressMode::InProcess,
            fixtures: vec![
                fixture("a", Status::Passed, None),
                fixture("b<&>", Status::Failed, Some("frame \"3\" < 40 dB")),
                fixture("c", Status::Skipped, Some("nested")),
            ],
        };
        let xml = junit_xml(&report);
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("name=\"b&lt;&amp;&gt;\""), "{xml}");
        assert!(
            xml.contains("message=\"frame &quot;3&quot; &lt; 40 dB\""),
            "{xml}"
        );
        assert_eq!(xml.matches("<testcase ").count(), 3);
    }
}
