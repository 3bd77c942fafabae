//! SQL of the health record. Every statement names its community.

use sqlx::{AnyConnection, Row};

use super::model::{
    Costs, Diagnosis, Encounter, ExamReport, ItemKind, LabReport, LabResult, NewExamReport,
    TimelineItem,
};
use crate::access::Scope;
use crate::db::Db;

const ENCOUNTER_COLUMNS: &str = "id, resident_id, institution_id, department_id, doctor_staff_id, \
     kind, started_at_ms, ended_at_ms, referral_id, cost_drugs_fen, cost_examinations_fen, \
     cost_tests_fen, cost_treatment_fen, cost_beds_fen, cost_materials_fen, main_procedure, \
     created_at_ms";

/// An encounter to insert; `diagnoses` already checked, principal first.
pub struct NewEncounterRow<'a> {
    pub community_id: i64,
    pub resident_id: i64,
    pub institution_id: i64,
    pub department_id: Option<i64>,
    pub doctor_staff_id: Option<i64>,
    pub kind: &'a str,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub referral_id: Option<i64>,
    pub costs: Costs,
    pub diagnoses: &'a [String],
    pub created_by_staff_id: Option<i64>,
    pub now_ms: i64,
}

pub async fn insert_encounter(
    conn: &mut AnyConnection,
    row: &NewEncounterRow<'_>,
) -> Result<i64, sqlx::Error> {
    let c = row.costs;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO encounters (community_id, resident_id, institution_id, department_id, \
         doctor_staff_id, kind, started_at_ms, ended_at_ms, referral_id, cost_drugs_fen, \
         cost_examinations_fen, cost_tests_fen, cost_treatment_fen, cost_beds_fen, \
         cost_materials_fen, created_by_staff_id, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         RETURNING id",
    )
    .bind(row.community_id)
    .bind(row.resident_id)
    .bind(row.institution_id)
    .bind(row.department_id)
    .bind(row.doctor_staff_id)
    .bind(row.kind)
    .bind(row.started_at_ms)
    .bind(row.ended_at_ms)
    .bind(row.referral_id)
    .bind(c.drugs_fen)
    .bind(c.examinations_fen)
    .bind(c.tests_fen)
    .bind(c.treatment_fen)
    .bind(c.beds_fen)
    .bind(c.materials_fen)
    .bind(row.created_by_staff_id)
    .bind(row.now_ms)
    .fetch_one(&mut *conn)
    .await?;
    replace_diagnoses(conn, row.community_id, id, row.diagnoses).await?;
    Ok(id)
}

