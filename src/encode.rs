//! ffmpeg wiring: one bit-exact H.264 encoder per chunk range, and the lossless join.
//!
//! Raw RGBA frames are piped into ffmpeg with every setting that could vary between runs or
//! machines pinned (single thread, fixed GOP = chunk length, no scene cuts or lookahead,
//! bit-exact flags, explicit colour tags). Both the in-process and the distributed paths restart
//! the encoder at each chunk start, so for one chunk plan their outputs are byte-identical.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};

use camino::{Utf8Path, Utf8PathBuf};

use crate::exit_code;
use crate::timing::Fps;
use crate::toolchain::tail;

/// The encoder settings that do not depend on the chunk plan.
///
/// The default quantiser is 0: lossless H.264 (High 4:4:4 Predictive). Then the decoded frames
/// are exactly the rendered frames in yuv420p, whatever the chunk plan; with a lossy quantiser
/// the decoded frames depend on where the key frames fall (measured with ffmpeg 5.1: 60 frames
/// at qp 18 decode differently as one chunk and as chunks of 7), so only the same chunk plan
/// would give the same video. Lossless costs about four times the bytes at 320×180.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EncoderSettings {
    /// Codec, and with it the container.
    pub codec: Codec,
    /// x264 preset (H.264 only).
    pub preset: String,
    /// Constant quantiser (H.264) or quality (VP9 `-crf`).
    pub qp: u8,
}

impl Default for EncoderSettings {
    fn default() -> Self {
        EncoderSettings::for_codec(Codec::H264)
    }
}

impl EncoderSettings {
    /// The pinned settings of a codec: lossless H.264; VP9 at quality 10.
    pub fn for_codec(codec: Codec) -> EncoderSettings {
        EncoderSettings {
            codec,
            preset: "veryfast".into(),
            qp: match codec {
                Codec::H264 => 0,
                Codec::Vp9 => 10,
            },
        }
    }
}

/// The video codec of a render, which decides its container and its sound codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// H.264 (libx264) in MP4, sound in AAC.
    H264,
    /// VP9 (libvpx-vp9) in WebM, sound in Opus.
    Vp9,
}

impl Codec {
    /// The ffmpeg encoder's name, as `meta/encoder.json` records it.
    pub fn encoder(self) -> &'static str {
        match self {
            Codec::H264 => "libx264",
            Codec::Vp9 => "libvpx-vp9",
        }
    }

    /// The codec an encoder name stands for.
    pub fn from_encoder(name: &str) -> Option<Codec> {
        match name {
            "libx264" => Some(Codec::H264),
            "libvpx-vp9" => Some(Codec::Vp9),
            _ => None,
        }
    }

    /// The file extension and ffmpeg muxer of its container.
    pub fn container(self) -> &'static str {
        match self {
            Codec::H264 => "mp4",
            Codec::Vp9 => "webm",
        }
    }
}

/// What went wrong in the encoder.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// ffmpeg could not be started.
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// ffmpeg exited with an error.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// The tail of its stderr.
        stderr: String,
    },
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl EncodeError {
    /// Encoder failures are environment errors; an unwritable output is an input error.
    pub fn exit_code(&self) -> i32 {
        match self {
            EncodeError::Io { .. } => exit_code::INPUT,
            _ => exit_code::ENVIRONMENT,
        }
    }
}

/// Output flags that keep encoder and muxer version strings, timestamps and metadata out of the
/// bytes.
const BITEXACT_OUTPUT: [&str; 8] = [
    "-fflags",
    "+bitexact",
    "-flags:v",
    "+bitexact",
    "-flags:a",
    "+bitexact",
    "-map_metadata",
    "-1",
];

