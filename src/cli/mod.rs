//! The command line: clap definitions, conversion to engine values, dispatch and exit codes.

mod args;
mod run;

pub use args::{Cli, Command, DoctorOpts, RenderOpts};
pub use run::main;
