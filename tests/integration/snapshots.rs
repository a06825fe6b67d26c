//! What users read when a command fails: the main error messages, each with its exit code and
//! hint, as the built binary prints them. Paths of the test's folders are redacted; everything
//! else is the exact text.

use std::path::Path;

use crate::bundle::plan;
use crate::harness::{Sandbox, fixture, repo};

/// `framelock ARGS` run in `sandbox`: its exit code and stderr, with the sandbox's and the
/// repository's paths redacted.
fn failing(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.run(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let text = String::from_utf8_lossy(&out.stderr)
        .replace(sandbox.path().to_str().unwrap(), "[sandbox]")
        .replace(repo().to_str().unwrap(), "[repo]");
    // Only the last lines are the error: a command may have said what it was doing first.
    let error: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("error:"))
        .collect();
    format!(
        "$ framelock {}\nexit {}\n{}",
        args.iter()
            .map(|a| a
                .replace(sandbox.path().to_str().unwrap(), "[sandbox]")
                .replace(repo().to_str().unwrap(), "[repo]"))
            .collect::<Vec<_>>()
            .join(" "),
        out.status.code().unwrap_or(-1),
        error.join("\n")
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_main_error_messages() {
    let sandbox = Sandbox::new();
    let s = sandbox.path();
    let bad_meta = s.join("bad-meta");
    std::fs::create_dir_all(&bad_meta).unwrap();
    std::fs::write(bad_meta.join("index.html"), "<p>").unwrap();
    std::fs::write(
        bad_meta.join("meta.json"),
        r#"{"renderConfig": {"fps": "fast", "width": 320, "height": 180, "duration": 1}}"#,
    )
    .unwrap();
    let keyframes = fixture("css-keyframes");
    let bundle = s.join("bundle");
    plan(&sandbox, &keyframes, &bundle, &["--chunk-size", "20"]);
    let spec = s.join("spec.json");
    std::fs::write(&spec, "{\"format_version\": 1}").unwrap();
    let tampered = s.join("tampered");
    crate::bundle::copy_dir(&bundle, &tampered);
    std::fs::write(tampered.join("compiled/index.html"), "<p>changed").unwrap();

    let messages = [
        failing(
            &sandbox,
            &["render", path(&s.join("nothing")), "-o", "out.mp4"],
        ),
        failing(&sandbox, &["render", path(&bad_meta), "-o", "out.mp4"]),
        failing(
            &sandbox,
            &["render", path(&keyframes), "-o", path(&s.join("out.webm"))],
        ),
        failing(
            &sandbox,
            &[
                "render",
                path(&keyframes),
                "-o",
                path(&s.join("out.mp4")),
                "--chrome",
                path(&s.join("no-chrome")),
            ],
        ),
        failing(&sandbox, &["regress", "--mode", "distributed"]),
        failing(
            &sandbox,
            &["assemble", path(&bundle), "-o", path(&s.join("out.mp4"))],
        ),
        failing(&sandbox, &["render-chunk", path(&bundle)]),
        failing(&sandbox, &["render-chunk", path(&bundle), "--chunk", "7"]),
        failing(
            &sandbox,
            &[
                "render-chunk",
                path(&bundle),
                "--chunk",
                "0",
                "--spec",
                path(&spec),
            ],
        ),
        failing(&sandbox, &["verify", path(&tampered)]),
        failing(
            &sandbox,
            &["diff-runs", path(&s.join("a.mp4")), path(&s.join("b.mp4"))],
        ),
    ];
    insta::assert_snapshot!(messages.join("\n\n"));
}
