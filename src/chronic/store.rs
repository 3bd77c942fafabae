//! The chronic registry's rows.

use sqlx::AnyConnection;

use super::follow_up::{Adherence, Checked, FollowUp, Mode, NewFollowUp, Rating, Salt};
use super::model::{Enrolment, EnrolmentQuery, NewEnrolment, Status};
use super::rules::{Classification, Program, Symptom};
use crate::access::Actor;
use crate::db::Db;

const COLUMNS: &str = "id, community_id, resident_id, program, enrolled_on, basis, institution_id, \
     doctor_staff_id, team_id, status, status_on, status_reason, created_at_ms, updated_at_ms";

pub async fn insert_enrolment(
    conn: &mut AnyConnection,
    community_id: i64,
    new: &NewEnrolment,
    staff_id: i64,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO chronic_enrolments (community_id, resident_id, program, enrolled_on, basis, \
         institution_id, doctor_staff_id, team_id, status, status_reason, created_by_staff_id, \
         created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'managed', '', $9, $10, $10) RETURNING id",
    )
    .bind(community_id)
    .bind(new.resident_id)
    .bind(new.program.as_str())
    .bind(new.enrolled_on.trim())
    .bind(new.basis.as_str())
    .bind(new.institution_id)
    .bind(new.doctor_staff_id)
    .bind(new.team_id)
    .bind(staff_id)
    .bind(now_ms)
    .fetch_one(conn)
    .await
}

pub async fn enrolment_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<Enrolment>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chronic_enrolments WHERE community_id = $1 AND id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// The enrolments an institution manages, oldest first.
pub async fn enrolments_of(
    db: &Db,
    community_id: i64,
    institution_id: i64,
    query: &EnrolmentQuery,
    (limit, offset): (i64, i64),
) -> Result<Vec<Enrolment>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chronic_enrolments WHERE community_id = $1 AND institution_id = $2 \
         AND ($3 = '' OR program = $3) AND ($4 = '' OR status = $4) ORDER BY id {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(community_id)
    .bind(institution_id)
    .bind(query.program.map(|p| p.as_str()).unwrap_or_default())
    .bind(query.status.map(Status::as_str).unwrap_or_default())
    .fetch_all(&db.pool)
    .await
}

