//! `<out>.frames.json`: what was rendered, how, and the hash of every frame's pixels.

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::browser::{CaptureMode, PageEvent};
use crate::composition::DurationSource;
use crate::hash::{BundleHash, ContentHash};
use crate::store::{Execution, RecordFingerprints};
use crate::timing::{ChunkPlan, Fps, FrameRange};
use crate::toolchain::ToolchainFingerprint;

/// Version of the `frames.json` format; bumped on any incompatible change.
pub const FRAMES_FORMAT_VERSION: u32 = 3;

/// The record written beside each rendered video.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FramesRecord {
    /// [`FRAMES_FORMAT_VERSION`].
    pub format_version: u32,
    /// The composition's name.
    pub composition: String,
    /// The bundle that was rendered.
    pub bundle_hash: BundleHash,
    /// Exact frame rate.
    pub fps: Fps,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames in the whole composition.
    pub total_frames: u64,
    /// Where the length came from.
    pub duration_source: DurationSource,
    /// The frames rendered here, `[start, end)`.
    pub range: FrameRange,
    /// Number of frames captured (equals the range length).
    pub frame_count: u64,
    /// How frames were captured.
    pub capture_mode: CaptureMode,
    /// Whether the virtual-time runtime was on.
    pub virtual_time: bool,
    /// Where the chunks were rendered.
    pub execution: Execution,
    /// Encoder restarts.
    pub chunk_plan: ChunkPlan,
    /// The stored chunk records, in order (empty when the render was not cached).
    pub chunk_records: Vec<ContentHash>,
    /// blake3 of each encoded chunk, in plan order (whether cached or not).
    pub chunk_hashes: Vec<ContentHash>,
    /// How many chunks were reused from the store instead of rendered.
    pub reused_chunks: usize,
    /// blake3 of the video.
    pub video_blake3: ContentHash,
    /// The stored run record (absent when the render was not cached).
    pub run_record: Option<ContentHash>,
    /// Toolchain and render-settings fingerprints.
    pub fingerprints: Fingerprints,
    /// blake3 of each frame's raw RGBA pixels, in frame order from `range.start`.
    pub frame_hashes: Vec<String>,
    /// Console messages, exceptions, missing files and blocked requests, with their frames.
    pub page_events: Vec<PageEvent>,
    /// Per frame, the source frame each video showed, by video key (absent without video).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub video_frames: Vec<crate::media::VideoFrames>,
    /// What planning clamped or left out (media shorter than its slot, sound that cannot be
    /// decoded), from the bundle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The fingerprints of a render.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fingerprints {
    /// Hash of the toolchain's files.
    pub toolchain: String,
    /// Hash of the render settings.
    pub render_settings: String,
    /// Hash of the framelock binary.
    pub build_id: String,
    /// The browser's version string.
    pub chrome_version: String,
    /// ffmpeg's version line.
    pub ffmpeg_version: String,
    /// The pinned toolchain it is, when a pinning wrapper (the Nix flake's) said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_toolchain: Option<String>,
}

impl Fingerprints {
    /// What `frames.json` shows: a record's fingerprints and the toolchain's versions.
    pub fn shown(record: RecordFingerprints, toolchain: &ToolchainFingerprint) -> Fingerprints {
        Fingerprints {
            toolchain: record.toolchain,
            render_settings: record.render_settings,
            build_id: record.build_id,
            chrome_version: toolchain.chrome_version.clone(),
            ffmpeg_version: toolchain.ffmpeg_version.clone(),
            pinned_toolchain: toolchain.pinned.clone(),
        }
    }
}

/// `<output>.frames.json`.
pub fn frames_record_path(output: &Utf8Path) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{output}.frames.json"))
}
