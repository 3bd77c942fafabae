//! The demo's lab results of the last weeks: the county's lab centre sends an `ORU^R01` for
//! some of the visits at member institutions — blood count, renal function and electrolytes,
//! fasting glucose, HbA1c — through the same intake as the LIS interface (matched by ID
//! number, stored whole, audited). A few carry a critical value (危急值): most were
//! acknowledged by the ordering institution within minutes, some late, and the
//! newest — one for the demo village doctor's clinic and one for the township doctor's centre —
//! still wait on their work queues.

use sqlx::Row;

use super::rng::Rng;
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::health_record::lab::{self, Via};

const MINUTE_MS: Millis = 60_000;
const DAY_MS: Millis = 86_400_000;

/// How far back the results go, and at most how many messages the demo sends.
const DAYS: i64 = 30;
const MAX_MESSAGES: usize = 600;

/// Of the visits in those days, the share with a lab order, and of those the share with a
/// critical value.
const ORDERED: f64 = 0.3;
const CRITICAL: f64 = 0.03;

/// One result of a panel: code, name, unit, reference range, normal low and high, and the
/// critical value (with its flag) the demo uses when this result is the critical one.
struct Test {
    code: &'static str,
    name: &'static str,
    unit: &'static str,
    range: &'static str,
    low: f64,
    high: f64,
    critical: (f64, &'static str),
}

const fn test(
    code: &'static str,
    name: &'static str,
    unit: &'static str,
    range: &'static str,
    (low, high): (f64, f64),
    critical: (f64, &'static str),
) -> Test {
    Test {
        code,
        name,
        unit,
        range,
        low,
        high,
        critical,
    }
}

/// Panels of the mutual-recognition catalogue (`crate::recognition::DEMO`), as the LIS codes them.
const PANELS: [(&str, &str, &[Test]); 4] = [
    (
        "CBC",
        "血常规",
        &[
            test(
                "WBC",
                "白细胞计数",
                "10*9/L",
                "3.5-9.5",
                (3.5, 9.5),
                (1.2, "LL"),
            ),
            test(
                "HGB",
                "血红蛋白",
                "g/L",
                "115-175",
                (115.0, 175.0),
                (48.0, "LL"),
            ),
            test(
                "PLT",
                "血小板计数",
                "10*9/L",
                "125-350",
                (125.0, 350.0),
                (18.0, "LL"),
            ),
        ],
    ),
    (
        "RFT",
        "肾功能",
        &[
            test("K", "钾", "mmol/L", "3.5-5.3", (3.5, 5.3), (6.8, "HH")),
            test(
                "NA",
                "钠",
                "mmol/L",
                "137-147",
                (137.0, 147.0),
                (118.0, "LL"),
            ),
            test(
                "CREA",
                "肌酐",
                "umol/L",
                "41-111",
                (41.0, 111.0),
                (890.0, "HH"),
            ),
        ],
    ),
    (
        "GLU",
        "空腹血糖",
        &[test(
            "GLU",
            "葡萄糖",
            "mmol/L",
            "3.9-6.1",
            (3.9, 6.1),
            (27.4, "HH"),
        )],
    ),
    (
        "HBA1C",
        "糖化血红蛋白",
        &[test(
            "HBA1C",
            "糖化血红蛋白",
            "%",
            "4.0-6.0",
            (4.0, 6.0),
            (15.2, "HH"),
        )],
    ),
];

/// A visit that had blood taken.
struct Visit {
    at: Millis,
    id_number: String,
    name: String,
    institution_code: String,
}

/// Sends the results of the last weeks' visits through the lab intake, and acknowledges the
/// critical values as the ordering institutions did. Returns how many reports were stored.
pub async fn generate(
    ctx: &Ctx,
    community_id: i64,
    seed: u64,
    now: Millis,
) -> anyhow::Result<usize> {
    let mut rng = Rng::new(seed ^ 0x1ab5);
    let lab = actor(ctx, community_id, "username = 'lab-interface'")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo has no lab interface account"))?;
    let lab_code: String = sqlx::query_scalar("SELECT code FROM institutions WHERE id = $1")
        .bind(lab.institution.map(|i| i.id).unwrap_or_default())
        .fetch_one(&ctx.db.pool)
        .await?;
    let visits = visits(ctx, community_id, now).await?;
    let share = ORDERED.min(MAX_MESSAGES as f64 / visits.len().max(1) as f64);
    let mut sent = 0;
    for visit in &visits {
        if !rng.chance(share) {
            continue;
        }
        let resulted = visit.at + 90 * MINUTE_MS + rng.below(90) as Millis * MINUTE_MS;
        if resulted >= now {
            continue;
        }
        let critical = rng.chance(CRITICAL);
        let panel = rng.pick(&PANELS);
        let message = oru(visit, panel, critical, &lab_code, resulted, &mut rng);
        let report = send(ctx, community_id, &lab, resulted, &message).await?;
        sent += 1;
        if critical {
            // Acknowledged within minutes, one in five late enough to have been escalated.
            let minutes = if rng.chance(0.2) {
                8 + rng.below(20)
            } else {
                1 + rng.below(4)
            };
            acknowledge(
                ctx,
                community_id,
                report,
                resulted + minutes as Millis * MINUTE_MS,
            )
            .await?;
        }
    }
    // This morning's blood, taken at the demo village doctor's clinic and the township doctor's
    // centre: a critical value waiting on each one's work queue.
    for visit in waiting_visits(ctx, community_id, now).await? {
        let message = oru(
            &visit,
            &PANELS[1],
            true,
            &lab_code,
            now - 90 * MINUTE_MS,
            &mut rng,
        );
        send(ctx, community_id, &lab, now - 90 * MINUTE_MS, &message).await?;
        sent += 1;
    }
    Ok(sent)
}

/// Hands one message to the lab intake as the LIS does: the stored report's id and the
/// institution that must acknowledge it.
async fn send(
    ctx: &Ctx,
    community_id: i64,
    lab: &crate::access::Actor,
    at: Millis,
    message: &str,
) -> anyhow::Result<(i64, i64)> {
    let answer = lab::receive(ctx, at, message.as_bytes(), Via::Staff(lab)).await;
    anyhow::ensure!(
        answer.code == "AA",
        "the demo's lab message was refused: {}",
        answer.ack
    );
    let row = sqlx::query(
        "SELECT id, ordering_institution_id FROM lab_reports WHERE community_id = $1 \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(community_id)
    .fetch_one(&ctx.db.pool)
    .await?;
    Ok((row.try_get("id")?, row.try_get("ordering_institution_id")?))
}

/// The visits of the last [`DAYS`] days at member institutions, oldest first.
async fn visits(ctx: &Ctx, community_id: i64, now: Millis) -> anyhow::Result<Vec<Visit>> {
    let rows = sqlx::query(
        "SELECT e.started_at_ms, r.id_number, r.name, i.code \
         FROM encounters e JOIN residents r ON r.id = e.resident_id \
         JOIN institutions i ON i.id = e.institution_id \
         WHERE e.community_id = $1 AND e.started_at_ms >= $2 AND e.started_at_ms < $3 \
         ORDER BY e.started_at_ms, e.id",
    )
    .bind(community_id)
    .bind(now - DAYS * DAY_MS)
    .bind(now)
    .fetch_all(&ctx.db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Visit {
                at: row.try_get("started_at_ms")?,
                id_number: row.try_get("id_number")?,
                name: row.try_get("name")?,
                institution_code: row.try_get("code")?,
            })
        })
        .collect()
}

/// For the demo's village and township doctors, a resident of theirs seen this morning.
async fn waiting_visits(ctx: &Ctx, community_id: i64, now: Millis) -> anyhow::Result<Vec<Visit>> {
    let rows = sqlx::query(
        "SELECT i.id, i.code, i.kind FROM staff s JOIN institutions i ON i.id = s.institution_id \
         WHERE s.community_id = $1 AND s.username IN ('village-doctor', 'township-doctor') \
         ORDER BY s.username DESC",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut visits = Vec::new();
    for row in rows {
        let institution_id: i64 = row.try_get("id")?;
        let kind: String = row.try_get("kind")?;
        let column = if kind == "village_clinic" {
            "village_clinic_id"
        } else {
            "township_id"
        };
        let resident = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id_number, name FROM residents WHERE community_id = $1 AND {column} = $2 \
             AND merged_into_id IS NULL ORDER BY id LIMIT 1"
        )))
        .bind(community_id)
        .bind(institution_id)
        .fetch_optional(&ctx.db.pool)
        .await?;
        if let Some(resident) = resident {
            visits.push(Visit {
                at: now - 3 * 60 * MINUTE_MS,
                id_number: resident.try_get("id_number")?,
                name: resident.try_get("name")?,
                institution_code: row.try_get("code")?,
            });
        }
    }
    Ok(visits)
}

