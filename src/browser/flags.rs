//! The exact Chrome command line of a deterministic render, and the sandbox policy.
//!
//! framelock starts Chrome itself with exactly these flags (nothing added behind its back), so
//! the list here is the whole truth; a test reads `Browser.getBrowserCommandLine` back and checks
//! that each one arrived. The sorted list is part of the render-settings fingerprint.

use std::fmt;

/// The flags of DESIGN.md's determinism recipe, for BeginFrame capture, plus
/// `--disable-gpu-compositing`: with GPU compositing, an animated composited layer (a scaled or
/// rotated title) keeps the raster scale it was first rastered at, so a browser that starts at
/// frame 30 rasterised it differently from one that walked frames 0..29 (measured on
/// css-keyframes: 18 of 30 frames differed, up to 39 levels). Software compositing re-rasters
/// from the current state and was frame-exact at every chunk start tried, and twice as fast
/// at 320×180. WebGL still runs on SwiftShader. And `--disable-partial-raster`: with partial
/// raster, a tile that changes keeps the pixels of its last raster outside the rectangle Blink
/// invalidated, and an animated SVG stroke's antialiased edge reaches past that rectangle, so a
/// frame carried pixels of the frame before (the 20 strokes of a 1080p page: frames 100 and 101
/// differed between a continuous render and one started at frame 98). Whole tiles are
/// re-rastered instead.
const DETERMINISTIC: &[&str] = &[
    "--deterministic-mode",
    "--enable-begin-frame-control",
    "--run-all-compositor-stages-before-draw",
    "--disable-new-content-rendering-timeout",
    "--disable-threaded-animation",
    "--disable-threaded-scrolling",
    "--disable-checker-imaging",
    "--disable-partial-raster",
    "--disable-image-animation-resync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-gpu-compositing",
    "--disable-skia-runtime-opts",
    "--font-render-hinting=none",
    "--force-color-profile=srgb",
    "--hide-scrollbars",
    "--mute-audio",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--enable-automation",
];

/// Flags that only make sense under BeginFrame control. The screenshot fallback drops them:
/// with them, `Page.captureScreenshot` waits for a frame that never comes.
const BEGIN_FRAME_ONLY: &[&str] = &["--deterministic-mode", "--enable-begin-frame-control"];

/// How frames are captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureMode {
    /// `HeadlessExperimental.beginFrame` with a screenshot: the deterministic path.
    BeginFrame,
    /// `Page.captureScreenshot` in a browser without begin-frame control: the fallback for
    /// builds where BeginFrame is missing or broken.
    Screenshot,
}

impl fmt::Display for CaptureMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureMode::BeginFrame => "beginframe",
            CaptureMode::Screenshot => "screenshot",
        })
    }
}

/// Whether Chrome's own sandbox is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxPolicy {
    /// Turn it off when it cannot work: running as root, or no user namespaces and no setuid
    /// helper (as inside a Nix build).
    Auto,
    /// Always on; Chrome refuses to start as root.
    On,
    /// Always off.
    Off,
}

/// What the sandbox policy decided, and why, so it can be said once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxDecision {
    /// Whether `--no-sandbox` is added.
    pub disabled: bool,
    /// Why, for the message shown to the user.
    pub reason: Option<&'static str>,
}

impl SandboxPolicy {
    /// Decides for this process and machine.
    pub fn decide(self) -> SandboxDecision {
        match self {
            SandboxPolicy::On => SandboxDecision {
                disabled: false,
                reason: None,
            },
            SandboxPolicy::Off => SandboxDecision {
                disabled: true,
                reason: Some("--chrome-sandbox=off"),
            },
            SandboxPolicy::Auto => {
                // SAFETY: geteuid has no preconditions and cannot fail.
                let root = unsafe { libc::geteuid() } == 0;
                if root {
                    SandboxDecision {
                        disabled: true,
                        reason: Some("running as root, where Chrome's sandbox cannot start"),
                    }
                } else if !user_namespaces_available() {
                    SandboxDecision {
                        disabled: true,
                        reason: Some("no unprivileged user namespaces for Chrome's sandbox"),
                    }
                } else {
                    SandboxDecision {
                        disabled: false,
                        reason: None,
                    }
                }
            }
        }
    }
}

fn user_namespaces_available() -> bool {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return false;
    }
    read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() != Some("0")
}

/// The configured flag list for a capture mode, without the per-launch values (port, profile
/// directory, sandbox), sorted: this is what the render-settings fingerprint records.
pub fn configured_flags(mode: CaptureMode) -> Vec<&'static str> {
    let mut flags: Vec<&'static str> = DETERMINISTIC
        .iter()
        .copied()
        .filter(|f| mode == CaptureMode::BeginFrame || !BEGIN_FRAME_ONLY.contains(f))
        .collect();
    flags.sort_unstable();
    flags
}

/// The flags a browser is started with: the configured list, plus `--no-sandbox` when the
/// sandbox policy turned it off.
pub fn launch_flags(mode: CaptureMode, sandbox: &SandboxDecision) -> Vec<String> {
    let mut flags: Vec<String> = configured_flags(mode)
        .into_iter()
        .map(String::from)
        .collect();
    if sandbox.disabled {
        flags.push("--no-sandbox".into());
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshot_mode_drops_begin_frame_flags_only() {
        let bf = configured_flags(CaptureMode::BeginFrame);
        let ss = configured_flags(CaptureMode::Screenshot);
        assert_eq!(bf.len(), DETERMINISTIC.len());
        assert_eq!(ss.len(), DETERMINISTIC.len() - BEGIN_FRAME_ONLY.len());
        assert!(!ss.contains(&"--enable-begin-frame-control"));
        assert!(ss.contains(&"--use-angle=swiftshader"));
        assert!(bf.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn explicit_sandbox_policies_are_obeyed() {
        assert!(SandboxPolicy::Off.decide().disabled);
        assert!(!SandboxPolicy::On.decide().disabled);
    }
}
