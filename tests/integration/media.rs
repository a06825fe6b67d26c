//! Video and audio: every frame shows the source frame the media time formula predicts (read
//! back from the pixels), workers render media exactly as the in-process path does, the mixed
//! sound is exactly as long as the video, a mono source plays at full level on both sides, and
//! bad media is refused naming the element and file.

use std::path::Path;
use std::process::Command;

use crate::bundle::copy_dir;
use crate::harness::{Sandbox, fixture, frame_png, hashes, stderr};

/// The frame number a clip burns into its top 16 rows (10 blocks of 16 px), read at `(x, y)`.
fn clip_code(image: &image::RgbaImage, x: u32, y: u32) -> u32 {
    (0..10).fold(0, |code, k| {
        let p = image.get_pixel(x + 16 * k + 8, y + 8);
        if p[0] >= 128 { code | (1 << k) } else { code }
    })
}

/// What media-cuts frame `i` must show on the left and the right (`None`: no clip there), from
/// its clips' attributes in exact rationals (index.html): independent of the code under test.
fn expected(i: u32) -> (u32, Option<u32>) {
    // clip-a: τ = 0.5 + i/30 s at 30 fps → n = 15 + i, for t < 1.3 (i ≤ 38).
    // clip-b: τ = 2 (i/30 − 1.3) s at 25 fps → n = ⌊5 (i − 39) / 3⌋, looping over 50 frames.
    let left = if i <= 38 {
        15 + i
    } else {
        (5 * (i - 39) / 3) % 50
    };
    // clip-c: τ = 2.2 + (i/30 − 0.25) s at 30 fps → n = ⌊i + 58.5⌋ mod 90, for 0.25 ≤ t < 2.85.
    let right = (8..=85).contains(&i).then(|| (i + 58) % 90);
    (left, right)
}

#[test]
fn every_frame_shows_the_source_frame_the_media_time_formula_gives() {
    let sandbox = Sandbox::new();
    let png = sandbox.path().join("png");
    let record = sandbox.render_ok(
        &fixture("media-cuts"),
        "cuts",
        &["--png-dir", png.to_str().unwrap()],
    );
    assert_eq!(record["frame_count"], 90);
    for i in 0..90u32 {
        let image = frame_png(&png, u64::from(i));
        let (left, right) = expected(i);
        assert_eq!(clip_code(&image, 0, 40), left, "frame {i}, left clip");
        match right {
            Some(n) => assert_eq!(clip_code(&image, 160, 40), n, "frame {i}, right clip"),
            // Hidden outside its interval: the page's background shows.
            None => assert_eq!(
                &image.get_pixel(168, 48).0[..3],
                &[0x20, 0x30, 0x40],
                "frame {i}: the right clip must be hidden"
            ),
        }
    }
}

