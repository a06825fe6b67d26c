//! Records found by the hash of what they rest on (verdicts, fixture results): stored as JSON
//! blobs, indexed by their key's hash, and trusted on lookup only when they read back intact,
//! are of this build's format and answer exactly the key asked for. Anything else is reported
//! and its index entry removed, so the work is done afresh.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Index, RECORD_FORMAT_VERSION, Store, StoreError};
use crate::hash::ContentHash;

/// A record kept under the hash of its key.
pub trait KeyedRecord: Serialize + DeserializeOwned {
    /// The index it lives in.
    const INDEX: Index;
    /// What it is, in words, for errors.
    const WHAT: &'static str;
    /// The domain tag of its key's hash, so keys of different kinds never collide.
    const KEY_TAG: &'static str;
    /// What it answers.
    type Key: Serialize + PartialEq;

    /// The format it was written in.
    fn format_version(&self) -> u32;

    /// The key it answers.
    fn key(&self) -> &Self::Key;

    /// The hash of `key`, under which the store indexes the record.
    fn key_hash(key: &Self::Key) -> ContentHash {
        let json = serde_json::to_vec(key).expect("a record key serialises");
        ContentHash::of_tagged(Self::KEY_TAG, &json)
    }

    /// Stores the record and indexes it under its key.
    fn save(&self, store: &Store) -> Result<ContentHash, StoreError> {
        let bytes = serde_json::to_vec_pretty(self).expect("a record serialises");
        let hash = store.put_bytes(&bytes)?;
        store.set_key(Self::INDEX, &Self::key_hash(self.key()), &hash)?;
        Ok(hash)
    }

    /// Reads a record blob.
    fn load(store: &Store, hash: &ContentHash) -> Result<Self, StoreError> {
        load_record(store, hash, Self::WHAT)
    }
}

/// What a lookup found.
#[derive(Debug)]
pub enum RecordLookup<R> {
    /// An intact record for exactly this key.
    Hit(Box<R>),
    /// None stored.
    Miss,
    /// Something was stored but cannot be trusted; its index entry was removed.
    Corrupt(String),
}

/// Reads a record blob of kind `what`.
fn load_record<R: DeserializeOwned>(
    store: &Store,
    hash: &ContentHash,
    what: &'static str,
) -> Result<R, StoreError> {
    let bytes = store.get(hash)?;
    serde_json::from_slice(&bytes).map_err(|source| StoreError::BadRecord {
        path: store.blob_path(hash),
        what,
        source,
    })
}

impl Store {
    /// The record of kind `R` stored for `key`, if it can be trusted.
    pub(super) fn lookup_record<R: KeyedRecord>(&self, key: &R::Key) -> RecordLookup<R> {
        let key_hash = R::key_hash(key);
        let forget = |reason: String| {
            let _ = self.remove_key(R::INDEX, &key_hash);
            RecordLookup::Corrupt(reason)
        };
        let hash = match self.get_key(R::INDEX, &key_hash) {
            Ok(Some(hash)) => hash,
            Ok(None) => return RecordLookup::Miss,
            Err(e) => return forget(e.to_string()),
        };
        match load_record::<R>(self, &hash, R::WHAT) {
            Ok(record) if record.format_version() != RECORD_FORMAT_VERSION => forget(format!(
                "{} {hash} has format {}, this build reads {RECORD_FORMAT_VERSION}",
                R::WHAT,
                record.format_version()
            )),
            Ok(record) if record.key() != key => {
                forget(format!("{} {hash} does not answer its key", R::WHAT))
            }
            Ok(record) => RecordLookup::Hit(Box::new(record)),
            Err(e) => forget(e.to_string()),
        }
    }
}
