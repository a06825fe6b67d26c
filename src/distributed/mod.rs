//! The distributed path: workers that render one chunk each from nothing but a bundle, a local
//! pool of them (`distributed-simulated`), and assembling their chunks.

mod assemble;
mod error;
mod inject;
mod pool;
mod spec;
mod worker;

pub use assemble::{AssembleRequest, assemble, missing_chunks};
pub use error::DistributedError;
pub use inject::{Fault, Injection};
pub use pool::{ChunkOrder, DistributedRequest, render_distributed};
pub use spec::{SpecTools, WORKER_SPEC_FORMAT_VERSION, WorkerSettings, WorkerSpec, invocation};
pub use worker::{
    ARRAY_INDEX_VARS, ChunkOutcome, ChunkRequest, chunk_from_environment, render_chunk,
};