/// The encoder argv for one chunk, without the program name. `gop` is the chunk length.
pub fn chunk_args(
    settings: &EncoderSettings,
    width: u32,
    height: u32,
    fps: Fps,
    gop: u64,
    output: &Utf8Path,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgba",
        "-s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("{width}x{height}"));
    args.push("-framerate".into());
    args.push(format!("{}/{}", fps.num(), fps.den()));
    args.extend(["-i", "-"].map(String::from));
    args.extend(["-sws_flags", "accurate_rnd+bitexact+full_chroma_int"].map(String::from));
    match settings.codec {
        Codec::H264 => {
            args.extend(["-c:v", "libx264", "-preset"].map(String::from));
            args.push(settings.preset.clone());
            args.extend(["-threads", "1", "-qp"].map(String::from));
            args.push(settings.qp.to_string());
            args.push("-g".into());
            args.push(gop.to_string());
            args.extend(
                [
                    "-sc_threshold",
                    "0",
                    "-bf",
                    "0",
                    "-x264-params",
                    "open-gop=0:scenecut=0:rc-lookahead=0:mbtree=0",
                ]
                .map(String::from),
            );
        }
        // One thread, no row threading, no alternate reference or lookahead: libvpx then
        // encodes byte-identically run to run (DESIGN.md, "Encoding recipe").
        Codec::Vp9 => {
            args.extend(
                [
                    "-c:v",
                    "libvpx-vp9",
                    "-threads",
                    "1",
                    "-row-mt",
                    "0",
                    "-deadline",
                    "good",
                    "-cpu-used",
                    "4",
                    "-b:v",
                    "0",
                    "-crf",
                ]
                .map(String::from),
            );
            args.push(settings.qp.to_string());
            args.push("-g".into());
            args.push(gop.to_string());
            args.extend(["-auto-alt-ref", "0", "-lag-in-frames", "0"].map(String::from));
        }
    }
    // The conversion to YUV must use the BT.709 matrix the tags below declare: ffmpeg's own
    // conversion uses BT.601's whatever the tags say, which shifted saturated colours (pure
    // red came out 23 code values too light in luma) in every player honouring the tags.
    args.extend(
        [
            "-vf",
            "scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+bitexact+full_chroma_int,format=yuv420p",
            "-pix_fmt",
            "yuv420p",
            "-colorspace",
            "bt709",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-color_range",
            "tv",
        ]
        .map(String::from),
    );
    args.extend(BITEXACT_OUTPUT.map(String::from));
    args.push("-y".into());
    args.push(output.to_string());
    args
}

/// The argv template with per-chunk values replaced by placeholders: part of the
/// render-settings fingerprint.
pub fn args_template(settings: &EncoderSettings) -> String {
    let fps = Fps::new(1, 1).expect("1/1 is a valid rate");
    let video = chunk_args(settings, 0, 0, fps, 0, Utf8Path::new("OUT"))
        .join(" ")
        .replace("0x0", "WxH")
        .replace("-framerate 1/1", "-framerate FPS")
        .replace("-g 0", "-g GOP");
    format!("{video} | audio {}", audio_args(settings.codec).join(" "))
}

/// The sound a joined video carries.
#[derive(Debug, Clone)]
pub struct AudioTrack {
    /// The bundle's mix.
    pub mix: Utf8PathBuf,
    /// Its samples (exactly the video's length).
    pub samples: u64,
    /// Self-test fault: milliseconds the sound is made late by (`regress --inject
    /// audio-delay:MS`); 0 normally.
    pub delay_ms: u64,
}

/// How the mixed sound is encoded when the chunks are joined: AAC (MP4) or Opus (WebM) at a
/// pinned rate, from the bundle's 48 kHz stereo mix, which is already exactly as long as the
/// video.
pub fn audio_args(codec: Codec) -> [&'static str; 8] {
    let encoder = match codec {
        Codec::H264 => "aac",
        Codec::Vp9 => "libopus",
    };
    ["-c:a", encoder, "-b:a", "128k", "-ar", "48000", "-ac", "2"]
}

/// Starts ffmpeg with `args` and stderr piped; returns it with its command line, which errors
/// quote.
fn spawn_ffmpeg<S: AsRef<str>>(
    ffmpeg: &Utf8Path,
    args: &[S],
    stdin: Stdio,
    stdout: Stdio,
) -> Result<(Child, String), EncodeError> {
    let command = format!(
        "{ffmpeg} {}",
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ")
    );
    let child = Command::new(ffmpeg)
        .args(args.iter().map(AsRef::as_ref))
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| EncodeError::Spawn {
            command: command.clone(),
            source,
        })?;
    Ok((child, command))
}

