//! Dispatch: turn parsed options into engine requests, run them, print results and errors.

use std::io::Write;

use camino::Utf8PathBuf;
use clap::{CommandFactory, Parser};

use super::args::{
    AssembleOpts, BenchOpts, BisectOpts, BisectStepOpts, CacheCommand, Cli, Command, DiffOpts,
    DiffRunsOpts, DoctorOpts, EventsOpt, ExecutorOpt, FixtureRunOpts, K8sOpts, ModeOpt, PackOpts,
    PlanOpts, RegressModeOpt, RegressOpts, RenderChunkOpts, RenderOpts, SlurmOpts, StoreOpts,
    SubmitCommand, UnpackOpts, VerifyOpts, seconds,
};
use crate::bench::{BenchRequest, bench};
use crate::bisect::{
    Bad, BisectRequest, FingerprintDiff, JudgeSettings, Verdict, bisect, diff_bundles, diff_runs,
    judge_checkout, open_diff_side, open_side, scratch_dir,
};
use crate::browser::PageFault;
use crate::bundle::{Bundle, Chunking, EncoderMeta, PlanInput, pack, plan, unpack_bundle};
use crate::composition::{Composition, DurationSpec};
use crate::distributed::{
    AssembleRequest, ChunkRequest, DistributedRequest, assemble, chunk_from_environment,
    render_chunk, render_distributed,
};
use crate::doctor::{DoctorOptions, DoctorReport, run_doctor};
use crate::encode::EncoderSettings;
use crate::error::{Error, exit_code};
use crate::regress::{Executor, RegressMode, RegressRequest, regress};
use crate::render::{BrowserRun, RenderRequest, fingerprint_toolchain, probe_duration, render};
use crate::report::{JsonLinesReporter, Tee, TerminalReporter, junit_xml, summary_table};
use crate::store::{Index, Store, default_store_root};
use crate::submit::{
    K8sJob, SlurmJob, k8s_manifest, slurm_log_dir, slurm_script, slurm_submit, submit_and_assemble,
};
use crate::toolchain::Toolchain;

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> i32 {
    // `git bisect run` reads exit 2 as "bad": bisect-step turns every usage error into 128.
    let bisect_step = std::env::args().nth(1).as_deref() == Some("bisect-step");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.use_stderr() {
                true if bisect_step => exit_code::BISECT_ABORT,
                _ => e.exit_code(),
            };
        }
    };
    let invalid = match &cli.command {
        Command::Render(opts) => opts.validate().err().map(|m| ("render", m)),
        Command::Regress(opts) => opts.validate().err().map(|m| ("regress", m)),
        _ => None,
    };
    if let Some((name, message)) = invalid {
        let mut command = Cli::command();
        command.build();
        command
            .find_subcommand_mut(name)
            .expect("the subcommand exists")
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let result = runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler can be installed");
        tokio::select! {
            result = dispatch(cli) => result,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
            _ = terminate.recv() => Err(Error::Interrupted),
        }
    });
    // Dropping the runtime cancels whatever was in flight: browsers, encoders and workers are
    // stopped by their owners' Drop.
    drop(runtime);
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            if let Some(hint) = err.hint() {
                eprintln!("hint: {hint}");
            }
            match err {
                Error::Interrupted => exit_code::INTERRUPTED,
                _ if bisect_step => exit_code::BISECT_ABORT,
                _ => err.exit_code(),
            }
        }
    }
}

