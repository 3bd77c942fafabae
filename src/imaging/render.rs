//! One frame of an instance as a picture for the browser viewer (DICOMweb's rendered and
//! thumbnail resources): decoded (native, RLE, JPEG, JPEG 2000), windowed by the file's own
//! VOI LUT or Window Center/Width (min–max where it has none) or the reader's window, 8 bits
//! per sample, as PNG or JPEG, scaled down to a viewport when one is asked for; and frames as
//! native pixel data for WADO-RS frames.

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{ConvertOptions, PixelDecoder, VoiLutOption, WindowLevel};

/// The most pixels (rows × columns × samples) a frame may declare before it is decoded: a
/// digital mammogram fits; a damaged or hostile size does not make the server allocate it.
pub const MAX_FRAME_SAMPLES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Unrenderable {
    #[error("the instance holds no image (no pixel data)")]
    NoImage,
    #[error("frame {0} is not in the instance")]
    NoSuchFrame(u32),
    #[error("the frame is larger than {MAX_FRAME_SAMPLES} samples")]
    TooLarge,
    #[error("the image cannot be decoded here: {0}")]
    Undecodable(String),
}

/// Frames decoded at once; more wait. Decoding runs on the blocking pool, never on the
/// async workers.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A window a reader chose: centre and width, in the image's output units (HU for CT).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub center: f64,
    pub width: f64,
}

impl Window {
    /// `center,width` as a query gives it; `None` unless both are numbers and the width is
    /// positive.
    pub fn parse(text: &str) -> Option<Window> {
        let (center, width) = text.split_once(',')?;
        let (center, width) = (
            center.trim().parse().ok()?,
            width.trim().parse::<f64>().ok()?,
        );
        (width > 0.0 && width < 1e6 && f64::abs(center) < 1e6).then_some(Window { center, width })
    }
}

/// The picture formats rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
        }
    }

    /// The format an `Accept` header asks for: JPEG when it names JPEG before (or without)
    /// PNG, else PNG.
    pub fn accepted(accept: &str) -> Format {
        let jpeg = accept.find("image/jpeg");
        let png = accept.find("image/png");
        match (jpeg, png) {
            (Some(j), Some(p)) if j < p => Format::Jpeg,
            (Some(_), None) => Format::Jpeg,
            _ => Format::Png,
        }
    }
}

/// How to render a frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rendering {
    /// 1-based, as DICOMweb numbers frames.
    pub frame: u32,
    pub window: Option<Window>,
    pub format: Format,
    /// Scaled down (aspect kept) to fit this box (width, height).
    pub fit: Option<(u32, u32)>,
}

impl Rendering {
    /// A frame as PNG, in the file's window, full size.
    pub fn frame(frame: u32) -> Rendering {
        Rendering {
            frame,
            window: None,
            format: Format::Png,
            fit: None,
        }
    }
}

/// The side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 128;

/// [`render`] on the blocking pool, at most two at a time.
pub async fn on_pool(
    content: Vec<u8>,
    rendering: Rendering,
) -> Result<Result<Vec<u8>, Unrenderable>, super::Error> {
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|_| super::Error::BadRequest("the renderer has stopped".into()))?;
    tokio::task::spawn_blocking(move || render(&content, &rendering))
        .await
        .map_err(|_| super::Error::BadRequest("rendering failed".into()))
}

/// An instance with an image of bounded frames, and how many frames it has.
fn open_image(bytes: &[u8]) -> Result<(DefaultDicomObject, u64), Unrenderable> {
    yijia_ecg::formats::dicom_lengths::check(bytes)
        .map_err(|e| Unrenderable::Undecodable(e.to_string()))?;
    let object = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(bytes)
        .map_err(|e| Unrenderable::Undecodable(e.to_string()))?;
    if object
        .element_opt(tags::PIXEL_DATA)
        .ok()
        .flatten()
        .is_none()
    {
        return Err(Unrenderable::NoImage);
    }
    let number = |tag| {
        object
            .element_opt(tag)
            .ok()
            .flatten()
            .and_then(|e| e.to_int::<u64>().ok())
    };
    let samples = number(tags::ROWS).unwrap_or(0)
        * number(tags::COLUMNS).unwrap_or(0)
        * number(tags::SAMPLES_PER_PIXEL).unwrap_or(1);
    if samples == 0 {
        return Err(Unrenderable::NoImage);
    }
    if samples > MAX_FRAME_SAMPLES {
        return Err(Unrenderable::TooLarge);
    }
    let frames = number(tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1);
    Ok((object, frames))
}

