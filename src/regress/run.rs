//! `framelock regress`: every fixture rendered in process (and, distributed, by workers),
//! compared chunk by chunk and against its committed baseline, with drift named; a fixture
//! that passed before with nothing changed is restored from the store instead.

use std::time::Instant;

use super::baseline::Baseline;
use super::bless::bless;
use super::determinism::{Renders, check_determinism};
use super::error::RegressError;
use super::fixture::{Fixture, Found, Thresholds, discover, lacks_meta};
use super::golden::GoldenCheck;
use super::reports::{Side, failure_images, write_reports};
use super::request::RegressRequest;
use super::reuse::Reuse;
use super::setup::FixtureSetup;
use super::versus_baseline::Against;
use crate::exit_code;
use crate::hash::BundleHash;
use crate::outcome::{
    FailureImages, FixtureResult, REPORT_FORMAT_VERSION, RegressMode, RegressReport, Status,
};
use crate::render::{BrowserRun, name_pictured, name_pictured_from_kept};
use crate::report::{RenderEvent, Reporter};
use crate::timing::FrameIndex;

/// Runs every selected fixture and writes `report.json` and `report.html`.
pub async fn regress(
    request: &RegressRequest,
    reporter: &dyn Reporter,
) -> Result<RegressReport, RegressError> {
    let selected = select(request)?;
    std::fs::create_dir_all(&request.report_dir).map_err(RegressError::io(&request.report_dir))?;
    let reuse = Reuse::for_run(request).await?;
    let mut results = Vec::new();
    for (number, found) in selected.iter().enumerate() {
        reporter.report(&RenderEvent::FixtureStarted {
            name: found.name.clone(),
            number: number + 1,
            of: selected.len(),
        });
        let started = Instant::now();
        let outcome = match &found.fixture {
            Ok(fixture) => run_fixture(request, fixture, reuse.as_ref(), reporter)
                .await
                .map_err(|e| (e.exit_code(), e.to_string(), fixture.thresholds.min_psnr)),
            // The others still run; the run exits 2 at the end.
            Err(e) => Err((
                exit_code::INPUT,
                e.to_string(),
                Thresholds::default().min_psnr,
            )),
        };
        let mut result = outcome.unwrap_or_else(|(code, reason, min_psnr)| FixtureResult {
            status: Status::Error,
            error_code: Some(code),
            reason: Some(reason),
            ..FixtureResult::new(&found.name, min_psnr)
        });
        result.seconds = started.elapsed().as_secs_f64();
        reporter.report(&RenderEvent::FixtureFinished {
            result: Box::new(result.clone()),
        });
        results.push(result);
    }
    let report = RegressReport {
        format_version: REPORT_FORMAT_VERSION,
        mode: request.mode,
        fixtures: results,
    };
    write_reports(&report, &request.report_dir)?;
    reporter.report(&RenderEvent::RegressFinished {
        passed: report.count(Status::Passed),
        failed: report.count(Status::Failed),
        skipped: report.count(Status::Skipped),
        errors: report.count(Status::Error),
        report: request.report_dir.join("report.json"),
        exit_code: report.exit_code(),
    });
    Ok(report)
}

/// The fixtures `--fixture` picks (all when none), each read or with why it could not be; an
/// empty folder or a name it does not hold is an input error before anything runs.
fn select(request: &RegressRequest) -> Result<Vec<Found>, RegressError> {
    let found = discover(&request.fixtures)?;
    if found.is_empty() {
        return Err(RegressError::NoFixtures {
            dir: request.fixtures.clone(),
        });
    }
    let unknown: Vec<String> = request
        .only
        .iter()
        .filter(|name| !found.iter().any(|f| &&f.name == name))
        .cloned()
        .collect();
    // A HyperFrames folder whose meta.json is missing is passed over by discovery; asked for
    // by name, it is told what it lacks.
    if let Some(dir) = unknown
        .iter()
        .map(|name| request.fixtures.join(name))
        .find(|dir| lacks_meta(dir))
    {
        return Err(RegressError::NoMeta { dir });
    }
    if !unknown.is_empty() {
        return Err(RegressError::UnknownFixture {
            names: unknown,
            dir: request.fixtures.clone(),
            known: found.iter().map(|f| f.name.clone()).collect(),
        });
    }
    Ok(found
        .into_iter()
        .filter(|f| request.only.is_empty() || request.only.contains(&f.name))
        .collect())
}

