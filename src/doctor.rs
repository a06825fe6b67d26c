//! `framelock doctor`: finds the tools, proves they work, and shows what renders.
//!
//! It starts the browser exactly as a render does, loads an empty page, and asks WebGL which
//! GPU rasterises: anything but SwiftShader would make pixels depend on the machine.

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::browser::{
    BrowserError, CaptureMode, LaunchSpec, RuntimeConfig, SandboxPolicy, Session, SessionConfig,
    launch_flags,
};
use crate::encode::EncoderSettings;
use crate::exit_code;
use crate::render::{
    DEFAULT_FRAME_TIMEOUT, RenderSettings, fingerprint_toolchain, render_settings_fingerprint,
};
use crate::timing::Fps;
use crate::toolchain::{ToolChoice, Toolchain, ToolchainError};

/// Why a check failed.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// A tool is missing or unusable.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// The browser does not start, load a page or rasterise in software.
    #[error(transparent)]
    Browser(#[from] BrowserError),
}

impl DoctorError {
    /// A missing or broken tool is the environment's.
    pub fn exit_code(&self) -> i32 {
        match self {
            DoctorError::Toolchain(_) => exit_code::ENVIRONMENT,
            DoctorError::Browser(e) => e.exit_code(),
        }
    }

    /// The install command or next step.
    pub fn hint(&self) -> Option<String> {
        match self {
            DoctorError::Toolchain(e) => e.hint(),
            DoctorError::Browser(e) => e.hint(),
        }
    }
}

/// What `doctor` checks with.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The tools given on the command line or by the environment.
    pub tools: ToolChoice,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// Capture mode whose settings fingerprint is shown.
    pub capture: CaptureMode,
}

/// Version of `doctor --json`.
pub const DOCTOR_FORMAT_VERSION: u32 = 1;

/// What `doctor` found.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    /// [`DOCTOR_FORMAT_VERSION`].
    pub format_version: u32,
    /// The browser as found (maybe a wrapper script).
    pub chrome: Utf8PathBuf,
    /// The binary that runs.
    pub chrome_binary: Utf8PathBuf,
    /// How it was found.
    pub chrome_found_by: String,
    /// Its version.
    pub chrome_version: String,
    /// ffmpeg.
    pub ffmpeg: Utf8PathBuf,
    /// How it was found.
    pub ffmpeg_found_by: String,
    /// Its version.
    pub ffmpeg_version: String,
    /// The WebGL renderer string.
    pub gpu: String,
    /// Whether Chrome's sandbox is off, and why.
    pub sandbox: String,
    /// Where the fontconfig file comes from.
    pub fontconfig: String,
    /// The font files the browser may use.
    pub fonts: Vec<Utf8PathBuf>,
    /// Toolchain fingerprint.
    pub toolchain_fingerprint: String,
    /// The pinned toolchain this is (the Nix flake's wrapper says so), or `None`.
    pub pinned_toolchain: Option<String>,
    /// Number of files hashed into it.
    pub toolchain_files: usize,
    /// Render-settings fingerprint (for the given capture mode).
    pub render_settings_fingerprint: String,
    /// The configured browser flags.
    pub flags: Vec<String>,
}

