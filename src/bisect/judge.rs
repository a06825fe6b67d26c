//! Judging one checkout: plan each fixture into a bundle, and either reuse the stored verdict
//! for that bundle (same chunk plan, toolchain, render settings, build and bad-definition) or
//! render, judge, and store the verdict. A revision whose fixtures cannot be planned is
//! skipped, never called bad; a broken environment stops the whole bisect.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};

use super::error::BisectError;
use crate::bundle::Chunking;
use crate::composition::{Composition, Overrides};
use crate::drift::FindingKind;
use crate::hash::{BundleHash, ContentHash};
use crate::outcome::{RegressMode, Status};
use crate::regress::{DEFAULT_CHUNK_SIZE, Fixture, RegressRequest, discover, judge_fixture};
use crate::render::{Planning, RunSettings, plan_bundle};
use crate::report::{RenderEvent, Reporter};
use crate::store::keep_bundle;
use crate::store::{
    BadDefinition, Judgement, KeyedRecord, RECORD_FORMAT_VERSION, Store, VerdictKey, VerdictLookup,
    VerdictRecord, frames_digest,
};

/// How every checkout is judged.
#[derive(Debug, Clone)]
pub struct JudgeSettings {
    /// The fixtures folder, relative to the checkout.
    pub fixtures: Utf8PathBuf,
    /// Only these fixtures (all when empty).
    pub only: Vec<String>,
    /// Workers at once.
    pub workers: usize,
    /// How every render runs.
    pub run: RunSettings,
    /// The store: chunk records, verdicts and kept bundles.
    pub store: Store,
    /// The framelock binary workers run.
    pub worker_exe: Utf8PathBuf,
}

/// What makes a revision bad, per fixture.
#[derive(Debug, Clone, PartialEq)]
pub enum Bad {
    /// A determinism failure: worker ≠ in-process, or two in-process renders differ.
    Determinism,
    /// In-process frames other than the good revision's, whose frame digests these are.
    AgainstGood(BTreeMap<String, ContentHash>),
}

/// The verdict on one fixture of a checkout.
#[derive(Debug, Clone)]
pub struct FixtureVerdict {
    /// The bundle judged.
    pub bundle_hash: BundleHash,
    /// The verdict, with what it rests on.
    pub record: VerdictRecord,
    /// Whether it came from the store instead of a render.
    pub reused: bool,
}

/// The verdict on a checkout.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every fixture is good.
    Good,
    /// A fixture is bad.
    Bad,
    /// It cannot be judged (a fixture cannot be planned, or is missing); the reason.
    Skip(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Good => "good",
            Verdict::Bad => "bad",
            Verdict::Skip(_) => "skip",
        })
    }
}

/// A checkout's verdict and its fixtures' verdicts.
#[derive(Debug, Clone)]
pub struct CheckoutJudgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Per fixture, by name.
    pub fixtures: BTreeMap<String, FixtureVerdict>,
}

impl CheckoutJudgement {
    /// Why it is bad or skipped, in one line.
    pub fn reason(&self) -> Option<String> {
        match &self.verdict {
            Verdict::Good => None,
            Verdict::Skip(reason) => Some(reason.clone()),
            Verdict::Bad => self
                .fixtures
                .iter()
                .filter(|(_, v)| v.record.judgement == Judgement::Bad)
                .map(|(name, v)| format!("{name}: {}", v.record.reason.as_deref().unwrap_or("bad")))
                .next(),
        }
    }

    /// Fixtures rendered (not reused).
    pub fn rendered(&self) -> usize {
        self.fixtures.values().filter(|v| !v.reused).count()
    }

    fn skip(reason: String) -> CheckoutJudgement {
        CheckoutJudgement {
            verdict: Verdict::Skip(reason),
            fixtures: BTreeMap::new(),
        }
    }
}

