//! `framelock render`: plan the composition into a bundle, render every chunk in one browser
//! (or reuse the stored records of an identical earlier render), and assemble the video.

use std::time::{Duration, Instant};

use camino::Utf8PathBuf;

use super::engine::{BrowserRun, ChunkWork, RenderError, probe_duration, render_chunks};
use super::output::{
    ChunkCache, check_container, check_hermetic, join, publish, report_finished, store_run,
    work_dir,
};
use super::record::{FRAMES_FORMAT_VERSION, Fingerprints, FramesRecord};
use super::settings::{RenderSettings, fingerprint_toolchain, record_fingerprints};
use crate::browser::{CaptureMode, PageEvent, PageFault, SandboxPolicy};
use crate::bundle::{Bundle, Chunking, EncoderMeta, PlanInput, plan};
use crate::composition::{Composition, DurationSpec};
use crate::encode::EncoderSettings;
use crate::error::Error;
use crate::hash::ContentHash;
use crate::media::{VideoFrames, VideoMode};
use crate::report::{RenderEvent, Reporter};
use crate::store::{ChunkRecord, Execution, RECORD_FORMAT_VERSION, RecordFingerprints, Store};
use crate::timing::{ChunkPlan, FrameRange};
use crate::toolchain::{Toolchain, ToolchainFingerprint};

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
    /// How frames are captured.
    pub capture: CaptureMode,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// Fail when the page requested anything outside the composition.
    pub strict: bool,
    /// The virtual-time runtime (off only to debug, or to prove the tests can fail; never
    /// cached).
    pub virtual_time: bool,
    /// Time allowed for one seek or one capture.
    pub frame_timeout: Duration,
    /// The tools.
    pub toolchain: Toolchain,
    /// The store for chunk records; `None` neither reads nor writes a cache.
    pub store: Option<Store>,
    /// How videos are shown.
    pub video_mode: VideoMode,
    /// Self-test fault (`regress --inject wall-clock:CHUNK`): the page reads the real clock
    /// while this chunk's frames are prepared. Such a render is never cached.
    pub leak_wall_clock: Option<usize>,
}

/// What every path needs before rendering: fingerprints and the bundle.
pub(crate) struct Prepared {
    pub(crate) fingerprint: ToolchainFingerprint,
    pub(crate) settings: RenderSettings,
    pub(crate) bundle: Bundle,
}

impl Prepared {
    /// The fingerprints of records made now.
    pub(crate) fn record_fingerprints(&self) -> RecordFingerprints {
        record_fingerprints(&self.fingerprint, &self.settings)
    }

    /// The fingerprints shown in `frames.json`.
    pub(crate) fn fingerprints(&self) -> Fingerprints {
        Fingerprints::shown(self.record_fingerprints(), &self.fingerprint)
    }
}

/// Fingerprints the toolchain, reads the duration from the page if only it knows, and plans
/// the composition into a bundle at `bundle_dir`.
pub(crate) async fn prepare(
    composition: &Composition,
    run_template: &BrowserRun,
    chunking: Option<Chunking>,
    bundle_dir: &camino::Utf8Path,
    store: Option<&Store>,
    reporter: &dyn Reporter,
) -> Result<Prepared, Error> {
    reporter.report(&RenderEvent::Fingerprinting);
    let fingerprint = fingerprint_toolchain(&run_template.toolchain, store).await?;
    let page_duration = match composition.duration {
        DurationSpec::FromPage => Some(probe_duration(run_template, reporter).await?),
        _ => None,
    };
    let settings = RenderSettings {
        capture: run_template.capture,
        encoder: run_template.encoder.clone(),
        virtual_time: run_template.virtual_time,
        video_mode: run_template.video_mode,
    };
    let bundle = plan(
        &PlanInput {
            composition,
            page_duration,
            chunking,
            toolchain: &fingerprint,
            encoder: EncoderMeta::from(&settings.encoder),
            ffmpeg: &run_template.toolchain.ffmpeg.real,
        },
        bundle_dir,
    )?;
    reporter.report(&RenderEvent::Planned {
        bundle_hash: bundle.hash().to_string(),
        chunks: bundle.plan.chunk_plan.chunks().len(),
    });
    Ok(Prepared {
        fingerprint,
        settings,
        bundle,
    })
}

