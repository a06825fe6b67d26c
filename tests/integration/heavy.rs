//! Heavy 1080p fixtures: a worker that starts mid-way draws the frames of a continuous render,
//! and a worker that walks to its first frame without drawing is caught and named.

use serde_json::Value;

use crate::bundle::copy_dir;
use crate::harness::{Sandbox, fixture, hashes, repo, stderr};

/// In process, then by two workers in chunks of 10: every frame hash and the encoded bytes
/// agree, on pages whose text layers the compositor keeps (`will-change: transform` tags that
/// appear mid-way, a growing bar chart, strokes drawing themselves).
#[test]
fn workers_starting_mid_way_draw_the_frames_of_a_continuous_render() {
    let sandbox = Sandbox::new();
    for name in ["heavy-layers", "heavy-dashboard"] {
        let comp = fixture(name);
        let plan = ["--chunk-size", "10"];
        let continuous = sandbox.render_ok(&comp, &format!("{name}-in-process"), &plan);
        let mut args = vec!["--mode", "distributed-simulated", "--workers", "2"];
        args.extend_from_slice(&plan);
        let workers = sandbox.render_ok(&comp, &format!("{name}-workers"), &args);
        assert_eq!(workers["execution"], "worker");
        let (a, b) = (hashes(&continuous), hashes(&workers));
        let differing: Vec<usize> = (0..a.len()).filter(|&i| a.get(i) != b.get(i)).collect();
        assert!(differing.is_empty(), "{name}: frames {differing:?} differ");
        let bytes = |n: &str| std::fs::read(sandbox.path().join(format!("{name}-{n}.mp4")));
        assert!(
            bytes("in-process").unwrap() == bytes("workers").unwrap(),
            "{name}: bytes differ"
        );
    }
}

/// A worker that walks to its chunk without drawing (the warm-up framelock had before) leaves
/// the `will-change` tags to be rastered at another sub-pixel offset: named chunk-boundary for
/// that chunk, with pictures of worker against in-process that show the difference and name
/// the tags.
#[test]
fn a_worker_that_walks_without_drawing_is_named_chunk_boundary() {
    let sandbox = Sandbox::new();
    let fixtures = sandbox.path().join("fixtures");
    copy_dir(&fixture("heavy-layers"), &fixtures.join("heavy-layers"));
    let report = sandbox.path().join("report");
    let out = sandbox.run(&[
        "regress",
        "--mode",
        "distributed-simulated",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--baselines",
        repo().join("baselines").to_str().unwrap(),
        "--report-dir",
        report.to_str().unwrap(),
        "--inject",
        "cold-walk:2",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    let fixture = &report["fixtures"][0];
    let findings = fixture["findings"].as_array().unwrap();
    let chunk_findings: Vec<&Value> = findings.iter().filter(|f| !f["chunk"].is_null()).collect();
    assert_eq!(chunk_findings.len(), 1, "{findings:#?}");
    let finding = chunk_findings[0];
    assert_eq!(finding["kind"], "chunk-boundary", "{finding:#?}");
    assert_eq!(finding["chunk"], 2);
    // Chunk 2 of chunks of 14 starts at frame 28.
    let first = finding["first_frame"].as_u64().unwrap();
    assert!((28..42).contains(&first), "{finding:#?}");
    let images = fixture["images"].as_array().unwrap();
    let picture = images
        .iter()
        .find(|i| i["what"] == "chunk-boundary")
        .unwrap_or_else(|| panic!("no picture of the finding: {images:#?}"));
    assert_eq!(picture["candidate_label"], "worker", "{picture:#?}");
    assert!(
        picture["largest_difference"].as_u64().unwrap() > 0,
        "{picture:#?}"
    );
    // The drift lies in the `will-change` tags: the picture names them, read from the page.
    let selectors: Vec<&str> = picture["elements"]
        .as_array()
        .unwrap_or_else(|| panic!("no elements: {picture:#?}"))
        .iter()
        .map(|e| e["selector"].as_str().unwrap())
        .collect();
    assert!(
        selectors.iter().any(|s| s.starts_with("#tag-")),
        "{picture:#?}"
    );
    let html = std::fs::read_to_string(sandbox.path().join("report/report.html")).unwrap();
    assert!(
        html.contains("Elements covering the difference") && html.contains("#tag-"),
        "the report shows them"
    );
}
