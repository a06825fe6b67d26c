//! Finding a determinism regression and its cause: `diff` compares two bundles file by file,
//! `diff-runs` two rendered videos frame by frame, and `bisect` walks a git history judging
//! each commit's fixtures, reusing stored verdicts by bundle hash instead of rendering again.

mod diff;
mod error;
mod git;
mod judge;
mod open;
mod runs;
mod walk;

pub use diff::{BundleDiff, ChangedFile, FingerprintDiff, diff_bundles};
pub use error::BisectError;
pub use git::{Commit, GitError, Repo, Worktree};
pub use judge::{
    Bad, CheckoutJudgement, FixtureVerdict, JudgeSettings, Verdict, judge_checkout,
    reference_frames,
};
pub use open::open_diff_side;
pub use runs::{RunsDiff, diff_runs};
pub use walk::{BisectOutcome, BisectRequest, Step, bisect};
