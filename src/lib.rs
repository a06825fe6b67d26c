//! framelock: prove that HTML-to-video rendering is reproducible.
//!
//! A composition (a folder with an animating `index.html`) is rendered in chrome-headless-shell
//! frame by frame, with time, randomness and rasterisation pinned, and encoded bit-exactly. See
//! `ARCHITECTURE.md` for the map of modules, the layers they sit in and the invariants they
//! keep.

#![warn(missing_docs)]

pub mod bench;
pub mod bisect;
pub mod browser;
pub mod bundle;
pub mod cli;
pub mod compare;
pub mod compile;
pub mod composition;
pub mod distributed;
pub mod doctor;
pub mod drift;
pub mod encode;
pub mod exit_code;
pub mod hash;
pub mod html;
pub mod media;
pub mod outcome;
pub mod regress;
pub mod render;
pub mod report;
pub mod staging;
pub mod store;
pub mod submit;
pub mod timing;
pub mod toolchain;
pub mod urlpath;
pub mod vary;