/// Renders `request` in one process, reporting progress to `reporter`; returns the record that
/// was written beside the video.
pub async fn render(
    request: &RenderRequest,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, Error> {
    check_container(&request.output, request.composition.format.codec())?;
    let (_work_guard, work) = work_dir(&request.output)?;
    let source_run = BrowserRun {
        composition: request.composition.clone(),
        capture: request.capture,
        sandbox: request.sandbox,
        virtual_time: request.virtual_time,
        fault: None,
        video_mode: request.video_mode,
        media: None,
        frame_timeout: request.frame_timeout,
        toolchain: request.toolchain.clone(),
        encoder: EncoderSettings::for_codec(request.composition.format.codec()),
    };
    let prepared = prepare(
        &request.composition,
        &source_run,
        request.chunk_size.map(Chunking::Size),
        &work.join("bundle"),
        request.store.as_ref(),
        reporter,
    )
    .await?;
    let bundle = &prepared.bundle;
    let total = bundle.meta.frames;
    let (plan, range) = match request.frames {
        Some(r) if r.end().0 > total => {
            return Err(RenderError::RangeOutside { range: r, total }.into());
        }
        Some(r) => {
            let size = bundle.plan.chunk_plan.chunks()[0].len();
            (ChunkPlan::by_size(r, size), r)
        }
        None => (
            bundle.plan.chunk_plan.clone(),
            FrameRange::new(0, total).expect("bundles have frames"),
        ),
    };
    let chunks = ChunkWork::all(&plan);
    let fault = match request.leak_wall_clock {
        Some(chunk) => Some(PageFault::WallClock(*plan.chunks().get(chunk).ok_or(
            RenderError::InjectionOutside {
                chunk,
                count: plan.chunks().len(),
            },
        )?)),
        None => None,
    };
    let run = BrowserRun {
        composition: bundle.composition(),
        encoder: bundle.encoder_settings(),
        fault,
        media: bundle.page_media(),
        ..source_run
    };
    let cache = request.store.as_ref().filter(|_| {
        request.frames.is_none()
            && request.png_dir.is_none()
            && request.virtual_time
            && fault.is_none()
    });
    let fingerprints = prepared.record_fingerprints();

    let started = Instant::now();
    let reused = match cache {
        Some(store) => reuse_all(
            ChunkCache {
                store,
                bundle_hash: bundle.hash(),
                execution: Execution::InProcess,
                fingerprints: &fingerprints,
            },
            &chunks,
            reporter,
        ),
        None => None,
    };
    let reused_chunks = reused.as_ref().map_or(0, Vec::len);
    let outputs: Vec<ChunkOutput> = match reused {
        Some(found) => found
            .into_iter()
            .map(|(hash, r)| ChunkOutput {
                file: cache
                    .expect("reuse needs a store")
                    .blob_path(&r.encoded_blob),
                record: Some(hash),
                frame_hashes: r.frame_hashes,
                page_events: r.page_events,
                video_frames: r.video_frames,
            })
            .collect(),
        None => {
            let png_work = request.png_dir.as_ref().map(|_| work.join("png"));
            if let Some(dir) = &png_work {
                std::fs::create_dir_all(dir).map_err(|source| RenderError::Write {
                    path: dir.clone(),
                    source,
                })?;
            }
            let rendered = render_chunks(&run, &chunks, &work, png_work.as_deref(), reporter)
                .await?
                .chunks;
            let _lock = cache.map(|store| store.lock(false)).transpose()?;
            let mut outputs = Vec::with_capacity(rendered.len());
            for chunk in rendered {
                let record = match cache {
                    Some(store) => Some(
                        ChunkRecord {
                            format_version: RECORD_FORMAT_VERSION,
                            bundle_hash: bundle.hash().clone(),
                            chunk_index: chunk.index,
                            range: chunk.range,
                            frames_captured: chunk.frame_hashes.len() as u64,
                            frame_hashes: chunk.frame_hashes.clone(),
                            encoded_blob: store.put_file(&chunk.file)?,
                            capture_mode: request.capture,
                            execution: Execution::InProcess,
                            fingerprints: fingerprints.clone(),
                            seconds: chunk.seconds,
                            page_events: chunk.page_events.clone(),
                            planned_toolchain: None,
                            video_frames: chunk.video_frames.clone(),
                        }
                        .save(store)?,
                    ),
                    None => None,
                };
                outputs.push(ChunkOutput {
                    record,
                    file: chunk.file,
                    frame_hashes: chunk.frame_hashes,
                    page_events: chunk.page_events,
                    video_frames: chunk.video_frames,
                });
            }
            outputs
        }
    };
    let records: Vec<ContentHash> = outputs.iter().filter_map(|o| o.record.clone()).collect();
    let chunk_files: Vec<Utf8PathBuf> = outputs.iter().map(|o| o.file.clone()).collect();
    let frame_hashes: Vec<String> = outputs
        .iter()
        .flat_map(|o| o.frame_hashes.clone())
        .collect();
    let page_events: Vec<PageEvent> = outputs.iter().flat_map(|o| o.page_events.clone()).collect();
    let video_frames: Vec<VideoFrames> = outputs.into_iter().flat_map(|o| o.video_frames).collect();

    let frame_count = frame_hashes.len() as u64;
    let chunk_hashes = chunk_files
        .iter()
        .map(|file| {
            ContentHash::of_file(file).map_err(|source| RenderError::Write {
                path: file.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (video, video_blake3) = join(
        &request.toolchain.ffmpeg.real,
        run.encoder.codec,
        &work,
        &chunk_files,
        bundle.audio_track(0).as_ref(),
    )?;
    let mut record = FramesRecord {
        format_version: FRAMES_FORMAT_VERSION,
        composition: bundle.plan.name.clone(),
        bundle_hash: bundle.hash().clone(),
        fps: bundle.meta.fps,
        width: bundle.meta.width,
        height: bundle.meta.height,
        total_frames: total,
        duration_source: bundle.plan.duration_source,
        range,
        frame_count,
        capture_mode: request.capture,
        virtual_time: request.virtual_time,
        execution: Execution::InProcess,
        chunk_plan: plan,
        chunk_records: records,
        chunk_hashes,
        reused_chunks,
        video_blake3: video_blake3.clone(),
        run_record: None,
        fingerprints: prepared.fingerprints(),
        frame_hashes,
        page_events,
        video_frames,
    };
    if request.strict {
        check_hermetic(&record)?;
    }
    let png = request
        .png_dir
        .as_deref()
        .map(|dst| (work.join("png"), dst.to_owned()));
    if let Some(store) = cache {
        record.run_record = Some(store_run(store, &record, &video_blake3)?);
    }
    publish(
        &work,
        &video,
        &record,
        &request.output,
        png.as_ref().map(|(a, b)| (a.as_path(), b.as_path())),
    )?;
    report_finished(reporter, &request.output, &record, started);
    Ok(record)
}

/// One chunk of an in-process render, rendered now or reused from the store.
struct ChunkOutput {
    /// Its stored record, when the render is cached.
    record: Option<ContentHash>,
    /// The encoded chunk.
    file: Utf8PathBuf,
    frame_hashes: Vec<String>,
    page_events: Vec<PageEvent>,
    video_frames: Vec<VideoFrames>,
}

/// Every chunk's in-process record, if all of them are stored and intact; the in-process path
/// is one browser walking all frames, so it reuses all chunks or none.
fn reuse_all(
    cache: ChunkCache<'_>,
    chunks: &[ChunkWork],
    reporter: &dyn Reporter,
) -> Option<Vec<(ContentHash, ChunkRecord)>> {
    chunks
        .iter()
        .map(|chunk| cache.find(chunk.index, chunk.range, reporter))
        .collect()
}
