//! The worker job spec: everything a `render-chunk` worker needs besides the bundle and the
//! store, as one typed file with its own hash.
//!
//! Whoever starts workers (the local pool, `submit slurm`, `submit k8s`, regress's Slurm leg)
//! writes one spec and starts every worker with the same invocation ([`invocation`]); the worker
//! reads the spec, refuses one that was edited or belongs to another bundle, and refuses to
//! render with other render settings than the submitter's (another framelock build on the
//! nodes), whose records nobody would ever look up. Settings added later go here, not onto the
//! worker's command line.

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::error::DistributedError;
use super::inject::Injection;
use crate::browser::{CaptureMode, SandboxPolicy};
use crate::bundle::Bundle;
use crate::hash::{BundleHash, ContentHash, short};
use crate::media::VideoMode;
use crate::render::{RenderSettings, RunSettings, render_settings_fingerprint};
use crate::timing::ChunkIndex;
use crate::toolchain::{FoundBy, GivenTool, ToolChoice};

/// Version of the worker spec format.
pub const WORKER_SPEC_FORMAT_VERSION: u32 = 1;

/// The tag the spec's hash is taken under.
const SPEC_HASH_TAG: &str = "framelock-worker-spec-v1";

/// How every worker of one job renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerSpec {
    /// [`WORKER_SPEC_FORMAT_VERSION`].
    pub format_version: u32,
    /// The bundle the job renders: the spec is refused with any other.
    pub bundle_hash: BundleHash,
    /// How frames are captured.
    pub capture: CaptureMode,
    /// How videos are shown.
    pub video_mode: VideoMode,
    /// Seconds one seek or one capture may take.
    pub frame_timeout_seconds: f64,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// The render-settings fingerprint of the submitting framelock.
    pub render_settings: String,
    /// Tools given to the submitter by path, passed on (unset: each worker searches its PATH).
    pub tools: SpecTools,
    /// Render even on another toolchain than the planning machine's (the record says so).
    pub allow_toolchain_mismatch: bool,
    /// Reuse and index chunk records in the store.
    pub use_cache: bool,
    /// A self-test fault for one chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject: Option<Injection>,
}

/// Tool paths a worker is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecTools {
    /// The browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chrome: Option<Utf8PathBuf>,
    /// ffmpeg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ffmpeg: Option<Utf8PathBuf>,
}

impl SpecTools {
    /// The tools given to the submitter by a flag or a variable (not those it found on
    /// `PATH`): the workers are given the same.
    pub fn passed_on(given: &ToolChoice) -> SpecTools {
        SpecTools {
            chrome: given.chrome.as_ref().map(|t| t.path.clone()),
            ffmpeg: given.ffmpeg.as_ref().map(|t| t.path.clone()),
        }
    }

    /// The worker's tools: the spec's, else what its own command line gave.
    pub fn over(&self, local: &ToolChoice) -> ToolChoice {
        let from_spec = |path: &Option<Utf8PathBuf>| {
            path.as_ref().map(|path| GivenTool {
                path: path.clone(),
                given_by: FoundBy::WorkerSpec,
            })
        };
        ToolChoice {
            chrome: from_spec(&self.chrome).or_else(|| local.chrome.clone()),
            ffmpeg: from_spec(&self.ffmpeg).or_else(|| local.ffmpeg.clone()),
        }
    }
}

/// The choices a spec is made from, besides the bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSettings {
    /// How frames are captured.
    pub capture: CaptureMode,
    /// How videos are shown.
    pub video_mode: VideoMode,
    /// Time allowed for one seek or one capture.
    pub frame_timeout: Duration,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// Tool paths passed on.
    pub tools: SpecTools,
    /// Render even on another toolchain than the planning machine's.
    pub allow_toolchain_mismatch: bool,
    /// Reuse and index chunk records.
    pub use_cache: bool,
    /// A self-test fault for one chunk.
    pub inject: Option<Injection>,
}

impl WorkerSettings {
    /// Workers rendering as `run` does, with the tools `run` was given passed on: the
    /// toolchain checked against the plan's, records reused and indexed, no fault.
    pub fn of_run(run: &RunSettings) -> WorkerSettings {
        WorkerSettings {
            capture: run.capture,
            video_mode: run.video_mode,
            frame_timeout: run.frame_timeout,
            sandbox: run.sandbox,
            tools: SpecTools::passed_on(&run.toolchain.given()),
            allow_toolchain_mismatch: false,
            use_cache: true,
            inject: None,
        }
    }
}

/// The file a spec is written as: the spec and the hash of its canonical JSON.
#[derive(Serialize, Deserialize)]
struct SpecFile {
    spec_hash: ContentHash,
    #[serde(flatten)]
    spec: WorkerSpec,
}

