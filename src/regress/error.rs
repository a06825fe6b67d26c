//! Why a regression run (or one fixture of it) could not be carried out: a finding is not an
//! error; a render that could not happen, a baseline that cannot be read, or a report that
//! cannot be written is.

use camino::Utf8PathBuf;

use super::baseline::BaselineError;
use super::fixture::FixtureError;
use crate::bundle::BundleError;
use crate::composition::CompositionError;
use crate::distributed::DistributedError;
use crate::encode::EncodeError;
use crate::exit_code;
use crate::render::RenderError;
use crate::store::StoreError;
use crate::submit::SlurmError;
use crate::toolchain::ToolchainError;

/// Why a regression run, or one of its fixtures, could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum RegressError {
    /// The fixtures folder or a fixture's `meta.json` cannot be read.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// The fixtures folder holds no fixture.
    #[error(
        "{dir}: no fixtures found (a fixture is a folder with an index.html, or HyperFrames' layout: meta.json beside src/index.html); give the folder that holds them with --fixtures"
    )]
    NoFixtures {
        /// The fixtures folder.
        dir: Utf8PathBuf,
    },
    /// `--fixture` names a fixture the folder does not hold.
    #[error("{dir}: no fixture named {}; it holds {}", names.join(", "), known.join(", "))]
    UnknownFixture {
        /// The names not found.
        names: Vec<String>,
        /// The fixtures folder.
        dir: Utf8PathBuf,
        /// The fixtures it holds.
        known: Vec<String>,
    },
    /// `--fixture` names a folder with a page in `src/` but no `meta.json` beside it.
    #[error(
        "{dir}: a page in src/ without a meta.json beside it is not a fixture; add meta.json (HyperFrames' layout) to run it"
    )]
    NoMeta {
        /// The folder.
        dir: Utf8PathBuf,
    },
    /// A fixture's composition cannot be read.
    #[error(transparent)]
    Composition(#[from] CompositionError),
    /// A baseline cannot be read or written.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// An in-process render failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The worker render failed.
    #[error(transparent)]
    Distributed(#[from] DistributedError),
    /// The Slurm leg failed.
    #[error(transparent)]
    Slurm(#[from] SlurmError),
    /// A fixture's or baseline's files could not be digested.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Videos could not be compared or pictured.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The toolchain could not be fingerprinted.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// A HyperFrames fixture's golden video (or the render held against it) cannot be read.
    #[error(
        "{path}: {reason}; render the golden again (scripts/hf-oracle.sh renders it with HyperFrames)"
    )]
    Golden {
        /// The video.
        path: Utf8PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// A report, a video or a folder could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl RegressError {
    /// 2 for the input (fixtures, baselines, compositions, unwritable reports), 3 for the
    /// environment, else as the failing part says.
    pub fn exit_code(&self) -> i32 {
        match self {
            RegressError::Fixture(_)
            | RegressError::NoFixtures { .. }
            | RegressError::UnknownFixture { .. }
            | RegressError::NoMeta { .. }
            | RegressError::Golden { .. }
            | RegressError::Composition(_)
            | RegressError::Baseline(_)
            | RegressError::Io { .. } => exit_code::INPUT,
            RegressError::Render(e) => e.exit_code(),
            RegressError::Distributed(e) => e.exit_code(),
            RegressError::Slurm(e) => e.exit_code(),
            RegressError::Bundle(e) => e.exit_code(),
            RegressError::Store(e) => e.exit_code(),
            RegressError::Encode(e) => e.exit_code(),
            RegressError::Toolchain(_) => exit_code::ENVIRONMENT,
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            RegressError::Render(e) => e.hint(),
            RegressError::Distributed(e) => e.hint(),
            RegressError::Slurm(e) => e.hint(),
            RegressError::Toolchain(e) => e.hint(),
            _ => None,
        }
    }

    /// Whether the fixture could not be planned: its composition or its files are at fault.
    pub fn is_planning(&self) -> bool {
        match self {
            RegressError::Composition(_) | RegressError::Bundle(_) => true,
            RegressError::Render(e) => e.is_planning(),
            RegressError::Distributed(e) => e.is_planning(),
            _ => false,
        }
    }

    /// An I/O error on `path`, as a closure for `map_err`.
    pub(crate) fn io(
        path: &camino::Utf8Path,
    ) -> impl FnOnce(std::io::Error) -> RegressError + use<> {
        let path = path.to_owned();
        move |source| RegressError::Io { path, source }
    }
}
