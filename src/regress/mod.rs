//! The regression harness: fixtures with their thresholds and expected findings, committed
//! baselines, and the run that renders, compares and names drift.

mod baseline;
mod fixture;
mod reuse;
mod run;

pub use crate::drift::Finding;
pub use baseline::{BASELINE_FORMAT_VERSION, Baseline, BaselineEntry, BaselineError};
pub use fixture::{Fixture, FixtureError, Thresholds, discover};
pub(crate) use run::{DEFAULT_CHUNK_SIZE, judge_fixture};
pub use run::{
    Executor, FixtureResult, REPORT_FORMAT_VERSION, RegressMode, RegressReport, RegressRequest,
    Status, regress,
};
