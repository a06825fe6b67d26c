//! `framelock submit k8s`: a Kubernetes Indexed Job that renders a bundle's chunks, one
//! completion index per chunk. framelock writes the manifest for users to apply with their own
//! cluster's tooling; it runs no scheduler of its own.
//!
//! The manifest is a list of two objects: a ConfigMap holding the job's worker spec, and the
//! Job. Each pod runs the worker invocation every executor uses, `framelock render-chunk
//! <bundle> --store <store> --spec <spec>`: Kubernetes sets `JOB_COMPLETION_INDEX` in every pod
//! of an Indexed Job, and `render-chunk` takes its chunk from it. The bundle and the store come
//! from persistent volume claims the user names; the spec is mounted from the ConfigMap.

use camino::Utf8Path;
use serde_json::{Value, json};

use crate::bundle::Bundle;
use crate::distributed::{WorkerSpec, invocation};

/// What the manifest needs besides the bundle and the spec.
#[derive(Debug, Clone)]
pub struct K8sJob {
    /// The container image with framelock and its pinned toolchain.
    pub image: String,
    /// Pods at once.
    pub parallelism: u64,
    /// Retries of one index before it counts as failed.
    pub backoff_per_index: u64,
    /// The claim holding bundle folders, each under its bundle hash.
    pub bundle_claim: String,
    /// The claim holding the shared store.
    pub store_claim: String,
    /// The namespace, when not the current one.
    pub namespace: Option<String>,
}

/// Where the pods see the bundles, the store and the worker spec.
const BUNDLES_MOUNT: &str = "/bundles";
const STORE_MOUNT: &str = "/store";
const SPEC_MOUNT: &str = "/etc/framelock";
/// The spec's file name in the ConfigMap and in its mount.
const SPEC_FILE: &str = "worker-spec.json";

/// The ConfigMap and the Indexed Job for `bundle` rendered as `spec` says, as JSON (which
/// `kubectl apply -f` reads like YAML).
pub fn manifest(bundle: &Bundle, spec: &WorkerSpec, job: &K8sJob) -> Value {
    let hash = bundle.hash().to_string();
    let chunks = bundle.plan.chunk_plan.len() as u64;
    let name = format!("framelock-{}", bundle.hash().short());
    let spec_name = format!("{name}-spec-{}", spec.hash().short());
    let metadata = |name: &str| {
        let mut metadata = json!({
            "name": name,
            "labels": {
                "app.kubernetes.io/name": "framelock",
                // Label values are at most 63 characters (Kubernetes' limit).
                "framelock/bundle": &hash[..63.min(hash.len())],
            },
        });
        if let Some(namespace) = &job.namespace {
            metadata["namespace"] = json!(namespace);
        }
        metadata
    };
    let command = invocation(
        Utf8Path::new("framelock"),
        &Utf8Path::new(BUNDLES_MOUNT).join(&hash),
        Utf8Path::new(STORE_MOUNT),
        &Utf8Path::new(SPEC_MOUNT).join(SPEC_FILE),
        None,
    );
    let mut spec_metadata = metadata(&spec_name);
    // What the spec says, where `kubectl describe` shows it.
    spec_metadata["annotations"] = json!({ "framelock/worker-spec": spec.summary() });
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": spec_metadata,
        "data": { SPEC_FILE: spec.to_file() },
    });
    let indexed_job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(&name),
        "spec": {
            "completionMode": "Indexed",
            "completions": chunks,
            "parallelism": job.parallelism.min(chunks).max(1),
            "backoffLimitPerIndex": job.backoff_per_index,
            // Every index gets its own retries; the job fails only when all have been tried.
            "maxFailedIndexes": chunks,
            "template": {
                "metadata": { "labels": { "app.kubernetes.io/name": "framelock" } },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "render-chunk",
                        "image": job.image,
                        "command": command,
                        "volumeMounts": [
                            { "name": "bundles", "mountPath": BUNDLES_MOUNT, "readOnly": true },
                            { "name": "store", "mountPath": STORE_MOUNT },
                            { "name": "spec", "mountPath": SPEC_MOUNT, "readOnly": true },
                        ],
                    }],
                    "volumes": [
                        { "name": "bundles", "persistentVolumeClaim": { "claimName": job.bundle_claim, "readOnly": true } },
                        { "name": "store", "persistentVolumeClaim": { "claimName": job.store_claim } },
                        { "name": "spec", "configMap": { "name": spec_name } },
                    ],
                },
            },
        },
    });
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [config_map, indexed_job],
    })
}
