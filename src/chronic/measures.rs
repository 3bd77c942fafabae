//! The statutory counts of the registry over a period, per managing institution: patients
//! under management, managed by the rules (规范管理: the county's face-to-face follow-ups a year,
//! 4 by default, prorated to the days managed in the period; for diabetes as many glucose
//! tests too), controlled (the last measurement in the period at target; none counts as not),
//! and the managed residents admitted to hospital in the period (indicator 5.1).

use std::collections::{HashMap, HashSet};

use super::rules::Program;
use super::settings;
use crate::clock::{self, Millis};
use crate::db::Db;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgramCounts {
    pub managed: i64,
    pub to_spec: i64,
    pub controlled: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstitutionCounts {
    pub institution_id: i64,
    pub hypertension: ProgramCounts,
    pub diabetes: ProgramCounts,
    /// Residents managed in either programme (each once per institution).
    pub residents: i64,
    /// Of them, those admitted as inpatients in the period.
    pub residents_admitted: i64,
}

impl InstitutionCounts {
    pub fn program(&self, program: Program) -> &ProgramCounts {
        match program {
            Program::Hypertension => &self.hypertension,
            Program::Diabetes => &self.diabetes,
        }
    }
}

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    id: i64,
    resident_id: i64,
    institution_id: i64,
    #[sqlx(try_from = "String")]
    program: Program,
    enrolled_on: String,
    status: String,
    status_on: Option<String>,
}

/// An enrolment's follow-ups in the period: face-to-face visits, glucose tests at them, and
/// the last stored BP and FPG verdicts, each as `2 × time + verdict` (the latest time wins, the
/// remainder is the verdict) so one pass of the database finds them.
#[derive(sqlx::FromRow)]
struct VisitRow {
    enrolment_id: i64,
    visits: i64,
    fpg_tests: i64,
    last_bp: Option<i64>,
    last_fpg: Option<i64>,
}

/// The counts of every institution with patients managed in [start, end).
pub async fn statutory(
    db: &Db,
    community_id: i64,
    (start, end): (Millis, Millis),
) -> Result<Vec<InstitutionCounts>, sqlx::Error> {
    let visits_per_year = settings::thresholds(db, community_id)
        .await?
        .visits_per_year;
    let (first, last) = (clock::date_cst(start), clock::date_cst(end - 1));
    let enrolments: Vec<EnrolmentRow> = sqlx::query_as(
        "SELECT id, resident_id, institution_id, program, enrolled_on, status, status_on \
         FROM chronic_enrolments WHERE community_id = $1 AND enrolled_on <= $2 \
         AND (status <> 'ended' OR status_on IS NULL OR status_on >= $3)",
    )
    .bind(community_id)
    .bind(last.to_string())
    .bind(first.to_string())
    .fetch_all(&db.pool)
    .await?;
    let visits: Vec<VisitRow> = sqlx::query_as(
        "SELECT enrolment_id, \
         CAST(SUM(CASE WHEN mode <> 'phone' THEN 1 ELSE 0 END) AS BIGINT) AS visits, \
         CAST(SUM(CASE WHEN mode <> 'phone' AND fpg_mmol IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) \
         AS fpg_tests, \
         CAST(MAX(CASE WHEN bp_at_target IS NOT NULL THEN followed_up_at_ms * 2 + bp_at_target END) \
         AS BIGINT) AS last_bp, \
         CAST(MAX(CASE WHEN fpg_at_target IS NOT NULL THEN followed_up_at_ms * 2 + fpg_at_target END) \
         AS BIGINT) AS last_fpg \
         FROM chronic_follow_ups WHERE community_id = $1 AND followed_up_at_ms >= $2 \
         AND followed_up_at_ms < $3 GROUP BY enrolment_id",
    )
    .bind(community_id)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?;
    let admitted: HashSet<i64> = sqlx::query_scalar(
        "SELECT DISTINCT e.resident_id FROM encounters e WHERE e.community_id = $1 \
         AND e.kind = 'inpatient' AND e.started_at_ms >= $2 AND e.started_at_ms < $3 \
         AND e.resident_id IN (SELECT resident_id FROM chronic_enrolments WHERE community_id = $1)",
    )
    .bind(community_id)
    .bind(start)
    .bind(end)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .collect();

    let mut seen: HashMap<i64, VisitRow> =
        visits.into_iter().map(|v| (v.enrolment_id, v)).collect();
    let mut by_institution: HashMap<i64, InstitutionCounts> = HashMap::new();
    let mut residents: HashSet<(i64, i64)> = HashSet::new();
    for e in enrolments {
        let from = clock::parse_date(&e.enrolled_on)
            .unwrap_or(first)
            .max(first);
        let until = match (
            &e.status[..],
            e.status_on.as_deref().and_then(clock::parse_date),
        ) {
            ("ended", Some(on)) => on.min(last),
            _ => last,
        };
        let days = ((until - from).whole_days() + 1).clamp(1, 365);
        let required = ((visits_per_year * days + 364) / 365).max(1);
        let s = seen.remove(&e.id);
        let visits = s.as_ref().map_or(0, |s| s.visits);
        let fpg_tests = s.as_ref().map_or(0, |s| s.fpg_tests);
        let at_target = |last: Option<i64>| last.is_some_and(|v| v.rem_euclid(2) == 1);
        let counts = by_institution
            .entry(e.institution_id)
            .or_insert_with(|| InstitutionCounts {
                institution_id: e.institution_id,
                ..InstitutionCounts::default()
            });
        let (program, to_spec, controlled) = match e.program {
            Program::Hypertension => (
                &mut counts.hypertension,
                visits >= required,
                at_target(s.as_ref().and_then(|s| s.last_bp)),
            ),
            Program::Diabetes => (
                &mut counts.diabetes,
                visits >= required && fpg_tests >= required,
                at_target(s.as_ref().and_then(|s| s.last_fpg)),
            ),
        };
        program.managed += 1;
        program.to_spec += i64::from(to_spec);
        program.controlled += i64::from(controlled);
        if residents.insert((e.institution_id, e.resident_id)) {
            counts.residents += 1;
            counts.residents_admitted += i64::from(admitted.contains(&e.resident_id));
        }
    }
    let mut counts: Vec<InstitutionCounts> = by_institution.into_values().collect();
    counts.sort_by_key(|c| c.institution_id);
    Ok(counts)
}
