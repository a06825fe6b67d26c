//! `--events=jsonl`: every event as one JSON object per line on stdout, for tools that follow a
//! run as it goes.

use std::io::Write;
use std::sync::Mutex;

use super::{RenderEvent, Reporter};

/// Writes each event as a JSON line to a writer (stdout in the command line).
pub struct JsonLinesReporter<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonLinesReporter<W> {
    /// Events go to `out`, one line each, flushed as they come.
    pub fn new(out: W) -> Self {
        JsonLinesReporter {
            out: Mutex::new(out),
        }
    }

    /// The writer, once the run is over.
    pub fn into_inner(self) -> W {
        self.out
            .into_inner()
            .expect("the writer lock is never poisoned")
    }
}

impl<W: Write + Send> Reporter for JsonLinesReporter<W> {
    fn report(&self, event: &RenderEvent) {
        let line = serde_json::to_string(event).expect("events serialise");
        let mut out = self.out.lock().expect("the writer lock is never poisoned");
        // A reader that went away (a closed pipe) must not stop the run: its reports are
        // still written to files.
        let _ = writeln!(out, "{line}").and_then(|_| out.flush());
    }
}

/// Sends every event to two reporters: the terminal and the JSON lines, say.
pub struct Tee<A, B>(pub A, pub B);

impl<A: Reporter, B: Reporter> Reporter for Tee<A, B> {
    fn report(&self, event: &RenderEvent) {
        self.0.report(event);
        self.1.report(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timing::FrameIndex;

    #[test]
    fn each_event_is_one_tagged_json_line() {
        let reporter = JsonLinesReporter::new(Vec::new());
        reporter.report(&RenderEvent::FrameCaptured {
            frame: FrameIndex(7),
        });
        reporter.report(&RenderEvent::FixtureStarted {
            name: "css-keyframes".into(),
            number: 2,
            of: 7,
        });
        let text = String::from_utf8(reporter.into_inner()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                serde_json::json!({"event": "frame-captured", "frame": 7}),
                serde_json::json!({"event": "fixture-started", "name": "css-keyframes", "number": 2, "of": 7}),
            ]
        );
    }
}
