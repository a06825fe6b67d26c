//! Reading a composition folder: its `index.html`, its `meta.json`, and the HyperFrames
//! attributes on the page's root element.
//!
//! A composition is a folder with an `index.html` that animates. Its size, frame rate and length
//! come from, in order: the command line, `meta.json`'s `renderConfig`, then the page itself
//! (the root element's `data-width`/`data-height`/`data-duration`; the duration may also come
//! from `window.__hf` or `window.__timelines`, which only the browser can read, so it stays
//! [`DurationSpec::FromPage`] until then). Every problem is reported with the file and the field.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;
use serde_json::Value;

use crate::html::Page;
use crate::timing::Fps;

/// The size HyperFrames uses when a composition root declares none.
const HYPERFRAMES_DEFAULT_SIZE: (u32, u32) = (1080, 1920);

/// Why a composition cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum CompositionError {
    /// The folder does not exist.
    #[error("{path}: composition folder not found")]
    MissingDir {
        /// The folder given.
        path: Utf8PathBuf,
    },
    /// The folder has no `index.html`.
    #[error("{path}: no index.html in the composition folder")]
    NoIndex {
        /// The folder given.
        path: Utf8PathBuf,
    },
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `meta.json` is not valid JSON, or not an object.
    #[error("{path}: not valid JSON: {source}")]
    MetaSyntax {
        /// The file.
        path: Utf8PathBuf,
        /// The parser's complaint, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A field of `meta.json` (or an option overriding it) has a value that cannot be used.
    #[error("{path}: field `{field}`: expected {expected}, found {found}")]
    Field {
        /// The file, or `command line` for an option.
        path: Utf8PathBuf,
        /// The field, dotted (`renderConfig.fps`).
        field: String,
        /// What would be accepted.
        expected: String,
        /// What was there.
        found: String,
    },
    /// Width or height is odd; yuv420p needs even sizes.
    #[error("{source_name}: {field} is {value}, but the encoder's yuv420p needs an even number")]
    OddSize {
        /// Where the value came from.
        source_name: String,
        /// `width` or `height`.
        field: &'static str,
        /// The odd value.
        value: u32,
    },
    /// Neither the command line, `meta.json` nor the page gives a size.
    #[error(
        "{path}: no {field}: set renderConfig.{field} in meta.json, data-{field} on the root element, or --{field}"
    )]
    NoSize {
        /// The index.html.
        path: Utf8PathBuf,
        /// `width` or `height`.
        field: &'static str,
    },
    /// The page uses a feature framelock does not render yet.
    #[error("{path}: not supported yet: {reason}")]
    Unsupported {
        /// The file that uses it.
        path: Utf8PathBuf,
        /// What and why.
        reason: String,
    },
}

/// How long the render is, as far as can be known before the browser starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DurationSpec {
    /// A length in seconds (`meta.json`, the root's `data-duration`, or `--duration`).
    Seconds(f64, DurationSource),
    /// An exact frame count (`--frame-count`).
    Frames(u64),
    /// Only the page knows (`window.__hf.duration`, `window.__timelines`).
    FromPage,
}

/// Where a duration was read from; recorded so a user can tell why a render has N frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DurationSource {
    /// `--duration` or `--frame-count`.
    CommandLine,
    /// `renderConfig.duration`.
    MetaJson,
    /// `data-duration` on the composition root.
    RootAttribute,
    /// `window.__hf.duration`.
    HfProtocol,
    /// The longest timeline in `window.__timelines`.
    Timelines,
}

/// Output container and codec of `renderConfig.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// MP4 with H.264 (and AAC).
    Mp4,
    /// WebM with VP9 (and Opus).
    Webm,
}

impl Format {
    /// The video codec it is encoded with.
    pub fn codec(self) -> crate::encode::Codec {
        match self {
            Format::Mp4 => crate::encode::Codec::H264,
            Format::Webm => crate::encode::Codec::Vp9,
        }
    }
}

