//! What a regression run found, as plain data: per fixture its status, findings, warnings,
//! PSNR and failure pictures, and the run's report. The harness (`regress`) fills these in and
//! the reporters (`report`) show them; neither owns them, so neither has to import the other.
//! They serialise as `report.json` (see [`REPORT_FORMAT_VERSION`]).

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

use crate::browser::{ElementShare, PageEvent};
use crate::drift::Finding;
use crate::exit_code;
use crate::hash::BundleHash;

/// Version of `report.json`. It changes only when a field is removed, renamed or changes
/// meaning; adding a field (that older readers may ignore) keeps it (README, "Machine-readable
/// files").
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// What a regression run compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegressMode {
    /// In-process renders only.
    InProcess,
    /// In-process and local worker renders, compared exactly.
    DistributedSimulated,
    /// In-process renders and chunks rendered through a cluster scheduler, compared exactly.
    Distributed,
}

impl std::fmt::Display for RegressMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RegressMode::InProcess => "in-process",
            RegressMode::DistributedSimulated => "distributed-simulated",
            RegressMode::Distributed => "distributed",
        })
    }
}

/// How a fixture came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Everything matched (warnings allowed).
    Passed,
    /// A regression or drift.
    Failed,
    /// Declared unsupported.
    Skipped,
    /// Could not be rendered at all.
    Error,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so a width in a table lines the names up.
        f.pad(match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Error => "error",
        })
    }
}

/// The three pictures of one differing frame, with paths relative to the report folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureImages {
    /// What they show (`baseline`, or a finding's kind).
    pub what: String,
    /// The frame.
    pub frame: u64,
    /// The reference frame's label.
    pub reference_label: String,
    /// The reference frame.
    pub reference: Utf8PathBuf,
    /// The new frame's label.
    pub candidate_label: String,
    /// The new frame.
    pub candidate: Utf8PathBuf,
    /// The heat map.
    pub diff: Utf8PathBuf,
    /// The largest difference of one channel of one pixel, 0–255.
    pub largest_difference: u8,
    /// The page elements whose boxes cover the differing pixels, read from the page at that
    /// frame, largest share first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<ElementShare>,
    /// Why the elements could not be read, when they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elements_unavailable: Option<String>,
}

/// The result of one fixture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixtureResult {
    /// The fixture.
    pub name: String,
    /// How it came out.
    pub status: Status,
    /// Why, in one line, when not plainly passed.
    pub reason: Option<String>,
    /// The bundle rendered.
    pub bundle_hash: Option<BundleHash>,
    /// Findings (expected ones included).
    pub findings: Vec<Finding>,
    /// Warnings: toolchain differences that PSNR excused, a changed composition.
    pub warnings: Vec<String>,
    /// Per-frame PSNR against baseline.mp4: measured when any frame differs from the blessed
    /// one, else 100 dB for every frame (equal frame and chunk hashes mean equal pictures).
    pub psnr: Option<Vec<f64>>,
    /// The fixture's `minPsnr`.
    pub min_psnr: f64,
    /// What the page reported as going wrong: console errors, uncaught exceptions, missing
    /// files and blocked requests, with their frames.
    pub console_errors: Vec<PageEvent>,
    /// For a failure, pictures of the first differing frames.
    pub images: Vec<FailureImages>,
    /// Wall-clock seconds spent on the fixture.
    pub seconds: f64,
    /// For an error, the exit code it stands for: 2 input, 3 environment.
    pub error_code: Option<i32>,
    /// Restored from the store: nothing it rests on changed since a run that passed.
    #[serde(default)]
    pub reused: bool,
    /// A HyperFrames fixture's render against its golden video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub golden: Option<GoldenComparison>,
}

/// A HyperFrames fixture's in-process render against its golden video (another renderer's),
/// by the meanings HyperFrames' harness gives the thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenComparison {
    /// The golden video.
    pub video: Utf8PathBuf,
    /// The PSNR (dB, every plane) a checkpoint needs.
    pub threshold: f64,
    /// The 100 checkpoints, frame and PSNR each (100 for identical frames).
    pub checkpoints: Vec<Checkpoint>,
    /// Checkpoints below the threshold (one frame sampled twice counts twice).
    pub failed_checkpoints: usize,
    /// Mean PSNR over the checkpoints.
    pub mean_psnr: f64,
    /// The sound envelopes' best correlation (64 ms steps) and its lag, when both have sound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<GoldenSound>,
}

