//! Deterministic `.tar.zst` archives of bundles, and their careful unpacking.
//!
//! `pack` writes the same bytes for the same bundle on any machine: entries sorted, only regular
//! files and folders, ustar headers with mtime, uid and gid zeroed and no PAX records, modes
//! 0644/0755, a pinned zstd level, one thread. `unpack` trusts nothing: it refuses absolute
//! paths, `..`, links, devices and archives that inflate past a limit, and writes into a
//! temporary folder that is renamed into place only when everything was read.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest, Sha256};

use super::error::BundleError;
use crate::staging;

/// zstd level of `pack`: part of the archive's bytes, so never changed silently.
const ZSTD_LEVEL: i32 = 10;

/// The largest `plan.json` [`packed_plan`] reads.
const PLAN_LIMIT: u64 = 1 << 20;

/// Reads `plan.json` out of a packed bundle without unpacking it (to check what a kept archive
/// holds). Entries are read in order and only `plan.json`'s contents are kept.
pub fn packed_plan(archive: &Utf8Path) -> Result<super::PlanJson, BundleError> {
    let unreadable = |reason: String| BundleError::UnsafeArchive {
        archive: archive.to_owned(),
        reason,
    };
    let file = std::fs::File::open(archive).map_err(|source| BundleError::Io {
        path: archive.to_owned(),
        source,
    })?;
    let decoder = zstd::stream::Decoder::new(file)
        .map_err(|e| unreadable(format!("not a zstd stream: {e}")))?;
    let mut tar = tar::Archive::new(decoder);
    let entries = tar
        .entries()
        .map_err(|e| unreadable(format!("unreadable: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| unreadable(format!("corrupt or truncated: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| unreadable(format!("bad entry name: {e}")))?
            .into_owned();
        if name.as_os_str() != "plan.json" {
            continue;
        }
        let mut text = Vec::new();
        entry
            .take(PLAN_LIMIT)
            .read_to_end(&mut text)
            .map_err(|e| unreadable(format!("plan.json unreadable: {e}")))?;
        return serde_json::from_slice(&text).map_err(|source| BundleError::BadJson {
            path: archive.join("plan.json"),
            what: "plan.json",
            source,
        });
    }
    Err(BundleError::NotABundle {
        path: archive.to_owned(),
    })
}

/// Default limit on the unpacked size of an archive: 4 GiB.
pub const DEFAULT_UNPACK_LIMIT: u64 = 4 << 30;

/// Packs `bundle` into `output` (written to a temporary file, then renamed); returns the
/// archive's sha256 as hex.
pub fn pack(bundle: &Utf8Path, output: &Utf8Path) -> Result<String, BundleError> {
    let io = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| BundleError::Io { path, source }
    };
    let mut entries = Vec::new();
    collect(bundle, bundle, &mut entries)?;
    entries.sort();

    let temp = staging::file_beside(output, "pack").map_err(io(output))?;
    let mut encoder = zstd::stream::Encoder::new(temp.as_file(), ZSTD_LEVEL).map_err(io(output))?;
    encoder.include_checksum(true).map_err(io(output))?;
    {
        let mut tar = tar::Builder::new(&mut encoder);
        for rel in &entries {
            let path = bundle.join(rel);
            let meta = std::fs::metadata(&path).map_err(io(&path))?;
            let mut header = tar::Header::new_ustar();
            header.set_path(rel.as_str()).map_err(io(&path))?;
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            if meta.is_dir() {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                header.set_cksum();
                tar.append(&header, std::io::empty()).map_err(io(&path))?;
            } else {
                let executable = meta.permissions().mode() & 0o111 != 0;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(if executable { 0o755 } else { 0o644 });
                header.set_size(meta.len());
                header.set_cksum();
                let file = std::fs::File::open(&path).map_err(io(&path))?;
                tar.append(&header, file).map_err(io(&path))?;
            }
        }
        tar.finish().map_err(io(output))?;
    }
    encoder.finish().map_err(io(output))?;
    temp.as_file().sync_all().map_err(io(output))?;
    temp.persist(output).map_err(|e| BundleError::Io {
        path: output.to_owned(),
        source: e.error,
    })?;

    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(output).map_err(io(output))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io(output))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Relative paths of every file and folder below `root` (folders before their contents once
/// sorted, since a folder's path is a prefix of its entries').
fn collect(root: &Utf8Path, dir: &Utf8Path, out: &mut Vec<Utf8PathBuf>) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in dir.read_dir_utf8().map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let meta = std::fs::symlink_metadata(path).map_err(|source| BundleError::Io {
            path: path.to_owned(),
            source,
        })?;
        let rel = path
            .strip_prefix(root)
            .expect("entries lie below the root")
            .to_owned();
        if meta.is_dir() {
            out.push(rel);
            collect(root, path, out)?;
        } else if meta.is_file() {
            out.push(rel);
        } else {
            return Err(BundleError::NotRegular {
                path: path.to_owned(),
            });
        }
    }
    Ok(())
}

