//! The demo's supervision: what the rules should catch planted in the two years of activity —
//! the first township centre admitting many minor cases for a day or two (小病大治: a high
//! admission rate, low-threshold stays), split admissions at the second, a few stays costing
//! far above their category, a diagnosis of the other sex at a village clinic — then the rules
//! run over both years and the alerts worked by the office and the institutions into every
//! state of the rectification loop. Deterministic from the seed.

use time::Date;

use super::activity::{DAY_MS, insert_rows};
use super::rng::Rng;
use crate::access::Actor;
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::supervision::model::{AlertQuery, AlertState, Transition};

/// Residents of a township's villages, by id.
async fn residents_of(
    ctx: &Ctx,
    township: i64,
    sex: Option<&str>,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM residents WHERE township_id = $1 AND merged_into_id IS NULL \
         AND ($2 = '' OR sex = $2) ORDER BY id",
    )
    .bind(township)
    .bind(sex.unwrap_or_default())
    .fetch_all(&ctx.db.pool)
    .await
}

/// An encounter to plant: (resident, institution, kind, start, end, total fen, drugs fen,
/// diagnosis).
type Planted = (
    i64,
    i64,
    &'static str,
    Millis,
    Option<Millis>,
    i64,
    i64,
    &'static str,
);

/// Plants the cases in `year` (up to yesterday in the current year, months before this one).
pub async fn plant(
    ctx: &Ctx,
    community_id: i64,
    year: i32,
    seed: u64,
    now: Millis,
) -> anyhow::Result<usize> {
    let mut rng = Rng::new(seed ^ 0x5afe_9a2d_0000_0000 ^ year as u64);
    let townships: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM institutions WHERE community_id = $1 AND kind = 'township_centre' ORDER BY id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    anyhow::ensure!(townships.len() >= 2, "the demo has township centres");
    let (start, _) = clock::month_bounds_cst(&format!("{year}-01")).expect("a valid month");
    let this_month = clock::month_bounds_cst(&clock::month_cst(now))
        .expect("a month")
        .0;
    let end = clock::month_bounds_cst(&format!("{year}-12"))
        .expect("a valid month")
        .1;
    let until = end.min(this_month);
    let days = (until - start) / DAY_MS;
    if days <= 0 {
        return Ok(0);
    }
    let at = |day: i64| start + day * DAY_MS + 10 * 3_600_000;
    let mut planted: Vec<Planted> = Vec::new();
    // 小病大治 at the first township centre, in a few months (each time called in and put
    // right): about as many extra short stays for minor illness as it admits otherwise.
    let current = clock::month_cst(now).starts_with(&year.to_string());
    let months: Vec<u32> = if current {
        let month: u32 = clock::month_cst(now)[5..].parse().unwrap_or(1);
        (month > 2).then_some(month - 2).into_iter().collect()
    } else {
        vec![3, 4, 8]
    };
    let first = residents_of(ctx, townships[0], None).await?;
    let per_day = first.len() as f64 * 0.125 * 0.36 / 365.0;
    for day in 0..days {
        let month: u32 = clock::month_cst(at(day))[5..].parse().unwrap_or(0);
        if !months.contains(&month) {
            continue;
        }
        let count = per_day.floor() as i64 + i64::from(rng.chance(per_day.fract()));
        for _ in 0..count {
            let resident = *rng.pick(&first);
            // Mostly three or four days; one in ten a day's stay under 2,000 yuan (R03).
            let (stay, total) = if rng.chance(0.1) {
                (1, (800 + rng.below(1_000) as i64) * 100)
            } else {
                (
                    3 + rng.below(2) as i64,
                    (2_000 + rng.below(1_500) as i64) * 100,
                )
            };
            let code = *rng.pick(&["J06.9", "J20.9", "A09.9", "K29.7"]);
            planted.push((
                resident,
                townships[0],
                "inpatient",
                at(day),
                Some(at(day + stay)),
                total,
                total / 2,
                code,
            ));
        }
    }
    // Split admissions at the second: a pneumonia readmitted a week after discharge.
    let second = residents_of(ctx, townships[1], None).await?;
    for _ in 0..3 {
        let resident = *rng.pick(&second);
        let day = rng.below((days - 30).max(1) as u64) as i64;
        let total = (2_500 + rng.below(2_000) as i64) * 100;
        planted.push((
            resident,
            townships[1],
            "inpatient",
            at(day),
            Some(at(day + 5)),
            total,
            total / 2,
            "J18.9",
        ));
        planted.push((
            resident,
            townships[1],
            "inpatient",
            at(day + 12),
            Some(at(day + 17)),
            total,
            total / 2,
            "J18.1",
        ));
    }
    // Stays costing several times their category's usual, at the second township: about one
    // in thirty of its stays, where there are enough to tell.
    let outliers = second.len() as f64 * 0.125 * 0.36 / 12.0 * 0.03;
    for month_day in (0..days).step_by(30) {
        let count = outliers.floor() as i64 + i64::from(rng.chance(outliers.fract()));
        for _ in 0..count {
            let resident = *rng.pick(&second);
            let day = month_day + rng.below(25) as i64;
            if day >= days - 8 {
                continue;
            }
            let total = (16_000 + rng.below(6_000) as i64) * 100;
            planted.push((
                resident,
                townships[1],
                "inpatient",
                at(day),
                Some(at(day + 7)),
                total,
                total * 6 / 10,
                "I63.9",
            ));
        }
    }
    // A prostate diagnosis for a woman, at a village clinic of the second township.
    let women = residents_of(ctx, townships[1], Some("female")).await?;
    let village: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(id) FROM institutions WHERE community_id = $1 AND kind = 'village_clinic' \
         AND township_id = $2",
    )
    .bind(community_id)
    .bind(townships[1])
    .fetch_one(&ctx.db.pool)
    .await?;
    if let (Some(village), false) = (village, women.is_empty()) {
        let day = rng.below(days as u64) as i64;
        planted.push((
            *rng.pick(&women),
            village,
            "outpatient",
            at(day),
            None,
            6_000,
            4_000,
            "N40",
        ));
    }
    write(ctx, community_id, &planted, now).await?;
    Ok(planted.len())
}

