//! The decisions of a regression run, as plain functions of their data: when a fixture fails,
//! how its findings compare with what it declares, what a blocked request and a sound difference
//! mean, and when PSNR against the baseline passes.

use std::collections::BTreeSet;

use super::fixture::{Fixture, Thresholds};
use crate::browser::{PageEvent, PageEventKind};
use crate::compare::{FRAMELOCK_ENVELOPE, envelope_lag};
use crate::drift::{Evidence, Finding, FindingKind, classify_audio};
use crate::outcome::{FixtureResult, Status};

/// PSNR below which a frame fails whatever the thresholds say.
pub(super) const PSNR_FLOOR: f64 = 10.0;

/// Windows either side searched for the best audio lag: half a second.
const AUDIO_LAG_SEARCH: usize = 50;

/// Marks `result` failed; the first reason given is the one it keeps.
pub(super) fn fail(result: &mut FixtureResult, reason: String) {
    result.status = Status::Failed;
    if result.reason.is_none() {
        result.reason = Some(reason);
    }
}

/// A fixture that exists to demonstrate findings passes when exactly those are found; any other
/// fixture fails on any finding except hermeticity (judged by --strict).
pub(super) fn judge_expected(fixture: &Fixture, result: &mut FixtureResult) {
    let found: BTreeSet<FindingKind> = result
        .findings
        .iter()
        .map(|f| f.kind)
        .filter(|k| *k != FindingKind::Hermeticity)
        .collect();
    if found != fixture.expected_findings {
        let names = |set: &BTreeSet<FindingKind>| {
            if set.is_empty() {
                "none".to_string()
            } else {
                set.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        fail(
            result,
            format!(
                "findings: expected {}, found {}",
                names(&fixture.expected_findings),
                names(&found)
            ),
        );
    }
}

/// The page's blocked requests as a hermeticity finding, failing the fixture when `strict`.
pub(super) fn hermeticity(events: &[PageEvent], strict: bool, result: &mut FixtureResult) {
    let blocked: Vec<(Option<u64>, &str)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            PageEventKind::BlockedRequest { url } => Some((e.frame, url.as_str())),
            _ => None,
        })
        .collect();
    if let Some((frame, url)) = blocked.first() {
        result.findings.push(Finding {
            kind: FindingKind::Hermeticity,
            chunk: None,
            first_frame: *frame,
            evidence: format!("{} blocked request(s), first {url}", blocked.len()),
        });
        if strict {
            fail(result, format!("hermeticity: blocked request to {url}"));
        }
    }
}

/// What the page reported as going wrong: console errors and every other page event.
pub(super) fn console_errors(events: &[PageEvent]) -> Vec<PageEvent> {
    events
        .iter()
        .filter(|e| match &e.kind {
            PageEventKind::Console { level, .. } => level == "error",
            _ => true,
        })
        .cloned()
        .collect()
}

/// An audio finding from two envelopes, or one for sound present in only one of them, with
/// whether it fails `thresholds`. With a minimum correlation of 1, any difference is named.
pub(super) fn audio_finding(
    reference: Option<&[f64]>,
    candidate: Option<&[f64]>,
    thresholds: &Thresholds,
    (reference_name, candidate_name): (&str, &str),
) -> Option<(Finding, bool)> {
    let what = format!("{candidate_name} against {reference_name}");
    let finding = |evidence: String| Finding {
        kind: FindingKind::AudioLag,
        chunk: None,
        first_frame: None,
        evidence,
    };
    match (reference, candidate) {
        (None, None) => None,
        (Some(_), None) => Some((
            finding(format!("{what}: the {candidate_name} has no sound")),
            true,
        )),
        (None, Some(_)) => Some((
            finding(format!("{what}: the {reference_name} has no sound")),
            true,
        )),
        (Some(a), Some(b)) => {
            let exact = thresholds.min_audio_correlation >= 1.0;
            let (lag, correlation) =
                classify_audio(a, b, thresholds.min_audio_correlation, AUDIO_LAG_SEARCH).or_else(
                    || {
                        (exact && a != b).then(|| {
                            envelope_lag(a, b, AUDIO_LAG_SEARCH, FRAMELOCK_ENVELOPE.min_overlap)
                        })
                    },
                )?;
            let window_ms = FRAMELOCK_ENVELOPE.hop_ms() as i64;
            let failing = lag.unsigned_abs() > thresholds.max_audio_lag_windows
                || correlation < thresholds.min_audio_correlation;
            Some((
                finding(format!(
                    "{what}: sound peaks at lag {:+} ms (correlation {correlation:.3}; allowed {} ms, {})",
                    lag * window_ms,
                    thresholds.max_audio_lag_windows as i64 * window_ms,
                    thresholds.min_audio_correlation
                )),
                failing,
            ))
        }
    }
}

