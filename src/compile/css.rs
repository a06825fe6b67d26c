//! Just enough CSS for HyperFrames' font rules: the declarations of a style sheet (or of a
//! `style` attribute) found with their places, strings, comments and `url(…)` read as opaque
//! as a browser reads them, and a `font-family` list split into its families.

/// Families a browser resolves itself, which HyperFrames puts a bundled face in front of.
const GENERIC_FAMILIES: &[&str] = &[
    "sans-serif",
    "serif",
    "monospace",
    "cursive",
    "fantasy",
    "system-ui",
    "ui-sans-serif",
    "ui-serif",
    "ui-monospace",
    "emoji",
    "math",
    "fangsong",
    "-apple-system",
    "blinkmacsystemfont",
];

/// The face put in front of a list that starts with a generic family.
pub(super) const FRONT_FAMILY: &str = "Inter";

/// One declaration of a style sheet.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Declaration<'a> {
    /// Its property, as written.
    pub(super) property: &'a str,
    /// Its value, trimmed, without `!important`.
    pub(super) value: &'a str,
    /// Where `value` starts in the sheet.
    pub(super) value_at: usize,
    /// Whether it is inside an `@font-face` rule.
    pub(super) in_font_face: bool,
}

/// Every declaration of `css`, in order. Rule preludes, nested blocks, comments and strings are
/// passed over; a `;` or brace inside a string or inside parentheses (a `data:` URL) does not
/// end anything.
pub(super) fn declarations(css: &str) -> Vec<Declaration<'_>> {
    let bytes = css.as_bytes();
    let mut out = Vec::new();
    // For each open block, whether it is (or is inside) an @font-face rule.
    let mut blocks: Vec<bool> = Vec::new();
    let (mut start, mut parens, mut i) = (0, 0usize, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = css[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |end| i + 2 + end + 2);
                continue;
            }
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\\' => i += 1,
            b'(' => parens += 1,
            b')' => parens = parens.saturating_sub(1),
            _ if parens > 0 => {}
            b'{' => {
                let prelude = without_leading_comments(&css[start..i]);
                let font_face = prelude
                    .get(..10)
                    .is_some_and(|p| p.eq_ignore_ascii_case("@font-face"));
                blocks.push(font_face || blocks.last().copied().unwrap_or(false));
                start = i + 1;
            }
            b';' | b'}' => {
                if let Some(&in_font_face) = blocks.last() {
                    if let Some(d) = declaration(css, start, i, in_font_face) {
                        out.push(d);
                    }
                }
                if bytes[i] == b'}' {
                    blocks.pop();
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// `text` from its first character that is neither white space nor inside a comment.
fn without_leading_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        match text.strip_prefix("/*") {
            Some(rest) => text = rest.find("*/").map_or("", |end| &rest[end + 2..]),
            None => return text,
        }
    }
}

/// The declaration in `css[start..end]`, if that is one (`property: value`).
fn declaration(css: &str, start: usize, end: usize, in_font_face: bool) -> Option<Declaration<'_>> {
    let text = &css[start..end];
    let colon = text.find(':')?;
    let property = without_leading_comments(&text[..colon]).trim();
    if property.is_empty() || property.contains(['{', '}']) {
        return None;
    }
    let raw = &text[colon + 1..];
    let lead = raw.len() - raw.trim_start().len();
    let mut value = raw.trim();
    if let Some(at) = value.to_ascii_lowercase().rfind("!important") {
        value = value[..at].trim_end();
    }
    Some(Declaration {
        property,
        value,
        value_at: start + colon + 1 + lead,
        in_font_face,
    })
}

/// The families of a `font-family` list: split on commas outside quotes and parentheses, each
/// trimmed and stripped of one pair of quotes; empty ones dropped.
pub(super) fn families(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut current, mut quote, mut parens) = (String::new(), None, 0usize);
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', _) => {
                current.push(c);
                current.extend(chars.next());
                continue;
            }
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('(', None) => parens += 1,
            (')', None) => parens = parens.saturating_sub(1),
            (',', None) if parens == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|f| {
            let f = f.trim();
            let f = f.strip_prefix(['"', '\'']).unwrap_or(f);
            f.strip_suffix(['"', '\'']).unwrap_or(f).to_string()
        })
        .filter(|f| !f.is_empty())
        .collect()
}

/// The font list of a `font` shorthand: what follows its size (and `/line-height`); `None`
/// when no size is found (a system font keyword, or a value only `var()` makes whole).
pub(super) fn shorthand_families(value: &str) -> Option<&str> {
    const SIZE_WORDS: &[&str] = &[
        "xx-small",
        "x-small",
        "small",
        "medium",
        "large",
        "x-large",
        "xx-large",
        "xxx-large",
        "larger",
        "smaller",
    ];
    let is_size = |token: &str| {
        let token = token
            .split('/')
            .next()
            .unwrap_or(token)
            .to_ascii_lowercase();
        SIZE_WORDS.contains(&token.as_str())
            || token.starts_with("calc(")
            || token.starts_with("clamp(")
            || token.starts_with("min(")
            || token.starts_with("max(")
            || (token.starts_with(|c: char| c.is_ascii_digit() || c == '.')
                && token.ends_with(|c: char| c.is_ascii_alphabetic() || c == '%'))
    };
    let mut tokens = tokens(value).into_iter().peekable();
    while let Some((_, token)) = tokens.next() {
        if token.starts_with(['"', '\'']) {
            return None;
        }
        if !is_size(token) {
            continue;
        }
        // A line height, written `/1.2` or `/ 1.2` after the size (or `16px/1.2` in one).
        if !token.contains('/') {
            if let Some((_, next)) = tokens.peek() {
                if *next == "/" {
                    tokens.next();
                    tokens.next();
                } else if next.starts_with('/') {
                    tokens.next();
                }
            }
        }
        let rest = tokens.next().map(|(at, _)| value[at..].trim())?;
        return (!rest.is_empty()).then_some(rest);
    }
    None
}

