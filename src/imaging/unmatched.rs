//! Studies that came in under a Patient ID that is no resident's ID number (a typo at the
//! modality, a visitor from outside the county, a test image): held byte for byte in a
//! reconciliation list, which the imaging centre's readers see (on the page, in the API and
//! in QIDO-RS) until one of them assigns the study to a resident — then every held instance is
//! filed as if it had been sent for that resident, by the same path as a STOW.

use serde::{Deserialize, Serialize};

use super::{Error, Filing, Stored, dicom};
use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::institution::model::CentreService;

/// Holds an instance of no known resident (once per SOP instance); audited without a resident.
pub async fn hold(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    site: i64,
    instance: &dicom::Instance,
    bytes: Vec<u8>,
) -> Result<(), Error> {
    let digest = ctx.archive.put(bytes).await?;
    let mut tx = ctx.db.begin().await?;
    let held = sqlx::query(
        "INSERT INTO imaging_unmatched (community_id, site_institution_id, stored_by_staff_id, \
         study_instance_uid, sop_instance_uid, patient_id, patient_name, accession_number, \
         study_date, study_description, modality, received_at_ms, content_sha256, content) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (community_id, sop_instance_uid) DO NOTHING",
    )
    .bind(actor.community_id)
    .bind(site)
    .bind(actor.staff_id)
    .bind(&instance.study_instance_uid)
    .bind(&instance.sop_instance_uid)
    .bind(&instance.patient_id)
    .bind(&instance.patient_name)
    .bind(&instance.accession_number)
    .bind(&instance.study_date)
    .bind(&instance.study_description)
    .bind(&instance.modality)
    .bind(now)
    .bind(digest)
    .bind(Vec::<u8>::new())
    .execute(&mut *tx)
    .await?;
    if held.rows_affected() == 1 {
        let entry = Entry::by(
            actor,
            now,
            "imaging_unmatched.held",
            "imaging_unmatched",
            None,
        )
        .detail(format!(
            "study_instance_uid={} sop_instance_uid={}",
            instance.study_instance_uid, instance.sop_instance_uid
        ));
        audit::store::append(&mut tx, &[entry]).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A held study, as the reconciliation list shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnmatchedStudy {
    pub study_instance_uid: String,
    pub site_institution_id: i64,
    /// As the modality sent them.
    pub patient_id: String,
    pub patient_name: String,
    pub accession_number: String,
    pub study_date: String,
    pub study_description: String,
    pub modality: String,
    pub instances: i64,
    pub received_at_ms: i64,
}

fn require_reader(actor: &Actor) -> Result<(), Error> {
    if actor.reads_for(CentreService::Imaging) {
        Ok(())
    } else {
        Err(crate::access::Denied.into())
    }
}

/// The held studies, oldest first; the imaging centre's readers only.
pub async fn list(ctx: &Ctx, now: Millis, actor: &Actor) -> Result<Vec<UnmatchedStudy>, Error> {
    let studies = held(ctx, actor).await?;
    audit_shown(ctx, now, actor, &studies).await?;
    Ok(studies)
}

/// The held studies that answer a QIDO-RS study search; only they are audited as listed.
pub async fn search(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    filter: &super::store::Filter,
) -> Result<Vec<UnmatchedStudy>, Error> {
    let studies: Vec<UnmatchedStudy> = held(ctx, actor)
        .await?
        .into_iter()
        .filter(|held| matches(held, filter))
        .collect();
    audit_shown(ctx, now, actor, &studies).await?;
    Ok(studies)
}

async fn held(ctx: &Ctx, actor: &Actor) -> Result<Vec<UnmatchedStudy>, Error> {
    require_reader(actor)?;
    Ok(sqlx::query_as(
        "SELECT study_instance_uid, MIN(site_institution_id) AS site_institution_id, \
         MIN(patient_id) AS patient_id, MIN(patient_name) AS patient_name, \
         MIN(accession_number) AS accession_number, MIN(study_date) AS study_date, \
         MIN(study_description) AS study_description, MIN(modality) AS modality, \
         CAST(COUNT(*) AS BIGINT) AS instances, MIN(received_at_ms) AS received_at_ms \
         FROM imaging_unmatched WHERE community_id = $1 GROUP BY study_instance_uid \
         ORDER BY MIN(received_at_ms), study_instance_uid LIMIT 500",
    )
    .bind(actor.community_id)
    .fetch_all(&ctx.db.pool)
    .await?)
}

async fn audit_shown(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    studies: &[UnmatchedStudy],
) -> Result<(), Error> {
    let entries = studies
        .iter()
        .map(|s| {
            Entry::by(
                actor,
                now,
                "imaging_unmatched.list",
                "imaging_unmatched",
                None,
            )
            .detail(format!("study_instance_uid={}", s.study_instance_uid))
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(())
}

/// Does a held study answer a QIDO-RS study search (its keys as the modality sent them)?
fn matches(held: &UnmatchedStudy, filter: &super::store::Filter) -> bool {
    let equal = |key: &Option<String>, value: &str| key.as_deref().is_none_or(|k| k == value);
    equal(&filter.study_uid, &held.study_instance_uid)
        && equal(&filter.patient_id, &held.patient_id.to_ascii_uppercase())
        && equal(&filter.accession_number, &held.accession_number)
        && (filter.modalities.is_empty() || filter.modalities.contains(&held.modality))
        && filter
            .date_from
            .as_deref()
            .is_none_or(|d| held.study_date.as_str() >= d)
        && filter
            .date_to
            .as_deref()
            .is_none_or(|d| held.study_date.as_str() <= d)
        && filter.patient_name.as_deref().is_none_or(|name| {
            super::mwl::wildcard_match(
                &name.replace('^', ""),
                &held.patient_name.replace('^', ""),
                true,
            )
        })
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    pub study_instance_uid: String,
    /// The resident's ID number (the Patient ID the modality should have sent).
    pub id_number: String,
}

/// Assigns a held study to a resident: every held instance is filed for them (the study then
/// reaches the worklist), and leaves the list. Returns the study's id.
pub async fn assign(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    assignment: &Assignment,
) -> Result<i64, Error> {
    require_reader(actor)?;
    let id_number = assignment.id_number.trim().to_ascii_uppercase();
    let resident =
        crate::resident::store::resident_by_id_number(&ctx.db, actor.community_id, &id_number)
            .await?
            .ok_or(Error::Invalid {
                field: "id_number",
                reason: "no resident of the community has this ID number",
            })?;
    crate::resident::authorize(
        ctx,
        now,
        actor,
        &resident,
        Purpose::Clinical,
        Access::Write,
        "imaging_unmatched.assign",
    )
    .await?;
    let held: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT id, site_institution_id, stored_by_staff_id, content_sha256 FROM imaging_unmatched \
         WHERE community_id = $1 AND study_instance_uid = $2 ORDER BY id",
    )
    .bind(actor.community_id)
    .bind(&assignment.study_instance_uid)
    .fetch_all(&ctx.db.pool)
    .await?;
    if held.is_empty() {
        return Err(Error::NotFound);
    }
    for (id, site, stored_by, digest) in held {
        let content = ctx.archive.get(&digest).await?;
        let read = super::read_on_pool(vec![content]).await;
        let Some((bytes, Ok(instance))) = read.into_iter().next() else {
            return Err(Error::BadRequest(
                "a held instance could not be read".into(),
            ));
        };
        let filing = Filing {
            site,
            stored_by,
            resident: resident.id,
        };
        match super::file(ctx, now, actor, filing, instance, bytes).await? {
            Stored::Stored { .. } => {}
            Stored::Failed { failure, .. } => {
                return Err(Error::BadRequest(format!(
                    "a held instance cannot be filed: {failure}"
                )));
            }
            Stored::Held { .. } => unreachable!("filing never holds"),
        }
        sqlx::query("DELETE FROM imaging_unmatched WHERE id = $1")
            .bind(id)
            .execute(&ctx.db.pool)
            .await?;
    }
    let study = super::store::study_by_uid(
        &mut *ctx.db.pool.acquire().await?,
        actor.community_id,
        &assignment.study_instance_uid,
    )
    .await?
    .map(|(id, _)| id)
    .ok_or(Error::NotFound)?;
    let entry = Entry::by(
        actor,
        now,
        "imaging_unmatched.assigned",
        "imaging_study",
        Some(study),
    )
    .about_resident(resident.id)
    .detail(format!(
        "study_instance_uid={}",
        assignment.study_instance_uid
    ));
    ctx.auditor.record(vec![entry]).await?;
    Ok(study)
}
