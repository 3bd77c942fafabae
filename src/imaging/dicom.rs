//! One DICOM instance as the imaging centre takes it: the structure walk checks every
//! declared length against the bytes present (a damaged length cannot make the parser
//! allocate), then the whole file is parsed — a file whose pixel data is cut short is refused
//! — and the identifying attributes are read. The instance itself is kept as received.

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};

/// The largest instance taken: a large CT or a long ultrasound cine fits.
pub const MAX_INSTANCE_BYTES: usize = 128 * 1024 * 1024;

/// What the centre files an instance by.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
    pub study_instance_uid: String,
    pub series_instance_uid: String,
    pub transfer_syntax_uid: String,
    pub patient_id: String,
    /// As sent (the centre names the patient from the resident record, not from this).
    pub patient_name: String,
    pub accession_number: String,
    pub study_date: String,
    pub study_time: String,
    pub study_description: String,
    pub series_description: String,
    pub series_number: Option<i64>,
    pub instance_number: Option<i64>,
    pub modality: String,
    pub body_part: String,
    pub rows: Option<i64>,
    pub columns: Option<i64>,
    pub frames: Option<i64>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("the instance is larger than {} MiB", MAX_INSTANCE_BYTES >> 20)]
    TooLarge,
    #[error("not a readable DICOM instance: {0}")]
    Unreadable(String),
    #[error("the instance has no {0}")]
    Missing(&'static str),
}

fn text(object: &InMemDicomObject, tag: dicom_core::Tag) -> String {
    object
        .element_opt(tag)
        .ok()
        .flatten()
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches(['\0', ' ']).to_owned())
        .unwrap_or_default()
}

fn number(object: &InMemDicomObject, tag: dicom_core::Tag) -> Option<i64> {
    object
        .element_opt(tag)
        .ok()
        .flatten()
        .and_then(|e| e.to_int::<i64>().ok())
}

fn uid(text: &str) -> String {
    text.trim_end_matches(['\0', ' ']).to_owned()
}

/// Reads and checks one instance.
pub fn read(bytes: &[u8]) -> Result<Instance, Refused> {
    if bytes.len() > MAX_INSTANCE_BYTES {
        return Err(Refused::TooLarge);
    }
    yijia_ecg::formats::dicom_lengths::check(bytes)
        .map_err(|e| Refused::Unreadable(e.to_string()))?;
    let object = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(bytes)
        .map_err(|e| Refused::Unreadable(e.to_string()))?;
    let meta = object.meta();
    let required = |value: String, name: &'static str| {
        if value.is_empty() {
            Err(Refused::Missing(name))
        } else {
            Ok(value)
        }
    };
    let sop_instance_uid = match text(&object, tags::SOP_INSTANCE_UID) {
        found if !found.is_empty() => found,
        _ => uid(meta.media_storage_sop_instance_uid()),
    };
    let sop_class_uid = match text(&object, tags::SOP_CLASS_UID) {
        found if !found.is_empty() => found,
        _ => uid(meta.media_storage_sop_class_uid()),
    };
    Ok(Instance {
        sop_class_uid: required(sop_class_uid, "SOP Class UID")?,
        sop_instance_uid: required(sop_instance_uid, "SOP Instance UID")?,
        study_instance_uid: required(
            text(&object, tags::STUDY_INSTANCE_UID),
            "Study Instance UID",
        )?,
        series_instance_uid: required(
            text(&object, tags::SERIES_INSTANCE_UID),
            "Series Instance UID",
        )?,
        transfer_syntax_uid: uid(meta.transfer_syntax()),
        patient_id: required(text(&object, tags::PATIENT_ID), "Patient ID")?,
        patient_name: text(&object, tags::PATIENT_NAME),
        accession_number: text(&object, tags::ACCESSION_NUMBER),
        study_date: text(&object, tags::STUDY_DATE),
        study_time: text(&object, tags::STUDY_TIME),
        study_description: text(&object, tags::STUDY_DESCRIPTION),
        series_description: text(&object, tags::SERIES_DESCRIPTION),
        series_number: number(&object, tags::SERIES_NUMBER),
        instance_number: number(&object, tags::INSTANCE_NUMBER),
        modality: text(&object, tags::MODALITY),
        body_part: text(&object, tags::BODY_PART_EXAMINED),
        rows: number(&object, tags::ROWS),
        columns: number(&object, tags::COLUMNS),
        frames: number(&object, tags::NUMBER_OF_FRAMES),
    })
}

type File = dicom_object::FileDicomObject<InMemDicomObject>;

/// What the viewer measures and windows with.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Geometry {
    pub rows: Option<i64>,
    pub columns: Option<i64>,
    /// Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164): mm between rows,
    /// between columns.
    pub pixel_spacing: Option<[f64; 2]>,
    /// The file's first Window Center and Width.
    pub window: Option<[f64; 2]>,
}