/// Unpacks `archive` into the new folder `target`, refusing anything unsafe, and never
/// writing outside `target` or more than `limit` bytes.
pub fn unpack(archive: &Utf8Path, target: &Utf8Path, limit: u64) -> Result<(), BundleError> {
    let unsafe_archive = |reason: String| BundleError::UnsafeArchive {
        archive: archive.to_owned(),
        reason,
    };
    if target.exists() {
        return Err(BundleError::TargetExists {
            path: target.to_owned(),
        });
    }
    let (work, root) = staging::dir_beside(target, "unpack").map_err(|source| BundleError::Io {
        path: target.to_owned(),
        source,
    })?;

    let file = std::fs::File::open(archive).map_err(|source| BundleError::Io {
        path: archive.to_owned(),
        source,
    })?;
    let decoder = zstd::stream::Decoder::new(file)
        .map_err(|e| unsafe_archive(format!("not a zstd stream: {e}")))?;
    // Headers, long names and PAX records are read by the tar reader itself: bound the whole
    // decompressed stream, not only the file contents.
    let bounded = Bounded {
        inner: decoder,
        left: limit.saturating_add((limit / 8 + (1 << 20)).min(STREAM_SLACK)),
    };
    let mut tar = tar::Archive::new(bounded);
    let mut total: u64 = 0;
    let mut count: usize = 0;
    let entries = tar
        .entries()
        .map_err(|e| unsafe_archive(format!("unreadable: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| unsafe_archive(format!("corrupt or truncated: {e}")))?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(unsafe_archive(format!("more than {MAX_ENTRIES} entries")));
        }
        let raw = entry
            .path()
            .map_err(|e| unsafe_archive(format!("bad entry name: {e}")))?
            .into_owned();
        let name = Utf8PathBuf::from_path_buf(raw.clone())
            .map_err(|p| unsafe_archive(format!("entry name is not UTF-8: {}", p.display())))?;
        let rel = safe_relative(&name).ok_or_else(|| {
            unsafe_archive(format!(
                "entry {name:?} leaves the target (absolute path or ..)"
            ))
        })?;
        let kind = entry.header().entry_type();
        let dest = root.join(&rel);
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&dest).map_err(|source| BundleError::Io {
                    path: dest.clone(),
                    source,
                })?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.header().size().unwrap_or(u64::MAX);
                total = total.saturating_add(size);
                if total > limit {
                    return Err(unsafe_archive(format!(
                        "inflates past the limit of {limit} bytes"
                    )));
                }
                if let Some(p) = dest.parent() {
                    std::fs::create_dir_all(p).map_err(|source| BundleError::Io {
                        path: p.to_owned(),
                        source,
                    })?;
                }
                let mut out = std::fs::File::create(&dest).map_err(|source| BundleError::Io {
                    path: dest.clone(),
                    source,
                })?;
                // Copy at most the declared size (plus one byte to notice a lie).
                let copied =
                    std::io::copy(&mut (&mut entry).take(size.saturating_add(1)), &mut out)
                        .map_err(|e| {
                            unsafe_archive(format!("corrupt or truncated at {name}: {e}"))
                        })?;
                if copied != size {
                    return Err(unsafe_archive(format!(
                        "entry {name} is {copied} bytes, its header says {size}"
                    )));
                }
                out.flush().map_err(|source| BundleError::Io {
                    path: dest.clone(),
                    source,
                })?;
                let mode = entry.header().mode().unwrap_or(0o644);
                let mode = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
                std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode)).map_err(
                    |source| BundleError::Io {
                        path: dest.clone(),
                        source,
                    },
                )?;
            }
            other => {
                return Err(unsafe_archive(format!(
                    "entry {name} is a {other:?}; only regular files and folders are allowed"
                )));
            }
        }
    }
    staging::publish_dir(work, target).map_err(|source| BundleError::Io {
        path: target.to_owned(),
        source,
    })
}

/// Most bytes of tar headers, names and padding allowed on top of the unpacked-size limit (an
/// eighth of the limit plus 1 MiB, up to this).
const STREAM_SLACK: u64 = 64 << 20;

/// Most entries an archive may have.
const MAX_ENTRIES: usize = 200_000;

/// A reader that fails once it has given `left` bytes.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other(
                "the archive inflates past the size limit",
            ));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// The path with `.` parts removed; `None` when absolute or climbing with `..`.
