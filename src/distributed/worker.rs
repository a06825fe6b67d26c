//! `render-chunk`: one chunk of a bundle, in a process of its own that sees only the bundle.
//!
//! Before rendering, the worker recomputes the bundle hash (`BUNDLE_HASH_MISMATCH`), checks the
//! job's spec against the bundle and its own render settings (`RENDER_SETTINGS_MISMATCH`),
//! compares its toolchain with the planning machine's (`TOOLCHAIN_MISMATCH`), and checks that
//! its browser rasterises in software (`BROWSER_GPU_NOT_SOFTWARE`). The result goes into the
//! store: the encoded chunk as a blob, and a chunk record indexed by its cache key.

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::error::DistributedError;
use super::spec::WorkerSpec;
use crate::bundle::{Bundle, BundleError, ToolchainRecord};
use crate::hash::ContentHash;
use crate::render::{
    BrowserRun, ChunkCache, ChunkWork, Keep, Recorder, RenderSettings, RunSettings,
    fingerprint_toolchain, record_fingerprints, render_chunks,
};
use crate::report::{RenderEvent, Reporter};
use crate::store::{Execution, Store, StoreError};
use crate::timing::ChunkIndex;
use crate::toolchain::{ToolChoice, Toolchain};

/// One chunk to render.
#[derive(Debug, Clone)]
pub struct ChunkRequest {
    /// The bundle folder.
    pub bundle: Utf8PathBuf,
    /// Which chunk of its plan.
    pub chunk: ChunkIndex,
    /// Where results go.
    pub store: Store,
    /// How the job renders.
    pub spec: WorkerSpec,
    /// The tools this worker's own command line gave; the spec's win.
    pub tools: ToolChoice,
}

/// What `render-chunk` prints on stdout, one JSON line: the orchestrator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkOutcome {
    /// The chunk.
    pub chunk: ChunkIndex,
    /// Its stored record.
    pub record: ContentHash,
    /// Whether the record was reused from the store.
    pub reused: bool,
}

/// Renders (or reuses) one chunk.
pub async fn render_chunk(
    request: &ChunkRequest,
    reporter: &dyn Reporter,
) -> Result<ChunkOutcome, DistributedError> {
    let spec = &request.spec;
    let bundle = Bundle::open(&request.bundle)?;
    bundle.verify()?;
    spec.check(&bundle, &request.bundle)?;
    reporter.report(&RenderEvent::WorkerSpecRead {
        chunk: request.chunk,
        spec: spec.hash(),
        settings: spec.summary(),
    });
    let range = bundle
        .plan
        .chunk_plan
        .get(request.chunk)
        .ok_or(BundleError::NoSuchChunk {
            index: request.chunk,
            count: bundle.plan.chunk_plan.len(),
        })?;
    let toolchain = Toolchain::locate(&spec.tools.over(&request.tools))?;
    let fingerprint = fingerprint_toolchain(&toolchain, Some(&request.store)).await?;
    let here = ToolchainRecord::from(&fingerprint);
    let mismatch = here.fingerprint != bundle.plan.toolchain.fingerprint;
    if mismatch && !spec.allow_toolchain_mismatch {
        return Err(DistributedError::ToolchainMismatch {
            planned: Box::new(bundle.plan.toolchain.clone()),
            here: Box::new(here),
        });
    }
    let page_fault = spec.inject.and_then(|i| i.page_fault(request.chunk));
    let encoder_qp = spec.inject.and_then(|i| i.encoder_qp(request.chunk));
    let mut run = BrowserRun::for_bundle(
        &bundle,
        RunSettings {
            capture: spec.capture,
            sandbox: spec.sandbox,
            video_mode: spec.video_mode,
            frame_timeout: spec.frame_timeout(),
            toolchain,
            virtual_time: true,
        },
    );
    run.fault = page_fault;
    if let Some(qp) = encoder_qp {
        run.encoder.qp = qp;
    }
    let fingerprints = record_fingerprints(
        &fingerprint,
        &RenderSettings {
            capture: run.capture,
            encoder: run.encoder.clone(),
            virtual_time: true,
            video_mode: run.video_mode,
        },
    );
    // A faulty chunk proves the harness: the cache neither answers nor keeps it.
    let cached = spec.use_cache && page_fault.is_none() && encoder_qp.is_none();
    let cache = ChunkCache {
        store: &request.store,
        bundle_hash: bundle.hash(),
        execution: Execution::Worker,
        fingerprints: &fingerprints,
    };
    if let Some(found) = cached
        .then(|| cache.find(request.chunk, range, reporter))
        .flatten()
    {
        return Ok(ChunkOutcome {
            chunk: request.chunk,
            record: found.stored.expect("a cache hit is stored"),
            reused: true,
        });
    }

    let store = &request.store;
    let work = tempfile::Builder::new()
        .prefix(".framelock-chunk-")
        .tempdir_in(store.root())
        .map_err(|source| StoreError::Io {
            path: store.root().to_owned(),
            source,
        })?;
    let work_path = Utf8Path::from_path(work.path()).expect("the store path is UTF-8");
    let chunk = ChunkWork {
        index: request.chunk,
        range,
    };
    let rendered = render_chunks(&run, &[chunk], work_path, None, reporter)
        .await?
        .chunks
        .into_iter()
        .next()
        .expect("one chunk in, one chunk out");
    let _lock = store.lock(false)?;
    let recorder = Recorder {
        bundle_hash: bundle.hash(),
        capture: run.capture,
        execution: Execution::Worker,
        fingerprints: &fingerprints,
        planned_toolchain: mismatch.then(|| bundle.plan.toolchain.fingerprint.clone()),
    };
    let keep = if cached {
        Keep::Indexed(store)
    } else {
        Keep::Stored(store)
    };
    let finished = recorder.record(rendered, keep)?;
    Ok(ChunkOutcome {
        chunk: request.chunk,
        record: finished.stored.expect("a worker's record is stored"),
        reused: false,
    })
}

