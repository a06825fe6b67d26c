//! `render`, `plan`, `render-chunk` and `assemble`: a composition to video in one process or
//! by workers, and the steps of the distributed path one at a time.

use camino::Utf8PathBuf;
use clap::{ArgMatches, Args, ValueEnum};

use super::common::{
    CaptureOpt, CompositionOpts, StoreOpts, ToolOpts, VideoOpt, WorkerOpts, current_exe,
    default_workers, positive_count, positive_seconds, run_settings, seconds,
};
use super::error::Error;
use crate::bundle::{Bundle, Chunking};
use crate::composition::Composition;
use crate::distributed::{
    AssembleRequest, ChunkOrder, ChunkRequest, DistributedRequest, Fault, Injection, SpecTools,
    WorkerSettings, WorkerSpec, assemble, chunk_from_environment, render_chunk, render_distributed,
};
use crate::exit_code;
use crate::render::{
    DEFAULT_FRAME_TIMEOUT, Planning, RenderRequest, RunSettings, plan_bundle, render,
};
use crate::report::TerminalReporter;
use crate::store::Execution;
use crate::timing::{ChunkIndex, FrameRange};

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
    /// The order workers take chunks in (distributed-simulated): the video is the same in
    /// any order; `shuffled` draws a fixed permutation from renderConfig.seed.
    #[arg(long, value_enum, default_value_t = ChunkOrderOpt::Forward, value_name = "ORDER")]
    pub chunk_order: ChunkOrderOpt,
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
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_FRAME_TIMEOUT.as_secs_f64(), value_parser = positive_seconds)]
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

/// `render --chunk-order` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChunkOrderOpt {
    /// First chunk first.
    Forward,
    /// Last chunk first.
    Reverse,
    /// A fixed permutation drawn from the composition's seed.
    Shuffled,
}

impl ChunkOrderOpt {
    /// The order, for a composition with `seed`.
    pub fn order(self, seed: u64) -> ChunkOrder {
        match self {
            ChunkOrderOpt::Forward => ChunkOrder::Forward,
            ChunkOrderOpt::Reverse => ChunkOrder::Reverse,
            ChunkOrderOpt::Shuffled => ChunkOrder::Shuffled(seed),
        }
    }
}

/// `render --mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeOpt {
    /// One browser walks every chunk in order.
    InProcess,
    /// Local `render-chunk` worker processes, each with its own browser, that see only a copy
    /// of the bundle.
    DistributedSimulated,
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
    /// Seconds the page may take to load when its duration must be read from it.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_FRAME_TIMEOUT.as_secs_f64(), value_parser = positive_seconds)]
    pub frame_timeout: f64,
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
    pub chunk: Option<ChunkIndex>,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
    /// The job's worker spec (written by the pool, `submit slurm` or `submit k8s`): how to
    /// render, instead of the options below. A spec changed after it was written, or written
    /// for another bundle, is refused.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = [
            "capture", "video", "frame_timeout", "allow_toolchain_mismatch", "no_cache",
            "inject_clock_shift", "inject_video_offset", "inject_no_reseed", "inject_cold_walk",
            "inject_encoder_qp",
            "chrome_sandbox",
        ]
    )]
    pub spec: Option<Utf8PathBuf>,
    #[command(flatten)]
    /// How to render.
    pub worker: WorkerOpts,
    /// Render even though this machine's toolchain is not the planning machine's; the chunk
    /// record carries this machine's fingerprint (and `assemble` finds it only on a machine
    /// with this toolchain).
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
        conflicts_with_all = ["inject_no_reseed", "inject_video_offset", "inject_cold_walk"]
    )]
    pub inject_clock_shift: Option<i64>,
    /// Self-test aid: show every video's source frame K frames away from the media time's,
    /// so `regress` can prove it names video-seek-offset drift. Never cached.
    #[arg(
        long,
        value_name = "K",
        allow_hyphen_values = true,
        conflicts_with_all = ["inject_no_reseed", "inject_cold_walk"]
    )]
    pub inject_video_offset: Option<i64>,
    /// Self-test aid: do not reseed page randomness per frame, so it carries over from the
    /// frames before and `regress` can prove it names chunk-boundary drift. Never cached.
    #[arg(long, conflicts_with = "inject_cold_walk")]
    pub inject_no_reseed: bool,
    /// Self-test aid: walk the page to the chunk's first frame without drawing the frames
    /// before it, so `regress` can prove it names the compositor state a fresh browser lacks
    /// (chunk-boundary). Never cached.
    #[arg(long)]
    pub inject_cold_walk: bool,
    /// Self-test aid: encode this chunk with quantiser Q instead of the bundle's, so `regress`
    /// can prove it names encoder drift. Never cached.
    #[arg(
        long,
        value_name = "Q",
        value_parser = clap::value_parser!(u8).range(0..=51),
        conflicts_with_all = [
            "inject_clock_shift", "inject_video_offset", "inject_no_reseed", "inject_cold_walk",
        ]
    )]
    pub inject_encoder_qp: Option<u8>,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

