//! The regression harness: fixtures with their thresholds and expected findings, committed
//! baselines, and the run that renders, compares and names drift, with the files it leaves.

mod baseline;
mod bless;
mod determinism;
mod error;
mod fixture;
mod golden;
mod legs;
mod reports;
mod request;
mod reuse;
mod run;
mod setup;
mod verdict;
mod versus_baseline;

pub use baseline::{BASELINE_FORMAT_VERSION, Baseline, BaselineEntry, BaselineError};
pub use error::RegressError;
pub use fixture::{Fixture, FixtureError, Thresholds, discover};
pub use reports::{
    Side, junit_xml, report_html, summary_table, write_failure_images, write_reports,
};
pub use request::{DEFAULT_CHUNK_SIZE, Executor, RegressRequest};
pub(crate) use run::judge_fixture;
pub use run::regress;
