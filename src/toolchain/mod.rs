//! The toolchain: which browser, encoder and fonts render, and proof of exactly which.

mod error;
mod fingerprint;
mod locate;
mod tools;

pub use error::{DEBIAN_INSTALL, ToolchainError};
pub use fingerprint::{HashedFile, ToolchainFingerprint, hash_file, tail};
pub use locate::{
    CHROME_ENV, FFMPEG_ENV, Fonts, FoundBy, GivenTool, Tool, ToolChoice, locate_chrome,
    locate_ffmpeg, resolve_wrapper,
};
pub use tools::{PINNED_TOOLCHAIN_ENV, Toolchain};
