//! clap definitions. Doc comments here are the `--help` text.

use std::time::Duration;

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::browser::{CaptureMode, SandboxPolicy};
use crate::composition::Overrides;
use crate::distributed::{Fault, Injection};
use crate::media::VideoMode;
use crate::store::Execution;
use crate::timing::{Fps, FrameRange};

/// Prove that HTML-to-video rendering is reproducible.
///
/// framelock renders a composition (a folder with an animating index.html) to video in
/// chrome-headless-shell, deterministically: the page's clock, timers and randomness come from
/// the frame index, and every frame's pixels are hashed. The same composition can be rendered
/// in one process or split into chunks that separate worker processes render from a frozen,
/// content-addressed bundle; both give the same frames.
///
/// Exit codes: 0 success, 1 regression or drift found, 2 usage or input error, 3 environment
/// error (missing or unusable toolchain), 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "framelock", version, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a composition to video.
    ///
    /// Writes OUTPUT (H.264 MP4) and OUTPUT.frames.json: the frame rate, size, frame count,
    /// capture mode, bundle hash, fingerprints, the blake3 hash of each frame's raw RGBA
    /// pixels, and everything the page logged, with its frame. The composition is planned into
    /// a bundle first; chunk records go to the store, and an identical later render reuses
    /// them (--no-cache renders anyway).
    ///
    /// Examples:
    ///   framelock render fixtures/css-keyframes -o out.mp4
    ///   framelock render fixtures/css-keyframes -o out.mp4 --mode distributed-simulated --workers 2 --chunk-size 20
    #[command(verbatim_doc_comment)]
    Render(RenderOpts),
    /// Render every fixture, compare with workers and baselines, and name any drift.
    ///
    /// Per fixture: render in process (cached); with --mode distributed-simulated also with
    /// workers, comparing every chunk's frame hashes and encoded bytes exactly (a mismatch is
    /// checked against one more uncached in-process render, then named: nondeterministic,
    /// frame-time, chunk-boundary, encoder); then compare with baselines/<fixture>: exactly on
    /// a blessed toolchain, else by PSNR against baseline.mp4 with a toolchain warning. A
    /// fixture whose meta.json declares expectedFindings passes when exactly those are found.
    /// Writes REPORT_DIR/report.json and report.html (plots, console errors, failure
    /// pictures). Exit 0 all passed (skips and toolchain warnings allowed), 1 any failure or
    /// drift, 2 usage or input (a fixture that cannot be read), 3 environment (browser or
    /// ffmpeg missing or failing).
    ///
    /// Example: framelock regress --mode distributed-simulated
    Regress(RegressOpts),
    /// Freeze a composition into a content-addressed bundle a worker can render alone.
    ///
    /// Copies the composition and its local assets into BUNDLE/compiled (skipping
    /// node_modules, .git, .cache, output, failures, dist, .next, .turbo), resolves the
    /// render settings into BUNDLE/meta, writes manifest.json and plan.json, and prints the
    /// bundle hash. The hash names what is rendered: not the toolchain, not the chunk plan.
    /// A browser is started only when the duration must be read from the page.
    Plan(PlanOpts),
    /// Render one chunk of a bundle into the store (what a worker runs).
    ///
    /// Checks the bundle hash (BUNDLE_HASH_MISMATCH), this machine's toolchain against the
    /// planning machine's (TOOLCHAIN_MISMATCH) and that the GPU is software
    /// (BROWSER_GPU_NOT_SOFTWARE), then renders frames [start, end) of the chunk and stores
    /// the encoded chunk and its record. Prints one JSON line on stdout:
    /// {"chunk": I, "record": "<hash>", "reused": false}.
    RenderChunk(RenderChunkOpts),
    /// Join a bundle's chunks from the store into a video.
    ///
    /// Every chunk record is checked (frame count equals the range length, blobs verify)
    /// before anything is written; writes OUTPUT, OUTPUT.frames.json and a run record.
    Assemble(AssembleOpts),
    /// Pack a bundle into a deterministic .tar.zst and print its sha256.
    Pack(PackOpts),
    /// Unpack a packed bundle, refusing links, devices, absolute paths, `..` and oversized
    /// archives.
    Unpack(UnpackOpts),
    /// Recompute every file hash and the bundle hash of a bundle (folder or .tar.zst).
    ///
    /// Exits 0 when it is intact, 2 naming each file that differs.
    Verify(VerifyOpts),
    /// Show what differs between two bundles (folders, .tar.zst, or hashes of bundles kept in
    /// the store): files added, removed and changed with their sizes and hashes, a unified
    /// diff of small text files, and changed encoder settings; with --runs, the fingerprints
    /// of their renders.
    ///
    /// Exits 0 when the bundle hashes are equal (nothing that is rendered differs), 1 when they
    /// differ, 2 when a side is not a bundle or fails verification.
    Diff(DiffOpts),
    /// Compare two renders (videos framelock wrote, with their frames.json) frame by frame: the
    /// first divergent frame and its chunk, the PSNR of the frames that differ, the drift the
    /// first divergent chunk shows (A is the reference), and the worst frame as PNGs in --out.
    ///
    /// Exits 0 when every frame is equal, 1 when frames differ, 2 when a side is not a render.
    DiffRuns(DiffRunsOpts),
    /// Find the commit that introduced a determinism regression, and what it changed.
    ///
    /// Walks the first-parent history from --good to --bad by halving. Each step checks the
    /// commit out into a temporary worktree (your checkout, index and HEAD are never touched),
    /// plans each fixture into a bundle, and judges it: bad means a determinism failure
    /// (worker chunks differ from the in-process render, or two in-process renders differ,
    /// beyond what the fixture's expectedFindings declare); with --against-good, in-process
    /// frames other than the good revision's. A bundle already judged with the same chunk
    /// plan, toolchain, render settings, framelock build and bad-definition is not rendered
    /// again: its stored verdict is reused, whichever commit or earlier bisect judged it. A
    /// commit whose fixtures cannot be planned is skipped. Both ends are judged first.
    ///
    /// Ends with the first bad commit, the drift it shows, and the `diff` of each changed
    /// bundle against the last good commit's; with --out, the renders are kept there, a folder
    /// per commit.
    /// Exits 0 when the first bad commit is found, 1 when skipped commits leave several
    /// candidates, 2 for revisions that are not as described (--good is bad, --bad is good,
    /// not an ancestor), 3 environment.
    ///
    /// Example: framelock bisect --good v1.2 --bad HEAD --fixture spinner
    Bisect(BisectOpts),
    /// Judge the current checkout for `git bisect run`: exit 0 good, 1 bad, 125 skip.
    ///
    /// Judges the fixtures of the checkout in --repo as one step of `bisect` does (verdicts
    /// are reused by bundle hash from the store). A checkout whose fixtures cannot be planned
    /// exits 125, which `git bisect run` skips. Usage and environment errors (a missing
    /// browser, an unusable store) exit 128, which makes `git bisect run` stop instead of
    /// marking the commit bad; Ctrl-C exits 130. Renders go to a temporary folder unless --out
    /// is given, so the checkout stays clean.
    ///
    /// Example:
    ///   git bisect start BAD GOOD
    ///   git bisect run framelock bisect-step --fixture spinner
    #[command(verbatim_doc_comment)]
    BisectStep(BisectStepOpts),
    /// Hand a bundle's chunks to a cluster scheduler.
    #[command(subcommand)]
    Submit(SubmitCommand),
    /// Look after the store: list, verify or garbage-collect cached chunk records.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Check the toolchain: browser, GPU, fonts, ffmpeg, and the fingerprints.
    ///
    /// Exits 3 with the install command when a tool is missing or unusable.
    Doctor(DoctorOpts),
    /// Measure speed against this machine's limits, as ratios from one run.
    ///
    /// Capture throughput at 320x180 and 1280x720: a bare BeginFrame loop (the limit) against
    /// framelock in process (BeginFrame and screenshot capture), with the time per frame split
    /// into seek, capture, decode, hash, pipe and encode; in process against 1 and 2 workers,
    /// with each worker's peak memory; blake3 against sha256, and packing, unpacking and
    /// verifying a bundle of a few hundred files; framelock's compare against ffmpeg's psnr
    /// filter on two 1080p videos; a second `regress` against the first. Writes bench.json and
    /// BENCHMARKS.md to --out, with the targets reached, and prints the targets. Takes about two
    /// minutes (--quick: under half a minute). Run it from a checkout: it uses fixtures/. Its
    /// stores are temporary: it never reads or fills yours.
    Bench(BenchOpts),
}
/// Which tools to use; both default to what `doctor` finds.
#[derive(Debug, Clone, Args)]
pub struct ToolOpts {
    /// The browser: chrome-headless-shell. Default: $FRAMELOCK_CHROME, else
    /// chrome-headless-shell or chromium-headless-shell on PATH (Debian's wrapper script is
    /// resolved to the real binary).
    #[arg(long, value_name = "PATH")]
    pub chrome: Option<Utf8PathBuf>,
    /// ffmpeg. Default: $FRAMELOCK_FFMPEG, else ffmpeg on PATH.
    #[arg(long, value_name = "PATH")]
    pub ffmpeg: Option<Utf8PathBuf>,
    /// Chrome's sandbox: `auto` turns it off when running as root or when user namespaces are
    /// unavailable (as inside a Nix build), and says so.
    #[arg(long, value_enum, default_value_t = SandboxOpt::Auto, value_name = "WHEN")]
    pub chrome_sandbox: SandboxOpt,
}