/// The `renderConfig` keys framelock reads; the rest are kept in `extra` and ignored, so
/// HyperFrames' own files load unchanged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRenderConfig {
    fps: Option<Value>,
    width: Option<Value>,
    height: Option<Value>,
    duration: Option<Value>,
    format: Option<Value>,
    seed: Option<Value>,
    chunk_size: Option<Value>,
    variables: Option<Value>,
    #[serde(flatten)]
    _extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    name: Option<Value>,
    render_config: Option<RawRenderConfig>,
    unsupported: Option<Value>,
    #[serde(flatten)]
    _extra: BTreeMap<String, Value>,
}

/// What the static HTML says about the composition root.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RootAttributes {
    /// `data-composition-id`, when the page is in HyperFrames' format.
    pub composition_id: Option<String>,
    /// `data-width`.
    pub width: Option<String>,
    /// `data-height`.
    pub height: Option<String>,
    /// `data-duration`.
    pub duration: Option<String>,
    /// The `data-composition-src` of the first nested composition host, if any.
    pub nested_src: Option<String>,
}

/// Values given on the command line, which win over `meta.json` and the page.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Frame rate.
    pub fps: Option<Fps>,
    /// Width in CSS pixels.
    pub width: Option<u32>,
    /// Height in CSS pixels.
    pub height: Option<u32>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// Exact frame count.
    pub frame_count: Option<u64>,
}

/// A composition folder, read and validated, with its render settings resolved as far as
/// possible without a browser.
#[derive(Debug, Clone)]
pub struct Composition {
    /// The folder (absolute).
    pub dir: Utf8PathBuf,
    /// A short name for messages: `meta.json`'s `name`, else the folder name.
    pub name: String,
    /// Frame rate.
    pub fps: Fps,
    /// Width in CSS pixels (even).
    pub width: u32,
    /// Height in CSS pixels (even).
    pub height: u32,
    /// Length, or where it will come from.
    pub duration: DurationSpec,
    /// Seed of the page's random streams.
    pub seed: u64,
    /// `renderConfig.variables`, exposed to the page before its scripts run.
    pub variables: serde_json::Map<String, Value>,
    /// `renderConfig.chunkSize`, if given.
    pub chunk_size: Option<u64>,
    /// Output format.
    pub format: Format,
    /// `meta.json`'s `unsupported` reason: such a fixture is reported as skipped.
    pub unsupported: Option<String>,
}

impl Composition {
    /// Reads `dir`, applying `overrides` over `meta.json` and the page's root attributes.
    pub fn load(dir: &Utf8Path, overrides: &Overrides) -> Result<Composition, CompositionError> {
        if !dir.is_dir() {
            return Err(CompositionError::MissingDir {
                path: dir.to_owned(),
            });
        }
        let dir = dir
            .canonicalize_utf8()
            .map_err(|source| CompositionError::Read {
                path: dir.to_owned(),
                source,
            })?;
        let index = dir.join("index.html");
        if !index.is_file() {
            return Err(CompositionError::NoIndex { path: dir });
        }
        let html = std::fs::read_to_string(&index).map_err(|source| CompositionError::Read {
            path: index.clone(),
            source,
        })?;
        let root = RootAttributes::parse(&html);
        if let Some(src) = &root.nested_src {
            return Err(CompositionError::Unsupported {
                path: index,
                reason: format!(
                    "nested composition (data-composition-src=\"{src}\"); it would render wrongly, so it is refused"
                ),
            });
        }

        let meta_path = dir.join("meta.json");
        let meta = if meta_path.is_file() {
            read_meta(&meta_path)?
        } else {
            RawMeta::default()
        };
        let fields = MetaFields {
            path: &meta_path,
            render_config: meta.render_config.clone().unwrap_or_default(),
            meta: &meta,
        };
        let hf_default = root.composition_id.is_some();
        let size = |name, cli, meta: &Option<Value>, attr: &Option<String>, default| {
            resolve_size(
                name,
                cli,
                meta.as_ref(),
                attr.as_deref(),
                hf_default.then_some(default),
                &meta_path,
                &index,
            )
        };
        let rc = &fields.render_config;
        Ok(Composition {
            name: fields.name(&dir),
            fps: fields.fps(overrides)?,
            width: size(
                "width",
                overrides.width,
                &rc.width,
                &root.width,
                HYPERFRAMES_DEFAULT_SIZE.0,
            )?,
            height: size(
                "height",
                overrides.height,
                &rc.height,
                &root.height,
                HYPERFRAMES_DEFAULT_SIZE.1,
            )?,
            duration: fields.duration(overrides, &root, &index)?,
            seed: fields.seed()?,
            variables: fields.variables()?,
            chunk_size: fields.chunk_size()?,
            format: fields.format()?,
            unsupported: fields.unsupported()?,
            dir,
        })
    }

