//! Comparing two videos frame by frame: decoded-frame hashes first, then PSNR of the frames that
//! differ.
//!
//! PSNR is defined on the Y plane of yuv420p: `10·log10(255² / MSE)`, identical frames reported
//! as 100 dB, and the sequence figure comes from the mean MSE over all frames — the definitions of
//! ffmpeg's `psnr` filter (`psnr_y`), which a test holds it to within 0.01 dB. Frames whose
//! decoded bytes hash alike are never compared pixel by pixel.

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8Path;
use image::RgbImage;
use serde::Serialize;

use crate::encode::{EncodeError, FrameReader, run_ffmpeg};
use crate::hash::ContentHash;

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

/// PSNR of one set of 8-bit samples against another (a Y plane, or every plane of a frame), and
/// the MSE it came from.
pub fn psnr_of(a: &[u8], b: &[u8]) -> (f64, f64) {
    debug_assert_eq!(a.len(), b.len());
    // Squares of byte differences summed in u32 over blocks small enough not to overflow
    // (4096 × 255² < 2³²): a loop the compiler vectorises, unlike a u64 one.
    let sum: u64 = a
        .chunks(4096)
        .zip(b.chunks(4096))
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(x, y)| {
                    let d = u32::from(x.abs_diff(*y));
                    d * d
                })
                .sum::<u32>() as u64
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

/// Compares `a` with `b` (both `width`×`height`), decoding both at once: each pair of frames is
/// compared byte for byte, and only pairs that differ get a PSNR.
pub fn compare_videos(
    ffmpeg: &Utf8Path,
    a: &Utf8Path,
    b: &Utf8Path,
    width: u32,
    height: u32,
) -> Result<Comparison, EncodeError> {
    // Byte-identical files hold identical frames: count them without decoding either.
    if same_file(a, b) {
        let frames = frame_count(ffmpeg, a)?;
        return Ok(Comparison {
            frame_psnr: vec![IDENTICAL_PSNR; frames],
            sequence_psnr: IDENTICAL_PSNR,
            differing: Vec::new(),
            length_difference: 0,
        });
    }
    let y_len = (width as usize) * (height as usize);
    let frame_len = y_len * 3 / 2;
    // Each video is read on its own thread, so both decoders run at once instead of taking
    // turns filling a pipe.
    let frames_a = read_frames(FrameReader::start(ffmpeg, a, "yuv420p")?, frame_len);
    let frames_b = read_frames(FrameReader::start(ffmpeg, b, "yuv420p")?, frame_len);
    let mut frame_psnr = Vec::new();
    let mut differing = Vec::new();
    let mut mse_sum = 0.0;
    let mut length_difference = 0i64;
    loop {
        match (
            frames_a.recv().ok().transpose()?,
            frames_b.recv().ok().transpose()?,
        ) {
            (Some(fa), Some(fb)) => {
                // Equal bytes first (a comparison that stops at the first difference), pixels
                // only for frames that differ.
                if fa == fb {
                    frame_psnr.push(IDENTICAL_PSNR);
                } else {
                    let (psnr, mse) = psnr_of(&fa[..y_len], &fb[..y_len]);
                    differing.push(frame_psnr.len());
                    frame_psnr.push(psnr);
                    mse_sum += mse;
                }
            }
            (None, None) => break,
            (Some(_), None) => length_difference += 1,
            (None, Some(_)) => length_difference -= 1,
        }
    }
    let sequence_psnr = psnr_of_mse(mse_sum / frame_psnr.len().max(1) as f64);
    Ok(Comparison {
        frame_psnr,
        sequence_psnr,
        differing,
        length_difference,
    })
}

