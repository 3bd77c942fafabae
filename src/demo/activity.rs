//! A year of activity for the demo county: outpatient visits and inpatient stays at the member
//! institutions, out-of-county care, and the claims the year's rules make of them — so that
//! the indicators land where the seeds put a good county (in-county care ≈ 90 %, primary-care
//! visits 60–70 %, mean stay 7–8 days). Deterministic from the seed. Rows are written as
//! literal values the generator made itself (numbers and words from fixed lists), many to a
//! statement.

use std::collections::HashMap;

use sqlx::Row;

use super::rng::Rng;
use crate::access::{Actor, Role};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::db::Transaction;
use crate::insurance::{self, Rule, budget, claim};

pub(super) const DAY_MS: i64 = 86_400_000;
pub(super) const ROWS_PER_STATEMENT: usize = 400;

/// Writes generated rows, each a parenthesised tuple of literals, under `insert` (`INSERT INTO
/// table (columns)`), `ROWS_PER_STATEMENT` to a statement.
pub(super) async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    insert: &str,
    rows: &[String],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!("{insert} VALUES {}", chunk.join(","));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Outpatient diagnoses by how often they are seen.
const VISIT_DIAGNOSES: [&str; 6] = ["J06.9", "I10", "E11.9", "K29.7", "M54.5", "J20.9"];
/// Inpatient diagnoses with their main procedure (empty: conservative treatment).
const STAY_DIAGNOSES: [(&str, &str); 6] = [
    ("J18.9", ""),
    ("I63.9", ""),
    ("J44.1", ""),
    ("I21.0", "00.66"),
    ("K80.2", "51.23"),
    ("I10", ""),
];

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Activity {
    pub encounters: usize,
    pub stays: usize,
    pub out_of_county: usize,
    pub claims: usize,
    pub referrals: usize,
    pub remote_ecg_reads: usize,
}

pub(super) struct Place {
    pub village: i64,
    pub township: i64,
}

pub(super) struct Planned {
    pub resident: i64,
    pub institution: i64,
    pub department: Option<i64>,
    pub level: i64,
    pub kind: &'static str,
    pub start: Millis,
    pub end: Option<Millis>,
    pub costs: [i64; 6],
    pub diagnosis: &'static str,
    pub procedure: &'static str,
}

/// Cost in fen between two amounts in yuan.
fn yuan_between(rng: &mut Rng, low: i64, high: i64) -> i64 {
    (low + rng.below((high - low) as u64) as i64) * 100 + rng.below(100) as i64
}

