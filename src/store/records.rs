//! Chunk records, run records and the cache keys that find them.
//!
//! A chunk record is JSON stored as a blob: what was rendered (bundle, chunk, range), how
//! (capture mode, execution kind, fingerprints) and the result (per-frame hashes, the encoded
//! chunk's blob). The cache key hashes everything that must match for a record to be reused;
//! the execution kind is part of it, so in-process and worker records never stand in for each
//! other.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{Index, Store, StoreError};
use crate::browser::{CaptureMode, PageEvent};
use crate::hash::{BundleHash, ContentHash};
use crate::timing::{ChunkIndex, FrameRange};

/// Version of the chunk and run record formats.
pub const RECORD_FORMAT_VERSION: u32 = 1;

/// Where a chunk was rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Execution {
    /// One browser walking every chunk in order.
    InProcess,
    /// A separate process with its own browser that saw only the bundle.
    Worker,
}

impl std::fmt::Display for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Execution::InProcess => "in-process",
            Execution::Worker => "worker",
        })
    }
}

/// The fingerprints a record was made under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordFingerprints {
    /// Toolchain fingerprint.
    pub toolchain: String,
    /// Render-settings fingerprint.
    pub render_settings: String,
    /// Hash of the framelock binary that rendered.
    pub build_id: String,
}

/// Everything a reusable chunk record must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheKey {
    /// What is rendered.
    pub bundle_hash: BundleHash,
    /// Which frames.
    pub range: FrameRange,
    /// Where.
    pub execution: Execution,
    /// How, with what, by which build.
    pub fingerprints: RecordFingerprints,
}

impl CacheKey {
    /// The key's hash, under which the store indexes the record.
    pub fn hash(&self) -> ContentHash {
        let json = serde_json::to_vec(self).expect("a cache key serialises");
        ContentHash::of_tagged("framelock-chunk-key-v1", &json)
    }
}

/// The result of rendering one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkRecord {
    /// [`RECORD_FORMAT_VERSION`].
    pub format_version: u32,
    /// The bundle.
    pub bundle_hash: BundleHash,
    /// Index in the chunk plan.
    pub chunk_index: ChunkIndex,
    /// Frames `[start, end)`.
    pub range: FrameRange,
    /// Frames captured: must equal the range length.
    pub frames_captured: u64,
    /// blake3 of each frame's raw RGBA pixels.
    pub frame_hashes: Vec<String>,
    /// The encoded chunk's blob.
    pub encoded_blob: ContentHash,
    /// How frames were captured.
    pub capture_mode: CaptureMode,
    /// Where.
    pub execution: Execution,
    /// Under which fingerprints.
    pub fingerprints: RecordFingerprints,
    /// Seconds from the first capture to the encoded chunk.
    pub seconds: f64,
    /// What the page logged while this chunk was rendered.
    pub page_events: Vec<PageEvent>,
    /// When rendered with `--allow-toolchain-mismatch` on another toolchain than the planning
    /// machine's: the planning machine's toolchain fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_toolchain: Option<String>,
    /// Per frame, the source frame each video showed (absent when the page has no video).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub video_frames: Vec<crate::media::VideoFrames>,
}

impl ChunkRecord {
    /// The key this record answers.
    pub fn key(&self) -> CacheKey {
        CacheKey {
            bundle_hash: self.bundle_hash.clone(),
            range: self.range,
            execution: self.execution,
            fingerprints: self.fingerprints.clone(),
        }
    }

    /// Stores the record and indexes it under its key.
    pub fn save(&self, store: &Store) -> Result<ContentHash, StoreError> {
        let hash = self.put(store)?;
        store.set_key(Index::Chunks, &self.key().hash(), &hash)?;
        Ok(hash)
    }

    /// Stores the record without indexing it under its key: a render the cache must not
    /// answer with (a self-test fault, `--no-cache`) still leaves a record for the orchestrator that asked for it.
    pub fn put(&self, store: &Store) -> Result<ContentHash, StoreError> {
        let bytes = serde_json::to_vec_pretty(self).expect("a chunk record serialises");
        store.put_bytes(&bytes)
    }

    /// Reads a record blob.
    pub fn load(store: &Store, hash: &ContentHash) -> Result<ChunkRecord, StoreError> {
        let bytes = store.get(hash)?;
        serde_json::from_slice(&bytes).map_err(|source| StoreError::BadRecord {
            path: store.blob_path(hash),
            what: "chunk record",
            source,
        })
    }
}

/// What a cache lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// A record whose every blob verified.
    Hit(ContentHash, Box<ChunkRecord>),
    /// Nothing stored under the key.
    Miss,
    /// Something was stored but cannot be trusted; the key was removed.
    Corrupt(String),
}

impl Store {
    /// Finds a reusable record for `key`: the record and its encoded chunk must verify, and
    /// the record must answer exactly this key with every frame captured.
    pub fn lookup(&self, key: &CacheKey) -> Lookup {
        let key_hash = key.hash();
        let record_hash = match self.get_key(Index::Chunks, &key_hash) {
            Ok(Some(h)) => h,
            Ok(None) => return Lookup::Miss,
            Err(e) => return self.forget(&key_hash, e.to_string()),
        };
        let record = match ChunkRecord::load(self, &record_hash) {
            Ok(r) => r,
            Err(e) => return self.forget(&key_hash, e.to_string()),
        };
        if &record.key() != key || record.frames_captured != key.range.len() {
            return self.forget(
                &key_hash,
                format!("record {record_hash} does not answer its key"),
            );
        }
        if let Err(e) = self.verify(&record.encoded_blob) {
            return self.forget(&key_hash, e.to_string());
        }
        Lookup::Hit(record_hash, Box::new(record))
    }

    fn forget(&self, key: &ContentHash, reason: String) -> Lookup {
        let _ = self.remove_key(Index::Chunks, key);
        Lookup::Corrupt(reason)
    }
}

/// The record of an assembled video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`RECORD_FORMAT_VERSION`].
    pub format_version: u32,
    /// The bundle.
    pub bundle_hash: BundleHash,
    /// Where the chunks were rendered.
    pub execution: Execution,
    /// The chunk records, in chunk order.
    pub chunk_records: Vec<ContentHash>,
    /// blake3 of the assembled video.
    pub video: ContentHash,
    /// blake3 of the audio track, when there is one.
    pub audio: Option<ContentHash>,
}

/// The hash of the running framelock binary: results of other builds are never reused.
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| std::fs::read(p).ok())
            .map(|bytes| ContentHash::of_bytes(&bytes).to_string())
            .unwrap_or_else(|| format!("unknown-build-{}", env!("CARGO_PKG_VERSION")))
    })
}
