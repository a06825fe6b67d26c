//! The frame sink: decodes captured PNGs, hashes their pixels, writes debug PNGs and feeds the
//! chunk encoders, on its own thread so the browser captures frame i+1 while frame i is
//! encoded.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use camino::{Utf8Path, Utf8PathBuf};

use super::engine::RenderError;
use crate::encode::{ChunkEncoder, EncoderSettings};
use crate::error::Error;
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
    thread: Option<JoinHandle<Result<SinkOutput, Error>>>,
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
    pub fn start_chunk(&mut self, range: FrameRange, output: Utf8PathBuf) -> Result<(), Error> {
        self.send(Job::StartChunk { range, output })
    }

    /// Hands over one captured frame.
    pub fn frame(&mut self, index: FrameIndex, png: Vec<u8>) -> Result<(), Error> {
        self.send(Job::Frame { index, png })
    }

    /// Ends the current chunk.
    pub fn end_chunk(&mut self) -> Result<(), Error> {
        self.send(Job::EndChunk)
    }

    fn send(&mut self, job: Job) -> Result<(), Error> {
        let tx = self.tx.as_ref().expect("the sink is open until finish");
        if tx.send(job).is_err() {
            // The thread stopped on an error; finishing returns it.
            return Err(self.take_error());
        }
        Ok(())
    }

    fn take_error(&mut self) -> Error {
        self.tx.take();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => RenderError::SinkStopped.into(),
        }
    }

    /// Waits for the last chunk to be encoded.
    pub fn finish(mut self) -> Result<SinkOutput, Error> {
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

fn run(config: SinkConfig, rx: Receiver<Job>) -> Result<SinkOutput, Error> {
    let mut chunks = Vec::new();
    let mut current: Option<(FrameRange, Vec<String>)> = None;
    let mut encoder: Option<ChunkEncoder> = None;
    let mut seconds = SinkSeconds::default();
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
                let rgba = decode(&png, index, config.width, config.height)?;
                split(&mut seconds.decode);
                let hash = blake3::hash(&rgba).to_hex().to_string();
                split(&mut seconds.hash);
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

fn decode(png: &[u8], index: FrameIndex, width: u32, height: u32) -> Result<Vec<u8>, Error> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png).map_err(|e| {
        crate::browser::BrowserError::BadScreenshot {
            frame: index.0,
            reason: e.to_string(),
        }
    })?;
    if image.width() != width || image.height() != height {
        return Err(crate::browser::BrowserError::BadScreenshot {
            frame: index.0,
            reason: format!(
                "it is {}x{}, expected {width}x{height}",
                image.width(),
                image.height()
            ),
        }
        .into());
    }
    Ok(image.into_rgba8().into_raw())
}

fn write_png(dir: &Utf8Path, index: FrameIndex, png: &[u8]) -> Result<(), Error> {
    let path = dir.join(format!("frame_{:06}.png", index.0));
    std::fs::write(&path, png).map_err(|source| RenderError::Write { path, source }.into())
}
