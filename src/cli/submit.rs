//! `submit slurm` and `submit k8s`: a bundle's chunks handed to a cluster scheduler, every task
//! started with the worker invocation and worker spec the local pool uses.

use camino::{Utf8Path, Utf8PathBuf};
use clap::{ArgMatches, Args, Subcommand};

use super::common::{
    SandboxOpt, ToolOpts, WorkerOpts, current_exe, positive_count, scratch, seconds,
};
use super::error::Error;
use crate::bundle::{Bundle, BundleError, open_folder_or_archive};
use crate::distributed::{AssembleRequest, SpecTools, WorkerSettings, WorkerSpec};
use crate::exit_code;
use crate::report::TerminalReporter;
use crate::store::{Execution, Store};
use crate::submit::{
    K8sJob, SlurmJob, k8s_manifest, slurm_log_dir, slurm_script, slurm_submit, submit_and_assemble,
};
use crate::timing::ChunkIndex;
use crate::toolchain::Toolchain;

/// `framelock submit` schedulers.
#[derive(Debug, Clone, Subcommand)]
pub enum SubmitCommand {
    /// Write a Kubernetes Indexed Job that renders every chunk of a bundle, one completion index
    /// per chunk, for you to apply (`kubectl apply -f job.json`).
    ///
    /// The manifest is a list of a ConfigMap holding the job's worker spec (how to render:
    /// capture, videos, frame timeout, sandbox) and the Job. Each pod runs `framelock
    /// render-chunk /bundles/<bundle hash> --store /store --spec /etc/framelock/worker-spec.json`;
    /// Kubernetes sets JOB_COMPLETION_INDEX in each pod and render-chunk renders that chunk.
    /// Copy the bundle folder to <bundle hash>/ on the volume of --bundle-claim first; the
    /// store's claim must be shared and writable by every pod. When the job completes, run
    /// `framelock assemble` against the same store with the same --capture and --video.
    /// framelock writes this manifest and checks its structure; it does not run it.
    K8s(K8sOpts),
    /// Render a bundle's chunks as a Slurm array job, a task per chunk, and assemble the video.
    ///
    /// Writes the job's worker spec and an sbatch script (in STORE/logs/<bundle hash>/slurm/,
    /// with a log per task there) whose tasks run `framelock render-chunk BUNDLE --store STORE
    /// --spec SPEC`, reading their chunk from SLURM_ARRAY_TASK_ID, at most --max-parallel at
    /// once, and submits it with sbatch. With --wait it follows the job with squeue, submits the
    /// chunks that left no record again (up to --attempts submissions in all), shows the log of
    /// a chunk that keeps failing, and assembles -o from the store. BUNDLE and STORE must be on
    /// a file system every node sees; --chrome and --ffmpeg, when given, must name the tools as
    /// the nodes see them. Chunks the store already holds are not submitted. Exits 3 when
    /// Slurm's commands are missing or a chunk keeps failing, 2 when Slurm refuses the job (its
    /// message is shown).
    ///
    /// Examples:
    ///   framelock submit slurm /shared/bundle --store /shared/store --dry-run
    ///   framelock submit slurm /shared/bundle --store /shared/store --wait -o out.mp4
    #[command(verbatim_doc_comment)]
    Slurm(SlurmOpts),
}

