//! A regression run as the harness sees it: every value validated and typed at the command
//! line's edge.

use camino::Utf8PathBuf;

use crate::distributed::Injection;
use crate::outcome::RegressMode;
use crate::render::RunSettings;
use crate::store::Store;

/// Frames per chunk when a fixture's meta.json gives no `renderConfig.chunkSize`.
pub const DEFAULT_CHUNK_SIZE: u64 = 20;

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
    /// How every render runs (capture, sandbox, videos, frame timeout, tools).
    pub run: RunSettings,
    /// The store.
    pub store: Store,
    /// The framelock binary workers run.
    pub worker_exe: Utf8PathBuf,
    /// A self-test fault in one chunk of every fixture's distributed render.
    pub inject: Option<Injection>,
    /// The scheduler of [`RegressMode::Distributed`]; `None` runs the distributed leg on local
    /// worker processes.
    pub executor: Option<Executor>,
    /// Read and write the store: cached chunks, and the results of fixtures that passed
    /// (`false` for `--no-cache`: everything is rendered and compared afresh).
    pub use_cache: bool,
}

impl RegressRequest {
    /// The options a fixture's stored result depends on besides its files, baseline, toolchain,
    /// settings and build: a result of one mode, strictness or executor never stands for
    /// another.
    pub fn result_options(&self) -> Vec<String> {
        let mut options = vec![
            format!("mode={}", self.mode),
            format!("strict={}", self.strict),
        ];
        if let Some(Executor::Slurm { partition }) = &self.executor {
            options.push(format!(
                "executor=slurm:{}",
                partition.as_deref().unwrap_or_default()
            ));
        }
        options
    }
}
