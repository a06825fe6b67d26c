//! An opened bundle: its folder and files read, its hashes verified on demand, and what a
//! render needs of it (the composition as frozen, encoder settings, media).

use camino::{Utf8Path, Utf8PathBuf};

use super::archive::{DEFAULT_UNPACK_LIMIT, unpack};
use super::error::BundleError;
use super::layout::{
    CompositionMeta, EncoderMeta, PLAN_SCHEMA_VERSION, PlanJson, VIDEOS_JSON, WARNINGS_JSON,
    read_json,
};
use super::manifest::{Manifest, ManifestDiff};
use crate::composition::{Composition, DurationSpec, Format};
use crate::encode::{AudioTrack, Codec, EncoderSettings};
use crate::hash::BundleHash;
use crate::media::{AUDIO_MIX, PageMedia, VideoMeta};

/// An opened bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Its folder.
    pub dir: Utf8PathBuf,
    /// `plan.json`.
    pub plan: PlanJson,
    /// `meta/composition.json`.
    pub meta: CompositionMeta,
    /// `meta/encoder.json`.
    pub encoder: EncoderMeta,
    /// `meta/videos.json` (empty when the composition has no video).
    pub videos: Vec<VideoMeta>,
    /// `meta/warnings.json`: what planning clamped or left out (empty when nothing).
    pub warnings: Vec<String>,
}

impl Bundle {
    /// Reads a bundle folder's JSON files (without verifying hashes: see [`Bundle::verify`]).
    pub fn open(dir: &Utf8Path) -> Result<Bundle, BundleError> {
        if !dir.join("plan.json").is_file() {
            return Err(BundleError::NotABundle {
                path: dir.to_owned(),
            });
        }
        let plan: PlanJson = read_json(&dir.join("plan.json"), "plan.json")?;
        if plan.schema_version != PLAN_SCHEMA_VERSION {
            return Err(BundleError::Schema {
                path: dir.join("plan.json"),
                found: plan.schema_version,
                reads: PLAN_SCHEMA_VERSION,
            });
        }
        let bundle = Bundle {
            dir: dir.to_owned(),
            meta: read_json(&dir.join("meta/composition.json"), "meta/composition.json")?,
            encoder: read_json(&dir.join("meta/encoder.json"), "meta/encoder.json")?,
            videos: if dir.join(VIDEOS_JSON).is_file() {
                read_json(&dir.join(VIDEOS_JSON), VIDEOS_JSON)?
            } else {
                Vec::new()
            },
            warnings: if dir.join(WARNINGS_JSON).is_file() {
                read_json(&dir.join(WARNINGS_JSON), WARNINGS_JSON)?
            } else {
                Vec::new()
            },
            plan,
        };
        if Codec::from_encoder(&bundle.encoder.codec).is_none() {
            return Err(BundleError::UnknownEncoder {
                path: dir.join("meta/encoder.json"),
                codec: bundle.encoder.codec.clone(),
            });
        }
        // plan.json is outside the hash: its chunk plan must cover exactly the hashed frames.
        let mut next = 0;
        for range in bundle.plan.chunk_plan.chunks() {
            if range.start().0 != next {
                break;
            }
            next = range.end().0;
        }
        if next != bundle.meta.frames || bundle.plan.frames != bundle.meta.frames {
            return Err(BundleError::BadPlan {
                path: dir.join("plan.json"),
                frames: bundle.meta.frames,
            });
        }
        Ok(bundle)
    }

    /// Recomputes every file hash and the bundle hash; a mismatch names each differing file.
    pub fn verify(&self) -> Result<Manifest, BundleError> {
        let recorded: Manifest = read_json(&self.dir.join("manifest.json"), "manifest.json")?;
        let actual = Manifest::scan(&self.dir)?;
        let diff = ManifestDiff::between(&recorded, &actual);
        let found = actual.bundle_hash();
        if !diff.is_empty() || found != self.plan.bundle_hash {
            let detail = if diff.is_empty() && recorded.bundle_hash() != self.plan.bundle_hash {
                "manifest.json does not match plan.json".to_string()
            } else {
                diff.summary()
            };
            return Err(BundleError::HashMismatch {
                bundle: self.dir.clone(),
                expected: self.plan.bundle_hash.clone(),
                found,
                detail,
            });
        }
        Ok(actual)
    }

