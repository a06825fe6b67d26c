//! `cache ls`, `cache verify` and `cache gc`: looking after a store.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{
    ChunkRecord, Execution, Index, KeyedRecord, ResultRecord, Store, StoreError, VerdictRecord,
};
use crate::bundle::packed_plan;
use crate::hash::{BundleHash, ContentHash};
use crate::timing::{ChunkIndex, FrameRange};

/// One cache entry, as `cache ls` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CacheEntry {
    /// The key.
    pub key: ContentHash,
    /// The record it points at.
    pub record: Option<ContentHash>,
    /// What the record says, when it could be read.
    pub chunk: Option<ChunkSummary>,
    /// Why it could not be read.
    pub problem: Option<String>,
    /// Age in seconds.
    pub age_seconds: u64,
}

/// The parts of a chunk record worth listing.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkSummary {
    /// Bundle hash.
    pub bundle_hash: BundleHash,
    /// Chunk index.
    pub chunk_index: ChunkIndex,
    /// Frames.
    pub range: FrameRange,
    /// Execution kind.
    pub execution: Execution,
}

/// Every cache entry, oldest last.
pub fn list(store: &Store) -> Result<Vec<CacheEntry>, StoreError> {
    let mut out = Vec::new();
    for (key, age) in store.keys(Index::Chunks)? {
        let entry = match store.get_key(Index::Chunks, &key) {
            Ok(Some(record)) => match ChunkRecord::load(store, &record) {
                Ok(r) => CacheEntry {
                    chunk: Some(ChunkSummary {
                        bundle_hash: r.bundle_hash,
                        chunk_index: r.chunk_index,
                        range: r.range,
                        execution: r.execution,
                    }),
                    key,
                    record: Some(record),
                    problem: None,
                    age_seconds: age,
                },
                Err(e) => CacheEntry {
                    key,
                    record: Some(record),
                    chunk: None,
                    problem: Some(e.to_string()),
                    age_seconds: age,
                },
            },
            Ok(None) => continue,
            Err(e) => CacheEntry {
                key,
                record: None,
                chunk: None,
                problem: Some(e.to_string()),
                age_seconds: age,
            },
        };
        out.push(entry);
    }
    out.sort_by_key(|e| e.age_seconds);
    Ok(out)
}

/// What `cache verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Blobs read and hashed.
    pub blobs_checked: usize,
    /// Keys followed (chunk keys, verdicts, kept bundles and fixture results).
    pub keys_checked: usize,
    /// Each problem: what, and why.
    pub problems: Vec<String>,
}

/// Hashes every blob and follows every key: nothing corrupted may hide in the store.
pub fn verify(store: &Store) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    for (blob, _) in store.blobs()? {
        report.blobs_checked += 1;
        if let Err(e) = store.verify(&blob) {
            report.problems.push(e.to_string());
        }
    }
    for entry in list(store)? {
        report.keys_checked += 1;
        if let Some(problem) = entry.problem {
            report
                .problems
                .push(format!("cache key {}: {problem}", entry.key));
        }
    }
    for index in [Index::Verdicts, Index::Bundles, Index::Results] {
        for (key, _) in store.keys(index)? {
            report.keys_checked += 1;
            if let Err(problem) = follow(store, index, &key) {
                report
                    .problems
                    .push(format!("{index} key {key}: {problem}"));
            }
        }
    }
    Ok(report)
}

/// The blobs a key keeps, checked: a chunk record or a verdict must read back as one, a kept
/// bundle must be intact and be the bundle its key names, and a fixture result must read back
/// with every output it names intact.
fn follow(store: &Store, index: Index, key: &ContentHash) -> Result<Vec<ContentHash>, String> {
    let blob = store
        .get_key(index, key)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "removed while being read".to_string())?;
    let mut blobs = Vec::new();
    match index {
        Index::Verdicts => {
            VerdictRecord::load(store, &blob).map_err(|e| e.to_string())?;
        }
        Index::Results => {
            let record = ResultRecord::load(store, &blob).map_err(|e| e.to_string())?;
            for output in record.outputs {
                store.verify(&output.blob).map_err(|e| e.to_string())?;
                blobs.push(output.blob);
            }
        }
        Index::Chunks => {
            let record = ChunkRecord::load(store, &blob).map_err(|e| e.to_string())?;
            blobs.push(record.encoded_blob);
        }
        Index::Bundles => {
            store.verify(&blob).map_err(|e| e.to_string())?;
            let plan = packed_plan(&store.blob_path(&blob)).map_err(|e| e.to_string())?;
            if plan.bundle_hash.0 != *key {
                return Err(format!("holds bundle {}", plan.bundle_hash));
            }
        }
    }
    blobs.push(blob);
    Ok(blobs)
}

/// What `cache gc` removed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    /// Cache keys removed.
    pub keys_removed: usize,
    /// Blobs removed.
    pub blobs_removed: usize,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Worker log folders removed.
    pub log_dirs_removed: usize,
}

/// Removes keys (chunk keys, verdicts, kept bundles, fixture results) older than `keep_days`
/// or unreadable, worker log folders as old, then blobs nothing remaining needs that are older
/// too. Holds the store lock exclusively, so no writer is between storing a blob and
/// indexing it.
pub fn gc(store: &Store, keep_days: u64) -> Result<GcReport, StoreError> {
    let _lock = store.lock(true)?;
    let max_age = keep_days * 24 * 3600;
    let mut report = GcReport::default();
    let mut live = BTreeSet::new();
    for index in Index::ALL {
        for (key, age) in store.keys(index)? {
            match follow(store, index, &key) {
                Ok(blobs) if age < max_age => live.extend(blobs),
                _ => {
                    store.remove_key(index, &key)?;
                    report.keys_removed += 1;
                }
            }
        }
    }
    let logs = store.root().join("logs");
    for entry in logs.read_dir_utf8().into_iter().flatten().flatten() {
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| m.elapsed().ok())
            .map_or(0, |d| d.as_secs());
        if age >= max_age && entry.path().is_dir() {
            std::fs::remove_dir_all(entry.path()).map_err(|source| StoreError::Io {
                path: entry.path().to_owned(),
                source,
            })?;
            report.log_dirs_removed += 1;
        }
    }
    for (blob, age) in store.blobs()? {
        if !live.contains(&blob) && age >= max_age {
            report.bytes_freed += std::fs::metadata(store.blob_path(&blob)).map_or(0, |m| m.len());
            store.remove_blob(&blob)?;
            report.blobs_removed += 1;
        }
    }
    Ok(report)
}