impl GoldenComparison {
    /// One line: the mean, the checkpoints that failed, the sound's correlation.
    pub fn summary(&self) -> String {
        let name = self.video.file_name().unwrap_or_default();
        let mut line = format!(
            "golden {name}: mean {:.2} dB, {} of {} checkpoints below {} dB",
            self.mean_psnr,
            self.failed_checkpoints,
            self.checkpoints.len(),
            self.threshold
        );
        if let Some(sound) = &self.audio {
            line.push_str(&format!(
                ", sound correlation {:.3} at lag {:+}",
                sound.correlation, sound.lag_windows
            ));
            if let Some(db) = sound.residual_rms_db {
                line.push_str(&format!(", residual {db:.1} dB"));
            }
        }
        line
    }
}

/// One sampled frame of a golden comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The frame.
    pub frame: u64,
    /// Its PSNR against the golden.
    pub psnr: f64,
}

/// The render's sound against the golden's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GoldenSound {
    /// Best envelope correlation within the lag searched.
    pub correlation: f64,
    /// Where it peaks, in 64 ms windows (positive: the render is later).
    pub lag_windows: i64,
    /// The residual level (dB), when `maxAudioResidualRmsDb` asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual_rms_db: Option<f64>,
}

impl FixtureResult {
    /// A fixture that has passed so far, with its `minPsnr`.
    pub fn new(name: &str, min_psnr: f64) -> FixtureResult {
        FixtureResult {
            name: name.to_string(),
            status: Status::Passed,
            reason: None,
            bundle_hash: None,
            findings: Vec::new(),
            warnings: Vec::new(),
            psnr: None,
            min_psnr,
            console_errors: Vec::new(),
            images: Vec::new(),
            seconds: 0.0,
            error_code: None,
            reused: false,
            golden: None,
        }
    }

    /// One line on the fixture: its reason, findings and warnings (the detail column of the
    /// summary table and of the HTML report).
    pub fn detail(&self) -> String {
        let mut details: Vec<String> = self.reason.iter().cloned().collect();
        details.extend(self.golden.iter().map(GoldenComparison::summary));
        details.extend(self.findings.iter().map(ToString::to_string));
        details.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        details.join("; ")
    }
}

/// `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegressReport {
    /// [`REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    /// The mode.
    pub mode: RegressMode,
    /// One result per fixture.
    pub fixtures: Vec<FixtureResult>,
}

impl RegressReport {
    /// The exit code, the most severe of the fixtures': 3 for an environment error, 2 for an
    /// input error, 1 for a failure, else 0.
    pub fn exit_code(&self) -> i32 {
        self.fixtures
            .iter()
            .map(|f| match f.status {
                Status::Passed | Status::Skipped => exit_code::SUCCESS,
                Status::Failed => exit_code::REGRESSION,
                Status::Error => f.error_code.unwrap_or(exit_code::REGRESSION),
            })
            .max()
            .unwrap_or(exit_code::SUCCESS)
    }

    /// How many fixtures came out as `status`.
    pub fn count(&self, status: Status) -> usize {
        self.fixtures.iter().filter(|f| f.status == status).count()
    }
}

