//! Fixture results: what `regress` concluded about a fixture, kept with the videos it wrote,
//! under a key holding everything the conclusion rests on: the fixture's folder, its baseline,
//! the toolchain, the framelock build and how the fixture was run. A run of unchanged fixtures
//! restores them instead of planning, joining and comparing again. Only passed results are
//! kept; a failure is always looked at afresh.

use serde::{Deserialize, Serialize};

use super::keyed::{KeyedRecord, RecordLookup};
use super::{Index, RecordFingerprints, Store};
use crate::hash::ContentHash;

/// Everything a reusable fixture result must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultKey {
    /// The fixture folder's name.
    pub fixture: String,
    /// Digest of every file in the fixture folder a render depends on, `meta.json` included.
    pub inputs: ContentHash,
    /// Digest of the fixture's baseline folder, when it has one.
    pub baseline: Option<ContentHash>,
    /// Toolchain, render settings and build.
    pub fingerprints: RecordFingerprints,
    /// How the fixture was run, as `name=value` pairs (mode, executor, strictness).
    pub options: Vec<String>,
}

/// A file the fixture's run wrote, kept as a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOutput {
    /// Its name in the fixture's report folder.
    pub name: String,
    /// Its contents.
    pub blob: ContentHash,
}

/// A passed fixture result with what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    /// [`RECORD_FORMAT_VERSION`](super::RECORD_FORMAT_VERSION).
    pub format_version: u32,
    /// What the result rests on.
    pub key: ResultKey,
    /// The result, as `report.json` shows it.
    pub result: serde_json::Value,
    /// The files the run left in the fixture's report folder.
    pub outputs: Vec<StoredOutput>,
}

/// What a fixture result lookup found.
pub type ResultLookup = RecordLookup<ResultRecord>;

impl KeyedRecord for ResultRecord {
    const INDEX: Index = Index::Results;
    const WHAT: &'static str = "fixture result";
    const KEY_TAG: &'static str = "framelock-result-key-v1";
    type Key = ResultKey;

    fn format_version(&self) -> u32 {
        self.format_version
    }

    fn key(&self) -> &ResultKey {
        &self.key
    }
}

impl Store {
    /// The stored result for `key`, if it can be trusted: the record and every output it names
    /// must read back intact.
    pub fn lookup_result(&self, key: &ResultKey) -> ResultLookup {
        match self.lookup_record::<ResultRecord>(key) {
            RecordLookup::Hit(record) => match record
                .outputs
                .iter()
                .find_map(|o| self.verify(&o.blob).err())
            {
                Some(problem) => {
                    let _ = self.remove_key(Index::Results, &ResultRecord::key_hash(key));
                    RecordLookup::Corrupt(problem.to_string())
                }
                None => RecordLookup::Hit(record),
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RECORD_FORMAT_VERSION;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8Path::from_path(dir.path()).unwrap().to_owned();
        let store = Store::open(&root).unwrap();
        (dir, store)
    }

    fn record(store: &Store) -> ResultRecord {
        ResultRecord {
            format_version: RECORD_FORMAT_VERSION,
            key: ResultKey {
                fixture: "spinner".into(),
                inputs: ContentHash::of_bytes(b"inputs"),
                baseline: Some(ContentHash::of_bytes(b"baseline")),
                fingerprints: RecordFingerprints {
                    toolchain: "t".into(),
                    render_settings: "r".into(),
                    build_id: "b".into(),
                },
                options: vec!["mode=distributed-simulated".into()],
            },
            result: serde_json::json!({"name": "spinner", "status": "passed"}),
            outputs: vec![StoredOutput {
                name: "in-process.mp4".into(),
                blob: store.put_bytes(b"video").unwrap(),
            }],
        }
    }

    #[test]
    fn a_saved_result_answers_its_key_and_no_other() {
        let (_dir, store) = store();
        let record = record(&store);
        record.save(&store).unwrap();
        match store.lookup_result(&record.key) {
            RecordLookup::Hit(found) => assert_eq!(*found, record),
            other => panic!("expected a hit, got {other:?}"),
        }
        for change in [
            |k: &mut ResultKey| k.inputs = ContentHash::of_bytes(b"edited"),
            |k: &mut ResultKey| k.baseline = None,
            |k: &mut ResultKey| k.fingerprints.toolchain = "other toolchain".into(),
            |k: &mut ResultKey| k.fingerprints.build_id = "other build".into(),
            |k: &mut ResultKey| k.options = vec!["mode=in-process".into()],
        ] {
            let mut key = record.key.clone();
            change(&mut key);
            assert!(matches!(store.lookup_result(&key), RecordLookup::Miss));
        }
    }

    #[test]
    fn a_result_whose_video_is_damaged_is_reported_and_forgotten() {
        let (_dir, store) = store();
        let record = record(&store);
        record.save(&store).unwrap();
        std::fs::write(store.blob_path(&record.outputs[0].blob), b"damaged").unwrap();
        match store.lookup_result(&record.key) {
            RecordLookup::Corrupt(reason) => assert!(reason.contains("corrupted"), "{reason}"),
            other => panic!("expected corruption, got {other:?}"),
        }
        assert!(matches!(
            store.lookup_result(&record.key),
            RecordLookup::Miss
        ));
    }
}
