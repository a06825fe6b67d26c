//! Finishing a render: join the encoded chunks, write `frames.json`, and move everything into
//! place only when all of it succeeded.

use camino::{Utf8Path, Utf8PathBuf};

use super::engine::RenderError;
use super::record::{FramesRecord, frames_record_path};
use crate::browser::PageEventKind;
use crate::encode::{AudioTrack, Codec, concat};
use crate::error::Error;
use crate::hash::BundleHash;
use crate::hash::ContentHash;
use crate::report::{RenderEvent, Reporter};
use crate::store::{
    CacheKey, ChunkRecord, Execution, Lookup, RECORD_FORMAT_VERSION, RecordFingerprints, RunRecord,
    Store,
};
use crate::timing::FrameRange;

/// Where the cached records of one bundle's chunks are looked up: the store, the bundle, the
/// kind of execution and the fingerprints a record made now would have.
#[derive(Debug, Clone, Copy)]
pub struct ChunkCache<'a> {
    /// The store.
    pub store: &'a Store,
    /// The bundle.
    pub bundle_hash: &'a BundleHash,
    /// In-process or worker records.
    pub execution: Execution,
    /// Toolchain, render settings and build.
    pub fingerprints: &'a RecordFingerprints,
}

impl ChunkCache<'_> {
    /// The intact stored record of chunk `index` (`range`), if there is one. A corrupt entry is
    /// reported (the lookup removed it) and counts as none.
    pub fn find(
        &self,
        index: usize,
        range: FrameRange,
        reporter: &dyn Reporter,
    ) -> Option<(ContentHash, ChunkRecord)> {
        let key = CacheKey {
            bundle_hash: self.bundle_hash.clone(),
            range,
            execution: self.execution,
            fingerprints: self.fingerprints.clone(),
        };
        match self.store.lookup(&key) {
            Lookup::Hit(hash, record) => Some((hash, *record)),
            Lookup::Miss => None,
            Lookup::Corrupt(reason) => {
                reporter.report(&RenderEvent::CorruptCacheEntry {
                    chunk: index,
                    reason,
                });
                None
            }
        }
    }
}

/// The output's extension must name the container the codec writes, so a player is never
/// handed WebM called `.mp4`.
pub fn check_container(output: &Utf8Path, codec: Codec) -> Result<(), Error> {
    let expected = codec.container();
    if output.extension() != Some(expected) {
        return Err(RenderError::WrongContainer {
            path: output.to_owned(),
            expected,
        }
        .into());
    }
    Ok(())
}

/// A temporary folder beside the output, so the final rename stays on one filesystem. Creating
/// it is also the check that the output location is writable, before any work starts.
pub fn work_dir(output: &Utf8Path) -> Result<(tempfile::TempDir, Utf8PathBuf), Error> {
    let parent = output.parent().filter(|p| !p.as_str().is_empty());
    if let Some(parent) = parent.filter(|p| !p.is_dir()) {
        return Err(RenderError::Output {
            path: output.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("the folder {parent} does not exist"),
            ),
        }
        .into());
    }
    if output.is_dir() {
        return Err(RenderError::Output {
            path: output.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        }
        .into());
    }
    Ok(
        crate::staging::dir_beside(output, "render").map_err(|source| RenderError::Output {
            path: output.to_owned(),
            source,
        })?,
    )
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
        chunks: record.chunk_plan.chunks().len(),
        reused_chunks: record.reused_chunks,
        seconds: started.elapsed().as_secs_f64(),
    });
}

/// With `--strict`, a blocked request or a file the page asked for but the composition does
/// not have fails the render.
pub fn check_hermetic(record: &FramesRecord) -> Result<(), Error> {
    if let Some((frame, url)) = record.page_events.iter().find_map(|e| match &e.kind {
        PageEventKind::FailedLoad { url } => Some((e.frame, url.clone())),
        _ => None,
    }) {
        return Err(RenderError::MissingFile {
            url,
            frame: frame.map_or_else(|| "load".to_string(), |f| f.to_string()),
        }
        .into());
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
        Some((frame, url)) => Err(RenderError::Hermeticity {
            count: blocked.len(),
            url: url.clone(),
            frame: frame.map_or_else(|| "load".to_string(), |f| f.to_string()),
        }
        .into()),
    }
}

/// Joins the encoded chunks, in order, into `work/output.<container>`; returns its path and
/// blake3.
pub fn join(
    ffmpeg: &Utf8Path,
    codec: Codec,
    work: &Utf8Path,
    chunk_files: &[Utf8PathBuf],
    audio: Option<&AudioTrack>,
) -> Result<(Utf8PathBuf, ContentHash), Error> {
    let video = work.join(format!("output.{}", codec.container()));
    concat(ffmpeg, codec, chunk_files, audio, &video)?;
    let hash = ContentHash::of_file(&video).map_err(|source| RenderError::Write {
        path: video.clone(),
        source,
    })?;
    Ok((video, hash))
}

/// Writes `output.frames.json`, moves PNGs from `png` (work folder, destination) and the
/// joined `video` into place: the last step, after everything succeeded.
pub fn publish(
    work: &Utf8Path,
    video: &Utf8Path,
    record: &FramesRecord,
    output: &Utf8Path,
    png: Option<(&Utf8Path, &Utf8Path)>,
) -> Result<(), Error> {
    let record_work = work.join("frames.json");
    let json = serde_json::to_string_pretty(record).expect("the record serialises");
    std::fs::write(&record_work, json + "\n").map_err(|source| RenderError::Write {
        path: record_work.clone(),
        source,
    })?;
    if let Some((from, to)) = png {
        publish_pngs(from, to)?;
    }
    // The record goes last: a frames.json beside a video says the video is complete.
    rename(video, output)?;
    rename(&record_work, &frames_record_path(output))
}

/// Stores the run record of an assembled video.
pub fn store_run(
    store: &Store,
    record: &FramesRecord,
    video: &ContentHash,
) -> Result<ContentHash, Error> {
    let run = RunRecord {
        format_version: RECORD_FORMAT_VERSION,
        bundle_hash: record.bundle_hash.clone(),
        execution: record.execution,
        chunk_records: record.chunk_records.clone(),
        video: video.clone(),
        audio: None,
    };
    let bytes = serde_json::to_vec_pretty(&run).expect("a run record serialises");
    Ok(store.put_bytes(&bytes)?)
}

fn rename(from: &Utf8Path, to: &Utf8Path) -> Result<(), Error> {
    std::fs::rename(from, to).map_err(|source| {
        RenderError::Write {
            path: to.to_owned(),
            source,
        }
        .into()
    })
}

fn publish_pngs(from: &Utf8Path, to: &Utf8Path) -> Result<(), Error> {
    let write = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| RenderError::Write { path, source }
    };
    std::fs::create_dir_all(to).map_err(write(to))?;
    for entry in from.read_dir_utf8().map_err(write(from))? {
        let entry = entry.map_err(write(from))?;
        let target = to.join(entry.file_name());
        // The work folder may sit on another filesystem than the PNG folder.
        if std::fs::rename(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).map_err(write(&target))?;
        }
    }
    Ok(())
}
