//! The events a render or a regression run emits. They serialise as the JSON lines of
//! `regress --events=jsonl`, tagged by `event`.

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::browser::{CaptureMode, PageEvent};
use crate::hash::{BundleHash, ContentHash};
use crate::outcome::FixtureResult;
use crate::timing::{ChunkIndex, FrameIndex, FrameRange};

/// Something that happened during a render or a regression run, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum RenderEvent {
    /// Chrome's sandbox is off, and why (said once per browser).
    SandboxDisabled {
        /// The reason.
        reason: &'static str,
    },
    /// Hashing the toolchain (a few hundred megabytes) has started.
    Fingerprinting,
    /// A bundle was planned.
    Planned {
        /// Its hash.
        bundle_hash: BundleHash,
        /// Number of chunks.
        chunks: usize,
        /// What planning clamped or left out (media shorter than its slot, sound that cannot
        /// be decoded).
        warnings: Vec<String>,
    },
    /// A browser is about to capture frames.
    Started {
        /// The composition's name.
        name: String,
        /// From the first frame to the last.
        range: FrameRange,
        /// Frames it will capture.
        frames: u64,
        /// How they are captured.
        capture: CaptureMode,
        /// The browser's process id.
        browser_pid: i32,
    },
    /// A frame was captured.
    FrameCaptured {
        /// Which.
        frame: FrameIndex,
    },
    /// The page logged something or a request was blocked.
    Page(PageEvent),
    /// A stored record could not be trusted and is rendered again.
    CorruptCacheEntry {
        /// The chunk.
        chunk: ChunkIndex,
        /// Why.
        reason: String,
    },
    /// A worker (`render-chunk`) read how to render and found the spec sound for its bundle:
    /// said in every worker's log before it renders.
    WorkerSpecRead {
        /// Its chunk.
        chunk: ChunkIndex,
        /// The spec's hash.
        spec: ContentHash,
        /// Every setting, in one line.
        settings: String,
    },
    /// A worker started on a chunk.
    ChunkStarted {
        /// The chunk.
        chunk: ChunkIndex,
        /// Its frames.
        range: FrameRange,
        /// 1 for the first try.
        attempt: u32,
    },
    /// A worker finished a chunk.
    ChunkDone {
        /// The chunk.
        chunk: ChunkIndex,
        /// Whether its record came from the store.
        reused: bool,
    },
    /// A worker failed; the chunk is tried again.
    ChunkRetry {
        /// The chunk.
        chunk: ChunkIndex,
        /// The attempt that failed.
        attempt: u32,
        /// Why.
        reason: String,
        /// Its log.
        log: Utf8PathBuf,
    },
    /// The output files are in place.
    Finished {
        /// The video.
        output: Utf8PathBuf,
        /// Frames in it.
        frames: u64,
        /// Chunks in the plan.
        chunks: usize,
        /// Chunks reused from the store.
        reused_chunks: usize,
        /// Wall-clock seconds of the render.
        seconds: f64,
    },
    /// The regression harness starts on a fixture.
    FixtureStarted {
        /// The fixture.
        name: String,
        /// Its place in this run, from 1.
        number: usize,
        /// Fixtures in this run.
        of: usize,
    },
    /// The regression harness is done with a fixture.
    FixtureFinished {
        /// What it found, as in `report.json`.
        result: Box<FixtureResult>,
    },
    /// The regression run is over and its reports are written.
    RegressFinished {
        /// Fixtures that passed.
        passed: usize,
        /// Fixtures that failed.
        failed: usize,
        /// Fixtures skipped as unsupported.
        skipped: usize,
        /// Fixtures that could not be rendered.
        errors: usize,
        /// `report.json`.
        report: Utf8PathBuf,
        /// The exit code the run ends with.
        exit_code: i32,
    },
    /// Bisect is about to judge a commit.
    BisectStepStarted {
        /// Its place in this bisect, from 1.
        step: usize,
        /// Why this commit: "good end", "bad end" or "midpoint".
        role: &'static str,
        /// How many commits the first bad one may still be.
        candidates: usize,
        /// The commit.
        commit: String,
        /// Its subject line.
        subject: String,
    },
    /// A fixture of the commit being judged has a verdict.
    FixtureJudged {
        /// The fixture.
        fixture: String,
        /// Its bundle.
        bundle_hash: BundleHash,
        /// `good` or `bad`.
        judgement: String,
        /// Whether the verdict came from the store instead of a render.
        reused: bool,
    },
    /// Bisect judged a commit.
    BisectStepFinished {
        /// The commit.
        commit: String,
        /// `good`, `bad` or `skipped`.
        verdict: String,
        /// Why, for a bad or skipped commit.
        reason: Option<String>,
    },
    /// An array job was submitted to Slurm.
    SlurmSubmitted {
        /// Its id.
        job: String,
        /// The chunks, one task each.
        chunks: Vec<ChunkIndex>,
        /// 1 for the first submission of these chunks' bundle.
        attempt: u32,
    },
    /// Slurm still lists tasks of the job.
    SlurmWaiting {
        /// The job.
        job: String,
        /// Tasks pending or running.
        tasks_left: usize,
    },
    /// `vary` starts rendering under a variation.
    VariationStarted {
        /// Its name.
        name: String,
        /// What it changes.
        description: String,
    },
    /// `vary` held a variation's frames against the reference.
    VariationJudged {
        /// The verdict, one line.
        line: String,
    },
    /// `bench` made a measurement.
    BenchMeasured {
        /// Which section.
        section: String,
        /// The figure, in words.
        result: String,
    },
    /// A stored verdict or fixture result could not be trusted: ignored, its index entry
    /// removed, the work done again.
    CorruptRecord {
        /// The fixture.
        fixture: String,
        /// Which kind of record.
        record: String,
        /// Why.
        reason: String,
    },
}

/// Receives events; implementations turn them into output.
pub trait Reporter: Send + Sync {
    /// Handles one event.
    fn report(&self, event: &RenderEvent);
}

/// A reporter that discards everything, for library callers and tests.
impl Reporter for () {
    fn report(&self, _: &RenderEvent) {}
}
