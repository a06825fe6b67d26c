//! The injected virtual-time runtime: its settings and the script text.
//!
//! The JavaScript lives in `runtime.js` beside this file and is compiled into the binary; its
//! hash is part of the render-settings fingerprint, so a change to it never reads old results.

use serde_json::json;

use crate::media::{VideoMeta, VideoMode};
use crate::timing::{Fps, FrameRange};

/// The runtime's source, with a `__FRAMELOCK_CONFIG__` placeholder.
pub const RUNTIME_JS: &str = include_str!("runtime.js");

/// The fixed epoch of the virtual clock: `Date.now()` at frame 0 (2024-01-01T00:00:00Z).
pub const EPOCH_MS: u64 = 1_704_067_200_000;

/// Settings of the runtime for one render.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Frame rate, for frame times and timer ownership.
    pub fps: Fps,
    /// Seed of the random streams.
    pub seed: u64,
    /// `renderConfig.variables`.
    pub variables: serde_json::Map<String, serde_json::Value>,
    /// Whether the clock, timers and randomness are virtual. Off only for the debugging flag
    /// that proves the determinism tests can fail.
    pub virtual_time: bool,
    /// A self-test fault, so the harness can prove it names drift. `None` normally.
    pub fault: Option<PageFault>,
    /// The page's videos (`meta/videos.json`) and how they are shown.
    pub videos: Vec<VideoMeta>,
    /// Injected frames or the browser's decoder.
    pub video_mode: VideoMode,
}

/// The faults the runtime can put into a page for `regress --inject`. Renders with one are
/// never cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFault {
    /// The page is seeked this many frames away from each captured frame (frame-time drift).
    ClockShift(i64),
    /// Randomness is not reseeded per frame, so it carries over from the frames before
    /// (chunk-boundary drift in a worker, which starts from the load-time stream).
    NoReseed,
    /// While these frames are prepared, `Date.now()` and `performance.now()` read the real
    /// clock (nondeterminism).
    WallClock(FrameRange),
    /// Every video shows the source frame this many frames away from the media time's
    /// (video-seek-offset drift).
    VideoOffset(i64),
    /// A session that starts past frame 0 walks there without drawing a frame, as framelock
    /// did before it drew where the compositor keeps state (chunk-boundary drift on a page
    /// with text under `will-change: transform`).
    ColdWalk,
}

impl PageFault {
    fn to_json(self) -> serde_json::Value {
        match self {
            PageFault::ClockShift(k) => json!({ "kind": "clock-shift", "k": k }),
            PageFault::NoReseed => json!({ "kind": "no-reseed" }),
            PageFault::ColdWalk => json!({ "kind": "cold-walk" }),
            PageFault::VideoOffset(k) => json!({ "kind": "video-offset", "k": k }),
            PageFault::WallClock(range) => {
                json!({ "kind": "wall-clock", "from": range.start().0, "to": range.end().0 })
            }
        }
    }
}

impl RuntimeConfig {
    /// The script to inject, with this configuration filled in.
    pub fn script(&self) -> String {
        let config = json!({
            "virtualTime": self.virtual_time,
            // As text: a u64 seed does not fit a JavaScript number exactly.
            "seedText": self.seed.to_string(),
            "fpsNum": self.fps.num(),
            "fpsDen": self.fps.den(),
            "epochMs": EPOCH_MS,
            "fault": self.fault.map(PageFault::to_json),
            "videoMode": self.video_mode,
            "videos": self.videos.iter().map(|v| json!({
                "key": v.key,
                "id": v.clip.id,
                "index": v.clip.index,
                "frames": v.frames,
                "fpsNum": v.fps.num(),
                "fpsDen": v.fps.den(),
            })).collect::<Vec<_>>(),
            "variables": self.variables,
        });
        RUNTIME_JS.replacen("__FRAMELOCK_CONFIG__", &config.to_string(), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_is_filled_once() {
        let script = RuntimeConfig {
            fps: Fps::new(30, 1).unwrap(),
            seed: 7,
            variables: serde_json::Map::new(),
            virtual_time: true,
            fault: Some(PageFault::WallClock(FrameRange::new(10, 20).unwrap())),
            videos: Vec::new(),
            video_mode: VideoMode::Inject,
        }
        .script();
        assert!(!script.contains("const cfg = __FRAMELOCK_CONFIG__"));
        assert!(script.contains(r#""seedText":"7""#));
        assert!(script.contains(r#""fault":{"from":10,"kind":"wall-clock","to":20}"#));
    }
}
