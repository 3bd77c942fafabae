//! The demo's imaging studies: the first township centre's DR and CT send studies to the
//! county imaging centre, some waiting on its worklist, some read and signed, one signed and
//! acknowledged. The images are generated here (a chest radiograph and a head CT phantom,
//! drawn from the seed), written as real DICOM instances and stored as a modality's STOW
//! would store them.

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use super::rng::Rng;
use crate::clock::Millis;
use crate::ctx::Ctx;

const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const CT_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const DX_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.1.1";

/// A UID under the `2.25` root (a 128-bit number from the seed).
pub(super) fn uid(rng: &mut Rng) -> String {
    let value = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    format!("2.25.{value}")
}

pub(super) struct Picture {
    modality: &'static str,
    sop_class: &'static str,
    description: &'static str,
    body_part: &'static str,
    size: usize,
    /// Window centre and width for the viewer.
    window: (f64, f64),
    /// Millimetres between pixels (rows and columns alike).
    spacing: f64,
    pixels: Vec<u16>,
}

/// The slices of a demo head CT series.
const HEAD_CT_SLICES: usize = 12;

/// Slice `slice` (of [`HEAD_CT_SLICES`], skull base to vertex) of a head CT: skull, brain,
/// ventricles at the middle levels (Hounsfield units stored with rescale −1024).
fn head_ct(rng: &mut Rng, slice: usize) -> Picture {
    let size = 128;
    let offset = rng.unit() * 2.0 - 1.0;
    // The head narrows towards the vertex; the ventricles show at the middle slices.
    let level = (slice as f64 + 0.5) / HEAD_CT_SLICES as f64 * 2.0 - 1.0;
    let scale = (1.0 - 0.8 * level * level).sqrt();
    let ventricles = level.abs() < 0.45;
    let pixels = (0..size * size)
        .map(|i| {
            let (x, y) = ((i % size) as f64 - 64.0, (i / size) as f64 - 64.0 - offset);
            let r = (x * x / 1.0 + y * y / 1.3).sqrt() / scale;
            let hu = if r > 56.0 {
                -1000.0
            } else if r > 50.0 {
                900.0
            } else if ventricles && (x.abs() < 8.0) && (y.abs() < 14.0) && x.abs() > 2.0 {
                8.0 // ventricles
            } else {
                35.0 + (x * 0.7 + y).sin() * 3.0
            };
            (hu + 1024.0).clamp(0.0, 4095.0) as u16
        })
        .collect();
    Picture {
        modality: "CT",
        sop_class: CT_STORAGE,
        description: "头颅 CT 平扫",
        body_part: "HEAD",
        size,
        window: (40.0, 80.0),
        spacing: 1.8,
        pixels,
    }
}

/// A chest radiograph `size` pixels square: mediastinum, two lung fields, ribs, diaphragm.
pub(super) fn chest_dr(rng: &mut Rng, size: usize) -> Picture {
    let shadow = rng.chance(0.5);
    let step = 256.0 / size as f64;
    let pixels = (0..size * size)
        .map(|i| {
            let (x, y) = ((i % size) as f64 * step, (i / size) as f64 * step);
            let lung = |cx: f64| ((x - cx) / 48.0).powi(2) + ((y - 120.0) / 80.0).powi(2) < 1.0;
            let mut value = 2600.0 - (y - 128.0).abs() * 2.0;
            if lung(80.0) || lung(176.0) {
                value = 900.0 + ((y / 9.0).sin().abs() * 250.0); // air, with ribs
            }
            if shadow && ((x - 176.0).powi(2) + (y - 160.0).powi(2)) < 400.0 {
                value += 900.0; // a patch of consolidation
            }
            if y > 205.0 {
                value = 2800.0;
            }
            value.clamp(0.0, 4095.0) as u16
        })
        .collect();
    Picture {
        modality: "DX",
        sop_class: DX_STORAGE,
        description: "胸部正位（DR）",
        body_part: "CHEST",
        size,
        window: (2048.0, 4096.0),
        spacing: 1.4 * step,
        pixels,
    }
}

