//! The one way a render ends, whoever rendered its chunks: every chunk becomes a chunk record
//! (made by [`Recorder`], the only place one is built), the records are checked against the
//! plan, the encoded chunks are joined with the sound, and the run record and `frames.json` are
//! written. The in-process path, `assemble` and the worker pool all finish here.

use camino::{Utf8Path, Utf8PathBuf};

use super::engine::RenderedChunk;
use super::error::RenderError;
use super::output::{check_hermetic, publish};
use super::record::{FRAMES_FORMAT_VERSION, Fingerprints, FramesRecord};
use crate::browser::CaptureMode;
use crate::bundle::Bundle;
use crate::encode::concat;
use crate::hash::{BundleHash, ContentHash};
use crate::report::{RenderEvent, Reporter};
use crate::store::{
    CacheKey, ChunkRecord, Execution, Lookup, RECORD_FORMAT_VERSION, RecordFingerprints, RunRecord,
    Store, keep_bundle,
};
use crate::timing::{ChunkIndex, ChunkPlan, FrameRange};

/// A chunk ready to be joined: its record, where that record is stored, and its encoded file.
#[derive(Debug, Clone)]
pub struct FinishedChunk {
    /// What was rendered and how.
    pub record: ChunkRecord,
    /// The stored record, when it is in the store.
    pub stored: Option<ContentHash>,
    /// The encoded chunk.
    pub file: Utf8PathBuf,
    /// Whether it came from the store instead of being rendered now.
    pub reused: bool,
}

impl FinishedChunk {
    /// The stored record `hash` and its encoded chunk, both verified.
    pub fn load(store: &Store, hash: &ContentHash, reused: bool) -> Result<Self, RenderError> {
        let record = ChunkRecord::load(store, hash)?;
        store.verify(&record.encoded_blob)?;
        Ok(FinishedChunk {
            file: store.blob_path(&record.encoded_blob),
            record,
            stored: Some(hash.clone()),
            reused,
        })
    }
}

/// Where the cached records of one bundle's chunks are looked up: the store, the bundle, the
/// kind of execution and the fingerprints a record made now would have.
#[derive(Debug, Clone, Copy)]
pub struct ChunkCache<'a> {
    /// The store.
    pub store: &'a Store,
    /// The bundle.
    pub bundle_hash: &'a BundleHash,
    /// In-process or worker records.
    pub execution: Execution,
    /// Toolchain, render settings and build.
    pub fingerprints: &'a RecordFingerprints,
}

impl ChunkCache<'_> {
    /// The intact stored record of chunk `index` (`range`), if there is one. A corrupt entry is
    /// reported (the lookup removed it) and counts as none.
    pub fn find(
        &self,
        index: ChunkIndex,
        range: FrameRange,
        reporter: &dyn Reporter,
    ) -> Option<FinishedChunk> {
        let key = CacheKey {
            bundle_hash: self.bundle_hash.clone(),
            range,
            execution: self.execution,
            fingerprints: self.fingerprints.clone(),
        };
        match self.store.lookup(&key) {
            Lookup::Hit(hash, record) => Some(FinishedChunk {
                file: self.store.blob_path(&record.encoded_blob),
                record: *record,
                stored: Some(hash),
                reused: true,
            }),
            Lookup::Miss => None,
            Lookup::Corrupt(reason) => {
                reporter.report(&RenderEvent::CorruptCacheEntry {
                    chunk: index,
                    reason,
                });
                None
            }
        }
    }
}

/// Where a chunk's record goes: nowhere (an uncached render), into the store, or into the store
/// and under its cache key so later renders reuse it.
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// Not stored: the render is not cached.
    Nowhere,
    /// Stored but not indexed: the orchestrator that asked for it finds it by hash, the cache
    /// never answers with it (a self-test fault, `--no-cache`).
    Stored(&'a Store),
    /// Stored and indexed under its cache key.
    Indexed(&'a Store),
}

/// What every chunk record of one render shares; [`Recorder::record`] is the one constructor
/// of a chunk record.
#[derive(Debug, Clone)]
pub struct Recorder<'a> {
    /// The bundle rendered.
    pub bundle_hash: &'a BundleHash,
    /// How frames were captured.
    pub capture: CaptureMode,
    /// Where.
    pub execution: Execution,
    /// Under which fingerprints.
    pub fingerprints: &'a RecordFingerprints,
    /// The planning machine's toolchain, when this one differs (`--allow-toolchain-mismatch`).
    pub planned_toolchain: Option<String>,
}

impl Recorder<'_> {
    /// The record of a chunk just rendered, kept as `keep` says. Callers that store hold the
    /// store's lock, so `cache gc` never removes a blob between its write and its record's.
    pub fn record(
        &self,
        chunk: RenderedChunk,
        keep: Keep<'_>,
    ) -> Result<FinishedChunk, RenderError> {
        let store = match keep {
            Keep::Nowhere => None,
            Keep::Stored(store) | Keep::Indexed(store) => Some(store),
        };
        let encoded_blob = match store {
            Some(store) => store.put_file(&chunk.file)?,
            None => ContentHash::of_file(&chunk.file).map_err(|source| RenderError::Write {
                path: chunk.file.clone(),
                source,
            })?,
        };
        let record = ChunkRecord {
            format_version: RECORD_FORMAT_VERSION,
            bundle_hash: self.bundle_hash.clone(),
            chunk_index: chunk.index,
            range: chunk.range,
            frames_captured: chunk.frame_hashes.len() as u64,
            frame_hashes: chunk.frame_hashes,
            encoded_blob,
            capture_mode: self.capture,
            execution: self.execution,
            fingerprints: self.fingerprints.clone(),
            seconds: chunk.seconds,
            page_events: chunk.page_events,
            planned_toolchain: self.planned_toolchain.clone(),
            video_frames: chunk.video_frames,
        };
        let stored = match keep {
            Keep::Nowhere => None,
            Keep::Stored(store) => Some(record.put(store)?),
            Keep::Indexed(store) => Some(record.save(store)?),
        };
        Ok(FinishedChunk {
            record,
            stored,
            file: chunk.file,
            reused: false,
        })
    }
}