/// `--chrome-sandbox` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxOpt {
    /// Off when it cannot work.
    Auto,
    /// Always on.
    On,
    /// Always off.
    Off,
}

impl From<SandboxOpt> for SandboxPolicy {
    fn from(value: SandboxOpt) -> Self {
        match value {
            SandboxOpt::Auto => SandboxPolicy::Auto,
            SandboxOpt::On => SandboxPolicy::On,
            SandboxOpt::Off => SandboxPolicy::Off,
        }
    }
}

/// `--capture` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaptureOpt {
    /// HeadlessExperimental.beginFrame with frameTimeTicks from the frame index.
    Beginframe,
    /// Page.captureScreenshot in a browser without begin-frame control: a fallback for
    /// builds where BeginFrame is missing or broken.
    Screenshot,
}

impl From<CaptureOpt> for CaptureMode {
    fn from(value: CaptureOpt) -> Self {
        match value {
            CaptureOpt::Beginframe => CaptureMode::BeginFrame,
            CaptureOpt::Screenshot => CaptureMode::Screenshot,
        }
    }
}

/// `--video` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VideoOpt {
    /// Each <video> shows the frame the media time formula gives, from frames the plan
    /// extracted: no browser seeks a video decoder.
    Inject,
    /// The browser's own decoder, seeked to the media time at each frame: for comparison only
    /// (chrome-headless-shell 156 does not repaint a seeked video: BeginFrame capture gets no
    /// frame, screenshot capture shows its first frame).
    Native,
}

