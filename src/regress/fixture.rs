//! Fixtures: the compositions under `fixtures/` (or a HyperFrames suite's `tests/`), with the
//! comparison settings of their `meta.json` (thresholds, `expectedFindings`, `unsupported`),
//! which stay out of the bundle hash.

use std::collections::BTreeSet;

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

use crate::composition::page_folder;
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
    /// Two fixtures of one run have one name.
    #[error(
        "{first} and {second}: two fixtures named {name}; rename one (fixtures are named by their folder)"
    )]
    Duplicate {
        /// The name.
        name: String,
        /// One folder.
        first: Utf8PathBuf,
        /// The other.
        second: Utf8PathBuf,
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
    /// Highest level (dB) of the render's sound less the golden's, when checked
    /// (`maxAudioResidualRmsDb`; HyperFrames fixtures only).
    pub max_audio_residual_rms_db: Option<f64>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_psnr: 40.0,
            max_frame_failures: 0,
            min_audio_correlation: 0.9,
            max_audio_lag_windows: 1,
            max_audio_residual_rms_db: None,
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
    /// In HyperFrames' layout (`meta.json` beside `src/index.html`): the golden video its
    /// `renderConfig.format` names, `output/output.<mp4|webm>`, whether it exists or not.
    pub golden: Option<Utf8PathBuf>,
}

/// A folder that holds a fixture, and the fixture read from it, or why it could not be.
#[derive(Debug)]
pub struct Found {
    /// The folder name, which names the fixture.
    pub name: String,
    /// The fixture, or why its `meta.json` cannot be used.
    pub fixture: Result<Fixture, FixtureError>,
}

/// Every fixture below `dir`, sorted by name. A fixture is a folder with an `index.html`, or in
/// HyperFrames' layout a `meta.json` beside `src/index.html`; a folder that is neither is a
/// suite (as HyperFrames' `distributed/`), whose fixtures are looked for one level down. Hidden
/// folders, `node_modules` and a `src/` page without a `meta.json` beside it are passed over. A fixture whose `meta.json` cannot be used is
/// found all the same, with its error, so the others still run.
pub fn discover(dir: &Utf8Path) -> Result<Vec<Found>, FixtureError> {
    let mut out: Vec<(Found, Utf8PathBuf)> = Vec::new();
    for folder in subfolders(dir)? {
        if page_folder(&folder).is_some() {
            out.push((found(&folder), folder));
            continue;
        }
        // HyperFrames passes over such a folder too.
        if lacks_meta(&folder) {
            continue;
        }
        for inner in subfolders(&folder)? {
            if page_folder(&inner).is_some() {
                out.push((found(&inner), inner));
            }
        }
    }
    out.sort_by(|(a, _), (b, _)| a.name.cmp(&b.name));
    if let Some(pair) = out.windows(2).find(|w| w[0].0.name == w[1].0.name) {
        return Err(FixtureError::Duplicate {
            name: pair[0].0.name.clone(),
            first: pair[0].1.clone(),
            second: pair[1].1.clone(),
        });
    }
    Ok(out.into_iter().map(|(f, _)| f).collect())
}

/// Whether `dir` has a page in `src/` but no `meta.json` beside it, which HyperFrames' layout
/// needs: not a fixture, and not a suite either.
pub(super) fn lacks_meta(dir: &Utf8Path) -> bool {
    page_folder(dir).is_none() && dir.join("src/index.html").is_file()
}

fn found(dir: &Utf8Path) -> Found {
    Found {
        name: dir.file_name().unwrap_or("fixture").to_string(),
        fixture: Fixture::read(dir),
    }
}

