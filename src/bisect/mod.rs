//! Finding what changed between two renders: `diff` compares two bundles file by file,
//! `diff-runs` two rendered videos frame by frame. The bisect walk over a history that uses
//! them comes with the rest of the `[bisect]` issue.

mod diff;
mod runs;

pub use diff::{BundleDiff, ChangedFile, diff_bundles, open_side, scratch_dir};
pub use runs::{RunsDiff, diff_runs};
