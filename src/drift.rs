//! Naming drift: turning comparison data into findings.
//!
//! The regression harness compares each chunk a worker rendered with the same frames of the
//! in-process render of the same bundle. When they differ, the shape of the difference says
//! what kind of drift it is (DESIGN.md, "Drift taxonomy"); this module reads that shape. It is
//! plain data in, findings out, so every rule is tested without a browser.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::compare::{FRAMELOCK_ENVELOPE, envelope_lag};
use crate::media::VideoFrames;
use crate::timing::{ChunkIndex, FrameRange};

/// A named drift: what kind, where it starts, and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The chunk, when it concerns one.
    pub chunk: Option<ChunkIndex>,
    /// The first frame concerned.
    pub first_frame: Option<u64>,
    /// What it rests on, in words.
    pub evidence: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = |n: Option<u64>| n.map_or("-".into(), |n| n.to_string());
        write!(
            f,
            "{} (chunk {}, frame {}): {}",
            self.kind,
            place(self.chunk.map(|c| c.0 as u64)),
            place(self.first_frame),
            self.evidence
        )
    }
}

/// The kinds of drift framelock names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// Two in-process renders of one bundle differ.
    Nondeterministic,
    /// Worker frame i equals in-process frame i±k: the clock of the chunk is off.
    FrameTime,
    /// Only video regions differ, matching a neighbouring video time.
    VideoSeekOffset,
    /// A worker's chunk differs while the in-process render repeats itself: the fresh browser
    /// began the chunk in another state (the page's own, or the compositor's) than the
    /// continuous render, whether it shows at the chunk's first frame or later.
    ChunkBoundary,
    /// Audio correlation peaks at a non-zero lag.
    AudioLag,
    /// Raw frames are equal, the encoded chunk differs.
    Encoder,
    /// The toolchain is not the baseline's (a warning when PSNR passes).
    Toolchain,
    /// The page requested something outside the composition.
    Hermeticity,
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            FindingKind::Nondeterministic => "nondeterministic",
            FindingKind::FrameTime => "frame-time",
            FindingKind::VideoSeekOffset => "video-seek-offset",
            FindingKind::ChunkBoundary => "chunk-boundary",
            FindingKind::AudioLag => "audio-lag",
            FindingKind::Encoder => "encoder",
            FindingKind::Toolchain => "toolchain",
            FindingKind::Hermeticity => "hermeticity",
        };
        f.write_str(name)
    }
}

/// What a chunk's finding rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Evidence {
    /// Worker frames equal in-process frames `k` frames later (negative: earlier).
    FrameOffset {
        /// The shift.
        k: i64,
        /// How many differing frames the shift explains.
        explained: usize,
        /// How many frames differ.
        differing: usize,
    },
    /// Worker frames equal the in-process render's from frame 0 on: the page counts its own
    /// frames, and a fresh browser at the chunk start counts from zero again.
    Restarted {
        /// How many differing frames this explains.
        explained: usize,
        /// How many frames differ.
        differing: usize,
    },
    /// How many frames differ, from the first one on.
    DifferingFrames {
        /// How many.
        count: usize,
    },
    /// Videos showed source frames `k` away from the in-process render's.
    VideoOffset {
        /// The offset, in source frames.
        k: i64,
        /// How many differing frames it explains.
        explained: usize,
        /// How many frames differ.
        differing: usize,
    },
    /// The encoded chunks' hashes.
    EncodedBlobs {
        /// In-process.
        reference: String,
        /// Worker.
        candidate: String,
    },
}

/// A named drift in one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkFinding {
    /// What kind.
    pub kind: FindingKind,
    /// The chunk.
    pub chunk: ChunkIndex,
    /// The first frame that differs.
    pub first_frame: u64,
    /// What it rests on.
    pub evidence: Evidence,
}

/// One chunk of both renders, for classification.
#[derive(Debug, Clone)]
pub struct ChunkPair<'a> {
    /// The chunk's index in the plan.
    pub index: ChunkIndex,
    /// Its frames.
    pub range: FrameRange,
    /// Frame hashes of the whole in-process render, indexed by frame.
    pub reference: &'a [String],
    /// Frame hashes the worker produced for this chunk.
    pub candidate: &'a [String],
    /// The in-process encoded chunk's hash.
    pub reference_blob: &'a str,
    /// The worker's encoded chunk's hash.
    pub candidate_blob: &'a str,
    /// A second, uncached in-process render of this range, when the first comparison failed.
    pub rerender: Option<&'a [String]>,
    /// The source frame each video showed, per frame of the whole in-process render (empty
    /// when the page has no video).
    pub reference_videos: &'a [VideoFrames],
    /// The same for the worker's chunk.
    pub candidate_videos: &'a [VideoFrames],
}

