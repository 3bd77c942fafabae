//! Rows of the family doctor service: teams and members, packages, contracts and what the
//! records delivered under them.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::model::{
    KeyGroup, Member, MemberRole, NewPackage, Package, PackageKind, Service, Source,
};
use crate::db::Db;

pub(super) fn key_groups_text(groups: &[KeyGroup]) -> String {
    groups
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn key_groups_of(text: &str) -> Vec<KeyGroup> {
    text.split(',').filter_map(KeyGroup::parse).collect()
}

pub(super) async fn insert_team(
    conn: &mut AnyConnection,
    community_id: i64,
    institution_id: i64,
    name: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO care_teams (community_id, institution_id, name) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(community_id)
    .bind(institution_id)
    .bind(name)
    .fetch_one(conn)
    .await
}

pub(super) async fn insert_member(
    conn: &mut AnyConnection,
    community_id: i64,
    team_id: i64,
    staff_id: i64,
    role: MemberRole,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO care_team_members (community_id, team_id, staff_id, role) VALUES ($1, $2, $3, $4)",
    )
    .bind(community_id)
    .bind(team_id)
    .bind(staff_id)
    .bind(role.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub(super) struct TeamRow {
    pub id: i64,
    pub institution_id: i64,
    pub name: String,
}

pub(super) async fn teams(db: &Db, community_id: i64) -> Result<Vec<TeamRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, institution_id, name FROM care_teams WHERE community_id = $1 ORDER BY id",
    )
    .bind(community_id)
    .fetch_all(&db.pool)
    .await
}

/// Every team's members, by team.
pub(super) async fn members(
    db: &Db,
    community_id: i64,
) -> Result<HashMap<i64, Vec<Member>>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        team_id: i64,
        staff_id: i64,
        name: String,
        institution_id: Option<i64>,
        #[sqlx(try_from = "String")]
        role: MemberRole,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT m.team_id, m.staff_id, s.name, s.institution_id, m.role FROM care_team_members m \
         JOIN staff s ON s.id = m.staff_id WHERE m.community_id = $1 ORDER BY m.team_id, m.id",
    )
    .bind(community_id)
    .fetch_all(&db.pool)
    .await?;
    let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
    for r in rows {
        members.entry(r.team_id).or_default().push(Member {
            staff_id: r.staff_id,
            name: r.name,
            institution_id: r.institution_id,
            role: r.role,
        });
    }
    Ok(members)
}

pub(crate) async fn insert_package(
    conn: &mut AnyConnection,
    community_id: i64,
    new: &NewPackage,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO service_packages (community_id, code, name, kind, price_fen, key_groups, services) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(community_id)
    .bind(&new.code)
    .bind(&new.name)
    .bind(new.kind.as_str())
    .bind(new.price_fen)
    .bind(key_groups_text(&new.key_groups))
    .bind(serde_json::to_string(&new.services).unwrap_or_else(|_| "[]".into()))
    .fetch_one(conn)
    .await
}

pub(super) async fn packages(db: &Db, community_id: i64) -> Result<Vec<Package>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        code: String,
        name: String,
        #[sqlx(try_from = "String")]
        kind: PackageKind,
        price_fen: i64,
        key_groups: String,
        services: String,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, code, name, kind, price_fen, key_groups, services FROM service_packages \
         WHERE community_id = $1 ORDER BY CASE WHEN kind = 'basic' THEN 0 ELSE 1 END, id",
    )
    .bind(community_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Package {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: r.kind,
            price_fen: r.price_fen,
            key_groups: key_groups_of(&r.key_groups),
            services: serde_json::from_str::<Vec<Service>>(&r.services).unwrap_or_default(),
        })
        .collect())
}

/// A contract as stored.
#[derive(Clone, sqlx::FromRow)]
pub(super) struct ContractRow {
    pub id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub team_id: i64,
    pub team_name: String,
    pub doctor_staff_id: i64,
    pub doctor_name: String,
    pub institution_id: i64,
    pub start_date: String,
    pub end_date: String,
    pub key_groups: String,
    pub status: String,
    pub terminated_on: Option<String>,
    pub termination_reason: String,
    pub renewal_of_id: Option<i64>,
    pub renewed_by_id: Option<i64>,
    pub signed_at_ms: i64,
}