pub async fn set_status(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
    (status, on, reason): (Status, &str, &str),
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE chronic_enrolments SET status = $1, status_on = $2, status_reason = $3, \
         updated_at_ms = $4 WHERE community_id = $5 AND id = $6",
    )
    .bind(status.as_str())
    .bind(on)
    .bind(reason)
    .bind(now_ms)
    .bind(community_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

const FOLLOW_UP_COLUMNS: &str = "id, enrolment_id, resident_id, program, institution_id, \
     doctor_staff_id, followed_up_at_ms, followed_up_on, mode, symptoms, sbp, dbp, heart_rate, \
     weight_kg, height_cm, bmi, fpg_mmol, smoking_per_day, drinking_per_day, exercise_per_week, \
     salt, psychology, compliance, adherence, adverse_reaction, complication, medicines, \
     classification, next_step, rule_classification, rule_next_step, override_reason, \
     next_due_on, emergency_criteria, reasons, referral_id, created_at_ms";

#[derive(sqlx::FromRow)]
struct FollowUpRow {
    id: i64,
    enrolment_id: i64,
    resident_id: i64,
    program: String,
    institution_id: i64,
    doctor_staff_id: i64,
    followed_up_at_ms: i64,
    followed_up_on: String,
    mode: String,
    symptoms: String,
    sbp: Option<f64>,
    dbp: Option<f64>,
    heart_rate: Option<f64>,
    weight_kg: Option<f64>,
    height_cm: Option<f64>,
    bmi: Option<f64>,
    fpg_mmol: Option<f64>,
    smoking_per_day: Option<i64>,
    drinking_per_day: Option<f64>,
    exercise_per_week: Option<i64>,
    salt: Option<String>,
    psychology: Option<String>,
    compliance: Option<String>,
    adherence: String,
    adverse_reaction: i64,
    complication: i64,
    medicines: String,
    classification: i64,
    next_step: i64,
    rule_classification: i64,
    rule_next_step: i64,
    override_reason: String,
    next_due_on: String,
    emergency_criteria: String,
    reasons: String,
    referral_id: Option<i64>,
    created_at_ms: i64,
}

impl FollowUpRow {
    fn into_follow_up(self) -> FollowUp {
        FollowUp {
            id: self.id,
            enrolment_id: self.enrolment_id,
            resident_id: self.resident_id,
            program: Program::parse(&self.program).unwrap_or(Program::Hypertension),
            institution_id: self.institution_id,
            doctor_staff_id: self.doctor_staff_id,
            followed_up_at_ms: self.followed_up_at_ms,
            followed_up_on: self.followed_up_on,
            mode: Mode::parse(&self.mode).unwrap_or(Mode::Clinic),
            symptoms: self
                .symptoms
                .split(',')
                .filter_map(Symptom::parse)
                .collect(),
            sbp: self.sbp,
            dbp: self.dbp,
            heart_rate: self.heart_rate,
            weight_kg: self.weight_kg,
            height_cm: self.height_cm,
            bmi: self.bmi,
            fpg_mmol: self.fpg_mmol,
            smoking_per_day: self.smoking_per_day,
            drinking_per_day: self.drinking_per_day,
            exercise_per_week: self.exercise_per_week,
            salt: self.salt.as_deref().and_then(Salt::parse),
            psychology: self.psychology.as_deref().and_then(Rating::parse),
            compliance: self.compliance.as_deref().and_then(Rating::parse),
            adherence: Adherence::parse(&self.adherence).unwrap_or(Adherence::Regular),
            adverse_reaction: self.adverse_reaction != 0,
            complication: self.complication != 0,
            medicines: from_json(&self.medicines),
            classification: self.classification,
            next_step: self.next_step,
            rule_classification: self.rule_classification,
            rule_next_step: self.rule_next_step,
            override_reason: self.override_reason,
            next_due_on: self.next_due_on,
            emergency_criteria: from_json(&self.emergency_criteria),
            reasons: from_json(&self.reasons),
            referral_id: self.referral_id,
            created_at_ms: self.created_at_ms,
        }
    }
}

fn from_json<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

pub(super) async fn insert_follow_up(
    conn: &mut AnyConnection,
    actor: &Actor,
    enrolment: &Enrolment,
    new: &NewFollowUp,
    checked: &Checked,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    let symptoms: Vec<&str> = new.symptoms.iter().map(|s| s.as_str()).collect();
    sqlx::query_scalar(
        "INSERT INTO chronic_follow_ups (community_id, enrolment_id, resident_id, program, \
         institution_id, doctor_staff_id, followed_up_at_ms, followed_up_on, mode, symptoms, sbp, \
         dbp, heart_rate, weight_kg, height_cm, bmi, fpg_mmol, smoking_per_day, \
         drinking_per_day, exercise_per_week, salt, psychology, compliance, adherence, \
         adverse_reaction, complication, medicines, rule_classification, rule_next_step, \
         classification, next_step, override_reason, next_due_on, emergency_criteria, reasons, \
         recorded_by_staff_id, created_at_ms, bp_at_target, fpg_at_target) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, \
         $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39) RETURNING id",
    )
    // Not kept prepared: an absent reading is bound as an untyped NULL, and a statement prepared
    // with one would refuse the number of a later visit on PostgreSQL.
    .persistent(false)
    .bind(actor.community_id)
    .bind(enrolment.id)
    .bind(enrolment.resident_id)
    .bind(enrolment.program.as_str())
    .bind(actor.institution.map_or(enrolment.institution_id, |i| i.id))
    .bind(checked.doctor_staff_id)
    .bind(checked.at_ms)
    .bind(checked.on.to_string())
    .bind(checked.mode.as_str())
    .bind(symptoms.join(","))
    .bind(new.sbp)
    .bind(new.dbp)
    .bind(new.heart_rate)
    .bind(new.weight_kg)
    .bind(new.height_cm)
    .bind(checked.bmi)
    .bind(new.fpg_mmol)
    .bind(new.smoking_per_day)
    .bind(new.drinking_per_day)
    .bind(new.exercise_per_week)
    .bind(new.salt.map(Salt::as_str))
    .bind(new.psychology.map(Rating::as_str))
    .bind(new.compliance.map(Rating::as_str))
    .bind(checked.adherence.as_str())
    .bind(i64::from(new.adverse_reaction))
    .bind(i64::from(new.complication))
    .bind(json(&new.medicines))
    .bind(checked.rule.classification.as_number())
    .bind(checked.rule.next_step.as_number())
    .bind(checked.classification.as_number())
    .bind(checked.next_step.as_number())
    .bind(&checked.override_reason)
    .bind(checked.next_due_on.to_string())
    .bind(json(&checked.rule.emergency_criteria))
    .bind(json(&checked.rule.reasons))
    .bind(actor.staff_id)
    .bind(now_ms)
    .bind(checked.rule.bp_at_target.map(i64::from))
    .bind(checked.rule.fpg_at_target.map(i64::from))
    .fetch_one(conn)
    .await
}

pub(super) async fn set_follow_up_referral(
    conn: &mut AnyConnection,
    id: i64,
    referral_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chronic_follow_ups SET referral_id = $1 WHERE id = $2")
        .bind(referral_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn follow_up_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<FollowUp>, sqlx::Error> {
    let row: Option<FollowUpRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FOLLOW_UP_COLUMNS} FROM chronic_follow_ups WHERE community_id = $1 AND id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(FollowUpRow::into_follow_up))
}

/// An enrolment's follow-ups, newest first.
pub async fn follow_ups_of(
    db: &Db,
    community_id: i64,
    enrolment_id: i64,
) -> Result<Vec<FollowUp>, sqlx::Error> {
    let rows: Vec<FollowUpRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FOLLOW_UP_COLUMNS} FROM chronic_follow_ups WHERE community_id = $1 \
         AND enrolment_id = $2 ORDER BY followed_up_at_ms DESC LIMIT 500"
    )))
    .bind(community_id)
    .bind(enrolment_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(FollowUpRow::into_follow_up).collect())
}

