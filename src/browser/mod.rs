//! The browser: launching chrome-headless-shell, loading a composition, capturing frames.

mod capture;
mod elements;
mod environment;
mod error;
mod events;
mod fence;
mod flags;
mod process;
mod runtime;
mod session;

pub use capture::{CaptureSeconds, RawFormat};
pub use elements::{ElementShare, describe_elements, elements_covering};
pub use environment::pins as environment_pins;
pub use error::BrowserError;
pub use events::{PageEvent, PageEventKind, PageLog};
pub use fence::{InFlight, ORIGIN};
pub use flags::{CaptureMode, SandboxDecision, SandboxPolicy, configured_flags, launch_flags};
pub use process::{ChromeProcess, LaunchSpec};
pub use runtime::{EPOCH_MS, PageFault, RUNTIME_JS, RuntimeConfig};
pub use session::{Session, SessionConfig};
