//! Failure pictures: for a frame that differs, the reference frame, the new frame and a heat
//! map of where they differ, as PNG files beside the fixture's videos.

use camino::{Utf8Path, Utf8PathBuf};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::compare::{frame_rgb, heat_map};
use crate::encode::EncodeError;

/// One video of a comparison: what it is, for captions, and where it is.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// `baseline`, `in-process`, `worker`, …
    pub label: &'a str,
    /// The video.
    pub video: &'a Utf8Path,
}

/// The three pictures of one differing frame, with paths relative to the report folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureImages {
    /// What they show (`baseline`, or a finding's kind).
    pub what: String,
    /// The frame.
    pub frame: u64,
    /// The reference frame's label.
    pub reference_label: String,
    /// The reference frame.
    pub reference: Utf8PathBuf,
    /// The new frame's label.
    pub candidate_label: String,
    /// The new frame.
    pub candidate: Utf8PathBuf,
    /// The heat map.
    pub diff: Utf8PathBuf,
    /// The largest difference of one channel of one pixel, 0–255.
    pub largest_difference: u8,
}

/// Decodes `frame` from both videos and writes the three PNGs into `dir` (inside
/// `report_dir`); `None` when either video has no such frame.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; every value is distinct"
)]
pub fn write_failure_images(
    ffmpeg: &Utf8Path,
    what: &str,
    frame: u64,
    (width, height): (u32, u32),
    reference: Side<'_>,
    candidate: Side<'_>,
    dir: &Utf8Path,
    report_dir: &Utf8Path,
) -> Result<Option<FailureImages>, EncodeError> {
    let (Some(a), Some(b)) = (
        frame_rgb(ffmpeg, reference.video, frame, width, height)?,
        frame_rgb(ffmpeg, candidate.video, frame, width, height)?,
    ) else {
        return Ok(None);
    };
    let (map, largest) = heat_map(&a, &b);
    let stem = format!("{what}-frame-{frame}");
    let write = |suffix: &str, picture: &RgbImage| -> Result<Utf8PathBuf, EncodeError> {
        let path = dir.join(format!("{stem}-{suffix}.png"));
        save_png(picture, &path)?;
        Ok(path
            .strip_prefix(report_dir)
            .map_or_else(|_| path.clone(), Utf8Path::to_owned))
    };
    Ok(Some(FailureImages {
        what: what.to_string(),
        frame,
        reference_label: reference.label.to_string(),
        reference: write(reference.label, &a)?,
        candidate_label: candidate.label.to_string(),
        candidate: write(candidate.label, &b)?,
        diff: write("diff", &map)?,
        largest_difference: largest,
    }))
}

/// Writes a PNG through a temporary file beside it.
fn save_png(picture: &RgbImage, path: &Utf8Path) -> Result<(), EncodeError> {
    let io = |source| EncodeError::Io {
        path: path.to_owned(),
        source,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| io(std::io::Error::other(e)))?;
    crate::staging::write_file(path, "png", bytes.get_ref()).map_err(io)
}