/// Where an instance stands: its study and series, and its number in the series.
pub(super) struct Place<'a> {
    pub study_uid: &'a str,
    pub series_uid: &'a str,
    pub number: usize,
    pub date: &'a str,
    pub accession: &'a str,
}

/// One instance of `picture` as a DICOM file.
pub(super) fn instance(
    picture: &Picture,
    patient: (&str, &str),
    place: &Place,
    rng: &mut Rng,
) -> anyhow::Result<Vec<u8>> {
    let sop_uid = uid(rng);
    let (study_uid, series_uid, date, accession) = (
        place.study_uid,
        place.series_uid,
        place.date,
        place.accession,
    );
    let spacing = format!("{}\\{}", picture.spacing, picture.spacing);
    let text = |tag, vr, value: &str| DataElement::new(tag, vr, PrimitiveValue::from(value));
    let mut object = InMemDicomObject::new_empty();
    for element in [
        // UTF-8: the patient's name is Chinese.
        text(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"),
        text(tags::SOP_CLASS_UID, VR::UI, picture.sop_class),
        text(tags::SOP_INSTANCE_UID, VR::UI, &sop_uid),
        text(tags::STUDY_DATE, VR::DA, date),
        text(tags::STUDY_TIME, VR::TM, "093000"),
        text(tags::ACCESSION_NUMBER, VR::SH, accession),
        text(tags::MODALITY, VR::CS, picture.modality),
        text(tags::STUDY_DESCRIPTION, VR::LO, picture.description),
        text(tags::PATIENT_NAME, VR::PN, patient.1),
        text(tags::PATIENT_ID, VR::LO, patient.0),
        text(tags::BODY_PART_EXAMINED, VR::CS, picture.body_part),
        text(tags::STUDY_INSTANCE_UID, VR::UI, study_uid),
        text(tags::SERIES_INSTANCE_UID, VR::UI, series_uid),
        text(tags::SERIES_NUMBER, VR::IS, "1"),
        text(tags::INSTANCE_NUMBER, VR::IS, &place.number.to_string()),
        text(tags::PIXEL_SPACING, VR::DS, &spacing),
        text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        text(tags::WINDOW_CENTER, VR::DS, &picture.window.0.to_string()),
        text(tags::WINDOW_WIDTH, VR::DS, &picture.window.1.to_string()),
    ] {
        object.put(element);
    }
    if picture.modality == "CT" {
        object.put(text(tags::RESCALE_INTERCEPT, VR::DS, "-1024"));
        object.put(text(tags::RESCALE_SLOPE, VR::DS, "1"));
        object.put(text(tags::SLICE_THICKNESS, VR::DS, "10"));
        let z = format!("-115\\-115\\{}", place.number * 10);
        object.put(text(tags::IMAGE_POSITION_PATIENT, VR::DS, &z));
    }
    let number = |tag, value: u16| DataElement::new(tag, VR::US, PrimitiveValue::from(value));
    for element in [
        number(tags::SAMPLES_PER_PIXEL, 1),
        number(tags::ROWS, picture.size as u16),
        number(tags::COLUMNS, picture.size as u16),
        number(tags::BITS_ALLOCATED, 16),
        number(tags::BITS_STORED, 12),
        number(tags::HIGH_BIT, 11),
        number(tags::PIXEL_REPRESENTATION, 0),
    ] {
        object.put(element);
    }
    object.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(picture.pixels.iter().copied().collect()),
    ));
    let file = object.with_meta(
        FileMetaTableBuilder::new()
            .transfer_syntax(EXPLICIT_LE)
            .media_storage_sop_class_uid(picture.sop_class)
            .media_storage_sop_instance_uid(&sop_uid),
    )?;
    let mut bytes = Vec::new();
    file.write_all(&mut bytes)?;
    Ok(bytes)
}

/// How far along the workflow a demo study is.
#[derive(Clone, Copy)]
enum Step {
    Waiting,
    Stat,
    Reported(&'static str, &'static str),
    Acknowledged(&'static str, &'static str),
}

