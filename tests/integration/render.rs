//! The renderer's promises: every frame shows its own index, renders repeat exactly, a render
//! that starts mid-way matches the continuous one, and the page cannot reach the network.

use crate::harness::{Sandbox, fixture, frame_png, hashes, read_code, test_fixture};

/// Each committed fixture with its frame count and number of code rows.
const FIXTURES: &[(&str, u64, u32)] = &[
    ("css-keyframes", 60, 1),
    ("canvas-clock", 60, 1),
    ("hf-protocol", 60, 1),
    ("svg-smil-waapi", 50, 2),
    ("timer-class", 60, 1),
    ("hyperframes", 60, 1),
    ("accumulating-canvas", 48, 1),
];

/// Renders a fixture twice (once writing PNGs), and checks that every frame shows its own
/// code, consecutive frames differ, the second render has the same hashes, and frames.json
/// counts the requested frames.
fn check_fixture(name: &str, frames: u64, rows: u32) {
    let sandbox = Sandbox::new();
    let png_dir = sandbox.path().join("png");
    let first = sandbox.render_ok(
        &fixture(name),
        "first",
        &["--png-dir", png_dir.to_str().unwrap()],
    );
    assert_eq!(first["frame_count"], frames, "{name}: frame count");
    assert_eq!(first["total_frames"], frames, "{name}: total frames");
    let h1 = hashes(&first);
    assert_eq!(h1.len() as u64, frames);
    for i in 0..frames {
        let image = frame_png(&png_dir, i);
        for row in 0..rows {
            assert_eq!(
                read_code(&image, row) as u64,
                i,
                "{name}: frame {i}, code row {row}"
            );
        }
    }
    for (i, pair) in h1.windows(2).enumerate() {
        assert_ne!(
            pair[0],
            pair[1],
            "{name}: frames {i} and {} are identical",
            i + 1
        );
    }
    let second = sandbox.render_ok(&fixture(name), "second", &[]);
    assert_eq!(h1, hashes(&second), "{name}: two renders differ");
}

#[test]
fn css_keyframes_frames_show_their_index_and_repeat_exactly() {
    let (n, f, r) = FIXTURES[0];
    check_fixture(n, f, r);
}

#[test]
fn canvas_clock_frames_show_their_index_and_repeat_exactly() {
    let (n, f, r) = FIXTURES[1];
    check_fixture(n, f, r);
}

#[test]
fn hf_protocol_frames_show_their_index_and_repeat_exactly() {
    let (n, f, r) = FIXTURES[2];
    check_fixture(n, f, r);
}

#[test]
fn svg_smil_waapi_frames_show_their_index_and_repeat_exactly() {
    let (n, f, r) = FIXTURES[3];
    check_fixture(n, f, r);
}

#[test]
fn timer_class_frames_show_their_index_and_repeat_exactly() {
    let (n, f, r) = FIXTURES[4];
    check_fixture(n, f, r);
}

#[test]
fn hyperframes_frames_show_their_index_and_repeat_exactly() {
    let (n, f, r) = FIXTURES[5];
    check_fixture(n, f, r);
}

#[test]
fn accumulating_canvas_frames_show_their_index_and_repeat_exactly() {
    let (n, f, r) = FIXTURES[6];
    check_fixture(n, f, r);
}

/// Rendering frames [s, N) in a fresh browser gives the hashes of frames s..N of a full
/// render: the property the distributed path rests on. Chunk starts are chosen off any
/// animation period, after the timer fixture's timeout (0.5 s) has fired.
#[test]
fn a_render_starting_mid_way_matches_the_continuous_one() {
    let sandbox = Sandbox::new();
    for &(name, frames, _) in FIXTURES {
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(name).join("meta.json")).unwrap(),
        )
        .unwrap();
        if meta.get("expectedFindings").is_some() {
            continue;
        }
        let full = hashes(&sandbox.render_ok(&fixture(name), &format!("{name}-full"), &[]));
        for start in [17, frames - 7] {
            let range = format!("{start}..{frames}");
            let part = sandbox.render_ok(
                &fixture(name),
                &format!("{name}-from-{start}"),
                &["--frames", &range],
            );
            assert_eq!(
                hashes(&part),
                full[start as usize..],
                "{name}: frames {range} rendered from a fresh browser differ"
            );
        }
    }
}

