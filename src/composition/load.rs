//! Reading a composition folder into a [`Composition`]: its `index.html`, its `meta.json` and
//! its root's attributes, with the command line over both.

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

use super::error::CompositionError;
use super::meta::{MetaFields, RawMeta, read_meta, resolve_size};
use super::root::RootAttributes;
use super::settings::{DurationSpec, Format, Overrides};
use crate::timing::Fps;

/// The size HyperFrames uses when a composition root declares none.
const HYPERFRAMES_DEFAULT_SIZE: (u32, u32) = (1080, 1920);

/// A composition folder, read and validated, with its render settings resolved as far as
/// possible without a browser.
#[derive(Debug, Clone)]
pub struct Composition {
    /// The page's folder (absolute): the folder given, or its `src/` in HyperFrames' fixture
    /// layout.
    pub dir: Utf8PathBuf,
    /// Whether the page is in HyperFrames' format (a root with `data-composition-id`), whose
    /// rules then apply (its frame count).
    pub hyperframes: bool,
    /// Whether planning compiles the page as HyperFrames does (`compile`): a HyperFrames page
    /// not asked to be rendered as written.
    pub compile: bool,
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

/// Where a composition folder's page is: the folder itself when it has an `index.html`, its
/// `src/` in HyperFrames' fixture layout (a `meta.json` beside `src/index.html`); `None` when
/// neither. The one rule for what a composition folder is, for loading and for finding fixtures.
pub fn page_folder(dir: &Utf8Path) -> Option<Utf8PathBuf> {
    if dir.join("index.html").is_file() {
        return Some(dir.to_owned());
    }
    let src = dir.join("src");
    (src.join("index.html").is_file() && dir.join("meta.json").is_file()).then_some(src)
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
        let meta_path = dir.join("meta.json");
        let Some(page_dir) = page_folder(&dir) else {
            return Err(CompositionError::NoIndex { path: dir });
        };
        let index = page_dir.join("index.html");
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
            fps: fields.fps(overrides, &root, &index)?,
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
            hyperframes: hf_default,
            compile: hf_default && !overrides.as_written,
            dir: page_dir,
        })
    }

    /// The composition's `index.html`.
    pub fn index(&self) -> Utf8PathBuf {
        self.dir.join("index.html")
    }

    /// How many frames `seconds` cover: `round(seconds × fps)`, or for a HyperFrames page as
    /// HyperFrames counts them (rounded up unless within a thousandth of a whole frame).
    pub fn frames_in(&self, seconds: f64) -> u64 {
        if self.hyperframes {
            self.fps.frames_covering(seconds)
        } else {
            self.fps.frames_in(seconds)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composition::DurationSource;

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
    fn reads_hyperframes_fixture_layout() {
        let (_t, dir) = temp();
        std::fs::create_dir(dir.join("src")).unwrap();
        write(
            &dir.join("src"),
            r#"<div data-composition-id="m" data-width="640" data-height="360" data-duration="1.01"></div>"#,
            None,
        );
        std::fs::write(
            dir.join("meta.json"),
            r#"{"name": "layout", "renderConfig": {"fps": 30}}"#,
        )
        .unwrap();
        let c = Composition::load(&dir, &Overrides::default()).unwrap();
        assert_eq!(c.dir, dir.canonicalize_utf8().unwrap().join("src"));
        assert_eq!((c.name.as_str(), c.width, c.height), ("layout", 640, 360));
        assert!(c.hyperframes);
        // 1.01 s at 30 fps is 30.3 frames: HyperFrames renders the partial 31st.
        assert_eq!(c.frames_in(1.01), 31);
        // Without meta.json beside it, src/ is not a composition of this folder.
        std::fs::remove_file(dir.join("meta.json")).unwrap();
        assert!(matches!(
            Composition::load(&dir, &Overrides::default()),
            Err(CompositionError::NoIndex { .. })
        ));
    }

    #[test]
    fn frame_rate_from_cli_meta_root_else_30() {
        let (_t, dir) = temp();
        let page = |fps: &str| {
            format!(r#"<div data-composition-id="m" data-width="2" data-height="2"{fps}></div>"#)
        };
        let fps = |o: &Overrides| Composition::load(&dir, o).map(|c| c.fps.to_string());
        write(&dir, &page(""), None);
        assert_eq!(fps(&Overrides::default()).unwrap(), "30");
        write(&dir, &page(r#" data-fps="24""#), None);
        assert_eq!(fps(&Overrides::default()).unwrap(), "24");
        write(
            &dir,
            &page(r#" data-fps="24""#),
            Some(r#"{"renderConfig": {"fps": "30000/1001"}}"#),
        );
        assert_eq!(fps(&Overrides::default()).unwrap(), "30000/1001");
        let cli = Overrides {
            fps: Some(Fps::integer(60)),
            ..Overrides::default()
        };
        assert_eq!(fps(&cli).unwrap(), "60");
        std::fs::remove_file(dir.join("meta.json")).unwrap();
        write(&dir, &page(r#" data-fps="fast""#), None);
        let err = fps(&Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("index.html: field `data-fps`"), "{err}");
        // A plain page rounds its frame count.
        write(
            &dir,
            "<p>",
            Some(r#"{"renderConfig": {"width": 2, "height": 2}}"#),
        );
        let c = Composition::load(&dir, &Overrides::default()).unwrap();
        assert_eq!((c.hyperframes, c.frames_in(1.01)), (false, 30));
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