const CONTRACT_COLUMNS: &str = "c.id, c.resident_id, r.name AS resident_name, c.team_id, \
     t.name AS team_name, c.doctor_staff_id, s.name AS doctor_name, c.institution_id, c.start_date, \
     c.end_date, c.key_groups, c.status, c.terminated_on, c.termination_reason, c.renewal_of_id, \
     (SELECT MIN(n.id) FROM family_doctor_contracts n WHERE n.renewal_of_id = c.id \
      AND n.status <> 'terminated') AS renewed_by_id, c.signed_at_ms \
     FROM family_doctor_contracts c JOIN residents r ON r.id = c.resident_id \
     JOIN care_teams t ON t.id = c.team_id JOIN staff s ON s.id = c.doctor_staff_id";

pub(super) async fn contract_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<ContractRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTRACT_COLUMNS} WHERE c.community_id = $1 AND c.id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

pub(super) async fn contracts_of_resident(
    db: &Db,
    community_id: i64,
    resident_id: i64,
) -> Result<Vec<ContractRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTRACT_COLUMNS} WHERE c.community_id = $1 AND c.resident_id = $2 \
         ORDER BY c.start_date DESC"
    )))
    .bind(community_id)
    .bind(resident_id)
    .fetch_all(&db.pool)
    .await
}

/// The institution's contracts of one state on `today` (`expiring`: in force, ending within
/// 30 days, not renewed), those ending first first.
pub(super) async fn contracts_of(
    db: &Db,
    community_id: i64,
    institution_id: i64,
    (status, today, in_30_days): (&str, &str, &str),
    (limit, offset): (i64, i64),
) -> Result<Vec<ContractRow>, sqlx::Error> {
    // The filter's dates are $5 (today) and $6 (in 30 days), bound only where it uses them.
    let (filter, dates) = match status {
        "active" => (
            "c.status = 'signed' AND c.start_date <= $5 AND c.end_date >= $5",
            1,
        ),
        "upcoming" => ("c.status = 'signed' AND c.start_date > $5", 1),
        "expired" => ("c.status = 'signed' AND c.end_date < $5", 1),
        "terminated" => ("c.status = 'terminated'", 0),
        "expiring" => (
            "c.status = 'signed' AND c.start_date <= $5 AND c.end_date >= $5 AND c.end_date <= $6 \
             AND NOT EXISTS (SELECT 1 FROM family_doctor_contracts n WHERE n.renewal_of_id = c.id \
             AND n.status <> 'terminated')",
            2,
        ),
        _ => ("1 = 1", 0),
    };
    let sql = format!(
        "SELECT {CONTRACT_COLUMNS} WHERE c.community_id = $1 AND c.institution_id = $2 \
         AND {filter} ORDER BY c.end_date, c.id LIMIT $3 OFFSET $4"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(community_id)
        .bind(institution_id)
        .bind(limit)
        .bind(offset);
    for date in [today, in_30_days].into_iter().take(dates) {
        query = query.bind(date);
    }
    query.fetch_all(&db.pool).await
}

/// The packages of each contract given, by contract.
/// The packages of every contract in force at `now`, by contract.
pub(super) async fn packages_in_force(
    db: &Db,
    community_id: i64,
    now: i64,
) -> Result<HashMap<i64, Vec<i64>>, sqlx::Error> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT cp.contract_id, cp.package_id FROM family_doctor_contracts c \
         JOIN contract_packages cp ON cp.contract_id = c.id WHERE c.community_id = $1 \
         AND c.status = 'signed' AND c.starts_at_ms <= $2 AND c.ends_at_ms > $2",
    )
    .bind(community_id)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut by_contract: HashMap<i64, Vec<i64>> = HashMap::new();
    for (contract, package) in rows {
        by_contract.entry(contract).or_default().push(package);
    }
    Ok(by_contract)
}

pub(super) async fn packages_of(
    db: &Db,
    community_id: i64,
    contract_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>, sqlx::Error> {
    if contract_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<String> = contract_ids.iter().map(i64::to_string).collect();
    let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT cp.contract_id, cp.package_id FROM contract_packages cp \
         CROSS JOIN family_doctor_contracts c WHERE c.id = cp.contract_id \
         AND c.community_id = $1 AND cp.contract_id IN ({})",
        ids.join(",")
    )))
    .bind(community_id)
    .fetch_all(&db.pool)
    .await?;
    let mut by_contract: HashMap<i64, Vec<i64>> = HashMap::new();
    for (contract, package) in rows {
        by_contract.entry(contract).or_default().push(package);
    }
    Ok(by_contract)
}

/// The resident's contracts not terminated that overlap [start, end].
pub(super) async fn overlapping(
    conn: &mut AnyConnection,
    community_id: i64,
    resident_id: i64,
    (start, end): (&str, &str),
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM family_doctor_contracts WHERE community_id = $1 AND resident_id = $2 \
         AND status <> 'terminated' AND start_date <= $3 AND end_date >= $4 LIMIT 1",
    )
    .bind(community_id)
    .bind(resident_id)
    .bind(end)
    .bind(start)
    .fetch_optional(conn)
    .await
}

