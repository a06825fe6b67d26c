//! What a media file holds, from ffprobe (installed beside ffmpeg in every distribution of it).

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;

use crate::timing::Fps;
use crate::toolchain::tail;

/// A media file's first video stream and whether it has sound.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// The video stream; `None` for sound only.
    pub video: Option<VideoStream>,
    /// Whether there is an audio stream.
    pub audio: bool,
    /// Channels of the first audio stream (0 without one).
    pub audio_channels: u32,
    /// Seconds of the first audio stream, as the stream says (WebM says it only for the
    /// whole file).
    pub audio_duration: Option<f64>,
    /// Seconds, as the container says.
    pub duration: f64,
}

/// A video stream's rates (as ffprobe reads them) and size.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoStream {
    /// `r_frame_rate`: the rate every frame is timed at, when the stream is constant.
    pub nominal: Option<Fps>,
    /// `avg_frame_rate`: frames over duration.
    pub average: Option<Fps>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Seconds, as the stream says (WebM says it only for the whole file).
    pub duration: Option<f64>,
}

impl VideoStream {
    /// The constant frame rate, or why there is none: a stream whose average rate strays more
    /// than 1% from its nominal one has frames of different lengths. (A muxer's last-frame
    /// rounding moves the average of a constant stream by far less.)
    pub fn constant_rate(&self) -> Result<Fps, String> {
        let nominal = self.nominal.ok_or("its video stream has no frame rate")?;
        let rate = |f: Fps| f.num() as f64 / f.den() as f64;
        match self.average {
            Some(avg) if (rate(avg) - rate(nominal)).abs() > 0.01 * rate(nominal) => Err(format!(
                "its video has a variable frame rate ({nominal} nominal, {avg} average): re-encode it at a constant rate"
            )),
            _ => Ok(nominal),
        }
    }
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
    channels: Option<u32>,
    duration: Option<String>,
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
            "stream=codec_type,width,height,r_frame_rate,avg_frame_rate,channels,duration:format=duration",
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
    let seconds = |d: Option<&String>| {
        d.and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0)
    };
    let duration = seconds(probe.format.as_ref().and_then(|f| f.duration.as_ref()))
        .ok_or("it has no duration")?;
    let audio = probe.streams.iter().find(|s| s.codec_type == "audio");
    let rate = |r: &Option<String>| r.as_deref().and_then(|r| r.parse::<Fps>().ok());
    let video = probe
        .streams
        .iter()
        .find(|s| s.codec_type == "video")
        .map(|s| VideoStream {
            nominal: rate(&s.r_frame_rate),
            average: rate(&s.avg_frame_rate),
            width: s.width.unwrap_or(0),
            height: s.height.unwrap_or(0),
            duration: seconds(s.duration.as_ref()),
        });
    Ok(MediaInfo {
        video,
        audio: audio.is_some(),
        audio_channels: audio.and_then(|s| s.channels).unwrap_or(0),
        audio_duration: audio.and_then(|s| seconds(s.duration.as_ref())),
        duration,
    })
}
