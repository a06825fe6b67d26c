//! The distributed path: workers that see only the bundle render what the in-process path
//! renders, the cache keeps them apart, and faults (a killed worker, a failing chunk, Ctrl-C,
//! a corrupted store, another toolchain) are handled.

use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use crate::bundle::{copy_dir, plan};
use crate::harness::{
    Sandbox, assert_no_browser_left, browsers, fixture, hashes, stderr, test_fixture,
};

/// Each committed fixture with its frame count.
const FIXTURES: &[(&str, u64)] = &[
    ("css-keyframes", 60),
    ("canvas-clock", 60),
    ("hf-protocol", 60),
    ("svg-smil-waapi", 50),
    ("timer-class", 60),
    ("hyperframes", 60),
];

fn distributed(sandbox: &Sandbox, comp: &Path, name: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--mode", "distributed-simulated", "--workers", "2"];
    args.extend_from_slice(extra);
    sandbox.render_ok(comp, name, &args)
}

fn bytes(sandbox: &Sandbox, name: &str) -> Vec<u8> {
    std::fs::read(sandbox.path().join(format!("{name}.mp4"))).unwrap()
}

/// Decoded frames of a video, as ffmpeg's per-frame MD5s.
fn decoded(sandbox: &Sandbox, name: &str) -> Vec<String> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(sandbox.path().join(format!("{name}.mp4")))
        .args(["-f", "framemd5", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap().trim().to_string())
        .collect()
}

/// For every fixture and chunk sizes 7 and a third of the frames, and chunk size 1 on a
/// 12-frame range: worker renders have the in-process frame hashes, and the same chunk plan
/// gives a byte-identical file.
#[test]
fn workers_render_exactly_what_the_in_process_path_renders() {
    let sandbox = Sandbox::new();
    for &(name, frames) in FIXTURES {
        let comp = fixture(name);
        let third = (frames / 3).to_string();
        let plans: [(&str, Vec<&str>); 3] = [
            ("7", vec!["--chunk-size", "7"]),
            ("third", vec!["--chunk-size", &third]),
            ("ones", vec!["--chunk-size", "1", "--frame-count", "12"]),
        ];
        for (label, args) in plans {
            let a = format!("{name}-{label}-in-process");
            let b = format!("{name}-{label}-distributed");
            let in_process = sandbox.render_ok(&comp, &a, &args);
            let workers = distributed(&sandbox, &comp, &b, &args);
            assert_eq!(workers["execution"], "worker");
            assert_eq!(
                hashes(&in_process),
                hashes(&workers),
                "{name}, chunk plan {label}: worker frames differ from in-process frames"
            );
            assert_eq!(
                workers["chunk_plan"], in_process["chunk_plan"],
                "{name}, {label}: plans differ"
            );
            assert!(
                bytes(&sandbox, &a) == bytes(&sandbox, &b),
                "{name}, {label}: bytes differ"
            );
        }
    }
}

/// Different chunk plans encode differently but decode to the same frames (lossless encoding).
#[test]
fn across_chunk_plans_the_video_decodes_to_the_same_frames() {
    let sandbox = Sandbox::new();
    let comp = fixture("svg-smil-waapi");
    sandbox.render_ok(&comp, "one", &[]);
    distributed(&sandbox, &comp, "sevens", &["--chunk-size", "7"]);
    distributed(&sandbox, &comp, "twenties", &["--chunk-size", "20"]);
    assert_ne!(bytes(&sandbox, "one"), bytes(&sandbox, "sevens"));
    let one = decoded(&sandbox, "one");
    assert_eq!(one.len(), 50);
    assert_eq!(one, decoded(&sandbox, "sevens"));
    assert_eq!(one, decoded(&sandbox, "twenties"));
}

