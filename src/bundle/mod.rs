//! Bundles: a composition frozen, content-addressed, with everything a worker needs.

mod archive;
mod error;
mod layout;
mod manifest;
mod open;
mod plan;
mod refs;

pub use archive::{DEFAULT_UNPACK_LIMIT, pack, packed_plan, unpack};
pub use error::BundleError;
pub use layout::{
    CompositionMeta, EncoderMeta, PLAN_SCHEMA_VERSION, PlanJson, ToolchainRecord, VIDEOS_JSON,
    WARNINGS_JSON,
};
pub use manifest::{Manifest, ManifestDiff, ManifestEntry};
pub use open::{Bundle, open_folder_or_archive, unpack_bundle};
pub use plan::{Chunking, PlanInput, SKIP, composition_digest, plan};
pub use refs::{Reference, references};