/// A chunk finding's evidence, in words.
pub(super) fn describe(evidence: &Evidence) -> String {
    match evidence {
        Evidence::FrameOffset {
            k,
            explained,
            differing,
        } => format!(
            "worker frames equal in-process frames {k:+} ({explained} of {differing} differing frames)"
        ),
        Evidence::Restarted {
            explained,
            differing,
        } => format!(
            "worker frames repeat the in-process render's from its first frame ({explained} of {differing} differing frames): the page counts frames itself and began again at the chunk start"
        ),
        Evidence::DifferingFrames { count } => format!("{count} frame(s) differ"),
        Evidence::VideoOffset {
            k,
            explained,
            differing,
        } => format!(
            "worker videos show source frames {k:+} from the in-process render's ({explained} of {differing} differing frames)"
        ),
        Evidence::EncodedBlobs {
            reference,
            candidate,
        } => format!("equal frames, encoded chunk {reference} vs {candidate}"),
    }
}

/// How a render's per-frame PSNR against the baseline video measures up to a fixture's
/// thresholds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PsnrJudgement {
    /// Frames below `minPsnr`.
    pub(super) below: Vec<usize>,
    /// The first frame below the 10 dB floor, which fails whatever the thresholds allow.
    pub(super) floor: Option<usize>,
    /// The frame with the lowest PSNR (the first of equals).
    pub(super) worst: usize,
    /// The lowest PSNR.
    pub(super) lowest: f64,
}

impl PsnrJudgement {
    /// Measures `frames` against `min_psnr`.
    pub(super) fn of(frames: &[f64], min_psnr: f64) -> PsnrJudgement {
        PsnrJudgement {
            below: (0..frames.len())
                .filter(|&i| frames[i] < min_psnr)
                .collect(),
            floor: frames.iter().position(|p| *p < PSNR_FLOOR),
            worst: worst_frame(frames),
            lowest: frames.iter().copied().fold(f64::INFINITY, f64::min),
        }
    }

    /// Whether it fails: more frames below `minPsnr` than `maxFrameFailures` allows, or any
    /// below the floor.
    pub(super) fn fails(&self, max_frame_failures: u64) -> bool {
        self.below.len() as u64 > max_frame_failures || self.floor.is_some()
    }

    /// The frame a failure names first: the first below the floor, else the first below
    /// `minPsnr`.
    pub(super) fn first_failing(&self) -> usize {
        self.floor.or(self.below.first().copied()).unwrap_or(0)
    }
}

