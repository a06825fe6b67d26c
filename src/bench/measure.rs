//! The measurements of `framelock bench`, each timed as a whole on this machine in this run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};

use super::error::BenchError;
use super::report::{
    CacheRun, CaptureRow, CompareRow, HashingRow, HeavyRow, SEEK_AND_CAPTURE, ScalingRow,
};
use super::request::BenchRequest;
use crate::browser::{CaptureMode, RawFormat};
use crate::bundle::{Bundle, pack, unpack_bundle};
use crate::compare::compare_videos;
use crate::composition::{Composition, Overrides};
use crate::distributed::{ChunkOrder, DistributedRequest, render_distributed};
use crate::encode::{EncodeError, FrameReader, run_ffmpeg};
use crate::outcome::RegressMode;
use crate::regress::{RegressRequest, regress};
use crate::render::{
    BrowserRun, ChunkWork, Planning, RenderRequest, RunSettings, StageSeconds, plan_bundle, render,
    render_chunks, start_session,
};
use crate::report::Reporter;
use crate::store::{Index, Store};
use crate::timing::{ChunkPlan, FrameIndex, FrameRange};

/// The heavy 1080p page: the in-process path over the bench's frames, and a fresh session (a
/// worker's) that starts at the last of them: its walk and first frame.
pub(super) async fn heavy(request: &BenchRequest) -> Result<Vec<HeavyRow>, BenchError> {
    // A quick run only shows the section works: a dozen 1080p frames do.
    let request = &BenchRequest {
        frames: if request.quick { 12 } else { request.frames },
        ..request.clone()
    };
    let composition = Composition::load(
        &request.heavy,
        &Overrides {
            frame_count: Some(request.frames),
            ..Overrides::default()
        },
    )?;
    let continuous = framelock_capture(request, &composition, CaptureMode::BeginFrame).await?;
    let run = browser_run(request, &composition, CaptureMode::BeginFrame);
    let mut session = start_session(&run, &()).await?;
    let last = FrameIndex(request.frames - 1);
    let started = Instant::now();
    session.capture(last).await?;
    let fresh = started.elapsed().as_secs_f64();
    session.close().await;
    Ok(vec![
        HeavyRow {
            what: "in process, capture + hash + encode".into(),
            frames: request.frames,
            seconds: request.frames as f64 / continuous.frames_per_second,
        },
        HeavyRow {
            what: format!("a fresh session's walk to frame {} and that frame", last.0),
            frames: 1,
            seconds: fresh,
        },
    ])
}

/// The composition every capture figure uses, resized.
pub(super) fn capture_composition(
    request: &BenchRequest,
    (width, height): (u32, u32),
) -> Result<Composition, BenchError> {
    Ok(Composition::load(
        &request.fixtures.join("css-keyframes"),
        &Overrides {
            width: Some(width),
            height: Some(height),
            frame_count: Some(request.frames),
            ..Overrides::default()
        },
    )?)
}

fn browser_run(
    request: &BenchRequest,
    composition: &Composition,
    capture: CaptureMode,
) -> BrowserRun {
    BrowserRun::of(
        composition,
        RunSettings {
            capture,
            ..request.run.clone()
        },
    )
}

