//! `framelock submit slurm`: a bundle's chunks as one Slurm array job, a task per chunk, each
//! running `render-chunk`, which reads `SLURM_ARRAY_TASK_ID`. framelock writes the sbatch
//! script, submits it, follows it with `squeue`, submits the chunks that left no record again
//! (a bounded number of times), and assembles the video from the shared store.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use crate::bundle::{Bundle, BundleError};
use crate::distributed::{
    AssembleRequest, DistributedError, WorkerSpec, assemble, invocation, missing_chunks,
};
use crate::exit_code;
use crate::hash::BundleHash;
use crate::render::FramesRecord;
use crate::report::{RenderEvent, Reporter};
use crate::store::{Store, StoreError};
use crate::timing::ChunkIndex;

/// Why a Slurm submission failed.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// A Slurm command is not installed.
    #[error("{command} not found on PATH: framelock submits through Slurm's own commands")]
    Missing {
        /// The command.
        command: &'static str,
    },
    /// Slurm refused or failed a command.
    #[error("{doing}: `{command}` failed: {said}")]
    Refused {
        /// What framelock was doing.
        doing: String,
        /// The command line.
        command: String,
        /// What Slurm said.
        said: String,
    },
    /// Chunks still had no record after every attempt.
    #[error(
        "chunk(s) {} of bundle {bundle} failed in every one of {attempts} attempt(s); the last log of chunk {}: {log}\n{tail}",
        chunks.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        chunks[0]
    )]
    ChunksFailed {
        /// The chunks.
        chunks: Vec<ChunkIndex>,
        /// The bundle.
        bundle: BundleHash,
        /// Attempts made.
        attempts: u32,
        /// The first failing chunk's log.
        log: Utf8PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// Finding the chunks, writing the spec or assembling failed.
    #[error(transparent)]
    Distributed(#[from] DistributedError),
    /// The bundle could not be read or trusted.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file of the job (its script, its log folder) could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl SlurmError {
    /// A missing Slurm is the environment; a refused submission is what the user asked for; a
    /// chunk that keeps failing is the environment's (the worker's own errors are in its log).
    pub fn exit_code(&self) -> i32 {
        match self {
            SlurmError::Missing { .. } | SlurmError::ChunksFailed { .. } => exit_code::ENVIRONMENT,
            SlurmError::Refused { .. } | SlurmError::Io { .. } => exit_code::INPUT,
            SlurmError::Distributed(e) => e.exit_code(),
            SlurmError::Bundle(e) => e.exit_code(),
            SlurmError::Store(e) => e.exit_code(),
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            SlurmError::Missing { .. } => Some(
                "install Slurm's client commands (Debian: apt-get install slurm-client) on this machine, or run `framelock submit slurm --dry-run` and submit the script yourself".into(),
            ),
            SlurmError::Distributed(e) => e.hint(),
            _ => None,
        }
    }
}

/// A Slurm submission.
#[derive(Debug, Clone)]
pub struct SlurmJob {
    /// The bundle folder, on a file system every node sees.
    pub bundle: Utf8PathBuf,
    /// How every task renders.
    pub spec: WorkerSpec,
    /// The shared store.
    pub store: Store,
    /// The partition, when not the default one.
    pub partition: Option<String>,
    /// Tasks at once (the array's `%` throttle).
    pub max_parallel: u64,
    /// The framelock the tasks run (its path on the nodes).
    pub framelock: Utf8PathBuf,
    /// Submissions of a chunk before it counts as failed.
    pub attempts: u32,
}

/// Where a job's script, its worker spec and its task logs go: beside the store's worker logs,
/// on the file system every node sees.
pub fn log_dir(store: &Store, bundle: &Bundle) -> Result<Utf8PathBuf, SlurmError> {
    let dir = store.log_dir(bundle.hash())?.join("slurm");
    std::fs::create_dir_all(&dir).map_err(|source| SlurmError::Io {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// The sbatch script rendering `chunks` of `bundle` as `spec` (a file in `logs`) says, logs in
/// `logs`.
pub fn script(
    job: &SlurmJob,
    bundle: &Bundle,
    chunks: &[ChunkIndex],
    logs: &Utf8Path,
    spec: &Utf8Path,
) -> String {
    let hash = bundle.hash();
    let indexes = chunks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut s = String::from("#!/bin/sh\n");
    let _ = writeln!(s, "#SBATCH --job-name=framelock-{}", hash.short());
    let _ = writeln!(s, "#SBATCH --array={indexes}%{}", job.max_parallel.max(1));
    let _ = writeln!(s, "#SBATCH --output={logs}/chunk-%a.log");
    if let Some(partition) = &job.partition {
        let _ = writeln!(s, "#SBATCH --partition={partition}");
    }
    let _ = writeln!(
        s,
        "# One task per chunk of bundle {hash}; render-chunk reads SLURM_ARRAY_TASK_ID, and"
    );
    let _ = writeln!(s, "# how to render from the worker spec {spec}:");
    // A comment ends at a newline; a path with one must not end it early.
    let _ = writeln!(s, "#   {}", job.spec.summary().replace(['\n', '\r'], " "));
    let argv = invocation(&job.framelock, &bundle.dir, job.store.root(), spec, None);
    let command: Vec<String> = argv.iter().map(|a| quote(a)).collect();
    let _ = writeln!(s, "exec {}", command.join(" "));
    s
}

/// `text` as one word for sh: as it is when it holds nothing sh reads specially, else
/// single-quoted.
fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-=:,+@%".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Submits the chunks of `bundle` that have no record, waits, submits failures again up to
/// `job.attempts` times, and assembles `output`.
pub async fn submit_and_assemble(
    job: &SlurmJob,
    assemble_request: &AssembleRequest,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, SlurmError> {
    let bundle = Bundle::open(&job.bundle)?;
    let logs = log_dir(&job.store, &bundle)?;
    let mut pending = missing_chunks(assemble_request, reporter).await?;
    let mut attempt = 0;
    while !pending.is_empty() {
        if attempt == job.attempts {
            let log = logs.join(format!("chunk-{}.log", pending[0]));
            let tail = std::fs::read_to_string(&log)
                .map(|t| last_lines(&t, 12))
                .unwrap_or_else(|e| format!("(no log: {e})"));
            return Err(SlurmError::ChunksFailed {
                chunks: pending,
                bundle: bundle.hash().clone(),
                attempts: attempt,
                log,
                tail,
            });
        }
        attempt += 1;
        let id = submit(job, &bundle, &pending, &logs)?.id;
        reporter.report(&RenderEvent::SlurmSubmitted {
            job: id.clone(),
            chunks: pending.clone(),
            attempt,
        });
        wait(&id, reporter).await?;
        pending = missing_chunks(assemble_request, reporter).await?;
    }
    Ok(assemble(assemble_request, reporter).await?)
}

/// A submitted array job.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// Slurm's job id.
    pub id: String,
    /// The worker spec its tasks read (what `assemble --spec` takes).
    pub spec: Utf8PathBuf,
}

/// Writes the worker spec and the script, and submits it.
pub fn submit(
    job: &SlurmJob,
    bundle: &Bundle,
    chunks: &[ChunkIndex],
    logs: &Utf8Path,
) -> Result<Submitted, SlurmError> {
    let spec = job.spec.write(logs)?;
    let path = logs.join("job.sh");
    crate::staging::write_file(
        &path,
        "sbatch",
        script(job, bundle, chunks, logs, &spec).as_bytes(),
    )
    .map_err(|source| SlurmError::Io {
        path: path.clone(),
        source,
    })?;
    let out = slurm(
        "sbatch",
        &["--parsable", path.as_str()],
        "submitting the array job",
    )?;
    // `--parsable` prints `id` or `id;cluster`.
    Ok(Submitted {
        id: out.trim().split(';').next().unwrap_or_default().to_string(),
        spec,
    })
}

/// Waits until `squeue` no longer lists the job, reporting how many tasks are left.
async fn wait(id: &str, reporter: &dyn Reporter) -> Result<(), SlurmError> {
    let mut last = None;
    loop {
        let out = slurm(
            "squeue",
            &["-h", "-r", "-j", id, "-o", "%T"],
            "following the array job",
        )?;
        let left = out.lines().filter(|l| !l.trim().is_empty()).count();
        if left == 0 {
            return Ok(());
        }
        if last != Some(left) {
            reporter.report(&RenderEvent::SlurmWaiting {
                job: id.to_string(),
                tasks_left: left,
            });
            last = Some(left);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Runs a Slurm command; its stdout, or an error with what Slurm said.
fn slurm(command: &'static str, args: &[&str], doing: &str) -> Result<String, SlurmError> {
    let out = Command::new(command).args(args).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            SlurmError::Missing { command }
        } else {
            SlurmError::Refused {
                doing: doing.into(),
                command: command.into(),
                said: e.to_string(),
            }
        }
    })?;
    if !out.status.success() {
        return Err(SlurmError::Refused {
            doing: doing.into(),
            command: format!("{command} {}", args.join(" ")),
            said: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(quote("/a b/c"), "'/a b/c'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote(""), "''");
        assert_eq!(
            quote("/store/logs/worker-0a1b.json"),
            "/store/logs/worker-0a1b.json"
        );
    }
}
