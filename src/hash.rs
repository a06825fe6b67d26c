//! Content hashes: blake3 digests as validated newtypes.
//!
//! Everything framelock identifies by content (bundle files, the bundle itself, store blobs,
//! frames) uses blake3, shown as 64 lowercase hex digits.

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

/// A blake3 digest, as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContentHash(String);

/// Text that is not a blake3 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 lowercase hex digits (a blake3 hash), found {found:?}")]
pub struct HashParseError {
    /// What was given.
    pub found: String,
}

impl ContentHash {
    /// The hash of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> ContentHash {
        ContentHash(blake3::hash(bytes).to_hex().to_string())
    }

    /// The hash of `bytes` after a domain tag, so hashes of different kinds of things never
    /// collide by construction.
    pub fn of_tagged(tag: &str, bytes: &[u8]) -> ContentHash {
        let mut h = blake3::Hasher::new();
        h.update(tag.as_bytes());
        h.update(b"\0");
        h.update(bytes);
        ContentHash(h.finalize().to_hex().to_string())
    }

    /// The hash of everything `reader` yields.
    pub fn of_reader(reader: impl Read) -> std::io::Result<ContentHash> {
        let mut h = blake3::Hasher::new();
        h.update_reader(reader)?;
        Ok(ContentHash(h.finalize().to_hex().to_string()))
    }

    /// The hash of a file's contents.
    pub fn of_file(path: &Utf8Path) -> std::io::Result<ContentHash> {
        ContentHash::of_reader(std::fs::File::open(path)?)
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first hex digits, for display.
    pub fn short(&self) -> &str {
        short(&self.0)
    }
}

impl FromStr for ContentHash {
    type Err = HashParseError;

    fn from_str(s: &str) -> Result<ContentHash, HashParseError> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(ContentHash(s.to_string()))
        } else {
            Err(HashParseError {
                found: s.to_string(),
            })
        }
    }
}

impl TryFrom<String> for ContentHash {
    type Error = HashParseError;

    fn try_from(s: String) -> Result<ContentHash, HashParseError> {
        s.parse()
    }
}

impl From<ContentHash> for String {
    fn from(h: ContentHash) -> String {
        h.0
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The first 12 characters of a hash as people are shown it (a fingerprint kept as text, say),
/// or the whole of a shorter text.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The identity of a bundle: blake3 over a domain tag and the canonical JSON of its manifest.
/// It names *what is rendered*, never the toolchain or how the work is cut.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BundleHash(pub ContentHash);

impl BundleHash {
    /// The first hex digits, for display.
    pub fn short(&self) -> &str {
        self.0.short()
    }
}

impl fmt::Display for BundleHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for BundleHash {
    type Err = HashParseError;

    fn from_str(s: &str) -> Result<BundleHash, HashParseError> {
        s.parse().map(BundleHash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_blake3_hex() {
        let h = ContentHash::of_bytes(b"x");
        assert_eq!(h.as_str().parse::<ContentHash>().unwrap(), h);
        assert!("ABC".parse::<ContentHash>().is_err());
        assert!(h.as_str().to_uppercase().parse::<ContentHash>().is_err());
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<ContentHash>(&json).unwrap(), h);
        assert!(serde_json::from_str::<ContentHash>("\"zz\"").is_err());
        assert_ne!(
            ContentHash::of_tagged("a", b"x"),
            ContentHash::of_tagged("b", b"x")
        );
    }
}
