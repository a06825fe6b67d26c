//! Why a render failed: the browser's, the encoder's, the store's and the bundle's own errors,
//! and what only the render itself can get wrong.

use camino::Utf8PathBuf;

use crate::browser::BrowserError;
use crate::bundle::BundleError;
use crate::encode::EncodeError;
use crate::exit_code;
use crate::store::StoreError;
use crate::timing::{ChunkIndex, FrameRange};
use crate::toolchain::ToolchainError;

/// Why a render failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The browser failed.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// The encoder failed.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bundle could not be planned, read or trusted.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The toolchain could not be fingerprinted.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// `--frames` reaches past the end.
    #[error("--frames {range}: the composition has only {total} frames (0..{total})")]
    RangeOutside {
        /// The requested range.
        range: FrameRange,
        /// Frames in the composition.
        total: u64,
    },
    /// The output location cannot be written.
    #[error("{path}: cannot write output here: {source}")]
    Output {
        /// The path.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file of the render could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The page requested URLs outside the composition and `--strict` is on.
    #[error(
        "hermeticity: the page requested {count} URL(s) outside the composition (first at frame {frame}: {url}); --strict makes this a failure"
    )]
    Hermeticity {
        /// How many requests were blocked.
        count: usize,
        /// The first one.
        url: String,
        /// Its frame, or `load`.
        frame: String,
    },
    /// The page asked for a file the composition does not have, and `--strict` is on.
    #[error(
        "the page asked for {url} at frame {frame}, which is not in the composition; --strict makes this a failure"
    )]
    MissingFile {
        /// The URL.
        url: String,
        /// Its frame, or `load`.
        frame: String,
    },
    /// A chunk record does not cover its range.
    #[error("chunk {index} ({range}): its record has {found} frames, the range has {expected}")]
    IncompleteChunk {
        /// The chunk.
        index: ChunkIndex,
        /// Its range.
        range: FrameRange,
        /// Frames recorded.
        found: u64,
        /// Frames expected.
        expected: u64,
    },
    /// A chunk record does not answer its chunk.
    #[error("chunk {index} ({range}): its record is for another chunk of the plan")]
    WrongChunk {
        /// The chunk.
        index: ChunkIndex,
        /// Its range.
        range: FrameRange,
    },
    /// The output's extension is not the container the composition's format writes.
    #[error(
        "{path}: this composition renders to .{expected} (renderConfig.format); name the output with that extension"
    )]
    WrongContainer {
        /// The output given.
        path: Utf8PathBuf,
        /// The extension it should have.
        expected: &'static str,
    },
    /// `--inject` names a chunk the plan does not have.
    #[error("--inject: chunk {chunk} does not exist: the plan has chunks 0 to {}", count.saturating_sub(1))]
    InjectionOutside {
        /// The chunk asked for.
        chunk: ChunkIndex,
        /// Chunks in the plan.
        count: usize,
    },
    /// The frame sink stopped without saying why.
    #[error("the encoder thread stopped unexpectedly")]
    SinkStopped,
}

impl RenderError {
    /// Input problems exit 2, a broken toolchain 3; a hermeticity hole is a finding (exit 1).
    pub fn exit_code(&self) -> i32 {
        match self {
            RenderError::Browser(e) => e.exit_code(),
            RenderError::Encode(e) => e.exit_code(),
            RenderError::Store(e) => e.exit_code(),
            RenderError::Bundle(e) => e.exit_code(),
            RenderError::Toolchain(_) => exit_code::ENVIRONMENT,
            RenderError::Hermeticity { .. } => exit_code::REGRESSION,
            RenderError::SinkStopped => exit_code::ENVIRONMENT,
            _ => exit_code::INPUT,
        }
    }

    /// What to do next, when there is something obvious to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            RenderError::Browser(e) => e.hint(),
            RenderError::Toolchain(e) => e.hint(),
            _ => None,
        }
    }

    /// Whether the composition could not be planned into a bundle (its files, its settings or
    /// a duration only its page could give): the input's fault, not the environment's.
    pub fn is_planning(&self) -> bool {
        matches!(self, RenderError::Bundle(_))
    }
}
