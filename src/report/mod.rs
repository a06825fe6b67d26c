//! Turning what the engine does into output: typed events in, terminal lines and progress bars
//! out. The engine never prints; it sends [`RenderEvent`]s to a [`Reporter`].

mod events;
mod terminal;

pub use events::{RenderEvent, Reporter};
pub use terminal::TerminalReporter;
