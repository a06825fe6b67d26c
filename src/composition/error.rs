//! Why a composition cannot be rendered: every problem names the file and the field.

use camino::Utf8PathBuf;

/// Why a composition cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum CompositionError {
    /// The folder does not exist.
    #[error("{path}: composition folder not found")]
    MissingDir {
        /// The folder given.
        path: Utf8PathBuf,
    },
    /// The folder has no `index.html`.
    #[error(
        "{path}: no index.html in the composition folder (nor HyperFrames' layout: meta.json beside src/index.html)"
    )]
    NoIndex {
        /// The folder given.
        path: Utf8PathBuf,
    },
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `meta.json` is not valid JSON, or not an object.
    #[error("{path}: not valid JSON: {source}")]
    MetaSyntax {
        /// The file.
        path: Utf8PathBuf,
        /// The parser's complaint, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A field of `meta.json` (or an option overriding it) has a value that cannot be used.
    #[error("{path}: field `{field}`: expected {expected}, found {found}")]
    Field {
        /// The file, or `command line` for an option.
        path: Utf8PathBuf,
        /// The field, dotted (`renderConfig.fps`).
        field: String,
        /// What would be accepted.
        expected: String,
        /// What was there.
        found: String,
    },
    /// Width or height is odd; yuv420p needs even sizes.
    #[error("{source_name}: {field} is {value}, but the encoder's yuv420p needs an even number")]
    OddSize {
        /// Where the value came from.
        source_name: String,
        /// `width` or `height`.
        field: &'static str,
        /// The odd value.
        value: u32,
    },
    /// Neither the command line, `meta.json` nor the page gives a size.
    #[error(
        "{path}: no {field}: set renderConfig.{field} in meta.json, data-{field} on the root element, or --{field}"
    )]
    NoSize {
        /// The index.html.
        path: Utf8PathBuf,
        /// `width` or `height`.
        field: &'static str,
    },
    /// The page uses a feature framelock does not render yet.
    #[error("{path}: not supported yet: {reason}")]
    Unsupported {
        /// The file that uses it.
        path: Utf8PathBuf,
        /// What and why.
        reason: String,
    },
}
