//! How a reference written in a page names a file of the composition: URLs with a scheme are
//! not files, `%XX` escapes are decoded, and the path is resolved against the page's folder,
//! never above the composition root. Planning, the media reader and the network fence all
//! read references this one way.

use camino::{Utf8Path, Utf8PathBuf};

/// The path part of a local reference; `None` for URLs with a scheme, protocol-relative URLs,
/// fragments and template placeholders.
pub fn local_path(written: &str) -> Option<String> {
    let w = written.trim();
    if w.is_empty() || w.starts_with('#') || w.starts_with("//") || w.contains("${") {
        return None;
    }
    let scheme = w.split_once(':').map(|(s, _)| s);
    if scheme.is_some_and(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    }) {
        return None;
    }
    let path = w.split(['?', '#']).next().unwrap_or_default();
    // A malformed escape is kept as written: the check then reports it as missing.
    (!path.is_empty()).then(|| percent_decode(path).unwrap_or_else(|| path.to_string()))
}

/// The file a `src` written in the page at `from` (relative to the composition root) names,
/// relative to the root; `None` when it is not a local file (a URL with a scheme) or leaves the
/// root.
pub fn local_file(from: &Utf8Path, written: &str) -> Option<Utf8PathBuf> {
    let base = from.parent().unwrap_or(Utf8Path::new(""));
    resolve(base, &local_path(written)?)
}

/// Decodes `%XX` escapes of a URL path; `None` for a malformed escape or non-UTF-8 result
/// (the browser would not find such a file either).
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Joins a reference to its file's folder; `None` when it climbs above the root.
pub fn resolve(base: &Utf8Path, path: &str) -> Option<Utf8PathBuf> {
    let mut parts: Vec<&str> = if path.starts_with('/') {
        Vec::new()
    } else {
        base.components().map(|c| c.as_str()).collect()
    };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/").into())
}