/// The largest clock shift looked for, in frames.
const MAX_SHIFT: i64 = 8;

/// Names what differs in one chunk, or `None` when worker and in-process agree exactly.
pub fn classify_chunk(pair: &ChunkPair<'_>) -> Option<ChunkFinding> {
    let start = pair.range.start().0;
    let reference = &pair.reference[start as usize..pair.range.end().0 as usize];
    let differing: Vec<usize> = (0..reference.len())
        .filter(|&i| pair.candidate.get(i) != Some(&reference[i]))
        .collect();
    if differing.is_empty() {
        if pair.reference_blob == pair.candidate_blob {
            return None;
        }
        return Some(ChunkFinding {
            kind: FindingKind::Encoder,
            chunk: pair.index,
            first_frame: start,
            evidence: Evidence::EncodedBlobs {
                reference: pair.reference_blob.to_string(),
                candidate: pair.candidate_blob.to_string(),
            },
        });
    }
    let first_frame = start + differing[0] as u64;
    // The in-process path itself does not repeat: nothing the workers did can be judged.
    if let Some(again) = pair.rerender {
        if again != reference {
            let first = (0..reference.len())
                .find(|&i| again.get(i) != Some(&reference[i]))
                .unwrap_or(0);
            return Some(ChunkFinding {
                kind: FindingKind::Nondeterministic,
                chunk: pair.index,
                first_frame: start + first as u64,
                evidence: Evidence::DifferingFrames {
                    count: (0..reference.len())
                        .filter(|&i| again.get(i) != Some(&reference[i]))
                        .count(),
                },
            });
        }
    }
    // A clock shift (worker frame i is in-process frame i + k) or a video offset (every video
    // shows a source frame k away) explains the difference when it accounts for most differing
    // frames; when both could, the one that explains more wins, the clock on a tie (a page
    // whose only motion is its videos cannot tell the two apart by its pixels).
    let n = differing.len();
    let shift = best_shift(pair, &differing).filter(|(_, e)| e * 2 > n);
    let video = video_offset(pair, &differing).filter(|(_, e)| e * 2 > n);
    match (shift, video) {
        // Shifted back by exactly the chunk start: not a clock off by k, but page state that
        // began again at zero in the worker's fresh browser.
        (Some((k, explained)), _) if k == -(start as i64) => {
            return Some(ChunkFinding {
                kind: FindingKind::ChunkBoundary,
                chunk: pair.index,
                first_frame,
                evidence: Evidence::Restarted {
                    explained,
                    differing: n,
                },
            });
        }
        (Some((k, explained)), v) if v.is_none_or(|(_, ve)| explained >= ve) => {
            return Some(ChunkFinding {
                kind: FindingKind::FrameTime,
                chunk: pair.index,
                first_frame,
                evidence: Evidence::FrameOffset {
                    k,
                    explained,
                    differing: n,
                },
            });
        }
        (_, Some((k, explained))) => {
            return Some(ChunkFinding {
                kind: FindingKind::VideoSeekOffset,
                chunk: pair.index,
                first_frame,
                evidence: Evidence::VideoOffset {
                    k,
                    explained,
                    differing: n,
                },
            });
        }
        _ => {}
    }
    // The in-process path repeats itself (or was not asked to), so the worker's fresh browser
    // began the chunk in another state than the continuous one: page state or compositor state
    // it left behind, wherever in the chunk it first shows.
    Some(ChunkFinding {
        kind: FindingKind::ChunkBoundary,
        chunk: pair.index,
        first_frame,
        evidence: Evidence::DifferingFrames {
            count: differing.len(),
        },
    })
}