impl WorkerSpec {
    /// The spec of a job rendering `bundle` with `settings`.
    pub fn new(bundle: &Bundle, settings: WorkerSettings) -> WorkerSpec {
        let render_settings = render_settings_fingerprint(&RenderSettings {
            capture: settings.capture,
            encoder: bundle.encoder_settings(),
            virtual_time: true,
            video_mode: settings.video_mode,
        });
        WorkerSpec {
            format_version: WORKER_SPEC_FORMAT_VERSION,
            bundle_hash: bundle.hash().clone(),
            capture: settings.capture,
            video_mode: settings.video_mode,
            frame_timeout_seconds: settings.frame_timeout.as_secs_f64(),
            sandbox: settings.sandbox,
            render_settings,
            tools: settings.tools,
            allow_toolchain_mismatch: settings.allow_toolchain_mismatch,
            use_cache: settings.use_cache,
            inject: settings.inject,
        }
    }

    /// The hash of the spec's canonical JSON: what its file is named by.
    pub fn hash(&self) -> ContentHash {
        let json = serde_json::to_vec(self).expect("a worker spec serialises");
        ContentHash::of_tagged(SPEC_HASH_TAG, &json)
    }

    /// Time allowed for one seek or one capture.
    pub fn frame_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.frame_timeout_seconds)
    }

    /// The spec file's contents.
    pub fn to_file(&self) -> String {
        let file = SpecFile {
            spec_hash: self.hash(),
            spec: self.clone(),
        };
        serde_json::to_string_pretty(&file).expect("a worker spec serialises") + "\n"
    }

    /// Writes the spec into `dir` as `worker-<hash>.json` (whole or not at all); returns the
    /// path.
    pub fn write(&self, dir: &Utf8Path) -> Result<Utf8PathBuf, DistributedError> {
        let path = dir.join(format!("worker-{}.json", self.hash().short()));
        crate::staging::write_file(&path, "spec", self.to_file().as_bytes()).map_err(|source| {
            DistributedError::Io {
                path: path.clone(),
                source,
            }
        })?;
        Ok(path)
    }

    /// Reads a spec file, refusing one whose contents do not match its hash.
    pub fn read(path: &Utf8Path) -> Result<WorkerSpec, DistributedError> {
        let bad = |reason: String| DistributedError::BadSpec {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        WorkerSpec::parse(&text).map_err(bad)
    }

    fn parse(text: &str) -> Result<WorkerSpec, String> {
        let version = serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| e.to_string())?
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(WORKER_SPEC_FORMAT_VERSION)) {
            return Err(format!(
                "format_version {}, this framelock reads {WORKER_SPEC_FORMAT_VERSION}",
                version.map_or("missing".into(), |v| v.to_string())
            ));
        }
        let file: SpecFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let found = file.spec.hash();
        if found != file.spec_hash {
            return Err(format!(
                "its contents hash to {}, not the {} it names: it was changed after it was written",
                found.short(),
                file.spec_hash.short()
            ));
        }
        Ok(file.spec)
    }

    /// The worker's check before rendering: this spec is for `bundle` (in `bundle_dir`), and
    /// this framelock renders with the submitter's settings.
    pub fn check(&self, bundle: &Bundle, bundle_dir: &Utf8Path) -> Result<(), DistributedError> {
        if self.bundle_hash != *bundle.hash() {
            return Err(DistributedError::SpecForOtherBundle {
                spec: self.bundle_hash.clone(),
                bundle: bundle.hash().clone(),
                bundle_dir: bundle_dir.to_owned(),
            });
        }
        let here = WorkerSpec::new(bundle, self.settings()).render_settings;
        if here != self.render_settings {
            return Err(DistributedError::SettingsMismatch {
                submitted: self.render_settings.clone(),
                here,
            });
        }
        Ok(())
    }

    /// Every setting in one line, for the scripts and manifests that start workers with it.
    pub fn summary(&self) -> String {
        let tool = |path: &Option<Utf8PathBuf>| {
            path.as_ref()
                .map_or_else(|| "from PATH".to_string(), |p| p.to_string())
        };
        let mut line = format!(
            "bundle {}, capture {}, video {}, frame timeout {} s, chrome sandbox {}, render settings {}, chrome {}, ffmpeg {}, toolchain mismatch {}, cache {}",
            self.bundle_hash.short(),
            self.capture,
            serde_json::to_value(self.video_mode)
                .expect("a video mode serialises")
                .as_str()
                .unwrap_or_default(),
            self.frame_timeout_seconds,
            serde_json::to_value(self.sandbox)
                .expect("a sandbox policy serialises")
                .as_str()
                .unwrap_or_default(),
            short(&self.render_settings),
            tool(&self.tools.chrome),
            tool(&self.tools.ffmpeg),
            if self.allow_toolchain_mismatch {
                "allowed"
            } else {
                "refused"
            },
            if self.use_cache { "on" } else { "off" },
        );
        if let Some(injection) = &self.inject {
            line.push_str(&format!(
                ", self-test fault {:?} in chunk {}",
                injection.fault, injection.chunk
            ));
        }
        line
    }

    /// The settings the spec was made from.
    pub fn settings(&self) -> WorkerSettings {
        WorkerSettings {
            capture: self.capture,
            video_mode: self.video_mode,
            frame_timeout: self.frame_timeout(),
            sandbox: self.sandbox,
            tools: self.tools.clone(),
            allow_toolchain_mismatch: self.allow_toolchain_mismatch,
            use_cache: self.use_cache,
            inject: self.inject,
        }
    }
}

