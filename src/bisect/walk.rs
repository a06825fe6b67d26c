//! `framelock bisect`: a binary search over the first-parent history from a good revision to a
//! bad one. Each step checks the commit out into its own worktree and judges its fixtures; a
//! bundle judged before (at another commit, or in an earlier bisect) is not rendered again.
//! Both ends are judged first, so a wrong `--good` or `--bad` is said before any search.

use std::fmt::Write;

use camino::Utf8PathBuf;

use super::diff::{BundleDiff, diff_bundles};
use super::error::BisectError;
use super::git::{Commit, Repo};
use super::judge::{
    Bad, CheckoutJudgement, JudgeSettings, Verdict, judge_checkout, reference_frames,
};
use crate::drift::Finding;
use crate::exit_code;
use crate::report::{RenderEvent, Reporter};
use crate::store::Judgement;
use crate::store::open_kept;

/// A bisect.
#[derive(Debug, Clone)]
pub struct BisectRequest {
    /// A folder in the repository.
    pub repo: Utf8PathBuf,
    /// A revision known to be good.
    pub good: String,
    /// A revision known to be bad.
    pub bad: String,
    /// Judge against the good revision's in-process frames instead of determinism.
    pub against_good: bool,
    /// How each checkout is judged.
    pub judge: JudgeSettings,
    /// Where each step's renders go (a folder per commit).
    pub out_dir: Utf8PathBuf,
}

/// One judged commit.
#[derive(Debug, Clone)]
pub struct Step {
    /// The commit.
    pub commit: Commit,
    /// Its verdict, per fixture.
    pub judgement: CheckoutJudgement,
}

/// How a bisect ended.
#[derive(Debug, Clone)]
pub struct BisectOutcome {
    /// The good end.
    pub good: Commit,
    /// The bad end.
    pub bad: Commit,
    /// Commits after good up to bad.
    pub path_len: usize,
    /// Every judged commit, in the order judged.
    pub steps: Vec<Step>,
    /// The commits the first bad one is among: one when found, more when skipped commits
    /// hide it.
    pub candidates: Vec<Commit>,
    /// The last good commit before the first bad one.
    pub parent: Commit,
    /// Per fixture whose bundle changed, the parent's bundle against the first bad one's.
    pub diffs: Vec<(String, BundleDiff)>,
    /// The drift the first bad commit shows, per fixture.
    pub findings: Vec<(String, Finding)>,
    /// Why the first bad commit is bad.
    pub reason: Option<String>,
}

impl BisectOutcome {
    /// The first bad commit, when it was narrowed to one.
    pub fn first_bad(&self) -> Option<&Commit> {
        match self.candidates.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Steps whose every fixture verdict came from the store.
    pub fn reused_steps(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| !s.judgement.fixtures.is_empty() && s.judgement.rendered() == 0)
            .count()
    }

    /// Fixture verdicts made afresh (rendered, chunks from the store allowed), over all steps.
    pub fn renders(&self) -> usize {
        self.steps.iter().map(|s| s.judgement.rendered()).sum()
    }

    /// 0 when the first bad commit was found, 1 when skipped commits leave several.
    pub fn exit_code(&self) -> i32 {
        if self.first_bad().is_some() {
            exit_code::SUCCESS
        } else {
            exit_code::REGRESSION
        }
    }

    /// What `framelock bisect` prints at the end.
    pub fn text(&self) -> String {
        let mut out = String::new();
        match self.first_bad() {
            Some(commit) => {
                let _ = writeln!(out, "first bad commit: {} {}", commit.id, commit.subject);
            }
            None => {
                let _ = writeln!(
                    out,
                    "the first bad commit is one of these (the others could not be judged):"
                );
                for c in &self.candidates {
                    let _ = writeln!(out, "  {} {}", c.id, c.subject);
                }
            }
        }
        let _ = writeln!(
            out,
            "last good commit: {} {}",
            self.parent.id, self.parent.subject
        );
        if let Some(reason) = &self.reason {
            let _ = writeln!(out, "why: {reason}");
        }
        for (fixture, finding) in &self.findings {
            let _ = writeln!(out, "finding: {fixture}: {finding}");
        }
        let skipped: Vec<&Step> = self
            .steps
            .iter()
            .filter(|s| matches!(s.judgement.verdict, Verdict::Skip(_)))
            .collect();
        for step in &skipped {
            let _ = writeln!(
                out,
                "skipped: {} ({})",
                step.commit,
                step.judgement.reason().unwrap_or_default()
            );
        }
        let _ = writeln!(
            out,
            "{} of the {} commits from good to bad judged ({} skipped): {} fixture verdict(s) made afresh, {} step(s) reused a stored verdict by bundle hash instead of rendering",
            self.steps.len(),
            self.path_len + 1,
            skipped.len(),
            self.renders(),
            self.reused_steps()
        );
        for (fixture, diff) in &self.diffs {
            let _ = writeln!(out, "\n{fixture}: what changed in the bundle");
            out.push_str(&diff.text());
        }
        out
    }
}

