//! Reading a page's tags the way a browser's tokenizer does (attribute names lower-cased,
//! valueless attributes kept, `<script>` and `<style>` contents not mistaken for tags), for the
//! static checks made before a browser ever opens it.

use std::collections::BTreeMap;

use html5gum::emitters::default::DefaultEmitter;
use html5gum::{Token, Tokenizer};

/// A start or end tag, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// `<name attr=…>`.
    Start {
        /// Lower-case name.
        name: String,
        /// Attributes by lower-case name (a valueless one has the empty value).
        attributes: BTreeMap<String, String>,
    },
    /// `</name>`.
    End {
        /// Lower-case name.
        name: String,
    },
}

/// The tags of a page and the text of its `<style>` elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Every tag, in document order.
    pub tags: Vec<Tag>,
    /// The contents of each `<style>` element.
    pub styles: Vec<String>,
}

impl Page {
    /// Tokenizes `html`; malformed markup is read as a browser would recover from it.
    pub fn parse(html: &str) -> Page {
        let mut emitter = DefaultEmitter::default();
        emitter.naively_switch_states(true);
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let mut page = Page::default();
        let mut style: Option<String> = None;
        for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
            match token {
                Token::StartTag(tag) => {
                    let name = text(&tag.name);
                    if name == "style" {
                        style = Some(String::new());
                    }
                    page.tags.push(Tag::Start {
                        name,
                        attributes: tag
                            .attributes
                            .iter()
                            .map(|(k, v)| (text(k), text(v)))
                            .collect(),
                    });
                }
                Token::EndTag(tag) => {
                    let name = text(&tag.name);
                    if name == "style" {
                        page.styles.extend(style.take());
                    }
                    page.tags.push(Tag::End { name });
                }
                Token::String(s) => {
                    if let Some(style) = style.as_mut() {
                        style.push_str(&text(&s));
                    }
                }
                _ => {}
            }
        }
        page.styles.extend(style);
        page
    }

    /// The start tags: name and attributes.
    pub fn start_tags(&self) -> impl Iterator<Item = (&str, &BTreeMap<String, String>)> {
        self.tags.iter().filter_map(|t| match t {
            Tag::Start { name, attributes } => Some((name.as_str(), attributes)),
            Tag::End { .. } => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valueless_attributes_and_script_text_are_read_as_a_browser_does() {
        let page = Page::parse(
            r#"<VIDEO Loop muted src="a.mp4"><source src=b.webm></video>
               <script>if (a<video) s = "<audio src=x>";</script><style>p{}</style>"#,
        );
        let starts: Vec<(&str, Vec<(&str, &str)>)> = page
            .start_tags()
            .map(|(n, a)| (n, a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()))
            .collect();
        assert_eq!(
            starts,
            [
                ("video", vec![("loop", ""), ("muted", ""), ("src", "a.mp4")]),
                ("source", vec![("src", "b.webm")]),
                ("script", vec![]),
                ("style", vec![]),
            ]
        );
        assert_eq!(page.styles, ["p{}"]);
    }
}