pub async fn replace_diagnoses(
    conn: &mut AnyConnection,
    community_id: i64,
    encounter_id: i64,
    diagnoses: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM encounter_diagnoses WHERE community_id = $1 AND encounter_id = $2")
        .bind(community_id)
        .bind(encounter_id)
        .execute(&mut *conn)
        .await?;
    for (position, icd10) in diagnoses.iter().enumerate() {
        sqlx::query(
            "INSERT INTO encounter_diagnoses (community_id, encounter_id, position, icd10) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(community_id)
        .bind(encounter_id)
        .bind(position as i64 + 1)
        .bind(icd10)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sets the discharge time, the final costs and the main procedure of an encounter.
pub async fn discharge(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
    (ended_at_ms, main_procedure): (i64, &str),
    costs: Costs,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE encounters SET ended_at_ms = $1, cost_drugs_fen = $2, cost_examinations_fen = $3, \
         cost_tests_fen = $4, cost_treatment_fen = $5, cost_beds_fen = $6, cost_materials_fen = $7, \
         main_procedure = $10 WHERE community_id = $8 AND id = $9",
    )
    .bind(ended_at_ms)
    .bind(costs.drugs_fen)
    .bind(costs.examinations_fen)
    .bind(costs.tests_fen)
    .bind(costs.treatment_fen)
    .bind(costs.beds_fen)
    .bind(costs.materials_fen)
    .bind(community_id)
    .bind(id)
    .bind(main_procedure)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn encounter_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<Encounter>, sqlx::Error> {
    let encounter: Option<Encounter> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENCOUNTER_COLUMNS} FROM encounters WHERE community_id = $1 AND id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(mut encounter) = encounter else {
        return Ok(None);
    };
    encounter.diagnoses = diagnoses_of(db, community_id, id).await?;
    Ok(Some(encounter))
}

/// Inpatients still in at an institution, within the scope, longest stay first, with the
/// resident's name.
/// Who is at an institution now: the inpatients still in (longest stay first), or everyone
/// seen since a moment (newest first).
#[derive(Clone, Copy, Debug)]
pub enum Present {
    Inpatients,
    VisitsSince(i64),
}

/// The encounters of one institution that `present` names, within `scope`, with the residents'
/// names.
pub async fn present_at(
    db: &Db,
    community_id: i64,
    institution_id: i64,
    present: Present,
    scope: Scope,
    limit: i64,
) -> Result<Vec<(Encounter, String)>, sqlx::Error> {
    let (scope_sql, scope_values) = crate::resident::store::scope_condition(scope, 4);
    let (which, order) = match present {
        Present::Inpatients => (
            "e.kind = 'inpatient' AND e.ended_at_ms IS NULL AND $3 = 0",
            "e.started_at_ms, e.id",
        ),
        Present::VisitsSince(_) => ("e.started_at_ms >= $3", "e.started_at_ms DESC, e.id DESC"),
    };
    let columns: Vec<String> = ENCOUNTER_COLUMNS
        .split(", ")
        .map(|c| format!("e.{}", c.trim()))
        .collect();
    let sql = format!(
        "SELECT {}, r.name AS resident_name FROM encounters e \
         JOIN residents r ON r.id = e.resident_id AND r.community_id = e.community_id \
         WHERE e.community_id = $1 AND e.institution_id = $2 AND {which} \
         AND {scope_sql} ORDER BY {order} {}",
        columns.join(", "),
        crate::db::limit_clause(limit, 0)
    );
    let since = match present {
        Present::Inpatients => 0,
        Present::VisitsSince(at) => at,
    };
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(community_id)
        .bind(institution_id)
        .bind(since);
    for value in scope_values {
        query = query.bind(value);
    }
    let rows = query.fetch_all(&db.pool).await?;
    let mut stays = Vec::with_capacity(rows.len());
    for row in rows {
        use sqlx::FromRow;
        let mut encounter = Encounter::from_row(&row)?;
        encounter.diagnoses = diagnoses_of(db, community_id, encounter.id).await?;
        stays.push((encounter, row.try_get("resident_name")?));
    }
    Ok(stays)
}

pub async fn encounter_of_referral(
    db: &Db,
    community_id: i64,
    referral_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM encounters WHERE community_id = $1 AND referral_id = $2")
        .bind(community_id)
        .bind(referral_id)
        .fetch_optional(&db.pool)
        .await
}

async fn diagnoses_of(
    db: &Db,
    community_id: i64,
    encounter_id: i64,
) -> Result<Vec<Diagnosis>, sqlx::Error> {
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT icd10 FROM encounter_diagnoses WHERE community_id = $1 AND encounter_id = $2 \
         ORDER BY position",
    )
    .bind(community_id)
    .bind(encounter_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(codes.into_iter().map(diagnosis).collect())
}

pub fn diagnosis(icd10: String) -> Diagnosis {
    let stem = icd10.get(..5).filter(|s| crate::icd10::title(s).is_some());
    let title = crate::icd10::title(&icd10)
        .or_else(|| stem.and_then(crate::icd10::title))
        .or_else(|| icd10.get(..3).and_then(crate::icd10::title));
    Diagnosis { icd10, title }
}

/// Records a message as taken; false when the sender already sent this control ID.
pub async fn insert_message(
    conn: &mut AnyConnection,
    community_id: i64,
    sender_institution_id: i64,
    control_id: &str,
    message_type: &str,
    now_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let inserted = sqlx::query_scalar(
        "INSERT INTO hl7v2_messages (community_id, sender_institution_id, control_id, \
         message_type, received_at_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (community_id, sender_institution_id, control_id) DO NOTHING RETURNING id",
    )
    .bind(community_id)
    .bind(sender_institution_id)
    .bind(control_id)
    .bind(message_type)
    .bind(now_ms)
    .fetch_optional(conn)
    .await?;
    Ok(inserted)
}

pub struct NewLabReportRow<'a> {
    pub community_id: i64,
    pub resident_id: i64,
    pub message_id: i64,
    pub lab_institution_id: i64,
    pub ordering_institution_id: i64,
    pub order: &'a crate::hl7v2::Order,
    pub now_ms: i64,
}

pub async fn insert_lab_report(
    conn: &mut AnyConnection,
    row: &NewLabReportRow<'_>,
) -> Result<i64, sqlx::Error> {
    let order = row.order;
    let critical = order.results.iter().any(crate::hl7v2::Result::critical);
    let specimen = order.specimen.clone().unwrap_or_default();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO lab_reports (community_id, resident_id, message_id, lab_institution_id, \
         ordering_institution_id, order_code, order_name, observed_at_ms, received_at_ms, critical, \
         observed_precision, ordering_facility_given, status, comment, specimen_id, specimen_type, \
         specimen_collected_at_ms, raw_segment) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         RETURNING id",
    )
    .bind(row.community_id)
    .bind(row.resident_id)
    .bind(row.message_id)
    .bind(row.lab_institution_id)
    .bind(row.ordering_institution_id)
    .bind(&order.code)
    .bind(&order.name)
    .bind(order.observed.at_ms)
    .bind(row.now_ms)
    .bind(i64::from(critical))
    .bind(order.observed.precision.as_str())
    .bind(
        [order.ordering_facility.as_deref().unwrap_or(""), &order.ordering_facility_name]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
    )
    .bind(if order.status.is_empty() { "F" } else { &order.status })
    .bind(&order.comment)
    .bind(&specimen.id)
    .bind(&specimen.kind)
    .bind(specimen.collected.map(|c| c.at_ms))
    .bind(&order.raw)
    .fetch_one(&mut *conn)
    .await?;
    for (position, result) in order.results.iter().enumerate() {
        let (loinc_code, loinc_name) = result.loinc.clone().unwrap_or_default();
        let status = if result.status.is_empty() {
            "F"
        } else {
            &result.status
        };
        let result_id: i64 = sqlx::query_scalar(
            "INSERT INTO lab_results (community_id, lab_report_id, position, code, name, value, \
             unit, reference_range, abnormal_flag, critical, value_type, loinc_code, loinc_name, \
             status, comment, attachment_type, attachment, raw_segment, resident_id, order_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20) RETURNING id",
        )
        .bind(row.community_id)
        .bind(id)
        .bind(position as i64 + 1)
        .bind(&result.code)
        .bind(&result.name)
        .bind(&result.value)
        .bind(&result.unit)
        .bind(&result.reference_range)
        .bind(&result.abnormal_flag)
        .bind(i64::from(result.critical()))
        .bind(&result.value_type)
        .bind(loinc_code)
        .bind(loinc_name)
        .bind(status)
        .bind(&result.comment)
        .bind(
            result
                .attachment
                .as_ref()
                .map_or("", |a| a.media_type.as_str()),
        )
        .bind(result.attachment.as_ref().map(|a| a.data.clone()))
        .bind(&result.raw)
        .bind(row.resident_id)
        .bind(&order.code)
        .fetch_one(&mut *conn)
        .await?;
        if status == "C" {
            // A correction supersedes the current result of the same test of the same order.
            sqlx::query(
                "UPDATE lab_results SET superseded_by = $1 WHERE community_id = $2 \
                 AND resident_id = $3 AND order_code = $4 AND code = $5 AND id <> $1 \
                 AND superseded_by IS NULL",
            )
            .bind(result_id)
            .bind(row.community_id)
            .bind(row.resident_id)
            .bind(&order.code)
            .bind(&result.code)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(id)
}

/// An embedded document of a result (an ED value): its media type and bytes.
pub async fn lab_attachment(
    db: &Db,
    community_id: i64,
    report_id: i64,
    position: i64,
) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT attachment_type, attachment FROM lab_results WHERE community_id = $1 \
         AND lab_report_id = $2 AND position = $3 AND attachment IS NOT NULL",
    )
    .bind(community_id)
    .bind(report_id)
    .bind(position)
    .fetch_optional(&db.pool)
    .await
}

