//! The toolchain fingerprint: a hash of the *contents* of everything that rasterises and
//! encodes.
//!
//! Version strings miss rebuilt packages (a security update to Debian's chromium keeps its
//! version but changes its pixels), so the fingerprint hashes the files themselves: the real
//! browser binary and every file beside it (SwiftShader, ANGLE, `.pak`, ICU data, V8 snapshots),
//! the pinned font files, the ffmpeg binary and the codec libraries it loads, plus both version
//! strings.

use std::process::Command;

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::{Toolchain, ToolchainError};

/// Prefixes of the system libraries the browser loads that decide its pixels: font
/// rasterising and shaping, and image decoding.
const CHROME_LIBRARIES: &[&str] = &[
    "libfreetype",
    "libharfbuzz",
    "libfontconfig",
    "libpng",
    "libjpeg",
    "libwebp",
    "libdav1d",
];

/// Prefixes of the shared libraries of ffmpeg that decide its output.
const FFMPEG_LIBRARIES: &[&str] = &[
    "libavcodec",
    "libavformat",
    "libavfilter",
    "libavutil",
    "libswscale",
    "libswresample",
    "libx264",
    "libvpx",
    "libopus",
];

/// One hashed file.
#[derive(Debug, Clone, Serialize)]
pub struct HashedFile {
    /// The file.
    pub path: Utf8PathBuf,
    /// blake3 of its contents.
    pub blake3: String,
}

/// What the toolchain fingerprint is made of.
#[derive(Debug, Clone, Serialize)]
pub struct ToolchainFingerprint {
    /// blake3 over the version strings and every file's path name and hash.
    pub hash: String,
    /// The browser's `--version`.
    pub chrome_version: String,
    /// The first line of `ffmpeg -version`.
    pub ffmpeg_version: String,
    /// The pinned toolchain this is, if a pinning wrapper says so.
    pub pinned: Option<String>,
    /// Every file that went in.
    pub files: Vec<HashedFile>,
}

impl ToolchainFingerprint {
    /// Hashes the toolchain. Reads a few hundred megabytes (the browser binary dominates)
    /// unless `cache` (a file, usually in the store) remembers a file whose identity (device,
    /// inode, size, modification and change times) has not changed since it was hashed.
    pub fn compute(
        toolchain: &Toolchain,
        cache: Option<&Utf8Path>,
    ) -> Result<ToolchainFingerprint, ToolchainError> {
        let mut stat_cache = cache.map(StatCache::load).unwrap_or_default();
        let chrome_version =
            stat_cache.version(&toolchain.chrome.real, &["--version"], run_version)?;
        let ffmpeg_version = stat_cache.version(
            &toolchain.ffmpeg.real,
            &["-hide_banner", "-version"],
            run_version,
        )?;

        let mut paths = chrome_files(&toolchain.chrome.real)?;
        paths.extend(toolchain.fonts.files()?);
        paths.extend(shared_libraries(&toolchain.chrome.real, CHROME_LIBRARIES)?);
        paths.push(toolchain.ffmpeg.real.clone());
        paths.extend(shared_libraries(&toolchain.ffmpeg.real, FFMPEG_LIBRARIES)?);

        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            files.push(HashedFile {
                blake3: stat_cache.hash(&path)?,
                path,
            });
        }
        if let Some(cache) = cache {
            stat_cache.save(cache);
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"framelock-toolchain-v1\0");
        hasher.update(chrome_version.as_bytes());
        hasher.update(b"\0");
        hasher.update(ffmpeg_version.as_bytes());
        hasher.update(b"\0");
        // A fontconfig file given by the environment decides hinting and antialiasing too.
        if let crate::toolchain::Fonts::File(path) = &toolchain.fonts {
            let rules = std::fs::read(path).map_err(|source| ToolchainError::Io {
                path: path.clone(),
                source,
            })?;
            hasher.update(&rules);
            hasher.update(b"\0");
        }
        for f in &files {
            // File names, not full paths: the same files installed under another prefix (a Nix
            // store path) are the same toolchain.
            hasher.update(f.path.file_name().unwrap_or_default().as_bytes());
            hasher.update(b"\0");
            hasher.update(f.blake3.as_bytes());
            hasher.update(b"\0");
        }
        Ok(ToolchainFingerprint {
            hash: hasher.finalize().to_hex().to_string(),
            chrome_version,
            ffmpeg_version,
            pinned: toolchain.pinned.clone(),
            files,
        })
    }
}

/// What is remembered of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CachedFile {
    identity: [u64; 6],
    blake3: Option<String>,
    versions: BTreeMap<String, String>,
}

/// Hashes and version strings of toolchain files, keyed by path and valid while the file's
/// identity is unchanged: any write to a file changes its change time, which no tool can set.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StatCache {
    files: BTreeMap<Utf8PathBuf, CachedFile>,
    #[serde(skip)]
    dirty: bool,
}