/// The environment variables array schedulers set to a task's index, in the order they are
/// read: Slurm array jobs, Kubernetes Indexed Jobs, AWS Batch array jobs.
pub const ARRAY_INDEX_VARS: [&str; 3] = [
    "SLURM_ARRAY_TASK_ID",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// The chunk an array task renders when `--chunk` is not given: the first of
/// [`ARRAY_INDEX_VARS`] that is set, read through `var`.
pub fn chunk_from_environment(
    var: impl Fn(&str) -> Option<String>,
) -> Result<ChunkIndex, DistributedError> {
    let (name, value) = ARRAY_INDEX_VARS
        .iter()
        .find_map(|name| var(name).map(|value| (*name, value)))
        .ok_or(DistributedError::NoChunk)?;
    value
        .parse()
        .map_err(|_| DistributedError::BadArrayIndex { var: name, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn an_array_task_renders_the_chunk_its_scheduler_numbers_it() {
        assert_eq!(
            chunk_from_environment(env(&[("SLURM_ARRAY_TASK_ID", "3")])).unwrap(),
            ChunkIndex(3)
        );
        assert_eq!(
            chunk_from_environment(env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap(),
            ChunkIndex(0)
        );
        assert_eq!(
            chunk_from_environment(env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "7")])).unwrap(),
            ChunkIndex(7)
        );
        // Slurm first: a Slurm job inside a cluster that also sets the others is still Slurm's.
        assert_eq!(
            chunk_from_environment(env(&[
                ("JOB_COMPLETION_INDEX", "1"),
                ("SLURM_ARRAY_TASK_ID", "2"),
            ]))
            .unwrap(),
            ChunkIndex(2)
        );
        assert!(matches!(
            chunk_from_environment(env(&[])),
            Err(DistributedError::NoChunk)
        ));
        let err = chunk_from_environment(env(&[("SLURM_ARRAY_TASK_ID", "4294967296x")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("$SLURM_ARRAY_TASK_ID") && err.contains("chunk index"),
            "{err}"
        );
    }
}