/// The instance's [`Geometry`].
pub fn geometry(bytes: &[u8]) -> Result<Geometry, Refused> {
    let file = open(bytes).ok_or_else(|| Refused::Unreadable("not a readable instance".into()))?;
    let pair = |tag| -> Option<[f64; 2]> {
        let values: Vec<f64> = file.get(tag)?.to_multi_float64().ok()?;
        match values.as_slice() {
            [a, b, ..] if *a > 0.0 && *b > 0.0 => Some([*a, *b]),
            _ => None,
        }
    };
    let first = |tag| -> Option<f64> { file.get(tag)?.to_multi_float64().ok()?.first().copied() };
    Ok(Geometry {
        rows: number(&file, tags::ROWS),
        columns: number(&file, tags::COLUMNS),
        pixel_spacing: pair(tags::PIXEL_SPACING).or_else(|| pair(tags::IMAGER_PIXEL_SPACING)),
        window: first(tags::WINDOW_CENTER)
            .zip(first(tags::WINDOW_WIDTH))
            .filter(|(_, width)| *width > 0.0)
            .map(|(center, width)| [center, width]),
    })
}

fn open(bytes: &[u8]) -> Option<File> {
    yijia_ecg::formats::dicom_lengths::check(bytes).ok()?;
    OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(bytes)
        .ok()
}

/// Is `b` the instance `a` again — the same bytes, or, in another transfer syntax, the same
/// attributes (values compared as decoded, the file meta and trailing padding aside) and the
/// same decoded pixels, frame by frame? Pixels are compared where both can be decoded here
/// (not JPEG-LS or 12-bit JPEG: then the attributes decide).
pub fn same_instance(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (Some(x), Some(y)) = (open(a), open(b)) else {
        return false;
    };
    same_attributes(&x, &y) && same_pixels(&x, &y)
}

fn compared(tag: dicom_core::Tag) -> bool {
    tag.group() != 0x0002
        && tag.group() != 0xFFFE
        && tag != tags::PIXEL_DATA
        && tag != tags::DATA_SET_TRAILING_PADDING
}

fn same_attributes(x: &InMemDicomObject, y: &InMemDicomObject) -> bool {
    let xs: Vec<_> = x.iter().filter(|e| compared(e.header().tag)).collect();
    let ys: Vec<_> = y.iter().filter(|e| compared(e.header().tag)).collect();
    xs.len() == ys.len()
        && xs.iter().zip(&ys).all(|(a, b)| {
            a.header().tag == b.header().tag
                && match (a.items(), b.items()) {
                    (Some(p), Some(q)) => {
                        p.len() == q.len() && p.iter().zip(q).all(|(i, j)| same_attributes(i, j))
                    }
                    (None, None) => {
                        let value = |e: &&dicom_object::mem::InMemElement| {
                            e.to_str()
                                .ok()
                                .map(|s| s.trim_end_matches([' ', '\0']).to_owned())
                        };
                        value(a) == value(b)
                    }
                    _ => false,
                }
        })
}

fn same_pixels(x: &File, y: &File) -> bool {
    use dicom_pixeldata::PixelDecoder;
    let has_pixels = |o: &File| o.get(tags::PIXEL_DATA).is_some();
    if has_pixels(x) != has_pixels(y) {
        return false;
    }
    if !has_pixels(x) {
        return true;
    }
    let frames = number(x, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1);
    let samples = number(x, tags::ROWS).unwrap_or(0)
        * number(x, tags::COLUMNS).unwrap_or(0)
        * number(x, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
    if samples as u64 > super::render::MAX_FRAME_SAMPLES {
        return true; // too large to decode here: the attributes decide
    }
    for frame in 0..frames as u32 {
        match (
            x.decode_pixel_data_frame(frame),
            y.decode_pixel_data_frame(frame),
        ) {
            (Ok(p), Ok(q)) => {
                if p.data() != q.data() {
                    return false;
                }
            }
            _ => return true, // not decodable here: the attributes decide
        }
    }
    true
}

/// A resident's sex as DICOM's Patient's Sex (0010,0040): M, F or O.
pub fn patient_sex(sex: &str) -> &'static str {
    match sex {
        "male" => "M",
        "female" => "F",
        _ => "O",
    }
}

