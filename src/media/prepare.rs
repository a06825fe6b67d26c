//! Plan time: every media element of the page checked, its video decoded into frames, its
//! sound mixed, and `meta/videos.json` written, all inside the bundle being planned.
//!
//! Media that falls short is handled as HyperFrames handles it, with a warning rather than a
//! refusal: a sound shorter than its slot plays what it has and then silence; a video shorter
//! than its slot holds its last frame; an `<audio>` whose file cannot be decoded, and the
//! sound of a video that has none, are left out of the mix.

use std::collections::BTreeSet;

use camino::Utf8Path;

use super::{
    AUDIO_MIX, MediaElement, MediaError, MediaKind, Sound, VIDEO_FRAMES_DIR, VideoMeta,
    extract_frames, media_elements, mix_audio, probe,
};
use crate::timing::Fps;

/// What a bundle holds of media.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaPlan {
    /// One entry per `<video>`, in document order.
    pub videos: Vec<VideoMeta>,
    /// Whether `audio/mix.wav` was written.
    pub audio: bool,
    /// What was clamped or left out, a sentence each naming the element and file.
    pub warnings: Vec<String>,
}

/// Reads `compiled/index.html` of the bundle at `root` and writes its media into the bundle;
/// `frames` at `fps` is the length of the mix.
pub fn prepare_media(
    ffmpeg: &Utf8Path,
    root: &Utf8Path,
    frames: u64,
    fps: Fps,
) -> Result<MediaPlan, MediaError> {
    let compiled = root.join("compiled");
    let page = Utf8Path::new("index.html");
    let html = std::fs::read_to_string(compiled.join(page)).map_err(|source| MediaError::Io {
        path: compiled.join(page),
        source,
    })?;
    let elements = media_elements(page, &html)?;
    let mut plan = MediaPlan::default();
    let mut keys = BTreeSet::new();
    let mut sounds: Vec<(&MediaElement, camino::Utf8PathBuf, bool)> = Vec::new();
    for element in &elements {
        let file = compiled.join(&element.clip.source);
        let unusable = |reason: String| MediaError::Unusable {
            page: page.to_owned(),
            element: element.describe(),
            file: element.clip.source.clone(),
            reason,
        };
        if !file.is_file() {
            return Err(MediaError::Missing {
                page: page.to_owned(),
                element: element.describe(),
                file: element.clip.source.clone(),
            });
        }
        let warn = |what: String| {
            format!(
                "{page}: {}: {}: {what}",
                element.describe(),
                element.clip.source
            )
        };
        let info = match probe(ffmpeg, &file) {
            Ok(info) => info,
            Err(reason) if element.kind == MediaKind::Audio => {
                plan.warnings
                    .push(warn(format!("{reason}; left out of the mix")));
                continue;
            }
            Err(reason) => return Err(unusable(reason)),
        };
        let has_audio = element.has_audio && info.audio;
        if element.has_audio && !info.audio {
            plan.warnings.push(warn(match element.kind {
                MediaKind::Audio => "it has no audio stream; left out of the mix".into(),
                MediaKind::Video => {
                    "data-has-audio=\"true\" but it has no audio stream; its sound is left out of the mix".into()
                }
            }));
        }
        let mut length = info.duration;
        if element.kind == MediaKind::Video {
            let stream = info
                .video
                .ok_or_else(|| unusable("it has no video stream".into()))?;
            // A variable rate has no one frame for a time; such sources are refused.
            let source_fps = stream.constant_rate().map_err(unusable)?;
            let (width, height) = (stream.width, stream.height);
            // Two elements with one id still get a folder each.
            let mut key = element.key();
            if !keys.insert(key.clone()) {
                key = format!("{key}-{}", element.clip.index);
                keys.insert(key.clone());
            }
            let count = extract_frames(
                ffmpeg,
                &file,
                (width, height),
                &root.join(VIDEO_FRAMES_DIR).join(&key),
            )?;
            if count == 0 {
                return Err(unusable("it has no frames".into()));
            }
            length = count as f64 * source_fps.den() as f64 / source_fps.num() as f64;
            plan.videos.push(VideoMeta {
                key,
                clip: element.clip.clone(),
                fps: source_fps,
                frames: count,
                width,
                height,
            });
        }
        plan.warnings
            .extend(shortfall(element, length, fps).map(warn));
        if has_audio {
            sounds.push((element, file, info.audio_channels == 1));
        }
    }
    if !sounds.is_empty() {
        let out = root.join(AUDIO_MIX);
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).map_err(|source| MediaError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let sounds: Vec<Sound<'_>> = sounds
            .iter()
            .map(|(element, file, mono)| Sound {
                element,
                file,
                mono: *mono,
            })
            .collect();
        mix_audio(ffmpeg, &sounds, frames, fps, &out)?;
        plan.audio = true;
    }
    Ok(plan)
}

/// What a source `length` seconds long lacks for its element's slot, as a warning, when it is
/// shorter than the slot needs (without `loop`, half a frame of slack: a clip cut at a frame
/// time is long enough), and what happens instead, as in HyperFrames.
fn shortfall(element: &MediaElement, length: f64, fps: Fps) -> Option<String> {
    let duration = element.clip.duration.filter(|_| !element.clip.looped)?;
    let needed = duration * element.clip.playback_rate;
    let available = (length - element.clip.media_start).max(0.0);
    let slack = 0.5 * fps.den() as f64 / fps.num() as f64;
    if needed <= available + slack {
        return None;
    }
    let instead = match element.kind {
        MediaKind::Video => "it holds its last frame for the rest",
        MediaKind::Audio => "the slot is shortened to the sound, silence after",
    };
    Some(format!(
        "has {available:.3} s from data-media-start, the slot needs {needed:.3} s (data-duration × data-playback-rate): {instead}"
    ))
}
