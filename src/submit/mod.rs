//! `framelock submit`: handing a bundle's chunks to a cluster scheduler users already run. Each
//! chunk is one array task or completion index running the worker invocation every executor
//! uses (`distributed::invocation`), which takes its chunk from the scheduler's index variable
//! and how to render from the job's worker spec.

mod k8s;
mod slurm;

pub use k8s::{K8sJob, manifest as k8s_manifest};
pub use slurm::{
    SlurmError, SlurmJob, Submitted, log_dir as slurm_log_dir, script as slurm_script,
    submit as slurm_submit, submit_and_assemble,
};