/// The frame with the lowest PSNR (the first of equals).
pub(super) fn worst_frame(psnr: &[f64]) -> usize {
    (0..psnr.len())
        .min_by(|&a, &b| psnr[a].total_cmp(&psnr[b]).then(a.cmp(&b)))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::PageEvent;

    fn fixture(expected: &[FindingKind]) -> Fixture {
        Fixture {
            name: "fx".into(),
            dir: "fixtures/fx".into(),
            thresholds: Thresholds::default(),
            expected_findings: expected.iter().copied().collect(),
            unsupported: None,
            golden: None,
        }
    }

    fn with_findings(kinds: &[FindingKind]) -> FixtureResult {
        let mut result = FixtureResult::new("fx", 40.0);
        result.findings = kinds
            .iter()
            .map(|kind| Finding {
                kind: *kind,
                chunk: Some(crate::timing::ChunkIndex(1)),
                first_frame: Some(20),
                evidence: "e".into(),
            })
            .collect();
        result
    }

    #[test]
    fn a_fixture_passes_when_exactly_its_declared_findings_are_found() {
        use FindingKind::*;
        let cases: [(&[FindingKind], &[FindingKind], Option<&str>); 6] = [
            (&[], &[], None),
            (&[], &[Hermeticity], None),
            (&[ChunkBoundary], &[ChunkBoundary, ChunkBoundary], None),
            (
                &[],
                &[FrameTime],
                Some("findings: expected none, found frame-time"),
            ),
            (
                &[ChunkBoundary],
                &[],
                Some("findings: expected chunk-boundary, found none"),
            ),
            (
                &[ChunkBoundary],
                &[ChunkBoundary, Encoder],
                Some("findings: expected chunk-boundary, found chunk-boundary, encoder"),
            ),
        ];
        for (expected, found, reason) in cases {
            let mut result = with_findings(found);
            judge_expected(&fixture(expected), &mut result);
            assert_eq!(result.reason.as_deref(), reason, "{expected:?} {found:?}");
            let status = if reason.is_some() {
                Status::Failed
            } else {
                Status::Passed
            };
            assert_eq!(result.status, status, "{expected:?} {found:?}");
        }
    }

    #[test]
    fn the_first_reason_a_fixture_fails_for_is_the_one_it_keeps() {
        let mut result = FixtureResult::new("fx", 40.0);
        fail(&mut result, "first".into());
        fail(&mut result, "second".into());
        assert_eq!(result.status, Status::Failed);
        assert_eq!(result.reason.as_deref(), Some("first"));
    }

    #[test]
    fn a_blocked_request_is_a_finding_and_fails_only_when_strict() {
        let events = vec![
            PageEvent {
                frame: Some(3),
                kind: PageEventKind::BlockedRequest {
                    url: "https://example.invalid/a.js".into(),
                },
            },
            PageEvent {
                frame: Some(9),
                kind: PageEventKind::BlockedRequest {
                    url: "https://example.invalid/b.js".into(),
                },
            },
        ];
        for strict in [false, true] {
            let mut result = FixtureResult::new("fx", 40.0);
            hermeticity(&events, strict, &mut result);
            assert_eq!(result.findings.len(), 1);
            let finding = &result.findings[0];
            assert_eq!(finding.kind, FindingKind::Hermeticity);
            assert_eq!(finding.first_frame, Some(3));
            assert!(
                finding
                    .evidence
                    .starts_with("2 blocked request(s), first https://example.invalid/a.js")
            );
            assert_eq!(result.status == Status::Failed, strict);
        }
        let mut result = FixtureResult::new("fx", 40.0);
        hermeticity(&[], true, &mut result);
        assert!(result.findings.is_empty() && result.status == Status::Passed);
    }

    #[test]
    fn psnr_fails_beyond_the_allowed_frames_or_below_the_floor() {
        let frames = [100.0, 39.0, 45.0, 38.5, 100.0];
        let judged = PsnrJudgement::of(&frames, 40.0);
        assert_eq!(judged.below, [1, 3]);
        assert_eq!(judged.worst, 3);
        assert_eq!(judged.lowest, 38.5);
        assert!(judged.fails(1));
        assert!(!judged.fails(2));
        assert_eq!(judged.first_failing(), 1);

        let floor = PsnrJudgement::of(&[50.0, 9.5, 60.0], 5.0);
        assert!(floor.below.is_empty());
        assert!(
            floor.fails(100),
            "a frame below 10 dB fails whatever is allowed"
        );
        assert_eq!(floor.first_failing(), 1);

        let equal = PsnrJudgement::of(&[42.0, 41.0, 41.0], 40.0);
        assert_eq!(equal.worst, 1, "the first of equals");
        assert!(!equal.fails(0));
    }

    #[test]
    fn sound_in_one_render_only_always_fails_and_exact_comparison_names_any_difference() {
        let thresholds = Thresholds::default();
        let a = [0.1, 0.5, 0.2, 0.0, 0.3, 0.6, 0.1, 0.0];
        let (finding, failing) =
            audio_finding(Some(&a), None, &thresholds, ("baseline", "render")).unwrap();
        assert!(failing && finding.evidence.contains("the render has no sound"));
        assert!(audio_finding(None, None, &thresholds, ("a", "b")).is_none());
        assert!(audio_finding(Some(&a), Some(&a), &thresholds, ("a", "b")).is_none());

        let exact = Thresholds {
            min_audio_correlation: 1.0,
            max_audio_lag_windows: 0,
            ..thresholds
        };
        let mut b = a;
        b[4] = 0.31;
        let (finding, failing) = audio_finding(Some(&a), Some(&b), &exact, ("a", "b")).unwrap();
        assert!(failing, "{}", finding.evidence);
        assert_eq!(finding.kind, FindingKind::AudioLag);
    }
}
