//! The stderr reporter: a progress bar on a terminal, plain lines otherwise. What each event
//! reads as is [`event_line`], one pure function, so the wording is tested without a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use super::{RenderEvent, Reporter};

/// What a progress bar counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Frames,
    Chunks,
}

/// Writes progress and diagnostics to stderr.
pub struct TerminalReporter {
    bar: Mutex<Option<(ProgressBar, Unit)>>,
    chunks: AtomicUsize,
    sandbox_said: AtomicBool,
    /// The bundle last said to be planned: planning it again says nothing new.
    planned: Mutex<String>,
    interactive: bool,
}

impl Default for TerminalReporter {
    fn default() -> Self {
        TerminalReporter {
            bar: Mutex::new(None),
            chunks: AtomicUsize::new(0),
            sandbox_said: AtomicBool::new(false),
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
            && *u == unit
        {
            bar.inc(1);
        }
    }

    fn finish_bar(&self) {
        if let Some((bar, _)) = self.bar.lock().expect("bar lock is never poisoned").take() {
            bar.finish_and_clear();
        }
    }

    /// The progress bar's part of an event; `true` when the bar stands in for its line.
    fn progress(&self, event: &RenderEvent) -> bool {
        if !self.interactive {
            return false;
        }
        match event {
            RenderEvent::Started { name, frames, .. } => {
                self.start_bar(*frames, Unit::Frames, format!("rendering {name}"));
                true
            }
            RenderEvent::ChunkStarted { .. } => {
                let chunks = self.chunks.load(Ordering::SeqCst);
                self.start_bar(chunks as u64, Unit::Chunks, "rendering chunks".into());
                true
            }
            RenderEvent::ChunkDone { .. } => true,
            _ => false,
        }
    }
}

impl Reporter for TerminalReporter {
    fn report(&self, event: &RenderEvent) {
        match event {
            // Every browser of a run says so; once is enough.
            RenderEvent::SandboxDisabled { .. }
                if self.sandbox_said.swap(true, Ordering::SeqCst) =>
            {
                return;
            }
            RenderEvent::Planned {
                bundle_hash,
                chunks,
            } => {
                self.chunks.store(*chunks, Ordering::SeqCst);
                let mut planned = self.planned.lock().expect("planned lock is never poisoned");
                if *planned == bundle_hash.to_string() {
                    return;
                }
                *planned = bundle_hash.to_string();
            }
            RenderEvent::FrameCaptured { .. } => self.inc(Unit::Frames),
            RenderEvent::ChunkDone { .. } => self.inc(Unit::Chunks),
            RenderEvent::Finished { .. } => self.finish_bar(),
            _ => {}
        }
        if self.progress(event) {
            return;
        }
        if let Some(line) = event_line(event) {
            self.line(&line);
        }
    }
}

/// What a terminal shows for `event` as a line of its own; `None` for the events only a
/// progress bar shows (a captured frame) or that say nothing new.
// One function: one arm per event in one exhaustive match, so a new event cannot be added
// without deciding what the terminal says of it.
pub fn event_line(event: &RenderEvent) -> Option<String> {
    let short = |id: &str, n: usize| id[..id.len().min(n)].to_string();
    let text = match event {
        RenderEvent::SandboxDisabled { reason } => {
            format!("framelock: Chrome's sandbox is off ({reason})")
        }
        RenderEvent::Fingerprinting
        | RenderEvent::FrameCaptured { .. }
        | RenderEvent::RegressFinished { .. } => return None,
        RenderEvent::Planned {
            bundle_hash,
            chunks,
        } => format!("framelock: planned bundle {bundle_hash} ({chunks} chunk(s))"),
        RenderEvent::Started {
            name,
            range,
            capture,
            ..
        } => format!("framelock: rendering {name}: frames {range} ({capture} capture)"),
        RenderEvent::Page(event) => format!("framelock: page: {event}"),
        RenderEvent::CorruptCacheEntry { chunk, reason } => {
            format!("framelock: chunk {chunk}: stored record not used: {reason}")
        }
        RenderEvent::ChunkStarted {
            chunk,
            range,
            attempt,
        } => {
            let again = match attempt {
                1 => String::new(),
                n => format!(" (attempt {n})"),
            };
            format!("framelock: chunk {chunk} ({range}) started{again}")
        }
        RenderEvent::ChunkDone { chunk, reused } => {
            let how = if *reused {
                "reused from the store"
            } else {
                "rendered"
            };
            format!("framelock: chunk {chunk} {how}")
        }
        RenderEvent::ChunkRetry {
            chunk,
            attempt,
            reason,
            log,
        } => format!(
            "framelock: chunk {chunk} attempt {attempt} failed ({reason}); retrying. Log: {log}"
        ),
        RenderEvent::Finished {
            output,
            frames,
            chunks,
            reused_chunks,
            seconds,
        } => {
            let fps = if *seconds > 0.0 {
                *frames as f64 / seconds
            } else {
                0.0
            };
            format!(
                "framelock: wrote {output} ({frames} frames, {chunks} chunk(s), {reused_chunks} reused from the store; {seconds:.1} s, {fps:.1} frames/s)"
            )
        }
        RenderEvent::FixtureStarted { name, number, of } => {
            format!("framelock: [{number}/{of}] {name}")
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
            format!(
                "framelock: {} {} in {:.1} s{reused}{reason}",
                result.name, result.status, result.seconds
            )
        }
        RenderEvent::BisectStepStarted {
            step,
            role,
            candidates,
            commit,
            subject,
        } => format!(
            "framelock: bisect step {step} ({role}; the first bad commit is one of {candidates}): {} {subject}",
            short(commit, 10)
        ),
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
            format!(
                "framelock:   {fixture}: bundle {} {judgement} ({how})",
                bundle_hash.short()
            )
        }
        RenderEvent::BisectStepFinished {
            commit,
            verdict,
            reason,
        } => {
            let reason = reason
                .as_deref()
                .map_or(String::new(), |r| format!(": {r}"));
            format!("framelock:   {} is {verdict}{reason}", short(commit, 10))
        }
        RenderEvent::SlurmSubmitted {
            job,
            chunks,
            attempt,
        } => {
            let again = match attempt {
                1 => String::new(),
                n => format!(" again (attempt {n})"),
            };
            format!(
                "framelock: submitted Slurm job {job}{again}: {} chunk(s), one array task each",
                chunks.len()
            )
        }
        RenderEvent::SlurmWaiting { job, tasks_left } => {
            format!("framelock: Slurm job {job}: {tasks_left} task(s) pending or running")
        }
        RenderEvent::BenchMeasured { section, result } => {
            format!("framelock bench: {section}: {result}")
        }
        RenderEvent::CorruptRecord {
            fixture,
            record,
            reason,
        } => format!("framelock:   {fixture}: stored {record} not used: {reason}"),
    };
    Some(text)
}
