//! Why a composition's media could not be prepared.

use camino::Utf8PathBuf;

use crate::exit_code;

/// Why media could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// A media element has no source.
    #[error("{page}: {element} has no src (nor a <source src> child)")]
    NoSource {
        /// The page.
        page: Utf8PathBuf,
        /// The element.
        element: String,
    },
    /// A media element's source is not a file of the composition.
    #[error(
        "{page}: {element}: src {src:?} is not a file of the composition (a render may use nothing from outside it)"
    )]
    NotLocal {
        /// The page.
        page: Utf8PathBuf,
        /// The element.
        element: String,
        /// The src as written.
        src: String,
    },
    /// An attribute has a value that cannot be used.
    #[error("{page}: {element}: {attribute}={found:?}: expected {expected}")]
    BadAttribute {
        /// The page.
        page: Utf8PathBuf,
        /// The element.
        element: String,
        /// The attribute.
        attribute: String,
        /// What it should be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// The source file does not exist.
    #[error("{page}: {element}: the media file {file} does not exist")]
    Missing {
        /// The page.
        page: Utf8PathBuf,
        /// The element.
        element: String,
        /// The file, relative to the composition.
        file: Utf8PathBuf,
    },
    /// The file cannot be used as media of this kind.
    #[error("{page}: {element}: {file} cannot be used: {reason}")]
    Unusable {
        /// The page.
        page: Utf8PathBuf,
        /// The element.
        element: String,
        /// The file, relative to the composition.
        file: Utf8PathBuf,
        /// Why, in words (ffprobe's complaint, a missing stream, a variable rate).
        reason: String,
    },
    /// ffmpeg could not be run, or failed on a file ffprobe had accepted.
    #[error(transparent)]
    Tool(#[from] crate::encode::EncodeError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl MediaError {
    /// Problems with the composition's media exit 2; a tool that fails exits 3.
    pub fn exit_code(&self) -> i32 {
        match self {
            MediaError::Tool(e) => e.exit_code(),
            _ => exit_code::INPUT,
        }
    }
}
