//! The distributed leg of a fixture: the same bundle rendered by workers, on this machine
//! (`distributed-simulated`) or as a Slurm array job (`distributed --executor slurm`).

use camino::Utf8Path;

use super::error::RegressError;
use super::request::{Executor, RegressRequest};
use super::setup::FixtureSetup;
use crate::bundle::Chunking;
use crate::distributed::{
    AssembleRequest, ChunkOrder, DistributedRequest, WorkerSettings, WorkerSpec, render_distributed,
};
use crate::render::{FramesRecord, Planning, plan_bundle};
use crate::report::Reporter;
use crate::store::Execution;
use crate::submit::{SlurmJob, submit_and_assemble};

/// The worker render of the fixture, as the request's executor says.
pub(super) async fn distributed_leg(
    request: &RegressRequest,
    setup: &FixtureSetup,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, RegressError> {
    match &request.executor {
        Some(Executor::Slurm { partition }) => {
            through_slurm(request, setup, partition.clone(), reporter).await
        }
        None => Ok(simulated(request, setup, reporter).await?),
    }
}

/// The distributed leg on this machine: local worker processes.
async fn simulated(
    request: &RegressRequest,
    setup: &FixtureSetup,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, RegressError> {
    Ok(render_distributed(
        &DistributedRequest {
            composition: setup.composition.clone(),
            output: setup.videos.distributed.clone(),
            chunk_size: Some(setup.chunk_size),
            workers: request.workers,
            run: request.run.clone(),
            strict: false,
            store: request.store.clone(),
            use_cache: request.use_cache,
            worker_exe: request.worker_exe.clone(),
            max_attempts: 3,
            inject: request.inject,
            order: ChunkOrder::Forward,
        },
        reporter,
    )
    .await?)
}

/// The distributed leg through Slurm: the bundle is planned into the store's folder (which
/// every node sees), its chunks run as an array job with the run's worker spec, and the video
/// is assembled from the records the tasks stored.
async fn through_slurm(
    request: &RegressRequest,
    setup: &FixtureSetup,
    partition: Option<String>,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, RegressError> {
    let bundles = request.store.root().join("slurm-bundles");
    std::fs::create_dir_all(&bundles).map_err(RegressError::io(&bundles))?;
    let scratch = tempfile::Builder::new()
        .prefix(".plan-")
        .tempdir_in(&bundles)
        .map_err(RegressError::io(&bundles))?;
    let planned_dir = Utf8Path::from_path(scratch.path())
        .expect("the store has a UTF-8 path")
        .join("bundle");
    let planned = plan_bundle(
        Planning {
            composition: &setup.composition,
            settings: &request.run,
            chunking: Some(Chunking::Size(setup.chunk_size)),
            store: Some(&request.store),
        },
        &planned_dir,
        reporter,
    )
    .await?;
    // One folder per bundle hash: a bundle planned before stays, byte for byte the same.
    let bundle = bundles.join(planned.bundle.hash().to_string());
    if !bundle.is_dir() {
        std::fs::rename(&planned_dir, &bundle).map_err(RegressError::io(&bundle))?;
    }
    let run = &request.run;
    // The tasks keep their records under their cache keys (`of_run` reuses and indexes):
    // assembly finds them there.
    let spec = WorkerSpec::new(&planned.bundle, WorkerSettings::of_run(run));
    let job = SlurmJob {
        bundle: bundle.clone(),
        spec,
        store: request.store.clone(),
        partition,
        max_parallel: request.workers as u64,
        framelock: request.worker_exe.clone(),
        attempts: 3,
    };
    let assemble = AssembleRequest {
        bundle,
        store: request.store.clone(),
        output: setup.videos.distributed.clone(),
        execution: Execution::Worker,
        capture: run.capture,
        video_mode: run.video_mode,
        toolchain: run.toolchain.clone(),
        strict: false,
    };
    Ok(submit_and_assemble(&job, &assemble, reporter).await?)
}
