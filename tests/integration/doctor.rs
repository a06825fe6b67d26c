//! `framelock doctor`: proves the toolchain works, and names the install command when it does
//! not.

use crate::harness::{Sandbox, stderr};

#[test]
fn doctor_reports_software_gpu_and_fingerprints() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["doctor", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["gpu"].as_str().unwrap().contains("SwiftShader"),
        "{report}"
    );
    for key in ["toolchain_fingerprint", "render_settings_fingerprint"] {
        let hash = report[key].as_str().unwrap();
        assert_eq!(hash.len(), 64, "{key}: {hash}");
    }
    assert!(report["toolchain_files"].as_u64().unwrap() > 5, "{report}");
    assert!(!report["fonts"].as_array().unwrap().is_empty());
    let binary = report["chrome_binary"].as_str().unwrap();
    let head = std::fs::read(binary).unwrap();
    assert_eq!(
        &head[..4],
        b"\x7fELF",
        "{binary} is not the real browser binary"
    );
}

/// A run inside the pinned toolchain (the Nix flake's wrapper sets FRAMELOCK_PINNED_TOOLCHAIN)
/// says so in doctor and in every render's frames.json; a run on a machine's own packages says
/// that too.
#[test]
fn the_pinned_toolchain_is_reported_and_recorded() {
    let sandbox = Sandbox::new();
    let pin = "nix flake, nixpkgs 0123456789abcdef0123456789abcdef01234567";
    let doctor = |pinned: Option<&str>| {
        let mut cmd = sandbox.command(&["doctor", "--json"]);
        match pinned {
            Some(p) => cmd.env(framelock::toolchain::PINNED_TOOLCHAIN_ENV, p),
            None => cmd.env_remove(framelock::toolchain::PINNED_TOOLCHAIN_ENV),
        };
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(doctor(Some(pin))["pinned_toolchain"], pin);
    assert_eq!(doctor(None)["pinned_toolchain"], serde_json::Value::Null);
    let out = sandbox
        .command(&["doctor"])
        .env_remove(framelock::toolchain::PINNED_TOOLCHAIN_ENV)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not the Nix flake's pinned toolchain"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let output = sandbox.path().join("pinned.mp4");
    let out = sandbox
        .command(&[
            "render",
            crate::harness::fixture("css-keyframes").to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
            "--frame-count",
            "3",
        ])
        .env(framelock::toolchain::PINNED_TOOLCHAIN_ENV, pin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("pinned.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["fingerprints"]["pinned_toolchain"], pin);
}

/// With no browser (or no ffmpeg) to be found, doctor and render exit 3 and print the command
/// that installs it.
#[test]
fn a_missing_tool_exits_3_with_the_install_command() {
    let sandbox = Sandbox::new();
    let bin = sandbox.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let run = |args: &[&str], path: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_framelock"))
            .args(args)
            .env("PATH", path)
            .env_remove("FRAMELOCK_CHROME")
            .env_remove("FRAMELOCK_FFMPEG")
            .output()
            .unwrap()
    };
    let out = run(&["doctor"], &bin);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("chrome-headless-shell not found"), "{err}");
    assert!(
        err.contains("apt-get install -y chromium-headless-shell"),
        "{err}"
    );

    let chrome = framelock::toolchain::locate_chrome(
        framelock::toolchain::ToolChoice::from_env().chrome.as_ref(),
    )
    .unwrap();
    std::os::unix::fs::symlink(&chrome.given, bin.join("chromium-headless-shell")).unwrap();
    let composition = crate::harness::fixture("css-keyframes");
    let output = sandbox.path().join("out.mp4");
    let out = run(
        &[
            "render",
            composition.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ],
        &bin,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("ffmpeg not found") && err.contains("apt-get install"),
        "{err}"
    );
    assert!(!output.exists());
}

/// A tool path given by a flag or a variable that does not work names the tool and where the
/// path came from.
#[test]
fn a_bad_tool_path_names_the_tool_and_its_source() {
    let sandbox = Sandbox::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_framelock"))
        .args(["doctor"])
        .env("FRAMELOCK_FFMPEG", "/nonexistent/ffmpeg")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("ffmpeg given by $FRAMELOCK_FFMPEG"), "{err}");
    assert!(err.contains("/nonexistent/ffmpeg: no such file"), "{err}");

    let not_executable = sandbox.path().join("chrome");
    std::fs::write(&not_executable, "plain text").unwrap();
    let out = sandbox.run(&["doctor", "--chrome", not_executable.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("given by --chrome") && err.contains("not an executable"),
        "{err}"
    );
}
