//! Committed baselines: `baselines/<fixture>/baseline.json`.
//!
//! A baseline holds the bundle hash it was made from and, per blessed (toolchain, render
//! settings) pair, the per-frame hashes and the encoded chunk hashes at the fixture's chunk
//! size. A render on a blessed pair must match exactly; any other pair is compared by PSNR
//! against the `baseline.mp4` beside it. Blessing one pair never touches the others.

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::hash::{BundleHash, short};

/// Version of `baseline.json`.
pub const BASELINE_FORMAT_VERSION: u32 = 1;

/// Why a baseline cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is a baseline of another format version.
    #[error(
        "{path}: baseline format_version {found}, this framelock reads {BASELINE_FORMAT_VERSION}: bless it again with `framelock regress --update`"
    )]
    Version {
        /// The file.
        path: Utf8PathBuf,
        /// Its version.
        found: u32,
    },
    /// The file is not a baseline of this format.
    #[error(
        "{path}: not a valid baseline.json (format version {BASELINE_FORMAT_VERSION}): {source}"
    )]
    Syntax {
        /// The file.
        path: Utf8PathBuf,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
}

/// The blessed result of one (toolchain, render settings) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// Toolchain fingerprint.
    pub toolchain: String,
    /// Render-settings fingerprint.
    pub render_settings: String,
    /// Browser version, for people.
    pub chrome_version: String,
    /// ffmpeg version, for people.
    pub ffmpeg_version: String,
    /// The pinned toolchain it was blessed on (the Nix flake's), absent for a machine's own
    /// packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_toolchain: Option<String>,
    /// blake3 of each frame's raw RGBA pixels.
    pub frame_hashes: Vec<String>,
    /// Frames per chunk the chunk hashes are for.
    pub chunk_size: u64,
    /// blake3 of each encoded chunk.
    pub chunk_hashes: Vec<String>,
    /// The sound's RMS envelope, one value per 10 ms in ten-thousandths of full scale (absent
    /// when the composition has no sound).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audio_envelope: Vec<u16>,
}

/// An envelope as stored in a baseline.
pub fn quantize_envelope(envelope: &[f64]) -> Vec<u16> {
    envelope
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 10_000.0).round() as u16)
        .collect()
}

/// A stored envelope back on the 0–1 scale.
pub fn expand_envelope(stored: &[u16]) -> Vec<f64> {
    stored.iter().map(|v| f64::from(*v) / 10_000.0).collect()
}

/// `baseline.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// [`BASELINE_FORMAT_VERSION`].
    pub format_version: u32,
    /// The fixture.
    pub fixture: String,
    /// The bundle the entries were rendered from.
    pub bundle_hash: BundleHash,
    /// One entry per blessed pair, sorted by (toolchain, render settings).
    pub entries: Vec<BaselineEntry>,
}

impl Baseline {
    /// An empty baseline for `fixture`.
    pub fn new(fixture: &str, bundle_hash: &BundleHash) -> Baseline {
        Baseline {
            format_version: BASELINE_FORMAT_VERSION,
            fixture: fixture.to_string(),
            bundle_hash: bundle_hash.clone(),
            entries: Vec::new(),
        }
    }

    /// Reads `path`; `None` when there is no baseline yet.
    pub fn load(path: &Utf8Path) -> Result<Option<Baseline>, BaselineError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(BaselineError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let baseline: Baseline =
            serde_json::from_slice(&bytes).map_err(|source| BaselineError::Syntax {
                path: path.to_owned(),
                source,
            })?;
        if baseline.format_version != BASELINE_FORMAT_VERSION {
            return Err(BaselineError::Version {
                path: path.to_owned(),
                found: baseline.format_version,
            });
        }
        Ok(Some(baseline))
    }

    /// Writes `path` through a temporary file beside it.
    pub fn save(&self, path: &Utf8Path) -> Result<(), BaselineError> {
        let io = |source| BaselineError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|p| !p.as_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut bytes = serde_json::to_vec_pretty(self).expect("a baseline serialises");
        bytes.push(b'\n');
        crate::staging::write_file(path, "baseline", &bytes).map_err(io)
    }

    /// The entry blessed for this pair, if any.
    pub fn entry(&self, toolchain: &str, render_settings: &str) -> Option<&BaselineEntry> {
        self.entries
            .iter()
            .find(|e| e.toolchain == toolchain && e.render_settings == render_settings)
    }