    /// The composition's `index.html`.
    pub fn index(&self) -> Utf8PathBuf {
        self.dir.join("index.html")
    }
}

/// The fields of a `meta.json`, each read with an error that names the file and the field.
struct MetaFields<'a> {
    path: &'a Utf8Path,
    render_config: RawRenderConfig,
    meta: &'a RawMeta,
}

impl MetaFields<'_> {
    fn field(&self, name: &str, expected: &str, found: &Value) -> CompositionError {
        CompositionError::Field {
            path: self.path.to_owned(),
            field: name.to_string(),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }

    /// `--fps`, else `renderConfig.fps`; there is no default.
    fn fps(&self, overrides: &Overrides) -> Result<Fps, CompositionError> {
        match (overrides.fps, &self.render_config.fps) {
            (Some(fps), _) => Ok(fps),
            (None, Some(v)) => parse_fps(v).ok_or_else(|| {
                self.field(
                    "renderConfig.fps",
                    "a positive number or a rational string such as \"30000/1001\"",
                    v,
                )
            }),
            (None, None) => Err(CompositionError::Field {
                path: self.path.to_owned(),
                field: "renderConfig.fps".into(),
                expected: "a frame rate (or pass --fps)".into(),
                found: "nothing".into(),
            }),
        }
    }

    /// The command line's length, else `renderConfig.duration`, else the root's
    /// `data-duration`, else the page's (known only in a browser).
    fn duration(
        &self,
        overrides: &Overrides,
        root: &RootAttributes,
        index: &Utf8Path,
    ) -> Result<DurationSpec, CompositionError> {
        if let Some(n) = overrides.frame_count {
            return Ok(DurationSpec::Frames(n));
        }
        if let Some(s) = overrides.duration {
            return Ok(DurationSpec::Seconds(s, DurationSource::CommandLine));
        }
        if let Some(v) = &self.render_config.duration {
            let s = positive_f64(v).ok_or_else(|| {
                self.field("renderConfig.duration", "a positive number of seconds", v)
            })?;
            return Ok(DurationSpec::Seconds(s, DurationSource::MetaJson));
        }
        let Some(text) = &root.duration else {
            return Ok(DurationSpec::FromPage);
        };
        // HyperFrames: an explicit root data-duration is the render length, whatever the
        // page's scripts say; read statically, no browser needed.
        let s =
            positive_f64(&Value::String(text.clone())).ok_or_else(|| CompositionError::Field {
                path: index.to_owned(),
                field: "data-duration".into(),
                expected: "a positive number of seconds".into(),
                found: format!("{text:?}"),
            })?;
        Ok(DurationSpec::Seconds(s, DurationSource::RootAttribute))
    }

    fn seed(&self) -> Result<u64, CompositionError> {
        match &self.render_config.seed {
            None => Ok(0),
            Some(v) => v
                .as_u64()
                .ok_or_else(|| self.field("renderConfig.seed", "a non-negative integer", v)),
        }
    }

    fn variables(&self) -> Result<serde_json::Map<String, Value>, CompositionError> {
        match &self.render_config.variables {
            None => Ok(serde_json::Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(v) => Err(self.field("renderConfig.variables", "an object", v)),
        }
    }

    fn chunk_size(&self) -> Result<Option<u64>, CompositionError> {
        match &self.render_config.chunk_size {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| self.field("renderConfig.chunkSize", "a positive integer", v)),
        }
    }

    fn format(&self) -> Result<Format, CompositionError> {
        match &self.render_config.format {
            None => Ok(Format::Mp4),
            Some(Value::String(s)) if s == "mp4" => Ok(Format::Mp4),
            Some(Value::String(s)) if s == "webm" => Ok(Format::Webm),
            Some(v) => Err(self.field("renderConfig.format", "\"mp4\" or \"webm\"", v)),
        }
    }

    fn unsupported(&self) -> Result<Option<String>, CompositionError> {
        match &self.meta.unsupported {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.field("unsupported", "a reason string", v)),
        }
    }

    /// `name`, else the folder's name.
    fn name(&self, dir: &Utf8Path) -> String {
        match &self.meta.name {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => dir.file_name().unwrap_or("composition").to_string(),
        }
    }
}

