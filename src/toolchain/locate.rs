//! Finding chrome-headless-shell, ffmpeg and the pinned fonts.
//!
//! Order for each tool: a path the user or the job gave ([`GivenTool`]: the command-line flag,
//! `FRAMELOCK_CHROME` / `FRAMELOCK_FFMPEG` as clap reads them, or a worker spec), then the usual
//! names on `PATH`. Debian's `/usr/bin/chromium-headless-shell` is a shell script
//! that starts the real binary without `exec`; killing the script would leave the browser
//! running, so the script is read and the real binary is used.

use std::io::Read;

use camino::{Utf8Path, Utf8PathBuf};

use super::ToolchainError;

/// Names tried on `PATH` for the browser, in order.
const CHROME_NAMES: &[&str] = &["chrome-headless-shell", "chromium-headless-shell"];

/// The font files of Debian's `fonts-dejavu-core`: the pinned fallback fonts when no
/// `FONTCONFIG_FILE` is given. Compositions ship their own fonts; these only cover text that
/// names none.
const DEBIAN_PINNED_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
];

/// How a tool was found, for `doctor` and for errors that name what gave a bad path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundBy {
    /// A command-line flag (`--chrome`, `--ffmpeg`).
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// The worker spec of the job this worker belongs to.
    WorkerSpec,
    /// A name on `PATH`.
    Path(String),
}

impl std::fmt::Display for FoundBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FoundBy::Flag(flag) => f.write_str(flag),
            FoundBy::Env(var) => write!(f, "${var}"),
            FoundBy::WorkerSpec => f.write_str("the worker spec"),
            FoundBy::Path(name) => write!(f, "`{name}` on PATH"),
        }
    }
}

/// A tool path given rather than searched for, and what gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenTool {
    /// The path.
    pub path: Utf8PathBuf,
    /// The flag, variable or spec that gave it.
    pub given_by: FoundBy,
}

/// The variable that names the browser (the command line reads it through clap's `env`).
pub const CHROME_ENV: &str = "FRAMELOCK_CHROME";
/// The variable that names ffmpeg.
pub const FFMPEG_ENV: &str = "FRAMELOCK_FFMPEG";

/// The tool paths given for one command; a tool not given is searched for on `PATH`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolChoice {
    /// The browser.
    pub chrome: Option<GivenTool>,
    /// ffmpeg.
    pub ffmpeg: Option<GivenTool>,
}

impl ToolChoice {
    /// The tools [`CHROME_ENV`] and [`FFMPEG_ENV`] name, for library callers (tests, the
    /// bench's helpers): the command line has clap read them, and says which flag or variable
    /// gave each tool; a caller without a command line reads them here the same way (an empty
    /// variable names nothing).
    pub fn from_env() -> ToolChoice {
        let given = |var: &'static str| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|path| GivenTool {
                    path: path.into(),
                    given_by: FoundBy::Env(var),
                })
        };
        ToolChoice {
            chrome: given(CHROME_ENV),
            ffmpeg: given(FFMPEG_ENV),
        }
    }
}

/// A located tool.
#[derive(Debug, Clone)]
pub struct Tool {
    /// What was found first (maybe a wrapper script).
    pub given: Utf8PathBuf,
    /// The binary that actually runs.
    pub real: Utf8PathBuf,
    /// How it was found.
    pub found_by: FoundBy,
}

/// The fonts the browser may use.
#[derive(Debug, Clone)]
pub enum Fonts {
    /// A fontconfig file provided by the environment (the Nix wrapper sets one).
    File(Utf8PathBuf),
    /// These font files, linked into a private folder that a generated fontconfig file lists.
    Pinned(Vec<Utf8PathBuf>),
}

impl Fonts {
    /// The pinned fonts: `FONTCONFIG_FILE` when set, else Debian's DejaVu core files.
    pub fn locate() -> Result<Fonts, ToolchainError> {
        if let Some(file) = std::env::var_os("FONTCONFIG_FILE") {
            let file =
                Utf8PathBuf::from_path_buf(file.into()).map_err(|p| ToolchainError::NotUtf8 {
                    path: p.display().to_string(),
                })?;
            if !file.is_file() {
                return Err(ToolchainError::FontconfigMissing { path: file });
            }
            return Ok(Fonts::File(file));
        }
        let files: Vec<Utf8PathBuf> = DEBIAN_PINNED_FONTS.iter().map(Utf8PathBuf::from).collect();
        if let Some(missing) = files.iter().find(|f| !f.is_file()) {
            return Err(ToolchainError::FontsMissing {
                path: missing.clone(),
            });
        }
        Ok(Fonts::Pinned(files))
    }

