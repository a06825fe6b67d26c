//! Exit codes, documented in the README. They are part of the interface: scripts and CI branch
//! on them. This module imports nothing of ours, so every module may name an exit code without
//! depending on anything else.

/// Everything passed (skips and warnings allowed).
pub const SUCCESS: i32 = 0;
/// A regression or drift was found.
pub const REGRESSION: i32 = 1;
/// Usage or input error: bad arguments, bad composition, unwritable output.
pub const INPUT: i32 = 2;
/// Environment error: a missing, unusable or mismatched toolchain.
pub const ENVIRONMENT: i32 = 3;
/// `bisect-step`: this revision cannot be judged (`git bisect run` skips it).
pub const BISECT_SKIP: i32 = 125;
/// `bisect-step`: a usage or environment error (`git bisect run` stops instead of marking the
/// revision bad, as it would for 1 to 127 except 125).
pub const BISECT_ABORT: i32 = 128;
/// Interrupted by Ctrl-C (the shell convention, 128 + SIGINT).
pub const INTERRUPTED: i32 = 130;