/// The raw-capture limit: BeginFrame with a screenshot per frame, nothing else.
pub(super) async fn raw_capture(
    request: &BenchRequest,
    composition: &Composition,
    format: RawFormat,
) -> Result<CaptureRow, BenchError> {
    // Without the virtual-time runtime the page's animations run on the BeginFrame ticks
    // themselves, so every frame has new pixels to raster, as in a real render.
    let run = BrowserRun {
        virtual_time: false,
        ..browser_run(request, composition, CaptureMode::BeginFrame)
    };
    let mut session = start_session(&run, &()).await?;
    let started = Instant::now();
    let mut bytes = 0;
    for i in 0..request.frames {
        bytes += session.capture_raw(FrameIndex(i), format).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    session.close().await;
    let name = match format {
        RawFormat::Png => "raw loop, png",
        RawFormat::PngFast => "raw loop, png optimized for speed",
        RawFormat::Jpeg => "raw loop, jpeg",
    };
    Ok(CaptureRow {
        size: size_of(composition),
        path: name.into(),
        frames: request.frames,
        frames_per_second: request.frames as f64 / seconds,
        picture_kib: Some(bytes as f64 * 0.75 / 1024.0 / request.frames as f64),
        stages: None,
    })
}

/// framelock's browser side alone: each frame seeked and captured by BeginFrame as in a render,
/// the picture dropped (no decode, hash or encoder beside it), to tell what the seek costs
/// from what sharing the CPUs with the sink costs.
pub(super) async fn seek_and_capture(
    request: &BenchRequest,
    composition: &Composition,
) -> Result<CaptureRow, BenchError> {
    let run = browser_run(request, composition, CaptureMode::BeginFrame);
    let mut session = start_session(&run, &()).await?;
    let started = Instant::now();
    for i in 0..request.frames {
        session.capture(FrameIndex(i)).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    session.close().await;
    Ok(CaptureRow {
        size: size_of(composition),
        path: SEEK_AND_CAPTURE.into(),
        frames: request.frames,
        frames_per_second: request.frames as f64 / seconds,
        picture_kib: None,
        stages: None,
    })
}

/// framelock's in-process path: capture, decode, hash and encode, in chunks of 60 frames.
pub(super) async fn framelock_capture(
    request: &BenchRequest,
    composition: &Composition,
    capture: CaptureMode,
) -> Result<CaptureRow, BenchError> {
    let run = browser_run(request, composition, capture);
    let work = tempfile::tempdir().map_err(|source| write_error("temporary folder", source))?;
    let work = Utf8Path::from_path(work.path()).expect("temporary folders have UTF-8 paths");
    let plan = ChunkPlan::by_size(
        FrameRange::new(0, request.frames).expect("the bench renders frames"),
        60,
    );
    let chunks = ChunkWork::all(&plan);
    let rendered = render_chunks(&run, &chunks, work, None, &()).await?;
    let stages = rendered.stages;
    Ok(CaptureRow {
        size: size_of(composition),
        path: format!("framelock in-process, {capture}"),
        frames: request.frames,
        frames_per_second: request.frames as f64 / stages.wall,
        picture_kib: None,
        stages: Some(per_frame_ms(stages, request.frames)),
    })
}

fn size_of(c: &Composition) -> String {
    format!("{}x{}", c.width, c.height)
}

/// Stage seconds as milliseconds per frame.
fn per_frame_ms(stages: StageSeconds, frames: u64) -> StageSeconds {
    let ms = |s: f64| s * 1000.0 / frames as f64;
    StageSeconds {
        seek: ms(stages.seek),
        capture: ms(stages.capture),
        decode: ms(stages.decode),
        hash: ms(stages.hash),
        pipe: ms(stages.pipe),
        finish: ms(stages.finish),
        wall: ms(stages.wall),
    }
}

/// In process, then 1 and 2 workers, uncached, with each worker's peak memory (its own and its
/// browser's and encoder's resident memory, sampled).
pub(super) async fn scaling(request: &BenchRequest) -> Result<Vec<ScalingRow>, BenchError> {
    let composition = capture_composition(request, (320, 180))?;
    let scratch = tempfile::tempdir().map_err(|source| write_error("temporary folder", source))?;
    let root = Utf8Path::from_path(scratch.path()).expect("temporary folders have UTF-8 paths");
    let store = Store::open(&root.join("store"))?;
    let chunk_size = request.frames.div_ceil(4).max(1);
    let started = Instant::now();
    render(
        &RenderRequest {
            composition: composition.clone(),
            output: root.join("in-process.mp4"),
            frames: None,
            chunk_size: Some(chunk_size),
            png_dir: None,
            run: request.run.clone(),
            strict: false,
            store: None,
            leak_wall_clock: None,
        },
        &(),
    )
    .await?;
    let mut rows = vec![ScalingRow {
        path: "in-process".into(),
        seconds: started.elapsed().as_secs_f64(),
        peak_worker_mib: None,
    }];
    for workers in [1, 2] {
        let sampler = MemorySampler::start();
        let started = Instant::now();
        render_distributed(
            &DistributedRequest {
                composition: composition.clone(),
                output: root.join(format!("workers-{workers}.mp4")),
                chunk_size: Some(chunk_size),
                workers,
                run: request.run.clone(),
                strict: false,
                store: store.clone(),
                use_cache: false,
                worker_exe: request.worker_exe.clone(),
                max_attempts: 1,
                inject: None,
                order: ChunkOrder::Forward,
            },
            &(),
        )
        .await?;
        let seconds = started.elapsed().as_secs_f64();
        rows.push(ScalingRow {
            path: format!("{workers} worker(s)"),
            seconds,
            peak_worker_mib: Some(sampler.stop()),
        });
    }
    Ok(rows)
}

/// Samples the resident memory of every worker (`render-chunk`) process tree of this process,
/// keeping the largest total any one reached.
struct MemorySampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<f64>,
}

impl MemorySampler {
    fn start() -> MemorySampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak: f64 = 0.0;
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                for kib in worker_trees_kib() {
                    peak = peak.max(kib as f64 / 1024.0);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        });
        MemorySampler { stop, thread }
    }

    fn stop(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap_or(0.0)
    }
}