/// The recorded classification of the enrolment's last follow-up before `at_ms`.
pub(super) async fn classification_before(
    db: &Db,
    community_id: i64,
    enrolment_id: i64,
    at_ms: i64,
) -> Result<Option<Classification>, sqlx::Error> {
    let number: Option<i64> = sqlx::query_scalar(
        "SELECT classification FROM chronic_follow_ups WHERE community_id = $1 \
         AND enrolment_id = $2 AND followed_up_at_ms < $3 ORDER BY followed_up_at_ms DESC LIMIT 1",
    )
    .bind(community_id)
    .bind(enrolment_id)
    .bind(at_ms)
    .fetch_optional(&db.pool)
    .await?;
    Ok(number.and_then(Classification::from_number))
}

/// An open enrolment of an institution with its resident's contact and its last follow-up.
#[derive(sqlx::FromRow)]
pub(super) struct CareRow {
    pub enrolment_id: i64,
    pub resident_id: i64,
    pub name: String,
    pub phone: String,
    #[sqlx(try_from = "String")]
    pub program: Program,
    pub enrolled_on: String,
    pub last_followed_up_at_ms: Option<i64>,
    pub last_followed_up_on: Option<String>,
    pub next_due_on: Option<String>,
}

/// The institution's enrolments not ended, of living residents, with each one's last follow-up.
pub(super) async fn care_rows(
    db: &Db,
    community_id: i64,
    institution_id: i64,
) -> Result<Vec<CareRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.id AS enrolment_id, e.resident_id, r.name, r.phone, e.program, e.enrolled_on, \
         f.followed_up_at_ms AS last_followed_up_at_ms, f.followed_up_on AS last_followed_up_on, \
         f.next_due_on FROM chronic_enrolments e JOIN residents r ON r.id = e.resident_id \
         LEFT JOIN chronic_follow_ups f ON f.id = (SELECT f2.id FROM chronic_follow_ups f2 \
         WHERE f2.enrolment_id = e.id ORDER BY f2.followed_up_at_ms DESC LIMIT 1) \
         WHERE e.community_id = $1 AND e.institution_id = $2 AND e.status <> 'ended' \
         AND r.died_on IS NULL AND r.merged_into_id IS NULL ORDER BY e.id",
    )
    .bind(community_id)
    .bind(institution_id)
    .fetch_all(&db.pool)
    .await
}

