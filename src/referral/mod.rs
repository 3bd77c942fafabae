//! Two-way referral (双向转诊): up from village to township to county and down again, through a
//! state machine in which only the right side takes each step and every step keeps who and
//! when; the green channel raises an already-accepted up-referral from a critical ECG report.
//! Creating a referral assigns the resident to the receiving institution, so its staff may see
//! them under the one access rule.

pub mod catalogue;
pub mod figures;
mod form;
pub mod http;
pub mod model;
pub mod store;
pub mod timeline;
pub mod views;

use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::health_record::{self, ReceivingEncounter, model::EncounterKind};
use crate::institution;
use crate::live::{Audience, Event};
use crate::{ecg, resident};
use model::{
    Direction, DownSuggestion, GreenChannel, NewReferral, Party, Referral, ReferralDetail,
    ReferralQuery, ReferralState, Urgency,
};
use timeline::{Point, Timeline};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no such referral")]
    NotFound,
    #[error("a referral cannot go from {from} to {to}")]
    InvalidTransition {
        from: &'static str,
        to: &'static str,
    },
    #[error("the ECG has no signed critical report")]
    EcgNotCritical,
    #[error(
        "the tiered-care catalogue places this condition at the sender's level: give catalogue_exception_reason"
    )]
    CatalogueExceptionNeeded,
    #[error(transparent)]
    Resident(#[from] resident::Error),
    #[error(transparent)]
    Ecg(#[from] ecg::Error),
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

/// The kind of encounter an accepted up-referral opens: the green channel and emergencies at the
/// emergency department, urgent cases admitted, routine ones seen in outpatients.
fn receiving_kind(green_channel: bool, urgency: Urgency) -> EncounterKind {
    match (green_channel, urgency) {
        (true, _) | (_, Urgency::Emergency) => EncounterKind::Emergency,
        (_, Urgency::Urgent) => EncounterKind::Inpatient,
        (_, Urgency::Routine) => EncounterKind::Outpatient,
    }
}

fn publish(ctx: &Ctx, community_id: i64, kind: &'static str, id: i64, institution: i64) {
    ctx.live.publish(Event {
        community_id,
        audience: Audience::Institution(institution),
        kind,
        id,
    });
}

/// Creates a referral from the actor's institution (a draft, or submitted at once).
pub async fn create(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewReferral,
) -> Result<ReferralDetail, Error> {
    insert(ctx, now, actor, new, false).await
}

/// Creates a referral; with `accepted_by_rule` (the green channel) it is submitted and accepted
/// in the same transaction, the acceptance recorded as taken by rule.
async fn insert(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewReferral,
    accepted_by_rule: bool,
) -> Result<ReferralDetail, Error> {
    let checked = check(ctx, now, actor, new).await?;
    let mut tx = ctx.db.begin().await?;
    let id = write(&mut tx, actor, &checked, now, accepted_by_rule).await?;
    tx.commit().await?;
    announce(ctx, actor, &checked, id, accepted_by_rule);
    get(ctx, now, actor, id).await
}

/// A new referral that passed every check, ready to be written in the caller's transaction.
pub struct Checked {
    new: NewReferral,
    from: i64,
    to: i64,
}

/// Checks a new referral from the actor's institution: its fields, the levels, the tiered-care
/// catalogue, the department, the resident (checked and audited), the ECG and lab reports.
pub async fn check(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewReferral,
) -> Result<Checked, Error> {
    let from = actor.institution.ok_or(crate::access::Denied)?;
    let text_ok = |text: &str, max: usize| !text.trim().is_empty() && text.chars().count() <= max;
    if !text_ok(&new.reason, 2000) {
        return Err(Error::Invalid {
            field: "reason",
            reason: "1 to 2000 characters",
        });
    }
    let diagnosis_icd10 =
        crate::icd10::check(&new.diagnosis_icd10).map_err(|_| Error::Invalid {
            field: "diagnosis_icd10",
            reason: "not an ICD-10 code",
        })?;
    let new = &NewReferral {
        diagnosis_icd10,
        ..new.clone()
    };
    let to =
        institution::store::institution_by_id(&ctx.db, actor.community_id, new.to_institution_id)
            .await?
            .ok_or(Error::Invalid {
                field: "to_institution_id",
                reason: "no such institution",
            })?;
    let levels_ok = match new.direction {
        Direction::Up => to.kind.level() > from.kind.level(),
        Direction::Down => to.kind.level() < from.kind.level(),
    };
    if !levels_ok {
        return Err(Error::Invalid {
            field: "to_institution_id",
            reason: "an up-referral goes to a higher level, a down-referral to a lower one",
        });
    }
    if new.direction == Direction::Up
        && let Some(catalogue_level) =
            catalogue::level_for(&ctx.db, actor.community_id, &new.diagnosis_icd10).await?
        && catalogue_level <= i64::from(from.kind.level())
        && new
            .catalogue_exception_reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        return Err(Error::CatalogueExceptionNeeded);
    }
    if let Some(department) = new.to_department_id {
        let departments =
            institution::store::departments_of(&ctx.db, actor.community_id, to.id).await?;
        if !departments.iter().any(|d| d.id == department) {
            return Err(Error::Invalid {
                field: "to_department_id",
                reason: "not a department of the receiving institution",
            });
        }
    }
    resident::load_authorized(
        ctx,
        now,
        actor,
        new.resident_id,
        Purpose::Clinical,
        Access::Write,
        "referral.create",
    )
    .await?;
    if let Some(ecg_id) = new.ecg_id
        && ecg::get(ctx, now, actor, ecg_id).await?.ecg.resident_id != new.resident_id
    {
        return Err(Error::Invalid {
            field: "ecg_id",
            reason: "an ECG of another resident",
        });
    }
    check_lab_reports(ctx, now, actor, new).await?;
    Ok(Checked {
        new: new.clone(),
        from: from.id,
        to: to.id,
    })
}

/// Writes a checked referral in the caller's transaction (with its first steps, its lab
/// reports, the resident's assignment to the receiving side and the audit entry); returns its id.
pub async fn write(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    checked: &Checked,
    now: Millis,
    accepted_by_rule: bool,
) -> Result<i64, Error> {
    let Checked { new, from, to } = checked;
    let (from, to) = (*from, *to);
    let id = store::insert_referral(&mut *tx, actor.community_id, from, new, actor.staff_id, now)
        .await?;
    store::attach_lab_reports(&mut *tx, actor.community_id, id, &new.lab_report_ids).await?;
    store::move_state(
        &mut *tx,
        actor.community_id,
        id,
        None,
        ReferralState::Draft,
        Some(actor.staff_id),
        now,
        "",
    )
    .await?;
    if new.submit || accepted_by_rule {
        store::move_state(
            &mut *tx,
            actor.community_id,
            id,
            Some(ReferralState::Draft),
            ReferralState::Submitted,
            Some(actor.staff_id),
            now,
            "",
        )
        .await?;
    }
    if accepted_by_rule {
        store::move_state(
            &mut *tx,
            actor.community_id,
            id,
            Some(ReferralState::Submitted),
            ReferralState::Accepted,
            None,
            now,
            "绿色通道：按规则自动接收",
        )
        .await?;
        let encounter = ReceivingEncounter {
            community_id: actor.community_id,
            referral_id: id,
            resident_id: new.resident_id,
            institution_id: to,
            department_id: new.to_department_id,
            diagnosis_icd10: &new.diagnosis_icd10,
            kind: receiving_kind(new.green_channel.is_some(), new.urgency),
        };
        health_record::open_from_referral(&mut *tx, &encounter, None, now).await?;
    }
    resident::store::assign(
        &mut *tx,
        actor.community_id,
        new.resident_id,
        to,
        "referral",
        now,
    )
    .await?;
    let action = if accepted_by_rule {
        "referral.green_channel"
    } else {
        "referral.create"
    };
    let entry = Entry::by(actor, now, action, "referral", Some(id)).about_resident(new.resident_id);
    audit::store::append(&mut *tx, &[entry]).await?;
    Ok(id)
}

/// Tells the receiving side of a written referral (after its transaction committed).
pub fn announce(ctx: &Ctx, actor: &Actor, checked: &Checked, id: i64, accepted_by_rule: bool) {
    if accepted_by_rule {
        publish(
            ctx,
            actor.community_id,
            "referral.green_channel",
            id,
            checked.to,
        );
    } else if checked.new.submit {
        publish(
            ctx,
            actor.community_id,
            "referral.submitted",
            id,
            checked.to,
        );
    }
}

/// The lab reports to send are the resident's, each once, at most ten, and readable by the
/// sender (each read is audited by the lab report's own check).
async fn check_lab_reports(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewReferral,
) -> Result<(), Error> {
    let invalid = |reason| Error::Invalid {
        field: "lab_report_ids",
        reason,
    };
    let ids = &new.lab_report_ids;
    if ids.len() > 10 {
        return Err(invalid("at most 10 lab reports"));
    }
    if ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id)) {
        return Err(invalid("each lab report once"));
    }
    for &id in ids {
        let report = health_record::lab::get(ctx, now, actor, id)
            .await
            .map_err(|_| invalid("a lab report of this resident that you may read"))?;
        if report.resident_id != new.resident_id {
            return Err(invalid("a lab report of this resident that you may read"));
        }
    }
    Ok(())
}

