//! `framelock submit k8s`: the manifest is generated and checked here (no cluster runs it): a
//! ConfigMap holding the worker spec and an Indexed Job, one completion per chunk, the index
//! from the environment, the one worker invocation, every mount backed by a volume, and a spec
//! that carries every setting given and that a worker really renders with.

use std::path::Path;

use serde_json::Value;

use crate::bundle::plan;
use crate::harness::{Sandbox, browsers, fixture, stderr};

/// The object of `kind` in a manifest list.
fn object<'a>(manifest: &'a Value, kind: &str) -> &'a Value {
    manifest["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {manifest}"))
}

fn submit_k8s(sandbox: &Sandbox, bundle: &Path, job: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "submit",
        "k8s",
        bundle.to_str().unwrap(),
        "--image",
        "example/framelock:1",
        "--parallelism",
        "8",
        "-o",
        job.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = sandbox.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&std::fs::read_to_string(job).unwrap()).unwrap()
}

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
    let m = submit_k8s(&sandbox, &bundle, &sandbox.path().join("job.json"), &[]);
    assert_eq!(m["apiVersion"], "v1");
    assert_eq!(m["kind"], "List", "kubectl apply -f takes a list");
    let job = object(&m, "Job");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(
        job["metadata"]["name"],
        format!("framelock-{}", &hash[..12])
    );
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 3, "60 frames in chunks of 20");
    assert_eq!(spec["parallelism"], 3, "never more pods than chunks");
    assert_eq!(spec["backoffLimitPerIndex"], 3);
    assert_eq!(
        spec["maxFailedIndexes"], 3,
        "every index gets its own retries"
    );
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
            "/store",
            "--spec",
            "/etc/framelock/worker-spec.json",
        ],
        "the chunk comes from JOB_COMPLETION_INDEX, which Kubernetes sets in each pod"
    );

    // Every path the command names is inside a mount, and every mount is a volume of the pod
    // backed by what it should be: the bundles and the spec read-only, the store writable.
    let volumes: Vec<&Value> = pod["volumes"].as_array().unwrap().iter().collect();
    let volume = |name: &str| {
        *volumes
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no volume {name}"))
    };
    let mounts = container["volumeMounts"].as_array().unwrap();
    assert_eq!(mounts.len(), volumes.len(), "one mount per volume");
    for (path, read_only) in [
        (bundle_in_pod.as_str(), true),
        ("/store", false),
        ("/etc/framelock/worker-spec.json", true),
    ] {
        let mount = mounts
            .iter()
            .find(|m| path.starts_with(m["mountPath"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("{path} is in no mount"));
        assert_eq!(
            mount["readOnly"].as_bool().unwrap_or(false),
            read_only,
            "{path}"
        );
        volume(mount["name"].as_str().unwrap());
    }
    let mount_of = |path: &str| {
        mounts.iter().find(|m| m["mountPath"] == path).unwrap()["name"]
            .as_str()
            .unwrap()
    };
    assert_eq!(
        volume(mount_of("/bundles"))["persistentVolumeClaim"]["claimName"],
        "framelock-bundles"
    );
    assert_eq!(
        volume(mount_of("/store"))["persistentVolumeClaim"]["claimName"],
        "framelock-store"
    );
    let config_map = object(&m, "ConfigMap");
    assert_eq!(
        volume(mount_of("/etc/framelock"))["configMap"]["name"],
        config_map["metadata"]["name"]
    );

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

/// The settings given to `submit k8s` reach the pods: the ConfigMap's spec holds each of them,
/// says them in its annotation, and a worker started with exactly the pod's command renders
/// with them; the same spec edited by hand is refused.
#[test]
fn every_setting_given_to_submit_k8s_reaches_the_worker() {
    let sandbox = Sandbox::new();
    let bundle = sandbox.path().join("bundle");
    plan(
        &sandbox,
        &fixture("css-keyframes"),
        &bundle,
        &["--chunk-size", "20"],
    );
    let m = submit_k8s(
        &sandbox,
        &bundle,
        &sandbox.path().join("job.json"),
        &[
            "--capture",
            "screenshot",
            "--video",
            "native",
            "--frame-timeout",
            "7.5",
            "--chrome-sandbox",
            "auto",
            "--allow-toolchain-mismatch",
        ],
    );
    let config_map = object(&m, "ConfigMap");
    let text = config_map["data"]["worker-spec.json"].as_str().unwrap();
    let spec: Value = serde_json::from_str(text).unwrap();
    assert_eq!(spec["capture"], "screenshot");
    assert_eq!(spec["video_mode"], "native");
    assert_eq!(spec["frame_timeout_seconds"], 7.5);
    assert_eq!(spec["sandbox"], "auto");
    assert_eq!(spec["allow_toolchain_mismatch"], true);
    assert!(
        spec["tools"].as_object().unwrap().is_empty(),
        "the image has its own tools"
    );
    let said = config_map["metadata"]["annotations"]["framelock/worker-spec"]
        .as_str()
        .unwrap();
    for part in [
        "capture screenshot",
        "video native",
        "frame timeout 7.5 s",
        "chrome sandbox auto",
        "toolchain mismatch allowed",
    ] {
        assert!(said.contains(part), "{said}");
    }

    // What a pod runs, run here: chunk 1, from the spec file as mounted.
    let spec_file = sandbox.path().join("worker-spec.json");
    std::fs::write(&spec_file, text).unwrap();
    let store = sandbox.path().join("pod-store");
    let _slots = browsers(1);
    let out = sandbox
        .command(&[
            "render-chunk",
            bundle.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
            "--spec",
            spec_file.to_str().unwrap(),
        ])
        .env("JOB_COMPLETION_INDEX", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["chunk"], 1);
    let record_hash = outcome["record"].as_str().unwrap();
    let record: Value = serde_json::from_slice(
        &std::fs::read(
            store
                .join("blobs/blake3")
                .join(&record_hash[..2])
                .join(record_hash),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        record["capture_mode"], "screenshot",
        "the spec's capture mode"
    );
    assert_eq!(record["range"], serde_json::json!([20, 40]));

    // A spec changed after it was written is refused, naming it.
    std::fs::write(&spec_file, text.replace("7.5", "75.0")).unwrap();
    let out = sandbox.run(&[
        "render-chunk",
        bundle.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--spec",
        spec_file.to_str().unwrap(),
        "--chunk",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("worker-spec.json: not a usable worker spec")
            && stderr(&out).contains("changed after it was written"),
        "{}",
        stderr(&out)
    );
}
