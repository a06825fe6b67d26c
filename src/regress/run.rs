//! `framelock regress`: every fixture rendered in process (and, distributed, by workers),
//! compared chunk by chunk and against its committed baseline, with drift named.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::baseline::{Baseline, BaselineEntry, expand_envelope, quantize_envelope};
use super::fixture::{Fixture, Thresholds, discover};
use super::reuse::Reuse;
use crate::browser::{CaptureMode, PageEvent, PageEventKind, SandboxPolicy};
use crate::bundle::Chunking;
use crate::compare::{
    ENVELOPE_RATE, ENVELOPE_WINDOW, IDENTICAL_PSNR, audio_envelope, compare_videos, envelope_lag,
};
use crate::composition::{Composition, Overrides};
use crate::distributed::{
    AssembleRequest, DistributedRequest, Fault, Injection, render_distributed,
};
use crate::drift::{ChunkPair, Evidence, Finding, FindingKind, classify_audio, classify_chunk};
use crate::error::Error;
use crate::media::VideoMode;
use crate::render::{BrowserRun, RunSettings, prepare};
use crate::render::{Fingerprints, FramesRecord, RenderRequest, frames_record_path, render};
use crate::report::{
    FailureImages, RenderEvent, Reporter, Side, write_failure_images, write_reports,
};
use crate::store::Store;
use crate::submit::{SlurmJob, submit_and_assemble};
use crate::toolchain::Toolchain;

/// Version of `report.json`.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// Frames per chunk when a fixture's meta.json gives no `renderConfig.chunkSize`.
pub(crate) const DEFAULT_CHUNK_SIZE: u64 = 20;

/// PSNR below which a frame fails whatever the thresholds say.
const PSNR_FLOOR: f64 = 10.0;

/// Where the distributed leg runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegressMode {
    /// In-process renders only.
    InProcess,
    /// In-process and local worker renders, compared exactly.
    DistributedSimulated,
    /// In-process renders and chunks rendered through a cluster scheduler
    /// ([`RegressRequest::executor`]), compared exactly.
    Distributed,
}

/// The cluster scheduler of `--mode distributed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executor {
    /// A Slurm array job per fixture; the store must be on a file system every node sees.
    Slurm {
        /// The partition, when not the cluster's default.
        partition: Option<String>,
    },
}

/// A regression run.
#[derive(Debug, Clone)]
pub struct RegressRequest {
    /// The fixtures folder.
    pub fixtures: Utf8PathBuf,
    /// The baselines folder.
    pub baselines: Utf8PathBuf,
    /// Where each fixture's videos, report.json, report.html and failure PNGs go.
    pub report_dir: Utf8PathBuf,
    /// Only these fixtures (all when empty).
    pub only: Vec<String>,
    /// In-process, or also distributed.
    pub mode: RegressMode,
    /// Workers at once.
    pub workers: usize,
    /// Bless the current toolchain's results instead of comparing.
    pub update: bool,
    /// Blocked requests fail a fixture.
    pub strict: bool,
    /// Time allowed for one seek or one capture.
    pub frame_timeout: Duration,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// The tools.
    pub toolchain: Toolchain,
    /// The store.
    pub store: Store,
    /// The framelock binary workers run.
    pub worker_exe: Utf8PathBuf,
    /// A self-test fault in one chunk of every fixture's distributed render.
    pub inject: Option<Injection>,
    /// How videos are shown.
    pub video_mode: VideoMode,
    /// The scheduler of [`RegressMode::Distributed`]; `None` runs the distributed leg on local
    /// worker processes.
    pub executor: Option<Executor>,
    /// Read and write the store: cached chunks, and the results of fixtures that passed
    /// (`false` for `--no-cache`: everything is rendered and compared afresh).
    pub use_cache: bool,
}

/// How a fixture came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Everything matched (warnings allowed).
    Passed,
    /// A regression or drift.
    Failed,
    /// Declared unsupported.
    Skipped,
    /// Could not be rendered at all.
    Error,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so a width in a table lines the names up.
        f.pad(match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Error => "error",
        })
    }
}

/// The result of one fixture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixtureResult {
    /// The fixture.
    pub name: String,
    /// How it came out.
    pub status: Status,
    /// Why, in one line, when not plainly passed.
    pub reason: Option<String>,
    /// The bundle rendered.
    pub bundle_hash: Option<String>,
    /// Findings (expected ones included).
    pub findings: Vec<Finding>,
    /// Warnings: toolchain differences that PSNR excused, a changed composition.
    pub warnings: Vec<String>,
    /// Per-frame PSNR against baseline.mp4: measured when any frame differs from the blessed
    /// one, else 100 dB for every frame (equal frame and chunk hashes mean equal pictures).
    pub psnr: Option<Vec<f64>>,
    /// The fixture's `minPsnr`.
    pub min_psnr: f64,
    /// What the page reported as going wrong: console errors, uncaught exceptions, missing
    /// files and blocked requests, with their frames.
    pub console_errors: Vec<PageEvent>,
    /// For a failure, pictures of the first differing frames.
    pub images: Vec<FailureImages>,
    /// Wall-clock seconds spent on the fixture.
    pub seconds: f64,
    /// For an error, the exit code it stands for: 2 input, 3 environment.
    pub error_code: Option<i32>,
    /// Restored from the store: nothing it rests on changed since a run that passed.
    #[serde(default)]
    pub reused: bool,
}