/// The resident KiB of each worker process with all its descendants.
fn worker_trees_kib() -> Vec<u64> {
    let mut parent = BTreeMap::new();
    let mut rss = BTreeMap::new();
    let mut workers = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        parent.insert(pid, field("PPid:").unwrap_or(0) as u32);
        rss.insert(pid, field("VmRSS:").unwrap_or(0));
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|arg| arg == b"render-chunk") {
            workers.push(pid);
        }
    }
    workers
        .into_iter()
        .map(|worker| {
            rss.iter()
                .filter(|(pid, _)| {
                    let mut p = **pid;
                    for _ in 0..16 {
                        if p == worker {
                            return true;
                        }
                        p = match parent.get(&p) {
                            Some(&up) if up != 0 => up,
                            _ => return false,
                        };
                    }
                    false
                })
                .map(|(_, kib)| kib)
                .sum()
        })
        .collect()
}

/// blake3 against sha256 over frame-sized buffers, and packing, unpacking and verifying a
/// bundle of a few hundred files.
pub(super) async fn hashing(request: &BenchRequest) -> Result<Vec<HashingRow>, BenchError> {
    let frame = vec![0x5au8; 1280 * 720 * 4];
    let rounds = if request.quick { 8 } else { 64 };
    let mib = (frame.len() * rounds) as f64 / (1 << 20) as f64;
    let started = Instant::now();
    for i in 0..rounds {
        std::hint::black_box(blake3::hash(&frame[i % 4..]));
    }
    let blake3_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for i in 0..rounds {
        std::hint::black_box(Sha256::digest(&frame[i % 4..]));
    }
    let sha256_s = started.elapsed().as_secs_f64();
    let mut rows = vec![
        HashingRow {
            what: "blake3, 1280x720 RGBA frames".into(),
            mib_per_second: mib / blake3_s,
            seconds: blake3_s,
        },
        HashingRow {
            what: "sha256, 1280x720 RGBA frames".into(),
            mib_per_second: mib / sha256_s,
            seconds: sha256_s,
        },
    ];

    let scratch = tempfile::tempdir().map_err(|source| write_error("temporary folder", source))?;
    let root = Utf8Path::from_path(scratch.path()).expect("temporary folders have UTF-8 paths");
    let files = if request.quick { 50 } else { 300 };
    let composition_dir = many_files(root, files)?;
    let composition = Composition::load(&composition_dir, &Overrides::default())?;
    let bundle = plan_bundle(
        Planning {
            composition: &composition,
            settings: &request.run,
            chunking: None,
            store: None,
        },
        &root.join("bundle"),
        &(),
    )
    .await?
    .bundle;
    let bytes: u64 = bundle.verify()?.0.iter().map(|e| e.size).sum();
    let mib = bytes as f64 / (1 << 20) as f64;
    let timed = |what: String,
                 run: &dyn Fn() -> Result<(), crate::bundle::BundleError>|
     -> Result<HashingRow, BenchError> {
        let started = Instant::now();
        run()?;
        let seconds = started.elapsed().as_secs_f64();
        Ok(HashingRow {
            what,
            mib_per_second: mib / seconds,
            seconds,
        })
    };
    let archive = root.join("bundle.tar.zst");
    rows.push(timed(format!("pack a bundle of {files} files"), &|| {
        pack(&bundle.dir, &archive).map(|_| ())
    })?);
    rows.push(timed("unpack it".into(), &|| {
        unpack_bundle(&archive, &root.join("unpacked"), 1 << 32).map(|_| ())
    })?);
    rows.push(timed("verify it".into(), &|| {
        Bundle::open(&root.join("unpacked"))?.verify()?;
        Ok(())
    })?);
    Ok(rows)
}