/// The actor works at one of `sides` of the referral and may change its resident's clinical
/// data; the attempt is audited either way.
async fn authorize_side(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    referral: &Referral,
    sides: &[i64],
    action: &str,
) -> Result<(), Error> {
    if !actor.institution.is_some_and(|i| sides.contains(&i.id)) {
        return Err(crate::access::Denied.into());
    }
    resident::load_authorized(
        ctx,
        now,
        actor,
        referral.resident_id,
        Purpose::Clinical,
        Access::Write,
        action,
    )
    .await?;
    Ok(())
}

async fn load(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Referral, Error> {
    store::referral_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// A referral with its steps, for those who may see its resident's clinical data.
pub async fn get(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<ReferralDetail, Error> {
    let referral = load(ctx, actor, id).await?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        referral.resident_id,
        Purpose::Clinical,
        Access::Read,
        "referral.read",
    )
    .await?;
    let steps = store::steps_of(&ctx.db, actor.community_id, id).await?;
    let encounter_id =
        health_record::store::encounter_of_referral(&ctx.db, actor.community_id, id).await?;
    let lab_report_ids = store::lab_reports_of(&ctx.db, actor.community_id, id).await?;
    Ok(ReferralDetail {
        referral,
        steps,
        encounter_id,
        lab_report_ids,
    })
}

/// Takes one step of the state machine; only the side the step belongs to may take it.
pub async fn transition(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    to: ReferralState,
    note: &str,
) -> Result<ReferralDetail, Error> {
    let referral = load(ctx, actor, id).await?;
    let invalid = Error::InvalidTransition {
        from: referral.state.as_str(),
        to: to.as_str(),
    };
    let party = model::step(referral.direction, referral.state, to).ok_or(invalid)?;
    let side = match party {
        Party::Sender => referral.from_institution_id,
        Party::Receiver => referral.to_institution_id,
    };
    authorize_side(ctx, now, actor, &referral, &[side], "referral.transition").await?;
    let mut tx = ctx.db.begin().await?;
    let note = note.trim();
    if !store::move_state(
        &mut tx,
        actor.community_id,
        id,
        Some(referral.state),
        to,
        Some(actor.staff_id),
        now,
        note,
    )
    .await?
    {
        return Err(Error::InvalidTransition {
            from: referral.state.as_str(),
            to: to.as_str(),
        });
    }
    if to == ReferralState::Accepted && referral.direction == Direction::Up {
        let encounter = ReceivingEncounter {
            community_id: actor.community_id,
            referral_id: id,
            resident_id: referral.resident_id,
            institution_id: referral.to_institution_id,
            department_id: referral.to_department_id,
            diagnosis_icd10: &referral.diagnosis_icd10,
            kind: receiving_kind(referral.green_channel.is_some(), referral.urgency),
        };
        health_record::open_from_referral(&mut tx, &encounter, Some(actor.staff_id), now).await?;
    }
    let entry = Entry::by(actor, now, "referral.transition", "referral", Some(id))
        .about_resident(referral.resident_id)
        .detail(format!("{}->{}", referral.state.as_str(), to.as_str()));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    let other = if party == Party::Sender {
        referral.to_institution_id
    } else {
        referral.from_institution_id
    };
    publish(ctx, actor.community_id, "referral.changed", id, other);
    get(ctx, now, actor, id).await
}

/// Referrals sent from or received at an institution (the caller's own unless the caller sees
/// the whole community); green channel first.
pub async fn list(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    query: &ReferralQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<Referral>, Error> {
    let own = actor.institution.map(|i| i.id);
    let community_wide =
        actor.scope(Purpose::Clinical, Access::Read) == crate::access::Scope::Community;
    let institution = match query.institution {
        Some(id) if Some(id) == own || community_wide => id,
        Some(_) => return Err(crate::access::Denied.into()),
        None => own.ok_or(crate::access::Denied)?,
    };
    if actor.scope(Purpose::Clinical, Access::Read) == crate::access::Scope::Nothing {
        return Err(crate::access::Denied.into());
    }
    let referrals = store::referrals_of_institution(
        &ctx.db,
        actor.community_id,
        institution,
        query,
        limit,
        offset,
    )
    .await?;
    // A list shows residents, diagnoses and reasons: one entry per resident shown, naming the
    // referrals of theirs on the page, so each resident's access history has it.
    let mut shown: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
    for referral in &referrals {
        shown
            .entry(referral.resident_id)
            .or_default()
            .push(referral.id.to_string());
    }
    let entries = shown
        .into_iter()
        .map(|(resident_id, ids)| {
            Entry::by(actor, now, "referral.list", "referral", None)
                .about_resident(resident_id)
                .detail(format!("referrals={}", ids.join(",")))
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(referrals)
}

/// From a signed critical ECG report, one action: an up-referral to the lead hospital's chest
/// pain centre with green channel, accepted by rule, the receiving side told at once.
pub async fn green_channel_from_ecg(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    ecg_id: i64,
) -> Result<ReferralDetail, Error> {
    let detail = ecg::get(ctx, now, actor, ecg_id).await?;
    let latest = detail
        .reports
        .last()
        .filter(|r| r.critical.0)
        .ok_or(Error::EcgNotCritical)?;
    // The connection goes back to the pool before the referral's transaction takes one.
    let centre =
        store::chest_pain_centre(&mut *ctx.db.pool.acquire().await?, actor.community_id).await?;
    let (lead, department) = centre.ok_or(Error::Invalid {
        field: "ecg_id",
        reason: "the community has no lead hospital",
    })?;
    let new = NewReferral {
        resident_id: detail.ecg.resident_id,
        direction: Direction::Up,
        to_institution_id: lead,
        to_department_id: department,
        reason: format!("心电图危急值：{}", latest.conclusion),
        diagnosis_icd10: "I21.3".into(),
        urgency: Urgency::Emergency,
        green_channel: Some(GreenChannel::ChestPain),
        ecg_id: Some(ecg_id),
        lab_report_ids: Vec::new(),
        catalogue_exception_reason: None,
        submit: true,
    };
    insert(ctx, now, actor, &new, true).await
}

/// Staff enter the time points yijia cannot see happen (first medical contact, departure,
/// cath-lab activation, wire crossing); either side of the referral may.
pub async fn record_time_point(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    point: &str,
    at_ms: Millis,
) -> Result<Timeline, Error> {
    let point = Point::parse(point)
        .filter(|p| Point::ENTERED_BY_STAFF.contains(p))
        .ok_or(Error::Invalid {
            field: "point",
            reason: "first_medical_contact, departure, cath_lab_activation or wire_crossing",
        })?;
    const YEAR_2000_MS: Millis = 946_684_800_000;
    if at_ms < YEAR_2000_MS || at_ms > now + 5 * 60_000 {
        return Err(Error::Invalid {
            field: "at",
            reason: "must not lie in the future",
        });
    }
    let referral = load(ctx, actor, id).await?;
    let sides = [referral.from_institution_id, referral.to_institution_id];
    authorize_side(ctx, now, actor, &referral, &sides, "referral.time_point").await?;
    let mut tx = ctx.db.begin().await?;
    store::upsert_time_point(
        &mut tx,
        actor.community_id,
        id,
        point.as_str(),
        at_ms,
        actor.staff_id,
        now,
    )
    .await?;
    let entry = Entry::by(actor, now, "referral.time_point", "referral", Some(id))
        .about_resident(referral.resident_id)
        .detail(point.as_str());
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    timeline(ctx, now, actor, id).await
}

/// The case's time points, from yijia's own records and staff entries, with the intervals.
pub async fn timeline(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<Timeline, Error> {
    let detail = get(ctx, now, actor, id).await?;
    let mut points = std::collections::BTreeMap::new();
    if let Some(ecg_id) = detail.referral.ecg_id {
        let ecg = ecg::get(ctx, now, actor, ecg_id).await?;
        points.insert(Point::EcgRecorded, ecg.ecg.recorded_at_ms);
        points.insert(Point::EcgReceived, ecg.ecg.received_at_ms);
        if let Some(first) = ecg.reports.first() {
            points.insert(Point::ReportSigned, first.signed_at_ms);
        }
    }
    for step in &detail.steps {
        if let Some(point) = Point::of_step(&step.to_state) {
            points.insert(point, step.at_ms);
        }
    }
    for (name, at_ms) in store::time_points_of(&ctx.db, actor.community_id, id).await? {
        if let Some(point) = Point::parse(&name) {
            points.insert(point, at_ms);
        }
    }
    Ok(Timeline {
        referral_id: id,
        intervals: timeline::intervals(&points),
        points: points
            .into_iter()
            .map(|(p, at)| (p.as_str().to_owned(), at))
            .collect(),
    })
}

/// Patients of the actor's institution who are post-acute — discharged in the last 30 days, or
/// in hospital for 3 days or more — and whose principal diagnosis the tiered-care catalogue
/// places at a lower level, with no down-referral raised since: candidates for down-referral.
/// Only residents the actor may see are listed, and each listing is audited.
pub async fn down_suggestions(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
) -> Result<Vec<DownSuggestion>, Error> {
    const DAY_MS: Millis = 86_400_000;
    let institution = actor.institution.ok_or(crate::access::Denied)?;
    let own_level = i64::from(institution.kind.level());
    let mut suggestions = Vec::new();
    for candidate in store::post_acute_encounters(
        &ctx.db,
        actor.community_id,
        institution.id,
        now - 30 * DAY_MS,
        now - 3 * DAY_MS,
    )
    .await?
    {
        let Some(catalogue_level) =
            catalogue::level_for(&ctx.db, actor.community_id, &candidate.diagnosis_icd10).await?
        else {
            continue;
        };
        if catalogue_level >= own_level {
            continue;
        }
        let Some(resident) =
            resident::store::resident_by_id(&ctx.db, actor.community_id, candidate.resident_id)
                .await?
        else {
            continue;
        };
        let place = resident::store::place_of(&ctx.db, &resident).await?;
        if crate::access::check(actor, Purpose::Clinical, Access::Read, &place).is_err() {
            continue;
        }
        suggestions.push(DownSuggestion {
            catalogue_level,
            suggested_institution_id: if catalogue_level <= 1 {
                resident.village_clinic_id
            } else {
                resident.township_id
            },
            ..candidate
        });
    }
    let entries = suggestions
        .iter()
        .map(|s| {
            Entry::by(
                actor,
                now,
                "referral.down_suggestions",
                "encounter",
                Some(s.encounter_id),
            )
            .about_resident(s.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(suggestions)
}
