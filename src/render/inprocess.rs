//! `framelock render`: plan the composition into a bundle, render every chunk in one browser
//! (or reuse the stored records of an identical earlier render), and finish the video.

use std::time::Instant;

use camino::{Utf8Path, Utf8PathBuf};

use super::engine::{BrowserRun, ChunkWork, RunSettings, render_chunks};
use super::error::RenderError;
use super::finish::{ChunkCache, Finish, FinishedChunk, Keep, Recorder, finish};
use super::output::{check_container, report_finished, work_dir};
use super::plan::{Planned, Planning, plan_bundle};
use super::record::FramesRecord;
use crate::browser::PageFault;
use crate::bundle::{Bundle, Chunking};
use crate::composition::Composition;
use crate::report::Reporter;
use crate::store::{Execution, Store};
use crate::timing::{ChunkIndex, ChunkPlan, FrameRange};

/// A render as the engine sees it: every value validated, every path decided.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// The composition, loaded.
    pub composition: Composition,
    /// The video to write.
    pub output: Utf8PathBuf,
    /// Only these frames (default: all). Such renders are never cached.
    pub frames: Option<FrameRange>,
    /// Encoder restart interval (default: `renderConfig.chunkSize`, else one chunk).
    pub chunk_size: Option<u64>,
    /// Also write each rendered frame as a PNG here (never cached).
    pub png_dir: Option<Utf8PathBuf>,
    /// How the browser renders (a render without the virtual-time runtime is never cached).
    pub run: RunSettings,
    /// Fail when the page requested anything outside the composition.
    pub strict: bool,
    /// The store for chunk records; `None` neither reads nor writes a cache.
    pub store: Option<Store>,
    /// Self-test fault (`regress --inject wall-clock:CHUNK`): the page reads the real clock
    /// while this chunk's frames are prepared. Such a render is never cached.
    pub leak_wall_clock: Option<ChunkIndex>,
}

/// Renders `request` in one process, reporting progress to `reporter`; returns the record that
/// was written beside the video.
pub async fn render(
    request: &RenderRequest,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, RenderError> {
    check_container(&request.output, request.composition.format.codec())?;
    let (_work_guard, work) = work_dir(&request.output)?;
    let planned = plan_bundle(
        Planning {
            composition: &request.composition,
            settings: &request.run,
            chunking: request.chunk_size.map(Chunking::Size),
            store: request.store.as_ref(),
        },
        &work.join("bundle"),
        reporter,
    )
    .await?;
    let bundle = &planned.bundle;
    let plan = chunks_to_render(request.frames, bundle)?;
    let fault = match request.leak_wall_clock {
        Some(chunk) => Some(PageFault::WallClock(plan.get(chunk).ok_or(
            RenderError::InjectionOutside {
                chunk,
                count: plan.len(),
            },
        )?)),
        None => None,
    };
    let run = BrowserRun {
        fault,
        ..BrowserRun::of(&request.composition, request.run.clone()).of_bundle(bundle)
    };
    // Only a render of the whole plan, as it is, stands for the bundle in the store.
    let cache = request.store.as_ref().filter(|_| {
        request.frames.is_none()
            && request.png_dir.is_none()
            && request.run.virtual_time
            && fault.is_none()
    });
    let started = Instant::now();
    let png_work = request.png_dir.as_ref().map(|_| work.join("png"));
    let chunks = match cache.and_then(|store| reuse_all(store, &planned, &plan, reporter)) {
        Some(found) => found,
        None => {
            render_all(
                &run,
                &planned,
                &plan,
                &work,
                png_work.as_deref(),
                cache,
                reporter,
            )
            .await?
        }
    };
    let record = finish(
        Finish {
            bundle,
            plan: &plan,
            fingerprints: &planned.fingerprints(),
            ffmpeg: &request.run.toolchain.ffmpeg.real,
            work: &work,
            output: &request.output,
            strict: request.strict,
            virtual_time: request.run.virtual_time,
            audio_delay_ms: 0,
            store: cache,
            png: png_work.as_deref().zip(request.png_dir.as_deref()),
        },
        &chunks,
    )?;
    report_finished(reporter, &request.output, &record, started);
    Ok(record)
}

/// The chunks to render: the bundle's plan, or the part `frames` asks for (cut on the same
/// chunk boundaries, so its chunks start where the whole render's do).
fn chunks_to_render(frames: Option<FrameRange>, bundle: &Bundle) -> Result<ChunkPlan, RenderError> {
    let total = bundle.meta.frames;
    match frames {
        Some(range) if range.end().0 > total => Err(RenderError::RangeOutside { range, total }),
        Some(range) => Ok(ChunkPlan::by_size(
            range,
            bundle.plan.chunk_plan.chunks()[0].len(),
        )),
        None => Ok(bundle.plan.chunk_plan.clone()),
    }
}

/// Every chunk's in-process record, if all of them are stored and intact; the in-process path
/// is one browser walking all frames, so it reuses all chunks or none.
fn reuse_all(
    store: &Store,
    planned: &Planned,
    plan: &ChunkPlan,
    reporter: &dyn Reporter,
) -> Option<Vec<FinishedChunk>> {
    let fingerprints = planned.record_fingerprints();
    let cache = ChunkCache {
        store,
        bundle_hash: planned.bundle.hash(),
        execution: Execution::InProcess,
        fingerprints: &fingerprints,
    };
    plan.indexed()
        .map(|(index, range)| cache.find(index, range, reporter))
        .collect()
}

/// Renders every chunk of `plan` in one browser, recording each (in the store when `cache`).
async fn render_all(
    run: &BrowserRun,
    planned: &Planned,
    plan: &ChunkPlan,
    work: &Utf8Path,
    png_dir: Option<&Utf8Path>,
    cache: Option<&Store>,
    reporter: &dyn Reporter,
) -> Result<Vec<FinishedChunk>, RenderError> {
    if let Some(dir) = png_dir {
        std::fs::create_dir_all(dir).map_err(|source| RenderError::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    let rendered = render_chunks(run, &ChunkWork::all(plan), work, png_dir, reporter)
        .await?
        .chunks;
    let _lock = cache.map(|store| store.lock(false)).transpose()?;
    let fingerprints = planned.record_fingerprints();
    let recorder = Recorder {
        bundle_hash: planned.bundle.hash(),
        capture: run.capture,
        execution: Execution::InProcess,
        fingerprints: &fingerprints,
        planned_toolchain: None,
    };
    let keep = cache.map_or(Keep::Nowhere, Keep::Indexed);
    rendered
        .into_iter()
        .map(|chunk| recorder.record(chunk, keep))
        .collect()
}
