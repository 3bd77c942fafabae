//! The demo's year of remote imaging reads (远程影像诊断): every township centre's DR and CT
//! send their studies to the county imaging centre, which reads and signs them and the
//! township acknowledges the report — about 12,600 in the year for the county demo, as Sangzhi
//! read 12,597 remote imaging studies in 2025 (seeds), 3.35 for every hundred residents; the
//! small demo gets the same rate. A CT study carries a real CT slice through a vertebra
//! (pydicom's `CT_small.dcm`, see `images/README.md`) re-identified to its resident, a radiograph a chest DR drawn from
//! the seed; each instance is archived like a modality's.

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use sqlx::Row;

use super::imaging::{Place, chest_dr, instance, uid};
use super::rng::Rng;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::imaging::CENTRE;

/// Of every resident, the share with a remote imaging read in a year (12,597 of 376,000).
const STUDIES_PER_RESIDENT: f64 = 12_597.0 / 376_000.0;

/// The real CT slice the year's CT studies show.
static CT_SMALL: &[u8] = include_bytes!("images/CT_small.dcm");

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// What a read of the year finds: findings and impression, and whether it is critical.
struct Finding {
    modality: &'static str,
    findings: &'static str,
    conclusion: &'static str,
    critical: bool,
    weight: f64,
}

const FINDINGS: [Finding; 6] = [
    Finding {
        modality: "DX",
        findings: "双肺纹理清晰，心影不大，膈面光整，肋膈角锐利。",
        conclusion: "胸部正位片未见明显异常",
        critical: false,
        weight: 40.0,
    },
    Finding {
        modality: "DX",
        findings: "右下肺野见片状密度增高影，边缘模糊。",
        conclusion: "右下肺炎，建议抗感染治疗后复查",
        critical: false,
        weight: 12.0,
    },
    Finding {
        modality: "DX",
        findings: "左侧胸腔见无肺纹理透亮区，肺组织压缩约 40%。",
        conclusion: "左侧气胸（危急值），请立即处理",
        critical: true,
        weight: 0.4,
    },
    Finding {
        modality: "CT",
        findings: "腰椎序列正常，椎体骨质未见明显破坏，椎间盘未见明显突出。",
        conclusion: "腰椎 CT 平扫未见明显异常",
        critical: false,
        weight: 30.0,
    },
    Finding {
        modality: "CT",
        findings: "L4/5 椎间盘向后突出，硬膜囊受压，双侧侧隐窝变窄。",
        conclusion: "L4/5 椎间盘突出",
        critical: false,
        weight: 10.0,
    },
    Finding {
        modality: "CT",
        findings: "L1 椎体压缩变扁，后缘骨折块突入椎管，椎管有效容积减少约 50%。",
        conclusion: "L1 椎体爆裂性骨折伴椎管狭窄（危急值），请立即处理",
        critical: true,
        weight: 0.4,
    },
];

/// A resident as the images name them.
struct Patient {
    id: i64,
    id_number: String,
    name: String,
    sex: String,
    birth_date: String,
    township: i64,
}