/// The folders directly below `dir`, but hidden ones and `node_modules`.
fn subfolders(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>, FixtureError> {
    let io = |source| FixtureError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in dir.read_dir_utf8().map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if name.starts_with('.') || name == "node_modules" || !entry.path().is_dir() {
            continue;
        }
        out.push(entry.into_path());
    }
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
        let max_audio_residual_rms_db = match meta.get("maxAudioResidualRmsDb") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_f64()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| field("maxAudioResidualRmsDb", "a number of dB", v))?,
            ),
        };
        let defaults = Thresholds::default();
        let thresholds = Thresholds {
            min_psnr: number("minPsnr", defaults.min_psnr)?,
            max_frame_failures: count("maxFrameFailures", defaults.max_frame_failures)?,
            min_audio_correlation: number("minAudioCorrelation", defaults.min_audio_correlation)?,
            max_audio_lag_windows: count("maxAudioLagWindows", defaults.max_audio_lag_windows)?,
            max_audio_residual_rms_db,
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
            None | Some(Value::Null) => unsupported_render_config(&meta),
            Some(Value::String(reason)) => Some(reason.clone()),
            Some(v) => return Err(field("unsupported", "a reason string", v)),
        };
        let hyperframes_layout = page_folder(dir).is_some_and(|page| page != dir);
        let golden = hyperframes_layout.then(|| {
            let format = meta["renderConfig"]["format"].as_str().unwrap_or("mp4");
            dir.join("output").join(format!("output.{format}"))
        });
        Ok(Fixture {
            name: dir.file_name().unwrap_or("fixture").to_string(),
            dir: dir.to_owned(),
            thresholds,
            expected_findings,
            unsupported,
            golden,
        })
    }
}

/// Why a `renderConfig` cannot be rendered as asked, if it cannot: HyperFrames' keys that
/// framelock does not render. Such a fixture is skipped with the reason, not failed.
fn unsupported_render_config(meta: &Value) -> Option<String> {
    let config = &meta["renderConfig"];
    let said = |key: &str| config[key].as_str();
    match said("format") {
        Some("mov") => {
            return Some(
                "renderConfig.format \"mov\" (ProRes 4444): framelock writes mp4 and webm".into(),
            );
        }
        Some("png-sequence") => {
            return Some("renderConfig.format \"png-sequence\": HyperFrames compares its PNG files byte for byte, which only its own encoder can match".into());
        }
        _ => {}
    }
    if said("codec") == Some("h265") {
        return Some("renderConfig.codec \"h265\": framelock encodes H.264".into());
    }
    if config["hdr"].as_bool() == Some(true) {
        return Some("renderConfig.hdr: framelock renders SDR (BT.709) only".into());
    }
    None
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
    fn discovers_both_layouts_suites_and_broken_fixtures() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap();
        let make = |rel: &str, files: &[(&str, &str)]| {
            for (name, text) in files {
                let path = root.join(rel).join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
        };
        make("ours", &[("index.html", "<p>")]);
        make("theirs", &[("meta.json", "{}"), ("src/index.html", "<p>")]);
        make(
            "distributed/deep",
            &[("meta.json", "{}"), ("src/index.html", "<p>")],
        );
        make(
            "broken",
            &[
                ("index.html", "<p>"),
                ("meta.json", r#"{"minPsnr": "high"}"#),
            ],
        );
        make("not-a-fixture/src", &[("index.html", "<p>")]);
        make(".hidden", &[("index.html", "<p>")]);
        make("node_modules/pkg", &[("index.html", "<p>")]);
        let found = discover(root).unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["broken", "deep", "ours", "theirs"]);
        let broken = found[0].fixture.as_ref().unwrap_err().to_string();
        assert!(
            broken.contains("broken/meta.json: field `minPsnr`"),
            "{broken}"
        );
        assert!(found[1..].iter().all(|f| f.fixture.is_ok()));

        make("distributed/ours", &[("index.html", "<p>")]);
        let err = discover(root).unwrap_err().to_string();
        assert!(err.contains("two fixtures named ours"), "{err}");
    }

    #[test]
    fn discovers_the_committed_fixtures() {
        let dir = Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let names: Vec<String> = discover(&dir)
            .unwrap()
            .into_iter()
            .map(|f| f.fixture.unwrap().name)
            .collect();
        assert!(names.contains(&"hyperframes".to_string()), "{names:?}");
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}
