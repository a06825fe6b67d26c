//! Naming what differs: the page elements whose boxes cover the pixels two renders disagree
//! on, read from the page at that frame, so drift is debugged from an element, not a heat map.

use serde::{Deserialize, Serialize};

use super::error::BrowserError;
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

/// For each set of cells, the elements covering it at `frame` (seeked and drawn once, walking a
/// fresh page there), largest share first.
pub async fn elements_covering(
    session: &mut Session,
    frame: FrameIndex,
    cell_sets: &[&[DiffCell]],
) -> Result<Vec<Vec<ElementShare>>, BrowserError> {
    session.capture(frame).await?;
    let mut named = Vec::new();
    for cells in cell_sets {
        let cells = serde_json::to_string(cells).expect("cells serialise");
        let found = session
            .evaluate(
                "naming the elements that differ",
                &format!("window.__framelock.elementsAt({cells})"),
                Some(frame),
            )
            .await?;
        named.push(serde_json::from_value(found).unwrap_or_default());
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