/// The first active account matching `which`.
async fn actor(
    ctx: &Ctx,
    community_id: i64,
    which: &str,
) -> anyhow::Result<Option<crate::access::Actor>> {
    let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT MIN(id) FROM staff WHERE community_id = $1 AND active = 1 AND {which}"
    )))
    .bind(community_id)
    .fetch_one(&ctx.db.pool)
    .await?;
    let Some(id) = id else { return Ok(None) };
    Ok(crate::staff::store::actor_by_id(&ctx.db, community_id, id).await?)
}

/// A clinician of the institution that must acknowledge a critical value does so at `at`.
async fn acknowledge(
    ctx: &Ctx,
    community_id: i64,
    (report, institution_id): (i64, i64),
    at: Millis,
) -> anyhow::Result<()> {
    let which = format!(
        "institution_id = {institution_id} AND roles LIKE '%doctor%' AND resident_id IS NULL"
    );
    if let Some(clinician) = actor(ctx, community_id, &which).await? {
        lab::acknowledge(ctx, at, &clinician, report).await?;
    }
    Ok(())
}

/// An `ORU^R01` from the lab centre for one visit's panel, normal values around the middle of
/// the range, one result critical when `critical`.
fn oru(
    visit: &Visit,
    (code, name, tests): &(&str, &str, &[Test]),
    critical: bool,
    lab_code: &str,
    at: Millis,
    rng: &mut Rng,
) -> String {
    let stamp = |ms: Millis| {
        clock::format_cst(ms)
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    };
    let control = format!("DEMO{}{}", stamp(at), rng.below(1_000_000));
    let mut segments = vec![
        format!(
            "MSH|^~\\&|LIS|{lab_code}|YIJIA|COMMUNITY|{}||ORU^R01^ORU_R01|{control}|P|2.5.1|||||CHN|UNICODE UTF-8",
            stamp(at)
        ),
        format!("PID|1||{}^^^^NNCHN||{}", visit.id_number, visit.name),
        format!(
            "ORC|RE||||||||||||||||||||{}^^^^^^^^^{}",
            visit.institution_code, visit.institution_code
        ),
        format!(
            "OBR|1||{control}|{code}^{name}|||{}||||||||||||||||||F",
            stamp(visit.at + 30 * MINUTE_MS)
        ),
    ];
    let critical_one = critical.then(|| rng.below(tests.len() as u64) as usize);
    for (index, t) in tests.iter().enumerate() {
        let (value, flag) = if critical_one == Some(index) {
            t.critical
        } else {
            let spread = t.high - t.low;
            let value = t.low + spread * (0.15 + 0.7 * rng.unit());
            (value, "N")
        };
        let value = if value >= 100.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.1}")
        };
        segments.push(format!(
            "OBX|{}|NM|{}^{}||{value}|{}|{}|{flag}|||F",
            index + 1,
            t.code,
            t.name,
            t.unit,
            t.range
        ));
    }
    segments.join("\r") + "\r"
}
