//! Blobs stored by their blake3, written atomically and verified on every read.
//!
//! Layout: `blobs/blake3/<hh>/<hash>` for contents; three indexes whose files each hold the hash
//! of a blob: `keys/<hh>/<key>` (chunk cache keys to chunk records), `verdicts/<hh>/<key>`
//! (verdict keys to verdict records) and `bundles/<hh>/<bundle hash>` (bundles to their packed
//! archives); `lock` for the store lock, `logs/` for worker logs. A write goes to a temporary file in the target's own folder, is fsynced,
//! renamed, and the folder fsynced: a crash leaves either the whole blob or nothing, and two
//! writers of the same blob both succeed. Writers hold the lock shared; `gc` holds it
//! exclusively, so it never deletes what a writer is about to reference.

use std::io::Write;
use std::os::fd::AsRawFd;

use camino::{Utf8Path, Utf8PathBuf};

use crate::exit_code;
use crate::hash::{BundleHash, ContentHash, HashParseError};

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A store file could not be read or written.
    #[error("store {path}: {source}")]
    Io {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A blob's contents do not match its name.
    #[error("store {path}: corrupted: contents hash to {found}")]
    Corrupt {
        /// The blob.
        path: Utf8PathBuf,
        /// What the contents hash to.
        found: ContentHash,
    },
    /// A blob is missing.
    #[error("store {path}: missing")]
    Missing {
        /// Where it should be.
        path: Utf8PathBuf,
    },
    /// A key file does not hold a hash.
    #[error("store {path}: {source}")]
    BadKey {
        /// The key file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: HashParseError,
    },
    /// A stored record is not valid JSON of its kind.
    #[error("store {path}: not a valid {what}: {source}")]
    BadRecord {
        /// The blob.
        path: Utf8PathBuf,
        /// What it should be.
        what: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// An unusable store is an input problem (the user chose it).
    pub fn exit_code(&self) -> i32 {
        exit_code::INPUT
    }
}

/// The default store when none is given (`--store`, which clap also reads from
/// `$FRAMELOCK_STORE`): `$XDG_CACHE_HOME/framelock`, else `~/.cache/framelock`.
pub fn default_store_root() -> Utf8PathBuf {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(x) = var("XDG_CACHE_HOME") {
        return Utf8PathBuf::from(x).join("framelock");
    }
    let home = var("HOME").unwrap_or_else(|| "/tmp".into());
    Utf8PathBuf::from(home).join(".cache/framelock")
}

/// One of the store's indexes: each maps a key hash to a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Chunk cache keys to chunk records.
    Chunks,
    /// Verdict keys to verdict records (`bisect`).
    Verdicts,
    /// Bundle hashes to packed bundles, so `diff` can name a bundle by its hash.
    Bundles,
    /// Fixture result keys to passed fixture results (`regress`).
    Results,
}

impl Index {
    pub(super) const ALL: [Index; 4] = [
        Index::Chunks,
        Index::Verdicts,
        Index::Bundles,
        Index::Results,
    ];

    /// Its folder in the store.
    pub(super) fn dir(self) -> &'static str {
        match self {
            Index::Chunks => "keys",
            Index::Verdicts => "verdicts",
            Index::Bundles => "bundles",
            Index::Results => "results",
        }
    }
}

impl std::fmt::Display for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Index::Chunks => "chunk",
            Index::Verdicts => "verdict",
            Index::Bundles => "bundle",
            Index::Results => "fixture result",
        })
    }
}

/// A store on disk.
#[derive(Debug, Clone)]
pub struct Store {
    root: Utf8PathBuf,
}

/// A held store lock; released on drop.
#[derive(Debug)]
pub struct StoreLock {
    _file: std::fs::File,
}

impl Store {
    /// Opens (creating if needed) the store at `root`, checking that it is writable.
    pub fn open(root: &Utf8Path) -> Result<Store, StoreError> {
        // Absolute: blob paths are handed to ffmpeg's concat lists, which read relative paths
        // from the list's own folder.
        let root = &std::path::absolute(root)
            .ok()
            .and_then(|p| Utf8PathBuf::from_path_buf(p).ok())
            .ok_or_else(|| StoreError::Io {
                path: root.to_owned(),
                source: std::io::Error::other("cannot make the store's path absolute"),
            })?;
        let indexes = Index::ALL.map(Index::dir);
        for dir in ["blobs/blake3", "logs"].iter().chain(&indexes) {
            let path = root.join(dir);
            std::fs::create_dir_all(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        }
        let probe = root.join("lock");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&probe)
            .map_err(|source| StoreError::Io {
                path: probe.clone(),
                source,
            })?;
        Ok(Store {
            root: root.to_owned(),
        })
    }

    /// The store's folder.
    pub fn root(&self) -> &Utf8Path {
        &self.root
    }

    /// Where a blob lives.
    pub fn blob_path(&self, hash: &ContentHash) -> Utf8PathBuf {
        self.root
            .join("blobs/blake3")
            .join(&hash.as_str()[..2])
            .join(hash.as_str())
    }

    fn key_path(&self, index: Index, key: &ContentHash) -> Utf8PathBuf {
        self.root
            .join(index.dir())
            .join(&key.as_str()[..2])
            .join(key.as_str())
    }

