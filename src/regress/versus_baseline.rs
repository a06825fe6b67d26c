//! The in-process render against the committed baseline: hash for hash on a blessed
//! (toolchain, render settings) pair, with the encoded chunks too; else by PSNR against the
//! baseline video, with a `toolchain` finding that says what is not blessed. The sound is
//! compared with the blessed envelope.

use std::collections::BTreeSet;

use camino::Utf8Path;

use super::baseline::{Baseline, BaselineEntry, expand_envelope};
use super::error::RegressError;
use super::fixture::Fixture;
use super::setup::FixtureVideos;
use super::verdict::{PsnrJudgement, audio_finding, fail, worst_frame};
use crate::compare::{IDENTICAL_PSNR, compare_videos};
use crate::drift::{Finding, FindingKind};
use crate::hash::short;
use crate::outcome::FixtureResult;
use crate::render::{Fingerprints, FramesRecord};

/// What the in-process render is held against.
pub(super) struct Against<'a> {
    /// The fixture.
    pub(super) fixture: &'a Fixture,
    /// Its baseline, if it has one.
    pub(super) baseline: Option<&'a Baseline>,
    /// Where its baseline lives.
    pub(super) baseline_dir: &'a Utf8Path,
    /// Its videos.
    pub(super) videos: &'a FixtureVideos,
    /// ffmpeg, to measure PSNR.
    pub(super) ffmpeg: &'a Utf8Path,
}

impl Against<'_> {
    /// Compares `reference` (the in-process render) with the baseline; returns the frame a
    /// failure picture should show, if any.
    pub(super) fn compare(
        &self,
        reference: &FramesRecord,
        result: &mut FixtureResult,
    ) -> Result<Option<u64>, RegressError> {
        let fixture = &self.fixture.name;
        let Some(baseline) = self.baseline else {
            let reason = match &self.fixture.golden {
                Some(golden) => format!(
                    "no golden {golden} and no baseline in {}: render the golden with HyperFrames (`scripts/hf-oracle.sh {}`), or bless this render with `framelock regress --update --fixture {fixture}`",
                    self.baseline_dir, self.fixture.dir
                ),
                None => format!(
                    "no baseline in {}: run `framelock regress --update --fixture {fixture}`",
                    self.baseline_dir
                ),
            };
            fail(result, reason);
            return Ok(None);
        };
        if baseline.bundle_hash != reference.bundle_hash {
            result.warnings.push(format!(
                "composition changed since the baseline (bundle {} -> {})",
                baseline.bundle_hash.short(),
                reference.bundle_hash.short()
            ));
        }
        let fp = &reference.fingerprints;
        match baseline.entry(&fp.toolchain, &fp.render_settings) {
            Some(entry) => self.exact(entry, reference, result),
            None => self.by_psnr(baseline, reference, result),
        }
    }

    /// Per-frame PSNR of the render against the baseline video, kept in `result`; `None`
    /// when there is no baseline video.
    fn psnr(
        &self,
        reference: &FramesRecord,
        result: &mut FixtureResult,
    ) -> Result<Option<Vec<f64>>, RegressError> {
        if !self.videos.baseline.is_file() {
            return Ok(None);
        }
        let cmp = compare_videos(
            self.ffmpeg,
            &self.videos.in_process,
            &self.videos.baseline,
            reference.width,
            reference.height,
        )?;
        result.psnr = Some(cmp.frame_psnr.clone());
        Ok(Some(cmp.frame_psnr))
    }

    /// On a blessed pair: every frame hash equal, and (at the blessed chunk size) every encoded
    /// chunk.
    fn exact(
        &self,
        entry: &BaselineEntry,
        reference: &FramesRecord,
        result: &mut FixtureResult,
    ) -> Result<Option<u64>, RegressError> {
        if let Some(first) = first_difference(&entry.frame_hashes, &reference.frame_hashes) {
            let measured = self.psnr(reference, result)?;
            let evidence = match &measured {
                Some(p) => format!(
                    "lowest PSNR {:.2} dB at frame {}",
                    p.iter().copied().fold(f64::INFINITY, f64::min),
                    worst_frame(p)
                ),
                None => format!("no {} to measure PSNR", self.videos.baseline),
            };
            fail(
                result,
                format!("differs from its blessed baseline from frame {first} on ({evidence})"),
            );
            // The picture shows the worst frame: the first may differ invisibly.
            return Ok(Some(measured.map_or(first, |p| worst_frame(&p)) as u64));
        }
        match encoder_finding(entry, reference) {
            None => result.psnr = Some(vec![IDENTICAL_PSNR; reference.frame_hashes.len()]),
            Some((finding, reason)) => {
                result.findings.push(finding);
                fail(result, reason);
            }
        }
        Ok(None)
    }

    /// On a pair that is not blessed: PSNR against the baseline video decides, and a
    /// `toolchain` finding says what is not blessed.
    fn by_psnr(
        &self,
        baseline: &Baseline,
        reference: &FramesRecord,
        result: &mut FixtureResult,
    ) -> Result<Option<u64>, RegressError> {
        let name = self.videos.baseline.file_name().unwrap_or_default();
        let Some(frames) = self.psnr(reference, result)? else {
            fail(
                result,
                format!(
                    "no baseline entry for this toolchain and no {}: run `framelock regress --update --fixture {}`",
                    self.videos.baseline, self.fixture.name
                ),
            );
            return Ok(None);
        };
        let thresholds = &self.fixture.thresholds;
        let min_psnr = thresholds.min_psnr;
        let judged = PsnrJudgement::of(&frames, min_psnr);
        result.findings.push(Finding {
            kind: FindingKind::Toolchain,
            chunk: None,
            first_frame: judged.below.first().map(|&i| i as u64),
            evidence: format!(
                "{}; lowest PSNR {:.2} dB, {} frame(s) below {min_psnr} dB",
                unblessed(baseline, &reference.fingerprints),
                judged.lowest,
                judged.below.len()
            ),
        });
        if judged.fails(thresholds.max_frame_failures) {
            let first = judged.first_failing();
            fail(
                result,
                format!(
                    "PSNR against {name}: {} frame(s) below {min_psnr} dB (allowed {}), first at frame {first} ({:.2} dB)",
                    judged.below.len(),
                    thresholds.max_frame_failures,
                    frames[first]
                ),
            );
            return Ok(Some(judged.worst as u64));
        }
        result.warnings.push(format!(
            "passed by PSNR against {name}, not hash for hash: bless this pair with `framelock regress --update --fixture {}` once it is trusted",
            self.fixture.name
        ));
        Ok(None)
    }

    /// The render's sound against the blessed envelope of its pair (else the first entry's):
    /// correlation and lag within the fixture's thresholds.
    pub(super) fn compare_sound(
        &self,
        fp: &Fingerprints,
        sound: Option<&[f64]>,
        result: &mut FixtureResult,
    ) {
        let Some(baseline) = self.baseline else {
            return;
        };
        let Some(entry) = baseline
            .entry(&fp.toolchain, &fp.render_settings)
            .or(baseline.entries.first())
        else {
            return;
        };
        let blessed =
            (!entry.audio_envelope.is_empty()).then(|| expand_envelope(&entry.audio_envelope));
        if let Some((finding, failing)) = audio_finding(
            blessed.as_deref(),
            sound,
            &self.fixture.thresholds,
            ("baseline", "render"),
        ) {
            if failing {
                fail(result, format!("sound: {}", finding.evidence));
            }
            result.findings.push(finding);
        }
    }
}

