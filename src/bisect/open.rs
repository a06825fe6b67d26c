//! Opening a side of `diff` named on the command line: a folder, a packed bundle, or a bundle
//! kept in the store, by its hash or a prefix of it.

use camino::Utf8Path;

use super::error::BisectError;
use crate::bundle::{Bundle, open_folder_or_archive};
use crate::store::{Store, StoreError, find_kept, open_kept};

/// Opens a side of `diff`: a bundle folder, a packed bundle, or — when no such file exists —
/// the hash (or a prefix of at least 8 characters) of a bundle kept in the store.
pub fn open_diff_side(
    arg: &Utf8Path,
    scratch: &Utf8Path,
    store: &dyn Fn() -> Result<Store, StoreError>,
) -> Result<Bundle, BisectError> {
    let text = arg.as_str();
    if arg.exists() {
        return Ok(open_folder_or_archive(arg, scratch)?);
    }
    let hex = text.len() >= 8 && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return Err(BisectError::NoSuchSide {
            arg: arg.to_owned(),
        });
    }
    let store = store()?;
    let hash = find_kept(&store, &text.to_ascii_lowercase())?;
    Ok(open_kept(&store, &hash, scratch)?)
}
