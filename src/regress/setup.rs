//! A fixture made ready to run: its composition, its chunk size, its report folder emptied of
//! an earlier run's videos, and where each of its videos goes.

use camino::{Utf8Path, Utf8PathBuf};

use super::error::RegressError;
use super::fixture::Fixture;
use super::request::{DEFAULT_CHUNK_SIZE, RegressRequest};
use crate::composition::{Composition, Overrides};
use crate::render::{RenderRequest, frames_record_path};

/// A fixture's composition, chunk size and output paths.
pub(super) struct FixtureSetup {
    pub(super) composition: Composition,
    pub(super) chunk_size: u64,
    pub(super) out_dir: Utf8PathBuf,
    pub(super) videos: FixtureVideos,
}

impl FixtureSetup {
    pub(super) fn new(
        request: &RegressRequest,
        fixture: &Fixture,
    ) -> Result<FixtureSetup, RegressError> {
        let overrides = Overrides {
            as_written: request.as_written,
            ..Overrides::default()
        };
        let composition = Composition::load(&fixture.dir, &overrides)?;
        let chunk_size = composition.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
        let out_dir = request.report_dir.join(&fixture.name);
        std::fs::create_dir_all(&out_dir).map_err(RegressError::io(&out_dir))?;
        let videos = FixtureVideos::new(
            &out_dir,
            &request.baselines.join(&fixture.name),
            composition.format.codec().container(),
        );
        // The folder shows this run alone: a video an earlier run left (an
        // `in-process-again` this run may not need) would pass for this run's, and be kept
        // with its result.
        for video in videos.renders() {
            for path in [video.to_owned(), frames_record_path(video)] {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(RegressError::Io { path, source: e });
                    }
                    _ => {}
                }
            }
        }
        Ok(FixtureSetup {
            composition,
            chunk_size,
            out_dir,
            videos,
        })
    }

    /// An in-process render of the fixture to `output`, cached or not.
    pub(super) fn in_process(
        &self,
        request: &RegressRequest,
        output: &Utf8Path,
        cached: bool,
    ) -> RenderRequest {
        RenderRequest {
            composition: self.composition.clone(),
            output: output.to_owned(),
            frames: None,
            chunk_size: Some(self.chunk_size),
            png_dir: None,
            run: request.run.clone(),
            strict: false,
            store: (cached && request.use_cache).then(|| request.store.clone()),
            leak_wall_clock: None,
        }
    }
}

/// Where one fixture's videos are: its renders in the report folder and its baseline, each
/// `<name>.<container of the fixture's format>`.
pub(super) struct FixtureVideos {
    pub(super) in_process: Utf8PathBuf,
    pub(super) again: Utf8PathBuf,
    pub(super) distributed: Utf8PathBuf,
    pub(super) baseline: Utf8PathBuf,
}

impl FixtureVideos {
    fn new(out_dir: &Utf8Path, baseline_dir: &Utf8Path, ext: &str) -> FixtureVideos {
        FixtureVideos {
            in_process: out_dir.join(format!("in-process.{ext}")),
            again: out_dir.join(format!("in-process-again.{ext}")),
            distributed: out_dir.join(format!("distributed.{ext}")),
            baseline: baseline_dir.join(format!("baseline.{ext}")),
        }
    }

    /// The videos this run renders into the report folder.
    pub(super) fn renders(&self) -> [&Utf8Path; 3] {
        [&self.in_process, &self.again, &self.distributed]
    }
}
