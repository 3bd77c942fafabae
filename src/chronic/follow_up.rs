//! A follow-up (随访) on the national form. The server decides by the rules — emergency
//! criteria, classification, next step, next due date — and keeps that decision beside the one
//! recorded (a doctor may record another only with a reason). A referring next step raises the
//! up-referral in the same transaction; following the referral up is a task due on the
//! follow-up's next due date that closes when the referral's outcome is recorded.

use serde::{Deserialize, Serialize};

use super::Error;
use super::model::{Enrolment, Status};
use super::rules::{self, Classification, Decision, Implausible, NextStep, Program, Symptom};
use super::{settings, store};
use crate::access::{Access, Actor, Purpose};
use crate::audit::{self, Entry};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::institution::{self, InstitutionKind};
use crate::referral::{
    self,
    model::{Direction, NewReferral, Urgency},
};
use crate::resident;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Clinic,
    Home,
    /// Does not count as face to face.
    Phone,
}

text_enum!(Mode { Clinic => "clinic", Home => "home", Phone => "phone" });

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Clinic, Mode::Home, Mode::Phone];

    pub fn label_zh(self) -> &'static str {
        match self {
            Mode::Clinic => "门诊",
            Mode::Home => "家庭",
            Mode::Phone => "电话",
        }
    }
}

/// 摄盐情况.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Salt {
    Light,
    Medium,
    Heavy,
}

text_enum!(Salt { Light => "light", Medium => "medium", Heavy => "heavy" });

/// 心理调整 and 遵医行为: 良好 / 一般 / 差.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Good,
    Fair,
    Poor,
}

text_enum!(Rating { Good => "good", Fair => "fair", Poor => "poor" });

/// 服药依从性: 规律 / 间断 / 不服药.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Adherence {
    Regular,
    Intermittent,
    None,
}

text_enum!(Adherence { Regular => "regular", Intermittent => "intermittent", None => "none" });

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Medicine {
    pub name: String,
    pub dose: String,
    pub frequency: String,
}

/// A decision other than the rules', with why.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// 1–4.
    pub classification: i64,
    /// 1–4.
    pub next_step: i64,
    pub reason: String,
}

/// The follow-up form.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFollowUp {
    /// RFC 3339, not in the future.
    pub followed_up_at: String,
    pub mode: Option<Mode>,
    #[serde(default)]
    pub symptoms: Vec<Symptom>,
    pub sbp: Option<f64>,
    pub dbp: Option<f64>,
    pub heart_rate: Option<f64>,
    pub weight_kg: Option<f64>,
    pub height_cm: Option<f64>,
    /// Diabetes: fasting plasma glucose (mmol/L).
    pub fpg_mmol: Option<f64>,
    pub smoking_per_day: Option<i64>,
    /// Liang (两) of spirits a day.
    pub drinking_per_day: Option<f64>,
    pub exercise_per_week: Option<i64>,
    pub salt: Option<Salt>,
    pub psychology: Option<Rating>,
    pub compliance: Option<Rating>,
    pub adherence: Option<Adherence>,
    #[serde(default)]
    pub adverse_reaction: bool,
    /// A new or worse complication.
    #[serde(default)]
    pub complication: bool,
    #[serde(default)]
    pub medicines: Vec<Medicine>,
    /// The doctor who saw the patient (default: the caller).
    pub doctor_staff_id: Option<i64>,
    #[serde(rename = "override")]
    pub override_decision: Option<Override>,
}

/// A stored follow-up with the rules' decision and the one recorded.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub id: i64,
    pub enrolment_id: i64,
    pub resident_id: i64,
    pub program: Program,
    pub institution_id: i64,
    pub doctor_staff_id: i64,
    pub followed_up_at_ms: i64,
    /// `YYYY-MM-DD`, China Standard Time.
    pub followed_up_on: String,
    pub mode: Mode,
    pub symptoms: Vec<Symptom>,
    pub sbp: Option<f64>,
    pub dbp: Option<f64>,
    pub heart_rate: Option<f64>,
    pub weight_kg: Option<f64>,
    pub height_cm: Option<f64>,
    /// Computed from weight and height.
    pub bmi: Option<f64>,
    pub fpg_mmol: Option<f64>,
    pub smoking_per_day: Option<i64>,
    pub drinking_per_day: Option<f64>,
    pub exercise_per_week: Option<i64>,
    pub salt: Option<Salt>,
    pub psychology: Option<Rating>,
    pub compliance: Option<Rating>,
    pub adherence: Adherence,
    pub adverse_reaction: bool,
    pub complication: bool,
    pub medicines: Vec<Medicine>,
    /// 1 控制满意 · 2 控制不满意 · 3 不良反应 · 4 并发症 (as recorded).
    pub classification: i64,
    /// 1 常规随访 · 2 两周随访 · 3 转诊随访 · 4 紧急转诊 (as recorded).
    pub next_step: i64,
    /// What the rules decided.
    pub rule_classification: i64,
    pub rule_next_step: i64,
    /// Why the recorded decision differs from the rules' (empty when it does not).
    pub override_reason: String,
    /// `YYYY-MM-DD`.
    pub next_due_on: String,
    pub emergency_criteria: Vec<String>,
    pub reasons: Vec<String>,
    pub referral_id: Option<i64>,
    pub created_at_ms: i64,
}