async fn dispatch(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Render(opts) => render_command(opts).await,
        Command::Regress(opts) => regress_command(opts).await,
        Command::Plan(opts) => plan_command(opts).await,
        Command::RenderChunk(opts) => render_chunk_command(opts).await,
        Command::Assemble(opts) => assemble_command(opts).await,
        Command::Pack(opts) => pack_command(&opts),
        Command::Unpack(opts) => unpack_command(&opts),
        Command::Verify(opts) => verify_command(&opts),
        Command::Diff(opts) => diff_command(&opts),
        Command::DiffRuns(opts) => diff_runs_command(&opts),
        Command::Bisect(opts) => bisect_command(opts).await,
        Command::BisectStep(opts) => bisect_step_command(opts).await,
        Command::Cache(command) => cache_command(command),
        Command::Submit(SubmitCommand::K8s(opts)) => submit_k8s_command(&opts),
        Command::Submit(SubmitCommand::Slurm(opts)) => submit_slurm_command(opts).await,
        Command::Doctor(opts) => doctor_command(opts).await,
        Command::Bench(opts) => bench_command(opts).await,
    }
}

fn open_store(opts: &StoreOpts) -> Result<Store, Error> {
    let root = opts.store.clone().unwrap_or_else(default_store_root);
    Ok(Store::open(&root)?)
}

async fn render_command(opts: RenderOpts) -> Result<i32, Error> {
    let composition = Composition::load(&opts.composition, &opts.settings.overrides())?;
    let toolchain = Toolchain::locate(opts.tools.chrome.as_deref(), opts.tools.ffmpeg.as_deref())?;
    let store = open_store(&opts.store)?;
    let reporter = TerminalReporter::default();
    match opts.mode {
        ModeOpt::InProcess => {
            let request = RenderRequest {
                composition,
                output: opts.output.clone(),
                frames: opts.frames,
                chunk_size: opts.chunk_size,
                png_dir: opts.png_dir.clone(),
                capture: opts.capture.into(),
                sandbox: opts.tools.chrome_sandbox.into(),
                strict: opts.strict,
                virtual_time: !opts.debug_real_time,
                frame_timeout: seconds(opts.frame_timeout),
                toolchain,
                store: (!opts.no_cache).then_some(store),
                video_mode: opts.video.into(),
                leak_wall_clock: None,
            };
            render(&request, &reporter).await?;
        }
        ModeOpt::DistributedSimulated => {
            let workers = opts.workers.map_or_else(
                || std::thread::available_parallelism().map_or(2, |n| n.get()),
                |w| w as usize,
            );
            let worker_exe = std::env::current_exe()
                .ok()
                .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
                .expect("the running binary has a UTF-8 path");
            let request = DistributedRequest {
                composition,
                output: opts.output.clone(),
                chunk_size: opts.chunk_size,
                workers,
                capture: opts.capture.into(),
                sandbox: opts.tools.chrome_sandbox.into(),
                strict: opts.strict,
                frame_timeout: seconds(opts.frame_timeout),
                toolchain,
                store,
                use_cache: !opts.no_cache,
                worker_exe,
                max_attempts: 3,
                inject: None,
                video_mode: opts.video.into(),
            };
            render_distributed(&request, &reporter).await?;
        }
    }
    Ok(exit_code::SUCCESS)
}

fn current_exe() -> Utf8PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
        .expect("the running binary has a UTF-8 path")
}

fn default_workers(workers: Option<u64>) -> usize {
    workers.map_or_else(
        || std::thread::available_parallelism().map_or(2, |n| n.get()),
        |w| w as usize,
    )
}

