//! Reading a composition folder: its `index.html`, its `meta.json`, and the HyperFrames
//! attributes on the page's root element.
//!
//! A composition is a folder with an `index.html` that animates. Its size, frame rate and length
//! come from, in order: the command line, `meta.json`'s `renderConfig`, then the page itself
//! (the root element's `data-width`/`data-height`/`data-duration`; the duration may also come
//! from `window.__hf` or `window.__timelines`, which only the browser can read, so it stays
//! [`DurationSpec::FromPage`] until then). Every problem is reported with the file and the field.

mod error;
mod load;
mod meta;
mod root;
mod settings;

pub use error::CompositionError;
pub use load::{Composition, page_folder};
pub use root::RootAttributes;
pub use settings::{DurationSource, DurationSpec, Format, Overrides};
