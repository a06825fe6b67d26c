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
                ..
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
            warnings,
        } => {
            let mut text = format!("framelock: planned bundle {bundle_hash} ({chunks} chunk(s))");
            for warning in warnings {
                text.push_str(&format!("\nframelock: warning: {warning}"));
            }
            text
        }
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
        RenderEvent::WorkerSpecRead {
            chunk,
            spec,
            settings,
        } => format!(
            "framelock: chunk {chunk}, worker spec {}: {settings}",
            spec.short()
        ),
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
            let golden = result
                .golden
                .as_ref()
                .map_or(String::new(), |g| format!(" ({})", g.summary()));
            format!(
                "framelock: {} {} in {:.1} s{reused}{golden}{reason}",
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
        RenderEvent::VariationStarted { name, description } => {
            format!("framelock vary: rendering under {name} ({description})")
        }
        RenderEvent::VariationJudged { line } => format!("framelock vary: {line}"),
        RenderEvent::CorruptRecord {
            fixture,
            record,
            reason,
        } => format!("framelock:   {fixture}: stored {record} not used: {reason}"),
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::{CaptureMode, PageEvent, PageEventKind};
    use crate::hash::{BundleHash, ContentHash};
    use crate::timing::{ChunkIndex, FrameIndex, FrameRange};

    fn bundle() -> BundleHash {
        BundleHash(ContentHash::of_bytes(b"bundle"))
    }

    /// One of each event a render emits.
    fn render_events() -> Vec<RenderEvent> {
        vec![
            RenderEvent::SandboxDisabled {
                reason: "running as root",
            },
            RenderEvent::Fingerprinting,
            RenderEvent::Planned {
                bundle_hash: bundle(),
                chunks: 3,
                warnings: vec!["index.html: <audio id=\"voice\">: voice.wav: has 1.250 s from data-media-start, the slot needs 2.000 s (data-duration × data-playback-rate): the slot is shortened to the sound, silence after".into()],
            },
            RenderEvent::Started {
                name: "css-keyframes".into(),
                range: FrameRange::new(20, 60).unwrap(),
                frames: 40,
                capture: CaptureMode::BeginFrame,
                browser_pid: 4242,
            },
            RenderEvent::FrameCaptured {
                frame: FrameIndex(7),
            },
            RenderEvent::Page(PageEvent {
                frame: Some(12),
                kind: PageEventKind::Console {
                    level: "error".into(),
                    text: "undefined is not a function".into(),
                },
            }),
            RenderEvent::CorruptCacheEntry {
                chunk: ChunkIndex(2),
                reason: "blob 0a1b2c3d4e5f is corrupted".into(),
            },
            RenderEvent::WorkerSpecRead {
                chunk: ChunkIndex(1),
                spec: ContentHash::of_bytes(b"spec"),
                settings: "bundle 0a1b2c3d4e5f, capture beginframe, video inject".into(),
            },
            RenderEvent::ChunkStarted {
                chunk: ChunkIndex(1),
                range: FrameRange::new(20, 40).unwrap(),
                attempt: 1,
            },
            RenderEvent::ChunkStarted {
                chunk: ChunkIndex(1),
                range: FrameRange::new(20, 40).unwrap(),
                attempt: 2,
            },
            RenderEvent::ChunkDone {
                chunk: ChunkIndex(1),
                reused: false,
            },
            RenderEvent::ChunkDone {
                chunk: ChunkIndex(2),
                reused: true,
            },
            RenderEvent::ChunkRetry {
                chunk: ChunkIndex(1),
                attempt: 1,
                reason: "was killed by signal 9".into(),
                log: "store/logs/b/chunk-000001-attempt-1.log".into(),
            },
            RenderEvent::Finished {
                output: "out.mp4".into(),
                frames: 60,
                chunks: 3,
                reused_chunks: 1,
                seconds: 2.5,
            },
        ]
    }

    /// One of each event the harness emits.
    fn harness_events() -> Vec<RenderEvent> {
        let report = crate::outcome::sample_report();
        vec![
            RenderEvent::FixtureStarted {
                name: "css-keyframes".into(),
                number: 2,
                of: 9,
            },
            RenderEvent::FixtureFinished {
                result: Box::new(report.fixtures[1].clone()),
            },
            RenderEvent::RegressFinished {
                passed: 1,
                failed: 1,
                skipped: 1,
                errors: 1,
                report: "framelock-report/report.json".into(),
                exit_code: 2,
            },
            RenderEvent::BisectStepStarted {
                step: 3,
                role: "midpoint",
                candidates: 4,
                commit: "c5d1e2f3a4b5c6d7e8f9".into(),
                subject: "dots: keep what was drawn".into(),
            },
            RenderEvent::FixtureJudged {
                fixture: "dots".into(),
                bundle_hash: bundle(),
                judgement: "bad".into(),
                reused: false,
            },
            RenderEvent::BisectStepFinished {
                commit: "c5d1e2f3a4b5c6d7e8f9".into(),
                verdict: "bad".into(),
                reason: Some("dots: findings: expected none, found chunk-boundary".into()),
            },
            RenderEvent::SlurmSubmitted {
                job: "17".into(),
                chunks: vec![ChunkIndex(0), ChunkIndex(2)],
                attempt: 2,
            },
            RenderEvent::SlurmWaiting {
                job: "17".into(),
                tasks_left: 2,
            },
            RenderEvent::BenchMeasured {
                section: "capture".into(),
                result: "320x180 raw loop, png: 91.2 frames/s".into(),
            },
            RenderEvent::CorruptRecord {
                fixture: "dots".into(),
                record: "verdict".into(),
                reason: "it does not answer its key".into(),
            },
            RenderEvent::VariationStarted {
                name: "cpu-load".into(),
                description: "a busy thread on every CPU beside it".into(),
            },
            RenderEvent::VariationJudged {
                line: "cpu-load        identical (a busy thread on every CPU beside it, 4.2 s)"
                    .into(),
            },
        ]
    }

    /// What the terminal says of each event, one line each (`-` where it says nothing).
    #[test]
    fn every_event_reads_as_one_line() {
        let lines: Vec<String> = render_events()
            .iter()
            .chain(&harness_events())
            .map(|e| event_line(e).unwrap_or_else(|| "-".into()))
            .collect();
        insta::assert_snapshot!(lines.join("\n"));
    }
}
