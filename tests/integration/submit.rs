//! Worker specs and `framelock submit k8s`: the manifest is generated and checked here (no
//! cluster runs it): a ConfigMap holding the worker spec and an Indexed Job, one completion per
//! chunk, the index from the environment, the one worker invocation, every mount backed by a
//! volume, and a spec that carries every setting given and that a worker really renders with. A
//! worker refuses a spec of another bundle or another framelock, and a browser given by flag
//! reaches every worker of the local pool.

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
            // Not an exact binary fraction: it must still reach the pods as written.
            "--frame-timeout",
            "1.14",
            "--chrome-sandbox",
            "off",
        ],
    );
    let config_map = object(&m, "ConfigMap");
    let text = config_map["data"]["worker-spec.json"].as_str().unwrap();
    let spec: Value = serde_json::from_str(text).unwrap();
    assert_eq!(spec["capture"], "screenshot");
    assert_eq!(spec["video_mode"], "native");
    assert_eq!(spec["frame_timeout_ms"], 1140);
    assert_eq!(spec["sandbox"], "off");
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
        "frame timeout 1.14 s",
        "chrome sandbox off",
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
    std::fs::write(&spec_file, text.replace("1140", "11400")).unwrap();
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

/// The ContentHash-style tag a worker spec's hash is taken under, and the hash of its fields
/// other than `spec_hash` (the file format the README documents).
fn rehash(fields: &mut serde_json::Map<String, Value>) {
    fields.remove("spec_hash");
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"framelock-worker-spec-v1\0");
    hasher.update(&serde_json::to_vec(&*fields).unwrap());
    fields.insert(
        "spec_hash".into(),
        hasher.finalize().to_hex().to_string().into(),
    );
}

/// A worker refuses a spec written for another bundle, and one whose render settings are not
/// its own (another framelock build submitted the job), before it renders anything.
#[test]
fn a_worker_refuses_a_spec_of_another_bundle_or_another_framelock() {
    let sandbox = Sandbox::new();
    let keyframes = sandbox.path().join("keyframes");
    let svg = sandbox.path().join("svg");
    plan(
        &sandbox,
        &fixture("css-keyframes"),
        &keyframes,
        &["--chunk-size", "20"],
    );
    plan(
        &sandbox,
        &fixture("svg-smil-waapi"),
        &svg,
        &["--chunk-size", "20"],
    );
    let m = submit_k8s(&sandbox, &keyframes, &sandbox.path().join("job.json"), &[]);
    let text = object(&m, "ConfigMap")["data"]["worker-spec.json"]
        .as_str()
        .unwrap()
        .to_string();
    let spec = sandbox.path().join("spec.json");
    std::fs::write(&spec, &text).unwrap();
    let render_chunk = |bundle: &Path, spec: &Path| {
        sandbox.run(&[
            "render-chunk",
            bundle.to_str().unwrap(),
            "--chunk",
            "0",
            "--spec",
            spec.to_str().unwrap(),
        ])
    };

    let out = render_chunk(&svg, &spec);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the worker spec is for bundle")
            && stderr(&out).contains(svg.to_str().unwrap()),
        "{}",
        stderr(&out)
    );

    let mut fields: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    fields.insert("render_settings".into(), "0".repeat(64).into());
    rehash(&mut fields);
    let other = sandbox.path().join("other-framelock.json");
    std::fs::write(&other, serde_json::to_string(&fields).unwrap()).unwrap();
    let out = render_chunk(&keyframes, &other);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("RENDER_SETTINGS_MISMATCH"),
        "{}",
        stderr(&out)
    );
    let out = sandbox.run(&["cache", "ls"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 cached chunk record(s)"),
        "nothing was rendered or stored: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `--chrome` given to a render by workers reaches every worker through its spec: each
/// worker's log says it read the spec and which browser it holds.
#[test]
fn a_browser_given_by_flag_reaches_every_worker_of_the_pool() {
    let sandbox = Sandbox::new();
    let real = framelock::toolchain::locate_chrome(
        framelock::toolchain::ToolChoice::from_env().chrome.as_ref(),
    )
    .unwrap();
    let given = sandbox.path().join("given-chrome");
    std::os::unix::fs::symlink(&real.real, &given).unwrap();
    let output = sandbox.path().join("out.mp4");
    let out = sandbox.run(&[
        "render",
        fixture("css-keyframes").to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--mode",
        "distributed-simulated",
        "--workers",
        "2",
        "--chunk-size",
        "30",
        "--chrome",
        given.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = std::fs::read_dir(sandbox.store().join("logs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut read = 0;
    for log in std::fs::read_dir(&logs).unwrap() {
        let text = std::fs::read_to_string(log.unwrap().path()).unwrap();
        assert!(
            text.contains("worker spec") && text.contains(&format!("chrome {}", given.display())),
            "{text}"
        );
        read += 1;
    }
    assert_eq!(read, 2, "a log per chunk");
}
