//! One browser with one composition page: load, seek, capture.
//!
//! A [`Session`] owns the Chrome process, the DevTools connection and the page. It loads the
//! composition behind the network fence with the virtual-time runtime injected, then captures
//! frames on demand: seek the page to frame `i`, then either issue a BeginFrame at the tick
//! derived from `i` (deterministic mode) or take a screenshot (fallback mode). Frames must be
//! requested in increasing order; a session may start at any frame.

use std::time::Duration;

use camino::Utf8PathBuf;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::browser::GetBrowserCommandLineParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    self, EventRequestPaused, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::headless_experimental::{
    BeginFrameParams, ScreenshotParams, ScreenshotParamsFormat,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, CaptureScreenshotParams,
    NavigateParams,
};
use chromiumoxide::cdp::browser_protocol::target::CreateTargetParams;
use chromiumoxide::cdp::js_protocol::runtime::{
    EvaluateParams, EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use futures::StreamExt;
use tokio::task::JoinHandle;

use super::capture::{CaptureSeconds, RawFormat};
use super::events::{PageEventKind, PageLog};
use super::fence::InFlight;
use super::flags::CaptureMode;
use super::process::{ChromeProcess, LaunchSpec};
use super::runtime::RuntimeConfig;
use super::{BrowserError, environment, fence};
use crate::composition::DurationSource;
use crate::media::VideoFrames;
use crate::timing::{Fps, FrameIndex, frame_ticks, warmup_ticks};

/// What a session needs to know.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// How to start the browser (flags already chosen for the capture mode).
    pub launch: LaunchSpec,
    /// BeginFrame or screenshot capture.
    pub capture: CaptureMode,
    /// Viewport width in CSS pixels (device scale factor 1).
    pub width: u32,
    /// Viewport height in CSS pixels.
    pub height: u32,
    /// The injected runtime's settings.
    pub runtime: RuntimeConfig,
    /// The composition folder, served as the page's origin.
    pub root: Utf8PathBuf,
    /// The bundle folder whose `video-frames/` are served at `/__framelock/`, when the page
    /// has videos to inject.
    pub media_root: Option<Utf8PathBuf>,
    /// How long one seek or one capture may take before it counts as hung.
    pub frame_timeout: Duration,
}

/// A running browser with the composition loaded.
pub struct Session {
    // Field order matters on drop: tasks and the connection go first, the process last.
    tasks: Vec<JoinHandle<()>>,
    page: Page,
    browser: chromiumoxide::Browser,
    log: PageLog,
    fps: Fps,
    capture: CaptureMode,
    frame_timeout: Duration,
    width: u32,
    height: u32,
    /// The last frame drawn: captured, or drawn by the walk before the first capture.
    last: Option<FrameIndex>,
    videos: VideoFrames,
    root: Utf8PathBuf,
    in_flight: InFlight,
    /// Seconds spent seeking (and settling) and capturing, over every frame so far.
    seconds: CaptureSeconds,
    process: ChromeProcess,
}

impl Session {
    /// Starts a browser and loads the composition. Fails with the page's own exception if a
    /// script throws while loading.
    pub async fn start(config: SessionConfig) -> Result<Session, BrowserError> {
        // The fence compares canonical paths: a root reached through a symlink or given as a
        // relative path must be canonical too, or every file would be "outside".
        let root = config
            .root
            .canonicalize_utf8()
            .map_err(|source| BrowserError::NoRoot {
                path: config.root.clone(),
                source,
            })?;
        let spec = config.launch.clone();
        let process = tokio::task::spawn_blocking(move || ChromeProcess::launch(&spec))
            .await
            .expect("the launch task does not panic")?;
        let (browser, mut handler) = chromiumoxide::Browser::connect(process.ws_url().to_string())
            .await
            .map_err(|source| BrowserError::Cdp {
                action: "connecting to the DevTools endpoint".into(),
                source,
            })?;
        let mut tasks = vec![tokio::spawn(async move {
            // Errors here are unparsable messages; a closed socket ends the stream.
            while handler.next().await.is_some() {}
        })];

        let begin_frame = config.capture == CaptureMode::BeginFrame;
        let mut target = CreateTargetParams::new("about:blank");
        target.width = Some(i64::from(config.width));
        target.height = Some(i64::from(config.height));
        target.enable_begin_frame_control = Some(begin_frame);
        let page = browser
            .new_page(target)
            .await
            .map_err(|source| BrowserError::Cdp {
                action: "creating the page".into(),
                source,
            })?;

        let log = PageLog::new();
        let mut session = Session {
            tasks: Vec::new(),
            page,
            browser,
            log,
            fps: config.runtime.fps,
            capture: config.capture,
            frame_timeout: config.frame_timeout,
            width: config.width,
            height: config.height,
            last: None,
            videos: VideoFrames::new(),
            root,
            in_flight: InFlight::default(),
            seconds: CaptureSeconds::default(),
            process,
        };
        session.tasks.append(&mut tasks);
        session.prepare(&config).await?;
        Ok(session)
    }

