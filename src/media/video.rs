//! How a video shows in a render: its timing and extracted frames as `meta/videos.json` records
//! them, the media time formula that picks its frame, and where a bundle keeps its media.

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

use super::elements::Clip;
use crate::timing::Fps;

/// The source frame each video of a page shows in one composition frame, by video key
/// (`None`: hidden).
pub type VideoFrames = std::collections::BTreeMap<String, Option<u64>>;

/// Where a bundle keeps a video's frames, relative to the bundle root.
pub const VIDEO_FRAMES_DIR: &str = "video-frames";

/// Where a bundle keeps its mixed audio, relative to the bundle root.
pub const AUDIO_MIX: &str = "audio/mix.wav";

/// How videos are shown while rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum VideoMode {
    /// The frame the media time formula gives, from the bundle's extracted frames.
    #[default]
    Inject,
    /// The browser's own decoder, seeked to the media time (for comparison only).
    Native,
}

/// What a page needs to show its videos: the bundle folder whose `video-frames/` are served at
/// `/__framelock/`, and the videos.
#[derive(Debug, Clone, PartialEq)]
pub struct PageMedia {
    /// The bundle folder.
    pub root: Utf8PathBuf,
    /// `meta/videos.json`.
    pub videos: Vec<VideoMeta>,
}

/// One video as `meta/videos.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoMeta {
    /// The folder of its frames below `video-frames/`.
    pub key: String,
    /// Its timing in the page.
    #[serde(flatten)]
    pub clip: Clip,
    /// The source's frame rate.
    pub fps: Fps,
    /// Frames extracted (`frame_000000.png` ..).
    pub frames: u64,
    /// Picture size.
    pub width: u32,
    /// Picture size.
    pub height: u32,
}

impl VideoMeta {
    /// The source frame shown at composition time `t` (seconds), or `None` outside the clip:
    /// `τ = M + (t − S)·r`, frame `floor(τ·f + 1e-9)`, wrapped modulo the frame count when
    /// looping (wrapping τ first would let a float remainder land just below a whole frame),
    /// else clamped to the last.
    pub fn frame_at(&self, t: f64) -> Option<u64> {
        let end = self
            .clip
            .duration
            .map_or(f64::INFINITY, |d| self.clip.start + d);
        if t < self.clip.start || t >= end || self.frames == 0 {
            return None;
        }
        let fps = self.fps.num() as f64 / self.fps.den() as f64;
        let tau = self.clip.media_start + (t - self.clip.start) * self.clip.playback_rate;
        let k = (tau * fps + 1e-9).floor().max(0.0) as u64;
        Some(if self.clip.looped {
            k % self.frames
        } else {
            k.min(self.frames - 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(start: f64, duration: Option<f64>, m: f64, r: f64, looped: bool) -> VideoMeta {
        VideoMeta {
            key: "v".into(),
            clip: Clip {
                id: None,
                index: 0,
                source: "v.mp4".into(),
                start,
                duration,
                media_start: m,
                playback_rate: r,
                looped,
            },
            fps: "25".parse().unwrap(),
            frames: 50,
            width: 64,
            height: 36,
        }
    }

    #[test]
    fn the_media_time_formula() {
        let v = video(1.0, Some(1.5), 0.5, 2.0, false);
        assert_eq!(v.frame_at(0.99), None, "before the clip");
        assert_eq!(v.frame_at(1.0), Some(12), "τ = 0.5 s → frame 12.5 floored");
        assert_eq!(v.frame_at(1.2), Some(22), "τ = 0.9 s");
        assert_eq!(
            v.frame_at(2.49),
            Some(49),
            "τ = 3.48 s is past the end: the last frame"
        );
        assert_eq!(v.frame_at(2.5), None, "after the clip");
        // 1e-9 keeps an exact frame time on its frame despite floating point.
        let v = video(0.0, None, 0.0, 1.0, false);
        assert_eq!(v.frame_at(0.28), Some(7));
        // Looping wraps the source time modulo its length (2 s), even where the float τ lands
        // just below a whole loop.
        let v = video(0.0, None, 1.5, 1.0, true);
        assert_eq!(v.frame_at(1.0), Some(12), "τ = 2.5 s wraps to 0.5 s");
        let v = video(1.3, None, 0.0, 2.0, true);
        assert_eq!(
            v.frame_at(69.0 / 30.0),
            Some(0),
            "τ = 2 (2.3 − 1.3) is one whole loop"
        );
    }
}
