//! `framelock bench`: how fast framelock is against the limits of this machine, every figure
//! measured in one run and reported as ratios (capture against a bare BeginFrame loop, workers
//! against one worker, the compare against ffmpeg's psnr filter, a cached run against an
//! uncached one). Writes `bench.json` and `BENCHMARKS.md`. Benchmarks are not tests: nothing
//! here fails on a figure; the targets table says which were reached.

mod error;
mod measure;
mod report;
mod request;
mod run;

pub use error::BenchError;
pub use report::{
    BENCH_FORMAT_VERSION, BenchReport, CacheRun, CaptureRow, CompareRow, HashingRow, ScalingRow,
    Target,
};
pub use request::{BenchRequest, Section};
pub use run::bench;
