//! Running the reference render and every variation, and holding each against the reference.
//!
//! Each render is `framelock render` run as a child process, so a variation of the
//! environment (time zone, locale, CPU affinity) reaches framelock and everything it starts,
//! as it would on another machine. Frames are compared by their raw-pixel hashes: other chunk
//! plans encode other bytes by design.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use super::error::VaryError;
use super::variation::Variation;
use crate::bisect::{RunsDiff, diff_runs};
use crate::browser::{ElementShare, describe_elements};
use crate::composition::{Composition, Overrides};
use crate::drift::FindingKind;
use crate::render::RunSettings;
use crate::report::{RenderEvent, Reporter};
use crate::store::Store;

/// The version of `vary.json`'s format (README, "Machine-readable files").
pub const VARY_FORMAT_VERSION: u32 = 1;

/// A `vary` run.
#[derive(Debug, Clone)]
pub struct VaryRequest {
    /// The composition folder.
    pub composition: Utf8PathBuf,
    /// The variations to try, in order.
    pub variations: Vec<Variation>,
    /// The framelock binary that renders.
    pub exe: Utf8PathBuf,
    /// Arguments every render gets (the tools, located once).
    pub common_args: Vec<String>,
    /// ffmpeg, for comparing the videos of renders that differ.
    pub ffmpeg: Utf8PathBuf,
    /// Where the renders, their pictures and `vary.json` go.
    pub out_dir: Utf8PathBuf,
    /// How the browser that names the differing elements runs.
    pub run: RunSettings,
}

/// How one variation came out.
#[derive(Debug, Clone, Serialize)]
pub struct VariationResult {
    /// Its name.
    pub name: Variation,
    /// What it changes.
    pub description: String,
    /// Whether every frame's pixels equal the reference's.
    pub identical: bool,
    /// Frames compared.
    pub frames: usize,
    /// Frames whose pixels differ.
    pub differing_frames: usize,
    /// The first of them.
    pub first_differing_frame: Option<u64>,
    /// The drift it is, when frames differ.
    pub kind: Option<FindingKind>,
    /// Pictures of its worst frame against the reference, relative to the output folder.
    pub pictures: Option<[Utf8PathBuf; 3]>,
    /// The page elements covering that frame's differing pixels, largest share first.
    pub elements: Vec<ElementShare>,
    /// Why the elements could not be named, when they could not.
    pub elements_unavailable: Option<String>,
    /// Wall-clock seconds of its render.
    pub seconds: f64,
}

impl VariationResult {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        // Named only where a worst frame was pictured.
        let elements = match self.pictures {
            Some(_) => format!(
                "; elements: {}",
                describe_elements(&self.elements, self.elements_unavailable.as_deref(), 3)
            ),
            None => String::new(),
        };
        match (self.first_differing_frame, self.kind) {
            (Some(first), kind) => format!(
                "{:<15} DIFFERS  {} of {} frames, the first at frame {first}{} ({}){elements}",
                self.name.name(),
                self.differing_frames,
                self.frames,
                kind.map_or(String::new(), |k| format!(": {k}")),
                self.description
            ),
            (None, _) => format!(
                "{:<15} identical ({}, {:.1} s)",
                self.name.name(),
                self.description,
                self.seconds
            ),
        }
    }
}

/// `vary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct VaryReport {
    /// [`VARY_FORMAT_VERSION`].
    pub format_version: u32,
    /// The composition.
    pub composition: Utf8PathBuf,
    /// What every variation is held against.
    pub reference: String,
    /// The variations, in the order they ran.
    pub variations: Vec<VariationResult>,
}

impl VaryReport {
    /// 0 when every variation was identical, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.variations.iter().all(|v| v.identical) {
            crate::exit_code::SUCCESS
        } else {
            crate::exit_code::REGRESSION
        }
    }
}

