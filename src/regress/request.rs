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
    /// In-process renders that must agree hash for hash, all uncached when more than one
    /// (`--repeat`).
    pub repeat: u64,
    /// Render HyperFrames fixtures as written, without HyperFrames' compile step
    /// (`--as-written`).
    pub as_written: bool,
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
        if self.as_written {
            options.push("as-written".into());
        }
        if let Some(Executor::Slurm { partition }) = &self.executor {
            options.push(format!(
                "executor=slurm:{}",
                partition.as_deref().unwrap_or_default()
            ));
        }
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::SandboxPolicy;
    use crate::toolchain::{Fonts, FoundBy, Tool, Toolchain};

    fn request(store: &camino::Utf8Path) -> RegressRequest {
        let tool = |name: &str| Tool {
            given: name.into(),
            real: name.into(),
            found_by: FoundBy::Path(name.into()),
        };
        RegressRequest {
            fixtures: "fixtures".into(),
            baselines: "baselines".into(),
            report_dir: "framelock-report".into(),
            only: Vec::new(),
            mode: RegressMode::InProcess,
            workers: 2,
            update: false,
            strict: true,
            run: RunSettings::new(
                Toolchain {
                    chrome: tool("chrome"),
                    ffmpeg: tool("ffmpeg"),
                    fonts: Fonts::Pinned(Vec::new()),
                    pinned: None,
                },
                SandboxPolicy::Auto,
            ),
            store: Store::open(store).unwrap(),
            worker_exe: "framelock".into(),
            inject: None,
            executor: None,
            use_cache: true,
            repeat: 1,
            as_written: false,
        }
    }

    /// A stored result stands only for a run with the same mode, strictness and executor.
    #[test]
    fn every_option_a_result_rests_on_changes_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let base = request(camino::Utf8Path::from_path(dir.path()).unwrap());
        assert_eq!(base.result_options(), ["mode=in-process", "strict=true"]);
        let mut variants = Vec::new();
        for mode in [RegressMode::DistributedSimulated, RegressMode::Distributed] {
            variants.push(RegressRequest {
                mode,
                ..base.clone()
            });
        }
        variants.push(RegressRequest {
            strict: false,
            ..base.clone()
        });
        for partition in [None, Some("gpu".to_string())] {
            variants.push(RegressRequest {
                mode: RegressMode::Distributed,
                executor: Some(Executor::Slurm { partition }),
                ..base.clone()
            });
        }
        let mut seen = std::collections::BTreeSet::from([base.result_options()]);
        for variant in &variants {
            assert!(
                seen.insert(variant.result_options()),
                "{:?} gives a key another run has",
                variant.result_options()
            );
        }
        // What does not change the result's meaning does not change its key.
        let more_workers = RegressRequest {
            workers: 8,
            ..base.clone()
        };
        assert_eq!(more_workers.result_options(), base.result_options());
    }
}
