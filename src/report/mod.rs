//! Turning what the engine and the harness do into output: typed events in, terminal lines,
//! progress bars and JSON lines out. The engine never prints; it sends [`RenderEvent`]s to a
//! [`Reporter`]. Reporters consume events and plain result types (`outcome`); they never call
//! back into what emits them. The files a regression run leaves (`report.json`, `report.html`,
//! JUnit, failure pictures) are the harness's (`regress::reports`).

mod events;
mod jsonl;
mod terminal;

pub use events::{RenderEvent, Reporter};
pub use jsonl::{JsonLinesReporter, Tee};
pub use terminal::{TerminalReporter, event_line};
