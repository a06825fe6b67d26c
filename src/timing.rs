//! Frame time: the exact frame rate, frame indexes and ranges, chunk plans and BeginFrame ticks.
//!
//! Frame `i` is at `t_i = i / fps` seconds, computed from the index every time so no float error
//! accumulates across a long render. Everything that depends on time (the page's virtual clock,
//! `frameTimeTicks`, the encoder's frame rate) derives from these values, which is what lets a
//! chunk that starts at frame `s` reproduce exactly what a continuous render did at frame `s`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An exact, positive frame rate `num / den`, kept in lowest terms (`30`, `30000/1001`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fps {
    num: u32,
    den: u32,
}

/// Why a frame rate could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a positive frame rate such as 30, 29.97 or 30000/1001, found {found:?}")]
pub struct FpsParseError {
    /// The text that was given.
    pub found: String,
}

impl Fps {
    /// A frame rate from numerator and denominator; `None` when either is zero.
    pub fn new(num: u32, den: u32) -> Option<Fps> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Fps {
            num: num / g,
            den: den / g,
        })
    }

    /// A whole frame rate, for constants.
    pub const fn integer(n: u32) -> Fps {
        assert!(n > 0, "a frame rate is positive");
        Fps { num: n, den: 1 }
    }

    /// The numerator.
    pub fn num(self) -> u32 {
        self.num
    }

    /// The denominator.
    pub fn den(self) -> u32 {
        self.den
    }

    /// The rate as a float, for display and for multiplying a duration.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// The time of frame `i` in seconds, computed from the index (no accumulation).
    pub fn frame_time(self, i: FrameIndex) -> f64 {
        (i.0 as f64 * f64::from(self.den)) / f64::from(self.num)
    }

    /// The frame interval in milliseconds.
    pub fn interval_ms(self) -> f64 {
        1000.0 * f64::from(self.den) / f64::from(self.num)
    }

    /// `N = round(duration × fps)`: the number of frames a duration in seconds covers.
    pub fn frames_in(self, seconds: f64) -> u64 {
        (seconds * f64::from(self.num) / f64::from(self.den)).round() as u64
    }

    /// The frames a duration covers as HyperFrames counts them: `duration × fps` rounded when
    /// it is within a thousandth of a frame of a whole number, else rounded up, so a last
    /// partial frame is rendered.
    pub fn frames_covering(self, seconds: f64) -> u64 {
        let exact = seconds * f64::from(self.num) / f64::from(self.den);
        let nearest = exact.round();
        if (exact - nearest).abs() <= 1e-3 {
            nearest as u64
        } else {
            exact.ceil() as u64
        }
    }

    /// Parses a number given in JSON: integers exactly, the NTSC rates (29.97, 23.976, 59.94)
    /// as their `x000/1001` rationals, any other decimal to the nearest thousandth.
    pub fn from_decimal(value: f64) -> Option<Fps> {
        if !value.is_finite() || value <= 0.0 || value > 1000.0 {
            return None;
        }
        for ntsc in [24_000u32, 30_000, 48_000, 60_000, 120_000] {
            let rate = f64::from(ntsc) / 1001.0;
            if (value - rate).abs() < 0.006 && value.fract() != 0.0 {
                return Fps::new(ntsc, 1001);
            }
        }
        if value.fract() == 0.0 {
            return Fps::new(value as u32, 1);
        }
        Fps::new((value * 1000.0).round() as u32, 1000)
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl FromStr for Fps {
    type Err = FpsParseError;

    fn from_str(s: &str) -> Result<Fps, FpsParseError> {
        let err = || FpsParseError {
            found: s.to_string(),
        };
        let s = s.trim();
        if let Some((num, den)) = s.split_once('/') {
            let num: u32 = num.trim().parse().map_err(|_| err())?;
            let den: u32 = den.trim().parse().map_err(|_| err())?;
            return Fps::new(num, den).ok_or_else(err);
        }
        let value: f64 = s.parse().map_err(|_| err())?;
        Fps::from_decimal(value).ok_or_else(err)
    }
}

impl fmt::Display for Fps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl Serialize for Fps {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fps {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Fps, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The index of a frame in a composition, counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FrameIndex(pub u64);

impl fmt::Display for FrameIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A non-empty half-open range of frames `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRange {
    start: u64,
    end: u64,
}

/// Why a frame range could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a frame range START..END with START < END (END exclusive), found {found:?}")]
pub struct FrameRangeParseError {
    /// The text that was given.
    pub found: String,
}

impl FrameRange {
    /// `[start, end)`; `None` when empty.
    pub fn new(start: u64, end: u64) -> Option<FrameRange> {
        (start < end).then_some(FrameRange { start, end })
    }

    /// The first frame.
    pub fn start(self) -> FrameIndex {
        FrameIndex(self.start)
    }

    /// One past the last frame.
    pub fn end(self) -> FrameIndex {
        FrameIndex(self.end)
    }

    /// The number of frames.
    pub fn len(self) -> u64 {
        self.end - self.start
    }

    /// Always false: ranges are never empty. Present because `len` is.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Every frame in order.
    pub fn frames(self) -> impl Iterator<Item = FrameIndex> {
        (self.start..self.end).map(FrameIndex)
    }

    /// Whether `i` lies inside.
    pub fn contains(self, i: FrameIndex) -> bool {
        (self.start..self.end).contains(&i.0)
    }
}

impl FromStr for FrameRange {
    type Err = FrameRangeParseError;

    fn from_str(s: &str) -> Result<FrameRange, FrameRangeParseError> {
        let err = || FrameRangeParseError {
            found: s.to_string(),
        };
        let (a, b) = s.split_once("..").ok_or_else(err)?;
        let start: u64 = a.trim().parse().map_err(|_| err())?;
        let end: u64 = b.trim().parse().map_err(|_| err())?;
        FrameRange::new(start, end).ok_or_else(err)
    }
}

impl fmt::Display for FrameRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl Serialize for FrameRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.start, self.end].serialize(s)
    }
}

impl<'de> Deserialize<'de> for FrameRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FrameRange, D::Error> {
        let [start, end] = <[u64; 2]>::deserialize(d)?;
        FrameRange::new(start, end)
            .ok_or_else(|| serde::de::Error::custom("frame range must not be empty"))
    }
}

/// A chunk's place in its plan, from 0: what `render-chunk --chunk`, array task indexes, chunk
/// records and findings name a chunk by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChunkIndex(pub usize);

impl fmt::Display for ChunkIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ChunkIndex {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<ChunkIndex, Self::Err> {
        s.trim().parse().map(ChunkIndex)
    }
}

/// How a frame range is cut into chunks: consecutive ranges that cover it exactly, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChunkPlan(Vec<FrameRange>);

impl ChunkPlan {
    /// Cuts `range` into chunks of `chunk_size` frames (the last may be shorter). Chunk starts
    /// are multiples of `chunk_size` counted from frame 0, so a sub-range render shares its chunk
    /// boundaries with the full render.
    pub fn by_size(range: FrameRange, chunk_size: u64) -> ChunkPlan {
        let size = chunk_size.max(1);
        let mut chunks = Vec::new();
        let mut start = range.start;
        while start < range.end {
            let end = ((start / size + 1) * size).min(range.end);
            chunks.push(FrameRange { start, end });
            start = end;
        }
        ChunkPlan(chunks)
    }

    /// One chunk covering the whole range.
    pub fn single(range: FrameRange) -> ChunkPlan {
        ChunkPlan(vec![range])
    }

    /// The chunks in order.
    pub fn chunks(&self) -> &[FrameRange] {
        &self.0
    }

    /// How many chunks there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the plan has no chunk at all (only a damaged `plan.json` can say so).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The frames of chunk `index`, if the plan has it.
    pub fn get(&self, index: ChunkIndex) -> Option<FrameRange> {
        self.0.get(index.0).copied()
    }

    /// Every chunk with its index, in order.
    pub fn indexed(&self) -> impl Iterator<Item = (ChunkIndex, FrameRange)> + '_ {
        self.0.iter().enumerate().map(|(i, r)| (ChunkIndex(i), *r))
    }

    /// The frames from the first chunk's start to the last one's end.
    pub fn range(&self) -> FrameRange {
        let first = self.0.first().expect("a plan has at least one chunk");
        let last = self.0.last().expect("a plan has at least one chunk");
        FrameRange {
            start: first.start,
            end: last.end,
        }
    }
}

/// Base of the BeginFrame tick sequence, in milliseconds. Chrome only needs ticks to increase
/// within a session; a large base leaves room below frame 0 for warm-up ticks.
const TICK_BASE_MS: f64 = 1_000_000.0;

/// The `frameTimeTicks` of frame `i`: `base + i × interval`, from the index alone, so a chunk
/// that starts at frame `s` issues exactly the suffix of ticks a continuous render issues.
pub fn frame_ticks(fps: Fps, i: FrameIndex) -> f64 {
    TICK_BASE_MS + (i.0 as f64 * 1000.0 * f64::from(fps.den)) / f64::from(fps.num)
}

/// The tick of a warm-up frame before the first captured frame `first`: half an interval below
/// it, strictly below every captured tick and strictly above the previous frame's tick.
pub fn warmup_ticks(fps: Fps, first: FrameIndex) -> f64 {
    frame_ticks(fps, first) - fps.interval_ms() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frame_rates() {
        let cases = [
            ("30", Some((30, 1))),
            ("30000/1001", Some((30000, 1001))),
            ("60/2", Some((30, 1))),
            ("29.97", Some((30000, 1001))),
            ("23.976", Some((24000, 1001))),
            ("12.5", Some((25, 2))),
            ("0", None),
            ("-24", None),
            ("30/0", None),
            ("fast", None),
            ("", None),
        ];
        for (text, expected) in cases {
            let parsed = text.parse::<Fps>().ok().map(|f| (f.num(), f.den()));
            assert_eq!(parsed, expected, "parsing {text:?}");
        }
    }

    #[test]
    fn frame_times_do_not_accumulate_error() {
        let fps: Fps = "30000/1001".parse().unwrap();
        let t = fps.frame_time(FrameIndex(30_000));
        assert_eq!(t, 1001.0);
        assert_eq!(fps.frames_in(10.01), 300);
    }

    #[test]
    fn hyperframes_renders_a_last_partial_frame() {
        // 1.98 s at 29.97 is 59.34 frames: rounded 59, HyperFrames renders the partial 60th.
        let ntsc: Fps = "30000/1001".parse().unwrap();
        assert_eq!((ntsc.frames_in(1.98), ntsc.frames_covering(1.98)), (59, 60));
        let thirty = Fps::integer(30);
        assert_eq!(thirty.frames_covering(1.01), 31);
        // Within a thousandth of a frame of a whole number, float noise is rounded away.
        assert_eq!(thirty.frames_covering(1.00002), 30);
        assert_eq!(thirty.frames_covering(0.99998), 30);
    }

    #[test]
    fn chunk_plans_cover_the_range_on_global_boundaries() {
        let plan = ChunkPlan::by_size(FrameRange::new(5, 23).unwrap(), 7);
        let ranges: Vec<String> = plan.chunks().iter().map(|r| r.to_string()).collect();
        assert_eq!(ranges, ["5..7", "7..14", "14..21", "21..23"]);
        let ones = ChunkPlan::by_size(FrameRange::new(0, 3).unwrap(), 1);
        assert_eq!(ones.chunks().len(), 3);
    }

    #[test]
    fn ticks_increase_and_warmups_stay_below() {
        let fps = Fps::new(30, 1).unwrap();
        let ticks: Vec<f64> = (0..100).map(|i| frame_ticks(fps, FrameIndex(i))).collect();
        assert!(ticks.windows(2).all(|w| w[0] < w[1]));
        let w = warmup_ticks(fps, FrameIndex(40));
        assert!(w < ticks[40] && w > ticks[39]);
        assert!(warmup_ticks(fps, FrameIndex(0)) > 0.0);
    }

    #[test]
    fn frame_ranges_parse() {
        assert_eq!("3..9".parse::<FrameRange>().unwrap().len(), 6);
        assert!("9..3".parse::<FrameRange>().is_err());
        assert!("4..4".parse::<FrameRange>().is_err());
        assert!("x".parse::<FrameRange>().is_err());
    }
}
