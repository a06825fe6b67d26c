//! Comparing two videos frame by frame: decoded-frame hashes first, then PSNR of the frames that
//! differ.
//!
//! PSNR is defined on the Y plane of yuv420p: `10·log10(255² / MSE)`, identical frames reported
//! as 100 dB, and the sequence figure comes from the mean MSE over all frames — the definitions of
//! ffmpeg's `psnr` filter (`psnr_y`), which a test holds it to within 0.01 dB. Frames whose
//! decoded bytes hash alike are never compared pixel by pixel.

use std::io::Read;
use std::process::{Command, Stdio};

use camino::Utf8Path;
use serde::Serialize;

use crate::encode::EncodeError;
use crate::toolchain::tail;

/// PSNR reported for identical frames.
pub const IDENTICAL_PSNR: f64 = 100.0;

/// The per-frame comparison of two videos of one size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// PSNR of the Y plane per frame (100 for identical frames).
    pub frame_psnr: Vec<f64>,
    /// PSNR of the whole sequence, from the mean MSE (100 when every frame is identical).
    pub sequence_psnr: f64,
    /// Indexes of the frames whose decoded pixels differ.
    pub differing: Vec<usize>,
    /// Frames in the first video that the second lacks, or the reverse (a length mismatch).
    pub length_difference: i64,
}

/// PSNR of one Y plane against another, and the MSE it came from.
pub fn psnr_y(a: &[u8], b: &[u8]) -> (f64, f64) {
    debug_assert_eq!(a.len(), b.len());
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            let d = i64::from(*x) - i64::from(*y);
            (d * d) as u64
        })
        .sum();
    let mse = sum as f64 / a.len().max(1) as f64;
    (psnr_of_mse(mse), mse)
}

fn psnr_of_mse(mse: f64) -> f64 {
    if mse == 0.0 {
        IDENTICAL_PSNR
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// A decoding ffmpeg process yielding yuv420p frames one at a time.
struct FrameReader {
    child: std::process::Child,
    stdout: std::process::ChildStdout,
    command: String,
}

impl FrameReader {
    fn start(ffmpeg: &Utf8Path, video: &Utf8Path) -> Result<FrameReader, EncodeError> {
        let args = [
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            video.as_str(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-",
        ];
        let command = format!("{ffmpeg} {}", args.join(" "));
        let mut child = Command::new(ffmpeg)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| EncodeError::Spawn {
                command: command.clone(),
                source,
            })?;
        let stdout = child.stdout.take().expect("stdout was piped above");
        Ok(FrameReader {
            child,
            stdout,
            command,
        })
    }

    /// Fills `buf` with the next frame; `false` at the end of the video.
    fn next(&mut self, buf: &mut [u8]) -> Result<bool, EncodeError> {
        match self.stdout.read_exact(buf) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(source) => Err(EncodeError::Spawn {
                command: self.command.clone(),
                source,
            }),
        }
    }

    /// Reads to the end and checks that ffmpeg succeeded.
    fn finish(mut self) -> Result<(), EncodeError> {
        let mut rest = Vec::new();
        let _ = self.stdout.read_to_end(&mut rest);
        let out = self
            .child
            .wait_with_output()
            .map_err(|source| EncodeError::Spawn {
                command: self.command.clone(),
                source,
            })?;
        if !out.status.success() {
            return Err(EncodeError::Failed {
                command: self.command,
                status: out.status.to_string(),
                stderr: tail(&String::from_utf8_lossy(&out.stderr)),
            });
        }
        Ok(())
    }
}

/// Compares `a` with `b` (both `width`×`height`), decoding both at once: each pair of frames is
/// hashed, and only pairs whose hashes differ are compared pixel by pixel.
pub fn compare_videos(
    ffmpeg: &Utf8Path,
    a: &Utf8Path,
    b: &Utf8Path,
    width: u32,
    height: u32,
) -> Result<Comparison, EncodeError> {
    let y_len = (width as usize) * (height as usize);
    let frame_len = y_len * 3 / 2;
    let mut reader_a = FrameReader::start(ffmpeg, a)?;
    let mut reader_b = FrameReader::start(ffmpeg, b)?;
    let (mut fa, mut fb) = (vec![0u8; frame_len], vec![0u8; frame_len]);
    let mut frame_psnr = Vec::new();
    let mut differing = Vec::new();
    let mut mse_sum = 0.0;
    let mut length_difference = 0i64;
    loop {
        let more_a = reader_a.next(&mut fa)?;
        let more_b = reader_b.next(&mut fb)?;
        match (more_a, more_b) {
            (true, true) => {
                if blake3::hash(&fa) == blake3::hash(&fb) {
                    frame_psnr.push(IDENTICAL_PSNR);
                } else {
                    let (psnr, mse) = psnr_y(&fa[..y_len], &fb[..y_len]);
                    differing.push(frame_psnr.len());
                    frame_psnr.push(psnr);
                    mse_sum += mse;
                }
            }
            (false, false) => break,
            (true, false) => length_difference += 1,
            (false, true) => length_difference -= 1,
        }
    }
    reader_a.finish()?;
    reader_b.finish()?;
    let sequence_psnr = psnr_of_mse(mse_sum / frame_psnr.len().max(1) as f64);
    Ok(Comparison {
        frame_psnr,
        sequence_psnr,
        differing,
        length_difference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_of_known_planes() {
        let a = vec![100u8; 64];
        assert_eq!(psnr_y(&a, &a).0, IDENTICAL_PSNR);
        let mut b = a.clone();
        b[0] = 110; // MSE = 100 / 64
        let expected = 10.0 * (255.0f64 * 255.0 / (100.0 / 64.0)).log10();
        assert!((psnr_y(&a, &b).0 - expected).abs() < 1e-12);
    }
}
