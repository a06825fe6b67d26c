//! `regress`: every fixture rendered, compared with workers and baselines, drift named.

use camino::Utf8PathBuf;
use clap::{ArgMatches, Args, ValueEnum};

use super::common::{
    StoreOpts, ToolOpts, VideoOpt, current_exe, default_workers, parse_injection, positive_count,
    positive_seconds, run_settings,
};
use super::error::Error;
use crate::distributed::Injection;
use crate::outcome::RegressMode;
use crate::regress::{Executor, RegressRequest, junit_xml, regress, summary_table};
use crate::render::DEFAULT_FRAME_TIMEOUT;
use crate::report::{JsonLinesReporter, Tee, TerminalReporter};

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
    /// draws random numbers); `cold-walk:CHUNK` has the worker walk to its first frame without
    /// drawing the frames before (named chunk-boundary on a page with text under
    /// `will-change: transform`); `video-offset:CHUNK:K` has the worker's videos show source frames
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
    /// Render every fixture in process N times without the cache; all N must agree hash for
    /// hash, or the fixture fails with a nondeterministic finding at the first frame that
    /// differed (pictures: the first render against the one that disagreed). A stored result
    /// is neither used nor kept.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        value_parser = positive_count,
        conflicts_with = "update"
    )]
    pub repeat: u64,
    /// Render HyperFrames fixtures as written, without HyperFrames' compile step
    /// (text-rendering rule, Inter in front of generic font lists, bundled faces embedded).
    #[arg(long)]
    pub as_written: bool,
    #[command(flatten)]
    /// Fixtures, renders, store and tools.
    pub run: FixtureRunOpts,
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

impl From<RegressModeOpt> for RegressMode {
    fn from(value: RegressModeOpt) -> Self {
        match value {
            RegressModeOpt::InProcess => RegressMode::InProcess,
            RegressModeOpt::DistributedSimulated => RegressMode::DistributedSimulated,
            RegressModeOpt::Distributed => RegressMode::Distributed,
        }
    }
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
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_FRAME_TIMEOUT.as_secs_f64(), value_parser = positive_seconds)]
    pub frame_timeout: f64,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

impl FixtureRunOpts {
    /// How every render of the run goes, its tools located.
    pub fn run_settings(&self, matches: &ArgMatches) -> Result<crate::render::RunSettings, Error> {
        Ok(run_settings(
            self.tools.locate(matches)?,
            self.tools.chrome_sandbox,
            self.video,
            self.frame_timeout,
        ))
    }
}

/// `framelock regress`.
pub async fn regress_command(opts: RegressOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let request = RegressRequest {
        fixtures: opts.run.fixtures.clone(),
        baselines: opts.baselines.clone(),
        report_dir: opts.report_dir.clone(),
        only: opts.run.fixtures_only.clone(),
        mode: opts.mode.into(),
        executor: opts.executor.map(|ExecutorOpt::Slurm| Executor::Slurm {
            partition: opts.partition.clone(),
        }),
        workers: default_workers(opts.run.workers),
        update: opts.update,
        strict: !opts.no_strict,
        run: opts.run.run_settings(matches)?,
        store: opts.run.store.open()?,
        worker_exe: current_exe(),
        inject: opts.inject,
        use_cache: !opts.no_cache,
        repeat: opts.repeat,
        as_written: opts.as_written,
    };
    let report = match opts.events {
        None => regress(&request, &TerminalReporter::default()).await?,
        Some(EventsOpt::Jsonl) => {
            let reporter = Tee(
                TerminalReporter::default(),
                JsonLinesReporter::new(std::io::stdout()),
            );
            regress(&request, &reporter).await?
        }
    };
    if let Some(path) = &opts.junit {
        crate::staging::write_file(path, "junit", junit_xml(&report).as_bytes())
            .map_err(Error::write(path))?;
    }
    let table = summary_table(&report, &opts.report_dir);
    // stdout belongs to the JSON lines when they are on.
    if opts.events.is_some() {
        eprint!("{table}");
    } else {
        print!("{table}");
    }
    Ok(report.exit_code())
}