/// One fixture: skipped, blessed, restored from the store, or checked and compared.
async fn run_fixture(
    request: &RegressRequest,
    fixture: &Fixture,
    reuse: Option<&Reuse>,
    reporter: &dyn Reporter,
) -> Result<FixtureResult, RegressError> {
    let mut result = FixtureResult::new(&fixture.name, fixture.thresholds.min_psnr);
    if let Some(reason) = &fixture.unsupported {
        result.status = Status::Skipped;
        result.reason = Some(reason.clone());
        return Ok(result);
    }
    let setup = FixtureSetup::new(request, fixture)?;
    if request.update {
        bless(request, fixture, &setup, &mut result, reporter).await?;
        return Ok(result);
    }
    let reuse_key = match reuse {
        Some(reuse) => {
            let key = reuse.key(request, fixture, &setup.composition)?;
            if let Some(result) = reuse.restore(&key, &setup.out_dir, reporter)? {
                return Ok(result);
            }
            Some((reuse, key))
        }
        None => None,
    };
    let renders = check_determinism(request, fixture, &setup, &mut result, reporter).await?;
    let reference = &renders.reference;
    let videos = &setup.videos;
    let baseline_dir = request.baselines.join(&fixture.name);
    let baseline = Baseline::load(&baseline_dir.join("baseline.json"))?;
    let against = Against {
        fixture,
        baseline: baseline.as_ref(),
        baseline_dir: &baseline_dir,
        videos,
        ffmpeg: &request.run.toolchain.ffmpeg.real,
    };
    let golden = fixture.golden.as_deref().filter(|g| g.is_file());
    let mut pictured = Vec::new();
    // A HyperFrames fixture is held against its golden; against a baseline too once blessed.
    if baseline.is_some() || golden.is_none() {
        if let Some(frame) = against.compare(reference, &mut result)? {
            pictured.push((
                Side {
                    label: "baseline",
                    video: &videos.baseline,
                },
                frame,
            ));
        }
        against.compare_sound(
            &reference.fingerprints,
            renders.reference_sound.as_deref(),
            &mut result,
        );
    }
    if let Some(golden) = golden {
        let check = GoldenCheck {
            fixture,
            golden,
            render: &videos.in_process,
            fps: reference.fps,
            distributed: request.mode != RegressMode::InProcess,
            ffmpeg: &request.run.toolchain.ffmpeg.real,
        };
        if let Some(frame) = check.compare(&mut result)? {
            pictured.push((
                Side {
                    label: "golden",
                    video: golden,
                },
                frame,
            ));
        }
    }
    if result.status == Status::Failed {
        result.images = failure_images(
            &request.run.toolchain.ffmpeg.real,
            videos,
            &setup.out_dir,
            &request.report_dir,
            &pictured,
            &result.findings,
            (reference.width, reference.height),
        )?;
        name_elements(request, &setup, &reference.bundle_hash, &mut result.images).await;
    }
    if let Some((reuse, key)) = reuse_key {
        reuse.keep(
            key,
            &result,
            &setup.out_dir,
            &[&videos.in_process, &videos.distributed, &videos.again],
        )?;
    }
    Ok(result)
}

/// Names the elements behind each failure picture, from the bundle the fixture rendered as the
/// store keeps it, else (after `--no-cache`, which keeps nothing) from the fixture's folder,
/// which is what that bundle was planned from.
async fn name_elements(
    request: &RegressRequest,
    setup: &FixtureSetup,
    bundle: &BundleHash,
    images: &mut [FailureImages],
) {
    let dir = &request.report_dir;
    let settings = request.run.clone();
    let kept =
        name_pictured_from_kept(&request.store, bundle, settings, images, dir, FrameIndex(0));
    if kept.await.is_err() {
        let run = BrowserRun::of(&setup.composition, request.run.clone());
        name_pictured(&run, images, dir, FrameIndex(0)).await;
    }
}

/// A fixture's determinism check alone, without its baseline: the in-process render and, in
/// the distributed modes, the worker render compared with it chunk by chunk. The result is
/// failed when the drift found is not what the fixture declares.
pub(crate) async fn judge_fixture(
    request: &RegressRequest,
    fixture: &Fixture,
    reporter: &dyn Reporter,
) -> Result<(FixtureResult, Renders), RegressError> {
    let mut result = FixtureResult::new(&fixture.name, fixture.thresholds.min_psnr);
    let setup = FixtureSetup::new(request, fixture)?;
    let renders = check_determinism(request, fixture, &setup, &mut result, reporter).await?;
    Ok((result, renders))
}
