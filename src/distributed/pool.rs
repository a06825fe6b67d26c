//! `render --mode=distributed-simulated`: plan, hand workers a copy of the bundle that cannot
//! reach the composition, run `render-chunk` processes (at most W at once), retry the ones
//! that fail, assemble.
//!
//! Workers are separate processes of this same binary, each with its own browser, so what they
//! render depends on nothing but the bundle. A worker that fails for a reason that may pass (a
//! crash, a signal, a hung frame) is retried a bounded number of times; one that fails on its
//! input is not. Ctrl-C (or SIGTERM) stops every worker, which stop their browsers, and nothing
//! is written.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

use super::assemble::Joining;
use super::assemble::assemble_records;
use super::worker::ChunkOutcome;
use super::{DistributedError, Fault, Injection};
use crate::browser::{CaptureMode, SandboxPolicy};
use crate::bundle::{Chunking, DEFAULT_UNPACK_LIMIT, pack, unpack};
use crate::composition::Composition;
use crate::error::{Error, exit_code};
use crate::media::VideoMode;
use crate::render::{
    BrowserRun, ChunkCache, FramesRecord, RenderError, RunSettings, check_container, prepare,
    report_finished, work_dir,
};
use crate::report::{RenderEvent, Reporter};
use crate::store::{ChunkRecord, Execution, Store};
use crate::toolchain::Toolchain;

/// A distributed-simulated render.
#[derive(Debug, Clone)]
pub struct DistributedRequest {
    /// The composition, loaded.
    pub composition: Composition,
    /// The video to write.
    pub output: Utf8PathBuf,
    /// Frames per chunk (default: `renderConfig.chunkSize`, else one chunk per worker).
    pub chunk_size: Option<u64>,
    /// Workers at once.
    pub workers: usize,
    /// Capture mode.
    pub capture: CaptureMode,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// Fail on requests outside the composition.
    pub strict: bool,
    /// Time allowed for one seek or one capture.
    pub frame_timeout: Duration,
    /// The tools.
    pub toolchain: Toolchain,
    /// The store workers write to.
    pub store: Store,
    /// Whether workers may reuse stored records.
    pub use_cache: bool,
    /// The framelock binary the workers run.
    pub worker_exe: Utf8PathBuf,
    /// Tries per chunk before giving up.
    pub max_attempts: u32,
    /// A self-test fault in one chunk.
    pub inject: Option<Injection>,
    /// How videos are shown.
    pub video_mode: VideoMode,
}

