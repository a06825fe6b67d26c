//! The variations `vary` knows: what each changes, and how a render is run under it.

use serde::Serialize;

/// One way of rendering the composition differently from the reference (in process, this
/// machine as it is, an empty store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variation {
    /// Another time zone in framelock's environment.
    Tz,
    /// Another locale in framelock's environment.
    Lang,
    /// One CPU instead of all.
    OneCpu,
    /// Busy threads on every CPU beside the render.
    CpuLoad,
    /// A hog holding about half of the available memory beside the render.
    Memory,
    /// Worker processes instead of one browser.
    Distributed,
    /// Workers, in small chunks.
    ChunkSize,
    /// Workers taking the chunks last first.
    ReverseOrder,
    /// Workers taking the chunks in a shuffled order.
    ShuffledOrder,
    /// One worker at a time.
    OneWorker,
    /// A second render from a store the first one filled.
    WarmStore,
}

/// Frames per chunk of the chunked variations: small, so many workers start mid-way.
const SMALL_CHUNKS: &str = "7";

impl Variation {
    /// Every variation, in the order they run.
    pub const ALL: [Variation; 11] = [
        Variation::Tz,
        Variation::Lang,
        Variation::OneCpu,
        Variation::CpuLoad,
        Variation::Memory,
        Variation::Distributed,
        Variation::ChunkSize,
        Variation::ReverseOrder,
        Variation::ShuffledOrder,
        Variation::OneWorker,
        Variation::WarmStore,
    ];

    /// The name `--only` and `--skip` take.
    pub fn name(self) -> &'static str {
        match self {
            Variation::Tz => "tz",
            Variation::Lang => "lang",
            Variation::OneCpu => "one-cpu",
            Variation::CpuLoad => "cpu-load",
            Variation::Memory => "memory",
            Variation::Distributed => "distributed",
            Variation::ChunkSize => "chunk-size",
            Variation::ReverseOrder => "reverse-order",
            Variation::ShuffledOrder => "shuffled-order",
            Variation::OneWorker => "one-worker",
            Variation::WarmStore => "warm-store",
        }
    }

    /// What it changes, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Variation::Tz => "TZ=Asia/Kathmandu",
            Variation::Lang => "LANG, LC_ALL=ja_JP.UTF-8, LANGUAGE=ja",
            Variation::OneCpu => "pinned to one CPU",
            Variation::CpuLoad => "a busy thread on every CPU beside it",
            Variation::Memory => "a hog holding half of MemAvailable beside it",
            Variation::Distributed => "worker processes, the composition's chunk plan",
            Variation::ChunkSize => "worker processes, chunks of 7 frames",
            Variation::ReverseOrder => "worker processes, chunks of 7, last chunk first",
            Variation::ShuffledOrder => "worker processes, chunks of 7, shuffled order",
            Variation::OneWorker => "one worker process at a time, chunks of 7",
            Variation::WarmStore => "in process, from a store an earlier render filled",
        }
    }

    /// The variation called `name`.
    pub fn parse(name: &str) -> Result<Variation, String> {
        Variation::ALL
            .into_iter()
            .find(|v| v.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Variation::ALL.iter().map(|v| v.name()).collect();
                format!("expected one of {}, found {name:?}", names.join(", "))
            })
    }

    /// Arguments added to `framelock render`.
    pub(super) fn render_args(self) -> Vec<&'static str> {
        let workers = ["--mode", "distributed-simulated", "--workers", "2"];
        let small = ["--chunk-size", SMALL_CHUNKS];
        match self {
            Variation::Distributed => workers.to_vec(),
            Variation::ChunkSize => [&workers[..], &small].concat(),
            Variation::ReverseOrder => {
                [&workers[..], &small, &["--chunk-order", "reverse"]].concat()
            }
            Variation::ShuffledOrder => {
                [&workers[..], &small, &["--chunk-order", "shuffled"]].concat()
            }
            Variation::OneWorker => [
                &["--mode", "distributed-simulated", "--workers", "1"][..],
                &small,
            ]
            .concat(),
            _ => Vec::new(),
        }
    }

    /// Environment variables set for the render.
    pub(super) fn env(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Variation::Tz => vec![("TZ", "Asia/Kathmandu")],
            Variation::Lang => vec![
                ("LANG", "ja_JP.UTF-8"),
                ("LC_ALL", "ja_JP.UTF-8"),
                ("LANGUAGE", "ja"),
            ],
            _ => Vec::new(),
        }
    }

    /// Whether the render goes through workers.
    pub(super) fn distributed(self) -> bool {
        !self.render_args().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_unknown_ones_list_the_known() {
        for v in Variation::ALL {
            assert_eq!(Variation::parse(v.name()), Ok(v));
        }
        let err = Variation::parse("tzz").unwrap_err();
        assert!(
            err.starts_with("expected one of tz, lang, one-cpu,"),
            "{err}"
        );
        assert!(err.ends_with("found \"tzz\""), "{err}");
    }
}
