//! The manifest: every file of a bundle (except `plan.json` and the manifest itself) with its
//! size, executable bit and blake3, sorted by path. Its canonical JSON defines the bundle hash.

use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::error::BundleError;
use crate::hash::{BundleHash, ContentHash};

/// The domain tag hashed before the manifest.
const BUNDLE_TAG: &str = "framelock-bundle-v1";

/// Files at the bundle root that are not part of its identity.
pub const UNHASHED: &[&str] = &["plan.json", "manifest.json"];

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path relative to the bundle root, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether any execute bit is set.
    pub executable: bool,
    /// blake3 of the contents.
    pub blake3: ContentHash,
}

/// Every hashed file of a bundle, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Manifest(pub Vec<ManifestEntry>);

impl Manifest {
    /// Hashes every file below `root` except [`UNHASHED`] at the top.
    pub fn scan(root: &Utf8Path) -> Result<Manifest, BundleError> {
        let mut entries = Vec::new();
        scan_dir(root, root, &mut entries)?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Manifest(entries))
    }

    /// The canonical JSON: compact, fields in declaration order, entries sorted.
    pub fn canonical_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest serialises")
    }

    /// The bundle hash.
    pub fn bundle_hash(&self) -> BundleHash {
        BundleHash(ContentHash::of_tagged(BUNDLE_TAG, &self.canonical_json()))
    }

    /// Entry by path.
    pub fn get(&self, path: &str) -> Option<&ManifestEntry> {
        self.0
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.0[i])
    }
}

fn scan_dir(
    root: &Utf8Path,
    dir: &Utf8Path,
    out: &mut Vec<ManifestEntry>,
) -> Result<(), BundleError> {
    let io = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| BundleError::Io { path, source }
    };
    for entry in dir.read_dir_utf8().map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let meta = std::fs::symlink_metadata(path).map_err(io(path))?;
        let rel = path
            .strip_prefix(root)
            .expect("entries lie below the root")
            .as_str()
            .to_string();
        if dir == root && UNHASHED.contains(&rel.as_str()) {
            continue;
        }
        if meta.is_dir() {
            scan_dir(root, path, out)?;
        } else if meta.is_file() {
            out.push(ManifestEntry {
                blake3: ContentHash::of_file(path).map_err(io(path))?,
                size: meta.len(),
                executable: meta.permissions().mode() & 0o111 != 0,
                path: rel,
            });
        } else {
            return Err(BundleError::NotRegular {
                path: path.to_owned(),
            });
        }
    }
    Ok(())
}

/// How a bundle on disk differs from its manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ManifestDiff {
    /// In the manifest, not on disk.
    pub missing: Vec<Utf8PathBuf>,
    /// On disk, not in the manifest.
    pub extra: Vec<Utf8PathBuf>,
    /// Different size, bit or contents.
    pub changed: Vec<Utf8PathBuf>,
}

impl ManifestDiff {
    /// Compares what is recorded with what is there.
    pub fn between(recorded: &Manifest, actual: &Manifest) -> ManifestDiff {
        let mut diff = ManifestDiff::default();
        for e in &recorded.0 {
            match actual.get(&e.path) {
                None => diff.missing.push(e.path.clone().into()),
                Some(a) if a != e => diff.changed.push(e.path.clone().into()),
                Some(_) => {}
            }
        }
        for a in &actual.0 {
            if recorded.get(&a.path).is_none() {
                diff.extra.push(a.path.clone().into());
            }
        }
        diff
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.changed.is_empty()
    }

    /// One line naming every difference.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (label, list) in [
            ("changed", &self.changed),
            ("missing", &self.missing),
            ("unexpected", &self.extra),
        ] {
            if !list.is_empty() {
                let names: Vec<&str> = list.iter().map(|p| p.as_str()).collect();
                parts.push(format!("{label}: {}", names.join(", ")));
            }
        }
        parts.join("; ")
    }
}
