//! Self-test faults (`regress --inject`): put into one chunk of a distributed render, so the
//! harness can prove it finds and names drift. Faulty chunks are never read from or indexed in
//! the cache.

use serde::{Deserialize, Serialize};

use crate::browser::PageFault;
use crate::timing::ChunkIndex;

/// A self-test fault in one chunk of a distributed render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Injection {
    /// The chunk.
    pub chunk: ChunkIndex,
    /// What goes wrong in it.
    pub fault: Fault,
}

/// The faults `--inject` can put into a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The worker's page is seeked this many frames away from each captured frame
    /// (frame-time drift).
    ClockShift(i64),
    /// The worker's page draws randomness without per-frame reseeding, so it carries on from
    /// the load-time stream instead of the in-process render's (chunk-boundary drift).
    NoReseed,
    /// The worker encodes the chunk with this quantiser instead of the bundle's (encoder
    /// drift).
    EncoderQp(u8),
    /// The worker's videos show source frames this many frames away from the media time's
    /// (video-seek-offset drift).
    VideoOffset(i64),
    /// The distributed render's sound is made this many milliseconds late when the chunks
    /// are joined (audio-lag drift).
    AudioDelay(u64),
    /// The worker walks its page to the chunk's first frame without drawing any frame before
    /// it, so layers the compositor keeps are first rastered at the chunk start
    /// (chunk-boundary drift on a page with text under `will-change: transform`).
    ColdWalk,
    /// The in-process render lets the real clock through to `Date.now()` and
    /// `performance.now()` while it prepares this chunk's frames (nondeterminism: the second
    /// in-process render disagrees with it).
    WallClock,
}

impl Injection {
    /// Whether the fault is put into the worker of its chunk (else into the in-process render
    /// or the join).
    pub fn in_worker(&self) -> bool {
        !matches!(self.fault, Fault::WallClock | Fault::AudioDelay(_))
    }

    /// The fault the worker of `chunk` puts into its page, if any.
    pub fn page_fault(&self, chunk: ChunkIndex) -> Option<PageFault> {
        if self.chunk != chunk {
            return None;
        }
        match self.fault {
            Fault::ClockShift(k) => Some(PageFault::ClockShift(k)),
            Fault::NoReseed => Some(PageFault::NoReseed),
            Fault::ColdWalk => Some(PageFault::ColdWalk),
            Fault::VideoOffset(k) => Some(PageFault::VideoOffset(k)),
            Fault::EncoderQp(_) | Fault::AudioDelay(_) | Fault::WallClock => None,
        }
    }

    /// The quantiser the worker of `chunk` encodes with instead of the bundle's, if any.
    pub fn encoder_qp(&self, chunk: ChunkIndex) -> Option<u8> {
        match self.fault {
            Fault::EncoderQp(q) if self.chunk == chunk => Some(q),
            _ => None,
        }
    }

    /// Milliseconds the joined sound is made late by (0 for every other fault).
    pub fn audio_delay_ms(injection: Option<Injection>) -> u64 {
        match injection.map(|i| i.fault) {
            Some(Fault::AudioDelay(ms)) => ms,
            _ => 0,
        }
    }
}
