//! The regression harness's building blocks: fixtures with their thresholds and expected
//! findings, and committed baselines. (The `regress` command that drives them is the next step
//! of the `[regress]` issue.)

mod baseline;
mod fixture;

pub use baseline::{BASELINE_FORMAT_VERSION, Baseline, BaselineEntry, BaselineError};
pub use fixture::{Fixture, FixtureError, Thresholds, discover};