/// The instance's attributes as DICOM JSON (PS3.18 F) — what WADO-RS metadata returns — with
/// its pixel data as a BulkDataURI, `pixel_data_uri`, instead of the bytes.
pub fn metadata(bytes: &[u8], pixel_data_uri: &str) -> Result<serde_json::Value, Refused> {
    yijia_ecg::formats::dicom_lengths::check(bytes)
        .map_err(|e| Refused::Unreadable(e.to_string()))?;
    let object = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(bytes)
        .map_err(|e| Refused::Unreadable(e.to_string()))?;
    let mut dataset = object.into_inner();
    let pixel_vr = dataset
        .element_opt(tags::PIXEL_DATA)
        .ok()
        .flatten()
        .map(|e| e.vr().to_string().to_owned());
    for bulk in [
        tags::PIXEL_DATA,
        tags::FLOAT_PIXEL_DATA,
        tags::DOUBLE_FLOAT_PIXEL_DATA,
    ] {
        dataset.remove_element(bulk);
    }
    let mut json =
        dicom_json::to_value(&dataset).map_err(|e| Refused::Unreadable(e.to_string()))?;
    // The pixels by reference (PS3.18 F.2.6): their frames as native pixel data.
    if let (Some(vr), Some(object)) = (pixel_vr, json.as_object_mut()) {
        object.insert(
            "7FE00010".into(),
            serde_json::json!({ "vr": vr, "BulkDataURI": pixel_data_uri }),
        );
    }
    Ok(json)
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
    fn every_transfer_syntax_of_one_instance_is_one_instance() {
        let uids: Vec<String> = [
            "MR_small.dcm",
            "MR_small_implicit.dcm",
            "MR_small_bigendian.dcm",
            "MR_small_RLE.dcm",
            "MR_small_jp2klossless.dcm",
            "MR_small_jpeg_ls_lossless.dcm",
        ]
        .iter()
        .map(|name| read(&shared(name)).expect(name).sop_instance_uid)
        .collect();
        assert!(uids.iter().all(|u| *u == uids[0]), "{uids:?}");
        let ct = read(&shared("CT_small.dcm")).unwrap();
        assert_eq!(
            (ct.modality.as_str(), ct.rows, ct.columns),
            ("CT", Some(128), Some(128))
        );
        let cine = read(&shared("examples_ybr_color.dcm")).unwrap();
        assert_eq!(cine.frames, Some(30));
    }

    #[test]
    fn the_same_instance_in_another_transfer_syntax_is_the_same_and_other_content_is_not() {
        let base = shared("MR_small.dcm");
        for name in [
            "MR_small_implicit.dcm",
            "MR_small_bigendian.dcm",
            "MR_small_RLE.dcm",
            "MR_small_jp2klossless.dcm",
            "MR_small_jpeg_ls_lossless.dcm",
        ] {
            assert!(same_instance(&base, &shared(name)), "{name}");
        }
        assert!(!same_instance(&base, &shared("CT_small.dcm")));
        // One attribute changed, or one pixel: another instance under the same UID.
        let mut file = open(&base).unwrap();
        file.put(dicom_core::DataElement::new(
            tags::PATIENT_NAME,
            dicom_core::VR::PN,
            dicom_core::PrimitiveValue::from("Someone^Else"),
        ));
        let mut renamed = Vec::new();
        file.write_all(&mut renamed).unwrap();
        assert!(!same_instance(&base, &renamed));
        let mut file = open(&base).unwrap();
        let mut pixels = file
            .get(tags::PIXEL_DATA)
            .unwrap()
            .to_bytes()
            .unwrap()
            .to_vec();
        pixels[100] ^= 0x01;
        file.put(dicom_core::DataElement::new(
            tags::PIXEL_DATA,
            dicom_core::VR::OW,
            dicom_core::PrimitiveValue::from(pixels),
        ));
        let mut repainted = Vec::new();
        file.write_all(&mut repainted).unwrap();
        assert!(!same_instance(&base, &repainted));
    }

    #[test]
    fn geometry_gives_size_spacing_and_window() {
        let ct = geometry(&shared("CT_small.dcm")).unwrap();
        assert_eq!((ct.rows, ct.columns), (Some(128), Some(128)));
        assert!(
            ct.pixel_spacing.is_some_and(|[r, c]| r > 0.0 && c > 0.0),
            "{ct:?}"
        );
        assert!(geometry(b"not dicom").is_err());
    }

    #[test]
    fn metadata_is_dicom_json_with_pixels_by_reference() {
        let json = metadata(&shared("CT_small.dcm"), "https://x/frames/1").unwrap();
        assert_eq!(json["00080060"]["Value"][0], "CT");
        assert_eq!(json["00280010"]["Value"][0], 128);
        assert_eq!(
            json["7FE00010"],
            serde_json::json!({ "vr": "OW", "BulkDataURI": "https://x/frames/1" })
        );
    }

    #[test]
    fn a_truncated_instance_is_refused() {
        assert!(matches!(
            read(&shared("MR_truncated.dcm")),
            Err(Refused::Unreadable(_))
        ));
        assert!(read(b"not dicom at all").is_err());
    }
}