impl From<VideoOpt> for VideoMode {
    fn from(value: VideoOpt) -> Self {
        match value {
            VideoOpt::Inject => VideoMode::Inject,
            VideoOpt::Native => VideoMode::Native,
        }
    }
}

/// Overrides of the composition's own settings.
#[derive(Debug, Clone, Args)]
pub struct CompositionOpts {
    /// Frame rate, overriding meta.json: an integer, a decimal such as 29.97, or a rational
    /// such as 30000/1001.
    #[arg(long, value_name = "RATE")]
    pub fps: Option<Fps>,
    /// Width in pixels (even), overriding meta.json and data-width.
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(1..=16384))]
    pub width: Option<u32>,
    /// Height in pixels (even), overriding meta.json and data-height.
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(1..=16384))]
    pub height: Option<u32>,
    /// Duration in seconds, overriding meta.json and the page; frames = round(duration × fps).
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds, conflicts_with = "frame_count")]
    pub duration: Option<f64>,
    /// Exact number of frames, overriding every duration.
    #[arg(long, value_name = "N", value_parser = positive_count)]
    pub frame_count: Option<u64>,
}

impl CompositionOpts {
    /// As engine overrides.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            fps: self.fps,
            width: self.width,
            height: self.height,
            duration: self.duration,
            frame_count: self.frame_count,
        }
    }
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeOpt {
    /// One browser walks every chunk in order.
    InProcess,
    /// Local `render-chunk` worker processes, each with its own browser, that see only a copy
    /// of the bundle.
    DistributedSimulated,
}

/// `regress --mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegressModeOpt {
    /// In-process renders only, against the baselines.
    InProcess,
    /// Also local `render-chunk` worker processes, compared exactly with the in-process render.
    DistributedSimulated,
    /// Also chunks rendered through a cluster scheduler (--executor), compared exactly.
    Distributed,
}

/// `regress --executor` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutorOpt {
    /// A Slurm array job per fixture.
    Slurm,
}

/// `--events` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsOpt {
    /// One JSON object per line on stdout, tagged by `event`.
    Jsonl,
}

/// Where chunk records are kept.
#[derive(Debug, Clone, Args)]
pub struct StoreOpts {
    /// The store: content-addressed blobs and the chunk-record cache. Default:
    /// $FRAMELOCK_STORE, else $XDG_CACHE_HOME/framelock, else ~/.cache/framelock.
    #[arg(long, value_name = "DIR")]
    pub store: Option<Utf8PathBuf>,
}

/// Options of `framelock render`.
#[derive(Debug, Clone, Args)]
pub struct RenderOpts {
    /// The composition folder (with index.html, and optionally meta.json).
    #[arg(value_name = "COMPOSITION")]
    pub composition: Utf8PathBuf,
    /// The video to write. Nothing is written there unless the whole render succeeds.
    #[arg(short, long, value_name = "OUT.mp4|OUT.webm")]
    pub output: Utf8PathBuf,
    #[command(flatten)]
    /// Overrides.
    pub settings: CompositionOpts,
    /// Where chunks are rendered.
    #[arg(long, value_enum, default_value_t = ModeOpt::InProcess)]
    pub mode: ModeOpt,
    /// Worker processes at once (distributed-simulated). Default: the number of CPUs.
    #[arg(long, value_name = "W", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub workers: Option<u64>,
    /// Render only frames START..END (END exclusive), in a fresh browser that starts at START.
    /// With --png-dir, a way to look at single frames. In-process only; never cached.
    #[arg(long, value_name = "START..END", conflicts_with = "workers")]
    pub frames: Option<FrameRange>,
    /// Also write each rendered frame as DIR/frame_NNNNNN.png. In-process only; never cached.
    #[arg(long, value_name = "DIR")]
    pub png_dir: Option<Utf8PathBuf>,
    /// Frames per chunk: the encoder restarts (and, distributed, a worker starts) at each
    /// chunk start. Default: renderConfig.chunkSize, else one chunk (in-process) or one chunk
    /// per worker (distributed).
    #[arg(long, value_name = "N", value_parser = positive_count)]
    pub chunk_size: Option<u64>,
    /// How frames are captured.
    #[arg(long, value_enum, default_value_t = CaptureOpt::Beginframe, value_name = "MODE")]
    pub capture: CaptureOpt,
    /// How <video> elements are shown.
    #[arg(long, value_enum, default_value_t = VideoOpt::Inject, value_name = "MODE")]
    pub video: VideoOpt,
    /// Fail (exit 1) when the page requested anything outside the composition. Without it,
    /// such requests are blocked and listed.
    #[arg(long)]
    pub strict: bool,
    /// Seconds one seek or one capture may take before the render fails naming the frame.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = positive_seconds)]
    pub frame_timeout: f64,
    /// Render everything, even when the store holds records of an identical render, and
    /// store nothing.
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
    /// Debugging only: give the page the real clock, real timers and real randomness. Renders
    /// are then NOT reproducible (and never cached); the test suite uses this to prove its
    /// checks can fail.
    #[arg(long)]
    pub debug_real_time: bool,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

impl RenderOpts {
    /// Combinations clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        // The container follows renderConfig.format, checked once the composition is read;
        // only names no format writes are refused here.
        let known = self
            .output
            .extension()
            .is_some_and(|e| e == "mp4" || e == "webm");
        if !known {
            return Err(format!(
                "--output {}: give a name ending in .mp4 (H.264) or .webm (VP9), as the composition's renderConfig.format says",
                self.output
            ));
        }
        if self.mode == ModeOpt::DistributedSimulated {
            for (set, flag) in [
                (self.frames.is_some(), "--frames"),
                (self.png_dir.is_some(), "--png-dir"),
                (self.debug_real_time, "--debug-real-time"),
            ] {
                if set {
                    return Err(format!(
                        "{flag} works with --mode in-process only (it renders outside the chunk plan)"
                    ));
                }
            }
        } else if self.workers.is_some() {
            return Err("--workers needs --mode distributed-simulated".into());
        }
        Ok(())
    }
}

