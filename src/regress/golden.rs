//! A HyperFrames fixture against its golden video (`output/output.<mp4|webm>`, rendered by
//! HyperFrames or another renderer, so compared by PSNR and never by hash), with the meanings
//! HyperFrames' harness gives the thresholds: `minPsnr` per checkpoint over every plane, at 100
//! checkpoints spread over the shorter video; `maxFrameFailures` counts failed checkpoints;
//! the sound compared as 64 ms envelope steps, `maxAudioLagWindows` only bounding the lag
//! searched and `minAudioCorrelation` the gate; `maxAudioResidualRmsDb` when given; and a
//! render whose sound outlasts or falls short of its picture by more than half a second fails.

use std::collections::BTreeSet;

use camino::Utf8Path;

use super::error::RegressError;
use super::fixture::Fixture;
use super::verdict::{PSNR_FLOOR, fail};
use crate::compare::{HYPERFRAMES_ENVELOPE, audio_envelope, envelope_lag, psnr_at_frames};
use crate::compare::{IDENTICAL_PSNR, residual_rms_db};
use crate::media::{MediaInfo, probe};
use crate::outcome::{Checkpoint, FixtureResult, GoldenComparison, GoldenSound};
use crate::timing::Fps;

/// How many frames are sampled.
const CHECKPOINTS: u64 = 100;

/// The most a render's sound and picture may differ in length, in seconds.
const STREAM_PARITY: f64 = 0.5;

/// The most the two sounds may differ in length for their residual to be measured, in seconds.
const RESIDUAL_LENGTHS: f64 = 0.005;

/// The residual recorded for two equal sounds (minus infinity, which JSON cannot hold).
const EQUAL_SOUND_DB: f64 = -200.0;

/// What a render is held against its golden with.
pub(super) struct GoldenCheck<'a> {
    /// The fixture, for its thresholds.
    pub(super) fixture: &'a Fixture,
    /// The golden video.
    pub(super) golden: &'a Utf8Path,
    /// The in-process render.
    pub(super) render: &'a Utf8Path,
    /// Its frame rate.
    pub(super) fps: Fps,
    /// Whether workers rendered too: HyperFrames then never gates below 10 dB.
    pub(super) distributed: bool,
    /// ffmpeg, to decode both.
    pub(super) ffmpeg: &'a Utf8Path,
}

/// The frames HyperFrames' harness samples from a video `seconds` long at `fps`: 100 times
/// spread from 0 to one frame before the end, each rounded to its frame.
pub(super) fn checkpoint_frames(seconds: f64, fps: f64) -> Vec<u64> {
    let span = (seconds - 1.0 / fps).max(0.0);
    (0..CHECKPOINTS)
        .map(|i| {
            (span * i as f64 / CHECKPOINTS as f64 * fps)
                .round()
                .max(0.0) as u64
        })
        .collect()
}

