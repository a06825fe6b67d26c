//! The output of a render: its container checked, a work folder beside it, the hermeticity
//! check of `--strict`, and everything moved into place only when all of it succeeded.

use camino::{Utf8Path, Utf8PathBuf};

use super::error::RenderError;
use super::record::{FramesRecord, frames_record_path};
use crate::browser::PageEventKind;
use crate::encode::Codec;
use crate::report::{RenderEvent, Reporter};

/// The output's extension must name the container the codec writes, so a player is never
/// handed WebM called `.mp4`.
pub fn check_container(output: &Utf8Path, codec: Codec) -> Result<(), RenderError> {
    let expected = codec.container();
    if output.extension() != Some(expected) {
        return Err(RenderError::WrongContainer {
            path: output.to_owned(),
            expected,
        });
    }
    Ok(())
}

/// A temporary folder beside the output, so the final rename stays on one filesystem. Creating
/// it is also the check that the output location is writable, before any work starts.
pub fn work_dir(output: &Utf8Path) -> Result<(tempfile::TempDir, Utf8PathBuf), RenderError> {
    let unusable = |source| RenderError::Output {
        path: output.to_owned(),
        source,
    };
    let parent = output.parent().filter(|p| !p.as_str().is_empty());
    if let Some(parent) = parent.filter(|p| !p.is_dir()) {
        return Err(unusable(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the folder {parent} does not exist"),
        )));
    }
    if output.is_dir() {
        return Err(unusable(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        )));
    }
    crate::staging::dir_beside(output, "render").map_err(unusable)
}

/// Tells the reporter the output is in place.
pub fn report_finished(
    reporter: &dyn Reporter,
    output: &Utf8Path,
    record: &FramesRecord,
    started: std::time::Instant,
) {
    reporter.report(&RenderEvent::Finished {
        output: output.to_owned(),
        frames: record.frame_count,
        chunks: record.chunk_plan.len(),
        reused_chunks: record.reused_chunks,
        seconds: started.elapsed().as_secs_f64(),
    });
}

/// With `--strict`, a blocked request or a file the page asked for but the composition does
/// not have fails the render.
pub fn check_hermetic(record: &FramesRecord) -> Result<(), RenderError> {
    let frame = |f: Option<u64>| f.map_or_else(|| "load".to_string(), |f| f.to_string());
    if let Some((at, url)) = record.page_events.iter().find_map(|e| match &e.kind {
        PageEventKind::FailedLoad { url } => Some((e.frame, url.clone())),
        _ => None,
    }) {
        return Err(RenderError::MissingFile {
            url,
            frame: frame(at),
        });
    }
    let blocked: Vec<_> = record
        .page_events
        .iter()
        .filter_map(|e| match &e.kind {
            PageEventKind::BlockedRequest { url } => Some((e.frame, url.clone())),
            _ => None,
        })
        .collect();
    match blocked.first() {
        None => Ok(()),
        Some((at, url)) => Err(RenderError::Hermeticity {
            count: blocked.len(),
            url: url.clone(),
            frame: frame(*at),
        }),
    }
}

/// Writes `output.frames.json`, moves PNGs from `png` (work folder, destination) and the
/// joined `video` into place: the last step, after everything succeeded.
pub fn publish(
    work: &Utf8Path,
    video: &Utf8Path,
    record: &FramesRecord,
    output: &Utf8Path,
    png: Option<(&Utf8Path, &Utf8Path)>,
) -> Result<(), RenderError> {
    let record_work = work.join("frames.json");
    let json = serde_json::to_string_pretty(record).expect("the record serialises");
    std::fs::write(&record_work, json + "\n").map_err(write_error(&record_work))?;
    if let Some((from, to)) = png {
        publish_pngs(from, to)?;
    }
    // The record goes last: a frames.json beside a video says the video is complete.
    std::fs::rename(video, output).map_err(write_error(output))?;
    let record_path = frames_record_path(output);
    std::fs::rename(&record_work, &record_path).map_err(write_error(&record_path))
}

fn write_error(path: &Utf8Path) -> impl FnOnce(std::io::Error) -> RenderError + use<> {
    let path = path.to_owned();
    move |source| RenderError::Write { path, source }
}

fn publish_pngs(from: &Utf8Path, to: &Utf8Path) -> Result<(), RenderError> {
    std::fs::create_dir_all(to).map_err(write_error(to))?;
    for entry in from.read_dir_utf8().map_err(write_error(from))? {
        let entry = entry.map_err(write_error(from))?;
        let target = to.join(entry.file_name());
        // The work folder may sit on another filesystem than the PNG folder.
        if std::fs::rename(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).map_err(write_error(&target))?;
        }
    }
    Ok(())
}
