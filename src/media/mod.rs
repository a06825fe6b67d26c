//! Video and audio in compositions.
//!
//! At plan time every `<video>` is decoded once into numbered frames at the source's own rate
//! (`video-frames/<key>/frame_NNNNNN.png`, described in `meta/videos.json`), and every sound
//! (`<audio>`, and `<video data-has-audio="true">`) is mixed into one track (`audio/mix.wav`)
//! exactly as long as the video. While rendering, the runtime shows each video the frame the
//! media time formula gives (DESIGN.md, "Media time"), so no browser ever seeks a video
//! decoder, and a worker that starts mid-clip shows what the in-process render showed.

mod audio;
mod elements;
mod error;
mod extract;
mod prepare;
mod probe;
mod video;

pub use audio::{AUDIO_CHANNELS, AUDIO_RATE, Sound, mix_audio, samples_in};
pub use elements::{Clip, MediaElement, MediaKind, media_elements};
pub use error::MediaError;
pub use extract::{extract_frames, frame_file};
pub use prepare::{MediaPlan, prepare_media};
pub use probe::{MediaInfo, VideoStream, ffprobe_beside, probe};
pub use video::{AUDIO_MIX, PageMedia, VIDEO_FRAMES_DIR, VideoFrames, VideoMeta, VideoMode};
