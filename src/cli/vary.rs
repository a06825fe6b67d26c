//! `framelock vary`: one composition rendered under variations, each held against a plain
//! render.

use camino::Utf8PathBuf;
use clap::{ArgMatches, Args, ValueEnum};

use super::common::{ToolOpts, current_exe};
use super::error::Error;
use crate::render::RunSettings;
use crate::report::TerminalReporter;
use crate::vary::{Variation, VaryRequest, vary};

/// Options of `framelock vary`.
#[derive(Debug, Clone, Args)]
pub struct VaryOpts {
    /// The composition folder.
    #[arg(value_name = "COMPOSITION")]
    pub composition: Utf8PathBuf,
    /// Only these variations (repeatable, or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = Variation::parse)]
    pub only: Vec<Variation>,
    /// Every variation but these (repeatable, or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = Variation::parse, conflicts_with = "only")]
    pub skip: Vec<Variation>,
    /// Where the renders, the pictures of differing frames and vary.json go.
    #[arg(long, value_name = "DIR", default_value = "framelock-vary")]
    pub out: Utf8PathBuf,
    #[command(flatten)]
    /// Tools.
    pub tools: ToolOpts,
}

/// `framelock vary`.
pub async fn vary_command(opts: VaryOpts, matches: &ArgMatches) -> Result<i32, Error> {
    let toolchain = opts.tools.locate(matches)?;
    let variations = Variation::ALL
        .into_iter()
        .filter(|v| opts.only.is_empty() || opts.only.contains(v))
        .filter(|v| !opts.skip.contains(v))
        .collect();
    let request = VaryRequest {
        composition: opts.composition.clone(),
        variations,
        exe: current_exe(),
        // Every render uses the tools located here, whatever its environment says.
        common_args: vec![
            "--chrome".into(),
            toolchain.chrome.real.to_string(),
            "--ffmpeg".into(),
            toolchain.ffmpeg.real.to_string(),
            "--chrome-sandbox".into(),
            opts.tools
                .chrome_sandbox
                .to_possible_value()
                .expect("every sandbox value has a name")
                .get_name()
                .into(),
        ],
        ffmpeg: toolchain.ffmpeg.real.clone(),
        out_dir: opts.out.clone(),
        run: RunSettings::new(toolchain.clone(), opts.tools.chrome_sandbox.into()),
    };
    let report = vary(&request, &TerminalReporter::default()).await?;
    eprintln!("framelock vary: wrote {}", opts.out.join("vary.json"));
    Ok(report.exit_code())
}
