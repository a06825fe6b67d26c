//! `framelock diff-runs A B`: two renders (videos framelock wrote, each with its frames.json)
//! compared: the first divergent frame and its chunk, the PSNR of the frames that differ, the
//! drift the first divergent chunk shows (A taken as the reference), and the worst frame
//! pictured as PNGs.

use std::fmt::Write;

use camino::{Utf8Path, Utf8PathBuf};

use super::error::BisectError;
use crate::browser::describe_elements;
use crate::compare::compare_videos;
use crate::drift::{ChunkFinding, ChunkPair, FindingKind, classify_chunk};
use crate::hash::BundleHash;
use crate::outcome::FailureImages;
use crate::regress::{Side, write_failure_images};
use crate::render::{
    FRAMES_FORMAT_VERSION, FramesRecord, RunSettings, frames_record_path, name_pictured_from_kept,
};
use crate::store::{Execution, KeptError, Store, StoreError};
use crate::timing::{ChunkIndex, FrameIndex};

/// What differs between two renders.
#[derive(Debug, Clone)]
pub struct RunsDiff {
    /// Frames compared (the shorter render's count).
    pub frames: usize,
    /// Frames whose pixel hashes differ.
    pub differing: usize,
    /// The first of them.
    pub first_frame: Option<u64>,
    /// The chunk of B's plan it falls in.
    pub first_chunk: Option<ChunkIndex>,
    /// Lowest per-frame PSNR and the sequence PSNR, when frames differ.
    pub psnr: Option<(f64, f64)>,
    /// The drift the first divergent chunk shows (renders of one bundle only: between two
    /// bundles the difference is their inputs).
    pub finding: Option<ChunkFinding>,
    /// The worst frame, pictured, and the folder the pictures are in.
    pub images: Option<(FailureImages, Utf8PathBuf)>,
    /// Whether the two renders were of one bundle.
    pub same_bundle: bool,
    /// The bundle A rendered, whose page the elements are read from.
    pub reference_bundle: BundleHash,
    /// The frame A's video begins at (`--frames` renders begin later than 0).
    pub reference_start: FrameIndex,
}

impl RunsDiff {
    /// Whether every frame is equal.
    pub fn is_same(&self) -> bool {
        self.differing == 0
    }

    /// The report `framelock diff-runs` prints.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if !self.same_bundle {
            out.push_str("note: the renders are of different bundles (see `framelock diff`)\n");
        }
        let (Some(first), Some((lowest, sequence))) = (self.first_frame, self.psnr) else {
            let _ = writeln!(out, "all {} frames are equal", self.frames);
            return out;
        };
        let _ = writeln!(
            out,
            "{} of {} frames differ, the first at frame {first} (chunk {})",
            self.differing,
            self.frames,
            self.first_chunk.map_or("-".into(), |c| c.to_string())
        );
        let _ = writeln!(
            out,
            "PSNR: lowest {lowest:.2} dB, sequence {sequence:.2} dB"
        );
        if let Some(f) = &self.finding {
            let _ = writeln!(out, "drift: {} from frame {}", f.kind, f.first_frame);
        }
        if let Some((images, dir)) = &self.images {
            let _ = writeln!(
                out,
                "frame {} (lowest PSNR): {} {} {}",
                images.frame,
                dir.join(&images.reference),
                dir.join(&images.candidate),
                dir.join(&images.diff)
            );
            let _ = writeln!(out, "{}", elements_line(images));
        }
        out
    }

    /// Names the elements covering the pictured frame's differing pixels, read from the page
    /// of the bundle A rendered, kept in `store` by the render; when the store cannot be
    /// opened or does not keep it, the pictures say the elements are unavailable and why.
    pub async fn name_elements(&mut self, store: Result<Store, StoreError>, settings: RunSettings) {
        let Some((images, dir)) = &mut self.images else {
            return;
        };
        let store = match store {
            Ok(store) => store,
            Err(e) => {
                images.elements_unavailable = Some(e.to_string());
                return;
            }
        };
        let named = name_pictured_from_kept(
            &store,
            &self.reference_bundle,
            settings,
            std::slice::from_mut(images),
            dir,
            self.reference_start,
        )
        .await;
        match named {
            Ok(()) => {}
            Err(KeptError::NotKept { store, .. }) => {
                images.elements_unavailable = Some(format!(
                    "bundle {} is not kept in the store {store}: render A again with the store (not --no-cache, not --frames), or give --store the store it used",
                    &self.reference_bundle.to_string()[..16]
                ));
            }
            Err(e) => images.elements_unavailable = Some(e.to_string()),
        }
    }
}

