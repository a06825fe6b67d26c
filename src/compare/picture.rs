//! Where two frames of one size differ: a heat map to look at, and the squares that hold the
//! differing pixels (which the page's elements are matched against).

use image::RgbImage;
use serde::Serialize;

/// Where two frames of one size differ, as a picture: unchanged pixels are the first frame
/// dimmed to a quarter, changed ones run from dark red through yellow to white with the largest
/// channel difference (scaled to the frame's largest, and never darker than a quarter of the
/// way, so a one-level change still shows). Returns the picture and that largest difference.
pub fn heat_map(a: &RgbImage, b: &RgbImage) -> (RgbImage, u8) {
    let diff = |p: &image::Rgb<u8>, q: &image::Rgb<u8>| {
        p.0.iter()
            .zip(q.0)
            .map(|(x, y)| x.abs_diff(y))
            .max()
            .unwrap_or(0)
    };
    let largest = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| diff(p, q))
        .max()
        .unwrap_or(0);
    let map = RgbImage::from_fn(a.width(), a.height(), |x, y| {
        let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
        let d = diff(p, q);
        if d == 0 {
            let luma =
                (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000;
            let dim = (luma / 4) as u8;
            return image::Rgb([dim, dim, dim]);
        }
        let t = (f64::from(d) / f64::from(largest)).max(0.25) * 3.0;
        let channel = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([channel(t), channel(t - 1.0), channel(t - 2.0)])
    });
    (map, largest)
}

/// A square of a frame where pixels differ, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiffCell {
    /// Left edge, in pixels.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Side (smaller at the right and bottom edges).
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Differing pixels inside.
    pub pixels: u32,
}

/// The `side`×`side` squares of two equally sized frames in which pixels differ.
pub fn differing_cells(a: &RgbImage, b: &RgbImage, side: u32) -> Vec<DiffCell> {
    let (w, h) = a.dimensions();
    let mut cells = Vec::new();
    for y0 in (0..h).step_by(side as usize) {
        for x0 in (0..w).step_by(side as usize) {
            let (width, height) = (side.min(w - x0), side.min(h - y0));
            let pixels = (y0..y0 + height)
                .flat_map(|y| (x0..x0 + width).map(move |x| (x, y)))
                .filter(|&(x, y)| a.get_pixel(x, y) != b.get_pixel(x, y))
                .count() as u32;
            if pixels > 0 {
                cells.push(DiffCell {
                    x: x0,
                    y: y0,
                    width,
                    height,
                    pixels,
                });
            }
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heat_map_marks_changed_pixels_only_and_reports_the_largest_change() {
        let a = RgbImage::from_pixel(4, 2, image::Rgb([200, 200, 200]));
        let mut b = a.clone();
        b.put_pixel(1, 0, image::Rgb([200, 200, 210]));
        b.put_pixel(3, 1, image::Rgb([100, 200, 200]));
        let (map, largest) = heat_map(&a, &b);
        assert_eq!(largest, 100);
        assert_eq!(map.get_pixel(0, 0).0, [50, 50, 50], "unchanged: dimmed");
        assert_eq!(
            map.get_pixel(3, 1).0,
            [255, 255, 255],
            "the largest change is white"
        );
        // A change of 10 out of 100 is lifted to a quarter of the scale: visible red.
        assert_eq!(map.get_pixel(1, 0).0, [191, 0, 0]);
    }

    #[test]
    fn differing_pixels_are_counted_in_their_cells_edges_included() {
        let a = RgbImage::from_pixel(20, 10, image::Rgb([0, 0, 0]));
        let mut b = a.clone();
        for (x, y) in [(1, 1), (2, 1), (17, 9)] {
            b.put_pixel(x, y, image::Rgb([0, 0, 1]));
        }
        let cells = differing_cells(&a, &b, 8);
        let at = |c: &DiffCell| (c.x, c.y, c.width, c.height, c.pixels);
        assert_eq!(
            cells.iter().map(at).collect::<Vec<_>>(),
            [(0, 0, 8, 8, 2), (16, 8, 4, 2, 1)]
        );
        assert!(differing_cells(&a, &a, 8).is_empty());
    }
}
