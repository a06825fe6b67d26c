//! Bundles: the hash names what is rendered and nothing else; archives are deterministic and
//! safe; tampering is caught.

use std::path::{Path, PathBuf};

use crate::harness::{Sandbox, fixture, stderr};

/// Copies a fixture folder to `dest`.
pub fn copy_dir(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let target = dest.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Plans `composition` into `bundle` with extra args; returns the printed bundle hash.
pub fn plan(sandbox: &Sandbox, composition: &Path, bundle: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "plan",
        composition.to_str().unwrap(),
        "-o",
        bundle.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = sandbox.run(&args);
    assert!(out.status.success(), "plan failed: {}", stderr(&out));
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(hash.len(), 64, "{hash}");
    hash
}

#[test]
fn the_bundle_hash_names_what_is_rendered_and_nothing_else() {
    let sandbox = Sandbox::new();
    let a = sandbox.path().join("a/hyperframes");
    // A skip-list word in the absolute path must not matter.
    let b = sandbox.path().join("dist/output/hyperframes");
    copy_dir(&fixture("hyperframes"), &a);
    copy_dir(&fixture("hyperframes"), &b);
    let ha = plan(&sandbox, &a, &sandbox.path().join("bundle-a"), &[]);
    let hb = plan(
        &sandbox,
        &b,
        &sandbox.path().join("bundle-b"),
        &["--chunk-size", "7"],
    );
    assert_eq!(ha, hb, "same composition from another path and chunk size");

    // Newer mtimes everywhere: same hash.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    for entry in std::fs::read_dir(&a).unwrap() {
        let f = std::fs::File::options()
            .append(true)
            .open(entry.unwrap().path());
        if let Ok(f) = f {
            f.set_modified(later).unwrap();
        }
    }
    assert_eq!(
        ha,
        plan(
            &sandbox,
            &a,
            &sandbox.path().join("bundle-c"),
            &["--chunks", "3"]
        )
    );

    // One byte of one asset: another hash.
    let asset = a.join("FONT-LICENSE.txt");
    let mut bytes = std::fs::read(&asset).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&asset, bytes).unwrap();
    assert_ne!(
        ha,
        plan(&sandbox, &a, &sandbox.path().join("bundle-d"), &[])
    );

    // Comparison thresholds in meta.json are not part of what is rendered.
    let meta = b.join("meta.json");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("\"minPsnr\": 40", "\"minPsnr\": 30");
    std::fs::write(&meta, text).unwrap();
    assert_eq!(
        hb,
        plan(&sandbox, &b, &sandbox.path().join("bundle-e"), &[])
    );
}