pub(super) struct NewContractRow<'a> {
    pub community_id: i64,
    pub resident_id: i64,
    pub team_id: i64,
    pub doctor_staff_id: i64,
    pub institution_id: i64,
    pub dates: (&'a str, &'a str),
    pub span_ms: (i64, i64),
    pub key_groups: String,
    pub renewal_of_id: Option<i64>,
    pub signed_by_staff_id: i64,
    pub signed_at_ms: i64,
}

pub(super) async fn insert_contract(
    conn: &mut AnyConnection,
    row: &NewContractRow<'_>,
    packages: &[i64],
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO family_doctor_contracts (community_id, resident_id, team_id, doctor_staff_id, \
         institution_id, start_date, end_date, starts_at_ms, ends_at_ms, key_groups, status, \
         renewal_of_id, signed_by_staff_id, signed_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'signed', $11, $12, $13) RETURNING id",
    )
    .persistent(false)
    .bind(row.community_id)
    .bind(row.resident_id)
    .bind(row.team_id)
    .bind(row.doctor_staff_id)
    .bind(row.institution_id)
    .bind(row.dates.0)
    .bind(row.dates.1)
    .bind(row.span_ms.0)
    .bind(row.span_ms.1)
    .bind(&row.key_groups)
    .bind(row.renewal_of_id)
    .bind(row.signed_by_staff_id)
    .bind(row.signed_at_ms)
    .fetch_one(&mut *conn)
    .await?;
    for package in packages {
        sqlx::query("INSERT INTO contract_packages (contract_id, package_id) VALUES ($1, $2)")
            .bind(id)
            .bind(package)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

pub(super) async fn terminate(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
    (on, reason): (&str, &str),
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE family_doctor_contracts SET status = 'terminated', terminated_on = $1, \
         termination_reason = $2 WHERE community_id = $3 AND id = $4 AND status = 'signed'",
    )
    .bind(on)
    .bind(reason)
    .bind(community_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the records delivered under the contracts in force at `now` (or one of them), by
/// contract and source: face-to-face and phone follow-ups by programme, primary-care visits and
/// ECGs, within each contract's days and up to `now`.
pub(super) async fn delivered(
    db: &Db,
    community_id: i64,
    now: i64,
    contract: Option<i64>,
) -> Result<HashMap<(i64, Source), i64>, sqlx::Error> {
    let one = if contract.is_some() {
        "c.id = $3"
    } else {
        "c.starts_at_ms <= $2 AND c.ends_at_ms > $2 AND c.status = 'signed'"
    };
    // Each source: what is joined to the contract, and how. The contract is read first
    // (`CROSS JOIN` keeps SQLite from scanning every record and seeking its contract).
    let within = |at: &str| {
        format!(
            "x.community_id = c.community_id AND x.resident_id = c.resident_id \
             AND {at} >= c.starts_at_ms AND {at} < c.ends_at_ms AND {at} <= $2"
        )
    };
    let follow_ups = |program: &str| {
        format!(
            "CROSS JOIN chronic_follow_ups x WHERE x.program = '{program}' AND {}",
            within("x.followed_up_at_ms")
        )
    };
    let sources = [
        (Source::HypertensionFollowUp, follow_ups("hypertension")),
        (Source::DiabetesFollowUp, follow_ups("diabetes")),
        (
            Source::Encounter,
            format!(
                "CROSS JOIN encounters x JOIN institutions i ON i.id = x.institution_id \
                 AND i.kind IN ('village_clinic', 'township_centre', 'community_centre') \
                 WHERE x.kind = 'outpatient' AND {}",
                within("x.started_at_ms")
            ),
        ),
        (
            Source::Ecg,
            format!("CROSS JOIN ecgs x WHERE {}", within("x.recorded_at_ms")),
        ),
    ];
    let mut delivered = HashMap::new();
    for (source, join) in sources {
        let query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, CAST(COUNT(*) AS BIGINT) FROM family_doctor_contracts c {join} \
             AND c.community_id = $1 AND {one} GROUP BY c.id"
        )))
        .bind(community_id)
        .bind(now);
        let query = match contract {
            Some(id) => query.bind(id),
            None => query,
        };
        let rows: Vec<(i64, i64)> = query.fetch_all(&db.pool).await?;
        for (id, count) in rows {
            delivered.insert((id, source), count);
        }
    }
    Ok(delivered)
}