/// Options of `framelock regress`.
#[derive(Debug, Clone, Args)]
pub struct RegressOpts {
    /// What to compare.
    #[arg(long, value_enum, default_value_t = RegressModeOpt::InProcess)]
    pub mode: RegressModeOpt,
    /// The cluster scheduler of --mode distributed: each fixture's chunks run as an array job
    /// (the store must be on a file system every node sees; see `framelock submit slurm`).
    #[arg(long, value_enum, value_name = "SCHEDULER")]
    pub executor: Option<ExecutorOpt>,
    /// The Slurm partition (default: the cluster's default one).
    #[arg(long, value_name = "NAME", requires = "executor")]
    pub partition: Option<String>,
    /// The baselines folder.
    #[arg(long, value_name = "DIR", default_value = "baselines")]
    pub baselines: Utf8PathBuf,
    /// Where each fixture's videos, report.json, report.html and failure PNGs go.
    #[arg(long, value_name = "DIR", default_value = "framelock-report")]
    pub report_dir: Utf8PathBuf,
    /// Also write a JUnit XML file (one test case per fixture, findings as failure messages).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<Utf8PathBuf>,
    /// Also stream every event (fixture started and finished with its findings, frames,
    /// chunks, the final counts) to stdout as JSON lines; the summary table then goes to
    /// stderr.
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub events: Option<EventsOpt>,
    /// Render each fixture in process twice without the cache and, when both agree, bless
    /// the result for this toolchain in baselines/ (entry and baseline.mp4). In-process only.
    #[arg(long)]
    pub update: bool,
    /// Fail a fixture whose page requests anything outside the composition (the default).
    #[arg(long, overrides_with = "no_strict")]
    pub strict: bool,
    /// Do not fail a fixture for requests outside the composition (they are still listed as
    /// hermeticity findings).
    #[arg(long, overrides_with = "strict")]
    pub no_strict: bool,
    /// Self-test aid, distributed only: put a fault into one chunk of every fixture, which the
    /// harness must then find and name. `clock-shift:CHUNK:K` shifts the worker's page clock
    /// by K frames (K may be negative; named frame-time with its K); `no-reseed:CHUNK` stops
    /// the worker reseeding page randomness per frame (named chunk-boundary on a page that
    /// draws random numbers); `video-offset:CHUNK:K` has the worker's videos show source frames
    /// K away from the media time's (named video-seek-offset with its K); `encoder-qp:CHUNK:Q`
    /// has the worker encode with quantiser Q (named encoder); `wall-clock:CHUNK` lets the real clock into the in-process render's
    /// frames of that chunk (named nondeterministic on a page that reads the clock); `audio-delay:MS` makes the
    /// distributed render's sound MS milliseconds late (named audio-lag with its size). Faulty
    /// renders are never cached.
    #[arg(long, value_name = "FAULT", value_parser = parse_injection)]
    pub inject: Option<Injection>,
    /// Render and compare every fixture afresh: reuse neither cached chunks nor the stored
    /// result of a fixture that passed with nothing it rests on changed (its files, its
    /// baseline, the toolchain, the framelock build, these options), and store neither.
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    /// Fixtures, renders, store and tools.
    pub run: FixtureRunOpts,
}

impl RegressOpts {
    /// Combinations clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.inject.is_some() && self.mode != RegressModeOpt::DistributedSimulated {
            return Err("--inject needs --mode distributed-simulated".into());
        }
        if self.update && self.mode != RegressModeOpt::InProcess {
            return Err("--update blesses in-process renders only; drop --mode".into());
        }
        match (self.mode, self.executor) {
            (RegressModeOpt::Distributed, None) => {
                return Err("--mode distributed needs --executor slurm (or use --mode distributed-simulated for local workers)".into());
            }
            (RegressModeOpt::InProcess | RegressModeOpt::DistributedSimulated, Some(_)) => {
                return Err("--executor needs --mode distributed".into());
            }
            _ => {}
        }
        Ok(())
    }
}