async fn regress_command(opts: RegressOpts) -> Result<i32, Error> {
    let toolchain = Toolchain::locate(
        opts.run.tools.chrome.as_deref(),
        opts.run.tools.ffmpeg.as_deref(),
    )?;
    let request = RegressRequest {
        fixtures: opts.run.fixtures.clone(),
        baselines: opts.baselines.clone(),
        report_dir: opts.report_dir.clone(),
        only: opts.run.fixtures_only.clone(),
        mode: match opts.mode {
            RegressModeOpt::InProcess => RegressMode::InProcess,
            RegressModeOpt::DistributedSimulated => RegressMode::DistributedSimulated,
            RegressModeOpt::Distributed => RegressMode::Distributed,
        },
        executor: opts.executor.map(|ExecutorOpt::Slurm| Executor::Slurm {
            partition: opts.partition.clone(),
        }),
        workers: default_workers(opts.run.workers),
        update: opts.update,
        strict: !opts.no_strict,
        frame_timeout: seconds(opts.run.frame_timeout),
        sandbox: opts.run.tools.chrome_sandbox.into(),
        toolchain,
        store: open_store(&opts.run.store)?,
        worker_exe: current_exe(),
        inject: opts.inject,
        video_mode: opts.run.video.into(),
        use_cache: !opts.no_cache,
    };
    let report = match opts.events {
        None => regress(&request, &TerminalReporter::default()).await?,
        Some(EventsOpt::Jsonl) => {
            let reporter = Tee(
                TerminalReporter::default(),
                JsonLinesReporter::new(std::io::stdout()),
            );
            regress(&request, &reporter).await?
        }
    };
    if let Some(path) = &opts.junit {
        let write = |source| crate::render::RenderError::Write {
            path: path.clone(),
            source,
        };
        crate::staging::write_file(path, "junit", junit_xml(&report).as_bytes()).map_err(write)?;
    }
    let table = summary_table(&report, &opts.report_dir);
    // stdout belongs to the JSON lines when they are on.
    if opts.events.is_some() {
        eprint!("{table}");
    } else {
        print!("{table}");
    }
    Ok(report.exit_code())
}

async fn plan_command(opts: PlanOpts) -> Result<i32, Error> {
    let composition = Composition::load(&opts.composition, &opts.settings.overrides())?;
    let toolchain = Toolchain::locate(opts.tools.chrome.as_deref(), opts.tools.ffmpeg.as_deref())?;
    let reporter = TerminalReporter::default();
    let fingerprint = fingerprint_toolchain(&toolchain, None).await?;
    let encoder = EncoderSettings::for_codec(composition.format.codec());
    let page_duration = match composition.duration {
        DurationSpec::FromPage => {
            let run = BrowserRun {
                composition: composition.clone(),
                capture: crate::browser::CaptureMode::BeginFrame,
                sandbox: opts.tools.chrome_sandbox.into(),
                virtual_time: true,
                fault: None,
                video_mode: crate::media::VideoMode::Inject,
                media: None,
                frame_timeout: seconds(30.0),
                toolchain: toolchain.clone(),
                encoder: encoder.clone(),
            };
            Some(probe_duration(&run, &reporter).await?)
        }
        _ => None,
    };
    let chunking = match (opts.chunk_size, opts.chunks) {
        (Some(n), _) => Some(Chunking::Size(n)),
        (None, Some(k)) => Some(Chunking::Count(k)),
        (None, None) => None,
    };
    let bundle = plan(
        &PlanInput {
            composition: &composition,
            page_duration,
            chunking,
            toolchain: &fingerprint,
            encoder: EncoderMeta::from(&encoder),
            ffmpeg: &toolchain.ffmpeg.real,
        },
        &opts.output,
    )?;
    eprintln!(
        "framelock: planned {} ({} frames, {} chunk(s)) into {}",
        bundle.plan.name,
        bundle.meta.frames,
        bundle.plan.chunk_plan.chunks().len(),
        bundle.dir
    );
    println!("{}", bundle.hash());
    Ok(exit_code::SUCCESS)
}