async fn write(
    ctx: &Ctx,
    community_id: i64,
    planted: &[Planted],
    now: Millis,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.begin().await?;
    let last_id: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM encounters")
            .fetch_one(&mut *tx)
            .await?;
    // Only numbers and words from the fixed lists above are written into the SQL.
    // The costs split as the activity's are: a stay's beds at 50 yuan a day, then half drugs,
    // a tenth each examinations and tests, the rest treatment; a visit's drugs and tests.
    let rows: Vec<String> = planted
        .iter()
        .map(|(resident, institution, kind, start, end, total, drugs, _)| {
            let costs = match end {
                Some(end) => {
                    let beds = (50 * 100 * ((end - start) / DAY_MS)).min(*total);
                    let rest = total - beds;
                    [rest / 2, rest / 10, rest / 10, rest - rest / 2 - rest / 5, beds]
                }
                None => [*drugs, 0, total - drugs, 0, 0],
            };
            let [d, x, t, r, b] = costs;
            format!(
                "({community_id}, {resident}, {institution}, '{kind}', {start}, {}, {d}, {x}, {t}, {r}, {b}, 0, {now})",
                end.map_or("NULL".to_owned(), |e| e.to_string()),
            )
        })
        .collect();
    insert_rows(
        &mut tx,
        "INSERT INTO encounters (community_id, resident_id, institution_id, kind, started_at_ms, \
         ended_at_ms, cost_drugs_fen, cost_examinations_fen, cost_tests_fen, cost_treatment_fen, \
         cost_beds_fen, cost_materials_fen, created_at_ms)",
        &rows,
    )
    .await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM encounters WHERE community_id = $1 AND id > $2 ORDER BY id",
    )
    .bind(community_id)
    .bind(last_id)
    .fetch_all(&mut *tx)
    .await?;
    anyhow::ensure!(
        ids.len() == planted.len(),
        "every planted encounter was written"
    );
    let diagnoses: Vec<String> = ids
        .iter()
        .zip(planted)
        .map(|(id, p)| format!("({community_id}, {id}, 1, '{}')", p.7))
        .collect();
    insert_rows(
        &mut tx,
        "INSERT INTO encounter_diagnoses (community_id, encounter_id, position, icd10)",
        &diagnoses,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A demo account, or any active member of staff of an institution, as an actor.
async fn actor(ctx: &Ctx, community_id: i64, by: (&str, Option<i64>)) -> anyhow::Result<Actor> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(id) FROM staff WHERE community_id = $1 AND active = 1 AND resident_id IS NULL \
         AND (username = $2 OR institution_id = $3)",
    )
    .bind(community_id)
    .bind(by.0)
    .bind(by.1.unwrap_or(-1))
    .fetch_one(&ctx.db.pool)
    .await?;
    let id = id.ok_or_else(|| anyhow::anyhow!("no staff for {by:?}"))?;
    crate::staff::store::actor_by_id(&ctx.db, community_id, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("staff {id} is not active"))
}

/// The states the demo's alerts of a past year end in, in turn: most verified (the seeds' county
/// rectified every warning), the others in every state of the loop.
const ENDS: [AlertState; 20] = {
    use AlertState::*;
    [
        Verified, Verified, Dismissed, Verified, Submitted, Verified, Verified, Assigned, Verified,
        Appealed, Verified, Withdrawn, Verified, Rectifying, Verified, Reopened, Verified,
        Confirmed, Verified, New,
    ]
};