/// Renders the reference, then every variation, and writes `vary.json`.
pub async fn vary(request: &VaryRequest, reporter: &dyn Reporter) -> Result<VaryReport, VaryError> {
    // Read first: a composition that cannot be read fails here, once, with its own error, and
    // its format names the videos (a WebM composition renders only to `.webm`).
    let container = Composition::load(&request.composition, &Overrides::default())?
        .format
        .codec()
        .container();
    let out = &request.out_dir;
    std::fs::create_dir_all(out).map_err(|source| VaryError::Write {
        path: out.clone(),
        source,
    })?;
    // Every render has a store of its own, empty at the start, gone at the end.
    let stores_dir = tempfile::Builder::new()
        .prefix(".stores-")
        .tempdir_in(out)
        .map_err(|source| VaryError::Write {
            path: out.clone(),
            source,
        })?;
    let stores = Utf8Path::from_path(stores_dir.path()).expect("a UTF-8 folder holds UTF-8 names");
    let reference = out.join(format!("reference.{container}"));
    let reference_store = stores.join("reference");
    // Cached into its empty store, so the store keeps the bundle the elements are read from.
    ChildRender {
        cached: true,
        ..ChildRender::plain("reference", &reference, &reference_store)
    }
    .run(request)
    .await?;
    let reference_store = Store::open(&reference_store)?;
    let mut results = Vec::new();
    for &variation in &request.variations {
        reporter.report(&RenderEvent::VariationStarted {
            name: variation.name().into(),
            description: variation.describe().into(),
        });
        let started = Instant::now();
        let video = out.join(format!("{}.{container}", variation.name()));
        render_variation(request, variation, &video, &stores.join(variation.name())).await?;
        let pictures = out.join(variation.name());
        let mut diff = diff_runs(&request.ffmpeg, &reference, &video, &pictures)?;
        diff.name_elements(Ok(reference_store.clone()), request.run.clone())
            .await;
        let result = judge(variation, &diff, out, started.elapsed().as_secs_f64());
        reporter.report(&RenderEvent::VariationJudged {
            line: result.line(),
        });
        results.push(result);
    }
    let report = VaryReport {
        format_version: VARY_FORMAT_VERSION,
        composition: request.composition.clone(),
        reference: "in process, framelock's environment as it is, an empty store".into(),
        variations: results,
    };
    let path = out.join("vary.json");
    let json = serde_json::to_string_pretty(&report).expect("the report serialises");
    crate::staging::write_file(&path, "vary.json", json.as_bytes())
        .map_err(|source| VaryError::Write { path, source })?;
    Ok(report)
}

/// The result of one variation from its comparison with the reference.
fn judge(variation: Variation, diff: &RunsDiff, out: &Utf8Path, seconds: f64) -> VariationResult {
    let kind = diff.first_frame.map(|_| match &diff.finding {
        Some(finding) => finding.kind,
        // Across chunk plans (another bundle) the chunk's drift cannot be read from one
        // plan: a worker started fresh there.
        None if variation.distributed() => FindingKind::ChunkBoundary,
        // The in-process path does not give the same frames under another condition.
        None => FindingKind::Nondeterministic,
    });
    let pictures = diff.images.as_ref().map(|(images, dir)| {
        let rel = |p: &Utf8Path| {
            let full = dir.join(p);
            full.strip_prefix(out)
                .map_or(full.clone(), Utf8Path::to_owned)
        };
        [
            rel(&images.reference),
            rel(&images.candidate),
            rel(&images.diff),
        ]
    });
    VariationResult {
        name: variation,
        description: variation.describe().into(),
        identical: diff.is_same(),
        frames: diff.frames,
        differing_frames: diff.differing,
        first_differing_frame: diff.first_frame,
        kind,
        pictures,
        elements: diff
            .images
            .as_ref()
            .map(|(images, _)| images.elements.clone())
            .unwrap_or_default(),
        elements_unavailable: diff
            .images
            .as_ref()
            .and_then(|(images, _)| images.elements_unavailable.clone()),
        seconds,
    }
}

/// One variation's render, with what it puts beside the render running meanwhile.
async fn render_variation(
    request: &VaryRequest,
    variation: Variation,
    video: &Utf8Path,
    store: &Utf8Path,
) -> Result<(), VaryError> {
    let _beside = match variation {
        Variation::CpuLoad => Some(Beside::busy_threads()),
        Variation::Memory => Some(Beside::memory_hog()?),
        _ => None,
    };
    let child = ChildRender {
        args: variation.render_args(),
        env: variation.env(),
        one_cpu: variation == Variation::OneCpu,
        cached: variation == Variation::WarmStore,
        ..ChildRender::plain(variation.name(), video, store)
    };
    if variation == Variation::WarmStore {
        // The first render fills the store; the second reads every chunk back from it.
        let first = video.with_file_name(format!(
            "warm-store-first.{}",
            video.extension().unwrap_or("mp4")
        ));
        ChildRender {
            video: &first,
            ..child.clone()
        }
        .run(request)
        .await?;
    }
    child.run(request).await
}

