//! Rendering: one renderer (a browser walking chunk ranges in order, the encoder restarting at
//! each chunk start) used by the in-process path and by workers alike, planning a composition
//! into a bundle, and the one way a render is finished.

mod elements;
mod engine;
mod error;
mod finish;
mod inprocess;
mod output;
mod pipeline;
mod plan;
mod record;
mod settings;

pub use elements::{name_pictured, name_pictured_from_kept};
pub use engine::{
    BrowserRun, ChunkWork, DEFAULT_FRAME_TIMEOUT, Rendered, RenderedChunk, RunSettings,
    StageSeconds, probe_duration, render_chunks, start_session,
};
pub use error::RenderError;
pub use finish::{ChunkCache, Finish, FinishedChunk, Keep, Recorder, finish};
pub use inprocess::{RenderRequest, render};
pub use output::{check_container, report_finished, work_dir};
pub use plan::{Planned, Planning, plan_bundle};
pub use record::{FRAMES_FORMAT_VERSION, Fingerprints, FramesRecord, frames_record_path};
pub use settings::{
    RenderSettings, fingerprint_toolchain, record_fingerprints, render_settings_fingerprint,
};
