//! The in-process render: plan the frames, start one browser, capture every frame of every chunk
//! in order, encode each chunk, join them, and move the finished files into place.
//!
//! Nothing is written where the user asked for output until everything succeeded: the work
//! happens in a temporary folder beside the output, and the video, its `frames.json` and any
//! PNGs are renamed into place at the end. Errors, panics and Ctrl-C drop the folder, the
//! encoders and the browser.

use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};

use super::pipeline::{Sink, SinkConfig};
use super::record::{FRAMES_FORMAT_VERSION, Fingerprints, FramesRecord, frames_record_path};
use super::settings::{RenderSettings, render_settings_fingerprint};
use crate::browser::{
    BrowserError, CaptureMode, LaunchSpec, PageEventKind, RuntimeConfig, SandboxPolicy, Session,
    SessionConfig,
};
use crate::composition::{Composition, DurationSource, DurationSpec};
use crate::encode::{EncoderSettings, concat};
use crate::error::{Error, exit_code};
use crate::report::{RenderEvent, Reporter};
use crate::timing::{ChunkPlan, FrameRange};
use crate::toolchain::{Toolchain, ToolchainFingerprint};

/// A render as the engine sees it: every value validated, every path decided.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// The composition, loaded.
    pub composition: Composition,
    /// The video to write.
    pub output: Utf8PathBuf,
    /// Only these frames (default: all).
    pub frames: Option<FrameRange>,
    /// Encoder restart interval (default: `renderConfig.chunkSize`, else one chunk).
    pub chunk_size: Option<u64>,
    /// Also write each rendered frame as a PNG here.
    pub png_dir: Option<Utf8PathBuf>,
    /// How frames are captured.
    pub capture: CaptureMode,
    /// Chrome's sandbox.
    pub sandbox: SandboxPolicy,
    /// Fail when the page requested anything outside the composition.
    pub strict: bool,
    /// The virtual-time runtime (off only to debug, or to prove the tests can fail).
    pub virtual_time: bool,
    /// Time allowed for one seek or one capture.
    pub frame_timeout: Duration,
    /// The tools.
    pub toolchain: Toolchain,
}

/// Why a render failed, beyond the browser's and the encoder's own errors.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The page gives no duration and none was configured.
    #[error(
        "{index}: the page declares no duration: set renderConfig.duration in meta.json, data-duration on the root element, window.__hf.duration, or pass --duration"
    )]
    NoDuration {
        /// The composition's index.html.
        index: Utf8PathBuf,
    },
    /// The duration rounds to zero frames.
    #[error("{index}: the duration gives no frames at {fps} fps")]
    NoFrames {
        /// The composition's index.html.
        index: Utf8PathBuf,
        /// The frame rate.
        fps: String,
    },
    /// `--frames` reaches past the end.
    #[error("--frames {range}: the composition has only {total} frames (0..{total})")]
    RangeOutside {
        /// The requested range.
        range: FrameRange,
        /// Frames in the composition.
        total: u64,
    },
    /// The output location cannot be written.
    #[error("{path}: cannot write output here: {source}")]
    Output {
        /// The path.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The page requested URLs outside the composition and `--strict` is on.
    #[error(
        "hermeticity: the page requested {count} URL(s) outside the composition (first at frame {frame}: {url}); --strict makes this a failure"
    )]
    Hermeticity {
        /// How many requests were blocked.
        count: usize,
        /// The first one.
        url: String,
        /// Its frame, or `load`.
        frame: String,
    },
    /// The frame sink stopped without saying why.
    #[error("the encoder thread stopped unexpectedly")]
    SinkStopped,
}

impl RenderError {
    /// Input problems exit 2; a hermeticity hole is a finding (exit 1).
    pub fn exit_code(&self) -> i32 {
        match self {
            RenderError::Hermeticity { .. } => exit_code::REGRESSION,
            RenderError::SinkStopped => exit_code::ENVIRONMENT,
            _ => exit_code::INPUT,
        }
    }
}

