//! The demo's chronic registry at rural Hunan's rates: hypertension in about a quarter of the
//! residents aged 35 and over and diabetes in about a tenth, half of them under management at
//! their village clinic with the village's family doctor team; their follow-ups since January
//! of last year, each decided by the national rules (`chronic::rules::decide`, the same code a
//! doctor's form goes through), hypertension controlled at about 55 % of visits; most patients
//! seen about every three months, some irregularly and some no longer (the call lists); the
//! referrals the rules ask for raised up to the township centre; and the hypertension screening
//! of the others over the last year. Deterministic from the seed.

use std::collections::HashMap;

use sqlx::Row;
use time::Date;

use super::activity::{DAY_MS, ROWS_PER_STATEMENT, insert_rows, staff_by_institution};
use super::referrals::{self, DemoReferral};
use super::rng::Rng;
use crate::chronic::follow_up::bmi;
use crate::chronic::rules::{self, Classification, NextStep, Program, Reading, Thresholds};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ChronicDemo {
    /// Residents measured at hypertension screening, and their readings.
    pub screened: usize,
    pub screenings: usize,
    pub enrolments: usize,
    pub follow_ups: usize,
    pub referrals: usize,
}

struct Patient {
    resident: i64,
    village: i64,
    township: i64,
    team: Option<i64>,
    age: i32,
}

/// One follow-up row as the demo writes it.
struct Visit {
    /// The index of its enrolment among those written.
    enrolment: usize,
    patient: usize,
    program: Program,
    at: Millis,
    mode: &'static str,
    reading: Reading,
    weight: f64,
    height: f64,
    decision: rules::Decision,
    referral: Option<usize>,
}

fn text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn number(value: Option<f64>) -> String {
    value.map_or("NULL".to_owned(), |v| format!("{v:.1}"))
}

/// A reading for one visit: at target with `p_controlled`, else raised; rarely an emergency.
fn reading(rng: &mut Rng, program: Program, p_controlled: f64, measured: bool) -> Reading {
    let emergency = rng.chance(0.004);
    let controlled = rng.chance(p_controlled);
    let between = |rng: &mut Rng, low: u64, high: u64| (low + rng.below(high - low + 1)) as f64;
    let (sbp, dbp) = match (emergency && program == Program::Hypertension, controlled) {
        (true, _) => (between(rng, 182, 196), between(rng, 100, 114)),
        (false, true) => (between(rng, 112, 136), between(rng, 66, 86)),
        (false, false) => (between(rng, 142, 168), between(rng, 84, 98)),
    };
    let fpg = match (emergency, controlled) {
        (true, _) => 17.0 + rng.below(30) as f64 / 10.0,
        (false, true) => 5.0 + rng.below(19) as f64 / 10.0,
        (false, false) => 7.2 + rng.below(40) as f64 / 10.0,
    };
    let (sbp, dbp) = if program == Program::Diabetes && !emergency {
        (between(rng, 118, 148), between(rng, 70, 92))
    } else {
        (sbp, dbp)
    };
    Reading {
        sbp: measured.then_some(sbp),
        dbp: measured.then_some(dbp),
        heart_rate: measured.then(|| between(rng, 62, 88)),
        fpg_mmol: (measured && program == Program::Diabetes).then_some(fpg),
        symptoms: Vec::new(),
        adverse_reaction: false,
        complication: false,
    }
}

