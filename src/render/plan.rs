//! Planning a composition into a bundle, the one way every path does it (`plan`, `render`, the
//! worker pool, regress's Slurm leg and bisect): fingerprint the toolchain, read the duration
//! from the page when only the page knows it, freeze the bundle.

use camino::Utf8Path;

use super::engine::{BrowserRun, RunSettings, probe_duration};
use super::error::RenderError;
use super::record::Fingerprints;
use super::settings::{RenderSettings, fingerprint_toolchain, record_fingerprints};
use crate::bundle::{Bundle, Chunking, EncoderMeta, PlanInput, plan};
use crate::composition::{Composition, DurationSpec};
use crate::report::{RenderEvent, Reporter};
use crate::store::{RecordFingerprints, Store};
use crate::toolchain::ToolchainFingerprint;

/// What to plan: a composition, how it will be rendered, and how its frames are cut.
#[derive(Debug, Clone, Copy)]
pub struct Planning<'a> {
    /// The composition, loaded.
    pub composition: &'a Composition,
    /// How it will be rendered (the duration probe starts its browser this way).
    pub settings: &'a RunSettings,
    /// How the frames are cut into chunks (default: `renderConfig.chunkSize`, else one chunk).
    pub chunking: Option<Chunking>,
    /// Where toolchain file hashes are remembered, when there is a store.
    pub store: Option<&'a Store>,
}

/// A planned bundle with the fingerprints of the toolchain and settings it will render with.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The toolchain's fingerprint.
    pub fingerprint: ToolchainFingerprint,
    /// The settings that decide pixels and bytes.
    pub settings: RenderSettings,
    /// The bundle.
    pub bundle: Bundle,
}

impl Planned {
    /// The fingerprints of records made now.
    pub fn record_fingerprints(&self) -> RecordFingerprints {
        record_fingerprints(&self.fingerprint, &self.settings)
    }

    /// The fingerprints shown in `frames.json`.
    pub fn fingerprints(&self) -> Fingerprints {
        Fingerprints::shown(self.record_fingerprints(), &self.fingerprint)
    }
}

/// Plans `planning` into a new bundle folder `bundle_dir`; a browser starts only when the
/// duration must be read from the page.
pub async fn plan_bundle(
    planning: Planning<'_>,
    bundle_dir: &Utf8Path,
    reporter: &dyn Reporter,
) -> Result<Planned, RenderError> {
    let Planning {
        composition,
        settings,
        chunking,
        store,
    } = planning;
    reporter.report(&RenderEvent::Fingerprinting);
    let fingerprint = fingerprint_toolchain(&settings.toolchain, store).await?;
    let source = BrowserRun::of(composition, settings.clone());
    let page_duration = match composition.duration {
        DurationSpec::FromPage => Some(probe_duration(&source, reporter).await?),
        _ => None,
    };
    let settings = RenderSettings {
        capture: source.capture,
        encoder: source.encoder.clone(),
        virtual_time: source.virtual_time,
        video_mode: source.video_mode,
    };
    let bundle = plan(
        &PlanInput {
            composition,
            page_duration,
            chunking,
            toolchain: &fingerprint,
            encoder: EncoderMeta::from(&settings.encoder),
            ffmpeg: &source.toolchain.ffmpeg.real,
        },
        bundle_dir,
    )?;
    reporter.report(&RenderEvent::Planned {
        bundle_hash: bundle.hash().clone(),
        chunks: bundle.plan.chunk_plan.len(),
        warnings: bundle.warnings.clone(),
    });
    Ok(Planned {
        fingerprint,
        settings,
        bundle,
    })
}
