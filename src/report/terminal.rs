//! The stderr reporter: a progress bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use super::{RenderEvent, Reporter};

/// Writes progress and diagnostics to stderr.
pub struct TerminalReporter {
    bar: Mutex<Option<ProgressBar>>,
    interactive: bool,
}

impl Default for TerminalReporter {
    fn default() -> Self {
        TerminalReporter {
            bar: Mutex::new(None),
            interactive: std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
        }
    }
}

impl TerminalReporter {
    fn line(&self, text: &str) {
        match self
            .bar
            .lock()
            .expect("bar lock is never poisoned")
            .as_ref()
        {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

impl Reporter for TerminalReporter {
    fn report(&self, event: &RenderEvent) {
        match event {
            RenderEvent::SandboxDisabled { reason } => {
                self.line(&format!("framelock: Chrome's sandbox is off ({reason})"));
            }
            RenderEvent::Fingerprinting => {}
            RenderEvent::Started {
                name,
                range,
                capture,
                ..
            } => {
                if self.interactive {
                    let bar = ProgressBar::new(range.len());
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {pos}/{len} frames {per_sec} eta {eta}",
                        )
                        .expect("the template is valid")
                        .progress_chars("=> "),
                    );
                    bar.set_prefix(format!("rendering {name}"));
                    *self.bar.lock().expect("bar lock is never poisoned") = Some(bar);
                } else {
                    eprintln!("framelock: rendering {name}: frames {range} ({capture} capture)");
                }
            }
            RenderEvent::FrameCaptured { .. } => {
                if let Some(bar) = self
                    .bar
                    .lock()
                    .expect("bar lock is never poisoned")
                    .as_ref()
                {
                    bar.inc(1);
                }
            }
            RenderEvent::Page(event) => self.line(&format!("framelock: page: {event}")),
            RenderEvent::Finished {
                output,
                frames,
                seconds,
                ..
            } => {
                if let Some(bar) = self.bar.lock().expect("bar lock is never poisoned").take() {
                    bar.finish_and_clear();
                }
                let fps = if *seconds > 0.0 {
                    *frames as f64 / seconds
                } else {
                    0.0
                };
                eprintln!(
                    "framelock: wrote {output} ({frames} frames in {seconds:.1} s, {fps:.1} frames/s)"
                );
            }
        }
    }
}