impl FixtureResult {
    fn new(fixture: &Fixture) -> FixtureResult {
        FixtureResult {
            name: fixture.name.clone(),
            status: Status::Passed,
            reason: None,
            bundle_hash: None,
            findings: Vec::new(),
            warnings: Vec::new(),
            psnr: None,
            min_psnr: fixture.thresholds.min_psnr,
            console_errors: Vec::new(),
            images: Vec::new(),
            seconds: 0.0,
            error_code: None,
            reused: false,
        }
    }
}

/// `report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RegressReport {
    /// [`REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    /// The mode.
    pub mode: RegressMode,
    /// One result per fixture.
    pub fixtures: Vec<FixtureResult>,
}

impl RegressReport {
    /// The exit code, the most severe of the fixtures': 3 for an environment error, 2 for an
    /// input error, 1 for a failure, else 0.
    pub fn exit_code(&self) -> i32 {
        use crate::error::exit_code::{REGRESSION, SUCCESS};
        self.fixtures
            .iter()
            .map(|f| match f.status {
                Status::Passed | Status::Skipped => SUCCESS,
                Status::Failed => REGRESSION,
                Status::Error => f.error_code.unwrap_or(REGRESSION),
            })
            .max()
            .unwrap_or(SUCCESS)
    }
}

