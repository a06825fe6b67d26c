//! `framelock vary`: a composition rendered under variations of the machine and of the render
//! path, each held against a plain render by its raw-frame hashes, in the spirit of reprotest.

mod error;
mod run;
mod variation;

pub use error::VaryError;
pub use run::{VARY_FORMAT_VERSION, VariationResult, VaryReport, VaryRequest, vary};
pub use variation::Variation;
