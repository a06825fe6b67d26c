//! JUnit XML for CI dashboards: one test case per fixture, with its time, findings as failure
//! messages; written with `quick-junit`, the model cargo-nextest writes its own reports with.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::outcome::{RegressReport, Status};

/// The report as a JUnit XML document.
pub fn junit_xml(report: &RegressReport) -> String {
    let mut suite = TestSuite::new("framelock regress");
    let mut total = Duration::ZERO;
    for f in &report.fixtures {
        let details: Vec<String> = f
            .findings
            .iter()
            .map(ToString::to_string)
            .chain(f.warnings.iter().map(|w| format!("warning: {w}")))
            .collect();
        let reason = f.reason.clone().unwrap_or_default();
        let mut status = match f.status {
            Status::Passed => TestCaseStatus::success(),
            Status::Skipped => TestCaseStatus::skipped(),
            Status::Failed => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
        };
        if f.status != Status::Passed {
            status.set_message(reason);
        }
        if f.status == Status::Failed {
            status.set_description(details.join("\n"));
        }
        let time = Duration::try_from_secs_f64(f.seconds).unwrap_or_default();
        total += time;
        let mut case = TestCase::new(f.name.as_str(), status);
        case.set_classname("framelock.regress").set_time(time);
        if f.status == Status::Passed && !details.is_empty() {
            case.set_system_out(details.join("\n"));
        }
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut xml = Report::new("framelock regress");
    xml.set_time(total).add_test_suite(suite);
    xml.to_string()
        .expect("a report of strings and numbers serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::{Finding, FindingKind};
    use crate::outcome::{FixtureResult, RegressMode};

    fn fixture(name: &str, status: Status, reason: Option<&str>) -> FixtureResult {
        FixtureResult {
            status,
            reason: reason.map(String::from),
            seconds: 1.25,
            ..FixtureResult::new(name, 40.0)
        }
    }

    /// An element read back: its name, attributes and text.
    type Element = (String, Vec<(String, String)>, String);

    /// The document, read back: an XML reader, not string matching, decides what it says.
    fn cases(xml: &str) -> Vec<Element> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut out = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e) => {
                    let attrs = e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            (
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .unwrap()
                                    .into_owned(),
                            )
                        })
                        .collect();
                    let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    out.push((name, attrs, String::new()));
                }
                Event::Text(t) => {
                    if let Some(last) = out.last_mut() {
                        last.2.push_str(&t.decode().unwrap());
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
        attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn one_case_per_fixture_with_its_time_status_and_escaped_messages() {
        let mut failed = fixture("b<&>", Status::Failed, Some("frame \"3\" < 40 dB"));
        failed.findings.push(Finding {
            kind: FindingKind::FrameTime,
            chunk: Some(crate::timing::ChunkIndex(1)),
            first_frame: Some(20),
            evidence: "worker frames equal in-process frames +2".into(),
        });
        let report = RegressReport {
            format_version: 1,
            mode: RegressMode::InProcess,
            fixtures: vec![
                fixture("a", Status::Passed, None),
                failed,
                fixture("c", Status::Skipped, Some("nested")),
                fixture("d", Status::Error, Some("ffmpeg failed")),
            ],
        };
        let elements = cases(&junit_xml(&report));
        let suite = elements.iter().find(|e| e.0 == "testsuite").unwrap();
        assert_eq!(attr(&suite.1, "tests"), Some("4"));
        assert_eq!(attr(&suite.1, "failures"), Some("1"));
        assert_eq!(attr(&suite.1, "errors"), Some("1"));
        assert_eq!(attr(&suite.1, "skipped"), Some("1"));
        assert_eq!(attr(&suite.1, "time"), Some("5.000"));
        let testcases: Vec<_> = elements.iter().filter(|e| e.0 == "testcase").collect();
        assert_eq!(testcases.len(), 4);
        assert_eq!(attr(&testcases[1].1, "name"), Some("b<&>"));
        assert_eq!(attr(&testcases[1].1, "time"), Some("1.250"));
        assert_eq!(
            attr(&testcases[1].1, "classname"),
            Some("framelock.regress")
        );
        let failure = elements.iter().find(|e| e.0 == "failure").unwrap();
        assert_eq!(attr(&failure.1, "message"), Some("frame \"3\" < 40 dB"));
        assert!(
            failure.2.contains("frame-time (chunk 1, frame 20)"),
            "{}",
            failure.2
        );
        let skipped = elements.iter().find(|e| e.0 == "skipped").unwrap();
        assert_eq!(attr(&skipped.1, "message"), Some("nested"));
        let error = elements.iter().find(|e| e.0 == "error").unwrap();
        assert_eq!(attr(&error.1, "message"), Some("ffmpeg failed"));
    }
}
