//! The page environment: what a page reads of the machine does not depend on the machine.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::bundle::copy_dir;
use crate::harness::{Sandbox, browsers, fixture, hashes, stderr};

/// Renders the sandbox's copy of `page-environment` with `program` (framelock, or a command
/// that runs it on one CPU, as another user, …) and extra environment variables; the frames
/// record.
fn render_as(
    sandbox: &Sandbox,
    name: &str,
    program: &[&str],
    vars: &[(&str, &str)],
    extra: &[&str],
) -> Value {
    let out = sandbox.path().join(format!("{name}.mp4"));
    let comp = sandbox.path().join("page-environment");
    let mut args = vec![
        "render",
        comp.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.push("--no-cache");
    args.extend_from_slice(extra);
    let base = sandbox.command(&args);
    let mut cmd = Command::new(program[0]);
    cmd.args(&program[1..]).args(base.get_args());
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.envs(vars.iter().copied());
    let _slots = browsers(1);
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{name}: {}", stderr(&output));
    let record = std::fs::read_to_string(format!("{}.frames.json", out.display())).unwrap();
    serde_json::from_str(&record).unwrap()
}

/// One CPU instead of all, another time zone and locale, and (when the tests run as root) an
/// unprivileged user with Chrome's sandbox on: the page draws its navigator, Intl, screen,
/// media-query, network, battery and storage answers, and every frame stays the same.
#[test]
fn the_machine_does_not_reach_the_page() {
    let sandbox = Sandbox::new();
    copy_dir(
        &fixture("page-environment"),
        &sandbox.path().join("page-environment"),
    );
    // A copy every user can run, wherever the checkout lives.
    let framelock = sandbox.path().join("framelock");
    std::fs::copy(env!("CARGO_BIN_EXE_framelock"), &framelock).unwrap();
    let framelock = framelock.to_str().unwrap();
    let reference = hashes(&render_as(&sandbox, "reference", &[framelock], &[], &[]));
    let host = [
        ("TZ", "Asia/Kathmandu"),
        ("LANG", "ja_JP.UTF-8"),
        ("LC_ALL", "ja_JP.UTF-8"),
        ("LANGUAGE", "ja"),
    ];
    let one_cpu = render_as(
        &sandbox,
        "one-cpu",
        &["taskset", "-c", "0", framelock],
        &host,
        &[],
    );
    assert_eq!(
        reference,
        hashes(&one_cpu),
        "one CPU, Asia/Kathmandu, ja_JP"
    );
    if is_root() {
        // nobody: no account to create, nothing written outside the sandbox.
        make_writable_by_all(sandbox.path());
        let nobody = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            framelock,
        ];
        let sandbox_on = ["--chrome-sandbox", "on"];
        let unprivileged = render_as(&sandbox, "nobody", &nobody, &[], &sandbox_on);
        assert_eq!(
            reference,
            hashes(&unprivileged),
            "an unprivileged user, Chrome's sandbox on"
        );
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn make_writable_by_all(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walk(dir) {
        let mode = std::fs::metadata(&entry).unwrap().permissions().mode();
        let mode = if entry.is_dir() || mode & 0o100 != 0 {
            0o777
        } else {
            0o666
        };
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            all.extend(walk(&path));
        } else {
            all.push(path);
        }
    }
    all
}
