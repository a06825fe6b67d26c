//! `cache ls`, `cache verify` and `cache gc`: looking after the store.

use std::io::Write;

use clap::{Args, Subcommand};

use super::common::StoreOpts;
use super::error::Error;
use crate::exit_code;
use crate::store::{CacheEntry, Index};

/// `framelock cache` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum CacheCommand {
    /// List cached chunk records: bundle, chunk, frames, execution kind, age.
    Ls(StoreOpts),
    /// Hash every blob and follow every cache key; exit 1 naming each corrupted entry.
    Verify(StoreOpts),
    /// Remove cache entries older than --keep-days and the blobs only they needed.
    Gc(GcOpts),
}

/// Options of `framelock cache gc`.
#[derive(Debug, Clone, Args)]
pub struct GcOpts {
    /// Keep entries younger than this many days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub keep_days: u64,
    #[command(flatten)]
    /// Store.
    pub store: StoreOpts,
}

/// `framelock cache …`.
pub fn cache_command(command: CacheCommand) -> Result<i32, Error> {
    let mut out = std::io::stdout().lock();
    match command {
        CacheCommand::Ls(store) => {
            let store = store.open()?;
            let entries = crate::store::list(&store)?;
            let _ = write!(out, "{}", listing(&entries));
            let _ = writeln!(
                out,
                "{} cached chunk record(s), {} bisect verdict(s), {} kept bundle(s) and {} passed fixture result(s) in {}",
                entries.len(),
                store.keys(Index::Verdicts)?.len(),
                store.keys(Index::Bundles)?.len(),
                store.keys(Index::Results)?.len(),
                store.root()
            );
            Ok(exit_code::SUCCESS)
        }
        CacheCommand::Verify(store) => {
            let store = store.open()?;
            let report = crate::store::verify(&store)?;
            for problem in &report.problems {
                let _ = writeln!(out, "corrupted: {problem}");
            }
            let _ = writeln!(
                out,
                "{} blob(s) and {} cache key(s) checked, {} problem(s)",
                report.blobs_checked,
                report.keys_checked,
                report.problems.len()
            );
            Ok(if report.problems.is_empty() {
                exit_code::SUCCESS
            } else {
                exit_code::REGRESSION
            })
        }
        CacheCommand::Gc(opts) => {
            let store = opts.store.open()?;
            let report = crate::store::gc(&store, opts.keep_days)?;
            let _ = writeln!(
                out,
                "removed {} cache key(s), {} blob(s) and {} worker log folder(s); {} bytes of blobs freed",
                report.keys_removed,
                report.blobs_removed,
                report.log_dirs_removed,
                report.bytes_freed
            );
            Ok(exit_code::SUCCESS)
        }
    }
}

/// The table of `cache ls`: a row per cached chunk record, or what is wrong with it.
fn listing(entries: &[CacheEntry]) -> String {
    let mut out = format!(
        "{:<14} {:>5} {:<12} {:<10} {:>8}  record\n",
        "bundle", "chunk", "frames", "execution", "age"
    );
    for e in entries {
        match &e.chunk {
            Some(c) => out.push_str(&format!(
                "{:<14} {:>5} {:<12} {:<10} {:>8}  {}\n",
                c.bundle_hash.short(),
                c.chunk_index.to_string(),
                c.range.to_string(),
                c.execution.to_string(),
                age(e.age_seconds),
                e.record.as_ref().map_or("", |r| r.short())
            )),
            None => out.push_str(&format!(
                "unreadable entry {}: {}\n",
                e.key.short(),
                e.problem.as_deref().unwrap_or("unknown problem")
            )),
        }
    }
    out
}

/// An age as people say it: seconds, minutes, hours or days.
fn age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