/// Renders `request`, reporting progress to `reporter`; returns the record that was written
/// beside the video.
pub async fn render(
    request: &RenderRequest,
    reporter: &dyn Reporter,
) -> Result<FramesRecord, Error> {
    let comp = &request.composition;
    let work = work_dir(&request.output)?;
    let work_path = Utf8Path::from_path(work.path())
        .expect("the work folder is named from a UTF-8 path")
        .to_owned();

    reporter.report(&RenderEvent::Fingerprinting);
    let toolchain = request.toolchain.clone();
    let fingerprint =
        tokio::task::spawn_blocking(move || ToolchainFingerprint::compute(&toolchain))
            .await
            .expect("fingerprinting does not panic")?;
    let settings = RenderSettings {
        capture: request.capture,
        encoder: EncoderSettings::default(),
        virtual_time: request.virtual_time,
    };

    let sandbox = request.sandbox.decide();
    if let Some(reason) = sandbox.reason.filter(|_| sandbox.disabled) {
        reporter.report(&RenderEvent::SandboxDisabled { reason });
    }
    let session_config = SessionConfig {
        launch: LaunchSpec::new(&request.toolchain, request.capture, &sandbox),
        capture: request.capture,
        width: comp.width,
        height: comp.height,
        runtime: RuntimeConfig {
            fps: comp.fps,
            seed: comp.seed,
            variables: comp.variables.clone(),
            virtual_time: request.virtual_time,
        },
        root: comp.dir.clone(),
        frame_timeout: request.frame_timeout,
    };
    let mut session = Session::start(session_config).await?;
    let renderer = session.gpu_renderer().await?;
    if !renderer.contains("SwiftShader") {
        return Err(BrowserError::GpuNotSoftware { renderer }.into());
    }

    let (total, duration_source) = match comp.duration {
        DurationSpec::Frames(n) => (n, DurationSource::CommandLine),
        DurationSpec::Seconds(s, source) => (comp.fps.frames_in(s), source),
        DurationSpec::FromPage => match session.page_duration().await? {
            Some((s, source)) => (comp.fps.frames_in(s), source),
            None => {
                return Err(RenderError::NoDuration {
                    index: comp.index(),
                }
                .into());
            }
        },
    };
    let all = FrameRange::new(0, total).ok_or_else(|| RenderError::NoFrames {
        index: comp.index(),
        fps: comp.fps.to_string(),
    })?;
    let range = match request.frames {
        Some(r) if r.end().0 > total => {
            return Err(RenderError::RangeOutside { range: r, total }.into());
        }
        Some(r) => r,
        None => all,
    };
    let plan = match request.chunk_size.or(comp.chunk_size) {
        Some(size) => ChunkPlan::by_size(range, size),
        None => ChunkPlan::single(range),
    };

    let png_work = request.png_dir.as_ref().map(|_| work_path.join("png"));
    if let Some(dir) = &png_work {
        std::fs::create_dir_all(dir).map_err(|source| RenderError::Write {
            path: dir.clone(),
            source,
        })?;
    }
    let mut sink = Sink::start(SinkConfig {
        ffmpeg: request.toolchain.ffmpeg.real.clone(),
        encoder: settings.encoder.clone(),
        width: comp.width,
        height: comp.height,
        fps: comp.fps,
        png_dir: png_work.clone(),
    });

    reporter.report(&RenderEvent::Started {
        name: comp.name.clone(),
        range,
        capture: request.capture,
        browser_pid: session.browser_pid(),
    });
    let started = Instant::now();
    let mut reported_events = 0;
    for (index, chunk) in plan.chunks().iter().enumerate() {
        sink.start_chunk(*chunk, work_path.join(format!("chunk_{index:06}.mp4")))?;
        for frame in chunk.frames() {
            let png = session.capture(frame).await?;
            sink.frame(frame, png)?;
            reporter.report(&RenderEvent::FrameCaptured { frame });
            let events = session.log().events();
            for event in &events[reported_events..] {
                reporter.report(&RenderEvent::Page(event.clone()));
            }
            reported_events = events.len();
        }
        sink.end_chunk()?;
    }
    let page_events = session.log().events();
    session.close().await;
    let output = sink.finish()?;

    if request.strict {
        let blocked: Vec<_> = page_events
            .iter()
            .filter_map(|e| match &e.kind {
                PageEventKind::BlockedRequest { url } => Some((e.frame, url.clone())),
                _ => None,
            })
            .collect();
        if let Some((frame, url)) = blocked.first() {
            return Err(RenderError::Hermeticity {
                count: blocked.len(),
                url: url.clone(),
                frame: frame.map_or_else(|| "load".to_string(), |f| f.to_string()),
            }
            .into());
        }
    }

    let video = work_path.join("output.mp4");
    concat(&request.toolchain.ffmpeg.real, &output.chunks, &video)?;
    let record = FramesRecord {
        format_version: FRAMES_FORMAT_VERSION,
        composition: comp.name.clone(),
        fps: comp.fps,
        width: comp.width,
        height: comp.height,
        total_frames: total,
        duration_source,
        range,
        frame_count: output.hashes.len() as u64,
        capture_mode: request.capture,
        virtual_time: request.virtual_time,
        chunk_plan: plan,
        fingerprints: Fingerprints {
            toolchain: fingerprint.hash.clone(),
            render_settings: render_settings_fingerprint(&settings),
            chrome_version: fingerprint.chrome_version.clone(),
            ffmpeg_version: fingerprint.ffmpeg_version.clone(),
        },
        frame_hashes: output.hashes,
        page_events,
    };
    let record_work = work_path.join("frames.json");
    let json = serde_json::to_string_pretty(&record).expect("the record serialises");
    std::fs::write(&record_work, json + "\n").map_err(|source| RenderError::Write {
        path: record_work.clone(),
        source,
    })?;

    // Everything succeeded: move the results into place.
    if let (Some(dir), Some(src)) = (&request.png_dir, &png_work) {
        publish_pngs(src, dir)?;
    }
    let record_path = frames_record_path(&request.output);
    rename(&record_work, &record_path)?;
    rename(&video, &request.output)?;
    reporter.report(&RenderEvent::Finished {
        output: request.output.clone(),
        record: record_path,
        frames: record.frame_count,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(record)
}

/// A temporary folder beside the output, so the final rename stays on one filesystem. Creating
/// it is also the check that the output location is writable, before any work starts.
fn work_dir(output: &Utf8Path) -> Result<tempfile::TempDir, Error> {
    let parent = match output.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    if output.is_dir() {
        return Err(RenderError::Output {
            path: output.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        }
        .into());
    }
    tempfile::Builder::new()
        .prefix(".framelock-render-")
        .tempdir_in(&parent)
        .map_err(|source| {
            RenderError::Output {
                path: output.to_owned(),
                source,
            }
            .into()
        })
}

fn rename(from: &Utf8Path, to: &Utf8Path) -> Result<(), Error> {
    std::fs::rename(from, to).map_err(|source| {
        RenderError::Write {
            path: to.to_owned(),
            source,
        }
        .into()
    })
}

fn publish_pngs(from: &Utf8Path, to: &Utf8Path) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(|source| RenderError::Write {
        path: to.to_owned(),
        source,
    })?;
    let entries = from.read_dir_utf8().map_err(|source| RenderError::Write {
        path: from.to_owned(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| RenderError::Write {
            path: from.to_owned(),
            source,
        })?;
        let target = to.join(entry.file_name());
        // The work folder may sit on another filesystem than the PNG folder.
        if std::fs::rename(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).map_err(|source| RenderError::Write {
                path: target.clone(),
                source,
            })?;
        }
    }
    Ok(())
}