/// A composition folder with `count` small asset files beside its page.
fn many_files(root: &Utf8Path, count: usize) -> Result<Utf8PathBuf, BenchError> {
    let dir = root.join("many-files");
    let assets = dir.join("assets");
    std::fs::create_dir_all(&assets).map_err(|source| write_error(assets.as_str(), source))?;
    let page = "<!DOCTYPE html><html><body style=\"margin:0;background:#123\"></body></html>";
    let write = |path: Utf8PathBuf, bytes: &[u8]| {
        std::fs::write(&path, bytes).map_err(|source| write_error(path.as_str(), source))
    };
    write(dir.join("index.html"), page.as_bytes())?;
    write(
        dir.join("meta.json"),
        br#"{"renderConfig": {"fps": 24, "width": 160, "height": 90, "duration": 1}}"#,
    )?;
    for i in 0..count {
        let body: Vec<u8> = (0..16 * 1024)
            .map(|j| ((i * 31 + j * 7) % 251) as u8)
            .collect();
        write(assets.join(format!("asset-{i:04}.bin")), &body)?;
    }
    Ok(dir)
}

/// framelock's compare against ffmpeg's psnr filter, on two 1080p videos that differ in every
/// frame and on two identical ones.
pub(super) fn comparison(request: &BenchRequest) -> Result<Vec<CompareRow>, BenchError> {
    let scratch = tempfile::tempdir().map_err(|source| write_error("temporary folder", source))?;
    let root = Utf8Path::from_path(scratch.path()).expect("temporary folders have UTF-8 paths");
    let ffmpeg = &request.run.toolchain.ffmpeg.real;
    let frames = request.frames;
    let make = |source: &str, out: &Utf8Path| -> Result<(), EncodeError> {
        let frames = frames.to_string();
        run_ffmpeg(
            ffmpeg,
            &[
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                source,
                "-frames:v",
                &frames,
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-qp",
                "10",
                "-pix_fmt",
                "yuv420p",
                out.as_str(),
            ],
        )
        .map(|_| ())
    };
    let (a, b) = (root.join("a.mp4"), root.join("b.mp4"));
    make("testsrc2=size=1920x1080:rate=30", &a)?;
    make("testsrc2=size=1920x1080:rate=30,hue=h=20", &b)?;
    let same = root.join("a-copy.mp4");
    std::fs::copy(&a, &same).map_err(|source| write_error(same.as_str(), source))?;
    let mut rows = Vec::new();
    for (case, other) in [("every frame differs", &b), ("identical", &same)] {
        let started = Instant::now();
        compare_videos(ffmpeg, &a, other, 1920, 1080)?;
        let framelock = started.elapsed().as_secs_f64();
        let started = Instant::now();
        run_ffmpeg(
            ffmpeg,
            &[
                "-hide_banner",
                "-loglevel",
                "error",
                "-i",
                a.as_str(),
                "-i",
                other.as_str(),
                "-lavfi",
                "psnr",
                "-f",
                "null",
                "-",
            ],
        )?;
        let ffmpeg_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        decode_into_pipes(ffmpeg, &[&a, other], 1920 * 1080 * 3 / 2)?;
        let floor = started.elapsed().as_secs_f64();
        rows.push(CompareRow {
            case: case.into(),
            frames,
            framelock_seconds: framelock,
            ffmpeg_psnr_seconds: ffmpeg_s,
            decode_into_pipes_seconds: floor,
        });
    }
    Ok(rows)
}

