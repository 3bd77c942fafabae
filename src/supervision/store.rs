//! The supervision tables: rule versions, alerts (once per rule and evidence) and their steps.

use sqlx::AnyConnection;

use super::indicators::Figures;
use super::model::{AlertState, Evidence, Step};
use super::rules::{self, Parameters, RuleCode};
use crate::db::Db;

/// The rules in force: (version, enabled codes, parameters); version 0 is the national
/// defaults with every rule enabled.
pub async fn rules_in_force(
    db: &Db,
    community_id: i64,
) -> Result<(i64, Vec<RuleCode>, Parameters), sqlx::Error> {
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT version, enabled, parameters FROM supervision_rule_versions \
         WHERE community_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(community_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(match row {
        None => (0, RuleCode::ALL.to_vec(), Parameters::default()),
        Some((version, enabled, parameters)) => (
            version,
            enabled.split(',').filter_map(RuleCode::parse).collect(),
            serde_json::from_str(&parameters).unwrap_or_default(),
        ),
    })
}

pub async fn insert_rule_version(
    conn: &mut AnyConnection,
    community_id: i64,
    (enabled, parameters): (&[RuleCode], &Parameters),
    by_staff_id: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let codes: Vec<&str> = enabled.iter().map(|c| c.as_str()).collect();
    sqlx::query_scalar(
        "INSERT INTO supervision_rule_versions (community_id, version, enabled, parameters, \
         set_by_staff_id, set_at_ms) SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 \
         FROM supervision_rule_versions WHERE community_id = $1 RETURNING version",
    )
    .bind(community_id)
    .bind(codes.join(","))
    .bind(serde_json::to_string(parameters).unwrap_or_default())
    .bind(by_staff_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

#[derive(sqlx::FromRow)]
struct EncounterRow {
    id: i64,
    resident_id: i64,
    institution_id: i64,
    kind: String,
    started_at_ms: i64,
    ended_at_ms: Option<i64>,
    referral_id: Option<i64>,
    total_fen: i64,
    drugs_fen: i64,
    examinations_fen: i64,
    sex: String,
    birth_date: String,
}

/// The encounters from `since_ms` of every resident who had one starting in `from_ms..to_ms`,
/// as the rules read them, by resident.
pub async fn encounters_around(
    db: &Db,
    community_id: i64,
    since_ms: i64,
    (from_ms, to_ms): (i64, i64),
) -> Result<Vec<rules::Encounter>, sqlx::Error> {
    let rows: Vec<EncounterRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENCOUNTER_COLUMNS} \
         WHERE e.community_id = $1 AND e.started_at_ms >= $2 AND e.resident_id IN \
         (SELECT DISTINCT x.resident_id FROM encounters x WHERE x.community_id = $1 \
         AND x.started_at_ms >= $3 AND x.started_at_ms < $4) ORDER BY e.resident_id, e.started_at_ms"
    )))
    .bind(community_id)
    .bind(since_ms)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&db.pool)
    .await?;
    let diagnoses = diagnoses(db, community_id, since_ms, (from_ms, to_ms)).await?;
    Ok(as_read(rows, diagnoses))
}

fn as_read(
    rows: Vec<EncounterRow>,
    mut diagnoses: std::collections::HashMap<i64, Vec<String>>,
) -> Vec<rules::Encounter> {
    rows.into_iter()
        .map(|row| {
            let at = crate::clock::date_cst(row.started_at_ms);
            rules::Encounter {
                id: row.id,
                resident_id: row.resident_id,
                institution_id: row.institution_id,
                inpatient: row.kind == "inpatient",
                started_at_ms: row.started_at_ms,
                ended_at_ms: row.ended_at_ms,
                referred: row.referral_id.is_some(),
                diagnoses: diagnoses.remove(&row.id).unwrap_or_default(),
                total_fen: row.total_fen,
                drugs_fen: row.drugs_fen,
                examinations_fen: row.examinations_fen,
                female: row.sex == "female",
                age: crate::clock::age_on(&row.birth_date, at),
            }
        })
        .collect()
}

/// The columns the rules read of an encounter `e` and its resident `r`.
const ENCOUNTER_COLUMNS: &str = "e.id, e.resident_id, e.institution_id, e.kind, e.started_at_ms, \
     e.ended_at_ms, e.referral_id, e.cost_drugs_fen + e.cost_examinations_fen + e.cost_tests_fen \
     + e.cost_treatment_fen + e.cost_beds_fen + e.cost_materials_fen AS total_fen, \
     e.cost_drugs_fen AS drugs_fen, e.cost_examinations_fen + e.cost_tests_fen AS examinations_fen, \
     r.sex, r.birth_date FROM encounters e JOIN residents r ON r.id = e.resident_id";

