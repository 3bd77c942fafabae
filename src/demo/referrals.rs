//! The demo year's referrals: up to the county and back down around the county stays, and a
//! chest pain green channel for every STEMI the ECG centre read, with the case's time points
//! (first medical contact, departure, cath-lab activation, wire crossing) as the chest pain
//! centre records them. Deterministic from the demo's generator.

use std::collections::HashMap;

use super::activity::{
    DAY_MS, Place, Planned, ROWS_PER_STATEMENT, insert_rows, staff_by_institution,
};
use super::remote_reads::CriticalRead;
use super::rng::Rng;
use crate::clock::Millis;
use crate::db::Transaction;

const MINUTE_MS: i64 = 60_000;

/// A referral of the demo year with its steps (state, when) and staff-entered time points.
pub(super) struct DemoReferral {
    resident: i64,
    direction: &'static str,
    from: i64,
    to: i64,
    to_department: Option<i64>,
    diagnosis: &'static str,
    reason: &'static str,
    urgency: &'static str,
    /// A chest pain green channel from this ECG.
    chest_pain_ecg: Option<i64>,
    sent: Millis,
    steps: Vec<(&'static str, Millis)>,
    time_points: Vec<(&'static str, Millis)>,
}

/// Referrals around the county stays: about three in ten came up from the resident's township
/// centre or village clinic; about one in ten went back down to the township centre after
/// discharge, nine in ten of those closed after a month's follow-up when that month is over.
pub(super) fn around_stays(
    planned: &[Planned],
    places: &HashMap<i64, &Place>,
    rng: &mut Rng,
    now: Millis,
) -> Vec<DemoReferral> {
    let mut referrals = Vec::new();
    for p in planned
        .iter()
        .filter(|p| p.kind == "inpatient" && p.level == 3)
    {
        let (Some(place), Some(end)) = (places.get(&p.resident), p.end) else {
            continue;
        };
        if rng.chance(0.3) {
            let from = if rng.chance(0.6) {
                place.township
            } else {
                place.village
            };
            let sent = p.start - 2 * 3_600_000;
            referrals.push(DemoReferral {
                resident: p.resident,
                direction: "up",
                from,
                to: p.institution,
                to_department: None,
                diagnosis: p.diagnosis,
                reason: "病情需上级医院进一步诊治",
                urgency: "urgent",
                chest_pain_ecg: None,
                sent,
                steps: vec![
                    ("submitted", sent),
                    ("accepted", sent + 20 * MINUTE_MS),
                    ("arrived", p.start),
                    ("completed", end),
                ],
                time_points: Vec::new(),
            });
        }
        if rng.chance(0.1) {
            let mut steps = vec![
                ("submitted", end),
                ("accepted", end + 3_600_000),
                ("received", end + DAY_MS),
                ("follow_up_planned", end + DAY_MS + 3_600_000),
            ];
            if end + 30 * DAY_MS < now && rng.chance(0.9) {
                steps.push(("closed", end + 30 * DAY_MS));
            }
            // Steps still to come are not taken yet.
            steps.retain(|(_, at)| *at <= now);
            referrals.push(DemoReferral {
                resident: p.resident,
                direction: "down",
                from: p.institution,
                to: place.township,
                to_department: None,
                diagnosis: p.diagnosis,
                reason: "急性期治疗结束，回基层康复随访",
                urgency: "routine",
                chest_pain_ecg: None,
                sent: end,
                steps,
                time_points: Vec::new(),
            });
        }
    }
    referrals
}

/// A chest pain green channel for each STEMI read: sent as soon as the report is signed and
/// accepted by rule at the lead hospital's chest pain centre; the patient leaves the site
/// within half an hour and the wire crosses within about one to two hours of arrival.
pub(super) fn chest_pain(
    reads: &[CriticalRead],
    (lead, department): (i64, Option<i64>),
    rng: &mut Rng,
) -> Vec<DemoReferral> {
    let mut minutes =
        |low: i64, high: i64| (low + rng.below((high - low) as u64) as i64) * MINUTE_MS;
    reads
        .iter()
        .map(|read| {
            let contact = read.recorded - minutes(3, 13);
            let sent = read.reported + minutes(1, 3);
            let departure = sent + minutes(10, 30);
            let arrival = departure + minutes(20, 50);
            let activation = sent + minutes(5, 15);
            let wire = arrival + minutes(40, 100);
            DemoReferral {
                resident: read.resident,
                direction: "up",
                from: read.site,
                to: lead,
                to_department: department,
                diagnosis: "I21.3",
                reason: "心电图危急值：急性ST段抬高型心肌梗死",
                urgency: "emergency",
                chest_pain_ecg: Some(read.ecg),
                sent,
                steps: vec![
                    ("submitted", sent),
                    ("accepted", sent),
                    ("arrived", arrival),
                    ("completed", arrival + 7 * DAY_MS),
                ],
                time_points: vec![
                    ("first_medical_contact", contact),
                    ("departure", departure),
                    ("cath_lab_activation", activation),
                    ("wire_crossing", wire),
                ],
            }
        })
        .collect()
}

/// A referral a chronic follow-up raised, up from the village clinic to its township centre:
/// accepted within the hour, seen within three days, the outcome recorded a week later — the
/// steps not yet reached by `now` not taken.
#[allow(clippy::too_many_arguments)]
pub(super) fn from_follow_up(
    resident: i64,
    (from, to): (i64, i64),
    diagnosis: &'static str,
    reason: &'static str,
    urgency: &'static str,
    sent: Millis,
    now: Millis,
) -> DemoReferral {
    let mut steps = vec![
        ("submitted", sent),
        ("accepted", sent + 40 * MINUTE_MS),
        ("arrived", sent + 2 * DAY_MS),
        ("completed", sent + 9 * DAY_MS),
    ];
    steps.retain(|(_, at)| *at <= now);
    DemoReferral {
        resident,
        direction: "up",
        from,
        to,
        to_department: None,
        diagnosis,
        reason,
        urgency,
        chest_pain_ecg: None,
        sent,
        steps,
        time_points: Vec::new(),
    }
}

/// Writes the referrals with their steps and time points; returns their ids, in order.
pub(super) async fn write(
    tx: &mut Transaction,
    community_id: i64,
    referrals: &[DemoReferral],
) -> anyhow::Result<Vec<i64>> {
    let staff = staff_by_institution(tx, community_id).await?;
    let staff_at = |institution: i64| {
        staff
            .get(&institution)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("institution {institution} has no staff"))
    };
    let first_id: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM referrals")
            .fetch_one(&mut **tx)
            .await?;
    for chunk in referrals.chunks(ROWS_PER_STATEMENT) {
        let mut values = Vec::with_capacity(chunk.len());
        for r in chunk {
            let (state, updated) = r.steps.last().copied().unwrap_or(("submitted", r.sent));
            let up = r.direction == "up";
            // Hypertension belongs to the township by the catalogue: going up needs a reason.
            let exception = if up && r.diagnosis == "I10" {
                "'血压控制不佳伴靶器官损害'"
            } else {
                "NULL"
            };
            let (green, ecg) = match r.chest_pain_ecg {
                Some(ecg) => ("'chest_pain'".to_owned(), ecg.to_string()),
                None => ("NULL".to_owned(), "NULL".to_owned()),
            };
            let department = r.to_department.map_or("NULL".to_owned(), |d| d.to_string());
            values.push(format!(
                "({community_id}, {}, '{}', '{state}', {}, {}, {department}, '{}', '{}', '{}', \
                 {green}, {ecg}, {exception}, {}, {}, {}, {}, {updated})",
                r.resident,
                r.direction,
                r.from,
                r.to,
                r.reason,
                r.diagnosis,
                r.urgency,
                i64::from(up),
                if up { 0 } else { 5 },
                staff_at(r.from)?,
                r.sent,
            ));
        }
        let sql = format!(
            "INSERT INTO referrals (community_id, resident_id, direction, state, from_institution_id, \
             to_institution_id, to_department_id, reason, diagnosis_icd10, urgency, green_channel, \
             ecg_id, catalogue_exception_reason, single_deductible, rate_bonus_pp, \
             created_by_staff_id, created_at_ms, updated_at_ms) VALUES {}",
            values.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await?;
    }
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM referrals WHERE community_id = $1 AND id > $2 ORDER BY id",
    )
    .bind(community_id)
    .bind(first_id)
    .fetch_all(&mut **tx)
    .await?;
    anyhow::ensure!(ids.len() == referrals.len(), "every referral was written");
    let mut steps = Vec::new();
    let mut points = Vec::new();
    for (id, r) in ids.iter().zip(referrals) {
        let mut from_state = "NULL".to_owned();
        for (state, at) in &r.steps {
            // A green channel is accepted by rule, by nobody.
            let by = match *state {
                "submitted" => staff_at(r.from)?.to_string(),
                "accepted" if r.chest_pain_ecg.is_some() => "NULL".to_owned(),
                _ => staff_at(r.to)?.to_string(),
            };
            steps.push(format!(
                "({community_id}, {id}, {from_state}, '{state}', {by}, {at}, '')"
            ));
            from_state = format!("'{state}'");
        }
        for (point, at) in &r.time_points {
            let by = match *point {
                "first_medical_contact" | "departure" => staff_at(r.from)?,
                _ => staff_at(r.to)?,
            };
            points.push(format!(
                "({community_id}, {id}, '{point}', {at}, {by}, {at})"
            ));
        }
    }
    insert_rows(
        tx,
        "INSERT INTO referral_steps (community_id, referral_id, from_state, to_state, by_staff_id, \
             at_ms, note)",
        &steps,
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO case_time_points (community_id, referral_id, point, at_ms, \
             recorded_by_staff_id, recorded_at_ms)",
        &points,
    )
    .await?;
    Ok(ids)
}