/// A report like those users read, for the tests of what shows it: a fixture that passed by
/// PSNR with a warning, one that failed with chunk findings, a blocked request and pictures,
/// one skipped and one that could not be rendered.
#[cfg(test)]
pub(crate) fn sample_report() -> RegressReport {
    use crate::browser::PageEventKind;
    use crate::drift::FindingKind;
    use crate::hash::ContentHash;
    use crate::timing::ChunkIndex;

    let bundle = |name: &str| Some(BundleHash(ContentHash::of_bytes(name.as_bytes())));
    let passed = FixtureResult {
        bundle_hash: bundle("css-keyframes"),
        findings: vec![Finding {
            kind: FindingKind::Toolchain,
            chunk: None,
            first_frame: None,
            evidence: "toolchain 8fb0a434c561 (Chromium 156.0.8078.129, own packages) is not blessed (blessed: Chromium 156.0.8078.114, own packages): a toolchain difference, not a failure of the composition; lowest PSNR 100.00 dB, 0 frame(s) below 40 dB".into(),
        }],
        warnings: vec!["passed by PSNR against baseline.mp4, not hash for hash: bless this pair with `framelock regress --update --fixture css-keyframes` once it is trusted".into()],
        psnr: Some(vec![100.0, 100.0, 100.0]),
        seconds: 4.25,
        ..FixtureResult::new("css-keyframes", 40.0)
    };
    let failed = FixtureResult {
        status: Status::Failed,
        reason: Some("findings: expected none, found chunk-boundary".into()),
        bundle_hash: bundle("canvas-state"),
        findings: vec![
            Finding {
                kind: FindingKind::ChunkBoundary,
                chunk: Some(ChunkIndex(1)),
                first_frame: Some(20),
                evidence: "20 frame(s) differ".into(),
            },
            Finding {
                kind: FindingKind::Hermeticity,
                chunk: None,
                first_frame: Some(3),
                evidence: "1 blocked request(s), first https://fonts.example.invalid/a.woff2"
                    .into(),
            },
        ],
        psnr: Some(vec![100.0, 38.25, 41.5]),
        console_errors: vec![PageEvent {
            frame: Some(3),
            kind: PageEventKind::BlockedRequest {
                url: "https://fonts.example.invalid/a.woff2".into(),
            },
        }],
        images: vec![FailureImages {
            what: "chunk-boundary".into(),
            frame: 20,
            reference_label: "in-process".into(),
            reference: "canvas-state/chunk-boundary-frame-20-in-process.png".into(),
            candidate_label: "worker".into(),
            candidate: "canvas-state/chunk-boundary-frame-20-worker.png".into(),
            diff: "canvas-state/chunk-boundary-frame-20-diff.png".into(),
            largest_difference: 97,
            elements: vec![
                ElementShare {
                    selector: "#trail".into(),
                    share: 0.75,
                },
                ElementShare {
                    selector: "#stage canvas:nth-of-type(1)".into(),
                    share: 0.25,
                },
            ],
            elements_unavailable: None,
        }],
        seconds: 12.5,
        ..FixtureResult::new("canvas-state", 40.0)
    };
    let skipped = FixtureResult {
        status: Status::Skipped,
        reason: Some("nested compositions are not rendered yet".into()),
        ..FixtureResult::new("nested", 40.0)
    };
    let error = FixtureResult {
        status: Status::Error,
        reason: Some("fixtures/broken/meta.json: field `renderConfig.fps`: expected a positive number or a rational string such as \"30000/1001\", found \"fast\"".into()),
        error_code: Some(exit_code::INPUT),
        seconds: 0.01,
        ..FixtureResult::new("broken", 40.0)
    };
    let against_golden = FixtureResult {
        bundle_hash: bundle("hf-title"),
        golden: Some(GoldenComparison {
            video: "tests/hf-title/output/output.mp4".into(),
            threshold: 40.0,
            checkpoints: (0..100)
                .map(|i| Checkpoint {
                    frame: i * 59 / 100,
                    psnr: if i == 40 { 38.5 } else { 47.25 },
                })
                .collect(),
            failed_checkpoints: 1,
            mean_psnr: 47.1625,
            audio: Some(GoldenSound {
                correlation: 0.9984,
                lag_windows: 0,
                residual_rms_db: Some(-41.23),
            }),
        }),
        seconds: 9.5,
        ..FixtureResult::new("hf-title", 40.0)
    };
    RegressReport {
        format_version: REPORT_FORMAT_VERSION,
        mode: RegressMode::DistributedSimulated,
        fixtures: vec![passed, failed, skipped, error, against_golden],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(status: Status, error_code: Option<i32>) -> FixtureResult {
        FixtureResult {
            status,
            error_code,
            ..FixtureResult::new("f", 40.0)
        }
    }

    #[test]
    fn the_run_exits_with_its_most_severe_fixture() {
        let report = |fixtures| RegressReport {
            format_version: REPORT_FORMAT_VERSION,
            mode: RegressMode::InProcess,
            fixtures,
        };
        assert_eq!(report(vec![]).exit_code(), 0);
        assert_eq!(
            report(vec![
                fixture(Status::Passed, None),
                fixture(Status::Skipped, None)
            ])
            .exit_code(),
            0
        );
        assert_eq!(
            report(vec![
                fixture(Status::Failed, None),
                fixture(Status::Passed, None)
            ])
            .exit_code(),
            1
        );
        assert_eq!(
            report(vec![
                fixture(Status::Error, Some(3)),
                fixture(Status::Error, Some(2)),
                fixture(Status::Failed, None)
            ])
            .exit_code(),
            3
        );
        assert_eq!(report(vec![fixture(Status::Error, None)]).exit_code(), 1);
    }
}
