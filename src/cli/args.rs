//! clap definitions. Doc comments here are the `--help` text.

use std::time::Duration;

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::browser::{CaptureMode, SandboxPolicy};
use crate::timing::{Fps, FrameRange};

/// Prove that HTML-to-video rendering is reproducible.
///
/// framelock renders a composition (a folder with an animating index.html) to video in
/// chrome-headless-shell, deterministically: the page's clock, timers and randomness come from
/// the frame index, and every frame's pixels are hashed.
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
    /// Render a composition to video in one process.
    ///
    /// Writes OUTPUT (H.264 MP4) and OUTPUT.frames.json: the frame rate, size, frame count,
    /// capture mode, toolchain and render-settings fingerprints, the blake3 hash of each
    /// frame's raw RGBA pixels, and everything the page logged, with its frame.
    ///
    /// Example: framelock render fixtures/css-keyframes -o out.mp4
    Render(RenderOpts),
    /// Check the toolchain: browser, GPU, fonts, ffmpeg, and the fingerprints.
    ///
    /// Exits 3 with the install command when a tool is missing or unusable.
    Doctor(DoctorOpts),
}

/// Which tools to use; both default to what `doctor` finds.
#[derive(Debug, Clone, Args)]
pub struct ToolOpts {
    /// The browser: chrome-headless-shell. Default: $FRAMELOCK_CHROME, else
    /// chrome-headless-shell or chromium-headless-shell on PATH (Debian's wrapper script is
    /// resolved to the real binary).
    #[arg(long, value_name = "PATH", global = true)]
    pub chrome: Option<Utf8PathBuf>,
    /// ffmpeg. Default: $FRAMELOCK_FFMPEG, else ffmpeg on PATH.
    #[arg(long, value_name = "PATH", global = true)]
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

/// Options of `framelock render`.
#[derive(Debug, Clone, Args)]
pub struct RenderOpts {
    /// The composition folder (with index.html, and optionally meta.json).
    #[arg(value_name = "COMPOSITION")]
    pub composition: Utf8PathBuf,
    /// The video to write. Nothing is written there unless the whole render succeeds.
    #[arg(short, long, value_name = "OUT.mp4")]
    pub output: Utf8PathBuf,
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
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub frame_count: Option<u64>,
    /// Render only frames START..END (END exclusive), in a fresh browser that starts at START.
    /// With --png-dir, a way to look at single frames.
    #[arg(long, value_name = "START..END")]
    pub frames: Option<FrameRange>,
    /// Also write each rendered frame as DIR/frame_NNNNNN.png.
    #[arg(long, value_name = "DIR")]
    pub png_dir: Option<Utf8PathBuf>,
    /// Restart the encoder every N frames (the chunk plan the distributed path uses).
    /// Default: renderConfig.chunkSize, else one chunk.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_size: Option<u64>,
    /// How frames are captured.
    #[arg(long, value_enum, default_value_t = CaptureOpt::Beginframe)]
    pub capture: CaptureOpt,
    /// Fail (exit 1) when the page requested anything outside the composition. Without it,
    /// such requests are blocked and listed.
    #[arg(long)]
    pub strict: bool,
    /// Seconds one seek or one capture may take before the render fails naming the frame.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = positive_seconds)]
    pub frame_timeout: f64,
    /// Debugging only: give the page the real clock, real timers and real randomness. Renders
    /// are then NOT reproducible; the test suite uses this to prove its checks can fail.
    #[arg(long)]
    pub debug_real_time: bool,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

impl RenderOpts {
    /// The frame timeout as a duration.
    pub fn frame_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.frame_timeout)
    }
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
        for name in ["render", "doctor"] {
            let sub = cli.find_subcommand_mut(name).expect("subcommand exists");
            insta::assert_snapshot!(format!("help_{name}"), sub.render_long_help().to_string());
        }
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
        ];
        for line in bad {
            let args: Vec<&str> = line.split(' ').collect();
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line}");
        }
    }
}