/// Runs every check; the first failure is the error.
pub async fn run_doctor(options: &DoctorOptions) -> Result<DoctorReport, DoctorError> {
    let toolchain = Toolchain::locate(&options.tools)?;
    let fingerprint = fingerprint_toolchain(&toolchain, None).await?;

    let sandbox = options.sandbox.decide();
    let page = tempfile::tempdir().map_err(|source| ToolchainError::Io {
        path: Utf8PathBuf::from("temporary folder"),
        source,
    })?;
    let root = Utf8PathBuf::from_path_buf(page.path().to_path_buf())
        .expect("temp folders have UTF-8 paths");
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><title>doctor</title>",
    )
    .map_err(|source| ToolchainError::Io {
        path: root.join("index.html"),
        source,
    })?;
    let mut session = Session::start(SessionConfig {
        launch: LaunchSpec::new(&toolchain, options.capture, &sandbox),
        capture: options.capture,
        width: 64,
        height: 64,
        runtime: RuntimeConfig {
            fps: Fps::new(30, 1).expect("30 is a valid rate"),
            seed: 0,
            variables: serde_json::Map::new(),
            virtual_time: true,
            fault: None,
            videos: Vec::new(),
            video_mode: crate::media::VideoMode::Inject,
        },
        media_root: None,
        root: root.canonicalize_utf8().unwrap_or(root),
        frame_timeout: DEFAULT_FRAME_TIMEOUT,
    })
    .await?;
    let gpu = session.gpu_renderer().await?;
    session.close().await;
    if !gpu.contains("SwiftShader") {
        return Err(BrowserError::GpuNotSoftware { renderer: gpu }.into());
    }

    let settings = RenderSettings {
        capture: options.capture,
        encoder: EncoderSettings::default(),
        virtual_time: true,
        video_mode: crate::media::VideoMode::Inject,
    };
    Ok(DoctorReport {
        format_version: DOCTOR_FORMAT_VERSION,
        chrome: toolchain.chrome.given.clone(),
        chrome_binary: toolchain.chrome.real.clone(),
        chrome_found_by: toolchain.chrome.found_by.to_string(),
        chrome_version: fingerprint.chrome_version.clone(),
        ffmpeg: toolchain.ffmpeg.real.clone(),
        ffmpeg_found_by: toolchain.ffmpeg.found_by.to_string(),
        ffmpeg_version: fingerprint.ffmpeg_version.clone(),
        gpu,
        sandbox: match (sandbox.disabled, sandbox.reason) {
            (true, Some(reason)) => format!("off ({reason})"),
            (true, None) => "off".into(),
            (false, _) => "on".into(),
        },
        fontconfig: match &toolchain.fonts {
            crate::toolchain::Fonts::File(f) => format!("{f} (from FONTCONFIG_FILE)"),
            crate::toolchain::Fonts::Pinned(_) => {
                "generated per browser, listing only the pinned fonts".into()
            }
        },
        fonts: toolchain.fonts.files()?,
        toolchain_fingerprint: fingerprint.hash.clone(),
        pinned_toolchain: toolchain.pinned.clone(),
        toolchain_files: fingerprint.files.len(),
        render_settings_fingerprint: render_settings_fingerprint(&settings),
        flags: launch_flags(options.capture, &sandbox),
    })
}

impl DoctorReport {
    /// What `doctor` prints without `--json`.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let mut line = |text: String| {
            s.push_str(&text);
            s.push('\n');
        };
        line(format!(
            "browser       {} ({})",
            self.chrome_version, self.chrome_found_by
        ));
        line(format!("  binary      {}", self.chrome_binary));
        if self.chrome != self.chrome_binary {
            line(format!(
                "  wrapper     {} (resolved to the binary above)",
                self.chrome
            ));
        }
        line(format!("  GPU         {} (software: ok)", self.gpu));
        line(format!("  sandbox     {}", self.sandbox));
        line(format!(
            "ffmpeg        {} ({})",
            self.ffmpeg_version, self.ffmpeg_found_by
        ));
        line(format!("  binary      {}", self.ffmpeg));
        line(format!("fonts         {}", self.fontconfig));
        for f in &self.fonts {
            line(format!("  {f}"));
        }
        line(format!(
            "fingerprints  toolchain {} ({} files hashed)",
            self.toolchain_fingerprint, self.toolchain_files
        ));
        line(match &self.pinned_toolchain {
            Some(pin) => format!("              pinned: {pin}"),
            None => "              not the Nix flake's pinned toolchain (this machine's packages): hashes may differ from baselines blessed on it".into(),
        });
        line(format!(
            "              render settings {}",
            self.render_settings_fingerprint
        ));
        line(format!("flags         {}", self.flags.join(" ")));
        line("all checks passed".into());
        s
    }
}
