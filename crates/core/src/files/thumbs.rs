//! Thumbnails in PocketBase's size syntax: `WxH` (crop to fill, centred), `WxHt` (from the
//! top), `WxHb` (from the bottom), `WxHf` (fit inside, no crop), `0xH` and `Wx0` (one side,
//! keeping the aspect ratio).

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::error::{Error, Result};

/// PB-COMPAT: the size the dashboard asks for, allowed on every image field.
pub const DEFAULT_THUMB: &str = "100x100";
/// The largest side a thumbnail may ask for.
const MAX_SIDE: u32 = 4096;
/// What a source image may take to decode.
const MAX_DECODE_BYTES: u64 = 512 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Center,
    Top,
    Bottom,
    Fit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thumb {
    pub width: u32,
    pub height: u32,
    pub mode: Mode,
}

impl Thumb {
    pub fn parse(spec: &str) -> Option<Thumb> {
        let (body, mode) = match spec.as_bytes().last()? {
            b't' => (&spec[..spec.len() - 1], Mode::Top),
            b'b' => (&spec[..spec.len() - 1], Mode::Bottom),
            b'f' => (&spec[..spec.len() - 1], Mode::Fit),
            _ => (spec, Mode::Center),
        };
        let (w, h) = body.split_once('x')?;
        let (width, height): (u32, u32) = (w.parse().ok()?, h.parse().ok()?);
        if (width == 0 && height == 0) || width > MAX_SIDE || height > MAX_SIDE {
            return None;
        }
        // A side of 0 keeps the aspect ratio; crop modes make no sense with it.
        if (width == 0 || height == 0) && mode != Mode::Center {
            return None;
        }
        Some(Thumb {
            width,
            height,
            mode,
        })
    }
}

/// The formats thumbnails are made of (by the stored name's extension).
pub fn format_of(name: &str) -> Option<ImageFormat> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "png" => Some(ImageFormat::Png),
        "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
        "gif" => Some(ImageFormat::Gif),
        "webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Renders `thumb` of the image in `source`, encoded in the source's format.
pub fn render(source: &[u8], format: ImageFormat, thumb: Thumb) -> Result<Vec<u8>> {
    let mut reader = ImageReader::with_format(Cursor::new(source), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| Error::internal(format!("thumbnail decode: {e}")))?;
    let out = resize(&img, thumb);
    // JPEG has no alpha channel.
    let out = if format == ImageFormat::Jpeg {
        DynamicImage::ImageRgb8(out.to_rgb8())
    } else {
        out
    };
    let mut encoded = Cursor::new(Vec::new());
    out.write_to(&mut encoded, format)
        .map_err(|e| Error::internal(format!("thumbnail encode: {e}")))?;
    Ok(encoded.into_inner())
}

fn resize(img: &DynamicImage, t: Thumb) -> DynamicImage {
    let (w0, h0) = (img.width().max(1), img.height().max(1));
    if t.width == 0 {
        let w = ((u64::from(w0) * u64::from(t.height)) / u64::from(h0)).max(1) as u32;
        return img.resize_exact(w, t.height, FilterType::Lanczos3);
    }
    if t.height == 0 {
        let h = ((u64::from(h0) * u64::from(t.width)) / u64::from(w0)).max(1) as u32;
        return img.resize_exact(t.width, h, FilterType::Lanczos3);
    }
    match t.mode {
        Mode::Fit => img.resize(t.width, t.height, FilterType::Lanczos3),
        Mode::Center => img.resize_to_fill(t.width, t.height, FilterType::Lanczos3),
        Mode::Top | Mode::Bottom => {
            // Scale to cover, then cut the overflow from the other end.
            let scale = f64::max(
                f64::from(t.width) / f64::from(w0),
                f64::from(t.height) / f64::from(h0),
            );
            let (sw, sh) = (
                ((f64::from(w0) * scale).ceil() as u32).max(t.width),
                ((f64::from(h0) * scale).ceil() as u32).max(t.height),
            );
            let scaled = img.resize_exact(sw, sh, FilterType::Lanczos3);
            let x = (sw - t.width) / 2;
            let y = if t.mode == Mode::Top {
                0
            } else {
                sh - t.height
            };
            scaled.crop_imm(x, y, t.width, t.height)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgb, RgbImage};

    fn png(w: u32, h: u32) -> Vec<u8> {
        // Top half red, bottom half blue: shows which end a crop kept.
        let img = RgbImage::from_fn(w, h, |_, y| {
            if y < h / 2 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img)
            .write_to(&mut out, ImageFormat::Png)
            .expect("encode");
        out.into_inner()
    }

    fn dims(bytes: &[u8]) -> DynamicImage {
        image::load_from_memory(bytes).expect("a valid image")
    }

    #[test]
    fn parses_pocketbase_sizes() {
        assert_eq!(
            Thumb::parse("100x50"),
            Some(Thumb {
                width: 100,
                height: 50,
                mode: Mode::Center
            })
        );
        assert_eq!(Thumb::parse("100x50t").map(|t| t.mode), Some(Mode::Top));
        assert_eq!(Thumb::parse("100x50b").map(|t| t.mode), Some(Mode::Bottom));
        assert_eq!(Thumb::parse("100x50f").map(|t| t.mode), Some(Mode::Fit));
        assert_eq!(Thumb::parse("0x50").map(|t| t.width), Some(0));
        for bad in [
            "", "x", "0x0", "10", "10x", "ax10", "10x10z", "99999x1", "0x10f", "-1x10",
        ] {
            assert_eq!(Thumb::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_mode_gives_the_size_it_promises() {
        let src = png(200, 100);
        let cases = [
            ("50x50", (50, 50)),
            ("20x0", (20, 10)),
            ("0x20", (40, 20)),
            ("50x50f", (50, 25)),
            ("50x50t", (50, 50)),
            ("50x50b", (50, 50)),
        ];
        for (spec, want) in cases {
            let out =
                render(&src, ImageFormat::Png, Thumb::parse(spec).expect("valid")).expect("render");
            assert_eq!(dims(&out).dimensions(), want, "{spec}");
        }
    }

    #[test]
    fn top_and_bottom_keep_their_end() {
        let src = png(100, 200);
        let top = dims(
            &render(
                &src,
                ImageFormat::Png,
                Thumb::parse("50x50t").expect("valid"),
            )
            .expect("render"),
        )
        .to_rgb8();
        let bottom = dims(
            &render(
                &src,
                ImageFormat::Png,
                Thumb::parse("50x50b").expect("valid"),
            )
            .expect("render"),
        )
        .to_rgb8();
        assert_eq!(top.get_pixel(25, 25), &Rgb([255, 0, 0]));
        assert_eq!(bottom.get_pixel(25, 25), &Rgb([0, 0, 255]));
    }

    #[test]
    fn jpeg_gif_and_webp_round_trip() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 32, Rgb([10, 200, 30])));
        for format in [ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::WebP] {
            let mut src = Cursor::new(Vec::new());
            img.write_to(&mut src, format).expect("encode source");
            let out = render(src.get_ref(), format, Thumb::parse("16x16").expect("valid"))
                .expect("render");
            assert_eq!(image::guess_format(&out).expect("format"), format);
            assert_eq!(dims(&out).dimensions(), (16, 16));
        }
        assert!(
            render(
                b"not an image",
                ImageFormat::Png,
                Thumb::parse("1x1").expect("valid")
            )
            .is_err()
        );
    }
}