    /// Stores `bytes`; returns their hash.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<ContentHash, StoreError> {
        let hash = ContentHash::of_bytes(bytes);
        let target = self.blob_path(&hash);
        // An existing blob is kept only if it is intact: a corrupted one is replaced.
        if ContentHash::of_file(&target).ok().as_ref() != Some(&hash) {
            write_atomically(&target, bytes)?;
        }
        Ok(hash)
    }

    /// Stores the contents of a file; returns their hash.
    pub fn put_file(&self, path: &Utf8Path) -> Result<ContentHash, StoreError> {
        let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.put_bytes(&bytes)
    }

    /// Reads a blob, verifying its contents against its name.
    pub fn get(&self, hash: &ContentHash) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(hash);
        let bytes = std::fs::read(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                StoreError::Missing { path: path.clone() }
            } else {
                StoreError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        let found = ContentHash::of_bytes(&bytes);
        if &found != hash {
            return Err(StoreError::Corrupt { path, found });
        }
        Ok(bytes)
    }

    /// Checks a blob without keeping its contents.
    pub fn verify(&self, hash: &ContentHash) -> Result<(), StoreError> {
        self.get(hash).map(|_| ())
    }

    /// Points `key` of `index` at the blob `value`.
    pub fn set_key(
        &self,
        index: Index,
        key: &ContentHash,
        value: &ContentHash,
    ) -> Result<(), StoreError> {
        write_atomically(&self.key_path(index, key), value.as_str().as_bytes())
    }

    /// The blob `key` of `index` points at, if any.
    pub fn get_key(
        &self,
        index: Index,
        key: &ContentHash,
    ) -> Result<Option<ContentHash>, StoreError> {
        let path = self.key_path(index, key);
        match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|source| StoreError::BadKey { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Removes a key of `index` (a corrupted entry, or `gc`).
    pub fn remove_key(&self, index: Index, key: &ContentHash) -> Result<(), StoreError> {
        let path = self.key_path(index, key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Every key of `index` with its file's age in seconds.
    pub fn keys(&self, index: Index) -> Result<Vec<(ContentHash, u64)>, StoreError> {
        self.list(index.dir())
    }

    /// Every blob with its file's age in seconds.
    pub fn blobs(&self) -> Result<Vec<(ContentHash, u64)>, StoreError> {
        self.list("blobs/blake3")
    }

    fn list(&self, sub: &str) -> Result<Vec<(ContentHash, u64)>, StoreError> {
        let dir = self.root.join(sub);
        let io = |path: &Utf8Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        let now = std::time::SystemTime::now();
        let mut out = Vec::new();
        for shard in dir.read_dir_utf8().map_err(io(&dir))? {
            let shard = shard.map_err(io(&dir))?;
            if !shard.path().is_dir() {
                continue;
            }
            for entry in shard.path().read_dir_utf8().map_err(io(shard.path()))? {
                let entry = entry.map_err(io(shard.path()))?;
                // Temporary files of writers in progress are not entries.
                let Ok(hash) = entry.file_name().parse::<ContentHash>() else {
                    continue;
                };
                let age = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|m| now.duration_since(m).ok())
                    .map_or(0, |d| d.as_secs());
                out.push((hash, age));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Deletes a blob.
    pub fn remove_blob(&self, hash: &ContentHash) -> Result<(), StoreError> {
        let path = self.blob_path(hash);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Holds the store lock shared (writers) or exclusive (`gc`), waiting for it.
    pub fn lock(&self, exclusive: bool) -> Result<StoreLock, StoreError> {
        let path = self.root.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        let op = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        // SAFETY: flock on a file descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), op) } != 0 {
            return Err(StoreError::Io {
                path,
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(StoreLock { _file: file })
    }

    /// A folder for worker logs of one bundle.
    pub fn log_dir(&self, bundle: &BundleHash) -> Result<Utf8PathBuf, StoreError> {
        let dir = self.root.join("logs").join(bundle.to_string());
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(dir)
    }
}

/// Writes `bytes` to `target` through a temporary file in the same folder: fsync, rename,
/// fsync the folder.
fn write_atomically(target: &Utf8Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = target.parent().expect("store paths have a parent");
    let io = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| StoreError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    temp.write_all(bytes).map_err(io(target))?;
    temp.as_file().sync_all().map_err(io(target))?;
    temp.persist(target).map_err(|e| StoreError::Io {
        path: target.to_owned(),
        source: e.error,
    })?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_and_corruption_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(Utf8Path::from_path(dir.path()).unwrap()).unwrap();
        let h = store.put_bytes(b"hello").unwrap();
        assert_eq!(
            store.put_bytes(b"hello").unwrap(),
            h,
            "same content, same blob"
        );
        assert_eq!(store.get(&h).unwrap(), b"hello");
        std::fs::write(store.blob_path(&h), b"hellO").unwrap();
        assert!(matches!(store.get(&h), Err(StoreError::Corrupt { .. })));
        let k = ContentHash::of_bytes(b"key");
        assert_eq!(store.get_key(Index::Chunks, &k).unwrap(), None);
        store.set_key(Index::Chunks, &k, &h).unwrap();
        assert_eq!(store.get_key(Index::Chunks, &k).unwrap(), Some(h.clone()));
        assert_eq!(store.keys(Index::Chunks).unwrap().len(), 1);
        assert_eq!(
            store.get_key(Index::Verdicts, &k).unwrap(),
            None,
            "indexes are apart"
        );
        assert_eq!(store.blobs().unwrap()[0].0, h);
    }

    #[test]
    fn concurrent_writers_of_one_blob_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(Utf8Path::from_path(dir.path()).unwrap()).unwrap();
        let data = vec![42u8; 1 << 20];
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (store, data) = (store.clone(), data.clone());
                std::thread::spawn(move || store.put_bytes(&data).unwrap())
            })
            .collect();
        let hashes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(hashes.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(store.get(&hashes[0]).unwrap(), data);
        assert_eq!(
            store.blobs().unwrap().len(),
            1,
            "no temporary files left as blobs"
        );
    }
}
