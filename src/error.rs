//! The top-level error type and the exit codes it maps to.
//!
//! Every failure a user can see ends here: each module has its own `thiserror` enum with
//! structured fields, and [`Error`] knows which exit code each one means and, where there is an
//! obvious next step, a hint that says what to do.

use crate::browser::BrowserError;
use crate::bundle::BundleError;
use crate::composition::CompositionError;
use crate::distributed::DistributedError;
use crate::encode::EncodeError;
use crate::render::RenderError;
use crate::store::StoreError;
use crate::toolchain::ToolchainError;

/// Exit codes, documented in the README. They are part of the interface: scripts and CI branch on
/// them.
pub mod exit_code {
    /// Everything passed (skips and warnings allowed).
    pub const SUCCESS: i32 = 0;
    /// A regression or drift was found.
    pub const REGRESSION: i32 = 1;
    /// Usage or input error: bad arguments, bad composition, unwritable output.
    pub const INPUT: i32 = 2;
    /// Environment error: a missing, unusable or mismatched toolchain.
    pub const ENVIRONMENT: i32 = 3;
    /// `bisect-step`: this revision cannot be judged (`git bisect run` skips it).
    pub const BISECT_SKIP: i32 = 125;
    /// `bisect-step`: a usage or environment error (`git bisect run` stops instead of marking
    /// the revision bad, as it would for 1 to 127 except 125).
    pub const BISECT_ABORT: i32 = 128;
    /// Interrupted by Ctrl-C (the shell convention, 128 + SIGINT).
    pub const INTERRUPTED: i32 = 130;
}

/// Any error framelock reports to its user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The composition folder or its `meta.json` is not usable.
    #[error(transparent)]
    Composition(#[from] CompositionError),
    /// Chrome or ffmpeg could not be found or used.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// The browser failed while rendering.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// The encoder failed.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The render as a whole failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A bundle could not be made, read or trusted.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A baseline could not be read or written.
    #[error(transparent)]
    Baseline(#[from] crate::regress::BaselineError),
    /// A worker or the distributed run failed.
    #[error(transparent)]
    Distributed(#[from] DistributedError),
    /// A bisect could not start or finish.
    #[error(transparent)]
    Bisect(#[from] crate::bisect::BisectError),
    /// Slurm could not be used.
    #[error(transparent)]
    Slurm(#[from] crate::submit::SlurmError),
    /// The user pressed Ctrl-C; everything started was stopped and nothing was written.
    #[error("interrupted: stopped the browser and the encoder, no output was written")]
    Interrupted,
}

impl Error {
    /// The process exit code this error stands for.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Composition(_) => exit_code::INPUT,
            Error::Toolchain(_) => exit_code::ENVIRONMENT,
            Error::Browser(e) => e.exit_code(),
            Error::Encode(e) => e.exit_code(),
            Error::Render(e) => e.exit_code(),
            Error::Bundle(e) => e.exit_code(),
            Error::Store(e) => e.exit_code(),
            Error::Distributed(e) => e.exit_code(),
            Error::Baseline(_) => exit_code::INPUT,
            Error::Bisect(e) => e.exit_code(),
            Error::Slurm(e) => e.exit_code(),
            Error::Interrupted => exit_code::INTERRUPTED,
        }
    }

    /// What the user can do next, when there is something obvious to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Toolchain(e) => e.hint(),
            Error::Browser(e) => e.hint(),
            Error::Distributed(e) => e.hint(),
            Error::Bisect(e) => e.hint(),
            Error::Slurm(e) => e.hint(),
            _ => None,
        }
    }
}