/// Runs a bisect.
pub async fn bisect(
    request: &BisectRequest,
    reporter: &dyn Reporter,
) -> Result<BisectOutcome, BisectError> {
    let repo = Repo::open(&request.repo).map_err(BisectError::from)?;
    let good = repo.resolve(&request.good).map_err(BisectError::from)?;
    let bad = repo.resolve(&request.bad).map_err(BisectError::from)?;
    if good == bad {
        return Err(BisectError::SameCommit {
            commit: good.to_string(),
        });
    }
    let path = repo.path(&good, &bad).map_err(BisectError::from)?;
    let mut walk = Walk {
        repo: &repo,
        request,
        reporter,
        steps: Vec::new(),
        candidates: path.len(),
    };

    let definition = if request.against_good {
        // The good end's in-process frames are the reference; judging it against them then
        // records its verdicts and keeps its bundles like any other step's.
        let tree = repo.worktree(&good).map_err(BisectError::from)?;
        let out_dir = walk.out_dir(&good);
        Bad::AgainstGood(reference_frames(tree.dir(), &request.judge, &out_dir, reporter).await?)
    } else {
        Bad::Determinism
    };
    let judged = walk.judge("good end", &good, &definition).await?;
    if judged.verdict != Verdict::Good {
        return Err(wrong_end("good", &good, &judged));
    }
    let judged = walk.judge("bad end", &bad, &definition).await?;
    if judged.verdict != Verdict::Bad {
        return Err(wrong_end("bad", &bad, &judged));
    }

    // path[hi] is bad; everything at or before lo (-1 is the good end) is good.
    let (mut lo, mut hi) = (-1_isize, path.len() as isize - 1);
    let mut skipped = vec![false; path.len()];
    while let Some(next) = next_step(lo, hi, &skipped) {
        walk.candidates = (hi - lo) as usize;
        let commit = &path[next];
        match walk.judge("midpoint", commit, &definition).await?.verdict {
            Verdict::Good => lo = next as isize,
            Verdict::Bad => hi = next as isize,
            Verdict::Skip(_) => skipped[next] = true,
        }
    }
    let parent = if lo < 0 {
        good.clone()
    } else {
        path[lo as usize].clone()
    };
    let candidates: Vec<Commit> = path[(lo + 1) as usize..=hi as usize].to_vec();
    let first_bad = &path[hi as usize];
    let Explanation {
        diffs,
        findings,
        reason,
    } = if candidates.len() == 1 {
        walk.explain(&parent, first_bad)?
    } else {
        Explanation::default()
    };
    Ok(BisectOutcome {
        good,
        bad,
        path_len: path.len(),
        steps: walk.steps,
        candidates,
        parent,
        diffs,
        findings,
        reason,
    })
}

/// The next commit to judge strictly between `lo` (last good, -1 for the good end) and `hi`
/// (first bad): the one nearest the middle that was not skipped, the earlier on a tie.
fn next_step(lo: isize, hi: isize, skipped: &[bool]) -> Option<usize> {
    let middle = (lo + hi) / 2;
    ((lo + 1)..hi)
        .filter(|&i| !skipped[i as usize])
        .min_by_key(|&i| ((i - middle).abs(), i))
        .map(|i| i as usize)
}

fn wrong_end(end: &'static str, commit: &Commit, judged: &CheckoutJudgement) -> BisectError {
    BisectError::WrongEnd {
        end,
        commit: commit.to_string(),
        verdict: match judged.verdict {
            Verdict::Skip(_) => "cannot be judged".into(),
            ref v => format!("is {v}"),
        },
        reason: judged.reason(),
        judged: !matches!(judged.verdict, Verdict::Skip(_)),
    }
}