    /// The fontconfig file contents to give the browser. Pinned fonts are listed by their
    /// folder (`<dir>`), and only the pinned files in it are accepted; fontconfig's cache goes
    /// to `cache_dir` (the browser's private folder).
    pub fn fontconfig(&self, cache_dir: &Utf8Path) -> Result<String, ToolchainError> {
        match self {
            Fonts::File(path) => {
                std::fs::read_to_string(path).map_err(|source| ToolchainError::Io {
                    path: path.clone(),
                    source,
                })
            }
            Fonts::Pinned(files) => {
                let mut dirs: Vec<&Utf8Path> = files.iter().filter_map(|f| f.parent()).collect();
                dirs.sort();
                dirs.dedup();
                let mut xml = String::from(
                    "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig>\n",
                );
                for dir in dirs {
                    xml.push_str(&format!("  <dir>{dir}</dir>\n"));
                }
                // Only the pinned files, even when their folder holds more (fonts-dejavu-extra).
                xml.push_str("  <selectfont>\n    <rejectfont>\n      <glob>*</glob>\n    </rejectfont>\n    <acceptfont>\n");
                for f in files {
                    xml.push_str(&format!("      <glob>{f}</glob>\n"));
                }
                xml.push_str("    </acceptfont>\n  </selectfont>\n");
                xml.push_str(&format!(
                    "  <cachedir>{cache_dir}</cachedir>
</fontconfig>
"
                ));
                Ok(xml)
            }
        }
    }

    /// The font files in use, sorted: for the fingerprint and for `doctor`.
    pub fn files(&self) -> Result<Vec<Utf8PathBuf>, ToolchainError> {
        let mut files = match self {
            Fonts::Pinned(files) => files.clone(),
            Fonts::File(path) => {
                // fontconfig's own reading of the file: `<include>`s followed, `prefix="xdg"`,
                // `~` and relative folders resolved, `<reset-dirs/>` obeyed. (`<selectfont>`
                // rules are not applied: every font file of a listed folder counts, so the
                // fingerprint errs towards including a file the browser might not use.)
                let mut config = fontconfig_parser::FontConfig::default();
                config.merge_config(path.as_std_path()).map_err(|e| {
                    ToolchainError::Fontconfig {
                        path: path.clone(),
                        reason: e.to_string(),
                    }
                })?;
                let mut out = Vec::new();
                for dir in &config.dirs {
                    if let Ok(dir) = Utf8PathBuf::from_path_buf(dir.path.clone()) {
                        collect_fonts(&dir, &mut out);
                    }
                }
                out
            }
        };
        files.sort();
        files.dedup();
        Ok(files)
    }
}

fn collect_fonts(dir: &Utf8Path, out: &mut Vec<Utf8PathBuf>) {
    let Ok(entries) = dir.read_dir_utf8() else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path().to_owned();
        if path.is_dir() {
            collect_fonts(&path, out);
        } else if matches!(
            path.extension().map(str::to_ascii_lowercase).as_deref(),
            Some("ttf" | "otf" | "ttc" | "woff" | "woff2" | "pfb")
        ) {
            out.push(path);
        }
    }
}

/// Finds the browser: the path given, else a known name on `PATH`.
pub fn locate_chrome(given: Option<&GivenTool>) -> Result<Tool, ToolchainError> {
    let (given, found_by) = find(CHROME_NAMES, given).ok_or(ToolchainError::ChromeMissing {
        tried:
            "--chrome, $FRAMELOCK_CHROME, chrome-headless-shell and chromium-headless-shell on PATH"
                .into(),
    })?;
    check_given("chrome-headless-shell", &given, &found_by)?;
    let real = resolve_wrapper(&given)?;
    Ok(Tool {
        given,
        real,
        found_by,
    })
}

/// Finds ffmpeg: the path given, else `ffmpeg` on `PATH`.
pub fn locate_ffmpeg(given: Option<&GivenTool>) -> Result<Tool, ToolchainError> {
    let (given, found_by) = find(&["ffmpeg"], given).ok_or(ToolchainError::FfmpegMissing {
        tried: "--ffmpeg, $FRAMELOCK_FFMPEG, ffmpeg on PATH".into(),
    })?;
    check_given("ffmpeg", &given, &found_by)?;
    let real = given
        .canonicalize_utf8()
        .map_err(|source| ToolchainError::Io {
            path: given.clone(),
            source,
        })?;
    Ok(Tool {
        given,
        real,
        found_by,
    })
}

/// A path from a flag or a variable must name an executable file; say which one did not.
fn check_given(
    tool: &'static str,
    given: &Utf8Path,
    found_by: &FoundBy,
) -> Result<(), ToolchainError> {
    if matches!(found_by, FoundBy::Path(_)) || is_executable(given.as_std_path()) {
        return Ok(());
    }
    let reason = if given.exists() {
        "not an executable file"
    } else {
        "no such file"
    };
    Err(ToolchainError::BadToolPath {
        tool,
        path: given.to_owned(),
        found_by: found_by.to_string(),
        reason: reason.into(),
    })
}