/// How far apart the sound of two renders is: the lag (in 10 ms windows, positive when the
/// candidate is later) at which their envelopes correlate best, within `±search` windows, and
/// that correlation; `None` when they line up at lag 0 at `min_correlation` or better.
pub fn classify_audio(
    reference: &[f64],
    candidate: &[f64],
    min_correlation: f64,
    search: usize,
) -> Option<(i64, f64)> {
    if reference == candidate {
        return None;
    }
    let (lag, correlation) =
        envelope_lag(reference, candidate, search, FRAMELOCK_ENVELOPE.min_overlap);
    (lag != 0 || correlation < min_correlation).then_some((lag, correlation))
}

/// The offset `k` such that in the most differing frames every visible video of the worker
/// showed the in-process render's source frame + k, with how many frames it explains.
fn video_offset(pair: &ChunkPair<'_>, differing: &[usize]) -> Option<(i64, usize)> {
    let start = pair.range.start().0 as usize;
    let mut counts: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();
    for &i in differing {
        let (Some(reference), Some(candidate)) = (
            pair.reference_videos.get(start + i),
            pair.candidate_videos.get(i),
        ) else {
            continue;
        };
        let offsets: std::collections::BTreeSet<i64> = reference
            .iter()
            .filter_map(
                |(key, shown)| match (shown, candidate.get(key).copied().flatten()) {
                    (Some(a), Some(b)) => Some(b as i64 - *a as i64),
                    _ => None,
                },
            )
            .collect();
        // One offset for every video of the frame, and not none.
        if let [k] = offsets.into_iter().collect::<Vec<_>>()[..] {
            if k != 0 {
                *counts.entry(k).or_default() += 1;
            }
        }
    }
    counts.into_iter().max_by_key(|(k, n)| (*n, -k.abs()))
}

