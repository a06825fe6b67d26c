//! Why a bundle cannot be made, read or trusted.

use camino::Utf8PathBuf;

use crate::exit_code;
use crate::hash::BundleHash;
use crate::media::MediaError;

/// Why a bundle cannot be made, read or trusted.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// `meta/encoder.json` names an encoder this framelock does not have.
    #[error("{path}: codec {codec:?} is not one framelock encodes with (libx264, libvpx-vp9)")]
    UnknownEncoder {
        /// The file.
        path: Utf8PathBuf,
        /// The codec named.
        codec: String,
    },
    /// The composition's video or audio cannot be prepared (boxed: its fields would make
    /// every error that carries a bundle error large).
    #[error(transparent)]
    Media(Box<MediaError>),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `plan -o` names something that exists.
    #[error("{path}: already exists; give a path that does not exist yet")]
    TargetExists {
        /// The path.
        path: Utf8PathBuf,
    },
    /// The composition references a file it does not contain.
    #[error("{file}: references {reference:?}, which is not a file inside the composition")]
    MissingAsset {
        /// The referencing file.
        file: Utf8PathBuf,
        /// The reference as written.
        reference: String,
    },
    /// No duration was found.
    #[error(
        "{index}: the page declares no duration: set renderConfig.duration in meta.json, data-duration on the root element, window.__hf.duration, or pass --duration"
    )]
    NoDuration {
        /// The composition's index.html.
        index: Utf8PathBuf,
    },
    /// A bundle file is not valid JSON of the expected shape.
    #[error("{path}: not a valid {what}: {source}")]
    BadJson {
        /// The file.
        path: Utf8PathBuf,
        /// What it should be.
        what: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// Something other than a regular file or folder inside a bundle.
    #[error("{path}: only regular files and folders may be inside a bundle")]
    NotRegular {
        /// The path.
        path: Utf8PathBuf,
    },
    /// The files differ from the manifest, or the manifest from the recorded hash.
    #[error(
        "BUNDLE_HASH_MISMATCH: {bundle}: plan.json says {expected}, the files hash to {found}{}",
        if detail.is_empty() { String::new() } else { format!(" ({detail})") }
    )]
    HashMismatch {
        /// The bundle.
        bundle: Utf8PathBuf,
        /// The hash in plan.json.
        expected: BundleHash,
        /// The hash of the files.
        found: BundleHash,
        /// Which files differ.
        detail: String,
    },
    /// plan.json's chunk plan does not cover the bundle's frames.
    #[error(
        "{path}: the chunk plan must cover frames 0..{frames} in order, without gaps or overlaps"
    )]
    BadPlan {
        /// plan.json.
        path: Utf8PathBuf,
        /// Frames in meta/composition.json.
        frames: u64,
    },
    /// plan.json is of another schema version.
    #[error("{path}: schema version {found}, this framelock reads version {reads}")]
    Schema {
        /// The file.
        path: Utf8PathBuf,
        /// Its version.
        found: u32,
        /// The version this framelock reads.
        reads: u32,
    },
    /// An archive that cannot be unpacked safely.
    #[error("{archive}: {reason}")]
    UnsafeArchive {
        /// The archive.
        archive: Utf8PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The folder is not a bundle.
    #[error(
        "{path}: not a bundle folder (no plan.json): make one with `framelock plan`, or unpack a .tar.zst with `framelock unpack`"
    )]
    NotABundle {
        /// The path given.
        path: Utf8PathBuf,
    },
    /// The chunk index is outside the plan.
    #[error("chunk {index} does not exist: the plan has chunks 0 to {}", count.saturating_sub(1))]
    NoSuchChunk {
        /// The index asked for.
        index: crate::timing::ChunkIndex,
        /// Number of chunks.
        count: usize,
    },
}

impl From<MediaError> for BundleError {
    fn from(e: MediaError) -> Self {
        BundleError::Media(Box::new(e))
    }
}

impl BundleError {
    /// Every bundle problem is an input problem.
    pub fn exit_code(&self) -> i32 {
        match self {
            BundleError::Media(e) => e.exit_code(),
            _ => exit_code::INPUT,
        }
    }
}
