//! Comparing two renders: their videos frame by frame (`video`: decoded-frame hashes, then PSNR
//! of the frames that differ; PSNR at chosen frames), where two frames differ (`picture`), and
//! their sound (`sound`).

mod picture;
mod sound;
mod video;

pub use picture::{DiffCell, differing_cells, heat_map};
pub use sound::{
    EnvelopeShape, FRAMELOCK_ENVELOPE, HYPERFRAMES_ENVELOPE, audio_envelope, envelope_lag,
    residual_rms_db,
};
pub use video::{Comparison, IDENTICAL_PSNR, compare_videos, frame_rgb, psnr_at_frames, psnr_of};
