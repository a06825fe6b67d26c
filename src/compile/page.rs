//! A HyperFrames composition's page compiled as HyperFrames compiles it before rendering, so
//! its text looks the same: `text-rendering: geometricPrecision` on every element, a bundled
//! face put in front of every font list that starts with a generic family, and the bundled
//! faces of the families the page names embedded as `data:` URLs. The rules are written from
//! HyperFrames' behaviour; they touch `<style>` elements, `style` attributes and
//! `data-font-family` attributes, as HyperFrames does, and nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::ops::Range;

use base64::Engine;
use html5gum::emitters::default::DefaultEmitter;
use html5gum::{Token, Tokenizer};

use super::css::{
    FRONT_FAMILY, declarations, families, is_generic, put_front_family, shorthand_families,
    starts_generic,
};
use super::faces::faces_for;

/// Marks the text-rendering rule; a page that has one already is not given another.
const TEXT_RENDERING_MARK: &str = "data-hyperframes-text-rendering";

/// The text-rendering rule.
const TEXT_RENDERING: &str = "html,body,*{text-rendering:geometricPrecision}";

/// Marks the embedded faces.
const FONTS_MARK: &str = "data-hyperframes-deterministic-fonts";

/// What compiling changed: the page, and the families embedded.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The compiled page.
    pub html: String,
    /// The families given bundled faces, as the page spells them.
    pub embedded: Vec<String>,
}

/// An edit of the page: a byte range and what replaces it.
type Edit = (Range<usize>, String);

/// Compiles `html` as HyperFrames does.
pub fn compile_page(html: &str) -> Compiled {
    let mut edits: Vec<Edit> = Vec::new();
    let mut lists: Vec<String> = Vec::new();
    let mut custom: BTreeMap<String, String> = BTreeMap::new();
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut has_text_rendering = false;
    let mut head_at: Option<usize> = None;
    let mut html_at: Option<usize> = None;
    let mut style_from: Option<usize> = None;
    let mut emitter = DefaultEmitter::<usize>::new_with_span();
    emitter.naively_switch_states(true);
    for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
        match token {
            Token::StartTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).to_ascii_lowercase();
                let attribute = |key: &str| {
                    tag.attributes
                        .get(key.as_bytes())
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                };
                match name.as_str() {
                    "head" => head_at = head_at.or(Some(tag.span.end)),
                    "html" => html_at = html_at.or(Some(tag.span.end)),
                    "style" => {
                        has_text_rendering |= attribute(TEXT_RENDERING_MARK).is_some();
                        style_from = Some(tag.span.end);
                    }
                    _ => {}
                }
                let raw = &html[tag.span.start..tag.span.end];
                for (key, range) in raw_values(raw) {
                    let Some(value) = attribute(&key) else {
                        continue;
                    };
                    let range = tag.span.start + range.start..tag.span.start + range.end;
                    let new = match key.as_str() {
                        "style" => put_front_family(&format!("*{{{value}}}"))
                            .map(|css| css[2..css.len() - 1].to_string()),
                        "data-font-family" => starts_generic(&value)
                            .then(|| format!("{FRONT_FAMILY}, {}", value.trim())),
                        _ => continue,
                    };
                    let now = new.clone().unwrap_or(value);
                    if key == "style" {
                        read_sheet(
                            &format!("*{{{now}}}"),
                            &mut lists,
                            &mut custom,
                            &mut declared,
                        );
                    } else {
                        lists.push(now);
                    }
                    if let Some(new) = new {
                        edits.push((range, format!("\"{}\"", escape_attribute(&new))));
                    }
                }
            }
            Token::EndTag(tag) if tag.name.eq_ignore_ascii_case(b"style") => {
                if let Some(from) = style_from.take() {
                    let css = &html[from..tag.span.start];
                    let new = put_front_family(css);
                    read_sheet(
                        new.as_deref().unwrap_or(css),
                        &mut lists,
                        &mut custom,
                        &mut declared,
                    );
                    if let Some(new) = new {
                        edits.push((from..tag.span.start, new));
                    }
                }
            }
            _ => {}
        }
    }
    let (fonts, embedded) = font_faces(&lists, &custom, &declared);
    let mut head = String::new();
    if !fonts.is_empty() {
        let _ = write!(head, "<style {FONTS_MARK}=\"true\">{fonts}</style>");
    }
    if !has_text_rendering {
        let _ = write!(
            head,
            "<style {TEXT_RENDERING_MARK}=\"true\">{TEXT_RENDERING}</style>"
        );
    }
    if !head.is_empty() {
        let at = head_at.or(html_at).unwrap_or_else(|| after_doctype(html));
        edits.push((at..at, head));
    }
    Compiled {
        html: apply(html, edits),
        embedded,
    }
}

