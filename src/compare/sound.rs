//! Comparing two videos' sound: the RMS envelope of each one's mono mix, cut into windows of a
//! chosen shape (framelock's own, or HyperFrames' regression harness's), the lag at which two
//! envelopes correlate best, and the level of what is left when one sound is taken from the
//! other.

use camino::Utf8Path;

use crate::encode::{EncodeError, run_ffmpeg};

/// How a sound is cut into an envelope, and how much of two envelopes must overlap for their
/// correlation at a lag to count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnvelopeShape {
    /// Samples per second the sound is decoded at.
    pub rate: u64,
    /// Samples per window.
    pub window: usize,
    /// Samples from one window's start to the next.
    pub hop: usize,
    /// The fewest overlapping windows a lag is judged over.
    pub min_overlap: usize,
}

impl EnvelopeShape {
    /// Milliseconds from one window to the next: what one step of lag means.
    pub fn hop_ms(&self) -> f64 {
        self.hop as f64 * 1000.0 / self.rate as f64
    }
}

/// framelock's envelopes: 8 kHz, 10 ms windows side by side.
pub const FRAMELOCK_ENVELOPE: EnvelopeShape = EnvelopeShape {
    rate: 8_000,
    window: 80,
    hop: 80,
    min_overlap: 2,
};

/// HyperFrames' regression harness's: 16 kHz, 2048-sample (128 ms) windows every 1024 samples
/// (64 ms), a lag judged only over more than 32 windows. A HyperFrames fixture's
/// `maxAudioLagWindows` counts these steps.
pub const HYPERFRAMES_ENVELOPE: EnvelopeShape = EnvelopeShape {
    rate: 16_000,
    window: 2048,
    hop: 1024,
    min_overlap: 33,
};

/// An envelope value at or below this is silence.
const SILENCE: f64 = 1e-9;

/// The RMS envelope (0–1 per window) of `video`'s sound, decoded to mono at `shape.rate`;
/// `None` when the video has no sound. With `seconds`, the sound is first cut or padded to
/// exactly that long (encoder priming and padding removed) and a last partial window is kept;
/// without, only whole windows count, as in HyperFrames' harness.
pub fn audio_envelope(
    ffmpeg: &Utf8Path,
    video: &Utf8Path,
    shape: EnvelopeShape,
    seconds: Option<f64>,
) -> Result<Option<Vec<f64>>, EncodeError> {
    let rate = shape.rate.to_string();
    let Some(pcm) = decode_sound(ffmpeg, video, &["-ac", "1", "-ar", &rate, "-f", "s16le"])? else {
        return Ok(None);
    };
    let mut samples: Vec<f64> = pcm
        .chunks_exact(2)
        .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    if let Some(seconds) = seconds {
        samples.resize((seconds * shape.rate as f64).round() as usize, 0.0);
    }
    Ok(Some(windows(&samples, shape, seconds.is_some())))
}

/// The RMS of each window of `samples`; a last window shorter than the rest only when
/// `partial_tail`.
fn windows(samples: &[f64], shape: EnvelopeShape, partial_tail: bool) -> Vec<f64> {
    (0..samples.len())
        .step_by(shape.hop)
        .map(|start| &samples[start..(start + shape.window).min(samples.len())])
        .take_while(|w| partial_tail || w.len() == shape.window)
        .map(|w| (w.iter().map(|s| s * s).sum::<f64>() / w.len() as f64).sqrt())
        .collect()
}

/// The decoded sound of `video`'s first audio stream in the raw format `args` ask for; `None`
/// when it has none, or it decodes to nothing.
fn decode_sound(
    ffmpeg: &Utf8Path,
    video: &Utf8Path,
    args: &[&str],
) -> Result<Option<Vec<u8>>, EncodeError> {
    let has_sound = crate::media::probe(ffmpeg, video)
        .map_err(|reason| EncodeError::Failed {
            command: format!("ffprobe {video}"),
            status: "unreadable".into(),
            stderr: reason,
        })?
        .audio;
    if !has_sound {
        return Ok(None);
    }
    let mut all = vec![
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        video.as_str(),
        "-map",
        "0:a:0",
    ];
    all.extend_from_slice(args);
    all.push("-");
    let pcm = run_ffmpeg(ffmpeg, &all)?;
    Ok((!pcm.is_empty()).then_some(pcm))
}