/// The one command line every executor starts a worker with: `framelock render-chunk BUNDLE
/// --store STORE --spec SPEC`, with `--chunk I` when the executor does not number its tasks.
pub fn invocation(
    framelock: &Utf8Path,
    bundle: &Utf8Path,
    store: &Utf8Path,
    spec: &Utf8Path,
    chunk: Option<ChunkIndex>,
) -> Vec<String> {
    let mut argv = vec![
        framelock.to_string(),
        "render-chunk".into(),
        bundle.to_string(),
        "--store".into(),
        store.to_string(),
        "--spec".into(),
        spec.to_string(),
    ];
    if let Some(chunk) = chunk {
        argv.extend(["--chunk".into(), chunk.to_string()]);
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributed::Fault;

    fn spec() -> WorkerSpec {
        WorkerSpec {
            format_version: WORKER_SPEC_FORMAT_VERSION,
            bundle_hash: BundleHash(ContentHash::of_bytes(b"bundle")),
            capture: CaptureMode::Screenshot,
            video_mode: VideoMode::Native,
            frame_timeout_seconds: 7.5,
            sandbox: SandboxPolicy::Off,
            render_settings: "r".repeat(64),
            tools: SpecTools {
                chrome: Some("/opt/chrome".into()),
                ffmpeg: None,
            },
            allow_toolchain_mismatch: true,
            use_cache: false,
            inject: Some(Injection {
                chunk: ChunkIndex(2),
                fault: Fault::ClockShift(-3),
            }),
        }
    }

    #[test]
    fn a_spec_reads_back_as_written_and_an_edited_one_is_refused() {
        let spec = spec();
        let text = spec.to_file();
        assert_eq!(WorkerSpec::parse(&text).unwrap(), spec);
        assert_eq!(spec.frame_timeout(), Duration::from_millis(7500));

        let edited = text.replace("7.5", "30.0");
        let err = WorkerSpec::parse(&edited).unwrap_err();
        assert!(err.contains("changed after it was written"), "{err}");

        let future = text.replace("\"format_version\": 1", "\"format_version\": 9");
        let err = WorkerSpec::parse(&future).unwrap_err();
        assert!(err.contains("format_version 9"), "{err}");
    }

    #[test]
    fn every_setting_changes_the_hash() {
        let base = spec();
        let mut variants = Vec::new();
        let mut s = base.clone();
        s.capture = CaptureMode::BeginFrame;
        variants.push(s);
        let mut s = base.clone();
        s.video_mode = VideoMode::Inject;
        variants.push(s);
        let mut s = base.clone();
        s.frame_timeout_seconds = 8.0;
        variants.push(s);
        let mut s = base.clone();
        s.sandbox = SandboxPolicy::Auto;
        variants.push(s);
        let mut s = base.clone();
        s.tools.ffmpeg = Some("/opt/ffmpeg".into());
        variants.push(s);
        let mut s = base.clone();
        s.allow_toolchain_mismatch = false;
        variants.push(s);
        let mut s = base.clone();
        s.use_cache = true;
        variants.push(s);
        let mut s = base.clone();
        s.inject = None;
        variants.push(s);
        for variant in variants {
            assert_ne!(variant.hash(), base.hash(), "{variant:?}");
        }
    }

    #[test]
    fn a_spec_tool_wins_over_the_workers_own_and_is_named_as_the_specs() {
        let local = ToolChoice {
            chrome: Some(GivenTool {
                path: "/local/chrome".into(),
                given_by: FoundBy::Flag("--chrome"),
            }),
            ffmpeg: Some(GivenTool {
                path: "/local/ffmpeg".into(),
                given_by: FoundBy::Env("FRAMELOCK_FFMPEG"),
            }),
        };
        let choice = spec().tools.over(&local);
        assert_eq!(
            choice.chrome,
            Some(GivenTool {
                path: "/opt/chrome".into(),
                given_by: FoundBy::WorkerSpec
            })
        );
        assert_eq!(choice.ffmpeg, local.ffmpeg);
    }

    #[test]
    fn the_invocation_names_bundle_store_spec_and_only_then_the_chunk() {
        let argv = invocation(
            "/bin/framelock".into(),
            "/b".into(),
            "/s".into(),
            "/s/worker.json".into(),
            Some(ChunkIndex(4)),
        );
        assert_eq!(
            argv.join(" "),
            "/bin/framelock render-chunk /b --store /s --spec /s/worker.json --chunk 4"
        );
        let argv = invocation(
            "/bin/framelock".into(),
            "/b".into(),
            "/s".into(),
            "/s/worker.json".into(),
            None,
        );
        assert!(!argv.contains(&"--chunk".to_string()));
    }
}