/// Generates `year`'s activity for the community's residents: the whole year when it is over;
/// the current year up to yesterday, with the stays not yet ended still in hospital and the
/// current month's claims left for the insurance officer to settle.
pub async fn generate(
    ctx: &Ctx,
    community_id: i64,
    year: i32,
    seed: u64,
    now: Millis,
) -> anyhow::Result<Activity> {
    let mut rng = Rng::new(seed ^ 0x5eed_a11c_e000_0000 ^ year as u64);
    let (start, _) = crate::clock::month_bounds_cst(&format!("{year}-01")).expect("a valid month");
    let (_, end) = crate::clock::month_bounds_cst(&format!("{year}-12")).expect("a valid month");
    let current = crate::clock::format_cst(now)[..4] == year.to_string();
    let until = if current { end.min(now - DAY_MS) } else { end };
    let days = (until - start) / DAY_MS;
    if days <= 0 {
        return Ok(Activity::default());
    }
    let this_month = crate::clock::month_cst(now);
    let residents: Vec<(i64, Place)> = sqlx::query(
        "SELECT id, village_clinic_id, township_id FROM residents \
         WHERE community_id = $1 AND merged_into_id IS NULL ORDER BY id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("id")?,
            Place {
                village: r.try_get("village_clinic_id")?,
                township: r.try_get("township_id")?,
            },
        ))
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let county: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM institutions WHERE community_id = $1 AND kind IN ('lead_hospital', 'campus') ORDER BY id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    anyhow::ensure!(!county.is_empty(), "the community has no lead hospital");
    // TCM departments: the township centres' 中医科, and the TCM hospital campus's.
    let tcm: HashMap<i64, i64> = sqlx::query(
        "SELECT institution_id, id FROM departments WHERE community_id = $1 AND code = 'TCM'",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("institution_id")?, r.try_get("id")?)))
    .collect::<Result<_, sqlx::Error>>()?;

    let mut planned = Vec::new();
    let mut out_of_county = Vec::new();
    for (resident, place) in &residents {
        let day = |rng: &mut Rng| start + rng.below(days as u64) as i64 * DAY_MS + 9 * 3_600_000;
        // About two visits a year: at the village clinic, the township centre or the county.
        let own_visits = planned.len();
        let visits = [0, 1, 1, 2, 2, 2, 3, 3, 4, 2][rng.below(10) as usize];
        for _ in 0..visits {
            let roll = rng.unit();
            let (institution, level, cost) = if roll < 0.45 {
                (place.village, 1, yuan_between(&mut rng, 20, 80))
            } else if roll < 0.65 {
                (place.township, 2, yuan_between(&mut rng, 60, 220))
            } else {
                (*rng.pick(&county), 3, yuan_between(&mut rng, 150, 450))
            };
            let drugs = cost * 6 / 10;
            // Every visit at the TCM hospital is to its TCM department; at a township centre,
            // two in five are.
            let department = match tcm.get(&institution) {
                Some(d) if level == 3 || rng.chance(0.4) => Some(*d),
                _ => None,
            };
            planned.push(Planned {
                resident: *resident,
                institution,
                department,
                level,
                kind: "outpatient",
                start: day(&mut rng),
                end: None,
                costs: [drugs, 0, cost - drugs, 0, 0, 0],
                diagnosis: VISIT_DIAGNOSES[rng.below(VISIT_DIAGNOSES.len() as u64) as usize],
                procedure: "",
            });
        }
        // About one in eight is admitted in a year; nine in ten stay in the county.
        if rng.chance(0.125) {
            let stay_days = 3 + rng.below(10) as i64;
            let admitted = if current {
                day(&mut rng)
            } else {
                day(&mut rng).min(end - (stay_days + 1) * DAY_MS)
            };
            // A stay not over by now is still in hospital.
            let discharged = Some(admitted + stay_days * DAY_MS).filter(|at| *at <= until);
            if rng.chance(0.9) {
                let (institution, level, cost) = if rng.chance(0.4) {
                    (place.township, 2, yuan_between(&mut rng, 2_000, 5_000))
                } else {
                    (*rng.pick(&county), 3, yuan_between(&mut rng, 6_000, 15_000))
                };
                let (diagnosis, procedure) = *rng.pick(&STAY_DIAGNOSES);
                let beds = 50 * 100 * stay_days;
                let rest = (cost - beds).max(0);
                planned.push(Planned {
                    resident: *resident,
                    institution,
                    department: None,
                    level,
                    kind: "inpatient",
                    start: admitted,
                    end: discharged,
                    costs: [
                        rest / 2,
                        rest / 10,
                        rest / 10,
                        rest - rest / 2 - rest / 5,
                        beds,
                        0,
                    ],
                    diagnosis,
                    procedure: if level == 3 { procedure } else { "" },
                });
                // No outpatient visit of theirs while they are in hospital.
                let in_hospital = admitted..=discharged.unwrap_or(until);
                let mut index = own_visits;
                while index < planned.len() - 1 {
                    if in_hospital.contains(&planned[index].start) {
                        planned.remove(index);
                    } else {
                        index += 1;
                    }
                }
            } else {
                let total = yuan_between(&mut rng, 10_000, 40_000);
                if let Some(discharged) = discharged {
                    out_of_county.push((
                        *resident,
                        "inpatient",
                        admitted,
                        discharged,
                        total,
                        total / 2,
                    ));
                }
            }
        }
        // Some visits go to the city.
        if rng.chance(0.2) {
            let at = day(&mut rng);
            let total = yuan_between(&mut rng, 200, 900);
            out_of_county.push((*resident, "outpatient", at, at, total, total * 2 / 5));
        }
    }
    planned.sort_by_key(|p| (p.end.unwrap_or(p.start), p.resident));

    let marker = now;
    let mut tx = ctx.db.begin().await?;
    if !current {
        // The current year's rules come with the community.
        insurance::load_demo(&mut tx, community_id, i64::from(year)).await?;
    }
    let last_id: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM encounters")
            .fetch_one(&mut *tx)
            .await?;
    for chunk in planned.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<String> = chunk
            .iter()
            .map(|p| {
                let [a, b, c, d, e, f] = p.costs;
                format!(
                    "({community_id}, {}, {}, {}, '{}', {}, {}, {a}, {b}, {c}, {d}, {e}, {f}, '{}', {marker})",
                    p.resident,
                    p.institution,
                    p.department.map_or("NULL".into(), |d| d.to_string()),
                    p.kind,
                    p.start,
                    p.end.map_or("NULL".into(), |e| e.to_string()),
                    p.procedure
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO encounters (community_id, resident_id, institution_id, department_id, kind, started_at_ms, \
             ended_at_ms, cost_drugs_fen, cost_examinations_fen, cost_tests_fen, cost_treatment_fen, \
             cost_beds_fen, cost_materials_fen, main_procedure, created_at_ms) VALUES {}",
            values.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM encounters WHERE community_id = $1 AND created_at_ms = $2 AND created_by_staff_id IS NULL \
         AND referral_id IS NULL AND id > $3 ORDER BY id",
    )
    .bind(community_id)
    .bind(marker)
    .bind(last_id)
    .fetch_all(&mut *tx)
    .await?;
    anyhow::ensure!(
        ids.len() == planned.len(),
        "every planned encounter was written"
    );
    for chunk in ids
        .iter()
        .zip(&planned)
        .collect::<Vec<_>>()
        .chunks(ROWS_PER_STATEMENT)
    {
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, p)| format!("({community_id}, {id}, 1, '{}')", p.diagnosis))
            .collect();
        let sql = format!(
            "INSERT INTO encounter_diagnoses (community_id, encounter_id, position, icd10) VALUES {}",
            values.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }

    // The claims, by the same rule as `claim::settle_month`, in order of closing: every closed
    // encounter of a month before this one.
    let rules: HashMap<i64, Rule> = insurance::DEMO_RULES
        .iter()
        .map(|&(level, deductible_fen, eligible_pp, rate_pp)| {
            (
                level,
                Rule {
                    year: i64::from(year),
                    scheme: "resident".into(),
                    level,
                    deductible_fen,
                    eligible_pp,
                    rate_pp,
                    annual_cap_fen: insurance::DEMO_ANNUAL_CAP_FEN,
                },
            )
        })
        .collect();
    let mut paid: HashMap<i64, i64> = HashMap::new();
    let claims: Vec<String> = ids
        .iter()
        .zip(&planned)
        .filter(|(_, p)| {
            let closed = p.kind == "outpatient" || p.end.is_some();
            closed && crate::clock::month_cst(p.end.unwrap_or(p.start)) < this_month
        })
        .map(|(id, p)| {
            let total: i64 = p.costs.iter().sum();
            let so_far = paid.entry(p.resident).or_default();
            let amounts = claim::compute(total, &rules[&p.level], false, 0, *so_far);
            *so_far += amounts.fund_paid_fen;
            let (_, month) = insurance::month_of(p.end.unwrap_or(p.start));
            format!(
                "({community_id}, {id}, {}, {}, {year}, '{month}', 'resident', {}, {total}, {}, {}, {}, {}, {}, '', {now})",
                p.resident,
                p.institution,
                p.level,
                amounts.eligible_fen,
                amounts.deductible_fen,
                amounts.rate_pp,
                amounts.fund_paid_fen,
                amounts.patient_paid_fen
            )
        })
        .collect();
    insert_rows(
        &mut tx,
        "INSERT INTO claims (community_id, encounter_id, resident_id, institution_id, year, month, \
             scheme, level, total_fen, eligible_fen, deductible_fen, rate_pp, fund_paid_fen, \
             patient_paid_fen, rule_notes, settled_at_ms)",
        &claims,
    )
    .await?;
    let hospitals = ["省人民医院", "市中心医院", "湘雅医院"];
    let rows: Vec<String> = out_of_county
        .iter()
        .enumerate()
        .map(|(n, (resident, kind, from, to, total, fund))| {
            let date = |ms: Millis| crate::clock::format_cst(ms)[..10].to_owned();
            format!(
                "({community_id}, 'DEMO-{year}-{n:07}', {resident}, '{}', '{kind}', '{}', '{}', '{}', {total}, {fund}, {now})",
                hospitals[n % hospitals.len()],
                date(*from),
                date(*to),
                &date(*to)[..7]
            )
        })
        .collect();
    insert_rows(
        &mut tx,
        "INSERT INTO out_of_county_claims (community_id, settlement_no, resident_id, hospital_name, \
             kind, admitted_on, discharged_on, month, total_fen, fund_paid_fen, imported_at_ms)",
        &rows,
    )
    .await?;
    let places: HashMap<i64, &Place> = residents.iter().map(|(id, place)| (*id, place)).collect();
    let mut referrals = super::referrals::around_stays(&planned, &places, &mut rng, now);
    let (remote_ecg_reads, stemis) =
        super::remote_reads::generate(&mut tx, community_id, (start, days), &mut rng).await?;
    let centre = crate::referral::store::chest_pain_centre(&mut tx, community_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the community has no lead hospital"))?;
    referrals.extend(super::referrals::chest_pain(&stemis, centre, &mut rng));
    let referrals = super::referrals::write(&mut tx, community_id, &referrals)
        .await?
        .len();
    tx.commit().await?;
    Ok(Activity {
        encounters: planned.len(),
        stays: planned.iter().filter(|p| p.kind == "inpatient").count(),
        out_of_county: out_of_county.len(),
        claims: claims.len(),
        referrals,
        remote_ecg_reads,
    })
}

/// One member of staff per institution, to stand for who recorded, sent or received.
pub(super) async fn staff_by_institution(
    tx: &mut Transaction,
    community_id: i64,
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    sqlx::query(
        "SELECT institution_id, MIN(id) AS staff_id FROM staff \
         WHERE community_id = $1 AND institution_id IS NOT NULL GROUP BY institution_id",
    )
    .bind(community_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("institution_id")?, r.try_get("staff_id")?)))
    .collect()
}

