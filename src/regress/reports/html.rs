//! `report.html`: one self-contained page (inline CSS, inline SVG plots, PNGs as data URIs) that
//! can be mailed or attached to a CI run and opened anywhere.

use std::fmt::Write;

use base64::Engine;
use camino::Utf8Path;

use crate::browser::describe_elements;
use crate::outcome::{FixtureResult, RegressReport, Status};

/// Size of a PSNR plot and its margins, in SVG units.
const PLOT_WIDTH: f64 = 640.0;
const PLOT_HEIGHT: f64 = 200.0;
const MARGIN_LEFT: f64 = 44.0;
const MARGIN_RIGHT: f64 = 12.0;
const MARGIN_TOP: f64 = 10.0;
const MARGIN_BOTTOM: f64 = 28.0;
/// The plot's dB scale: 0 to the value of identical frames.
const PLOT_MAX_DB: f64 = crate::compare::IDENTICAL_PSNR;

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-top:1px solid #ccc;padding-top:1em}
h3{font-size:1em;margin:1.2em 0 .4em}
table{border-collapse:collapse}td,th{padding:.25em .8em;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
.status{font-weight:600;padding:0 .4em;border-radius:3px}
.passed{background:#d8f0d8;color:#145214}.failed{background:#f7d4d4;color:#7a1010}
.skipped{background:#eee;color:#555}.error{background:#f9e2b8;color:#6b4400}
code,.mono{font-family:ui-monospace,monospace;font-size:.92em}
.images{display:flex;gap:1em;flex-wrap:wrap}.images figure{margin:0;max-width:340px;overflow-wrap:anywhere}
.images img{image-rendering:pixelated;border:1px solid #999;max-width:340px}
figcaption{font-size:.9em;color:#555}
svg text{font:11px system-ui,sans-serif;fill:#444}
";

/// The page for `report`; PNGs named in it are read from `report_dir` and embedded.
pub fn report_html(report: &RegressReport, report_dir: &Utf8Path) -> String {
    let count = |s: Status| report.count(s);
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>framelock regress: {} passed, {} failed</title><style>{STYLE}</style></head><body>\n\
         <h1>framelock regress</h1>\n<p>Mode <code>{}</code>: {} passed, {} failed, {} skipped, {} error(s).</p>\n",
        count(Status::Passed),
        count(Status::Failed),
        report.mode,
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Skipped),
        count(Status::Error),
    );
    page.push_str("<table><tr><th>fixture</th><th>status</th><th>detail</th></tr>\n");
    for f in &report.fixtures {
        let _ = writeln!(
            page,
            "<tr><td><a href=\"#fixture-{name}\">{name}</a></td><td>{}</td><td>{}</td></tr>",
            status_badge(f.status),
            escape(&f.detail()),
            name = escape(&f.name),
        );
    }
    page.push_str("</table>\n");
    for f in &report.fixtures {
        fixture_section(&mut page, f, report_dir);
    }
    page.push_str("</body></html>\n");
    page
}

fn status_badge(status: Status) -> String {
    format!("<span class=\"status {status}\">{status}</span>")
}

fn fixture_section(page: &mut String, f: &FixtureResult, report_dir: &Utf8Path) {
    let _ = writeln!(
        page,
        "<section id=\"fixture-{name}\"><h2>{name} {}</h2>",
        status_badge(f.status),
        name = escape(&f.name)
    );
    if let Some(reason) = &f.reason {
        let _ = writeln!(page, "<p>{}</p>", escape(reason));
    }
    if let Some(hash) = &f.bundle_hash {
        let _ = writeln!(page, "<p>Bundle <code>{hash}</code></p>");
    }
    if !f.findings.is_empty() {
        page.push_str("<h3>Findings</h3><ul>\n");
        for finding in &f.findings {
            let place = match (finding.chunk, finding.first_frame) {
                (Some(c), Some(frame)) => format!(" in chunk {c} from frame {frame}"),
                (None, Some(frame)) => format!(" from frame {frame}"),
                _ => String::new(),
            };
            let _ = writeln!(
                page,
                "<li><b>{}</b>{place}: {}</li>",
                finding.kind,
                escape(&finding.evidence)
            );
        }
        page.push_str("</ul>\n");
    }
    if !f.warnings.is_empty() {
        page.push_str("<h3>Warnings</h3><ul>\n");
        for warning in &f.warnings {
            let _ = writeln!(page, "<li>{}</li>", escape(warning));
        }
        page.push_str("</ul>\n");
    }
    if matches!(f.status, Status::Passed | Status::Failed) {
        page.push_str("<h3>PSNR against baseline.mp4</h3>\n");
        match &f.psnr {
            Some(psnr) if !psnr.is_empty() => psnr_plot(page, &f.name, psnr, f.min_psnr),
            _ => page.push_str("<p>Not measured (no baseline.mp4, or blessing).</p>\n"),
        }
        if let Some(golden) = &f.golden {
            let _ = writeln!(
                page,
                "<h3>Against the golden video</h3>\n<p>{}</p>",
                escape(&golden.summary())
            );
            let failing: Vec<String> = golden
                .checkpoints
                .iter()
                .filter(|c| c.psnr < golden.threshold)
                .map(|c| format!("frame {}: {:.2} dB", c.frame, c.psnr))
                .collect();
            if !failing.is_empty() {
                let _ = writeln!(
                    page,
                    "<p class=\"mono\">Below the threshold: {}</p>",
                    escape(&failing.join(", "))
                );
            }
        }
        page.push_str("<h3>Console errors</h3>\n");
        if f.console_errors.is_empty() {
            page.push_str("<p>None.</p>\n");
        } else {
            page.push_str("<ul class=\"mono\">\n");
            for event in &f.console_errors {
                let _ = writeln!(page, "<li>{}</li>", escape(&event.to_string()));
            }
            page.push_str("</ul>\n");
        }
    }
    for images in &f.images {
        let _ = writeln!(
            page,
            "<h3>{}: frame {} (largest channel difference {})</h3><div class=\"images\">",
            escape(&images.what),
            images.frame,
            images.largest_difference
        );
        for (label, path) in [
            (images.reference_label.as_str(), &images.reference),
            (images.candidate_label.as_str(), &images.candidate),
            ("difference", &images.diff),
        ] {
            let src = match std::fs::read(report_dir.join(path)) {
                Ok(bytes) => format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                ),
                // Still a working page: the browser shows the missing file's name.
                Err(_) => escape(path.as_str()),
            };
            let _ = writeln!(
                page,
                "<figure><img src=\"{src}\" alt=\"{label} frame {frame}\" data-file=\"{file}\">\
                 <figcaption>{label} <span class=\"mono\">{file}</span></figcaption></figure>",
                label = escape(label),
                frame = images.frame,
                file = escape(path.as_str()),
            );
        }
        page.push_str("</div>\n");
        let elements =
            describe_elements(&images.elements, images.elements_unavailable.as_deref(), 8);
        let _ = writeln!(
            page,
            "<p>Elements covering the difference: <span class=\"mono\">{}</span></p>",
            escape(&elements)
        );
    }
    page.push_str("</section>\n");
}

/// Per-frame PSNR as a line on a 0–100 dB scale, with the fixture's threshold dashed, the
/// 10 dB floor in red and every frame below the threshold marked.
fn psnr_plot(page: &mut String, name: &str, psnr: &[f64], min_psnr: f64) {
    let inner_w = PLOT_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    let inner_h = PLOT_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let last = (psnr.len() - 1).max(1) as f64;
    let x = |i: usize| MARGIN_LEFT + inner_w * i as f64 / last;
    let y = |db: f64| MARGIN_TOP + inner_h * (1.0 - db.clamp(0.0, PLOT_MAX_DB) / PLOT_MAX_DB);
    let _ = writeln!(
        page,
        "<svg class=\"psnr\" data-fixture=\"{}\" width=\"{PLOT_WIDTH}\" height=\"{PLOT_HEIGHT}\" \
         viewBox=\"0 0 {PLOT_WIDTH} {PLOT_HEIGHT}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title>PSNR per frame of {}</title>",
        escape(name),
        escape(name)
    );
    for db in [0.0, 20.0, 40.0, 60.0, 80.0, 100.0] {
        let _ = write!(
            page,
            "<line x1=\"{MARGIN_LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{db}</text>",
            PLOT_WIDTH - MARGIN_RIGHT,
            MARGIN_LEFT - 6.0,
            y(db) + 4.0,
            y = y(db),
        );
    }
    for (db, colour, dash) in [(min_psnr, "#d98a00", "5 4"), (10.0, "#c00", "2 3")] {
        let _ = write!(
            page,
            "<line class=\"threshold\" x1=\"{MARGIN_LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" \
             stroke=\"{colour}\" stroke-dasharray=\"{dash}\"/>",
            PLOT_WIDTH - MARGIN_RIGHT,
            y = y(db),
        );
    }
    let points: Vec<String> = psnr
        .iter()
        .enumerate()
        .map(|(i, db)| format!("{:.1},{:.1}", x(i), y(*db)))
        .collect();
    let _ = write!(
        page,
        "<polyline fill=\"none\" stroke=\"#2460a7\" stroke-width=\"1.5\" points=\"{}\"/>",
        points.join(" ")
    );
    for (i, db) in psnr.iter().enumerate().filter(|(_, db)| **db < min_psnr) {
        let _ = write!(
            page,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#c00\"><title>frame {i}: {db:.2} dB</title></circle>",
            x(i),
            y(*db)
        );
    }
    let base = PLOT_HEIGHT - MARGIN_BOTTOM + 16.0;
    let _ = writeln!(
        page,
        "<text x=\"{MARGIN_LEFT}\" y=\"{base}\">frame 0</text>\
         <text x=\"{:.1}\" y=\"{base}\" text-anchor=\"end\">frame {}</text>\
         <text x=\"{:.1}\" y=\"{base}\" text-anchor=\"middle\">dB per frame; dashed: minPsnr {min_psnr} and the 10 dB floor</text></svg>",
        PLOT_WIDTH - MARGIN_RIGHT,
        psnr.len() - 1,
        MARGIN_LEFT + inner_w / 2.0,
    );
}

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

    #[test]
    fn the_plot_has_a_point_per_frame_and_marks_frames_below_the_threshold() {
        let mut page = String::new();
        psnr_plot(&mut page, "f", &[100.0, 100.0, 35.5, 100.0], 40.0);
        let points = page
            .split("points=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert_eq!(points.split(' ').count(), 4);
        assert_eq!(page.matches("<circle").count(), 1);
        assert!(page.contains("frame 2: 35.50 dB"));
    }
}
