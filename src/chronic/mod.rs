//! Chronic disease management (慢病管理) of the national basic public health service:
//! hypertension and type 2 diabetes. The registry (enrolments and their status) and the
//! follow-up decision by the national rules (rules.rs). Every operation on a resident's
//! enrolment passes `resident::authorize` (checked and audited).

pub mod dashboard;
pub mod follow_up;
pub mod http;
pub mod measures;
pub mod model;
pub mod monthly;
pub mod rules;
pub mod schedule;
pub mod screening;
pub mod screening_page;
pub mod settings;
mod store;
pub mod views;

use time::Date;

use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::institution::{self, InstitutionKind};
use crate::resident;
use model::{Enrolment, EnrolmentQuery, NewEnrolment, Status, StatusChange};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the resident is already enrolled in this programme")]
    Duplicate,
    #[error("no such enrolment")]
    NotFound,
    #[error(transparent)]
    Implausible(#[from] rules::Implausible),
    #[error("the enrolment has ended: no more follow-ups")]
    Ended,
    #[error("a follow-up of this enrolment at this time is recorded already")]
    FollowUpRecorded,
    #[error("a screening reading of this resident at this time is recorded already")]
    ScreeningRecorded,
    #[error("the suspected hypertension is referred to confirm already")]
    ScreeningReferred,
    #[error("not a suspected hypertension: raised readings on fewer days than confirmation needs")]
    NotSuspected,
    #[error(transparent)]
    Referral(#[from] crate::referral::Error),
    #[error(transparent)]
    Resident(#[from] resident::Error),
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

fn date(text: &str, field: &'static str, today: Date) -> Result<Date, Error> {
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
    .filter(|d| *d <= today && d.year() >= 1990)
    .ok_or(Error::Invalid {
        field,
        reason: "a date YYYY-MM-DD, not in the future",
    })
}

/// The programmes a resident is managed in now (enrolments not ended): for the record's own
/// use, after the caller's access to the resident was checked.
pub async fn open_programs(
    db: &crate::db::Db,
    community_id: i64,
    resident_id: i64,
) -> Result<Vec<rules::Program>, sqlx::Error> {
    Ok(store::enrolments_of_resident(db, community_id, resident_id)
        .await?
        .into_iter()
        .filter(|e| e.status != Status::Ended)
        .map(|e| e.program)
        .collect())
}

/// Enrols a resident in a programme, managed by a primary-care institution and one of its
/// doctors; once per resident and programme.
pub async fn enrol(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    new: &NewEnrolment,
) -> Result<Enrolment, Error> {
    let enrolled_on = date(&new.enrolled_on, "enrolled_on", today)?;
    let managing =
        institution::store::institution_by_id(&ctx.db, actor.community_id, new.institution_id)
            .await?
            .filter(|i| {
                matches!(
                    i.kind,
                    InstitutionKind::VillageClinic
                        | InstitutionKind::TownshipCentre
                        | InstitutionKind::CommunityCentre
                )
            })
            .ok_or(Error::Invalid {
                field: "institution_id",
                reason: "a village clinic or township (community) centre of this community",
            })?;
    let doctor = crate::staff::store::staff_by_id(&ctx.db, actor.community_id, new.doctor_staff_id)
        .await?
        .filter(|s| s.active && s.institution_id == Some(managing.id))
        .ok_or(Error::Invalid {
            field: "doctor_staff_id",
            reason: "a member of staff of the managing institution",
        })?;
    let resident = resident::load_authorized(
        ctx,
        now,
        actor,
        new.resident_id,
        Purpose::Clinical,
        Access::Write,
        "chronic.enrol",
    )
    .await?;
    if resident.merged_into_id.is_some() {
        return Err(resident::Error::AlreadyMerged.into());
    }
    let min_age = settings::thresholds(&ctx.db, actor.community_id)
        .await?
        .min_age;
    if resident.age_on(enrolled_on) < min_age {
        return Err(Error::Invalid {
            field: "resident_id",
            reason: "the programme manages residents of the county's minimum age (35 by default) and over",
        });
    }
    let mut tx = ctx.db.begin().await?;
    let id = match store::insert_enrolment(&mut tx, actor.community_id, new, actor.staff_id, now)
        .await
    {
        Ok(id) => id,
        Err(error)
            if crate::db::is_unique_violation(
                &error,
                "chronic_enrolments_unique",
                "chronic_enrolments.resident_id",
            ) =>
        {
            return Err(Error::Duplicate);
        }
        Err(error) => return Err(error.into()),
    };
    let entry = Entry::by(
        actor,
        now,
        "chronic.enrolment.create",
        "chronic_enrolment",
        Some(id),
    )
    .about_resident(resident.id)
    .detail(format!(
        "program={} doctor={}",
        new.program.as_str(),
        doctor.id
    ));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    store::enrolment_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// One enrolment, if the actor may see the resident's clinical record.
pub async fn get(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<Enrolment, Error> {
    let enrolment = store::enrolment_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        enrolment.resident_id,
        Purpose::Clinical,
        Access::Read,
        "chronic.enrolment.read",
    )
    .await?;
    Ok(enrolment)
}

/// A resident's enrolments, for those who may read the resident's clinical record.
pub async fn of_resident(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    resident_id: i64,
) -> Result<Vec<Enrolment>, Error> {
    resident::load_authorized(
        ctx,
        now,
        actor,
        resident_id,
        Purpose::Clinical,
        Access::Read,
        "chronic.enrolment.read",
    )
    .await?;
    Ok(store::enrolments_of_resident(&ctx.db, actor.community_id, resident_id).await?)
}

/// The enrolments an institution manages (the caller's own unless the caller sees the whole
/// community); each resident listed is recorded as read.
pub async fn list(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    query: &EnrolmentQuery,
    page: (i64, i64),
) -> Result<Vec<Enrolment>, Error> {
    let institution = institution::listed(&ctx.db, actor, query.institution)
        .await??
        .id;
    let enrolments =
        store::enrolments_of(&ctx.db, actor.community_id, institution, query, page).await?;
    let entries = enrolments
        .iter()
        .map(|e| {
            Entry::by(
                actor,
                now,
                "chronic.enrolment.list",
                "chronic_enrolment",
                Some(e.id),
            )
            .about_resident(e.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(enrolments)
}

/// Moves an enrolment to managed, temporarily lost or ended, with the date and (to leave
/// managed) the reason.
pub async fn change_status(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    id: i64,
    change: &StatusChange,
) -> Result<Enrolment, Error> {
    let on = match &change.status_on {
        Some(text) => date(text, "status_on", today)?,
        None => today,
    };
    let reason = change.reason.trim();
    if (change.status != Status::Managed && reason.is_empty()) || reason.chars().count() > 500 {
        return Err(Error::Invalid {
            field: "reason",
            reason: "1–500 characters: why the resident is lost or no longer managed",
        });
    }
    let enrolment = store::enrolment_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        enrolment.resident_id,
        Purpose::Clinical,
        Access::Write,
        "chronic.enrolment.status",
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let on = on.to_string();
    store::set_status(
        &mut tx,
        actor.community_id,
        id,
        (change.status, &on, reason),
        now,
    )
    .await?;
    let entry = Entry::by(
        actor,
        now,
        "chronic.enrolment.status",
        "chronic_enrolment",
        Some(id),
    )
    .about_resident(enrolment.resident_id)
    .detail(format!("status={}", change.status.as_str()));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    store::enrolment_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}