/// Decodes `videos` at once, each by its own ffmpeg into a pipe, reading every frame of
/// `frame_len` bytes and dropping it: what compare pays before comparing anything.
fn decode_into_pipes(
    ffmpeg: &Utf8Path,
    videos: &[&Utf8Path],
    frame_len: usize,
) -> Result<(), EncodeError> {
    let readers = videos
        .iter()
        .map(|v| FrameReader::start(ffmpeg, v, "yuv420p"))
        .collect::<Result<Vec<_>, _>>()?;
    std::thread::scope(|scope| {
        let drains: Vec<_> = readers
            .into_iter()
            .map(|mut reader| {
                scope.spawn(move || {
                    let mut frame = vec![0u8; frame_len];
                    while reader.next(&mut frame)? {}
                    reader.finish()
                })
            })
            .collect();
        drains
            .into_iter()
            .try_for_each(|d| d.join().expect("draining a pipe does not panic"))
    })
}

/// `regress` of the fixtures twice on a fresh store (the second reuses every passed fixture
/// whole), then once more with the stored fixture results set aside (only the chunks reused).
pub(super) async fn cache(
    request: &BenchRequest,
    reporter: &dyn Reporter,
) -> Result<CacheRun, BenchError> {
    let scratch = tempfile::tempdir().map_err(|source| write_error("temporary folder", source))?;
    let root = Utf8Path::from_path(scratch.path()).expect("temporary folders have UTF-8 paths");
    let regress_request = RegressRequest {
        fixtures: request.fixtures.clone(),
        baselines: request.fixtures.with_file_name("baselines"),
        report_dir: root.join("report"),
        only: if request.quick {
            vec!["css-keyframes".into()]
        } else {
            Vec::new()
        },
        mode: RegressMode::DistributedSimulated,
        workers: 2,
        update: false,
        strict: true,
        run: request.run.clone(),
        store: Store::open(&root.join("store"))?,
        worker_exe: request.worker_exe.clone(),
        inject: None,
        executor: None,
        use_cache: true,
        repeat: 1,
        as_written: false,
    };
    let started = Instant::now();
    let first = regress(&regress_request, reporter).await?;
    let first_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let second = regress(&regress_request, reporter).await?;
    let second_s = started.elapsed().as_secs_f64();
    let mut by_fixture: Vec<(String, f64)> = second
        .fixtures
        .iter()
        .map(|f| (f.name.clone(), f.seconds))
        .collect();
    by_fixture.sort_by(|a, b| b.1.total_cmp(&a.1));
    let not_reused = second
        .fixtures
        .iter()
        .filter(|f| !f.reused)
        .map(|f| (f.name.clone(), f.status.to_string()))
        .collect();
    let store = &regress_request.store;
    for (key, _) in store.keys(Index::Results)? {
        store.remove_key(Index::Results, &key)?;
    }
    let started = Instant::now();
    regress(&regress_request, reporter).await?;
    let chunks_only_s = started.elapsed().as_secs_f64();
    Ok(CacheRun {
        fixtures: first.fixtures.len(),
        first_seconds: first_s,
        second_seconds: second_s,
        second_by_fixture: by_fixture,
        not_reused,
        chunks_only_seconds: chunks_only_s,
    })
}

fn write_error(what: &str, source: std::io::Error) -> BenchError {
    BenchError::Io {
        path: Utf8PathBuf::from(what),
        source,
    }
}