/// The most bytes of decoded frames one WADO-RS frames request returns.
pub const MAX_FRAMES_BYTES: usize = 256 * 1024 * 1024;

/// Frames `numbers` (from 1) as native pixel data, decoded from any transfer syntax we
/// decode: what WADO-RS frames returns as `application/octet-stream`.
pub fn raw_frames(bytes: &[u8], numbers: &[u32]) -> Result<Vec<Vec<u8>>, Unrenderable> {
    let (object, frames) = open_image(bytes)?;
    let mut out = Vec::with_capacity(numbers.len());
    let mut total = 0;
    for &number in numbers {
        if number == 0 || u64::from(number) > frames {
            return Err(Unrenderable::NoSuchFrame(number));
        }
        let decoded = object
            .decode_pixel_data_frame(number - 1)
            .map_err(|e| Unrenderable::Undecodable(e.to_string()))?;
        total += decoded.data().len();
        if total > MAX_FRAMES_BYTES {
            return Err(Unrenderable::TooLarge);
        }
        out.push(decoded.data().to_vec());
    }
    Ok(out)
}

/// [`raw_frames`] on the blocking pool, with the renderer's slots.
pub async fn raw_frames_on_pool(
    content: Vec<u8>,
    numbers: Vec<u32>,
) -> Result<Result<Vec<Vec<u8>>, Unrenderable>, super::Error> {
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|_| super::Error::BadRequest("the renderer has stopped".into()))?;
    tokio::task::spawn_blocking(move || raw_frames(&content, &numbers))
        .await
        .map_err(|_| super::Error::BadRequest("decoding failed".into()))
}

