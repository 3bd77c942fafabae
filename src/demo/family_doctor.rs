//! The demo's family doctor service: the county's packages (basic and personalised), each care
//! team's members (the township's doctors and the village doctors of the grids it looks after,
//! a county specialist), and contracts for about half the residents — more among the elderly
//! and the managed chronic patients — mostly signed in the last year, some renewed from the year
//! before, a few terminated. Deterministic from the seed.

use std::collections::HashMap;

use sqlx::Row;
use time::Date;

use super::activity::{DAY_MS, ROWS_PER_STATEMENT, insert_rows};
use super::rng::Rng;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::family_doctor::model::{KeyGroup, NewPackage, PackageKind, Service, Source};
use crate::family_doctor::year_end;

fn service(code: &str, name: &str, per_year: i64, source: Source) -> Service {
    Service {
        code: code.into(),
        name: name.into(),
        per_year,
        source,
    }
}

/// The county's service packages.
pub fn packages() -> Vec<NewPackage> {
    vec![
        NewPackage {
            code: "basic".into(),
            name: "基础服务包".into(),
            kind: PackageKind::Basic,
            price_fen: 0,
            key_groups: Vec::new(),
            services: vec![service(
                "clinic_visit",
                "签约医生门诊",
                2,
                Source::Encounter,
            )],
        },
        NewPackage {
            code: "hypertension".into(),
            name: "高血压个性化服务包".into(),
            kind: PackageKind::Personalised,
            price_fen: 12_000,
            key_groups: vec![KeyGroup::Hypertension],
            services: vec![
                service(
                    "ht_follow_up",
                    "高血压随访",
                    4,
                    Source::HypertensionFollowUp,
                ),
                service("ecg", "心电图检查", 1, Source::Ecg),
            ],
        },
        NewPackage {
            code: "diabetes".into(),
            name: "糖尿病个性化服务包".into(),
            kind: PackageKind::Personalised,
            price_fen: 12_000,
            key_groups: vec![KeyGroup::Diabetes],
            services: vec![service(
                "dm_follow_up",
                "糖尿病随访（含血糖）",
                4,
                Source::DiabetesFollowUp,
            )],
        },
        NewPackage {
            code: "elderly".into(),
            name: "老年人个性化服务包".into(),
            kind: PackageKind::Personalised,
            price_fen: 6_000,
            key_groups: vec![KeyGroup::Elderly],
            services: vec![
                service("elderly_visit", "上门或门诊健康服务", 2, Source::Encounter),
                service("elderly_ecg", "心电图检查", 1, Source::Ecg),
            ],
        },
    ]
}

/// The packages and each team's members; returns the package ids by code.
pub async fn teams_and_packages(
    ctx: &Ctx,
    community_id: i64,
) -> anyhow::Result<HashMap<String, i64>> {
    let mut tx = ctx.db.begin().await?;
    let mut ids = HashMap::new();
    for package in packages() {
        let id = crate::family_doctor::insert_package(&mut tx, community_id, &package).await?;
        ids.insert(package.code, id);
    }
    // Each team: the doctors of its township centre, the village doctors of its grids, and the
    // lead hospital's first doctor as the county specialist.
    let members: Vec<(i64, i64, &str)> = sqlx::query(
        "SELECT t.id AS team_id, s.id AS staff_id, \
           CASE WHEN s.institution_id = t.institution_id THEN 'general_practitioner' ELSE 'village_doctor' END AS role \
         FROM care_teams t JOIN staff s ON s.community_id = t.community_id AND s.active = 1 \
         AND s.resident_id IS NULL AND (s.roles LIKE '%doctor%') \
         AND (s.institution_id = t.institution_id OR s.institution_id IN \
              (SELECT g.village_clinic_id FROM grids g WHERE g.care_team_id = t.id)) \
         WHERE t.community_id = $1 ORDER BY t.id, s.id",
    )
    .bind(community_id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        let role: String = r.try_get("role")?;
        Ok((
            r.try_get("team_id")?,
            r.try_get("staff_id")?,
            if role == "general_practitioner" {
                "general_practitioner"
            } else {
                "village_doctor"
            },
        ))
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let specialist: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(s.id) FROM staff s JOIN institutions i ON i.id = s.institution_id \
         WHERE s.community_id = $1 AND i.kind = 'lead_hospital' AND s.roles LIKE '%doctor%'",
    )
    .bind(community_id)
    .fetch_one(&mut *tx)
    .await?;
    let mut rows: Vec<String> = members
        .iter()
        .map(|(team, staff, role)| format!("({community_id}, {team}, {staff}, '{role}')"))
        .collect();
    if let Some(specialist) = specialist {
        let mut teams: Vec<i64> = members.iter().map(|m| m.0).collect();
        teams.dedup();
        rows.extend(
            teams
                .iter()
                .map(|team| format!("({community_id}, {team}, {specialist}, 'specialist')")),
        );
    }
    insert_rows(
        &mut tx,
        "INSERT INTO care_team_members (community_id, team_id, staff_id, role)",
        &rows,
    )
    .await?;
    tx.commit().await?;
    Ok(ids)
}