/// The first frame whose hash differs (a frame only one side has counts).
fn first_difference(blessed: &[String], rendered: &[String]) -> Option<usize> {
    (0..blessed.len().max(rendered.len())).find(|&i| blessed.get(i) != rendered.get(i))
}

/// Equal frames from the same toolchain and settings must encode to the same bytes: the
/// `encoder` finding and the failure's reason when a chunk does not (compared only at the
/// chunk size the entry was blessed at).
fn encoder_finding(entry: &BaselineEntry, reference: &FramesRecord) -> Option<(Finding, String)> {
    let plan = &reference.chunk_plan;
    if entry.chunk_size != plan.chunks()[0].len() {
        return None;
    }
    let chunk = reference
        .chunk_hashes
        .iter()
        .zip(&entry.chunk_hashes)
        .position(|(a, b)| a.as_str() != b)?;
    let index = crate::timing::ChunkIndex(chunk);
    let range = plan.chunks()[chunk];
    let finding = Finding {
        kind: FindingKind::Encoder,
        chunk: Some(index),
        first_frame: Some(range.start().0),
        evidence: format!(
            "equal frames, encoded chunk {} vs blessed {}",
            reference.chunk_hashes[chunk].short(),
            short(&entry.chunk_hashes[chunk])
        ),
    };
    let reason = format!("chunk {index} ({range}) encodes differently from its blessed baseline");
    Some((finding, reason))
}