/// One frame rendered as `rendering` says.
pub fn render(bytes: &[u8], rendering: &Rendering) -> Result<Vec<u8>, Unrenderable> {
    let frame = rendering.frame;
    let (object, frames) = open_image(bytes)?;
    if frame == 0 || u64::from(frame) > frames {
        return Err(Unrenderable::NoSuchFrame(frame));
    }
    let decoded = object
        .decode_pixel_data_frame(frame - 1)
        .map_err(|e| Unrenderable::Undecodable(e.to_string()))?;
    let mut options = ConvertOptions::new().force_8bit();
    if let Some(Window { center, width }) = rendering.window {
        options = options.with_voi_lut(VoiLutOption::Custom(WindowLevel { width, center }));
    }
    let mut image = decoded
        .to_dynamic_image_with_options(0, &options)
        .map_err(|e| Unrenderable::Undecodable(e.to_string()))?;
    if let Some((width, height)) = rendering.fit
        && (image.width() > width || image.height() > height)
    {
        image = image.thumbnail(width, height);
    }
    let format = match rendering.format {
        Format::Png => dicom_pixeldata::image::ImageFormat::Png,
        Format::Jpeg => {
            // JPEG holds 8-bit grey or RGB only.
            image = match image.color().has_color() {
                true => dicom_pixeldata::image::DynamicImage::ImageRgb8(image.to_rgb8()),
                false => dicom_pixeldata::image::DynamicImage::ImageLuma8(image.to_luma8()),
            };
            dicom_pixeldata::image::ImageFormat::Jpeg
        }
    };
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, format)
        .map_err(|e| Unrenderable::Undecodable(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../shared/data/dicom-imaging/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|_| panic!("{path}"))
    }

    #[test]
    fn frames_come_out_as_the_native_pixel_data_whatever_the_transfer_syntax() {
        let native = shared("MR_small.dcm");
        let stored = OpenFileOptions::new()
            .read_preamble(ReadPreamble::Auto)
            .from_reader(&native[..])
            .unwrap();
        let pixels = stored
            .element(tags::PIXEL_DATA)
            .unwrap()
            .to_bytes()
            .unwrap();
        for name in ["MR_small.dcm", "MR_small_RLE.dcm", "MR_small_bigendian.dcm"] {
            let frames = raw_frames(&shared(name), &[1]).unwrap();
            assert_eq!(frames, vec![pixels.to_vec()], "{name}");
        }
        assert_eq!(raw_frames(&native, &[2]), Err(Unrenderable::NoSuchFrame(2)));
        let two = raw_frames(&shared("SC_rgb_rle_2frame.dcm"), &[1, 2]).unwrap();
        assert_eq!(two.len(), 2);
        assert!(two.iter().all(|f| f.len() == 100 * 100 * 3));
    }

    fn size(png: &[u8]) -> (u32, u32) {
        let image = dicom_pixeldata::image::load_from_memory(png).expect("a PNG");
        (image.width(), image.height())
    }

    #[test]
    fn each_image_renders_at_its_own_size() {
        for (name, width, height) in [
            ("CT_small.dcm", 128, 128),
            ("MR_small.dcm", 64, 64),
            ("MR_small_bigendian.dcm", 64, 64),
            ("MR_small_RLE.dcm", 64, 64),
            ("MR_small_jp2klossless.dcm", 64, 64),
            ("SC_rgb_rle_2frame.dcm", 100, 100),
            ("examples_ybr_color.dcm", 320, 240),
            ("examples_jpeg2k.dcm", 640, 480),
        ] {
            let png = render(&shared(name), &Rendering::frame(1))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(size(&png), (width, height), "{name}");
        }
        let second = render(&shared("SC_rgb_rle_2frame.dcm"), &Rendering::frame(2)).unwrap();
        assert_eq!(size(&second), (100, 100));
        assert_eq!(
            render(&shared("SC_rgb_rle_2frame.dcm"), &Rendering::frame(3)),
            Err(Unrenderable::NoSuchFrame(3))
        );
        assert_eq!(
            render(&shared("test-SR.dcm"), &Rendering::frame(1)),
            Err(Unrenderable::NoImage)
        );
        // 12-bit JPEG Extended has no decoder here: said so, not drawn wrong.
        assert!(matches!(
            render(&shared("JPEG-lossy.dcm"), &Rendering::frame(1)),
            Err(Unrenderable::Undecodable(_))
        ));
        assert!(render(&shared("MR_truncated.dcm"), &Rendering::frame(1)).is_err());
        // A window of the reader's own gives another picture of the same size.
        let ct = shared("CT_small.dcm");
        let bone = render(
            &ct,
            &Rendering {
                window: Window::parse("400,1800"),
                ..Rendering::frame(1)
            },
        )
        .unwrap();
        assert_eq!(size(&bone), (128, 128));
        assert_ne!(bone, render(&ct, &Rendering::frame(1)).unwrap());
        // JPEG on request; a thumbnail fits its box, the aspect kept.
        let jpeg = Rendering {
            format: Format::Jpeg,
            fit: Some((THUMBNAIL_SIZE, THUMBNAIL_SIZE)),
            ..Rendering::frame(1)
        };
        let thumb = render(&shared("examples_jpeg2k.dcm"), &jpeg).unwrap();
        assert_eq!(&thumb[..2], &[0xFF, 0xD8]);
        assert_eq!(size(&thumb), (128, 96));
        assert_eq!(
            Format::accepted("image/jpeg, image/png;q=0.5"),
            Format::Jpeg
        );
        assert_eq!(Format::accepted("*/*"), Format::Png);
        assert_eq!(Window::parse("40,0"), None);
        assert_eq!(Window::parse("x,1"), None);
    }
}