const LAB_COLUMNS: &str = "id, resident_id, lab_institution_id, ordering_institution_id, \
     order_code, order_name, observed_at_ms, received_at_ms, critical, acknowledged_by_staff_id, \
     acknowledged_at_ms, escalated_at_ms, observed_precision, ordering_facility_given, status, \
     comment, specimen_id, specimen_type, specimen_collected_at_ms";

pub async fn lab_report_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<LabReport>, sqlx::Error> {
    let report: Option<LabReport> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LAB_COLUMNS} FROM lab_reports WHERE community_id = $1 AND id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(mut report) = report else {
        return Ok(None);
    };
    report.results = results_of(db, community_id, id).await?;
    Ok(Some(report))
}

async fn results_of(db: &Db, community_id: i64, id: i64) -> Result<Vec<LabResult>, sqlx::Error> {
    sqlx::query_as(
        "SELECT position, code, name, value, unit, reference_range, abnormal_flag, critical, \
         value_type, loinc_code, loinc_name, status, comment, attachment_type, \
         CASE WHEN superseded_by IS NULL THEN 0 ELSE 1 END AS superseded FROM lab_results \
         WHERE community_id = $1 AND lab_report_id = $2 ORDER BY position",
    )
    .bind(community_id)
    .bind(id)
    .fetch_all(&db.pool)
    .await
}

