//! `render --mode=distributed-simulated`: plan, hand workers a copy of the bundle that cannot
//! reach the composition, run `render-chunk` processes (at most W at once), retry the ones
//! that fail, assemble.
//!
//! Workers are separate processes of this same binary, each with its own browser, so what they
//! render depends on nothing but the bundle. A worker that fails for a reason that may pass (a
//! crash, a signal, a hung frame) is retried a bounded number of times; one that fails on its
//! input is not. Ctrl-C (or SIGTERM) stops every worker, which stop their browsers, and nothing
//! is written.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

use super::error::DistributedError;
use super::inject::Injection;
use super::spec::{WorkerSettings, WorkerSpec, invocation};
use super::worker::ChunkOutcome;
use crate::bundle::{Chunking, DEFAULT_UNPACK_LIMIT, pack, unpack};
use crate::composition::Composition;
use crate::exit_code;
use crate::render::{
    ChunkCache, Finish, FinishedChunk, FramesRecord, Planned, Planning, RenderError, RunSettings,
    check_container, finish, plan_bundle, report_finished, work_dir,
};
use crate::report::{RenderEvent, Reporter};
use crate::store::{Execution, Store};
use crate::timing::{ChunkIndex, FrameRange};

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
    /// How the workers render.
    pub run: RunSettings,
    /// Fail on requests outside the composition.
    pub strict: bool,
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
    /// The order workers take chunks in.
    pub order: ChunkOrder,
}

/// The order workers take a plan's chunks in. The video is the same whatever the order:
/// `vary` proves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkOrder {
    /// First chunk first.
    Forward,
    /// Last chunk first.
    Reverse,
    /// A permutation drawn from this seed (the same seed, the same order).
    Shuffled(u64),
}

impl ChunkOrder {
    /// `chunks`, in this order.
    pub fn arrange(self, mut chunks: Vec<ChunkIndex>) -> Vec<ChunkIndex> {
        match self {
            ChunkOrder::Forward => {}
            ChunkOrder::Reverse => chunks.reverse(),
            ChunkOrder::Shuffled(seed) => {
                // Fisher-Yates over splitmix64: a fixed, portable order for a seed.
                let mut state = seed;
                let mut next = || {
                    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                    z ^ (z >> 31)
                };
                for i in (1..chunks.len()).rev() {
                    let j = (next() % (i as u64 + 1)) as usize;
                    chunks.swap(i, j);
                }
            }
        }
        chunks
    }
}