/// Options of `framelock plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanOpts {
    /// The composition folder.
    #[arg(value_name = "COMPOSITION")]
    pub composition: Utf8PathBuf,
    /// The bundle folder to create (must not exist).
    #[arg(short, long, value_name = "BUNDLE")]
    pub output: Utf8PathBuf,
    /// Frames per chunk.
    #[arg(long, value_name = "N", value_parser = positive_count, conflicts_with = "chunks")]
    pub chunk_size: Option<u64>,
    /// Number of chunks of (nearly) equal size.
    #[arg(long, value_name = "K", value_parser = positive_count)]
    pub chunks: Option<u64>,
    #[command(flatten)]
    /// Overrides.
    pub settings: CompositionOpts,
    #[command(flatten)]
    /// Tools (the toolchain fingerprint goes into plan.json).
    pub tools: ToolOpts,
}

/// Options of `framelock render-chunk`.
#[derive(Debug, Clone, Args)]
pub struct RenderChunkOpts {
    /// The bundle folder.
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
    /// Which chunk of the plan (0-based). Default, for array jobs: $SLURM_ARRAY_TASK_ID, else
    /// $JOB_COMPLETION_INDEX (Kubernetes Indexed Job), else $AWS_BATCH_JOB_ARRAY_INDEX.
    #[arg(long, value_name = "I")]
    pub chunk: Option<usize>,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
    /// How frames are captured.
    #[arg(long, value_enum, default_value_t = CaptureOpt::Beginframe, value_name = "MODE")]
    pub capture: CaptureOpt,
    /// How <video> elements are shown.
    #[arg(long, value_enum, default_value_t = VideoOpt::Inject, value_name = "MODE")]
    pub video: VideoOpt,
    /// Seconds one seek or one capture may take before the chunk fails naming the frame.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = positive_seconds)]
    pub frame_timeout: f64,
    /// Render even though this machine's toolchain is not the planning machine's; the chunk
    /// record carries this machine's fingerprint.
    #[arg(long)]
    pub allow_toolchain_mismatch: bool,
    /// Render even when the store holds a record for this chunk, and do not index the new one.
    #[arg(long)]
    pub no_cache: bool,
    /// Self-test aid: seek the page K frames away from each captured frame, so `regress` can
    /// prove it names frame-time drift. Never cached.
    #[arg(
        long,
        value_name = "K",
        allow_hyphen_values = true,
        conflicts_with_all = ["inject_no_reseed", "inject_video_offset"]
    )]
    pub inject_clock_shift: Option<i64>,
    /// Self-test aid: show every video's source frame K frames away from the media time's,
    /// so `regress` can prove it names video-seek-offset drift. Never cached.
    #[arg(
        long,
        value_name = "K",
        allow_hyphen_values = true,
        conflicts_with = "inject_no_reseed"
    )]
    pub inject_video_offset: Option<i64>,
    /// Self-test aid: do not reseed page randomness per frame, so it carries over from the
    /// frames before and `regress` can prove it names chunk-boundary drift. Never cached.
    #[arg(long)]
    pub inject_no_reseed: bool,
    /// Self-test aid: encode this chunk with quantiser Q instead of the bundle's, so `regress`
    /// can prove it names encoder drift. Never cached.
    #[arg(long, value_name = "Q", value_parser = clap::value_parser!(u8).range(0..=51))]
    pub inject_encoder_qp: Option<u8>,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// `--execution` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutionOpt {
    /// Records written by `render-chunk` workers.
    Worker,
    /// Records written by an in-process render.
    InProcess,
}

impl From<ExecutionOpt> for Execution {
    fn from(value: ExecutionOpt) -> Self {
        match value {
            ExecutionOpt::Worker => Execution::Worker,
            ExecutionOpt::InProcess => Execution::InProcess,
        }
    }
}

/// Options of `framelock assemble`.
#[derive(Debug, Clone, Args)]
pub struct AssembleOpts {
    /// The bundle folder.
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
    /// The video to write.
    #[arg(short, long, value_name = "OUT.mp4|OUT.webm")]
    pub output: Utf8PathBuf,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
    /// Whose records to join.
    #[arg(long, value_enum, default_value_t = ExecutionOpt::Worker)]
    pub execution: ExecutionOpt,
    /// The capture mode the chunks were rendered with.
    #[arg(long, value_enum, default_value_t = CaptureOpt::Beginframe, value_name = "MODE")]
    pub capture: CaptureOpt,
    /// How <video> elements are shown.
    #[arg(long, value_enum, default_value_t = VideoOpt::Inject, value_name = "MODE")]
    pub video: VideoOpt,
    /// Fail (exit 1) when the page requested anything outside the composition.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// Options of `framelock pack`.
#[derive(Debug, Clone, Args)]
pub struct PackOpts {
    /// The bundle folder.
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
    /// The archive to write.
    #[arg(short, long, value_name = "BUNDLE.tar.zst")]
    pub output: Utf8PathBuf,
}

/// Options of `framelock unpack`.
#[derive(Debug, Clone, Args)]
pub struct UnpackOpts {
    /// The archive.
    #[arg(value_name = "BUNDLE.tar.zst")]
    pub archive: Utf8PathBuf,
    /// The folder to create (must not exist).
    #[arg(short, long, value_name = "DIR")]
    pub output: Utf8PathBuf,
    /// Refuse archives that unpack to more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::bundle::DEFAULT_UNPACK_LIMIT)]
    pub max_size: u64,
}

/// Options of `framelock verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyOpts {
    /// A bundle folder, or a packed bundle (.tar.zst).
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
}

