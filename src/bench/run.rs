//! The bench run itself: each section in turn, each figure reported as it is made.

use super::error::BenchError;
use super::measure;
use super::report::{BENCH_FORMAT_VERSION, BenchReport, CaptureRow, HeavyRow, targets};
use super::request::{BenchRequest, Section};
use crate::browser::{CaptureMode, RawFormat};
use crate::report::{RenderEvent, Reporter};

/// Runs every measurement, reporting each as it is made.
pub async fn bench(
    request: &BenchRequest,
    reporter: &dyn Reporter,
) -> Result<BenchReport, BenchError> {
    let say = |section: &str, result: String| {
        reporter.report(&RenderEvent::BenchMeasured {
            section: section.into(),
            result,
        })
    };
    let wanted = |section: Section| request.only.is_empty() || request.only.contains(&section);
    let mut capture = Vec::new();
    for size in [(320, 180), (1280, 720)]
        .into_iter()
        .filter(|_| wanted(Section::Capture))
    {
        let composition = measure::capture_composition(request, size)?;
        let mut record = |row: CaptureRow| {
            say(
                "capture",
                format!(
                    "{} {}: {:.1} frames/s",
                    row.size, row.path, row.frames_per_second
                ),
            );
            capture.push(row);
        };
        for format in [RawFormat::Png, RawFormat::PngFast, RawFormat::Jpeg] {
            record(measure::raw_capture(request, &composition, format).await?);
        }
        for mode in [CaptureMode::BeginFrame, CaptureMode::Screenshot] {
            record(measure::framelock_capture(request, &composition, mode).await?);
        }
        record(measure::seek_and_capture(request, &composition).await?);
    }
    let scaling = if wanted(Section::Scaling) {
        measure::scaling(request).await?
    } else {
        Vec::new()
    };
    for row in &scaling {
        say("scaling", format!("{}: {:.2} s", row.path, row.seconds));
    }
    let hashing = if wanted(Section::Hashing) {
        measure::hashing(request).await?
    } else {
        Vec::new()
    };
    for row in &hashing {
        say(
            "hashing",
            format!("{}: {:.0} MiB/s", row.what, row.mib_per_second),
        );
    }
    let compare = if wanted(Section::Compare) {
        measure::comparison(request)?
    } else {
        Vec::new()
    };
    for row in &compare {
        say(
            "compare",
            format!(
                "{}: framelock {:.2} s, ffmpeg psnr {:.2} s",
                row.case, row.framelock_seconds, row.ffmpeg_psnr_seconds
            ),
        );
    }
    let cache = if wanted(Section::Cache) {
        let cache = measure::cache(request, &()).await?;
        say(
            "cache",
            format!(
                "regress of {} fixture(s): {:.1} s, again {:.2} s, from cached chunks only {:.1} s",
                cache.fixtures,
                cache.first_seconds,
                cache.second_seconds,
                cache.chunks_only_seconds
            ),
        );
        Some(cache)
    } else {
        None
    };
    let heavy = if wanted(Section::Heavy) {
        heavy(request, &say).await?
    } else {
        Vec::new()
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut report = BenchReport {
        format_version: BENCH_FORMAT_VERSION,
        command: request.command.clone(),
        quick: request.quick,
        machine: format!(
            "{cpus} CPU(s); {}; {}",
            request.run.toolchain.chrome.real, request.run.toolchain.ffmpeg.real
        ),
        cpus,
        capture,
        scaling,
        hashing,
        compare,
        cache,
        heavy,
        targets: Vec::new(),
    };
    report.targets = targets(&report);
    Ok(report)
}

/// The heavy section, each figure said as it is made.
async fn heavy(
    request: &BenchRequest,
    say: &dyn Fn(&str, String),
) -> Result<Vec<HeavyRow>, BenchError> {
    let rows = measure::heavy(request).await?;
    for row in &rows {
        let rate = row.frames as f64 / row.seconds;
        say(
            "heavy",
            format!("{}: {:.2} s ({rate:.2} frames/s)", row.what, row.seconds),
        );
    }
    Ok(rows)
}