/// Reads a (compiled) style sheet: its font lists, its custom properties (for `var()`), and
/// the families its `@font-face` rules declare.
fn read_sheet(
    css: &str,
    lists: &mut Vec<String>,
    custom: &mut BTreeMap<String, String>,
    declared: &mut BTreeSet<String>,
) {
    for d in declarations(css) {
        let property = d.property.to_ascii_lowercase();
        if property.starts_with("--") {
            custom.insert(d.property.to_string(), d.value.to_string());
        } else if property == "font-family" {
            if d.in_font_face {
                declared.extend(families(d.value).iter().map(|f| f.to_ascii_lowercase()));
            } else {
                lists.push(d.value.to_string());
            }
        } else if property == "font" && !d.in_font_face {
            // Read for the families to embed, never changed: as HyperFrames 0.9 does.
            lists.extend(shorthand_families(d.value).map(str::to_string));
        }
    }
}

/// The `@font-face` rules for every family of `lists` (a leading `var(--x)` resolved through
/// `custom`) that a bundled face draws and no `@font-face` of the page declares, one per
/// weight, and those families as first spelt.
fn font_faces(
    lists: &[String],
    custom: &BTreeMap<String, String>,
    declared: &BTreeSet<String>,
) -> (String, Vec<String>) {
    let mut seen = BTreeSet::new();
    let mut embedded = Vec::new();
    let mut rules = Vec::new();
    for list in lists {
        let mut names = families(list);
        if let Some(var) = leading_var(list) {
            if let Some(value) = custom.get(&var) {
                names.splice(..1, families(value));
            }
        }
        for family in names {
            let key = family.to_ascii_lowercase();
            if is_generic(&family) || key.starts_with("var(") || !seen.insert(key.clone()) {
                continue;
            }
            let faces = faces_for(&family);
            if faces.is_empty() || declared.contains(&key) {
                continue;
            }
            for face in faces {
                let data = base64::engine::general_purpose::STANDARD.encode(face.woff2);
                rules.push(format!(
                    "@font-face {{\n  font-family: \"{family}\";\n  src: url(\"data:font/woff2;base64,{data}\") format(\"woff2\");\n  font-style: normal;\n  font-weight: {};\n  font-display: block;\n}}",
                    face.weight
                ));
            }
            embedded.push(family);
        }
    }
    (rules.join("\n\n"), embedded)
}

/// The custom property a font list starts with (`var(--x, …)`), if it does.
fn leading_var(list: &str) -> Option<String> {
    let rest = list.trim();
    let inner = rest
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("var("))
        .map(|_| &rest[4..])?;
    let name = inner.split([',', ')']).next()?.trim();
    (name.starts_with("--")
        && name[2..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then(|| name.to_string())
}

/// The attributes of a start tag's text, by lower-case name, with the byte range of each value
/// as written (its quotes included); valueless attributes are left out.
fn raw_values(tag: &str) -> Vec<(String, Range<usize>)> {
    let bytes = tag.as_bytes();
    let mut out = Vec::new();
    let mut i = 1;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
        i += 1;
    }
    let space = |b: u8| b.is_ascii_whitespace() || b == b'/';
    loop {
        while i < bytes.len() && space(bytes[i]) {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            return out;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=/>".contains(&bytes[i]) {
            i += 1;
        }
        let name = tag[start..i].to_ascii_lowercase();
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if bytes.get(j) != Some(&b'=') {
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let from = j;
        match bytes.get(j) {
            Some(&q @ (b'"' | b'\'')) => {
                j += 1;
                while j < bytes.len() && bytes[j] != q {
                    j += 1;
                }
                j = (j + 1).min(bytes.len());
            }
            _ => {
                while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                    j += 1;
                }
            }
        }
        out.push((name, from..j));
        i = j;
    }
}