impl FollowUp {
    pub fn classification_zh(&self) -> &'static str {
        Classification::from_number(self.classification).map_or("", Classification::label_zh)
    }

    pub fn next_step_zh(&self) -> &'static str {
        NextStep::from_number(self.next_step).map_or("", NextStep::label_zh)
    }

    /// Seen in person (a phone call is not).
    pub fn face_to_face(&self) -> bool {
        self.mode != Mode::Phone
    }
}

/// The rules' decision on a form, for the page to show while it is filled in.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub classification: i64,
    pub next_step: i64,
    pub next_due_on: String,
    pub emergency_criteria: Vec<String>,
    pub reasons: Vec<String>,
    pub bmi: Option<f64>,
}

impl DecisionView {
    pub fn classification_zh(&self) -> &'static str {
        Classification::from_number(self.classification).map_or("", Classification::label_zh)
    }

    pub fn next_step_zh(&self) -> &'static str {
        NextStep::from_number(self.next_step).map_or("", NextStep::label_zh)
    }
}

/// A form that passed its checks, with the rules' decision and the one to record.
pub(super) struct Checked {
    pub at_ms: Millis,
    pub on: time::Date,
    pub mode: Mode,
    pub adherence: Adherence,
    pub bmi: Option<f64>,
    pub doctor_staff_id: i64,
    pub rule: Decision,
    pub classification: Classification,
    pub next_step: NextStep,
    pub override_reason: String,
    pub next_due_on: time::Date,
}

