//! `regress --update`: a fixture's result blessed for this (toolchain, render settings) pair,
//! only after two uncached in-process renders agree hash for hash.

use super::baseline::{Baseline, BaselineEntry, quantize_envelope};
use super::determinism::envelope_of;
use super::error::RegressError;
use super::fixture::Fixture;
use super::request::RegressRequest;
use super::setup::FixtureSetup;
use crate::outcome::{FixtureResult, Status};
use crate::render::{FramesRecord, render};
use crate::report::Reporter;

/// Renders the fixture twice without the cache and, when both agree, blesses the first.
pub(super) async fn bless(
    request: &RegressRequest,
    fixture: &Fixture,
    setup: &FixtureSetup,
    result: &mut FixtureResult,
    reporter: &dyn Reporter,
) -> Result<(), RegressError> {
    let videos = &setup.videos;
    let first = render(
        &setup.in_process(request, &videos.in_process, false),
        reporter,
    )
    .await?;
    let second = render(&setup.in_process(request, &videos.again, false), reporter).await?;
    if first.frame_hashes != second.frame_hashes {
        result.status = Status::Failed;
        result.reason =
            Some("two uncached in-process renders differ: not blessed (nondeterministic)".into());
        return Ok(());
    }
    let path = request.baselines.join(&fixture.name).join("baseline.json");
    let mut baseline =
        Baseline::load(&path)?.unwrap_or_else(|| Baseline::new(&fixture.name, &first.bundle_hash));
    let envelope = envelope_of(request, &first, &videos.in_process)?;
    let changes = baseline.bless(
        &first.bundle_hash,
        entry_of(&first, setup.chunk_size, envelope.as_deref()),
    );
    baseline.save(&path)?;
    std::fs::copy(&videos.in_process, &videos.baseline)
        .map_err(RegressError::io(&videos.baseline))?;
    result.bundle_hash = Some(first.bundle_hash.clone());
    result.reason = Some(if changes.is_empty() {
        "blessed: unchanged".into()
    } else {
        format!("blessed: {}", changes.join("; "))
    });
    Ok(())
}

/// The baseline entry of a render.
fn entry_of(record: &FramesRecord, chunk_size: u64, envelope: Option<&[f64]>) -> BaselineEntry {
    BaselineEntry {
        toolchain: record.fingerprints.toolchain.clone(),
        render_settings: record.fingerprints.render_settings.clone(),
        chrome_version: record.fingerprints.chrome_version.clone(),
        ffmpeg_version: record.fingerprints.ffmpeg_version.clone(),
        pinned_toolchain: record.fingerprints.pinned_toolchain.clone(),
        frame_hashes: record.frame_hashes.clone(),
        chunk_size,
        chunk_hashes: record.chunk_hashes.iter().map(|h| h.to_string()).collect(),
        audio_envelope: envelope.map(quantize_envelope).unwrap_or_default(),
    }
}
