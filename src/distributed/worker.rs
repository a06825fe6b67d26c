//! `render-chunk`: one chunk of a bundle, in a process of its own that sees only the bundle.
//!
//! Before rendering, the worker recomputes the bundle hash (`BUNDLE_HASH_MISMATCH`), compares
//! its toolchain with the planning machine's (`TOOLCHAIN_MISMATCH`), and checks that its
//! browser rasterises in software (`BROWSER_GPU_NOT_SOFTWARE`). The result goes into the store:
//! the encoded chunk as a blob, and a chunk record indexed by its cache key.

use std::time::Duration;

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use super::DistributedError;
use crate::browser::{CaptureMode, PageFault, SandboxPolicy};
use crate::bundle::{Bundle, BundleError, ToolchainRecord};
use crate::error::Error;
use crate::hash::ContentHash;
use crate::media::VideoMode;
use crate::render::{
    BrowserRun, ChunkCache, ChunkWork, RenderSettings, fingerprint_toolchain, record_fingerprints,
    render_chunks,
};
use crate::report::Reporter;
use crate::store::{ChunkRecord, Execution, RECORD_FORMAT_VERSION, Store};
use crate::toolchain::Toolchain;

/// One chunk to render.
#[derive(Debug, Clone)]
pub struct ChunkRequest {
    /// The bundle folder.
    pub bundle: camino::Utf8PathBuf,
    /// Which chunk of its plan.
    pub chunk: usize,
    /// Where results go.
    pub store: Store,
    /// Capture mode.
    pub capture: CaptureMode,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// Time allowed for one seek or one capture.
    pub frame_timeout: Duration,
    /// The tools.
    pub toolchain: Toolchain,
    /// Render even though this machine's toolchain differs from the planning machine's (the
    /// record says so).
    pub allow_toolchain_mismatch: bool,
    /// Neither read nor write the cache index (the record is still stored).
    pub no_cache: bool,
    /// Self-test fault put into the page. Such a chunk is never read from or indexed in the
    /// cache.
    pub page_fault: Option<PageFault>,
    /// Self-test fault: encode with this quantiser instead of the bundle's. Never cached.
    pub encoder_qp: Option<u8>,
    /// How videos are shown.
    pub video_mode: VideoMode,
}

/// What `render-chunk` prints on stdout, one JSON line: the orchestrator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkOutcome {
    /// The chunk.
    pub chunk: usize,
    /// Its stored record.
    pub record: ContentHash,
    /// Whether the record was reused from the store.
    pub reused: bool,
}

/// Renders (or reuses) one chunk.
pub async fn render_chunk(
    request: &ChunkRequest,
    reporter: &dyn Reporter,
) -> Result<ChunkOutcome, Error> {
    let bundle = Bundle::open(&request.bundle)?;
    bundle.verify()?;
    let count = bundle.plan.chunk_plan.chunks().len();
    let range =
        *bundle
            .plan
            .chunk_plan
            .chunks()
            .get(request.chunk)
            .ok_or(BundleError::NoSuchChunk {
                index: request.chunk,
                count,
            })?;

    let fingerprint = fingerprint_toolchain(&request.toolchain, Some(&request.store)).await?;
    let here = ToolchainRecord::from(&fingerprint);
    let mismatch = here.fingerprint != bundle.plan.toolchain.fingerprint;
    if mismatch && !request.allow_toolchain_mismatch {
        return Err(DistributedError::ToolchainMismatch {
            planned: Box::new(bundle.plan.toolchain.clone()),
            here: Box::new(here),
        }
        .into());
    }
    let mut encoder = bundle.encoder_settings();
    if let Some(qp) = request.encoder_qp {
        encoder.qp = qp;
    }
    let settings = RenderSettings {
        capture: request.capture,
        encoder,
        virtual_time: true,
        video_mode: request.video_mode,
    };
    let fingerprints = record_fingerprints(&fingerprint, &settings);
    let no_cache = request.no_cache || request.page_fault.is_some() || request.encoder_qp.is_some();
    let cache = ChunkCache {
        store: &request.store,
        bundle_hash: bundle.hash(),
        execution: Execution::Worker,
        fingerprints: &fingerprints,
    };
    if let Some((record, _)) = (!no_cache)
        .then(|| cache.find(request.chunk, range, reporter))
        .flatten()
    {
        return Ok(ChunkOutcome {
            chunk: request.chunk,
            record,
            reused: true,
        });
    }

    let work = tempfile::Builder::new()
        .prefix(".framelock-chunk-")
        .tempdir_in(request.store.root())
        .map_err(|source| crate::store::StoreError::Io {
            path: request.store.root().to_owned(),
            source,
        })?;
    let work_path = Utf8Path::from_path(work.path())
        .expect("the store path is UTF-8")
        .to_owned();
    let run = BrowserRun {
        composition: bundle.composition(),
        capture: request.capture,
        sandbox: request.sandbox,
        virtual_time: true,
        fault: request.page_fault,
        video_mode: request.video_mode,
        media: bundle.page_media(),
        frame_timeout: request.frame_timeout,
        toolchain: request.toolchain.clone(),
        encoder: settings.encoder.clone(),
    };
    let chunk = ChunkWork {
        index: request.chunk,
        range,
    };
    let rendered = render_chunks(&run, &[chunk], &work_path, None, reporter)
        .await?
        .chunks;
    let rendered = rendered
        .into_iter()
        .next()
        .expect("one chunk in, one chunk out");

    let store = &request.store;
    let _lock = store.lock(false)?;
    let record = ChunkRecord {
        format_version: RECORD_FORMAT_VERSION,
        bundle_hash: bundle.hash().clone(),
        chunk_index: request.chunk,
        range,
        frames_captured: rendered.frame_hashes.len() as u64,
        frame_hashes: rendered.frame_hashes,
        encoded_blob: store.put_file(&rendered.file)?,
        capture_mode: request.capture,
        execution: Execution::Worker,
        fingerprints,
        seconds: rendered.seconds,
        page_events: rendered.page_events,
        planned_toolchain: mismatch.then(|| bundle.plan.toolchain.fingerprint.clone()),
        video_frames: rendered.video_frames,
    };
    let hash = if no_cache {
        record.put(store)?
    } else {
        record.save(store)?
    };
    Ok(ChunkOutcome {
        chunk: request.chunk,
        record: hash,
        reused: false,
    })
}