/// Renders `request` with worker processes.
pub async fn render_distributed(
    request: &DistributedRequest,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, Error> {
    let started = Instant::now();
    check_container(&request.output, request.composition.format.codec())?;
    let (_work_guard, work) = work_dir(&request.output)?;
    let run = BrowserRun::of(
        &request.composition,
        RunSettings {
            capture: request.capture,
            sandbox: request.sandbox,
            video_mode: request.video_mode,
            frame_timeout: request.frame_timeout,
            toolchain: request.toolchain.clone(),
        },
    );
    let default_chunking = Chunking::Count(request.workers.max(1) as u64);
    let chunking = request
        .chunk_size
        .map(Chunking::Size)
        .or(request.composition.chunk_size.map(Chunking::Size))
        .unwrap_or(default_chunking);
    let prepared = prepare(
        &request.composition,
        &run,
        Some(chunking),
        &work.join("plan/bundle"),
        Some(&request.store),
        reporter,
    )
    .await?;

    let chunks = prepared.bundle.plan.chunk_plan.chunks().to_vec();
    if let Some(injection) = request.inject.filter(|i| i.chunk >= chunks.len()) {
        return Err(RenderError::InjectionOutside {
            chunk: injection.chunk,
            count: chunks.len(),
        }
        .into());
    }
    let mut outcomes: Vec<Option<ChunkOutcome>> = vec![None; chunks.len()];
    // A worker here would run this binary on this toolchain: where the store already holds
    // its record, no worker needs to start.
    if request.use_cache {
        let fingerprints = prepared.record_fingerprints();
        let cache = ChunkCache {
            store: &request.store,
            bundle_hash: prepared.bundle.hash(),
            execution: Execution::Worker,
            fingerprints: &fingerprints,
        };
        for (index, range) in chunks.iter().enumerate() {
            if request
                .inject
                .is_some_and(|i| i.in_worker() && i.chunk == index)
            {
                continue;
            }
            if let Some((record, _)) = cache.find(index, *range, reporter) {
                reporter.report(&RenderEvent::ChunkDone {
                    chunk: index,
                    reused: true,
                });
                outcomes[index] = Some(ChunkOutcome {
                    chunk: index,
                    record,
                    reused: true,
                });
            }
        }
    }
    let missing: Vec<usize> = (0..chunks.len())
        .filter(|i| outcomes[*i].is_none())
        .collect();

    // The workers' copy travels as an archive, like a bundle sent to another machine: it
    // holds nothing that points back at the composition folder.
    let worker_bundle = work.join("worker/bundle");
    if !missing.is_empty() {
        let archive = work.join("bundle.tar.zst");
        pack(&prepared.bundle.dir, &archive)?;
        std::fs::create_dir_all(work.join("worker")).map_err(|source| {
            crate::render::RenderError::Write {
                path: work.join("worker"),
                source,
            }
        })?;
        unpack(&archive, &worker_bundle, DEFAULT_UNPACK_LIMIT)?;
    }

    let log_dir = request.store.log_dir(&prepared.bundle.hash().to_string())?;
    let semaphore = Arc::new(Semaphore::new(request.workers.max(1)));
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = tokio::task::JoinSet::new();
    for index in missing {
        let range = chunks[index];
        let semaphore = Arc::clone(&semaphore);
        let argv = worker_args(request, &worker_bundle, index);
        let exe = request.worker_exe.clone();
        let log_dir = log_dir.clone();
        let max_attempts = request.max_attempts.max(1);
        let events_tx = events_tx.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("never closed");
            let result = run_chunk(
                &exe,
                &argv,
                index,
                range,
                &log_dir,
                max_attempts,
                &events_tx,
            );
            (index, result.await)
        });
    }
    drop(events_tx);
    loop {
        tokio::select! {
            Some(event) = events.recv() => reporter.report(&event),
            joined = tasks.join_next() => {
                let Some(joined) = joined else { break };
                let (index, outcome) = joined.expect("chunk tasks do not panic");
                // The first chunk that cannot be rendered ends the run; dropping the other
                // tasks stops their workers.
                let outcome = outcome?;
                reporter.report(&RenderEvent::ChunkDone {
                    chunk: index,
                    reused: outcome.reused,
                });
                outcomes[index] = Some(outcome);
            }
        }
    }
    while let Ok(event) = events.try_recv() {
        reporter.report(&event);
    }

    let mut records = Vec::with_capacity(chunks.len());
    for outcome in outcomes
        .into_iter()
        .map(|o| o.expect("every chunk finished"))
    {
        let record = ChunkRecord::load(&request.store, &outcome.record)?;
        records.push((outcome.record, record, outcome.reused));
    }
    let record = assemble_records(
        &prepared.bundle,
        &prepared.fingerprints(),
        records,
        &request.store,
        Joining {
            ffmpeg: &request.toolchain.ffmpeg.real,
            work: &work,
            output: &request.output,
            strict: request.strict,
            audio_delay_ms: match request.inject.map(|i| i.fault) {
                Some(Fault::AudioDelay(ms)) => ms,
                _ => 0,
            },
        },
    )?;
    report_finished(reporter, &request.output, &record, started);
    Ok(record)
}

fn worker_args(request: &DistributedRequest, bundle: &Utf8Path, chunk: usize) -> Vec<String> {
    let mut args = vec![
        "render-chunk".to_string(),
        bundle.to_string(),
        "--chunk".into(),
        chunk.to_string(),
        "--store".into(),
        request.store.root().to_string(),
        "--capture".into(),
        request.capture.to_string(),
        "--chrome-sandbox".into(),
        match request.sandbox {
            SandboxPolicy::Auto => "auto",
            SandboxPolicy::On => "on",
            SandboxPolicy::Off => "off",
        }
        .into(),
        "--frame-timeout".into(),
        request.frame_timeout.as_secs_f64().to_string(),
        "--chrome".into(),
        request.toolchain.chrome.real.to_string(),
        "--ffmpeg".into(),
        request.toolchain.ffmpeg.real.to_string(),
    ];
    if !request.use_cache {
        args.push("--no-cache".into());
    }
    if request.video_mode == VideoMode::Native {
        args.push("--video=native".into());
    }
    if let Some(injection) = request.inject.filter(|i| i.in_worker() && i.chunk == chunk) {
        args.extend(injection.worker_args());
    }
    args
}

