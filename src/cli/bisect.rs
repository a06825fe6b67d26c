//! `bisect`, `bisect-step` and `diff-runs`: finding the commit that brought a determinism
//! regression, and comparing two renders frame by frame.

use camino::Utf8PathBuf;
use clap::{ArgMatches, Args};

use super::common::{StoreOpts, ToolOpts, current_exe, default_workers, scratch};
use super::error::Error;
use super::regress::FixtureRunOpts;
use crate::bisect::{
    Bad, BisectRequest, JudgeSettings, Verdict, bisect, diff_runs, judge_checkout,
};
use crate::exit_code;
use crate::render::RunSettings;
use crate::report::TerminalReporter;

/// `framelock bisect`.
#[derive(Debug, Clone, Args)]
pub struct BisectOpts {
    /// A revision whose fixtures are good.
    #[arg(long, value_name = "REV")]
    pub good: String,
    /// A revision whose fixtures are bad, descended from --good.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub bad: String,
    /// A folder in the git repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: Utf8PathBuf,
    /// Bad means in-process frames other than the good revision's (to hunt a visual change),
    /// instead of a determinism failure.
    #[arg(long)]
    pub against_good: bool,
    /// Keep each judged commit's renders here, a folder per commit (default: a temporary
    /// folder, removed at the end, so the checkout stays clean).
    #[arg(long, value_name = "DIR")]
    pub out: Option<Utf8PathBuf>,
    #[command(flatten)]
    /// Fixtures, renders, store and tools.
    pub run: FixtureRunOpts,
}

/// `framelock bisect-step`.
#[derive(Debug, Clone, Args)]
pub struct BisectStepOpts {
    /// The checkout to judge.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: Utf8PathBuf,
    /// Keep the renders here instead of in a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<Utf8PathBuf>,
    #[command(flatten)]
    /// Fixtures, renders, store and tools.
    pub run: FixtureRunOpts,
}

/// `framelock diff-runs`.
#[derive(Debug, Clone, Args)]
pub struct DiffRunsOpts {
    /// The reference render (a video framelock wrote).
    #[arg(value_name = "A")]
    pub a: Utf8PathBuf,
    /// The render compared with it.
    #[arg(value_name = "B")]
    pub b: Utf8PathBuf,
    /// Where the pictures of the worst frame go.
    #[arg(long, value_name = "DIR", default_value = "framelock-diff")]
    pub out: Utf8PathBuf,
    #[command(flatten)]
    /// The store that keeps A's bundle.
    pub store: StoreOpts,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// How each checkout is judged, from the shared fixture options.
fn judge_settings(opts: &FixtureRunOpts, matches: &ArgMatches) -> Result<JudgeSettings, Error> {
    Ok(JudgeSettings {
        fixtures: opts.fixtures.clone(),
        only: opts.fixtures_only.clone(),
        workers: default_workers(opts.workers),
        run: opts.run_settings(matches)?,
        store: opts.store.open()?,
        worker_exe: current_exe(),
    })
}

/// `--out` when given, else a temporary folder removed when the guard drops.
fn out_or_temp(
    out: Option<&Utf8PathBuf>,
) -> Result<(Option<tempfile::TempDir>, Utf8PathBuf), Error> {
    match out {
        Some(dir) => Ok((None, dir.clone())),
        None => {
            let (temp, dir) = scratch()?;
            Ok((Some(temp), dir))
        }
    }
}

/// `framelock bisect`.
pub async fn bisect_command(opts: BisectOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let (_temp, out_dir) = out_or_temp(opts.out.as_ref())?;
    let request = BisectRequest {
        repo: opts.repo.clone(),
        good: opts.good.clone(),
        bad: opts.bad.clone(),
        against_good: opts.against_good,
        judge: judge_settings(&opts.run, matches)?,
        out_dir,
    };
    let outcome = bisect(&request, &TerminalReporter::default()).await?;
    print!("{}", outcome.text());
    Ok(outcome.exit_code())
}

/// `framelock bisect-step`: 0 good, 1 bad, 125 skip (anything else is turned into 128 by the
/// caller, so `git bisect run` stops).
pub async fn bisect_step_command(opts: BisectStepOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let settings = judge_settings(&opts.run, matches)?;
    let (_temp, out_dir) = out_or_temp(opts.out.as_ref())?;
    let judged = judge_checkout(
        &opts.repo,
        &settings,
        &Bad::Determinism,
        &out_dir,
        &TerminalReporter::default(),
    )
    .await?;
    let reason = judged.reason().map_or(String::new(), |r| format!(": {r}"));
    println!("{}{reason}", judged.verdict);
    Ok(match judged.verdict {
        Verdict::Good => exit_code::SUCCESS,
        Verdict::Bad => exit_code::REGRESSION,
        Verdict::Skip(_) => exit_code::BISECT_SKIP,
    })
}

/// `framelock diff-runs`.
pub async fn diff_runs_command(opts: &DiffRunsOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let toolchain = opts.tools.locate(matches)?;
    let mut diff = diff_runs(&toolchain.ffmpeg.real, &opts.a, &opts.b, &opts.out)?;
    if diff.images.is_some() {
        let settings = RunSettings::new(toolchain.clone(), opts.tools.chrome_sandbox.into());
        diff.name_elements(opts.store.open(), settings).await;
    }
    print!("{}", diff.text());
    Ok(if diff.is_same() {
        exit_code::SUCCESS
    } else {
        exit_code::REGRESSION
    })
}