async fn render_chunk_command(opts: RenderChunkOpts) -> Result<i32, Error> {
    let chunk = match opts.chunk {
        Some(chunk) => chunk,
        None => chunk_from_environment(|name| std::env::var(name).ok())?,
    };
    let toolchain = Toolchain::locate(opts.tools.chrome.as_deref(), opts.tools.ffmpeg.as_deref())?;
    let request = ChunkRequest {
        bundle: opts.bundle.clone(),
        chunk,
        store: open_store(&opts.store)?,
        capture: opts.capture.into(),
        sandbox: opts.tools.chrome_sandbox.into(),
        frame_timeout: seconds(opts.frame_timeout),
        toolchain,
        allow_toolchain_mismatch: opts.allow_toolchain_mismatch,
        no_cache: opts.no_cache,
        page_fault: match (
            opts.inject_clock_shift,
            opts.inject_video_offset,
            opts.inject_no_reseed,
        ) {
            (Some(k), _, _) => Some(PageFault::ClockShift(k)),
            (None, Some(k), _) => Some(PageFault::VideoOffset(k)),
            (None, None, true) => Some(PageFault::NoReseed),
            (None, None, false) => None,
        },
        encoder_qp: opts.inject_encoder_qp,
        video_mode: opts.video.into(),
    };
    let outcome = render_chunk(&request, &TerminalReporter::default()).await?;
    let line = serde_json::to_string(&outcome).expect("an outcome serialises");
    println!("{line}");
    Ok(exit_code::SUCCESS)
}

async fn assemble_command(opts: AssembleOpts) -> Result<i32, Error> {
    let toolchain = Toolchain::locate(opts.tools.chrome.as_deref(), opts.tools.ffmpeg.as_deref())?;
    let request = AssembleRequest {
        bundle: opts.bundle.clone(),
        store: open_store(&opts.store)?,
        output: opts.output.clone(),
        execution: opts.execution.into(),
        capture: opts.capture.into(),
        video_mode: opts.video.into(),
        toolchain,
        strict: opts.strict,
    };
    let record = assemble(&request, &TerminalReporter::default()).await?;
    if let Some(run) = &record.run_record {
        println!("{run}");
    }
    Ok(exit_code::SUCCESS)
}

fn pack_command(opts: &PackOpts) -> Result<i32, Error> {
    Bundle::open(&opts.bundle)?.verify()?;
    let sha256 = pack(&opts.bundle, &opts.output)?;
    println!("{sha256}  {}", opts.output);
    Ok(exit_code::SUCCESS)
}

fn unpack_command(opts: &UnpackOpts) -> Result<i32, Error> {
    let bundle = unpack_bundle(&opts.archive, &opts.output, opts.max_size)?;
    println!("{}", bundle.hash());
    Ok(exit_code::SUCCESS)
}

fn verify_command(opts: &VerifyOpts) -> Result<i32, Error> {
    let (_scratch, scratch) = scratch()?;
    let bundle = open_side(&opts.bundle, &scratch)?;
    let manifest = bundle.verify()?;
    println!(
        "{}  {} files verified, bundle hash matches plan.json",
        bundle.hash(),
        manifest.0.len()
    );
    Ok(exit_code::SUCCESS)
}

fn diff_command(opts: &DiffOpts) -> Result<i32, Error> {
    let (_scratch, scratch) = scratch()?;
    let store = || open_store(&opts.store);
    let a = open_diff_side(&opts.a, &scratch.join("a"), &store)?;
    let b = open_diff_side(&opts.b, &scratch.join("b"), &store)?;
    let diff = diff_bundles(&a, &b)?;
    print!("{}", diff.text());
    if opts.runs {
        print!("{}", FingerprintDiff::of(&store()?, &a, &b)?.text());
    }
    Ok(if diff.is_same() {
        exit_code::SUCCESS
    } else {
        exit_code::REGRESSION
    })
}

fn diff_runs_command(opts: &DiffRunsOpts) -> Result<i32, Error> {
    let toolchain = Toolchain::locate(opts.tools.chrome.as_deref(), opts.tools.ffmpeg.as_deref())?;
    let diff = diff_runs(&toolchain.ffmpeg.real, &opts.a, &opts.b, &opts.out)?;
    print!("{}", diff.text());
    Ok(if diff.is_same() {
        exit_code::SUCCESS
    } else {
        exit_code::REGRESSION
    })
}

