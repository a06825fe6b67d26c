//! The render-settings fingerprint: everything about *how* framelock renders that is not the
//! toolchain, so results made with other settings are never mistaken for these.

use crate::browser::{CaptureMode, RUNTIME_JS, configured_flags, environment_pins};
use crate::encode::{EncoderSettings, args_template};
use crate::media::VideoMode;
use crate::store::{RecordFingerprints, Store, build_id};
use crate::toolchain::{Toolchain, ToolchainError, ToolchainFingerprint};

/// The settings that decide pixels and bytes besides the composition and the toolchain.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    /// Capture mode.
    pub capture: CaptureMode,
    /// Encoder settings.
    pub encoder: EncoderSettings,
    /// Whether the virtual-time runtime is on (off only when debugging).
    pub virtual_time: bool,
    /// How videos are shown.
    pub video_mode: VideoMode,
}

/// blake3 over the injected runtime, the configured browser flags (not the live command line,
/// which carries a port and a profile path), the page environment's DevTools pins, the capture
/// mode and format, and the encoder argv template.
pub fn render_settings_fingerprint(settings: &RenderSettings) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"framelock-render-settings-v1\0");
    h.update(RUNTIME_JS.as_bytes());
    h.update(b"\0");
    for flag in configured_flags(settings.capture) {
        h.update(flag.as_bytes());
        h.update(b"\0");
    }
    h.update(environment_pins().as_bytes());
    h.update(b"\0");
    h.update(format!("capture={} format=png\0", settings.capture).as_bytes());
    h.update(args_template(&settings.encoder).as_bytes());
    h.update(format!("\0virtual-time={}", settings.virtual_time).as_bytes());
    let video = serde_json::to_value(settings.video_mode).expect("a video mode serialises");
    h.update(format!("\0video={}", video.as_str().unwrap_or("")).as_bytes());
    h.finalize().to_hex().to_string()
}

/// Hashes the toolchain on a blocking thread (it reads a few hundred megabytes), remembering
/// file hashes in `store` when one is given.
pub async fn fingerprint_toolchain(
    toolchain: &Toolchain,
    store: Option<&Store>,
) -> Result<ToolchainFingerprint, ToolchainError> {
    let toolchain = toolchain.clone();
    let cache = store.map(|s| s.root().join("toolchain-files.json"));
    tokio::task::spawn_blocking(move || ToolchainFingerprint::compute(&toolchain, cache.as_deref()))
        .await
        .expect("fingerprinting does not panic")
}

/// The fingerprints a chunk record made now, with these settings on this toolchain, carries.
pub fn record_fingerprints(
    toolchain: &ToolchainFingerprint,
    settings: &RenderSettings,
) -> RecordFingerprints {
    RecordFingerprints {
        toolchain: toolchain.hash.clone(),
        render_settings: render_settings_fingerprint(settings),
        build_id: build_id().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_changes_the_fingerprint() {
        let base = RenderSettings {
            capture: CaptureMode::BeginFrame,
            encoder: EncoderSettings::default(),
            virtual_time: true,
            video_mode: VideoMode::Inject,
        };
        let a = render_settings_fingerprint(&base);
        assert_eq!(a, render_settings_fingerprint(&base.clone()));
        let mut other = base.clone();
        other.capture = CaptureMode::Screenshot;
        assert_ne!(a, render_settings_fingerprint(&other));
        let mut other = base.clone();
        other.encoder.qp += 1;
        assert_ne!(a, render_settings_fingerprint(&other));
        let mut other = base.clone();
        other.video_mode = VideoMode::Native;
        assert_ne!(a, render_settings_fingerprint(&other));
        let mut other = base;
        other.virtual_time = false;
        assert_ne!(a, render_settings_fingerprint(&other));
    }
}