/// What the first bad commit changed and shows.
#[derive(Default)]
struct Explanation {
    diffs: Vec<(String, BundleDiff)>,
    findings: Vec<(String, Finding)>,
    reason: Option<String>,
}

/// The state of a walk: what was judged so far.
struct Walk<'a> {
    repo: &'a Repo,
    request: &'a BisectRequest,
    reporter: &'a dyn Reporter,
    steps: Vec<Step>,
    /// How many commits the first bad one may still be.
    candidates: usize,
}

impl Walk<'_> {
    fn started(&self, role: &'static str, commit: &Commit) {
        self.reporter.report(&RenderEvent::BisectStepStarted {
            step: self.steps.len() + 1,
            role,
            candidates: self.candidates,
            commit: commit.id.clone(),
            subject: commit.subject.clone(),
        });
    }

    fn out_dir(&self, commit: &Commit) -> Utf8PathBuf {
        self.request.out_dir.join(commit.short())
    }

    /// Judges `commit` in a worktree of its own.
    async fn judge(
        &mut self,
        role: &'static str,
        commit: &Commit,
        bad: &Bad,
    ) -> Result<CheckoutJudgement, BisectError> {
        self.started(role, commit);
        let tree = self.repo.worktree(commit).map_err(BisectError::from)?;
        let judged = judge_checkout(
            tree.dir(),
            &self.request.judge,
            bad,
            &self.out_dir(commit),
            self.reporter,
        )
        .await?;
        self.reporter.report(&RenderEvent::BisectStepFinished {
            commit: commit.id.clone(),
            verdict: match judged.verdict {
                Verdict::Skip(_) => "skipped".into(),
                ref v => v.to_string(),
            },
            reason: judged.reason(),
        });
        self.steps.push(Step {
            commit: commit.clone(),
            judgement: judged.clone(),
        });
        Ok(judged)
    }

    fn judged(&self, commit: &Commit) -> Option<&CheckoutJudgement> {
        self.steps
            .iter()
            .find(|s| s.commit == *commit)
            .map(|s| &s.judgement)
    }

    /// The bundle diffs and findings of the first bad commit against the last good one.
    fn explain(&self, parent: &Commit, first_bad: &Commit) -> Result<Explanation, BisectError> {
        let bad = self
            .judged(first_bad)
            .expect("the first bad commit was judged");
        let findings = bad
            .fixtures
            .iter()
            .filter(|(_, v)| v.record.judgement == Judgement::Bad)
            .flat_map(|(name, v)| v.record.findings.iter().map(|f| (name.clone(), f.clone())))
            .collect();
        let mut diffs = Vec::new();
        if let Some(before) = self.judged(parent) {
            let store = &self.request.judge.store;
            let (_scratch, scratch) =
                crate::staging::scratch_dir().map_err(|source| BisectError::Io {
                    path: std::env::temp_dir().to_string_lossy().into_owned().into(),
                    source,
                })?;
            for (name, after) in &bad.fixtures {
                let Some(before) = before.fixtures.get(name) else {
                    continue;
                };
                if before.bundle_hash == after.bundle_hash {
                    continue;
                }
                let a = open_kept(store, &before.bundle_hash, &scratch)?;
                let b = open_kept(store, &after.bundle_hash, &scratch)?;
                diffs.push((name.clone(), diff_bundles(&a, &b)?));
            }
        }
        Ok(Explanation {
            diffs,
            findings,
            reason: bad.reason(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::next_step;

    #[test]
    fn steps_halve_the_range_and_step_around_skipped_commits() {
        let none = [false; 9];
        assert_eq!(next_step(-1, 8, &none), Some(3));
        assert_eq!(next_step(3, 8, &none), Some(5));
        assert_eq!(next_step(3, 5, &none), Some(4));
        assert_eq!(next_step(3, 4, &none), None);
        let mut skipped = none;
        skipped[3] = true;
        assert_eq!(next_step(-1, 8, &skipped), Some(2));
        skipped[2] = true;
        assert_eq!(next_step(-1, 8, &skipped), Some(4));
        assert_eq!(
            next_step(1, 4, &skipped),
            None,
            "only skipped commits are left"
        );
    }
}
