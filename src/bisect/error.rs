//! Why a bisect, a bundle diff or a render diff cannot start or finish.

use camino::Utf8PathBuf;

use super::git::GitError;
use crate::bundle::BundleError;
use crate::composition::CompositionError;
use crate::encode::EncodeError;
use crate::exit_code;
use crate::regress::RegressError;
use crate::render::RenderError;
use crate::store::{KeptError, StoreError};

/// Why a bisect cannot start or finish.
#[derive(Debug, thiserror::Error)]
pub enum BisectError {
    /// git could not resolve or walk the revisions.
    #[error(transparent)]
    Git(#[from] GitError),
    /// An end of the range does not behave as the user said.
    #[error("--{end} {commit} {verdict}, not {end}{}", reason.as_deref().map_or(String::new(), |r| format!(" ({r})")))]
    WrongEnd {
        /// `good` or `bad`.
        end: &'static str,
        /// The commit.
        commit: String,
        /// What it was judged: "is good", "is bad", "cannot be judged".
        verdict: String,
        /// Why.
        reason: Option<String>,
        /// Whether it could be judged at all (not skipped).
        judged: bool,
    },
    /// --good and --bad name one commit.
    #[error("--good and --bad both name {commit}: give --good an older revision")]
    SameCommit {
        /// The commit.
        commit: String,
    },
    /// A side of `diff` is neither a file nor a hash.
    #[error(
        "{arg}: no such bundle folder or packed bundle, nor a bundle hash (8 to 64 hex characters) to look up in the store"
    )]
    NoSuchSide {
        /// What was given.
        arg: Utf8PathBuf,
    },
    /// A side of `diff-runs` is not a render framelock wrote.
    #[error("{path}: {reason}")]
    NotARender {
        /// Its `frames.json`.
        path: Utf8PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Judging a fixture failed.
    #[error(transparent)]
    Regress(#[from] RegressError),
    /// Planning a fixture failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A fixture's composition cannot be read.
    #[error(transparent)]
    Composition(#[from] CompositionError),
    /// A bundle could not be read, packed, unpacked or trusted.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bundle could not be kept in the store or opened from it.
    #[error(transparent)]
    Kept(#[from] KeptError),
    /// Videos could not be compared or pictured.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A temporary folder or a picture folder could not be made.
    #[error("{path}: {source}")]
    Io {
        /// The folder.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl BisectError {
    /// The exit code: the user's revisions and files are input; a missing git is the
    /// environment; a judging run exits as its failing part says.
    pub fn exit_code(&self) -> i32 {
        match self {
            BisectError::Git(e) => e.exit_code(),
            BisectError::Regress(e) => e.exit_code(),
            BisectError::Render(e) => e.exit_code(),
            BisectError::Bundle(e) => e.exit_code(),
            BisectError::Store(e) => e.exit_code(),
            BisectError::Kept(e) => e.exit_code(),
            BisectError::Encode(e) => e.exit_code(),
            _ => exit_code::INPUT,
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            BisectError::WrongEnd { judged: false, .. } => Some(
                "check --fixture and --fixtures (they name fixtures at the top of each checkout), and that the fixtures plan at this revision".into(),
            ),
            BisectError::WrongEnd { end: "good", .. } => Some(
                "give --good a revision whose fixtures render deterministically (or use --against-good to hunt a visual change)".into(),
            ),
            BisectError::WrongEnd { .. } => {
                Some("give --bad a revision where the regression shows".into())
            }
            BisectError::Regress(e) => e.hint(),
            BisectError::Render(e) => e.hint(),
            BisectError::Kept(KeptError::NotKept { .. }) => Some(
                "give a bundle folder or a .tar.zst, or the store that keeps it (--store)".into(),
            ),
            _ => None,
        }
    }

    /// Whether a fixture of the revision could not be planned: the revision cannot be judged,
    /// which says nothing about the drift.
    pub fn is_planning(&self) -> bool {
        match self {
            BisectError::Composition(_) | BisectError::Bundle(_) => true,
            BisectError::Render(e) => e.is_planning(),
            BisectError::Regress(e) => e.is_planning(),
            _ => false,
        }
    }
}
