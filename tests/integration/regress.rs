//! The regression harness on real renders: bless, pass, catch an edited animation with a PSNR
//! figure and its first divergent frame, re-bless; expected findings that go missing fail.

use std::path::{Path, PathBuf};

use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use framelock::browser::{CaptureMode, ChromeProcess, LaunchSpec, SandboxPolicy};
use framelock::toolchain::Toolchain;
use futures::StreamExt;
use serde_json::Value;

use crate::bundle::copy_dir;
use crate::harness::{Sandbox, fixture, stderr};

/// Runs `framelock regress` over `fixtures`/`baselines` in the sandbox: its exit code, its
/// stdout and stderr together, and report.json.
pub fn regress(
    sandbox: &Sandbox,
    fixtures: &Path,
    baselines: &Path,
    extra: &[&str],
) -> (i32, String, Value) {
    let (out, json) = regress_output(sandbox, fixtures, baselines, extra);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    (out.status.code().unwrap_or(-1), text, json)
}

/// Runs `framelock regress` like [`regress`]; the process output as it is.
fn regress_output(
    sandbox: &Sandbox,
    fixtures: &Path,
    baselines: &Path,
    extra: &[&str],
) -> (std::process::Output, Value) {
    let report = sandbox.path().join("report");
    let mut args = vec![
        "regress",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--baselines",
        baselines.to_str().unwrap(),
        "--report-dir",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = sandbox.run(&args);
    let json = std::fs::read_to_string(report.join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (out, json)
}

#[test]
fn an_edited_animation_fails_with_psnr_and_frame_and_update_reblesses_it() {
    let sandbox = Sandbox::new();
    let fixtures = sandbox.path().join("fixtures");
    let baselines = sandbox.path().join("baselines");
    copy_dir(&fixture("css-keyframes"), &fixtures.join("css-keyframes"));

    let (code, text, _) = regress(&sandbox, &fixtures, &baselines, &[]);
    assert_eq!(code, 1, "no baseline yet: {text}");
    assert!(text.contains("no baseline"), "{text}");

    let (code, text, _) = regress(&sandbox, &fixtures, &baselines, &["--update"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("new entry"), "{text}");
    assert!(baselines.join("css-keyframes/baseline.mp4").is_file());

    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &[]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["fixtures"][0]["status"], "passed");

    // A corrupted chunk record is reported and not trusted: the chunk is rendered again and
    // the fixture still passes. (--no-strict puts the fixture's result under another key, so
    // it is judged again from its chunks instead of reused whole.)
    let frames: Value = serde_json::from_str(
        &std::fs::read_to_string(
            sandbox
                .path()
                .join("report/css-keyframes/in-process.mp4.frames.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let record = sandbox.blob_path(frames["chunk_records"][0].as_str().unwrap());
    let json = std::fs::read_to_string(&record).unwrap();
    std::fs::write(
        &record,
        json.replacen("\"frames_captured\"", "\"frames_captured \"", 1),
    )
    .unwrap();
    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &["--no-strict"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("chunk 0: stored record not used") && text.contains("corrupted"),
        "{text}"
    );
    assert_eq!(report["fixtures"][0]["status"], "passed");

    // A small change to one animation: the slide ends 2 px further right.
    let index = fixtures.join("css-keyframes/index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(html.contains("translateX(90px)"));
    std::fs::write(&index, html.replace("translateX(90px)", "translateX(92px)")).unwrap();
    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &[]);
    assert_eq!(code, 1, "{text}");
    let reason = report["fixtures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("differs from its blessed baseline from frame 1 on"),
        "{reason}"
    );
    assert!(
        reason.contains("lowest PSNR") && reason.contains("dB"),
        "{reason}"
    );
    let warnings = report["fixtures"][0]["warnings"].to_string();
    assert!(
        warnings.contains("composition changed since the baseline"),
        "{warnings}"
    );

    // The pictures show the frame of lowest PSNR.
    let psnr: Vec<f64> = report["fixtures"][0]["psnr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    let lowest = psnr.iter().copied().fold(f64::INFINITY, f64::min);
    let worst = psnr.iter().position(|p| *p == lowest).unwrap();
    assert!(lowest < 40.0, "{psnr:?}");
    assert_eq!(report["fixtures"][0]["images"][0]["frame"], worst);

    // report.html, opened in the browser: the plot has a point per frame, and the baseline
    // frame, the new frame and the heat map of that frame load as pictures of the render's size.
    let page = load_report(&sandbox.path().join("report/report.html"));
    assert_eq!(
        page["plots"],
        serde_json::json!([["css-keyframes", 60]]),
        "{page}"
    );
    assert_eq!(
        page["images"],
        serde_json::json!([
            [format!("baseline frame {worst}"), 320, 180],
            [format!("new frame {worst}"), 320, 180],
            [format!("difference frame {worst}"), 320, 180]
        ]),
        "{page}"
    );
    for image in report["fixtures"][0]["images"][0]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| ["reference", "candidate", "diff"].contains(&k.as_str()))
    {
        let file = sandbox
            .path()
            .join("report")
            .join(image.1.as_str().unwrap());
        assert!(file.is_file(), "{file:?}");
    }

    let (code, text, _) = regress(&sandbox, &fixtures, &baselines, &["--update"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("composition changed"), "{text}");
    let (code, text, _) = regress(&sandbox, &fixtures, &baselines, &[]);
    assert_eq!(code, 0, "re-blessed: {text}");
}

/// A fixture that passed is reused whole while nothing it rests on changes: the second run
/// renders nothing and restores the same videos. Its meta.json (outside the bundle), its
/// baseline, `--no-cache` and a failure each make the fixture run again.
#[test]
fn an_unchanged_passed_fixture_is_reused_and_any_change_runs_it_again() {
    let (sandbox, fixtures, baselines) = blessed_copy("css-keyframes");
    let video = sandbox.path().join("report/css-keyframes/in-process.mp4");
    let reused = |report: &Value| report["fixtures"][0]["reused"].as_bool().unwrap();
    // A video an earlier run left is not this run's: it is removed, and never kept.
    let stale = video.with_file_name("in-process-again.mp4");
    std::fs::write(&stale, b"an earlier run's").unwrap();

    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(!reused(&report), "{text}");
    assert!(!stale.exists(), "a stale video was left");
    let first = std::fs::read(&video).unwrap();

    std::fs::remove_dir_all(sandbox.path().join("report")).unwrap();
    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(reused(&report), "{text}");
    assert!(text.contains("reused from the store"), "{text}");
    assert!(!text.contains("rendering"), "nothing is rendered: {text}");
    assert_eq!(report["fixtures"][0]["status"], "passed");
    assert_eq!(
        std::fs::read(&video).unwrap(),
        first,
        "the same video comes back"
    );
    assert!(video.with_extension("mp4.frames.json").is_file());
    assert!(!stale.exists(), "only this fixture's own videos are kept");

    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &["--no-cache"]);
    assert_eq!(code, 0, "{text}");
    assert!(!reused(&report), "--no-cache: {text}");

    // meta.json is outside the bundle but holds the thresholds: a change runs the fixture.
    let meta = fixtures.join("css-keyframes/meta.json");
    let json = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(&meta, json.replace("\"minPsnr\": 40", "\"minPsnr\": 41")).unwrap();
    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(!reused(&report), "meta.json changed: {text}");
    assert_eq!(report["fixtures"][0]["min_psnr"], 41.0);

    let baseline = baselines.join("css-keyframes/baseline.json");
    let json = std::fs::read_to_string(&baseline).unwrap();
    std::fs::write(&baseline, format!("{json}\n")).unwrap();
    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(!reused(&report), "baseline changed: {text}");

    // A failure is never kept: each run looks at it afresh.
    let index = fixtures.join("css-keyframes/index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, html.replace("translateX(90px)", "translateX(92px)")).unwrap();
    for _ in 0..2 {
        let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &[]);
        assert_eq!(code, 1, "{text}");
        assert!(!reused(&report), "{text}");
    }
}

/// Loads a report page in chromium-headless-shell and says what it shows: per PSNR plot, its
/// fixture and number of points; per picture, its alt text and decoded size (0 when it did not
/// load).
fn load_report(page: &Path) -> Value {
    let _slots = crate::harness::browsers(1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let toolchain = Toolchain::locate(&framelock::toolchain::ToolChoice::from_env()).unwrap();
        let spec = LaunchSpec::new(
            &toolchain,
            CaptureMode::Screenshot,
            &SandboxPolicy::Auto.decide(),
        );
        let process = ChromeProcess::launch(&spec).unwrap();
        let (browser, mut handler) = chromiumoxide::Browser::connect(process.ws_url())
            .await
            .unwrap();
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        let tab = browser
            .new_page(format!("file://{}", page.display()))
            .await
            .unwrap();
        let script = r#"(async () => {
            const images = await Promise.all([...document.images].map(async (img) => {
                try { await img.decode(); } catch (e) {}
                return [img.alt, img.naturalWidth, img.naturalHeight];
            }));
            const plots = [...document.querySelectorAll('svg.psnr')].map((svg) => [
                svg.dataset.fixture,
                svg.querySelector('polyline').points.numberOfItems,
            ]);
            return { images, plots };
        })()"#;
        let shown: Value = tab
            .evaluate(
                EvaluateParams::builder()
                    .expression(script)
                    .await_promise(true)
                    .return_by_value(true)
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap()
            .into_value()
            .unwrap();
        drop(tab);
        drop(browser);
        events.abort();
        drop(process);
        shown
    })
}

/// A suite in both layouts: a HyperFrames-layout fixture one level down (`distributed/kf`,
/// its page in `src/`) is blessed and passes; a fixture whose meta.json cannot be used is an
/// error of its own while the others run, and the run exits 2; an unknown `--fixture` and a
/// folder without fixtures exit 2 before anything is rendered.
#[test]
fn both_layouts_are_found_and_bad_selections_exit_2() {
    let sandbox = Sandbox::new();
    let suite = sandbox.path().join("suite");
    let kf = suite.join("distributed/kf");
    copy_dir(&fixture("css-keyframes"), &kf.join("src"));
    // Its meta.json beside src/, and half a second long: layout, not length, is under test.
    let meta = std::fs::read_to_string(kf.join("src/meta.json")).unwrap();
    std::fs::remove_file(kf.join("src/meta.json")).unwrap();
    let mut meta: Value = serde_json::from_str(&meta).unwrap();
    meta["renderConfig"]["duration"] = 0.5.into();
    std::fs::write(kf.join("meta.json"), meta.to_string()).unwrap();
    std::fs::create_dir_all(suite.join("broken")).unwrap();
    std::fs::write(suite.join("broken/index.html"), "<p>").unwrap();
    std::fs::write(suite.join("broken/meta.json"), r#"{"minPsnr": "high"}"#).unwrap();
    let baselines = sandbox.path().join("baselines");

    let (code, text, report) = regress(&sandbox, &suite, &baselines, &["--update"]);
    assert_eq!(code, 2, "{text}");
    let status = |report: &Value, i: usize| {
        let f = &report["fixtures"][i];
        (
            f["name"].as_str().unwrap().to_string(),
            f["status"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(status(&report, 0), ("broken".into(), "error".into()));
    assert!(
        report["fixtures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("broken/meta.json: field `minPsnr`"),
        "{report:#?}"
    );
    assert_eq!(status(&report, 1), ("kf".into(), "passed".into()));
    assert!(baselines.join("kf/baseline.mp4").is_file());

    let (code, text, report) = regress(&sandbox, &suite, &baselines, &["--fixture", "kf"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(status(&report, 0), ("kf".into(), "passed".into()));
    assert_eq!(
        report["fixtures"][0]["psnr"][0], 100.0,
        "exact against its baseline"
    );

    let (code, text, _) = regress(
        &sandbox,
        &suite,
        &baselines,
        &["--fixture", "kf", "--fixture", "nope"],
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("no fixture named nope; it holds broken, kf"),
        "{text}"
    );
    // A page in src/ without meta.json is passed over, and asked for by name, says so.
    std::fs::create_dir_all(suite.join("bare/src")).unwrap();
    std::fs::write(suite.join("bare/src/index.html"), "<p>").unwrap();
    let (code, text, _) = regress(&sandbox, &suite, &baselines, &["--fixture", "bare"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("bare: a page in src/ without a meta.json beside it is not a fixture"),
        "{text}"
    );
    let empty = sandbox.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, text, _) = regress(&sandbox, &empty, &baselines, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("empty: no fixtures found"), "{text}");
}

#[test]
fn update_with_a_distributed_mode_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["regress", "--update", "--mode", "distributed-simulated"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--update blesses in-process renders only"),
        "{}",
        stderr(&out)
    );
    let out = sandbox.run(&["regress", "--mode", "distributed"]);
    assert_eq!(out.status.code(), Some(2));
}

/// In distributed mode a fixture that exists to show a finding passes only when exactly that
/// finding is found, and a clean fixture declaring one fails when it goes missing.
#[test]
fn expected_findings_are_judged_in_distributed_mode() {
    let sandbox = Sandbox::new();
    let fixtures = sandbox.path().join("fixtures");
    let baselines = sandbox.path().join("baselines");
    copy_dir(
        &fixture("accumulating-canvas"),
        &fixtures.join("accumulating-canvas"),
    );
    copy_dir(&fixture("hf-protocol"), &fixtures.join("claims-a-finding"));
    let meta = fixtures.join("claims-a-finding/meta.json");
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    json["expectedFindings"] = serde_json::json!(["chunk-boundary"]);
    std::fs::write(&meta, json.to_string()).unwrap();

    let (code, text, _) = regress(&sandbox, &fixtures, &baselines, &["--update"]);
    assert_eq!(code, 0, "{text}");
    let junit = sandbox.path().join("junit.xml");
    let (out, report) = regress_output(
        &sandbox,
        &fixtures,
        &baselines,
        &[
            "--mode",
            "distributed-simulated",
            "--workers",
            "2",
            "--junit",
            junit.to_str().unwrap(),
            "--events",
            "jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // stdout is JSON lines only: each fixture starts and finishes with its findings, and the
    // run ends with its counts and exit code.
    let events: Vec<Value> = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every stdout line is JSON"))
        .collect();
    let of_kind =
        |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["event"] == kind).collect() };
    let started: Vec<&Value> = of_kind("fixture-started");
    assert_eq!(started.len(), 2);
    assert_eq!(started[0]["of"], 2);
    let finished: Vec<(&Value, &Value)> = of_kind("fixture-finished")
        .iter()
        .map(|e| (&e["result"]["name"], &e["result"]["status"]))
        .collect();
    assert_eq!(
        finished,
        [
            (&Value::from("accumulating-canvas"), &Value::from("passed")),
            (&Value::from("claims-a-finding"), &Value::from("failed"))
        ]
    );
    assert!(!of_kind("frame-captured").is_empty() || !of_kind("chunk-done").is_empty());
    let last = events.last().unwrap();
    assert_eq!(
        (
            &last["event"],
            &last["passed"],
            &last["failed"],
            &last["exit_code"]
        ),
        (
            &Value::from("regress-finished"),
            &Value::from(1),
            &Value::from(1),
            &Value::from(1)
        )
    );
    assert!(
        stderr(&out).contains("1 passed, 1 failed"),
        "{}",
        stderr(&out)
    );
    let by_name = |name: &str| {
        report["fixtures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    let accumulating = by_name("accumulating-canvas");
    assert_eq!(accumulating["status"], "passed", "{accumulating}");
    let findings = accumulating["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["kind"], "chunk-boundary");
        assert_eq!(f["first_frame"].as_u64().unwrap() % 16, 0, "{f}");
    }
    let claims = by_name("claims-a-finding");
    assert_eq!(claims["status"], "failed", "{claims}");
    assert_eq!(
        junit_cases(&junit),
        vec![
            ("accumulating-canvas".to_string(), false),
            ("claims-a-finding".to_string(), true)
        ]
    );
    assert!(
        claims["reason"]
            .as_str()
            .unwrap()
            .contains("expected chunk-boundary, found none"),
        "{claims}"
    );
}

/// Test case names of a JUnit file, parsed as XML, with whether each failed.
fn junit_cases(path: &Path) -> Vec<(String, bool)> {
    use quick_xml::events::Event;
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut cases = Vec::new();
    loop {
        match reader
            .read_event()
            .expect("the JUnit file is well-formed XML")
        {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                let name = e
                    .try_get_attribute("name")
                    .unwrap()
                    .unwrap()
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned();
                cases.push((name, false));
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"failure" => {
                cases.last_mut().unwrap().1 = true;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    cases
}

/// A sandbox with a copy of fixture `name`, blessed: the sandbox and its fixtures and baselines
/// folders.
fn blessed_copy(name: &str) -> (Sandbox, PathBuf, PathBuf) {
    let sandbox = Sandbox::new();
    let fixtures = sandbox.path().join("fixtures");
    let baselines = sandbox.path().join("baselines");
    copy_dir(&fixture(name), &fixtures.join(name));
    let (code, text, _) = regress(&sandbox, &fixtures, &baselines, &["--update"]);
    assert_eq!(code, 0, "{text}");
    (sandbox, fixtures, baselines)
}

const DISTRIBUTED: [&str; 4] = ["--mode", "distributed-simulated", "--workers", "2"];

/// Runs the distributed harness with `fault` injected; it must exit 1. Returns the findings.
fn injected(sandbox: &Sandbox, fixtures: &Path, baselines: &Path, fault: &str) -> Vec<Value> {
    injected_fixture(sandbox, fixtures, baselines, fault)["findings"]
        .as_array()
        .unwrap()
        .clone()
}

/// The report of the one fixture regress ran with `fault` injected, which must fail it.
fn injected_fixture(sandbox: &Sandbox, fixtures: &Path, baselines: &Path, fault: &str) -> Value {
    let mut args = DISTRIBUTED.to_vec();
    args.extend(["--inject", fault]);
    let (code, text, report) = regress(sandbox, fixtures, baselines, &args);
    assert_eq!(code, 1, "{fault}: {text}");
    report["fixtures"][0].clone()
}

/// An injected clock shift of one chunk is named frame-time, with its chunk, first frame and k;
/// an injected encoder setting is named encoder; faults are never cached, so the next clean run
/// passes.
#[test]
fn injected_faults_are_found_and_named() {
    let (sandbox, fixtures, baselines) = blessed_copy("css-keyframes");
    for (fault, chunk, first, k) in [
        ("clock-shift:1:2", 1, 20, "+2"),
        ("clock-shift:2:-3", 2, 40, "-3"),
    ] {
        let findings = injected(&sandbox, &fixtures, &baselines, fault);
        assert_eq!(findings.len(), 1, "{fault}: {findings:?}");
        assert_eq!(findings[0]["kind"], "frame-time");
        assert_eq!(findings[0]["chunk"], chunk);
        assert_eq!(findings[0]["first_frame"], first);
        let evidence = findings[0]["evidence"].as_str().unwrap();
        assert!(
            evidence.contains(&format!("in-process frames {k} ")),
            "{evidence}"
        );
    }
    // One chunk encoded with another quantiser: equal frames, other bytes.
    let findings = injected(&sandbox, &fixtures, &baselines, "encoder-qp:1:20");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["kind"], "encoder");
    assert_eq!(findings[0]["chunk"], 1);
    assert_eq!(findings[0]["first_frame"], 20);

    let (code, text, _) = regress(&sandbox, &fixtures, &baselines, &DISTRIBUTED);
    assert_eq!(code, 0, "the faults were not cached: {text}");
    let out = sandbox.run(&["regress", "--inject", "clock-shift:1:2"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--inject needs a distributed mode"
    );
}

/// Page randomness that is not reseeded per frame differs exactly from the worker's chunk start
/// (chunk-boundary); the wall clock leaking into the in-process render's chunk makes two
/// in-process renders disagree (nondeterministic). Both name their chunk and first frame.
#[test]
fn randomness_and_wall_clock_faults_are_named() {
    let (sandbox, fixtures, baselines) = blessed_copy("canvas-clock");
    for (fault, kind, chunk, first) in [
        ("no-reseed:1", "chunk-boundary", 1, 20),
        ("wall-clock:2", "nondeterministic", 2, 40),
    ] {
        let findings = injected(&sandbox, &fixtures, &baselines, fault);
        assert_eq!(findings.len(), 1, "{fault}: {findings:?}");
        assert_eq!(findings[0]["kind"], kind, "{fault}");
        assert_eq!(findings[0]["chunk"], chunk, "{fault}");
        assert_eq!(findings[0]["first_frame"], first, "{fault}");
    }
    // A chunk the plan does not have is that fixture's error, named.
    let args = [
        "--mode",
        "distributed-simulated",
        "--inject",
        "wall-clock:9",
    ];
    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &args);
    assert_eq!(code, 2, "an input error: {text}");
    assert!(
        text.contains("0 passed, 0 failed, 0 skipped, 1 errors"),
        "{text}"
    );
    assert_eq!(report["fixtures"][0]["status"], "error");
    assert_eq!(
        report["fixtures"][0]["reason"],
        "--inject: chunk 9 does not exist: the plan has chunks 0 to 2"
    );
}

/// `--repeat N`: N uncached in-process renders must agree. Three renders of a page that reads
/// the clock and draws random numbers agree; a first render that let the real clock in is
/// named nondeterministic where it began, with pictures of the two in-process renders.
#[test]
fn repeated_in_process_renders_must_agree() {
    let (sandbox, fixtures, baselines) = blessed_copy("canvas-clock");
    let (code, text, _) = regress(&sandbox, &fixtures, &baselines, &["--repeat", "3"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        text.matches("3 chunk(s), 0 reused from the store").count(),
        3,
        "{text}"
    );

    let mut args = DISTRIBUTED.to_vec();
    args.extend(["--repeat", "2", "--inject", "wall-clock:2"]);
    let (code, text, report) = regress(&sandbox, &fixtures, &baselines, &args);
    assert_eq!(code, 1, "{text}");
    let fixture = &report["fixtures"][0];
    let repeated: Vec<&Value> = fixture["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["evidence"]
                .as_str()
                .unwrap()
                .starts_with("in-process render 2 of 2 differs")
        })
        .collect();
    assert_eq!(repeated.len(), 1, "{fixture:#?}");
    assert_eq!(repeated[0]["kind"], "nondeterministic");
    assert_eq!(
        (&repeated[0]["chunk"], &repeated[0]["first_frame"]),
        (&Value::from(2), &Value::from(40))
    );
    let picture = fixture["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["what"] == "nondeterministic")
        .unwrap_or_else(|| panic!("no picture: {fixture:#?}"));
    assert_eq!(picture["candidate_label"], "in-process-again");
    assert!(
        picture["largest_difference"].as_u64().unwrap() > 0,
        "{picture:#?}"
    );
    // Every picture names what the leaked clock drew on (the canvas, the clock's text), those
    // of one frame too (drawn once for all of them).
    for picture in fixture["images"].as_array().unwrap() {
        let named: Vec<&str> = picture["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["selector"].as_str().unwrap())
            .collect();
        assert!(
            named.contains(&"#c") && named.iter().all(|s| ["#c", "#info"].contains(s)),
            "{picture:#?}"
        );
    }
}

/// Videos shown a few source frames off in one worker chunk are named video-seek-offset with
/// that chunk, its first frame and the offset, where no clock shift explains the pixels; the
/// picture names the video elements.
#[test]
fn video_offsets_are_named_with_their_k() {
    let (sandbox, fixtures, baselines) = blessed_copy("media-cuts");
    for (fault, chunk, first, k) in [
        ("video-offset:2:2", 2, 60, "+2"),
        ("video-offset:1:-1", 1, 30, "-1"),
    ] {
        let fixture = injected_fixture(&sandbox, &fixtures, &baselines, fault);
        let findings = fixture["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{fault}: {findings:?}");
        assert_eq!(findings[0]["kind"], "video-seek-offset", "{fault}");
        // The picture of the finding names the videos, and nothing else.
        let picture = &fixture["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["what"] == "video-seek-offset")
            .unwrap_or_else(|| panic!("{fault}: no picture: {fixture:#?}"));
        let elements = picture["elements"].as_array().unwrap();
        assert!(
            !elements.is_empty()
                && elements
                    .iter()
                    .all(|e| e["selector"].as_str().unwrap().starts_with("#clip-")),
            "{fault}: {picture:#?}"
        );
        assert_eq!(findings[0]["chunk"], chunk, "{fault}");
        assert_eq!(findings[0]["first_frame"], first, "{fault}");
        let evidence = findings[0]["evidence"].as_str().unwrap();
        assert!(
            evidence.contains(&format!("source frames {k} ")),
            "{evidence}"
        );
    }
}

/// Sound the distributed render carries late is named audio-lag with its size in ms; the
/// blessed envelope is kept in baseline.json.
#[test]
fn audio_delays_are_named_with_their_size() {
    let (sandbox, fixtures, baselines) = blessed_copy("media-cuts");
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(baselines.join("media-cuts/baseline.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        baseline["entries"][0]["audio_envelope"]
            .as_array()
            .unwrap()
            .len(),
        300,
        "one value per 10 ms of 3 s"
    );
    let findings = injected(&sandbox, &fixtures, &baselines, "audio-delay:120");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["kind"], "audio-lag");
    let evidence = findings[0]["evidence"].as_str().unwrap();
    assert!(evidence.contains("lag +120 ms"), "{evidence}");
}