/// Renders `request` with worker processes.
pub async fn render_distributed(
    request: &DistributedRequest,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, DistributedError> {
    let started = Instant::now();
    check_container(&request.output, request.composition.format.codec())?;
    let (_work_guard, work) = work_dir(&request.output)?;
    let chunking = request
        .chunk_size
        .or(request.composition.chunk_size)
        .map_or(
            Chunking::Count(request.workers.max(1) as u64),
            Chunking::Size,
        );
    let planned = plan_bundle(
        Planning {
            composition: &request.composition,
            settings: &request.run,
            chunking: Some(chunking),
            store: Some(&request.store),
        },
        &work.join("plan/bundle"),
        reporter,
    )
    .await?;
    let plan = &planned.bundle.plan.chunk_plan;
    if let Some(injection) = request.inject.filter(|i| plan.get(i.chunk).is_none()) {
        return Err(RenderError::InjectionOutside {
            chunk: injection.chunk,
            count: plan.len(),
        }
        .into());
    }
    let mut outcomes = stored_outcomes(request, &planned, reporter);
    // The whole plan is ordered first, so the order does not depend on what the store holds.
    let missing: Vec<ChunkIndex> = request
        .order
        .arrange(plan.indexed().map(|(index, _)| index).collect())
        .into_iter()
        .filter(|index| outcomes[index.0].is_none())
        .collect();
    if !missing.is_empty() {
        let workers = Workers::prepare(request, &planned, &work)?;
        workers
            .run(request, &planned, missing, &mut outcomes, reporter)
            .await?;
    }

    let chunks = outcomes
        .into_iter()
        .map(|o| {
            let outcome = o.expect("every chunk finished");
            FinishedChunk::load(&request.store, &outcome.record, outcome.reused)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let record = finish(
        Finish {
            bundle: &planned.bundle,
            plan,
            fingerprints: &planned.fingerprints(),
            ffmpeg: &request.run.toolchain.ffmpeg.real,
            work: &work,
            output: &request.output,
            strict: request.strict,
            virtual_time: true,
            audio_delay_ms: Injection::audio_delay_ms(request.inject),
            store: Some(&request.store),
            png: None,
        },
        &chunks,
    )?;
    report_finished(reporter, &request.output, &record, started);
    Ok(record)
}

/// Per chunk, the worker record the store already holds: a worker here would run this binary
/// on this toolchain, so where the store has its record, no worker needs to start. A chunk the
/// fault goes into is always rendered.
fn stored_outcomes(
    request: &DistributedRequest,
    planned: &Planned,
    reporter: &dyn Reporter,
) -> Vec<Option<ChunkOutcome>> {
    let plan = &planned.bundle.plan.chunk_plan;
    let mut outcomes = vec![None; plan.len()];
    if !request.use_cache {
        return outcomes;
    }
    let fingerprints = planned.record_fingerprints();
    let cache = ChunkCache {
        store: &request.store,
        bundle_hash: planned.bundle.hash(),
        execution: Execution::Worker,
        fingerprints: &fingerprints,
    };
    for (index, range) in plan.indexed() {
        if request
            .inject
            .is_some_and(|i| i.in_worker() && i.chunk == index)
        {
            continue;
        }
        if let Some(found) = cache.find(index, range, reporter) {
            reporter.report(&RenderEvent::ChunkDone {
                chunk: index,
                reused: true,
            });
            outcomes[index.0] = Some(ChunkOutcome {
                chunk: index,
                record: found.stored.expect("a cache hit is stored"),
                reused: true,
            });
        }
    }
    outcomes
}

/// The workers' bundle copy and spec, and where their logs go.
struct Workers {
    bundle: Utf8PathBuf,
    spec: Utf8PathBuf,
    log_dir: Utf8PathBuf,
}

impl Workers {
    /// Packs and unpacks the bundle for the workers and writes their spec. The copy travels as
    /// an archive, like a bundle sent to another machine: it holds nothing that points back at
    /// the composition folder.
    fn prepare(
        request: &DistributedRequest,
        planned: &Planned,
        work: &Utf8Path,
    ) -> Result<Workers, DistributedError> {
        let dir = work.join("worker");
        std::fs::create_dir_all(&dir).map_err(|source| DistributedError::Io {
            path: dir.clone(),
            source,
        })?;
        let archive = work.join("bundle.tar.zst");
        pack(&planned.bundle.dir, &archive)?;
        let bundle = dir.join("bundle");
        unpack(&archive, &bundle, DEFAULT_UNPACK_LIMIT)?;
        let spec = WorkerSpec::new(
            &planned.bundle,
            WorkerSettings {
                use_cache: request.use_cache,
                inject: request.inject.filter(Injection::in_worker),
                ..WorkerSettings::of_run(&request.run)
            },
        )
        .write(&dir)?;
        Ok(Workers {
            bundle,
            spec,
            log_dir: request.store.log_dir(planned.bundle.hash())?,
        })
    }

    /// Runs a worker per missing chunk, at most `request.workers` at once, filling `outcomes`.
    async fn run(
        &self,
        request: &DistributedRequest,
        planned: &Planned,
        missing: Vec<ChunkIndex>,
        outcomes: &mut [Option<ChunkOutcome>],
        reporter: &dyn Reporter,
    ) -> Result<(), DistributedError> {
        let plan = &planned.bundle.plan.chunk_plan;
        let semaphore = Arc::new(Semaphore::new(request.workers.max(1)));
        let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        // Whichever task gets a worker slot takes the next chunk in the queue: chunks start in
        // exactly the requested order, however the tasks are scheduled.
        let queue: VecDeque<ChunkWorker> = missing
            .iter()
            .map(|&index| ChunkWorker {
                argv: invocation(
                    &request.worker_exe,
                    &self.bundle,
                    request.store.root(),
                    &self.spec,
                    Some(index),
                ),
                chunk: index,
                range: plan.get(index).expect("missing chunks are in the plan"),
                log_dir: self.log_dir.clone(),
                max_attempts: request.max_attempts.max(1),
            })
            .collect();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in &missing {
            let (semaphore, queue) = (Arc::clone(&semaphore), Arc::clone(&queue));
            let events_tx = events_tx.clone();
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await.expect("never closed");
                let worker = queue
                    .lock()
                    .expect("the queue lock is never poisoned")
                    .pop_front()
                    .expect("one chunk per task");
                (worker.chunk, worker.run(&events_tx).await)
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
                    outcomes[index.0] = Some(outcome);
                }
            }
        }
        while let Ok(event) = events.try_recv() {
            reporter.report(&event);
        }
        Ok(())
    }
}

/// One chunk's worker, started again when it fails for a reason that may pass.
struct ChunkWorker {
    /// The invocation, program first.
    argv: Vec<String>,
    chunk: ChunkIndex,
    range: FrameRange,
    log_dir: Utf8PathBuf,
    max_attempts: u32,
}

impl ChunkWorker {
    /// Runs the worker until it succeeds, fails on its input, or runs out of attempts.
    async fn run(
        &self,
        events: &tokio::sync::mpsc::UnboundedSender<RenderEvent>,
    ) -> Result<ChunkOutcome, DistributedError> {
        let (chunk, range) = (self.chunk, self.range);
        let mut attempt = 1;
        loop {
            let _ = events.send(RenderEvent::ChunkStarted {
                chunk,
                range,
                attempt,
            });
            let log = self
                .log_dir
                .join(format!("chunk-{:06}-attempt-{attempt}.log", chunk.0));
            match run_worker(&self.argv, &log).await {
                Ok(outcome) => return Ok(outcome),
                Err(failure) => {
                    let give_up =
                        failure.code == Some(exit_code::INPUT) || attempt >= self.max_attempts;
                    if give_up {
                        return Err(DistributedError::ChunkFailed {
                            chunk,
                            range,
                            attempts: attempt,
                            reason: failure.reason.into(),
                            log: Box::new(log),
                            code: failure.code,
                        });
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
}

struct WorkerFailure {
    code: Option<i32>,
    reason: String,
}

async fn run_worker(argv: &[String], log: &Utf8Path) -> Result<ChunkOutcome, WorkerFailure> {
    let (exe, args) = argv.split_first().expect("an invocation names its program");
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
        .args(args)
        .env("CI", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| WorkerFailure {
            code: None,
            reason: format!("cannot start `{}`: {e}", argv.join(" ")),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_orders_are_permutations_and_a_seed_always_gives_the_same() {
        let plan: Vec<ChunkIndex> = (0..10).map(ChunkIndex).collect();
        assert_eq!(ChunkOrder::Forward.arrange(plan.clone()), plan);
        let reversed: Vec<ChunkIndex> = (0..10).rev().map(ChunkIndex).collect();
        assert_eq!(ChunkOrder::Reverse.arrange(plan.clone()), reversed);
        let shuffled = ChunkOrder::Shuffled(7).arrange(plan.clone());
        assert_eq!(shuffled, ChunkOrder::Shuffled(7).arrange(plan.clone()));
        assert_ne!(shuffled, plan);
        assert_ne!(shuffled, ChunkOrder::Shuffled(8).arrange(plan.clone()));
        let mut sorted = shuffled.clone();
        sorted.sort();
        assert_eq!(sorted, plan, "every chunk once");
    }
}
