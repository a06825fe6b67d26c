//! Rendering: one renderer (a browser walking chunk ranges in order, the encoder restarting at
//! each chunk start) used by the in-process path and by workers alike.

mod engine;
mod inprocess;
mod output;
mod pipeline;
mod record;
mod settings;

pub(crate) use engine::start_session;
pub use engine::{
    BrowserRun, ChunkWork, RenderError, Rendered, RenderedChunk, RunSettings, StageSeconds,
    probe_duration, render_chunks,
};
pub(crate) use inprocess::prepare;
pub use inprocess::{RenderRequest, render};
pub use output::{
    ChunkCache, check_container, check_hermetic, join, publish, report_finished, store_run,
    work_dir,
};
pub use record::{FRAMES_FORMAT_VERSION, Fingerprints, FramesRecord, frames_record_path};
pub use settings::{
    RenderSettings, fingerprint_toolchain, record_fingerprints, render_settings_fingerprint,
};
