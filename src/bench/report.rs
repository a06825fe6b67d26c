//! The bench's report: every figure of one run, the targets judged from them, `bench.json`
//! and `BENCHMARKS.md` with what stands in the way of the targets not reached.

use std::fmt::Write;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use super::error::BenchError;
use crate::render::StageSeconds;

/// Version of `bench.json`.
pub const BENCH_FORMAT_VERSION: u32 = 1;

/// One capture figure.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureRow {
    /// `WxH`.
    pub size: String,
    /// Which loop.
    pub path: String,
    /// Frames captured.
    pub frames: u64,
    /// Throughput.
    pub frames_per_second: f64,
    /// Mean size of a captured picture (raw loops).
    pub picture_kib: Option<f64>,
    /// framelock's stages, milliseconds per frame.
    pub stages: Option<StageSeconds>,
}

/// One figure of the heavy 1080p page.
#[derive(Debug, Clone, Serialize)]
pub struct HeavyRow {
    /// What was timed.
    pub what: String,
    /// Frames it covers.
    pub frames: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// One scaling figure.
#[derive(Debug, Clone, Serialize)]
pub struct ScalingRow {
    /// In process, or how many workers.
    pub path: String,
    /// Wall-clock seconds of the render.
    pub seconds: f64,
    /// The most resident memory one worker with its browser and encoder reached.
    pub peak_worker_mib: Option<f64>,
}

/// One hashing or bundle figure.
#[derive(Debug, Clone, Serialize)]
pub struct HashingRow {
    /// What was timed.
    pub what: String,
    /// Throughput.
    pub mib_per_second: f64,
    /// Seconds.
    pub seconds: f64,
}

/// One comparison figure.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    /// Which pair.
    pub case: String,
    /// Frames in each video.
    pub frames: u64,
    /// framelock's compare.
    pub framelock_seconds: f64,
    /// `ffmpeg -lavfi psnr` on the same pair.
    pub ffmpeg_psnr_seconds: f64,
    /// framelock's floor: both videos decoded by ffmpeg into pipes, each frame read and
    /// dropped, nothing compared.
    pub decode_into_pipes_seconds: f64,
}

/// The cache figure.
#[derive(Debug, Clone, Serialize)]
pub struct CacheRun {
    /// Fixtures regressed.
    pub fixtures: usize,
    /// The first `regress --mode distributed-simulated` on an empty store.
    pub first_seconds: f64,
    /// The second, unchanged.
    pub second_seconds: f64,
    /// Seconds of each fixture in the second run, slowest first.
    pub second_by_fixture: Vec<(String, f64)>,
    /// Fixtures the second run did not reuse whole, with their status (only passed results
    /// are kept).
    pub not_reused: Vec<(String, String)>,
    /// A third run with the stored fixture results set aside: every chunk is reused, but each
    /// fixture is planned, joined and compared again.
    pub chunks_only_seconds: f64,
}

/// A target of the `[bench]` issue and whether this run reached it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// What.
    pub name: String,
    /// The bar.
    pub wanted: String,
    /// What was measured.
    pub measured: String,
    /// Reached.
    pub met: bool,
}

/// `bench.json`.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// [`BENCH_FORMAT_VERSION`].
    pub format_version: u32,
    /// How it was started.
    pub command: String,
    /// A `--quick` run, whose figures are too small to trust.
    pub quick: bool,
    /// CPUs, browser and ffmpeg.
    pub machine: String,
    /// CPUs of this machine.
    pub cpus: usize,
    /// Capture throughput.
    pub capture: Vec<CaptureRow>,
    /// In process against workers.
    pub scaling: Vec<ScalingRow>,
    /// Hashing and bundles.
    pub hashing: Vec<HashingRow>,
    /// Compare against ffmpeg.
    pub compare: Vec<CompareRow>,
    /// A cached regress against an uncached one.
    pub cache: Option<CacheRun>,
    /// The heavy 1080p page.
    pub heavy: Vec<HeavyRow>,
    /// The targets.
    pub targets: Vec<Target>,
}

/// The capture row of framelock's browser side alone.
pub(super) const SEEK_AND_CAPTURE: &str = "framelock seek + BeginFrame only, picture dropped";

