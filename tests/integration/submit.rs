//! `framelock submit k8s`: the Indexed Job manifest is generated and checked for structure here
//! (no cluster runs it): one completion per chunk, the index from the environment, the command
//! and the volumes.

use serde_json::Value;

use crate::bundle::plan;
use crate::harness::{Sandbox, fixture, stderr};

#[test]
fn the_k8s_manifest_is_an_indexed_job_with_a_completion_per_chunk() {
    let sandbox = Sandbox::new();
    let bundle = sandbox.path().join("bundle");
    let hash = plan(
        &sandbox,
        &fixture("css-keyframes"),
        &bundle,
        &["--chunk-size", "20"],
    );
    let job = sandbox.path().join("job.json");
    let out = sandbox.run(&[
        "submit",
        "k8s",
        bundle.to_str().unwrap(),
        "--image",
        "example/framelock:1",
        "--parallelism",
        "8",
        "-o",
        job.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&job).unwrap()).unwrap();
    assert_eq!(m["apiVersion"], "batch/v1");
    assert_eq!(m["kind"], "Job");
    assert_eq!(m["metadata"]["name"], format!("framelock-{}", &hash[..12]));
    let spec = &m["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 3, "60 frames in chunks of 20");
    assert_eq!(spec["parallelism"], 3, "never more pods than chunks");
    assert_eq!(spec["backoffLimitPerIndex"], 3);
    let pod = &spec["template"]["spec"];
    // Per-index retries need pods that are never restarted in place.
    assert_eq!(pod["restartPolicy"], "Never");
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "example/framelock:1");
    let command: Vec<&str> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let bundle_in_pod = format!("/bundles/{hash}");
    assert_eq!(
        command,
        [
            "framelock",
            "render-chunk",
            bundle_in_pod.as_str(),
            "--store",
            "/store"
        ],
        "the chunk comes from JOB_COMPLETION_INDEX, which Kubernetes sets in each pod"
    );
    let claims: Vec<&str> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["persistentVolumeClaim"]["claimName"].as_str().unwrap())
        .collect();
    assert_eq!(claims, ["framelock-bundles", "framelock-store"]);

    // Not a bundle: exit 2 naming it, and no manifest.
    let missing = sandbox.path().join("nothing");
    let out = sandbox.run(&[
        "submit",
        "k8s",
        missing.to_str().unwrap(),
        "--image",
        "i",
        "-o",
        sandbox.path().join("none.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!sandbox.path().join("none.json").exists());
}
