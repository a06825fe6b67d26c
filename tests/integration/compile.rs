//! HyperFrames' compile step on real renders: a HyperFrames page's generic font list is drawn
//! with the bundled Inter, pixel for pixel as a page that names that face itself, twice alike;
//! `--as-written` leaves the page alone; and the generic families of any page are drawn with
//! the pinned faces of their kind.

use std::path::Path;

use crate::harness::{Sandbox, hashes, repo};

/// A 320×180 page of one frame with `body` inside its root; `hyperframes` gives the root a
/// `data-composition-id`.
fn page(dir: &Path, hyperframes: bool, head: &str, body: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let id = if hyperframes {
        r#" data-composition-id="main""#
    } else {
        ""
    };
    std::fs::write(
        dir.join("index.html"),
        format!(
            r#"<!doctype html><html><head><meta charset="utf-8"><style>
html, body {{ margin: 0; width: 320px; height: 180px; background: #fff; }}
p {{ margin: 8px; font-size: 30px; color: #123; }}
</style>{head}</head><body><div id="root"{id} data-width="320" data-height="180"
data-start="0" data-duration="0.1">{body}</div></body></html>"#
        ),
    )
    .unwrap();
}

#[test]
fn a_hyperframes_page_is_drawn_with_the_bundled_face_and_as_written_is_not() {
    let sandbox = Sandbox::new();
    let text = r#"<p style="font-family: sans-serif">Hyperframes 0123</p>"#;
    let hf = sandbox.path().join("hf");
    page(&hf, true, "", text);
    let compiled = sandbox.render_ok(&hf, "compiled", &[]);
    let again = sandbox.render_ok(&hf, "again", &[]);
    assert_eq!(hashes(&compiled), hashes(&again), "compiled twice alike");

    // The same text, in a page that is not HyperFrames', naming the pinned Inter file itself.
    let by_hand = sandbox.path().join("by-hand");
    let face = repo().join("assets/fonts/inter/inter-latin-400-normal.woff2");
    std::fs::create_dir_all(&by_hand).unwrap();
    std::fs::copy(face, by_hand.join("inter.woff2")).unwrap();
    page(
        &by_hand,
        false,
        r#"<style>@font-face { font-family: "Bundled"; src: url(inter.woff2) format("woff2");
font-weight: 400; font-display: block; }
html, body, * { text-rendering: geometricPrecision; }</style>"#,
        r#"<p style="font-family: Bundled, sans-serif">Hyperframes 0123</p>"#,
    );
    let reference = sandbox.render_ok(
        &by_hand,
        "by-hand",
        &["--width", "320", "--height", "180", "--duration", "0.1"],
    );
    assert_eq!(
        hashes(&compiled),
        hashes(&reference),
        "compiled: Inter in front, geometricPrecision"
    );

    let as_written = sandbox.render_ok(&hf, "as-written", &["--as-written"]);
    assert_ne!(hashes(&compiled), hashes(&as_written));
    assert_ne!(
        compiled["bundle_hash"], as_written["bundle_hash"],
        "the compile step is part of what the bundle holds"
    );
}

#[test]
fn generic_families_are_drawn_with_the_pinned_faces_of_their_kind() {
    let sandbox = Sandbox::new();
    let mut seen = Vec::new();
    for family in ["sans-serif", "serif", "monospace"] {
        let dir = sandbox.path().join(family);
        page(
            &dir,
            false,
            "",
            &format!(r#"<p style="font-family: {family}">Agm 0123 il</p>"#),
        );
        let record = sandbox.render_ok(
            &dir,
            family,
            &["--width", "320", "--height", "180", "--duration", "0.1"],
        );
        seen.push(hashes(&record));
    }
    assert_ne!(seen[0], seen[1], "serif is not drawn with the sans face");
    assert_ne!(
        seen[0], seen[2],
        "monospace is not drawn with the sans face"
    );
    assert_ne!(seen[1], seen[2]);
}
