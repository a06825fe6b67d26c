//! `framelock submit k8s`: a Kubernetes Indexed Job that renders a bundle's chunks, one
//! completion index per chunk. framelock writes the manifest for users to apply with their own
//! cluster's tooling; it runs no scheduler of its own.
//!
//! Each pod runs `framelock render-chunk <bundle> --store <store>`: Kubernetes sets
//! `JOB_COMPLETION_INDEX` in every pod of an Indexed Job, and `render-chunk` takes its chunk from
//! it. The bundle and the store come from persistent volume claims the user names.

use serde_json::{Value, json};

use crate::bundle::Bundle;

/// What the manifest needs besides the bundle.
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

/// Where the pods see the bundles and the store.
const BUNDLES_MOUNT: &str = "/bundles";
const STORE_MOUNT: &str = "/store";

/// The Indexed Job for `bundle`, as JSON (which `kubectl apply -f` reads like YAML).
pub fn manifest(bundle: &Bundle, job: &K8sJob) -> Value {
    let hash = bundle.hash().to_string();
    let chunks = bundle.plan.chunk_plan.chunks().len() as u64;
    let name = format!("framelock-{}", &hash[..12]);
    let mut metadata = json!({
        "name": name,
        "labels": {
            "app.kubernetes.io/name": "framelock",
            "framelock/bundle": &hash[..63.min(hash.len())],
        },
    });
    if let Some(namespace) = &job.namespace {
        metadata["namespace"] = json!(namespace);
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
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
                        "command": [
                            "framelock",
                            "render-chunk",
                            format!("{BUNDLES_MOUNT}/{hash}"),
                            "--store",
                            STORE_MOUNT,
                        ],
                        "volumeMounts": [
                            { "name": "bundles", "mountPath": BUNDLES_MOUNT, "readOnly": true },
                            { "name": "store", "mountPath": STORE_MOUNT },
                        ],
                    }],
                    "volumes": [
                        { "name": "bundles", "persistentVolumeClaim": { "claimName": job.bundle_claim, "readOnly": true } },
                        { "name": "store", "persistentVolumeClaim": { "claimName": job.store_claim } },
                    ],
                },
            },
        },
    })
}
