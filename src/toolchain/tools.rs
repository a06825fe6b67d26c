//! The located tools as one value: browser, encoder, fonts, and the pin a wrapper declared.

use super::error::ToolchainError;
use super::locate::{Fonts, FoundBy, GivenTool, Tool, ToolChoice, locate_chrome, locate_ffmpeg};

/// The located tools.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The browser.
    pub chrome: Tool,
    /// The encoder.
    pub ffmpeg: Tool,
    /// The fonts.
    pub fonts: Fonts,
    /// Which pinned toolchain this is, when a pinning wrapper (the Nix flake's) says so
    /// through [`PINNED_TOOLCHAIN_ENV`]; `None` for tools found on this machine.
    pub pinned: Option<String>,
}

/// Set by the Nix flake's wrapper to the toolchain it pins (`nix flake, nixpkgs <rev>`), so
/// fingerprints, `doctor` and baselines can say whether a run used it.
pub const PINNED_TOOLCHAIN_ENV: &str = "FRAMELOCK_PINNED_TOOLCHAIN";

impl Toolchain {
    /// Finds every tool: the paths given first, else on `PATH`.
    pub fn locate(choice: &ToolChoice) -> Result<Toolchain, ToolchainError> {
        Ok(Toolchain {
            chrome: locate_chrome(choice.chrome.as_ref())?,
            ffmpeg: locate_ffmpeg(choice.ffmpeg.as_ref())?,
            fonts: Fonts::locate()?,
            pinned: std::env::var(PINNED_TOOLCHAIN_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty()),
        })
    }

    /// The tools that were given (by a flag, a variable or a spec) rather than found on
    /// `PATH`, as given: what a worker started for this command is given in turn.
    pub fn given(&self) -> ToolChoice {
        let given = |tool: &Tool| {
            (!matches!(tool.found_by, FoundBy::Path(_))).then(|| GivenTool {
                path: tool.given.clone(),
                given_by: tool.found_by.clone(),
            })
        };
        ToolChoice {
            chrome: given(&self.chrome),
            ffmpeg: given(&self.ffmpeg),
        }
    }

    /// How reports name where the tools came from.
    pub fn source(&self) -> String {
        self.pinned
            .clone()
            .unwrap_or_else(|| "this machine's packages".into())
    }
}
