//! Integration tests: the built binary and the library against real chrome-headless-shell and
//! ffmpeg. Most fixtures are small (320×180, 1–2.5 s) so the suite stays fast; the heavy
//! 1080p ones prove what small ones cannot (`heavy.rs`).

mod architecture;
mod bad_input;
mod bench;
mod bisect;
mod browser;
mod bundle;
mod compare;
mod compile;
mod distributed;
mod doctor;
mod environment;
mod golden;
mod harness;
mod heavy;
mod media;
mod regress;
mod render;
mod slurm;
mod snapshots;
mod submit;
mod vary;