/// Judges the fixtures of `checkout`, writing any renders under `out_dir`.
pub async fn judge_checkout(
    checkout: &Utf8Path,
    settings: &JudgeSettings,
    bad: &Bad,
    out_dir: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<CheckoutJudgement, BisectError> {
    // Reasons name files relative to the checkout: a worktree's folder is gone afterwards.
    let relative = |reason: String| reason.replace(&format!("{checkout}/"), "");
    let fixtures = match select(checkout, settings) {
        Ok(fixtures) => fixtures,
        Err(reason) => return Ok(CheckoutJudgement::skip(relative(reason))),
    };
    let mut judged = BTreeMap::new();
    for fixture in &fixtures {
        let definition = match bad {
            Bad::Determinism => BadDefinition::Determinism {
                expected: fixture.expected_findings.iter().copied().collect(),
            },
            Bad::AgainstGood(good) => match good.get(&fixture.name) {
                Some(frames) => BadDefinition::AgainstGood {
                    frames: frames.clone(),
                },
                None => {
                    return Ok(CheckoutJudgement::skip(format!(
                        "fixture {} has no reference frames: the good revision could not render it",
                        fixture.name
                    )));
                }
            },
        };
        match judge(checkout, fixture, settings, definition, out_dir, reporter).await {
            Ok(verdict) => {
                reporter.report(&RenderEvent::FixtureJudged {
                    fixture: fixture.name.clone(),
                    bundle_hash: verdict.bundle_hash.clone(),
                    judgement: verdict.record.judgement.to_string(),
                    reused: verdict.reused,
                });
                judged.insert(fixture.name.clone(), verdict);
            }
            // A revision whose fixture cannot be planned says nothing about the drift.
            Err(e) if e.is_planning() => {
                return Ok(CheckoutJudgement::skip(relative(format!(
                    "{}: {e}",
                    fixture.name
                ))));
            }
            Err(e) => return Err(e),
        }
    }
    let bad = judged
        .values()
        .any(|v| v.record.judgement == Judgement::Bad);
    Ok(CheckoutJudgement {
        verdict: if bad { Verdict::Bad } else { Verdict::Good },
        fixtures: judged,
    })
}

/// The in-process frame digests of the fixtures of `checkout` (the good revision of
/// `--against-good`), by fixture name. Rendered with the chunk cache, so a bisect run again
/// reuses them.
pub async fn reference_frames(
    checkout: &Utf8Path,
    settings: &JudgeSettings,
    out_dir: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<BTreeMap<String, ContentHash>, BisectError> {
    // Without a reference for a fixture, judging the good end says why it cannot be judged.
    let Ok(fixtures) = select(checkout, settings) else {
        return Ok(BTreeMap::new());
    };
    let request = regress_request(checkout, settings, RegressMode::InProcess, out_dir);
    let mut frames = BTreeMap::new();
    for fixture in &fixtures {
        match judge_fixture(&request, fixture, reporter).await {
            Ok((_, renders)) => {
                frames.insert(
                    fixture.name.clone(),
                    frames_digest(&renders.reference.frame_hashes),
                );
            }
            Err(e) if e.is_planning() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(frames)
}

/// The fixtures to judge in `checkout`, or why there are none.
fn select(checkout: &Utf8Path, settings: &JudgeSettings) -> Result<Vec<Fixture>, String> {
    let dir = checkout.join(&settings.fixtures);
    if !dir.is_dir() {
        return Err(format!("no fixtures folder {}", settings.fixtures));
    }
    let found = discover(&dir).map_err(|e| e.to_string())?;
    if let Some(missing) = settings
        .only
        .iter()
        .find(|name| !found.iter().any(|f| &f.name == *name))
    {
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        return Err(format!(
            "no fixture {missing} in {} (it has: {})",
            settings.fixtures,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ));
    }
    // A fixture whose meta.json cannot be used cannot be judged at this revision.
    let selected: Vec<Fixture> = found
        .into_iter()
        .filter(|f| settings.only.is_empty() || settings.only.contains(&f.name))
        .map(|f| f.fixture.map_err(|e| e.to_string()))
        .collect::<Result<Vec<Fixture>, String>>()?
        .into_iter()
        .filter(|f| f.unsupported.is_none())
        .collect();
    if selected.is_empty() {
        return Err(format!("no supported fixture in {}", settings.fixtures));
    }
    Ok(selected)
}

fn regress_request(
    checkout: &Utf8Path,
    settings: &JudgeSettings,
    mode: RegressMode,
    out_dir: &Utf8Path,
) -> RegressRequest {
    RegressRequest {
        fixtures: checkout.join(&settings.fixtures),
        baselines: out_dir.join("baselines"),
        report_dir: out_dir.to_owned(),
        only: Vec::new(),
        mode,
        workers: settings.workers,
        update: false,
        // A blocked request is a hermeticity problem, not a determinism one.
        strict: false,
        run: settings.run.clone(),
        store: settings.store.clone(),
        worker_exe: settings.worker_exe.clone(),
        inject: None,
        executor: None,
        use_cache: true,
        repeat: 1,
        as_written: false,
    }
}

/// Plans one fixture, then reuses or makes its verdict.
async fn judge(
    checkout: &Utf8Path,
    fixture: &Fixture,
    settings: &JudgeSettings,
    definition: BadDefinition,
    out_dir: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<FixtureVerdict, BisectError> {
    let composition = Composition::load(&fixture.dir, &Overrides::default())?;
    let chunk_size = composition.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
    let scratch = tempfile::Builder::new()
        .prefix("framelock-plan-")
        .tempdir()
        .map_err(|source| BisectError::Io {
            path: std::env::temp_dir().to_string_lossy().into_owned().into(),
            source,
        })?;
    let bundle_dir = Utf8Path::from_path(scratch.path())
        .expect("temporary folders have UTF-8 paths here")
        .join("bundle");
    let prepared = plan_bundle(
        Planning {
            composition: &composition,
            settings: &settings.run,
            chunking: Some(Chunking::Size(chunk_size)),
            store: Some(&settings.store),
        },
        &bundle_dir,
        reporter,
    )
    .await?;
    keep_bundle(&settings.store, &prepared.bundle)?;
    let key = VerdictKey {
        bundle_hash: prepared.bundle.hash().clone(),
        chunk_plan: prepared.bundle.plan.chunk_plan.clone(),
        fingerprints: prepared.record_fingerprints(),
        bad_definition: definition,
    };
    match settings.store.lookup_verdict(&key) {
        VerdictLookup::Hit(record) => {
            return Ok(FixtureVerdict {
                bundle_hash: key.bundle_hash,
                record: *record,
                reused: true,
            });
        }
        VerdictLookup::Corrupt(reason) => reporter.report(&RenderEvent::CorruptRecord {
            fixture: fixture.name.clone(),
            record: "verdict".into(),
            reason,
        }),
        VerdictLookup::Miss => {}
    }
    let mode = match key.bad_definition {
        BadDefinition::Determinism { .. } => RegressMode::DistributedSimulated,
        BadDefinition::AgainstGood { .. } => RegressMode::InProcess,
    };
    let request = regress_request(checkout, settings, mode, out_dir);
    let (result, renders) = judge_fixture(&request, fixture, reporter).await?;
    let frames = frames_digest(&renders.reference.frame_hashes);
    let (judgement, reason) = match &key.bad_definition {
        BadDefinition::Determinism { .. } if result.status == Status::Failed => {
            (Judgement::Bad, result.reason.clone())
        }
        BadDefinition::Determinism { .. } => (Judgement::Good, None),
        BadDefinition::AgainstGood { frames: good } if *good != frames => (
            Judgement::Bad,
            Some("the in-process frames differ from the good revision's".into()),
        ),
        BadDefinition::AgainstGood { .. } => (Judgement::Good, None),
    };
    let record = VerdictRecord {
        format_version: RECORD_FORMAT_VERSION,
        fixture: fixture.name.clone(),
        judgement,
        reason,
        findings: result
            .findings
            .into_iter()
            .filter(|f| f.kind != FindingKind::Hermeticity)
            .collect(),
        frames,
        run_records: [&Some(renders.reference), &renders.worker]
            .into_iter()
            .flatten()
            .filter_map(|r| r.run_record.clone())
            .collect(),
        key,
    };
    record.save(&settings.store)?;
    Ok(FixtureVerdict {
        bundle_hash: record.key.bundle_hash.clone(),
        record,
        reused: false,
    })
}
