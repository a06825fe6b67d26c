//! The events a render emits.

use camino::Utf8PathBuf;

use crate::browser::{CaptureMode, PageEvent};
use crate::timing::{FrameIndex, FrameRange};

/// Something that happened during a render, in order.
#[derive(Debug, Clone)]
pub enum RenderEvent {
    /// Chrome's sandbox is off, and why (said once per run).
    SandboxDisabled {
        /// The reason.
        reason: &'static str,
    },
    /// Hashing the toolchain (a few hundred megabytes) has started.
    Fingerprinting,
    /// Frame capture is about to start.
    Started {
        /// The composition's name.
        name: String,
        /// The frames to render.
        range: FrameRange,
        /// How they are captured.
        capture: CaptureMode,
        /// The browser's process id.
        browser_pid: i32,
    },
    /// A frame was captured.
    FrameCaptured {
        /// Which.
        frame: FrameIndex,
    },
    /// The page logged something or a request was blocked.
    Page(PageEvent),
    /// The output files are in place.
    Finished {
        /// The video.
        output: Utf8PathBuf,
        /// The frames record.
        record: Utf8PathBuf,
        /// Frames rendered.
        frames: u64,
        /// Wall-clock seconds from the first capture to the finished output.
        seconds: f64,
    },
}

/// Receives events; implementations turn them into output.
pub trait Reporter: Send + Sync {
    /// Handles one event.
    fn report(&self, event: &RenderEvent);
}

/// A reporter that discards everything, for library callers and tests.
impl Reporter for () {
    fn report(&self, _: &RenderEvent) {}
}