/// HyperFrames clips are visible exactly inside [start, start + duration), including starts
/// given relative to other clips; the page reads renderConfig.variables.
#[test]
fn hyperframes_clips_are_visible_exactly_inside_their_intervals() {
    // From fixtures/hyperframes/README.md: (first visible frame, last visible frame, x, rgb).
    let clips: [(u64, u64, u32, [u8; 3]); 5] = [
        (8, 28, 30, [255, 0, 0]),
        (41, 55, 92, [0, 255, 0]),
        (29, 49, 154, [0, 0, 255]),
        (3, 51, 216, [255, 255, 0]),
        (38, 52, 278, [0, 255, 255]),
    ];
    let sandbox = Sandbox::new();
    let png_dir = sandbox.path().join("png");
    sandbox.render_ok(
        &fixture("hyperframes"),
        "hf",
        &["--png-dir", png_dir.to_str().unwrap()],
    );
    for i in 0..60 {
        let image = frame_png(&png_dir, i);
        for (first, last, x, rgb) in clips {
            let p = image.get_pixel(x, 144);
            let visible = p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2];
            assert_eq!(
                visible,
                (first..=last).contains(&i),
                "frame {i}, clip at x={x}: {p:?}"
            );
        }
        let swatch = image.get_pixel(304, 24);
        assert_eq!(
            &swatch.0[..3],
            &[255, 0, 255],
            "frame {i}: accent variable not applied"
        );
    }
}

