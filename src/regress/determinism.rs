//! A fixture's determinism check: the in-process render (the reference of every comparison),
//! its page events judged for hermeticity, and in the distributed modes the worker render
//! compared with it chunk by chunk and by sound, exactly. A worker chunk that differs is
//! checked against one more uncached in-process render before its drift is named.

use super::error::RegressError;
use super::fixture::{Fixture, Thresholds};
use super::legs::distributed_leg;
use super::request::RegressRequest;
use super::setup::FixtureSetup;
use super::verdict::{audio_finding, console_errors, describe, fail, hermeticity, judge_expected};
use crate::compare::{FRAMELOCK_ENVELOPE, audio_envelope};
use crate::distributed::Fault;
use crate::drift::{ChunkPair, Finding, FindingKind, classify_chunk};
use crate::outcome::{FixtureResult, RegressMode};
use crate::render::{FramesRecord, RenderRequest, render};
use crate::report::Reporter;
use crate::timing::FrameIndex;

/// The renders of a determinism check.
pub(crate) struct Renders {
    /// The in-process render, the reference of every comparison.
    pub(crate) reference: FramesRecord,
    /// Its sound envelope, when it has sound.
    pub(crate) reference_sound: Option<Vec<f64>>,
    /// The worker render (distributed modes).
    pub(crate) worker: Option<FramesRecord>,
}

/// The in-process render and, in the distributed modes, the worker render compared with it;
/// findings and failures go into `result`.
pub(super) async fn check_determinism(
    request: &RegressRequest,
    fixture: &Fixture,
    setup: &FixtureSetup,
    result: &mut FixtureResult,
    reporter: &dyn Reporter,
) -> Result<Renders, RegressError> {
    let videos = &setup.videos;
    // The wall-clock fault goes into this render, the reference of every comparison.
    let reference = RenderRequest {
        leak_wall_clock: request
            .inject
            .filter(|i| i.fault == Fault::WallClock)
            .map(|i| i.chunk),
        ..setup.in_process(request, &videos.in_process, request.repeat <= 1)
    };
    let reference = render(&reference, reporter).await?;
    let again = repeat_in_process(request, setup, &reference, result, reporter).await?;
    let reference_sound = envelope_of(request, &reference, &videos.in_process)?;
    result.bundle_hash = Some(reference.bundle_hash.clone());
    result.warnings.extend(reference.warnings.iter().cloned());
    result.console_errors = console_errors(&reference.page_events);
    hermeticity(&reference.page_events, request.strict, result);
    if request.mode == RegressMode::InProcess {
        if result
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Nondeterministic)
            && !fixture
                .expected_findings
                .contains(&FindingKind::Nondeterministic)
        {
            fail(
                result,
                "uncached in-process renders differ (nondeterministic)".into(),
            );
        }
        return Ok(Renders {
            reference,
            reference_sound,
            worker: None,
        });
    }
    let worker = distributed_leg(request, setup, reporter).await?;
    let rerender = |cached| setup.in_process(request, &videos.again, cached);
    compare_chunks(&reference, &worker, &rerender, again, result, reporter).await?;
    // Workers and the in-process render mux the same mix: any difference is drift.
    let worker_sound = envelope_of(request, &worker, &videos.distributed)?;
    let exact = Thresholds {
        max_audio_lag_windows: 0,
        min_audio_correlation: 1.0,
        ..fixture.thresholds
    };
    if let Some((finding, _)) = audio_finding(
        reference_sound.as_deref(),
        worker_sound.as_deref(),
        &exact,
        ("in-process render", "worker render"),
    ) {
        result.findings.push(finding);
    }
    judge_expected(fixture, result);
    Ok(Renders {
        reference,
        reference_sound,
        worker: Some(worker),
    })
}

/// `--repeat N`: N - 1 more uncached in-process renders, each held against the first. The
/// first that disagrees is a nondeterministic finding at its first differing frame; its video
/// stays as `in-process-again`, for the pictures of the pair that disagreed. Returns the frame
/// hashes of the render left there, which a worker's mismatch is then judged against.
async fn repeat_in_process(
    request: &RegressRequest,
    setup: &FixtureSetup,
    reference: &FramesRecord,
    result: &mut FixtureResult,
    reporter: &dyn Reporter,
) -> Result<Option<Vec<String>>, RegressError> {
    let mut last = None;
    for k in 2..=request.repeat {
        let again = render(
            &setup.in_process(request, &setup.videos.again, false),
            reporter,
        )
        .await?;
        let finding = repeat_finding(reference, &again.frame_hashes, k, request.repeat);
        last = Some(again.frame_hashes);
        if let Some(finding) = finding {
            result.findings.push(finding);
            break;
        }
    }
    Ok(last)
}

/// Render `k` of `n` against the first: the finding when they disagree.
fn repeat_finding(reference: &FramesRecord, again: &[String], k: u64, n: u64) -> Option<Finding> {
    let differing: Vec<usize> = (0..reference.frame_hashes.len())
        .filter(|&i| again.get(i) != Some(&reference.frame_hashes[i]))
        .collect();
    let first = *differing.first()? as u64;
    Some(Finding {
        kind: FindingKind::Nondeterministic,
        chunk: reference
            .chunk_plan
            .indexed()
            .find(|(_, range)| range.contains(FrameIndex(first)))
            .map(|(index, _)| index),
        first_frame: Some(first),
        evidence: format!(
            "in-process render {k} of {n} differs from the first in {} frame(s), from frame {first} on",
            differing.len()
        ),
    })
}

/// The sound envelope of a render's video; `None` without sound.
pub(super) fn envelope_of(
    request: &RegressRequest,
    record: &FramesRecord,
    video: &camino::Utf8Path,
) -> Result<Option<Vec<f64>>, RegressError> {
    let seconds = record.total_frames as f64 * record.fps.den() as f64 / record.fps.num() as f64;
    Ok(audio_envelope(
        &request.run.toolchain.ffmpeg.real,
        video,
        FRAMELOCK_ENVELOPE,
        Some(seconds),
    )?)
}

/// Worker chunks against the in-process render, exactly; a mismatch is classified after one
/// more uncached in-process render (`rerender`, when `--repeat` made one already).
async fn compare_chunks(
    reference: &FramesRecord,
    candidate: &FramesRecord,
    rerender_request: &dyn Fn(bool) -> RenderRequest,
    mut rerender: Option<Vec<String>>,
    result: &mut FixtureResult,
    reporter: &dyn Reporter,
) -> Result<(), RegressError> {
    for (index, range) in candidate.chunk_plan.indexed() {
        let (s, e) = (range.start().0 as usize, range.end().0 as usize);
        let mut pair = ChunkPair {
            index,
            range,
            reference: &reference.frame_hashes,
            candidate: &candidate.frame_hashes[s..e],
            reference_blob: reference.chunk_hashes[index.0].as_str(),
            candidate_blob: candidate.chunk_hashes[index.0].as_str(),
            rerender: None,
            reference_videos: &reference.video_frames,
            candidate_videos: candidate.video_frames.get(s..e).unwrap_or_default(),
        };
        if classify_chunk(&pair).is_none() {
            continue;
        }
        if rerender.is_none() {
            let again = render(&rerender_request(false), reporter).await?;
            rerender = Some(again.frame_hashes);
        }
        pair.rerender = rerender.as_deref().map(|r| &r[s..e]);
        if let Some(finding) = classify_chunk(&pair) {
            result.findings.push(Finding {
                kind: finding.kind,
                chunk: Some(finding.chunk),
                first_frame: Some(finding.first_frame),
                evidence: describe(&finding.evidence),
            });
        }
    }
    Ok(())
}
