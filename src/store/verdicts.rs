//! Verdict records: what `bisect` concluded about one bundle, kept beside the chunk records so
//! a bundle met again (at another commit, or in a later bisect) is judged without rendering.
//!
//! The key holds everything the verdict rests on: the bundle, how it is cut into chunks, the
//! toolchain, the render settings, the framelock build, and what "bad" means. A record is
//! trusted only when it reads back intact and answers exactly its key; anything else is
//! reported, its index entry removed, and the bundle judged afresh.

use serde::{Deserialize, Serialize};

use super::keyed::{KeyedRecord, RecordLookup};
use super::{Index, RecordFingerprints, Store};
use crate::drift::{Finding, FindingKind};
use crate::hash::{BundleHash, ContentHash};
use crate::timing::ChunkPlan;

/// What makes a revision bad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum BadDefinition {
    /// A determinism failure: worker chunks differ from the in-process render, or two
    /// in-process renders differ (the default), with drift other than the fixture's expected
    /// findings. Those live in `meta.json`, outside the bundle hash, so they are part of the
    /// key: a commit that changes only them is judged again.
    Determinism {
        /// The fixture's `expectedFindings`, sorted.
        expected: Vec<FindingKind>,
    },
    /// The in-process frames differ from the good revision's, whose frame hashes digest to
    /// `frames` (`bisect --against-good`).
    AgainstGood {
        /// [`frames_digest`] of the good revision's in-process render.
        frames: ContentHash,
    },
}

impl std::fmt::Display for BadDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadDefinition::Determinism { expected } if expected.is_empty() => {
                f.write_str("determinism")
            }
            BadDefinition::Determinism { expected } => {
                let names: Vec<String> = expected.iter().map(ToString::to_string).collect();
                write!(f, "determinism, expecting {}", names.join(", "))
            }
            BadDefinition::AgainstGood { frames } => {
                write!(f, "against the good revision's frames {}", frames.short())
            }
        }
    }
}

/// Everything a reusable verdict must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictKey {
    /// What was judged.
    pub bundle_hash: BundleHash,
    /// How its frames were cut into chunks.
    pub chunk_plan: ChunkPlan,
    /// Toolchain, render settings and build.
    pub fingerprints: RecordFingerprints,
    /// What counted as bad.
    pub bad_definition: BadDefinition,
}

/// Good or bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judgement {
    /// Not bad under the key's definition.
    Good,
    /// Bad under the key's definition.
    Bad,
}

impl std::fmt::Display for Judgement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Judgement::Good => "good",
            Judgement::Bad => "bad",
        })
    }
}

/// A verdict with what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    /// [`RECORD_FORMAT_VERSION`](super::RECORD_FORMAT_VERSION).
    pub format_version: u32,
    /// What was judged, how.
    pub key: VerdictKey,
    /// The fixture folder's name when it was judged.
    pub fixture: String,
    /// The verdict.
    pub judgement: Judgement,
    /// Why, in one line, when bad.
    pub reason: Option<String>,
    /// The drift found.
    pub findings: Vec<Finding>,
    /// [`frames_digest`] of the in-process render.
    pub frames: ContentHash,
    /// The run records of the renders judged (in-process first).
    pub run_records: Vec<ContentHash>,
}

/// One hash for a render's frame hashes, in order.
pub fn frames_digest(frame_hashes: &[String]) -> ContentHash {
    ContentHash::of_tagged("framelock-frames-v1", frame_hashes.join("\n").as_bytes())
}

/// What a verdict lookup found.
pub type VerdictLookup = RecordLookup<VerdictRecord>;

impl KeyedRecord for VerdictRecord {
    const INDEX: Index = Index::Verdicts;
    const WHAT: &'static str = "verdict record";
    const KEY_TAG: &'static str = "framelock-verdict-key-v1";
    type Key = VerdictKey;

    fn format_version(&self) -> u32 {
        self.format_version
    }

    fn key(&self) -> &VerdictKey {
        &self.key
    }
}

impl Store {
    /// The stored verdict for `key`, if one can be trusted.
    pub fn lookup_verdict(&self, key: &VerdictKey) -> VerdictLookup {
        self.lookup_record(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RECORD_FORMAT_VERSION;
    use crate::timing::FrameRange;

    fn record() -> VerdictRecord {
        let range = FrameRange::new(0, 24).unwrap();
        VerdictRecord {
            format_version: RECORD_FORMAT_VERSION,
            key: VerdictKey {
                bundle_hash: BundleHash(ContentHash::of_bytes(b"bundle")),
                chunk_plan: ChunkPlan::by_size(range, 8),
                fingerprints: RecordFingerprints {
                    toolchain: "t".into(),
                    render_settings: "r".into(),
                    build_id: "b".into(),
                },
                bad_definition: BadDefinition::Determinism {
                    expected: Vec::new(),
                },
            },
            fixture: "spinner".into(),
            judgement: Judgement::Bad,
            reason: Some("chunk-boundary".into()),
            findings: Vec::new(),
            frames: frames_digest(&["a".into(), "b".into()]),
            run_records: Vec::new(),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8Path::from_path(dir.path()).unwrap().to_owned();
        let store = Store::open(&root).unwrap();
        (dir, store)
    }

    #[test]
    fn a_saved_verdict_answers_its_key_and_no_other() {
        let (_dir, store) = store();
        let record = record();
        record.save(&store).unwrap();
        match store.lookup_verdict(&record.key) {
            VerdictLookup::Hit(found) => assert_eq!(*found, record),
            other => panic!("expected a hit, got {other:?}"),
        }
        for change in [
            |k: &mut VerdictKey| k.fingerprints.build_id = "other build".into(),
            |k: &mut VerdictKey| k.fingerprints.toolchain = "other toolchain".into(),
            |k: &mut VerdictKey| {
                k.chunk_plan = ChunkPlan::by_size(FrameRange::new(0, 24).unwrap(), 12)
            },
            |k: &mut VerdictKey| {
                k.bad_definition = BadDefinition::Determinism {
                    expected: vec![FindingKind::ChunkBoundary],
                }
            },
            |k: &mut VerdictKey| {
                k.bad_definition = BadDefinition::AgainstGood {
                    frames: ContentHash::of_bytes(b"good"),
                }
            },
        ] {
            let mut key = record.key.clone();
            change(&mut key);
            assert!(matches!(store.lookup_verdict(&key), VerdictLookup::Miss));
        }
    }

    #[test]
    fn a_corrupted_verdict_is_reported_and_forgotten() {
        let (_dir, store) = store();
        let record = record();
        let hash = record.save(&store).unwrap();
        let path = store.blob_path(&hash);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"bad\"", "\"good\"")).unwrap();
        match store.lookup_verdict(&record.key) {
            VerdictLookup::Corrupt(reason) => assert!(reason.contains("corrupted"), "{reason}"),
            other => panic!("expected corruption, got {other:?}"),
        }
        assert!(matches!(
            store.lookup_verdict(&record.key),
            VerdictLookup::Miss
        ));
    }
}
