//! What several subcommands share: tools, the store, composition overrides, how workers render,
//! the value enums and parsers, each turned into engine values here, at the edge.

use std::time::Duration;

use camino::Utf8PathBuf;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};

use super::error::Error;
use crate::browser::{CaptureMode, SandboxPolicy};
use crate::composition::Overrides;
use crate::distributed::{Fault, Injection};
use crate::media::VideoMode;
use crate::render::{DEFAULT_FRAME_TIMEOUT, RunSettings};
use crate::store::{Store, StoreError, default_store_root};
use crate::timing::{ChunkIndex, Fps};
use crate::toolchain::{CHROME_ENV, FFMPEG_ENV, FoundBy, GivenTool, ToolChoice, Toolchain};

/// Which tools to use; both default to what `doctor` finds.
#[derive(Debug, Clone, Args)]
pub struct ToolOpts {
    /// The browser: chrome-headless-shell. Default: chrome-headless-shell or
    /// chromium-headless-shell on PATH (Debian's wrapper script is resolved to the real
    /// binary).
    #[arg(
        long,
        value_name = "PATH",
        env = "FRAMELOCK_CHROME",
        hide_env_values = true
    )]
    pub chrome: Option<Utf8PathBuf>,
    /// ffmpeg. Default: ffmpeg on PATH.
    #[arg(
        long,
        value_name = "PATH",
        env = "FRAMELOCK_FFMPEG",
        hide_env_values = true
    )]
    pub ffmpeg: Option<Utf8PathBuf>,
    /// Chrome's sandbox: `auto` turns it off when running as root or when user namespaces are
    /// unavailable (as inside a Nix build), and says so.
    #[arg(long, value_enum, default_value_t = SandboxOpt::Auto, value_name = "WHEN")]
    pub chrome_sandbox: SandboxOpt,
}

impl ToolOpts {
    /// The tools given, each named by what gave it: the flag, or its variable (clap reads
    /// the variable only when the flag is absent; an empty one gives nothing). `matches` are
    /// the subcommand's.
    pub fn choice(&self, matches: &ArgMatches) -> ToolChoice {
        let given = |id: &str, path: &Option<Utf8PathBuf>, flag, var| {
            path.as_ref()
                .filter(|p| !p.as_str().is_empty())
                .map(|path| GivenTool {
                    path: path.clone(),
                    given_by: match matches.value_source(id) {
                        Some(ValueSource::EnvVariable) => FoundBy::Env(var),
                        _ => FoundBy::Flag(flag),
                    },
                })
        };
        ToolChoice {
            chrome: given("chrome", &self.chrome, "--chrome", CHROME_ENV),
            ffmpeg: given("ffmpeg", &self.ffmpeg, "--ffmpeg", FFMPEG_ENV),
        }
    }

    /// The tools, located.
    pub fn locate(&self, matches: &ArgMatches) -> Result<Toolchain, Error> {
        Ok(Toolchain::locate(&self.choice(matches))?)
    }
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
    /// Frame rate, overriding meta.json and data-fps (default 30): an integer, a decimal such
    /// as 29.97, or a rational such as 30000/1001.
    #[arg(long, value_name = "RATE")]
    pub fps: Option<Fps>,
    /// Width in pixels (even), overriding meta.json and data-width.
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(1..=16384))]
    pub width: Option<u32>,
    /// Height in pixels (even), overriding meta.json and data-height.
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(1..=16384))]
    pub height: Option<u32>,
    /// Duration in seconds, overriding meta.json and the page; frames = round(duration × fps)
    /// (a HyperFrames page: rounded up unless within a thousandth of a whole frame).
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds, conflicts_with = "frame_count")]
    pub duration: Option<f64>,
    /// Exact number of frames, overriding every duration.
    #[arg(long, value_name = "N", value_parser = positive_count)]
    pub frame_count: Option<u64>,
    /// Render a HyperFrames composition's page as written, without HyperFrames' compile step
    /// (text-rendering rule, Inter in front of generic font lists, bundled faces embedded).
    #[arg(long)]
    pub as_written: bool,
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
            as_written: self.as_written,
        }
    }
}

