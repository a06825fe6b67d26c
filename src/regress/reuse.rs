//! Reusing a passed fixture's result: when nothing it rests on has changed since a run that
//! passed — the fixture's files, its baseline, the toolchain, the framelock build, how it is
//! run — its result and videos come back from the store, and nothing is planned, rendered,
//! joined or compared. The chunk cache already makes such a run render nothing; this skips
//! the rest.

use camino::Utf8Path;

use super::error::RegressError;
use super::fixture::Fixture;
use super::request::RegressRequest;
use crate::bundle::composition_digest;
use crate::composition::Composition;
use crate::encode::EncoderSettings;
use crate::outcome::{FixtureResult, Status};
use crate::render::{
    RenderSettings, fingerprint_toolchain, frames_record_path, render_settings_fingerprint,
};
use crate::report::{RenderEvent, Reporter};
use crate::staging;
use crate::store::{
    KeyedRecord, RECORD_FORMAT_VERSION, RecordFingerprints, RecordLookup, ResultKey, ResultRecord,
    Store, StoredOutput, build_id,
};

/// What every fixture's key in one run shares.
pub(super) struct Reuse {
    store: Store,
    toolchain: String,
    options: Vec<String>,
}

impl Reuse {
    /// Ready to reuse results in this run, or `None` when it must look afresh: `--no-cache`,
    /// `--update`, and `--inject` (a faulty run proves the harness, not the fixtures).
    pub(super) async fn for_run(request: &RegressRequest) -> Result<Option<Reuse>, RegressError> {
        if !request.use_cache || request.update || request.inject.is_some() || request.repeat > 1 {
            return Ok(None);
        }
        let toolchain = fingerprint_toolchain(&request.run.toolchain, Some(&request.store)).await?;
        Ok(Some(Reuse {
            store: request.store.clone(),
            toolchain: toolchain.hash,
            options: request.result_options(),
        }))
    }

    /// The key of `fixture`'s result in this run.
    pub(super) fn key(
        &self,
        request: &RegressRequest,
        fixture: &Fixture,
        composition: &Composition,
    ) -> Result<ResultKey, RegressError> {
        let baseline_dir = request.baselines.join(&fixture.name);
        let baseline = if baseline_dir.is_dir() {
            Some(composition_digest(&baseline_dir)?)
        } else {
            None
        };
        let settings = RenderSettings {
            capture: request.run.capture,
            encoder: EncoderSettings::for_codec(composition.format.codec()),
            virtual_time: request.run.virtual_time,
            video_mode: request.run.video_mode,
        };
        Ok(ResultKey {
            fixture: fixture.name.clone(),
            inputs: composition_digest(&fixture.dir)?,
            baseline,
            fingerprints: RecordFingerprints {
                toolchain: self.toolchain.clone(),
                render_settings: render_settings_fingerprint(&settings),
                build_id: build_id().to_string(),
            },
            options: self.options.clone(),
        })
    }

    /// The stored result for `key`, its outputs written back into `out_dir`; `None` when
    /// there is none to trust.
    pub(super) fn restore(
        &self,
        key: &ResultKey,
        out_dir: &Utf8Path,
        reporter: &dyn Reporter,
    ) -> Result<Option<FixtureResult>, RegressError> {
        let corrupt = |reason: String| {
            reporter.report(&RenderEvent::CorruptRecord {
                fixture: key.fixture.clone(),
                record: "fixture result".into(),
                reason,
            });
            Ok(None)
        };
        let record = match self.store.lookup_result(key) {
            RecordLookup::Hit(record) => record,
            RecordLookup::Miss => return Ok(None),
            RecordLookup::Corrupt(reason) => return corrupt(reason),
        };
        let mut result = match serde_json::from_value::<FixtureResult>(record.result) {
            Ok(result) => result,
            Err(e) => return corrupt(format!("it does not read as a fixture result: {e}")),
        };
        for output in &record.outputs {
            let bytes = self.store.get(&output.blob)?;
            let target = out_dir.join(&output.name);
            staging::write_file(&target, "reused", &bytes).map_err(RegressError::io(&target))?;
        }
        result.reused = true;
        Ok(Some(result))
    }

    /// Keeps `result` under `key` when it passed, with the `videos` (in `out_dir`) its run
    /// wrote and their `frames.json`.
    pub(super) fn keep(
        &self,
        key: ResultKey,
        result: &FixtureResult,
        out_dir: &Utf8Path,
        videos: &[&Utf8Path],
    ) -> Result<(), RegressError> {
        if result.status != Status::Passed {
            return Ok(());
        }
        let mut stored = Vec::new();
        // Each video before its record, so restoring writes them in that order too: a
        // frames.json beside a video says the video is complete.
        let files = videos
            .iter()
            .flat_map(|v| [v.to_path_buf(), frames_record_path(v)]);
        for path in files.filter(|p| p.is_file()) {
            stored.push(StoredOutput {
                name: path
                    .strip_prefix(out_dir)
                    .expect("videos lie in the fixture's report folder")
                    .to_string(),
                blob: self.store.put_file(&path)?,
            });
        }
        ResultRecord {
            format_version: RECORD_FORMAT_VERSION,
            key,
            result: serde_json::to_value(result).expect("a fixture result serialises"),
            outputs: stored,
        }
        .save(&self.store)?;
        Ok(())
    }
}
