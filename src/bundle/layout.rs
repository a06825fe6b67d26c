//! The files a bundle holds besides the composition: `plan.json` (outside the bundle hash),
//! `meta/composition.json`, `meta/encoder.json` and `meta/videos.json`, and how they are read
//! and written.

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use super::error::BundleError;
use crate::composition::DurationSource;
use crate::encode::EncoderSettings;
use crate::hash::BundleHash;
use crate::timing::{ChunkPlan, Fps};
use crate::toolchain::ToolchainFingerprint;

/// Version of `plan.json`.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

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

/// Where a bundle describes its videos.
pub const VIDEOS_JSON: &str = "meta/videos.json";

/// Where a bundle keeps what planning clamped or left out (media shorter than its slot, sound
/// that cannot be decoded), so every render of it can say so.
pub const WARNINGS_JSON: &str = "meta/warnings.json";

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
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