/// One `framelock render` in a child process.
#[derive(Debug, Clone)]
struct ChildRender<'a> {
    /// The reference or a variation's name, for errors.
    what: &'a str,
    /// The video to write.
    video: &'a Utf8Path,
    /// Arguments besides the composition, the output and the request's common ones.
    args: Vec<&'static str>,
    /// Environment variables set.
    env: Vec<(&'static str, &'static str)>,
    /// Its own store.
    store: &'a Utf8Path,
    /// Pinned to CPU 0.
    one_cpu: bool,
    /// With the cache (else `--no-cache`).
    cached: bool,
}

impl<'a> ChildRender<'a> {
    /// A render in framelock's environment as it is, without the cache.
    fn plain(what: &'a str, video: &'a Utf8Path, store: &'a Utf8Path) -> ChildRender<'a> {
        ChildRender {
            what,
            video,
            args: Vec::new(),
            env: Vec::new(),
            store,
            one_cpu: false,
            cached: false,
        }
    }

    async fn run(&self, request: &VaryRequest) -> Result<(), VaryError> {
        let mut cmd = tokio::process::Command::new(&request.exe);
        cmd.arg("render")
            .arg(&request.composition)
            .arg("-o")
            .arg(self.video)
            .args(&self.args)
            .args(&request.common_args)
            .env("FRAMELOCK_STORE", self.store)
            .envs(self.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Interrupted, vary takes its render (and so that render's browser) down with it.
            .kill_on_drop(true);
        if !self.cached {
            cmd.arg("--no-cache");
        }
        if self.one_cpu {
            pin_to_one_cpu(&mut cmd);
        }
        let output = cmd.output().await.map_err(|source| VaryError::Spawn {
            what: self.what.into(),
            exe: request.exe.clone(),
            source,
        })?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(VaryError::Render {
            what: self.what.into(),
            command: format!(
                "framelock render {} {}",
                request.composition,
                self.args.join(" ")
            ),
            code: output
                .status
                .code()
                .unwrap_or(crate::exit_code::ENVIRONMENT),
            // The error line, not the hint after it.
            message: stderr
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()))
                .unwrap_or("(nothing on stderr)")
                .to_string(),
        })
    }
}

/// Runs the child on one CPU alone (the first this process may use), as `taskset -c` would.
fn pin_to_one_cpu(cmd: &mut tokio::process::Command) {
    // SAFETY: sched_getaffinity only writes the set it is given.
    let cpu = unsafe {
        let mut mine: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut mine);
        (0..libc::CPU_SETSIZE as usize)
            .find(|&c| libc::CPU_ISSET(c, &mine))
            .unwrap_or(0)
    };
    // SAFETY: sched_setaffinity is async-signal-safe and touches only the child being started.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// What runs beside a render for as long as it lives: busy threads, or memory held.
struct Beside {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Beside {
    /// A thread spinning on every CPU.
    fn busy_threads() -> Beside {
        let stop = Arc::new(AtomicBool::new(false));
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..cpus)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Beside { stop, threads }
    }

    /// Half of `MemAvailable`, written page by page so it is really held (there may be no
    /// swap to push it to), released when the render ends.
    fn memory_hog() -> Result<Beside, VaryError> {
        let stop = Arc::new(AtomicBool::new(false));
        let bytes = mem_available().ok_or_else(|| VaryError::Write {
            path: "/proc/meminfo".into(),
            source: std::io::Error::other("no MemAvailable line to size the memory hog by"),
        })? / 2;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let held = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut hog = vec![0u8; bytes as usize];
            for page in hog.chunks_mut(4096) {
                page[0] = 1;
            }
            let _ = ready_tx.send(());
            while !held.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            std::hint::black_box(&hog);
        });
        let _ = ready_rx.recv();
        Ok(Beside {
            stop,
            threads: vec![thread],
        })
    }
}

impl Drop for Beside {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// `MemAvailable` of /proc/meminfo, in bytes.
fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
