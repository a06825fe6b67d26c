//! Finding what changed between two renders' inputs. `diff` compares two bundles file by file;
//! the bisect walk over a history that uses it comes with the rest of the `[bisect]` issue.

mod diff;

pub use diff::{BundleDiff, ChangedFile, diff_bundles, open_side, scratch_dir};