/// Per insured resident, the year's budget: enough that the demo year ends in a surplus of about
/// 5 % of the package, as the seeds' county retained.
const BUDGET_PER_CAPITA_FEN: i64 = 85_000;

/// The year's global budget, set by the demo's insurance officer, with the twelve monthly
/// prepayments and the four quarterly reviews made; the year-end settlement is left to the
/// officer, on the budget page.
pub async fn budget(ctx: &Ctx, now: Millis, community_id: i64, year: i32) -> anyhow::Result<()> {
    // The bureau is not a member institution: the officer belongs to none.
    let row = sqlx::query(
        "SELECT id, name FROM staff WHERE community_id = $1 AND username = 'insurance-officer'",
    )
    .bind(community_id)
    .fetch_one(&ctx.db.pool)
    .await?;
    let officer = Actor {
        staff_id: row.try_get("id")?,
        community_id,
        username: "insurance-officer".into(),
        name: row.try_get("name")?,
        roles: vec![Role::InsuranceOfficer],
        institution: None,
        resident_id: None,
    };
    let year = i64::from(year);
    let new = budget::NewBudget {
        method: "per_capita".into(),
        per_capita_fen: BUDGET_PER_CAPITA_FEN,
        growth_pp: 0,
        packaged_pp: 90,
        risk_reserve_pp: 10,
        performance_pp: 70,
        overrun_band_pp: 10,
        overrun_fund_pp: 50,
    };
    budget::create(ctx, now, &officer, year, &new).await?;
    // This year: prepaid up to this month, reviewed for the quarters over.
    let (this_year, this_month) = {
        let month = crate::clock::month_cst(now);
        (month[..4].parse::<i64>()?, month[5..].parse::<u32>()?)
    };
    let (months, quarters) = if year == this_year {
        (this_month, i64::from(this_month - 1) / 3)
    } else {
        (12, 4)
    };
    for month in 1..=months {
        budget::prepay(ctx, now, &officer, year, month).await?;
    }
    for quarter in 1..=quarters {
        budget::review(ctx, now, &officer, year, quarter).await?;
    }
    Ok(())
}