/// The line naming a pictured frame's elements, or saying why they are unavailable.
fn elements_line(images: &FailureImages) -> String {
    let elements = describe_elements(&images.elements, images.elements_unavailable.as_deref(), 8);
    format!("elements: {elements}")
}

/// Compares render `b` with render `a`, writing the pictures of the worst frame into `out`.
pub fn diff_runs(
    ffmpeg: &Utf8Path,
    a: &Utf8Path,
    b: &Utf8Path,
    out: &Utf8Path,
) -> Result<RunsDiff, BisectError> {
    let (ra, rb) = (load(a)?, load(b)?);
    let frames = ra.frame_hashes.len().min(rb.frame_hashes.len());
    let differing: Vec<usize> = (0..frames)
        .filter(|&i| ra.frame_hashes[i] != rb.frame_hashes[i])
        .collect();
    let mut diff = RunsDiff {
        frames,
        differing: differing.len(),
        first_frame: differing.first().map(|&i| ra.range.start().0 + i as u64),
        first_chunk: None,
        psnr: None,
        finding: None,
        images: None,
        same_bundle: ra.bundle_hash == rb.bundle_hash,
        reference_bundle: ra.bundle_hash.clone(),
        reference_start: ra.range.start(),
    };
    let Some(&first) = differing.first() else {
        return Ok(diff);
    };
    let first_frame = rb.range.start().0 + first as u64;
    if let Some((index, range)) = rb
        .chunk_plan
        .indexed()
        .find(|(_, r)| r.start().0 <= first_frame && first_frame < r.end().0)
    {
        diff.first_chunk = Some(index);
        let (s, e) = (range.start().0 as usize, range.end().0 as usize);
        if diff.same_bundle && e <= rb.frame_hashes.len() && e <= ra.frame_hashes.len() {
            let blob = |r: &FramesRecord| r.chunk_hashes.get(index.0).map(|h| h.to_string());
            let (ba, bb) = (blob(&ra).unwrap_or_default(), blob(&rb).unwrap_or_default());
            diff.finding = classify_chunk(&ChunkPair {
                index,
                range,
                reference: &ra.frame_hashes,
                candidate: &rb.frame_hashes[s..e],
                reference_blob: &ba,
                candidate_blob: &bb,
                rerender: None,
                reference_videos: &ra.video_frames,
                candidate_videos: rb.video_frames.get(s..e).unwrap_or_default(),
            })
            .map(|mut finding| {
                // Two renders in process started that chunk alike: no fresh browser to blame.
                if finding.kind == FindingKind::ChunkBoundary && rb.execution != Execution::Worker {
                    finding.kind = FindingKind::Nondeterministic;
                }
                finding
            });
        }
    }
    let cmp = compare_videos(ffmpeg, a, b, ra.width, ra.height)?;
    let worst = (0..cmp.frame_psnr.len())
        .min_by(|&x, &y| cmp.frame_psnr[x].total_cmp(&cmp.frame_psnr[y]))
        .unwrap_or(first);
    diff.psnr = Some((cmp.frame_psnr[worst], cmp.sequence_psnr));
    std::fs::create_dir_all(out).map_err(|source| BisectError::Io {
        path: out.to_owned(),
        source,
    })?;
    diff.images = write_failure_images(
        ffmpeg,
        "diff",
        worst as u64,
        (ra.width, ra.height),
        Side {
            label: "a",
            video: a,
        },
        Side {
            label: "b",
            video: b,
        },
        out,
        out,
    )?
    .map(|images| (images, out.to_owned()));
    Ok(diff)
}

/// The frames.json beside a video framelock rendered.
fn load(video: &Utf8Path) -> Result<FramesRecord, BisectError> {
    let path = frames_record_path(video);
    let text = std::fs::read_to_string(&path).map_err(|source| BisectError::NotARender {
        path: path.clone(),
        reason: format!(
            "{source}: give a video framelock rendered (it writes <video>.frames.json beside it)"
        ),
    })?;
    let record: FramesRecord =
        serde_json::from_str(&text).map_err(|e| BisectError::NotARender {
            path: path.clone(),
            reason: format!("not a frames.json framelock wrote: {e}"),
        })?;
    // A later format may mean something else by the same fields (README, "Machine-readable
    // files").
    if record.format_version != FRAMES_FORMAT_VERSION {
        return Err(BisectError::NotARender {
            path,
            reason: format!(
                "format_version {}, this framelock reads {FRAMES_FORMAT_VERSION}: compare renders of one framelock version",
                record.format_version
            ),
        });
    }
    Ok(record)
}
