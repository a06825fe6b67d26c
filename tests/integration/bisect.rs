//! Comparing two renders: `diff-runs` names the first divergent frame and chunk, the drift, and
//! pictures the worst frame.

use crate::harness::{Sandbox, fixture, stderr};

/// An accumulating canvas rendered in process and by workers: the runs agree on chunk 0 and
/// differ from chunk 1's first frame, named chunk-boundary; a render against itself is equal.
#[test]
fn diff_runs_names_the_first_divergent_frame_and_the_drift() {
    let sandbox = Sandbox::new();
    let composition = fixture("accumulating-canvas");
    sandbox.render_ok(&composition, "in-process", &[]);
    sandbox.render_ok(
        &composition,
        "workers",
        &["--mode", "distributed-simulated", "--workers", "2"],
    );
    let video = |name: &str| sandbox.path().join(format!("{name}.mp4"));
    let pictures = sandbox.path().join("pictures");
    let out = sandbox.run(&[
        "diff-runs",
        video("in-process").to_str().unwrap(),
        video("workers").to_str().unwrap(),
        "--out",
        pictures.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("the first at frame 16 (chunk 1)"), "{text}");
    assert!(
        text.contains("drift: chunk-boundary from frame 16"),
        "{text}"
    );
    let pngs = std::fs::read_dir(&pictures).unwrap().count();
    assert_eq!(pngs, 3, "a, b and the heat map of the worst frame");

    let out = sandbox.run(&[
        "diff-runs",
        video("in-process").to_str().unwrap(),
        video("in-process").to_str().unwrap(),
        "--out",
        pictures.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("all 48 frames are equal"));

    let out = sandbox.run(&[
        "diff-runs",
        video("in-process").to_str().unwrap(),
        sandbox.path().join("none.mp4").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("give a video framelock rendered"),
        "{}",
        stderr(&out)
    );
}
