//! Bundles: a composition frozen, content-addressed, with everything a worker needs.

mod archive;
mod manifest;
mod plan;
mod refs;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

pub use archive::{DEFAULT_UNPACK_LIMIT, pack, packed_plan, unpack};
pub use manifest::{Manifest, ManifestDiff, ManifestEntry};
pub use plan::{Chunking, PlanInput, SKIP, composition_digest, plan};
pub use refs::{Reference, local_file, percent_decode, references};

use crate::composition::{Composition, DurationSource, DurationSpec, Format};
use crate::encode::{AudioTrack, Codec, EncoderSettings};
use crate::exit_code;
use crate::hash::BundleHash;
use crate::media::{AUDIO_MIX, MediaError, PageMedia, VideoMeta};
use crate::timing::{ChunkPlan, Fps};
use crate::toolchain::ToolchainFingerprint;

/// Version of `plan.json`.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

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
    #[error("{path}: schema version {found}, this framelock reads version {PLAN_SCHEMA_VERSION}")]
    Schema {
        /// The file.
        path: Utf8PathBuf,
        /// Its version.
        found: u32,
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

/// `meta/composition.json`: the render-relevant settings, resolved. Only what decides pixels:
/// the length is the frame count (2 s and 2.01 s at 30 fps render the same 60 frames).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositionMeta {
    /// Exact frame rate.
    pub fps: Fps,
    /// Frames to render.
    pub frames: u64,
    /// Height in pixels.
    pub height: u32,
    /// Seed of the page's random streams.
    pub seed: u64,
    /// `renderConfig.variables`.
    pub variables: serde_json::Map<String, serde_json::Value>,
    /// Width in pixels.
    pub width: u32,
}

/// `meta/encoder.json`: encoder settings that do not depend on the chunk plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderMeta {
    /// Codec.
    pub codec: String,
    /// x264 preset.
    pub preset: String,
    /// Constant quantiser.
    pub qp: u8,
    /// Pixel format.
    pub pix_fmt: String,
    /// Colour primaries, transfer and matrix.
    pub color: String,
    /// Colour range.
    pub color_range: String,
}

impl From<&EncoderSettings> for EncoderMeta {
    fn from(s: &EncoderSettings) -> EncoderMeta {
        EncoderMeta {
            codec: s.codec.encoder().into(),
            preset: s.preset.clone(),
            qp: s.qp,
            pix_fmt: "yuv420p".into(),
            color: "bt709".into(),
            color_range: "tv".into(),
        }
    }
}

/// The toolchain of the machine that planned, as recorded in `plan.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolchainRecord {
    /// The toolchain fingerprint.
    pub fingerprint: String,
    /// Browser version.
    pub chrome_version: String,
    /// ffmpeg version.
    pub ffmpeg_version: String,
    /// The pinned toolchain it is, when a pinning wrapper said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
}

impl From<&ToolchainFingerprint> for ToolchainRecord {
    fn from(f: &ToolchainFingerprint) -> ToolchainRecord {
        ToolchainRecord {
            fingerprint: f.hash.clone(),
            chrome_version: f.chrome_version.clone(),
            ffmpeg_version: f.ffmpeg_version.clone(),
            pinned: f.pinned.clone(),
        }
    }
}

/// `plan.json`: outside the bundle hash; how the work is cut and who planned it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanJson {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The bundle hash.
    pub bundle_hash: BundleHash,
    /// framelock's version.
    pub tool_version: String,
    /// The composition's name, for reports.
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frame rate.
    pub fps: Fps,
    /// Frames.
    pub frames: u64,
    /// Length in seconds, when given as one.
    pub duration_seconds: Option<f64>,
    /// Where the length came from.
    pub duration_source: DurationSource,
    /// The chunks.
    pub chunk_plan: ChunkPlan,
    /// The planning machine's toolchain.
    pub toolchain: ToolchainRecord,
}

/// An opened bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Its folder.
    pub dir: Utf8PathBuf,
    /// `plan.json`.
    pub plan: PlanJson,
    /// `meta/composition.json`.
    pub meta: CompositionMeta,
    /// `meta/encoder.json`.
    pub encoder: EncoderMeta,
    /// `meta/videos.json` (empty when the composition has no video).
    pub videos: Vec<VideoMeta>,
}

/// Where a bundle describes its videos.
pub const VIDEOS_JSON: &str = "meta/videos.json";

