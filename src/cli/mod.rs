//! The command line: clap definitions per subcommand family, their conversion to engine values
//! at the edge, dispatch, and the one error type that knows every exit code. The engine never
//! imports from here.

mod app;
mod bisect;
mod bundle;
mod cache;
mod common;
mod error;
mod regress;
mod render;
mod submit;
mod tools;
mod vary;

pub use app::{Cli, Command, main};
pub use error::Error;
