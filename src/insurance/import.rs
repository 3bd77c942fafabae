//! Out-of-county care (县外就医) from the insurance bureau's settlement export, a CSV file with
//! the header `settlement_no,id_number,hospital_name,kind,admitted_on,discharged_on,total_yuan,
//! fund_paid_yuan`. Every row is checked first; any bad row is reported with its line number
//! and nothing is imported. A settlement number already imported is skipped, so importing the
//! same file twice adds nothing.

use serde::Serialize;

use crate::clock::Millis;
use crate::csv_import::BadRows;
use crate::ctx::Ctx;
use crate::resident::IdNumber;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    BadRows(#[from] BadRows),
    #[error(transparent)]
    Insurance(#[from] super::Error),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Imported {
    pub rows: u64,
    pub imported: u64,
    pub already_imported: u64,
}

struct Row {
    settlement_no: String,
    resident_id: i64,
    hospital_name: String,
    kind: &'static str,
    admitted_on: String,
    discharged_on: String,
    total_fen: i64,
    fund_paid_fen: i64,
}

/// Yuan with at most two decimals (`1234.5`, `1234.56`) as fen, without floating point.
pub fn yuan_to_fen(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

fn date(text: &str) -> Option<time::Date> {
    time::Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

const HEADER: [&str; 8] = [
    "settlement_no",
    "id_number",
    "hospital_name",
    "kind",
    "admitted_on",
    "discharged_on",
    "total_yuan",
    "fund_paid_yuan",
];

/// Imports the export; `progress` is told each row checked.
pub async fn out_of_county(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    csv_text: &str,
    progress: &dyn Fn(u64),
) -> Result<Imported, ImportError> {
    let mut reader = crate::csv_import::reader(csv_text, &HEADER)?;
    let today = crate::clock::today_cst();
    let (mut rows, mut bad) = (Vec::new(), Vec::new());
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 2;
        progress(line - 1);
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                bad.push((line, error.to_string()));
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or_default();
        let mut reasons = Vec::new();
        let settlement_no = field(0).to_owned();
        if settlement_no.is_empty() || settlement_no.len() > 64 {
            reasons.push("settlement_no is empty or too long".to_owned());
        }
        let resident_id = match IdNumber::parse(field(1), today) {
            Err(error) => {
                reasons.push(format!("id_number: {error}"));
                None
            }
            Ok(id_number) => {
                let found = crate::resident::store::resident_by_id_number(
                    &ctx.db,
                    community_id,
                    id_number.as_str(),
                )
                .await?;
                if found.is_none() {
                    reasons.push("id_number: no such resident in this community".to_owned());
                }
                found.map(|r| r.id)
            }
        };
        let kind = match field(3) {
            "outpatient" | "门诊" => Some("outpatient"),
            "inpatient" | "住院" => Some("inpatient"),
            other => {
                reasons.push(format!("kind {other:?} is not outpatient or inpatient"));
                None
            }
        };
        let (admitted, discharged) = (date(field(4)), date(field(5)));
        if admitted.is_none() || discharged.is_none() {
            reasons.push("admitted_on and discharged_on must be YYYY-MM-DD".to_owned());
        } else if discharged < admitted || discharged > Some(today) {
            reasons
                .push("discharged_on must be after admitted_on and not in the future".to_owned());
        }
        let (total, fund) = (yuan_to_fen(field(6)), yuan_to_fen(field(7)));
        match (total, fund) {
            (Some(total), Some(fund)) if fund <= total => {}
            (Some(_), Some(_)) => reasons.push("fund_paid_yuan exceeds total_yuan".to_owned()),
            _ => reasons
                .push("total_yuan and fund_paid_yuan must be amounts like 1234.56".to_owned()),
        }
        if field(2).is_empty() {
            reasons.push("hospital_name is empty".to_owned());
        }
        if !reasons.is_empty() {
            bad.push((line, reasons.join("; ")));
            continue;
        }
        rows.push(Row {
            settlement_no,
            resident_id: resident_id.unwrap_or_default(),
            hospital_name: field(2).to_owned(),
            kind: kind.unwrap_or("outpatient"),
            admitted_on: field(4).to_owned(),
            discharged_on: field(5).to_owned(),
            total_fen: total.unwrap_or_default(),
            fund_paid_fen: fund.unwrap_or_default(),
        });
    }
    if !bad.is_empty() {
        return Err(BadRows(bad).into());
    }
    for year in rows
        .iter()
        .filter_map(|r| r.discharged_on[..4].parse::<i64>().ok())
        .collect::<std::collections::BTreeSet<_>>()
    {
        super::budget::require_open(&ctx.db, community_id, year).await?;
    }
    let mut imported = Imported {
        rows: rows.len() as u64,
        ..Default::default()
    };
    let mut tx = ctx.db.begin().await?;
    let mut entries = Vec::new();
    for row in &rows {
        let inserted = sqlx::query(
            "INSERT INTO out_of_county_claims (community_id, settlement_no, resident_id, \
             hospital_name, kind, admitted_on, discharged_on, month, total_fen, fund_paid_fen, \
             imported_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (community_id, settlement_no) DO NOTHING",
        )
        .bind(community_id)
        .bind(&row.settlement_no)
        .bind(row.resident_id)
        .bind(&row.hospital_name)
        .bind(row.kind)
        .bind(&row.admitted_on)
        .bind(&row.discharged_on)
        .bind(&row.discharged_on[..7])
        .bind(row.total_fen)
        .bind(row.fund_paid_fen)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            imported.imported += 1;
            entries.push(crate::audit::Entry {
                community_id,
                at_ms: now,
                actor_staff_id: None,
                actor_institution_id: None,
                action: "out_of_county.import".into(),
                resource: "out_of_county_claim".into(),
                resource_id: None,
                resident_id: Some(row.resident_id),
                outcome: crate::audit::Outcome::Allowed,
                detail: format!("settlement_no={}", row.settlement_no),
            });
        } else {
            imported.already_imported += 1;
        }
    }
    crate::audit::store::append(&mut tx, &entries).await?;
    tx.commit().await?;
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_become_fen_exactly() {
        assert_eq!(yuan_to_fen("1234.56"), Some(123_456));
        assert_eq!(yuan_to_fen("1234.5"), Some(123_450));
        assert_eq!(yuan_to_fen("7"), Some(700));
        for bad in ["", "-1", "1.234", "1,000", "abc", ".5"] {
            assert_eq!(yuan_to_fen(bad), None, "{bad}");
        }
    }
}