/// Runs every selected fixture and writes `report.json`.
pub async fn regress(
    request: &RegressRequest,
    reporter: &dyn Reporter,
) -> Result<RegressReport, Error> {
    let fixtures = discover(&request.fixtures).map_err(|e| crate::render::RenderError::Write {
        path: request.fixtures.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let selected: Vec<Fixture> = fixtures
        .into_iter()
        .filter(|f| request.only.is_empty() || request.only.contains(&f.name))
        .collect();
    std::fs::create_dir_all(&request.report_dir).map_err(|source| {
        crate::render::RenderError::Output {
            path: request.report_dir.clone(),
            source,
        }
    })?;
    let reuse = Reuse::for_run(request).await?;
    let mut results = Vec::new();
    for (number, fixture) in selected.iter().enumerate() {
        reporter.report(&RenderEvent::FixtureStarted {
            name: fixture.name.clone(),
            number: number + 1,
            of: selected.len(),
        });
        let started = Instant::now();
        let mut result = match run_fixture(request, fixture, reuse.as_ref(), reporter).await {
            Ok(result) => result,
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(e) => FixtureResult {
                status: Status::Error,
                error_code: Some(e.exit_code()),
                reason: Some(e.to_string()),
                ..FixtureResult::new(fixture)
            },
        };
        result.seconds = started.elapsed().as_secs_f64();
        reporter.report(&RenderEvent::FixtureFinished {
            result: Box::new(result.clone()),
        });
        results.push(result);
    }
    let report = RegressReport {
        format_version: REPORT_FORMAT_VERSION,
        mode: request.mode,
        fixtures: results,
    };
    write_reports(&report, &request.report_dir)?;
    let count = |s: Status| report.fixtures.iter().filter(|f| f.status == s).count();
    reporter.report(&RenderEvent::RegressFinished {
        passed: count(Status::Passed),
        failed: count(Status::Failed),
        skipped: count(Status::Skipped),
        errors: count(Status::Error),
        report: request.report_dir.join("report.json"),
        exit_code: report.exit_code(),
    });
    Ok(report)
}

async fn run_fixture(
    request: &RegressRequest,
    fixture: &Fixture,
    reuse: Option<&Reuse>,
    reporter: &dyn Reporter,
) -> Result<FixtureResult, Error> {
    let mut result = FixtureResult::new(fixture);
    if let Some(reason) = &fixture.unsupported {
        result.status = Status::Skipped;
        result.reason = Some(reason.clone());
        return Ok(result);
    }
    let setup = FixtureSetup::new(request, fixture)?;
    if request.update {
        bless(request, fixture, &setup, &mut result, reporter).await?;
        return Ok(result);
    }
    let reuse_key = match reuse {
        Some(reuse) => {
            let key = reuse.key(request, fixture, &setup.composition)?;
            if let Some(result) = reuse.restore(&key, &setup.out_dir, reporter)? {
                return Ok(result);
            }
            Some((reuse, key))
        }
        None => None,
    };
    let renders = check_determinism(request, fixture, &setup, &mut result, reporter).await?;
    let reference = &renders.reference;
    let videos = &setup.videos;
    let baseline = Baseline::load(&request.baselines.join(&fixture.name).join("baseline.json"))?;
    let baseline_frame = compare_baseline(
        request,
        fixture,
        baseline.as_ref(),
        reference,
        videos,
        &mut result,
    )?;
    compare_baseline_sound(
        fixture,
        baseline.as_ref(),
        &reference.fingerprints,
        renders.reference_sound.as_deref(),
        &mut result,
    );
    if result.status == Status::Failed {
        result.images = failure_images(
            request,
            videos,
            &setup.out_dir,
            baseline_frame,
            &result.findings,
            (reference.width, reference.height),
        )?;
    }
    if let Some((reuse, key)) = reuse_key {
        reuse.keep(
            key,
            &result,
            &setup.out_dir,
            &[&videos.in_process, &videos.distributed, &videos.again],
        )?;
    }
    Ok(result)
}

/// A fixture's determinism check alone, without its baseline: the in-process render and, in
/// distributed-simulated mode, the worker render compared with it chunk by chunk. The result
/// is failed when the drift found is not what the fixture declares.
pub(crate) async fn judge_fixture(
    request: &RegressRequest,
    fixture: &Fixture,
    reporter: &dyn Reporter,
) -> Result<(FixtureResult, Renders), Error> {
    let mut result = FixtureResult::new(fixture);
    let setup = FixtureSetup::new(request, fixture)?;
    let renders = check_determinism(request, fixture, &setup, &mut result, reporter).await?;
    Ok((result, renders))
}

/// The renders of a determinism check.
pub(crate) struct Renders {
    /// The in-process render, the reference of every comparison.
    pub(crate) reference: FramesRecord,
    /// Its sound envelope, when it has sound.
    pub(crate) reference_sound: Option<Vec<f64>>,
    /// The worker render (distributed-simulated mode).
    pub(crate) worker: Option<FramesRecord>,
}

/// A fixture's composition, chunk size and output paths.
struct FixtureSetup {
    composition: Composition,
    chunk_size: u64,
    out_dir: Utf8PathBuf,
    videos: FixtureVideos,
}

impl FixtureSetup {
    fn new(request: &RegressRequest, fixture: &Fixture) -> Result<FixtureSetup, Error> {
        let composition = Composition::load(&fixture.dir, &Overrides::default())?;
        let chunk_size = composition.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
        let out_dir = request.report_dir.join(&fixture.name);
        std::fs::create_dir_all(&out_dir).map_err(|source| crate::render::RenderError::Output {
            path: out_dir.clone(),
            source,
        })?;
        let videos = FixtureVideos::new(
            &out_dir,
            &request.baselines.join(&fixture.name),
            composition.format.codec().container(),
        );
        // The folder shows this run alone: a video an earlier run left (an
        // `in-process-again` this run may not need) would pass for this run's, and be kept
        // with its result.
        for video in [&videos.in_process, &videos.again, &videos.distributed] {
            for path in [video.clone(), frames_record_path(video)] {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(crate::render::RenderError::Output { path, source: e }.into());
                    }
                    _ => {}
                }
            }
        }
        Ok(FixtureSetup {
            composition,
            chunk_size,
            out_dir,
            videos,
        })
    }

    /// An in-process render of the fixture to `output`, cached or not.
    fn in_process(
        &self,
        request: &RegressRequest,
        output: &Utf8Path,
        cached: bool,
    ) -> RenderRequest {
        RenderRequest {
            composition: self.composition.clone(),
            output: output.to_owned(),
            frames: None,
            chunk_size: Some(self.chunk_size),
            png_dir: None,
            capture: CaptureMode::BeginFrame,
            sandbox: request.sandbox,
            strict: false,
            virtual_time: true,
            frame_timeout: request.frame_timeout,
            toolchain: request.toolchain.clone(),
            store: (cached && request.use_cache).then(|| request.store.clone()),
            video_mode: request.video_mode,
            leak_wall_clock: None,
        }
    }
}

