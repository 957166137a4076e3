//! Reads a QR code drawn as the `qrcode` crate's SVG (one path of `M x y h w v h H x V y`
//! rectangles) back into its text, the way a phone's camera would: drawn to pixels, then decoded.

use anyhow::Context;

/// The text in the first QR code of `svg`.
pub fn decode_svg(svg: &str) -> anyhow::Result<String> {
    let attr = |name: &str| -> anyhow::Result<usize> {
        let tail = svg.split(&format!(" {name}=\"")).nth(1).context("no size on the SVG")?;
        Ok(tail.split('"').next().unwrap_or_default().parse()?)
    };
    let (width, height) = (attr("width")?, attr("height")?);
    anyhow::ensure!(width * height <= 4_000_000, "an SVG too large to be our QR code");
    let path = svg.split(" d=\"").nth(1).and_then(|d| d.split('"').next()).context("no path in the SVG")?;
    let mut dark = vec![false; width * height];
    for rect in path.split('M').filter(|r| !r.is_empty()) {
        let n: Vec<usize> = rect
            .split(|c: char| c.is_ascii_alphabetic() || c == ' ')
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .with_context(|| format!("not a rectangle: {rect}"))?;
        let [left, top, w, h, ..] = n[..] else { anyhow::bail!("not a rectangle: {rect}") };
        for y in top..(top + h).min(height) {
            for x in left..(left + w).min(width) {
                dark[y * width + x] = true;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| if dark[y * width + x] { 0 } else { 255 });
    let grid = image.detect_grids().into_iter().next().context("no QR code found in the picture")?;
    let (_, text) = grid.decode().map_err(|e| anyhow::anyhow!("the QR code does not read: {e:?}"))?;
    Ok(text)
}