impl RenderChunkOpts {
    /// The self-test fault the options put into `chunk`.
    fn injection(&self, chunk: ChunkIndex) -> Option<Injection> {
        let fault = match (
            self.inject_clock_shift,
            self.inject_video_offset,
            self.inject_no_reseed,
            self.inject_cold_walk,
            self.inject_encoder_qp,
        ) {
            (Some(k), ..) => Fault::ClockShift(k),
            (None, Some(k), ..) => Fault::VideoOffset(k),
            (None, None, true, ..) => Fault::NoReseed,
            (None, None, false, true, _) => Fault::ColdWalk,
            (None, None, false, false, Some(q)) => Fault::EncoderQp(q),
            (None, None, false, false, None) => return None,
        };
        Some(Injection { chunk, fault })
    }
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
    /// The worker spec the chunks were rendered with: the capture and video modes the records
    /// are looked up under, instead of --capture and --video.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["capture", "video"])]
    pub spec: Option<Utf8PathBuf>,
    /// The capture mode the chunks were rendered with.
    #[arg(long, value_enum, default_value_t = CaptureOpt::Beginframe, value_name = "MODE")]
    pub capture: CaptureOpt,
    /// How <video> elements were shown.
    #[arg(long, value_enum, default_value_t = VideoOpt::Inject, value_name = "MODE")]
    pub video: VideoOpt,
    /// Fail (exit 1) when the page requested anything outside the composition.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// `framelock render`.
pub async fn render_command(opts: RenderOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let composition = Composition::load(&opts.composition, &opts.settings.overrides())?;
    let toolchain = opts.tools.locate(matches)?;
    let store = opts.store.open()?;
    let run = RunSettings {
        capture: opts.capture.into(),
        virtual_time: !opts.debug_real_time,
        ..run_settings(
            toolchain,
            opts.tools.chrome_sandbox,
            opts.video,
            opts.frame_timeout,
        )
    };
    let reporter = TerminalReporter::default();
    match opts.mode {
        ModeOpt::InProcess => {
            let request = RenderRequest {
                composition,
                output: opts.output.clone(),
                frames: opts.frames,
                chunk_size: opts.chunk_size,
                png_dir: opts.png_dir.clone(),
                run,
                strict: opts.strict,
                store: (!opts.no_cache).then_some(store),
                leak_wall_clock: None,
            };
            render(&request, &reporter).await?;
        }
        ModeOpt::DistributedSimulated => {
            let order = opts.chunk_order.order(composition.seed);
            let request = DistributedRequest {
                composition,
                output: opts.output.clone(),
                chunk_size: opts.chunk_size,
                workers: default_workers(opts.workers),
                run,
                strict: opts.strict,
                store,
                use_cache: !opts.no_cache,
                worker_exe: current_exe(),
                max_attempts: 3,
                inject: None,
                order,
            };
            render_distributed(&request, &reporter).await?;
        }
    }
    Ok(exit_code::SUCCESS)
}

/// `framelock plan`.
pub async fn plan_command(opts: PlanOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let composition = Composition::load(&opts.composition, &opts.settings.overrides())?;
    let settings = RunSettings {
        frame_timeout: seconds(opts.frame_timeout),
        ..RunSettings::new(
            opts.tools.locate(matches)?,
            opts.tools.chrome_sandbox.into(),
        )
    };
    let chunking = match (opts.chunk_size, opts.chunks) {
        (Some(n), _) => Some(Chunking::Size(n)),
        (None, Some(k)) => Some(Chunking::Count(k)),
        (None, None) => None,
    };
    let planned = plan_bundle(
        Planning {
            composition: &composition,
            settings: &settings,
            chunking,
            store: None,
        },
        &opts.output,
        &TerminalReporter::default(),
    )
    .await?;
    // The planned event said the hash and the chunks; this says what and where.
    let bundle = &planned.bundle;
    eprintln!(
        "framelock: wrote the bundle of {} ({} frames) into {}",
        bundle.plan.name, bundle.meta.frames, bundle.dir
    );
    println!("{}", bundle.hash());
    Ok(exit_code::SUCCESS)
}

/// `framelock render-chunk`.
pub async fn render_chunk_command(
    opts: RenderChunkOpts,
    matches: &ArgMatches,
) -> Result<i32, Error> {
    let chunk = match opts.chunk {
        Some(chunk) => chunk,
        None => chunk_from_environment(|name| std::env::var(name).ok())?,
    };
    let spec = match &opts.spec {
        Some(path) => WorkerSpec::read(path)?,
        None => WorkerSpec::new(
            &Bundle::open(&opts.bundle)?,
            WorkerSettings {
                capture: opts.worker.capture.into(),
                video_mode: opts.worker.video.into(),
                frame_timeout: seconds(opts.worker.frame_timeout),
                sandbox: opts.tools.chrome_sandbox.into(),
                tools: SpecTools::default(),
                allow_toolchain_mismatch: opts.allow_toolchain_mismatch,
                use_cache: !opts.no_cache,
                inject: opts.injection(chunk),
            },
        ),
    };
    let request = ChunkRequest {
        bundle: opts.bundle.clone(),
        chunk,
        store: opts.store.open()?,
        spec,
        tools: opts.tools.choice(matches),
    };
    let outcome = render_chunk(&request, &TerminalReporter::default()).await?;
    let line = serde_json::to_string(&outcome).expect("an outcome serialises");
    println!("{line}");
    Ok(exit_code::SUCCESS)
}

/// `framelock assemble`.
pub async fn assemble_command(opts: AssembleOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let (capture, video_mode) = match &opts.spec {
        Some(path) => {
            // The same checks a worker makes: a spec of another bundle or another framelock
            // would only show as chunks that have no record.
            let spec = WorkerSpec::read(path)?;
            spec.check(&Bundle::open(&opts.bundle)?, &opts.bundle)?;
            (spec.capture, spec.video_mode)
        }
        None => (opts.capture.into(), opts.video.into()),
    };
    let request = AssembleRequest {
        bundle: opts.bundle.clone(),
        store: opts.store.open()?,
        output: opts.output.clone(),
        execution: opts.execution.into(),
        capture,
        video_mode,
        toolchain: opts.tools.locate(matches)?,
        strict: opts.strict,
    };
    let record = assemble(&request, &TerminalReporter::default()).await?;
    if let Some(run) = &record.run_record {
        println!("{run}");
    }
    Ok(exit_code::SUCCESS)
}
