//! Fixtures: the compositions under `fixtures/`, with the comparison settings of their
//! `meta.json` (thresholds, `expectedFindings`, `unsupported`), which stay out of the bundle
//! hash.

use std::collections::BTreeSet;

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

use crate::drift::FindingKind;

/// Why a fixture's comparison settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The fixtures folder cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The folder or file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `meta.json` is not valid JSON.
    #[error("{path}: not valid JSON: {source}")]
    Syntax {
        /// The file.
        path: Utf8PathBuf,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A field has a value that cannot be used.
    #[error("{path}: field `{field}`: expected {expected}, found {found}")]
    Field {
        /// The file.
        path: Utf8PathBuf,
        /// The field.
        field: &'static str,
        /// What would be accepted.
        expected: &'static str,
        /// What was there.
        found: String,
    },
}

/// When a comparison against a baseline passes.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Lowest per-frame PSNR (dB) that passes.
    pub min_psnr: f64,
    /// How many frames may fall below `min_psnr` (never below the 10 dB floor).
    pub max_frame_failures: u64,
    /// Lowest audio envelope correlation that passes.
    pub min_audio_correlation: f64,
    /// Largest lag, in envelope windows, at which the correlation may peak.
    pub max_audio_lag_windows: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_psnr: 40.0,
            max_frame_failures: 0,
            min_audio_correlation: 0.9,
            max_audio_lag_windows: 1,
        }
    }
}

/// One fixture folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// The folder name.
    pub name: String,
    /// The folder.
    pub dir: Utf8PathBuf,
    /// Comparison thresholds.
    pub thresholds: Thresholds,
    /// Findings the fixture exists to demonstrate.
    pub expected_findings: BTreeSet<FindingKind>,
    /// Why it is skipped, if it is.
    pub unsupported: Option<String>,
}

/// Every folder with an `index.html` directly below `dir`, sorted by name.
pub fn discover(dir: &Utf8Path) -> Result<Vec<Fixture>, FixtureError> {
    let io = |source| FixtureError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in dir.read_dir_utf8().map_err(io)? {
        let entry = entry.map_err(io)?;
        if entry.path().join("index.html").is_file() {
            out.push(Fixture::read(entry.path())?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

impl Fixture {
    /// Reads a fixture folder's comparison settings (defaults when it has no `meta.json`).
    pub fn read(dir: &Utf8Path) -> Result<Fixture, FixtureError> {
        let path = dir.join("meta.json");
        let meta: Value = if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|source| FixtureError::Io {
                path: path.clone(),
                source,
            })?;
            serde_json::from_str(&text).map_err(|source| FixtureError::Syntax {
                path: path.clone(),
                source,
            })?
        } else {
            Value::Object(serde_json::Map::new())
        };
        let field =
            |field: &'static str, expected: &'static str, found: &Value| FixtureError::Field {
                path: path.clone(),
                field,
                expected,
                found: found.to_string(),
            };
        let number = |key: &'static str, default: f64| match meta.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| field(key, "a non-negative number", v)),
        };
        let count = |key: &'static str, default: u64| match meta.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .ok_or_else(|| field(key, "a non-negative integer", v)),
        };
        let defaults = Thresholds::default();
        let thresholds = Thresholds {
            min_psnr: number("minPsnr", defaults.min_psnr)?,
            max_frame_failures: count("maxFrameFailures", defaults.max_frame_failures)?,
            min_audio_correlation: number("minAudioCorrelation", defaults.min_audio_correlation)?,
            max_audio_lag_windows: count("maxAudioLagWindows", defaults.max_audio_lag_windows)?,
        };
        let expected_findings = match meta.get("expectedFindings") {
            None => BTreeSet::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    serde_json::from_value::<FindingKind>(item.clone()).map_err(|_| {
                        field(
                            "expectedFindings",
                            "finding kinds such as \"chunk-boundary\" or \"frame-time\"",
                            item,
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(v) => return Err(field("expectedFindings", "a list of finding kinds", v)),
        };
        let unsupported = match meta.get("unsupported") {
            None | Some(Value::Null) => None,
            Some(Value::String(reason)) => Some(reason.clone()),
            Some(v) => return Err(field("unsupported", "a reason string", v)),
        };
        Ok(Fixture {
            name: dir.file_name().unwrap_or("fixture").to_string(),
            dir: dir.to_owned(),
            thresholds,
            expected_findings,
            unsupported,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_with(meta: &str) -> Result<Fixture, FixtureError> {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap().to_owned();
        std::fs::write(dir.join("index.html"), "<p>").unwrap();
        std::fs::write(dir.join("meta.json"), meta).unwrap();
        Fixture::read(&dir)
    }

    #[test]
    fn reads_thresholds_and_expected_findings() {
        let f = fixture_with(
            r#"{"minPsnr": 35.5, "maxFrameFailures": 2, "expectedFindings": ["chunk-boundary"],
                "renderConfig": {"fps": 30}, "somethingElse": true}"#,
        )
        .unwrap();
        assert_eq!(f.thresholds.min_psnr, 35.5);
        assert_eq!(f.thresholds.max_frame_failures, 2);
        assert_eq!(f.thresholds.min_audio_correlation, 0.9);
        assert!(f.expected_findings.contains(&FindingKind::ChunkBoundary));
        assert_eq!(f.unsupported, None);
    }

    #[test]
    fn bad_fields_are_named() {
        for (meta, field) in [
            (r#"{"minPsnr": "high"}"#, "minPsnr"),
            (r#"{"maxFrameFailures": -1}"#, "maxFrameFailures"),
            (r#"{"expectedFindings": ["wobble"]}"#, "expectedFindings"),
            (
                r#"{"expectedFindings": "chunk-boundary"}"#,
                "expectedFindings",
            ),
            (r#"{"unsupported": 3}"#, "unsupported"),
        ] {
            let err = fixture_with(meta).unwrap_err().to_string();
            assert!(err.contains(&format!("`{field}`")), "{meta}: {err}");
        }
    }

    #[test]
    fn discovers_the_committed_fixtures() {
        let dir = Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let names: Vec<String> = discover(&dir)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert!(names.contains(&"hyperframes".to_string()), "{names:?}");
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}