/// Says what keeps a render from every blessed entry: its toolchain, or (on a blessed
/// toolchain) its render settings.
fn unblessed(baseline: &Baseline, fp: &Fingerprints) -> String {
    let same_toolchain: Vec<&str> = baseline
        .entries
        .iter()
        .filter(|e| e.toolchain == fp.toolchain)
        .map(|e| short(&e.render_settings))
        .collect();
    // Where a toolchain came from: the Nix flake's pin, or a machine's own packages.
    let source = |pin: &Option<String>| pin.clone().unwrap_or_else(|| "own packages".into());
    if same_toolchain.is_empty() {
        let blessed: BTreeSet<String> = baseline
            .entries
            .iter()
            .map(|e| format!("{}, {}", e.chrome_version, source(&e.pinned_toolchain)))
            .collect();
        format!(
            "toolchain {} ({}, {}) is not blessed (blessed: {}): a toolchain difference, not a failure of the composition",
            short(&fp.toolchain),
            fp.chrome_version,
            source(&fp.pinned_toolchain),
            blessed.into_iter().collect::<Vec<_>>().join("; ")
        )
    } else {
        format!(
            "render settings {} are not blessed on this toolchain (blessed: {}): the runtime, browser flags or encoder settings changed",
            short(&fp.render_settings),
            same_toolchain.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::CaptureMode;
    use crate::composition::DurationSource;
    use crate::hash::{BundleHash, ContentHash};
    use crate::store::Execution;
    use crate::timing::{ChunkPlan, Fps, FrameRange};

    fn fingerprints(toolchain: &str, settings: &str) -> Fingerprints {
        Fingerprints {
            toolchain: toolchain.repeat(64),
            render_settings: settings.repeat(64),
            build_id: "b".repeat(64),
            chrome_version: format!("Chromium {toolchain}"),
            ffmpeg_version: "ffmpeg 5.1".into(),
            pinned_toolchain: None,
        }
    }

    fn entry(fp: &Fingerprints, frames: &[&str], chunks: &[ContentHash]) -> BaselineEntry {
        BaselineEntry {
            toolchain: fp.toolchain.clone(),
            render_settings: fp.render_settings.clone(),
            chrome_version: fp.chrome_version.clone(),
            ffmpeg_version: fp.ffmpeg_version.clone(),
            pinned_toolchain: None,
            frame_hashes: frames.iter().map(|f| f.to_string()).collect(),
            chunk_size: 2,
            chunk_hashes: chunks.iter().map(|c| c.to_string()).collect(),
            audio_envelope: Vec::new(),
        }
    }

    fn render(frames: &[&str], chunks: &[ContentHash], chunk_size: u64) -> FramesRecord {
        let range = FrameRange::new(0, frames.len() as u64).unwrap();
        FramesRecord {
            format_version: crate::render::FRAMES_FORMAT_VERSION,
            composition: "fx".into(),
            bundle_hash: BundleHash(ContentHash::of_bytes(b"bundle")),
            fps: Fps::new(30, 1).unwrap(),
            width: 64,
            height: 36,
            total_frames: frames.len() as u64,
            duration_source: DurationSource::MetaJson,
            range,
            frame_count: frames.len() as u64,
            capture_mode: CaptureMode::BeginFrame,
            virtual_time: true,
            execution: Execution::InProcess,
            chunk_plan: ChunkPlan::by_size(range, chunk_size),
            chunk_records: Vec::new(),
            chunk_hashes: chunks.to_vec(),
            reused_chunks: 0,
            video_blake3: ContentHash::of_bytes(b"video"),
            run_record: None,
            fingerprints: fingerprints("t", "s"),
            frame_hashes: frames.iter().map(|f| f.to_string()).collect(),
            page_events: Vec::new(),
            video_frames: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn a_frame_only_one_side_has_is_a_difference() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(first_difference(&f(&["a", "b"]), &f(&["a", "b"])), None);
        assert_eq!(first_difference(&f(&["a", "b"]), &f(&["a", "c"])), Some(1));
        assert_eq!(first_difference(&f(&["a"]), &f(&["a", "b"])), Some(1));
    }

    #[test]
    fn equal_frames_encoded_differently_are_an_encoder_finding_at_the_blessed_chunk_size() {
        let chunks: Vec<ContentHash> = (0..2u8).map(|i| ContentHash::of_bytes(&[i])).collect();
        let other = vec![chunks[0].clone(), ContentHash::of_bytes(b"other")];
        let fp = fingerprints("t", "s");
        let blessed = entry(&fp, &["a", "b", "c", "d"], &chunks);
        assert!(encoder_finding(&blessed, &render(&["a", "b", "c", "d"], &chunks, 2)).is_none());
        let (finding, reason) =
            encoder_finding(&blessed, &render(&["a", "b", "c", "d"], &other, 2)).unwrap();
        assert_eq!(finding.kind, FindingKind::Encoder);
        assert_eq!(finding.chunk, Some(crate::timing::ChunkIndex(1)));
        assert_eq!(finding.first_frame, Some(2));
        assert_eq!(
            reason,
            "chunk 1 (2..4) encodes differently from its blessed baseline"
        );
        // Another chunk size makes other chunks: their bytes are not comparable.
        assert!(encoder_finding(&blessed, &render(&["a", "b", "c", "d"], &other, 3)).is_none());
    }

    #[test]
    fn what_is_not_blessed_is_named_toolchain_first_then_settings() {
        let blessed = fingerprints("t", "s");
        let mut baseline = Baseline::new("fx", &BundleHash(ContentHash::of_bytes(b"bundle")));
        baseline.bless(
            &baseline.bundle_hash.clone(),
            entry(&blessed, &["a"], &[ContentHash::of_bytes(b"c")]),
        );
        let other_toolchain = unblessed(&baseline, &fingerprints("u", "s"));
        assert!(
            other_toolchain.starts_with("toolchain uuuuuuuuuuuu (Chromium u, own packages) is not blessed (blessed: Chromium t, own packages)"),
            "{other_toolchain}"
        );
        let other_settings = unblessed(&baseline, &fingerprints("t", "x"));
        assert!(
            other_settings.starts_with("render settings xxxxxxxxxxxx are not blessed on this toolchain (blessed: ssssssssssss)"),
            "{other_settings}"
        );
    }
}