    /// What the page needs to show its videos, when it has any.
    pub fn page_media(&self) -> Option<PageMedia> {
        (!self.videos.is_empty()).then(|| PageMedia {
            root: self.dir.clone(),
            videos: self.videos.clone(),
        })
    }

    /// The sound a render of this bundle carries, when the composition has any: the mix,
    /// exactly the video's length, made `delay_ms` late only by the self-test fault.
    pub fn audio_track(&self, delay_ms: u64) -> Option<AudioTrack> {
        Some(self.dir.join(AUDIO_MIX))
            .filter(|p| p.is_file())
            .map(|mix| AudioTrack {
                mix,
                samples: crate::media::samples_in(self.meta.frames, self.meta.fps),
                delay_ms,
            })
    }

    /// The bundle hash recorded in `plan.json`.
    pub fn hash(&self) -> &BundleHash {
        &self.plan.bundle_hash
    }

    /// The composition as the renderer sees it: `compiled/` with the frozen settings.
    pub fn composition(&self) -> Composition {
        Composition {
            dir: self.dir.join("compiled"),
            name: self.plan.name.clone(),
            fps: self.meta.fps,
            width: self.meta.width,
            height: self.meta.height,
            duration: DurationSpec::Frames(self.meta.frames),
            seed: self.meta.seed,
            variables: self.meta.variables.clone(),
            chunk_size: None,
            format: Format::Mp4,
            unsupported: None,
            // Its length is frozen in frames: no rule counts them again.
            hyperframes: false,
            // `compiled/` was compiled when it was planned.
            compile: false,
        }
    }

    /// The encoder settings to use.
    pub fn encoder_settings(&self) -> EncoderSettings {
        EncoderSettings {
            // Bundle::open refuses an encoder it does not know.
            codec: Codec::from_encoder(&self.encoder.codec).unwrap_or(Codec::H264),
            preset: self.encoder.preset.clone(),
            qp: self.encoder.qp,
        }
    }
}

/// Unpacks a packed bundle to `target` and verifies it before it appears there: a tampered or
/// incomplete bundle leaves nothing behind.
pub fn unpack_bundle(
    archive: &Utf8Path,
    target: &Utf8Path,
    limit: u64,
) -> Result<Bundle, BundleError> {
    if target.exists() {
        return Err(BundleError::TargetExists {
            path: target.to_owned(),
        });
    }
    let (_work, work_path) =
        crate::staging::dir_beside(target, "unpack").map_err(|source| BundleError::Io {
            path: target.to_owned(),
            source,
        })?;
    let staged = work_path.join("bundle");
    unpack(archive, &staged, limit)?;
    Bundle::open(&staged)?.verify()?;
    std::fs::rename(&staged, target).map_err(|source| BundleError::Io {
        path: target.to_owned(),
        source,
    })?;
    Bundle::open(target)
}

/// Opens a bundle given on the command line: a folder, or a packed bundle unpacked into
/// `scratch`. Callers verify it.
pub fn open_folder_or_archive(path: &Utf8Path, scratch: &Utf8Path) -> Result<Bundle, BundleError> {
    if path.is_dir() {
        return Bundle::open(path);
    }
    std::fs::create_dir_all(scratch).map_err(|source| BundleError::Io {
        path: scratch.to_owned(),
        source,
    })?;
    let name = path.file_name().unwrap_or("bundle");
    unpack_bundle(path, &scratch.join(name), DEFAULT_UNPACK_LIMIT)
}