/// The inpatient stays admitted in `from_ms..to_ms`, with their principal diagnosis.
pub async fn stays_between(
    db: &Db,
    community_id: i64,
    (from_ms, to_ms): (i64, i64),
) -> Result<Vec<rules::Encounter>, sqlx::Error> {
    let rows: Vec<EncounterRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENCOUNTER_COLUMNS} WHERE e.community_id = $1 AND e.kind = 'inpatient' \
         AND e.started_at_ms >= $2 AND e.started_at_ms < $3 ORDER BY e.resident_id, e.started_at_ms"
    )))
    .bind(community_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&db.pool)
    .await?;
    let principal: Vec<(i64, String)> = sqlx::query_as(
        "SELECT d.encounter_id, d.icd10 FROM encounter_diagnoses d JOIN encounters e \
         ON e.id = d.encounter_id WHERE e.community_id = $1 AND e.kind = 'inpatient' \
         AND e.started_at_ms >= $2 AND e.started_at_ms < $3 AND d.position = 1",
    )
    .bind(community_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&db.pool)
    .await?;
    let diagnoses = principal
        .into_iter()
        .map(|(encounter, code)| (encounter, vec![code]))
        .collect();
    Ok(as_read(rows, diagnoses))
}

#[derive(sqlx::FromRow)]
struct FiguresRow {
    institution_id: i64,
    kind: String,
    encounter_kind: String,
    encounters: i64,
    drugs_fen: i64,
    examinations_fen: i64,
    materials_fen: i64,
    treatment_fen: i64,
    total_fen: i64,
}

/// Each institution's figures over the encounters starting in `from_ms..to_ms`.
pub async fn figures(
    db: &Db,
    community_id: i64,
    (from_ms, to_ms): (i64, i64),
) -> Result<Vec<Figures>, sqlx::Error> {
    let rows: Vec<FiguresRow> = sqlx::query_as(
        "SELECT e.institution_id, i.kind, e.kind AS encounter_kind, \
         CAST(COUNT(*) AS BIGINT) AS encounters, \
         CAST(SUM(e.cost_drugs_fen) AS BIGINT) AS drugs_fen, \
         CAST(SUM(e.cost_examinations_fen + e.cost_tests_fen) AS BIGINT) AS examinations_fen, \
         CAST(SUM(e.cost_materials_fen) AS BIGINT) AS materials_fen, \
         CAST(SUM(e.cost_treatment_fen) AS BIGINT) AS treatment_fen, \
         CAST(SUM(e.cost_drugs_fen + e.cost_examinations_fen + e.cost_tests_fen + e.cost_treatment_fen \
         + e.cost_beds_fen + e.cost_materials_fen) AS BIGINT) AS total_fen \
         FROM encounters e JOIN institutions i ON i.id = e.institution_id \
         WHERE e.community_id = $1 AND e.started_at_ms >= $2 AND e.started_at_ms < $3 \
         GROUP BY e.institution_id, i.kind, e.kind ORDER BY e.institution_id",
    )
    .bind(community_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&db.pool)
    .await?;
    let mut figures: Vec<Figures> = Vec::new();
    for row in rows {
        let Ok(kind) = crate::institution::InstitutionKind::try_from(row.kind) else {
            continue;
        };
        if figures
            .last()
            .is_none_or(|f| f.institution_id != row.institution_id)
        {
            figures.push(Figures {
                institution_id: row.institution_id,
                level: kind.level(),
                ..Figures::default()
            });
        }
        let f = figures.last_mut().expect("pushed");
        if row.encounter_kind == "inpatient" {
            f.admissions += row.encounters;
            f.inpatient_fen += row.total_fen;
        } else {
            f.outpatient_visits += row.encounters;
            f.outpatient_fen += row.total_fen;
        }
        f.drugs_fen += row.drugs_fen;
        f.examinations_fen += row.examinations_fen;
        f.materials_fen += row.materials_fen;
        f.treatment_fen += row.treatment_fen;
        f.total_fen += row.total_fen;
    }
    Ok(figures)
}

