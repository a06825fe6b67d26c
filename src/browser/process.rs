//! Starting Chrome as a child in its own process group, and reaping it on every exit path.
//!
//! framelock starts the real browser binary itself (not through chromiumoxide's launcher) so
//! that the command line is exactly the configured one and the whole process tree (zygote,
//! GPU and renderer processes) sits in one process group. Dropping [`ChromeProcess`] kills that
//! group and waits for the browser, so errors, panics and Ctrl-C never leave a browser behind.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use super::BrowserError;
use super::flags::{CaptureMode, SandboxDecision, launch_flags};
use crate::toolchain::{Fonts, Toolchain};

/// How long a browser may take to open its DevTools endpoint.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);

/// How many lines of Chrome's stderr are kept for error messages.
const STDERR_TAIL_LINES: usize = 20;

/// Everything needed to start one browser.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// The real browser binary (not a wrapper script).
    pub binary: Utf8PathBuf,
    /// The configured flags, each with its leading dashes.
    pub flags: Vec<String>,
    /// The pinned fonts, the only ones Chrome sees.
    pub fonts: Fonts,
    /// How long to wait for the DevTools endpoint.
    pub timeout: Duration,
}

impl LaunchSpec {
    /// The launch of a render or `doctor` browser: the toolchain's real binary and pinned
    /// fonts, the flags of `capture`, the sandbox as decided.
    pub fn new(
        toolchain: &Toolchain,
        capture: CaptureMode,
        sandbox: &SandboxDecision,
    ) -> LaunchSpec {
        LaunchSpec {
            binary: toolchain.chrome.real.clone(),
            flags: launch_flags(capture, sandbox),
            fonts: toolchain.fonts.clone(),
            timeout: LAUNCH_TIMEOUT,
        }
    }
}

/// A running browser, owned: dropping it kills the process group and reaps the browser.
#[derive(Debug)]
pub struct ChromeProcess {
    child: Child,
    pgid: i32,
    ws_url: String,
    command_line: String,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    // Dropping it ends the guardian thread, after Drop::drop killed and reaped the browser.
    _guardian: mpsc::Sender<()>,
    // Deleted after the browser is gone (field order: dropped after `Drop::drop` ran).
    _profile: tempfile::TempDir,
}
/// Variables that would win over `LANG` for the browser's locale and Intl defaults: taken
/// out of its environment.
const LOCALE_OVERRIDES: [&str; 6] = [
    "LANGUAGE",
    "LC_ALL",
    "LC_MESSAGES",
    "LC_CTYPE",
    "LC_TIME",
    "LC_NUMERIC",
];
impl ChromeProcess {
    /// Starts the browser and waits until it prints its DevTools address. Blocking.
    pub fn launch(spec: &LaunchSpec) -> Result<ChromeProcess, BrowserError> {
        let profile = tempfile::Builder::new()
            .prefix("framelock-chrome-")
            .tempdir()
            .map_err(|source| BrowserError::Launch {
                binary: spec.binary.clone(),
                source,
            })?;
        let profile_dir = Utf8Path::from_path(profile.path())
            .expect("temp directories are created under a UTF-8 TMPDIR by tempfile")
            .to_owned();
        let fonts_conf = profile_dir.join("fonts.conf");
        let fontconfig = spec
            .fonts
            .fontconfig(&profile_dir.join("fontconfig-cache"))
            .map_err(|e| BrowserError::Launch {
                binary: spec.binary.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        std::fs::write(&fonts_conf, fontconfig).map_err(|source| BrowserError::Launch {
            binary: spec.binary.clone(),
            source,
        })?;

        let mut cmd = Command::new(&spec.binary);
        cmd.args(&spec.flags)
            .arg(format!("--user-data-dir={profile_dir}/profile"))
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .env("TZ", "UTC")
            .env("LANG", "C.UTF-8")
            .env("FONTCONFIG_FILE", &fonts_conf)
            .env("HOME", &profile_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        for var in LOCALE_OVERRIDES {
            cmd.env_remove(var);
        }
        let command_line = format!("{} {}", spec.binary, spec.flags.join(" "));
        // SAFETY: prctl is async-signal-safe and touches only the child being started.
        unsafe {
            cmd.pre_exec(|| {
                // If framelock dies without running its cleanup (SIGKILL), the kernel kills the
                // browser: the "parent" here is the guardian thread below, which lives exactly
                // as long as this ChromeProcess or the framelock process.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let (spawned_tx, spawned_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let ok = spawned_tx.send(cmd.spawn()).is_ok();
            if ok {
                // Returns when the ChromeProcess is dropped (the sender goes away).
                let _ = release_rx.recv();
            }
        });
        let mut child = spawned_rx
            .recv()
            .expect("the guardian thread sends the spawn result")
            .map_err(|source| BrowserError::Launch {
                binary: spec.binary.clone(),
                source,
            })?;
        let pgid = i32::try_from(child.id()).expect("process ids fit in i32");

        let stderr = child.stderr.take().expect("stderr was piped above");
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = mpsc::channel();
        {
            let tail = Arc::clone(&tail);
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(url) = line.strip_prefix("DevTools listening on ") {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(url.trim().to_string());
                        }
                        continue;
                    }
                    let mut tail = tail.lock().expect("stderr tail lock is never poisoned");
                    if tail.len() == STDERR_TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            });
        }

        let mut process = ChromeProcess {
            child,
            pgid,
            ws_url: String::new(),
            command_line,
            stderr_tail: tail,
            _guardian: release_tx,
            _profile: profile,
        };
        match rx.recv_timeout(spec.timeout) {
            Ok(url) => {
                process.ws_url = url;
                Ok(process)
            }
            Err(_) => {
                let status = process.child.try_wait().ok().flatten();
                Err(BrowserError::NoDevtools {
                    command: process.command_line.clone(),
                    status: status.map(|s| s.to_string()),
                    stderr: process.stderr_tail(),
                })
            }
        }
    }

    /// The DevTools WebSocket address.
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// The command line that started the browser (for error messages).
    pub fn command_line(&self) -> &str {
        &self.command_line
    }

    /// The last lines Chrome wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        let tail = self
            .stderr_tail
            .lock()
            .expect("stderr tail lock is never poisoned");
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// The browser's exit status, if it has exited.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The browser's process id (also its process group id).
    pub fn pid(&self) -> i32 {
        self.pgid
    }
}

impl Drop for ChromeProcess {
    fn drop(&mut self) {
        // SAFETY: killpg only sends a signal; the group is the one this process created.
        unsafe {
            libc::killpg(self.pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}