fn read_meta(path: &Utf8Path) -> Result<RawMeta, CompositionError> {
    let text = std::fs::read_to_string(path).map_err(|source| CompositionError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| CompositionError::MetaSyntax {
        path: path.to_owned(),
        source,
    })
}

fn parse_fps(v: &Value) -> Option<Fps> {
    match v {
        Value::Number(n) => Fps::from_decimal(n.as_f64()?),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn positive_f64(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (x.is_finite() && x > 0.0).then_some(x)
}

fn resolve_size(
    name: &'static str,
    cli: Option<u32>,
    meta: Option<&Value>,
    attr: Option<&str>,
    default: Option<u32>,
    meta_path: &Utf8Path,
    index: &Utf8Path,
) -> Result<u32, CompositionError> {
    let (value, source_name) = if let Some(v) = cli {
        (v, format!("--{name}"))
    } else if let Some(v) = meta {
        let n = v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=16384).contains(n))
            .ok_or_else(|| CompositionError::Field {
                path: meta_path.to_owned(),
                field: format!("renderConfig.{name}"),
                expected: "a positive integer number of pixels (at most 16384)".into(),
                found: v.to_string(),
            })?;
        (n, format!("{meta_path}: renderConfig.{name}"))
    } else if let Some(text) = attr {
        let n = text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=16384).contains(n))
            .ok_or_else(|| CompositionError::Field {
                path: index.to_owned(),
                field: format!("data-{name}"),
                expected: "a positive integer number of pixels (at most 16384)".into(),
                found: format!("{text:?}"),
            })?;
        (n, format!("{index}: data-{name}"))
    } else if let Some(v) = default {
        (v, format!("{index}: HyperFrames default {name}"))
    } else {
        return Err(CompositionError::NoSize {
            path: index.to_owned(),
            field: name,
        });
    };
    if value == 0 {
        return Err(CompositionError::Field {
            path: meta_path.to_owned(),
            field: name.into(),
            expected: "a positive number of pixels".into(),
            found: "0".into(),
        });
    }
    if value % 2 == 1 {
        return Err(CompositionError::OddSize {
            source_name,
            field: name,
            value,
        });
    }
    Ok(value)
}

impl RootAttributes {
    /// Reads the composition root (the element with `data-root="true"`, else the first with
    /// `data-composition-id`, as HyperFrames does) and looks for nested composition hosts.
    pub fn parse(html: &str) -> RootAttributes {
        let page = Page::parse(html);
        let find = |test: &dyn Fn(&BTreeMap<String, String>) -> bool| {
            page.start_tags().map(|(_, a)| a).find(|a| test(a))
        };
        let mut out = RootAttributes::default();
        let root = find(&|a| a.get("data-root").is_some_and(|v| v == "true"))
            .or_else(|| find(&|a| a.contains_key("data-composition-id")));
        if let Some(root) = root {
            out.composition_id = root.get("data-composition-id").cloned();
            out.width = root.get("data-width").cloned();
            out.height = root.get("data-height").cloned();
            out.duration = root.get("data-duration").cloned();
        }
        if let Some(host) = find(&|a| a.contains_key("data-composition-src")) {
            out.nested_src = host.get("data-composition-src").cloned();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Utf8Path, html: &str, meta: Option<&str>) {
        std::fs::write(dir.join("index.html"), html).unwrap();
        if let Some(meta) = meta {
            std::fs::write(dir.join("meta.json"), meta).unwrap();
        }
    }

    fn temp() -> (tempfile::TempDir, Utf8PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let p = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).unwrap();
        (t, p)
    }