    async fn prepare(&mut self, config: &SessionConfig) -> Result<(), BrowserError> {
        let page = self.page.clone();
        self.run(
            "pinning the viewport and screen",
            page.execute(environment::device_metrics(config.width, config.height)),
        )
        .await?;
        self.run(
            "pinning navigator.hardwareConcurrency",
            page.execute(environment::hardware_concurrency()),
        )
        .await?;
        self.run(
            "pinning the media features",
            page.execute(environment::media_features()),
        )
        .await?;
        self.run(
            "pinning the generic font families",
            page.execute(environment::font_families()),
        )
        .await?;
        let script = config.runtime.script();
        self.run(
            "injecting the virtual-time runtime",
            page.execute(AddScriptToEvaluateOnNewDocumentParams::new(script)),
        )
        .await?;

        let console = self.listen::<EventConsoleApiCalled>().await?;
        let log = self.log.clone();
        self.tasks.push(tokio::spawn(async move {
            let mut console = console;
            while let Some(event) = console.next().await {
                let text = event
                    .args
                    .iter()
                    .map(remote_text)
                    .collect::<Vec<_>>()
                    .join(" ");
                let level = format!("{:?}", event.r#type).to_ascii_lowercase();
                log.push(PageEventKind::Console { level, text });
            }
        }));
        let exceptions = self.listen::<EventExceptionThrown>().await?;
        let log = self.log.clone();
        self.tasks.push(tokio::spawn(async move {
            let mut exceptions = exceptions;
            while let Some(event) = exceptions.next().await {
                let d = &event.exception_details;
                let text = d
                    .exception
                    .as_ref()
                    .and_then(|e| e.description.clone())
                    .unwrap_or_else(|| d.text.clone());
                let text = text.lines().take(3).collect::<Vec<_>>().join(" | ");
                log.push(PageEventKind::Exception { text });
            }
        }));

        let patterns = vec![RequestPattern {
            url_pattern: Some("*".into()),
            resource_type: None,
            request_stage: Some(RequestStage::Request),
        }];
        // Subscribe first: the navigation's own request must not slip past the listener.
        let requests = self.listen::<EventRequestPaused>().await?;
        self.tasks.push(tokio::spawn(fence::serve(
            page.clone(),
            requests,
            self.root.clone(),
            config.media_root.clone(),
            self.log.clone(),
            self.in_flight.clone(),
        )));
        self.run(
            "enabling the network fence",
            page.execute(fetch::EnableParams {
                patterns: Some(patterns),
                handle_auth_requests: None,
            }),
        )
        .await?;

        let url = format!("{}index.html", fence::ORIGIN);
        self.run(
            "loading the composition",
            page.execute(NavigateParams::new(url.clone())),
        )
        .await?;
        // Wait for the load event: readyState complete, with the page's scripts run.
        self.evaluate(
            "waiting for the page to load",
            "new Promise((resolve) => document.readyState === 'complete' ? resolve(true) : \
             window.addEventListener('load', () => resolve(true), { once: true }))",
            None,
        )
        .await?;
        if let Some(text) = self.log.events().into_iter().find_map(|e| match e.kind {
            PageEventKind::Exception { text } => Some(text),
            PageEventKind::FailedLoad { url: failed } if failed == url => {
                Some("index.html could not be served from the composition folder".into())
            }
            _ => None,
        }) {
            return Err(BrowserError::PageLoad { url, message: text });
        }
        self.settle(None).await
    }

    async fn listen<T: chromiumoxide::cdp::IntoEventKind + Unpin + std::fmt::Debug>(
        &self,
    ) -> Result<chromiumoxide::listeners::EventStream<T>, BrowserError> {
        self.page
            .event_listener::<T>()
            .await
            .map_err(|source| BrowserError::Cdp {
                action: "subscribing to page events".into(),
                source,
            })
    }

    /// Runs one DevTools command, turning a lost connection into a crash report.
    async fn run<T>(
        &mut self,
        action: &str,
        fut: impl std::future::Future<Output = chromiumoxide::error::Result<T>>,
    ) -> Result<T, BrowserError> {
        match fut.await {
            Ok(v) => Ok(v),
            Err(source) => Err(self.classify(action, source)),
        }
    }

    fn classify(&mut self, action: &str, source: chromiumoxide::error::CdpError) -> BrowserError {
        if let Some(status) = self.process.exit_status() {
            return BrowserError::Crashed {
                action: action.to_string(),
                status: status.to_string(),
                stderr: self.process.stderr_tail(),
            };
        }
        BrowserError::Cdp {
            action: action.to_string(),
            source,
        }
    }

    /// Evaluates an expression in the page, awaiting a returned promise, within the frame
    /// timeout; an exception becomes an error carrying the page's message.
    pub(super) async fn evaluate(
        &mut self,
        action: &str,
        expression: &str,
        frame: Option<FrameIndex>,
    ) -> Result<serde_json::Value, BrowserError> {
        let mut params = EvaluateParams::new(expression);
        params.await_promise = Some(true);
        params.return_by_value = Some(true);
        let timeout = self.frame_timeout;
        let page = self.page.clone();
        let reply = match tokio::time::timeout(timeout, page.execute(params)).await {
            Ok(reply) => self.run(action, async { reply }).await?,
            Err(_) => {
                return Err(BrowserError::Hung {
                    action: action.to_string(),
                    frame,
                    timeout,
                });
            }
        };
        if let Some(details) = &reply.result.exception_details {
            let message = details
                .exception
                .as_ref()
                .and_then(|e| e.description.clone())
                .unwrap_or_else(|| details.text.clone());
            return Err(match frame {
                Some(frame) => BrowserError::PageSeek {
                    frame: frame.0,
                    message: first_line(&message),
                },
                None => BrowserError::PageLoad {
                    url: format!("{}index.html", fence::ORIGIN),
                    message: first_line(&message),
                },
            });
        }
        Ok(reply
            .result
            .result
            .value
            .clone()
            .unwrap_or(serde_json::Value::Null))
    }

    /// Waits until the fence has answered every request the page made, so no asset is still on
    /// its way when a frame is captured.
    async fn settle(&mut self, frame: Option<FrameIndex>) -> Result<(), BrowserError> {
        let deadline = tokio::time::Instant::now() + self.frame_timeout;
        while self.in_flight.count() > 0 {
            if tokio::time::Instant::now() > deadline {
                return Err(BrowserError::Hung {
                    action: "waiting for the page's requests".into(),
                    frame,
                    timeout: self.frame_timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    }

    /// The duration the page declares (`__hf.duration`, root `data-duration`, timelines).
    pub async fn page_duration(&mut self) -> Result<Option<(f64, DurationSource)>, BrowserError> {
        let value = self
            .evaluate(
                "reading the page's duration",
                "window.__framelock.duration()",
                None,
            )
            .await?;
        let Some(seconds) = value.get("seconds").and_then(|s| s.as_f64()) else {
            return Ok(None);
        };
        let source = match value.get("source").and_then(|s| s.as_str()) {
            Some("hf-protocol") => DurationSource::HfProtocol,
            Some("timelines") => DurationSource::Timelines,
            _ => DurationSource::RootAttribute,
        };
        Ok(Some((seconds, source)))
    }

    /// The renderer string of the page's WebGL context: proves which GPU rasterises.
    pub async fn gpu_renderer(&mut self) -> Result<String, BrowserError> {
        let value = self
            .evaluate(
                "asking WebGL for the GPU in use",
                "(() => { const gl = document.createElement('canvas').getContext('webgl'); \
                 if (!gl) return 'no WebGL context'; \
                 const ext = gl.getExtension('WEBGL_debug_renderer_info'); \
                 return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER); })()",
                None,
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// The command line the browser reports it was started with.
    pub async fn command_line(&mut self) -> Result<Vec<String>, BrowserError> {
        let browser = &self.browser;
        let reply = browser
            .execute(GetBrowserCommandLineParams::default())
            .await;
        let reply = self
            .run("reading the browser command line", async { reply })
            .await?;
        Ok(reply.result.arguments.clone())
    }

    /// Seeks the page to frame `i` and captures it as PNG bytes.
    pub async fn capture(&mut self, i: FrameIndex) -> Result<Vec<u8>, BrowserError> {
        if let Some(last) = self.last {
            assert!(i > last, "frames are captured in increasing order");
        }
        self.log.set_frame(i.0);
        let seek_started = std::time::Instant::now();
        if self.last.is_none()
            && i.0 > 0
            && self.capture == CaptureMode::BeginFrame
            && self.walk_to(i).await?
        {
            // The walk drew frame i - 1 last: frame i is drawn once, as in a continuous render.
            self.last = Some(FrameIndex(i.0 - 1));
        }
        let result = self
            .evaluate(
                "seeking the page",
                &format!("window.__framelock.seek({})", i.0),
                Some(i),
            )
            .await?;
        self.take_page_errors(&result, i)?;
        self.videos = result
            .get("videos")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        self.settle(Some(i)).await?;
        let capture_started = std::time::Instant::now();
        self.seconds.seek += (capture_started - seek_started).as_secs_f64();
        let png = match self.capture {
            CaptureMode::BeginFrame => self.begin_frame(i).await?,
            CaptureMode::Screenshot => self.screenshot(i).await?,
        };
        self.seconds.capture += capture_started.elapsed().as_secs_f64();
        self.last = Some(i);
        Ok(png)
    }

    /// Walks a fresh page through frames 0..i-1 and draws, without a picture, each frame at
    /// which a continuous render left compositor state that outlives the frame (runtime.js,
    /// `walk`, says which), so that frame `i` comes out as a continuous render draws it.
    /// Whether it drew any frame.
    async fn walk_to(&mut self, i: FrameIndex) -> Result<bool, BrowserError> {
        let mut drew = false;
        loop {
            let result = self
                .evaluate(
                    "walking the page to the first frame",
                    &format!("window.__framelock.walk({})", i.0),
                    Some(i),
                )
                .await?;
            self.take_page_errors(&result, i)?;
            match result.get("draw").and_then(|d| d.as_u64()) {
                // Past i only under the clock-shift self-test: its ticks would not stay below
                // frame i's.
                Some(frame) if frame < i.0 => {
                    self.draw_walked(FrameIndex(frame)).await?;
                    drew = true;
                }
                Some(_) => {}
                None if result.get("done") == Some(&serde_json::Value::Bool(true)) => {
                    return Ok(drew);
                }
                None => {}
            }
        }
    }

    /// Draws a walked frame as a continuous render draws it: at its own tick, and frame 0
    /// after the session's warm-up frame.
    async fn draw_walked(&mut self, frame: FrameIndex) -> Result<(), BrowserError> {
        self.settle(Some(frame)).await?;
        if frame.0 == 0 {
            self.draw_without_picture(frame, warmup_ticks(self.fps, frame))
                .await?;
        }
        self.draw_without_picture(frame, frame_ticks(self.fps, frame))
            .await
    }

    /// One BeginFrame at `ticks` that draws and returns no picture.
    async fn draw_without_picture(
        &mut self,
        frame: FrameIndex,
        ticks: f64,
    ) -> Result<(), BrowserError> {
        let params = BeginFrameParams::builder()
            .frame_time_ticks(ticks)
            .interval(self.fps.interval_ms())
            .build();
        self.timed_begin_frame(params, frame, ticks).await?;
        Ok(())
    }

    /// Logs the page's own exceptions from a seek or walk and fails on the first error of a
    /// seek protocol: the frame would be meaningless.
    fn take_page_errors(
        &mut self,
        result: &serde_json::Value,
        i: FrameIndex,
    ) -> Result<(), BrowserError> {
        match self.log.take_seek_answer(result) {
            Some(message) => Err(BrowserError::PageSeek {
                frame: i.0,
                message,
            }),
            None => Ok(()),
        }
    }

    /// Seconds spent seeking and capturing so far.
    pub fn seconds(&self) -> CaptureSeconds {
        self.seconds
    }

    /// The raw-capture limit `framelock bench` measures against: one BeginFrame with a
    /// screenshot at frame `i`'s tick, with no seek, no settling, and nothing done with the
    /// picture but receiving it. Returns the size of the encoded picture. BeginFrame sessions
    /// only.
    pub async fn capture_raw(
        &mut self,
        i: FrameIndex,
        format: RawFormat,
    ) -> Result<usize, BrowserError> {
        let (format, optimize) = match format {
            RawFormat::Png => (ScreenshotParamsFormat::Png, None),
            RawFormat::PngFast => (ScreenshotParamsFormat::Png, Some(true)),
            RawFormat::Jpeg => (ScreenshotParamsFormat::Jpeg, None),
        };
        let ticks = frame_ticks(self.fps, i);
        let mut screenshot = ScreenshotParams::builder().format(format);
        if let Some(fast) = optimize {
            screenshot = screenshot.optimize_for_speed(fast);
        }
        let params = BeginFrameParams::builder()
            .frame_time_ticks(ticks)
            .interval(self.fps.interval_ms())
            .screenshot(screenshot.build())
            .build();
        let data = self.timed_begin_frame(params, i, ticks).await?;
        self.last = Some(i);
        data.map(|d| d.len())
            .ok_or(BrowserError::NoScreenshot { frame: i.0, ticks })
    }

    async fn begin_frame(&mut self, i: FrameIndex) -> Result<Vec<u8>, BrowserError> {
        if self.last.is_none() {
            // One warm-up frame lets the compositor settle layers before the first capture;
            // its tick lies strictly between the previous frame's and this one's.
            self.draw_without_picture(i, warmup_ticks(self.fps, i))
                .await?;
        }
        let ticks = frame_ticks(self.fps, i);
        let params = BeginFrameParams::builder()
            .frame_time_ticks(ticks)
            .interval(self.fps.interval_ms())
            // PNG compressed for speed: larger files, the same pixels (every frame is decoded and
            // hashed as RGBA), and a third less time in the browser per frame (`framelock
            // bench`). Compression decides no pixel, so it is not part of the render settings.
            .screenshot(
                ScreenshotParams::builder()
                    .format(ScreenshotParamsFormat::Png)
                    .optimize_for_speed(true)
                    .build(),
            )
            .build();
        let reply = self.timed_begin_frame(params, i, ticks).await?;
        let data = reply.ok_or(BrowserError::NoScreenshot { frame: i.0, ticks })?;
        decode_base64(&data, i)
    }

    async fn timed_begin_frame(
        &mut self,
        params: BeginFrameParams,
        i: FrameIndex,
        ticks: f64,
    ) -> Result<Option<String>, BrowserError> {
        let page = self.page.clone();
        match tokio::time::timeout(self.frame_timeout, page.execute(params)).await {
            Ok(reply) => {
                let reply = self.run("issuing BeginFrame", async { reply }).await?;
                Ok(reply
                    .result
                    .screenshot_data
                    .as_ref()
                    .map(|b| AsRef::<str>::as_ref(b).to_string()))
            }
            Err(_) => Err(BrowserError::BeginFrameHung {
                frame: i.0,
                ticks,
                timeout: self.frame_timeout,
            }),
        }
    }

    async fn screenshot(&mut self, i: FrameIndex) -> Result<Vec<u8>, BrowserError> {
        let params = CaptureScreenshotParams {
            format: Some(CaptureScreenshotFormat::Png),
            from_surface: Some(true),
            ..CaptureScreenshotParams::default()
        };
        let page = self.page.clone();
        let reply = match tokio::time::timeout(self.frame_timeout, page.execute(params)).await {
            Ok(reply) => self.run("taking a screenshot", async { reply }).await?,
            Err(_) => {
                return Err(BrowserError::Hung {
                    action: "taking a screenshot".into(),
                    frame: Some(i),
                    timeout: self.frame_timeout,
                });
            }
        };
        decode_base64(AsRef::<str>::as_ref(&reply.result.data), i)
    }

    /// The source frame each video showed in the last capture (`None`: hidden), by its key.
    pub fn video_frames(&self) -> &VideoFrames {
        &self.videos
    }

    /// Waits until every event the page sent before now is in the log: one round trip to the
    /// page (events arrive in order), then the fence's answers.
    pub async fn sync_events(&mut self) -> Result<(), BrowserError> {
        self.evaluate("collecting the page's last events", "0", None)
            .await?;
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
        self.settle(None).await
    }

    /// The page's log so far.
    pub fn log(&self) -> &PageLog {
        &self.log
    }

    /// The viewport size.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The browser's process id (its process group).
    pub fn browser_pid(&self) -> i32 {
        self.process.pid()
    }

    /// Closes the browser politely, then reaps it.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.browser.close()).await;
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn decode_base64(data: &str, i: FrameIndex) -> Result<Vec<u8>, BrowserError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| BrowserError::BadScreenshot {
            frame: i.0,
            reason: e.to_string(),
        })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

fn remote_text(o: &RemoteObject) -> String {
    match &o.value {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => o
            .description
            .clone()
            .or_else(|| o.unserializable_value.as_ref().map(|u| format!("{u:?}")))
            .unwrap_or_default(),
    }
}