fn implausible(error: Implausible) -> Error {
    Error::Implausible(error)
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

/// The body mass index to one decimal, from weight and height.
pub fn bmi(weight_kg: Option<f64>, height_cm: Option<f64>) -> Option<f64> {
    let (weight, height) = (weight_kg?, height_cm? / 100.0);
    Some((weight / (height * height) * 10.0).round() / 10.0)
}

fn check_text_fields(new: &NewFollowUp) -> Result<(), Error> {
    if new.medicines.len() > 20 {
        return Err(invalid("medicines", "at most 20 medicines"));
    }
    let fits = |text: &str, max: usize| text.chars().count() <= max;
    if new.medicines.iter().any(|m| {
        m.name.trim().is_empty()
            || !fits(&m.name, 100)
            || !fits(&m.dose, 50)
            || !fits(&m.frequency, 50)
    }) {
        return Err(invalid(
            "medicines",
            "each with a name (≤ 100 characters), dose and frequency (≤ 50)",
        ));
    }
    let counts = [
        ("smoking_per_day", new.smoking_per_day, 100),
        ("exercise_per_week", new.exercise_per_week, 50),
    ];
    for (field, value, high) in counts {
        if value.is_some_and(|v| !(0..=high).contains(&v)) {
            return Err(implausible(Implausible {
                field,
                low: 0.0,
                high: high as f64,
            }));
        }
    }
    Ok(())
}

/// Checks the form and decides by the rules: the reading's plausibility, the time, the
/// previous classification in the programme, the thresholds in force.
pub(super) async fn check(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    enrolment: &Enrolment,
    age_of: impl Fn(time::Date) -> i32,
    new: &NewFollowUp,
) -> Result<Checked, Error> {
    let at_ms = clock::parse_time(&new.followed_up_at)
        .filter(|at| *at <= now + 5 * 60_000)
        .ok_or(invalid(
            "followed_up_at",
            "a time in RFC 3339, not in the future",
        ))?;
    let on = clock::date_cst(at_ms);
    if on.to_string() < enrolment.enrolled_on {
        return Err(invalid(
            "followed_up_at",
            "not before the resident was enrolled",
        ));
    }
    let mode = new.mode.ok_or(invalid("mode", "clinic, home or phone"))?;
    let adherence = new
        .adherence
        .ok_or(invalid("adherence", "regular, intermittent or none"))?;
    if new.sbp.is_some() != new.dbp.is_some() {
        return Err(invalid("dbp", "both pressures or neither"));
    }
    if enrolment.program == Program::Hypertension && new.fpg_mmol.is_some() {
        // Kept for diabetes only, where the form has it.
        return Err(invalid("fpg_mmol", "recorded on the diabetes form"));
    }
    let reading = rules::Reading {
        sbp: new.sbp,
        dbp: new.dbp,
        heart_rate: new.heart_rate,
        fpg_mmol: new.fpg_mmol,
        symptoms: new.symptoms.clone(),
        adverse_reaction: new.adverse_reaction,
        complication: new.complication,
    };
    rules::check_plausible(&reading).map_err(implausible)?;
    rules::check_range("weight_kg", new.weight_kg, 10.0, 300.0).map_err(implausible)?;
    rules::check_range("height_cm", new.height_cm, 100.0, 230.0).map_err(implausible)?;
    rules::check_range("drinking_per_day", new.drinking_per_day, 0.0, 50.0).map_err(implausible)?;
    check_text_fields(new)?;
    let doctor_staff_id = match new.doctor_staff_id {
        None => actor.staff_id,
        Some(id) => crate::staff::store::staff_by_id(&ctx.db, actor.community_id, id)
            .await?
            .filter(|s| s.active)
            .map(|s| s.id)
            .ok_or(invalid("doctor_staff_id", "an active member of staff"))?,
    };
    let thresholds = settings::thresholds(&ctx.db, actor.community_id).await?;
    let previous =
        store::classification_before(&ctx.db, actor.community_id, enrolment.id, at_ms).await?;
    let rule = rules::decide(
        enrolment.program,
        &reading,
        age_of(on),
        previous,
        &thresholds,
    );
    let (classification, next_step, override_reason) = match &new.override_decision {
        None => (rule.classification, rule.next_step, String::new()),
        Some(o) => {
            let reason = o.reason.trim();
            if reason.is_empty() || reason.chars().count() > 500 {
                return Err(invalid(
                    "override.reason",
                    "1–500 characters: why the decision differs from the rules'",
                ));
            }
            let classification = Classification::from_number(o.classification)
                .ok_or(invalid("override.classification", "1 to 4"))?;
            let next_step = NextStep::from_number(o.next_step)
                .ok_or(invalid("override.next_step", "1 to 4"))?;
            (classification, next_step, reason.to_owned())
        }
    };
    let days = if next_step == NextStep::Routine {
        thresholds.routine_days
    } else {
        thresholds.recheck_days
    };
    Ok(Checked {
        at_ms,
        on,
        mode,
        adherence,
        bmi: bmi(new.weight_kg, new.height_cm),
        doctor_staff_id,
        classification,
        next_step,
        override_reason,
        next_due_on: on + time::Duration::days(days),
        rule,
    })
}

/// The rules' decision on a form being filled in; nothing is stored.
pub async fn preview(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    enrolment_id: i64,
    new: &NewFollowUp,
) -> Result<DecisionView, Error> {
    let (enrolment, resident) =
        load_for_write(ctx, now, actor, enrolment_id, "chronic.follow_up.preview").await?;
    let checked = check(ctx, now, actor, &enrolment, |d| resident.age_on(d), new).await?;
    Ok(DecisionView {
        classification: checked.classification.as_number(),
        next_step: checked.next_step.as_number(),
        next_due_on: checked.next_due_on.to_string(),
        emergency_criteria: checked.rule.emergency_criteria,
        reasons: checked.rule.reasons,
        bmi: checked.bmi,
    })
}

async fn load_for_write(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    enrolment_id: i64,
    action: &str,
) -> Result<(Enrolment, resident::model::Resident), Error> {
    let enrolment = store::enrolment_by_id(&ctx.db, actor.community_id, enrolment_id)
        .await?
        .ok_or(Error::NotFound)?;
    let resident = resident::load_authorized(
        ctx,
        now,
        actor,
        enrolment.resident_id,
        Purpose::Clinical,
        Access::Write,
        action,
    )
    .await?;
    if enrolment.status == Status::Ended {
        return Err(Error::Ended);
    }
    Ok((enrolment, resident))
}

/// Where an up-referral from the actor's institution goes: a village clinic's township centre,
/// else the institution above; `field` is named when there is none.
pub(super) async fn up_from(ctx: &Ctx, actor: &Actor, field: &'static str) -> Result<i64, Error> {
    let from = actor.institution.ok_or(crate::access::Denied)?;
    let here = institution::store::institution_by_id(&ctx.db, actor.community_id, from.id)
        .await?
        .ok_or(crate::access::Denied)?;
    match here.kind {
        InstitutionKind::VillageClinic => here.township_id,
        _ => here.parent_id,
    }
    .ok_or(invalid(
        field,
        "a referral goes up from a primary-care institution",
    ))
}

/// The up-referral a referring next step raises: from the actor's institution to its township
/// centre (from a village clinic) or to the institution above, with the criteria as the reason.
async fn referral_for(
    ctx: &Ctx,
    actor: &Actor,
    enrolment: &Enrolment,
    checked: &Checked,
) -> Result<NewReferral, Error> {
    let to = up_from(ctx, actor, "next_step").await?;
    let why = if checked.rule.emergency_criteria.is_empty()
        || checked.next_step != NextStep::EmergencyReferral
    {
        checked.rule.reasons.join("；")
    } else {
        checked.rule.emergency_criteria.join("、")
    };
    let why = if checked.override_reason.is_empty() {
        why
    } else {
        format!("{why}；医生判断：{}", checked.override_reason)
    };
    let reason = format!(
        "慢病随访（{}）{}：{why}",
        enrolment.program.label_zh(),
        checked.next_step.label_zh()
    );
    let urgency = match checked.next_step {
        NextStep::EmergencyReferral => Urgency::Emergency,
        _ if checked.classification == Classification::Complication => Urgency::Urgent,
        _ => Urgency::Routine,
    };
    Ok(NewReferral {
        resident_id: enrolment.resident_id,
        direction: Direction::Up,
        to_institution_id: to,
        to_department_id: None,
        reason: reason.chars().take(2000).collect(),
        diagnosis_icd10: enrolment.program.icd10().to_owned(),
        urgency,
        green_channel: None,
        ecg_id: None,
        lab_report_ids: Vec::new(),
        catalogue_exception_reason: Some("按慢病随访规则转诊".to_owned()),
        submit: true,
    })
}

/// Records a follow-up: the rules decide, a referring next step raises the referral in the same
/// transaction, a temporarily lost patient is managed again. The same enrolment and time twice
/// is 409, so a retry never records a visit twice.
pub async fn record(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    enrolment_id: i64,
    new: &NewFollowUp,
) -> Result<FollowUp, Error> {
    let (enrolment, resident) =
        load_for_write(ctx, now, actor, enrolment_id, "chronic.follow_up.create").await?;
    let checked = check(ctx, now, actor, &enrolment, |d| resident.age_on(d), new).await?;
    let referral = if checked.next_step.refers() {
        let new_referral = referral_for(ctx, actor, &enrolment, &checked).await?;
        Some(referral::check(ctx, now, actor, &new_referral).await?)
    } else {
        None
    };
    let mut tx = ctx.db.begin().await?;
    let id = match store::insert_follow_up(&mut tx, actor, &enrolment, new, &checked, now).await {
        Ok(id) => id,
        Err(error)
            if crate::db::is_unique_violation(
                &error,
                "chronic_follow_ups_unique",
                "chronic_follow_ups.enrolment_id",
            ) =>
        {
            return Err(Error::FollowUpRecorded);
        }
        Err(error) => return Err(error.into()),
    };
    let referral_id = match &referral {
        Some(checked) => {
            let referral_id = referral::write(&mut tx, actor, checked, now, false).await?;
            store::set_follow_up_referral(&mut tx, id, referral_id).await?;
            Some(referral_id)
        }
        None => None,
    };
    if enrolment.status == Status::Lost {
        let on = checked.on.to_string();
        store::set_status(
            &mut tx,
            actor.community_id,
            enrolment.id,
            (Status::Managed, &on, "随访恢复管理"),
            now,
        )
        .await?;
    }
    let entry = Entry::by(
        actor,
        now,
        "chronic.follow_up.create",
        "chronic_follow_up",
        Some(id),
    )
    .about_resident(enrolment.resident_id)
    .detail(format!(
        "classification={} next_step={} rule={}/{}",
        checked.classification.as_number(),
        checked.next_step.as_number(),
        checked.rule.classification.as_number(),
        checked.rule.next_step.as_number()
    ));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    if let (Some(checked), Some(referral_id)) = (&referral, referral_id) {
        referral::announce(ctx, actor, checked, referral_id, false);
    }
    store::follow_up_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// An enrolment's follow-ups, newest first, for those who may read the resident's record.
pub async fn history(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    enrolment_id: i64,
) -> Result<Vec<FollowUp>, Error> {
    let enrolment = super::get(ctx, now, actor, enrolment_id).await?;
    Ok(store::follow_ups_of(&ctx.db, actor.community_id, enrolment.id).await?)
}

/// The enrolment a follow-up belongs to, for those who may read it.
pub async fn enrolment_of(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<i64, Error> {
    let follow_up = store::follow_up_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(super::get(ctx, now, actor, follow_up.enrolment_id)
        .await?
        .id)
}