impl Bundle {
    /// Reads a bundle folder's JSON files (without verifying hashes: see [`Bundle::verify`]).
    pub fn open(dir: &Utf8Path) -> Result<Bundle, BundleError> {
        if !dir.join("plan.json").is_file() {
            return Err(BundleError::NotABundle {
                path: dir.to_owned(),
            });
        }
        let plan: PlanJson = read_json(&dir.join("plan.json"), "plan.json")?;
        if plan.schema_version != PLAN_SCHEMA_VERSION {
            return Err(BundleError::Schema {
                path: dir.join("plan.json"),
                found: plan.schema_version,
            });
        }
        let bundle = Bundle {
            dir: dir.to_owned(),
            meta: read_json(&dir.join("meta/composition.json"), "meta/composition.json")?,
            encoder: read_json(&dir.join("meta/encoder.json"), "meta/encoder.json")?,
            videos: if dir.join(VIDEOS_JSON).is_file() {
                read_json(&dir.join(VIDEOS_JSON), VIDEOS_JSON)?
            } else {
                Vec::new()
            },
            plan,
        };
        if Codec::from_encoder(&bundle.encoder.codec).is_none() {
            return Err(BundleError::UnknownEncoder {
                path: dir.join("meta/encoder.json"),
                codec: bundle.encoder.codec.clone(),
            });
        }
        // plan.json is outside the hash: its chunk plan must cover exactly the hashed frames.
        let mut next = 0;
        for range in bundle.plan.chunk_plan.chunks() {
            if range.start().0 != next {
                break;
            }
            next = range.end().0;
        }
        if next != bundle.meta.frames || bundle.plan.frames != bundle.meta.frames {
            return Err(BundleError::BadPlan {
                path: dir.join("plan.json"),
                frames: bundle.meta.frames,
            });
        }
        Ok(bundle)
    }

    /// Recomputes every file hash and the bundle hash; a mismatch names each differing file.
    pub fn verify(&self) -> Result<Manifest, BundleError> {
        let recorded: Manifest = read_json(&self.dir.join("manifest.json"), "manifest.json")?;
        let actual = Manifest::scan(&self.dir)?;
        let diff = ManifestDiff::between(&recorded, &actual);
        let found = actual.bundle_hash();
        if !diff.is_empty() || found != self.plan.bundle_hash {
            let detail = if diff.is_empty() && recorded.bundle_hash() != self.plan.bundle_hash {
                "manifest.json does not match plan.json".to_string()
            } else {
                diff.summary()
            };
            return Err(BundleError::HashMismatch {
                bundle: self.dir.clone(),
                expected: self.plan.bundle_hash.clone(),
                found,
                detail,
            });
        }
        Ok(actual)
    }

    /// What the page needs to show its videos, when it has any.
    pub fn page_media(&self) -> Option<PageMedia> {
        (!self.videos.is_empty()).then(|| PageMedia {
            root: self.dir.clone(),
            videos: self.videos.clone(),
        })
    }

    /// The sound a render of this bundle carries, when the composition has any: the mix,
    /// exactly the video's length, made `delay_ms` late only by the self-test fault.
    pub fn audio_track(&self, delay_ms: u64) -> Option<AudioTrack> {
        Some(self.dir.join(AUDIO_MIX))
            .filter(|p| p.is_file())
            .map(|mix| AudioTrack {
                mix,
                samples: crate::media::samples_in(self.meta.frames, self.meta.fps),
                delay_ms,
            })
    }

    /// The bundle hash recorded in `plan.json`.
    pub fn hash(&self) -> &BundleHash {
        &self.plan.bundle_hash
    }

    /// The composition as the renderer sees it: `compiled/` with the frozen settings.
    pub fn composition(&self) -> Composition {
        Composition {
            dir: self.dir.join("compiled"),
            name: self.plan.name.clone(),
            fps: self.meta.fps,
            width: self.meta.width,
            height: self.meta.height,
            duration: DurationSpec::Frames(self.meta.frames),
            seed: self.meta.seed,
            variables: self.meta.variables.clone(),
            chunk_size: None,
            format: Format::Mp4,
            unsupported: None,
        }
    }

    /// The encoder settings to use.
    pub fn encoder_settings(&self) -> EncoderSettings {
        EncoderSettings {
            // Bundle::open refuses an encoder it does not know.
            codec: Codec::from_encoder(&self.encoder.codec).unwrap_or(Codec::H264),
            preset: self.encoder.preset.clone(),
            qp: self.encoder.qp,
        }
    }
}

/// Unpacks a packed bundle to `target` and verifies it before it appears there: a tampered or
/// incomplete bundle leaves nothing behind.
pub fn unpack_bundle(
    archive: &Utf8Path,
    target: &Utf8Path,
    limit: u64,
) -> Result<Bundle, BundleError> {
    if target.exists() {
        return Err(BundleError::TargetExists {
            path: target.to_owned(),
        });
    }
    let (_work, work_path) =
        crate::staging::dir_beside(target, "unpack").map_err(|source| BundleError::Io {
            path: target.to_owned(),
            source,
        })?;
    let staged = work_path.join("bundle");
    unpack(archive, &staged, limit)?;
    Bundle::open(&staged)?.verify()?;
    std::fs::rename(&staged, target).map_err(|source| BundleError::Io {
        path: target.to_owned(),
        source,
    })?;
    Bundle::open(target)
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Utf8Path,
    what: &'static str,
) -> Result<T, BundleError> {
    let text = std::fs::read(path).map_err(|source| BundleError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| BundleError::BadJson {
        path: path.to_owned(),
        what,
        source,
    })
}

/// Writes JSON: compact (canonical: hashed files) or pretty (for people), newline-terminated.
pub(crate) fn write_json<T: Serialize>(
    path: &Utf8Path,
    value: &T,
    pretty: bool,
) -> Result<(), BundleError> {
    let mut bytes = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    }
    .expect("bundle JSON serialises");
    bytes.push(b'\n');
    std::fs::write(path, bytes).map_err(|source| BundleError::Io {
        path: path.to_owned(),
        source,
    })
}
