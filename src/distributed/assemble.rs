//! `assemble`: join a bundle's chunks, in plan order, from their stored records.
//!
//! Every chunk record is checked (it answers its chunk, every frame was captured, its encoded
//! blob verifies) before anything is joined; the video, its `frames.json` and a run record are
//! written only when all of them are there.

use std::time::Instant;

use camino::Utf8PathBuf;

use super::error::DistributedError;
use crate::browser::CaptureMode;
use crate::bundle::Bundle;
use crate::media::VideoMode;
use crate::render::{
    ChunkCache, Fingerprints, Finish, FinishedChunk, FramesRecord, RenderSettings, check_container,
    fingerprint_toolchain, finish, record_fingerprints, report_finished, work_dir,
};
use crate::report::Reporter;
use crate::store::{Execution, Store};
use crate::timing::ChunkIndex;
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
    /// How the chunks' videos were shown.
    pub video_mode: VideoMode,
    /// The tools (for ffmpeg and the fingerprints of the records to look up).
    pub toolchain: Toolchain,
    /// Fail on requests outside the composition.
    pub strict: bool,
}

/// Joins the chunks of a bundle rendered earlier (by `render-chunk`).
pub async fn assemble(
    request: &AssembleRequest,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, DistributedError> {
    let started = Instant::now();
    let (_work_guard, work) = work_dir(&request.output)?;
    let bundle = Bundle::open(&request.bundle)?;
    check_container(&request.output, bundle.encoder_settings().codec)?;
    bundle.verify()?;
    let found = find_records(request, &bundle, reporter).await?;
    if !found.missing.is_empty() {
        return Err(DistributedError::MissingChunks {
            chunks: found.missing,
            bundle: bundle.hash().clone(),
            bundle_dir: request.bundle.clone(),
            execution: request.execution,
            store: request.store.root().to_owned(),
        });
    }
    let record = finish(
        Finish {
            bundle: &bundle,
            plan: &bundle.plan.chunk_plan,
            fingerprints: &found.fingerprints,
            ffmpeg: &request.toolchain.ffmpeg.real,
            work: &work,
            output: &request.output,
            strict: request.strict,
            virtual_time: true,
            audio_delay_ms: 0,
            store: Some(&request.store),
            png: None,
        },
        &found.chunks,
    )?;
    report_finished(reporter, &request.output, &record, started);
    Ok(record)
}

/// The stored records of a bundle's chunks, looked up as `assemble` does.
struct Found {
    fingerprints: Fingerprints,
    chunks: Vec<FinishedChunk>,
    missing: Vec<ChunkIndex>,
}

async fn find_records(
    request: &AssembleRequest,
    bundle: &Bundle,
    reporter: &dyn Reporter,
) -> Result<Found, DistributedError> {
    let fingerprint = fingerprint_toolchain(&request.toolchain, Some(&request.store)).await?;
    let settings = RenderSettings {
        capture: request.capture,
        encoder: bundle.encoder_settings(),
        virtual_time: true,
        video_mode: request.video_mode,
    };
    let fingerprints = record_fingerprints(&fingerprint, &settings);
    let cache = ChunkCache {
        store: &request.store,
        bundle_hash: bundle.hash(),
        execution: request.execution,
        fingerprints: &fingerprints,
    };
    let mut chunks = Vec::new();
    let mut missing = Vec::new();
    for (index, range) in bundle.plan.chunk_plan.indexed() {
        match cache.find(index, range, reporter) {
            Some(found) => chunks.push(found),
            None => missing.push(index),
        }
    }
    Ok(Found {
        fingerprints: Fingerprints::shown(fingerprints, &fingerprint),
        chunks,
        missing,
    })
}

/// The chunks of `request`'s bundle that have no usable record in its store yet (what a
/// scheduler still has to render before `assemble` can join them).
pub async fn missing_chunks(
    request: &AssembleRequest,
    reporter: &dyn Reporter,
) -> Result<Vec<ChunkIndex>, DistributedError> {
    let bundle = Bundle::open(&request.bundle)?;
    Ok(find_records(request, &bundle, reporter).await?.missing)
}
