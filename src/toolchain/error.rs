//! Why the toolchain cannot be used, with the command that fixes it where there is one.

use camino::Utf8PathBuf;

/// The command that installs the browser, fonts and ffmpeg on Debian 12+.
pub const DEBIAN_INSTALL: &str =
    "apt-get update && apt-get install -y chromium-headless-shell ffmpeg fonts-dejavu-core";

/// Why the toolchain cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    /// No browser found.
    #[error("chrome-headless-shell not found (tried {tried})")]
    ChromeMissing {
        /// Where framelock looked.
        tried: String,
    },
    /// No ffmpeg found.
    #[error("ffmpeg not found (tried {tried})")]
    FfmpegMissing {
        /// Where framelock looked.
        tried: String,
    },
    /// The pinned fonts are not installed.
    #[error("pinned font {path} not found")]
    FontsMissing {
        /// The first missing file.
        path: Utf8PathBuf,
    },
    /// `FONTCONFIG_FILE` names a file that does not exist.
    #[error("FONTCONFIG_FILE names {path}, which does not exist")]
    FontconfigMissing {
        /// The file.
        path: Utf8PathBuf,
    },
    /// `FONTCONFIG_FILE` names a file fontconfig could not read.
    #[error("{path}: not a fontconfig file framelock can read: {reason}")]
    Fontconfig {
        /// The file.
        path: Utf8PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A tool path given by a flag or an environment variable is unusable.
    #[error("{tool} given by {found_by} is unusable: {path}: {reason}")]
    BadToolPath {
        /// `chrome-headless-shell` or `ffmpeg`.
        tool: &'static str,
        /// The path given.
        path: Utf8PathBuf,
        /// Which flag or variable gave it.
        found_by: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tool path is not executable.
    #[error("{path} is not an executable file")]
    NotExecutable {
        /// The path.
        path: Utf8PathBuf,
    },
    /// A wrapper script whose real binary could not be found.
    #[error("{path} is a script, and no absolute path to the browser binary was found in it")]
    UnresolvedWrapper {
        /// The script.
        path: Utf8PathBuf,
    },
    /// A path is not UTF-8.
    #[error("{path}: path is not valid UTF-8")]
    NotUtf8 {
        /// The path, lossily shown.
        path: String,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A tool could not be started at all.
    #[error("`{command}` could not run: {source}")]
    CannotRun {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A tool ran but failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Unusable {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// The tail of its stderr.
        stderr: String,
    },
}

impl ToolchainError {
    /// The install command or next step.
    pub fn hint(&self) -> Option<String> {
        match self {
            ToolchainError::ChromeMissing { .. } => Some(format!(
                "install it with: {DEBIAN_INSTALL} (Debian 12+), or point --chrome / FRAMELOCK_CHROME at a chrome-headless-shell binary"
            )),
            ToolchainError::FfmpegMissing { .. } => Some(format!(
                "install it with: {DEBIAN_INSTALL}, or point --ffmpeg / FRAMELOCK_FFMPEG at it"
            )),
            ToolchainError::FontsMissing { .. } => {
                Some(format!("install it with: {DEBIAN_INSTALL}"))
            }
            ToolchainError::BadToolPath { found_by, .. } => Some(format!(
                "point {found_by} at an existing executable, or leave it unset to search PATH"
            )),
            ToolchainError::UnresolvedWrapper { .. } => {
                Some("give the browser binary itself with --chrome or FRAMELOCK_CHROME".into())
            }
            _ => None,
        }
    }
}