/// The latest call to each of an institution's enrolments.
#[derive(sqlx::FromRow)]
pub(super) struct LastCall {
    pub enrolment_id: i64,
    pub result: String,
    pub hidden_until_ms: Option<i64>,
    pub called_at_ms: i64,
}

pub(super) async fn last_calls(
    db: &Db,
    community_id: i64,
    institution_id: i64,
) -> Result<Vec<LastCall>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.enrolment_id, c.result, c.hidden_until_ms, c.called_at_ms FROM chronic_calls c \
         JOIN chronic_enrolments e ON e.id = c.enrolment_id WHERE e.community_id = $1 \
         AND e.institution_id = $2 AND c.id = (SELECT c2.id FROM chronic_calls c2 \
         WHERE c2.enrolment_id = c.enrolment_id ORDER BY c2.called_at_ms DESC, c2.id DESC LIMIT 1)",
    )
    .bind(community_id)
    .bind(institution_id)
    .fetch_all(&db.pool)
    .await
}

pub(super) async fn insert_call(
    conn: &mut AnyConnection,
    actor: &Actor,
    enrolment: &Enrolment,
    (result, reason, hidden_until_ms): (&str, &str, Option<i64>),
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO chronic_calls (community_id, enrolment_id, resident_id, result, reason, \
         hidden_until_ms, called_by_staff_id, called_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING id",
    )
    .bind(actor.community_id)
    .bind(enrolment.id)
    .bind(enrolment.resident_id)
    .bind(result)
    .bind(reason)
    .bind(hidden_until_ms)
    .bind(actor.staff_id)
    .bind(now_ms)
    .fetch_one(conn)
    .await
}

/// Ends every open enrolment of a resident (died).
pub(super) async fn end_enrolments_of(
    conn: &mut AnyConnection,
    community_id: i64,
    resident_id: i64,
    on: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE chronic_enrolments SET status = 'ended', status_on = $1, status_reason = $2, \
         updated_at_ms = $3 WHERE community_id = $4 AND resident_id = $5 AND status <> 'ended'",
    )
    .bind(on)
    .bind(reason)
    .bind(now_ms)
    .bind(community_id)
    .bind(resident_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub(super) struct TaskRow {
    pub follow_up_id: i64,
    pub enrolment_id: i64,
    pub resident_id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub program: Program,
    pub referral_id: i64,
    pub referral_state: String,
    pub due_on: String,
}

/// Follow-ups of the institution's open enrolments that raised a referral whose outcome is not
/// recorded, with no follow-up since; the earliest due first.
pub(super) async fn open_referral_tasks(
    db: &Db,
    community_id: i64,
    institution_id: i64,
) -> Result<Vec<TaskRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT f.id AS follow_up_id, f.enrolment_id, f.resident_id, r.name, f.program, \
         f.referral_id, rf.state AS referral_state, f.next_due_on AS due_on \
         FROM chronic_follow_ups f JOIN chronic_enrolments e ON e.id = f.enrolment_id \
         JOIN residents r ON r.id = f.resident_id JOIN referrals rf ON rf.id = f.referral_id \
         WHERE e.community_id = $1 AND e.institution_id = $2 AND e.status <> 'ended' \
         AND r.died_on IS NULL AND f.referral_id IS NOT NULL \
         AND rf.state NOT IN ('completed', 'received', 'follow_up_planned', 'closed') \
         AND NOT EXISTS (SELECT 1 FROM chronic_follow_ups later WHERE later.enrolment_id = f.enrolment_id \
         AND later.followed_up_at_ms > f.followed_up_at_ms) ORDER BY f.next_due_on, f.id",
    )
    .bind(community_id)
    .bind(institution_id)
    .fetch_all(&db.pool)
    .await
}

/// A resident's enrolments, by programme.
pub async fn enrolments_of_resident(
    db: &Db,
    community_id: i64,
    resident_id: i64,
) -> Result<Vec<Enrolment>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chronic_enrolments WHERE community_id = $1 AND resident_id = $2 \
         ORDER BY program"
    )))
    .bind(community_id)
    .bind(resident_id)
    .fetch_all(&db.pool)
    .await
}
