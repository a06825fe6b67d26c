//! `assemble`: join a bundle's chunks, in plan order, from their stored records.
//!
//! Every chunk record is checked (it answers its chunk, every frame was captured, its encoded
//! blob verifies) before anything is joined; the video, its `frames.json` and a run record are
//! written only when all of them are there.

use std::time::Instant;

use camino::{Utf8Path, Utf8PathBuf};

use crate::browser::CaptureMode;
use crate::bundle::Bundle;
use crate::error::Error;
use crate::hash::ContentHash;
use crate::render::{
    ChunkCache, FRAMES_FORMAT_VERSION, Fingerprints, FramesRecord, RenderError, RenderSettings,
    check_container, check_hermetic, fingerprint_toolchain, join, publish, record_fingerprints,
    report_finished, store_run, work_dir,
};
use crate::report::Reporter;
use crate::store::{ChunkRecord, Execution, Store};
use crate::timing::FrameRange;
use crate::toolchain::Toolchain;

/// What `assemble` needs.
#[derive(Debug, Clone)]
pub struct AssembleRequest {
    /// The bundle folder.
    pub bundle: Utf8PathBuf,
    /// The store holding its chunk records.
    pub store: Store,
    /// The video to write.
    pub output: Utf8PathBuf,
    /// Which records to join.
    pub execution: Execution,
    /// The capture mode the chunks were rendered with.
    pub capture: CaptureMode,
    /// The tools (for ffmpeg and the fingerprints of the records to look up).
    pub toolchain: Toolchain,
    /// Fail on requests outside the composition.
    pub strict: bool,
    /// How the chunks' videos were shown.
    pub video_mode: crate::media::VideoMode,
}

/// Joins the chunks of a bundle rendered earlier (by `render-chunk`).
pub async fn assemble(
    request: &AssembleRequest,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, Error> {
    let started = Instant::now();
    let (_work_guard, work) = work_dir(&request.output)?;
    let bundle = Bundle::open(&request.bundle)?;
    check_container(&request.output, bundle.encoder_settings().codec)?;
    bundle.verify()?;
    let Found {
        fingerprint,
        fingerprints,
        records,
        missing,
    } = find_records(request, &bundle, reporter).await?;
    if !missing.is_empty() {
        return Err(RenderError::MissingChunks {
            chunks: missing,
            bundle: bundle.hash().to_string(),
            bundle_dir: request.bundle.clone(),
            execution: request.execution.to_string(),
            store: request.store.root().to_owned(),
        }
        .into());
    }
    let shown = Fingerprints::shown(fingerprints, &fingerprint);
    let record = assemble_records(
        &bundle,
        &shown,
        records,
        &request.store,
        Joining {
            ffmpeg: &request.toolchain.ffmpeg.real,
            work: &work,
            output: &request.output,
            strict: request.strict,
            audio_delay_ms: 0,
        },
    )?;
    report_finished(reporter, &request.output, &record, started);
    Ok(record)
}

/// The stored records of a bundle's chunks, looked up as `assemble` does.
struct Found {
    fingerprint: crate::toolchain::ToolchainFingerprint,
    fingerprints: crate::store::RecordFingerprints,
    records: Vec<(ContentHash, ChunkRecord, bool)>,
    missing: Vec<usize>,
}

async fn find_records(
    request: &AssembleRequest,
    bundle: &Bundle,
    reporter: &dyn Reporter,
) -> Result<Found, Error> {
    let fingerprint = fingerprint_toolchain(&request.toolchain, Some(&request.store)).await?;
    let settings = RenderSettings {
        capture: request.capture,
        encoder: bundle.encoder_settings(),
        virtual_time: true,
        video_mode: request.video_mode,
    };
    let fingerprints = record_fingerprints(&fingerprint, &settings);
    let mut records = Vec::new();
    let mut missing = Vec::new();
    let cache = ChunkCache {
        store: &request.store,
        bundle_hash: bundle.hash(),
        execution: request.execution,
        fingerprints: &fingerprints,
    };
    for (index, range) in bundle.plan.chunk_plan.chunks().iter().enumerate() {
        match cache.find(index, *range, reporter) {
            Some((hash, record)) => records.push((hash, record, true)),
            None => missing.push(index),
        }
    }
    Ok(Found {
        fingerprint,
        fingerprints,
        records,
        missing,
    })
}

/// The chunks of `request`'s bundle that have no usable record in its store yet (what a
/// scheduler still has to render before `assemble` can join them).
pub async fn missing_chunks(
    request: &AssembleRequest,
    reporter: &dyn Reporter,
) -> Result<Vec<usize>, Error> {
    let bundle = Bundle::open(&request.bundle)?;
    Ok(find_records(request, &bundle, reporter).await?.missing)
}

/// Where and how chunks are joined.
#[derive(Debug, Clone, Copy)]
pub struct Joining<'a> {
    /// ffmpeg.
    pub ffmpeg: &'a Utf8Path,
    /// The work folder beside the output.
    pub work: &'a Utf8Path,
    /// The video to write.
    pub output: &'a Utf8Path,
    /// Fail on requests outside the composition.
    pub strict: bool,
    /// Self-test fault: milliseconds the sound is made late by; 0 normally.
    pub audio_delay_ms: u64,
}

