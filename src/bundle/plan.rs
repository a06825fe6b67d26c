//! `plan`: freezing a composition into a bundle a worker can render with nothing else.
//!
//! The composition folder is copied into `compiled/` (minus the skip list, minus `meta.json`),
//! every local reference is checked, the render-relevant settings are resolved into
//! `meta/composition.json` and `meta/encoder.json`, the manifest is written, and `plan.json`
//! records the bundle hash, the chunk plan and the planning machine's toolchain. Everything is
//! written into a temporary folder beside the target and renamed into place at the end.

use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};

use super::error::BundleError;
use super::layout::{
    CompositionMeta, EncoderMeta, PLAN_SCHEMA_VERSION, PlanJson, ToolchainRecord, VIDEOS_JSON,
    WARNINGS_JSON, write_json,
};
use super::manifest::Manifest;
use super::open::Bundle;
use super::refs::references;
use crate::composition::{Composition, DurationSource, DurationSpec};
use crate::hash::ContentHash;
use crate::media::prepare_media;
use crate::staging;
use crate::timing::{ChunkPlan, FrameRange};
use crate::toolchain::ToolchainFingerprint;

/// Path components never copied into a bundle (matched relative to the composition root).
pub const SKIP: &[&str] = &[
    "node_modules",
    ".git",
    ".cache",
    "output",
    "failures",
    "dist",
    ".next",
    ".turbo",
];

/// How the frames are cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// Chunks of this many frames.
    Size(u64),
    /// This many chunks of (nearly) equal size.
    Count(u64),
}

impl Chunking {
    /// The chunk plan over `frames` frames.
    pub fn plan(self, frames: u64) -> ChunkPlan {
        let all = FrameRange::new(0, frames).expect("plans cover at least one frame");
        let size = match self {
            Chunking::Size(n) => n.max(1),
            Chunking::Count(k) => frames.div_ceil(k.max(1)),
        };
        ChunkPlan::by_size(all, size)
    }
}

/// What `plan` needs besides the composition.
pub struct PlanInput<'a> {
    /// The composition, loaded.
    pub composition: &'a Composition,
    /// The length, when the page had to be asked (see [`DurationSpec::FromPage`]).
    pub page_duration: Option<(f64, DurationSource)>,
    /// Chunking; default: `renderConfig.chunkSize`, else one chunk.
    pub chunking: Option<Chunking>,
    /// The planning machine's toolchain.
    pub toolchain: &'a ToolchainFingerprint,
    /// Encoder settings.
    pub encoder: EncoderMeta,
    /// ffmpeg, to decode video frames and mix sound into the bundle.
    pub ffmpeg: &'a Utf8Path,
}

