//! The command line's top: the subcommands, dispatch, Ctrl-C and SIGTERM, and the exit code.
//! Each subcommand family (its options, their conversion to engine values, its run) lives in a
//! file of its own beside this one.

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use super::bisect::{
    BisectOpts, BisectStepOpts, DiffRunsOpts, bisect_command, bisect_step_command,
    diff_runs_command,
};
use super::bundle::{
    DiffOpts, PackOpts, UnpackOpts, VerifyOpts, diff_command, pack_command, unpack_command,
    verify_command,
};
use super::cache::{CacheCommand, cache_command};
use super::error::Error;
use super::regress::{RegressOpts, regress_command};
use super::render::{
    AssembleOpts, PlanOpts, RenderChunkOpts, RenderOpts, assemble_command, plan_command,
    render_chunk_command, render_command,
};
use super::submit::{SubmitCommand, submit_k8s_command, submit_slurm_command};
use super::tools::{BenchOpts, DoctorOpts, bench_command, doctor_command};
use super::vary::{VaryOpts, vary_command};
use crate::exit_code;

/// Prove that HTML-to-video rendering is reproducible.
///
/// framelock renders a composition (a folder with an animating index.html) to video in
/// chrome-headless-shell, deterministically: the page's clock, timers and randomness come from
/// the frame index, and every frame's pixels are hashed. The same composition can be rendered
/// in one process or split into chunks that separate worker processes render from a frozen,
/// content-addressed bundle; both give the same frames.
///
/// Exit codes: 0 success, 1 regression or drift found, 2 usage or input error, 3 environment
/// error (missing or unusable toolchain), 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "framelock", version, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a composition to video.
    ///
    /// Writes OUTPUT (H.264 MP4) and OUTPUT.frames.json: the frame rate, size, frame count,
    /// capture mode, bundle hash, fingerprints, the blake3 hash of each frame's raw RGBA
    /// pixels, and everything the page logged, with its frame. The composition is planned into
    /// a bundle first; chunk records go to the store, and an identical later render reuses
    /// them (--no-cache renders anyway).
    ///
    /// Examples:
    ///   framelock render fixtures/css-keyframes -o out.mp4
    ///   framelock render fixtures/css-keyframes -o out.mp4 --mode distributed-simulated --workers 2 --chunk-size 20
    #[command(verbatim_doc_comment)]
    Render(RenderOpts),
    /// Render every fixture, compare with workers and baselines, and name any drift.
    ///
    /// Per fixture: render in process (cached); with --mode distributed-simulated also with
    /// workers, comparing every chunk's frame hashes and encoded bytes exactly (a mismatch is
    /// checked against one more uncached in-process render, then named: nondeterministic,
    /// frame-time, chunk-boundary, encoder); then compare with baselines/<fixture>: exactly on
    /// a blessed toolchain, else by PSNR against baseline.mp4 with a toolchain warning. A
    /// fixture whose meta.json declares expectedFindings passes when exactly those are found.
    /// Writes REPORT_DIR/report.json and report.html (plots, console errors, failure
    /// pictures). Exit 0 all passed (skips and toolchain warnings allowed), 1 any failure or
    /// drift, 2 usage or input (a fixture that cannot be read), 3 environment (browser or
    /// ffmpeg missing or failing).
    ///
    /// Example: framelock regress --mode distributed-simulated
    Regress(RegressOpts),
    /// Freeze a composition into a content-addressed bundle a worker can render alone.
    ///
    /// Copies the composition and its local assets into BUNDLE/compiled (skipping
    /// node_modules, .git, .cache, output, failures, dist, .next, .turbo), resolves the
    /// render settings into BUNDLE/meta, writes manifest.json and plan.json, and prints the
    /// bundle hash. The hash names what is rendered: not the toolchain, not the chunk plan.
    /// A browser is started only when the duration must be read from the page.
    Plan(PlanOpts),
    /// Render one chunk of a bundle into the store (what a worker runs).
    ///
    /// Checks the bundle hash (BUNDLE_HASH_MISMATCH), the job's worker spec against the bundle
    /// and this framelock's render settings (RENDER_SETTINGS_MISMATCH), this machine's
    /// toolchain against the planning machine's (TOOLCHAIN_MISMATCH) and that the GPU is
    /// software (BROWSER_GPU_NOT_SOFTWARE), then renders frames [start, end) of the chunk and
    /// stores the encoded chunk and its record. How it renders comes from --spec (what the
    /// worker pool, `submit slurm` and `submit k8s` pass) or from the options. Prints one JSON
    /// line on stdout: {"chunk": I, "record": "<hash>", "reused": false}.
    RenderChunk(RenderChunkOpts),
    /// Join a bundle's chunks from the store into a video.
    ///
    /// Every chunk record is checked (frame count equals the range length, blobs verify)
    /// before anything is written; writes OUTPUT, OUTPUT.frames.json and a run record.
    Assemble(AssembleOpts),
    /// Pack a bundle into a deterministic .tar.zst and print its sha256.
    Pack(PackOpts),
    /// Unpack a packed bundle, refusing links, devices, absolute paths, `..` and oversized
    /// archives.
    Unpack(UnpackOpts),
    /// Recompute every file hash and the bundle hash of a bundle (folder or .tar.zst).
    ///
    /// Exits 0 when it is intact, 2 naming each file that differs.
    Verify(VerifyOpts),
    /// Show what differs between two bundles (folders, .tar.zst, or hashes of bundles kept in
    /// the store): files added, removed and changed with their sizes and hashes, a unified
    /// diff of small text files, and changed encoder settings; with --runs, the fingerprints
    /// of their renders.
    ///
    /// Exits 0 when the bundle hashes are equal (nothing that is rendered differs), 1 when they
    /// differ, 2 when a side is not a bundle or fails verification.
    Diff(DiffOpts),
    /// Compare two renders (videos framelock wrote, with their frames.json) frame by frame: the
    /// first divergent frame and its chunk, the PSNR of the frames that differ, the drift the
    /// first divergent chunk shows (A is the reference), the worst frame as PNGs in --out, and
    /// the page elements covering its differing pixels.
    ///
    /// The elements are read from the page of A's bundle as the store keeps it: renders that
    /// use the store keep their bundle; after `--no-cache` or `--frames` the elements are
    /// unavailable.
    ///
    /// Exits 0 when every frame is equal, 1 when frames differ, 2 when a side is not a render.
    DiffRuns(DiffRunsOpts),
    /// Find the commit that introduced a determinism regression, and what it changed.
    ///
    /// Walks the first-parent history from --good to --bad by halving. Each step checks the
    /// commit out into a temporary worktree (your checkout, index and HEAD are never touched),
    /// plans each fixture into a bundle, and judges it: bad means a determinism failure
    /// (worker chunks differ from the in-process render, or two in-process renders differ,
    /// beyond what the fixture's expectedFindings declare); with --against-good, in-process
    /// frames other than the good revision's. A bundle already judged with the same chunk
    /// plan, toolchain, render settings, framelock build and bad-definition is not rendered
    /// again: its stored verdict is reused, whichever commit or earlier bisect judged it. A
    /// commit whose fixtures cannot be planned is skipped. Both ends are judged first.
    ///
    /// Ends with the first bad commit, the drift it shows, and the `diff` of each changed
    /// bundle against the last good commit's; with --out, the renders are kept there, a folder
    /// per commit.
    /// Exits 0 when the first bad commit is found, 1 when skipped commits leave several
    /// candidates, 2 for revisions that are not as described (--good is bad, --bad is good,
    /// not an ancestor), 3 environment.
    ///
    /// Example: framelock bisect --good v1.2 --bad HEAD --fixture spinner
    Bisect(BisectOpts),
    /// Judge the current checkout for `git bisect run`: exit 0 good, 1 bad, 125 skip.
    ///
    /// Judges the fixtures of the checkout in --repo as one step of `bisect` does (verdicts
    /// are reused by bundle hash from the store). A checkout whose fixtures cannot be planned
    /// exits 125, which `git bisect run` skips. Usage and environment errors (a missing
    /// browser, an unusable store) exit 128, which makes `git bisect run` stop instead of
    /// marking the commit bad; Ctrl-C exits 130. Renders go to a temporary folder unless --out
    /// is given, so the checkout stays clean.
    ///
    /// Example:
    ///   git bisect start BAD GOOD
    ///   git bisect run framelock bisect-step --fixture spinner
    #[command(verbatim_doc_comment)]
    BisectStep(BisectStepOpts),
    /// Hand a bundle's chunks to a cluster scheduler.
    #[command(subcommand)]
    Submit(SubmitCommand),
    /// Look after the store: list, verify or garbage-collect cached chunk records.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Check the toolchain: browser, GPU, fonts, ffmpeg, and the fingerprints.
    ///
    /// Exits 3 with the install command when a tool is missing or unusable.
    Doctor(DoctorOpts),
    /// Measure speed against this machine's limits, as ratios from one run.
    ///
    /// Capture throughput at 320x180 and 1280x720: a bare BeginFrame loop (the limit) against
    /// framelock in process (BeginFrame and screenshot capture), with the time per frame split
    /// into seek, capture, decode, hash, pipe and encode; in process against 1 and 2 workers,
    /// with each worker's peak memory; blake3 against sha256, and packing, unpacking and
    /// verifying a bundle of a few hundred files; framelock's compare against ffmpeg's psnr
    /// filter on two 1080p videos; a second `regress` against the first; on a long 1080p page
    /// (bench/heavy-orbit-long), the in-process path and what a worker starting at its end pays
    /// for its walk. Writes bench.json and BENCHMARKS.md to --out, with the targets reached,
    /// and prints the targets. Takes several minutes (--quick: about a minute). Run it from a
    /// checkout: it uses fixtures/ and bench/. Its stores are temporary: it never reads or
    /// fills yours.
    Bench(BenchOpts),
    /// Render a composition under variations and name the ones that change its frames.
    ///
    /// A plain render (in process, this environment, an empty store) is the reference; then
    /// one render per variation, each compared with it by the raw-pixel hash of every frame
    /// (other chunk plans encode other bytes by design): tz (TZ=Asia/Kathmandu), lang
    /// (ja_JP.UTF-8), one-cpu (pinned to one CPU), cpu-load (a busy thread on every CPU beside
    /// it), memory (a hog holding half of MemAvailable), distributed (worker processes),
    /// chunk-size (chunks of 7), reverse-order and shuffled-order (workers taking chunks last
    /// first, or shuffled), one-worker, warm-store (a second render read back from the store).
    /// Prints each as identical, or its first differing frame, the drift it is and the page
    /// elements covering the differing pixels of its worst frame (largest share first); writes
    /// vary.json (format_version 1) and pictures of that frame to --out. Exits 0 when every
    /// variation is identical, 1 when one differs.
    ///
    /// Example:
    ///   framelock vary fixtures/heavy-layers --skip memory,cpu-load
    #[command(verbatim_doc_comment)]
    Vary(VaryOpts),
}

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> i32 {
    // `git bisect run` reads exit 2 as "bad": bisect-step turns every usage error into 128.
    let bisect_step = std::env::args().nth(1).as_deref() == Some("bisect-step");
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return match e.use_stderr() {
                true if bisect_step => exit_code::BISECT_ABORT,
                _ => e.exit_code(),
            };
        }
    };
    if let Err((name, message)) = validate(&cli.command) {
        let mut command = Cli::command();
        command.build();
        let e = command
            .find_subcommand_mut(name)
            .expect("the subcommand exists")
            .error(clap::error::ErrorKind::ArgumentConflict, message);
        let _ = e.print();
        return if bisect_step {
            exit_code::BISECT_ABORT
        } else {
            e.exit_code()
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let result = runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler can be installed");
        tokio::select! {
            result = dispatch(cli, leaf(&matches)) => result,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
            _ = terminate.recv() => Err(Error::Interrupted),
        }
    });
    // Dropping the runtime cancels whatever was in flight: browsers, encoders and workers are
    // stopped by their owners' Drop.
    drop(runtime);
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            if let Some(hint) = err.hint() {
                eprintln!("hint: {hint}");
            }
            match err {
                Error::Interrupted => exit_code::INTERRUPTED,
                _ if bisect_step => exit_code::BISECT_ABORT,
                _ => err.exit_code(),
            }
        }
    }
}