    /// Blesses `entry` for its pair (replacing that pair's old entry only) and records the
    /// bundle hash; returns one line per change, for `--update` to print.
    pub fn bless(&mut self, bundle_hash: &BundleHash, entry: BaselineEntry) -> Vec<String> {
        let mut changes = Vec::new();
        if self.bundle_hash != *bundle_hash {
            changes.push(format!(
                "bundle hash {} -> {bundle_hash} (the composition changed)",
                self.bundle_hash.short()
            ));
            self.bundle_hash = bundle_hash.clone();
        }
        match self
            .entries
            .iter_mut()
            .find(|e| e.toolchain == entry.toolchain && e.render_settings == entry.render_settings)
        {
            Some(old) => {
                let frames = old
                    .frame_hashes
                    .iter()
                    .zip(&entry.frame_hashes)
                    .filter(|(a, b)| a != b)
                    .count()
                    + old.frame_hashes.len().abs_diff(entry.frame_hashes.len());
                let pair = format!(
                    "toolchain {} / settings {}",
                    short(&entry.toolchain),
                    short(&entry.render_settings)
                );
                if frames > 0 || old.chunk_hashes != entry.chunk_hashes {
                    changes.push(format!("{pair}: {frames} frame(s) changed"));
                }
                if old.audio_envelope != entry.audio_envelope {
                    changes.push(format!("{pair}: the sound changed"));
                }
                *old = entry;
            }
            None => {
                changes.push(format!(
                    "toolchain {} / settings {}: new entry ({} frames, {})",
                    short(&entry.toolchain),
                    short(&entry.render_settings),
                    entry.frame_hashes.len(),
                    entry.chrome_version
                ));
                self.entries.push(entry);
            }
        }
        self.entries.sort_by(|a, b| {
            (&a.toolchain, &a.render_settings).cmp(&(&b.toolchain, &b.render_settings))
        });
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(toolchain: &str, frames: &[&str]) -> BaselineEntry {
        BaselineEntry {
            toolchain: toolchain.into(),
            render_settings: "settings".into(),
            chrome_version: "Chromium 156".into(),
            ffmpeg_version: "ffmpeg 5.1".into(),
            pinned_toolchain: None,
            frame_hashes: frames.iter().map(|s| s.to_string()).collect(),
            chunk_size: 2,
            chunk_hashes: vec!["c0".into()],
            audio_envelope: Vec::new(),
        }
    }

    fn bundle(name: &str) -> BundleHash {
        BundleHash(crate::hash::ContentHash::of_bytes(name.as_bytes()))
    }

    #[test]
    fn blessing_one_pair_keeps_the_others_and_reports_changes() {
        let mut b = Baseline::new("fx", &bundle("1"));
        let first = b.bless(&bundle("1"), entry("debian", &["a", "b"]));
        assert_eq!(first.len(), 1, "{first:?}");
        b.bless(&bundle("1"), entry("nix", &["x", "y"]));
        let changes = b.bless(&bundle("2"), entry("debian", &["a", "c"]));
        assert!(
            changes.iter().any(|c| c.contains("composition changed")),
            "{changes:?}"
        );
        assert!(
            changes.iter().any(|c| c.contains("1 frame(s) changed")),
            "{changes:?}"
        );
        assert_eq!(b.entries.len(), 2);
        assert_eq!(b.entry("nix", "settings").unwrap().frame_hashes, ["x", "y"]);
        assert_eq!(
            b.entry("debian", "settings").unwrap().frame_hashes,
            ["a", "c"]
        );
        assert!(b.entry("other", "settings").is_none());
        let unchanged = b.bless(&bundle("2"), entry("debian", &["a", "c"]));
        assert!(unchanged.is_empty(), "{unchanged:?}");
    }

    #[test]
    fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8Path::from_path(dir.path())
            .unwrap()
            .join("fx/baseline.json");
        assert_eq!(Baseline::load(&path).unwrap(), None);
        let mut b = Baseline::new("fx", &bundle("b"));
        b.bless(&bundle("b"), entry("debian", &["a"]));
        b.save(&path).unwrap();
        assert_eq!(Baseline::load(&path).unwrap(), Some(b.clone()));
        std::fs::write(&path, "{").unwrap();
        assert!(
            Baseline::load(&path)
                .unwrap_err()
                .to_string()
                .contains("baseline.json")
        );
        let mut later = serde_json::to_value(&b).unwrap();
        later["format_version"] = 2.into();
        std::fs::write(&path, later.to_string()).unwrap();
        let err = Baseline::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("baseline format_version 2, this framelock reads 1"),
            "{err}"
        );
    }
}