/// A temporary folder for packed bundles opened by a command.
fn judge_settings(opts: &FixtureRunOpts) -> Result<JudgeSettings, Error> {
    Ok(JudgeSettings {
        fixtures: opts.fixtures.clone(),
        only: opts.fixtures_only.clone(),
        workers: default_workers(opts.workers),
        frame_timeout: seconds(opts.frame_timeout),
        sandbox: opts.tools.chrome_sandbox.into(),
        toolchain: Toolchain::locate(opts.tools.chrome.as_deref(), opts.tools.ffmpeg.as_deref())?,
        store: open_store(&opts.store)?,
        worker_exe: current_exe(),
        video_mode: opts.video.into(),
    })
}

async fn bisect_command(opts: BisectOpts) -> Result<i32, Error> {
    let (_temp, out_dir) = out_or_temp(opts.out.as_ref())?;
    let request = BisectRequest {
        repo: opts.repo.clone(),
        good: opts.good.clone(),
        bad: opts.bad.clone(),
        against_good: opts.against_good,
        judge: judge_settings(&opts.run)?,
        out_dir,
    };
    let outcome = bisect(&request, &TerminalReporter::default()).await?;
    print!("{}", outcome.text());
    Ok(outcome.exit_code())
}

async fn bisect_step_command(opts: BisectStepOpts) -> Result<i32, Error> {
    let settings = judge_settings(&opts.run)?;
    let (_temp, out_dir) = out_or_temp(opts.out.as_ref())?;
    let judged = judge_checkout(
        &opts.repo,
        &settings,
        &Bad::Determinism,
        &out_dir,
        &TerminalReporter::default(),
    )
    .await?;
    let reason = judged.reason().map_or(String::new(), |r| format!(": {r}"));
    println!("{}{reason}", judged.verdict);
    Ok(match judged.verdict {
        Verdict::Good => exit_code::SUCCESS,
        Verdict::Bad => exit_code::REGRESSION,
        Verdict::Skip(_) => exit_code::BISECT_SKIP,
    })
}

/// `--out` when given, else a temporary folder removed when the guard drops.
fn out_or_temp(
    out: Option<&Utf8PathBuf>,
) -> Result<(Option<tempfile::TempDir>, Utf8PathBuf), Error> {
    match out {
        Some(dir) => Ok((None, dir.clone())),
        None => {
            let (temp, dir) = scratch()?;
            Ok((Some(temp), dir))
        }
    }
}

fn scratch() -> Result<(tempfile::TempDir, Utf8PathBuf), Error> {
    Ok(
        scratch_dir().map_err(|source| crate::bundle::BundleError::Io {
            path: std::env::temp_dir().to_string_lossy().into_owned().into(),
            source,
        })?,
    )
}

