//! Finding the `<video>` and `<audio>` elements of a page and their HyperFrames timing, read
//! statically from the HTML as the runtime reads it at each frame.
//!
//! The convention (HyperFrames'): `data-start` (seconds, or `id`, `id + x`, `id - x`: relative to
//! the end of the element `id`), `data-duration` (seconds; else `data-end`, else to the end of
//! the source), `data-media-start` (seconds into the source, default 0), `data-playback-rate`
//! (default 1), `data-volume` (default 1), the `loop` attribute, and `data-has-audio="true"` on a
//! video whose sound belongs in the mix. `<audio>` elements are always mixed.

use std::collections::{BTreeMap, HashMap};

use camino::{Utf8Path, Utf8PathBuf};

use super::MediaError;
use crate::html::{Page, Tag};
use crate::urlpath::local_file;

/// Video or audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaKind {
    /// `<video>`.
    Video,
    /// `<audio>`.
    Audio,
}

/// Where and how a media element plays: the timing its frames and its sound both follow.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Clip {
    /// Its `id`, if it has one.
    pub id: Option<String>,
    /// Its place among the page's elements of its kind, from 0.
    pub index: usize,
    /// The source file, relative to the composition root.
    pub source: Utf8PathBuf,
    /// `data-start`, resolved to seconds.
    pub start: f64,
    /// `data-duration` (or `data-end` − start) in seconds; `None`: to the end of the source.
    pub duration: Option<f64>,
    /// `data-media-start`: seconds into the source.
    pub media_start: f64,
    /// `data-playback-rate`.
    pub playback_rate: f64,
    /// The `loop` attribute.
    pub looped: bool,
}

/// One media element as the page declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaElement {
    /// Video or audio.
    pub kind: MediaKind,
    /// Its timing.
    pub clip: Clip,
    /// `data-volume`.
    pub volume: f64,
    /// Whether its sound is mixed: always for `<audio>`, `data-has-audio="true"` for `<video>`.
    pub has_audio: bool,
}

impl MediaElement {
    /// How errors name it: `<video id="intro">`, or `<audio> #2` without an id.
    pub fn describe(&self) -> String {
        let tag = match self.kind {
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        };
        match &self.clip.id {
            Some(id) => format!("<{tag} id=\"{id}\">"),
            None => format!("<{tag}> #{}", self.clip.index + 1),
        }
    }

    /// A name for its folder of frames: the id when it is a plain name, else `video-<n>`.
    pub fn key(&self) -> String {
        match &self.clip.id {
            Some(id)
                if !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                id.clone()
            }
            _ => format!("video-{}", self.clip.index),
        }
    }
}

/// A tag's attributes, by lower-case name.
type Attributes = BTreeMap<String, String>;

/// Every `<video>` and `<audio>` element of `html` (the page `page`, relative to the composition
/// root), in document order.
pub fn media_elements(page: &Utf8Path, html: &str) -> Result<Vec<MediaElement>, MediaError> {
    let parsed = Page::parse(html);
    // Every element with an id, for relative starts.
    let mut by_id: HashMap<String, Attributes> = HashMap::new();
    // (kind, attributes, src or the first <source src> inside it)
    let mut media: Vec<(MediaKind, Attributes, Option<String>)> = Vec::new();
    let mut open_media = false;
    for tag in &parsed.tags {
        match tag {
            Tag::Start { name, attributes } => {
                for key in ["id", "data-composition-id"] {
                    if let Some(id) = attributes.get(key) {
                        by_id
                            .entry(id.clone())
                            .or_insert_with(|| attributes.clone());
                    }
                }
                let kind = match name.as_str() {
                    "video" => MediaKind::Video,
                    "audio" => MediaKind::Audio,
                    "source" if open_media => {
                        if let Some((_, _, src @ None)) = media.last_mut() {
                            *src = attributes.get("src").cloned();
                        }
                        continue;
                    }
                    _ => continue,
                };
                open_media = true;
                media.push((kind, attributes.clone(), attributes.get("src").cloned()));
            }
            Tag::End { name } => {
                if name == "video" || name == "audio" {
                    open_media = false;
                }
            }
        }
    }
    let timing = Timing { by_id: &by_id };
    let mut counts = [0usize; 2];
    let mut out = Vec::new();
    for (kind, attrs, source) in media {
        let index = &mut counts[kind as usize];
        let mut element = MediaElement {
            kind,
            clip: Clip {
                id: attrs.get("id").cloned(),
                index: *index,
                source: Utf8PathBuf::new(),
                start: timing.start(&attrs, 0),
                duration: timing.duration(&attrs),
                media_start: 0.0,
                playback_rate: 1.0,
                looped: attrs.contains_key("loop"),
            },
            volume: 1.0,
            has_audio: kind == MediaKind::Audio
                || attrs.get("data-has-audio").is_some_and(|v| v == "true"),
        };
        *index += 1;
        let described = element.describe();
        let number =
            |name: &str, default: f64, ok: fn(f64) -> bool, expected: &str| match attrs.get(name) {
                None => Ok(default),
                Some(text) => match text.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() && ok(v) => Ok(v),
                    _ => Err(MediaError::BadAttribute {
                        page: page.to_owned(),
                        element: described.clone(),
                        attribute: name.to_string(),
                        expected: expected.to_string(),
                        found: text.clone(),
                    }),
                },
            };
        element.clip.media_start = number(
            "data-media-start",
            0.0,
            |v| v >= 0.0,
            "seconds into the source, 0 or more",
        )?;
        element.clip.playback_rate = number(
            "data-playback-rate",
            1.0,
            |v| (0.5..=4.0).contains(&v),
            "a rate from 0.5 to 4",
        )?;
        element.volume = number("data-volume", 1.0, |v| v >= 0.0, "a volume, 0 or more")?;
        if let Some(d) = attrs.get("data-duration") {
            number(
                "data-duration",
                0.0,
                |v| v > 0.0,
                "a positive number of seconds",
            )?;
            element.clip.duration = d.trim().parse().ok();
        }
        let written = source.ok_or_else(|| MediaError::NoSource {
            page: page.to_owned(),
            element: element.describe(),
        })?;
        element.clip.source = local_file(page, &written).ok_or_else(|| MediaError::NotLocal {
            page: page.to_owned(),
            element: element.describe(),
            src: written.clone(),
        })?;
        out.push(element);
    }
    Ok(out)
}

