//! `framelock vary`: variations that keep every frame say so and exit 0; one that changes
//! frames is named with its first frame and its drift, and exits 1.

use serde_json::Value;

use crate::harness::{Sandbox, fixture, stderr};

fn vary(sandbox: &Sandbox, name: &str, only: &str) -> (i32, Value, String) {
    let out = sandbox.path().join(format!("vary-{name}"));
    let composition = fixture(name);
    let output = sandbox.run(&[
        "vary",
        composition.to_str().unwrap(),
        "--only",
        only,
        "--out",
        out.to_str().unwrap(),
    ]);
    let report = std::fs::read_to_string(out.join("vary.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), report, stderr(&output))
}

#[test]
fn variations_that_keep_the_frames_pass_and_one_that_changes_them_is_named() {
    let sandbox = Sandbox::new();
    let only = "tz,one-cpu,shuffled-order,warm-store";
    // A WebM composition with videos and sound: its renders are `.webm`, as its format says.
    let (code, report, text) = vary(&sandbox, "media-webm", only);
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["format_version"], 1);
    let names: Vec<&str> = report["variations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tz", "one-cpu", "shuffled-order", "warm-store"]);
    for v in report["variations"].as_array().unwrap() {
        assert_eq!(v["identical"], true, "{v:#?}");
        assert_eq!(v["frames"], 48, "{v:#?}");
    }
    assert!(text.contains("shuffled-order  identical"), "{text}");
    let out = sandbox.path().join("vary-media-webm");
    assert!(out.join("reference.webm").is_file() && out.join("warm-store.webm").is_file());

    // A canvas that accumulates a dot per drawn frame: workers in chunks of 7 begin again at
    // each chunk start.
    let (code, report, text) = vary(&sandbox, "accumulating-canvas", "chunk-size");
    assert_eq!(code, 1, "{text}");
    let variations = report["variations"].as_array().unwrap();
    let chunked = &variations[0];
    assert_eq!(chunked["identical"], false);
    assert_eq!(chunked["first_differing_frame"], 7, "{chunked:#?}");
    assert_eq!(chunked["kind"], "chunk-boundary", "{chunked:#?}");
    let pictures = chunked["pictures"].as_array().unwrap();
    let out = sandbox.path().join("vary-accumulating-canvas");
    for picture in pictures {
        assert!(out.join(picture.as_str().unwrap()).is_file(), "{picture}");
    }
    // The dots are drawn on the page's one canvas: it is named, with every differing pixel.
    assert_eq!(chunked["elements"][0]["selector"], "#c", "{chunked:#?}");
    assert_eq!(chunked["elements"][0]["share"], 1.0, "{chunked:#?}");
    assert!(
        text.contains("chunk-size      DIFFERS") && text.contains("elements: #c 100%"),
        "the terminal names it: {text}"
    );
}

#[test]
fn an_unknown_variation_is_refused_with_the_known_ones() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["vary", "x", "--only", "timezone"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("expected one of tz, lang, one-cpu, cpu-load, memory, distributed"),
        "{text}"
    );
}