async fn submit_slurm_command(opts: SlurmOpts) -> Result<i32, Error> {
    let bundle_dir =
        opts.bundle
            .canonicalize_utf8()
            .map_err(|source| crate::bundle::BundleError::Io {
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
        store: store.clone(),
        partition: opts.partition.clone(),
        max_parallel: opts.max_parallel,
        framelock: opts.framelock.clone().unwrap_or_else(current_exe),
        attempts: opts.attempts as u32,
    };
    let logs = slurm_log_dir(&store, &bundle)?;
    let all: Vec<usize> = (0..bundle.plan.chunk_plan.chunks().len()).collect();
    if opts.dry_run {
        print!("{}", slurm_script(&job, &bundle, &all, &logs));
        return Ok(exit_code::SUCCESS);
    }
    let reporter = TerminalReporter::default();
    match &opts.output {
        Some(output) => {
            let request = AssembleRequest {
                bundle: bundle_dir.clone(),
                store,
                output: output.clone(),
                execution: crate::store::Execution::Worker,
                capture: crate::browser::CaptureMode::BeginFrame,
                video_mode: crate::media::VideoMode::Inject,
                toolchain: Toolchain::locate(
                    opts.tools.chrome.as_deref(),
                    opts.tools.ffmpeg.as_deref(),
                )?,
                strict: false,
            };
            submit_and_assemble(&job, &request, &reporter).await?;
        }
        None => {
            let id = slurm_submit(&job, &bundle, &all, &logs)?;
            println!("{id}");
            eprintln!(
                "framelock: submitted Slurm job {id} ({} chunk(s)); logs in {logs}. When it is done: framelock assemble {bundle_dir} -o OUT.mp4 --store {}",
                all.len(),
                store.root()
            );
        }
    }
    Ok(exit_code::SUCCESS)
}

fn submit_k8s_command(opts: &K8sOpts) -> Result<i32, Error> {
    let (_scratch, scratch) = scratch()?;
    let bundle = open_side(&opts.bundle, &scratch)?;
    bundle.verify()?;
    let job = K8sJob {
        image: opts.image.clone(),
        parallelism: opts.parallelism,
        backoff_per_index: opts.backoff_per_index,
        bundle_claim: opts.bundle_claim.clone(),
        store_claim: opts.store_claim.clone(),
        namespace: opts.namespace.clone(),
    };
    let mut text =
        serde_json::to_string_pretty(&k8s_manifest(&bundle, &job)).expect("a manifest serialises");
    text.push('\n');
    match &opts.output {
        Some(path) => {
            crate::staging::write_file(path, "manifest", text.as_bytes()).map_err(|source| {
                crate::render::RenderError::Write {
                    path: path.clone(),
                    source,
                }
            })?;
            eprintln!(
                "framelock: wrote {path}: an Indexed Job of {} completion(s); copy {} to <{}>/{}/ and apply it",
                bundle.plan.chunk_plan.chunks().len(),
                opts.bundle,
                opts.bundle_claim,
                bundle.hash()
            );
        }
        None => print!("{text}"),
    }
    Ok(exit_code::SUCCESS)
}

fn cache_command(command: CacheCommand) -> Result<i32, Error> {
    let mut out = std::io::stdout().lock();
    match command {
        CacheCommand::Ls(store) => {
            let store = open_store(&store)?;
            let entries = crate::store::list(&store)?;
            let _ = writeln!(
                out,
                "{:<14} {:>5} {:<12} {:<10} {:>8}  record",
                "bundle", "chunk", "frames", "execution", "age"
            );
            for e in &entries {
                match &e.chunk {
                    Some(c) => {
                        let _ = writeln!(
                            out,
                            "{:<14} {:>5} {:<12} {:<10} {:>8}  {}",
                            &c.bundle_hash[..12],
                            c.chunk_index,
                            c.range,
                            c.execution,
                            age(e.age_seconds),
                            e.record.as_ref().map_or("", |r| r.short())
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "unreadable entry {}: {}",
                            e.key.short(),
                            e.problem.as_deref().unwrap_or("unknown problem")
                        );
                    }
                }
            }
            let _ = writeln!(
                out,
                "{} cached chunk record(s), {} bisect verdict(s), {} kept bundle(s) and {} passed fixture result(s) in {}",
                entries.len(),
                store.keys(Index::Verdicts)?.len(),
                store.keys(Index::Bundles)?.len(),
                store.keys(Index::Results)?.len(),
                store.root()
            );
            Ok(exit_code::SUCCESS)
        }
        CacheCommand::Verify(store) => {
            let store = open_store(&store)?;
            let report = crate::store::verify(&store)?;
            for problem in &report.problems {
                let _ = writeln!(out, "corrupted: {problem}");
            }
            let _ = writeln!(
                out,
                "{} blob(s) and {} cache key(s) checked, {} problem(s)",
                report.blobs_checked,
                report.keys_checked,
                report.problems.len()
            );
            Ok(if report.problems.is_empty() {
                exit_code::SUCCESS
            } else {
                exit_code::REGRESSION
            })
        }
        CacheCommand::Gc(opts) => {
            let store = open_store(&opts.store)?;
            let report = crate::store::gc(&store, opts.keep_days)?;
            let _ = writeln!(
                out,
                "removed {} cache key(s), {} blob(s) and {} worker log folder(s); {} bytes of blobs freed",
                report.keys_removed,
                report.blobs_removed,
                report.log_dirs_removed,
                report.bytes_freed
            );
            Ok(exit_code::SUCCESS)
        }
    }
}

fn age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

async fn bench_command(opts: BenchOpts) -> Result<i32, Error> {
    let request = BenchRequest {
        fixtures: opts.fixtures.clone(),
        frames: if opts.quick { 30 } else { opts.frames },
        quick: opts.quick,
        sandbox: opts.tools.chrome_sandbox.into(),
        toolchain: Toolchain::locate(opts.tools.chrome.as_deref(), opts.tools.ffmpeg.as_deref())?,
        worker_exe: current_exe(),
        command: std::iter::once("framelock".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        only: opts.only.clone(),
    };
    if !request.fixtures.join("css-keyframes").is_dir() {
        return Err(crate::render::RenderError::Write {
            path: request.fixtures.join("css-keyframes"),
            source: std::io::Error::other(
                "the bench renders this fixture: run it from a checkout, or give --fixtures",
            ),
        }
        .into());
    }
    let report = bench(&request, &TerminalReporter::default()).await?;
    report.write(&opts.out)?;
    print!("{}", report.targets_markdown());
    eprintln!(
        "framelock bench: wrote {} and {}",
        opts.out.join("bench.json"),
        opts.out.join("BENCHMARKS.md")
    );
    Ok(exit_code::SUCCESS)
}

async fn doctor_command(opts: DoctorOpts) -> Result<i32, Error> {
    let report = run_doctor(&DoctorOptions {
        chrome: opts.tools.chrome.clone(),
        ffmpeg: opts.tools.ffmpeg.clone(),
        sandbox: opts.tools.chrome_sandbox.into(),
        capture: opts.capture.into(),
    })
    .await?;
    let mut out = std::io::stdout().lock();
    if opts.json {
        let json = serde_json::to_string_pretty(&report).expect("the report serialises");
        let _ = writeln!(out, "{json}");
    } else {
        let _ = write!(out, "{}", human(&report));
    }
    Ok(exit_code::SUCCESS)
}

fn human(r: &DoctorReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "browser       {} ({})\n",
        r.chrome_version, r.chrome_found_by
    ));
    s.push_str(&format!("  binary      {}\n", r.chrome_binary));
    if r.chrome != r.chrome_binary {
        s.push_str(&format!(
            "  wrapper     {} (resolved to the binary above)\n",
            r.chrome
        ));
    }
    s.push_str(&format!("  GPU         {} (software: ok)\n", r.gpu));
    s.push_str(&format!("  sandbox     {}\n", r.sandbox));
    s.push_str(&format!(
        "ffmpeg        {} ({})\n",
        r.ffmpeg_version, r.ffmpeg_found_by
    ));
    s.push_str(&format!("  binary      {}\n", r.ffmpeg));
    s.push_str(&format!("fonts         {}\n", r.fontconfig));
    for f in &r.fonts {
        s.push_str(&format!("  {f}\n"));
    }
    s.push_str(&format!(
        "fingerprints  toolchain {} ({} files hashed)\n",
        r.toolchain_fingerprint, r.toolchain_files
    ));
    s.push_str(&match &r.pinned_toolchain {
        Some(pin) => format!("              pinned: {pin}\n"),
        None => "              not the Nix flake's pinned toolchain (this machine's packages): hashes may differ from baselines blessed on it\n".into(),
    });
    s.push_str(&format!(
        "              render settings {}\n",
        r.render_settings_fingerprint
    ));
    s.push_str("flags         ");
    s.push_str(&r.flags.join(" "));
    s.push_str("\nall checks passed\n");
    s
}
