//! What a media file holds, from ffprobe (installed beside ffmpeg in every distribution of it).

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;

use crate::timing::Fps;
use crate::toolchain::tail;

/// A media file's first video stream and whether it has sound.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// The video stream: its constant frame rate and size; `None` for sound only.
    pub video: Option<(Fps, u32, u32)>,
    /// Whether there is an audio stream.
    pub audio: bool,
    /// Seconds, as the container says.
    pub duration: f64,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: String,
    width: Option<u32>,
    height: Option<u32>,
    r_frame_rate: Option<String>,
    avg_frame_rate: Option<String>,
}

#[derive(Deserialize)]
struct Format {
    duration: Option<String>,
}

/// The ffprobe beside `ffmpeg` (the same package installs both).
pub fn ffprobe_beside(ffmpeg: &Utf8Path) -> Utf8PathBuf {
    ffmpeg.with_file_name("ffprobe")
}

/// Reads `file`; `Err` holds the reason it cannot be used, in words.
pub fn probe(ffmpeg: &Utf8Path, file: &Utf8Path) -> Result<MediaInfo, String> {
    let ffprobe = ffprobe_beside(ffmpeg);
    let out = Command::new(&ffprobe)
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,width,height,r_frame_rate,avg_frame_rate:format=duration",
            "-of",
            "json",
        ])
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run {ffprobe}: {e}"))?;
    if !out.status.success() {
        let said = tail(&String::from_utf8_lossy(&out.stderr));
        return Err(format!(
            "not a media file ffprobe can read ({})",
            said.trim()
        ));
    }
    let probe: Probe = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("ffprobe's answer is not the expected JSON: {e}"))?;
    let duration = probe
        .format
        .and_then(|f| f.duration)
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0)
        .ok_or("it has no duration")?;
    let video = match probe.streams.iter().find(|s| s.codec_type == "video") {
        None => None,
        Some(s) => {
            let rate = |r: &Option<String>| r.as_deref().and_then(|r| r.parse::<Fps>().ok());
            let fps = rate(&s.r_frame_rate).ok_or("its video stream has no frame rate")?;
            // A variable rate has no one frame for a time; such sources are refused.
            if rate(&s.avg_frame_rate).is_some_and(|avg| avg != fps) {
                return Err(format!(
                    "its video has a variable frame rate ({} nominal, {} average): re-encode it at a constant rate",
                    s.r_frame_rate.as_deref().unwrap_or("?"),
                    s.avg_frame_rate.as_deref().unwrap_or("?")
                ));
            }
            Some((fps, s.width.unwrap_or(0), s.height.unwrap_or(0)))
        }
    };
    Ok(MediaInfo {
        video,
        audio: probe.streams.iter().any(|s| s.codec_type == "audio"),
        duration,
    })
}
