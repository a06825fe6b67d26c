//! `pack`, `unpack`, `verify` and `diff`: a bundle as a deterministic archive, checked, and
//! compared with another.

use camino::Utf8PathBuf;
use clap::Args;

use super::common::{StoreOpts, scratch};
use super::error::Error;
use crate::bisect::{FingerprintDiff, diff_bundles, open_diff_side};
use crate::bundle::{Bundle, DEFAULT_UNPACK_LIMIT, open_folder_or_archive, pack, unpack_bundle};
use crate::exit_code;

/// Options of `framelock pack`.
#[derive(Debug, Clone, Args)]
pub struct PackOpts {
    /// The bundle folder.
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
    /// The archive to write.
    #[arg(short, long, value_name = "BUNDLE.tar.zst")]
    pub output: Utf8PathBuf,
}

/// Options of `framelock unpack`.
#[derive(Debug, Clone, Args)]
pub struct UnpackOpts {
    /// The archive.
    #[arg(value_name = "BUNDLE.tar.zst")]
    pub archive: Utf8PathBuf,
    /// The folder to create (must not exist).
    #[arg(short, long, value_name = "DIR")]
    pub output: Utf8PathBuf,
    /// Refuse archives that unpack to more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_UNPACK_LIMIT)]
    pub max_size: u64,
}

/// Options of `framelock verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyOpts {
    /// A bundle folder, or a packed bundle (.tar.zst).
    #[arg(value_name = "BUNDLE")]
    pub bundle: Utf8PathBuf,
}

/// `framelock diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffOpts {
    /// The first bundle: a folder, a packed bundle (.tar.zst), or the hash (8 or more leading
    /// characters) of a bundle kept in the store by `bisect`.
    #[arg(value_name = "A")]
    pub a: Utf8PathBuf,
    /// The second bundle.
    #[arg(value_name = "B")]
    pub b: Utf8PathBuf,
    /// Also compare how each bundle's renders were made: the planning toolchain in plan.json
    /// and the toolchain, render-settings and build fingerprints of its chunk records in the
    /// store.
    #[arg(long)]
    pub runs: bool,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
}

/// `framelock pack`.
pub fn pack_command(opts: &PackOpts) -> Result<i32, Error> {
    Bundle::open(&opts.bundle)?.verify()?;
    let sha256 = pack(&opts.bundle, &opts.output)?;
    println!("{sha256}  {}", opts.output);
    Ok(exit_code::SUCCESS)
}

/// `framelock unpack`.
pub fn unpack_command(opts: &UnpackOpts) -> Result<i32, Error> {
    let bundle = unpack_bundle(&opts.archive, &opts.output, opts.max_size)?;
    println!("{}", bundle.hash());
    Ok(exit_code::SUCCESS)
}

/// `framelock verify`.
pub fn verify_command(opts: &VerifyOpts) -> Result<i32, Error> {
    let (_scratch, scratch) = scratch()?;
    let bundle = open_folder_or_archive(&opts.bundle, &scratch)?;
    let manifest = bundle.verify()?;
    println!(
        "{}  {} files verified, bundle hash matches plan.json",
        bundle.hash(),
        manifest.0.len()
    );
    Ok(exit_code::SUCCESS)
}

/// `framelock diff`.
pub fn diff_command(opts: &DiffOpts) -> Result<i32, Error> {
    let (_scratch, scratch) = scratch()?;
    let store = || opts.store.open();
    let a = open_diff_side(&opts.a, &scratch.join("a"), &store)?;
    let b = open_diff_side(&opts.b, &scratch.join("b"), &store)?;
    let diff = diff_bundles(&a, &b)?;
    print!("{}", diff.text());
    if opts.runs {
        let store = opts.store.open()?;
        print!("{}", FingerprintDiff::of(&store, &a, &b)?.text());
    }
    Ok(if diff.is_same() {
        exit_code::SUCCESS
    } else {
        exit_code::REGRESSION
    })
}