/// Checks `records` (one per chunk of the plan, in plan order, each with whether it was
/// reused) and writes the joined video with its `frames.json` and run record.
pub fn assemble_records(
    bundle: &Bundle,
    fingerprints: &Fingerprints,
    records: Vec<(ContentHash, ChunkRecord, bool)>,
    store: &Store,
    joining: Joining<'_>,
) -> Result<FramesRecord, Error> {
    let Joining {
        ffmpeg,
        work,
        output,
        strict,
        audio_delay_ms,
    } = joining;
    let plan = &bundle.plan.chunk_plan;
    let mut files = Vec::with_capacity(records.len());
    for ((index, range), (_, record, _)) in plan.chunks().iter().enumerate().zip(&records) {
        if record.chunk_index != index || record.range != *range {
            return Err(RenderError::WrongChunk {
                index,
                range: *range,
            }
            .into());
        }
        if record.frames_captured != range.len() || record.frame_hashes.len() as u64 != range.len()
        {
            return Err(RenderError::IncompleteChunk {
                index,
                range: *range,
                found: record.frames_captured,
                expected: range.len(),
            }
            .into());
        }
        store.verify(&record.encoded_blob)?;
        files.push(store.blob_path(&record.encoded_blob));
    }
    let execution = records
        .first()
        .map_or(Execution::Worker, |(_, r, _)| r.execution);
    let capture = records
        .first()
        .map_or(CaptureMode::BeginFrame, |(_, r, _)| r.capture_mode);
    let audio = bundle.audio_track(audio_delay_ms);
    let (video, video_blake3) = join(
        ffmpeg,
        bundle.encoder_settings().codec,
        work,
        &files,
        audio.as_ref(),
    )?;
    let mut record = FramesRecord {
        format_version: FRAMES_FORMAT_VERSION,
        composition: bundle.plan.name.clone(),
        bundle_hash: bundle.hash().clone(),
        fps: bundle.meta.fps,
        width: bundle.meta.width,
        height: bundle.meta.height,
        total_frames: bundle.meta.frames,
        duration_source: bundle.plan.duration_source,
        range: FrameRange::new(0, bundle.meta.frames).expect("bundles have frames"),
        frame_count: records.iter().map(|(_, r, _)| r.frames_captured).sum(),
        capture_mode: capture,
        virtual_time: true,
        execution,
        chunk_plan: plan.clone(),
        chunk_records: records.iter().map(|(h, _, _)| h.clone()).collect(),
        chunk_hashes: records
            .iter()
            .map(|(_, r, _)| r.encoded_blob.clone())
            .collect(),
        reused_chunks: records.iter().filter(|(_, _, reused)| *reused).count(),
        video_blake3: video_blake3.clone(),
        run_record: None,
        fingerprints: fingerprints.clone(),
        frame_hashes: records
            .iter()
            .flat_map(|(_, r, _)| r.frame_hashes.clone())
            .collect(),
        page_events: records
            .iter()
            .flat_map(|(_, r, _)| r.page_events.clone())
            .collect(),
        video_frames: records
            .iter()
            .flat_map(|(_, r, _)| r.video_frames.clone())
            .collect(),
    };
    if strict {
        check_hermetic(&record)?;
    }
    record.run_record = Some(store_run(store, &record, &video_blake3)?);
    publish(work, &video, &record, output, None)?;
    Ok(record)
}
