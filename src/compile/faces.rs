//! The open faces HyperFrames bundles (the latin subset of each `@fontsource` package at the
//! version HyperFrames pins, listed with their licences in `assets/fonts/fonts.tsv`), built into
//! framelock so a composition gets them with no network, and the names HyperFrames maps onto
//! them.

/// One bundled face: a family's weight, in normal style.
#[derive(Debug, Clone, Copy)]
pub(super) struct Face {
    /// The family's slug (`inter`, `space-mono`).
    pub(super) slug: &'static str,
    /// Its weight.
    pub(super) weight: u16,
    /// The WOFF2 file.
    pub(super) woff2: &'static [u8],
}

const fn face(slug: &'static str, weight: u16, woff2: &'static [u8]) -> Face {
    Face {
        slug,
        weight,
        woff2,
    }
}

/// Every bundled face.
pub(super) const FACES: &[Face] = &[
    face(
        "inter",
        400,
        include_bytes!("../../assets/fonts/inter/inter-latin-400-normal.woff2"),
    ),
    face(
        "inter",
        700,
        include_bytes!("../../assets/fonts/inter/inter-latin-700-normal.woff2"),
    ),
    face(
        "inter",
        900,
        include_bytes!("../../assets/fonts/inter/inter-latin-900-normal.woff2"),
    ),
    face(
        "montserrat",
        400,
        include_bytes!("../../assets/fonts/montserrat/montserrat-latin-400-normal.woff2"),
    ),
    face(
        "montserrat",
        700,
        include_bytes!("../../assets/fonts/montserrat/montserrat-latin-700-normal.woff2"),
    ),
    face(
        "montserrat",
        900,
        include_bytes!("../../assets/fonts/montserrat/montserrat-latin-900-normal.woff2"),
    ),
    face(
        "outfit",
        400,
        include_bytes!("../../assets/fonts/outfit/outfit-latin-400-normal.woff2"),
    ),
    face(
        "outfit",
        700,
        include_bytes!("../../assets/fonts/outfit/outfit-latin-700-normal.woff2"),
    ),
    face(
        "outfit",
        900,
        include_bytes!("../../assets/fonts/outfit/outfit-latin-900-normal.woff2"),
    ),
    face(
        "nunito",
        400,
        include_bytes!("../../assets/fonts/nunito/nunito-latin-400-normal.woff2"),
    ),
    face(
        "nunito",
        700,
        include_bytes!("../../assets/fonts/nunito/nunito-latin-700-normal.woff2"),
    ),
    face(
        "nunito",
        900,
        include_bytes!("../../assets/fonts/nunito/nunito-latin-900-normal.woff2"),
    ),
    face(
        "oswald",
        400,
        include_bytes!("../../assets/fonts/oswald/oswald-latin-400-normal.woff2"),
    ),
    face(
        "oswald",
        700,
        include_bytes!("../../assets/fonts/oswald/oswald-latin-700-normal.woff2"),
    ),
    face(
        "league-gothic",
        400,
        include_bytes!("../../assets/fonts/league-gothic/league-gothic-latin-400-normal.woff2"),
    ),
    face(
        "archivo-black",
        400,
        include_bytes!("../../assets/fonts/archivo-black/archivo-black-latin-400-normal.woff2"),
    ),
    face(
        "space-mono",
        400,
        include_bytes!("../../assets/fonts/space-mono/space-mono-latin-400-normal.woff2"),
    ),
    face(
        "space-mono",
        700,
        include_bytes!("../../assets/fonts/space-mono/space-mono-latin-700-normal.woff2"),
    ),
    face(
        "ibm-plex-mono",
        400,
        include_bytes!("../../assets/fonts/ibm-plex-mono/ibm-plex-mono-latin-400-normal.woff2"),
    ),
    face(
        "ibm-plex-mono",
        700,
        include_bytes!("../../assets/fonts/ibm-plex-mono/ibm-plex-mono-latin-700-normal.woff2"),
    ),
    face(
        "jetbrains-mono",
        400,
        include_bytes!("../../assets/fonts/jetbrains-mono/jetbrains-mono-latin-400-normal.woff2"),
    ),
    face(
        "jetbrains-mono",
        700,
        include_bytes!("../../assets/fonts/jetbrains-mono/jetbrains-mono-latin-700-normal.woff2"),
    ),
    face(
        "eb-garamond",
        400,
        include_bytes!("../../assets/fonts/eb-garamond/eb-garamond-latin-400-normal.woff2"),
    ),
    face(
        "eb-garamond",
        700,
        include_bytes!("../../assets/fonts/eb-garamond/eb-garamond-latin-700-normal.woff2"),
    ),
    face(
        "playfair-display",
        400,
        include_bytes!(
            "../../assets/fonts/playfair-display/playfair-display-latin-400-normal.woff2"
        ),
    ),
    face(
        "playfair-display",
        700,
        include_bytes!(
            "../../assets/fonts/playfair-display/playfair-display-latin-700-normal.woff2"
        ),
    ),
    face(
        "playfair-display",
        900,
        include_bytes!(
            "../../assets/fonts/playfair-display/playfair-display-latin-900-normal.woff2"
        ),
    ),
    face(
        "source-code-pro",
        400,
        include_bytes!("../../assets/fonts/source-code-pro/source-code-pro-latin-400-normal.woff2"),
    ),
    face(
        "source-code-pro",
        700,
        include_bytes!("../../assets/fonts/source-code-pro/source-code-pro-latin-700-normal.woff2"),
    ),
    face(
        "noto-sans-jp",
        400,
        include_bytes!("../../assets/fonts/noto-sans-jp/noto-sans-jp-latin-400-normal.woff2"),
    ),
    face(
        "noto-sans-jp",
        700,
        include_bytes!("../../assets/fonts/noto-sans-jp/noto-sans-jp-latin-700-normal.woff2"),
    ),
    face(
        "roboto",
        400,
        include_bytes!("../../assets/fonts/roboto/roboto-latin-400-normal.woff2"),
    ),
    face(
        "roboto",
        700,
        include_bytes!("../../assets/fonts/roboto/roboto-latin-700-normal.woff2"),
    ),
    face(
        "roboto",
        900,
        include_bytes!("../../assets/fonts/roboto/roboto-latin-900-normal.woff2"),
    ),
    face(
        "open-sans",
        400,
        include_bytes!("../../assets/fonts/open-sans/open-sans-latin-400-normal.woff2"),
    ),
    face(
        "open-sans",
        700,
        include_bytes!("../../assets/fonts/open-sans/open-sans-latin-700-normal.woff2"),
    ),
    face(
        "lato",
        400,
        include_bytes!("../../assets/fonts/lato/lato-latin-400-normal.woff2"),
    ),
    face(
        "lato",
        700,
        include_bytes!("../../assets/fonts/lato/lato-latin-700-normal.woff2"),
    ),
    face(
        "lato",
        900,
        include_bytes!("../../assets/fonts/lato/lato-latin-900-normal.woff2"),
    ),
    face(
        "poppins",
        400,
        include_bytes!("../../assets/fonts/poppins/poppins-latin-400-normal.woff2"),
    ),
    face(
        "poppins",
        700,
        include_bytes!("../../assets/fonts/poppins/poppins-latin-700-normal.woff2"),
    ),
    face(
        "poppins",
        900,
        include_bytes!("../../assets/fonts/poppins/poppins-latin-900-normal.woff2"),
    ),
];