impl GoldenCheck<'_> {
    /// Compares the render with the golden, recording the figures in `result` and failing it
    /// where a threshold is not met; returns the worst checkpoint's frame when the picture
    /// failed.
    pub(super) fn compare(&self, result: &mut FixtureResult) -> Result<Option<u64>, RegressError> {
        let name = self.golden.file_name().unwrap_or_default();
        let info = |video: &Utf8Path| {
            probe(self.ffmpeg, video).map_err(|reason| RegressError::Golden {
                path: video.to_owned(),
                reason,
            })
        };
        let (golden, render) = (info(self.golden)?, info(self.render)?);
        let size = |i: &MediaInfo| i.video.as_ref().map(|v| (v.width, v.height));
        let (Some(golden_size), Some(render_size)) = (size(&golden), size(&render)) else {
            fail(result, format!("{}: has no video stream", self.golden));
            return Ok(None);
        };
        if golden_size != render_size {
            fail(
                result,
                format!(
                    "{}: {}x{}, the render is {}x{}: the golden must be rendered at the composition's size",
                    self.golden, golden_size.0, golden_size.1, render_size.0, render_size.1
                ),
            );
            return Ok(None);
        }
        self.parity(&render, result);
        let seconds = video_seconds(&golden).min(video_seconds(&render));
        let frames = checkpoint_frames(seconds, self.fps.as_f64());
        let unique: BTreeSet<u64> = frames.iter().copied().collect();
        let measured = psnr_at_frames(self.ffmpeg, self.render, self.golden, render_size, &unique)?;
        let mut checkpoints = Vec::new();
        for frame in frames {
            let Some(&psnr) = measured.get(&frame) else {
                fail(
                    result,
                    format!(
                        "{}: has no frame {frame}, which its length promises: the render and the golden differ in frame count",
                        self.golden
                    ),
                );
                return Ok(None);
            };
            checkpoints.push(Checkpoint { frame, psnr });
        }
        let threshold = if self.distributed {
            self.fixture.thresholds.min_psnr.max(PSNR_FLOOR)
        } else {
            self.fixture.thresholds.min_psnr
        };
        let failing: Vec<&Checkpoint> = checkpoints.iter().filter(|c| c.psnr < threshold).collect();
        let mean_psnr = checkpoints.iter().map(|c| c.psnr).sum::<f64>() / checkpoints.len() as f64;
        let allowed = self.fixture.thresholds.max_frame_failures;
        let worst = checkpoints
            .iter()
            .min_by(|a, b| a.psnr.total_cmp(&b.psnr))
            .map(|c| (c.frame, c.psnr));
        let pictured = if failing.len() as u64 > allowed {
            let (frame, psnr) = worst.unwrap_or((0, IDENTICAL_PSNR));
            fail(
                result,
                format!(
                    "PSNR against golden {name}: {} of {CHECKPOINTS} checkpoints below {threshold} dB (allowed {allowed}), worst at frame {frame} ({psnr:.2} dB; mean {mean_psnr:.2} dB)",
                    failing.len()
                ),
            );
            Some(frame)
        } else {
            None
        };
        let audio = self.sound(&render, &golden, result)?;
        result.golden = Some(GoldenComparison {
            video: self.golden.to_owned(),
            threshold,
            failed_checkpoints: failing.len(),
            mean_psnr,
            checkpoints,
            audio,
        });
        Ok(pictured)
    }

    /// A render with sound whose sound and picture differ in length by more than half a second
    /// fails, as in HyperFrames.
    fn parity(&self, render: &MediaInfo, result: &mut FixtureResult) {
        if !render.audio {
            return;
        }
        let picture = video_seconds(render);
        let sound = render.audio_duration.unwrap_or(render.duration);
        if (picture - sound).abs() > STREAM_PARITY {
            fail(
                result,
                format!(
                    "{}: sound lasts {sound:.3} s, picture {picture:.3} s (at most {STREAM_PARITY} s apart)",
                    self.render
                ),
            );
        }
    }

    /// Envelope correlation (and the residual when asked for) of the render's sound against
    /// the golden's; `None`, and passing, when either has none, as in HyperFrames.
    fn sound(
        &self,
        render: &MediaInfo,
        golden: &MediaInfo,
        result: &mut FixtureResult,
    ) -> Result<Option<GoldenSound>, RegressError> {
        let thresholds = &self.fixture.thresholds;
        let envelope = |video| audio_envelope(self.ffmpeg, video, HYPERFRAMES_ENVELOPE, None);
        let (Some(ours), Some(theirs)) = (envelope(self.render)?, envelope(self.golden)?) else {
            return Ok(None);
        };
        if ours.is_empty() || theirs.is_empty() {
            return Ok(None);
        }
        let (lag_windows, correlation) = envelope_lag(
            &theirs,
            &ours,
            thresholds.max_audio_lag_windows as usize,
            HYPERFRAMES_ENVELOPE.min_overlap,
        );
        if correlation < thresholds.min_audio_correlation {
            fail(
                result,
                format!(
                    "sound against golden: correlation {correlation:.3} at lag {lag_windows:+} ({} ms windows; needed {})",
                    HYPERFRAMES_ENVELOPE.hop_ms(),
                    thresholds.min_audio_correlation
                ),
            );
        }
        let residual_rms_db = match thresholds.max_audio_residual_rms_db {
            None => None,
            Some(limit) => self.residual(render, golden, limit, result)?,
        };
        Ok(Some(GoldenSound {
            correlation,
            lag_windows,
            residual_rms_db,
        }))
    }

    /// The residual level, failing the fixture above `limit` or when the two sounds differ in
    /// length (HyperFrames measures only sounds of one length).
    fn residual(
        &self,
        render: &MediaInfo,
        golden: &MediaInfo,
        limit: f64,
        result: &mut FixtureResult,
    ) -> Result<Option<f64>, RegressError> {
        let length = |i: &MediaInfo| i.audio_duration.unwrap_or(i.duration);
        let (ours, theirs) = (length(render), length(golden));
        if (ours - theirs).abs() > RESIDUAL_LENGTHS {
            fail(
                result,
                format!(
                    "sound against golden: {ours:.3} s against {theirs:.3} s, and the residual is measured only on sounds of one length (within {RESIDUAL_LENGTHS} s)"
                ),
            );
            return Ok(None);
        }
        let Some(level) = residual_rms_db(self.ffmpeg, self.render, self.golden)? else {
            return Ok(None);
        };
        if level > limit {
            fail(
                result,
                format!("sound against golden: residual {level:.1} dB (at most {limit} dB)"),
            );
        }
        Ok(Some(if level.is_finite() {
            level
        } else {
            EQUAL_SOUND_DB
        }))
    }
}

/// A video's picture length: its stream's, else its container's.
fn video_seconds(info: &MediaInfo) -> f64 {
    info.video
        .as_ref()
        .and_then(|v| v.duration)
        .unwrap_or(info.duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_run_from_frame_zero_to_just_before_the_last() {
        // 2 s at 30 fps: 60 frames, sampled up to (60 - 1) * 99 / 100 = 58.41 -> 58.
        let frames = checkpoint_frames(2.0, 30.0);
        assert_eq!(frames.len(), 100);
        assert_eq!(frames[0], 0);
        assert_eq!(frames[1], 1); // 0.59 rounds up
        assert_eq!(frames[50], 30); // 29.5 rounds half away from zero, as JavaScript's round
        assert_eq!(frames[99], 58);
        // A video of one frame samples it a hundred times.
        assert!(checkpoint_frames(1.0 / 30.0, 30.0).iter().all(|&f| f == 0));
    }
}