impl StatCache {
    fn load(path: &Utf8Path) -> StatCache {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Written through a temporary file; a cache that cannot be written is only slower.
    fn save(&self, path: &Utf8Path) {
        if !self.dirty {
            return;
        }
        let Some(dir) = path.parent() else { return };
        let Ok(mut temp) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        let bytes = serde_json::to_vec(self).expect("the cache serialises");
        if std::io::Write::write_all(&mut temp, &bytes).is_ok() {
            let _ = temp.persist(path);
        }
    }

    fn entry(&mut self, path: &Utf8Path) -> Result<&mut CachedFile, ToolchainError> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).map_err(|source| ToolchainError::Io {
            path: path.to_owned(),
            source,
        })?;
        let nanos = |secs: i64, nsec: i64| (secs as u64).wrapping_mul(1_000_000_000) + nsec as u64;
        let identity = [
            meta.dev(),
            meta.ino(),
            meta.size(),
            nanos(meta.mtime(), meta.mtime_nsec()),
            nanos(meta.ctime(), meta.ctime_nsec()),
            u64::from(meta.mode()),
        ];
        let entry = self
            .files
            .entry(path.to_owned())
            .or_insert_with(|| CachedFile {
                identity,
                blake3: None,
                versions: BTreeMap::new(),
            });
        if entry.identity != identity {
            *entry = CachedFile {
                identity,
                blake3: None,
                versions: BTreeMap::new(),
            };
        }
        Ok(entry)
    }

    fn hash(&mut self, path: &Utf8Path) -> Result<String, ToolchainError> {
        if let Some(hash) = self.entry(path)?.blake3.clone() {
            return Ok(hash);
        }
        let hash = hash_file(path)?;
        self.entry(path)?.blake3 = Some(hash.clone());
        self.dirty = true;
        Ok(hash)
    }

    fn version(
        &mut self,
        binary: &Utf8Path,
        args: &[&str],
        run: impl Fn(&Utf8Path, &[&str]) -> Result<String, ToolchainError>,
    ) -> Result<String, ToolchainError> {
        let key = args.join(" ");
        if let Some(v) = self.entry(binary)?.versions.get(&key) {
            return Ok(v.clone());
        }
        let version = run(binary, args)?;
        self.entry(binary)?.versions.insert(key, version.clone());
        self.dirty = true;
        Ok(version)
    }
}

fn run_version(binary: &Utf8Path, args: &[&str]) -> Result<String, ToolchainError> {
    let out =
        Command::new(binary)
            .args(args)
            .output()
            .map_err(|source| ToolchainError::CannotRun {
                command: format!("{binary} {}", args.join(" ")),
                source,
            })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    if !out.status.success() || line.is_empty() {
        return Err(ToolchainError::Unusable {
            command: format!("{binary} {}", args.join(" ")),
            status: out.status.to_string(),
            stderr: tail(&String::from_utf8_lossy(&out.stderr)),
        });
    }
    // ffmpeg's line goes on with a copyright notice that changes with the year, not the build.
    let line = line.split(" Copyright").next().unwrap_or(line);
    Ok(line.trim().to_string())
}

/// The browser binary and every regular file in its folder, plus its locale data, sorted.
fn chrome_files(binary: &Utf8Path) -> Result<Vec<Utf8PathBuf>, ToolchainError> {
    let dir = binary.parent().unwrap_or(Utf8Path::new("/"));
    let mut files = vec![binary.to_owned()];
    let io = |source| ToolchainError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in dir.read_dir_utf8().map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let Ok(meta) = path.metadata() else { continue };
        if meta.is_file() && path != binary {
            files.push(path.to_owned());
        }
    }
    let en_us = dir.join("locales/en-US.pak");
    if en_us.is_file() {
        files.push(en_us);
    }
    files.sort();
    Ok(files)
}

/// The codec libraries ffmpeg loads, from `ldd`. A static ffmpeg has none.
/// The shared libraries `binary` loads whose names start with one of `prefixes`, from `ldd`. A
/// static binary has none; an `ldd` that cannot run is an error, since the fingerprint would
/// silently lose the libraries.
fn shared_libraries(
    binary: &Utf8Path,
    prefixes: &[&str],
) -> Result<Vec<Utf8PathBuf>, ToolchainError> {
    let out =
        Command::new("ldd")
            .arg(binary)
            .output()
            .map_err(|source| ToolchainError::CannotRun {
                command: format!("ldd {binary}"),
                source,
            })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if text.contains("not a dynamic executable") || stderr.contains("not a dynamic executable")
        {
            return Ok(Vec::new());
        }
        return Err(ToolchainError::Unusable {
            command: format!("ldd {binary}"),
            status: out.status.to_string(),
            stderr: tail(&stderr),
        });
    }
    let mut libs: Vec<Utf8PathBuf> = text
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.trim().split_once(" => ")?;
            prefixes
                .iter()
                .any(|p| name.starts_with(p))
                .then(|| rest.split(" (").next().map(|p| Utf8PathBuf::from(p.trim())))
                .flatten()
        })
        .filter(|p| p.is_file())
        .collect();
    libs.sort();
    Ok(libs)
}

/// blake3 of a file's contents, as hex.
pub fn hash_file(path: &Utf8Path) -> Result<String, ToolchainError> {
    let mut hasher = blake3::Hasher::new();
    let file = std::fs::File::open(path).map_err(|source| ToolchainError::Io {
        path: path.to_owned(),
        source,
    })?;
    hasher
        .update_reader(file)
        .map_err(|source| ToolchainError::Io {
            path: path.to_owned(),
            source,
        })?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// The last lines of a command's stderr, for error messages.
pub fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_cache_rehashes_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(dir.path()).unwrap();
        let file = dir.join("lib.so");
        std::fs::write(&file, "one").unwrap();
        let mut cache = StatCache::default();
        let first = cache.hash(&file).unwrap();
        assert_eq!(cache.hash(&file).unwrap(), first);
        cache.save(&dir.join("cache.json"));
        // Same size, same mtime set back: the change time still moves.
        let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::write(&file, "two").unwrap();
        std::fs::File::options()
            .append(true)
            .open(&file)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let mut reloaded = StatCache::load(&dir.join("cache.json"));
        assert_ne!(reloaded.hash(&file).unwrap(), first);
        assert_eq!(reloaded.hash(&file).unwrap(), hash_file(&file).unwrap());
    }
}