/// The WebM fixture: VP9 and Opus, every frame showing what the formula gives (index.html),
/// workers and the in-process path byte-identical at chunk size 7 and at chunk size 1 on a
/// short range, and the sound exactly 2 s of samples.
#[test]
fn webm_renders_vp9_and_opus_exactly() {
    let sandbox = Sandbox::new();
    let png = sandbox.path().join("png");
    let dir = sandbox.path();
    let webm = |name: &str| dir.join(format!("{name}.webm"));
    let run = |name: &str, extra: &[&str]| {
        let out = webm(name);
        let mut args = vec![
            "render".to_string(),
            fixture("media-webm").to_str().unwrap().to_string(),
            "-o".into(),
            out.to_str().unwrap().to_string(),
            "--no-cache".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = sandbox.run(&args);
        assert!(result.status.success(), "{name}: {}", stderr(&result));
        let record = dir.join(format!("{name}.webm.frames.json"));
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(record).unwrap())
            .unwrap()
    };
    let in_process = run(
        "in",
        &["--png-dir", png.to_str().unwrap(), "--chunk-size", "7"],
    );
    let workers = run(
        "workers",
        &[
            "--chunk-size",
            "7",
            "--mode",
            "distributed-simulated",
            "--workers",
            "2",
        ],
    );
    assert_eq!(hashes(&in_process), hashes(&workers));
    assert_eq!(in_process["video_blake3"], workers["video_blake3"]);
    // One frame a chunk on a short range: every worker starts mid-clip.
    let short = ["--chunk-size", "1", "--frame-count", "6"];
    let one_in = run("one-in", &short);
    let mut distributed = short.to_vec();
    distributed.extend(["--mode", "distributed-simulated", "--workers", "2"]);
    let one_workers = run("one-workers", &distributed);
    assert_eq!(hashes(&one_in), hashes(&one_workers));
    assert_eq!(one_in["video_blake3"], one_workers["video_blake3"]);
    for i in 0..48u32 {
        let image = frame_png(&png, u64::from(i));
        if i <= 41 {
            assert_eq!(
                clip_code(&image, 0, 40),
                (120 + 25 * i) / 24,
                "frame {i}, left"
            );
        }
        if i >= 12 {
            assert_eq!(
                clip_code(&image, 160, 40),
                5 * (i - 12) / 4 % 90,
                "frame {i}, right"
            );
        }
    }
    let probe = |entries: &str| {
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", entries, "-of", "csv=p=0"])
            .arg(webm("in"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(probe("stream=codec_name"), "vp9\nopus");
    // Opus's pre-skip and padding are removed on decoding: exactly 2 s at 48 kHz.
    let pcm = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(webm("in"))
        .args([
            "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "s16le", "-",
        ])
        .output()
        .unwrap();
    assert_eq!(pcm.stdout.len() / 2, 96_000);
    // A name the format does not write is refused before anything renders.
    let out = sandbox.render(&fixture("media-webm"), "wrong", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("renders to .webm"),
        "{}",
        stderr(&out)
    );
}

/// Workers render every media frame as the in-process path does, at chunk size 7 and at chunk
/// size 1 (a short range: every worker starts mid-clip), and the joined videos (sound included)
/// are byte-identical.
#[test]
fn workers_render_media_exactly_as_the_in_process_path() {
    let sandbox = Sandbox::new();
    for (name, extra) in [
        ("seven", vec!["--chunk-size", "7"]),
        ("one", vec!["--chunk-size", "1", "--frame-count", "9"]),
    ] {
        let in_process = sandbox.render_ok(&fixture("media-cuts"), &format!("{name}-in"), &extra);
        let mut distributed = extra.clone();
        distributed.extend(["--mode", "distributed-simulated", "--workers", "2"]);
        let workers = sandbox.render_ok(
            &fixture("media-cuts"),
            &format!("{name}-workers"),
            &distributed,
        );
        assert_eq!(
            hashes(&in_process),
            hashes(&workers),
            "{name}: frame hashes"
        );
        assert_eq!(
            in_process["video_blake3"], workers["video_blake3"],
            "{name}: the joined videos"
        );
    }
}

/// The sound track is exactly frames/fps long, and it is the plan's mix, not silence.
#[test]
fn the_mixed_sound_is_exactly_as_long_as_the_video() {
    let sandbox = Sandbox::new();
    for (name, fps, frames) in [("thirty", "30", 90u64), ("ntsc", "30000/1001", 71)] {
        sandbox.render_ok(
            &fixture("media-cuts"),
            name,
            &["--fps", fps, "--frame-count", &frames.to_string()],
        );
        let video = sandbox.path().join(format!("{name}.mp4"));
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "a:0",
                "-show_entries",
                "stream=duration_ts,time_base,sample_rate",
                "-of",
                "default=noprint_wrappers=1",
            ])
            .arg(&video)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&probe.stdout).to_string();
        let field = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap_or_else(|| panic!("{k} in {text}"))
                .to_string()
        };
        assert_eq!(field("time_base"), "1/48000", "{text}");
        let samples: f64 = field("duration_ts").parse().unwrap();
        let (num, den): (f64, f64) = match fps.split_once('/') {
            Some((n, d)) => (n.parse().unwrap(), d.parse().unwrap()),
            None => (fps.parse().unwrap(), 1.0),
        };
        let exact = frames as f64 * den / num * 48_000.0;
        assert!(
            (samples - exact).abs() <= 1.0,
            "{name}: {samples} samples, {exact} expected"
        );
        // ffmpeg's sine source is 1/8 of full scale: both tones together peak near 0.2.
        let peak = peak(&video);
        assert!(peak > 0.1, "{name}: the track is silent (peak {peak})");
    }
}

