//! `framelock diff A B`: what differs between two bundles (folders or packed archives), file by
//! file from their manifests, with a unified diff for small text files and the encoder settings
//! that changed. Equal bundle hashes mean nothing that is rendered differs.

use std::collections::BTreeSet;
use std::fmt::Write;

use camino::Utf8Path;
use similar::TextDiff;

use crate::bundle::{Bundle, BundleError, ManifestEntry};
use crate::hash::{BundleHash, short};
use crate::store::{ChunkRecord, Index, Store, StoreError};

/// Text files larger than this are compared by hash only.
const TEXT_DIFF_LIMIT: u64 = 64 * 1024;

/// A file both bundles have, with other contents.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedFile {
    /// Its path in the bundle.
    pub path: String,
    /// In A: size and blake3.
    pub before: ManifestEntry,
    /// In B.
    pub after: ManifestEntry,
    /// A unified diff, for small text files (html, css, js, json, …).
    pub text_diff: Option<String>,
}

/// What differs between bundle A and bundle B.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleDiff {
    /// A's hash.
    pub a: BundleHash,
    /// B's hash.
    pub b: BundleHash,
    /// Files only B has.
    pub added: Vec<ManifestEntry>,
    /// Files only A has.
    pub removed: Vec<ManifestEntry>,
    /// Files whose contents differ.
    pub changed: Vec<ChangedFile>,
    /// Encoder settings that differ, `name: a -> b`.
    pub encoder: Vec<String>,
}

impl BundleDiff {
    /// Whether the bundles render the same thing.
    pub fn is_same(&self) -> bool {
        self.a == self.b
    }

    /// The report `framelock diff` prints.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if self.is_same() {
            let _ = writeln!(
                out,
                "same bundle {}: nothing that is rendered differs",
                self.a
            );
            return out;
        }
        let _ = writeln!(out, "bundle {} -> {}", self.a, self.b);
        for e in &self.removed {
            let _ = writeln!(
                out,
                "removed  {} ({} bytes, {})",
                e.path,
                e.size,
                e.blake3.short()
            );
        }
        for e in &self.added {
            let _ = writeln!(
                out,
                "added    {} ({} bytes, {})",
                e.path,
                e.size,
                e.blake3.short()
            );
        }
        for c in &self.changed {
            let _ = writeln!(
                out,
                "changed  {} ({} -> {} bytes, {} -> {})",
                c.path,
                c.before.size,
                c.after.size,
                c.before.blake3.short(),
                c.after.blake3.short()
            );
            if let Some(diff) = &c.text_diff {
                out.push_str(diff);
            }
        }
        for e in &self.encoder {
            let _ = writeln!(out, "encoder  {e}");
        }
        out
    }
}

/// Compares two bundles, verifying each first: a manifest that does not match its files would
/// name the wrong ones.
pub fn diff_bundles(a: &Bundle, b: &Bundle) -> Result<BundleDiff, BundleError> {
    let (ma, mb) = (a.verify()?, b.verify()?);
    let mut diff = BundleDiff {
        a: a.hash().clone(),
        b: b.hash().clone(),
        added: mb
            .0
            .iter()
            .filter(|e| ma.get(&e.path).is_none())
            .cloned()
            .collect(),
        removed: ma
            .0
            .iter()
            .filter(|e| mb.get(&e.path).is_none())
            .cloned()
            .collect(),
        changed: Vec::new(),
        encoder: Vec::new(),
    };
    for before in &ma.0 {
        let Some(after) = mb.get(&before.path).filter(|after| *after != before) else {
            continue;
        };
        diff.changed.push(ChangedFile {
            path: before.path.clone(),
            before: before.clone(),
            after: after.clone(),
            text_diff: text_diff(&a.dir, &b.dir, &before.path, before.size.max(after.size)),
        });
    }
    let (ea, eb) = (
        serde_json::to_value(&a.encoder).expect("encoder settings serialise"),
        serde_json::to_value(&b.encoder).expect("encoder settings serialise"),
    );
    if let (Some(ea), Some(eb)) = (ea.as_object(), eb.as_object()) {
        for (key, value) in ea {
            if eb.get(key) != Some(value) {
                let after = eb.get(key).map_or("(none)".into(), |v| v.to_string());
                diff.encoder.push(format!("{key}: {value} -> {after}"));
            }
        }
    }
    Ok(diff)
}

/// A unified diff of a small text file present in both bundles.
fn text_diff(a: &Utf8Path, b: &Utf8Path, path: &str, size: u64) -> Option<String> {
    let text = matches!(
        Utf8Path::new(path).extension(),
        Some("html" | "htm" | "css" | "js" | "mjs" | "json" | "svg" | "txt" | "md")
    );
    if !text || size > TEXT_DIFF_LIMIT {
        return None;
    }
    let read = |root: &Utf8Path| std::fs::read_to_string(root.join(path)).ok();
    let (before, after) = (read(a)?, read(b)?);
    Some(
        TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(2)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string(),
    )
}

/// How the renders of two bundles were made: the planning machines' toolchains (plan.json)
/// and the fingerprints of the chunk records the store holds for each bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct FingerprintDiff {
    /// Per fingerprint (`planned on`, `toolchain`, `render settings`, `build`), A's values
    /// and B's.
    pub rows: Vec<(&'static str, BTreeSet<String>, BTreeSet<String>)>,
}

impl FingerprintDiff {
    /// Compares what `store` knows of the renders of `a` and `b`.
    pub fn of(store: &Store, a: &Bundle, b: &Bundle) -> Result<FingerprintDiff, StoreError> {
        // Every chunk record of the store, each read once.
        let records: Vec<ChunkRecord> = store
            .keys(Index::Chunks)?
            .into_iter()
            .filter_map(|(key, _)| store.get_key(Index::Chunks, &key).ok().flatten())
            .filter_map(|hash| ChunkRecord::load(store, &hash).ok())
            .collect();
        let side = |bundle: &Bundle| {
            let mut sets: [BTreeSet<String>; 4] = Default::default();
            sets[0].insert(bundle.plan.toolchain.fingerprint.clone());
            for r in records.iter().filter(|r| &r.bundle_hash == bundle.hash()) {
                sets[1].insert(r.fingerprints.toolchain.clone());
                sets[2].insert(r.fingerprints.render_settings.clone());
                sets[3].insert(r.fingerprints.build_id.clone());
            }
            sets
        };
        let (sa, sb) = (side(a), side(b));
        let names = ["planned on", "toolchain", "render settings", "build"];
        Ok(FingerprintDiff {
            rows: names
                .into_iter()
                .zip(sa.into_iter().zip(sb))
                .map(|(name, (a, b))| (name, a, b))
                .collect(),
        })
    }

    /// The lines `diff --runs` adds.
    pub fn text(&self) -> String {
        let shown = |set: &BTreeSet<String>| {
            if set.is_empty() {
                "(no render stored)".to_string()
            } else {
                set.iter().map(|h| short(h)).collect::<Vec<_>>().join(",")
            }
        };
        let mut out =
            String::from("fingerprints (plan.json, and the chunk records in the store):\n");
        for (name, a, b) in &self.rows {
            let verdict = if a == b { "same" } else { "changed" };
            let _ = writeln!(
                out,
                "  {name:<16} {verdict:<8} {} -> {}",
                shown(a),
                shown(b)
            );
        }
        out
    }
}