/// Family names (lower case) HyperFrames draws with a bundled family, by that family's slug:
/// the bundled families themselves, and common system faces mapped to the nearest one.
const ALIASES: &[(&str, &str)] = &[
    ("inter", "inter"),
    ("montserrat", "montserrat"),
    ("outfit", "outfit"),
    ("nunito", "nunito"),
    ("oswald", "oswald"),
    ("league gothic", "league-gothic"),
    ("archivo black", "archivo-black"),
    ("space mono", "space-mono"),
    ("ibm plex mono", "ibm-plex-mono"),
    ("jetbrains mono", "jetbrains-mono"),
    ("eb garamond", "eb-garamond"),
    ("playfair display", "playfair-display"),
    ("source code pro", "source-code-pro"),
    ("noto sans jp", "noto-sans-jp"),
    ("roboto", "roboto"),
    ("open sans", "open-sans"),
    ("lato", "lato"),
    ("poppins", "poppins"),
    ("helvetica neue", "inter"),
    ("helvetica", "inter"),
    ("arial", "inter"),
    ("helvetica bold", "inter"),
    ("futura", "montserrat"),
    ("din alternate", "montserrat"),
    ("arial black", "montserrat"),
    ("bebas neue", "league-gothic"),
    ("courier new", "jetbrains-mono"),
    ("courier", "jetbrains-mono"),
    ("garamond", "eb-garamond"),
    ("noto sans japanese", "noto-sans-jp"),
    ("segoe ui", "roboto"),
    ("sf pro", "inter"),
    ("sf pro display", "inter"),
    ("sf pro text", "inter"),
    ("sf pro rounded", "inter"),
    ("avenir", "inter"),
    ("avenir next", "inter"),
    ("lucida grande", "inter"),
    ("geneva", "inter"),
    ("optima", "inter"),
    ("verdana", "inter"),
    ("tahoma", "inter"),
    ("trebuchet ms", "inter"),
    ("calibri", "inter"),
    ("candara", "inter"),
    ("corbel", "inter"),
    ("lucida sans", "inter"),
    ("lucida sans unicode", "inter"),
    ("noto sans", "inter"),
    ("dejavu sans", "inter"),
    ("liberation sans", "inter"),
    ("sf mono", "jetbrains-mono"),
    ("menlo", "jetbrains-mono"),
    ("monaco", "jetbrains-mono"),
    ("consolas", "jetbrains-mono"),
    ("lucida console", "jetbrains-mono"),
    ("lucida sans typewriter", "jetbrains-mono"),
    ("andale mono", "jetbrains-mono"),
    ("dejavu sans mono", "jetbrains-mono"),
    ("liberation mono", "jetbrains-mono"),
    ("georgia", "eb-garamond"),
    ("palatino", "eb-garamond"),
    ("palatino linotype", "eb-garamond"),
    ("book antiqua", "eb-garamond"),
    ("cambria", "eb-garamond"),
    ("times", "eb-garamond"),
    ("times new roman", "eb-garamond"),
    ("dejavu serif", "eb-garamond"),
    ("liberation serif", "eb-garamond"),
];

