//! Comparing two renders: `diff-runs` names the first divergent frame and chunk, the drift, the
//! elements behind it, and pictures the worst frame.

use std::path::Path;
use std::process::Command;

use crate::harness::{Sandbox, fixture, stderr};

/// An accumulating canvas rendered in process and by workers: the runs agree on chunk 0 and
/// differ from chunk 1's first frame, named chunk-boundary, on the canvas; a render against
/// itself is equal.
#[test]
fn diff_runs_names_the_first_divergent_frame_and_the_drift() {
    let sandbox = Sandbox::new();
    let composition = fixture("accumulating-canvas");
    sandbox.render_ok(&composition, "in-process", &[]);
    sandbox.render_ok(
        &composition,
        "workers",
        &["--mode", "distributed-simulated", "--workers", "2"],
    );
    let video = |name: &str| sandbox.path().join(format!("{name}.mp4"));
    let pictures = sandbox.path().join("pictures");
    // diff-runs of two renders, with more options: its exit code and what it printed.
    let diff_runs = |a: &str, b: &str, more: &[&str]| {
        let (a, b) = (video(a), video(b));
        let mut args = vec![
            "diff-runs",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            pictures.to_str().unwrap(),
        ];
        args.extend_from_slice(more);
        let out = sandbox.run(&args);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        (out.status.code(), format!("{text}{}", stderr(&out)))
    };
    let (code, text) = diff_runs("in-process", "workers", &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("the first at frame 16 (chunk 1)"), "{text}");
    assert!(
        text.contains("drift: chunk-boundary from frame 16"),
        "{text}"
    );
    let pngs = std::fs::read_dir(&pictures).unwrap().count();
    assert_eq!(pngs, 3, "a, b and the heat map of the worst frame");
    // The dots are drawn on the page's one canvas, read from A's bundle kept in the store.
    assert!(text.contains("\nelements: #c 100%\n"), "{text}");

    // A store that does not keep A's bundle: the elements are unavailable, and it says why.
    let empty = sandbox.path().join("empty-store");
    let (code, text) = diff_runs(
        "in-process",
        "workers",
        &["--store", empty.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("elements: unavailable (bundle ")
            && text.contains(&format!("is not kept in the store {}", empty.display())),
        "{text}"
    );

    let (code, text) = diff_runs("in-process", "in-process", &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("all 48 frames are equal"), "{text}");

    let out = sandbox.run(&[
        "diff-runs",
        video("in-process").to_str().unwrap(),
        sandbox.path().join("none.mp4").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("give a video framelock rendered"),
        "{}",
        stderr(&out)
    );
}

/// A canvas page drawing one square per frame in `color`. Stateless, it clears the canvas and
/// places the square by the frame index; `accumulate` makes it keep what it drew and place the
/// square by its own counter, which a worker starting mid-way cannot know (chunk-boundary).
fn dots_page(color: &str, accumulate: bool) -> String {
    format!(
        r##"<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>html, body {{ margin: 0; background: #000; width: 160px; height: 90px; overflow: hidden; }}</style>
</head><body><canvas id="c" width="160" height="90"></canvas><script>
const ctx = document.getElementById("c").getContext("2d");
const accumulate = {accumulate};
let drawn = 0;
function draw(ts) {{
  const frame = Math.round(ts / 1000 * 12);
  if (!accumulate) {{ ctx.fillStyle = "#000"; ctx.fillRect(0, 0, 160, 90); }}
  const n = accumulate ? drawn : frame;
  ctx.fillStyle = "{color}";
  ctx.fillRect(4 + (n * 6) % 150, 10 + Math.floor(n * 6 / 150) * 8, 5, 5);
  for (let k = 0; k < 8; k++) {{
    ctx.fillStyle = (frame >> k) & 1 ? "#fff" : "#222";
    ctx.fillRect(4 * k, 0, 4, 4);
  }}
  drawn += 1;
  requestAnimationFrame(draw);
}}
requestAnimationFrame(draw);
</script></body></html>
"##
    )
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("/usr/bin/git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Ten commits of a `dots` fixture (160×90, 12 fps, 2 s, chunks of 8). Four distinct bundles:
/// red (commits 0-1), blue (2-4), blue accumulating (5-6: the drift), green accumulating
/// (7-9); the other commits touch only files outside the bundle. Returns the commit ids.
fn dots_history(repo: &Path) -> Vec<String> {
    std::fs::create_dir_all(repo.join("fixtures/dots")).unwrap();
    git(repo, &["init", "-q"]);
    git(repo, &["config", "user.email", "test@example.invalid"]);
    git(repo, &["config", "user.name", "test"]);
    std::fs::write(
        repo.join("fixtures/dots/meta.json"),
        r#"{"renderConfig": {"fps": 12, "width": 160, "height": 90, "duration": 2, "chunkSize": 8}}"#,
    )
    .unwrap();
    let page = |color: &str, accumulate: bool| {
        std::fs::write(
            repo.join("fixtures/dots/index.html"),
            dots_page(color, accumulate),
        )
        .unwrap()
    };
    let note = |file: &str, line: &str| {
        let path = repo.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(line);
        text.push('\n');
        std::fs::write(path, text).unwrap();
    };
    enum Change {
        Page(&'static str, bool),
        Note(&'static str, &'static str),
    }
    use Change::{Note, Page};
    let steps = [
        ("add the dots fixture", Page("red", false)),
        ("README: usage", Note("README.md", "usage")),
        ("dots: blue", Page("blue", false)),
        ("notes outside the fixtures", Note("notes.txt", "n")),
        ("README: more", Note("README.md", "more")),
        ("dots: keep what was drawn", Page("blue", true)),
        ("README: x", Note("README.md", "x")),
        ("dots: green", Page("green", true)),
        ("README: y", Note("README.md", "y")),
        ("README: z", Note("README.md", "z")),
    ];
    steps
        .iter()
        .map(|(subject, change)| {
            match change {
                Page(color, accumulate) => page(color, *accumulate),
                Note(file, line) => note(file, line),
            }
            git(repo, &["add", "-A"]);
            git(repo, &["commit", "-q", "-m", subject]);
            git(repo, &["rev-parse", "HEAD"])
        })
        .collect()
}

/// `bisect` names the drift commit and the finding, renders no bundle twice, reuses a verdict
/// by bundle hash, diffs the bundle against its parent's, and leaves the checkout alone; run
/// again with a corrupted verdict, it reports the verdict and judges afresh. `git bisect run
/// framelock bisect-step` ends on the same commit; `diff` opens kept bundles by hash.
#[test]
fn bisect_finds_the_drift_commit_reusing_verdicts_by_bundle_hash() {
    let sandbox = Sandbox::new();
    let repo = sandbox.path().join("repo");
    let commits = dots_history(&repo);
    let out_dir = sandbox.path().join("bisect");
    let bisect = |extra: &[&str]| {
        let mut args = vec![
            "bisect",
            "--repo",
            repo.to_str().unwrap(),
            "--good",
            &commits[0],
            "--bad",
            &commits[9],
            "--workers",
            "2",
            "--out",
            out_dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = sandbox.run(&args);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        (out.status.code(), text, stderr(&out))
    };
    let (code, text, log) = bisect(&[]);
    assert_eq!(code, Some(0), "{text}{log}");
    assert!(
        text.contains(&format!(
            "first bad commit: {} dots: keep what was drawn",
            commits[5]
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("last good commit: {} README: more", commits[4])),
        "{text}"
    );
    assert!(
        text.contains("finding: dots: chunk-boundary (chunk 1, frame 8)"),
        "{text}"
    );
    // Four distinct bundles on the path: never more renders than that, and at least one step
    // answered from a verdict stored under its bundle hash.
    let figures = |text: &str| -> (usize, usize) {
        let line = text
            .lines()
            .find(|l| l.contains("commits from good to bad judged"))
            .unwrap();
        let number = |before: &str| -> usize {
            let head = &line[..line.find(before).unwrap()];
            head.rsplit(' ').nth(1).unwrap().parse().unwrap()
        };
        (
            number("fixture verdict(s) made afresh"),
            number("step(s) reused"),
        )
    };
    let (renders, reused) = figures(&text);
    assert!(renders <= 4, "{text}");
    assert!(reused >= 1, "{text}");
    assert!(
        log.contains("verdict reused by bundle hash, nothing rendered"),
        "{log}"
    );
    // The diff of the drift commit's bundle names the page, and shows the changed line.
    assert!(text.contains("changed  compiled/index.html"), "{text}");
    assert!(text.contains("+const accumulate = true;"), "{text}");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 1);

    // The kept bundles open by hash prefix.
    let hashes: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("bundle "))
        .unwrap()
        .split(" -> ")
        .collect();
    let out = sandbox.run(&["diff", &hashes[0][..12], hashes[1], "--runs"]);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{diff}{}", stderr(&out));
    assert!(diff.contains("changed  compiled/index.html"), "{diff}");
    assert!(diff.contains("build            same"), "{diff}");

    // A second bisect renders nothing; one with a corrupted verdict says so and renders that
    // bundle again.
    let (code, text, _) = bisect(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(figures(&text).0, 0, "{text}");
    let verdicts = sandbox.store().join("verdicts");
    let shard = std::fs::read_dir(&verdicts)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let key = std::fs::read_dir(shard.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let blob = sandbox.blob_path(std::fs::read_to_string(key.path()).unwrap().trim());
    let json = std::fs::read_to_string(&blob).unwrap();
    let flipped = if json.contains("\"judgement\": \"bad\"") {
        json.replace("\"judgement\": \"bad\"", "\"judgement\": \"good\"")
    } else {
        json.replace("\"judgement\": \"good\"", "\"judgement\": \"bad\"")
    };
    std::fs::write(&blob, flipped).unwrap();
    let (code, text, log) = bisect(&[]);
    assert_eq!(code, Some(0), "{text}{log}");
    assert!(log.contains("stored verdict not used"), "{log}");
    assert!(
        text.contains(&format!("first bad commit: {}", commits[5])),
        "{text}"
    );
    assert_eq!(figures(&text).0, 1, "{text}");

    // Against the good revision's frames, the first commit that changes them is the culprit.
    let (code, text, log) = bisect(&["--against-good"]);
    assert_eq!(code, Some(0), "{text}{log}");
    assert!(
        text.contains(&format!("first bad commit: {} dots: blue", commits[2])),
        "{text}"
    );
    assert!(
        text.contains("why: dots: the in-process frames differ from the good revision's"),
        "{text}"
    );

    // git bisect run, driven by the user, with the verdicts of the store.
    git(&repo, &["bisect", "start", &commits[9], &commits[0]]);
    let run = Command::new("/usr/bin/git")
        .current_dir(&repo)
        .env("FRAMELOCK_STORE", sandbox.store())
        .env("TMPDIR", sandbox.path().join("tmp"))
        .args([
            "bisect",
            "run",
            env!("CARGO_BIN_EXE_framelock"),
            "bisect-step",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{said}{}", stderr(&run));
    assert!(
        said.contains(&format!("{} is the first bad commit", commits[5])),
        "{said}"
    );
    git(&repo, &["bisect", "reset"]);
}

/// With the browser missing from PATH, `bisect-step` exits 128, so `git bisect run` stops
/// instead of marking commits bad; a usage error does the same. A checkout whose fixture
/// cannot be planned exits 125, which `git bisect run` skips.
#[test]
fn bisect_step_aborts_git_bisect_run_when_the_browser_is_missing() {
    let sandbox = Sandbox::new();
    let repo = sandbox.path().join("repo");
    let commits = dots_history(&repo);
    std::fs::write(
        repo.join("fixtures/dots/meta.json"),
        "{\"renderConfig\": {\"fps\": 0}}",
    )
    .unwrap();
    let out = sandbox.run(&["bisect-step", "--repo", repo.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(125), "{said}{}", stderr(&out));
    assert!(
        said.starts_with("skip: dots: ") && said.contains("fps"),
        "{said}"
    );
    git(&repo, &["checkout", "--", "."]);

    // Everything on PATH but the browser (git's own scripts need the usual tools).
    let bin = sandbox.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for dir in ["/usr/local/bin", "/usr/bin", "/bin"] {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let link = bin.join(&name);
            if !name.to_string_lossy().contains("chrom") && !link.exists() {
                std::os::unix::fs::symlink(entry.path(), link).unwrap();
            }
        }
    }
    git(&repo, &["bisect", "start", &commits[9], &commits[0]]);
    for step in [vec!["bisect-step"], vec!["bisect-step", "--workers", "0"]] {
        let run = Command::new("/usr/bin/git")
            .current_dir(&repo)
            .env("PATH", &bin)
            .env_remove("FRAMELOCK_CHROME")
            .env("FRAMELOCK_STORE", sandbox.store())
            .arg("bisect")
            .arg("run")
            .arg(env!("CARGO_BIN_EXE_framelock"))
            .args(&step)
            .output()
            .unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), stderr(&run));
        assert!(!run.status.success(), "{step:?}: {said}");
        assert!(said.contains("exit code 128"), "{step:?}: {said}");
        if step.len() == 1 {
            assert!(said.contains("chrome-headless-shell not found"), "{said}");
        }
        let log = git(&repo, &["bisect", "log"]);
        assert!(
            !log.lines().any(|l| l.starts_with("git bisect bad")
                || l.starts_with("git bisect good")
                || l.starts_with("git bisect skip")),
            "no commit was judged: {log}"
        );
    }
    git(&repo, &["bisect", "reset"]);
}