    #[test]
    fn reads_hyperframes_root_attributes() {
        let html = r#"<html><body><div id="r" data-composition-id="main" data-width="320"
            data-height="180" data-start="0" data-duration="2.5"><div class="clip"></div></div>
            </body></html>"#;
        let root = RootAttributes::parse(html);
        assert_eq!(root.composition_id.as_deref(), Some("main"));
        assert_eq!(root.width.as_deref(), Some("320"));
        assert_eq!(root.duration.as_deref(), Some("2.5"));
        assert_eq!(root.nested_src, None);
    }

    #[test]
    fn meta_overrides_page_and_cli_overrides_meta() {
        let (_t, dir) = temp();
        write(
            &dir,
            r#"<div data-composition-id="m" data-width="640" data-height="360"></div>"#,
            Some(r#"{"renderConfig": {"fps": 24, "width": 320, "duration": 2, "futureKey": 1}}"#),
        );
        let c = Composition::load(&dir, &Overrides::default()).unwrap();
        assert_eq!(
            (c.width, c.height, c.fps.to_string()),
            (320, 360, "24".into())
        );
        assert_eq!(
            c.duration,
            DurationSpec::Seconds(2.0, DurationSource::MetaJson)
        );
        let o = Overrides {
            width: Some(100),
            frame_count: Some(7),
            ..Overrides::default()
        };
        let c = Composition::load(&dir, &o).unwrap();
        assert_eq!(c.width, 100);
        assert_eq!(c.duration, DurationSpec::Frames(7));
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let (_t, dir) = temp();
        let cases = [
            (
                r#"{"renderConfig": {"fps": "fast", "width": 320, "height": 180}}"#,
                "renderConfig.fps",
            ),
            (
                r#"{"renderConfig": {"fps": 0, "width": 320, "height": 180}}"#,
                "renderConfig.fps",
            ),
            (
                r#"{"renderConfig": {"fps": 30, "width": -2, "height": 180}}"#,
                "renderConfig.width",
            ),
            (
                r#"{"renderConfig": {"fps": 30, "width": 320, "height": 180, "duration": -1}}"#,
                "renderConfig.duration",
            ),
            (
                r#"{"renderConfig": {"fps": 30, "width": 320, "height": 180, "format": "gif"}}"#,
                "renderConfig.format",
            ),
            (
                r#"{"renderConfig": {"fps": 30, "width": 321, "height": 180}}"#,
                "width is 321",
            ),
            (
                r#"{"renderConfig": {"fps": 30, "height": 180}}"#,
                "no width",
            ),
            (r#"{"renderConfig": {"fps": 30, "#, "not valid JSON"),
        ];
        for (meta, needle) in cases {
            write(&dir, "<p>hi</p>", Some(meta));
            let err = Composition::load(&dir, &Overrides::default()).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(needle), "{meta}: {msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
    }

    #[test]
    fn refuses_missing_folder_index_and_nested_compositions() {
        let (_t, dir) = temp();
        let missing = dir.join("nope");
        assert!(matches!(
            Composition::load(&missing, &Overrides::default()),
            Err(CompositionError::MissingDir { .. })
        ));
        assert!(matches!(
            Composition::load(&dir, &Overrides::default()),
            Err(CompositionError::NoIndex { .. })
        ));
        write(
            &dir,
            r#"<div data-composition-id="a" data-width="2" data-height="2"><div data-composition-src="c.html"></div></div>"#,
            Some(r#"{"renderConfig": {"fps": 30}}"#),
        );
        let err = Composition::load(&dir, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("nested composition"), "{err}");
    }
}
