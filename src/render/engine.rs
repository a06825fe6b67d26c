//! The one renderer: a browser walks the frames of a list of chunk ranges in order, the encoder
//! restarting at each chunk start.
//!
//! The in-process path gives it every chunk of the plan (one browser, all frames); a worker
//! gives it one chunk (a fresh browser that starts at the chunk's first frame). Nothing else
//! differs, which is what makes the two comparable.

use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};

use super::error::RenderError;
use super::pipeline::{EncodedChunk, Sink, SinkConfig};
use crate::browser::{
    BrowserError, CaptureMode, LaunchSpec, PageEvent, PageFault, RuntimeConfig, SandboxPolicy,
    Session, SessionConfig,
};
use crate::bundle::{Bundle, BundleError};
use crate::composition::{Composition, DurationSource};
use crate::encode::EncoderSettings;
use crate::media::{PageMedia, VideoFrames, VideoMode};
use crate::report::{RenderEvent, Reporter};
use crate::timing::{ChunkIndex, ChunkPlan, FrameRange};
use crate::toolchain::Toolchain;

/// How a browser renders, shared by every path.
#[derive(Debug, Clone)]
pub struct BrowserRun {
    /// The composition as the page sees it (a bundle's `compiled/` in practice).
    pub composition: Composition,
    /// Capture mode.
    pub capture: CaptureMode,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// The virtual-time runtime (off only to debug).
    pub virtual_time: bool,
    /// A self-test fault put into the page (`regress --inject`); `None` normally.
    pub fault: Option<PageFault>,
    /// How videos are shown.
    pub video_mode: VideoMode,
    /// The page's videos, when it has any (a bundle's, once planned).
    pub media: Option<PageMedia>,
    /// Time allowed for one seek or one capture.
    pub frame_timeout: Duration,
    /// The tools.
    pub toolchain: Toolchain,
    /// Encoder settings.
    pub encoder: EncoderSettings,
}

/// How a composition is rendered, for every path that starts from a composition folder: the
/// choices a user makes (capture, sandbox, videos, frame timeout, tools), everything else at
/// its default (no fault, videos not yet planned, the encoder settings of the composition's
/// codec).
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Capture mode.
    pub capture: CaptureMode,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// How videos are shown.
    pub video_mode: VideoMode,
    /// Time allowed for one seek or one capture.
    pub frame_timeout: Duration,
    /// The tools.
    pub toolchain: Toolchain,
    /// The virtual-time runtime: on, except to debug (`render --debug-real-time`).
    pub virtual_time: bool,
}

impl RunSettings {
    /// The default run on `toolchain`: BeginFrame capture, injected videos, the default frame
    /// timeout, virtual time.
    pub fn new(toolchain: Toolchain, sandbox: SandboxPolicy) -> RunSettings {
        RunSettings {
            capture: CaptureMode::BeginFrame,
            sandbox,
            video_mode: VideoMode::Inject,
            frame_timeout: DEFAULT_FRAME_TIMEOUT,
            toolchain,
            virtual_time: true,
        }
    }
}

/// The time one seek or one capture may take unless told otherwise (`--frame-timeout`).
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(30);

impl BrowserRun {
    /// A run of `composition` with `settings` and everything else at its default.
    pub fn of(composition: &Composition, settings: RunSettings) -> BrowserRun {
        BrowserRun {
            composition: composition.clone(),
            capture: settings.capture,
            sandbox: settings.sandbox,
            virtual_time: settings.virtual_time,
            fault: None,
            video_mode: settings.video_mode,
            media: None,
            frame_timeout: settings.frame_timeout,
            toolchain: settings.toolchain,
            encoder: EncoderSettings::for_codec(composition.format.codec()),
        }
    }

    /// A run of what `bundle` froze, with `settings`.
    pub fn for_bundle(bundle: &Bundle, settings: RunSettings) -> BrowserRun {
        BrowserRun::of(&bundle.composition(), settings).of_bundle(bundle)
    }

