//! `meta.json`: the keys framelock reads (the rest kept aside and ignored, so HyperFrames' own
//! files load unchanged), each read with an error that names the file and the field, and the
//! size of a composition from the command line, `meta.json`, the root or HyperFrames' default.

use std::collections::BTreeMap;

use camino::Utf8Path;
use serde::Deserialize;
use serde_json::Value;

use super::error::CompositionError;
use super::root::RootAttributes;
use super::settings::{DurationSource, DurationSpec, Format, Overrides};
use crate::timing::Fps;

/// The frame rate of a composition that names none (HyperFrames' default).
const DEFAULT_FPS: Fps = Fps::integer(30);

/// What a frame rate may be written as.
const FPS_EXPECTED: &str = "a positive number or a rational string such as \"30000/1001\"";

/// The `renderConfig` keys framelock reads; the rest are kept in `extra` and ignored, so
/// HyperFrames' own files load unchanged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawRenderConfig {
    pub(super) fps: Option<Value>,
    pub(super) width: Option<Value>,
    pub(super) height: Option<Value>,
    pub(super) duration: Option<Value>,
    pub(super) format: Option<Value>,
    pub(super) seed: Option<Value>,
    pub(super) chunk_size: Option<Value>,
    pub(super) variables: Option<Value>,
    #[serde(flatten)]
    _extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawMeta {
    pub(super) name: Option<Value>,
    pub(super) render_config: Option<RawRenderConfig>,
    pub(super) unsupported: Option<Value>,
    #[serde(flatten)]
    _extra: BTreeMap<String, Value>,
}

/// The fields of a `meta.json`, each read with an error that names the file and the field.
pub(super) struct MetaFields<'a> {
    pub(super) path: &'a Utf8Path,
    pub(super) render_config: RawRenderConfig,
    pub(super) meta: &'a RawMeta,
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

    /// `--fps`, else `renderConfig.fps`, else the root's `data-fps`, else 30 (HyperFrames'
    /// default, for every composition).
    pub(super) fn fps(
        &self,
        overrides: &Overrides,
        root: &RootAttributes,
        index: &Utf8Path,
    ) -> Result<Fps, CompositionError> {
        if let Some(fps) = overrides.fps {
            return Ok(fps);
        }
        if let Some(v) = &self.render_config.fps {
            return parse_fps(v).ok_or_else(|| self.field("renderConfig.fps", FPS_EXPECTED, v));
        }
        match &root.fps {
            Some(text) => text.trim().parse().map_err(|_| CompositionError::Field {
                path: index.to_owned(),
                field: "data-fps".into(),
                expected: FPS_EXPECTED.into(),
                found: format!("{text:?}"),
            }),
            None => Ok(DEFAULT_FPS),
        }
    }

    /// The command line's length, else `renderConfig.duration`, else the root's
    /// `data-duration`, else the page's (known only in a browser).
    pub(super) fn duration(
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

    pub(super) fn seed(&self) -> Result<u64, CompositionError> {
        match &self.render_config.seed {
            None => Ok(0),
            Some(v) => v
                .as_u64()
                .ok_or_else(|| self.field("renderConfig.seed", "a non-negative integer", v)),
        }
    }

    pub(super) fn variables(&self) -> Result<serde_json::Map<String, Value>, CompositionError> {
        match &self.render_config.variables {
            None => Ok(serde_json::Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(v) => Err(self.field("renderConfig.variables", "an object", v)),
        }
    }

    pub(super) fn chunk_size(&self) -> Result<Option<u64>, CompositionError> {
        match &self.render_config.chunk_size {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| self.field("renderConfig.chunkSize", "a positive integer", v)),
        }
    }

    pub(super) fn format(&self) -> Result<Format, CompositionError> {
        match &self.render_config.format {
            None => Ok(Format::Mp4),
            Some(Value::String(s)) if s == "mp4" => Ok(Format::Mp4),
            Some(Value::String(s)) if s == "webm" => Ok(Format::Webm),
            Some(v) => Err(self.field("renderConfig.format", "\"mp4\" or \"webm\"", v)),
        }
    }

    pub(super) fn unsupported(&self) -> Result<Option<String>, CompositionError> {
        match &self.meta.unsupported {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.field("unsupported", "a reason string", v)),
        }
    }

    /// `name`, else the folder's name.
    pub(super) fn name(&self, dir: &Utf8Path) -> String {
        match &self.meta.name {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => dir.file_name().unwrap_or("composition").to_string(),
        }
    }
}

pub(super) fn read_meta(path: &Utf8Path) -> Result<RawMeta, CompositionError> {
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

pub(super) fn resolve_size(
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