/// HyperFrames' start and duration rules over a page's elements.
struct Timing<'a> {
    by_id: &'a HashMap<String, Attributes>,
}

impl Timing<'_> {
    /// `data-start` in seconds: a number; else an id (the end of that element), or `id + x`,
    /// `id - x`; 0 when absent or unresolvable, as the runtime does.
    fn start(&self, attrs: &Attributes, depth: usize) -> f64 {
        if depth > 64 {
            return 0.0;
        }
        let text = attrs.get("data-start").map_or("0", |s| s.trim());
        if let Some(n) = text.parse::<f64>().ok().filter(|n| n.is_finite()) {
            return n;
        }
        let plain_id = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
        };
        let amount = |s: &str| {
            let digits = |d: &str| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit());
            match s.split_once('.') {
                Some((a, b)) => digits(a) && digits(b),
                None => digits(s),
            }
        };
        // As the runtime reads it: a whole text that can be an id is one; else `id ± x`.
        let (id, offset) = if plain_id(text) {
            (text, 0.0)
        } else {
            match text.rfind(['+', '-']) {
                Some(i) if plain_id(text[..i].trim()) && amount(text[i + 1..].trim()) => {
                    let x: f64 = text[i + 1..].trim().parse().unwrap_or(0.0);
                    let sign = if text[i..].starts_with('-') {
                        -1.0
                    } else {
                        1.0
                    };
                    (text[..i].trim(), sign * x)
                }
                _ => return 0.0,
            }
        };
        match self.by_id.get(id) {
            Some(target) => {
                let end = self.start(target, depth + 1) + self.duration(target).unwrap_or(0.0);
                (end + offset).max(0.0)
            }
            None => 0.0,
        }
    }

    /// `data-duration`, else `data-end` − start; `None` when neither is given.
    fn duration(&self, attrs: &Attributes) -> Option<f64> {
        if let Some(d) = attrs
            .get("data-duration")
            .and_then(|d| d.trim().parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0)
        {
            return Some(d);
        }
        let end = attrs.get("data-end")?.trim().parse::<f64>().ok()?;
        Some((end - self.start(attrs, 0)).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> &'static Utf8Path {
        Utf8Path::new("index.html")
    }

    #[test]
    fn reads_hyperframes_media_attributes_and_relative_starts() {
        let html = r#"<div data-composition-id="main" data-start="0" data-duration="6">
            <div id="title" data-start="0.5" data-duration="1.25"></div>
            <video id="a" src="clips/a.mp4" data-start="title + 0.25" data-duration="2"
                   data-media-start="1.5" data-playback-rate="2" muted></video>
            <video data-start="a" loop data-has-audio="true" data-volume="0.5">
                <source src="./clips/b.webm" type="video/webm"></video>
            <audio id="music" src="sound/tone.wav" data-start="title - 0.5" data-end="5"></audio>
        </div>"#;
        let media = media_elements(page(), html).unwrap();
        assert_eq!(media.len(), 3);
        let a = &media[0];
        assert_eq!(
            (a.kind, a.key(), a.clip.source.as_str()),
            (MediaKind::Video, "a".into(), "clips/a.mp4")
        );
        assert_eq!(
            (
                a.clip.start,
                a.clip.duration,
                a.clip.media_start,
                a.clip.playback_rate
            ),
            (2.0, Some(2.0), 1.5, 2.0)
        );
        assert!(!a.clip.looped && !a.has_audio);
        let b = &media[1];
        assert_eq!(
            (b.key(), b.describe()),
            ("video-1".into(), "<video> #2".into())
        );
        assert_eq!(
            (b.clip.source.as_str(), b.clip.start, b.clip.duration),
            ("clips/b.webm", 4.0, None)
        );
        assert_eq!((b.clip.looped, b.has_audio, b.volume), (true, true, 0.5));
        let music = &media[2];
        assert_eq!(
            (music.kind, music.clip.start, music.clip.duration),
            (MediaKind::Audio, 1.25, Some(3.75))
        );
        assert!(music.has_audio);
    }

    #[test]
    fn bad_media_attributes_name_the_element_and_attribute() {
        let bad = |html: &str| media_elements(page(), html).unwrap_err().to_string();
        let e = bad(r#"<video id="v" src="a.mp4" data-playback-rate="fast"></video>"#);
        assert!(
            e.contains("<video id=\"v\">") && e.contains("data-playback-rate"),
            "{e}"
        );
        let e = bad(r#"<audio></audio>"#);
        assert!(e.contains("<audio> #1") && e.contains("no src"), "{e}");
        let e = bad(r#"<video src="https://example.invalid/a.mp4"></video>"#);
        assert!(e.contains("not a file of the composition"), "{e}");
    }
}
