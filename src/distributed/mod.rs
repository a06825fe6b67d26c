//! The distributed path: workers that render one chunk each from nothing but a bundle, a local
//! pool of them (`distributed-simulated`), and assembling their chunks.

mod assemble;
mod pool;
mod worker;

use camino::Utf8PathBuf;

pub use assemble::{AssembleRequest, Joining, assemble, assemble_records, missing_chunks};
pub use pool::{DistributedRequest, render_distributed};
pub use worker::{ChunkOutcome, ChunkRequest, render_chunk};

use crate::bundle::ToolchainRecord;
use crate::error::exit_code;
use crate::timing::FrameRange;

/// A self-test fault put into one chunk of a distributed render, so the harness can prove it
/// finds and names drift. Faulty chunks are never read from or indexed in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injection {
    /// The chunk.
    pub chunk: usize,
    /// What goes wrong in it.
    pub fault: Fault,
}

/// The faults `--inject` can put into a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The worker's page is seeked this many frames away from each captured frame
    /// (frame-time drift).
    ClockShift(i64),
    /// The worker's page draws randomness without per-frame reseeding, so it carries on from
    /// the load-time stream instead of the in-process render's (chunk-boundary drift).
    NoReseed,
    /// The worker encodes the chunk with this quantiser instead of the bundle's (encoder
    /// drift).
    EncoderQp(u8),
    /// The worker's videos show source frames this many frames away from the media time's
    /// (video-seek-offset drift).
    VideoOffset(i64),
    /// The distributed render's sound is made this many milliseconds late when the chunks
    /// are joined (audio-lag drift).
    AudioDelay(u64),
    /// The in-process render lets the real clock through to `Date.now()` and
    /// `performance.now()` while it prepares this chunk's frames (nondeterminism: the second
    /// in-process render disagrees with it).
    WallClock,
}

impl Injection {
    /// Whether the fault is put into the worker of its chunk (else into the in-process render
    /// or the join).
    pub fn in_worker(&self) -> bool {
        !matches!(self.fault, Fault::WallClock | Fault::AudioDelay(_))
    }

    /// The `render-chunk` arguments that put this fault into a worker.
    pub fn worker_args(&self) -> Vec<String> {
        match self.fault {
            Fault::ClockShift(k) => vec![format!("--inject-clock-shift={k}")],
            Fault::NoReseed => vec!["--inject-no-reseed".into()],
            Fault::EncoderQp(q) => vec![format!("--inject-encoder-qp={q}")],
            Fault::VideoOffset(k) => vec![format!("--inject-video-offset={k}")],
            Fault::WallClock | Fault::AudioDelay(_) => Vec::new(),
        }
    }
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
) -> Result<usize, DistributedError> {
    let (name, value) = ARRAY_INDEX_VARS
        .iter()
        .find_map(|name| var(name).map(|value| (*name, value)))
        .ok_or(DistributedError::NoChunk)?;
    value
        .trim()
        .parse()
        .map_err(|_| DistributedError::BadArrayIndex { var: name, value })
}

/// Why a distributed render failed.
#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    /// `render-chunk` without `--chunk` outside an array task.
    #[error(
        "render-chunk: no chunk given: pass --chunk I, or run it as an array task (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX)"
    )]
    NoChunk,
    /// An array index variable that is not a chunk index.
    #[error("render-chunk: ${var} is {value:?}: expected a chunk index (0, 1, 2, …)")]
    BadArrayIndex {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// The worker's toolchain is not the planning machine's.
    #[error(
        "TOOLCHAIN_MISMATCH: the bundle was planned with toolchain {} ({}, {}), this machine has {} ({}, {})",
        planned.fingerprint, planned.chrome_version, planned.ffmpeg_version,
        here.fingerprint, here.chrome_version, here.ffmpeg_version
    )]
    ToolchainMismatch {
        /// From plan.json.
        planned: Box<ToolchainRecord>,
        /// This machine's.
        here: Box<ToolchainRecord>,
    },
    /// A chunk kept failing.
    #[error(
        "chunk {chunk} ({range}) failed after {attempts} attempt(s): the worker {reason}; its log: {log}"
    )]
    ChunkFailed {
        /// The chunk.
        chunk: usize,
        /// Its frames.
        range: FrameRange,
        /// How many tries.
        attempts: u32,
        /// What the last try said.
        reason: Box<str>,
        /// The last try's log.
        log: Box<Utf8PathBuf>,
        /// The last try's exit code.
        code: Option<i32>,
    },
}

impl DistributedError {
    /// A toolchain mismatch is an environment error; a failed chunk exits as its worker did.
    pub fn exit_code(&self) -> i32 {
        match self {
            DistributedError::NoChunk | DistributedError::BadArrayIndex { .. } => exit_code::INPUT,
            DistributedError::ToolchainMismatch { .. } => exit_code::ENVIRONMENT,
            DistributedError::ChunkFailed { code, .. } => match code {
                Some(c @ (1..=3)) => *c,
                _ => exit_code::ENVIRONMENT,
            },
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            DistributedError::ToolchainMismatch { .. } => Some(
                "render on a machine with the planning toolchain (the Nix flake pins one), or pass --allow-toolchain-mismatch (recorded)"
                    .into(),
            ),
            DistributedError::ChunkFailed { .. }
            | DistributedError::NoChunk
            | DistributedError::BadArrayIndex { .. } => None,
        }
    }
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
            3
        );
        assert_eq!(
            chunk_from_environment(env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap(),
            0
        );
        assert_eq!(
            chunk_from_environment(env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "7")])).unwrap(),
            7
        );
        // Slurm first: a Slurm job inside a cluster that also sets the others is still Slurm's.
        assert_eq!(
            chunk_from_environment(env(&[
                ("JOB_COMPLETION_INDEX", "1"),
                ("SLURM_ARRAY_TASK_ID", "2"),
            ]))
            .unwrap(),
            2
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
