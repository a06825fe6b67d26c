//! Decoding a video once into numbered PNG frames at the source's own rate.
//!
//! ffmpeg decodes to RGB (bit-exact scaler flags, every frame passed through as decoded) and
//! framelock writes the PNGs itself, so the files, which are part of the bundle hash, do not
//! depend on ffmpeg's PNG encoder defaults.

use camino::{Utf8Path, Utf8PathBuf};
use image::RgbImage;

use super::MediaError;
use crate::encode::FrameReader;

/// The file of frame `n` in a video's frame folder.
pub fn frame_file(n: u64) -> String {
    format!("frame_{n:06}.png")
}

/// Decodes every frame of `video` (`width`×`height`) into `dir` as `frame_000000.png`, ...;
/// returns how many there were.
pub fn extract_frames(
    ffmpeg: &Utf8Path,
    video: &Utf8Path,
    (width, height): (u32, u32),
    dir: &Utf8Path,
) -> Result<u64, MediaError> {
    let io = |path: Utf8PathBuf| move |source| MediaError::Io { path, source };
    std::fs::create_dir_all(dir).map_err(io(dir.to_owned()))?;
    let mut reader = FrameReader::start(ffmpeg, video, "rgb24")?;
    let mut buf = vec![0u8; width as usize * height as usize * 3];
    let mut n = 0;
    while reader.next(&mut buf)? {
        let picture = RgbImage::from_raw(width, height, buf.clone())
            .expect("the buffer has the frame's size");
        let path = dir.join(frame_file(n));
        let mut bytes = std::io::Cursor::new(Vec::new());
        picture
            .write_to(&mut bytes, image::ImageFormat::Png)
            .map_err(|e| io(path.clone())(std::io::Error::other(e)))?;
        std::fs::write(&path, bytes.get_ref()).map_err(io(path))?;
        n += 1;
    }
    reader.finish()?;
    Ok(n)
}
