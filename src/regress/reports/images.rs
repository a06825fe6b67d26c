//! Failure pictures: for a frame that differs, the reference frame, the new frame and a heat
//! map of where they differ, as PNG files beside the fixture's videos.

use camino::{Utf8Path, Utf8PathBuf};
use image::RgbImage;

use super::super::setup::FixtureVideos;
use crate::compare::{frame_rgb, heat_map};
use crate::drift::{Finding, FindingKind};
use crate::encode::EncodeError;
use crate::outcome::FailureImages;

/// The most pictures one fixture's failure gets.
const MAX_FAILURE_IMAGES: usize = 4;

/// Pictures of the first differing frame of each failure: against each reference in `against`
/// (the baseline, a HyperFrames fixture's golden) at the frame given, then per chunk finding (worker against in-process; for nondeterminism, the two in-process renders),
/// written into `out_dir` (inside `report_dir`).
pub fn failure_images(
    ffmpeg: &Utf8Path,
    videos: &FixtureVideos,
    out_dir: &Utf8Path,
    report_dir: &Utf8Path,
    against: &[(Side<'_>, u64)],
    findings: &[Finding],
    size: (u32, u32),
) -> Result<Vec<FailureImages>, EncodeError> {
    let side = |label, video| Side { label, video };
    let mut wanted = Vec::new();
    for &(reference, frame) in against {
        if reference.video.is_file() {
            wanted.push((
                reference.label.to_string(),
                frame,
                reference,
                side("new", &videos.in_process),
            ));
        }
    }
    for finding in findings {
        let (Some(_), Some(frame)) = (finding.chunk, finding.first_frame) else {
            continue;
        };
        let candidate = match finding.kind {
            FindingKind::Nondeterministic => side("in-process-again", &videos.again),
            _ => side("worker", &videos.distributed),
        };
        wanted.push((
            finding.kind.to_string(),
            frame,
            side("in-process", &videos.in_process),
            candidate,
        ));
    }
    let mut images = Vec::new();
    for (what, frame, reference, candidate) in wanted.into_iter().take(MAX_FAILURE_IMAGES) {
        if !candidate.video.is_file() {
            continue;
        }
        images.extend(write_failure_images(
            ffmpeg, &what, frame, size, reference, candidate, out_dir, report_dir,
        )?);
    }
    Ok(images)
}

/// One video of a comparison: what it is, for captions, and where it is.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// `baseline`, `in-process`, `worker`, …
    pub label: &'a str,
    /// The video.
    pub video: &'a Utf8Path,
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
        elements: Vec::new(),
        elements_unavailable: None,
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