/// The shift `k` (worker frame i shows in-process frame i + k) that explains the most
/// differing frames, with how many it explains.
fn best_shift(pair: &ChunkPair<'_>, differing: &[usize]) -> Option<(i64, usize)> {
    let start = pair.range.start().0 as i64;
    (-MAX_SHIFT..=MAX_SHIFT)
        .filter(|k| *k != 0)
        .map(|k| {
            let explained = differing
                .iter()
                .filter(|&&i| {
                    let j = start + i as i64 + k;
                    j >= 0
                        && (j as usize) < pair.reference.len()
                        && pair.candidate.get(i) == Some(&pair.reference[j as usize])
                })
                .count();
            (k, explained)
        })
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(k, n)| (*n, -k.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("f{i}")).collect()
    }

    fn pair<'a>(
        reference: &'a [String],
        candidate: &'a [String],
        range: (u64, u64),
        blobs: (&'a str, &'a str),
        rerender: Option<&'a [String]>,
    ) -> ChunkPair<'a> {
        ChunkPair {
            index: ChunkIndex(2),
            range: FrameRange::new(range.0, range.1).unwrap(),
            reference,
            candidate,
            reference_blob: blobs.0,
            candidate_blob: blobs.1,
            rerender,
            reference_videos: &[],
            candidate_videos: &[],
        }
    }

    #[test]
    fn equal_chunks_have_no_finding_and_equal_frames_with_other_bytes_are_the_encoder() {
        let all = frames(30);
        let chunk: Vec<String> = all[10..20].to_vec();
        assert_eq!(
            classify_chunk(&pair(&all, &chunk, (10, 20), ("a", "a"), None)),
            None
        );
        let f = classify_chunk(&pair(&all, &chunk, (10, 20), ("a", "b"), None)).unwrap();
        assert_eq!(
            (f.kind, f.chunk, f.first_frame),
            (FindingKind::Encoder, ChunkIndex(2), 10)
        );
    }

    #[test]
    fn a_shifted_clock_is_frame_time_with_its_offset() {
        let all = frames(30);
        for k in [-2i64, 1, 3] {
            let chunk: Vec<String> = (10..20)
                .map(|i| all[(i as i64 + k).clamp(0, 29) as usize].clone())
                .collect();
            let f = classify_chunk(&pair(&all, &chunk, (10, 20), ("a", "b"), None)).unwrap();
            assert_eq!(f.kind, FindingKind::FrameTime, "k={k}");
            assert_eq!(f.first_frame, 10);
            assert!(matches!(f.evidence, Evidence::FrameOffset { k: found, .. } if found == k));
        }
    }

    #[test]
    fn a_page_that_starts_counting_again_at_the_chunk_start_is_chunk_boundary() {
        // A page whose pictures follow its own frame counter: a worker starting at frame 8
        // draws what the in-process render drew at frames 0.. (a shift of exactly -8).
        let all = frames(24);
        let chunk: Vec<String> = all[0..8].to_vec();
        let f = classify_chunk(&pair(&all, &chunk, (8, 16), ("a", "b"), None)).unwrap();
        assert_eq!((f.kind, f.first_frame), (FindingKind::ChunkBoundary, 8));
        assert!(matches!(
            f.evidence,
            Evidence::Restarted { explained: 8, .. }
        ));
    }

    #[test]
    fn differences_from_the_chunk_start_are_chunk_boundary() {
        let all = frames(30);
        let chunk: Vec<String> = (10..20).map(|i| format!("other{i}")).collect();
        let f = classify_chunk(&pair(
            &all,
            &chunk,
            (10, 20),
            ("a", "b"),
            Some(&all[10..20]),
        ))
        .unwrap();
        assert_eq!((f.kind, f.first_frame), (FindingKind::ChunkBoundary, 10));
    }

    #[test]
    fn an_in_process_render_that_does_not_repeat_is_nondeterministic() {
        let all = frames(30);
        let chunk: Vec<String> = (10..20).map(|i| format!("other{i}")).collect();
        let mut again = all[10..20].to_vec();
        again[4] = "noise".into();
        let f = classify_chunk(&pair(&all, &chunk, (10, 20), ("a", "b"), Some(&again))).unwrap();
        assert_eq!((f.kind, f.first_frame), (FindingKind::Nondeterministic, 14));
    }

    #[test]
    fn a_worker_that_drifts_mid_chunk_while_in_process_repeats_is_chunk_boundary() {
        let all = frames(30);
        let mut chunk = all[10..20].to_vec();
        chunk[6] = "glitch".into();
        let f = classify_chunk(&pair(
            &all,
            &chunk,
            (10, 20),
            ("a", "b"),
            Some(&all[10..20]),
        ))
        .unwrap();
        assert_eq!((f.kind, f.first_frame), (FindingKind::ChunkBoundary, 16));
        // Without a second in-process render there is no ground for nondeterminism either.
        let f = classify_chunk(&pair(&all, &chunk, (10, 20), ("a", "b"), None)).unwrap();
        assert_eq!((f.kind, f.first_frame), (FindingKind::ChunkBoundary, 16));
    }

    #[test]
    fn videos_showing_other_source_frames_are_a_video_seek_offset() {
        let all = frames(30);
        // Two videos; the worker's show source frames 3 later; the page is otherwise static,
        // so no clock shift explains the pixels (the second video runs at another rate).
        let shown = |i: usize, k: u64| -> VideoFrames {
            [
                ("a".to_string(), Some(i as u64 + k)),
                ("b".to_string(), Some(2 * i as u64 + k)),
            ]
            .into_iter()
            .collect()
        };
        let reference_videos: Vec<VideoFrames> = (0..30).map(|i| shown(i, 0)).collect();
        let candidate_videos: Vec<VideoFrames> = (10..20).map(|i| shown(i, 3)).collect();
        let chunk: Vec<String> = (10..20).map(|i| format!("offset{i}")).collect();
        let mut p = pair(&all, &chunk, (10, 20), ("a", "b"), Some(&all[10..20]));
        p.reference_videos = &reference_videos;
        p.candidate_videos = &candidate_videos;
        let f = classify_chunk(&p).unwrap();
        assert_eq!((f.kind, f.first_frame), (FindingKind::VideoSeekOffset, 10));
        assert!(matches!(
            f.evidence,
            Evidence::VideoOffset {
                k: 3,
                explained: 10,
                ..
            }
        ));
    }

    #[test]
    fn sound_that_comes_later_is_named_with_its_lag() {
        let beeps: Vec<f64> = (0..200)
            .map(|i| if i % 40 < 15 { 0.4 } else { 0.0 })
            .collect();
        assert_eq!(classify_audio(&beeps, &beeps, 0.9, 30), None);
        let mut late = vec![0.0; 7];
        late.extend_from_slice(&beeps[..193]);
        let (lag, corr) = classify_audio(&beeps, &late, 0.9, 30).unwrap();
        assert_eq!(lag, 7);
        assert!(corr > 0.95, "{corr}");
    }
}
