//! What a bench run is asked to measure.

use camino::Utf8PathBuf;

use crate::render::RunSettings;

/// A bench run.
#[derive(Debug, Clone)]
pub struct BenchRequest {
    /// The fixtures folder (`css-keyframes` is the capture composition; `regress` runs them
    /// all for the cache figure).
    pub fixtures: Utf8PathBuf,
    /// The long 1080p composition of the heavy figures (`bench/heavy-orbit-long`).
    pub heavy: Utf8PathBuf,
    /// Frames per capture figure, and per video of the compare figures.
    pub frames: u64,
    /// A small run that only shows the bench works (CI's smoke test).
    pub quick: bool,
    /// How the renders run (each figure sets its own capture mode).
    pub run: RunSettings,
    /// The framelock binary workers run.
    pub worker_exe: Utf8PathBuf,
    /// How the bench was started, for the report.
    pub command: String,
    /// The sections to measure (all when empty).
    pub only: Vec<Section>,
}

/// A section of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// Capture throughput against the raw loop, and where the time goes.
    Capture,
    /// In process against 1 and 2 workers.
    Scaling,
    /// blake3 against sha256; bundle pack, unpack, verify.
    Hashing,
    /// framelock's compare against ffmpeg's psnr filter.
    Compare,
    /// A second regress against the first.
    Cache,
    /// A long 1080p page: the in-process path, and what a worker starting at its end pays.
    Heavy,
}