    /// The same run, of what `bundle` froze: its composition, its encoder settings and its
    /// media, so nothing outside the bundle is read.
    pub fn of_bundle(self, bundle: &Bundle) -> BrowserRun {
        BrowserRun {
            composition: bundle.composition(),
            encoder: bundle.encoder_settings(),
            media: bundle.page_media(),
            ..self
        }
    }
}

/// One chunk to render: its index in the plan and its frames.
#[derive(Debug, Clone, Copy)]
pub struct ChunkWork {
    /// Index in the chunk plan.
    pub index: ChunkIndex,
    /// Frames.
    pub range: FrameRange,
}

impl ChunkWork {
    /// Every chunk of `plan`, in order.
    pub fn all(plan: &ChunkPlan) -> Vec<ChunkWork> {
        plan.indexed()
            .map(|(index, range)| ChunkWork { index, range })
            .collect()
    }
}

/// A rendered chunk.
#[derive(Debug, Clone)]
pub struct RenderedChunk {
    /// Index in the chunk plan.
    pub index: ChunkIndex,
    /// Frames.
    pub range: FrameRange,
    /// blake3 of each frame's raw RGBA pixels.
    pub frame_hashes: Vec<String>,
    /// The encoded chunk (in the caller's work folder).
    pub file: Utf8PathBuf,
    /// Seconds spent on this chunk.
    pub seconds: f64,
    /// What the page logged during the chunk (load-time events go with the first chunk).
    pub page_events: Vec<PageEvent>,
    /// Per frame, the source frame each video showed (empty when the page has no video).
    pub video_frames: Vec<VideoFrames>,
}

/// The chunks one browser rendered, and where the time went.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The chunks, in order.
    pub chunks: Vec<RenderedChunk>,
    /// Seconds per stage over every frame.
    pub stages: StageSeconds,
}

/// Where a render's time went, per stage, summed over its frames. Capture runs on the async
/// side and the rest on the sink's thread, overlapping: the stages add up to more than `wall`.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StageSeconds {
    /// Seeking the page and waiting for its requests.
    pub seek: f64,
    /// BeginFrame (or the screenshot) and receiving the picture.
    pub capture: f64,
    /// Decoding the PNG.
    pub decode: f64,
    /// Hashing the pixels.
    pub hash: f64,
    /// Writing the pixels into the encoder's pipe.
    pub pipe: f64,
    /// Waiting for the encoders to finish.
    pub finish: f64,
    /// From the first capture to the last chunk encoded.
    pub wall: f64,
}

/// Starts a browser for `run`, checking that it rasterises in software.
pub async fn start_session(
    run: &BrowserRun,
    reporter: &dyn Reporter,
) -> Result<Session, RenderError> {
    let comp = &run.composition;
    let sandbox = run.sandbox.decide();
    if let Some(reason) = sandbox.reason.filter(|_| sandbox.disabled) {
        reporter.report(&RenderEvent::SandboxDisabled { reason });
    }
    let mut session = Session::start(SessionConfig {
        launch: LaunchSpec::new(&run.toolchain, run.capture, &sandbox),
        capture: run.capture,
        width: comp.width,
        height: comp.height,
        runtime: RuntimeConfig {
            fps: comp.fps,
            seed: comp.seed,
            variables: comp.variables.clone(),
            virtual_time: run.virtual_time,
            fault: run.fault,
            videos: run
                .media
                .as_ref()
                .map(|m| m.videos.clone())
                .unwrap_or_default(),
            video_mode: run.video_mode,
        },
        root: comp.dir.clone(),
        media_root: run.media.as_ref().map(|m| m.root.clone()),
        frame_timeout: run.frame_timeout,
    })
    .await?;
    let renderer = session.gpu_renderer().await?;
    if !renderer.contains("SwiftShader") {
        return Err(BrowserError::GpuNotSoftware { renderer }.into());
    }
    Ok(session)
}