/// A running encoder for one chunk.
pub struct ChunkEncoder {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    command: String,
    output: Utf8PathBuf,
}

impl ChunkEncoder {
    /// Starts ffmpeg writing `output`.
    pub fn start(
        ffmpeg: &Utf8Path,
        settings: &EncoderSettings,
        width: u32,
        height: u32,
        fps: Fps,
        gop: u64,
        output: &Utf8Path,
    ) -> Result<ChunkEncoder, EncodeError> {
        let args = chunk_args(settings, width, height, fps, gop, output);
        let (mut child, command) = spawn_ffmpeg(ffmpeg, &args, Stdio::piped(), Stdio::null())?;
        let stdin = child.stdin.take();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr was piped above");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            *sink.lock().expect("stderr lock is never poisoned") = text;
        });
        Ok(ChunkEncoder {
            child,
            stdin,
            stderr,
            command,
            output: output.to_owned(),
        })
    }

    /// Sends one raw RGBA frame.
    pub fn write_frame(&mut self, rgba: &[u8]) -> Result<(), EncodeError> {
        let stdin = self.stdin.as_mut().expect("stdin is open until finish");
        if stdin.write_all(rgba).is_err() {
            // ffmpeg closed its input: it failed; its exit status and stderr say why.
            return Err(self.wait_failed());
        }
        Ok(())
    }

    /// Closes the input and waits for the encoded chunk.
    pub fn finish(mut self) -> Result<Utf8PathBuf, EncodeError> {
        drop(self.stdin.take());
        let status = self.child.wait().map_err(|source| EncodeError::Spawn {
            command: self.command.clone(),
            source,
        })?;
        if !status.success() {
            return Err(self.failure(status.to_string()));
        }
        Ok(self.output.clone())
    }

    fn wait_failed(&mut self) -> EncodeError {
        drop(self.stdin.take());
        let status = self
            .child
            .wait()
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string());
        self.failure(status)
    }

    fn failure(&self, status: String) -> EncodeError {
        // The stderr reader finishes when ffmpeg exits; give it a moment to store the text.
        let mut stderr = String::new();
        for _ in 0..50 {
            stderr = self
                .stderr
                .lock()
                .expect("stderr lock is never poisoned")
                .clone();
            if !stderr.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        EncodeError::Failed {
            command: self.command.clone(),
            status,
            stderr: tail(&stderr),
        }
    }
}

impl Drop for ChunkEncoder {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            // Abandoned mid-chunk (an error or Ctrl-C elsewhere): stop ffmpeg now.
            drop(self.stdin.take());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Joins encoded chunks, in the given order, into `output` with the concat demuxer, without
/// re-encoding.
pub fn concat(
    ffmpeg: &Utf8Path,
    codec: Codec,
    chunks: &[Utf8PathBuf],
    audio: Option<&AudioTrack>,
    output: &Utf8Path,
) -> Result<(), EncodeError> {
    let list = output.with_extension("concat.txt");
    let mut text = String::new();
    for chunk in chunks {
        text.push_str(&format!(
            "file '{}'\n",
            chunk.as_str().replace('\'', "'\\''")
        ));
    }
    std::fs::write(&list, text).map_err(|source| EncodeError::Io {
        path: list.clone(),
        source,
    })?;
    let mut args: Vec<String> = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        list.as_str(),
    ]
    .map(String::from)
    .to_vec();
    match audio {
        None => args.extend(["-c", "copy"].map(String::from)),
        Some(track) => {
            args.extend(
                [
                    "-i",
                    track.mix.as_str(),
                    "-map",
                    "0:v:0",
                    "-map",
                    "1:a:0",
                    "-c:v",
                    "copy",
                ]
                .map(String::from),
            );
            if track.delay_ms > 0 {
                // The self-test's late sound keeps the track's exact length.
                args.extend([
                    "-af".to_string(),
                    format!(
                        "adelay=delays={}:all=1,atrim=end_sample={}",
                        track.delay_ms, track.samples
                    ),
                ]);
            }
            args.extend(audio_args(codec).map(String::from));
            if codec == Codec::H264 {
                // Edit lists count in the movie's timescale (1 ms by default): in samples, the
                // sound keeps its exact length.
                args.extend(["-movie_timescale", "48000"].map(String::from));
            }
        }
    }
    args.extend(BITEXACT_OUTPUT.map(String::from));
    args.extend(["-f", codec.container(), "-y", output.as_str()].map(String::from));
    let joined = run_ffmpeg(ffmpeg, &args);
    let _ = std::fs::remove_file(&list);
    joined.map(|_| ())
}