/// A resident's screening readings in the last year, not managed for hypertension (`has`: with
/// it, undiagnosed): about two thirds measured, most normal, some normal-high; the raised
/// re-checked a week or so later, some on a third day (suspected, for the doctor to refer).
fn screening(
    rng: &mut Rng,
    (community_id, now): (i64, Millis),
    patient: &Patient,
    (doctor, has): (i64, bool),
    t: &Thresholds,
) -> Vec<String> {
    if !rng.chance(0.65) {
        return Vec::new();
    }
    let between = |rng: &mut Rng, low: u64, high: u64| (low + rng.below(high - low + 1)) as f64;
    let mut at = now - (5 + rng.below(330) as i64) * DAY_MS;
    let raised_days = if has && rng.chance(0.8) {
        1 + rng.below(3)
    } else {
        0
    };
    let (weight, height) = (48.0 + rng.below(35) as f64, 150.0 + rng.below(25) as f64);
    let waist = if rng.chance(0.5) {
        format!("{:.1}", 70.0 + rng.below(30) as f64)
    } else {
        "NULL".to_owned()
    };
    let factors = *rng.pick(&[
        "",
        "",
        "",
        "",
        "family_history",
        "high_salt",
        "heavy_drinking",
    ]);
    let mut rows = Vec::new();
    for day in 0..raised_days.max(1) {
        let (sbp, dbp) = match (raised_days > 0, rng.below(100)) {
            (true, _) => (between(rng, 142, 170), between(rng, 86, 102)),
            (false, 0..20) => (between(rng, 130, 139), between(rng, 80, 89)),
            (false, _) => (between(rng, 106, 128), between(rng, 64, 82)),
        };
        if at > now - DAY_MS {
            break;
        }
        let measured = if day == 0 {
            format!(
                "{weight:.1}, {height:.1}, {}, {waist}, '{factors}'",
                number(bmi(Some(weight), Some(height)))
            )
        } else {
            "NULL, NULL, NULL, NULL, ''".to_owned()
        };
        rows.push(format!(
            "({community_id}, {}, {}, {doctor}, {at}, '{}', {sbp:.1}, {dbp:.1}, {measured}, {}, \
             NULL, {now})",
            patient.resident,
            patient.village,
            clock::date_cst(at),
            i64::from(sbp >= t.screening_sbp || dbp >= t.screening_dbp),
        ));
        at += (7 + rng.below(5) as i64) * DAY_MS;
    }
    rows
}

const MEDICINES: [(&str, &str); 2] = [
    (
        "hypertension",
        r#"[{"name":"苯磺酸氨氯地平片","dose":"5 mg","frequency":"每日一次"}]"#,
    ),
    (
        "diabetes",
        r#"[{"name":"盐酸二甲双胍片","dose":"0.5 g","frequency":"每日三次"}]"#,
    ),
];

