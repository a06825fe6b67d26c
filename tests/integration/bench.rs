//! `framelock bench --quick` (CI's smoke test of the bench): it produces its report, with every
//! section and the targets. No figure is asserted: these machines are noisy.

use serde_json::Value;

use crate::harness::{Sandbox, repo, stderr};

#[test]
fn a_quick_bench_writes_its_json_and_markdown_reports() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("bench");
    let fixtures = repo().join("fixtures");
    let heavy = repo().join("bench/heavy-orbit-long");
    let run = sandbox.run(&[
        "bench",
        "--quick",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--heavy",
        heavy.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(report["format_version"], 1);
    let paths: Vec<(&str, &str)> = report["capture"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["size"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    for size in ["320x180", "1280x720"] {
        for path in [
            "raw loop, png",
            "framelock in-process, beginframe",
            "framelock in-process, screenshot",
            "framelock seek + BeginFrame only, picture dropped",
        ] {
            assert!(paths.contains(&(size, path)), "{size} {path}: {paths:?}");
        }
    }
    for row in report["capture"].as_array().unwrap() {
        assert!(row["frames_per_second"].as_f64().unwrap() > 0.0, "{row}");
    }
    assert_eq!(report["scaling"].as_array().unwrap().len(), 3);
    assert!(report["scaling"][2]["peak_worker_mib"].as_f64().unwrap() > 0.0);
    assert_eq!(report["compare"].as_array().unwrap().len(), 2);
    assert!(report["cache"]["second_seconds"].as_f64().unwrap() > 0.0);
    // The fixture passes, so the second regress reuses it whole; the third, with the results
    // set aside, works from the chunks.
    assert_eq!(report["cache"]["not_reused"], serde_json::json!([]));
    assert!(report["cache"]["chunks_only_seconds"].as_f64().unwrap() > 0.0);
    let heavy = report["heavy"].as_array().unwrap();
    assert_eq!(heavy.len(), 2, "{heavy:?}");
    assert!(heavy.iter().all(|r| r["seconds"].as_f64().unwrap() > 0.0));
    assert!(!report["targets"].as_array().unwrap().is_empty());
    let markdown = std::fs::read_to_string(out.join("BENCHMARKS.md")).unwrap();
    for section in [
        "## Capture throughput",
        "## Where framelock's time goes",
        "## Workers",
        "## Hashing and bundles",
        "## Compare",
        "## Cache",
        "## Heavy 1080p pages",
        "## Targets",
    ] {
        assert!(markdown.contains(section), "{section}");
    }
    assert!(
        markdown.contains("`framelock bench --quick"),
        "the command that made it"
    );
}
