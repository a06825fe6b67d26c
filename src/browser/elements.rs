//! Naming what differs: the page elements whose boxes cover the pixels two renders disagree
//! on, read from the page at that frame, so drift is debugged from an element, not a heat map.

use serde::{Deserialize, Serialize};

use super::session::Session;
use crate::compare::DiffCell;
use crate::timing::FrameIndex;

/// A page element and its share of the differing pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementShare {
    /// A selector that finds it: `#id`, or a path of `tag:nth-of-type(k)` from the nearest
    /// ancestor with an id.
    pub selector: String,
    /// Its share of the differing pixels, 0–1.
    pub share: f64,
}

/// For each set of cells, the elements covering it at `frame` (seeked and drawn once; a fresh
/// page walks there as a worker's does), largest share first; why not, in words (naming only
/// explains a difference, so its failures are shown, not raised).
pub async fn elements_covering(
    session: &mut Session,
    frame: FrameIndex,
    cell_sets: &[&[DiffCell]],
) -> Result<Vec<Vec<ElementShare>>, String> {
    session.capture(frame).await.map_err(|e| e.to_string())?;
    let mut named = Vec::new();
    for cells in cell_sets {
        let cells = serde_json::to_string(cells).expect("cells serialise");
        let found = session
            .evaluate(
                "naming the elements that differ",
                &format!("window.__framelock.elementsAt({cells})"),
                Some(frame),
            )
            .await
            .map_err(|e| e.to_string())?;
        let elements = serde_json::from_value(found.clone())
            .map_err(|e| format!("the page's elementsAt answered {found}, not elements: {e}"))?;
        named.push(elements);
    }
    Ok(named)
}

/// What a report says of the elements behind a difference: `#ring-1 62%, svg
/// path:nth-of-type(3) 20%` (the first `limit`), why they are unavailable, or that none covers
/// the differing pixels.
pub fn describe_elements(
    elements: &[ElementShare],
    unavailable: Option<&str>,
    limit: usize,
) -> String {
    if let Some(why) = unavailable {
        return format!("unavailable ({why})");
    }
    if elements.is_empty() {
        return "none of the page's elements covers the differing pixels".into();
    }
    let named: Vec<String> = elements
        .iter()
        .take(limit)
        .map(|e| format!("{} {:.0}%", e.selector, e.share * 100.0))
        .collect();
    match elements.len().saturating_sub(limit) {
        0 => named.join(", "),
        more => format!("{} and {more} more", named.join(", ")),
    }
}
