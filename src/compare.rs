//! Comparing two videos frame by frame: decoded-frame hashes first, then PSNR of the frames that
//! differ.
//!
//! PSNR is defined on the Y plane of yuv420p: `10·log10(255² / MSE)`, identical frames reported
//! as 100 dB, and the sequence figure comes from the mean MSE over all frames — the definitions of
//! ffmpeg's `psnr` filter (`psnr_y`), which a test holds it to within 0.01 dB. Frames whose
//! decoded bytes hash alike are never compared pixel by pixel.

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

/// PSNR of one Y plane against another, and the MSE it came from.
pub fn psnr_y(a: &[u8], b: &[u8]) -> (f64, f64) {
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
                    let (psnr, mse) = psnr_y(&fa[..y_len], &fb[..y_len]);
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

/// Where two frames of one size differ, as a picture: unchanged pixels are the first frame
/// dimmed to a quarter, changed ones run from dark red through yellow to white with the largest
/// channel difference (scaled to the frame's largest, and never darker than a quarter of the
/// way, so a one-level change still shows). Returns the picture and that largest difference.
pub fn heat_map(a: &RgbImage, b: &RgbImage) -> (RgbImage, u8) {
    let diff = |p: &image::Rgb<u8>, q: &image::Rgb<u8>| {
        p.0.iter()
            .zip(q.0)
            .map(|(x, y)| x.abs_diff(y))
            .max()
            .unwrap_or(0)
    };
    let largest = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| diff(p, q))
        .max()
        .unwrap_or(0);
    let map = RgbImage::from_fn(a.width(), a.height(), |x, y| {
        let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
        let d = diff(p, q);
        if d == 0 {
            let luma =
                (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000;
            let dim = (luma / 4) as u8;
            return image::Rgb([dim, dim, dim]);
        }
        let t = (f64::from(d) / f64::from(largest)).max(0.25) * 3.0;
        let channel = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([channel(t), channel(t - 1.0), channel(t - 2.0)])
    });
    (map, largest)
}

/// Samples per second sound is compared at.
pub const ENVELOPE_RATE: u64 = 8_000;

/// Samples per envelope window: 10 ms.
pub const ENVELOPE_WINDOW: usize = 80;

/// The RMS envelope (one value per 10 ms window, 0–1) of `video`'s sound, decoded to mono at
/// [`ENVELOPE_RATE`] and cut or padded to exactly `seconds` (encoder priming and padding
/// removed); `None` when the video has no sound.
pub fn audio_envelope(
    ffmpeg: &Utf8Path,
    video: &Utf8Path,
    seconds: f64,
) -> Result<Option<Vec<f64>>, EncodeError> {
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
    let rate = ENVELOPE_RATE.to_string();
    let args = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        video.as_str(),
        "-map",
        "0:a:0",
        "-ac",
        "1",
        "-ar",
        &rate,
        "-f",
        "s16le",
        "-",
    ];
    let pcm = run_ffmpeg(ffmpeg, &args)?;
    if pcm.is_empty() {
        return Ok(None);
    }
    let wanted = (seconds * ENVELOPE_RATE as f64).round() as usize;
    let mut samples: Vec<f64> = pcm
        .chunks_exact(2)
        .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    samples.resize(wanted, 0.0);
    Ok(Some(
        samples
            .chunks(ENVELOPE_WINDOW)
            .map(|w| (w.iter().map(|s| s * s).sum::<f64>() / w.len() as f64).sqrt())
            .collect(),
    ))
}

/// How two envelopes line up best: the lag (in windows; positive when `b` comes later) within
/// `±max_lag` at which their Pearson correlation peaks, and that correlation (1 for two
/// silent or identical envelopes).
pub fn envelope_lag(a: &[f64], b: &[f64], max_lag: usize) -> (i64, f64) {
    let pearson = |lag: i64| -> Option<f64> {
        let pairs: Vec<(f64, f64)> = (0..a.len())
            .filter_map(|i| {
                let j = i as i64 + lag;
                (j >= 0 && (j as usize) < b.len()).then(|| (a[i], b[j as usize]))
            })
            .collect();
        if pairs.len() < 2 {
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

/// A square of a frame where pixels differ, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiffCell {
    /// Left edge, in pixels.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Side (smaller at the right and bottom edges).
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Differing pixels inside.
    pub pixels: u32,
}

/// The `side`×`side` squares of two equally sized frames in which pixels differ.
pub fn differing_cells(a: &RgbImage, b: &RgbImage, side: u32) -> Vec<DiffCell> {
    let (w, h) = a.dimensions();
    let mut cells = Vec::new();
    for y0 in (0..h).step_by(side as usize) {
        for x0 in (0..w).step_by(side as usize) {
            let (width, height) = (side.min(w - x0), side.min(h - y0));
            let pixels = (y0..y0 + height)
                .flat_map(|y| (x0..x0 + width).map(move |x| (x, y)))
                .filter(|&(x, y)| a.get_pixel(x, y) != b.get_pixel(x, y))
                .count() as u32;
            if pixels > 0 {
                cells.push(DiffCell {
                    x: x0,
                    y: y0,
                    width,
                    height,
                    pixels,
                });
            }
        }
    }
    cells
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

    #[test]
    fn the_heat_map_marks_changed_pixels_only_and_reports_the_largest_change() {
        let a = RgbImage::from_pixel(4, 2, image::Rgb([200, 200, 200]));
        let mut b = a.clone();
        b.put_pixel(1, 0, image::Rgb([200, 200, 210]));
        b.put_pixel(3, 1, image::Rgb([100, 200, 200]));
        let (map, largest) = heat_map(&a, &b);
        assert_eq!(largest, 100);
        assert_eq!(map.get_pixel(0, 0).0, [50, 50, 50], "unchanged: dimmed");
        assert_eq!(
            map.get_pixel(3, 1).0,
            [255, 255, 255],
            "the largest change is white"
        );
        // A change of 10 out of 100 is lifted to a quarter of the scale: visible red.
        assert_eq!(map.get_pixel(1, 0).0, [191, 0, 0]);
    }

    #[test]
    fn differing_pixels_are_counted_in_their_cells_edges_included() {
        let a = RgbImage::from_pixel(20, 10, image::Rgb([0, 0, 0]));
        let mut b = a.clone();
        for (x, y) in [(1, 1), (2, 1), (17, 9)] {
            b.put_pixel(x, y, image::Rgb([0, 0, 1]));
        }
        let cells = differing_cells(&a, &b, 8);
        let at = |c: &DiffCell| (c.x, c.y, c.width, c.height, c.pixels);
        assert_eq!(
            cells.iter().map(at).collect::<Vec<_>>(),
            [(0, 0, 8, 8, 2), (16, 8, 4, 2, 1)]
        );
        assert!(differing_cells(&a, &a, 8).is_empty());
    }

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
        assert_eq!(envelope_lag(&beeps, &beeps, 20), (0, 1.0));
        let mut late = vec![0.0; 12];
        late.extend_from_slice(&beeps[..288]);
        let (lag, corr) = envelope_lag(&beeps, &late, 20);
        assert_eq!(lag, 12);
        assert!(corr > 0.99, "{corr}");
        let silent = vec![0.0; 300];
        assert_eq!(envelope_lag(&silent, &silent, 5), (0, 1.0));
    }
}
