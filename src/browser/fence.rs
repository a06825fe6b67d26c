//! The network fence: the page sees its own files and nothing else.
//!
//! Every request is intercepted with the DevTools Fetch domain. Requests for the composition's
//! origin are answered from the composition folder directly (so there is no server, no port and
//! no race); every other request is failed and recorded. One mechanism serves the page and
//! proves that nothing outside it was used.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use camino::{Utf8Path, Utf8PathBuf};
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EventRequestPaused, FailRequestParams, FulfillRequestParams, HeaderEntry,
};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::listeners::EventStream;
use futures::StreamExt;

use super::events::{PageEventKind, PageLog};
use crate::urlpath::percent_decode;

/// The origin the composition is served from. `.localhost` names are never resolved over the
/// network and count as a secure context, so `crypto.randomUUID` and friends work.
pub const ORIGIN: &str = "http://composition.localhost/";

/// Where the runtime asks for bundle files (injected video frames), below [`ORIGIN`].
pub const MEDIA_PREFIX: &str = "__framelock/";

/// Requests the fence has seen but not answered yet; the renderer waits for zero before it
/// captures, so a frame never races an asset on its way in.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Requests not answered yet.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Answers the page's requests from `events` (subscribed before the Fetch domain was enabled,
/// so the first request is never missed) until the page goes away.
pub async fn serve(
    page: Page,
    mut events: EventStream<EventRequestPaused>,
    root: Utf8PathBuf,
    media_root: Option<Utf8PathBuf>,
    log: PageLog,
    in_flight: InFlight,
) {
    let media_root = media_root.and_then(|r| r.canonicalize_utf8().ok());
    while let Some(event) = events.next().await {
        in_flight.0.fetch_add(1, Ordering::SeqCst);
        let url = event.request.url.clone();
        let id = event.request_id.clone();
        // A failed command (a request the page cancelled while it was paused) concerns that
        // request only: the fence goes on serving the others.
        let _ = if let Some(rest) = url.strip_prefix(ORIGIN) {
            // The runtime's injected video frames come from the bundle, beside the page.
            let asset = match (rest.strip_prefix(MEDIA_PREFIX), &media_root) {
                (Some(frame), Some(media)) => read_asset(media, frame),
                _ => read_asset(&root, rest),
            };
            match asset {
                Some((body, mime)) => {
                    use base64::Engine as _;
                    let encoded = base64::engine::general_purpose::STANDARD.encode(body);
                    let mut params = FulfillRequestParams::new(id, 200);
                    params.response_headers = Some(vec![
                        HeaderEntry::new("Content-Type", mime),
                        HeaderEntry::new("Cache-Control", "no-store"),
                        HeaderEntry::new("Access-Control-Allow-Origin", "*"),
                    ]);
                    params.body = Some(encoded.into());
                    page.execute(params).await.map(|_| ())
                }
                None => {
                    log.push(PageEventKind::FailedLoad { url });
                    let mut params = FulfillRequestParams::new(id, 404);
                    params.response_headers =
                        Some(vec![HeaderEntry::new("Content-Type", "text/plain")]);
                    page.execute(params).await.map(|_| ())
                }
            }
        } else if url.starts_with("data:") || url.starts_with("blob:") {
            page.execute(ContinueRequestParams::new(id))
                .await
                .map(|_| ())
        } else {
            log.push(PageEventKind::BlockedRequest { url });
            page.execute(FailRequestParams::new(id, ErrorReason::BlockedByClient))
                .await
                .map(|_| ())
        };
        in_flight.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Reads the file a URL path names inside `root`, refusing anything that leaves it.
fn read_asset(root: &Utf8Path, url_path: &str) -> Option<(Vec<u8>, &'static str)> {
    let path = url_path.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    let mut file = root.to_owned();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => file.push(p),
        }
    }
    if decoded.is_empty() || decoded.ends_with('/') {
        file.push("index.html");
    }
    let canonical = file.canonicalize_utf8().ok()?;
    if !canonical.starts_with(root) || !canonical.is_file() {
        return None;
    }
    let body = std::fs::read(&canonical).ok()?;
    Some((body, mime_type(&canonical)))
}

/// Content types for the files compositions are made of; the browser sniffs nothing else.
fn mime_type(path: &Utf8Path) -> &'static str {
    match path.extension().map(str::to_ascii_lowercase).as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("avif") => "image/avif",
        Some("woff") => "font/woff",
        Some("woff2") => "font/woff2",
        Some("ttf") => "font/ttf",
        Some("otf") => "font/otf",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_files_inside_the_root_only() {
        let outer = tempfile::tempdir().unwrap();
        let outer_path = Utf8Path::from_path(outer.path())
            .unwrap()
            .canonicalize_utf8()
            .unwrap();
        let root = outer_path.join("comp");
        std::fs::create_dir_all(root.join("img dir")).unwrap();
        std::fs::write(root.join("index.html"), "<p>").unwrap();
        std::fs::write(root.join("img dir/a.png"), [1, 2]).unwrap();
        std::fs::write(outer_path.join("secret.txt"), "no").unwrap();
        std::os::unix::fs::symlink(outer_path.join("secret.txt"), root.join("link.txt")).unwrap();

        assert_eq!(read_asset(&root, "").unwrap().1, "text/html; charset=utf-8");
        assert_eq!(
            read_asset(&root, "img%20dir/a.png?v=1").unwrap().0,
            vec![1, 2]
        );
        assert!(read_asset(&root, "../secret.txt").is_none());
        assert!(read_asset(&root, "%2e%2e/secret.txt").is_none());
        assert!(
            read_asset(&root, "link.txt").is_none(),
            "symlink leaving the root"
        );
        assert!(read_asset(&root, "missing.css").is_none());
    }
}