fn find(names: &[&str], given: Option<&GivenTool>) -> Option<(Utf8PathBuf, FoundBy)> {
    if let Some(given) = given {
        return Some((given.path.clone(), given.given_by.clone()));
    }
    let path = std::env::var_os("PATH")?;
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                let candidate = Utf8PathBuf::from_path_buf(candidate).ok()?;
                return Some((candidate, FoundBy::Path((*name).to_string())));
            }
        }
    }
    None
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Follows symlinks, and a shell-script wrapper to the executable it starts.
pub fn resolve_wrapper(path: &Utf8Path) -> Result<Utf8PathBuf, ToolchainError> {
    let io = |source| ToolchainError::Io {
        path: path.to_owned(),
        source,
    };
    let real = path.canonicalize_utf8().map_err(io)?;
    if !is_executable(real.as_std_path()) {
        return Err(ToolchainError::NotExecutable { path: real });
    }
    let mut head = [0u8; 4];
    let n = std::fs::File::open(&real)
        .and_then(|mut f| f.read(&mut head))
        .map_err(io)?;
    if head[..n].starts_with(b"#!") {
        let script = std::fs::read_to_string(&real).map_err(io)?;
        // The first absolute path to an ELF executable in the script is the browser.
        for token in script
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .filter(|t| t.starts_with('/'))
        {
            let candidate = Utf8Path::new(token);
            if candidate != real && is_executable(candidate.as_std_path()) && is_elf(candidate) {
                return candidate.canonicalize_utf8().map_err(io);
            }
        }
        return Err(ToolchainError::UnresolvedWrapper { path: real });
    }
    Ok(real)
}

fn is_elf(path: &Utf8Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|_| &head == b"\x7fELF")
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapper_script_resolves_to_the_binary_it_starts() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        let wrapper = dir.join("chromium-headless-shell");
        // /bin/true stands in for the browser: an ELF executable.
        let target = Utf8Path::new("/bin/true").canonicalize_utf8().unwrap();
        std::fs::write(&wrapper, format!("#!/bin/sh -e\n\n{target} \"$@\"\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(resolve_wrapper(&wrapper).unwrap(), target);

        std::fs::write(&wrapper, "#!/bin/sh\nexec chrome \"$@\"\n").unwrap();
        assert!(matches!(
            resolve_wrapper(&wrapper),
            Err(ToolchainError::UnresolvedWrapper { .. })
        ));
    }

    #[test]
    fn a_fontconfig_file_is_read_as_fontconfig_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        for font in [
            "listed/a.ttf",
            "included/nested/b.otf",
            "relative/c.ttf",
            "unlisted/d.ttf",
        ] {
            let path = dir.join(font);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"font").unwrap();
        }
        std::fs::write(
            dir.join("more.conf"),
            r#"<?xml version="1.0"?><fontconfig><dir prefix="relative">relative</dir></fontconfig>"#,
        )
        .unwrap();
        let conf = dir.join("fonts.conf");
        std::fs::write(
            &conf,
            format!(
                r#"<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>{dir}/listed</dir>
  <dir>{dir}/included</dir>
  <include ignore_missing="yes">{dir}/more.conf</include>
  <include ignore_missing="yes">{dir}/absent.conf</include>
</fontconfig>"#
            ),
        )
        .unwrap();
        let files = Fonts::File(conf.clone()).files().unwrap();
        let names: Vec<&str> = files
            .iter()
            .map(|f| f.strip_prefix(dir).unwrap().as_str())
            .collect();
        assert_eq!(
            names,
            ["included/nested/b.otf", "listed/a.ttf", "relative/c.ttf"],
            "every folder listed, an included file's relative one too, nothing else"
        );
        std::fs::write(&conf, "<fontconfig><dir>").unwrap();
        let err = Fonts::File(conf).files().unwrap_err().to_string();
        assert!(err.contains("fonts.conf: not a fontconfig file"), "{err}");
    }

    #[test]
    fn pinned_fonts_are_the_only_ones_accepted() {
        let fonts = Fonts::Pinned(vec![
            Utf8PathBuf::from("/f/a.ttf"),
            Utf8PathBuf::from("/f/b.ttf"),
        ]);
        let xml = fonts.fontconfig(Utf8Path::new("/c")).unwrap();
        assert_eq!(xml.matches("<dir>/f</dir>").count(), 1);
        assert!(xml.contains("<glob>/f/a.ttf</glob>") && xml.contains("<rejectfont>"));
        assert!(xml.contains("<cachedir>/c</cachedir>"), "{xml}");
    }
}
