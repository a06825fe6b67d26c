//! Opening a bundle named on the command line: a folder, a packed bundle, or a bundle bisect
//! kept in the store (packed once per bundle hash, so `diff` can open it by its hash, or a
//! prefix of it, after its folder is gone).

use camino::Utf8Path;

use super::error::BisectError;
use crate::bundle::{
    Bundle, DEFAULT_UNPACK_LIMIT, open_folder_or_archive, pack, packed_plan, unpack_bundle,
};
use crate::hash::BundleHash;
use crate::store::{Index, Store, StoreError};

/// Keeps a packed copy of `bundle` in the store, indexed by its hash, so `diff` can name it by
/// hash after its folder is gone.
pub fn keep_bundle(store: &Store, bundle: &Bundle) -> Result<(), BisectError> {
    let key = &bundle.hash().0;
    if let Ok(Some(blob)) = store.get_key(Index::Bundles, key)
        && store.verify(&blob).is_ok()
    {
        return Ok(());
    }
    let scratch = tempfile::Builder::new()
        .prefix("framelock-pack-")
        .tempdir_in(store.root())
        .map_err(|source| StoreError::Io {
            path: store.root().to_owned(),
            source,
        })?;
    let archive = Utf8Path::from_path(scratch.path())
        .expect("the store has a UTF-8 path")
        .join("bundle.tar.zst");
    pack(&bundle.dir, &archive)?;
    let blob = store.put_file(&archive)?;
    store.set_key(Index::Bundles, key, &blob)?;
    Ok(())
}

/// Unpacks a bundle kept in the store into `scratch`.
pub fn open_kept(
    store: &Store,
    hash: &BundleHash,
    scratch: &Utf8Path,
) -> Result<Bundle, BisectError> {
    let not_kept = || BisectError::NotKept {
        hash: hash.to_string(),
        store: store.root().to_owned(),
    };
    let blob = store
        .get_key(Index::Bundles, &hash.0)?
        .ok_or_else(not_kept)?;
    store.verify(&blob).map_err(|e| match e {
        StoreError::Missing { .. } => not_kept(),
        e => e.into(),
    })?;
    let archive = store.blob_path(&blob);
    let holds = packed_plan(&archive)?.bundle_hash;
    if holds != *hash {
        return Err(BisectError::KeptMismatch {
            hash: hash.clone(),
            holds,
            archive,
        });
    }
    let target = scratch.join(hash.to_string());
    if target.is_dir() {
        return Ok(Bundle::open(&target)?);
    }
    std::fs::create_dir_all(scratch).map_err(|source| BisectError::Io {
        path: scratch.to_owned(),
        source,
    })?;
    Ok(unpack_bundle(&archive, &target, DEFAULT_UNPACK_LIMIT)?)
}

/// The kept bundle whose hash starts with `prefix`.
pub(super) fn find_kept(store: &Store, prefix: &str) -> Result<BundleHash, BisectError> {
    let found: Vec<_> = store
        .keys(Index::Bundles)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k.as_str().starts_with(prefix))
        .collect();
    match found.as_slice() {
        [(hash, _)] => Ok(BundleHash(hash.clone())),
        [] => Err(BisectError::NotKept {
            hash: prefix.into(),
            store: store.root().to_owned(),
        }),
        more => Err(BisectError::Ambiguous {
            prefix: prefix.into(),
            names: more
                .iter()
                .map(|(h, _)| h.as_str()[..16].to_string())
                .collect(),
        }),
    }
}

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
    open_kept(&store, &hash, scratch)
}
