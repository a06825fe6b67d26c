//! The composition root as the static HTML shows it: HyperFrames' `data-*` attributes on the
//! element with `data-root="true"`, else the first with `data-composition-id`.

use std::collections::BTreeMap;

use crate::html::Page;

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
    /// `data-fps`.
    pub fps: Option<String>,
    /// The `data-composition-src` of the first nested composition host, if any.
    pub nested_src: Option<String>,
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
            out.fps = root.get("data-fps").cloned();
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
}