/// Plan, move the composition away, then render-chunk (by flag and as array tasks numbered by
/// their scheduler) and assemble from the bundle alone.
#[test]
fn workers_need_only_the_bundle() {
    let sandbox = Sandbox::new();
    let comp = sandbox.path().join("comp");
    copy_dir(&fixture("hyperframes"), &comp);
    let reference = sandbox.render_ok(&comp, "reference", &["--chunk-size", "25"]);
    let bundle = sandbox.path().join("bundle");
    let hash = plan(&sandbox, &comp, &bundle, &["--chunk-size", "25"]);
    std::fs::rename(&comp, sandbox.path().join("moved-away")).unwrap();
    // Chunk 2 by its flag; 0 and 1 as array tasks numbered by Slurm and by a Kubernetes
    // Indexed Job.
    for (chunk, var) in [
        ("2", None),
        ("0", Some("SLURM_ARRAY_TASK_ID")),
        ("1", Some("JOB_COMPLETION_INDEX")),
    ] {
        let out = match var {
            None => sandbox.run(&["render-chunk", bundle.to_str().unwrap(), "--chunk", chunk]),
            Some(var) => {
                let _slots = browsers(1);
                sandbox
                    .command(&["render-chunk", bundle.to_str().unwrap()])
                    .env(var, chunk)
                    .output()
                    .unwrap()
            }
        };
        assert!(out.status.success(), "chunk {chunk}: {}", stderr(&out));
        let line: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(line["chunk"].to_string(), chunk);
        assert_eq!(line["reused"], false);
    }
    let out = sandbox.run(&["render-chunk", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no chunk given: pass --chunk I, or run it as an array task"),
        "{}",
        stderr(&out)
    );
    let output = sandbox.path().join("assembled.mp4");
    let out = sandbox.run(&[
        "assemble",
        bundle.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("assembled.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["bundle_hash"], hash.as_str());
    assert_eq!(record["bundle_hash"], reference["bundle_hash"]);
    assert_eq!(hashes(&record), hashes(&reference));
    assert_eq!(bytes(&sandbox, "assembled"), bytes(&sandbox, "reference"));

    // A chunk index outside the plan is an input error.
    let out = sandbox.run(&["render-chunk", bundle.to_str().unwrap(), "--chunk", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("chunk 3 does not exist"),
        "{}",
        stderr(&out)
    );
}

/// A second identical render reuses every chunk; a distributed run after an in-process run
/// renders its chunks (the cache keeps the two kinds apart) and says so.
#[test]
fn the_cache_reuses_records_and_keeps_execution_kinds_apart() {
    let sandbox = Sandbox::new();
    let comp = fixture("css-keyframes");
    let args = ["--chunk-size", "20"];
    let first = sandbox.render_cached(&comp, "first", &args);
    assert_eq!(first["reused_chunks"], 0);
    let second = sandbox.render_cached(&comp, "second", &args);
    assert_eq!(second["reused_chunks"], 3);
    assert_eq!(hashes(&first), hashes(&second));
    assert_eq!(bytes(&sandbox, "first"), bytes(&sandbox, "second"));

    let dist_args = [
        "--chunk-size",
        "20",
        "--mode",
        "distributed-simulated",
        "--workers",
        "2",
    ];
    let out_path = sandbox.path().join("dist.mp4");
    let mut cmd = vec![
        "render",
        comp.to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
    ];
    cmd.extend_from_slice(&dist_args);
    let out = sandbox.run(&cmd);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("3 chunk(s), 0 reused from the store"), "{err}");
    let again = sandbox.run(&cmd);
    assert!(
        stderr(&again).contains("3 chunk(s), 3 reused from the store"),
        "{}",
        stderr(&again)
    );

    // `cache ls` lists both kinds; `cache gc` removes what is older than it keeps.
    let ls = sandbox.run(&["cache", "ls"]);
    let listing = String::from_utf8(ls.stdout).unwrap();
    assert_eq!(listing.matches(" in-process ").count(), 3, "{listing}");
    assert_eq!(listing.matches(" worker ").count(), 3, "{listing}");
    assert!(listing.contains("6 cached chunk record(s)"), "{listing}");
    let gc = sandbox.run(&["cache", "gc", "--keep-days", "1"]);
    assert!(String::from_utf8_lossy(&gc.stdout).contains("removed 0 cache key(s)"));
    let gc = sandbox.run(&["cache", "gc", "--keep-days", "0"]);
    let report = String::from_utf8_lossy(&gc.stdout).into_owned();
    // The six chunk records, and the bundle the renders kept.
    assert!(report.contains("removed 7 cache key(s)"), "{report}");
    let after = sandbox.render_cached(&comp, "after-gc", &args);
    assert_eq!(after["reused_chunks"], 0);
    assert_eq!(hashes(&after), hashes(&first));
}

/// A corrupted blob is found by `cache verify`, and never used: the next render renders the
/// chunk again and says why.
#[test]
fn a_corrupted_store_entry_is_found_and_never_used() {
    let sandbox = Sandbox::new();
    let comp = fixture("hf-protocol");
    let first = sandbox.render_cached(&comp, "first", &["--chunk-size", "30"]);
    let out = sandbox.run(&["cache", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Corrupt the encoded blob of chunk 1.
    let record = sandbox.stored_json(first["chunk_records"][1].as_str().unwrap());
    let blob = record["encoded_blob"].as_str().unwrap();
    let blob_path = sandbox.blob_path(blob);
    let mut bytes = std::fs::read(&blob_path).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&blob_path, bytes).unwrap();

    let out = sandbox.run(&["cache", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(blob) && text.contains("corrupted"), "{text}");

    let out_path = sandbox.path().join("second.mp4");
    let out = sandbox.run(&[
        "render",
        comp.to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
        "--chunk-size",
        "30",
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("stored record not used") && err.contains("corrupted"),
        "{err}"
    );
    assert!(err.contains("0 reused from the store"), "{err}");
    let second: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("second.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(hashes(&first), hashes(&second));
    let out = sandbox.run(&["cache", "verify"]);
    assert!(out.status.success(), "the re-render repaired the blob");
}

/// A bundle planned on another toolchain is refused, naming both sides; the override renders
/// and records this machine's fingerprint.
#[test]
fn another_toolchain_is_refused_unless_allowed() {
    let sandbox = Sandbox::new();
    let bundle = sandbox.path().join("bundle");
    plan(
        &sandbox,
        &fixture("timer-class"),
        &bundle,
        &["--chunks", "2"],
    );
    let plan_path = bundle.join("plan.json");
    let mut plan_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let here = plan_json["toolchain"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    plan_json["toolchain"]["fingerprint"] = Value::from("0".repeat(64));
    plan_json["toolchain"]["chrome_version"] = Value::from("Chromium 1.0");
    std::fs::write(
        &plan_path,
        serde_json::to_string_pretty(&plan_json).unwrap(),
    )
    .unwrap();

    let out = sandbox.run(&["render-chunk", bundle.to_str().unwrap(), "--chunk", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("TOOLCHAIN_MISMATCH"), "{err}");
    assert!(
        err.contains(&"0".repeat(64)) && err.contains("Chromium 1.0"),
        "{err}"
    );
    assert!(err.contains(&here), "{err}");

    let out = sandbox.run(&[
        "render-chunk",
        bundle.to_str().unwrap(),
        "--chunk",
        "0",
        "--allow-toolchain-mismatch",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    let record = sandbox.stored_json(line["record"].as_str().unwrap());
    assert_eq!(record["planned_toolchain"], "0".repeat(64).as_str());
    assert_eq!(record["fingerprints"]["toolchain"], here.as_str());
}

/// Runs a distributed render of `comp` in the background, calling `on_line` for each stderr
/// line until it returns true; returns the exit status and all of stderr.
fn run_watching(
    sandbox: &Sandbox,
    comp: &Path,
    extra: &[&str],
    mut on_line: impl FnMut(&str, u32) -> bool,
) -> (std::process::ExitStatus, Vec<String>) {
    let out = sandbox.path().join("out.mp4");
    let mut args = vec![
        "render",
        comp.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--mode",
        "distributed-simulated",
        "--workers",
        "2",
        "--no-cache",
    ];
    args.extend_from_slice(extra);
    let _slots = browsers(2);
    let mut child = sandbox
        .command(&args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let pid = child.id();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = on_line(&line, pid);
        seen.push(line);
        if done {
            break;
        }
    }
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    assert_no_browser_left(&sandbox.path().join("tmp"));
    (status, seen)
}

/// How often /proc is looked at while waiting for a process to appear.
const POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// Whether `pid` has a browser child process.
fn has_browser(pid: i32) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|stat| {
            let Some((head, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let ppid = rest.split_whitespace().nth(1);
            head.contains("chrom") && ppid == Some(pid.to_string().as_str())
        })
    })
}

/// The pids of render-chunk workers of this sandbox's store.
fn workers_of(sandbox: &Sandbox) -> Vec<i32> {
    let marker = sandbox.store().to_string_lossy().into_owned();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains("render-chunk") && cmdline.contains(&marker) {
            pids.push(pid);
        }
    }
    pids
}

/// A worker killed by a signal mid-chunk is retried; the other chunks are kept and the result
/// is the same as without the fault.
#[test]
fn a_killed_worker_is_retried_and_the_result_is_unchanged() {
    let sandbox = Sandbox::new();
    let comp = fixture("canvas-clock");
    let reference = sandbox.render_ok(&comp, "reference", &["--chunk-size", "30"]);
    let mut killed = false;
    let (status, rest) = run_watching(&sandbox, &comp, &["--chunk-size", "30"], |line, _| {
        if !killed && line.contains("chunk 1 (30..60) started") {
            // Wait (bounded) until the worker process exists and has its browser, then kill it.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while std::time::Instant::now() < deadline {
                // The newest worker, once its browser runs: it is then mid-chunk.
                if let Some(pid) = workers_of(&sandbox)
                    .into_iter()
                    .max()
                    .filter(|p| has_browser(*p))
                {
                    // SAFETY: kills a worker this test's render started.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    killed = true;
                    break;
                }
                std::thread::sleep(POLL);
            }
        }
        false
    });
    assert!(killed, "no worker was found to kill");
    assert!(status.success(), "{rest:?}");
    let all = rest.join("\n");
    assert!(
        all.contains("was killed by signal 9") && all.contains("retrying"),
        "{all}"
    );
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("out.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(hashes(&record), hashes(&reference));
}

/// A chunk that fails on its input is not retried: the error names the chunk and its log.
#[test]
fn a_failing_chunk_names_itself_and_its_log() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("out.mp4");
    let page = test_fixture("throws-on-seek");
    let result = sandbox.run(&[
        "render",
        page.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--mode",
        "distributed-simulated",
        "--workers",
        "2",
        "--chunk-size",
        "8",
    ]);
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(2), "{err}");
    let line = err.lines().find(|l| l.starts_with("error:")).unwrap();
    // Frames 12 and later throw: chunk 1 (8..16) or chunk 2 (16..24), whichever fails first.
    let (chunk, frame) = if line.contains("chunk 1 (8..16)") {
        (1, 12)
    } else {
        (2, 16)
    };
    assert!(
        line.contains(&format!("chunk {chunk} (")) && line.contains("failed after 1 attempt(s)"),
        "{line}"
    );
    assert!(line.contains("boom at seek"), "{line}");
    let log = line.rsplit("its log: ").next().unwrap();
    let log_text = std::fs::read_to_string(log).unwrap();
    assert!(
        log_text.contains(&format!("threw while seeking to frame {frame}")),
        "{log_text}"
    );
    assert!(!out.exists());
}

/// Ctrl-C during a distributed render stops the workers and their browsers; nothing is
/// written.
#[test]
fn ctrl_c_stops_every_worker_and_writes_nothing() {
    let sandbox = Sandbox::new();
    let comp = fixture("css-keyframes");
    let (status, rest) = run_watching(
        &sandbox,
        &comp,
        &["--frame-count", "2000", "--chunk-size", "1000"],
        |line, pid| {
            if line.contains("chunk 1 (1000..2000) started") {
                // Let the workers get going, then interrupt.
                while workers_of(&sandbox)
                    .iter()
                    .filter(|p| has_browser(**p))
                    .count()
                    < 2
                {
                    std::thread::sleep(POLL);
                }
                // SAFETY: interrupts the render this test started.
                unsafe { libc::kill(pid as i32, libc::SIGINT) };
                return true;
            }
            false
        },
    );
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(workers_of(&sandbox).is_empty(), "workers left running");
    assert_eq!(
        sandbox.entries(),
        Vec::<String>::new(),
        "output left behind"
    );
}

/// On real renders: a page that accumulates its own state across frames differs from the
/// in-process render exactly from each chunk start on, and `drift` names that chunk-boundary;
/// the in-process path repeats itself, and the chunk that starts at frame 0 agrees.
#[test]
fn page_state_across_frames_is_named_chunk_boundary() {
    use framelock::drift::{ChunkPair, FindingKind, classify_chunk};
    use framelock::timing::{ChunkIndex, FrameRange};

    let sandbox = Sandbox::new();
    let comp = fixture("accumulating-canvas");
    let in_process = sandbox.render_cached(&comp, "in-process", &[]);
    let again = sandbox.render_ok(&comp, "again", &[]);
    let out_path = sandbox.path().join("workers.mp4");
    let out = sandbox.run(&[
        "render",
        comp.to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
        "--mode",
        "distributed-simulated",
        "--workers",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let workers: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("workers.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    let blob = |record: &Value| -> String {
        let record = sandbox.stored_json(record.as_str().unwrap());
        record["encoded_blob"].as_str().unwrap().to_string()
    };
    let reference = hashes(&in_process);
    let candidate = hashes(&workers);
    let rerender = hashes(&again);
    let plan = workers["chunk_plan"].as_array().unwrap();
    assert_eq!(plan.len(), 3, "chunkSize 16 of 48 frames");
    for (index, range) in plan.iter().enumerate() {
        let (start, end) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
        let (s, e) = (start as usize, end as usize);
        let reference_blob = blob(&in_process["chunk_records"][index]);
        let candidate_blob = blob(&workers["chunk_records"][index]);
        let finding = classify_chunk(&ChunkPair {
            index: ChunkIndex(index),
            range: FrameRange::new(start, end).unwrap(),
            reference: &reference,
            candidate: &candidate[s..e],
            reference_blob: &reference_blob,
            candidate_blob: &candidate_blob,
            rerender: Some(&rerender[s..e]),
            reference_videos: &[],
            candidate_videos: &[],
        });
        if index == 0 {
            assert_eq!(finding, None, "the chunk that starts at frame 0 agrees");
        } else {
            let finding = finding.expect("later chunks differ");
            assert_eq!(finding.kind, FindingKind::ChunkBoundary, "{finding:?}");
            assert_eq!(finding.chunk, ChunkIndex(index));
            assert_eq!(finding.first_frame, start);
        }
    }
}