/// Runs ffmpeg to the end and returns its stdout; a failure quotes the command and the end of
/// what it printed.
pub(crate) fn run_ffmpeg<S: AsRef<str>>(
    ffmpeg: &Utf8Path,
    args: &[S],
) -> Result<Vec<u8>, EncodeError> {
    let (child, command) = spawn_ffmpeg(ffmpeg, args, Stdio::null(), Stdio::piped())?;
    let out = child
        .wait_with_output()
        .map_err(|source| EncodeError::Spawn {
            command: command.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(EncodeError::Failed {
            command,
            status: out.status.to_string(),
            stderr: tail(&String::from_utf8_lossy(&out.stderr)),
        });
    }
    Ok(out.stdout)
}

/// A decoding ffmpeg process yielding raw frames (`yuv420p` or `rgb24`) one at a time.
pub(crate) struct FrameReader {
    child: std::process::Child,
    stdout: std::process::ChildStdout,
    command: String,
}

impl FrameReader {
    /// Starts decoding the first video stream of `video` into `pix_fmt` frames.
    pub(crate) fn start(
        ffmpeg: &Utf8Path,
        video: &Utf8Path,
        pix_fmt: &str,
    ) -> Result<FrameReader, EncodeError> {
        let args = [
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            video.as_str(),
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-sws_flags",
            "accurate_rnd+bitexact+full_chroma_int",
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "-",
        ];
        let (mut child, command) = spawn_ffmpeg(ffmpeg, &args, Stdio::null(), Stdio::piped())?;
        let stdout = child.stdout.take().expect("stdout was piped above");
        Ok(FrameReader {
            child,
            stdout,
            command,
        })
    }

    /// Fills `buf` with the next frame; `false` at the end of the video.
    pub(crate) fn next(&mut self, buf: &mut [u8]) -> Result<bool, EncodeError> {
        match self.stdout.read_exact(buf) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(source) => Err(EncodeError::Spawn {
                command: self.command.clone(),
                source,
            }),
        }
    }

    /// Reads to the end and checks that ffmpeg succeeded.
    pub(crate) fn finish(mut self) -> Result<(), EncodeError> {
        let mut rest = Vec::new();
        let _ = self.stdout.read_to_end(&mut rest);
        let out = self
            .child
            .wait_with_output()
            .map_err(|source| EncodeError::Spawn {
                command: self.command.clone(),
                source,
            })?;
        if !out.status.success() {
            return Err(EncodeError::Failed {
                command: self.command,
                status: out.status.to_string(),
                stderr: tail(&String::from_utf8_lossy(&out.stderr)),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_args_pin_the_bit_exact_recipe() {
        let fps: Fps = "30000/1001".parse().unwrap();
        let args = chunk_args(
            &EncoderSettings::default(),
            320,
            180,
            fps,
            7,
            Utf8Path::new("o.mp4"),
        );
        let line = args.join(" ");
        for needle in [
            "-s 320x180",
            "-framerate 30000/1001",
            "-threads 1",
            "-g 7",
            "-bf 0",
            "-sc_threshold 0",
            "open-gop=0:scenecut=0:rc-lookahead=0:mbtree=0",
            "-flags:v +bitexact",
            "-color_range tv",
        ] {
            assert!(line.contains(needle), "missing {needle} in {line}");
        }
        assert!(line.ends_with("o.mp4"));
    }

    #[test]
    fn the_template_has_no_per_chunk_values() {
        let t = args_template(&EncoderSettings::default());
        assert!(
            t.contains("-s WxH") && t.contains("-g GOP") && t.contains("-framerate FPS"),
            "{t}"
        );
    }
}
