//! What the page did besides drawing: console messages, uncaught exceptions, failed loads and
//! blocked requests, each with the frame it happened at.
//!
//! A composition that throws at frame 40 should say so: the log is listed in `frames.json`,
//! printed on stderr, and failures that make a render meaningless turn into errors.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// One thing the page did, at a frame (`None`: while loading, before frame capture began).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEvent {
    /// The frame being prepared, or `None` during load.
    pub frame: Option<u64>,
    /// What happened.
    #[serde(flatten)]
    pub kind: PageEventKind,
}

/// The kinds of [`PageEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PageEventKind {
    /// `console.log` and friends.
    Console {
        /// `log`, `warning`, `error`, …
        level: String,
        /// The message.
        text: String,
    },
    /// An uncaught exception.
    Exception {
        /// Message and location.
        text: String,
    },
    /// A request for a file of the composition that does not exist.
    FailedLoad {
        /// The URL the page asked for.
        url: String,
    },
    /// A request outside the composition, blocked by the network fence.
    BlockedRequest {
        /// The URL the page asked for.
        url: String,
    },
}

impl std::fmt::Display for PageEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.frame {
            Some(frame) => write!(f, "frame {frame}: ")?,
            None => f.write_str("load: ")?,
        }
        match &self.kind {
            PageEventKind::Console { level, text } => write!(f, "console.{level}: {text}"),
            PageEventKind::Exception { text } => write!(f, "uncaught exception: {text}"),
            PageEventKind::FailedLoad { url } => write!(f, "missing file: {url}"),
            PageEventKind::BlockedRequest { url } => write!(f, "blocked request: {url}"),
        }
    }
}

/// The shared log of one page: written by the event tasks, read by the renderer.
#[derive(Debug, Clone, Default)]
pub struct PageLog {
    frame: Arc<AtomicI64>,
    events: Arc<Mutex<Vec<PageEvent>>>,
}

impl PageLog {
    /// Logs the page's own exceptions from a seek's answer (`pageErrors`) and returns the
    /// first error of a seek protocol (`errors`), which makes the frame meaningless.
    pub fn take_seek_answer(&self, answer: &serde_json::Value) -> Option<String> {
        let texts = |key| {
            answer
                .get(key)
                .and_then(|e| e.as_array())
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str())
        };
        for text in texts("pageErrors") {
            self.push(PageEventKind::Exception {
                text: text.to_string(),
            });
        }
        texts("errors").next().map(str::to_string)
    }

    /// A log whose current frame is "loading".
    pub fn new() -> PageLog {
        let log = PageLog::default();
        log.frame.store(-1, Ordering::SeqCst);
        log
    }

    /// Marks `frame` as the one being prepared.
    pub fn set_frame(&self, frame: u64) {
        self.frame.store(frame as i64, Ordering::SeqCst);
    }

    /// Records an event at the current frame.
    pub fn push(&self, kind: PageEventKind) {
        let frame = u64::try_from(self.frame.load(Ordering::SeqCst)).ok();
        self.events
            .lock()
            .expect("page log lock is never poisoned")
            .push(PageEvent { frame, kind });
    }

    /// Everything recorded so far, in order.
    pub fn events(&self) -> Vec<PageEvent> {
        self.events
            .lock()
            .expect("page log lock is never poisoned")
            .clone()
    }
}
