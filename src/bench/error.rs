//! Why a bench run could not be measured.

use camino::Utf8PathBuf;

use crate::browser::BrowserError;
use crate::bundle::BundleError;
use crate::composition::CompositionError;
use crate::distributed::DistributedError;
use crate::encode::EncodeError;
use crate::exit_code;
use crate::regress::RegressError;
use crate::render::RenderError;
use crate::store::StoreError;

/// Why a bench run could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The capture composition cannot be read.
    #[error(transparent)]
    Composition(#[from] CompositionError),
    /// A render failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The browser failed in a raw capture loop.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// A worker render failed.
    #[error(transparent)]
    Distributed(#[from] DistributedError),
    /// The regress figure failed.
    #[error(transparent)]
    Regress(#[from] RegressError),
    /// Packing, unpacking or verifying the bundle failed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// ffmpeg failed making or comparing the videos.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A temporary store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file or folder of the bench could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl BenchError {
    /// As the failing part says; an unwritable output is the input's.
    pub fn exit_code(&self) -> i32 {
        match self {
            BenchError::Composition(_) | BenchError::Io { .. } => exit_code::INPUT,
            BenchError::Render(e) => e.exit_code(),
            BenchError::Browser(e) => e.exit_code(),
            BenchError::Distributed(e) => e.exit_code(),
            BenchError::Regress(e) => e.exit_code(),
            BenchError::Bundle(e) => e.exit_code(),
            BenchError::Encode(e) => e.exit_code(),
            BenchError::Store(e) => e.exit_code(),
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            BenchError::Render(e) => e.hint(),
            BenchError::Browser(e) => e.hint(),
            BenchError::Distributed(e) => e.hint(),
            BenchError::Regress(e) => e.hint(),
            _ => None,
        }
    }
}