/// `--update`: two uncached in-process renders must agree before the first is blessed.
async fn bless(
    request: &RegressRequest,
    fixture: &Fixture,
    setup: &FixtureSetup,
    result: &mut FixtureResult,
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    let videos = &setup.videos;
    let first = render(
        &setup.in_process(request, &videos.in_process, false),
        reporter,
    )
    .await?;
    let second = render(&setup.in_process(request, &videos.again, false), reporter).await?;
    if first.frame_hashes != second.frame_hashes {
        result.status = Status::Failed;
        result.reason =
            Some("two uncached in-process renders differ: not blessed (nondeterministic)".into());
        return Ok(());
    }
    let path = request.baselines.join(&fixture.name).join("baseline.json");
    let mut baseline = Baseline::load(&path)?
        .unwrap_or_else(|| Baseline::new(&fixture.name, &first.bundle_hash.to_string()));
    let envelope = envelope_of(request, &first, &videos.in_process)?;
    let changes = baseline.bless(
        &first.bundle_hash.to_string(),
        entry_of(&first, setup.chunk_size, envelope.as_deref()),
    );
    baseline.save(&path)?;
    std::fs::copy(&videos.in_process, &videos.baseline).map_err(|source| {
        crate::render::RenderError::Write {
            path: videos.baseline.clone(),
            source,
        }
    })?;
    result.bundle_hash = Some(first.bundle_hash.to_string());
    result.reason = Some(if changes.is_empty() {
        "blessed: unchanged".into()
    } else {
        format!("blessed: {}", changes.join("; "))
    });
    Ok(())
}

/// The in-process render (the reference), its page events judged for hermeticity, and in
/// distributed-simulated mode the worker render compared with it exactly, frames and sound.
async fn check_determinism(
    request: &RegressRequest,
    fixture: &Fixture,
    setup: &FixtureSetup,
    result: &mut FixtureResult,
    reporter: &dyn Reporter,
) -> Result<Renders, Error> {
    let videos = &setup.videos;
    // The wall-clock fault goes into this render, the reference of every comparison.
    let reference = RenderRequest {
        leak_wall_clock: request
            .inject
            .filter(|i| i.fault == Fault::WallClock)
            .map(|i| i.chunk),
        ..setup.in_process(request, &videos.in_process, true)
    };
    let reference = render(&reference, reporter).await?;
    let reference_sound = envelope_of(request, &reference, &videos.in_process)?;
    result.bundle_hash = Some(reference.bundle_hash.to_string());
    result.console_errors = reference
        .page_events
        .iter()
        .filter(|e| match &e.kind {
            PageEventKind::Console { level, .. } => level == "error",
            _ => true,
        })
        .cloned()
        .collect();
    hermeticity(&reference, request.strict, result);
    if request.mode == RegressMode::InProcess {
        return Ok(Renders {
            reference,
            reference_sound,
            worker: None,
        });
    }
    let distributed = match &request.executor {
        Some(Executor::Slurm { partition }) => {
            through_slurm(request, setup, partition.clone(), reporter).await?
        }
        None => simulated(request, setup, reporter).await?,
    };
    compare_chunks(
        &reference,
        &distributed,
        &|cached| setup.in_process(request, &videos.again, cached),
        result,
        reporter,
    )
    .await?;
    // Workers and the in-process render mux the same mix: any difference is drift.
    let worker_sound = envelope_of(request, &distributed, &videos.distributed)?;
    if let Some((finding, _)) = audio_finding(
        reference_sound.as_deref(),
        worker_sound.as_deref(),
        &Thresholds {
            max_audio_lag_windows: 0,
            min_audio_correlation: 1.0,
            ..fixture.thresholds
        },
        ("in-process render", "worker render"),
    ) {
        result.findings.push(finding);
    }
    judge_expected(fixture, result);
    Ok(Renders {
        reference,
        reference_sound,
        worker: Some(distributed),
    })
}

