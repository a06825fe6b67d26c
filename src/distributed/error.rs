//! Why a worker, the worker pool or `assemble` failed.

use camino::Utf8PathBuf;

use crate::bundle::{BundleError, ToolchainRecord};
use crate::exit_code;
use crate::hash::BundleHash;
use crate::render::RenderError;
use crate::store::{Execution, StoreError};
use crate::timing::{ChunkIndex, FrameRange};
use crate::toolchain::ToolchainError;

/// Why a distributed render failed.
#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    /// Rendering, planning or joining failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The bundle could not be read, packed or trusted.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tools could not be found or fingerprinted.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// `render-chunk` without `--chunk` outside an array task.
    #[error(
        "render-chunk: no chunk given: pass --chunk I, or run it as an array task (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX)"
    )]
    NoChunk,
    /// An array index variable that is not a chunk index.
    #[error("render-chunk: ${var} is {value:?}: expected a chunk index (0, 1, 2, …)")]
    BadArrayIndex {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// The worker's toolchain is not the planning machine's.
    #[error(
        "TOOLCHAIN_MISMATCH: the bundle was planned with toolchain {} ({}, {}), this machine has {} ({}, {})",
        planned.fingerprint, planned.chrome_version, planned.ffmpeg_version,
        here.fingerprint, here.chrome_version, here.ffmpeg_version
    )]
    ToolchainMismatch {
        /// From plan.json.
        planned: Box<ToolchainRecord>,
        /// This machine's.
        here: Box<ToolchainRecord>,
    },
    /// A worker spec file that cannot be read or trusted.
    #[error("{path}: not a usable worker spec: {reason}")]
    BadSpec {
        /// The file.
        path: Utf8PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A worker spec written for another bundle.
    #[error("the worker spec is for bundle {spec}, but {bundle_dir} holds bundle {bundle}")]
    SpecForOtherBundle {
        /// The bundle the spec names.
        spec: BundleHash,
        /// The bundle given.
        bundle: BundleHash,
        /// Its folder.
        bundle_dir: Utf8PathBuf,
    },
    /// This worker would render with other settings than the framelock that submitted the job.
    #[error(
        "RENDER_SETTINGS_MISMATCH: the job was submitted with render settings {submitted}, this render-chunk has {here} (another framelock build or version): its records would never be found"
    )]
    SettingsMismatch {
        /// From the spec.
        submitted: String,
        /// This worker's.
        here: String,
    },
    /// Chunks have no record in the store.
    #[error(
        "chunk(s) {} of bundle {bundle} have no {execution} record in the store {store}: render each with `framelock render-chunk {bundle_dir} --chunk N --store {store}` and the job's --spec (or the --capture and --video given here)",
        chunks.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
    )]
    MissingChunks {
        /// The chunks.
        chunks: Vec<ChunkIndex>,
        /// The bundle.
        bundle: BundleHash,
        /// The bundle folder.
        bundle_dir: Utf8PathBuf,
        /// Execution kind looked for.
        execution: Execution,
        /// The store.
        store: Utf8PathBuf,
    },
    /// A chunk kept failing.
    #[error(
        "chunk {chunk} ({range}) failed after {attempts} attempt(s): the worker {reason}; its log: {log}"
    )]
    ChunkFailed {
        /// The chunk.
        chunk: ChunkIndex,
        /// Its frames.
        range: FrameRange,
        /// How many tries.
        attempts: u32,
        /// What the last try said.
        reason: Box<str>,
        /// The last try's log.
        log: Box<Utf8PathBuf>,
        /// The last try's exit code.
        code: Option<i32>,
    },
    /// A file of the pool (its log or work folder) could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl DistributedError {
    /// A toolchain mismatch is an environment error; a failed chunk exits as its worker did.
    pub fn exit_code(&self) -> i32 {
        match self {
            DistributedError::Render(e) => e.exit_code(),
            DistributedError::Bundle(e) => e.exit_code(),
            DistributedError::Store(e) => e.exit_code(),
            DistributedError::Toolchain(_)
            | DistributedError::ToolchainMismatch { .. }
            | DistributedError::SettingsMismatch { .. } => exit_code::ENVIRONMENT,
            DistributedError::NoChunk
            | DistributedError::BadArrayIndex { .. }
            | DistributedError::BadSpec { .. }
            | DistributedError::SpecForOtherBundle { .. }
            | DistributedError::MissingChunks { .. }
            | DistributedError::Io { .. } => exit_code::INPUT,
            DistributedError::ChunkFailed { code, .. } => match code {
                Some(c @ (1..=3)) => *c,
                _ => exit_code::ENVIRONMENT,
            },
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            DistributedError::Render(e) => e.hint(),
            DistributedError::Toolchain(e) => e.hint(),
            DistributedError::ToolchainMismatch { .. } => Some(
                "render on a machine with the planning toolchain (the Nix flake pins one), or pass --allow-toolchain-mismatch (recorded)"
                    .into(),
            ),
            DistributedError::SettingsMismatch { .. } => Some(
                "run the same framelock on the nodes as on the machine that submits (`submit slurm --framelock PATH`, the image of `submit k8s`)"
                    .into(),
            ),
            _ => None,
        }
    }

    /// Whether the composition could not be planned into a bundle.
    pub fn is_planning(&self) -> bool {
        match self {
            DistributedError::Render(e) => e.is_planning(),
            DistributedError::Bundle(_) => true,
            _ => false,
        }
    }
}