/// The registry, its follow-ups and their referrals, written in one transaction.
pub async fn generate(
    ctx: &Ctx,
    community_id: i64,
    today: Date,
    seed: u64,
    now: Millis,
) -> anyhow::Result<ChronicDemo> {
    let mut rng = Rng::new(seed ^ 0xc4_0a1c_0000_0000);
    let thresholds: Thresholds =
        crate::chronic::settings::thresholds(&ctx.db, community_id).await?;
    let teams: HashMap<i64, i64> = sqlx::query_as(
        "SELECT village_clinic_id, care_team_id FROM grids \
         WHERE community_id = $1 AND care_team_id IS NOT NULL",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?
    .into_iter()
    .collect();
    let born_by = Date::from_calendar_date(today.year() - thresholds.min_age, today.month(), 1)?;
    let patients: Vec<Patient> = sqlx::query(
        "SELECT id, village_clinic_id, township_id, birth_date FROM residents \
         WHERE community_id = $1 AND merged_into_id IS NULL AND died_on IS NULL \
         AND birth_date < $2 ORDER BY id",
    )
    .bind(community_id)
    .bind(born_by.to_string())
    .fetch_all(&ctx.db.pool)
    .await?
    .iter()
    .map(|r| {
        let village: i64 = r.try_get("village_clinic_id")?;
        let born: String = r.try_get("birth_date")?;
        Ok(Patient {
            resident: r.try_get("id")?,
            village,
            township: r.try_get("township_id")?,
            team: teams.get(&village).copied(),
            age: today.year() - born[..4].parse::<i32>().unwrap_or(today.year()),
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;

    let mut tx = ctx.db.begin().await?;
    let staff = staff_by_institution(&mut tx, community_id).await?;
    let first_enrolment: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM chronic_enrolments")
            .fetch_one(&mut *tx)
            .await?;
    let history_from = Date::from_calendar_date(today.year() - 1, time::Month::January, 1)?;
    let mut enrolments = Vec::new();
    let mut visits: Vec<Visit> = Vec::new();
    let mut raised: Vec<DemoReferral> = Vec::new();
    // Calls: (enrolment index, resident, result, hidden until, by, at).
    let mut calls: Vec<(usize, i64, &str, Millis, i64, Millis)> = Vec::new();
    let mut screening_rng = Rng::new(seed ^ 0x5c_2ee0_0000_0000);
    let mut screenings: Vec<String> = Vec::new();
    let mut screened = 0;
    for (index, patient) in patients.iter().enumerate() {
        let Some(&doctor) = staff.get(&patient.village) else {
            continue;
        };
        for (program, prevalence) in [(Program::Hypertension, 0.25), (Program::Diabetes, 0.10)] {
            let has = rng.chance(prevalence);
            if !(has && rng.chance(0.5)) {
                if program == Program::Hypertension {
                    let rows = screening(
                        &mut screening_rng,
                        (community_id, now),
                        patient,
                        (doctor, has),
                        &thresholds,
                    );
                    screened += usize::from(!rows.is_empty());
                    screenings.extend(rows);
                }
                continue;
            }
            let years_since_35 = (patient.age - thresholds.min_age).clamp(0, 8) as u64;
            let enrolled_on =
                today - time::Duration::days(20 + rng.below(years_since_35 * 365 + 1) as i64);
            let status = match rng.below(100) {
                0..3 => ("lost", "'多次联系未能随访'"),
                3..5 => ("ended", "'迁出本县'"),
                _ => ("managed", "''"),
            };
            let status_day =
                enrolled_on.max(today - time::Duration::days(30 + rng.below(200) as i64));
            let managed = status.0 == "managed";
            let status_on = if managed {
                "NULL".to_owned()
            } else {
                text(&status_day.to_string())
            };
            let enrolment = enrolments.len();
            enrolments.push(format!(
                "({community_id}, {}, '{}', '{enrolled_on}', '{}', {}, {doctor}, {}, \
                 '{}', {status_on}, {}, {doctor}, {now}, {now})",
                patient.resident,
                program.as_str(),
                rng.pick(&["screened", "confirmed_at_hospital", "known_before"]),
                patient.village,
                patient.team.map_or("NULL".to_owned(), |t| t.to_string()),
                status.0,
                status.1,
            ));
            // How the patient keeps their appointments (some no longer come: overdue, in time
            // lost to follow-up) and how well they are controlled.
            let (regular, stopped) = match rng.below(100) {
                _ if !managed => (true, true),
                0..75 => (true, false),
                75..90 => (false, false),
                _ => (true, true),
            };
            let p_controlled: f64 = *rng.pick(&[0.5, 0.4, 0.3, 0.3, 0.15, 0.1]);
            let (weight, height) = (50.0 + rng.below(30) as f64, 150.0 + rng.below(25) as f64);
            let stop_at = if managed {
                clock::midnight_cst(today) - (120 + rng.below(400) as i64) * DAY_MS
            } else {
                clock::midnight_cst(status_day)
            };
            let mut last_due = None;
            let mut at = clock::midnight_cst(enrolled_on.max(history_from))
                + rng.below(80) as i64 * DAY_MS
                + (8 + rng.below(9) as i64) * 3_600_000;
            let mut previous: Option<Classification> = None;
            while at < now - DAY_MS && !(stopped && at > stop_at) {
                let mode = *rng.pick(&["clinic", "clinic", "clinic", "clinic", "home", "phone"]);
                let measured = mode != "phone" || rng.chance(0.5);
                let recheck = previous == Some(Classification::Uncontrolled);
                let p = if recheck {
                    (p_controlled + 0.5).min(0.9)
                } else {
                    p_controlled
                };
                let reading = reading(&mut rng, program, p, measured);
                let decision = rules::decide(program, &reading, patient.age, previous, &thresholds);
                let referral = decision.next_step.refers().then(|| {
                    let (reason, urgency) = match decision.next_step {
                        NextStep::EmergencyReferral => {
                            ("随访发现紧急转诊指征，转上级医疗机构", "emergency")
                        }
                        _ => ("连续两次随访控制不满意，转上级医疗机构调整治疗", "routine"),
                    };
                    raised.push(referrals::from_follow_up(
                        patient.resident,
                        (patient.village, patient.township),
                        program.icd10(),
                        reason,
                        urgency,
                        at,
                        now,
                    ));
                    raised.len() - 1
                });
                let days = decision.next_due_days;
                last_due = Some(clock::date_cst(at) + time::Duration::days(days));
                previous = Some(decision.classification);
                visits.push(Visit {
                    enrolment,
                    patient: index,
                    program,
                    at,
                    mode,
                    reading,
                    weight,
                    height,
                    decision,
                    referral,
                });
                // Not every patient comes back for the 2-week recheck.
                let days = if days < thresholds.routine_days && rng.chance(0.5) {
                    thresholds.routine_days
                } else {
                    days
                };
                let late = if regular {
                    0
                } else {
                    30 + rng.below(90) as i64
                };
                at += (days - 4 + rng.below(10) as i64 + late) * DAY_MS;
            }
            // The village doctor has called some of those overdue in the last ten days.
            if managed && last_due.is_some_and(|due| due < today) && rng.chance(0.3) {
                let called = now - (1 + rng.below(10 * 24) as i64) * 3_600_000;
                let (result, hidden) =
                    *rng.pick(&[("agreed", 30), ("agreed", 30), ("call_later", 7)]);
                calls.push((
                    enrolment,
                    patient.resident,
                    result,
                    called + hidden * DAY_MS,
                    doctor,
                    called,
                ));
            }
        }
    }
    insert_rows(
        &mut tx,
        "INSERT INTO chronic_enrolments (community_id, resident_id, program, enrolled_on, \
             basis, institution_id, doctor_staff_id, team_id, status, status_on, status_reason, \
             created_by_staff_id, created_at_ms, updated_at_ms)",
        &enrolments,
    )
    .await?;
    let enrolment_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM chronic_enrolments WHERE community_id = $1 AND id > $2 ORDER BY id",
    )
    .bind(community_id)
    .bind(first_enrolment)
    .fetch_all(&mut *tx)
    .await?;
    anyhow::ensure!(
        enrolment_ids.len() == enrolments.len(),
        "every enrolment was written"
    );
    let referral_ids = referrals::write(&mut tx, community_id, &raised).await?;
    let medicines: HashMap<&str, &str> = MEDICINES.into_iter().collect();
    let mut rows = Vec::with_capacity(ROWS_PER_STATEMENT);
    for chunk in visits.chunks(ROWS_PER_STATEMENT) {
        rows.clear();
        for v in chunk {
            let patient = &patients[v.patient];
            let doctor = staff[&patient.village];
            let d = &v.decision;
            let on = clock::date_cst(v.at);
            let due = on + time::Duration::days(d.next_due_days);
            let json = |list: &[String]| text(&serde_json::to_string(list).unwrap_or_default());
            let flag = |b: Option<bool>| b.map_or("NULL".to_owned(), |b| i64::from(b).to_string());
            rows.push(format!(
                "({community_id}, {}, {}, '{}', {}, {doctor}, {}, '{on}', '{}', '', {}, {}, {}, \
                 {:.1}, {:.1}, {}, {}, 'regular', 0, 0, {}, {c}, {n}, {c}, {n}, '', '{due}', {}, {}, \
                 {}, {}, {}, {doctor}, {now})",
                enrolment_ids[v.enrolment],
                patient.resident,
                v.program.as_str(),
                patient.village,
                v.at,
                v.mode,
                number(v.reading.sbp),
                number(v.reading.dbp),
                number(v.reading.heart_rate),
                v.weight,
                v.height,
                number(bmi(Some(v.weight), Some(v.height))),
                number(v.reading.fpg_mmol),
                text(medicines[v.program.as_str()]),
                flag(d.bp_at_target),
                flag(d.fpg_at_target),
                json(&d.emergency_criteria),
                json(&d.reasons),
                v.referral
                    .map_or("NULL".to_owned(), |r| referral_ids[r].to_string()),
                c = d.classification.as_number(),
                n = d.next_step.as_number(),
            ));
        }
        let sql = format!(
            "INSERT INTO chronic_follow_ups (community_id, enrolment_id, resident_id, program, \
             institution_id, doctor_staff_id, followed_up_at_ms, followed_up_on, mode, symptoms, \
             sbp, dbp, heart_rate, weight_kg, height_cm, bmi, fpg_mmol, adherence, \
             adverse_reaction, complication, medicines, rule_classification, rule_next_step, \
             classification, next_step, override_reason, next_due_on, bp_at_target, \
             fpg_at_target, emergency_criteria, reasons, referral_id, recorded_by_staff_id, \
             created_at_ms) VALUES {}",
            rows.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    for chunk in calls.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|&(enrolment, resident, result, hidden, by, at)| {
                let id = enrolment_ids[enrolment];
                format!("({community_id}, {id}, {resident}, '{result}', '', {hidden}, {by}, {at})")
            })
            .collect();
        let sql = format!(
            "INSERT INTO chronic_calls (community_id, enrolment_id, resident_id, result, reason, \
             hidden_until_ms, called_by_staff_id, called_at_ms) VALUES {}",
            rows.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    insert_rows(
        &mut tx,
        "INSERT INTO chronic_screenings (community_id, resident_id, institution_id, \
         measured_by_staff_id, measured_at_ms, measured_on, sbp, dbp, weight_kg, height_cm, bmi, \
         waist_cm, risk_factors, raised, referral_id, created_at_ms)",
        &screenings,
    )
    .await?;
    tx.commit().await?;
    Ok(ChronicDemo {
        screened,
        screenings: screenings.len(),
        enrolments: enrolments.len(),
        follow_ups: visits.len(),
        referrals: referral_ids.len(),
    })
}