/// Contracts for about half the residents; returns how many were written.
pub async fn contracts(
    ctx: &Ctx,
    community_id: i64,
    packages: &HashMap<String, i64>,
    today: Date,
    seed: u64,
) -> anyhow::Result<usize> {
    let mut rng = Rng::new(seed ^ 0xfa_d0c7_0000_0000);
    // The village doctor of each village and its team.
    let doctors: HashMap<i64, (i64, i64)> = sqlx::query(
        "SELECT s.institution_id, MIN(s.id) AS staff_id, MIN(m.team_id) AS team_id FROM staff s \
         JOIN care_team_members m ON m.staff_id = s.id AND m.role = 'village_doctor' \
         WHERE s.community_id = $1 GROUP BY s.institution_id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("institution_id")?,
            (r.try_get("staff_id")?, r.try_get("team_id")?),
        ))
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let programs: HashMap<i64, Vec<String>> = {
        let mut by_resident: HashMap<i64, Vec<String>> = HashMap::new();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT resident_id, program FROM chronic_enrolments WHERE community_id = $1 AND status = 'managed'",
        )
        .bind(community_id)
        .fetch_all(&ctx.db.pool)
        .await?;
        for (resident, program) in rows {
            by_resident.entry(resident).or_default().push(program);
        }
        by_resident
    };
    let residents: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT id, village_clinic_id, birth_date FROM residents WHERE community_id = $1 \
         AND merged_into_id IS NULL AND died_on IS NULL ORDER BY id",
    )
    .bind(community_id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let signed_at = crate::clock::midnight_cst(today) - DAY_MS;
    let first: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM family_doctor_contracts",
    )
    .fetch_one(&ctx.db.pool)
    .await?;
    // (values without the renewal, the renewed contract's index, package ids)
    let mut contracts: Vec<(String, Option<usize>, Vec<i64>)> = Vec::new();
    for (resident, village, birth) in residents {
        let Some(&(doctor, team)) = doctors.get(&village) else {
            continue;
        };
        let age = today.year() - birth[..4].parse::<i32>().unwrap_or(today.year());
        let chronic = programs.get(&resident).cloned().unwrap_or_default();
        let p = if !chronic.is_empty() {
            0.8
        } else if age >= 65 {
            0.75
        } else {
            0.4
        };
        if !rng.chance(p) {
            continue;
        }
        let mut groups: Vec<&str> = Vec::new();
        let mut chosen = vec![packages["basic"]];
        if age >= 65 {
            groups.push("elderly");
            chosen.push(packages["elderly"]);
        }
        if age < 7 {
            groups.push("children");
        }
        for program in &chronic {
            groups.push(if program == "hypertension" {
                "hypertension"
            } else {
                "diabetes"
            });
            chosen.push(packages[program.as_str()]);
        }
        let mut start = today - time::Duration::days(rng.below(365) as i64);
        // Some were signed the year before and renewed at the end.
        let renewed_from = if rng.chance(0.2) {
            let old_start = crate::clock::years_after(start, -1);
            let old_end = year_end(old_start);
            start = old_end + time::Duration::days(1);
            contracts.push((
                row(
                    community_id,
                    resident,
                    team,
                    doctor,
                    village,
                    (old_start, old_end),
                    &groups,
                    "signed",
                    signed_at,
                ),
                None,
                chosen.clone(),
            ));
            // A quarter did not renew.
            if rng.chance(0.25) {
                continue;
            }
            Some(contracts.len() - 1)
        } else {
            None
        };
        let long_enough = start < today - time::Duration::days(60);
        let status = if long_enough && rng.chance(0.02) {
            "terminated"
        } else {
            "signed"
        };
        contracts.push((
            row(
                community_id,
                resident,
                team,
                doctor,
                village,
                (start, year_end(start)),
                &groups,
                status,
                signed_at,
            ),
            renewed_from,
            chosen,
        ));
    }
    let mut tx = ctx.db.begin().await?;
    for chunk in contracts.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<&str> = chunk.iter().map(|c| c.0.as_str()).collect();
        let sql = format!(
            "INSERT INTO family_doctor_contracts (community_id, resident_id, team_id, doctor_staff_id, \
             institution_id, start_date, end_date, starts_at_ms, ends_at_ms, key_groups, status, \
             terminated_on, termination_reason, signed_by_staff_id, signed_at_ms) VALUES {}",
            values.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM family_doctor_contracts WHERE community_id = $1 AND id > $2 ORDER BY id",
    )
    .bind(community_id)
    .bind(first)
    .fetch_all(&mut *tx)
    .await?;
    anyhow::ensure!(ids.len() == contracts.len(), "every contract was written");
    let mut links = Vec::new();
    for (index, (_, renewed_from, chosen)) in contracts.iter().enumerate() {
        if let Some(old) = renewed_from {
            sqlx::query("UPDATE family_doctor_contracts SET renewal_of_id = $1 WHERE id = $2")
                .bind(ids[*old])
                .bind(ids[index])
                .execute(&mut *tx)
                .await?;
        }
        links.extend(chosen.iter().map(|p| format!("({}, {p})", ids[index])));
    }
    insert_rows(
        &mut tx,
        "INSERT INTO contract_packages (contract_id, package_id)",
        &links,
    )
    .await?;
    tx.commit().await?;
    Ok(contracts.len())
}

#[allow(clippy::too_many_arguments)]
fn row(
    community_id: i64,
    resident: i64,
    team: i64,
    doctor: i64,
    village: i64,
    (start, end): (Date, Date),
    groups: &[&str],
    status: &str,
    signed_at: Millis,
) -> String {
    let (terminated_on, reason) = if status == "terminated" {
        (
            format!("'{}'", start + time::Duration::days(60)),
            "迁出本村",
        )
    } else {
        ("NULL".to_owned(), "")
    };
    format!(
        "({community_id}, {resident}, {team}, {doctor}, {village}, '{start}', '{end}', {}, {}, '{}', \
         '{status}', {terminated_on}, '{reason}', {doctor}, {})",
        crate::clock::midnight_cst(start),
        crate::clock::midnight_cst(end + time::Duration::days(1)),
        groups.join(","),
        signed_at.min(crate::clock::midnight_cst(start)),
    )
}