/// `framelock diff-runs`.
#[derive(Debug, Clone, Args)]
pub struct DiffRunsOpts {
    /// The reference render (a video framelock wrote).
    #[arg(value_name = "A")]
    pub a: Utf8PathBuf,
    /// The render compared with it.
    #[arg(value_name = "B")]
    pub b: Utf8PathBuf,
    /// Where the pictures of the worst frame go.
    #[arg(long, value_name = "DIR", default_value = "framelock-diff")]
    pub out: Utf8PathBuf,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// Which fixtures, and how they are rendered: shared by `regress`, `bisect` and `bisect-step`.
#[derive(Debug, Clone, Args)]
pub struct FixtureRunOpts {
    /// Only this fixture (repeatable). Default: every fixture.
    #[arg(long = "fixture", value_name = "NAME")]
    pub fixtures_only: Vec<String>,
    /// The fixtures folder (for `bisect` and `bisect-step`: in each checkout).
    #[arg(long, value_name = "DIR", default_value = "fixtures")]
    pub fixtures: Utf8PathBuf,
    /// Worker processes at once, for the distributed renders. Default: the number of CPUs.
    #[arg(long, value_name = "W", value_parser = positive_count)]
    pub workers: Option<u64>,
    /// How <video> elements are shown.
    #[arg(long, value_enum, default_value_t = VideoOpt::Inject, value_name = "MODE")]
    pub video: VideoOpt,
    /// Seconds one seek or one capture may take before a render fails naming the frame.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = positive_seconds)]
    pub frame_timeout: f64,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// `framelock bisect`.
#[derive(Debug, Clone, Args)]
pub struct BisectOpts {
    /// A revision whose fixtures are good.
    #[arg(long, value_name = "REV")]
    pub good: String,
    /// A revision whose fixtures are bad, descended from --good.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub bad: String,
    /// A folder in the git repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: Utf8PathBuf,
    /// Bad means in-process frames other than the good revision's (to hunt a visual change),
    /// instead of a determinism failure.
    #[arg(long)]
    pub against_good: bool,
    /// Keep each judged commit's renders here, a folder per commit (default: a temporary
    /// folder, removed at the end, so the checkout stays clean).
    #[arg(long, value_name = "DIR")]
    pub out: Option<Utf8PathBuf>,
    #[command(flatten)]
    /// Fixtures, renders, store and tools.
    pub run: FixtureRunOpts,
}

/// `framelock bisect-step`.
#[derive(Debug, Clone, Args)]
pub struct BisectStepOpts {
    /// The checkout to judge.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: Utf8PathBuf,
    /// Keep the renders here instead of in a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<Utf8PathBuf>,
    #[command(flatten)]
    /// Fixtures, renders, store and tools.
    pub run: FixtureRunOpts,
}

/// `framelock diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffOpts {
    /// The first bundle: a folder, a packed bundle (.tar.zst), or the hash (8 or more leading
    /// characters) of a bundle kept in the store by `bisect`.
    #[arg(value_name = "A")]
    pub a: Utf8PathBuf,
    /// The second bundle.
    #[arg(value_name = "B")]
    pub b: Utf8PathBuf,
    /// Also compare how each bundle's renders were made: the planning toolchain in plan.json
    /// and the toolchain, render-settings and build fingerprints of its chunk records in the
    /// store.
    #[arg(long)]
    pub runs: bool,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
}

/// `framelock cache` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum CacheCommand {
    /// List cached chunk records: bundle, chunk, frames, execution kind, age.
    Ls(StoreOpts),
    /// Hash every blob and follow every cache key; exit 1 naming each corrupted entry.
    Verify(StoreOpts),
    /// Remove cache entries older than --keep-days and the blobs only they needed.
    Gc(GcOpts),
}

/// Options of `framelock cache gc`.
#[derive(Debug, Clone, Args)]
pub struct GcOpts {
    /// Keep entries younger than this many days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub keep_days: u64,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
}

/// Seconds as a duration.
pub fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value)
}

/// `framelock submit` schedulers.
#[derive(Debug, Clone, Subcommand)]
pub enum SubmitCommand {
    /// Write a Kubernetes Indexed Job that renders every chunk of a bundle, one completion index
    /// per chunk, for you to apply (`kubectl apply -f job.json`).
    ///
    /// Each pod runs `framelock render-chunk /bundles/<bundle hash> --store /store`; Kubernetes
    /// sets JOB_COMPLETION_INDEX in each pod and render-chunk renders that chunk. Copy the bundle
    /// folder to <bundle hash>/ on the volume of --bundle-claim first; the store's claim must be
    /// shared and writable by every pod. When the job completes, run `framelock assemble` against
    /// the same store. framelock writes this manifest and checks its structure; it does not run
    /// it.
    K8s(K8sOpts),
    /// Render a bundle's chunks as a Slurm array job, a task per chunk, and assemble the video.
    ///
    /// Writes an sbatch script (in STORE/logs/<bundle hash>/slurm/, with a log per task there)
    /// whose tasks run `framelock render-chunk BUNDLE --store STORE`, reading their chunk from
    /// SLURM_ARRAY_TASK_ID, at most --max-parallel at once, and submits it with sbatch. With
    /// --wait it follows the job with squeue, submits the chunks that left no record again (up
    /// to --attempts submissions in all), shows the log of a chunk that keeps failing, and
    /// assembles -o from the store. BUNDLE and STORE must be on a file system every node sees.
    /// Chunks the store already holds are not submitted. Exits 3 when Slurm's commands are
    /// missing or a chunk keeps failing, 2 when Slurm refuses the job (its message is shown).
    ///
    /// Examples:
    ///   framelock submit slurm /shared/bundle --store /shared/store --dry-run
    ///   framelock submit slurm /shared/bundle --store /shared/store --wait -o out.mp4
    #[command(verbatim_doc_comment)]
    Slurm(SlurmOpts),
}

