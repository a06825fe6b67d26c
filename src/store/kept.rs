//! Bundles kept in the store: packed once per bundle hash by every render that uses the store
//! and by bisect, so a render can be explained after its bundle folder is gone (`diff-runs`
//! names elements from it, `diff` opens it by its hash or a prefix of it).

use camino::{Utf8Path, Utf8PathBuf};

use super::blobs::{Index, Store, StoreError};
use crate::bundle::{Bundle, BundleError, DEFAULT_UNPACK_LIMIT, pack, packed_plan, unpack_bundle};
use crate::hash::BundleHash;

/// Why a kept bundle cannot be kept or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeptError {
    /// The store keeps no bundle of that hash.
    #[error(
        "bundle {hash} is not kept in the store {store} (renders that use the store and bisect keep their bundles; `--no-cache` and `--frames` renders do not)"
    )]
    NotKept {
        /// The bundle, or the prefix asked for.
        hash: String,
        /// The store.
        store: Utf8PathBuf,
    },
    /// The store's bundle index points at another bundle than it names.
    #[error(
        "the store keeps {archive} as bundle {hash}, but it holds bundle {holds}: run `framelock cache verify`, then `framelock cache gc`"
    )]
    Mismatch {
        /// The bundle asked for.
        hash: BundleHash,
        /// The bundle the archive holds.
        holds: BundleHash,
        /// The archive.
        archive: Utf8PathBuf,
    },
    /// A hash prefix names several kept bundles.
    #[error("bundle hash prefix {prefix} names {} kept bundles ({}): give more characters", names.len(), names.join(", "))]
    Ambiguous {
        /// The prefix.
        prefix: String,
        /// The bundles it names (their first 16 characters).
        names: Vec<String>,
    },
    /// No temporary folder to unpack a kept bundle into.
    #[error("no temporary folder to unpack a kept bundle into: {0}")]
    Scratch(#[source] std::io::Error),
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bundle could not be packed or unpacked.
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

impl KeptError {
    /// The exit code: a bundle's own error says; no temporary folder is the environment;
    /// anything else is the user's store or hash.
    pub fn exit_code(&self) -> i32 {
        match self {
            KeptError::Bundle(e) => e.exit_code(),
            KeptError::Store(e) => e.exit_code(),
            KeptError::Scratch(_) => crate::exit_code::ENVIRONMENT,
            _ => crate::exit_code::INPUT,
        }
    }
}

/// Keeps a packed copy of `bundle` in the store, indexed by its hash (nothing to do when the
/// copy is there already: it is verified when opened, not on every render that keeps it).
pub fn keep_bundle(store: &Store, bundle: &Bundle) -> Result<(), KeptError> {
    let key = &bundle.hash().0;
    if let Ok(Some(blob)) = store.get_key(Index::Bundles, key)
        && store.blob_path(&blob).is_file()
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

/// Unpacks the bundle kept as `hash` into `scratch` (once: a second call opens the folder).
pub fn open_kept(
    store: &Store,
    hash: &BundleHash,
    scratch: &Utf8Path,
) -> Result<Bundle, KeptError> {
    let not_kept = || KeptError::NotKept {
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
        return Err(KeptError::Mismatch {
            hash: hash.clone(),
            holds,
            archive,
        });
    }
    let target = scratch.join(hash.to_string());
    if target.is_dir() {
        return Ok(Bundle::open(&target)?);
    }
    std::fs::create_dir_all(scratch).map_err(|source| StoreError::Io {
        path: scratch.to_owned(),
        source,
    })?;
    Ok(unpack_bundle(&archive, &target, DEFAULT_UNPACK_LIMIT)?)
}

/// The kept bundle whose hash starts with `prefix`.
pub fn find_kept(store: &Store, prefix: &str) -> Result<BundleHash, KeptError> {
    let found: Vec<_> = store
        .keys(Index::Bundles)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k.as_str().starts_with(prefix))
        .collect();
    match found.as_slice() {
        [(hash, _)] => Ok(BundleHash(hash.clone())),
        [] => Err(KeptError::NotKept {
            hash: prefix.into(),
            store: store.root().to_owned(),
        }),
        more => Err(KeptError::Ambiguous {
            prefix: prefix.into(),
            names: more
                .iter()
                .map(|(h, _)| h.as_str()[..16].to_string())
                .collect(),
        }),
    }
}
