//! SQL for the master patient index.

use sqlx::{AnyConnection, Row};

use super::model::{DuplicateReason, Resident};
use crate::access::{ResidentPlace, Scope};
use crate::db::Db;

const COLUMNS: &str = "r.id, r.community_id, r.id_number, r.name, r.sex, r.birth_date, r.phone, \
                       r.address, r.village_clinic_id, r.township_id, r.grid_id, \
                       r.merged_into_id, r.created_at_ms, r.updated_at_ms";

pub struct NewRow<'a> {
    pub community_id: i64,
    pub id_number: &'a str,
    pub name: &'a str,
    pub sex: &'a str,
    pub birth_date: &'a str,
    pub phone: &'a str,
    pub address: &'a str,
    pub village_clinic_id: i64,
    pub township_id: i64,
    pub grid_id: Option<i64>,
    pub now_ms: i64,
}

pub async fn insert_resident(
    conn: &mut AnyConnection,
    row: &NewRow<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO residents (community_id, id_number, name, sex, birth_date, phone, address, \
         village_clinic_id, township_id, grid_id, created_at_ms, updated_at_ms, name_pinyin) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id",
    )
    .bind(row.community_id)
    .bind(row.id_number)
    .bind(row.name)
    .bind(row.sex)
    .bind(row.birth_date)
    .bind(row.phone)
    .bind(row.address)
    .bind(row.village_clinic_id)
    .bind(row.township_id)
    .bind(row.grid_id)
    .bind(row.now_ms)
    .bind(super::pinyin::keys(row.name))
    .fetch_one(conn)
    .await
}

