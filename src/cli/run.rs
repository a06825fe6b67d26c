//! Dispatch: turn parsed options into engine requests, run them, print results and errors.

use std::io::Write;

use clap::Parser;

use super::args::{Cli, Command, DoctorOpts, RenderOpts};
use crate::composition::{Composition, Overrides};
use crate::doctor::{DoctorOptions, DoctorReport, run_doctor};
use crate::error::{Error, exit_code};
use crate::render::{RenderRequest, render};
use crate::report::TerminalReporter;
use crate::toolchain::Toolchain;

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let result = runtime.block_on(async {
        tokio::select! {
            result = dispatch(cli) => result,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    });
    // Dropping the runtime cancels whatever was in flight: browsers and encoders are killed by
    // their owners' Drop.
    drop(runtime);
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            if let Some(hint) = err.hint() {
                eprintln!("hint: {hint}");
            }
            err.exit_code()
        }
    }
}

async fn dispatch(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Render(opts) => render_command(opts).await,
        Command::Doctor(opts) => doctor_command(opts).await,
    }
}

async fn render_command(opts: RenderOpts) -> Result<i32, Error> {
    let overrides = Overrides {
        fps: opts.fps,
        width: opts.width,
        height: opts.height,
        duration: opts.duration,
        frame_count: opts.frame_count,
    };
    let composition = Composition::load(&opts.composition, &overrides)?;
    let toolchain = Toolchain::locate(opts.tools.chrome.as_deref(), opts.tools.ffmpeg.as_deref())?;
    let request = RenderRequest {
        composition,
        output: opts.output.clone(),
        frames: opts.frames,
        chunk_size: opts.chunk_size,
        png_dir: opts.png_dir.clone(),
        capture: opts.capture.into(),
        sandbox: opts.tools.chrome_sandbox.into(),
        strict: opts.strict,
        virtual_time: !opts.debug_real_time,
        frame_timeout: opts.frame_timeout(),
        toolchain,
    };
    render(&request, &TerminalReporter::default()).await?;
    Ok(exit_code::SUCCESS)
}

async fn doctor_command(opts: DoctorOpts) -> Result<i32, Error> {
    let report = run_doctor(&DoctorOptions {
        chrome: opts.tools.chrome.clone(),
        ffmpeg: opts.tools.ffmpeg.clone(),
        sandbox: opts.tools.chrome_sandbox.into(),
        capture: opts.capture.into(),
    })
    .await?;
    let mut out = std::io::stdout().lock();
    if opts.json {
        let json = serde_json::to_string_pretty(&report).expect("the report serialises");
        let _ = writeln!(out, "{json}");
    } else {
        let _ = write!(out, "{}", human(&report));
    }
    Ok(exit_code::SUCCESS)
}

fn human(r: &DoctorReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "browser       {} ({})\n",
        r.chrome_version, r.chrome_found_by
    ));
    s.push_str(&format!("  binary      {}\n", r.chrome_binary));
    if r.chrome != r.chrome_binary {
        s.push_str(&format!(
            "  wrapper     {} (resolved to the binary above)\n",
            r.chrome
        ));
    }
    s.push_str(&format!("  GPU         {} (software: ok)\n", r.gpu));
    s.push_str(&format!("  sandbox     {}\n", r.sandbox));
    s.push_str(&format!(
        "ffmpeg        {} ({})\n",
        r.ffmpeg_version, r.ffmpeg_found_by
    ));
    s.push_str(&format!("  binary      {}\n", r.ffmpeg));
    s.push_str(&format!("fonts         {}\n", r.fontconfig));
    for f in &r.fonts {
        s.push_str(&format!("  {f}\n"));
    }
    s.push_str(&format!(
        "fingerprints  toolchain {} ({} files hashed)\n",
        r.toolchain_fingerprint, r.toolchain_files
    ));
    s.push_str(&format!(
        "              render settings {}\n",
        r.render_settings_fingerprint
    ));
    s.push_str("flags         ");
    s.push_str(&r.flags.join(" "));
    s.push('\n');
    s
}