/// Writes the bundle for `input` at `target` (which must not exist) and opens it.
pub fn plan(input: &PlanInput<'_>, target: &Utf8Path) -> Result<Bundle, BundleError> {
    let comp = input.composition;
    if target.exists() {
        return Err(BundleError::TargetExists {
            path: target.to_owned(),
        });
    }
    let (frames, duration_seconds, duration_source) = match (comp.duration, input.page_duration) {
        (DurationSpec::Frames(n), _) => (n, None, DurationSource::CommandLine),
        (DurationSpec::Seconds(s, source), _) => (comp.frames_in(s), Some(s), source),
        (DurationSpec::FromPage, Some((s, source))) => (comp.frames_in(s), Some(s), source),
        (DurationSpec::FromPage, None) => {
            return Err(BundleError::NoDuration {
                index: comp.index(),
            });
        }
    };
    if frames == 0 {
        return Err(BundleError::NoDuration {
            index: comp.index(),
        });
    }
    let chunking = input
        .chunking
        .or(comp.chunk_size.map(Chunking::Size))
        .unwrap_or(Chunking::Count(1));

    if let Some(parent) = target.parent().filter(|p| !p.as_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| BundleError::Io {
            path: parent.to_owned(),
            source,
        })?;
    }
    let (work, root) = staging::dir_beside(target, "plan").map_err(|source| BundleError::Io {
        path: target.to_owned(),
        source,
    })?;

    let compiled = root.join("compiled");
    copy_composition(&comp.dir, &compiled)?;
    check_references(&compiled, &comp.dir)?;
    if comp.compile {
        compile_index(&compiled.join("index.html"))?;
    }

    let media = prepare_media(input.ffmpeg, &root, frames, comp.fps)?;

    let meta = CompositionMeta {
        fps: comp.fps,
        frames,
        height: comp.height,
        seed: comp.seed,
        variables: comp.variables.clone(),
        width: comp.width,
    };
    std::fs::create_dir_all(root.join("meta")).map_err(|source| BundleError::Io {
        path: root.join("meta"),
        source,
    })?;
    write_json(&root.join("meta/composition.json"), &meta, false)?;
    write_json(&root.join("meta/encoder.json"), &input.encoder, false)?;
    if !media.videos.is_empty() {
        write_json(&root.join(VIDEOS_JSON), &media.videos, false)?;
    }
    if !media.warnings.is_empty() {
        write_json(&root.join(WARNINGS_JSON), &media.warnings, false)?;
    }

    let manifest = Manifest::scan(&root)?;
    write_json(&root.join("manifest.json"), &manifest, true)?;
    let plan = PlanJson {
        schema_version: PLAN_SCHEMA_VERSION,
        bundle_hash: manifest.bundle_hash(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        name: comp.name.clone(),
        width: comp.width,
        height: comp.height,
        fps: comp.fps,
        frames,
        duration_seconds,
        duration_source,
        chunk_plan: chunking.plan(frames),
        toolchain: ToolchainRecord::from(input.toolchain),
    };
    write_json(&root.join("plan.json"), &plan, true)?;

    staging::publish_dir(work, target).map_err(|source| BundleError::Io {
        path: target.to_owned(),
        source,
    })?;
    Bundle::open(target)
}

/// Compiles the copied page as HyperFrames does (`crate::compile`).
fn compile_index(page: &Utf8Path) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: page.to_owned(),
        source,
    };
    let html = std::fs::read_to_string(page).map_err(io)?;
    std::fs::write(page, crate::compile::compile_page(&html).html).map_err(io)
}

/// Copies the composition folder `root` into `dest`: every entry [`walk_composition`] visits
/// except the root's `meta.json`.
fn copy_composition(root: &Utf8Path, dest: &Utf8Path) -> Result<(), BundleError> {
    let io = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| BundleError::Io { path, source }
    };
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    walk_composition(root, &mut |rel, real, meta| {
        let target = dest.join(rel);
        if rel == "meta.json" {
            return Ok(());
        }
        if meta.is_dir() {
            return std::fs::create_dir_all(&target).map_err(io(&target));
        }
        std::fs::copy(real, &target).map_err(io(&target))?;
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            0o755
        } else {
            0o644
        };
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
            .map_err(io(&target))
    })
}

/// One hash for everything in the composition folder `root` a render depends on: each file
/// [`walk_composition`] visits (the root's `meta.json` included, with its thresholds and
/// expected findings), by path, executable bit and contents. A changed byte, a new file or a
/// renamed one changes it; the skip list and links leaving the folder do not.
pub fn composition_digest(root: &Utf8Path) -> Result<ContentHash, BundleError> {
    let mut listing = String::new();
    walk_composition(root, &mut |rel, real, meta| {
        if meta.is_file() {
            let hash = ContentHash::of_file(real).map_err(|source| BundleError::Io {
                path: real.to_owned(),
                source,
            })?;
            let executable = meta.permissions().mode() & 0o111 != 0;
            listing.push_str(&format!("{rel}\0{executable}\0{hash}\n"));
        }
        Ok(())
    })?;
    Ok(ContentHash::of_tagged(
        "framelock-composition-files-v1",
        listing.as_bytes(),
    ))
}