/// PSNR of `a` against `b` (both `width`×`height`) at each of `frames` (counted in decode
/// order), over every plane of yuv420p: the mean square error over all samples is the one
/// weighted by plane size, which ffmpeg's `psnr` filter reports as `psnr_avg` and HyperFrames'
/// harness judges by. Frames past the end of the shorter video are left out.
pub fn psnr_at_frames(
    ffmpeg: &Utf8Path,
    a: &Utf8Path,
    b: &Utf8Path,
    (width, height): (u32, u32),
    frames: &BTreeSet<u64>,
) -> Result<BTreeMap<u64, f64>, EncodeError> {
    let frame_len = (width as usize) * (height as usize) * 3 / 2;
    let frames_a = read_frames(FrameReader::start(ffmpeg, a, "yuv420p")?, frame_len);
    let frames_b = read_frames(FrameReader::start(ffmpeg, b, "yuv420p")?, frame_len);
    let mut out = BTreeMap::new();
    // Read to the end of both, so each decoder is waited for and its failure seen.
    for index in 0.. {
        match (
            frames_a.recv().ok().transpose()?,
            frames_b.recv().ok().transpose()?,
        ) {
            (Some(fa), Some(fb)) if frames.contains(&index) => {
                out.insert(index, psnr_of(&fa, &fb).0);
            }
            (None, None) => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Frames of `frame_len` bytes from `reader`, read ahead on a thread of their own. The channel
/// ends after the last frame, or after the error that stopped the reader (also the exit
/// status ffmpeg ended with).
fn read_frames(
    mut reader: FrameReader,
    frame_len: usize,
) -> std::sync::mpsc::Receiver<Result<Vec<u8>, EncodeError>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(2);
    std::thread::spawn(move || {
        loop {
            let mut frame = vec![0u8; frame_len];
            match reader.next(&mut frame) {
                Ok(true) => {
                    if tx.send(Ok(frame)).is_err() {
                        return;
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        if let Err(e) = reader.finish() {
            let _ = tx.send(Err(e));
        }
    });
    rx
}

/// Whether two files have the same bytes (unreadable files are not).
fn same_file(a: &Utf8Path, b: &Utf8Path) -> bool {
    let size = |p: &Utf8Path| std::fs::metadata(p).map(|m| m.len()).ok();
    matches!((size(a), size(b)), (Some(x), Some(y)) if x == y)
        && matches!(
            (ContentHash::of_file(a), ContentHash::of_file(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// The frames of `video`'s first video stream, counted from its packets without decoding
/// (ffprobe, beside ffmpeg).
fn frame_count(ffmpeg: &Utf8Path, video: &Utf8Path) -> Result<usize, EncodeError> {
    let out = run_ffmpeg(
        &crate::media::ffprobe_beside(ffmpeg),
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets",
            "-of",
            "csv=p=0",
            video.as_str(),
        ],
    )?;
    Ok(String::from_utf8_lossy(&out)
        .trim()
        .parse()
        .unwrap_or_default())
}

/// Frame `index` of `video` (`width`×`height`) as RGB, or `None` when the video is shorter.
pub fn frame_rgb(
    ffmpeg: &Utf8Path,
    video: &Utf8Path,
    index: u64,
    width: u32,
    height: u32,
) -> Result<Option<RgbImage>, EncodeError> {
    let mut reader = FrameReader::start(ffmpeg, video, "rgb24")?;
    let mut buf = vec![0u8; width as usize * height as usize * 3];
    let mut found = false;
    for _ in 0..=index {
        found = reader.next(&mut buf)?;
        if !found {
            break;
        }
    }
    reader.finish()?;
    Ok(found.then(|| RgbImage::from_raw(width, height, buf).expect("the buffer fits the size")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_of_known_planes() {
        let a = vec![100u8; 64];
        assert_eq!(psnr_of(&a, &a).0, IDENTICAL_PSNR);
        let mut b = a.clone();
        b[0] = 110; // MSE = 100 / 64
        let expected = 10.0 * (255.0f64 * 255.0 / (100.0 / 64.0)).log10();
        assert!((psnr_of(&a, &b).0 - expected).abs() < 1e-12);
    }
}
