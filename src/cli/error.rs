//! The top-level error: every failure a user can see ends here. Each part of framelock returns
//! its own error type; only the command line gathers them, and knows which exit code each one
//! means and, where there is an obvious next step, the hint that says what to do.

use camino::Utf8PathBuf;

use crate::bench::BenchError;
use crate::bisect::BisectError;
use crate::bundle::BundleError;
use crate::composition::CompositionError;
use crate::distributed::DistributedError;
use crate::doctor::DoctorError;
use crate::exit_code;
use crate::regress::RegressError;
use crate::render::RenderError;
use crate::store::StoreError;
use crate::submit::SlurmError;
use crate::toolchain::ToolchainError;
use crate::vary::VaryError;

/// Any error framelock reports to its user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The composition folder or its `meta.json` is not usable.
    #[error(transparent)]
    Composition(#[from] CompositionError),
    /// Chrome or ffmpeg could not be found or used.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// A render failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A bundle could not be made, read or trusted.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A worker, the worker pool or `assemble` failed.
    #[error(transparent)]
    Distributed(#[from] DistributedError),
    /// A regression run could not be carried out.
    #[error(transparent)]
    Regress(#[from] RegressError),
    /// A bisect or a diff could not start or finish.
    #[error(transparent)]
    Bisect(#[from] BisectError),
    /// Slurm could not be used.
    #[error(transparent)]
    Slurm(#[from] SlurmError),
    /// A check of `doctor` failed.
    #[error(transparent)]
    Doctor(#[from] DoctorError),
    /// The bench could not be measured.
    #[error(transparent)]
    Bench(#[from] BenchError),
    /// `vary` could not judge the composition.
    #[error(transparent)]
    Vary(#[from] VaryError),
    /// A file the command writes itself (a JUnit report, a manifest) could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The bench was started outside a checkout.
    #[error("{path}: the bench renders this fixture: run it from a checkout, or give --fixtures")]
    NoBenchFixture {
        /// Where the fixture was looked for.
        path: Utf8PathBuf,
    },
    /// The user pressed Ctrl-C; everything started was stopped and nothing was written.
    #[error("interrupted: stopped the browser and the encoder, no output was written")]
    Interrupted,
}

impl Error {
    /// The process exit code this error stands for.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Composition(_) | Error::Write { .. } | Error::NoBenchFixture { .. } => {
                exit_code::INPUT
            }
            Error::Toolchain(_) => exit_code::ENVIRONMENT,
            Error::Render(e) => e.exit_code(),
            Error::Bundle(e) => e.exit_code(),
            Error::Store(e) => e.exit_code(),
            Error::Distributed(e) => e.exit_code(),
            Error::Regress(e) => e.exit_code(),
            Error::Bisect(e) => e.exit_code(),
            Error::Slurm(e) => e.exit_code(),
            Error::Doctor(e) => e.exit_code(),
            Error::Bench(e) => e.exit_code(),
            Error::Vary(e) => e.exit_code(),
            Error::Interrupted => exit_code::INTERRUPTED,
        }
    }

    /// What the user can do next, when there is something obvious to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Toolchain(e) => e.hint(),
            Error::Render(e) => e.hint(),
            Error::Distributed(e) => e.hint(),
            Error::Regress(e) => e.hint(),
            Error::Bisect(e) => e.hint(),
            Error::Slurm(e) => e.hint(),
            Error::Doctor(e) => e.hint(),
            Error::Bench(e) => e.hint(),
            _ => None,
        }
    }

    /// A write error on `path`, as a closure for `map_err`.
    pub fn write(path: &camino::Utf8Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    }
}