/// The name of the capture target at `size`.
fn capture_target(size: &str) -> String {
    format!("in-process capture at {size}, against the raw png loop")
}

/// The name of the hashing target at `size`.
fn hashing_target(size: &str) -> String {
    format!("hashing share of render time at {size}")
}

pub(super) fn find<'a>(rows: &'a [CaptureRow], size: &str, path: &str) -> Option<&'a CaptureRow> {
    rows.iter().find(|r| r.size == size && r.path == path)
}

/// The targets against this run's figures.
pub(super) fn targets(r: &BenchReport) -> Vec<Target> {
    let mut out = Vec::new();
    for size in ["320x180", "1280x720"] {
        let raw = find(&r.capture, size, "raw loop, png");
        let ours = find(&r.capture, size, "framelock in-process, beginframe");
        if let (Some(raw), Some(ours)) = (raw, ours) {
            let ratio = ours.frames_per_second / raw.frames_per_second;
            out.push(Target {
                name: capture_target(size),
                wanted: "≥ 0.85×".into(),
                measured: format!("{ratio:.2}×"),
                met: ratio >= 0.85,
            });
        }
        if let Some(stages) = ours.and_then(|o| o.stages) {
            let share = stages.hash / stages.wall;
            out.push(Target {
                name: hashing_target(size),
                wanted: "≤ 5%".into(),
                measured: format!("{:.1}%", share * 100.0),
                met: share <= 0.05,
            });
        }
    }
    for row in &r.compare {
        let ratio = row.ffmpeg_psnr_seconds / row.framelock_seconds;
        let wanted = if row.case == "identical" { 10.0 } else { 1.0 };
        out.push(Target {
            name: format!("compare against ffmpeg psnr, {}", row.case),
            wanted: format!("≥ {wanted}×"),
            measured: format!("{ratio:.2}×"),
            met: ratio >= wanted,
        });
    }
    if let Some(cache) = &r.cache {
        let cached = cache.second_seconds / cache.first_seconds;
        out.push(Target {
            name: "a second regress of unchanged fixtures".into(),
            wanted: "≤ 5% of the first".into(),
            measured: format!("{:.1}%", cached * 100.0),
            met: cached <= 0.05,
        });
    }
    let seconds = |path: &str| r.scaling.iter().find(|s| s.path == path).map(|s| s.seconds);
    if let (Some(one), Some(two)) = (seconds("1 worker(s)"), seconds("2 worker(s)")) {
        let ratio = one / two;
        out.push(Target {
            name: "2 workers against 1".into(),
            wanted: "≥ 1.3×".into(),
            measured: format!("{ratio:.2}×"),
            met: ratio >= 1.3,
        });
    }
    out
}

impl BenchReport {
    /// `BENCHMARKS.md`: the sections measured, the targets, and what stands in the way of
    /// those not reached.
    pub fn markdown(&self) -> String {
        let mut m = String::from("# Benchmarks\n\n");
        let _ = writeln!(
            m,
            "Measured by `{}`\non {}.\nEvery figure is from that one run; each ratio compares two of its figures. Regenerate with\nthe same command.\n",
            self.command, self.machine
        );
        if self.quick {
            m.push_str("**A `--quick` run**: its figures are too small to trust; the targets below only show that\nthe table is made.\n\n");
        }
        if !self.capture.is_empty() {
            self.capture_markdown(&mut m);
        }
        if !self.scaling.is_empty() {
            self.scaling_markdown(&mut m);
        }
        if !self.heavy.is_empty() {
            self.heavy_markdown(&mut m);
        }
        if !self.hashing.is_empty() {
            m.push_str("## Hashing and bundles\n\n| what | MiB/s | seconds |\n|---|---:|---:|\n");
            for row in &self.hashing {
                let _ = writeln!(
                    m,
                    "| {} | {:.0} | {:.3} |",
                    row.what, row.mib_per_second, row.seconds
                );
            }
            m.push('\n');
        }
        if !self.compare.is_empty() {
            m.push_str("## Compare (two 1080p videos)\n\nframelock's floor: both videos decoded by ffmpeg into pipes, every frame read and dropped.\n\n| case | frames | framelock s | ffmpeg psnr s | ratio | floor: decoding into pipes s |\n|---|---:|---:|---:|---:|---:|\n");
            for row in &self.compare {
                let _ = writeln!(
                    m,
                    "| {} | {} | {:.2} | {:.2} | {:.2}× | {:.2} |",
                    row.case,
                    row.frames,
                    row.framelock_seconds,
                    row.ffmpeg_psnr_seconds,
                    row.ffmpeg_psnr_seconds / row.framelock_seconds,
                    row.decode_into_pipes_seconds
                );
            }
            m.push('\n');
        }
        if let Some(cache) = &self.cache {
            let _ = writeln!(
                m,
                "## Cache\n\n`regress --mode distributed-simulated` of {} fixture(s) on an empty store: {:.1} s; again,\nunchanged: {:.2} s ({:.1}%), every passed fixture's result and videos reused from the store. With\nthose results set aside, from the cached chunks alone (each fixture planned twice, its chunks\njoined, compared and its sound read again, nothing rendered): {:.1} s ({:.1}%).\n",
                cache.fixtures,
                cache.first_seconds,
                cache.second_seconds,
                cache.second_seconds / cache.first_seconds * 100.0,
                cache.chunks_only_seconds,
                cache.chunks_only_seconds / cache.first_seconds * 100.0
            );
        }
        m.push_str(&self.targets_markdown());
        m
    }

