//! The stderr reporter: a progress bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;

use camino::Utf8Path;
use indicatif::{ProgressBar, ProgressStyle};

use super::{RenderEvent, Reporter};
use crate::regress::{FixtureResult, RegressReport, Status};

/// What a progress bar counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Frames,
    Chunks,
}

/// Writes progress and diagnostics to stderr.
pub struct TerminalReporter {
    bar: Mutex<Option<(ProgressBar, Unit)>>,
    chunks: std::sync::atomic::AtomicUsize,
    sandbox_said: std::sync::atomic::AtomicBool,
    /// The bundle last said to be planned: planning it again says nothing new.
    planned: Mutex<String>,
    interactive: bool,
}

impl Default for TerminalReporter {
    fn default() -> Self {
        TerminalReporter {
            bar: Mutex::new(None),
            chunks: std::sync::atomic::AtomicUsize::new(0),
            sandbox_said: std::sync::atomic::AtomicBool::new(false),
            planned: Mutex::new(String::new()),
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
            Some((bar, _)) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Starts a bar unless one is running.
    fn start_bar(&self, len: u64, unit: Unit, prefix: String) {
        let mut slot = self.bar.lock().expect("bar lock is never poisoned");
        if slot.is_some() {
            return;
        }
        let label = match unit {
            Unit::Frames => "frames",
            Unit::Chunks => "chunks",
        };
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {label} {{per_sec}} eta {{eta}}"
            ))
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_prefix(prefix);
        *slot = Some((bar, unit));
    }

    fn inc(&self, unit: Unit) {
        if let Some((bar, u)) = self
            .bar
            .lock()
            .expect("bar lock is never poisoned")
            .as_ref()
        {
            if *u == unit {
                bar.inc(1);
            }
        }
    }
}

