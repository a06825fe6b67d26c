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
    /// Milliseconds one seek or one capture may take (whole milliseconds: a decimal fraction
    /// of a second would not survive a round trip through JSON bit for bit, and the hash
    /// covers it).
    pub frame_timeout_ms: u64,
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
    /// The tools given to the submitter by its flags (`--chrome`, `--ffmpeg`): the workers are
    /// given the same. A tool a variable named is not passed on: each worker reads its own
    /// environment (a local worker inherits the submitter's; a node's may name its own path).
    pub fn passed_on(given: &ToolChoice) -> SpecTools {
        let flag = |tool: &Option<GivenTool>| {
            tool.as_ref()
                .filter(|t| matches!(t.given_by, FoundBy::Flag(_)))
                .map(|t| t.path.clone())
        };
        SpecTools {
            chrome: flag(&given.chrome),
            ffmpeg: flag(&given.ffmpeg),
        }
    }

    /// The worker's tools: its own flag (a person running it by hand means it), else the
    /// spec's, else its own variable, else its `PATH`.
    pub fn over(&self, local: &ToolChoice) -> ToolChoice {
        let pick = |spec: &Option<Utf8PathBuf>, local: &Option<GivenTool>| {
            let by_flag = local
                .as_ref()
                .filter(|t| matches!(t.given_by, FoundBy::Flag(_)));
            let from_spec = spec.as_ref().map(|path| GivenTool {
                path: path.clone(),
                given_by: FoundBy::WorkerSpec,
            });
            by_flag.cloned().or(from_spec).or_else(|| local.clone())
        };
        ToolChoice {
            chrome: pick(&self.chrome, &local.chrome),
            ffmpeg: pick(&self.ffmpeg, &local.ffmpeg),
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

/// The field of a spec file that holds the hash of the rest of it.
const SPEC_HASH_FIELD: &str = "spec_hash";

/// The hash of a spec file's fields other than its hash: over the canonical JSON of all of
/// them (keys sorted), so a field a newer framelock added is covered too and an older one that
/// ignores it still verifies the file.
fn hash_of(fields: &serde_json::Map<String, serde_json::Value>) -> ContentHash {
    let mut fields = fields.clone();
    fields.remove(SPEC_HASH_FIELD);
    let json = serde_json::to_vec(&fields).expect("JSON values serialise");
    ContentHash::of_tagged(SPEC_HASH_TAG, &json)
}

/// A duration to the nearest millisecond, at least one (`--frame-timeout 1.14` is 1140 ms,
/// though 1.14 s is no exact binary fraction).
fn whole_millis(duration: Duration) -> u64 {
    let millis = (duration.as_nanos() + 500_000) / 1_000_000;
    u64::try_from(millis).unwrap_or(u64::MAX).max(1)
}

/// A spec's fields as a JSON object.
fn fields_of(spec: &WorkerSpec) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(spec).expect("a worker spec serialises") {
        serde_json::Value::Object(fields) => fields,
        _ => unreachable!("a struct serialises as an object"),
    }
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
            frame_timeout_ms: whole_millis(settings.frame_timeout),
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
        hash_of(&fields_of(self))
    }

    /// Time allowed for one seek or one capture.
    pub fn frame_timeout(&self) -> Duration {
        Duration::from_millis(self.frame_timeout_ms)
    }

    /// The spec file's contents: its fields and their hash.
    pub fn to_file(&self) -> String {
        let mut fields = fields_of(self);
        fields.insert(
            SPEC_HASH_FIELD.into(),
            serde_json::Value::String(self.hash().to_string()),
        );
        serde_json::to_string_pretty(&fields).expect("JSON values serialise") + "\n"
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
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| e.to_string())?;
        let named = fields
            .get(SPEC_HASH_FIELD)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("no `{SPEC_HASH_FIELD}`"))?
            .to_string();
        let found = hash_of(&fields);
        if found.as_str() != named {
            return Err(format!(
                "its contents hash to {}, not the {} it names: it was changed after it was written",
                found.short(),
                short(&named)
            ));
        }
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| e.to_string())
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
            self.frame_timeout_ms as f64 / 1000.0,
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
            frame_timeout_ms: 7500,
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

        let edited = text.replace("7500", "30000");
        let err = WorkerSpec::parse(&edited).unwrap_err();
        assert!(err.contains("changed after it was written"), "{err}");

        let future = text.replace("\"format_version\": 1", "\"format_version\": 9");
        let err = WorkerSpec::parse(&future).unwrap_err();
        assert!(err.contains("format_version 9"), "{err}");
    }

    #[test]
    fn a_field_a_newer_framelock_adds_is_hashed_and_ignored_here() {
        let spec = spec();
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&spec.to_file()).unwrap();
        fields.insert("page_environment".into(), serde_json::json!({"cores": 4}));
        let rehashed = hash_of(&fields);
        fields.insert(SPEC_HASH_FIELD.into(), rehashed.to_string().into());
        let text = serde_json::to_string(&fields).unwrap();
        assert_eq!(WorkerSpec::parse(&text).unwrap(), spec);
        // Dropping the new field is a change like any other.
        fields.remove("page_environment");
        let err = WorkerSpec::parse(&serde_json::to_string(&fields).unwrap()).unwrap_err();
        assert!(err.contains("changed after it was written"), "{err}");
    }

    #[test]
    fn a_frame_timeout_survives_the_file_exactly() {
        // 1.14 s is no exact binary fraction: kept as seconds it would read back otherwise.
        for (seconds, millis) in [
            (1.14, 1140),
            (2.28, 2280),
            (12.5, 12500),
            (30.0, 30000),
            (0.0004, 1),
        ] {
            let spec = WorkerSpec {
                frame_timeout_ms: whole_millis(Duration::from_secs_f64(seconds)),
                ..spec()
            };
            assert_eq!(spec.frame_timeout_ms, millis, "{seconds}");
            let back = WorkerSpec::parse(&spec.to_file()).unwrap();
            assert_eq!(
                back.frame_timeout(),
                Duration::from_millis(millis),
                "{seconds}"
            );
        }
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
        s.frame_timeout_ms = 8000;
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

    fn given(path: &str, given_by: FoundBy) -> Option<GivenTool> {
        Some(GivenTool {
            path: path.into(),
            given_by,
        })
    }

    #[test]
    fn a_workers_flag_beats_the_spec_which_beats_its_variables() {
        let tools = SpecTools {
            chrome: Some("/opt/chrome".into()),
            ffmpeg: Some("/opt/ffmpeg".into()),
        };
        let local = ToolChoice {
            chrome: given("/local/chrome", FoundBy::Flag("--chrome")),
            ffmpeg: given("/local/ffmpeg", FoundBy::Env("FRAMELOCK_FFMPEG")),
        };
        let choice = tools.over(&local);
        assert_eq!(choice.chrome, local.chrome, "the worker's own flag");
        assert_eq!(
            choice.ffmpeg,
            given("/opt/ffmpeg", FoundBy::WorkerSpec),
            "the spec, named as the spec"
        );
        let nothing_in_spec = SpecTools::default().over(&local);
        assert_eq!(nothing_in_spec, local, "the worker's own variable");
    }

    #[test]
    fn only_tools_given_by_flag_are_passed_on() {
        let choice = ToolChoice {
            chrome: given("/x/chrome", FoundBy::Flag("--chrome")),
            ffmpeg: given("/x/ffmpeg", FoundBy::Env("FRAMELOCK_FFMPEG")),
        };
        assert_eq!(
            SpecTools::passed_on(&choice),
            SpecTools {
                chrome: Some("/x/chrome".into()),
                ffmpeg: None,
            }
        );
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
