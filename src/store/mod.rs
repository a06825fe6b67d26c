//! The content-addressed store: blobs by blake3, chunk records, verdicts, fixture results,
//! kept bundles, and the indexes that find them.

mod blobs;
mod kept;
mod keyed;
mod maintenance;
mod records;
mod results;
mod verdicts;

pub use blobs::{Index, Store, StoreError, StoreLock, default_store_root};
pub use kept::{KeptError, find_kept, keep_bundle, open_kept};
pub use keyed::{KeyedRecord, RecordLookup};
pub use maintenance::{CacheEntry, ChunkSummary, GcReport, VerifyReport, gc, list, verify};
pub use records::{
    CacheKey, ChunkRecord, Execution, Lookup, RECORD_FORMAT_VERSION, RecordFingerprints, RunRecord,
    build_id,
};
pub use results::{ResultKey, ResultLookup, ResultRecord, StoredOutput};
pub use verdicts::{
    BadDefinition, Judgement, VerdictKey, VerdictLookup, VerdictRecord, frames_digest,
};