#[test]
fn plan_skips_tool_folders_and_refuses_missing_assets() {
    let sandbox = Sandbox::new();
    let comp = sandbox.path().join("comp");
    copy_dir(&fixture("css-keyframes"), &comp);
    for junk in ["node_modules/x", "dist", ".git", "sub/.cache"] {
        std::fs::create_dir_all(comp.join(junk)).unwrap();
        std::fs::write(comp.join(junk).join("junk.txt"), "junk").unwrap();
    }
    std::fs::write(comp.join("sub/keep.txt"), "kept").unwrap();
    let bundle = sandbox.path().join("bundle");
    plan(&sandbox, &comp, &bundle, &[]);
    let compiled = bundle.join("compiled");
    assert!(compiled.join("index.html").is_file());
    assert!(compiled.join("sub/keep.txt").is_file());
    assert!(
        !compiled.join("meta.json").exists(),
        "meta.json is resolved into meta/"
    );
    for junk in ["node_modules", "dist", ".git", "sub/.cache"] {
        assert!(!compiled.join(junk).exists(), "{junk} was copied");
    }
    let manifest = std::fs::read_to_string(bundle.join("manifest.json")).unwrap();
    assert!(!manifest.contains("junk.txt"));

    let html = std::fs::read_to_string(comp.join("index.html"))
        .unwrap()
        .replace("</body>", "<img src=\"images/missing.png\"></body>");
    std::fs::write(comp.join("index.html"), html).unwrap();
    let out = sandbox.run(&[
        "plan",
        comp.to_str().unwrap(),
        "-o",
        sandbox.path().join("bundle-2").to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("index.html") && err.contains("images/missing.png"),
        "{err}"
    );
    assert!(!sandbox.path().join("bundle-2").exists());
}

#[test]
fn pack_is_deterministic_and_unpack_verifies() {
    let sandbox = Sandbox::new();
    let bundle = sandbox.path().join("bundle");
    let hash = plan(&sandbox, &fixture("timer-class"), &bundle, &[]);
    let pack = |name: &str| {
        let out_path = sandbox.path().join(name);
        let out = sandbox.run(&[
            "pack",
            bundle.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let a = pack("a.tar.zst");
    let b = pack("b.tar.zst");
    assert_eq!(a, b);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(sandbox.path().join("a.tar.zst"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o644,
        "a published archive is readable like any file"
    );
    assert_eq!(a.len(), 64);
    let sha = std::process::Command::new("sha256sum")
        .arg(sandbox.path().join("a.tar.zst"))
        .output()
        .unwrap();
    assert!(String::from_utf8(sha.stdout).unwrap().starts_with(&a));

    let unpacked = sandbox.path().join("unpacked");
    let out = sandbox.run(&[
        "unpack",
        sandbox.path().join("a.tar.zst").to_str().unwrap(),
        "-o",
        unpacked.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), hash);
    let out = sandbox.run(&["verify", sandbox.path().join("b.tar.zst").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A truncated archive is refused and nothing is left.
    let bytes = std::fs::read(sandbox.path().join("a.tar.zst")).unwrap();
    let cut = sandbox.path().join("cut.tar.zst");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let target = sandbox.path().join("from-cut");
    let out = sandbox.run(&[
        "unpack",
        cut.to_str().unwrap(),
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("corrupt or truncated"),
        "{}",
        stderr(&out)
    );
    assert!(!target.exists());
}

#[test]
fn a_tampered_bundle_is_named_and_refused() {
    let sandbox = Sandbox::new();
    let bundle = sandbox.path().join("bundle");
    plan(&sandbox, &fixture("hf-protocol"), &bundle, &[]);
    let index: PathBuf = bundle.join("compiled/index.html");
    let text = std::fs::read_to_string(&index)
        .unwrap()
        .replacen("<", "< ", 1);
    std::fs::write(&index, text).unwrap();
    std::fs::write(bundle.join("compiled/extra.js"), "1").unwrap();

    let out = sandbox.run(&["verify", bundle.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("BUNDLE_HASH_MISMATCH"), "{err}");
    assert!(err.contains("changed: compiled/index.html"), "{err}");
    assert!(err.contains("unexpected: compiled/extra.js"), "{err}");

    let out = sandbox.run(&["render-chunk", bundle.to_str().unwrap(), "--chunk", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("BUNDLE_HASH_MISMATCH"), "{err}");
}

/// `diff` on two bundles that differ by one byte of one asset names that file and nothing else
/// (exit 1), shows a unified diff for a changed text file, and finds nothing between a bundle
/// and its own packed copy (exit 0).
#[test]
fn diff_names_exactly_the_changed_file() {
    let sandbox = Sandbox::new();
    let (a_src, b_src) = (sandbox.path().join("a"), sandbox.path().join("b"));
    copy_dir(&fixture("css-keyframes"), &a_src);
    copy_dir(&fixture("css-keyframes"), &b_src);
    let font = b_src.join("DejaVuSans.ttf");
    let mut bytes = std::fs::read(&font).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&font, bytes).unwrap();
    let (a, b) = (
        sandbox.path().join("bundle-a"),
        sandbox.path().join("bundle-b"),
    );
    plan(&sandbox, &a_src, &a, &[]);
    plan(&sandbox, &b_src, &b, &[]);
    let packed = sandbox.path().join("b.tar.zst");
    let out = sandbox.run(&["pack", b.to_str().unwrap(), "-o", packed.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let diff =
        |x: &Path, y: &Path| sandbox.run(&["diff", x.to_str().unwrap(), y.to_str().unwrap()]);
    let out = diff(&a, &packed);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("bundle ")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].starts_with("changed  compiled/DejaVuSans.ttf ("),
        "{text}"
    );

    let out = diff(&b, &packed);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("same bundle "));

    // A text change shows as a unified diff.
    let index = b_src.join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, html.replace("translateX(90px)", "translateX(92px)")).unwrap();
    let c = sandbox.path().join("bundle-c");
    plan(&sandbox, &b_src, &c, &[]);
    let out = diff(&b, &c);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("--- a/compiled/index.html"), "{text}");
    assert!(
        text.contains("-") && text.contains("+") && text.contains("translateX(92px)"),
        "{text}"
    );
    let out = sandbox.run(&["diff", a.to_str().unwrap(), "no-such-bundle"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
