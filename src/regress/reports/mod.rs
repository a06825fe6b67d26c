//! The files a regression run leaves for people and CI: `report.json`, the self-contained
//! `report.html`, JUnit XML, the failure pictures, and the summary table printed at the end.

mod html;
mod images;
mod junit;
mod summary;

use camino::Utf8Path;

pub use html::report_html;
pub use images::{Side, failure_images, write_failure_images};
pub use junit::junit_xml;
pub use summary::summary_table;

use super::error::RegressError;
use crate::outcome::RegressReport;

/// Text made safe for HTML content and attribute values. Control characters XML 1.0 forbids
/// become spaces.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

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

    #[test]
    fn markup_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            escape("<script>\"a\" & 'b'\u{1b}</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39; &lt;/script&gt;"
        );
    }
}