/// Critical lab reports ordered by an institution, with their results, unacknowledged first,
/// newest first.
/// Critical lab reports sent to an institution, of residents inside `scope`.
pub async fn critical_lab_reports_of(
    db: &Db,
    community_id: i64,
    institution_id: i64,
    scope: Scope,
    (limit, offset): (i64, i64),
) -> Result<Vec<LabReport>, sqlx::Error> {
    let (in_scope, values) = crate::resident::store::scope_condition(scope, 3);
    let columns = LAB_COLUMNS
        .split(", ")
        .map(|c| format!("l.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} FROM lab_reports l JOIN residents r ON r.id = l.resident_id \
         WHERE l.community_id = $1 AND l.ordering_institution_id = $2 AND l.critical = 1 \
         AND {in_scope} \
         ORDER BY CASE WHEN l.acknowledged_at_ms IS NULL THEN 0 ELSE 1 END, l.received_at_ms DESC, \
         l.id DESC {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(community_id)
    .bind(institution_id);
    for value in values {
        query = query.bind(value);
    }
    let mut reports: Vec<LabReport> = query.fetch_all(&db.pool).await?;
    for report in &mut reports {
        report.results = results_of(db, community_id, report.id).await?;
    }
    Ok(reports)
}

pub async fn acknowledge_lab_report(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
    staff_id: i64,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE lab_reports SET acknowledged_by_staff_id = $1, acknowledged_at_ms = $2 \
         WHERE community_id = $3 AND id = $4 AND acknowledged_at_ms IS NULL",
    )
    .bind(staff_id)
    .bind(now_ms)
    .bind(community_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks critical lab reports left unacknowledged since before `cutoff_ms` as escalated;
/// returns each as [`crate::critical_value::Overdue`].
pub async fn escalate_unacknowledged(
    conn: &mut AnyConnection,
    cutoff_ms: i64,
    now_ms: i64,
) -> Result<Vec<crate::critical_value::Overdue>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE lab_reports SET escalated_at_ms = $1 WHERE critical = 1 \
         AND acknowledged_at_ms IS NULL AND escalated_at_ms IS NULL AND received_at_ms < $2 \
         RETURNING community_id, id, ordering_institution_id, resident_id",
    )
    .bind(now_ms)
    .bind(cutoff_ms)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| crate::critical_value::Overdue::from_row(r, "ordering_institution_id"))
        .collect()
}

