//! HyperFrames fixtures against their golden videos: another renderer's picture passes by PSNR
//! at HyperFrames' 100 checkpoints with no baseline of ours, a changed picture fails with the
//! checkpoints it fails at and a picture of the worst, and renderConfig keys framelock does not
//! render skip the fixture with the reason.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::bundle::copy_dir;
use crate::harness::{Sandbox, fixture, stderr};

/// A HyperFrames-layout copy of css-keyframes (meta.json beside src/, one second long) with
/// `meta` merged over its meta.json; returns the fixture's folder.
fn hf_fixture(suite: &Path, name: &str, meta: Value) -> PathBuf {
    let dir = suite.join(name);
    copy_dir(&fixture("css-keyframes"), &dir.join("src"));
    let text = std::fs::read_to_string(dir.join("src/meta.json")).unwrap();
    std::fs::remove_file(dir.join("src/meta.json")).unwrap();
    let mut merged: Value = serde_json::from_str(&text).unwrap();
    merged["renderConfig"]["duration"] = 1.into();
    for (key, value) in meta.as_object().unwrap() {
        merged[key] = value.clone();
    }
    std::fs::write(dir.join("meta.json"), merged.to_string()).unwrap();
    dir
}

/// Renders `page` with framelock and re-encodes it as another renderer would (a different
/// quality), into `golden`.
fn golden_from(sandbox: &Sandbox, page: &Path, golden: &Path, crf: &str) {
    let out = sandbox.render(page, "golden-source", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
    let source = sandbox.path().join("golden-source.mp4");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&source)
        .args(["-c:v", "libx264", "-crf", crf, "-pix_fmt", "yuv420p"])
        .arg(golden)
        .status()
        .unwrap();
    assert!(made.success());
}

/// `framelock regress` over `suite`, uncached, with the sandbox's (empty) baselines.
fn regress(sandbox: &Sandbox, suite: &Path, extra: &[&str]) -> (i32, String, Value) {
    let baselines = sandbox.path().join("baselines");
    let mut args = vec!["--no-cache"];
    args.extend_from_slice(extra);
    crate::regress::regress(sandbox, suite, &baselines, &args)
}

#[test]
fn a_golden_from_another_encoder_passes_by_checkpoint_psnr_and_a_changed_one_fails() {
    let sandbox = Sandbox::new();
    let suite = sandbox.path().join("suite");
    let thresholds = json!({"minPsnr": 30, "maxFrameFailures": 0,
        "minAudioCorrelation": 0.9, "maxAudioLagWindows": 1});
    let kf = hf_fixture(&suite, "kf", thresholds);
    let golden = kf.join("output/output.mp4");
    golden_from(&sandbox, &kf, &golden, "28");

    // No baseline of ours: the golden is what it is held against.
    let (code, text, report) = regress(&sandbox, &suite, &[]);
    assert_eq!(code, 0, "{text}");
    let result = &report["fixtures"][0];
    assert_eq!(result["status"], "passed", "{report:#}");
    let compared = &result["golden"];
    let checkpoints = compared["checkpoints"].as_array().unwrap();
    assert_eq!(checkpoints.len(), 100);
    assert_eq!(checkpoints[0]["frame"], 0);
    assert_eq!(
        checkpoints[99]["frame"], 29,
        "(30 - 1) · 99/100 rounds to 29"
    );
    let mean = compared["mean_psnr"].as_f64().unwrap();
    assert!(mean > 30.0 && mean < 100.0, "re-encoded, not equal: {mean}");
    assert_eq!(compared["failed_checkpoints"], 0);
    assert!(text.contains("golden output.mp4: mean"), "{text}");

    // The same golden under a bar it cannot clear: every checkpoint fails, the worst is
    // pictured beside the render.
    let strict = hf_fixture(
        &suite,
        "strict",
        json!({"minPsnr": 99, "maxFrameFailures": 3}),
    );
    std::fs::create_dir_all(strict.join("output")).unwrap();
    std::fs::copy(&golden, strict.join("output/output.mp4")).unwrap();
    let (code, text, report) = regress(&sandbox, &suite, &["--fixture", "strict"]);
    assert_eq!(code, 1, "{text}");
    let result = &report["fixtures"][0];
    let reason = result["reason"].as_str().unwrap();
    assert!(
        reason.contains(
            "PSNR against golden output.mp4: 100 of 100 checkpoints below 99 dB (allowed 3)"
        ),
        "{reason}"
    );
    assert_eq!(result["images"][0]["what"], "golden", "{result:#}");
    assert_eq!(result["images"][0]["reference_label"], "golden");

    // A golden whose progress bar is red fails at the checkpoints where the bar shows, not at
    // frame 0, where it has no width yet.
    let changed = hf_fixture(&suite, "changed", json!({"minPsnr": 38}));
    let page = changed.join("src/index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let edited = html.replacen(
        "</style>",
        ".bar { background: #e33 !important; }</style>",
        1,
    );
    assert_ne!(html, edited, "the page has a style sheet to edit");
    let other = sandbox.path().join("other");
    copy_dir(&changed, &other);
    std::fs::write(other.join("src/index.html"), &edited).unwrap();
    golden_from(&sandbox, &other, &changed.join("output/output.mp4"), "18");
    let (code, text, report) = regress(&sandbox, &suite, &["--fixture", "changed"]);
    assert_eq!(code, 1, "{text}");
    let compared = &report["fixtures"][0]["golden"];
    assert!(
        compared["failed_checkpoints"].as_u64().unwrap() > 50,
        "{compared:#}"
    );
    assert!(
        compared["checkpoints"][0]["psnr"].as_f64().unwrap() >= 38.0,
        "{compared:#}"
    );
}

