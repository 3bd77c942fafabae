//! One health record per resident (电子健康档案): encounters at any member institution with
//! their diagnoses and costs, lab reports that arrive from the LIS over HL7 v2, examination
//! reports, and the timeline that joins them with ECGs and referrals. Every read and write of a
//! resident's items passes `resident::load_authorized`, the one gate.

pub mod http;
pub mod lab;
pub mod model;
pub mod store;
pub mod views;
mod visit_form;

use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::resident;
use model::{
    Discharge, Encounter, EncounterKind, ExamReport, ItemKind, NewEncounter, NewExamReport,
    TimelineItem, TimelineQuery,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no such encounter")]
    EncounterNotFound,
    #[error("no such report")]
    ReportNotFound,
    #[error("the encounter is already closed")]
    AlreadyDischarged,
    #[error(transparent)]
    Resident(#[from] resident::Error),
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

const YEAR_2000_MS: Millis = 946_684_800_000;

/// A time the API was given: RFC 3339 or milliseconds, not before 2000 and not in the future.
fn past_time(field: &'static str, text: &str, now: Millis) -> Result<Millis, Error> {
    clock::parse_time(text)
        .filter(|at| (YEAR_2000_MS..=now + 5 * 60_000).contains(at))
        .ok_or(Error::Invalid {
            field,
            reason: "a time (RFC 3339 or milliseconds) that does not lie in the future",
        })
}

/// Checks ICD-10 codes (one to twenty, the principal first) and returns their canonical forms.
pub fn check_diagnoses(codes: &[String]) -> Result<Vec<String>, Error> {
    if codes.is_empty() || codes.len() > 20 {
        return Err(Error::Invalid {
            field: "diagnoses",
            reason: "one to twenty ICD-10 codes, the principal diagnosis first",
        });
    }
    codes
        .iter()
        .map(|code| crate::icd10::check(code))
        .collect::<Result<_, _>>()
        .map_err(|_| Error::Invalid {
            field: "diagnoses",
            reason: "not an ICD-10 code (WHO 2019, or its clinical-edition extension)",
        })
}

fn check_costs(costs: &model::Costs) -> Result<(), Error> {
    const TEN_MILLION_YUAN_FEN: i64 = 1_000_000_000;
    if costs
        .all()
        .iter()
        .any(|fen| !(0..=TEN_MILLION_YUAN_FEN).contains(fen))
    {
        return Err(Error::Invalid {
            field: "costs",
            reason: "each cost is a whole number of fen from 0 to 1,000,000,000",
        });
    }
    Ok(())
}

/// Records an encounter at the actor's institution.
pub async fn create_encounter(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewEncounter,
) -> Result<Encounter, Error> {
    let institution = actor.institution.ok_or(crate::access::Denied)?;
    let diagnoses = check_diagnoses(&new.diagnoses)?;
    check_costs(&new.costs)?;
    let started_at_ms = past_time("started_at", &new.started_at, now)?;
    let ended_at_ms = new
        .ended_at
        .as_deref()
        .map(|text| past_time("ended_at", text, now))
        .transpose()?;
    if ended_at_ms.is_some_and(|end| end < started_at_ms) {
        return Err(Error::Invalid {
            field: "ended_at",
            reason: "must not come before started_at",
        });
    }
    if let Some(department) = new.department_id {
        let departments =
            crate::institution::store::departments_of(&ctx.db, actor.community_id, institution.id)
                .await?;
        if !departments.iter().any(|d| d.id == department) {
            return Err(Error::Invalid {
                field: "department_id",
                reason: "not a department of your institution",
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
        "encounter.create",
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let id = store::insert_encounter(
        &mut tx,
        &store::NewEncounterRow {
            community_id: actor.community_id,
            resident_id: new.resident_id,
            institution_id: institution.id,
            department_id: new.department_id,
            doctor_staff_id: Some(actor.staff_id),
            kind: new.kind.as_str(),
            started_at_ms,
            ended_at_ms,
            referral_id: None,
            costs: new.costs,
            diagnoses: &diagnoses,
            created_by_staff_id: Some(actor.staff_id),
            now_ms: now,
        },
    )
    .await?;
    let entry = Entry::by(actor, now, "encounter.create", "encounter", Some(id))
        .about_resident(new.resident_id);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    load_encounter(ctx, actor, id).await
}

/// The encounter an accepted up-referral opens at the receiving institution.
pub struct ReceivingEncounter<'a> {
    pub community_id: i64,
    pub referral_id: i64,
    pub resident_id: i64,
    pub institution_id: i64,
    pub department_id: Option<i64>,
    pub diagnosis_icd10: &'a str,
    pub kind: EncounterKind,
}

/// Opens the receiving encounter of an accepted up-referral from the referral's data, inside
/// the acceptance's transaction, so the patient is never registered twice.
pub async fn open_from_referral(
    conn: &mut sqlx::AnyConnection,
    encounter: &ReceivingEncounter<'_>,
    accepted_by_staff_id: Option<i64>,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    store::insert_encounter(
        conn,
        &store::NewEncounterRow {
            community_id: encounter.community_id,
            resident_id: encounter.resident_id,
            institution_id: encounter.institution_id,
            department_id: encounter.department_id,
            doctor_staff_id: accepted_by_staff_id,
            kind: encounter.kind.as_str(),
            started_at_ms: now,
            ended_at_ms: None,
            referral_id: Some(encounter.referral_id),
            costs: model::Costs::default(),
            diagnoses: &[encounter.diagnosis_icd10.to_owned()],
            created_by_staff_id: accepted_by_staff_id,
            now_ms: now,
        },
    )
    .await
}

async fn load_encounter(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Encounter, Error> {
    store::encounter_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::EncounterNotFound)
}

/// An encounter, for those who may see its resident's clinical data.
pub async fn get_encounter(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
) -> Result<Encounter, Error> {
    let encounter = load_encounter(ctx, actor, id).await?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        encounter.resident_id,
        Purpose::Clinical,
        Access::Read,
        "encounter.read",
    )
    .await?;
    Ok(encounter)
}

/// The encounters at the actor's institution that `present` names (the inpatients still in, or
/// today's visits) whose record the actor may see, with the residents' names; each is
/// recorded as read.
pub async fn present(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    present: store::Present,
    limit: i64,
) -> Result<Vec<(Encounter, String)>, Error> {
    let institution = actor.institution.ok_or(crate::access::Denied)?;
    let scope = actor.scope(Purpose::Clinical, Access::Read);
    let stays = store::present_at(
        &ctx.db,
        actor.community_id,
        institution.id,
        present,
        scope,
        limit,
    )
    .await?;
    let entries = stays
        .iter()
        .map(|(e, _)| {
            Entry::by(actor, now, "encounter.list", "encounter", Some(e.id))
                .about_resident(e.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(stays)
}

/// Closes an encounter with its discharge time, final diagnoses and costs; only staff of the
/// encounter's institution may.
pub async fn discharge(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    discharge: &Discharge,
) -> Result<Encounter, Error> {
    let encounter = load_encounter(ctx, actor, id).await?;
    if actor.institution.map(|i| i.id) != Some(encounter.institution_id) {
        return Err(crate::access::Denied.into());
    }
    resident::load_authorized(
        ctx,
        now,
        actor,
        encounter.resident_id,
        Purpose::Clinical,
        Access::Write,
        "encounter.discharge",
    )
    .await?;
    if encounter.ended_at_ms.is_some() {
        return Err(Error::AlreadyDischarged);
    }
    let ended_at_ms = past_time("ended_at", &discharge.ended_at, now)?;
    if ended_at_ms < encounter.started_at_ms {
        return Err(Error::Invalid {
            field: "ended_at",
            reason: "must not come before the encounter started",
        });
    }
    check_costs(&discharge.costs)?;
    let main_procedure = discharge
        .main_procedure
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if main_procedure.len() > 20
        || !main_procedure
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
    {
        return Err(Error::Invalid {
            field: "main_procedure",
            reason: "an ICD-9-CM-3 code such as 00.66",
        });
    }
    let diagnoses = discharge
        .diagnoses
        .as_deref()
        .map(check_diagnoses)
        .transpose()?;
    let mut tx = ctx.db.begin().await?;
    store::discharge(
        &mut tx,
        actor.community_id,
        id,
        (ended_at_ms, &main_procedure),
        discharge.costs,
    )
    .await?;
    if let Some(diagnoses) = &diagnoses {
        store::replace_diagnoses(&mut tx, actor.community_id, id, diagnoses).await?;
    }
    let entry = Entry::by(actor, now, "encounter.discharge", "encounter", Some(id))
        .about_resident(encounter.resident_id);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    load_encounter(ctx, actor, id).await
}

/// A reader or doctor at the reading institution signs an examination report.
pub async fn create_exam_report(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewExamReport,
) -> Result<ExamReport, Error> {
    let institution = actor.institution.ok_or(crate::access::Denied)?;
    // A shared centre's reader signs only its own service's reports (an ECG reader no X-ray);
    // the county's combined ultrasound and ECG centre reads ultrasound too.
    if actor.has_role(crate::access::Role::Reader) && !actor.has_role(crate::access::Role::Doctor) {
        use crate::institution::model::CentreService as S;
        let own = match new.kind {
            model::ExamKind::Imaging => actor.reads_for(S::Imaging),
            model::ExamKind::Ultrasound => actor.reads_for(S::Imaging) || actor.reads_for(S::Ecg),
            model::ExamKind::Pathology => actor.reads_for(S::Pathology),
        };
        if !own {
            return Err(crate::access::Denied.into());
        }
    }
    let text_ok =
        |text: &str, min: usize, max: usize| (min..=max).contains(&text.trim().chars().count());
    if !text_ok(&new.item_code, 1, 40) || !text_ok(&new.item_name, 1, 100) {
        return Err(Error::Invalid {
            field: "item_code",
            reason: "item_code 1 to 40 and item_name 1 to 100 characters",
        });
    }
    if !text_ok(&new.conclusion, 1, 2000) || !text_ok(&new.findings, 0, 10_000) {
        return Err(Error::Invalid {
            field: "conclusion",
            reason: "conclusion 1 to 2000, findings at most 10000 characters",
        });
    }
    let performed_at_ms = past_time("performed_at", &new.performed_at, now)?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        new.resident_id,
        Purpose::Clinical,
        Access::Write,
        "exam_report.create",
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let id = store::insert_exam_report(
        &mut tx,
        actor.community_id,
        institution.id,
        new,
        performed_at_ms,
        actor.staff_id,
        now,
    )
    .await?;
    let entry = Entry::by(actor, now, "exam_report.create", "exam_report", Some(id))
        .about_resident(new.resident_id);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    store::exam_report_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::ReportNotFound)
}

pub async fn get_exam_report(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
) -> Result<ExamReport, Error> {
    let report = store::exam_report_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::ReportNotFound)?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        report.resident_id,
        Purpose::Clinical,
        Access::Read,
        "exam_report.read",
    )
    .await?;
    Ok(report)
}

/// The resident's whole record across every member institution, newest first, filtered by
/// kind and time.
pub async fn timeline(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    resident_id: i64,
    query: &TimelineQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<TimelineItem>, Error> {
    let kinds = match query.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        None => vec![
            ItemKind::Encounter,
            ItemKind::LabReport,
            ItemKind::ExamReport,
            ItemKind::Ecg,
            ItemKind::ImagingStudy,
            ItemKind::Referral,
            ItemKind::FollowUp,
        ],
        Some(list) => list
            .split(',')
            .map(|k| ItemKind::parse(k.trim()))
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::Invalid {
                field: "kind",
                reason: "encounter, lab_report, exam_report, ecg, imaging_study, referral or follow_up, comma-separated",
            })?,
    };
    let bound = |field, text: Option<&str>, default| match text {
        None => Ok(default),
        Some(text) => clock::parse_time(text).ok_or(Error::Invalid {
            field,
            reason: "a time (RFC 3339 or milliseconds)",
        }),
    };
    let from = bound("from", query.from.as_deref(), i64::MIN)?;
    let to = bound("to", query.to.as_deref(), i64::MAX)?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        resident_id,
        Purpose::Clinical,
        Access::Read,
        "health_record.timeline",
    )
    .await?;
    let mut items = store::timeline(
        &ctx.db,
        actor.community_id,
        resident_id,
        &kinds,
        (from, to),
        limit,
        offset,
    )
    .await?;
    for item in &mut items {
        item.summary = summary_zh(item.kind, &item.summary);
    }
    Ok(items)
}

/// The timeline's one line per item, in Chinese, from the raw detail the store gives.
fn summary_zh(kind: ItemKind, detail: &str) -> String {
    let mut words = detail.split(' ');
    match kind {
        ItemKind::Encounter => {
            let encounter_kind = words.next().and_then(EncounterKind::parse);
            let code = words.next().unwrap_or("").to_owned();
            let diagnosis = store::diagnosis(code);
            format!(
                "{} · {}{}",
                encounter_kind.map_or("就诊", EncounterKind::label_zh),
                diagnosis.icd10,
                diagnosis.title.map(|t| format!(" {t}")).unwrap_or_default()
            )
        }
        ItemKind::Referral => {
            use crate::referral::model::{Direction, ReferralState};
            let direction = words.next().and_then(Direction::parse);
            let state = words.next().and_then(ReferralState::parse);
            let code = words.next().unwrap_or("");
            format!(
                "{} · {} · {code}",
                direction.map_or("转诊", Direction::label_zh),
                state.map_or("", ReferralState::label_zh)
            )
        }
        ItemKind::FollowUp => {
            use crate::chronic::follow_up::Mode;
            use crate::chronic::rules::{Classification, NextStep, Program};
            let program = words.next().and_then(Program::parse);
            let mode = words.next().and_then(Mode::parse);
            let (classification, next_step) = words
                .next()
                .unwrap_or("")
                .split_once('/')
                .unwrap_or_default();
            format!(
                "{} · {} · {} · {}",
                program.map_or("慢病", Program::label_zh),
                mode.map_or("", Mode::label_zh),
                classification
                    .parse()
                    .ok()
                    .and_then(Classification::from_number)
                    .map_or("", Classification::label_zh),
                next_step
                    .parse()
                    .ok()
                    .and_then(NextStep::from_number)
                    .map_or("", NextStep::label_zh)
            )
        }
        ItemKind::Ecg if detail.is_empty() => "心电图（待报告）".to_owned(),
        _ => detail.to_owned(),
    }
}
