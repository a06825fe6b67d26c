//! The browser through the library: every configured flag reaches Chrome, and a browser that
//! dies mid-render is reported and reaped with no output left.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use camino::Utf8PathBuf;
use framelock::browser::{
    BrowserError, CaptureMode, LaunchSpec, RuntimeConfig, SandboxPolicy, Session, SessionConfig,
};
use framelock::composition::{Composition, Overrides};
use framelock::media::VideoMode;
use framelock::render::{RenderError, RenderRequest, RunSettings, render};
use framelock::report::{RenderEvent, Reporter};
use framelock::timing::Fps;
use framelock::toolchain::{ToolChoice, Toolchain};

use crate::harness::fixture;

fn utf8(p: std::path::PathBuf) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(p).unwrap()
}

/// The determinism recipe, written out independently of the code that builds it, so a flag
/// dropped from the code fails here.
const RECIPE: &[&str] = &[
    "--deterministic-mode",
    "--enable-begin-frame-control",
    "--run-all-compositor-stages-before-draw",
    "--disable-new-content-rendering-timeout",
    "--disable-threaded-animation",
    "--disable-threaded-scrolling",
    "--disable-checker-imaging",
    "--disable-image-animation-resync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-gpu-compositing",
    "--disable-skia-runtime-opts",
    "--font-render-hinting=none",
    "--force-color-profile=srgb",
    "--hide-scrollbars",
    "--mute-audio",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--enable-automation",
];

/// The flags the screenshot fallback must not have.
const BEGIN_FRAME_ONLY: &[&str] = &["--deterministic-mode", "--enable-begin-frame-control"];

fn session_config(mode: CaptureMode) -> SessionConfig {
    let toolchain = Toolchain::locate(&ToolChoice::from_env()).unwrap();
    SessionConfig {
        launch: LaunchSpec::new(&toolchain, mode, &SandboxPolicy::Auto.decide()),
        capture: mode,
        width: 320,
        height: 180,
        runtime: RuntimeConfig {
            fps: Fps::new(30, 1).unwrap(),
            seed: 0,
            variables: serde_json::Map::new(),
            virtual_time: true,
            fault: None,
            videos: Vec::new(),
            video_mode: VideoMode::Inject,
        },
        root: utf8(fixture("css-keyframes")),
        media_root: None,
        frame_timeout: Duration::from_secs(30),
    }
}

/// Every flag of the determinism recipe arrives on Chrome's command line, and the screenshot
/// fallback's browser runs without begin-frame control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_configured_flag_reaches_the_browser() {
    let _slots = crate::harness::browsers(1);
    for mode in [CaptureMode::BeginFrame, CaptureMode::Screenshot] {
        let mut session = Session::start(session_config(mode)).await.unwrap();
        let args = session.command_line().await.unwrap();
        for flag in RECIPE {
            let expected = mode == CaptureMode::BeginFrame || !BEGIN_FRAME_ONLY.contains(flag);
            let present = args.iter().any(|a| a == flag);
            assert_eq!(present, expected, "{mode}: {flag} in {args:?}");
        }
        let sandbox_off = args.iter().any(|a| a == "--no-sandbox");
        assert_eq!(
            sandbox_off,
            SandboxPolicy::Auto.decide().disabled,
            "{args:?}"
        );
        let gpu = session.gpu_renderer().await.unwrap();
        assert!(gpu.contains("SwiftShader"), "{gpu}");
        let pid = session.browser_pid();
        session.close().await;
        assert_group_gone(pid);
    }
}

/// Kills the browser when frame 10 has been captured.
#[derive(Default)]
struct KillAtFrame10 {
    pid: AtomicI32,
}

impl Reporter for KillAtFrame10 {
    fn report(&self, event: &RenderEvent) {
        match event {
            RenderEvent::Started { browser_pid, .. } => {
                self.pid.store(*browser_pid, Ordering::SeqCst)
            }
            RenderEvent::FrameCaptured { frame } if frame.0 == 10 => {
                // SAFETY: sends a signal to the browser this render started.
                unsafe { libc::kill(self.pid.load(Ordering::SeqCst), libc::SIGKILL) };
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_killed_mid_render_is_reported_and_leaves_nothing() {
    let _slots = crate::harness::browsers(1);
    let dir = tempfile::tempdir().unwrap();
    let output = utf8(dir.path().join("out.mp4"));
    let request = RenderRequest {
        composition: Composition::load(&utf8(fixture("css-keyframes")), &Overrides::default())
            .unwrap(),
        output: output.clone(),
        frames: None,
        chunk_size: None,
        png_dir: None,
        run: RunSettings::new(
            Toolchain::locate(&ToolChoice::from_env()).unwrap(),
            SandboxPolicy::Auto,
        ),
        strict: false,
        store: None,
        leak_wall_clock: None,
    };
    let reporter = KillAtFrame10::default();
    let err = render(&request, &reporter).await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            RenderError::Browser(BrowserError::Crashed { .. } | BrowserError::Cdp { .. })
        ),
        "{message}"
    );
    assert_eq!(err.exit_code(), 3);
    assert!(message.contains("browser"), "{message}");
    assert_group_gone(reporter.pid.load(Ordering::SeqCst));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// No process of the browser's process group is alive (zombies excepted: already dead). The
/// group was sent SIGKILL; a process that is still tearing down its memory on a loaded machine
/// gets a few seconds to finish dying.
fn assert_group_gone(pgid: i32) {
    let mut alive = group_members(pgid);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !alive.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        alive = group_members(pgid);
    }
    assert!(
        alive.is_empty(),
        "browser processes still running: {alive:#?}"
    );
}

/// The live (not zombie) processes of process group `pgid`, as their `stat` lines.
fn group_members(pgid: i32) -> Vec<String> {
    let mut alive = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state, ppid, pgrp.
        let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2) == Some(&pgid.to_string().as_str()) && fields[0] != "Z" {
            alive.push(stat);
        }
    }
    alive
}