/// Options of `framelock submit slurm`.
#[derive(Debug, Clone, Args)]
pub struct SlurmOpts {
    /// The bundle folder (on a shared file system).
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
    /// The shared store the tasks write their chunks to.
    #[arg(long, value_name = "DIR")]
    pub store: Utf8PathBuf,
    /// The partition (default: the cluster's default one).
    #[arg(long, value_name = "NAME")]
    pub partition: Option<String>,
    /// Tasks at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = positive_count)]
    pub max_parallel: u64,
    /// Submissions of a chunk before it counts as failed (with --wait).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = positive_count)]
    pub attempts: u64,
    /// The framelock the tasks run, as the nodes see it (default: this one).
    #[arg(long, value_name = "PATH")]
    pub framelock: Option<Utf8PathBuf>,
    /// Wait for the job, submit failed chunks again, and assemble -o.
    #[arg(long, requires = "output")]
    pub wait: bool,
    /// The video to assemble (with --wait).
    #[arg(short, long, value_name = "OUT.mp4|OUT.webm", requires = "wait")]
    pub output: Option<Utf8PathBuf>,
    /// Write the worker spec, print the sbatch script (which names it and says what it holds),
    /// and submit nothing.
    #[arg(long, conflicts_with = "wait")]
    pub dry_run: bool,
    #[command(flatten)]
    /// How the tasks render.
    pub worker: WorkerOpts,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// Options of `framelock submit k8s`.
#[derive(Debug, Clone, Args)]
pub struct K8sOpts {
    /// The bundle folder.
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
    /// The container image: framelock with its pinned toolchain.
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    /// Pods at once (at most the number of chunks).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = positive_count)]
    pub parallelism: u64,
    /// Retries of one chunk's pod before that chunk counts as failed.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub backoff_per_index: u64,
    /// The persistent volume claim holding bundle folders, each under its bundle hash.
    #[arg(long, value_name = "CLAIM", default_value = "framelock-bundles")]
    pub bundle_claim: String,
    /// The persistent volume claim holding the shared store.
    #[arg(long, value_name = "CLAIM", default_value = "framelock-store")]
    pub store_claim: String,
    /// The namespace (default: kubectl's current one).
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Write the manifest here instead of to stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<Utf8PathBuf>,
    #[command(flatten)]
    /// How the pods render.
    pub worker: WorkerOpts,
    /// Chrome's sandbox in the pods: `auto` turns it off when the pod runs as root or has no
    /// user namespaces.
    #[arg(long, value_enum, default_value_t = SandboxOpt::Auto, value_name = "WHEN")]
    pub chrome_sandbox: SandboxOpt,
}

/// The settings a worker spec is made from, as the command line says.
fn worker_settings(worker: &WorkerOpts, sandbox: SandboxOpt, tools: SpecTools) -> WorkerSettings {
    WorkerSettings {
        capture: worker.capture.into(),
        video_mode: worker.video.into(),
        frame_timeout: seconds(worker.frame_timeout),
        sandbox: sandbox.into(),
        tools,
        // Records of another toolchain are kept under its fingerprint, where assembly on this
        // one would not find them.
        allow_toolchain_mismatch: false,
        // The tasks keep their records under their cache keys: assembly finds them there.
        use_cache: true,
        inject: None,
    }
}

/// `framelock submit slurm`.
pub async fn submit_slurm_command(opts: SlurmOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let bundle_dir = opts
        .bundle
        .canonicalize_utf8()
        .map_err(|source| BundleError::Io {
            path: opts.bundle.clone(),
            source,
        })?;
    let bundle = Bundle::open(&bundle_dir)?;
    bundle.verify()?;
    // A store the tasks could not write to is found before anything is submitted.
    let store_root = std::path::absolute(&opts.store)
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .unwrap_or_else(|| opts.store.clone());
    let store = Store::open(&store_root)?;
    let job = SlurmJob {
        bundle: bundle_dir.clone(),
        spec: WorkerSpec::new(
            &bundle,
            worker_settings(
                &opts.worker,
                opts.tools.chrome_sandbox,
                SpecTools::passed_on(&opts.tools.choice(matches)),
            ),
        ),
        store: store.clone(),
        partition: opts.partition.clone(),
        max_parallel: opts.max_parallel,
        framelock: opts.framelock.clone().unwrap_or_else(current_exe),
        attempts: opts.attempts as u32,
    };
    let logs = slurm_log_dir(&store, &bundle)?;
    let all: Vec<ChunkIndex> = bundle.plan.chunk_plan.indexed().map(|(i, _)| i).collect();
    if opts.dry_run {
        // The script names the spec: it is written, so the script can be submitted by hand.
        let spec = job.spec.write(&logs)?;
        print!("{}", slurm_script(&job, &bundle, &all, &logs, &spec));
        return Ok(exit_code::SUCCESS);
    }
    let reporter = TerminalReporter::default();
    match &opts.output {
        Some(output) => {
            let toolchain = opts.tools.locate(matches)?;
            submit_and_assemble(&job, &assemble_request(&job, output, toolchain), &reporter)
                .await?;
        }
        None => {
            let submitted = slurm_submit(&job, &bundle, &all, &logs)?;
            println!("{}", submitted.id);
            eprintln!(
                "framelock: submitted Slurm job {} ({} chunk(s)); logs in {logs}. When it is done: framelock assemble {bundle_dir} -o OUT.mp4 --store {} --spec {}",
                submitted.id,
                all.len(),
                store.root(),
                submitted.spec
            );
        }
    }
    Ok(exit_code::SUCCESS)
}

/// The assembly of a Slurm job's chunks: the records its spec's settings made.
fn assemble_request(job: &SlurmJob, output: &Utf8Path, toolchain: Toolchain) -> AssembleRequest {
    AssembleRequest {
        bundle: job.bundle.clone(),
        store: job.store.clone(),
        output: output.to_owned(),
        execution: Execution::Worker,
        capture: job.spec.capture,
        video_mode: job.spec.video_mode,
        toolchain,
        strict: false,
    }
}

/// `framelock submit k8s`.
pub fn submit_k8s_command(opts: &K8sOpts) -> Result<i32, Error> {
    let (_scratch, scratch) = scratch()?;
    let bundle = open_folder_or_archive(&opts.bundle, &scratch)?;
    bundle.verify()?;
    let job = K8sJob {
        image: opts.image.clone(),
        parallelism: opts.parallelism,
        backoff_per_index: opts.backoff_per_index,
        bundle_claim: opts.bundle_claim.clone(),
        store_claim: opts.store_claim.clone(),
        namespace: opts.namespace.clone(),
    };
    // The image carries its own pinned tools: none of this machine's are passed on.
    let spec = WorkerSpec::new(
        &bundle,
        worker_settings(&opts.worker, opts.chrome_sandbox, SpecTools::default()),
    );
    let mut text = serde_json::to_string_pretty(&k8s_manifest(&bundle, &spec, &job))
        .expect("a manifest serialises");
    text.push('\n');
    match &opts.output {
        Some(path) => {
            crate::staging::write_file(path, "manifest", text.as_bytes())
                .map_err(Error::write(path))?;
            eprintln!(
                "framelock: wrote {path}: a worker spec and an Indexed Job of {} completion(s); copy {} to <{}>/{}/ and apply it",
                bundle.plan.chunk_plan.len(),
                opts.bundle,
                opts.bundle_claim,
                bundle.hash()
            );
        }
        None => print!("{text}"),
    }
    Ok(exit_code::SUCCESS)
}
