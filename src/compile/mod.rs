//! HyperFrames' compile step, as framelock applies it to a HyperFrames composition's page at
//! planning (`page`): the text-rendering rule, a bundled face in front of generic font lists
//! (`css`), and the open faces HyperFrames bundles embedded for the families the page names
//! (`faces`, from `assets/fonts/`).

mod css;
mod faces;
mod page;

pub use page::{Compiled, compile_page};