/// Runs one chunk's worker until it succeeds, fails on its input, or runs out of attempts.
async fn run_chunk(
    exe: &Utf8Path,
    argv: &[String],
    chunk: usize,
    range: crate::timing::FrameRange,
    log_dir: &Utf8Path,
    max_attempts: u32,
    events: &tokio::sync::mpsc::UnboundedSender<RenderEvent>,
) -> Result<ChunkOutcome, Error> {
    let mut attempt = 1;
    loop {
        let _ = events.send(RenderEvent::ChunkStarted {
            chunk,
            range,
            attempt,
        });
        let log = log_dir.join(format!("chunk-{chunk:06}-attempt-{attempt}.log"));
        match run_worker(exe, argv, &log).await {
            Ok(outcome) => return Ok(outcome),
            Err(failure) => {
                let give_up = failure.code == Some(exit_code::INPUT) || attempt >= max_attempts;
                if give_up {
                    let err = DistributedError::ChunkFailed {
                        chunk,
                        range,
                        attempts: attempt,
                        reason: failure.reason.into(),
                        log: Box::new(log),
                        code: failure.code,
                    };
                    return Err(err.into());
                }
                let _ = events.send(RenderEvent::ChunkRetry {
                    chunk,
                    attempt,
                    reason: failure.reason,
                    log,
                });
                attempt += 1;
            }
        }
    }
}

struct WorkerFailure {
    code: Option<i32>,
    reason: String,
}

async fn run_worker(
    exe: &Utf8Path,
    argv: &[String],
    log: &Utf8Path,
) -> Result<ChunkOutcome, WorkerFailure> {
    let log_file = std::fs::File::create(log).map_err(|e| WorkerFailure {
        code: None,
        reason: format!("cannot create the log {log}: {e}"),
    })?;
    let mut command = tokio::process::Command::new(exe);
    // SAFETY: prctl is async-signal-safe and touches only the worker being started.
    unsafe {
        command.pre_exec(|| {
            // A killed framelock still stops its workers: SIGTERM lets each stop its browser.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command
        .args(argv)
        .env("CI", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| WorkerFailure {
            code: None,
            reason: format!("cannot start `{exe} {}`: {e}", argv.join(" ")),
        })?;
    let mut child = WorkerChild(Some(child));
    let mut stdout = String::new();
    if let Some(mut out) = child.inner().stdout.take() {
        let _ = out.read_to_string(&mut stdout).await;
    }
    let status = child.inner().wait().await.map_err(|e| WorkerFailure {
        code: None,
        reason: format!("waiting for the worker: {e}"),
    })?;
    child.0 = None;
    if status.success() {
        return serde_json::from_str::<ChunkOutcome>(stdout.trim()).map_err(|e| WorkerFailure {
            code: None,
            reason: format!("the worker's answer is not a chunk outcome ({e}): {stdout:?}"),
        });
    }
    let last_error = std::fs::read_to_string(log).ok().and_then(|text| {
        text.lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map(str::to_string)
    });
    let how = match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => {
            use std::os::unix::process::ExitStatusExt;
            format!("was killed by signal {}", status.signal().unwrap_or(0))
        }
    };
    Err(WorkerFailure {
        code: status.code(),
        reason: match last_error {
            Some(line) => format!("{how}: {line}"),
            None => how,
        },
    })
}

/// A worker process that is stopped politely if it is abandoned (Ctrl-C, another chunk's
/// failure): SIGTERM lets it stop its browser and encoder; SIGKILL follows if it does not exit.
struct WorkerChild(Option<tokio::process::Child>);

impl WorkerChild {
    fn inner(&mut self) -> &mut tokio::process::Child {
        self.0
            .as_mut()
            .expect("the child is present until it exits")
    }
}

impl Drop for WorkerChild {
    fn drop(&mut self) {
        let Some(mut child) = self.0.take() else {
            return;
        };
        let Some(pid) = child.id() else { return };
        // SAFETY: signals the worker this pool started and has not reaped.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        for _ in 0..100 {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.start_kill();
    }
}
