//! The yearly payroll (薪酬) from the group's personnel system, a CSV file with the header
//! `institution_code,staff_id,gross_income_fen`: one row per person paid in the year. Every row
//! is checked first; any bad row is reported with its line number and nothing is imported. Only
//! each institution's head count and sum are kept — never a person's income — and an import
//! replaces the year's, so importing the same file twice changes nothing. Indicator 2.3 reads it.

use std::collections::{BTreeMap, HashSet};

use crate::clock::Millis;
use crate::ctx::Ctx;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    BadRows(#[from] crate::csv_import::BadRows),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] crate::audit::Error),
}

const HEADER: [&str; 3] = ["institution_code", "staff_id", "gross_income_fen"];

/// What an import kept: the rows read and the institutions they summed into.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Imported {
    pub rows: u64,
    pub institutions: usize,
}

/// Imports the year's payroll; `progress` is told each row checked.
pub async fn import(
    ctx: &Ctx,
    now: Millis,
    (community_id, year): (i64, i32),
    csv_text: &str,
    progress: &dyn Fn(u64),
) -> Result<Imported, Error> {
    let mut reader = crate::csv_import::reader(csv_text, &HEADER)?;
    let codes: BTreeMap<String, i64> =
        crate::institution::store::institutions_in_community(&ctx.db, community_id)
            .await?
            .into_iter()
            .map(|i| (i.code, i.id))
            .collect();
    let mut seen: HashSet<(i64, String)> = HashSet::new();
    let mut sums: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    let (mut rows, mut bad) = (0, Vec::new());
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 2;
        progress(line - 1);
        rows += 1;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                bad.push((line, error.to_string()));
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or_default();
        let mut reasons = Vec::new();
        let institution = codes.get(field(0)).copied();
        if institution.is_none() {
            reasons.push(format!(
                "institution_code {:?} is not a member institution",
                field(0)
            ));
        }
        let staff = field(1);
        if staff.is_empty() || staff.len() > 64 {
            reasons.push("staff_id is empty or longer than 64".to_owned());
        }
        let gross = field(2)
            .parse::<i64>()
            .ok()
            .filter(|fen| (0..=100_000_000_000).contains(fen));
        if gross.is_none() {
            reasons.push("gross_income_fen must be a whole number of fen, 0 or more".to_owned());
        }
        if let Some(institution) = institution
            && !staff.is_empty()
            && !seen.insert((institution, staff.to_owned()))
        {
            reasons.push(format!(
                "staff_id {staff:?} appears twice at this institution"
            ));
        }
        match (institution, gross) {
            (Some(institution), Some(gross)) if reasons.is_empty() => {
                let sum = sums.entry(institution).or_default();
                sum.0 += 1;
                sum.1 += gross;
            }
            _ => bad.push((line, reasons.join("; "))),
        }
    }
    if !bad.is_empty() {
        return Err(crate::csv_import::BadRows(bad).into());
    }
    let mut tx = ctx.db.begin().await?;
    sqlx::query("DELETE FROM payroll_years WHERE community_id = $1 AND year = $2")
        .bind(community_id)
        .bind(i64::from(year))
        .execute(&mut *tx)
        .await?;
    for (institution, (staff_count, gross_fen)) in &sums {
        sqlx::query(
            "INSERT INTO payroll_years (community_id, year, institution_id, staff_count, \
             gross_fen, imported_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(community_id)
        .bind(i64::from(year))
        .bind(institution)
        .bind(staff_count)
        .bind(gross_fen)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let entry = crate::audit::Entry {
        community_id,
        at_ms: now,
        actor_staff_id: None,
        actor_institution_id: None,
        action: "payroll.import".into(),
        resource: "payroll_year".into(),
        resource_id: Some(i64::from(year)),
        resident_id: None,
        outcome: crate::audit::Outcome::Allowed,
        detail: format!("year={year} rows={rows} institutions={}", sums.len()),
    };
    crate::audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(Imported {
        rows,
        institutions: sums.len(),
    })
}

/// The year's payroll per institution: (institution, head count, gross in fen).
pub async fn year(
    db: &crate::db::Db,
    community_id: i64,
    year: i32,
) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT institution_id, staff_count, gross_fen FROM payroll_years \
         WHERE community_id = $1 AND year = $2",
    )
    .bind(community_id)
    .bind(i64::from(year))
    .fetch_all(&db.pool)
    .await
}