/// The bundled faces that draw `family` (any case), lightest first; empty when none does.
pub(super) fn faces_for(family: &str) -> Vec<Face> {
    let family = family.to_ascii_lowercase();
    let Some((_, slug)) = ALIASES.iter().find(|(name, _)| *name == family) else {
        return Vec::new();
    };
    FACES.iter().filter(|f| f.slug == *slug).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use sha2::{Digest, Sha256};

    /// `fonts.tsv` pins every file by its SHA-256: the bytes built in are those bytes.
    #[test]
    fn every_face_is_the_pinned_file_and_every_alias_has_faces() {
        let tsv = include_str!("../../assets/fonts/fonts.tsv");
        let pinned: Vec<(&str, u16, &str)> = tsv
            .lines()
            .skip(1)
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                (f[0], f[3].parse().unwrap(), f[6])
            })
            .collect();
        assert_eq!(pinned.len(), FACES.len());
        for face in FACES {
            let hex: String = Sha256::digest(face.woff2)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert!(
                pinned.contains(&(face.slug, face.weight, hex.as_str())),
                "{} {}: {hex} is not pinned",
                face.slug,
                face.weight
            );
        }
        assert_eq!(FACES.len(), 42);
        for (name, _) in ALIASES {
            assert!(!faces_for(name).is_empty(), "{name}");
        }
        let weights: Vec<u16> = faces_for("Helvetica").iter().map(|f| f.weight).collect();
        assert_eq!(weights, [400, 700, 900], "Helvetica is drawn with Inter");
        assert!(faces_for("Comic Sans MS").is_empty());
    }
}
