//! The frame sink: decodes captured PNGs, hashes their pixels, writes debug PNGs and feeds the
//! chunk encoders, on its own thread so the browser captures frame i+1 while frame i is
//! encoded.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use camino::{Utf8Path, Utf8PathBuf};

use super::error::RenderError;
use crate::encode::{ChunkEncoder, EncoderSettings};
use crate::timing::{Fps, FrameIndex, FrameRange};

/// Frames in flight between capture and encoding.
const QUEUE_DEPTH: usize = 4;

enum Job {
    StartChunk {
        range: FrameRange,
        output: Utf8PathBuf,
    },
    Frame {
        index: FrameIndex,
        png: Vec<u8>,
    },
    EndChunk,
}

/// One encoded chunk.
pub struct EncodedChunk {
    /// The frames.
    pub range: FrameRange,
    /// blake3 of each frame's raw RGBA pixels, in order.
    pub hashes: Vec<String>,
    /// The encoded file.
    pub file: Utf8PathBuf,
}

/// What the sink produced: the chunks, in order, and where its time went.
pub struct SinkOutput {
    /// The encoded chunks.
    pub chunks: Vec<EncodedChunk>,
    /// Seconds per stage, summed over every frame.
    pub seconds: SinkSeconds,
}

/// Where the sink's time went, summed over its frames.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SinkSeconds {
    /// Decoding the captured PNG to RGBA.
    pub decode: f64,
    /// blake3 of the RGBA pixels.
    pub hash: f64,
    /// Writing the pixels into the encoder's pipe (waiting when it is full).
    pub pipe: f64,
    /// Waiting for each chunk's encoder to finish after its last frame.
    pub finish: f64,
}

/// The sending side, used by the capture loop.
pub struct Sink {
    tx: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<Result<SinkOutput, RenderError>>>,
}

/// Settings of the sink.
pub struct SinkConfig {
    /// ffmpeg.
    pub ffmpeg: Utf8PathBuf,
    /// Encoder settings.
    pub encoder: EncoderSettings,
    /// Frame size.
    pub width: u32,
    /// Frame size.
    pub height: u32,
    /// Frame rate.
    pub fps: Fps,
    /// Where to write each frame as PNG, if asked.
    pub png_dir: Option<Utf8PathBuf>,
}