/// Loads the page once to read the duration it declares (for compositions whose length only
/// the page knows).
pub async fn probe_duration(
    run: &BrowserRun,
    reporter: &dyn Reporter,
) -> Result<(f64, DurationSource), RenderError> {
    let mut session = start_session(run, reporter).await?;
    let duration = session.page_duration().await?;
    session.close().await;
    duration.ok_or_else(|| {
        BundleError::NoDuration {
            index: run.composition.index(),
        }
        .into()
    })
}

/// Renders `chunks`, in order, in one browser that starts at the first chunk's first frame;
/// encoded chunks go to `work`, PNGs (if asked) to `png_dir`.
pub async fn render_chunks(
    run: &BrowserRun,
    chunks: &[ChunkWork],
    work: &Utf8Path,
    png_dir: Option<&Utf8Path>,
    reporter: &dyn Reporter,
) -> Result<Rendered, RenderError> {
    let first = chunks.first().expect("at least one chunk is rendered");
    let last = chunks.last().expect("at least one chunk is rendered");
    let mut session = start_session(run, reporter).await?;
    let comp = &run.composition;
    let mut sink = Sink::start(SinkConfig {
        ffmpeg: run.toolchain.ffmpeg.real.clone(),
        encoder: run.encoder.clone(),
        width: comp.width,
        height: comp.height,
        fps: comp.fps,
        png_dir: png_dir.map(Utf8Path::to_owned),
    });
    reporter.report(&RenderEvent::Started {
        name: comp.name.clone(),
        range: FrameRange::new(first.range.start().0, last.range.end().0)
            .expect("chunks are non-empty and in order"),
        frames: chunks.iter().map(|c| c.range.len()).sum(),
        capture: run.capture,
        browser_pid: session.browser_pid(),
    });

    let started_all = Instant::now();
    let mut timings = Vec::with_capacity(chunks.len());
    let mut events_by_chunk = Vec::with_capacity(chunks.len());
    let mut videos_by_chunk = Vec::with_capacity(chunks.len());
    let has_videos = run.media.is_some();
    let mut reported = 0;
    for chunk in chunks {
        let started = Instant::now();
        sink.start_chunk(
            chunk.range,
            work.join(format!(
                "chunk_{:06}.{}",
                chunk.index,
                run.encoder.codec.container()
            )),
        )?;
        let mut videos = Vec::new();
        for frame in chunk.range.frames() {
            let png = session.capture(frame).await?;
            if has_videos {
                videos.push(session.video_frames().clone());
            }
            sink.frame(frame, png)?;
            reporter.report(&RenderEvent::FrameCaptured { frame });
        }
        sink.end_chunk()?;
        session.sync_events().await?;
        let events = session.log().events();
        for event in &events[reported..] {
            reporter.report(&RenderEvent::Page(event.clone()));
        }
        events_by_chunk.push(events[reported..].to_vec());
        videos_by_chunk.push(videos);
        reported = events.len();
        timings.push(started.elapsed().as_secs_f64());
    }
    let captured = session.seconds();
    let encoded = sink.finish()?;
    // The wall clock stops when the last chunk is encoded: closing the browser is not
    // rendering, and it runs after the frames are safe.
    let stages = StageSeconds {
        seek: captured.seek,
        capture: captured.capture,
        decode: encoded.seconds.decode,
        hash: encoded.seconds.hash,
        pipe: encoded.seconds.pipe,
        finish: encoded.seconds.finish,
        wall: started_all.elapsed().as_secs_f64(),
    };
    session.close().await;

    let chunks = encoded
        .chunks
        .into_iter()
        .zip(chunks)
        .zip(
            timings
                .into_iter()
                .zip(events_by_chunk)
                .zip(videos_by_chunk),
        )
        .map(
            |(
                (
                    EncodedChunk {
                        range,
                        hashes,
                        file,
                    },
                    work,
                ),
                ((seconds, page_events), video_frames),
            )| {
                RenderedChunk {
                    index: work.index,
                    range,
                    frame_hashes: hashes,
                    file,
                    seconds,
                    page_events,
                    video_frames,
                }
            },
        )
        .collect();
    Ok(Rendered { chunks, stages })
}
