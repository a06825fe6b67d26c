//! Shared test harness: temp dirs, running the built binary, reading frame codes from pixels.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Condvar, Mutex};

use serde_json::Value;

/// Browsers the whole test binary may run at once (CI has two cores).
const BROWSER_SLOTS: usize = 2;

static SLOTS: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// Holds `n` of the browser slots until dropped.
pub struct Slots(usize);

/// Waits for `n` browser slots.
pub fn browsers(n: usize) -> Slots {
    let (lock, cvar) = &SLOTS;
    let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
    while *used + n > BROWSER_SLOTS {
        used = cvar.wait(used).unwrap_or_else(|e| e.into_inner());
    }
    *used += n;
    Slots(n)
}

impl Drop for Slots {
    fn drop(&mut self) {
        let (lock, cvar) = &SLOTS;
        let mut used = lock.lock().unwrap_or_else(|e| e.into_inner());
        *used -= self.0;
        cvar.notify_all();
    }
}

/// Browsers a framelock command line starts at once.
pub fn browsers_for(args: &[&str]) -> usize {
    if args.contains(&"distributed-simulated") || args.first() == Some(&"bench") {
        2
    } else {
        1
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A committed fixture.
pub fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures").join(name)
}

/// A test-only fixture (bad or special input).
pub fn test_fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

/// A temp folder that is also the `TMPDIR` of every framelock run in it, so a test can look
/// for browsers it left behind by their profile path.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("framelock-test-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command for the built binary with this sandbox's TMPDIR and store.
    pub fn command(&self, args: &[&str]) -> Command {
        let tmp = self.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_framelock"));
        cmd.args(args)
            .env("TMPDIR", &tmp)
            .env("FRAMELOCK_STORE", self.store())
            .env("CI", "1");
        // A test run inside an array job must not hand its index to the commands it runs.
        for var in [
            "SLURM_ARRAY_TASK_ID",
            "JOB_COMPLETION_INDEX",
            "AWS_BATCH_JOB_ARRAY_INDEX",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs `framelock ARGS` with this folder as TMPDIR and checks that no browser started
    /// by it is still running afterwards.
    pub fn run(&self, args: &[&str]) -> Output {
        let tmp = self.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let _slots = browsers(browsers_for(args));
        let out = self.command(args).output().unwrap();
        assert_no_browser_left(&tmp);
        out
    }

    /// This sandbox's store.
    pub fn store(&self) -> PathBuf {
        self.path().join("store")
    }

    /// Where the store keeps the blob `hash`.
    pub fn blob_path(&self, hash: &str) -> PathBuf {
        self.store()
            .join("blobs/blake3")
            .join(&hash[..2])
            .join(hash)
    }

    /// A JSON blob of the store (a chunk record), by its hash.
    pub fn stored_json(&self, hash: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.blob_path(hash)).unwrap()).unwrap()
    }

    /// Renders `composition` to `name.mp4` in this folder with extra args, without the cache
    /// (so every render really renders); returns the output.
    pub fn render(&self, composition: &Path, name: &str, extra: &[&str]) -> Output {
        let out = self.path().join(format!("{name}.mp4"));
        let mut args = vec![
            "render",
            composition.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--no-cache",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Renders and returns the parsed `frames.json`, failing the test with stderr if the
    /// render failed.
    pub fn render_ok(&self, composition: &Path, name: &str, extra: &[&str]) -> Value {
        let out = self.render(composition, name, extra);
        self.record_of(&out, composition, name)
    }

    /// Like `render_ok`, with the cache.
    pub fn render_cached(&self, composition: &Path, name: &str, extra: &[&str]) -> Value {
        let out_path = self.path().join(format!("{name}.mp4"));
        let mut args = vec![
            "render",
            composition.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        self.record_of(&out, composition, name)
    }

    fn record_of(&self, out: &Output, composition: &Path, name: &str) -> Value {
        assert!(
            out.status.success(),
            "render of {} failed: {}",
            composition.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let record = self.path().join(format!("{name}.mp4.frames.json"));
        serde_json::from_str(&std::fs::read_to_string(record).unwrap()).unwrap()
    }

    /// Names of the entries in the sandbox (except the TMPDIR).
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "tmp" && n != "store")
            .collect();
        names.sort();
        names
    }
}

/// Fails if any process still has `marker` on its command line (browsers carry their profile
/// folder, which lives under the run's TMPDIR). A browser that was sent SIGKILL may still be
/// tearing down on a loaded machine: it gets a few seconds to finish dying.
pub fn assert_no_browser_left(marker: &Path) {
    let mut left = processes_with(marker);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        left = processes_with(marker);
    }
    assert!(left.is_empty(), "processes left running: {left:#?}");
}

/// Live processes whose command line contains `marker`.
fn processes_with(marker: &Path) -> Vec<String> {
    let marker = marker.to_string_lossy().into_owned();
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(&marker) {
            left.push(format!("{pid}: {cmdline}"));
        }
    }
    left
}

/// The frame hashes of a `frames.json`.
pub fn hashes(record: &Value) -> Vec<String> {
    record["frame_hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

/// Reads code row `row` of a frame: 12 blocks of 8×8 px, block k white when bit k is 1.
pub fn read_code(image: &image::RgbaImage, row: u32) -> u32 {
    (0..12).fold(0, |code, k| {
        let p = image.get_pixel(8 * k + 4, 8 * row + 4);
        let luma = (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000;
        if luma >= 128 { code | (1 << k) } else { code }
    })
}

/// Loads `dir/frame_NNNNNN.png`.
pub fn frame_png(dir: &Path, i: u64) -> image::RgbaImage {
    image::open(dir.join(format!("frame_{i:06}.png")))
        .unwrap()
        .into_rgba8()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