/// Stores the demo studies; returns how many.
pub async fn generate(
    ctx: &Ctx,
    community_id: i64,
    seed: u64,
    now: Millis,
) -> anyhow::Result<usize> {
    let mut rng = Rng::new(seed ^ 0x1A6E_5EED);
    let staff = |username: &'static str| {
        sqlx::query_as::<_, (i64, Option<i64>)>(
            "SELECT id, institution_id FROM staff WHERE community_id = $1 AND username = $2",
        )
        .bind(community_id)
        .bind(username)
        .fetch_optional(&ctx.db.pool)
    };
    let (Some((site_staff, Some(site))), Some((reader, _))) = (
        staff("township-doctor").await?,
        staff("imaging-reader").await?,
    ) else {
        return Ok(0); // a demo without the imaging centre
    };
    let residents: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, id_number, name FROM residents WHERE community_id = $1 AND township_id = $2 \
         AND merged_into_id IS NULL ORDER BY id LIMIT 6",
    )
    .bind(community_id)
    .bind(site)
    .fetch_all(&ctx.db.pool)
    .await?;
    let steps = [
        Step::Stat,
        Step::Waiting,
        Step::Waiting,
        Step::Reported(
            "右下肺野见片状密度增高影，边缘模糊。",
            "右下肺炎，建议抗感染治疗后复查",
        ),
        Step::Acknowledged(
            "双肺纹理清晰，心影不大，膈面光整。",
            "胸部正位片未见明显异常",
        ),
        Step::Waiting,
    ];
    let mut stored = 0;
    for (((resident, id_number, name), step), n) in residents.iter().zip(steps).zip(1..) {
        let pictures: Vec<Picture> = if n % 3 == 1 {
            (0..HEAD_CT_SLICES)
                .map(|slice| head_ct(&mut rng, slice))
                .collect()
        } else {
            vec![chest_dr(&mut rng, 256)]
        };
        let received = now - i64::from(n) * 47 * 60_000;
        let date = crate::clock::format_cst(received)[..10].replace('-', "");
        let study_uid = uid(&mut rng);
        let series_uid = uid(&mut rng);
        let accession = format!("DR{date}{n:03}");
        let mut tx = ctx.db.begin().await?;
        let mut study = None;
        for (number, picture) in pictures.iter().enumerate() {
            let place = Place {
                study_uid: &study_uid,
                series_uid: &series_uid,
                number: number + 1,
                date: &date,
                accession: &accession,
            };
            let bytes = instance(picture, (id_number, name), &place, &mut rng)?;
            let parsed = crate::imaging::dicom::read(&bytes)?;
            let id = match study {
                Some(id) => id,
                None => {
                    crate::imaging::store::insert_study(
                        &mut tx,
                        community_id,
                        *resident,
                        site,
                        &parsed,
                        received,
                    )
                    .await?
                    .id
                }
            };
            study = Some(id);
            let content = crate::imaging::store::Content {
                size: bytes.len() as i64,
                sha256: ctx.archive.put(bytes).await?,
            };
            crate::imaging::store::insert_instance(
                &mut tx,
                community_id,
                id,
                site_staff,
                &parsed,
                &content,
                received,
            )
            .await?;
        }
        let study = study.expect("every demo study has an image");
        let centre = &crate::imaging::CENTRE;
        match step {
            Step::Waiting => {}
            Step::Stat => {
                sqlx::query("UPDATE imaging_studies SET priority = 'stat' WHERE id = $1")
                    .bind(study)
                    .execute(&mut *tx)
                    .await?;
            }
            Step::Reported(findings, conclusion) | Step::Acknowledged(findings, conclusion) => {
                crate::reading::store::claim(
                    &mut tx,
                    centre,
                    community_id,
                    study,
                    reader,
                    received + 10 * 60_000,
                )
                .await?;
                let report = crate::reading::NewReport {
                    findings: findings.into(),
                    conclusion: conclusion.into(),
                    critical: false,
                };
                crate::reading::store::insert_report(
                    &mut tx,
                    centre,
                    community_id,
                    study,
                    &report,
                    reader,
                    received + 25 * 60_000,
                )
                .await?;
                if matches!(step, Step::Acknowledged(..)) {
                    crate::reading::store::acknowledge(
                        &mut tx,
                        centre,
                        community_id,
                        study,
                        site_staff,
                        received + 40 * 60_000,
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        stored += 1;
    }
    Ok(stored)
}