/// How two envelopes line up best: the lag (in windows; positive when `b` comes later) within
/// `±max_lag` at which their Pearson correlation over at least `min_overlap` windows peaks,
/// and that correlation (1 for two silent or identical envelopes, 0 when no lag overlaps
/// enough).
pub fn envelope_lag(a: &[f64], b: &[f64], max_lag: usize, min_overlap: usize) -> (i64, f64) {
    let silent = |e: &[f64]| e.iter().all(|v| *v <= SILENCE);
    if silent(a) && silent(b) {
        return (0, 1.0);
    }
    let pearson = |lag: i64| -> Option<f64> {
        let pairs: Vec<(f64, f64)> = (0..a.len())
            .filter_map(|i| {
                let j = i as i64 + lag;
                (j >= 0 && (j as usize) < b.len()).then(|| (a[i], b[j as usize]))
            })
            .collect();
        if pairs.len() < min_overlap.max(2) {
            return None;
        }
        let n = pairs.len() as f64;
        let (ma, mb) = pairs
            .iter()
            .fold((0.0, 0.0), |(x, y), (p, q)| (x + p / n, y + q / n));
        let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
        for (p, q) in &pairs {
            cov += (p - ma) * (q - mb);
            va += (p - ma) * (p - ma);
            vb += (q - mb) * (q - mb);
        }
        Some(if va == 0.0 || vb == 0.0 {
            if pairs.iter().all(|(p, q)| p == q) {
                1.0
            } else {
                0.0
            }
        } else {
            cov / (va * vb).sqrt()
        })
    };
    let max_lag = max_lag as i64;
    (-max_lag..=max_lag)
        .filter_map(|lag| pearson(lag).map(|c| (lag, c)))
        // The best correlation; among equals, the smallest lag.
        .max_by(|(la, ca), (lb, cb)| ca.total_cmp(cb).then(lb.abs().cmp(&la.abs())))
        .unwrap_or((0, 0.0))
}

/// The level (dB, RMS over both channels at 48 kHz) of `a`'s sound less `b`'s, halved as an
/// even two-input mix halves it: HyperFrames' `maxAudioResidualRmsDb` reading. Minus infinity
/// for equal sound; `None` when either has none.
pub fn residual_rms_db(
    ffmpeg: &Utf8Path,
    a: &Utf8Path,
    b: &Utf8Path,
) -> Result<Option<f64>, EncodeError> {
    let args = ["-ac", "2", "-ar", "48000", "-f", "f32le"];
    let (Some(a), Some(b)) = (
        decode_sound(ffmpeg, a, &args)?,
        decode_sound(ffmpeg, b, &args)?,
    ) else {
        return Ok(None);
    };
    let floats = |pcm: &[u8]| -> Vec<f32> {
        pcm.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let (a, b) = (floats(&a), floats(&b));
    let n = a.len().min(b.len());
    let sum: f64 = a[..n]
        .iter()
        .zip(&b[..n])
        .map(|(x, y)| {
            let d = f64::from(x - y) / 2.0;
            d * d
        })
        .sum();
    Ok(Some(10.0 * (sum / n.max(1) as f64).log10()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delayed_envelope_peaks_at_its_lag() {
        let beeps: Vec<f64> = (0..300)
            .map(|i| {
                if i % 50 < 20 {
                    0.5
                } else {
                    0.01 * (i % 7) as f64
                }
            })
            .collect();
        assert_eq!(envelope_lag(&beeps, &beeps, 20, 2), (0, 1.0));
        let mut late = vec![0.0; 12];
        late.extend_from_slice(&beeps[..288]);
        let (lag, corr) = envelope_lag(&beeps, &late, 20, 2);
        assert_eq!(lag, 12);
        assert!(corr > 0.99, "{corr}");
        let silent = vec![0.0; 300];
        assert_eq!(envelope_lag(&silent, &silent, 5, 2), (0, 1.0));
    }

    #[test]
    fn a_lag_needs_enough_overlap_to_count() {
        let a: Vec<f64> = (0..40).map(|i| f64::from(i % 5)).collect();
        assert_eq!(envelope_lag(&a, &a, 0, 33), (0, 1.0));
        // 20 windows overlap at most: HyperFrames' harness judges nothing below 33.
        assert_eq!(envelope_lag(&a[..20], &a[..20], 0, 33), (0, 0.0));
    }

    #[test]
    fn windows_hop_and_keep_a_partial_tail_only_when_asked() {
        let shape = EnvelopeShape {
            rate: 10,
            window: 4,
            hop: 2,
            min_overlap: 2,
        };
        let samples = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.5];
        assert_eq!(windows(&samples, shape, false), [0.5f64.sqrt(), 0.0]);
        let tail = windows(&samples, shape, true);
        assert_eq!(tail.len(), 4);
        assert_eq!(tail[2], (0.25f64 / 3.0).sqrt());
        assert_eq!(tail[3], 0.5);
    }
}