/// `CT_SMALL` as an instance of `patient`'s study at `place`.
fn reidentified_ct(patient: &Patient, place: &Place, rng: &mut Rng) -> anyhow::Result<Vec<u8>> {
    let mut object = dicom_object::from_reader(&CT_SMALL[128..])?;
    let sop_uid = uid(rng);
    let text = |tag, vr, value: &str| DataElement::new(tag, vr, PrimitiveValue::from(value));
    let sex = crate::imaging::dicom::patient_sex(&patient.sex);
    for element in [
        text(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"),
        text(tags::SOP_INSTANCE_UID, VR::UI, &sop_uid),
        text(tags::STUDY_INSTANCE_UID, VR::UI, place.study_uid),
        text(tags::SERIES_INSTANCE_UID, VR::UI, place.series_uid),
        text(tags::STUDY_DATE, VR::DA, place.date),
        text(tags::SERIES_DATE, VR::DA, place.date),
        text(tags::CONTENT_DATE, VR::DA, place.date),
        text(tags::ACCESSION_NUMBER, VR::SH, place.accession),
        text(tags::STUDY_DESCRIPTION, VR::LO, "腰椎 CT 平扫"),
        text(tags::BODY_PART_EXAMINED, VR::CS, "LSPINE"),
        text(tags::INSTITUTION_NAME, VR::LO, ""),
        text(tags::PATIENT_NAME, VR::PN, &patient.name),
        text(tags::PATIENT_ID, VR::LO, &patient.id_number),
        text(
            tags::PATIENT_BIRTH_DATE,
            VR::DA,
            &patient.birth_date.replace('-', ""),
        ),
        text(tags::PATIENT_SEX, VR::CS, sex),
        text(tags::INSTANCE_NUMBER, VR::IS, "1"),
    ] {
        object.put(element);
    }
    // The sample's own patient: its other IDs and age go.
    object.remove_element(tags::OTHER_PATIENT_I_DS_SEQUENCE);
    object.remove_element(tags::PATIENT_AGE);
    object.meta_mut().media_storage_sop_instance_uid = sop_uid;
    object.meta_mut().update_information_group_length();
    let mut bytes = Vec::new();
    object.write_all(&mut bytes)?;
    Ok(bytes)
}

/// Stores the year up to yesterday of remote imaging reads; returns how many.
pub async fn generate(
    ctx: &Ctx,
    community_id: i64,
    seed: u64,
    now: Millis,
) -> anyhow::Result<usize> {
    let mut rng = Rng::new(seed ^ 0x1A6E_7EA2);
    let readers: Vec<i64> = sqlx::query_scalar(
        "SELECT s.id FROM staff s JOIN staff r ON r.institution_id = s.institution_id \
         WHERE s.community_id = $1 AND r.username = 'imaging-reader' AND s.roles LIKE '%reader%' \
         ORDER BY s.id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    if readers.is_empty() {
        return Ok(0); // a demo without the imaging centre
    }
    let patients: Vec<Patient> = sqlx::query(
        "SELECT id, id_number, name, sex, birth_date, township_id FROM residents \
         WHERE community_id = $1 AND merged_into_id IS NULL ORDER BY id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Patient {
            id: r.try_get("id")?,
            id_number: r.try_get("id_number")?,
            name: r.try_get("name")?,
            sex: r.try_get("sex")?,
            birth_date: r.try_get("birth_date")?,
            township: r.try_get("township_id")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let mut tx = ctx.db.begin().await?;
    let senders = super::activity::staff_by_institution(&mut tx, community_id).await?;
    let weights: Vec<f64> = FINDINGS.iter().map(|f| f.weight).collect();
    let today_start = now - now.rem_euclid(DAY_MS);
    let mut stored = 0;
    for patient in &patients {
        if !rng.chance(STUDIES_PER_RESIDENT) {
            continue;
        }
        let Some(&sender) = senders.get(&patient.township) else {
            continue;
        };
        let finding = &FINDINGS[rng.weighted(&weights)];
        let received = today_start - (1 + rng.below(364) as i64) * DAY_MS
            + (rng.below(600) as i64) * MINUTE_MS;
        let date = crate::clock::format_cst(received)[..10].replace('-', "");
        let (study_uid, series_uid) = (uid(&mut rng), uid(&mut rng));
        let accession = format!("YR{date}{:05}", stored % 100_000);
        let place = Place {
            study_uid: &study_uid,
            series_uid: &series_uid,
            number: 1,
            date: &date,
            accession: &accession,
        };
        let bytes = if finding.modality == "CT" {
            reidentified_ct(patient, &place, &mut rng)?
        } else {
            let picture = chest_dr(&mut rng, 128);
            instance(
                &picture,
                (&patient.id_number, &patient.name),
                &place,
                &mut rng,
            )?
        };
        let parsed = crate::imaging::dicom::read(&bytes)?;
        let content = crate::imaging::store::Content {
            size: bytes.len() as i64,
            sha256: ctx.archive.put(bytes).await?,
        };
        let study = crate::imaging::store::insert_study(
            &mut tx,
            community_id,
            patient.id,
            patient.township,
            &parsed,
            received,
        )
        .await?
        .id;
        crate::imaging::store::insert_instance(
            &mut tx,
            community_id,
            study,
            sender,
            &parsed,
            &content,
            received,
        )
        .await?;
        if finding.critical {
            sqlx::query("UPDATE imaging_studies SET priority = 'stat' WHERE id = $1")
                .bind(study)
                .execute(&mut *tx)
                .await?;
        }
        // STAT within minutes; routine within hours.
        let (wait, read) = if finding.critical {
            (2 + rng.below(8) as i64, 5 + rng.below(10) as i64)
        } else {
            (10 + rng.below(180) as i64, 5 + rng.below(30) as i64)
        };
        let reader = *rng.pick(&readers);
        let claimed = received + wait * MINUTE_MS;
        let reported = claimed + read * MINUTE_MS;
        crate::reading::store::claim(&mut tx, &CENTRE, community_id, study, reader, claimed)
            .await?;
        let report = crate::reading::NewReport {
            findings: finding.findings.into(),
            conclusion: finding.conclusion.into(),
            critical: finding.critical,
        };
        crate::reading::store::insert_report(
            &mut tx,
            &CENTRE,
            community_id,
            study,
            &report,
            reader,
            reported,
        )
        .await?;
        let acknowledged = if finding.critical {
            reported + (2 + rng.below(8) as i64) * MINUTE_MS
        } else {
            reported + (60 + rng.below(20 * 60) as i64) * MINUTE_MS
        };
        if acknowledged < now {
            crate::reading::store::acknowledge(
                &mut tx,
                &CENTRE,
                community_id,
                study,
                sender,
                acknowledged,
            )
            .await?;
        }
        stored += 1;
    }
    tx.commit().await?;
    Ok(stored)
}
