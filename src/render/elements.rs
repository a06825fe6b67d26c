//! Naming the page elements behind pictured differences: for each pair of failure pictures,
//! the cells where they disagree, and the elements whose boxes cover those cells at that frame,
//! read from the page in a browser of its own. A user debugging drift starts from `#ring-1`,
//! not from a heat map.

use camino::Utf8Path;
use image::RgbImage;

use super::engine::{BrowserRun, start_session};
use crate::browser::elements_covering;
use crate::compare::{DiffCell, differing_cells};
use crate::outcome::FailureImages;
use crate::timing::FrameIndex;

/// The side of a square cell of differing pixels, in pixels: fine enough to tell neighbouring
/// elements apart, coarse enough that a 1080p frame sends the page a few thousand cells at most.
const CELL: u32 = 16;

/// Fills in `elements` of every pictured frame in `pictured` (paths relative to `dir`), from
/// one browser rendering `run`; where they cannot be read, `elements_unavailable` says why.
/// Naming is an explanation, never a verdict: it fails nothing.
pub async fn name_pictured(run: &BrowserRun, pictured: &mut [FailureImages], dir: &Utf8Path) {
    let mut wanted = Vec::new();
    for (i, images) in pictured.iter_mut().enumerate() {
        match differing(images, dir) {
            Ok(cells) if cells.is_empty() => {}
            Ok(cells) => wanted.push((i, images.frame, cells)),
            Err(why) => images.elements_unavailable = Some(why),
        }
    }
    if wanted.is_empty() {
        return;
    }
    let mut session = match start_session(run, &()).await {
        Ok(session) => session,
        Err(e) => {
            for (i, _, _) in wanted {
                pictured[i].elements_unavailable = Some(format!("the browser did not start: {e}"));
            }
            return;
        }
    };
    // In frame order, each frame drawn once: the session walks forward from where it stands,
    // and several pictures may show one frame (a finding's and the baseline's).
    wanted.sort_by_key(|(_, frame, _)| *frame);
    for group in wanted.chunk_by(|(_, a, _), (_, b, _)| a == b) {
        let frame = FrameIndex(group[0].1);
        let cells: Vec<&[DiffCell]> = group.iter().map(|(_, _, c)| c.as_slice()).collect();
        match elements_covering(&mut session, frame, &cells).await {
            Ok(named) => {
                for ((i, _, _), elements) in group.iter().zip(named) {
                    pictured[*i].elements = elements;
                }
            }
            Err(e) => {
                for (i, _, _) in group {
                    pictured[*i].elements_unavailable = Some(e.to_string());
                }
            }
        }
    }
    session.close().await;
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