/// Where a page without `<html>` or `<head>` tags gets its head: after its doctype.
fn after_doctype(html: &str) -> usize {
    let lower = html.get(..9).map(str::to_ascii_lowercase);
    if lower.as_deref() == Some("<!doctype") {
        html.find('>').map_or(0, |end| end + 1)
    } else {
        0
    }
}

/// An attribute value made safe inside double quotes.
fn escape_attribute(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;")
}

/// `html` with `edits` (ranges that do not overlap) applied.
fn apply(html: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    let mut out =
        String::with_capacity(html.len() + edits.iter().map(|(_, s)| s.len()).sum::<usize>());
    let mut from = 0;
    for (range, text) in edits {
        out.push_str(&html[from..range.start]);
        out.push_str(&text);
        from = range.end;
    }
    out.push_str(&html[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faces_of(html: &str) -> Vec<(String, String)> {
        let start = html.find(FONTS_MARK).expect("fonts embedded");
        let sheet = &html[start..html[start..].find("</style>").unwrap() + start];
        declarations(sheet)
            .into_iter()
            .filter(|d| d.property == "font-family" || d.property == "font-weight")
            .map(|d| (d.property.to_string(), d.value.to_string()))
            .collect::<Vec<_>>()
            .chunks(2)
            .map(|p| (p[0].1.clone(), p[1].1.clone()))
            .collect()
    }

    #[test]
    fn generic_lists_get_inter_in_every_surface_and_faces_are_embedded() {
        let html = r#"<!DOCTYPE html><html><head><meta charset="utf-8">
<style>.t { font-family: system-ui, sans-serif } .m { font-family: "Space Mono", monospace }
:root { --brand: Georgia, serif }</style></head>
<body><p style="font-family: sans-serif; color: red">a</p>
<p style='font-family: var(--brand)'>b</p><i data-font-family="serif">c</i>
<p style="font-family: &quot;Comic Sans MS&quot;, cursive">d</p></body></html>"#;
        let out = compile_page(html);
        let page = &out.html;
        assert!(
            page.contains(".t { font-family: Inter, system-ui, sans-serif }"),
            "{page}"
        );
        assert!(
            page.contains(r#"font-family: "Space Mono", monospace"#),
            "named first: left"
        );
        assert!(page.contains(r#"style="font-family: Inter, sans-serif; color: red""#));
        assert!(page.contains(r#"data-font-family="Inter, serif""#));
        assert_eq!(out.embedded, ["Inter", "Space Mono", "Georgia"]);
        let faces = faces_of(page);
        assert_eq!(faces.len(), 3 + 2 + 2, "{faces:?}");
        assert_eq!(faces[3], ("\"Space Mono\"".into(), "400".into()));
        // The rules open the head, the fonts first, then text-rendering.
        let head = page.find("<head>").unwrap() + "<head>".len();
        assert!(page[head..].starts_with(&format!("<style {FONTS_MARK}=\"true\">")));
        let fonts_end = page[head..].find("</style>").unwrap() + head + "</style>".len();
        assert!(page[fonts_end..].starts_with(&format!(
            "<style {TEXT_RENDERING_MARK}=\"true\">{TEXT_RENDERING}</style><meta"
        )));
    }

    #[test]
    fn declared_families_are_not_replaced_and_a_marked_page_is_not_marked_twice() {
        let html = "<html><head><style data-hyperframes-text-rendering>x{}</style><style>\
@font-face { font-family: 'Inter'; src: url(my-inter.woff2) }\n\
body { font-family: Inter, Helvetica }</style></head><body>x</body></html>";
        let out = compile_page(html);
        assert_eq!(out.embedded, ["Helvetica"]);
        assert_eq!(out.html.matches(TEXT_RENDERING_MARK).count(), 1);
        // Only what HyperFrames changes: a page with nothing to change keeps its bytes, but
        // for the rule it gains.
        let plain = "<p>no styles</p>";
        assert_eq!(
            compile_page(plain).html,
            format!(
                "<style {TEXT_RENDERING_MARK}=\"true\">{TEXT_RENDERING}</style><p>no styles</p>"
            )
        );
    }
}