/// A mono source plays on both sides at its own level, as HyperFrames mixes it (ffmpeg's own
/// mono-to-stereo would put it 3 dB lower on each).
#[test]
fn a_mono_source_plays_at_full_level_on_both_sides() {
    let sandbox = Sandbox::new();
    let comp = sandbox.path().join("mono");
    std::fs::create_dir_all(&comp).unwrap();
    let tone = comp.join("tone.wav");
    let made = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
        ])
        .args(["-ac", "1", "-ar", "48000"])
        .arg(&tone)
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::write(
        comp.join("index.html"),
        r#"<div data-composition-id="m" data-width="64" data-height="36" data-duration="1">
<audio src="tone.wav" data-start="0" data-duration="1"></audio></div>"#,
    )
    .unwrap();
    std::fs::write(comp.join("meta.json"), r#"{"renderConfig": {"fps": 30}}"#).unwrap();
    let bundle = sandbox.path().join("bundle");
    let out = sandbox.run(&[
        "plan",
        comp.to_str().unwrap(),
        "-o",
        bundle.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let source = loudest(&pcm(&tone, &[]));
    // Interleaved as they are, no downmix.
    let mix = pcm(&bundle.join("audio/mix.wav"), &[]);
    let left: Vec<i16> = mix.iter().step_by(2).copied().collect();
    let right: Vec<i16> = mix.iter().skip(1).step_by(2).copied().collect();
    for (side, channel) in [("left", &left), ("right", &right)] {
        let ratio = loudest(channel) / source;
        assert!(
            (ratio - 1.0).abs() < 0.01,
            "{side} at {ratio:.3} of the source's level"
        );
    }
}

/// Media shorter than its slot plays as HyperFrames plays it, with a warning on the terminal
/// and in frames.json: a video holds its last frame, a sound stops and silence follows; an
/// `<audio>` whose file cannot be decoded is left out of the mix.
#[test]
fn short_and_unreadable_media_are_clamped_with_warnings() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path().join("short");
    copy_dir(&fixture("media-cuts"), &dir);
    let index = dir.join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    // clip-a has 0.5 s from its media start for a 1.3 s slot; the 2.5 s tone, starting at
    // 0.4 s, has a 3 s slot: it ends at 2.9 s of the 3 s composition.
    let edited = html
        .replace(
            r#"data-start="0" data-duration="1.3" data-media-start="0.5""#,
            r#"data-start="0" data-duration="1.3" data-media-start="2.5""#,
        )
        .replace(
            r#"data-start="0.4" data-volume="0.8""#,
            r#"data-start="0.4" data-duration="3" data-volume="0.8""#,
        );
    assert_ne!(html, edited);
    std::fs::write(&index, edited).unwrap();
    let out = sandbox.render(&dir, "short", &[]);
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    for words in [
        "warning: index.html: <video id=\"clip-a\">: clips/count.mp4: has 0.500 s from data-media-start, the slot needs 1.300 s",
        "holds its last frame",
        "<audio id=\"music\">: clips/tone.wav: has 2.500 s from data-media-start, the slot needs 3.000 s",
        "silence after",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("short.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        record["warnings"].as_array().unwrap().len(),
        2,
        "{record:#}"
    );
    // count.mp4 is 3 s at 30 fps: from 0.5 s into the slot on, the clip shows frame 89.
    let shown: Vec<Option<u64>> = record["video_frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["clip-a"].as_u64())
        .collect();
    assert_eq!(shown[0], Some(75));
    assert!(shown[15..39].iter().all(|f| *f == Some(89)), "{shown:?}");
    // The tone beeps for the first 0.25 s of every 0.5 s of its source: its last beep, source
    // 2.0–2.25 s, sounds at 2.4–2.65 s; after the source ends at 2.9 s there is silence.
    let samples = pcm(
        &sandbox.path().join("short.mp4"),
        &["-map", "0:a:0", "-ac", "1", "-ar", "48000"],
    );
    let at = |t: f64| (t * 48_000.0) as usize;
    assert!(loudest(&samples[at(2.45)..at(2.6)]) > 1000.0);
    assert!(
        loudest(&samples[at(2.92)..at(2.99)]) < 40.0,
        "silence after the sound"
    );

    // A sound file that cannot be decoded is left out, with a warning.
    std::fs::write(dir.join("clips/tone.wav"), b"not a sound").unwrap();
    let out = sandbox.render(&dir, "unreadable", &[]);
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("<audio id=\"music\">: clips/tone.wav: not a media file ffprobe can read")
            && text.contains("left out of the mix"),
        "{text}"
    );
}

/// The loudest sample of a video's sound, 0–1.
fn peak(video: &Path) -> f64 {
    loudest(&pcm(video, &["-map", "0:a:0", "-ac", "1"])) / 32768.0
}

/// The 16-bit samples ffmpeg decodes from `file` with `args` (interleaved, as many channels as
/// the args leave).
fn pcm(file: &Path, args: &[&str]) -> Vec<i16> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(args)
        .args(["-f", "s16le", "-"])
        .output()
        .unwrap();
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// The largest magnitude among `samples`.
fn loudest(samples: &[i16]) -> f64 {
    f64::from(samples.iter().map(|x| x.unsigned_abs()).max().unwrap_or(0))
}

/// Breaks a copy of a fixture.
type Breakage = dyn Fn(&Path);

/// A missing file and a video file that is not media are
/// input errors (exit 2) naming the element and the file; nothing is written.
#[test]
fn bad_media_is_refused_naming_the_element_and_file() {
    let sandbox = Sandbox::new();
    let cases: [(&str, &Breakage, &[&str]); 2] = [
        (
            "missing",
            &|dir| std::fs::remove_file(dir.join("clips/tone.wav")).unwrap(),
            &["clips/tone.wav"],
        ),
        (
            "corrupt",
            &|dir| std::fs::write(dir.join("clips/count.webm"), b"not a video").unwrap(),
            &[
                "<video id=\"clip-b\">",
                "clips/count.webm",
                "cannot be used",
            ],
        ),
    ];
    for (name, break_it, words) in cases {
        let dir = sandbox.path().join(name);
        copy_dir(&fixture("media-cuts"), &dir);
        break_it(&dir);
        let out = sandbox.render(&dir, name, &[]);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {text}");
        for word in words {
            assert!(text.contains(word), "{name}: {word:?} not in {text}");
        }
        assert!(
            !sandbox.path().join(format!("{name}.mp4")).exists(),
            "{name}: nothing is written"
        );
    }
}
