//! Naming the page elements behind pictured differences: for each pair of failure pictures,
//! the cells where they disagree, and the elements whose boxes cover those cells at that frame,
//! read from the page in a browser of its own. A user debugging drift starts from `#ring-1`,
//! not from a heat map.

use camino::Utf8Path;
use image::RgbImage;

use super::engine::{BrowserRun, start_session};
use crate::browser::elements_covering;
use crate::compare::differing_cells;
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
            Ok(cells) => wanted.push((i, cells)),
            Err(why) => images.elements_unavailable = Some(why),
        }
    }
    if wanted.is_empty() {
        return;
    }
    let mut session = match start_session(run, &()).await {
        Ok(session) => session,
        Err(e) => {
            for (i, _) in wanted {
                pictured[i].elements_unavailable = Some(format!("the browser did not start: {e}"));
            }
            return;
        }
    };
    // In frame order: the session walks forward from where it stands.
    wanted.sort_by_key(|(i, _)| pictured[*i].frame);
    for (i, cells) in wanted {
        let images = &mut pictured[i];
        match elements_covering(&mut session, FrameIndex(images.frame), &cells).await {
            Ok(elements) => images.elements = elements,
            Err(e) => images.elements_unavailable = Some(e.to_string()),
        }
    }
    session.close().await;
}

/// The cells where the two pictures of `images` disagree.
fn differing(
    images: &FailureImages,
    dir: &Utf8Path,
) -> Result<Vec<crate::compare::DiffCell>, String> {
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