/// Combinations clap cannot express: the subcommand and what is wrong.
fn validate(command: &Command) -> Result<(), (&'static str, String)> {
    match command {
        Command::Render(opts) => opts.validate().map_err(|m| ("render", m)),
        Command::Regress(opts) => opts.validate().map_err(|m| ("regress", m)),
        _ => Ok(()),
    }
}

/// The matches of the innermost subcommand, where its options are.
fn leaf(matches: &ArgMatches) -> &ArgMatches {
    match matches.subcommand() {
        Some((_, sub)) => leaf(sub),
        None => matches,
    }
}

async fn dispatch(cli: Cli, matches: &ArgMatches) -> Result<i32, Error> {
    match cli.command {
        Command::Render(opts) => render_command(opts, matches).await,
        Command::Regress(opts) => regress_command(opts, matches).await,
        Command::Plan(opts) => plan_command(opts, matches).await,
        Command::RenderChunk(opts) => render_chunk_command(opts, matches).await,
        Command::Assemble(opts) => assemble_command(opts, matches).await,
        Command::Pack(opts) => pack_command(&opts),
        Command::Unpack(opts) => unpack_command(&opts),
        Command::Verify(opts) => verify_command(&opts),
        Command::Diff(opts) => diff_command(&opts),
        Command::DiffRuns(opts) => diff_runs_command(&opts, matches).await,
        Command::Bisect(opts) => bisect_command(opts, matches).await,
        Command::BisectStep(opts) => bisect_step_command(opts, matches).await,
        Command::Cache(command) => cache_command(command),
        Command::Submit(SubmitCommand::K8s(opts)) => submit_k8s_command(&opts),
        Command::Submit(SubmitCommand::Slurm(opts)) => submit_slurm_command(opts, matches).await,
        Command::Doctor(opts) => doctor_command(opts, matches).await,
        Command::Bench(opts) => bench_command(opts, matches).await,
        Command::Vary(opts) => vary_command(opts, matches).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The help text is part of the interface: a change to it shows up in review.
    #[test]
    fn help_text() {
        use clap::CommandFactory;
        let mut cli = Cli::command().term_width(100);
        insta::assert_snapshot!("help", cli.render_long_help().to_string());
        for name in [
            "regress",
            "render",
            "plan",
            "render-chunk",
            "assemble",
            "pack",
            "unpack",
            "verify",
            "diff",
            "diff-runs",
            "bisect",
            "bisect-step",
            "bench",
            "vary",
            "submit",
            "doctor",
        ] {
            let sub = cli.find_subcommand_mut(name).expect("subcommand exists");
            insta::assert_snapshot!(format!("help_{name}"), sub.render_long_help().to_string());
        }
        let families: [(&str, &[&str]); 2] = [
            ("submit", &["slurm", "k8s"]),
            ("cache", &["ls", "verify", "gc"]),
        ];
        for (family, names) in families {
            let family_command = cli.find_subcommand_mut(family).expect("subcommand exists");
            for &name in names {
                let sub = family_command
                    .find_subcommand_mut(name)
                    .expect("subcommand exists");
                insta::assert_snapshot!(
                    format!("help_{family}_{name}"),
                    sub.render_long_help().to_string()
                );
            }
        }
    }

    #[test]
    fn regress_combinations_clap_cannot_express_are_refused() {
        for (line, said) in [
            (
                "framelock regress --mode distributed",
                "needs --executor slurm",
            ),
            (
                "framelock regress --executor slurm",
                "--executor needs --mode distributed",
            ),
            (
                "framelock regress --update --mode distributed-simulated",
                "in-process renders only",
            ),
            ("framelock regress --inject no-reseed:1", "--inject needs"),
        ] {
            let args: Vec<&str> = line.split(' ').collect();
            let Command::Regress(opts) = Cli::try_parse_from(&args).unwrap().command else {
                panic!("{line} is a regress");
            };
            let err = opts.validate().unwrap_err();
            assert!(err.contains(said), "{line}: {err}");
        }
        let args = [
            "framelock",
            "regress",
            "--mode",
            "distributed",
            "--executor",
            "slurm",
        ];
        let Command::Regress(opts) = Cli::try_parse_from(args).unwrap().command else {
            panic!("a regress");
        };
        assert_eq!(opts.validate(), Ok(()));
    }

    #[test]
    fn command_lines() {
        let ok = [
            "framelock render c -o o.mp4",
            "framelock render c -o o.mp4 --fps 30000/1001 --width 320 --height 180",
            "framelock render c -o o.mp4 --frames 3..9 --png-dir p --chunk-size 7",
            "framelock render c -o o.mp4 --capture screenshot --chrome-sandbox off --strict",
            "framelock render c -o o.mp4 --duration 1.5 --frame-timeout 2",
            "framelock doctor --json --chrome /x/chrome",
            "framelock regress --mode distributed-simulated --workers 2 --fixture a --fixture b",
            "framelock regress --update --report-dir r --baselines b --no-strict",
            "framelock regress --no-strict --strict --events jsonl",
            "framelock regress --mode distributed-simulated --inject clock-shift:1:-2",
            "framelock regress --mode distributed-simulated --inject encoder-qp:0:20",
            "framelock regress --mode distributed-simulated --inject no-reseed:1",
            "framelock regress --mode distributed-simulated --inject wall-clock:0",
            "framelock regress --mode distributed-simulated --inject video-offset:2:-1",
            "framelock regress --mode distributed-simulated --inject audio-delay:120",
            "framelock regress --mode distributed --executor slurm --partition p",
            "framelock render-chunk b --chunk 1 --inject-video-offset -2",
            "framelock render-chunk b --chunk 1 --inject-no-reseed",
            "framelock bisect --good v1 --fixture a --fixture b --repo r --against-good",
            "framelock bisect --good v1 --bad main --workers 2 --out o --store s",
            "framelock bisect-step --fixture a --fixtures f --out o",
            "framelock submit k8s b --image i --parallelism 2 --namespace n -o j.json",
            "framelock submit slurm b --store s --max-parallel 2 --wait -o o.mp4",
            "framelock submit slurm b --store s --partition p --dry-run",
            "framelock render-chunk b",
        ];
        for line in ok {
            let args: Vec<&str> = line.split(' ').collect();
            assert!(Cli::try_parse_from(&args).is_ok(), "{line}");
        }
        let bad = [
            "framelock render c",
            "framelock render c -o o.mp4 --fps 0",
            "framelock render c -o o.mp4 --fps fast",
            "framelock render c -o o.mp4 --width 0",
            "framelock render c -o o.mp4 --duration -1",
            "framelock render c -o o.mp4 --duration 1 --frame-count 3",
            "framelock render c -o o.mp4 --frames 9..3",
            "framelock render c -o o.mp4 --capture fast",
            "framelock render c -o o.mp4 --chrome-sandbox maybe",
            "framelock frobnicate",
            "framelock regress --mode distributed-workers",
            "framelock regress --workers 0",
            "framelock regress --events yaml",
            "framelock regress --mode distributed-simulated --inject clock-shift:1:0",
            "framelock regress --mode distributed-simulated --inject encoder-qp:1:99",
            "framelock regress --mode distributed-simulated --inject wobble:1:2",
            "framelock regress --mode distributed-simulated --inject no-reseed:1:2",
            "framelock regress --mode distributed-simulated --inject wall-clock",
            "framelock render-chunk b --chunk 1 --inject-no-reseed --inject-clock-shift 2",
            "framelock bisect --bad HEAD",
            "framelock bisect --good v1 --workers 0",
            "framelock submit k8s b",
            "framelock submit slurm b --store s --wait",
            "framelock submit slurm b",
            "framelock submit slurm b --store s --dry-run --wait -o o.mp4",
            "framelock submit k8s b --image i --parallelism 0",
        ];
        for line in bad {
            let args: Vec<&str> = line.split(' ').collect();
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line}");
        }
    }
}
