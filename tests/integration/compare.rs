//! PSNR computed by framelock agrees with ffmpeg's `psnr` filter (`psnr_y`) within 0.01 dB, and
//! identical frames are found by hash without pixel comparison.

use camino::Utf8PathBuf;
use framelock::compare::{IDENTICAL_PSNR, compare_videos};

use crate::harness::Sandbox;

fn encode(out: &std::path::Path, qp: &str) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=320x180:rate=30:duration=1")
        .args(["-c:v", "libx264", "-qp", qp, "-pix_fmt", "yuv420p", "-y"])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn psnr_agrees_with_ffmpeg_psnr_filter() {
    let sandbox = Sandbox::new();
    let a = sandbox.path().join("a.mp4");
    let b = sandbox.path().join("b.mp4");
    encode(&a, "0");
    encode(&b, "32");
    let stats = sandbox.path().join("stats.log");
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-i"])
        .arg(&a)
        .arg("-i")
        .arg(&b)
        .arg("-lavfi")
        .arg(format!("psnr=stats_file={}", stats.display()))
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let theirs: Vec<f64> = std::fs::read_to_string(&stats)
        .unwrap()
        .lines()
        .map(|l| {
            let v = l
                .split_whitespace()
                .find_map(|f| f.strip_prefix("psnr_y:"))
                .unwrap();
            v.parse().unwrap()
        })
        .collect();
    // The summary line: "PSNR y:36.12 u:... average:..."
    let summary = String::from_utf8_lossy(&out.stderr);
    let their_sequence: f64 = summary
        .split_whitespace()
        .find_map(|f| f.strip_prefix("y:"))
        .unwrap()
        .parse()
        .unwrap();

    let ffmpeg = Utf8PathBuf::from("ffmpeg");
    let ours = compare_videos(&which(&ffmpeg), &utf8(&a), &utf8(&b), 320, 180).unwrap();
    assert_eq!(ours.frame_psnr.len(), 30);
    assert_eq!(ours.differing.len(), 30);
    for (i, (o, t)) in ours.frame_psnr.iter().zip(&theirs).enumerate() {
        assert!((o - t).abs() < 0.01, "frame {i}: ours {o}, ffmpeg {t}");
    }
    assert!(
        (ours.sequence_psnr - their_sequence).abs() < 0.01,
        "sequence: ours {}, ffmpeg {their_sequence}",
        ours.sequence_psnr
    );

    // The same file is counted without decoding; the same frames in another container are
    // found equal frame by frame.
    let remuxed = sandbox.path().join("a.mkv");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(&a)
        .args(["-c", "copy", "-y"])
        .arg(&remuxed)
        .status()
        .unwrap();
    assert!(status.success());
    for other in [&a, &remuxed] {
        let same = compare_videos(&which(&ffmpeg), &utf8(&a), &utf8(other), 320, 180).unwrap();
        assert_eq!(same.frame_psnr.len(), 30, "{other:?}");
        assert!(same.differing.is_empty());
        assert!(same.frame_psnr.iter().all(|p| *p == IDENTICAL_PSNR));
        assert_eq!(same.sequence_psnr, IDENTICAL_PSNR);
    }
}

fn utf8(p: &std::path::Path) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(p.to_path_buf()).unwrap()
}

fn which(name: &Utf8PathBuf) -> Utf8PathBuf {
    framelock::toolchain::locate_ffmpeg(
        framelock::toolchain::ToolChoice::from_env().ffmpeg.as_ref(),
    )
    .map(|t| t.real)
    .unwrap_or_else(|_| name.clone())
}