/// The distributed leg on this machine: local worker processes.
async fn simulated(
    request: &RegressRequest,
    setup: &FixtureSetup,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, Error> {
    render_distributed(
        &DistributedRequest {
            composition: setup.composition.clone(),
            output: setup.videos.distributed.clone(),
            chunk_size: Some(setup.chunk_size),
            workers: request.workers,
            capture: CaptureMode::BeginFrame,
            sandbox: request.sandbox,
            strict: false,
            frame_timeout: request.frame_timeout,
            toolchain: request.toolchain.clone(),
            store: request.store.clone(),
            use_cache: request.use_cache,
            worker_exe: request.worker_exe.clone(),
            max_attempts: 3,
            inject: request.inject,
            video_mode: request.video_mode,
        },
        reporter,
    )
    .await
}

/// The distributed leg through Slurm: the bundle is planned into the store's folder (which
/// every node sees), its chunks run as an array job, and the video is assembled from the
/// records the tasks stored.
async fn through_slurm(
    request: &RegressRequest,
    setup: &FixtureSetup,
    partition: Option<String>,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, Error> {
    let run = BrowserRun::of(
        &setup.composition,
        RunSettings {
            capture: CaptureMode::BeginFrame,
            sandbox: request.sandbox,
            video_mode: request.video_mode,
            frame_timeout: request.frame_timeout,
            toolchain: request.toolchain.clone(),
        },
    );
    let bundles = request.store.root().join("slurm-bundles");
    let io = |path: &Utf8Path, source| crate::render::RenderError::Write {
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(&bundles).map_err(|e| io(&bundles, e))?;
    let scratch = tempfile::Builder::new()
        .prefix(".plan-")
        .tempdir_in(&bundles)
        .map_err(|e| io(&bundles, e))?;
    let planned = Utf8Path::from_path(scratch.path())
        .expect("the store has a UTF-8 path")
        .join("bundle");
    let prepared = prepare(
        &setup.composition,
        &run,
        Some(Chunking::Size(setup.chunk_size)),
        &planned,
        Some(&request.store),
        reporter,
    )
    .await?;
    // One folder per bundle hash: a bundle planned before stays, byte for byte the same.
    let bundle = bundles.join(prepared.bundle.hash().to_string());
    if !bundle.is_dir() {
        std::fs::rename(&planned, &bundle).map_err(|e| io(&bundle, e))?;
    }
    let job = SlurmJob {
        bundle: bundle.clone(),
        store: request.store.clone(),
        partition,
        max_parallel: request.workers as u64,
        framelock: request.worker_exe.clone(),
        attempts: 3,
    };
    let assemble = AssembleRequest {
        bundle,
        store: request.store.clone(),
        output: setup.videos.distributed.clone(),
        execution: crate::store::Execution::Worker,
        capture: CaptureMode::BeginFrame,
        toolchain: request.toolchain.clone(),
        strict: false,
        video_mode: request.video_mode,
    };
    submit_and_assemble(&job, &assemble, reporter).await
}

/// Where one fixture's videos are: its renders in the report folder and its baseline, each
/// `<name>.<container of the fixture's format>`.
struct FixtureVideos {
    in_process: Utf8PathBuf,
    again: Utf8PathBuf,
    distributed: Utf8PathBuf,
    baseline: Utf8PathBuf,
}

impl FixtureVideos {
    fn new(out_dir: &Utf8Path, baseline_dir: &Utf8Path, ext: &str) -> FixtureVideos {
        FixtureVideos {
            in_process: out_dir.join(format!("in-process.{ext}")),
            again: out_dir.join(format!("in-process-again.{ext}")),
            distributed: out_dir.join(format!("distributed.{ext}")),
            baseline: baseline_dir.join(format!("baseline.{ext}")),
        }
    }
}

/// The most pictures one fixture's failure gets.
const MAX_FAILURE_IMAGES: usize = 4;

/// Pictures of the first differing frame of each failure: against the baseline, then per
/// chunk finding (worker against in-process; for nondeterminism, the two in-process renders).
fn failure_images(
    request: &RegressRequest,
    videos: &FixtureVideos,
    out_dir: &Utf8Path,
    baseline_frame: Option<u64>,
    findings: &[Finding],
    size: (u32, u32),
) -> Result<Vec<FailureImages>, Error> {
    let baseline_mp4 = videos.baseline.clone();
    let (in_process, again, worker) = (
        videos.in_process.clone(),
        videos.again.clone(),
        videos.distributed.clone(),
    );
    let side = |label, video| Side { label, video };
    let mut wanted = Vec::new();
    if let Some(frame) = baseline_frame.filter(|_| baseline_mp4.is_file()) {
        wanted.push((
            "baseline".to_string(),
            frame,
            side("baseline", &baseline_mp4),
            side("new", &in_process),
        ));
    }
    for finding in findings {
        let (Some(_), Some(frame)) = (finding.chunk, finding.first_frame) else {
            continue;
        };
        let candidate = match finding.kind {
            FindingKind::Nondeterministic => side("in-process-again", &again),
            _ => side("worker", &worker),
        };
        wanted.push((
            finding.kind.to_string(),
            frame,
            side("in-process", &in_process),
            candidate,
        ));
    }
    let mut images = Vec::new();
    for (what, frame, reference, candidate) in wanted.into_iter().take(MAX_FAILURE_IMAGES) {
        if !candidate.video.is_file() {
            continue;
        }
        images.extend(write_failure_images(
            &request.toolchain.ffmpeg.real,
            &what,
            frame,
            size,
            reference,
            candidate,
            out_dir,
            &request.report_dir,
        )?);
    }
    Ok(images)
}

fn entry_of(record: &FramesRecord, chunk_size: u64, envelope: Option<&[f64]>) -> BaselineEntry {
    BaselineEntry {
        toolchain: record.fingerprints.toolchain.clone(),
        render_settings: record.fingerprints.render_settings.clone(),
        chrome_version: record.fingerprints.chrome_version.clone(),
        ffmpeg_version: record.fingerprints.ffmpeg_version.clone(),
        pinned_toolchain: record.fingerprints.pinned_toolchain.clone(),
        frame_hashes: record.frame_hashes.clone(),
        chunk_size,
        chunk_hashes: record.chunk_hashes.iter().map(|h| h.to_string()).collect(),
        audio_envelope: envelope.map(quantize_envelope).unwrap_or_default(),
    }
}

/// Windows either side searched for the best audio lag: half a second.
const AUDIO_LAG_SEARCH: usize = 50;

/// The sound envelope of a render's video; `None` without sound.
fn envelope_of(
    request: &RegressRequest,
    record: &FramesRecord,
    video: &Utf8Path,
) -> Result<Option<Vec<f64>>, Error> {
    let seconds = record.total_frames as f64 * record.fps.den() as f64 / record.fps.num() as f64;
    Ok(audio_envelope(
        &request.toolchain.ffmpeg.real,
        video,
        seconds,
    )?)
}

/// An audio finding from two envelopes, or one for sound present in only one of them.
fn audio_finding(
    reference: Option<&[f64]>,
    candidate: Option<&[f64]>,
    thresholds: &Thresholds,
    (reference_name, candidate_name): (&str, &str),
) -> Option<(Finding, bool)> {
    let what = format!("{candidate_name} against {reference_name}");
    let finding = |evidence: String| Finding {
        kind: FindingKind::AudioLag,
        chunk: None,
        first_frame: None,
        evidence,
    };
    match (reference, candidate) {
        (None, None) => None,
        (Some(_), None) => Some((
            finding(format!("{what}: the {candidate_name} has no sound")),
            true,
        )),
        (None, Some(_)) => Some((
            finding(format!("{what}: the {reference_name} has no sound")),
            true,
        )),
        (Some(a), Some(b)) => {
            // Exact: any difference is named, with where the sound lines up best.
            let exact = thresholds.min_audio_correlation >= 1.0;
            let (lag, correlation) =
                classify_audio(a, b, thresholds.min_audio_correlation, AUDIO_LAG_SEARCH)
                    .or_else(|| (exact && a != b).then(|| envelope_lag(a, b, AUDIO_LAG_SEARCH)))?;
            let window_ms = (ENVELOPE_WINDOW as u64 * 1000 / ENVELOPE_RATE) as i64;
            let failing = lag.unsigned_abs() > thresholds.max_audio_lag_windows
                || correlation < thresholds.min_audio_correlation;
            Some((
                finding(format!(
                    "{what}: sound peaks at lag {:+} ms (correlation {correlation:.3}; allowed {} ms, {})",
                    lag * window_ms,
                    thresholds.max_audio_lag_windows as i64 * window_ms,
                    thresholds.min_audio_correlation
                )),
                failing,
            ))
        }
    }
}

fn fail(result: &mut FixtureResult, reason: String) {
    result.status = Status::Failed;
    if result.reason.is_none() {
        result.reason = Some(reason);
    }
}

fn hermeticity(record: &FramesRecord, strict: bool, result: &mut FixtureResult) {
    let blocked: Vec<(Option<u64>, &str)> = record
        .page_events
        .iter()
        .filter_map(|e| match &e.kind {
            PageEventKind::BlockedRequest { url } => Some((e.frame, url.as_str())),
            _ => None,
        })
        .collect();
    if let Some((frame, url)) = blocked.first() {
        result.findings.push(Finding {
            kind: FindingKind::Hermeticity,
            chunk: None,
            first_frame: *frame,
            evidence: format!("{} blocked request(s), first {url}", blocked.len()),
        });
        if strict {
            fail(result, format!("hermeticity: blocked request to {url}"));
        }
    }
}

/// Worker chunks against the in-process render, exactly; a mismatch is classified after one
/// more uncached in-process render.
async fn compare_chunks(
    reference: &FramesRecord,
    candidate: &FramesRecord,
    rerender_request: &dyn Fn(bool) -> RenderRequest,
    result: &mut FixtureResult,
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    let mut rerender: Option<Vec<String>> = None;
    for (index, range) in candidate.chunk_plan.chunks().iter().enumerate() {
        let (s, e) = (range.start().0 as usize, range.end().0 as usize);
        let mut pair = ChunkPair {
            index,
            range: *range,
            reference: &reference.frame_hashes,
            candidate: &candidate.frame_hashes[s..e],
            reference_blob: reference.chunk_hashes[index].as_str(),
            candidate_blob: candidate.chunk_hashes[index].as_str(),
            rerender: None,
            reference_videos: &reference.video_frames,
            candidate_videos: candidate.video_frames.get(s..e).unwrap_or_default(),
        };
        if classify_chunk(&pair).is_none() {
            continue;
        }
        if rerender.is_none() {
            let again = render(&rerender_request(false), reporter).await?;
            rerender = Some(again.frame_hashes);
        }
        pair.rerender = rerender.as_deref().map(|r| &r[s..e]);
        if let Some(finding) = classify_chunk(&pair) {
            result.findings.push(Finding {
                kind: finding.kind,
                chunk: Some(finding.chunk),
                first_frame: Some(finding.first_frame),
                evidence: describe(&finding.evidence),
            });
        }
    }
    Ok(())
}

fn describe(evidence: &Evidence) -> String {
    match evidence {
        Evidence::FrameOffset {
            k,
            explained,
            differing,
        } => format!(
            "worker frames equal in-process frames {k:+} ({explained} of {differing} differing frames)"
        ),
        Evidence::Restarted {
            explained,
            differing,
        } => format!(
            "worker frames repeat the in-process render's from its first frame ({explained} of {differing} differing frames): the page counts frames itself and began again at the chunk start"
        ),
        Evidence::DifferingFrames { count } => format!("{count} frame(s) differ"),
        Evidence::VideoOffset {
            k,
            explained,
            differing,
        } => format!(
            "worker videos show source frames {k:+} from the in-process render's ({explained} of {differing} differing frames)"
        ),
        Evidence::EncodedBlobs {
            reference,
            candidate,
        } => format!("equal frames, encoded chunk {reference} vs {candidate}"),
    }
}

/// A fixture that exists to demonstrate findings passes when exactly those are found; any other
/// fixture fails on any finding except hermeticity (judged by --strict).
fn judge_expected(fixture: &Fixture, result: &mut FixtureResult) {
    let found: BTreeSet<FindingKind> = result
        .findings
        .iter()
        .map(|f| f.kind)
        .filter(|k| *k != FindingKind::Hermeticity)
        .collect();
    if found != fixture.expected_findings {
        let names = |set: &BTreeSet<FindingKind>| {
            if set.is_empty() {
                "none".to_string()
            } else {
                set.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        fail(
            result,
            format!(
                "findings: expected {}, found {}",
                names(&fixture.expected_findings),
                names(&found)
            ),
        );
    }
}

/// The in-process render against the committed baseline: exact on a blessed pair, else PSNR
/// against baseline.mp4 with a toolchain warning. Returns the first frame that fails, if any.
fn compare_baseline(
    request: &RegressRequest,
    fixture: &Fixture,
    baseline: Option<&Baseline>,
    reference: &FramesRecord,
    videos: &FixtureVideos,
    result: &mut FixtureResult,
) -> Result<Option<u64>, Error> {
    let dir = request.baselines.join(&fixture.name);
    let Some(baseline) = baseline else {
        fail(
            result,
            format!(
                "no baseline in {dir}: run `framelock regress --update --fixture {}`",
                fixture.name
            ),
        );
        return Ok(None);
    };
    if baseline.bundle_hash != reference.bundle_hash.to_string() {
        result.warnings.push(format!(
            "composition changed since the baseline (bundle {} -> {})",
            &baseline.bundle_hash[..12.min(baseline.bundle_hash.len())],
            reference.bundle_hash.0.short()
        ));
    }
    let video = videos.in_process.clone();
    let mp4 = videos.baseline.clone();
    let psnr = |result: &mut FixtureResult| -> Result<Option<Vec<f64>>, Error> {
        if !mp4.is_file() {
            return Ok(None);
        }
        let cmp = compare_videos(
            &request.toolchain.ffmpeg.real,
            &video,
            &mp4,
            reference.width,
            reference.height,
        )?;
        result.psnr = Some(cmp.frame_psnr.clone());
        Ok(Some(cmp.frame_psnr))
    };
    let fp = &reference.fingerprints;
    if let Some(entry) = baseline.entry(&fp.toolchain, &fp.render_settings) {
        let first = (0..entry.frame_hashes.len().max(reference.frame_hashes.len()))
            .find(|&i| entry.frame_hashes.get(i) != reference.frame_hashes.get(i));
        if let Some(first) = first {
            let measured = psnr(result)?;
            let evidence = match &measured {
                Some(p) => format!(
                    "lowest PSNR {:.2} dB at frame {}",
                    p.iter().copied().fold(f64::INFINITY, f64::min),
                    worst_frame(p)
                ),
                None => format!("no {} to measure PSNR", videos.baseline),
            };
            fail(
                result,
                format!("differs from its blessed baseline from frame {first} on ({evidence})"),
            );
            // The picture shows the worst frame: the first may differ invisibly.
            return Ok(Some(measured.map_or(first, |p| worst_frame(&p)) as u64));
        }
        // Equal frames from the same toolchain and settings must encode to the same bytes.
        let chunks = reference.chunk_hashes.iter().map(|h| h.as_str());
        let differing = (entry.chunk_size == reference.chunk_plan.chunks()[0].len())
            .then(|| chunks.zip(&entry.chunk_hashes).position(|(a, b)| a != b))
            .flatten();
        match differing {
            None => result.psnr = Some(vec![IDENTICAL_PSNR; reference.frame_hashes.len()]),
            Some(chunk) => {
                let range = reference.chunk_plan.chunks()[chunk];
                result.findings.push(Finding {
                    kind: FindingKind::Encoder,
                    chunk: Some(chunk),
                    first_frame: Some(range.start().0),
                    evidence: format!(
                        "equal frames, encoded chunk {} vs blessed {}",
                        reference.chunk_hashes[chunk].short(),
                        &entry.chunk_hashes[chunk][..12]
                    ),
                });
                fail(
                    result,
                    format!(
                        "chunk {chunk} ({range}) encodes differently from its blessed baseline"
                    ),
                );
            }
        }
        return Ok(None);
    }
    // No entry for this toolchain: PSNR decides, with a toolchain warning.
    let Some(frames) = psnr(result)? else {
        fail(
            result,
            format!(
                "no baseline entry for this toolchain and no {mp4}: run `framelock regress --update --fixture {}`",
                fixture.name
            ),
        );
        return Ok(None);
    };
    let Thresholds {
        min_psnr,
        max_frame_failures,
        ..
    } = fixture.thresholds;
    let below: Vec<usize> = (0..frames.len())
        .filter(|&i| frames[i] < min_psnr)
        .collect();
    let floor = frames.iter().position(|p| *p < PSNR_FLOOR);
    result.findings.push(Finding {
        kind: FindingKind::Toolchain,
        chunk: None,
        first_frame: below.first().map(|&i| i as u64),
        evidence: format!(
            "{}; lowest PSNR {:.2} dB, {} frame(s) below {min_psnr} dB",
            unblessed(baseline, fp),
            frames.iter().copied().fold(f64::INFINITY, f64::min),
            below.len()
        ),
    });
    if below.len() as u64 > max_frame_failures || floor.is_some() {
        let first = floor.or(below.first().copied()).unwrap_or(0);
        fail(
            result,
            format!(
                "PSNR against {}: {} frame(s) below {min_psnr} dB (allowed {max_frame_failures}), first at frame {first} ({:.2} dB)",
                videos.baseline.file_name().unwrap_or_default(),
                below.len(),
                frames[first]
            ),
        );
        return Ok(Some(worst_frame(&frames) as u64));
    }
    result.warnings.push(format!(
        "passed by PSNR against {}, not hash for hash: bless this pair with `framelock regress --update --fixture {}` once it is trusted",
        videos.baseline.file_name().unwrap_or_default(),
        fixture.name
    ));
    Ok(None)
}

/// The in-process render's sound against the blessed envelope of its pair (else the first
/// entry's): correlation and lag within the fixture's thresholds.
fn compare_baseline_sound(
    fixture: &Fixture,
    baseline: Option<&Baseline>,
    fp: &Fingerprints,
    sound: Option<&[f64]>,
    result: &mut FixtureResult,
) {
    let Some(baseline) = baseline else {
        return;
    };
    let Some(entry) = baseline
        .entry(&fp.toolchain, &fp.render_settings)
        .or(baseline.entries.first())
    else {
        return;
    };
    let blessed =
        (!entry.audio_envelope.is_empty()).then(|| expand_envelope(&entry.audio_envelope));
    if let Some((finding, failing)) = audio_finding(
        blessed.as_deref(),
        sound,
        &fixture.thresholds,
        ("baseline", "render"),
    ) {
        if failing {
            fail(result, format!("sound: {}", finding.evidence));
        }
        result.findings.push(finding);
    }
}

/// The frame with the lowest PSNR (the first of equals).
fn worst_frame(psnr: &[f64]) -> usize {
    (0..psnr.len())
        .min_by(|&a, &b| psnr[a].total_cmp(&psnr[b]).then(a.cmp(&b)))
        .unwrap_or(0)
}

/// Says what keeps a render from every blessed entry: its toolchain, or (on a blessed
/// toolchain) its render settings.
fn unblessed(baseline: &Baseline, fp: &Fingerprints) -> String {
    let short = |s: &str| s[..12.min(s.len())].to_string();
    let same_toolchain: Vec<String> = baseline
        .entries
        .iter()
        .filter(|e| e.toolchain == fp.toolchain)
        .map(|e| short(&e.render_settings))
        .collect();
    // Where a toolchain came from: the Nix flake's pin, or a machine's own packages.
    let source = |pin: &Option<String>| pin.clone().unwrap_or_else(|| "own packages".into());
    if same_toolchain.is_empty() {
        let blessed: BTreeSet<String> = baseline
            .entries
            .iter()
            .map(|e| format!("{}, {}", e.chrome_version, source(&e.pinned_toolchain)))
            .collect();
        format!(
            "toolchain {} ({}, {}) is not blessed (blessed: {}): a toolchain difference, not a failure of the composition",
            short(&fp.toolchain),
            fp.chrome_version,
            source(&fp.pinned_toolchain),
            blessed.into_iter().collect::<Vec<_>>().join("; ")
        )
    } else {
        format!(
            "render settings {} are not blessed on this toolchain (blessed: {}): the runtime, browser flags or encoder settings changed",
            short(&fp.render_settings),
            same_toolchain.join(", ")
        )
    }
}