/// The diagnoses of the same encounters, by encounter, the principal first.
async fn diagnoses(
    db: &Db,
    community_id: i64,
    since_ms: i64,
    (from_ms, to_ms): (i64, i64),
) -> Result<std::collections::HashMap<i64, Vec<String>>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT d.encounter_id, d.icd10 FROM encounter_diagnoses d JOIN encounters e \
         ON e.id = d.encounter_id WHERE e.community_id = $1 AND e.started_at_ms >= $2 \
         AND e.resident_id IN (SELECT DISTINCT x.resident_id FROM encounters x \
         WHERE x.community_id = $1 AND x.started_at_ms >= $3 AND x.started_at_ms < $4) \
         ORDER BY d.encounter_id, d.position",
    )
    .bind(community_id)
    .bind(since_ms)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&db.pool)
    .await?;
    let mut by_encounter: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for (encounter, code) in rows {
        by_encounter.entry(encounter).or_default().push(code);
    }
    Ok(by_encounter)
}

/// Writes a hit as a new alert unless one of the same rule and evidence exists; whether it
/// was new.
pub async fn insert_alert(
    conn: &mut AnyConnection,
    community_id: i64,
    rule_version: i64,
    hit: &rules::Hit,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let c = hit.comparison;
    let inserted = sqlx::query(
        "INSERT INTO supervision_alerts (community_id, rule_code, rule_version, finding, \
         institution_id, resident_id, period, evidence_key, encounter_ids, amount_fen, detail, \
         state, raised_at_ms, updated_at_ms, value, peer_median, peer_p90, peers) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'new', $12, $12, $13, $14, $15, $16) \
         ON CONFLICT (community_id, rule_code, evidence_key) DO NOTHING",
    )
    // Not kept prepared: an encounter rule's hit binds no comparison (untyped NULLs, see
    // chronic::store).
    .persistent(false)
    .bind(community_id)
    .bind(hit.rule.as_str())
    .bind(rule_version)
    .bind(hit.rule.finding().as_str())
    .bind(hit.institution_id)
    .bind(hit.resident_id)
    .bind(crate::clock::month_cst(hit.at_ms))
    .bind(hit.evidence_key())
    .bind(rules::join_ids(&hit.encounters))
    .bind(hit.amount_fen)
    .bind(&hit.detail)
    .bind(now)
    .bind(c.map(|c| c.value))
    .bind(c.map(|c| c.peer_median))
    .bind(c.map(|c| c.peer_p90))
    .bind(c.map(|c| c.peers))
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AlertRow {
    pub id: i64,
    pub community_id: i64,
    pub rule_code: String,
    pub rule_version: i64,
    pub finding: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub resident_id: Option<i64>,
    pub period: String,
    pub evidence_key: String,
    pub encounter_ids: String,
    pub value: Option<f64>,
    pub peer_median: Option<f64>,
    pub peer_p90: Option<f64>,
    pub peers: Option<i64>,
    pub amount_fen: i64,
    pub detail: String,
    pub state: String,
    pub due_on: Option<String>,
    pub refund_fen: Option<i64>,
    pub raised_at_ms: i64,
    pub updated_at_ms: i64,
}

const ALERT_COLUMNS: &str = "a.id, a.community_id, a.rule_code, a.rule_version, a.finding, a.institution_id, \
     i.name AS institution_name, a.resident_id, a.period, a.evidence_key, a.encounter_ids, a.value, \
     a.peer_median, a.peer_p90, a.peers, a.amount_fen, a.detail, \
     a.state, a.due_on, a.refund_fen, a.raised_at_ms, a.updated_at_ms \
     FROM supervision_alerts a JOIN institutions i ON i.id = a.institution_id";

pub async fn alert_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<AlertRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS} WHERE a.community_id = $1 AND a.id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Alerts by the filters given (an absent one is any), newest period first.
pub async fn alerts(
    db: &Db,
    community_id: i64,
    (institution, rule, state, month): (Option<i64>, Option<&str>, Option<&str>, Option<&str>),
    (limit, offset): (i64, i64),
) -> Result<Vec<AlertRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS} WHERE a.community_id = $1 \
         AND ($2 < 0 OR a.institution_id = $2) AND ($3 = '' OR a.rule_code = $3) \
         AND ($4 = '' OR a.state = $4) AND ($5 = '' OR a.period = $5) \
         ORDER BY a.period DESC, a.id DESC LIMIT $6 OFFSET $7"
    )))
    .bind(community_id)
    .bind(institution.unwrap_or(-1))
    .bind(rule.unwrap_or_default())
    .bind(state.unwrap_or_default())
    .bind(month.unwrap_or_default())
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await
}