/// Options of `framelock submit slurm`.
#[derive(Debug, Clone, Args)]
pub struct SlurmOpts {
    /// The bundle folder (on a shared file system).
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
    /// The shared store the tasks write their chunks to.
    #[arg(long, value_name = "DIR")]
    pub store: Utf8PathBuf,
    /// The partition (default: the cluster's default one).
    #[arg(long, value_name = "NAME")]
    pub partition: Option<String>,
    /// Tasks at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = positive_count)]
    pub max_parallel: u64,
    /// Submissions of a chunk before it counts as failed (with --wait).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = positive_count)]
    pub attempts: u64,
    /// The framelock the tasks run, as the nodes see it (default: this one).
    #[arg(long, value_name = "PATH")]
    pub framelock: Option<Utf8PathBuf>,
    /// Wait for the job, submit failed chunks again, and assemble -o.
    #[arg(long, requires = "output")]
    pub wait: bool,
    /// The video to assemble (with --wait).
    #[arg(short, long, value_name = "OUT.mp4|OUT.webm", requires = "wait")]
    pub output: Option<Utf8PathBuf>,
    /// Print the sbatch script and submit nothing.
    #[arg(long, conflicts_with = "wait")]
    pub dry_run: bool,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// Options of `framelock submit k8s`.
#[derive(Debug, Clone, Args)]
pub struct K8sOpts {
    /// The bundle folder.
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
    /// The container image: framelock with its pinned toolchain.
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    /// Pods at once (at most the number of chunks).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = positive_count)]
    pub parallelism: u64,
    /// Retries of one chunk's pod before that chunk counts as failed.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub backoff_per_index: u64,
    /// The persistent volume claim holding bundle folders, each under its bundle hash.
    #[arg(long, value_name = "CLAIM", default_value = "framelock-bundles")]
    pub bundle_claim: String,
    /// The persistent volume claim holding the shared store.
    #[arg(long, value_name = "CLAIM", default_value = "framelock-store")]
    pub store_claim: String,
    /// The namespace (default: kubectl's current one).
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Write the manifest here instead of to stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<Utf8PathBuf>,
}

/// Options of `framelock bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchOpts {
    /// Where bench.json and BENCHMARKS.md go.
    #[arg(long, value_name = "DIR", default_value = "framelock-bench")]
    pub out: Utf8PathBuf,
    /// Frames per capture figure.
    #[arg(long, value_name = "N", default_value_t = 300, value_parser = positive_count)]
    pub frames: u64,
    /// A small, fast run (30 frames, fewer files, one fixture) that shows the bench works;
    /// its figures are too small to trust.
    #[arg(long)]
    pub quick: bool,
    /// The fixtures folder.
    #[arg(long, value_name = "DIR", default_value = "fixtures")]
    pub fixtures: Utf8PathBuf,
    /// Only this section (repeatable). Default: every section.
    #[arg(long, value_enum, value_name = "SECTION")]
    pub only: Vec<crate::bench::Section>,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// Options of `framelock doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorOpts {
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Capture mode whose render-settings fingerprint is shown.
    #[arg(long, value_enum, default_value_t = CaptureOpt::Beginframe)]
    pub capture: CaptureOpt,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

fn parse_injection(s: &str) -> Result<Injection, String> {
    let err = || {
        format!(
            "expected clock-shift:CHUNK:K or video-offset:CHUNK:K (K a non-zero whole number), no-reseed:CHUNK, encoder-qp:CHUNK:Q (Q in 1..=51), wall-clock:CHUNK or audio-delay:MS, found {s:?}"
        )
    };
    let mut parts = s.splitn(3, ':');
    let (kind, chunk, value) = (parts.next(), parts.next(), parts.next());
    // The sound's delay concerns the whole video, not a chunk.
    if let (Some("audio-delay"), Some(ms), None) = (kind, chunk, value) {
        return match ms.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Injection {
                chunk: 0,
                fault: Fault::AudioDelay(ms),
            }),
            _ => Err(err()),
        };
    }
    let chunk: usize = chunk.and_then(|c| c.parse().ok()).ok_or_else(err)?;
    let fault = match (kind, value) {
        (Some("clock-shift"), Some(k)) => match k.parse::<i64>() {
            Ok(k) if k != 0 => Fault::ClockShift(k),
            _ => return Err(err()),
        },
        (Some("encoder-qp"), Some(q)) => match q.parse::<u8>() {
            Ok(q) if (1..=51).contains(&q) => Fault::EncoderQp(q),
            _ => return Err(err()),
        },
        (Some("no-reseed"), None) => Fault::NoReseed,
        (Some("video-offset"), Some(k)) => match k.parse::<i64>() {
            Ok(k) if k != 0 => Fault::VideoOffset(k),
            _ => return Err(err()),
        },
        (Some("wall-clock"), None) => Fault::WallClock,
        _ => return Err(err()),
    };
    Ok(Injection { chunk, fault })
}