/// The tokens of `value` split on white space outside quotes and parentheses, with where each
/// starts.
fn tokens(value: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut start, mut quote, mut parens) = (None, None, 0usize);
    for (i, c) in value.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('(', None) => parens += 1,
            (')', None) => parens = parens.saturating_sub(1),
            _ => {}
        }
        if c.is_whitespace() && quote.is_none() && parens == 0 {
            if let Some(s) = start.take() {
                out.push((s, &value[s..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &value[s..]));
    }
    out
}

/// Whether `family` is one a browser resolves itself.
pub(super) fn is_generic(family: &str) -> bool {
    GENERIC_FAMILIES.contains(&family.to_ascii_lowercase().as_str())
}

/// Whether a `font-family` value starts with a generic family: then HyperFrames puts
/// [`FRONT_FAMILY`] in front of it.
pub(super) fn starts_generic(value: &str) -> bool {
    families(value).first().is_some_and(|f| is_generic(f))
}

/// `css` with [`FRONT_FAMILY`] put in front of every `font-family` (outside `@font-face`) and
/// every custom property whose list starts with a generic family; `None` when nothing changed.
pub(super) fn put_front_family(css: &str) -> Option<String> {
    let mut at: Vec<usize> = declarations(css)
        .into_iter()
        .filter(|d| {
            let p = d.property.to_ascii_lowercase();
            ((p == "font-family" && !d.in_font_face) || p.starts_with("--"))
                && starts_generic(d.value)
        })
        .map(|d| d.value_at)
        .collect();
    if at.is_empty() {
        return None;
    }
    at.sort_unstable();
    let mut out = String::with_capacity(css.len() + at.len() * 8);
    let mut from = 0;
    for place in at {
        out.push_str(&css[from..place]);
        out.push_str(FRONT_FAMILY);
        out.push_str(", ");
        from = place;
    }
    out.push_str(&css[from..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_skip_strings_comments_urls_and_know_font_face() {
        let css = r#"/* a; b { } */
            @font-face { font-family: "X;y"; src: url(data:font/woff2;base64,AA==) }
            @media (min-width: 1px) { .a { font-family: sans-serif; color: red } }
            .b{font-family:'Helvetica Neue', serif !important}"#;
        let found: Vec<(&str, &str, bool)> = declarations(css)
            .iter()
            .map(|d| (d.property, d.value, d.in_font_face))
            .collect();
        assert_eq!(
            found,
            [
                ("font-family", "\"X;y\"", true),
                ("src", "url(data:font/woff2;base64,AA==)", true),
                ("font-family", "sans-serif", false),
                ("color", "red", false),
                ("font-family", "'Helvetica Neue', serif", false),
            ]
        );
    }

    #[test]
    fn families_split_on_top_level_commas_and_lose_their_quotes() {
        assert_eq!(
            families(r#" "Open Sans", 'A, B' ,var(--f, x), sans-serif ,"#),
            ["Open Sans", "A, B", "var(--f, x)", "sans-serif"]
        );
        assert!(starts_generic("System-UI, sans-serif"));
        assert!(!starts_generic("\"Montserrat\", system-ui"));
        assert!(!starts_generic("var(--x), sans-serif"));
    }

    #[test]
    fn the_font_shorthand_names_its_families_after_the_size() {
        for (value, families) in [
            (
                r#"900 120px "Montserrat", sans-serif"#,
                Some(r#""Montserrat", sans-serif"#),
            ),
            ("italic bold 16px/1.5 Lato, serif", Some("Lato, serif")),
            ("700 110px / 1 Inter, sans-serif", Some("Inter, sans-serif")),
            ("small-caps large Georgia", Some("Georgia")),
            ("calc(2em + 4px) 'Space Mono'", Some("'Space Mono'")),
            ("caption", None),
            ("var(--font)", None),
        ] {
            assert_eq!(shorthand_families(value), families, "{value}");
        }
    }

    #[test]
    fn inter_goes_in_front_of_generic_lists_only() {
        let css = ".a { font-family: sans-serif; }\n.b { font-family: Lato, serif }\n\
                   :root { --mono: monospace; --n: 3 }\n\
                   @font-face { font-family: serif; }\n.c{font-family:  system-ui !important}";
        assert_eq!(
            put_front_family(css).unwrap(),
            ".a { font-family: Inter, sans-serif; }\n.b { font-family: Lato, serif }\n\
             :root { --mono: Inter, monospace; --n: 3 }\n\
             @font-face { font-family: serif; }\n.c{font-family:  Inter, system-ui !important}"
        );
        assert_eq!(put_front_family(".b { font-family: Lato }"), None);
    }
}
