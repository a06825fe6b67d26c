//! The content-addressed store: blobs by blake3, chunk records, and the cache index.

mod blobs;
mod maintenance;
mod records;

pub use blobs::{Store, StoreError, StoreLock, default_store_root};
pub use maintenance::{CacheEntry, ChunkSummary, GcReport, VerifyReport, gc, list, verify};
pub use records::{
    CacheKey, ChunkRecord, Execution, Lookup, RECORD_FORMAT_VERSION, RecordFingerprints, RunRecord,
    build_id,
};
