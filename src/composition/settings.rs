//! What reading a composition settles: its length (or where it will come from), its format,
//! and the values a command line puts over `meta.json` and the page.

use crate::timing::Fps;

/// How long the render is, as far as can be known before the browser starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DurationSpec {
    /// A length in seconds (`meta.json`, the root's `data-duration`, or `--duration`).
    Seconds(f64, DurationSource),
    /// An exact frame count (`--frame-count`).
    Frames(u64),
    /// Only the page knows (`window.__hf.duration`, `window.__timelines`).
    FromPage,
}

/// Where a duration was read from; recorded so a user can tell why a render has N frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DurationSource {
    /// `--duration` or `--frame-count`.
    CommandLine,
    /// `renderConfig.duration`.
    MetaJson,
    /// `data-duration` on the composition root.
    RootAttribute,
    /// `window.__hf.duration`.
    HfProtocol,
    /// The longest timeline in `window.__timelines`.
    Timelines,
}

/// Output container and codec of `renderConfig.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// MP4 with H.264 (and AAC).
    Mp4,
    /// WebM with VP9 (and Opus).
    Webm,
}

impl Format {
    /// The video codec it is encoded with.
    pub fn codec(self) -> crate::encode::Codec {
        match self {
            Format::Mp4 => crate::encode::Codec::H264,
            Format::Webm => crate::encode::Codec::Vp9,
        }
    }
}

/// Values given on the command line, which win over `meta.json` and the page.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Frame rate.
    pub fps: Option<Fps>,
    /// Width in CSS pixels.
    pub width: Option<u32>,
    /// Height in CSS pixels.
    pub height: Option<u32>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// Exact frame count.
    pub frame_count: Option<u64>,
    /// Leave a HyperFrames page as written: no compile step at planning.
    pub as_written: bool,
}