impl Sink {
    /// Starts the sink thread.
    pub fn start(config: SinkConfig) -> Sink {
        let (tx, rx) = sync_channel(QUEUE_DEPTH);
        let thread = std::thread::spawn(move || run(config, rx));
        Sink {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Starts a chunk; its encoder writes `output`.
    pub fn start_chunk(
        &mut self,
        range: FrameRange,
        output: Utf8PathBuf,
    ) -> Result<(), RenderError> {
        self.send(Job::StartChunk { range, output })
    }

    /// Hands over one captured frame.
    pub fn frame(&mut self, index: FrameIndex, png: Vec<u8>) -> Result<(), RenderError> {
        self.send(Job::Frame { index, png })
    }

    /// Ends the current chunk.
    pub fn end_chunk(&mut self) -> Result<(), RenderError> {
        self.send(Job::EndChunk)
    }

    fn send(&mut self, job: Job) -> Result<(), RenderError> {
        let tx = self.tx.as_ref().expect("the sink is open until finish");
        if tx.send(job).is_err() {
            // The thread stopped on an error; finishing returns it.
            return Err(self.take_error());
        }
        Ok(())
    }

    fn take_error(&mut self) -> RenderError {
        self.tx.take();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => RenderError::SinkStopped,
        }
    }

    /// Waits for the last chunk to be encoded.
    pub fn finish(mut self) -> Result<SinkOutput, RenderError> {
        self.tx.take();
        self.thread
            .take()
            .expect("finish is called once")
            .join()
            .expect("the sink thread does not panic")
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Closing the channel ends the thread; its encoder kills ffmpeg on drop.
        self.tx.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(config: SinkConfig, rx: Receiver<Job>) -> Result<SinkOutput, RenderError> {
    let mut chunks = Vec::new();
    let mut current: Option<(FrameRange, Vec<String>)> = None;
    let mut encoder: Option<ChunkEncoder> = None;
    let mut seconds = SinkSeconds::default();
    let mut hasher = blake3::Hasher::new();
    let mut lap = std::time::Instant::now();
    let mut split = |into: &mut f64| {
        let now = std::time::Instant::now();
        *into += (now - lap).as_secs_f64();
        lap = now;
    };
    for job in rx {
        match job {
            Job::StartChunk { range, output } => {
                current = Some((range, Vec::with_capacity(range.len() as usize)));
                encoder = Some(ChunkEncoder::start(
                    &config.ffmpeg,
                    &config.encoder,
                    config.width,
                    config.height,
                    config.fps,
                    range.len(),
                    &output,
                )?);
            }
            Job::Frame { index, png } => {
                split(&mut 0.0);
                let (rgba, hash_seconds) = decode_and_hash(&png, index, &config, &mut hasher)?;
                let hash = hasher.finalize().to_hex().to_string();
                split(&mut seconds.decode);
                seconds.decode -= hash_seconds;
                seconds.hash += hash_seconds;
                current
                    .as_mut()
                    .expect("a chunk is started before its frames")
                    .1
                    .push(hash);
                if let Some(dir) = &config.png_dir {
                    write_png(dir, index, &png)?;
                }
                split(&mut 0.0);
                encoder
                    .as_mut()
                    .expect("a chunk is started before its frames")
                    .write_frame(&rgba)?;
                split(&mut seconds.pipe);
            }
            Job::EndChunk => {
                split(&mut 0.0);
                let done = encoder.take().expect("a chunk is started before it ends");
                let (range, hashes) = current.take().expect("a chunk is started before it ends");
                let file = done.finish()?;
                split(&mut seconds.finish);
                chunks.push(EncodedChunk {
                    range,
                    hashes,
                    file,
                });
            }
        }
    }
    Ok(SinkOutput { chunks, seconds })
}

/// Rows hashed at once: enough for blake3's widest SIMD batch, few enough to still be in the
/// core's cache when they are hashed right after being decoded.
const HASH_BAND_BYTES: usize = 64 * 1024;

/// Decodes a captured PNG into RGBA pixels and hashes them into `hasher` (reset first), a band
/// of rows at a time as they are decoded: hashing the whole frame afterwards reads it back from
/// memory, which on a busy machine costs twice the hashing itself. Returns the pixels and the
/// seconds spent hashing. Interlaced or unusual PNGs, which Chrome does not write, are decoded
/// whole and hashed after.
fn decode_and_hash(
    png: &[u8],
    index: FrameIndex,
    config: &SinkConfig,
    hasher: &mut blake3::Hasher,
) -> Result<(Vec<u8>, f64), RenderError> {
    let bad = |reason: String| crate::browser::BrowserError::BadScreenshot {
        frame: index.0,
        reason,
    };
    hasher.reset();
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    // Palettes and transparency expanded as the image crate does; 16-bit samples are left
    // alone, so such a picture takes the whole-decoding path and its rounding.
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(|e| bad(e.to_string()))?;
    let (width, height) = (reader.info().width, reader.info().height);
    if width != config.width || height != config.height {
        return Err(bad(format!(
            "it is {width}x{height}, expected {}x{}",
            config.width, config.height
        ))
        .into());
    }
    let color = reader.output_color_type();
    let rgb = match color {
        (png::ColorType::Rgba, png::BitDepth::Eight) => false,
        (png::ColorType::Rgb, png::BitDepth::Eight) => true,
        _ => return decode_whole(png, index, hasher),
    };
    if reader.info().interlaced {
        return decode_whole(png, index, hasher);
    }
    let stride = width as usize * 4;
    let mut rgba = vec![0u8; stride * height as usize];
    let mut row_rgb = vec![0u8; if rgb { width as usize * 3 } else { 0 }];
    let band_rows = (HASH_BAND_BYTES / stride).max(1);
    let mut hashed = 0;
    let mut hash_seconds = 0.0;
    for y in 0..height as usize {
        let out = &mut rgba[y * stride..(y + 1) * stride];
        let read = if rgb {
            let read = reader.read_row(&mut row_rgb);
            for (px, from) in out.chunks_exact_mut(4).zip(row_rgb.chunks_exact(3)) {
                px[..3].copy_from_slice(from);
                px[3] = u8::MAX;
            }
            read
        } else {
            reader.read_row(out)
        };
        if read.map_err(|e| bad(e.to_string()))?.is_none() {
            return Err(bad(format!("it ends after {y} of {height} rows")).into());
        }
        if (y + 1) % band_rows == 0 || y + 1 == height as usize {
            let started = std::time::Instant::now();
            let end = (y + 1) * stride;
            hasher.update(&rgba[hashed..end]);
            hashed = end;
            hash_seconds += started.elapsed().as_secs_f64();
        }
    }
    Ok((rgba, hash_seconds))
}

/// Decodes a PNG whole with the image crate and hashes its RGBA pixels into `hasher`.
fn decode_whole(
    png: &[u8],
    index: FrameIndex,
    hasher: &mut blake3::Hasher,
) -> Result<(Vec<u8>, f64), RenderError> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png).map_err(|e| {
        crate::browser::BrowserError::BadScreenshot {
            frame: index.0,
            reason: e.to_string(),
        }
    })?;
    let rgba = image.into_rgba8().into_raw();
    let started = std::time::Instant::now();
    hasher.update(&rgba);
    Ok((rgba, started.elapsed().as_secs_f64()))
}

fn write_png(dir: &Utf8Path, index: FrameIndex, png: &[u8]) -> Result<(), RenderError> {
    let path = dir.join(format!("frame_{:06}.png", index.0));
    std::fs::write(&path, png).map_err(|source| RenderError::Write { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(width: u32, height: u32) -> SinkConfig {
        SinkConfig {
            ffmpeg: "ffmpeg".into(),
            encoder: EncoderSettings::default(),
            width,
            height,
            fps: Fps::new(30, 1).unwrap(),
            png_dir: None,
        }
    }

    fn encode(image: image::DynamicImage) -> Vec<u8> {
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    }

    /// A picture whose every pixel differs from its neighbours, large enough for many bands.
    fn pattern(width: u32, height: u32) -> image::RgbaImage {
        image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([
                (x * 7) as u8,
                (y * 13) as u8,
                (x ^ y) as u8,
                (x + y) as u8 | 1,
            ])
        })
    }

    #[test]
    fn decoding_in_bands_gives_the_pixels_and_hash_of_decoding_whole() {
        let (width, height) = (301, 233);
        let rgba = image::DynamicImage::ImageRgba8(pattern(width, height));
        let rgb = image::DynamicImage::ImageRgb8(rgba.to_rgb8());
        let gray = image::DynamicImage::ImageLuma8(rgba.to_luma8());
        let deep = image::DynamicImage::ImageRgba16(rgba.to_rgba16());
        for (what, picture) in [
            ("rgba", rgba),
            ("rgb", rgb),
            ("gray", gray),
            ("16-bit", deep),
        ] {
            let png = encode(picture.clone());
            let mut hasher = blake3::Hasher::new();
            hasher.update(b"left over from the previous frame");
            let (pixels, _) =
                decode_and_hash(&png, FrameIndex(3), &config(width, height), &mut hasher).unwrap();
            let expected = picture.to_rgba8().into_raw();
            assert!(pixels == expected, "{what}: pixels differ");
            assert_eq!(hasher.finalize(), blake3::hash(&expected), "{what}");
        }
    }

    #[test]
    fn a_picture_of_another_size_or_cut_short_is_a_bad_screenshot_naming_the_frame() {
        let png = encode(image::DynamicImage::ImageRgba8(pattern(64, 48)));
        let mut hasher = blake3::Hasher::new();
        let err = decode_and_hash(&png, FrameIndex(9), &config(64, 40), &mut hasher).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("frame 9") && text.contains("64x48, expected 64x40"),
            "{text}"
        );
        let cut = &png[..png.len() / 2];
        let err = decode_and_hash(cut, FrameIndex(9), &config(64, 48), &mut hasher).unwrap_err();
        assert!(err.to_string().contains("frame 9"), "{err}");
    }
}