#[test]
fn render_config_keys_framelock_does_not_render_skip_the_fixture_with_the_reason() {
    let sandbox = Sandbox::new();
    let suite = sandbox.path().join("suite");
    for (name, config) in [
        ("mov", json!({"fps": 30, "format": "mov"})),
        ("frames", json!({"fps": 30, "format": "png-sequence"})),
        ("hevc", json!({"fps": 30, "codec": "h265"})),
        ("hdr", json!({"fps": 30, "hdr": true})),
    ] {
        hf_fixture(&suite, name, json!({ "renderConfig": config }));
    }
    let (code, text, report) = regress(&sandbox, &suite, &[]);
    assert_eq!(code, 0, "skipped is not failed: {text}");
    let reasons: Vec<(String, String)> = report["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["status"], "skipped", "{f:#}");
            (
                f["name"].as_str().unwrap().to_string(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let said = |name: &str, words: &str| {
        let (_, reason) = reasons.iter().find(|(n, _)| n == name).unwrap();
        assert!(reason.contains(words), "{name}: {reason}");
    };
    said("mov", "renderConfig.format \"mov\"");
    said("frames", "byte for byte");
    said("hevc", "renderConfig.codec \"h265\"");
    said("hdr", "renderConfig.hdr");
}

/// Without a golden and without a baseline, a HyperFrames fixture says how to get either.
#[test]
fn a_hyperframes_fixture_without_golden_or_baseline_says_how_to_get_one() {
    let sandbox = Sandbox::new();
    let suite = sandbox.path().join("suite");
    hf_fixture(&suite, "bare", json!({"minPsnr": 30}));
    let (code, text, report) = regress(&sandbox, &suite, &[]);
    assert_eq!(code, 1, "{text}");
    let reason = report["fixtures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("no golden") && reason.contains("output/output.mp4"),
        "{reason}"
    );
    assert!(reason.contains("scripts/hf-oracle.sh"), "{reason}");
}

/// The corpus's goldens are HyperFrames' own renders: a 1080p page with text in generic
/// families matches its golden only with HyperFrames' compile step; rendered as written, it
/// falls below 40 dB, so the corpus tells the two apart.
#[test]
fn the_compile_step_is_what_matches_hyperframes_own_render() {
    let sandbox = Sandbox::new();
    let corpus = crate::harness::repo().join("corpus/hyperframes");
    let mean = |extra: &[&str]| {
        let mut args = vec!["--fixture", "generic-title"];
        args.extend_from_slice(extra);
        let (code, text, report) = regress(&sandbox, &corpus, &args);
        let golden = &report["fixtures"][0]["golden"];
        (code, text, golden["mean_psnr"].as_f64().unwrap_or(0.0))
    };
    let (code, text, compiled) = mean(&[]);
    assert_eq!(code, 0, "{text}");
    assert!(compiled >= 45.0, "{compiled} dB: {text}");
    let (code, text, as_written) = mean(&["--as-written"]);
    assert_eq!(code, 1, "{text}");
    assert!(as_written < 40.0, "{as_written} dB as written: {text}");
}
