//! Bad input: one clear line naming the file or field, the documented exit code, and nothing
//! left behind: no video, no frames.json, no work folder, no browser.

use crate::harness::{Sandbox, fixture, stderr, test_fixture};

/// Runs a render that must fail with `code`, checks the message, and checks that the output
/// folder holds nothing new.
fn assert_fails(sandbox: &Sandbox, args: &[&str], code: i32, needles: &[&str]) -> String {
    let before = sandbox.entries();
    let out = sandbox.run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(
        error_lines.len(),
        1,
        "{args:?}: expected one error line: {err}"
    );
    for needle in needles {
        assert!(
            error_lines[0].contains(needle),
            "{args:?}: {needle:?} not in {err}"
        );
    }
    assert_eq!(sandbox.entries(), before, "{args:?}: output left behind");
    err
}

fn render_args<'a>(composition: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["render", composition, "-o", out];
    args.extend_from_slice(extra);
    args
}

#[test]
fn input_errors_exit_2_with_one_line_and_leave_nothing() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("out.mp4");
    let out = out.to_str().unwrap();
    let empty = sandbox.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cases: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
        (
            "/nonexistent/composition".into(),
            vec![],
            vec!["composition folder not found"],
        ),
        (
            empty.to_str().unwrap().into(),
            vec![],
            vec!["no index.html"],
        ),
        (
            test_fixture("bad-meta").to_str().unwrap().into(),
            vec![],
            vec!["meta.json", "renderConfig.fps", "\"fast\""],
        ),
        (
            test_fixture("odd-size").to_str().unwrap().into(),
            vec![],
            vec!["renderConfig.width", "321", "even"],
        ),
        (
            test_fixture("nested-composition").to_str().unwrap().into(),
            vec![],
            vec!["not supported yet", "data-composition-src"],
        ),
        (
            test_fixture("no-duration").to_str().unwrap().into(),
            vec![],
            vec!["index.html", "no duration"],
        ),
        (
            test_fixture("throws-on-load").to_str().unwrap().into(),
            vec![],
            vec!["threw while loading", "boom at load"],
        ),
        (
            test_fixture("throws-on-seek").to_str().unwrap().into(),
            vec![],
            vec!["frame 12", "boom at seek"],
        ),
        (
            fixture("hf-protocol").to_str().unwrap().into(),
            vec!["--width", "101"],
            vec!["--width", "101", "even"],
        ),
        (
            fixture("hf-protocol").to_str().unwrap().into(),
            vec!["--frames", "50..99"],
            vec!["--frames 50..99", "only 60 frames"],
        ),
    ];
    for (composition, extra, needles) in &cases {
        let args = render_args(composition, out, extra);
        assert_fails(&sandbox, &args, 2, needles);
    }
}

#[test]
fn bad_option_values_are_usage_errors() {
    let sandbox = Sandbox::new();
    let css = fixture("css-keyframes");
    let css = css.to_str().unwrap();
    for (flag, value) in [
        ("--fps", "0"),
        ("--fps", "-30"),
        ("--width", "0"),
        ("--height", "-180"),
        ("--duration", "0"),
        ("--frames", "5..5"),
    ] {
        let out = sandbox.path().join("out.mp4");
        let args = [
            "render",
            css,
            "-o",
            out.to_str().unwrap(),
            &format!("{flag}={value}"),
        ];
        let result = sandbox.run(&args);
        assert_eq!(
            result.status.code(),
            Some(2),
            "{flag} {value}: {}",
            stderr(&result)
        );
        assert!(
            stderr(&result).contains(flag),
            "{flag}: {}",
            stderr(&result)
        );
        assert_eq!(sandbox.entries(), Vec::<String>::new());
    }
}

#[test]
fn an_unwritable_output_path_fails_before_rendering() {
    let sandbox = Sandbox::new();
    let file = sandbox.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("out.mp4");
    let css = fixture("css-keyframes");
    let err = assert_fails(
        &sandbox,
        &["render", css.to_str().unwrap(), "-o", out.to_str().unwrap()],
        2,
        &["cannot write output here", "out.mp4"],
    );
    assert!(
        !err.contains("rendering css-keyframes"),
        "rendered before failing: {err}"
    );
}

/// A page that blocks its main thread makes BeginFrame hang: the render stops after the frame
/// timeout, names the frame and its tick, and reaps the browser.
#[test]
fn a_hung_frame_is_an_error_naming_frame_and_tick() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("out.mp4");
    let page = test_fixture("blocks-main-thread");
    let started = std::time::Instant::now();
    assert_fails(
        &sandbox,
        &[
            "render",
            page.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--frame-timeout",
            "3",
        ],
        3,
        &["frame 5", "frameTimeTicks", "no reply within 3s"],
    );
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

/// Ctrl-C in the middle of a render stops the browser and the encoder, exits 130 and leaves
/// nothing behind.
#[test]
fn ctrl_c_mid_render_stops_everything_and_writes_nothing() {
    use std::io::BufRead;
    let sandbox = Sandbox::new();
    let tmp = sandbox.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = sandbox.path().join("out.mp4");
    let css = fixture("css-keyframes");
    let _slots = crate::harness::browsers(1);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_framelock"))
        .args(["render", css.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--frame-count", "100000"])
        .env("TMPDIR", &tmp)
        .env("FRAMELOCK_STORE", sandbox.store())
        .env("CI", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let started = line.contains("rendering css-keyframes");
        seen.push(line);
        if started {
            break;
        }
    }
    assert!(seen.last().unwrap().contains("rendering"), "{seen:?}");
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
    assert_eq!(
        sandbox.entries(),
        Vec::<String>::new(),
        "output left behind"
    );
    crate::harness::assert_no_browser_left(&tmp);
}
