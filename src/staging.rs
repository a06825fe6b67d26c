//! Staging outputs beside their targets, so they appear whole or not at all.
//!
//! Every folder or file framelock publishes (a video, a bundle, an unpacked archive) is built in
//! a temporary sibling of its target and renamed into place at the end: the rename stays on one
//! filesystem, and an error, a panic or Ctrl-C drops the temporary and leaves nothing.

use camino::{Utf8Path, Utf8PathBuf};

/// A temporary folder under the system's temporary folder (for archives opened by a command,
/// renders kept only while it runs), removed when the guard drops; and its path.
pub fn scratch_dir() -> std::io::Result<(tempfile::TempDir, Utf8PathBuf)> {
    let dir = tempfile::tempdir()?;
    let path = Utf8PathBuf::from_path_buf(dir.path().to_owned())
        .map_err(|_| std::io::Error::other("temporary folder path is not UTF-8"))?;
    Ok((dir, path))
}

/// The folder `target` will live in (`.` for a bare name).
fn parent_of(target: &Utf8Path) -> Utf8PathBuf {
    match target.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_owned(),
        _ => Utf8PathBuf::from("."),
    }
}

/// A temporary folder beside `target`, named `.framelock-<what>-…`, and its path.
pub fn dir_beside(
    target: &Utf8Path,
    what: &str,
) -> std::io::Result<(tempfile::TempDir, Utf8PathBuf)> {
    let dir = tempfile::Builder::new()
        .prefix(&format!(".framelock-{what}-"))
        .tempdir_in(parent_of(target))?;
    let path = Utf8Path::from_path(dir.path())
        .ok_or_else(|| std::io::Error::other("temporary folder path is not UTF-8"))?
        .to_owned();
    Ok((dir, path))
}

/// A temporary file beside `target`, named `.framelock-<what>-…`, readable by everyone like
/// any file framelock publishes (temporary files start private).
pub fn file_beside(target: &Utf8Path, what: &str) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let file = tempfile::Builder::new()
        .prefix(&format!(".framelock-{what}-"))
        .tempfile_in(parent_of(target))?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    Ok(file)
}

/// Writes `bytes` to `target` through a temporary file beside it: the old file, if any, stays
/// whole until the new one replaces it.
pub fn write_file(target: &Utf8Path, what: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut temp = file_beside(target, what)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

/// Moves a staged folder into place; on failure the staged copy is removed.
pub fn publish_dir(staged: tempfile::TempDir, target: &Utf8Path) -> std::io::Result<()> {
    let kept = staged.keep();
    std::fs::rename(&kept, target).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&kept);
    })
}
