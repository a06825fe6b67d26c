//! `doctor` and `bench`: the toolchain checked, and framelock's speed measured against this
//! machine's limits.

use std::io::Write;

use camino::Utf8PathBuf;
use clap::{ArgMatches, Args};

use super::common::{CaptureOpt, ToolOpts, current_exe, positive_count};
use super::error::Error;
use crate::bench::{BenchRequest, Section, bench};
use crate::doctor::{DoctorOptions, run_doctor};
use crate::exit_code;
use crate::render::RunSettings;
use crate::report::TerminalReporter;

/// Options of `framelock bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchOpts {
    /// Where bench.json and BENCHMARKS.md go.
    #[arg(long, value_name = "DIR", default_value = "framelock-bench")]
    pub out: Utf8PathBuf,
    /// Frames per capture figure.
    #[arg(long, value_name = "N", default_value_t = 300, value_parser = positive_count)]
    pub frames: u64,
    /// A small, fast run (30 frames, fewer files, one fixture) that shows the bench works;
    /// its figures are too small to trust.
    #[arg(long)]
    pub quick: bool,
    /// The fixtures folder.
    #[arg(long, value_name = "DIR", default_value = "fixtures")]
    pub fixtures: Utf8PathBuf,
    /// The long 1080p composition of the heavy section.
    #[arg(long, value_name = "DIR", default_value = "bench/heavy-orbit-long")]
    pub heavy: Utf8PathBuf,
    /// Only this section (repeatable). Default: every section.
    #[arg(long, value_enum, value_name = "SECTION")]
    pub only: Vec<Section>,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// Options of `framelock doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorOpts {
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Capture mode whose render-settings fingerprint is shown.
    #[arg(long, value_enum, default_value_t = CaptureOpt::Beginframe)]
    pub capture: CaptureOpt,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// `framelock doctor`.
pub async fn doctor_command(opts: DoctorOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let report = run_doctor(&DoctorOptions {
        tools: opts.tools.choice(matches),
        sandbox: opts.tools.chrome_sandbox.into(),
        capture: opts.capture.into(),
    })
    .await?;
    let mut out = std::io::stdout().lock();
    if opts.json {
        let json = serde_json::to_string_pretty(&report).expect("the report serialises");
        let _ = writeln!(out, "{json}");
    } else {
        let _ = write!(out, "{}", report.text());
    }
    Ok(exit_code::SUCCESS)
}

/// `framelock bench`.
pub async fn bench_command(opts: BenchOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let fixture = opts.fixtures.join("css-keyframes");
    if !fixture.is_dir() {
        return Err(Error::NoBenchFixture { path: fixture });
    }
    let request = BenchRequest {
        fixtures: opts.fixtures.clone(),
        heavy: opts.heavy.clone(),
        frames: if opts.quick { 30 } else { opts.frames },
        quick: opts.quick,
        run: RunSettings::new(
            opts.tools.locate(matches)?,
            opts.tools.chrome_sandbox.into(),
        ),
        worker_exe: current_exe(),
        command: std::iter::once("framelock".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        only: opts.only.clone(),
    };
    let report = bench(&request, &TerminalReporter::default()).await?;
    report.write(&opts.out)?;
    print!("{}", report.targets_markdown());
    eprintln!(
        "framelock bench: wrote {} and {}",
        opts.out.join("bench.json"),
        opts.out.join("BENCHMARKS.md")
    );
    Ok(exit_code::SUCCESS)
}
