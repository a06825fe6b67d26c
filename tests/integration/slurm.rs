//! `framelock submit slurm` on a real single-node Slurm (Debian's slurm-wlm and munge, started
//! here in the foreground and stopped by the PIDs this test started): a fixture rendered as an
//! array job assembles to the in-process render's frames, a task that fails once is submitted
//! again, one that keeps failing is reported with its log, Slurm's refusals are shown, and
//! every setting given at submission reaches every task and the assembly.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bundle::plan;
use crate::harness::{Sandbox, browsers, fixture, hashes, repo, stderr};

/// munged, slurmctld and slurmd, in the foreground, owned by this test.
struct Cluster {
    conf: PathBuf,
    daemons: Vec<Child>,
    _alone: std::sync::MutexGuard<'static, ()>,
}

/// One cluster at a time: the daemons share munge's folders and the host's ports.
static ONE_CLUSTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let run = |cmd: &str, args: &[&str]| {
            let status = Command::new(cmd).args(args).status().unwrap();
            assert!(status.success(), "{cmd} {args:?}");
        };
        std::fs::create_dir_all(dir).unwrap();
        std::fs::create_dir_all("/run/munge").unwrap();
        run(
            "chown",
            &[
                "-R",
                "munge:munge",
                "/run/munge",
                "/etc/munge",
                "/var/lib/munge",
                "/var/log/munge",
            ],
        );
        let mut cluster = Cluster {
            conf: dir.join("slurm.conf"),
            daemons: Vec::new(),
            _alone: ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner()),
        };
        // setpriv execs, so the PID is munged's own.
        cluster.spawn(
            Command::new("setpriv")
                .args(["--reuid", "munge", "--regid", "munge", "--clear-groups"])
                .args(["munged", "-F"]),
            &dir.join("munged.log"),
        );
        wait_for("munge to answer", || {
            Command::new("sh")
                .args(["-c", "munge -n | unmunge"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        let d = dir.display();
        std::fs::create_dir_all(dir.join("state")).unwrap();
        std::fs::create_dir_all(dir.join("spool")).unwrap();
        std::fs::write(
            &cluster.conf,
            format!(
                "ClusterName=framelock\nSlurmctldHost={host}\nSlurmUser=root\nSlurmdUser=root\n\
                 AuthType=auth/munge\nProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
                 SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\n\
                 StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
                 SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
                 SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
                 JobAcctGatherType=jobacct_gather/none\nMpiDefault=none\n\
                 NodeName={host} CPUs=2 RealMemory=8000 State=UNKNOWN\n\
                 PartitionName=main Nodes={host} Default=YES MaxTime=INFINITE State=UP\n"
            ),
        )
        .unwrap();
        let conf = cluster.conf.clone();
        cluster.spawn(
            Command::new("slurmctld").arg("-D").env("SLURM_CONF", &conf),
            &dir.join("slurmctld.out"),
        );
        wait_for("slurmctld to answer", || {
            cluster.query(&["scontrol", "ping"]).contains("UP")
        });
        cluster.spawn(
            Command::new("slurmd").arg("-D").env("SLURM_CONF", &conf),
            &dir.join("slurmd.out"),
        );
        wait_for("the node to be idle", || {
            cluster.query(&["sinfo", "-h", "-o", "%T"]).trim() == "idle"
        });
        cluster
    }

    fn spawn(&mut self, command: &mut Command, log: &Path) {
        let log = std::fs::File::create(log).unwrap();
        let child = command
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.daemons.push(child);
    }

    fn query(&self, argv: &[&str]) -> String {
        Command::new(argv[0])
            .args(&argv[1..])
            .env("SLURM_CONF", &self.conf)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Last started, first stopped; each by the PID this test started.
        for child in self.daemons.iter_mut().rev() {
            // SAFETY: signals a child process this test spawned.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A stand-in for framelock on the nodes: fails chunk `chunk` (once, or always), else runs the
/// real one.
fn failing_wrapper(dir: &Path, chunk: usize, always: bool) -> PathBuf {
    let path = dir.join(format!("framelock-failing-{chunk}-{always}"));
    let mark = dir.join(format!("failed-{chunk}-{always}"));
    let condition = if always {
        "true".to_string()
    } else {
        format!("[ ! -e '{}' ]", mark.display())
    };
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nif [ \"$SLURM_ARRAY_TASK_ID\" = {chunk} ] && {condition}; then\n  touch '{}'\n  echo 'chunk {chunk} failing on purpose' >&2\n  exit 1\nfi\nexec '{}' \"$@\"\n",
            mark.display(),
            env!("CARGO_BIN_EXE_framelock")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `css-keyframes` planned in chunks of 20: three chunks, three array tasks.
fn three_chunk_bundle(sandbox: &Sandbox) -> PathBuf {
    let bundle = sandbox.path().join("bundle");
    plan(
        sandbox,
        &fixture("css-keyframes"),
        &bundle,
        &["--chunk-size", "20"],
    );
    bundle
}

#[test]
fn a_fixture_rendered_as_a_slurm_array_job_equals_the_in_process_render() {
    let sandbox = Sandbox::new();
    let cluster = Cluster::start(&sandbox.path().join("slurm"));
    let bundle = three_chunk_bundle(&sandbox);
    let reference = sandbox.render_ok(
        &fixture("css-keyframes"),
        "reference",
        &["--chunk-size", "20"],
    );
    let submit = |store: &Path, extra: &[&str]| {
        let mut args = vec!["--max-parallel", "2"];
        args.extend_from_slice(extra);
        submit_slurm(&sandbox, &cluster, &bundle, store, &args)
    };

    // The script: an array over the three chunks, two at a time, a log per task.
    let store = sandbox.path().join("shared-store");
    let out = submit(&store, &["--dry-run"]);
    let script = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(script.contains("#SBATCH --array=0,1,2%2"), "{script}");
    assert!(script.contains("/chunk-%a.log"), "{script}");
    assert!(script.contains("render-chunk"), "{script}");

    // Chunk 1 fails once: it is submitted again, and the video has the in-process frames.
    let once = failing_wrapper(sandbox.path(), 1, false);
    let video = sandbox.path().join("slurm.mp4");
    let out = submit(
        &store,
        &[
            "--framelock",
            once.to_str().unwrap(),
            "--wait",
            "-o",
            video.to_str().unwrap(),
        ],
    );
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("again (attempt 2): 1 chunk(s)"), "{said}");
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("slurm.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["execution"], "worker");
    assert_eq!(hashes(&record), hashes(&reference));

    // A chunk that always fails is reported with its log after the last attempt.
    let always = failing_wrapper(sandbox.path(), 0, true);
    let out = submit(
        &sandbox.path().join("other-store"),
        &[
            "--framelock",
            always.to_str().unwrap(),
            "--attempts",
            "2",
            "--wait",
            "-o",
            sandbox.path().join("never.mp4").to_str().unwrap(),
        ],
    );
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains("chunk(s) 0 of bundle") && said.contains("2 attempt(s)"),
        "{said}"
    );
    assert!(
        said.contains("chunk 0 failing on purpose"),
        "the log's tail: {said}"
    );
    assert!(!sandbox.path().join("never.mp4").exists());

    // Slurm's refusal is shown with what framelock was doing.
    let out = submit(&store, &["--partition", "nosuch"]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("submitting the array job") && said.contains("nosuch"),
        "{said}"
    );
    // regress's distributed leg through Slurm, compared exactly with the in-process render (a
    // store of its own, so every chunk goes through the scheduler).
    regress_through_slurm(&sandbox, &cluster, &[]);
    drop(cluster);
}

/// Without Slurm's commands: exit 3 with the install command. A store nobody can write: an
/// error before anything is submitted.
#[test]
fn submit_slurm_names_what_is_missing_before_submitting() {
    let sandbox = Sandbox::new();
    let bundle = three_chunk_bundle(&sandbox);
    let bin = sandbox.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let out = sandbox
        .command(&[
            "submit",
            "slurm",
            bundle.to_str().unwrap(),
            "--store",
            sandbox.path().join("store").to_str().unwrap(),
        ])
        .env("PATH", &bin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sbatch not found"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("apt-get install slurm-client"),
        "{}",
        stderr(&out)
    );

    let out = sandbox.run(&["regress", "--mode", "distributed"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--mode distributed needs --executor slurm"),
        "{}",
        stderr(&out)
    );

    let out = sandbox.run(&[
        "submit",
        "slurm",
        bundle.to_str().unwrap(),
        "--store",
        "/proc/framelock-store",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/proc/framelock-store"),
        "{}",
        stderr(&out)
    );
}

/// `--video native` and a frame timeout other than the default, given to `submit slurm`: the
/// dry run's script names the worker spec and says what it holds, every task's log says it read
/// them, the assembled video is the in-process `--video native` render (its render settings,
/// not the default ones), and regress's Slurm leg with the same options matches its in-process
/// render exactly.
#[test]
fn every_setting_given_to_submit_slurm_reaches_every_task_and_the_assembly() {
    let sandbox = Sandbox::new();
    let cluster = Cluster::start(&sandbox.path().join("slurm"));
    let bundle = three_chunk_bundle(&sandbox);
    let store = sandbox.path().join("shared-store");
    // The browser by a path of its own, as the nodes see it.
    let chrome = sandbox.path().join("node-chrome");
    let real = framelock::toolchain::locate_chrome(
        framelock::toolchain::ToolChoice::from_env().chrome.as_ref(),
    )
    .unwrap();
    std::os::unix::fs::symlink(&real.real, &chrome).unwrap();
    let settings = [
        "--video",
        "native",
        "--frame-timeout",
        "12.5",
        "--chrome",
        chrome.to_str().unwrap(),
    ];
    let submit = |extra: &[&str]| {
        let mut args = settings.to_vec();
        args.extend_from_slice(extra);
        submit_slurm(&sandbox, &cluster, &bundle, &store, &args)
    };
    let said = "video native, frame timeout 12.5 s, chrome sandbox auto, render settings";
    let said_chrome = format!("chrome {}", chrome.display());

    let out = submit(&["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        script.contains(said) && script.contains(&said_chrome),
        "{script}"
    );
    let spec = script
        .lines()
        .find(|l| l.starts_with("exec "))
        .and_then(|l| l.split(" --spec ").nth(1))
        .unwrap_or_else(|| panic!("no --spec in {script}"));
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(spec).unwrap()).unwrap();
    assert_eq!(spec["video_mode"], "native");
    assert_eq!(spec["frame_timeout_ms"], 12500);
    assert_eq!(spec["tools"]["chrome"], chrome.to_str().unwrap());

    let video = sandbox.path().join("slurm.mp4");
    let out = submit(&["--wait", "-o", video.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = std::fs::read_dir(store.join("logs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("slurm");
    for chunk in 0..3 {
        let log = std::fs::read_to_string(logs.join(format!("chunk-{chunk}.log"))).unwrap();
        assert!(
            log.contains(&format!("chunk {chunk}, worker spec"))
                && log.contains(said)
                && log.contains(&said_chrome),
            "chunk {chunk}'s log: {log}"
        );
    }
    let assembled: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.path().join("slurm.mp4.frames.json")).unwrap(),
    )
    .unwrap();
    let native = sandbox.render_ok(
        &fixture("css-keyframes"),
        "native",
        &["--chunk-size", "20", "--video", "native"],
    );
    let injected = sandbox.render_ok(
        &fixture("css-keyframes"),
        "injected",
        &["--chunk-size", "20"],
    );
    let render_settings = |r: &Value| r["fingerprints"]["render_settings"].clone();
    assert_eq!(render_settings(&assembled), render_settings(&native));
    assert_ne!(
        render_settings(&assembled),
        render_settings(&injected),
        "--video native changes the render settings even without a video"
    );
    assert_eq!(hashes(&assembled), hashes(&native));

    regress_through_slurm(&sandbox, &cluster, &settings);
    drop(cluster);
}

/// `framelock submit slurm BUNDLE --store STORE ARGS` on `cluster`.
fn submit_slurm(
    sandbox: &Sandbox,
    cluster: &Cluster,
    bundle: &Path,
    store: &Path,
    args: &[&str],
) -> std::process::Output {
    let mut argv = vec![
        "submit",
        "slurm",
        bundle.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    argv.extend_from_slice(args);
    let _slots = browsers(2);
    sandbox
        .command(&argv)
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap()
}

/// `regress --mode distributed --executor slurm` of css-keyframes with `extra` options, in a
/// store of its own (every chunk goes through the scheduler): exit 0, and no finding but
/// `toolchain` (this machine's browser, or render settings no baseline blesses, are compared by
/// PSNR); any other finding is drift between the in-process render and the array job's.
fn regress_through_slurm(sandbox: &Sandbox, cluster: &Cluster, extra: &[&str]) {
    let report = sandbox.path().join(format!("report{}", extra.len()));
    let store = sandbox.path().join(format!("regress-store{}", extra.len()));
    let fixtures = repo().join("fixtures");
    let baselines = repo().join("baselines");
    let mut args = vec![
        "regress",
        "--mode",
        "distributed",
        "--executor",
        "slurm",
        "--fixture",
        "css-keyframes",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--baselines",
        baselines.to_str().unwrap(),
        "--report-dir",
        report.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = {
        let _slots = browsers(2);
        sandbox
            .command(&args)
            .env("SLURM_CONF", &cluster.conf)
            .output()
            .unwrap()
    };
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("submitted Slurm job"), "{said}");
    assert!(said.contains("1 passed, 0 failed"), "{said}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["mode"], "distributed");
    let drift: Vec<&Value> = json["fixtures"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] != "toolchain")
        .collect();
    assert!(drift.is_empty(), "{drift:?}");
}