pub async fn insert_exam_report(
    conn: &mut AnyConnection,
    community_id: i64,
    institution_id: i64,
    report: &NewExamReport,
    performed_at_ms: i64,
    reader_staff_id: i64,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO exam_reports (community_id, resident_id, institution_id, kind, item_code, \
         item_name, findings, conclusion, performed_at_ms, reader_staff_id, reported_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(community_id)
    .bind(report.resident_id)
    .bind(institution_id)
    .bind(report.kind.as_str())
    .bind(report.item_code.trim())
    .bind(report.item_name.trim())
    .bind(report.findings.trim())
    .bind(report.conclusion.trim())
    .bind(performed_at_ms)
    .bind(reader_staff_id)
    .bind(now_ms)
    .fetch_one(conn)
    .await
}

pub async fn exam_report_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<ExamReport>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, resident_id, institution_id, kind, item_code, item_name, findings, conclusion, \
         performed_at_ms, reader_staff_id, reported_at_ms FROM exam_reports \
         WHERE community_id = $1 AND id = $2",
    )
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// One SELECT per kind of item, each giving kind, id, at_ms, institution_id, detail, critical.
fn timeline_branch(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Encounter => {
            "SELECT 'encounter' AS kind, e.id, e.started_at_ms AS at_ms, e.institution_id, \
             e.kind || ' ' || COALESCE((SELECT d.icd10 FROM encounter_diagnoses d \
               WHERE d.encounter_id = e.id AND d.position = 1), '') AS detail, CAST(0 AS BIGINT) AS critical \
             FROM encounters e WHERE e.community_id = $1 AND e.resident_id = $2"
        }
        ItemKind::LabReport => {
            "SELECT 'lab_report' AS kind, l.id, l.observed_at_ms AS at_ms, \
             l.lab_institution_id AS institution_id, l.order_name AS detail, l.critical \
             FROM lab_reports l WHERE l.community_id = $1 AND l.resident_id = $2"
        }
        ItemKind::ExamReport => {
            "SELECT 'exam_report' AS kind, x.id, x.performed_at_ms AS at_ms, x.institution_id, \
             x.item_name || '：' || x.conclusion AS detail, CAST(0 AS BIGINT) AS critical \
             FROM exam_reports x WHERE x.community_id = $1 AND x.resident_id = $2"
        }
        ItemKind::Ecg => {
            "SELECT 'ecg' AS kind, g.id, g.recorded_at_ms AS at_ms, \
             g.site_institution_id AS institution_id, \
             COALESCE((SELECT r.conclusion FROM ecg_reports r WHERE r.ecg_id = g.id \
               ORDER BY r.version DESC LIMIT 1), '') AS detail, g.report_critical AS critical \
             FROM ecgs g WHERE g.community_id = $1 AND g.resident_id = $2"
        }
        ItemKind::ImagingStudy => {
            "SELECT 'imaging_study' AS kind, s.id, s.received_at_ms AS at_ms, \
             s.site_institution_id AS institution_id, \
             s.study_description || COALESCE('：' || (SELECT r.conclusion FROM imaging_reports r \
               WHERE r.study_id = s.id ORDER BY r.version DESC LIMIT 1), '') AS detail, \
             s.report_critical AS critical \
             FROM imaging_studies s WHERE s.community_id = $1 AND s.resident_id = $2"
        }
        ItemKind::Referral => {
            "SELECT 'referral' AS kind, f.id, f.created_at_ms AS at_ms, \
             f.from_institution_id AS institution_id, \
             f.direction || ' ' || f.state || ' ' || f.diagnosis_icd10 AS detail, \
             CAST(CASE WHEN f.green_channel IS NULL THEN 0 ELSE 1 END AS BIGINT) AS critical \
             FROM referrals f WHERE f.community_id = $1 AND f.resident_id = $2"
        }
        ItemKind::FollowUp => {
            "SELECT 'follow_up' AS kind, c.id, c.followed_up_at_ms AS at_ms, c.institution_id, \
             c.program || ' ' || c.mode || ' ' || CAST(c.classification AS TEXT) || '/' \
               || CAST(c.next_step AS TEXT) AS detail, \
             CAST(CASE WHEN c.next_step = 4 THEN 1 ELSE 0 END AS BIGINT) AS critical \
             FROM chronic_follow_ups c WHERE c.community_id = $1 AND c.resident_id = $2"
        }
    }
}

/// The raw timeline of one resident record: items of `kinds` in [from, to), newest first.
pub async fn timeline(
    db: &Db,
    community_id: i64,
    resident_id: i64,
    kinds: &[ItemKind],
    (from_ms, to_ms): (i64, i64),
    limit: i64,
    offset: i64,
) -> Result<Vec<TimelineItem>, sqlx::Error> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let union = kinds
        .iter()
        .map(|kind| timeline_branch(*kind))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT t.kind, t.id, t.at_ms, t.institution_id, i.name AS institution_name, \
         t.detail AS summary, t.critical FROM ({union}) t \
         JOIN institutions i ON i.id = t.institution_id \
         WHERE t.at_ms >= $3 AND t.at_ms < $4 ORDER BY t.at_ms DESC, t.kind, t.id DESC {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(community_id)
    .bind(resident_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&db.pool)
    .await
}

/// (lab report, result position) of a resident's lab results, newest first, optionally of one
/// result code and within [from, to) of the observation time.
pub async fn lab_result_keys(
    db: &Db,
    community_id: i64,
    resident_id: i64,
    code: Option<&str>,
    (from_ms, to_ms): (i64, i64),
    limit: i64,
    offset: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT l.id, r.position FROM lab_reports l \
         JOIN lab_results r ON r.lab_report_id = l.id AND r.community_id = l.community_id \
         WHERE l.community_id = $1 AND l.resident_id = $2 AND ($3 = '' OR r.code = $3) \
         AND l.observed_at_ms >= $4 AND l.observed_at_ms < $5 \
         ORDER BY l.observed_at_ms DESC, l.id DESC, r.position {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(community_id)
    .bind(resident_id)
    .bind(code.unwrap_or_default())
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("position")?)))
        .collect()
}
