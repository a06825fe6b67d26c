//! The machine as a page sees it: every value a page could read from the host, pinned.
//!
//! A composition rendered on a 2-core laptop and on a 64-core Slurm node must see the same
//! machine, or a page that sizes a particle count by `navigator.hardwareConcurrency` draws
//! other frames under the same bundle hash. What the renderer pins through DevTools is here;
//! what the page's own objects answer (memory, network, battery, storage, devices) is pinned
//! by the runtime (`runtime.js`, "the machine"), before any page script runs. The time zone
//! and locale come from the browser's environment (`process.rs`: `TZ=UTC`, `LANG=C.UTF-8`).
//! The userAgent and `navigator.platform` name the browser build: they are the toolchain's,
//! and the toolchain fingerprint covers them. README.md, "The page environment", lists
//! every value.

use chromiumoxide::cdp::browser_protocol::emulation::{
    MediaFeature, SetDeviceMetricsOverrideParams, SetEmulatedMediaParams,
    SetHardwareConcurrencyOverrideParams,
};
use chromiumoxide::cdp::browser_protocol::page::{FontFamilies, SetFontFamiliesParams};

/// `navigator.hardwareConcurrency`: what a page that spreads work over threads sees.
const HARDWARE_CONCURRENCY: i64 = 4;

/// Media features that follow the user's or the machine's settings, pinned to a browser
/// nobody configured: full motion, light scheme, no forced colours.
const MEDIA_FEATURES: &[(&str, &str)] = &[
    ("prefers-reduced-motion", "no-preference"),
    ("prefers-color-scheme", "light"),
    ("prefers-contrast", "no-preference"),
    ("prefers-reduced-transparency", "no-preference"),
    ("prefers-reduced-data", "no-preference"),
    ("forced-colors", "none"),
    ("color-gamut", "srgb"),
];

/// The faces the generic families `serif`, `sans-serif` and `monospace` are drawn with: the
/// pinned fonts' own. Chrome asks fontconfig for its default fonts by name (Times New Roman,
/// Arial, Monospace) and keeps only an exact or metric-compatible answer, so without these
/// every generic family fell back to DejaVu Sans. The standard font (text with no
/// `font-family`) is left as it was.
const GENERIC_FONTS: [(&str, &str); 3] = [
    ("serif", "DejaVu Serif"),
    ("sans-serif", "DejaVu Sans"),
    ("monospace", "DejaVu Sans Mono"),
];

/// The pinned generic families.
pub fn font_families() -> SetFontFamiliesParams {
    let [serif, sans, mono] = GENERIC_FONTS.map(|(_, face)| face.to_string());
    SetFontFamiliesParams::new(FontFamilies {
        serif: Some(serif),
        sans_serif: Some(sans),
        fixed: Some(mono),
        ..FontFamilies::default()
    })
}

/// The viewport, the screen and the window are all the composition's frame: a page that
/// centres itself on `screen.width` lands where it lands on every machine.
pub fn device_metrics(width: u32, height: u32) -> SetDeviceMetricsOverrideParams {
    let mut params =
        SetDeviceMetricsOverrideParams::new(i64::from(width), i64::from(height), 1.0, false);
    params.screen_width = Some(i64::from(width));
    params.screen_height = Some(i64::from(height));
    params.position_x = Some(0);
    params.position_y = Some(0);
    params
}

/// The pinned `navigator.hardwareConcurrency`.
pub fn hardware_concurrency() -> SetHardwareConcurrencyOverrideParams {
    SetHardwareConcurrencyOverrideParams::new(HARDWARE_CONCURRENCY)
}

/// The pinned media features.
pub fn media_features() -> SetEmulatedMediaParams {
    MEDIA_FEATURES
        .iter()
        .fold(SetEmulatedMediaParams::builder(), |b, (name, value)| {
            b.feature(MediaFeature::new(*name, *value))
        })
        .build()
}

/// The DevTools pins as text, for the render-settings fingerprint: other pins, other pixels.
pub fn pins() -> String {
    let media: Vec<String> = MEDIA_FEATURES
        .iter()
        .map(|(name, value)| format!("{name}:{value}"))
        .collect();
    let fonts: Vec<String> = GENERIC_FONTS
        .iter()
        .map(|(generic, face)| format!("{generic}:{face}"))
        .collect();
    format!(
        "hardwareConcurrency={HARDWARE_CONCURRENCY} screen=frame position=0,0 dpr=1 media={} fonts={}",
        media.join(","),
        fonts.join(",")
    )
}