/// How a render is finished.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    /// The bundle rendered.
    pub bundle: &'a Bundle,
    /// The chunks joined, in order: the bundle's plan, or the part of it `--frames` asked for.
    pub plan: &'a ChunkPlan,
    /// The fingerprints `frames.json` shows.
    pub fingerprints: &'a Fingerprints,
    /// ffmpeg.
    pub ffmpeg: &'a Utf8Path,
    /// The work folder beside the output.
    pub work: &'a Utf8Path,
    /// The video to write.
    pub output: &'a Utf8Path,
    /// Fail on requests outside the composition.
    pub strict: bool,
    /// Whether the virtual-time runtime was on.
    pub virtual_time: bool,
    /// Self-test fault: milliseconds the sound is made late by; 0 normally.
    pub audio_delay_ms: u64,
    /// Where the run record and a packed copy of the bundle go, when the render is cached.
    pub store: Option<&'a Store>,
    /// PNGs to move into place: (work folder, destination).
    pub png: Option<(&'a Utf8Path, &'a Utf8Path)>,
}

/// Checks `chunks` (one per chunk of `finish.plan`, in order), joins them, and writes the video
/// with its `frames.json` (and, when cached, its run record).
pub fn finish(finish: Finish<'_>, chunks: &[FinishedChunk]) -> Result<FramesRecord, RenderError> {
    check_chunks(finish.plan, chunks)?;
    let records = || chunks.iter().map(|c| &c.record);
    let files: Vec<Utf8PathBuf> = chunks.iter().map(|c| c.file.clone()).collect();
    let codec = finish.bundle.encoder_settings().codec;
    let video = finish.work.join(format!("output.{}", codec.container()));
    let audio = finish.bundle.audio_track(finish.audio_delay_ms);
    concat(finish.ffmpeg, codec, &files, audio.as_ref(), &video)?;
    let video_blake3 = ContentHash::of_file(&video).map_err(|source| RenderError::Write {
        path: video.clone(),
        source,
    })?;
    let first = &chunks[0].record;
    let bundle = finish.bundle;
    let mut record = FramesRecord {
        format_version: FRAMES_FORMAT_VERSION,
        composition: bundle.plan.name.clone(),
        bundle_hash: bundle.hash().clone(),
        fps: bundle.meta.fps,
        width: bundle.meta.width,
        height: bundle.meta.height,
        total_frames: bundle.meta.frames,
        duration_source: bundle.plan.duration_source,
        range: finish.plan.range(),
        frame_count: records().map(|r| r.frames_captured).sum(),
        capture_mode: first.capture_mode,
        virtual_time: finish.virtual_time,
        execution: first.execution,
        chunk_plan: finish.plan.clone(),
        chunk_records: chunks.iter().filter_map(|c| c.stored.clone()).collect(),
        chunk_hashes: records().map(|r| r.encoded_blob.clone()).collect(),
        reused_chunks: chunks.iter().filter(|c| c.reused).count(),
        video_blake3: video_blake3.clone(),
        run_record: None,
        fingerprints: finish.fingerprints.clone(),
        frame_hashes: records().flat_map(|r| r.frame_hashes.clone()).collect(),
        page_events: records().flat_map(|r| r.page_events.clone()).collect(),
        video_frames: records().flat_map(|r| r.video_frames.clone()).collect(),
        warnings: bundle.warnings.clone(),
    };
    if finish.strict {
        check_hermetic(&record)?;
    }
    if let Some(store) = finish.store {
        record.run_record = Some(store_run(store, &record, &video_blake3)?);
    }
    publish(finish.work, &video, &record, finish.output, finish.png)?;
    if let Some(store) = finish.store {
        // frames.json names the bundle; kept, it explains the render after its folder is gone
        // (`diff-runs` reads the differing elements from it). Only an explanation: a bundle
        // that could not be kept fails no render, and `diff-runs` then says it is not kept.
        let _ = keep_bundle(store, bundle);
    }
    Ok(record)
}

/// Every chunk answers its place in the plan and has every frame of its range.
fn check_chunks(plan: &ChunkPlan, chunks: &[FinishedChunk]) -> Result<(), RenderError> {
    assert_eq!(
        plan.len(),
        chunks.len(),
        "one finished chunk per planned chunk"
    );
    for ((index, range), chunk) in plan.indexed().zip(chunks) {
        let record = &chunk.record;
        if record.chunk_index != index || record.range != range {
            return Err(RenderError::WrongChunk { index, range });
        }
        if record.frames_captured != range.len() || record.frame_hashes.len() as u64 != range.len()
        {
            return Err(RenderError::IncompleteChunk {
                index,
                range,
                found: record.frames_captured,
                expected: range.len(),
            });
        }
    }
    Ok(())
}

/// Stores the run record of an assembled video.
fn store_run(
    store: &Store,
    record: &FramesRecord,
    video: &ContentHash,
) -> Result<ContentHash, RenderError> {
    let run = RunRecord {
        format_version: RECORD_FORMAT_VERSION,
        bundle_hash: record.bundle_hash.clone(),
        execution: record.execution,
        chunk_records: record.chunk_records.clone(),
        video: video.clone(),
        audio: None,
    };
    let bytes = serde_json::to_vec_pretty(&run).expect("a run record serialises");
    Ok(store.put_bytes(&bytes)?)
}