pub async fn resident_by_id(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<Option<Resident>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM residents r WHERE r.community_id = $1 AND r.id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// Where a resident belongs, for the access check.
pub async fn place_of(db: &Db, resident: &Resident) -> Result<ResidentPlace, sqlx::Error> {
    let mut places = places_of(db, std::slice::from_ref(resident)).await?;
    Ok(places.remove(0))
}

/// Where each of these residents belongs, in order: their clinic and township, and the
/// institutions they are assigned to (one query for a few hundred residents).
pub async fn places_of(db: &Db, residents: &[Resident]) -> Result<Vec<ResidentPlace>, sqlx::Error> {
    let mut places: Vec<ResidentPlace> = residents
        .iter()
        .map(|r| ResidentPlace {
            resident_id: r.id,
            community_id: r.community_id,
            village_clinic_id: r.village_clinic_id,
            township_id: r.township_id,
            assigned_institution_ids: Vec::new(),
        })
        .collect();
    for chunk in places.chunks_mut(500) {
        let mut by_community: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
        for place in chunk.iter() {
            by_community
                .entry(place.community_id)
                .or_default()
                .push(place.resident_id);
        }
        for (community_id, ids) in by_community {
            let marks: Vec<String> = (0..ids.len()).map(|n| format!("${}", n + 2)).collect();
            let sql = format!(
                "SELECT resident_id, institution_id FROM resident_assignments \
                 WHERE community_id = $1 AND resident_id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id);
            for id in ids {
                query = query.bind(id);
            }
            let assigned: Vec<(i64, i64)> = query.fetch_all(&db.pool).await?;
            for (resident_id, institution_id) in assigned {
                for place in chunk.iter_mut().filter(|p| p.resident_id == resident_id) {
                    place.assigned_institution_ids.push(institution_id);
                }
            }
        }
    }
    Ok(places)
}

/// The SQL condition (on alias `r`) that keeps residents inside `scope`, using parameters from
/// `$next` on; returns the condition and the values to bind, in order.
pub fn scope_condition(scope: Scope, next: usize) -> (String, Vec<i64>) {
    let assigned = |param: usize| {
        format!(
            "r.id IN (SELECT ra.resident_id FROM resident_assignments ra \
             WHERE ra.community_id = r.community_id AND ra.institution_id = ${param})"
        )
    };
    match scope {
        Scope::Nothing => ("1 = 0".into(), vec![]),
        Scope::Community => ("1 = 1".into(), vec![]),
        Scope::OnlySelf { resident_id } => (format!("r.id = ${next}"), vec![resident_id]),
        Scope::Village { village_clinic_id } => (
            format!("(r.village_clinic_id = ${next} OR {})", assigned(next)),
            vec![village_clinic_id],
        ),
        Scope::Township {
            township_id,
            institution_id,
        } => (
            format!("(r.township_id = ${next} OR {})", assigned(next + 1)),
            vec![township_id, institution_id],
        ),
    }
}

pub struct SearchFilter<'a> {
    pub id_number: Option<&'a str>,
    pub name_prefix: Option<&'a str>,
    /// Lower-case letters: the start of a reading's full pinyin or initials.
    pub pinyin_prefix: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub village_clinic_id: Option<i64>,
}

/// Residents matching the filter inside the scope, merged records left out, by name.
pub async fn search_residents(
    db: &Db,
    community_id: i64,
    scope: Scope,
    filter: &SearchFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Resident>, sqlx::Error> {
    let mut conditions = vec![
        "r.community_id = $1".to_owned(),
        "r.merged_into_id IS NULL".to_owned(),
    ];
    let mut texts: Vec<(usize, String)> = vec![];
    let mut numbers: Vec<(usize, i64)> = vec![(1, community_id)];
    let mut next = 2;
    if let Some(id_number) = filter.id_number {
        conditions.push(format!("r.id_number = ${next}"));
        texts.push((next, id_number.to_owned()));
        next += 1;
    }
    if let Some(prefix) = filter.name_prefix {
        // A prefix range rather than LIKE, so both engines use the (community_id, name) index.
        conditions.push(format!("r.name >= ${next} AND r.name < ${}", next + 1));
        texts.push((next, prefix.to_owned()));
        texts.push((next + 1, format!("{prefix}\u{10ffff}")));
        next += 2;
    }
    if let Some(pinyin) = filter.pinyin_prefix {
        conditions.push(format!("(' ' || r.name_pinyin) LIKE ${next}"));
        texts.push((next, format!("% {pinyin}%")));
        next += 1;
    }
    if let Some(phone) = filter.phone {
        conditions.push(format!("r.phone = ${next}"));
        texts.push((next, phone.to_owned()));
        next += 1;
    }
    if let Some(village) = filter.village_clinic_id {
        conditions.push(format!("r.village_clinic_id = ${next}"));
        numbers.push((next, village));
        next += 1;
    }
    let (scope_sql, scope_values) = scope_condition(scope, next);
    conditions.push(scope_sql);
    for value in scope_values {
        numbers.push((next, value));
        next += 1;
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM residents r WHERE {} ORDER BY r.name, r.id {}",
        conditions.join(" AND "),
        crate::db::limit_clause(limit, offset)
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    // Bind in parameter order.
    let mut params: Vec<(usize, Param)> = texts
        .into_iter()
        .map(|(i, t)| (i, Param::Text(t)))
        .chain(numbers.into_iter().map(|(i, n)| (i, Param::Number(n))))
        .collect();
    params.sort_by_key(|(i, _)| *i);
    for (_, param) in params {
        query = match param {
            Param::Text(text) => query.bind(text),
            Param::Number(number) => query.bind(number),
        };
    }
    query.fetch_all(&db.pool).await
}

/// The names of those of `ids` inside the scope.
pub async fn names_in_scope(
    db: &Db,
    community_id: i64,
    scope: Scope,
    ids: &[i64],
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (scope_sql, scope_values) = scope_condition(scope, 2);
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT r.id, r.name FROM residents r WHERE r.community_id = $1 AND r.id IN ({}) AND {scope_sql}",
        list.join(",")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id);
    for value in scope_values {
        query = query.bind(value);
    }
    query.fetch_all(&db.pool).await
}

/// Writes the pinyin keys of residents registered before they were kept, a batch at a time.
pub async fn fill_pinyin(db: &Db) -> Result<u64, sqlx::Error> {
    let mut filled = 0;
    loop {
        let batch: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, name FROM residents WHERE name_pinyin = '' AND name <> '' LIMIT 500",
        )
        .fetch_all(&db.pool)
        .await?;
        if batch.is_empty() {
            return Ok(filled);
        }
        let mut tx = db.begin().await?;
        for (id, name) in &batch {
            // A name without any readable character keeps a key that is never searched.
            let keys = Some(super::pinyin::keys(name))
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| "-".to_owned());
            sqlx::query("UPDATE residents SET name_pinyin = $1 WHERE id = $2")
                .bind(keys)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        filled += batch.len() as u64;
    }
}

enum Param {
    Text(String),
    Number(i64),
}

/// Pairs of residents that may be one person, inside the scope (judged on the first of each
/// pair), as (reason, first id, second id).
pub async fn probable_duplicates(
    db: &Db,
    community_id: i64,
    scope: Scope,
    limit: i64,
    offset: i64,
) -> Result<Vec<(DuplicateReason, i64, i64)>, sqlx::Error> {
    let (scope_sql, scope_values) = scope_condition(scope, 2);
    let sql = format!(
        "SELECT reason, first_id, second_id FROM ( \
           SELECT 'same_name_and_birth_date' AS reason, r.id AS first_id, b.id AS second_id \
           FROM residents r JOIN residents b ON b.community_id = r.community_id \
             AND b.township_id = r.township_id AND b.name = r.name \
             AND b.birth_date = r.birth_date AND b.id > r.id AND b.merged_into_id IS NULL \
           WHERE r.community_id = $1 AND r.merged_into_id IS NULL AND {scope_sql} \
           UNION ALL \
           SELECT 'same_phone' AS reason, r.id AS first_id, b.id AS second_id \
           FROM residents r JOIN residents b ON b.community_id = r.community_id \
             AND b.phone = r.phone AND b.id > r.id AND b.merged_into_id IS NULL \
           WHERE r.community_id = $1 AND r.merged_into_id IS NULL AND r.phone <> '' AND {scope_sql} \
         ) pairs ORDER BY first_id, second_id, reason {}",
        crate::db::limit_clause(limit, offset)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(community_id);
    for value in scope_values {
        query = query.bind(value);
    }
    let rows = query.fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| {
            let reason: String = row.try_get("reason")?;
            let reason = if reason == "same_phone" {
                DuplicateReason::SamePhone
            } else {
                DuplicateReason::SameNameAndBirthDate
            };
            Ok((reason, row.try_get("first_id")?, row.try_get("second_id")?))
        })
        .collect()
}

/// Sets a resident's phone and address.
pub async fn update_contact(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
    phone: &str,
    address: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE residents SET phone = $1, address = $2, updated_at_ms = $3 \
         WHERE community_id = $4 AND id = $5",
    )
    .bind(phone)
    .bind(address)
    .bind(now_ms)
    .bind(community_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records that a resident died on `on` (`YYYY-MM-DD`).
pub async fn mark_died(
    conn: &mut AnyConnection,
    community_id: i64,
    id: i64,
    on: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE residents SET died_on = $1, updated_at_ms = $2 WHERE community_id = $3 AND id = $4",
    )
    .bind(on)
    .bind(now_ms)
    .bind(community_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks `merged_id` (and anything already merged into it) as merged into `survivor_id`.
pub async fn mark_merged(
    conn: &mut AnyConnection,
    community_id: i64,
    merged_id: i64,
    survivor_id: i64,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE residents SET merged_into_id = $1, updated_at_ms = $2 \
         WHERE community_id = $3 AND (id = $4 OR merged_into_id = $4)",
    )
    .bind(survivor_id)
    .bind(now_ms)
    .bind(community_id)
    .bind(merged_id)
    .execute(&mut *conn)
    .await?;
    // The survivor also sees what the merged record was assigned to.
    sqlx::query(
        "INSERT INTO resident_assignments (community_id, resident_id, institution_id, reason, created_at_ms) \
         SELECT community_id, $1, institution_id, reason, $2 FROM resident_assignments a \
         WHERE a.community_id = $3 AND a.resident_id = $4 AND NOT EXISTS ( \
           SELECT 1 FROM resident_assignments b WHERE b.community_id = a.community_id \
           AND b.resident_id = $1 AND b.institution_id = a.institution_id)",
    )
    .bind(survivor_id)
    .bind(now_ms)
    .bind(community_id)
    .bind(merged_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The ids of records merged into a resident.
pub async fn merged_into(
    db: &Db,
    community_id: i64,
    survivor_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM residents WHERE community_id = $1 AND merged_into_id = $2 ORDER BY id",
    )
    .bind(community_id)
    .bind(survivor_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn count_residents(db: &Db, community_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM residents WHERE community_id = $1")
        .bind(community_id)
        .fetch_one(&db.pool)
        .await
}

/// Assigns a resident to an institution so its staff see them (referrals, care teams).
pub async fn assign(
    conn: &mut AnyConnection,
    community_id: i64,
    resident_id: i64,
    institution_id: i64,
    reason: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM resident_assignments WHERE community_id = $1 AND resident_id = $2 \
         AND institution_id = $3",
    )
    .bind(community_id)
    .bind(resident_id)
    .bind(institution_id)
    .fetch_optional(&mut *conn)
    .await?;
    if exists.is_none() {
        sqlx::query(
            "INSERT INTO resident_assignments (community_id, resident_id, institution_id, reason, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(community_id)
        .bind(resident_id)
        .bind(institution_id)
        .bind(reason)
        .bind(now_ms)
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub async fn resident_by_id_number(
    db: &Db,
    community_id: i64,
    id_number: &str,
) -> Result<Option<Resident>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM residents r WHERE r.community_id = $1 AND r.id_number = $2"
    )))
    .bind(community_id)
    .bind(id_number)
    .fetch_optional(&db.pool)
    .await
}

/// The community's residents of these ID numbers (those it has), a few hundred a query.
pub async fn residents_by_id_numbers(
    db: &Db,
    community_id: i64,
    id_numbers: &[String],
) -> Result<Vec<Resident>, sqlx::Error> {
    let mut found = Vec::new();
    for chunk in id_numbers.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|n| format!("${}", n + 2)).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM residents r WHERE r.community_id = $1 AND r.id_number IN ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id);
        for id_number in chunk {
            query = query.bind(id_number);
        }
        found.extend(query.fetch_all(&db.pool).await?);
    }
    Ok(found)
}

/// The village clinic a health grid belongs to.
pub async fn grid_village(
    db: &Db,
    community_id: i64,
    grid_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT village_clinic_id FROM grids WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(grid_id)
        .fetch_optional(&db.pool)
        .await
}