    /// The targets table and what stands in the way of those not reached.
    pub fn targets_markdown(&self) -> String {
        let mut m = String::from(
            "## Targets\n\n| target | wanted | measured | reached |\n|---|---|---|---|\n",
        );
        for t in &self.targets {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} |",
                t.name,
                t.wanted,
                t.measured,
                if t.met { "yes" } else { "no" }
            );
        }
        let obstacles = self.obstacles();
        if !obstacles.is_empty() {
            m.push_str("\n## What stands in the way\n\n");
            for line in obstacles {
                let _ = writeln!(m, "- {line}");
            }
        }
        m
    }

    fn capture_markdown(&self, m: &mut String) {
        m.push_str("## Capture throughput\n\nThe raw loop issues BeginFrame with a screenshot per frame and receives the picture, nothing\nelse: the limit. framelock's in-process path seeks the page, captures a PNG, decodes it, hashes\nits pixels and pipes them to a lossless H.264 encoder.\n\n");
        m.push_str("| size | path | frames/s | against raw png | picture KiB |\n|---|---|---:|---:|---:|\n");
        for row in &self.capture {
            let raw = find(&self.capture, &row.size, "raw loop, png")
                .map_or(f64::NAN, |r| row.frames_per_second / r.frames_per_second);
            let kib = row.picture_kib.map_or(String::new(), |k| format!("{k:.1}"));
            let _ = writeln!(
                m,
                "| {} | {} | {:.1} | {raw:.2}× | {kib} |",
                row.size, row.path, row.frames_per_second
            );
        }
        m.push_str("\n## Where framelock's time goes (ms per frame)\n\nCapture runs on the async side, the rest on the sink thread, overlapping: the stages add up to\nmore than the wall time.\n\n| size | capture mode | seek | capture | decode | hash | pipe to encoder | encoder finish | wall |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for row in &self.capture {
            let Some(s) = row.stages else { continue };
            let _ = writeln!(
                m,
                "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                row.size,
                row.path.trim_start_matches("framelock in-process, "),
                s.seek,
                s.capture,
                s.decode,
                s.hash,
                s.pipe,
                s.finish,
                s.wall
            );
        }
        m.push('\n');
    }

    fn heavy_markdown(&self, m: &mut String) {
        m.push_str("## Heavy 1080p pages (`bench/heavy-orbit-long`)\n\n| what | frames | seconds | frames/s |\n|---|---:|---:|---:|\n");
        for row in &self.heavy {
            let _ = writeln!(
                m,
                "| {} | {} | {:.2} | {:.2} |",
                row.what,
                row.frames,
                row.seconds,
                row.frames as f64 / row.seconds
            );
        }
        if let [continuous, fresh, ..] = &self.heavy[..] {
            let per_frame = continuous.seconds / continuous.frames as f64;
            let _ = writeln!(
                m,
                "\nA worker that starts at frame {} walks every frame before it and draws those where the\ncompositor keeps state (frame 0, where a `will-change` layer appears, the two before its\nfirst): its first frame costs {:.2} s, {:.1} frames' worth of the in-process path ({:.0} ms a\nframe).",
                continuous.frames - 1,
                fresh.seconds,
                fresh.seconds / per_frame,
                per_frame * 1000.0
            );
        }
        m.push('\n');
    }

    fn scaling_markdown(&self, m: &mut String) {
        m.push_str("## Workers (320x180, four chunks, uncached)\n\n| path | seconds | against in-process | peak MiB per worker (with its browser and encoder) |\n|---|---:|---:|---:|\n");
        let base = self.scaling.first().map_or(f64::NAN, |r| r.seconds);
        for row in &self.scaling {
            let _ = writeln!(
                m,
                "| {} | {:.2} | {:.2}× | {} |",
                row.path,
                row.seconds,
                base / row.seconds,
                row.peak_worker_mib.map_or("".into(), |p| format!("{p:.0}"))
            );
        }
        let seconds = |path: &str| {
            self.scaling
                .iter()
                .find(|s| s.path == path)
                .map(|s| s.seconds)
        };
        if let (Some(inproc), Some(one), Some(two)) = (
            seconds("in-process"),
            seconds("1 worker(s)"),
            seconds("2 worker(s)"),
        ) {
            let _ = writeln!(
                m,
                "\nOne worker takes {:.2} s more than in process: a worker process and a browser start for each of\nthe four chunks, and each checks the bundle. Two workers are {:.2}× one; with {} CPU(s), two\nbrowsers and two encoders already share every core, so this is where it stops scaling: more\nworkers would only queue.",
                one - inproc,
                one / two,
                self.cpus
            );
        }
        m.push('\n');
    }

    /// For each target not reached, what the figures say stands in its way.
    fn obstacles(&self) -> Vec<String> {
        let missed = |prefix: &str| {
            self.targets
                .iter()
                .any(|t| !t.met && t.name.starts_with(prefix))
        };
        let mut out = Vec::new();
        let beginframe = || {
            self.capture
                .iter()
                .filter(|r| r.path == "framelock in-process, beginframe")
                .filter_map(|r| Some((r, r.stages?)))
        };
        for (row, s) in beginframe().filter(|(r, _)| missed(&capture_target(&r.size))) {
            let Some(raw) = find(&self.capture, &row.size, "raw loop, png") else {
                continue;
            };
            let raw_ms = 1000.0 / raw.frames_per_second;
            let browser = s.seek + s.capture;
            let sink = s.decode + s.hash + s.pipe;
            let alone = find(&self.capture, &row.size, SEEK_AND_CAPTURE).map_or(String::new(), |a| {
                let ratio = a.frames_per_second / raw.frames_per_second;
                let verdict = if ratio >= 0.85 {
                    "the browser side is not what falls short: the sink and the encoder sharing the CPUs with it are"
                } else {
                    "capture driven by a seek per frame goes no faster here, and the sink and the encoder sharing the CPUs take it down to the figure above"
                };
                format!(
                    " Seeking and capturing alone, with nothing beside them, reach {:.1} frames/s ({ratio:.2}× the raw loop): {verdict}.",
                    a.frames_per_second
                )
            });
            out.push(if sink > browser {
                format!(
                    "capture at {}: the sink sets the pace: per frame it spends {:.2} ms handing the pixels to the encoder (lossless x264 on one thread, so that its bytes are deterministic), {:.2} ms decoding the PNG and {:.2} ms hashing, {sink:.2} ms in all, against the browser's {browser:.2} ms (seek {:.2}, BeginFrame {:.2}) and the raw loop's {raw_ms:.2} ms for a whole frame; the browser, the sink and the encoder share {} CPU(s).{alone}",
                    row.size, s.pipe, s.decode, s.hash, s.seek, s.capture, self.cpus
                )
            } else {
                format!(
                    "capture at {}: framelock spends {:.2} ms per frame seeking (a CDP round trip and the page's seek of every animation, which the raw loop does not make) and {:.2} ms in BeginFrame, against the raw loop's {raw_ms:.2} ms for a whole frame; the seek's wait for the page cannot overlap the BeginFrame that must show it. The sink's decode, hash and pipe to the encoder ({sink:.2} ms) overlap the capture on their own thread, but the browser, the sink and the encoder share {} CPU(s).{alone}",
                    row.size, s.seek, s.capture, self.cpus
                )
            });
        }
        let alone = self
            .hashing
            .iter()
            .find(|h| h.what.starts_with("blake3"))
            .map(|h| h.mib_per_second);
        for (row, s) in beginframe().filter(|(r, _)| missed(&hashing_target(&r.size))) {
            let pixels: f64 = row
                .size
                .split('x')
                .filter_map(|n| n.parse::<f64>().ok())
                .product();
            let mib_per_second = pixels * 4.0 / 1024.0 / 1024.0 / (s.hash / 1000.0);
            out.push(format!(
                "hashing at {}: blake3 of each frame's RGBA pixels (hashed band by band as the PNG is decoded) takes {:.2} ms of the {:.2} ms a frame takes, {mib_per_second:.0} MiB/s against {} measured alone: the browser and the encoder run beside it on {} CPU(s). What is hashed is fixed (a frame's identity is the blake3 of all its RGBA pixels); with a core to itself the hash runs at the speed measured alone.",
                row.size,
                s.hash,
                s.wall,
                alone.map_or("the hashing section's figure".into(), |a| format!("{a:.0} MiB/s")),
                self.cpus
            ));
        }
        if let Some(row) = self
            .compare
            .iter()
            .find(|r| r.case == "every frame differs")
            .filter(|_| missed("compare against ffmpeg psnr, every frame differs"))
        {
            out.push(format!(
                "compare, every frame differs: the decoding is ffmpeg's on both sides, but framelock has two ffmpeg processes write every raw frame into a pipe and reads it back, which ffmpeg's psnr filter, decoding in one process, does not: that alone takes {:.2} s against psnr's {:.2} s for the whole comparison, and framelock's own work (byte comparison and PSNR of every pair) adds {:.2} s. Beating it needs decoding inside framelock, without the copies through pipes.",
                row.decode_into_pipes_seconds,
                row.ffmpeg_psnr_seconds,
                (row.framelock_seconds - row.decode_into_pipes_seconds).max(0.0)
            ));
        }
        if missed("compare against ffmpeg psnr, identical") {
            out.push("compare, identical: byte-identical videos take constant time (hashing both files and one ffprobe run to count frames, most of it ffprobe's start-up), so the ratio grows with the videos' length.".into());
        }
        if let Some(cache) = self.cache.as_ref().filter(|_| missed("a second regress")) {
            let slowest: Vec<String> = cache
                .second_by_fixture
                .iter()
                .take(3)
                .map(|(name, s)| format!("{name} {s:.2} s"))
                .collect();
            let not_reused: Vec<String> = cache
                .not_reused
                .iter()
                .map(|(name, status)| format!("{name} ({status})"))
                .collect();
            out.push(format!(
                "cache: only passed fixtures are reused whole, and the second run had to look again at {}: each is planned twice (copying its files, extracting video frames and mixing sound with ffmpeg), its cached chunks joined twice and compared, its sound read. The slowest fixtures of the second run: {}.",
                if not_reused.is_empty() { "none".to_string() } else { not_reused.join(", ") },
                slowest.join(", ")
            ));
        }
        if missed("2 workers") {
            out.push("workers: each worker starts its own browser; on a 2-core machine two browsers and two encoders share the cores.".into());
        }
        out
    }

    /// Writes `bench.json` and `BENCHMARKS.md` into `dir`, each through a temporary file.
    pub fn write(&self, dir: &Utf8Path) -> Result<(), BenchError> {
        let io = |path: Utf8PathBuf| move |source| BenchError::Io { path, source };
        std::fs::create_dir_all(dir).map_err(io(dir.to_owned()))?;
        let json = serde_json::to_vec_pretty(self).expect("a bench report serialises");
        let path = dir.join("bench.json");
        crate::staging::write_file(&path, "bench", &json).map_err(io(path.clone()))?;
        let path = dir.join("BENCHMARKS.md");
        crate::staging::write_file(&path, "bench", self.markdown().as_bytes())
            .map_err(io(path.clone()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare_only(quick: bool, identical_seconds: f64) -> BenchReport {
        let mut report = BenchReport {
            format_version: BENCH_FORMAT_VERSION,
            command: "framelock bench --only compare".into(),
            quick,
            machine: "2 CPU(s)".into(),
            cpus: 2,
            capture: Vec::new(),
            scaling: Vec::new(),
            hashing: Vec::new(),
            compare: vec![
                CompareRow {
                    case: "every frame differs".into(),
                    frames: 300,
                    framelock_seconds: 1.2,
                    ffmpeg_psnr_seconds: 1.0,
                    decode_into_pipes_seconds: 1.1,
                },
                CompareRow {
                    case: "identical".into(),
                    frames: 300,
                    framelock_seconds: identical_seconds,
                    ffmpeg_psnr_seconds: 1.0,
                    decode_into_pipes_seconds: 1.1,
                },
            ],
            cache: None,
            heavy: Vec::new(),
            targets: Vec::new(),
        };
        report.targets = targets(&report);
        report
    }

    /// A capture-only report at 1280x720: the raw loop at 100 frames/s, framelock at 50 with
    /// the browser side slower than the sink, and the browser side alone at `alone` frames/s.
    fn capture_only(alone: f64) -> BenchReport {
        let row = |path: &str, fps: f64, stages: Option<StageSeconds>| CaptureRow {
            size: "1280x720".into(),
            path: path.into(),
            frames: 300,
            frames_per_second: fps,
            picture_kib: None,
            stages,
        };
        let stages = StageSeconds {
            seek: 3.0,
            capture: 14.0,
            decode: 2.0,
            hash: 1.2,
            pipe: 12.0,
            finish: 0.5,
            wall: 20.0,
        };
        let mut report = BenchReport {
            capture: vec![
                row("raw loop, png", 100.0, None),
                row("framelock in-process, beginframe", 50.0, Some(stages)),
                row(SEEK_AND_CAPTURE, alone, None),
            ],
            compare: Vec::new(),
            ..compare_only(false, 0.05)
        };
        report.targets = targets(&report);
        report
    }

    #[test]
    fn a_missed_capture_target_is_laid_at_the_seek_or_at_the_shared_cpus_by_the_figures() {
        let m = capture_only(95.0).markdown();
        assert!(m.contains("| in-process capture at 1280x720, against the raw png loop | ≥ 0.85× | 0.50× | no |"), "{m}");
        assert!(m.contains("3.00 ms per frame seeking"), "{m}");
        assert!(
            m.contains(
                "reach 95.0 frames/s (0.95× the raw loop): the browser side is not what falls short"
            ),
            "{m}"
        );
        assert!(
            m.contains("hashing at 1280x720"),
            "5% of the frame is hashing: {m}"
        );
        let m = capture_only(55.0).markdown();
        assert!(
            m.contains(
                "(0.55× the raw loop): capture driven by a seek per frame goes no faster here"
            ),
            "{m}"
        );
    }

    #[test]
    fn a_partial_run_reports_only_what_it_measured_and_judges_its_targets() {
        let m = compare_only(false, 0.05).markdown();
        assert!(m.contains("## Compare"), "{m}");
        for absent in [
            "## Capture",
            "## Workers",
            "## Hashing",
            "## Cache",
            "--quick",
        ] {
            assert!(!m.contains(absent), "{absent}: {m}");
        }
        assert!(m.contains("| compare against ffmpeg psnr, identical | ≥ 10× | 20.00× | yes |"));
        assert!(
            m.contains("| compare against ffmpeg psnr, every frame differs | ≥ 1× | 0.83× | no |")
        );
        assert!(
            m.contains("compare, every frame differs: the decoding is ffmpeg's"),
            "{m}"
        );
        assert!(
            !m.contains("compare, identical:"),
            "a reached target needs no excuse"
        );
    }

    #[test]
    fn a_quick_run_says_its_figures_are_too_small_to_trust() {
        let m = compare_only(true, 0.5).markdown();
        assert!(m.contains("A `--quick` run"), "{m}");
        assert!(m.contains("compare, identical: byte-identical videos take constant time"));
    }
}