/// A GSAP `.set()` at 0 shows on frame 0, as in HyperFrames: GSAP renders nothing when seeked to
/// the time it stands at, so the renderer nudges a fresh timeline away and back. The `.call()`s
/// at 0 (on the page's timeline, and on one its own `__hf.seek` seeks first) each run exactly
/// once, counted in white bars; a fresh browser starting at frame 3 draws what the continuous
/// render drew.
#[test]
fn a_gsap_set_at_zero_shows_on_frame_zero_and_calls_run_once() {
    let sandbox = Sandbox::new();
    let comp = sandbox.path().join("set-at-zero");
    std::fs::create_dir_all(&comp).unwrap();
    std::fs::copy(
        fixture("hyperframes").join("vendor/gsap.min.js"),
        comp.join("gsap.min.js"),
    )
    .unwrap();
    std::fs::write(
        comp.join("index.html"),
        r##"<!DOCTYPE html><html><head><meta charset="utf-8">
<style>html, body { margin: 0; background: #000; width: 64px; height: 36px; overflow: hidden; }
#box { position: absolute; inset: 0; background: #f00; opacity: 0; }
.bars { position: absolute; left: 0; height: 4px; background: #fff; width: 0; z-index: 1; }
#a { top: 24px; } #b { top: 30px; }</style>
<script src="gsap.min.js"></script></head><body>
<div id="root" data-composition-id="main" data-width="64" data-height="36" data-duration="0.5">
<div id="box"></div><div id="a" class="bars"></div><div id="b" class="bars"></div></div>
<script>
const runs = { a: 0, b: 0 };
const bar = (id) => () => { runs[id] += 1; document.getElementById(id).style.width = 8 * runs[id] + "px"; };
const tl = gsap.timeline({ paused: true });
tl.set("#box", { opacity: 1 }, 0);
tl.call(bar("a"), null, 0);
tl.to("#box", { opacity: 0.5, duration: 0.2 }, 0.2);
const own = gsap.timeline({ paused: true });
own.call(bar("b"), null, 0);
own.call(bar("b"), null, 0.2);
own.to({}, { duration: 0.5 }, 0);
window.__hf = { duration: 0.5, seek: (t) => { own.seek(t, false); } };
window.__timelines = { main: tl, own };
</script></body></html>"##,
    )
    .unwrap();
    std::fs::write(comp.join("meta.json"), r#"{"renderConfig": {"fps": 10}}"#).unwrap();
    let png = sandbox.path().join("png");
    let whole = sandbox.render_ok(&comp, "whole", &["--png-dir", png.to_str().unwrap()]);
    let at = |i: u64, x: u32, y: u32| frame_png(&png, i).get_pixel(x, y).0[0];
    assert_eq!(at(0, 32, 18), 255, "frame 0 shows the .set() at 0");
    assert!(at(4, 32, 18) < 200, "the tween dims it: {}", at(4, 32, 18));
    // The page's timeline has a .call() at 0; the one its __hf.seek moves has calls at 0 and
    // at 0.2 s (frame 2, where that seek leaves it standing when the renderer comes to it).
    for (i, expected) in [(1, [1, 1]), (2, [1, 2]), (3, [1, 2]), (4, [1, 2])] {
        for ((what, y), expected) in [("the page's", 25), ("the __hf.seek", 31)]
            .iter()
            .zip(expected)
        {
            let white = |x: u32| frame_png(&png, i).get_pixel(x, *y).0[..3] == [255, 255, 255];
            let runs = (0..4).filter(|k| white(8 * k + 4)).count();
            assert_eq!(
                runs, expected,
                "frame {i}: {what} timeline's calls ran {runs} times"
            );
        }
    }
    let fresh = sandbox.render_ok(&comp, "fresh", &["--frames", "3..5"]);
    assert_eq!(hashes(&fresh), hashes(&whole)[3..5]);
}

/// A page that paints Date.now(), performance.now() and Math.random() renders the same at
/// different wall-clock times; with the runtime off (the debugging flag) it does not, which
/// proves this test can fail.
#[test]
fn time_and_randomness_come_from_the_frame_index() {
    let sandbox = Sandbox::new();
    let a = hashes(&sandbox.render_ok(&fixture("canvas-clock"), "a", &[]));
    let b = hashes(&sandbox.render_ok(&fixture("canvas-clock"), "b", &[]));
    assert_eq!(
        a, b,
        "virtual time: renders at different wall-clock times differ"
    );

    let real_a = sandbox.render_ok(&fixture("canvas-clock"), "real-a", &["--debug-real-time"]);
    let real_b = sandbox.render_ok(&fixture("canvas-clock"), "real-b", &["--debug-real-time"]);
    assert_eq!(real_a["virtual_time"], false);
    assert_ne!(
        hashes(&real_a),
        hashes(&real_b),
        "with the real clock two renders should differ; the determinism check could not fail"
    );
    assert_ne!(hashes(&real_a), a);
}

/// Requests outside the composition are blocked and listed; --strict fails on them.
#[test]
fn outside_requests_are_blocked_listed_and_fail_under_strict() {
    let sandbox = Sandbox::new();
    let record = sandbox.render_ok(&test_fixture("outside-fetch"), "open", &[]);
    let blocked: Vec<&str> = record["page_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "blocked-request")
        .map(|e| e["url"].as_str().unwrap())
        .collect();
    assert!(
        blocked.contains(&"https://example.com/blocked.png"),
        "{blocked:?}"
    );
    assert!(
        blocked.contains(&"http://example.org/data.json"),
        "{blocked:?}"
    );

    let strict = sandbox.render(&test_fixture("outside-fetch"), "strict", &["--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    let err = crate::harness::stderr(&strict);
    assert!(
        err.contains("hermeticity") && err.contains("example."),
        "{err}"
    );
    assert!(!sandbox.path().join("strict.mp4").exists());
    assert!(!sandbox.path().join("strict.mp4.frames.json").exists());
}

/// The screenshot fallback seeks the same way: every frame shows its code, and two renders
/// agree.
#[test]
fn screenshot_capture_is_deterministic_too() {
    let sandbox = Sandbox::new();
    let png_dir = sandbox.path().join("png");
    let a = sandbox.render_ok(
        &fixture("hf-protocol"),
        "a",
        &[
            "--capture",
            "screenshot",
            "--png-dir",
            png_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(a["capture_mode"], "screenshot");
    for i in 0..60 {
        assert_eq!(read_code(&frame_png(&png_dir, i), 0) as u64, i, "frame {i}");
    }
    let b = sandbox.render_ok(&fixture("hf-protocol"), "b", &["--capture", "screenshot"]);
    assert_eq!(hashes(&a), hashes(&b));
}

/// With a chunk size the encoder restarts at each chunk start: every chunk opens with a key
/// frame, the pixels are those of a one-chunk render, and the same plan gives the same bytes.
#[test]
fn chunked_encoding_restarts_the_encoder_at_chunk_starts() {
    let sandbox = Sandbox::new();
    let one = sandbox.render_ok(&fixture("css-keyframes"), "one", &[]);
    let seven = sandbox.render_ok(&fixture("css-keyframes"), "seven", &["--chunk-size", "7"]);
    sandbox.render_ok(&fixture("css-keyframes"), "again", &["--chunk-size", "7"]);
    assert_eq!(seven["chunk_plan"].as_array().unwrap().len(), 9);
    assert_eq!(hashes(&one), hashes(&seven));
    let bytes = |name: &str| std::fs::read(sandbox.path().join(format!("{name}.mp4"))).unwrap();
    assert_eq!(
        bytes("seven"),
        bytes("again"),
        "same chunk plan, different bytes"
    );
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=key_frame",
        ])
        .args(["-of", "csv=p=0"])
        .arg(sandbox.path().join("seven.mp4"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let keys: Vec<usize> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .filter(|(_, l)| l.starts_with('1'))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(keys, (0..60).step_by(7).collect::<Vec<_>>());
}

/// Console messages are listed with the frame they happened at, in frames.json and on stderr.
#[test]
fn console_messages_are_reported_with_their_frame() {
    let sandbox = Sandbox::new();
    let out = sandbox.render(&test_fixture("console-log"), "log", &[]);
    let err = crate::harness::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("frame 3: console.log: hello from frame 3"),
        "{err}"
    );
    assert!(
        err.contains("frame 7: console.error: trouble at frame 7"),
        "{err}"
    );
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("log.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    let all = record["page_events"].as_array().unwrap();
    let exception = all.iter().find(|e| e["kind"] == "exception").unwrap();
    assert_eq!(exception["frame"], 5);
    assert!(
        exception["text"]
            .as_str()
            .unwrap()
            .contains("timer trouble"),
        "{exception}"
    );
    let events: Vec<(serde_json::Value, String)> = all
        .iter()
        .filter(|e| e["kind"] == "console")
        .map(|e| {
            (
                e["frame"].clone(),
                e["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (serde_json::Value::Null, "loaded".to_string()),
            (3.into(), "hello from frame 3".to_string()),
            (7.into(), "trouble at frame 7".to_string()),
        ]
    );
}
