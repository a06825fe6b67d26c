//! Mixing every sound of a composition into one track, exactly as long as the video.
//!
//! Each sound is cut from its media start, looped when asked, played at its rate (pitch kept,
//! as a browser does), scaled by its volume, and delayed to its start; the sum is padded or cut
//! to exactly `frames / fps` seconds, 48 kHz stereo 16-bit PCM with no metadata, so the mix
//! depends on its inputs and nothing else.

use std::fmt::Write;

use camino::Utf8Path;

use super::{MediaElement, MediaError};
use crate::encode::run_ffmpeg;
use crate::timing::Fps;

/// Samples per second of the mix.
pub const AUDIO_RATE: u64 = 48_000;

/// Channels of the mix.
pub const AUDIO_CHANNELS: u32 = 2;

/// Samples in `frames` frames at `fps`, rounded to the nearest sample.
pub fn samples_in(frames: u64, fps: Fps) -> u64 {
    let (num, den) = (u128::from(fps.num()), u128::from(fps.den()));
    let exact = u128::from(frames) * u128::from(AUDIO_RATE) * den;
    ((exact + num / 2) / num) as u64
}

/// One sound of the mix: the element that plays it, its file, and whether that file is mono.
#[derive(Debug, Clone, Copy)]
pub struct Sound<'a> {
    /// The `<audio>` or `<video>` element.
    pub element: &'a MediaElement,
    /// Its source.
    pub file: &'a Utf8Path,
    /// A single channel: played on both sides at full level, as HyperFrames mixes it
    /// (ffmpeg's own mono-to-stereo puts it 3 dB lower on each).
    pub mono: bool,
}

/// Writes the mix of `sounds` to `out` (a `.wav`), `frames` frames at `fps` long.
pub fn mix_audio(
    ffmpeg: &Utf8Path,
    sounds: &[Sound<'_>],
    frames: u64,
    fps: Fps,
    out: &Utf8Path,
) -> Result<(), MediaError> {
    let total = frames as f64 * fps.den() as f64 / fps.num() as f64;
    let mut args: Vec<String> = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
        .map(String::from)
        .to_vec();
    let mut graph = String::new();
    for (
        i,
        Sound {
            element,
            file,
            mono,
        },
    ) in sounds.iter().enumerate()
    {
        if element.clip.looped {
            args.extend(["-stream_loop".into(), "-1".into()]);
        }
        args.extend(["-i".into(), file.to_string()]);
        // Source seconds it plays: its duration at its rate, else (looping) to the end of the
        // composition, else to the end of the source.
        let plays = element
            .clip
            .duration
            .or(element
                .clip
                .looped
                .then(|| (total - element.clip.start).max(0.0)))
            .map(|d| d * element.clip.playback_rate);
        let delay = (element.clip.start * AUDIO_RATE as f64).round() as u64;
        let _ = write!(graph, "[{i}:a:0]aresample={AUDIO_RATE},");
        if *mono {
            graph.push_str("pan=stereo|c0=c0|c1=c0,");
        }
        let _ = write!(
            graph,
            "aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=start={:.6}",
            element.clip.media_start
        );
        if let Some(plays) = plays {
            let _ = write!(graph, ":duration={plays:.6}");
        }
        graph.push_str(",asetpts=PTS-STARTPTS");
        if element.clip.playback_rate != 1.0 {
            let _ = write!(graph, ",atempo={}", element.clip.playback_rate);
        }
        let _ = write!(
            graph,
            ",volume={},adelay=delays={delay}S:all=1[a{i}];",
            element.volume
        );
    }
    for i in 0..sounds.len() {
        let _ = write!(graph, "[a{i}]");
    }
    if sounds.len() > 1 {
        let _ = write!(
            graph,
            "amix=inputs={}:normalize=0:dropout_transition=0,",
            sounds.len()
        );
    }
    let _ = write!(
        graph,
        "apad,atrim=end_sample={}[mix]",
        samples_in(frames, fps)
    );
    args.extend(
        [
            "-filter_complex",
            &graph,
            "-map",
            "[mix]",
            "-c:a",
            "pcm_s16le",
            "-ar",
            &AUDIO_RATE.to_string(),
            "-ac",
            &AUDIO_CHANNELS.to_string(),
            "-fflags",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            "-map_metadata",
            "-1",
            "-f",
            "wav",
            out.as_str(),
        ]
        .map(String::from),
    );
    run_ffmpeg(ffmpeg, &args)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_counts_are_exact_for_rational_rates() {
        assert_eq!(samples_in(30, "30".parse().unwrap()), 48_000);
        assert_eq!(samples_in(60, "24".parse().unwrap()), 120_000);
        // 30000/1001 fps: 1001/30000 s a frame, 1601.6 samples; 5 frames are 8008 exactly.
        assert_eq!(samples_in(5, "30000/1001".parse().unwrap()), 8008);
        assert_eq!(samples_in(1, "30000/1001".parse().unwrap()), 1602);
    }
}
