//! The git plumbing bisect needs: resolving revisions, the first-parent path from good to
//! bad, and a detached worktree per step, so the user's checkout, index and `HEAD` are never
//! touched.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use crate::exit_code;

/// Why git could not give bisect what it needs.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git itself could not be run.
    #[error("cannot run git: {source}")]
    Missing {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A git command failed.
    #[error("{repo}: `git {args}` failed: {stderr}")]
    Failed {
        /// The repository.
        repo: Utf8PathBuf,
        /// The arguments.
        args: String,
        /// What git said.
        stderr: String,
    },
    /// A revision names no commit.
    #[error("{repo}: no commit named {rev}")]
    UnknownRevision {
        /// The repository.
        repo: Utf8PathBuf,
        /// What the user gave.
        rev: String,
    },
    /// The good revision is not on the bad one's history.
    #[error(
        "{repo}: --good {good} is not an ancestor of --bad {bad}: give a good revision that the bad one descends from"
    )]
    NotAncestor {
        /// The repository.
        repo: Utf8PathBuf,
        /// The good revision.
        good: String,
        /// The bad revision.
        bad: String,
    },
}

impl GitError {
    /// A missing git is the environment; anything else is what the user asked for.
    pub fn exit_code(&self) -> i32 {
        match self {
            GitError::Missing { .. } => exit_code::ENVIRONMENT,
            _ => exit_code::INPUT,
        }
    }
}

/// One commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Its full id.
    pub id: String,
    /// Its subject line.
    pub subject: String,
}

impl Commit {
    /// The id's first ten characters.
    pub fn short(&self) -> &str {
        &self.id[..self.id.len().min(10)]
    }
}

impl std::fmt::Display for Commit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.short(), self.subject)
    }
}

/// A git repository.
#[derive(Debug, Clone)]
pub struct Repo {
    dir: Utf8PathBuf,
}

impl Repo {
    /// The repository `dir` is in.
    pub fn open(dir: &Utf8Path) -> Result<Repo, GitError> {
        let top = git(dir, &["rev-parse", "--show-toplevel"])?;
        Ok(Repo {
            dir: Utf8PathBuf::from(top.trim()),
        })
    }

    /// Its top folder.
    pub fn dir(&self) -> &Utf8Path {
        &self.dir
    }

    /// The commit `rev` names.
    pub fn resolve(&self, rev: &str) -> Result<Commit, GitError> {
        let unknown = || GitError::UnknownRevision {
            repo: self.dir.clone(),
            rev: rev.into(),
        };
        let out = git(
            &self.dir,
            &[
                "log",
                "-1",
                "--format=%H%x00%s",
                &format!("{rev}^{{commit}}"),
                "--",
            ],
        )
        .map_err(|e| match e {
            GitError::Failed { .. } => unknown(),
            e => e,
        })?;
        parse_commits(&out).pop().ok_or_else(unknown)
    }

    /// The commits after `good` up to and including `bad`, oldest first, along `bad`'s
    /// first-parent history.
    pub fn path(&self, good: &Commit, bad: &Commit) -> Result<Vec<Commit>, GitError> {
        let ancestor = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(["merge-base", "--is-ancestor", &good.id, &bad.id])
            .output()
            .map_err(|source| GitError::Missing { source })?;
        if !ancestor.status.success() {
            return Err(GitError::NotAncestor {
                repo: self.dir.clone(),
                good: good.short().into(),
                bad: bad.short().into(),
            });
        }
        let out = git(
            &self.dir,
            &[
                "log",
                "--first-parent",
                "--reverse",
                "--format=%H%x00%s",
                &format!("{}..{}", good.id, bad.id),
                "--",
            ],
        )?;
        Ok(parse_commits(&out))
    }

    /// A detached checkout of `commit` in a new temporary folder, removed again on drop.
    pub fn worktree(&self, commit: &Commit) -> Result<Worktree, GitError> {
        let temp = tempfile::Builder::new()
            .prefix("framelock-bisect-")
            .tempdir()
            .map_err(|source| GitError::Missing { source })?;
        let dir = Utf8PathBuf::from_path_buf(temp.path().join("tree"))
            .map_err(|_| self.failed(&["worktree", "add"], "temporary folder is not UTF-8"))?;
        git(
            &self.dir,
            &[
                "worktree",
                "add",
                "--detach",
                "--quiet",
                dir.as_str(),
                &commit.id,
            ],
        )?;
        Ok(Worktree {
            repo: self.dir.clone(),
            dir,
            _temp: temp,
        })
    }

    fn failed(&self, args: &[&str], stderr: &str) -> GitError {
        GitError::Failed {
            repo: self.dir.clone(),
            args: args.join(" "),
            stderr: stderr.into(),
        }
    }
}

/// A checkout of one commit outside the user's working tree.
#[derive(Debug)]
pub struct Worktree {
    repo: Utf8PathBuf,
    dir: Utf8PathBuf,
    _temp: tempfile::TempDir,
}

impl Worktree {
    /// Its folder.
    pub fn dir(&self) -> &Utf8Path {
        &self.dir
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        // Unregisters the worktree from the repository; the folder goes with the temp dir.
        let _ = git(
            &self.repo,
            &["worktree", "remove", "--force", self.dir.as_str()],
        );
    }
}

/// Runs `git -C dir ARGS`, returning its stdout.
fn git(dir: &Utf8Path, args: &[&str]) -> Result<String, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|source| GitError::Missing { source })?;
    if !out.status.success() {
        return Err(GitError::Failed {
            repo: dir.to_owned(),
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `%H%x00%s` lines.
fn parse_commits(out: &str) -> Vec<Commit> {
    out.lines()
        .filter_map(|line| line.split_once('\0'))
        .map(|(id, subject)| Commit {
            id: id.to_string(),
            subject: subject.to_string(),
        })
        .collect()
}
