//! What a capture session reports of itself: where its time went, and the picture formats
//! of the raw-capture limit the bench measures.

/// Where a session's time went, summed over its frames.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CaptureSeconds {
    /// Seeking the page to the frame's time and waiting for its requests.
    pub seek: f64,
    /// BeginFrame (or the screenshot) and receiving the picture.
    pub capture: f64,
}

/// The picture format of [`Session::capture_raw`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    /// PNG, as framelock captures.
    Png,
    /// PNG compressed for speed rather than size.
    PngFast,
    /// JPEG (lossy: never used to render).
    Jpeg,
}