/// How workers render a bundle's chunks: what a worker spec holds besides the tools.
#[derive(Debug, Clone, Args)]
pub struct WorkerOpts {
    /// How frames are captured.
    #[arg(long, value_enum, default_value_t = CaptureOpt::Beginframe, value_name = "MODE")]
    pub capture: CaptureOpt,
    /// How <video> elements are shown.
    #[arg(long, value_enum, default_value_t = VideoOpt::Inject, value_name = "MODE")]
    pub video: VideoOpt,
    /// Seconds one seek or one capture may take before the chunk fails naming the frame.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_FRAME_TIMEOUT.as_secs_f64(), value_parser = positive_seconds)]
    pub frame_timeout: f64,
}

/// Where chunk records are kept.
#[derive(Debug, Clone, Args)]
pub struct StoreOpts {
    /// The store: content-addressed blobs and the chunk-record cache. Default:
    /// $XDG_CACHE_HOME/framelock, else ~/.cache/framelock.
    #[arg(
        long,
        value_name = "DIR",
        env = "FRAMELOCK_STORE",
        hide_env_values = true
    )]
    pub store: Option<Utf8PathBuf>,
}

impl StoreOpts {
    /// The store, opened (created when missing).
    pub fn open(&self) -> Result<Store, StoreError> {
        // An empty `$FRAMELOCK_STORE` names no store.
        let root = self
            .store
            .clone()
            .filter(|p| !p.as_str().is_empty())
            .unwrap_or_else(default_store_root);
        Store::open(&root)
    }
}

/// The settings of a run from its common options: BeginFrame capture unless told otherwise.
pub fn run_settings(
    toolchain: Toolchain,
    sandbox: SandboxOpt,
    video: VideoOpt,
    frame_timeout: f64,
) -> RunSettings {
    RunSettings {
        video_mode: video.into(),
        frame_timeout: seconds(frame_timeout),
        ..RunSettings::new(toolchain, sandbox.into())
    }
}

/// Seconds as a duration.
pub fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value)
}

/// A temporary folder for what a command opens or keeps only while it runs.
pub fn scratch() -> Result<(tempfile::TempDir, Utf8PathBuf), Error> {
    crate::staging::scratch_dir().map_err(|source| Error::Write {
        path: std::env::temp_dir().to_string_lossy().into_owned().into(),
        source,
    })
}

/// The running framelock, which workers run too.
pub fn current_exe() -> Utf8PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .expect("the running binary has a UTF-8 path")
}

/// `--workers`, else the number of CPUs.
pub fn default_workers(workers: Option<u64>) -> usize {
    workers.map_or_else(
        || std::thread::available_parallelism().map_or(2, |n| n.get()),
        |w| w as usize,
    )
}

/// `--inject FAULT` for `regress`.
pub fn parse_injection(s: &str) -> Result<Injection, String> {
    let err = || {
        format!(
            "expected clock-shift:CHUNK:K or video-offset:CHUNK:K (K a non-zero whole number), no-reseed:CHUNK, cold-walk:CHUNK, encoder-qp:CHUNK:Q (Q in 1..=51), wall-clock:CHUNK or audio-delay:MS, found {s:?}"
        )
    };
    let mut parts = s.splitn(3, ':');
    let (kind, chunk, value) = (parts.next(), parts.next(), parts.next());
    // The sound's delay concerns the whole video, not a chunk.
    if let (Some("audio-delay"), Some(ms), None) = (kind, chunk, value) {
        return match ms.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Injection {
                chunk: ChunkIndex(0),
                fault: Fault::AudioDelay(ms),
            }),
            _ => Err(err()),
        };
    }
    let chunk: ChunkIndex = chunk.and_then(|c| c.parse().ok()).ok_or_else(err)?;
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
        (Some("cold-walk"), None) => Fault::ColdWalk,
        (Some("video-offset"), Some(k)) => match k.parse::<i64>() {
            Ok(k) if k != 0 => Fault::VideoOffset(k),
            _ => return Err(err()),
        },
        (Some("wall-clock"), None) => Fault::WallClock,
        _ => return Err(err()),
    };
    Ok(Injection { chunk, fault })
}

/// A whole number above zero.
pub fn positive_count(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive whole number, found {s:?}")),
    }
}

/// A finite number of seconds above zero.
pub fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "expected a positive number of seconds, found {s:?}"
        )),
    }
}
