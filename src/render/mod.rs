//! Rendering a composition in one process: one browser walks the frames of every chunk range in
//! order, restarting the encoder at each chunk start.

mod engine;
mod pipeline;
mod record;
mod settings;

pub use engine::{RenderError, RenderRequest, render};
pub use record::{FRAMES_FORMAT_VERSION, FramesRecord, frames_record_path};
pub use settings::{RenderSettings, render_settings_fingerprint};
