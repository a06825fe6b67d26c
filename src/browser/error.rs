//! What can go wrong in the browser, and what each failure means for the exit code.

use std::time::Duration;

use camino::Utf8PathBuf;

use crate::exit_code;

/// What went wrong in the browser.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The browser binary could not be started.
    #[error("cannot start the browser {binary}: {source}")]
    Launch {
        /// The binary.
        binary: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The composition folder to serve cannot be resolved.
    #[error("composition folder {path}: {source}")]
    NoRoot {
        /// The folder.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The browser started but never offered a DevTools endpoint.
    #[error(
        "the browser did not open its DevTools endpoint (exit status: {}); command: {command}; stderr: {stderr}",
        status.as_deref().unwrap_or("still running")
    )]
    NoDevtools {
        /// The command line.
        command: String,
        /// Its exit status, if it exited.
        status: Option<String>,
        /// The tail of its stderr.
        stderr: String,
    },
    /// A DevTools command failed while the browser was still running.
    #[error("browser protocol error while {action}: {source}")]
    Cdp {
        /// What framelock was doing.
        action: String,
        /// The protocol error.
        #[source]
        source: chromiumoxide::error::CdpError,
    },
    /// The browser exited in the middle of the work.
    #[error("the browser exited ({status}) while {action}; its stderr ends with: {stderr}")]
    Crashed {
        /// What framelock was doing.
        action: String,
        /// The exit status.
        status: String,
        /// The tail of its stderr.
        stderr: String,
    },
    /// A BeginFrame got no reply in time.
    #[error(
        "BeginFrame for frame {frame} (frameTimeTicks {ticks}) got no reply within {timeout:?}"
    )]
    BeginFrameHung {
        /// The frame.
        frame: u64,
        /// Its tick.
        ticks: f64,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// Another step got no reply in time.
    #[error("{action}{} got no reply within {timeout:?}", frame.map(|f| format!(" (frame {f})")).unwrap_or_default())]
    Hung {
        /// What framelock was doing.
        action: String,
        /// The frame, if one was being prepared.
        frame: Option<crate::timing::FrameIndex>,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// BeginFrame replied without a screenshot.
    #[error("BeginFrame for frame {frame} (frameTimeTicks {ticks}) returned no screenshot")]
    NoScreenshot {
        /// The frame.
        frame: u64,
        /// Its tick.
        ticks: f64,
    },
    /// The screenshot could not be decoded or has the wrong size.
    #[error("the screenshot of frame {frame} is unusable: {reason}")]
    BadScreenshot {
        /// The frame.
        frame: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A page script threw while the page loaded.
    #[error("{url}: the page threw while loading: {message}")]
    PageLoad {
        /// The page.
        url: String,
        /// The exception.
        message: String,
    },
    /// A page script threw while frame `frame` was prepared.
    #[error("the page threw while seeking to frame {frame}: {message}")]
    PageSeek {
        /// The frame.
        frame: u64,
        /// The exception.
        message: String,
    },
    /// The GPU in use is not SwiftShader, so pixels would depend on the machine's GPU.
    #[error(
        "BROWSER_GPU_NOT_SOFTWARE: the browser rasterises with {renderer:?}, expected SwiftShader"
    )]
    GpuNotSoftware {
        /// The WebGL renderer string.
        renderer: String,
    },
}

impl BrowserError {
    /// The exit code: the page's own faults are input errors, the browser's are environment
    /// errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            BrowserError::PageLoad { .. }
            | BrowserError::PageSeek { .. }
            | BrowserError::NoRoot { .. } => exit_code::INPUT,
            _ => exit_code::ENVIRONMENT,
        }
    }

    /// What to try next.
    pub fn hint(&self) -> Option<String> {
        match self {
            BrowserError::BeginFrameHung { .. } | BrowserError::NoScreenshot { .. } => Some(
                "raise --frame-timeout, or try --capture=screenshot if this Chrome build's BeginFrame is broken"
                    .into(),
            ),
            BrowserError::Launch { .. } | BrowserError::NoDevtools { .. } => {
                Some("run `framelock doctor` to check the browser".into())
            }
            BrowserError::GpuNotSoftware { .. } => Some(
                "use chrome-headless-shell with its bundled SwiftShader (--use-angle=swiftshader)".into(),
            ),
            _ => None,
        }
    }
}