fn positive_count(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive whole number, found {s:?}")),
    }
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "expected a positive number of seconds, found {s:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The help text is part of the interface: a change to it shows up in review.
    #[test]
    fn help_text() {
        use clap::CommandFactory;
        let mut cli = Cli::command().term_width(100);
        insta::assert_snapshot!("help", cli.render_long_help().to_string());
        for name in [
            "regress",
            "render",
            "plan",
            "render-chunk",
            "assemble",
            "pack",
            "unpack",
            "verify",
            "diff",
            "diff-runs",
            "bisect",
            "bisect-step",
            "bench",
            "submit",
            "doctor",
        ] {
            let sub = cli.find_subcommand_mut(name).expect("subcommand exists");
            insta::assert_snapshot!(format!("help_{name}"), sub.render_long_help().to_string());
        }
    }

    #[test]
    fn regress_combinations_clap_cannot_express_are_refused() {
        for (line, said) in [
            (
                "framelock regress --mode distributed",
                "needs --executor slurm",
            ),
            (
                "framelock regress --executor slurm",
                "--executor needs --mode distributed",
            ),
            (
                "framelock regress --update --mode distributed-simulated",
                "in-process renders only",
            ),
            ("framelock regress --inject no-reseed:1", "--inject needs"),
        ] {
            let args: Vec<&str> = line.split(' ').collect();
            let Command::Regress(opts) = Cli::try_parse_from(&args).unwrap().command else {
                panic!("{line} is a regress");
            };
            let err = opts.validate().unwrap_err();
            assert!(err.contains(said), "{line}: {err}");
        }
        let args = [
            "framelock",
            "regress",
            "--mode",
            "distributed",
            "--executor",
            "slurm",
        ];
        let Command::Regress(opts) = Cli::try_parse_from(args).unwrap().command else {
            panic!("a regress");
        };
        assert_eq!(opts.validate(), Ok(()));
    }

    #[test]
    fn command_lines() {
        let ok = [
            "framelock render c -o o.mp4",
            "framelock render c -o o.mp4 --fps 30000/1001 --width 320 --height 180",
            "framelock render c -o o.mp4 --frames 3..9 --png-dir p --chunk-size 7",
            "framelock render c -o o.mp4 --capture screenshot --chrome-sandbox off --strict",
            "framelock render c -o o.mp4 --duration 1.5 --frame-timeout 2",
            "framelock doctor --json --chrome /x/chrome",
            "framelock regress --mode distributed-simulated --workers 2 --fixture a --fixture b",
            "framelock regress --update --report-dir r --baselines b --no-strict",
            "framelock regress --no-strict --strict --events jsonl",
            "framelock regress --mode distributed-simulated --inject clock-shift:1:-2",
            "framelock regress --mode distributed-simulated --inject encoder-qp:0:20",
            "framelock regress --mode distributed-simulated --inject no-reseed:1",
            "framelock regress --mode distributed-simulated --inject wall-clock:0",
            "framelock regress --mode distributed-simulated --inject video-offset:2:-1",
            "framelock regress --mode distributed-simulated --inject audio-delay:120",
            "framelock regress --mode distributed --executor slurm --partition p",
            "framelock render-chunk b --chunk 1 --inject-video-offset -2",
            "framelock render-chunk b --chunk 1 --inject-no-reseed",
            "framelock bisect --good v1 --fixture a --fixture b --repo r --against-good",
            "framelock bisect --good v1 --bad main --workers 2 --out o --store s",
            "framelock bisect-step --fixture a --fixtures f --out o",
            "framelock submit k8s b --image i --parallelism 2 --namespace n -o j.json",
            "framelock submit slurm b --store s --max-parallel 2 --wait -o o.mp4",
            "framelock submit slurm b --store s --partition p --dry-run",
            "framelock render-chunk b",
        ];
        for line in ok {
            let args: Vec<&str> = line.split(' ').collect();
            assert!(Cli::try_parse_from(&args).is_ok(), "{line}");
        }
        let bad = [
            "framelock render c",
            "framelock render c -o o.mp4 --fps 0",
            "framelock render c -o o.mp4 --fps fast",
            "framelock render c -o o.mp4 --width 0",
            "framelock render c -o o.mp4 --duration -1",
            "framelock render c -o o.mp4 --duration 1 --frame-count 3",
            "framelock render c -o o.mp4 --frames 9..3",
            "framelock render c -o o.mp4 --capture fast",
            "framelock render c -o o.mp4 --chrome-sandbox maybe",
            "framelock frobnicate",
            "framelock regress --mode distributed-workers",
            "framelock regress --workers 0",
            "framelock regress --events yaml",
            "framelock regress --mode distributed-simulated --inject clock-shift:1:0",
            "framelock regress --mode distributed-simulated --inject encoder-qp:1:99",
            "framelock regress --mode distributed-simulated --inject wobble:1:2",
            "framelock regress --mode distributed-simulated --inject no-reseed:1:2",
            "framelock regress --mode distributed-simulated --inject wall-clock",
            "framelock render-chunk b --chunk 1 --inject-no-reseed --inject-clock-shift 2",
            "framelock bisect --bad HEAD",
            "framelock bisect --good v1 --workers 0",
            "framelock submit k8s b",
            "framelock submit slurm b --store s --wait",
            "framelock submit slurm b",
            "framelock submit slurm b --store s --dry-run --wait -o o.mp4",
            "framelock submit k8s b --image i --parallelism 0",
        ];
        for line in bad {
            let args: Vec<&str> = line.split(' ').collect();
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line}");
        }
    }
}
