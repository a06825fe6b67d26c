//! Naming the page elements behind pictured differences: for each pair of failure pictures,
//! the cells where they disagree, and the elements whose boxes cover those cells at that frame,
//! read from the page in a browser of its own. A user debugging drift starts from `#ring-1`,
//! not from a heat map.

use camino::Utf8Path;
use image::RgbImage;

use super::engine::{BrowserRun, RunSettings, start_session};
use crate::browser::{ElementShare, elements_covering};
use crate::compare::{DiffCell, differing_cells};
use crate::hash::BundleHash;
use crate::outcome::FailureImages;
use crate::staging;
use crate::store::{KeptError, Store, open_kept};
use crate::timing::FrameIndex;

/// The side of a square cell of differing pixels, in pixels: fine enough to tell neighbouring
/// elements apart, coarse enough that a 1080p frame sends the page a few thousand cells at most.
const CELL: u32 = 16;

/// Fills in `elements` of every pictured frame in `pictured` (paths relative to `dir`; frame
/// numbers counted from `first`, the frame the pictured videos begin at), reading each frame in
/// a browser of its own rendering `run`, walked there as a worker would be; where they cannot be
/// read, `elements_unavailable` says why. Naming is an explanation, never a verdict: it fails
/// nothing.
pub async fn name_pictured(
    run: &BrowserRun,
    pictured: &mut [FailureImages],
    dir: &Utf8Path,
    first: FrameIndex,
) {
    let mut wanted = Vec::new();
    for (i, images) in pictured.iter_mut().enumerate() {
        match differing(images, dir) {
            Ok(cells) if cells.is_empty() => {
                images.elements_unavailable =
                    Some("the pictured frames decode equal: the difference is below the video's precision".into());
            }
            Ok(cells) => wanted.push((i, first.0 + images.frame, cells)),
            Err(why) => images.elements_unavailable = Some(why),
        }
    }
    // Each frame once (a finding's picture and the baseline's may show the same one).
    wanted.sort_by_key(|(_, frame, _)| *frame);
    for group in wanted.chunk_by(|(_, a, _), (_, b, _)| a == b) {
        let cells: Vec<&[DiffCell]> = group.iter().map(|(_, _, c)| c.as_slice()).collect();
        match elements_at(run, FrameIndex(group[0].1), &cells).await {
            Ok(named) => {
                for ((i, _, _), elements) in group.iter().zip(named) {
                    pictured[*i].elements = elements;
                }
            }
            Err(why) => {
                for (i, _, _) in group {
                    pictured[*i].elements_unavailable = Some(why.clone());
                }
            }
        }
    }
}

/// [`name_pictured`] from the page of the bundle `store` keeps as `bundle`, rendered with
/// `settings`; when that bundle cannot be opened, why (the pictures are left as they were, for
/// the caller to say so or to read another page).
pub async fn name_pictured_from_kept(
    store: &Store,
    bundle: &BundleHash,
    settings: RunSettings,
    pictured: &mut [FailureImages],
    dir: &Utf8Path,
    first: FrameIndex,
) -> Result<(), KeptError> {
    // Held until the naming is done: the bundle is unpacked in it.
    let (_scratch, scratch) = staging::scratch_dir().map_err(KeptError::Scratch)?;
    let bundle = open_kept(store, bundle, &scratch)?;
    let run = BrowserRun::for_bundle(&bundle, settings);
    name_pictured(&run, pictured, dir, first).await;
    Ok(())
}

/// The elements covering each set of cells at `frame`, read in a fresh browser.
async fn elements_at(
    run: &BrowserRun,
    frame: FrameIndex,
    cells: &[&[DiffCell]],
) -> Result<Vec<Vec<ElementShare>>, String> {
    let mut session = start_session(run, &())
        .await
        .map_err(|e| format!("the browser did not start: {e}"))?;
    let named = elements_covering(&mut session, frame, cells).await;
    session.close().await;
    named
}

/// The cells where the two pictures of `images` disagree.
fn differing(images: &FailureImages, dir: &Utf8Path) -> Result<Vec<DiffCell>, String> {
    let open = |p: &Utf8Path| -> Result<RgbImage, String> {
        let path = dir.join(p);
        image::open(&path)
            .map(|i| i.into_rgb8())
            .map_err(|e| format!("{path}: {e}"))
    };
    Ok(differing_cells(
        &open(&images.reference)?,
        &open(&images.candidate)?,
        CELL,
    ))
}