fn safe_relative(name: &Utf8Path) -> Option<Utf8PathBuf> {
    let mut out = Utf8PathBuf::new();
    for c in name.components() {
        match c {
            camino::Utf8Component::Normal(p) => out.push(p),
            camino::Utf8Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_str().is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> (tempfile::TempDir, Utf8PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let p = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).unwrap();
        (t, p)
    }

    fn sample(root: &Utf8Path) {
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join("b/c/d.bin"), [0u8, 1, 2]).unwrap();
        std::fs::write(root.join("run.sh"), "#!/bin/sh").unwrap();
        std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
    }

    #[test]
    fn the_plan_of_a_packed_bundle_reads_back_without_unpacking() {
        let (_dir, root) = temp();
        let bundle = root.join("b");
        sample(&bundle);
        std::fs::write(bundle.join("plan.json"), b"{\"bundle_hash\": 7}").unwrap();
        pack(&bundle, &root.join("b.tar.zst")).unwrap();
        let err = packed_plan(&root.join("b.tar.zst"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("b.tar.zst/plan.json: not a valid plan.json"),
            "{err}"
        );
        std::fs::remove_file(bundle.join("plan.json")).unwrap();
        pack(&bundle, &root.join("c.tar.zst")).unwrap();
        assert!(matches!(
            packed_plan(&root.join("c.tar.zst")),
            Err(BundleError::NotABundle { .. })
        ));
    }

    #[test]
    fn pack_is_deterministic_and_round_trips() {
        let (_t, dir) = temp();
        let src = dir.join("src");
        sample(&src);
        let a = pack(&src, &dir.join("a.tar.zst")).unwrap();
        // Different mtimes and modes of non-executables do not matter.
        std::fs::set_permissions(src.join("a.txt"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        let b = pack(&src, &dir.join("b.tar.zst")).unwrap();
        assert_eq!(a, b);
        unpack(
            &dir.join("a.tar.zst"),
            &dir.join("out"),
            DEFAULT_UNPACK_LIMIT,
        )
        .unwrap();
        assert_eq!(std::fs::read(dir.join("out/b/c/d.bin")).unwrap(), [0, 1, 2]);
        let mode = std::fs::metadata(dir.join("out/run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    /// Writes a .tar.zst with one hand-made entry.
    fn archive_with(dir: &Utf8Path, name: &str, kind: tar::EntryType, body: &[u8]) -> Utf8PathBuf {
        let path = dir.join(format!("{}.tar.zst", kind.as_byte()));
        let file = std::fs::File::create(&path).unwrap();
        let mut enc = zstd::stream::Encoder::new(file, 1).unwrap();
        {
            let mut tar = tar::Builder::new(&mut enc);
            let mut h = tar::Header::new_gnu();
            // Write the name bytes directly: set_path refuses `..` and absolute paths.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_entry_type(kind);
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            if kind == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").unwrap();
            }
            h.set_cksum();
            tar.append(&h, body).unwrap();
            tar.finish().unwrap();
        }
        enc.finish().unwrap();
        path
    }

    #[test]
    fn unpack_refuses_unsafe_archives_and_writes_nothing() {
        let (_t, dir) = temp();
        let cases = [
            ("../evil.txt", tar::EntryType::Regular, "leaves the target"),
            (
                "/tmp/evil.txt",
                tar::EntryType::Regular,
                "leaves the target",
            ),
            ("link", tar::EntryType::Symlink, "only regular files"),
            ("dev", tar::EntryType::Char, "only regular files"),
        ];
        for (name, kind, needle) in cases {
            let archive = archive_with(&dir, name, kind, b"x");
            let target = dir.join("target");
            let err = unpack(&archive, &target, DEFAULT_UNPACK_LIMIT).unwrap_err();
            assert!(err.to_string().contains(needle), "{name}: {err}");
            assert!(!target.exists(), "{name}: target written");
        }
        assert!(!dir.join("evil.txt").exists() && !Utf8Path::new("/tmp/evil.txt").exists());
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with(".framelock"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_huge_long_name_record_is_refused_without_reading_it_all() {
        let (_t, dir) = temp();
        let path = dir.join("bomb.tar.zst");
        let file = std::fs::File::create(&path).unwrap();
        let mut enc = zstd::stream::Encoder::new(file, 3).unwrap();
        {
            let mut tar = tar::Builder::new(&mut enc);
            let mut h = tar::Header::new_gnu();
            h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
            h.set_entry_type(tar::EntryType::GNULongName);
            let size = 8u64 << 20;
            h.set_size(size);
            h.set_cksum();
            tar.append(&h, std::io::repeat(b'a').take(size)).unwrap();
            tar.finish().unwrap();
        }
        enc.finish().unwrap();
        let err = unpack(&path, &dir.join("out"), 1000).unwrap_err();
        assert!(err.to_string().contains("size limit"), "{err}");
        assert!(!dir.join("out").exists());
    }

    #[test]
    fn unpack_refuses_truncated_and_oversized_archives() {
        let (_t, dir) = temp();
        let src = dir.join("src");
        sample(&src);
        std::fs::write(src.join("big.bin"), vec![7u8; 100_000]).unwrap();
        let archive = dir.join("a.tar.zst");
        pack(&src, &archive).unwrap();
        let err = unpack(&archive, &dir.join("small"), 50_000).unwrap_err();
        assert!(err.to_string().contains("inflates past the limit"), "{err}");
        assert!(!dir.join("small").exists());

        let bytes = std::fs::read(&archive).unwrap();
        let cut = dir.join("cut.tar.zst");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = unpack(&cut, &dir.join("cut"), DEFAULT_UNPACK_LIMIT).unwrap_err();
        assert!(err.to_string().contains("corrupt or truncated"), "{err}");
        assert!(!dir.join("cut").exists());
    }
}