pub async fn evidence(
    db: &Db,
    community_id: i64,
    encounter_ids: &[i64],
) -> Result<Vec<Evidence>, sqlx::Error> {
    let ids: Vec<String> = encounter_ids.iter().map(i64::to_string).collect();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT e.id AS encounter_id, e.institution_id, e.kind, e.started_at_ms, e.ended_at_ms, \
         (SELECT d.icd10 FROM encounter_diagnoses d WHERE d.encounter_id = e.id AND d.position = 1) \
         AS principal_icd10, e.cost_drugs_fen + e.cost_examinations_fen + e.cost_tests_fen \
         + e.cost_treatment_fen + e.cost_beds_fen + e.cost_materials_fen AS total_fen \
         FROM encounters e WHERE e.community_id = $1 AND e.id IN ({}) ORDER BY e.started_at_ms",
        if ids.is_empty() { "0".to_owned() } else { ids.join(",") }
    )))
    .bind(community_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn steps(db: &Db, alert_id: i64) -> Result<Vec<Step>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.from_state, s.to_state, s.note, s.due_on, s.refund_fen, s.by_staff_id, \
         st.name AS by_name, s.at_ms FROM supervision_alert_steps s JOIN staff st \
         ON st.id = s.by_staff_id WHERE s.alert_id = $1 ORDER BY s.at_ms, s.id",
    )
    .bind(alert_id)
    .fetch_all(&db.pool)
    .await
}

/// Moves an alert from `from` (only if it is still there: a concurrent step loses) and
/// records the step; whether it moved.
pub async fn move_alert(
    conn: &mut AnyConnection,
    (community_id, alert_id): (i64, i64),
    (from, to): (AlertState, AlertState),
    (note, due_on, refund_fen): (&str, Option<&str>, Option<i64>),
    (by_staff_id, now): (i64, i64),
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE supervision_alerts SET state = $1, due_on = COALESCE($2, due_on), \
         refund_fen = COALESCE($3, refund_fen), updated_at_ms = $4 \
         WHERE community_id = $5 AND id = $6 AND state = $7",
    )
    // Not kept prepared: an absent due date or refund is bound as an untyped NULL (see
    // chronic::store).
    .persistent(false)
    .bind(to.as_str())
    .bind(due_on)
    .bind(refund_fen)
    .bind(now)
    .bind(community_id)
    .bind(alert_id)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO supervision_alert_steps (community_id, alert_id, from_state, to_state, note, \
         due_on, refund_fen, by_staff_id, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .persistent(false)
    .bind(community_id)
    .bind(alert_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(note)
    .bind(due_on)
    .bind(refund_fen)
    .bind(by_staff_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Alerts counted by month, rule, institution and state (for the board).
pub async fn counts(
    db: &Db,
    community_id: i64,
    institution: Option<i64>,
) -> Result<Vec<(String, String, i64, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT period, rule_code, institution_id, state, CAST(COUNT(*) AS BIGINT) \
         FROM supervision_alerts WHERE community_id = $1 AND ($2 < 0 OR institution_id = $2) \
         GROUP BY period, rule_code, institution_id, state",
    )
    .bind(community_id)
    .bind(institution.unwrap_or(-1))
    .fetch_all(&db.pool)
    .await
}

/// Per institution, the alerts of the months `first..=last` (`YYYY-MM`).
pub async fn tallies(
    db: &Db,
    community_id: i64,
    (first, last): (&str, &str),
    today: &str,
) -> Result<Vec<super::Tally>, sqlx::Error> {
    // Only the states' fixed names are written into the SQL.
    let confirmed: Vec<String> = AlertState::ALL
        .iter()
        .filter(|s| s.confirmed())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let limited: Vec<String> = AlertState::ALL
        .iter()
        .filter(|s| s.has_time_limit())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT institution_id, CAST(COUNT(*) AS BIGINT) AS alerts, \
         CAST(SUM(CASE WHEN state IN ({}) THEN 1 ELSE 0 END) AS BIGINT) AS confirmed, \
         CAST(SUM(CASE WHEN state = 'verified' THEN 1 ELSE 0 END) AS BIGINT) AS verified, \
         CAST(SUM(CASE WHEN state IN ({}) AND due_on < $4 THEN 1 ELSE 0 END) AS BIGINT) AS overdue \
         FROM supervision_alerts WHERE community_id = $1 AND period >= $2 AND period <= $3 \
         GROUP BY institution_id",
        confirmed.join(", "),
        limited.join(", ")
    )))
    .bind(community_id)
    .bind(first)
    .bind(last)
    .bind(today)
    .fetch_all(&db.pool)
    .await
}