impl Reporter for TerminalReporter {
    fn report(&self, event: &RenderEvent) {
        match event {
            RenderEvent::SandboxDisabled { reason } => {
                // Every browser of a run says so; once is enough.
                if !self
                    .sandbox_said
                    .swap(true, std::sync::atomic::Ordering::SeqCst)
                {
                    self.line(&format!("framelock: Chrome's sandbox is off ({reason})"));
                }
            }
            RenderEvent::Fingerprinting => {}
            RenderEvent::Planned {
                bundle_hash,
                chunks,
            } => {
                let mut planned = self.planned.lock().expect("planned lock is never poisoned");
                if *planned != *bundle_hash {
                    self.line(&format!(
                        "framelock: planned bundle {bundle_hash} ({chunks} chunk(s))"
                    ));
                    planned.clone_from(bundle_hash);
                }
                self.chunks
                    .store(*chunks, std::sync::atomic::Ordering::SeqCst);
            }
            RenderEvent::Started {
                name,
                range,
                frames,
                capture,
                ..
            } => {
                if self.interactive {
                    self.start_bar(*frames, Unit::Frames, format!("rendering {name}"));
                } else {
                    eprintln!("framelock: rendering {name}: frames {range} ({capture} capture)");
                }
            }
            RenderEvent::FrameCaptured { .. } => self.inc(Unit::Frames),
            RenderEvent::Page(event) => self.line(&format!("framelock: page: {event}")),
            RenderEvent::CorruptCacheEntry { chunk, reason } => self.line(&format!(
                "framelock: chunk {chunk}: stored record not used: {reason}"
            )),
            RenderEvent::ChunkStarted {
                chunk,
                range,
                attempt,
            } => {
                if self.interactive {
                    let chunks = self.chunks.load(std::sync::atomic::Ordering::SeqCst);
                    self.start_bar(chunks as u64, Unit::Chunks, "rendering chunks".into());
                } else {
                    let again = if *attempt > 1 {
                        format!(" (attempt {attempt})")
                    } else {
                        String::new()
                    };
                    eprintln!("framelock: chunk {chunk} ({range}) started{again}");
                }
            }
            RenderEvent::ChunkDone { chunk, reused } => {
                self.inc(Unit::Chunks);
                if !self.interactive {
                    let how = if *reused {
                        "reused from the store"
                    } else {
                        "rendered"
                    };
                    eprintln!("framelock: chunk {chunk} {how}");
                }
            }
            RenderEvent::ChunkRetry {
                chunk,
                attempt,
                reason,
                log,
            } => self.line(&format!(
                "framelock: chunk {chunk} attempt {attempt} failed ({reason}); retrying. Log: {log}"
            )),
            RenderEvent::Finished {
                output,
                frames,
                chunks,
                reused_chunks,
                seconds,
            } => {
                if let Some((bar, _)) = self.bar.lock().expect("bar lock is never poisoned").take()
                {
                    bar.finish_and_clear();
                }
                let fps = if *seconds > 0.0 {
                    *frames as f64 / seconds
                } else {
                    0.0
                };
                eprintln!(
                    "framelock: wrote {output} ({frames} frames, {chunks} chunk(s), {reused_chunks} reused from the store; {seconds:.1} s, {fps:.1} frames/s)"
                );
            }
            RenderEvent::FixtureStarted { name, number, of } => {
                self.line(&format!("framelock: [{number}/{of}] {name}"));
            }
            RenderEvent::FixtureFinished { result } => {
                let reason = result
                    .reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(": {r}"));
                let reused = if result.reused {
                    " (reused from the store: nothing it rests on changed)"
                } else {
                    ""
                };
                self.line(&format!(
                    "framelock: {} {} in {:.1} s{reused}{reason}",
                    result.name, result.status, result.seconds
                ));
            }
            RenderEvent::RegressFinished { .. } => {}
            RenderEvent::BisectStepStarted {
                step,
                role,
                candidates,
                commit,
                subject,
            } => self.line(&format!(
                "framelock: bisect step {step} ({role}; the first bad commit is one of {candidates}): {} {subject}",
                &commit[..commit.len().min(10)]
            )),
            RenderEvent::FixtureJudged {
                fixture,
                bundle_hash,
                judgement,
                reused,
            } => {
                let how = if *reused {
                    "verdict reused by bundle hash, nothing rendered"
                } else {
                    "judged afresh"
                };
                self.line(&format!(
                    "framelock:   {fixture}: bundle {} {judgement} ({how})",
                    &bundle_hash[..bundle_hash.len().min(12)]
                ));
            }
            RenderEvent::BisectStepFinished {
                commit,
                verdict,
                reason,
            } => {
                let reason = reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(": {r}"));
                self.line(&format!(
                    "framelock:   {} is {verdict}{reason}",
                    &commit[..commit.len().min(10)]
                ));
            }
            RenderEvent::SlurmSubmitted {
                job,
                chunks,
                attempt,
            } => {
                let again = if *attempt > 1 {
                    format!(" again (attempt {attempt})")
                } else {
                    String::new()
                };
                self.line(&format!(
                    "framelock: submitted Slurm job {job}{again}: {} chunk(s), one array task each",
                    chunks.len()
                ));
            }
            RenderEvent::SlurmWaiting { job, tasks_left } => self.line(&format!(
                "framelock: Slurm job {job}: {tasks_left} task(s) pending or running"
            )),
            RenderEvent::BenchMeasured { section, result } => {
                self.line(&format!("framelock bench: {section}: {result}"))
            }
            RenderEvent::CorruptRecord {
                fixture,
                record,
                reason,
            } => self.line(&format!(
                "framelock:   {fixture}: stored {record} not used: {reason}"
            )),
        }
    }
}

/// One line on a fixture: its reason, findings and warnings (the summary table's and the HTML
/// report's detail column).
pub fn fixture_detail(f: &FixtureResult) -> String {
    let mut details: Vec<String> = f.reason.iter().cloned().collect();
    details.extend(f.findings.iter().map(ToString::to_string));
    details.extend(f.warnings.iter().map(|w| format!("warning: {w}")));
    details.join("; ")
}

/// The table `regress` prints at the end: one row per fixture with its findings and warnings,
/// then the counts and where the reports are.
pub fn summary_table(report: &RegressReport, report_dir: &Utf8Path) -> String {
    let mut out = format!("\n{:<20} {:<8} detail\n", "fixture", "status");
    for f in &report.fixtures {
        out.push_str(&format!(
            "{:<20} {:<8} {}\n",
            f.name,
            f.status,
            fixture_detail(f)
        ));
    }
    let count = |s: Status| report.fixtures.iter().filter(|f| f.status == s).count();
    out.push_str(&format!(
        "\n{} passed, {} failed, {} skipped, {} errors; reports: {} and {}\n",
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Skipped),
        count(Status::Error),
        report_dir.join("report.json"),
        report_dir.join("report.html"),
    ));
    out
}
