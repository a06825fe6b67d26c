//! Why `vary` could not judge a composition.

use camino::Utf8PathBuf;

use crate::bisect::BisectError;
use crate::composition::CompositionError;
use crate::exit_code;
use crate::store::StoreError;

/// A `vary` run that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum VaryError {
    /// A render exited with an error: its own message, and its exit code passed on.
    #[error("{what}: `{command}` exited with {code}: {message}")]
    Render {
        /// The reference or a variation.
        what: String,
        /// The command line.
        command: String,
        /// Its exit code.
        code: i32,
        /// Its last line on stderr.
        message: String,
    },
    /// A render could not be started.
    #[error("{what}: could not run {exe}: {source}")]
    Spawn {
        /// The reference or a variation.
        what: String,
        /// The framelock binary.
        exe: Utf8PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The scratch folder or the report could not be written.
    #[error("{path}: {source}")]
    Write {
        /// Where.
        path: Utf8PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The composition cannot be read.
    #[error(transparent)]
    Composition(#[from] CompositionError),
    /// The reference render's store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Two renders could not be compared.
    #[error(transparent)]
    Compare(#[from] BisectError),
}

impl VaryError {
    /// The process exit code: a render's own code (2 for bad input, 3 for the environment),
    /// else an environment error.
    pub fn exit_code(&self) -> i32 {
        match self {
            VaryError::Render { code, .. } if *code == exit_code::INPUT => exit_code::INPUT,
            VaryError::Compare(e) => e.exit_code(),
            VaryError::Composition(_) => exit_code::INPUT,
            _ => exit_code::ENVIRONMENT,
        }
    }
}
