//! Finding the local files a composition references, so a missing asset is an input error at
//! plan time rather than a blank region in the video.
//!
//! Reads `src`, `href` (except on `<a>`), `poster` and `srcset` attributes of HTML files, and
//! `url(...)` and `@import "..."` in CSS files, `<style>` blocks and `style` attributes.
//! References with a scheme (`https:`, `data:`), protocol-relative ones and fragments are not
//! local files; references built by scripts at run time cannot be seen here.

use camino::{Utf8Path, Utf8PathBuf};

use crate::html::Page;
use crate::urlpath::{local_path, resolve};

/// A local reference found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The file that contains it, relative to the composition root.
    pub from: Utf8PathBuf,
    /// The reference as written.
    pub written: String,
    /// The file it names, relative to the composition root (`None`: it leaves the root).
    pub target: Option<Utf8PathBuf>,
}

/// Every local reference in the HTML and CSS file `rel` (relative to `root`) with `text`.
pub fn references(rel: &Utf8Path, text: &str) -> Vec<Reference> {
    let written = match rel.extension() {
        Some("html" | "htm") => html_references(text),
        Some("css") => css_references(text),
        _ => Vec::new(),
    };
    let base = rel.parent().unwrap_or(Utf8Path::new(""));
    written
        .into_iter()
        .filter_map(|w| {
            let clean = local_path(&w)?;
            Some(Reference {
                from: rel.to_owned(),
                target: resolve(base, &clean),
                written: w,
            })
        })
        .collect()
}

fn html_references(text: &str) -> Vec<String> {
    let page = Page::parse(text);
    let mut out = Vec::new();
    // Style elements' text, in the order of their tags.
    let mut styles = page.styles.iter();
    for (name, attrs) in page.start_tags() {
        for key in ["src", "poster"] {
            out.extend(attrs.get(key).cloned());
        }
        if name != "a" {
            out.extend(attrs.get("href").cloned());
        }
        if let Some(srcset) = attrs.get("srcset") {
            out.extend(
                srcset
                    .split(',')
                    .filter_map(|c| c.split_whitespace().next().map(str::to_string)),
            );
        }
        if let Some(style) = attrs.get("style") {
            out.extend(css_references(style));
        }
        if name == "style" {
            out.extend(styles.next().map(|s| css_references(s)).unwrap_or_default());
        }
    }
    out
}

fn css_references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("url(") {
        rest = &rest[i + 4..];
        let end = rest.find(')').unwrap_or(rest.len());
        out.push(unquote(&rest[..end]));
        rest = &rest[end..];
    }
    let mut rest = text;
    while let Some(i) = rest.find("@import") {
        rest = rest[i + 7..].trim_start();
        if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let body = &rest[1..];
            if let Some(end) = body.find(q) {
                out.push(body[..end].to_string());
            }
        }
    }
    out
}

fn unquote(s: &str) -> String {
    s.trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_local_references_in_html_and_css() {
        let html = r##"<html><head><link rel="stylesheet" href="css/a.css">
            <style>@font-face { src: url("fonts/F%20x.ttf") } @import 'b.css';</style>
            <script src="./vendor/gsap.min.js?v=3"></script></head>
            <body style="background: url(img/bg.png)"><img src="https://x.org/a.png">
            <img srcset="i/1x.png 1x, i/2x.png 2x"><a href="elsewhere.html">x</a>
            <video poster="p.jpg"></video><img src="data:image/png;base64,AA"><img src="#x">
            <img src="../outside.png"></body></html>"##;
        let refs = references(Utf8Path::new("index.html"), html);
        let targets: Vec<String> = refs
            .iter()
            .map(|r| {
                r.target
                    .as_ref()
                    .map_or("<outside>".into(), |t| t.to_string())
            })
            .collect();
        assert_eq!(
            targets,
            [
                "css/a.css",
                "fonts/F x.ttf",
                "b.css",
                "vendor/gsap.min.js",
                "img/bg.png",
                "i/1x.png",
                "i/2x.png",
                "p.jpg",
                "<outside>"
            ]
        );
        let css = references(
            Utf8Path::new("css/a.css"),
            "a { background: url('../img/x.png') }",
        );
        assert_eq!(css[0].target.as_deref(), Some(Utf8Path::new("img/x.png")));
    }
}