/// The steps from new to `end`, with what each says.
fn path_to(end: AlertState) -> Vec<(AlertState, &'static str)> {
    use AlertState::*;
    let assigned = [(Confirmed, ""), (Assigned, "约谈院长，要求一个月内整改")];
    let submitted = [
        (Rectifying, ""),
        (
            Submitted,
            "收住院标准执行不严；已修订入院指征并培训，退回违规费用",
        ),
    ];
    let mut steps: Vec<(AlertState, &'static str)> = Vec::new();
    match end {
        New => {}
        Dismissed => steps.push((Dismissed, "核查病历，符合入院指征")),
        Confirmed => steps.push((Confirmed, "")),
        Assigned => steps.extend(assigned),
        Appealed => {
            steps.extend(assigned);
            steps.push((Appealed, "患者病情需住院观察，附病程记录"));
        }
        Withdrawn => {
            steps.extend(assigned);
            steps.push((Appealed, "为转诊前留观，附转诊单"));
            steps.push((Withdrawn, "复审认可申诉，撤销"));
        }
        Rectifying => {
            steps.extend(assigned);
            steps.push((Rectifying, ""));
        }
        Submitted | Verified | Reopened => {
            steps.extend(assigned);
            steps.extend(submitted);
            match end {
                Verified => steps.push((Verified, "")),
                Reopened => steps.push((Reopened, "整改措施未落实到科室，退回")),
                _ => {}
            }
        }
    }
    steps
}

/// Runs the rules over `years` (the last up to yesterday) and works the alerts of the past
/// year into every state; this year's stay new or are triaged. Returns how many were raised.
pub async fn run_and_work(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    (past, today): (i32, Date),
) -> anyhow::Result<usize> {
    let yesterday = today - time::Duration::days(1);
    let first = |year: i32| Date::from_calendar_date(year, time::Month::January, 1);
    let mut raised = 0;
    let last_day = Date::from_calendar_date(past, time::Month::December, 31)?;
    raised += crate::supervision::run_period(ctx, now, community_id, (first(past)?, last_day))
        .await?
        .raised;
    if first(today.year())? <= yesterday {
        raised += crate::supervision::run_period(
            ctx,
            now,
            community_id,
            (first(today.year())?, yesterday),
        )
        .await?
        .raised;
    }
    let office = actor(ctx, community_id, ("insurance-officer", None)).await?;
    let alerts =
        crate::supervision::alerts(ctx, today, &office, &AlertQuery::default(), (100_000, 0))
            .await?;
    // The latest alert of the first township centre waits for the office, whatever the date.
    let first: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(id) FROM institutions WHERE community_id = $1 AND kind = 'township_centre'",
    )
    .bind(community_id)
    .fetch_one(&ctx.db.pool)
    .await?;
    let waiting = alerts
        .iter()
        .find(|a| Some(a.institution_id) == first)
        .map(|a| a.id);
    let mut turn = 0;
    // One member of staff per institution acts for it.
    let mut staff: std::collections::HashMap<i64, Actor> = Default::default();
    for alert in alerts.iter().rev() {
        let past_year = alert.period.starts_with(&past.to_string());
        let end = if Some(alert.id) == waiting {
            AlertState::New
        } else if past_year {
            turn += 1;
            ENDS[(turn - 1) % ENDS.len()]
        } else {
            // This year's: the older triaged and assigned, the latest still new.
            match alert.period.as_str() < clock::month_cst(now - 60 * DAY_MS).as_str() {
                true => AlertState::Assigned,
                false => AlertState::New,
            }
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = staff.entry(alert.institution_id) {
            slot.insert(actor(ctx, community_id, ("", Some(alert.institution_id))).await?);
        }
        let own = &staff[&alert.institution_id];
        // Steps taken soon after the alert's month; the due date a month after.
        let (_, month_end) = clock::month_bounds_cst(&alert.period).unwrap_or((now, now));
        let when = clock::date_cst(month_end.min(now));
        let mut from = alert.state;
        for (to, note) in path_to(end) {
            let by = match crate::supervision::model::step(from, to) {
                Some(crate::supervision::model::Party::Institution) => own,
                _ => &office,
            };
            let t = Transition {
                to: Some(to),
                note: note.to_owned(),
                due_on: (to == AlertState::Assigned)
                    .then(|| (when + time::Duration::days(30)).to_string()),
                refund_fen: (to == AlertState::Submitted).then_some(alert.amount_fen / 10),
            };
            let on = if to == AlertState::Verified {
                today
            } else {
                when
            };
            from = to;
            match crate::supervision::transition(ctx, now, on, by, alert.id, &t).await {
                Ok(_) => {}
                Err(crate::supervision::Error::NotRectified(_)) => {
                    let again = Transition {
                        to: Some(AlertState::Reopened),
                        note: "下一期仍有同类问题，退回重新整改".to_owned(),
                        ..Transition::default()
                    };
                    crate::supervision::transition(ctx, now, today, &office, alert.id, &again)
                        .await?;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(raised)
}