/// Visits every folder and file below the composition folder `root`, parents first and in
/// name order, with its path relative to the root, its real path and its metadata: the skip
/// list is left out, and symlinks are followed only while they stay inside the root.
fn walk_composition(
    root: &Utf8Path,
    visit: &mut dyn FnMut(&Utf8Path, &Utf8Path, &std::fs::Metadata) -> Result<(), BundleError>,
) -> Result<(), BundleError> {
    fn walk(
        root: &Utf8Path,
        dir: &Utf8Path,
        rel: &Utf8Path,
        visit: &mut dyn FnMut(&Utf8Path, &Utf8Path, &std::fs::Metadata) -> Result<(), BundleError>,
    ) -> Result<(), BundleError> {
        let io = |path: &Utf8Path| {
            let path = path.to_owned();
            move |source| BundleError::Io { path, source }
        };
        let mut entries: Vec<_> = dir
            .read_dir_utf8()
            .map_err(io(dir))?
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        entries.sort_by(|a, b| a.file_name().cmp(b.file_name()));
        for entry in entries {
            let name = entry.file_name();
            if SKIP.contains(&name) {
                continue;
            }
            let real = entry.path().canonicalize_utf8().map_err(io(entry.path()))?;
            if !real.starts_with(root) {
                continue;
            }
            let meta = std::fs::metadata(&real).map_err(io(&real))?;
            let rel = rel.join(name);
            if meta.is_dir() {
                visit(&rel, &real, &meta)?;
                walk(root, &real, &rel, visit)?;
            } else if meta.is_file() {
                visit(&rel, &real, &meta)?;
            }
        }
        Ok(())
    }
    let root = root.canonicalize_utf8().map_err(|source| BundleError::Io {
        path: root.to_owned(),
        source,
    })?;
    walk(&root, &root, Utf8Path::new(""), visit)
}

/// Every local reference of every HTML and CSS file must name a file inside `compiled/`;
/// errors name the file in the composition folder `source`.
fn check_references(compiled: &Utf8Path, source: &Utf8Path) -> Result<(), BundleError> {
    let mut files = Vec::new();
    collect_files(compiled, compiled, &mut files)?;
    for rel in &files {
        if !matches!(rel.extension(), Some("html" | "htm" | "css")) {
            continue;
        }
        let path = compiled.join(rel);
        let text = std::fs::read_to_string(&path).map_err(|source| BundleError::Io {
            path: path.clone(),
            source,
        })?;
        for r in references(rel, &text) {
            let ok = r
                .target
                .as_ref()
                .is_some_and(|t| compiled.join(t).is_file());
            if !ok {
                return Err(BundleError::MissingAsset {
                    file: source.join(&r.from),
                    reference: r.written,
                });
            }
        }
    }
    Ok(())
}

fn collect_files(
    root: &Utf8Path,
    dir: &Utf8Path,
    out: &mut Vec<Utf8PathBuf>,
) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in dir.read_dir_utf8().map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, path, out)?;
        } else {
            out.push(
                path.strip_prefix(root)
                    .expect("entries lie below the root")
                    .to_owned(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_composition_digest_follows_every_file_a_render_depends_on_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("index.html", "<p>a</p>");
        write("meta.json", "{\"minPsnr\": 40}");
        write("assets/logo.svg", "<svg/>");
        let digest = || composition_digest(root).unwrap();
        let first = digest();
        assert_eq!(digest(), first, "the same files give the same digest");

        write("node_modules/dep/index.js", "ignored");
        std::os::unix::fs::symlink("/etc/hostname", root.join("outside")).unwrap();
        assert_eq!(
            digest(),
            first,
            "the skip list and links leaving the folder do not count"
        );

        let mut seen = vec![first];
        write("meta.json", "{\"minPsnr\": 41}");
        seen.push(digest());
        write("assets/logo.svg", "<svg></svg>");
        seen.push(digest());
        std::fs::rename(root.join("assets/logo.svg"), root.join("assets/mark.svg")).unwrap();
        seen.push(digest());
        let script = root.join("assets/mark.svg");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        seen.push(digest());
        let distinct: std::collections::BTreeSet<_> = seen.iter().collect();
        assert_eq!(
            distinct.len(),
            seen.len(),
            "each change gives a new digest: {seen:?}"
        );
    }
}
